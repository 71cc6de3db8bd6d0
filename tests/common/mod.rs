//! Loading the shared conformance vectors (SPEC §4).
#![allow(dead_code)]

pub mod https;
pub mod mint;
#[cfg(feature = "remote-jwks")]
pub mod remote;

use serde_json::Value;
use std::path::{Path, PathBuf};

/// `../shared/vectors`, or `$WARDEN_VECTORS`.
pub fn vectors_dir() -> PathBuf {
    match std::env::var_os("WARDEN_VECTORS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"),
    }
}

pub struct VectorFile {
    pub name: String,
    pub doc: Value,
    /// Directory holding `config.json` and the `files`.
    pub dir: PathBuf,
    pub config_path: PathBuf,
}

impl VectorFile {
    pub fn cases(&self) -> &[Value] {
        self.doc["cases"].as_array().map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn expect_load_error(&self) -> bool {
        self.doc.get("expect_load").and_then(Value::as_str) == Some("error")
    }
}

/// Every `*.json` in the vectors folder, each written out (config and
/// `files`) into its own temporary directory. Panics when the folder is
/// missing or empty: a suite that silently runs nothing is a defect.
pub fn load_all() -> Vec<VectorFile> {
    let dir = vectors_dir();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the vectors at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no vector files in {}", dir.display());
    let root = std::env::temp_dir().join(format!("warden-vectors-{}-{}", std::process::id(), unique()));
    names
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let doc: Value =
                serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
            let dir = root.join(name.trim_end_matches(".json"));
            std::fs::create_dir_all(&dir).unwrap();
            if let Some(files) = doc.get("files").and_then(Value::as_object) {
                for (f, content) in files {
                    assert!(!f.contains('/') && !f.contains(".."), "{name}: file name {f:?}");
                    std::fs::write(dir.join(f), content.as_str().expect("file content is a string")).unwrap();
                }
            }
            let config_path = dir.join("config.json");
            std::fs::write(&config_path, serde_json::to_vec_pretty(&doc["config"]).unwrap()).unwrap();
            VectorFile { name, doc, dir, config_path }
        })
        .collect()
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    t ^ N.fetch_add(1, Ordering::Relaxed)
}

/// The credential of a case: (flag, value).
pub fn credential(case: &Value) -> (&'static str, String) {
    let kinds =
        [("jwt", "--jwt"), ("api_key", "--api-key"), ("basic", "--basic"), ("authorization", "--authorization")];
    let found: Vec<_> = kinds.iter().filter(|(k, _)| case.get(*k).is_some()).collect();
    assert_eq!(found.len(), 1, "case {} must have exactly one credential", case["name"]);
    let (k, flag) = found[0];
    (flag, case[*k].as_str().expect("credential is a string").to_string())
}

pub fn case_name(case: &Value) -> String {
    case["name"].as_str().unwrap_or("?").to_string()
}

/// JSON equality with numbers compared by value (1 == 1.0).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}
