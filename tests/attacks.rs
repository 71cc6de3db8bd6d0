//! Known attacks on JWT verifiers, one named test each, with the CVE or
//! advisory that made it famous. Every token is minted here with ring (HMAC,
//! ECDSA P-256, Ed25519, and the fuzz fixture's RSA key), so the tests need
//! nothing but the crate.
//!
//! The verdict codes are SPEC §3; where an attack has several shapes, each
//! shape is asserted separately so a regression names the one that broke.

use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::json;
use std::sync::OnceLock;
use warden::{Code, Scratch, Verifier};

const NOW: f64 = 1_700_000_000.0;
const HS_SECRET: &[u8; 32] = b"attack-tests-hs256-secret-32-byt";
const RSA_PK8: &[u8] = include_bytes!("../fuzz/keys/rsa2048.pk8");

fn b64(b: &[u8]) -> String {
    warden::b64::encode(&warden::b64::URL, b)
}

struct World {
    v: Verifier,
    es: EcdsaKeyPair,
    ed: Ed25519KeyPair,
    rsa: RsaKeyPair,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rng = SystemRandom::new();
        let es_pk8 = EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let es = EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, es_pk8.as_ref(), &rng).unwrap();
        let ed = Ed25519KeyPair::from_pkcs8(Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref()).unwrap();
        let rsa = RsaKeyPair::from_pkcs8(RSA_PK8).unwrap();
        let p = es.public_key().as_ref();
        let rc: sig::RsaPublicKeyComponents<Vec<u8>> = rsa.public().into();
        let config = json!({
            "jwt": {
                "jwks": {"keys": [
                    {"kty": "oct", "alg": "HS256", "kid": "hs", "k": b64(HS_SECRET)},
                    {"kty": "EC", "crv": "P-256", "alg": "ES256", "kid": "es", "x": b64(&p[1..33]), "y": b64(&p[33..])},
                    {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "ed", "x": b64(ed.public_key().as_ref())},
                    {"kty": "RSA", "alg": "RS256", "kid": "rs", "n": b64(&rc.n), "e": b64(&rc.e)},
                ]},
                "audience": ["api"],
            }
        });
        let v = Verifier::from_json(config.to_string().as_bytes()).unwrap();
        World { v, es, ed, rsa }
    })
}

fn verify(token: &str) -> Result<(), Code> {
    world().v.verify_jwt(token.as_bytes(), NOW, &mut Scratch::new()).map(|_| ()).map_err(|r| r.code)
}

/// `header.payload` from JSON texts (written as given, byte for byte).
fn input(header: &str, payload: &str) -> String {
    format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()))
}

fn hmac(key: &[u8], header: &str, payload: &str) -> String {
    let si = input(header, payload);
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), si.as_bytes());
    format!("{si}.{}", b64(tag.as_ref()))
}

fn hs(header: &str, payload: &str) -> String {
    hmac(HS_SECRET, header, payload)
}

fn es_with(key: &EcdsaKeyPair, header: &str, payload: &str) -> String {
    let si = input(header, payload);
    let s = key.sign(&SystemRandom::new(), si.as_bytes()).unwrap();
    format!("{si}.{}", b64(s.as_ref()))
}

fn es(header: &str, payload: &str) -> String {
    es_with(&world().es, header, payload)
}

fn ed(header: &str, payload: &str) -> String {
    let si = input(header, payload);
    format!("{si}.{}", b64(world().ed.sign(si.as_bytes()).as_ref()))
}

fn rs(header: &str, payload: &str) -> String {
    let si = input(header, payload);
    let k = &world().rsa;
    let mut out = vec![0; k.public().modulus_len()];
    k.sign(&sig::RSA_PKCS1_SHA256, &SystemRandom::new(), si.as_bytes(), &mut out).unwrap();
    format!("{si}.{}", b64(&out))
}

const CLAIMS: &str = r#"{"sub":"mallory","aud":"api","exp":1700003600}"#;

/// The RSA public key as an RFC 7468 PEM `PUBLIC KEY` (SubjectPublicKeyInfo):
/// what key-confusion attacks use as the HMAC secret.
fn rsa_public_pem() -> (Vec<u8>, String) {
    fn der(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = body.len();
        if n < 128 {
            out.push(n as u8);
        } else if n < 256 {
            out.extend([0x81, n as u8]);
        } else {
            out.extend([0x82, (n >> 8) as u8, n as u8]);
        }
        out.extend_from_slice(body);
        out
    }
    let pkcs1 = world().rsa.public().as_ref().to_vec();
    let alg_id =
        der(0x30, &[&[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01][..], &[0x05, 0x00]].concat());
    let bits = der(0x03, &[&[0u8][..], &pkcs1].concat());
    let spki = der(0x30, &[alg_id, bits].concat());
    let body = warden::b64::encode(&warden::b64::STD_PADDED, &spki);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| core::str::from_utf8(c).unwrap()).collect();
    (spki.clone(), format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n")))
}

#[test]
fn baseline_tokens_verify() {
    for t in [
        hs(r#"{"alg":"HS256","kid":"hs"}"#, CLAIMS),
        es(r#"{"alg":"ES256","kid":"es"}"#, CLAIMS),
        ed(r#"{"alg":"EdDSA","kid":"ed"}"#, CLAIMS),
        rs(r#"{"alg":"RS256","kid":"rs"}"#, CLAIMS),
        hs(r#"{"alg":"HS256"}"#, CLAIMS),
    ] {
        assert_eq!(verify(&t), Ok(()), "{t}");
    }
}

/// `alg: none` in any casing or escape (the 2015 multi-library disclosure
/// "Critical vulnerabilities in JSON Web Token libraries", T. McLean;
/// CVE-2022-23540 node jsonwebtoken's insecure default; RFC 8725 §3.1–3.2):
/// never a valid algorithm, whatever signature segment follows and whatever
/// kid it names.
#[test]
fn alg_none_in_any_casing() {
    let sig_hs = hs(r#"{"alg":"HS256","kid":"hs"}"#, CLAIMS).rsplit('.').next().unwrap().to_string();
    for alg in ["none", "None", "NONE", "nOnE", "\\u006eone", "none ", " none", "none\\u0000"] {
        for kid in ["", r#","kid":"hs""#, r#","kid":"rs""#] {
            let si = input(&format!(r#"{{"alg":"{alg}"{kid}}}"#), CLAIMS);
            for s in ["", &sig_hs[..], "AA"] {
                assert_eq!(
                    verify(&format!("{si}.{s}")),
                    Err(Code::UnsupportedAlg),
                    "alg {alg:?} kid {kid:?} sig {s:?}"
                );
            }
        }
    }
    // No alg at all, or alg of the wrong type.
    assert_eq!(verify(&hs(r#"{"kid":"hs"}"#, CLAIMS)), Err(Code::UnsupportedAlg));
    assert_eq!(verify(&hs(r#"{"alg":null}"#, CLAIMS)), Err(Code::Malformed));
    assert_eq!(verify(&hs(r#"{"alg":["HS256"]}"#, CLAIMS)), Err(Code::Malformed));
}

/// HS/RS key confusion (CVE-2015-9235 node jsonwebtoken, CVE-2016-10555
/// jwt-simple): an HS256 token "signed" with the RSA public key (PEM, DER or
/// JWK text) as the HMAC secret. Keys are pinned to one alg, so the RSA key
/// is never an HMAC key: with its kid → `unknown_key`; without → the real
/// HS256 key is tried → `bad_signature`; with no HS256 key at all →
/// `unsupported_alg`.
#[test]
fn hs_rs_key_confusion() {
    let (der, pem) = rsa_public_pem();
    let jwk_text = json!({"kty": "RSA", "n": "x", "e": "AQAB"}).to_string();
    for secret in [pem.as_bytes(), pem.trim_end().as_bytes(), &der[..], jwk_text.as_bytes()] {
        assert_eq!(verify(&hmac(secret, r#"{"alg":"HS256","kid":"rs"}"#, CLAIMS)), Err(Code::UnknownKey));
        assert_eq!(verify(&hmac(secret, r#"{"alg":"HS256"}"#, CLAIMS)), Err(Code::BadSignature));
    }
    // A verifier that has only the RSA key.
    let p = world().rsa.public();
    let rc: sig::RsaPublicKeyComponents<Vec<u8>> = p.into();
    let only_rsa = json!({"jwt": {"jwks": {"keys": [{"kty": "RSA", "alg": "RS256", "kid": "rs", "n": b64(&rc.n), "e": b64(&rc.e)}]}, "audience": "api"}});
    let v = Verifier::from_json(only_rsa.to_string().as_bytes()).unwrap();
    let t = hmac(pem.as_bytes(), r#"{"alg":"HS256","kid":"rs"}"#, CLAIMS);
    assert_eq!(v.verify_jwt(t.as_bytes(), NOW, &mut Scratch::new()).unwrap_err().code, Code::UnsupportedAlg);
    // The same RSA key cannot be used with another RSA padding either.
    let rs_sig = rs(r#"{"alg":"RS256","kid":"rs"}"#, CLAIMS).rsplit('.').next().unwrap().to_string();
    let ps = format!("{}.{rs_sig}", input(r#"{"alg":"PS256","kid":"rs"}"#, CLAIMS));
    assert_eq!(verify(&ps), Err(Code::UnsupportedAlg));
    // And an HMAC keyed with the EC public point.
    let ec_point = world().es.public_key().as_ref().to_vec();
    assert_eq!(verify(&hmac(&ec_point, r#"{"alg":"HS256","kid":"es"}"#, CLAIMS)), Err(Code::UnknownKey));
}

/// Embedded `jwk` header (CVE-2018-0114 Cisco node-jose): the attacker signs
/// with their own key and ships its public half in the header. Keys come only
/// from the config (SPEC §5), so the signature is checked against the
/// configured key and fails.
#[test]
fn embedded_jwk_header() {
    let rng = SystemRandom::new();
    let evil_pk8 = EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let evil = EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, evil_pk8.as_ref(), &rng).unwrap();
    let p = evil.public_key().as_ref();
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&p[1..33]), "y": b64(&p[33..]), "kid": "es"});
    for header in [
        json!({"alg": "ES256", "kid": "es", "jwk": jwk}),
        json!({"alg": "ES256", "jwk": jwk}),
        json!({"alg": "ES256", "kid": "es", "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]}),
    ] {
        assert_eq!(verify(&es_with(&evil, &header.to_string(), CLAIMS)), Err(Code::BadSignature), "{header}");
    }
    // A kid that only the embedded key has is simply unknown.
    let h = json!({"alg": "ES256", "kid": "attacker", "jwk": jwk}).to_string();
    assert_eq!(verify(&es_with(&evil, &h, CLAIMS)), Err(Code::UnknownKey));
    // A legitimately signed token carrying such headers is fine: they are ignored.
    assert_eq!(verify(&es(&json!({"alg": "ES256", "kid": "es", "jwk": jwk}).to_string(), CLAIMS)), Ok(()));
}

/// `jku` / `x5u` header (RFC 8725 §3.10 "Do Not Trust Received Claims", RFC
/// 7515 §4.1.2 and §4.1.5; the SSRF and key-injection class behind many
/// advisories): nothing is ever fetched because a token says so. A local
/// listener proves no connection is attempted, with a forged signature and
/// with a valid one.
#[test]
fn jku_and_x5u_headers_are_never_fetched() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let rng = SystemRandom::new();
    let evil_pk8 = EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let evil = EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, evil_pk8.as_ref(), &rng).unwrap();
    for member in ["jku", "x5u"] {
        let h = json!({"alg": "ES256", "kid": "es", member: url}).to_string();
        assert_eq!(verify(&es_with(&evil, &h, CLAIMS)), Err(Code::BadSignature), "{member}");
        let h = json!({"alg": "ES256", member: url}).to_string();
        assert_eq!(verify(&es_with(&evil, &h, CLAIMS)), Err(Code::BadSignature), "{member}");
        let h = json!({"alg": "ES256", "kid": "es", member: url}).to_string();
        assert_eq!(verify(&es(&h, CLAIMS)), Ok(()), "{member} on a valid token is ignored");
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a token header made warden connect to {url}: {other:?}"),
    }
}

/// `kid` injection (RFC 8725 §3.10; the path-traversal / SQL-injection class:
/// `kid` used as a file name or in a query, then the attacker signs with
/// `/dev/null`'s empty contents or a value their injection returns). warden
/// compares `kid` byte for byte with configured kids and nothing else.
#[test]
fn kid_injection() {
    for kid in [
        "../../../../../../dev/null",
        "/dev/null",
        "hs/../hs",
        "' OR '1'='1",
        "hs' UNION SELECT 'attacker-secret' --",
        "hs\\u0000",
        "hs ",
        "HS",
        "h",
        "|| id",
        "http://127.0.0.1/key",
    ] {
        let h = format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#);
        for secret in [&b""[..], b"attacker-secret", b"\n"] {
            assert_eq!(verify(&hmac(secret, &h, CLAIMS)), Err(Code::UnknownKey), "kid {kid:?}");
        }
    }
    // The right kid with a secret the attacker guessed: just a bad signature.
    assert_eq!(verify(&hmac(b"", r#"{"alg":"HS256","kid":"hs"}"#, CLAIMS)), Err(Code::BadSignature));
    // A kid given twice (the second one "wins" in lax parsers).
    assert_eq!(verify(&hs(r#"{"alg":"HS256","kid":"nope","kid":"hs"}"#, CLAIMS)), Err(Code::Malformed));
}

/// ECDSA "psychic signatures" (CVE-2022-21449, Java 15–18): r = s = 0 passes
/// a verifier that skips the range check. Also r or s equal to the group
/// order n, and the DER encoding of (0, 0).
#[test]
fn ecdsa_psychic_signatures() {
    let si = input(r#"{"alg":"ES256","kid":"es"}"#, CLAIMS);
    let n: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6,
        0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    ];
    let good = es(r#"{"alg":"ES256","kid":"es"}"#, CLAIMS);
    let good_sig = warden::b64::decode_vec(&warden::b64::URL, good.rsplit('.').next().unwrap()).unwrap();
    let (r, s) = good_sig.split_at(32);
    let zero = [0u8; 32];
    for (what, sig) in [
        ("r = s = 0", [zero, zero].concat()),
        ("r = 0", [&zero[..], s].concat()),
        ("s = 0", [r, &zero[..]].concat()),
        ("r = s = n", [n, n].concat()),
        ("r = n", [&n[..], s].concat()),
        ("s = n", [r, &n[..]].concat()),
        ("DER (0, 0)", vec![0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]),
        ("empty", vec![]),
    ] {
        assert_eq!(verify(&format!("{si}.{}", b64(&sig))), Err(Code::BadSignature), "{what}");
    }
    // The real signature over the same input verifies (and so the input is fine).
    assert_eq!(verify(&good), Ok(()));
}

/// Signature stripping (CVE-2020-28042 ServiceStack: a JWT with its
/// signature removed was accepted). An empty or shortened signature is
/// `bad_signature`; dropping the segment altogether is `malformed`.
#[test]
fn signature_stripping() {
    for t in [
        hs(r#"{"alg":"HS256","kid":"hs"}"#, CLAIMS),
        es(r#"{"alg":"ES256","kid":"es"}"#, CLAIMS),
        ed(r#"{"alg":"EdDSA","kid":"ed"}"#, CLAIMS),
        rs(r#"{"alg":"RS256","kid":"rs"}"#, CLAIMS),
    ] {
        let (si, s) = t.rsplit_once('.').unwrap();
        assert_eq!(verify(&format!("{si}.")), Err(Code::BadSignature), "empty signature");
        assert_eq!(verify(si), Err(Code::Malformed), "two segments");
        let raw = warden::b64::decode_vec(&warden::b64::URL, s).unwrap();
        for keep in [1, raw.len() / 2, raw.len() - 1] {
            assert_eq!(verify(&format!("{si}.{}", b64(&raw[..keep]))), Err(Code::BadSignature), "{keep} bytes");
        }
        let mut longer = raw.clone();
        longer.push(0);
        assert_eq!(verify(&format!("{si}.{}", b64(&longer))), Err(Code::BadSignature), "one byte more");
    }
}

/// JWE/JWS confusion (CVE-2023-51774 ruby json-jwt: a JWE accepted where a
/// signed JWT was required): warden verifies JWS only; the five-segment JWE
/// compact form is `malformed`, whatever its header claims.
#[test]
fn jwe_jws_confusion() {
    let seg = |s: &str| b64(s.as_bytes());
    for header in [
        r#"{"alg":"dir","enc":"A128GCM"}"#,
        r#"{"alg":"RSA-OAEP","enc":"A256GCM","kid":"rs"}"#,
        r#"{"alg":"HS256","kid":"hs","enc":"A128CBC-HS256"}"#,
    ] {
        let jwe = format!("{}..{}.{}.{}", seg(header), seg("iv-iv-iv-iv"), seg(CLAIMS), seg("tag"));
        assert_eq!(verify(&jwe), Err(Code::Malformed), "{header}");
        let mut h = b"Bearer ".to_vec();
        h.extend_from_slice(jwe.as_bytes());
        assert_eq!(world().v.verify_authorization(&h, NOW, &mut Scratch::new()).unwrap_err().code, Code::Malformed);
    }
    // A JWS whose payload is itself a JWS (nested, cty: JWT) is not unwrapped:
    // the outer payload is not a JSON object.
    let inner = hs(r#"{"alg":"HS256","kid":"hs"}"#, CLAIMS);
    let si = format!("{}.{}", b64(br#"{"alg":"HS256","kid":"hs","cty":"JWT"}"#), b64(inner.as_bytes()));
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, HS_SECRET), si.as_bytes());
    assert_eq!(verify(&format!("{si}.{}", b64(tag.as_ref()))), Err(Code::Malformed));
}

/// Duplicate claims and header parameters (RFC 7519 §4 "Claim Names … MUST
/// be unique", RFC 7515 §4 for header parameters, RFC 8259 §4 on
/// implementations disagreeing about duplicates): a parser that keeps the
/// first and a policy that reads the last can be played against each other.
/// Validly signed tokens with a name given twice — also via an escape — are
/// `malformed`.
#[test]
fn duplicate_claims() {
    for (h, p) in [
        (r#"{"alg":"HS256","kid":"hs"}"#, r#"{"sub":"alice","sub":"admin","aud":"api","exp":1700003600}"#),
        (r#"{"alg":"HS256","kid":"hs"}"#, r#"{"sub":"a","aud":"api","exp":1,"exp":1700003600}"#),
        (r#"{"alg":"HS256","kid":"hs"}"#, r#"{"sub":"a","aud":"nope","aud":"api","exp":1700003600}"#),
        (r#"{"alg":"HS256","kid":"hs"}"#, r#"{"sub":"a","\u0073ub":"admin","aud":"api","exp":1700003600}"#),
        (r#"{"alg":"HS256","kid":"hs"}"#, r#"{"role":"user","role":"admin","aud":"api","exp":1700003600}"#),
        (r#"{"alg":"HS256","alg":"none","kid":"hs"}"#, CLAIMS),
        (r#"{"alg":"HS256","kid":"hs","\u0061lg":"HS256"}"#, CLAIMS),
    ] {
        assert_eq!(verify(&hs(h, p)), Err(Code::Malformed), "{h} {p}");
    }
    // Nested objects may repeat names of the top level (they are different members).
    assert_eq!(verify(&hs(r#"{"alg":"HS256","kid":"hs"}"#, r#"{"aud":"api","exp":1700003600,"x":{"exp":1}}"#)), Ok(()));
}

/// Numeric edge cases in time claims (RFC 7519 §2 NumericDate and §4.1.4;
/// SPEC §5: any JSON number within a double, compared as a double, no
/// truncation, no integer overflow; anything else `malformed`).
#[test]
fn numeric_edge_cases_in_time_claims() {
    let h = r#"{"alg":"HS256","kid":"hs"}"#;
    let with = |claims: &str| verify(&hs(h, &format!(r#"{{"aud":"api",{claims}}}"#)));
    for (claims, want) in [
        (r#""exp":1e308"#, Ok(())),
        (r#""exp":1.7976931348623157e308"#, Ok(())),
        (r#""exp":18446744073709551616"#, Ok(())),
        (r#""exp":99999999999999999999999999999"#, Ok(())),
        (r#""exp":1700000000.5"#, Ok(())),
        (r#""exp":1700000000"#, Err(Code::Expired)),
        (r#""exp":1700000000.0"#, Err(Code::Expired)),
        (r#""exp":17e8"#, Err(Code::Expired)),
        (r#""exp":1699999999.75"#, Err(Code::Expired)),
        (r#""exp":0"#, Err(Code::Expired)),
        (r#""exp":-0"#, Err(Code::Expired)),
        (r#""exp":-1e308"#, Err(Code::Expired)),
        (r#""exp":-9223372036854775809"#, Err(Code::Expired)),
        (r#""exp":1e400"#, Err(Code::Malformed)),
        (r#""exp":-1e400"#, Err(Code::Malformed)),
        (r#""exp":"9999999999""#, Err(Code::Malformed)),
        (r#""exp":"1e308""#, Err(Code::Malformed)),
        (r#""exp":null"#, Err(Code::Malformed)),
        (r#""exp":true"#, Err(Code::Malformed)),
        (r#""exp":[9999999999]"#, Err(Code::Malformed)),
        (r#""exp":{"$gt":0}"#, Err(Code::Malformed)),
        (r#""exp":NaN"#, Err(Code::Malformed)),
        (r#""exp":Infinity"#, Err(Code::Malformed)),
        (r#""exp":09999999999"#, Err(Code::Malformed)),
        (r#""exp":0x7fffffff"#, Err(Code::Malformed)),
        (r#""exp":+9999999999"#, Err(Code::Malformed)),
        (r#""exp":9999999999,"nbf":1e308"#, Err(Code::NotYetValid)),
        (r#""exp":9999999999,"nbf":1700000000.25"#, Err(Code::NotYetValid)),
        (r#""exp":9999999999,"nbf":1700000000"#, Ok(())),
        (r#""exp":9999999999,"nbf":"0""#, Err(Code::Malformed)),
        (r#""exp":9999999999,"iat":1700000000.001"#, Err(Code::IssuedInFuture)),
        (r#""exp":9999999999,"iat":-1e308"#, Ok(())),
        (r#""exp":9999999999,"iat":"1""#, Err(Code::Malformed)),
        (r#""nbf":0"#, Err(Code::MissingClaim)),
    ] {
        assert_eq!(with(claims), want, "{claims}");
    }
}

/// `aud` type confusion (CVE-2020-26160 jwt-go: an `aud` array made the
/// audience check see an empty string). `aud` is a string or an array of
/// strings; one configured value must appear; anything else is refused.
#[test]
fn audience_type_confusion() {
    let h = r#"{"alg":"HS256","kid":"hs"}"#;
    let with = |aud: &str| verify(&hs(h, &format!(r#"{{"aud":{aud},"exp":1700003600}}"#)));
    for (aud, want) in [
        (r#""api""#, Ok(())),
        (r#"["other","api"]"#, Ok(())),
        (r#"[]"#, Err(Code::BadAudience)),
        (r#""""#, Err(Code::BadAudience)),
        (r#"[""]"#, Err(Code::BadAudience)),
        (r#""API""#, Err(Code::BadAudience)),
        (r#""api ""#, Err(Code::BadAudience)),
        (r#"[["api"]]"#, Err(Code::Malformed)),
        (r#"[1]"#, Err(Code::Malformed)),
        (r#"{"0":"api"}"#, Err(Code::Malformed)),
        (r#"null"#, Err(Code::Malformed)),
        (r#"["api",null]"#, Err(Code::Malformed)),
    ] {
        assert_eq!(with(aud), want, "aud {aud}");
    }
    assert_eq!(verify(&hs(h, r#"{"exp":1700003600}"#)), Err(Code::BadAudience), "aud absent");
}

/// `crit` (RFC 7515 §4.1.11: a recipient MUST reject a JWS whose `crit`
/// names an extension it does not understand): refused even when validly
/// signed, so an attacker cannot rely on an ignored critical extension.
#[test]
fn crit_header_is_refused() {
    for crit in [r#"["exp"]"#, r#"["b64"]"#, r#"[]"#] {
        let h = format!(r#"{{"alg":"HS256","kid":"hs","crit":{crit},"b64":false}}"#);
        assert_eq!(verify(&hs(&h, CLAIMS)), Err(Code::CritUnsupported), "{crit}");
    }
}

/// RFC 7797 `b64`: `false` says the payload segment is not base64url. With
/// `crit` (which RFC 7797 §6 demands) it is an unsupported extension; without
/// it, a library that ignores `b64` and one that honours it would read the
/// same token differently, so it is refused as malformed, validly signed or
/// not. `true` is the ordinary meaning. Any other value is malformed.
#[test]
fn b64_header_false_is_never_read_as_base64url() {
    let with = |b64: &str| format!(r#"{{"alg":"HS256","kid":"hs","b64":{b64}}}"#);
    assert_eq!(verify(&hs(&with("false"), CLAIMS)), Err(Code::Malformed));
    assert_eq!(verify(&hs(&with("true"), CLAIMS)), Ok(()));
    for bad in [r#""false""#, "0", "null", "[]"] {
        assert_eq!(verify(&hs(&with(bad), CLAIMS)), Err(Code::Malformed), "{bad}");
    }
    // Before any key is looked up (malformed is decided on the whole token).
    let h = r#"{"alg":"HS999","kid":"nobody","b64":false}"#;
    assert_eq!(verify(&hs(h, CLAIMS)), Err(Code::Malformed));
}

/// Algorithm spellings (RFC 7515 §4.1.1 "alg" is case-sensitive; RFC 8725
/// §3.1): near-misses of a configured alg are not that alg; a JSON escape of
/// the exact name is.
#[test]
fn alg_spelling_variants() {
    for alg in ["hs256", "Hs256", "HS256 ", " HS256", "HS256\\u0000", "HS 256", "HS2560", "HMAC-SHA256"] {
        let h = format!(r#"{{"alg":"{alg}","kid":"hs"}}"#);
        assert_eq!(verify(&hs(&h, CLAIMS)), Err(Code::UnsupportedAlg), "{alg:?}");
    }
    assert_eq!(verify(&hs(r#"{"alg":"\u0048S256","kid":"hs"}"#, CLAIMS)), Ok(()));
}

/// Resource exhaustion by nesting (RFC 8259 §9 lets parsers bound depth; a
/// recursive parser without a bound overflows its stack): a validly signed
/// token with 100 000 nested arrays is `malformed`, quickly.
#[test]
fn deeply_nested_json_is_refused() {
    let deep = format!(r#"{{"aud":"api","exp":1700003600,"x":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    let t = hs(r#"{"alg":"HS256","kid":"hs"}"#, &deep);
    let v = Verifier::from_json(
        json!({"jwt": {"jwks": {"keys": [{"kty": "oct", "alg": "HS256", "kid": "hs", "k": b64(HS_SECRET)}]},
                        "audience": "api", "max_token_bytes": 1_048_576}})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let start = std::time::Instant::now();
    assert_eq!(v.verify_jwt(t.as_bytes(), NOW, &mut Scratch::new()).unwrap_err().code, Code::Malformed);
    assert!(start.elapsed().as_secs_f64() < 2.0);
}

/// RFC 7617 §2: "The user-id and password MUST NOT contain any control
/// characters". PBKDF2-HMAC zero-pads HMAC keys shorter than the hash block
/// (RFC 2104 §2), so a password followed by NUL bytes derives the same key as
/// the password: `pw\0` verifies as `pw` (found by the `authorization` fuzz
/// target). Only someone who knows the password can use it, but it breaks
/// "raw octets are compared" (SPEC §5) and a NUL is never a legitimate Basic
/// character; refusing control characters (`malformed`) would close it.
#[test]
fn basic_password_with_trailing_nul_is_refused() {
    let salt = [7u8; 16];
    let mut dk = [0u8; 32];
    let it = core::num::NonZeroU32::new(1000).unwrap();
    ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA256, it, &salt, b"pw", &mut dk);
    let std = |b: &[u8]| warden::b64::encode(&warden::b64::STD_NOPAD, b);
    let hash = format!("$pbkdf2-sha256$i=1000${}${}", std(&salt), std(&dk));
    let v = Verifier::from_json(json!({"basic": {"users": [{"user": "alice", "hash": hash}]}}).to_string().as_bytes())
        .unwrap();
    let mut s = Scratch::new();
    assert!(v.verify_basic(b"alice", b"pw", NOW, &mut s).is_ok());
    let r = v.verify_basic(b"alice", b"pw\0", NOW, &mut s).map(|_| ()).map_err(|e| e.code);
    assert!(r.is_err(), "the password followed by a NUL byte was accepted");
}

/// A kid selects exactly the key whose kid equals it after JSON unescaping
/// (RFC 7515 §4.1.4: a case-sensitive string): never a key whose kid is a
/// prefix, an extension, or another spelling of it; escapes in the header
/// select the key they spell, even when that kid holds quotes, backslashes,
/// NULs or non-ASCII; and the result names the kid as decoded.
#[test]
fn kid_selects_exactly_one_key_by_its_decoded_value() {
    let kids = ["hs", "hs ", "hs\u{0}", "h", "a\\b\"c", "ü", "", "key-2026-11-0001", "key-2026-11-0002"];
    let secret = |i: usize| [b'a' + i as u8; 32];
    let keys: Vec<_> =
        (0..kids.len()).map(|i| json!({"kty": "oct", "alg": "HS256", "kid": kids[i], "k": b64(&secret(i))})).collect();
    let v = Verifier::from_json(json!({"jwt": {"jwks": {"keys": keys}, "audience": ["api"]}}).to_string().as_bytes())
        .unwrap();
    let mut s = Scratch::new();
    // (kid as written in the header JSON, the key it must select)
    for (written, want) in [
        ("hs", 0),
        ("hs ", 1),
        ("hs\\u0000", 2),
        ("h", 3),
        ("\\u0068", 3),
        ("a\\\\b\\\"c", 4),
        ("a\\u005cb\\u0022c", 4),
        ("ü", 5),
        ("\\u00fc", 5),
        ("", 6),
        ("key-2026-11-0001", 7),
        ("key-2026-11-000\\u0032", 8),
    ] {
        let header = format!(r#"{{"alg":"HS256","kid":"{written}"}}"#);
        let t = hmac(&secret(want), &header, CLAIMS);
        let r = v.verify_jwt(t.as_bytes(), NOW, &mut s);
        assert_eq!(r.as_ref().map(|v| v.kid()).map_err(|e| e.code), Ok(Some(kids[want])), "kid {written}");
        // Signed with any other key: the kid still selects this one.
        let other = hmac(&secret((want + 1) % kids.len()), &header, CLAIMS);
        assert_eq!(v.verify_jwt(other.as_bytes(), NOW, &mut s).unwrap_err().code, Code::BadSignature, "kid {written}");
    }
    for unknown in ["HS", "hs  ", "hs\\u0001", "a\\\\b", "u", "key-2026-11-000", "key-2026-11-00011"] {
        let header = format!(r#"{{"alg":"HS256","kid":"{unknown}"}}"#);
        let t = hmac(&secret(0), &header, CLAIMS);
        assert_eq!(v.verify_jwt(t.as_bytes(), NOW, &mut s).unwrap_err().code, Code::UnknownKey, "kid {unknown}");
    }
}

/// A small-order Ed25519 public key (the identity here) makes R = identity,
/// S = 0 a signature of every message (the "trivial key" forgery that
/// libsodium and ed25519-dalek's strict verify refuse): such a key is
/// refused when the config loads, so no token can be verified against it.
#[test]
fn ed25519_identity_key_cannot_sign_for_everyone() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let cfg = json!({"jwt": {"jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "weak",
                                                 "x": b64(&identity)}]}}});
    let e = Verifier::from_json(cfg.to_string().as_bytes()).err().expect("refused");
    assert!(e.to_string().contains("small order"), "{e}");
    // Nor through a key-set swap.
    let v = Verifier::from_json(b"{}").unwrap();
    let jwks = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": b64(&identity)}]});
    assert!(v.set_jwks(jwks.to_string().as_bytes()).is_err());
}

#[test]
fn a_nested_name_given_twice_reads_as_other_parsers_read_it() {
    // SPEC §5 refuses a top-level name given twice; a nested object may
    // hold one. Its value is the last, as JavaScript, Python's json, Go's
    // encoding/json and serde_json read it. (The C API took the first: a
    // service behind nginx saw other roles than the claim nginx checked, and
    // the bindings others than C; found by an audit.)
    let payload = r#"{"sub":"u","aud":"api","exp":1700003600,"realm_access":{"roles":["user"],"roles":["admin"]}}"#;
    let t = hs(r#"{"alg":"HS256","kid":"hs"}"#, payload);
    let mut s = Scratch::new();
    let v = world().v.verify_jwt(t.as_bytes(), NOW, &mut s).unwrap();
    assert_eq!(v.claim_path("realm_access.roles").unwrap().raw_json(), r#"["admin"]"#);
    let parsed: serde_json::Value = serde_json::from_str(payload).unwrap();
    assert_eq!(parsed["realm_access"]["roles"], json!(["admin"]), "serde_json agrees");
}
