//! Generates `include/warden.h` from `src/ffi/` with cbindgen, and writes
//! `warden.pc` next to the built libraries.
//!
//! The header is written to `$OUT_DIR/warden.h` on every run and copied to
//! `include/warden.h` when its content differs - except when `CI` is set:
//! CI must check the committed header, not fix it (tests/header.rs compares
//! the two and fails on a difference).

use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=include/warden.h");
    println!("cargo:rerun-if-env-changed=CI");

    let header = generate_header(&root);
    write_if_changed(&out_dir.join("warden.h"), &header);
    if env::var_os("CI").map_or(true, |v| v.is_empty() || v == "false") {
        write_if_changed(&root.join("include/warden.h"), &header);
    }

    write_pkg_config(&root, &out_dir);
}

fn generate_header(root: &Path) -> Vec<u8> {
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    // Only src/ffi is parsed (cbindgen follows its `mod` declarations): the
    // header cannot depend on the rest of the crate's source.
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen could not generate include/warden.h from src/ffi");
    let mut text = Vec::new();
    bindings.write(&mut text);
    text
}

fn write_if_changed(path: &Path, content: &[u8]) {
    if fs::read(path).ok().as_deref() != Some(content) {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).expect("create include directory");
        }
        fs::write(path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// `target/<profile>/warden.pc`: OUT_DIR is `target/<profile>/build/<pkg>-<hash>/out`.
fn write_pkg_config(root: &Path, out_dir: &Path) {
    let Some(lib_dir) = out_dir.ancestors().nth(3) else { return };
    let pc = format!(
        "prefix={lib}\nlibdir={lib}\nincludedir={inc}\n\n\
         Name: warden\n\
         Description: {desc}\n\
         Version: {ver}\n\
         Libs: -L${{libdir}} -lwarden -lpthread -ldl -lm\n\
         Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc\n\
         Cflags: -I${{includedir}}\n",
        lib = lib_dir.display(),
        inc = root.join("include").display(),
        desc = env::var("CARGO_PKG_DESCRIPTION").unwrap_or_default(),
        ver = env::var("CARGO_PKG_VERSION").unwrap_or_default(),
    );
    write_if_changed(&lib_dir.join("warden.pc"), pc.as_bytes());
}
