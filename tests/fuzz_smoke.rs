//! The fuzz harnesses of `fuzz/` on a stable toolchain: every seed in
//! `fuzz/corpus/<target>/`, plus deterministic mutations of each (xorshift
//! PRNG, fixed seed), through the same property-checking functions the
//! libFuzzer targets call. `WARDEN_FUZZ_SMOKE_ITERS` sets the mutations per
//! seed (default 4; `fuzz/ci.sh` raises it when libFuzzer is unavailable).
//!
//! The ignored tests regenerate the seed corpus from the shared vectors
//! (`fuzz/gen-corpus.sh`).

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod harness;

use harness::{corpus, mutate, targets, Rng};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = fuzz_dir().join("corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no seed corpus at {}: {e} (run fuzz/gen-corpus.sh)", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty seed corpus {}", dir.display());
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn iters() -> usize {
    std::env::var("WARDEN_FUZZ_SMOKE_ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(4)
}

/// Run `f` on every seed and `iters()` mutations of each. On a failure, the
/// input is saved under the temp dir and named in the panic.
fn run(target: &str, f: fn(&[u8])) {
    let seeds = seeds(target);
    let n = iters();
    let mut rng = Rng::new(0x5eed ^ target.len() as u64 ^ (target.as_bytes()[0] as u64) << 8);
    let mut count = 0usize;
    for seed in &seeds {
        let mut inputs = vec![seed.clone()];
        for _ in 0..n {
            inputs.push(mutate(&mut rng, seed, &seeds));
        }
        for input in inputs {
            count += 1;
            if let Err(e) = catch_unwind(AssertUnwindSafe(|| f(&input))) {
                let path = std::env::temp_dir().join(format!("warden-fuzz-{target}-failure-{}", std::process::id()));
                std::fs::write(&path, &input).unwrap();
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!("{target}: failed on input saved to {} ({} bytes): {msg}", path.display(), input.len());
            }
        }
    }
    eprintln!("{target}: {count} inputs ({} seeds × {} mutations + seeds), all properties held", seeds.len(), n);
}

#[test]
fn jwt_verify() {
    run("jwt_verify", targets::jwt_verify);
}

#[test]
fn authorization() {
    run("authorization", targets::authorization);
}

#[test]
fn api_key() {
    run("api_key", targets::api_key);
}

#[test]
fn config_json() {
    run("config_json", targets::config_json);
}

#[test]
fn jwks() {
    run("jwks", targets::jwks);
}

#[test]
fn htpasswd() {
    run("htpasswd", targets::htpasswd);
}

fn vectors() -> PathBuf {
    std::env::var_os("WARDEN_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"))
}

/// Step 1 of `fuzz/gen-corpus.sh`.
#[test]
#[ignore = "regenerates fuzz/seeds/jwt_templates.txt; run by fuzz/gen-corpus.sh"]
fn write_templates() {
    corpus::write_templates(&vectors(), &fuzz_dir().join("seeds/jwt_templates.txt"));
}

/// Step 2 of `fuzz/gen-corpus.sh` (after a rebuild that picks up the templates).
#[test]
#[ignore = "regenerates fuzz/corpus; run by fuzz/gen-corpus.sh"]
fn write_seed_corpus() {
    corpus::write_seed_corpus(&vectors(), &fuzz_dir().join("corpus"));
}
