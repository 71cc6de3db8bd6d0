//! The bundled example (README's first command) gives the verdicts the README
//! shows: its tokens are real and stay so.

use std::path::Path;
use warden::{Code, Scratch, Verifier};

const NOW: f64 = 1_800_000_000.0; // 2027: inside every example token's window but "expired"'s

fn example(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).trim_end().to_string()
}

#[test]
fn example_tokens_get_their_verdicts() {
    let v = Verifier::from_file(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/warden.json")).unwrap();
    let mut s = Scratch::new();
    for (file, want) in [
        ("hs256.jwt", Code::Ok),
        ("es256.jwt", Code::Ok),
        ("eddsa.jwt", Code::Ok),
        ("rs256.jwt", Code::Ok),
        ("expired.jwt", Code::Expired),
        ("wrong-audience.jwt", Code::BadAudience),
        ("revoked.jwt", Code::Revoked),
        ("alg-none.jwt", Code::UnsupportedAlg),
        ("hs256-keyed-with-rsa-kid.jwt", Code::UnknownKey),
        ("tampered.jwt", Code::BadSignature),
    ] {
        let t = example(&format!("tokens/{file}"));
        let got = v.verify_jwt(t.as_bytes(), NOW, &mut s).map(|_| Code::Ok).unwrap_or_else(|r| r.code);
        assert_eq!(got, want, "{file}");
    }
    let key = example("credentials/api-key");
    let ok = v.verify_api_key(key.as_bytes(), NOW, &mut s).unwrap();
    assert_eq!(ok.key_id(), Some("example-key-1"));
    let basic = example("credentials/basic");
    assert_eq!(v.verify_basic_pair(basic.as_bytes(), NOW, &mut s).unwrap().subject(), Some("alice"));
    let wrong = example("credentials/basic-wrong");
    assert_eq!(v.verify_basic_pair(wrong.as_bytes(), NOW, &mut s).unwrap_err().code, Code::BadCredentials);
}
