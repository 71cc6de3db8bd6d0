//! `warden keygen` and `warden hash-password` print only what the config
//! loader accepts: an argument that would make an entry it refuses, or a
//! password no Basic request could carry, is an error (exit 2).

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap(), text(out.stdout), text(out.stderr))
}

#[test]
fn hash_password_prints_hashes_the_loader_takes() {
    let (rc, out, _) = run(&["hash-password", "--iterations", "1000"], b"s3cret\n");
    assert_eq!(rc, 0);
    let hash = out.trim();
    let config = serde_json::json!({"basic": {"users": [{"user": "u", "hash": hash}]}});
    let v = warden::Verifier::from_json(config.to_string().as_bytes()).unwrap();
    let mut s = warden::Scratch::new();
    assert!(v.verify_basic(b"u", b"s3cret", 1.7e9, &mut s).is_ok(), "the trailing newline is not the password's");

    // Counts out of the loader's range: refused, not silently changed.
    for it in ["1", "999", "10000001"] {
        let (rc, out, err) = run(&["hash-password", "--iterations", it], b"pw\n");
        assert_eq!((rc, out.as_str()), (2, ""), "{it}");
        assert!(err.contains("out of range"), "{it}: {err}");
    }
    // A control character: Basic credentials holding one are malformed.
    for pw in [&b"a\tb"[..], b"a\x7fb", b"a\rb\n"] {
        let (rc, out, err) = run(&["hash-password", "--iterations", "1000"], pw);
        assert_eq!((rc, out.as_str()), (2, ""), "{pw:?}");
        assert!(err.contains("control character"), "{err}");
    }
}

#[test]
fn keygen_refuses_an_empty_validity_window() {
    for (nb, na) in [("10", "5"), ("7", "7")] {
        let (rc, out, err) = run(&["keygen", "--prefix", "wk", "--not-before", nb, "--not-after", na], b"");
        assert_eq!((rc, out.as_str()), (2, ""), "{nb}..{na}");
        assert!(err.contains("must be before"), "{err}");
    }
    let (rc, out, _) = run(&["keygen", "--prefix", "wk", "--not-before", "5", "--not-after", "10"], b"");
    assert_eq!(rc, 0);
    assert!(out.contains("\"not_before\": 5") && out.contains("\"not_after\": 10"), "{out}");
}
