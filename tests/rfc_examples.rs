//! The worked examples of RFC 7515 Appendix A (A.1 HS256, A.2 RS256, A.3
//! ES256, A.5 unsecured) and RFC 8037 Appendix A.4 (Ed25519), verified as
//! published. The payload of A.1–A.3 is a JWT claims set with
//! `"exp":1300819380`, so each is accepted just before that instant and
//! `expired` at it.

use serde_json::json;
use warden::{Code, Scratch, Verifier};

const PAYLOAD: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const EXP: f64 = 1300819380.0;

const A1_KEY: &str = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const A1_HEADER: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
const A1_SIG: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const A2_HEADER: &str = "eyJhbGciOiJSUzI1NiJ9";
const A2_SIG: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const A3_HEADER: &str = "eyJhbGciOiJFUzI1NiJ9";
const A3_SIG: &str = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const ED_TOKEN: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

fn verifier(jwk: serde_json::Value) -> Verifier {
    Verifier::from_json(json!({"jwt": {"jwks": {"keys": [jwk]}}}).to_string().as_bytes()).unwrap()
}

fn verdict(v: &Verifier, token: &str, now: f64) -> Code {
    let mut s = Scratch::new();
    v.verify_jwt(token.as_bytes(), now, &mut s).map(|_| Code::Ok).unwrap_or_else(|r| r.code)
}

fn flip_sig(token: &str) -> String {
    // Change the first signature character: same length, other bits.
    let dot = token.rfind('.').unwrap();
    let mut t = token.to_string().into_bytes();
    t[dot + 1] = if t[dot + 1] == b'A' { b'B' } else { b'A' };
    String::from_utf8(t).unwrap()
}

fn check_published(v: &Verifier, header: &str, sig: &str) {
    let token = format!("{header}.{PAYLOAD}.{sig}");
    assert_eq!(verdict(v, &token, EXP - 1.0), Code::Ok);
    assert_eq!(verdict(v, &token, EXP - 0.001), Code::Ok);
    assert_eq!(verdict(v, &token, EXP), Code::Expired, "RFC 7519 §4.1.4: now must be before exp");
    assert_eq!(verdict(v, &flip_sig(&token), EXP - 1.0), Code::BadSignature);
}

#[test]
fn rfc7515_a1_hs256() {
    let v = verifier(json!({"kty": "oct", "alg": "HS256", "k": A1_KEY}));
    check_published(&v, A1_HEADER, A1_SIG);
}

#[test]
fn rfc7515_a2_rs256() {
    let v = verifier(json!({"kty": "RSA", "alg": "RS256", "n": A2_N, "e": "AQAB"}));
    check_published(&v, A2_HEADER, A2_SIG);
    // The same key pinned to PS256 must not accept the PKCS#1 v1.5 signature.
    let ps = verifier(json!({"kty": "RSA", "alg": "PS256", "n": A2_N, "e": "AQAB"}));
    assert_eq!(verdict(&ps, &format!("{A2_HEADER}.{PAYLOAD}.{A2_SIG}"), EXP - 1.0), Code::UnsupportedAlg);
}

#[test]
fn rfc7515_a3_es256() {
    let v = verifier(json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "x": A3_X, "y": A3_Y}));
    check_published(&v, A3_HEADER, A3_SIG);
}

#[test]
fn rfc7515_a5_unsecured_is_never_accepted() {
    let v = verifier(json!({"kty": "oct", "alg": "HS256", "k": A1_KEY}));
    let none = format!("eyJhbGciOiJub25lIn0.{PAYLOAD}.");
    assert_eq!(verdict(&v, &none, EXP - 1.0), Code::UnsupportedAlg);
}

#[test]
fn rfc8037_a4_ed25519() {
    // The published signature verifies with the published key...
    let key = warden::keys::parse_jwk(&json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": ED_X})).unwrap();
    let dot = ED_TOKEN.rfind('.').unwrap();
    let sig = warden::b64::decode_vec(&warden::b64::URL, &ED_TOKEN[dot + 1..]).unwrap();
    assert!(key.verify(&ED_TOKEN.as_bytes()[..dot], &sig));
    assert!(!key.verify(b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZQ", &sig));
    // ...but its payload ("Example of Ed25519 signing") is not a JWT claims
    // set, so as a JWT it is malformed — decided before any key is used.
    let v = verifier(json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": ED_X}));
    assert_eq!(verdict(&v, ED_TOKEN, 0.0), Code::Malformed);
}
