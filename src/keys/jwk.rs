//! One RFC 7517 JWK → one pinned [`Key`], with every load-time refusal of
//! SPEC §1 and §5.

use super::{Alg, Family, Key, Material};
use crate::b64;
use ring::agreement;
use ring::digest;
use serde_json::{Map, Value};

/// Members of a JWK that warden reads or knowingly ignores (RFC 7517 §4,
/// RFC 7518 §6). Others are ignored too, as RFC 7517 §4 requires, except the
/// private-key members below, which are refused: a verifier never needs them
/// and their presence means a private key was pasted where a public one goes.
const PRIVATE_MEMBERS: [&str; 6] = ["d", "p", "q", "dp", "dq", "qi"];

fn str_member<'a>(o: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match o.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(format!("\"{name}\" must be a string, not {}", json_type(v))),
    }
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn b64_member(o: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    let s = str_member(o, name)?.ok_or_else(|| format!("missing \"{name}\""))?;
    b64::decode_vec(&b64::URL, s).ok_or_else(|| format!("\"{name}\" is not base64url without padding"))
}

/// Parse one JWK.
pub fn parse_jwk(v: &Value) -> Result<Key, String> {
    parse_jwk_pinning(v, None)
}

/// Parse one JWK; a JWK without `alg` is pinned to `alg_if_none` when
/// given (a fetched key, see `fetched_key_alg` in the config), else refused.
pub fn parse_jwk_pinning(v: &Value, alg_if_none: Option<Alg>) -> Result<Key, String> {
    let o = v.as_object().ok_or("a JWK must be a JSON object")?;
    for p in PRIVATE_MEMBERS {
        if o.contains_key(p) && o.get("kty").and_then(|k| k.as_str()) != Some("oct") {
            return Err(format!("holds private key material (\"{p}\"); configure the public key only"));
        }
    }
    let kty = str_member(o, "kty")?.ok_or("missing \"kty\"")?;
    let alg = match (str_member(o, "alg")?, alg_if_none) {
        (Some(name), _) => Alg::from_name(name.as_bytes()).ok_or_else(|| {
            format!(
                "unsupported \"alg\" {name:?} (supported: {})",
                Alg::ALL.iter().map(|a| a.name()).collect::<Vec<_>>().join(" ")
            )
        })?,
        (None, Some(alg)) => alg,
        (None, None) => return Err("missing \"alg\": every key must be pinned to one algorithm".into()),
    };
    // Where the alg came from, for messages.
    let whose = if o.contains_key("alg") { "\"alg\"" } else { "fetched_key_alg" };
    let kid = str_member(o, "kid")?.map(Box::<str>::from);

    let usable = for_verifying(o)?;

    let want_kty = match alg.family() {
        Family::Hmac => "oct",
        Family::Rsa => "RSA",
        Family::Ec => "EC",
        Family::Okp => "OKP",
    };
    if kty != want_kty {
        return Err(format!("{whose} {alg} needs \"kty\" {want_kty:?}, but the key has {kty:?}"));
    }

    let mut bits = 0;
    // What identifies the key, each field with its length: without them,
    // two RSA keys whose n‖e read the same (n = N‖0‖X, e = 3 and n = N,
    // e = X‖0‖3) shared a fingerprint, and a cached token outlived the
    // swap of one for the other.
    let mut fp = Fingerprint(digest::Context::new(&digest::SHA256));
    fp.field(alg.name().as_bytes());
    match &kid {
        Some(k) => {
            fp.field(&[1]);
            fp.field(k.as_bytes());
        }
        None => fp.field(&[0]),
    }

    let material = match alg.family() {
        Family::Hmac => {
            let k = b64_member(o, "k")?;
            if k.len() < alg.min_hmac_secret() {
                return Err(format!(
                    "{alg} secret is {} bytes; at least {} are required (RFC 7518 §3.2)",
                    k.len(),
                    alg.min_hmac_secret()
                ));
            }
            fp.field(&k);
            let h = match alg {
                Alg::HS256 => ring::hmac::HMAC_SHA256,
                Alg::HS384 => ring::hmac::HMAC_SHA384,
                _ => ring::hmac::HMAC_SHA512,
            };
            Material::Hmac(ring::hmac::Key::new(h, &k))
        }
        Family::Rsa => {
            let n = b64_member(o, "n")?;
            let e = b64_member(o, "e")?;
            let n = strip_zeros(&n);
            let e = strip_zeros(&e);
            bits = bit_len(n);
            if bits < 2048 {
                return Err(format!("RSA modulus is {bits} bits; at least 2048 are required"));
            }
            if bits > 8192 {
                return Err(format!("RSA modulus is {bits} bits; at most 8192 are supported"));
            }
            let e_bits = bit_len(e);
            if e_bits < 2 || e.last().is_some_and(|b| b & 1 == 0) {
                return Err("RSA exponent must be odd and at least 3".into());
            }
            if e_bits > 33 {
                return Err(format!("RSA exponent of {e_bits} bits is not supported (at most 33)"));
            }
            fp.field(n);
            fp.field(e);
            Material::Rsa { n: n.into(), e: e.into() }
        }
        Family::Ec => {
            let crv = str_member(o, "crv")?.ok_or("missing \"crv\"")?;
            let (want_crv, len, ecdh) = match alg {
                Alg::ES256 => ("P-256", 32, &agreement::ECDH_P256),
                _ => ("P-384", 48, &agreement::ECDH_P384),
            };
            if crv != want_crv {
                return Err(format!("{whose} {alg} needs \"crv\" {want_crv:?}, but the key has {crv:?}"));
            }
            let x = b64_member(o, "x")?;
            let y = b64_member(o, "y")?;
            if x.len() != len || y.len() != len {
                return Err(format!("{crv} coordinates must be {len} bytes each"));
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            if !on_curve(ecdh, &point) {
                return Err(format!("the point (x, y) is not on {crv}"));
            }
            fp.field(&point);
            Material::Ec(point.into())
        }
        Family::Okp => {
            let crv = str_member(o, "crv")?.ok_or("missing \"crv\"")?;
            if crv != "Ed25519" {
                return Err(format!("{whose} EdDSA is supported with \"crv\" \"Ed25519\" only, not {crv:?}"));
            }
            let x = b64_member(o, "x")?;
            let x: [u8; 32] = x.as_slice().try_into().map_err(|_| "Ed25519 \"x\" must be 32 bytes".to_string())?;
            if has_small_order(&x) {
                return Err("Ed25519 \"x\" is a point of small order (anyone could sign for it)".into());
            }
            if !super::edwards::is_point(&x) {
                return Err("Ed25519 \"x\" does not encode a point of the curve (RFC 8032 §5.1.3)".into());
            }
            fp.field(&x);
            Material::Ed25519(x)
        }
    };
    let mut fingerprint = [0u8; 32];
    fingerprint.copy_from_slice(fp.0.finish().as_ref());
    Ok(Key { alg, kid, usable, material, fingerprint, bits })
}

/// Do the key's `use` and `key_ops` allow verifying signatures (both
/// absent: yes)? A key that says otherwise is loaded but never used.
pub(crate) fn for_verifying(o: &serde_json::Map<String, Value>) -> Result<bool, String> {
    let mut usable = true;
    if let Some(u) = str_member(o, "use")? {
        usable &= u == "sig";
    }
    match o.get("key_ops") {
        None => {}
        Some(Value::Array(ops)) => {
            let mut verify = false;
            for op in ops {
                match op.as_str() {
                    Some(s) => verify |= s == "verify",
                    None => return Err("\"key_ops\" must be an array of strings".into()),
                }
            }
            usable &= verify;
        }
        Some(other) => return Err(format!("\"key_ops\" must be an array of strings, not {}", json_type(other))),
    }
    Ok(usable)
}

/// A SHA-256 over length-prefixed fields.
struct Fingerprint(digest::Context);

impl Fingerprint {
    fn field(&mut self, b: &[u8]) {
        self.0.update(&(b.len() as u64).to_le_bytes());
        self.0.update(b);
    }
}

/// The encodings of the eight points of order 1, 2, 4 or 8 on Ed25519
/// (y little-endian, the sign bit of x masked off, non-canonical y = p and
/// p + 1 included). For such a public key A, [k]A takes at most eight
/// values whatever the message, so a forger picks R among them with S = 0
/// (R = identity, S = 0 signs every message for the identity key); ring's
/// verify does not refuse these keys.
const ED25519_SMALL_ORDER: [[u8; 32]; 7] = {
    let mut t = [[0u8; 32]; 7];
    // 0 (order 4) is all zeros; 1 (the identity).
    t[1][0] = 1;
    // p - 1 (order 2), p (0 again, order 4), p + 1 (1 again).
    let mut i = 2;
    while i < 5 {
        let mut j = 1;
        while j < 31 {
            t[i][j] = 0xff;
            j += 1;
        }
        t[i][0] = 0xec + (i as u8 - 2);
        t[i][31] = 0x7f;
        i += 1;
    }
    // The two of order 8.
    t[5] = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf,
        0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
    ];
    t[6] = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20,
        0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
    ];
    t
};

fn has_small_order(x: &[u8; 32]) -> bool {
    let mut a = *x;
    a[31] &= 0x7f;
    ED25519_SMALL_ORDER.contains(&a)
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[i..]
}

fn bit_len(b: &[u8]) -> u32 {
    match b.first() {
        None => 0,
        Some(&top) => (b.len() as u32 - 1) * 8 + (8 - top.leading_zeros()),
    }
}

/// Is `point` (SEC1 uncompressed) on the curve? ring validates a peer's
/// public point fully before an ECDH agreement (on the curve, not the point at
/// infinity, coordinates below p), so an agreement with a throw-away private
/// key is a validation ring already implements and tests.
///
/// An agreement costs tens of microseconds (a millisecond for P-384), and the
/// same keys come back with every JWKS refresh and `set_jwks` call, so points
/// that passed are remembered by digest and not checked again.
fn on_curve(alg: &'static agreement::Algorithm, point: &[u8]) -> bool {
    // The point fixes its curve (its length differs per curve), so the
    // digest of the point alone names what was validated.
    let id: [u8; 32] = digest::digest(&digest::SHA256, point).as_ref().try_into().expect("32 bytes");
    let known = || VALID_POINTS.lock().unwrap_or_else(|e| e.into_inner());
    if known().contains(&id) {
        return true;
    }
    if !agree(alg, point) {
        return false;
    }
    let mut set = known();
    if set.len() >= MAX_VALID_POINTS {
        set.clear();
    }
    set.insert(id);
    true
}

/// Points validated in this process (see `on_curve`); bounded, emptied when full.
static VALID_POINTS: std::sync::Mutex<std::collections::BTreeSet<[u8; 32]>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());
const MAX_VALID_POINTS: usize = 4096;

#[cfg(test)]
thread_local! {
    /// Agreements run on this thread (tests run on threads of their own).
    static AGREEMENTS: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

fn agree(alg: &'static agreement::Algorithm, point: &[u8]) -> bool {
    #[cfg(test)]
    AGREEMENTS.with(|n| n.set(n.get() + 1));
    let rng = ring::rand::SystemRandom::new();
    let Ok(private) = agreement::EphemeralPrivateKey::generate(alg, &rng) else {
        return false;
    };
    agreement::agree_ephemeral(private, &agreement::UnparsedPublicKey::new(alg, point), |_| ()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const P256_X: &str = "7TZBqmx2Dgc5bkVabSFaqFMCnteFKghsoo6Qdg76Z1Y";
    const P256_Y: &str = "ZbpcXOdREz9H24qi65ECRWG-qeGKuFI4gzSgipGKh3c";

    #[test]
    fn curve_checks_are_remembered_for_good_points_only() {
        let good = json!({"kty":"EC","crv":"P-256","alg":"ES256","x":P256_X,"y":P256_Y});
        let bad = json!({"kty":"EC","crv":"P-256","alg":"ES256","x":P256_X,"y":P256_X});
        let agreements = || AGREEMENTS.with(|n| n.get());
        parse_jwk(&good).unwrap();
        let before = agreements();
        for _ in 0..3 {
            parse_jwk(&good).unwrap();
        }
        assert_eq!(agreements(), before, "a validated point is not checked again");
        for i in 1..=3 {
            assert!(err(bad.clone()).contains("not on"));
            assert_eq!(agreements(), before + i, "a refused point is checked every time");
        }
    }

    fn err(v: Value) -> String {
        parse_jwk(&v).unwrap_err()
    }

    fn b64(b: &[u8]) -> String {
        crate::b64::encode(&crate::b64::URL, b)
    }

    #[test]
    fn ed25519_x_must_encode_a_point() {
        // Not a point (worked out in Python, see keys::edwards), and a
        // non-canonical y: both used to load and fail every token.
        for h in [
            "2a04853c676297f49960af089e606d3f5ebaed8958ee04100851e410f3f575e9",
            "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        ] {
            let x: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap()).collect();
            let e = err(json!({"kty":"OKP","crv":"Ed25519","alg":"EdDSA","x":b64(&x)}));
            assert!(e.contains("does not encode a point"), "{h}: {e}");
        }
    }

    #[test]
    fn ed25519_keys_of_small_order_are_refused() {
        // Worked out independently (Python, Edwards arithmetic): the points
        // P with [8]P = identity, every encoding of them.
        let small = [
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0000000000000000000000000000000000000000000000000000000000000080",
            "0100000000000000000000000000000000000000000000000000000000000000",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        ];
        let hex = |h: &str| (0..32).map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap()).collect::<Vec<u8>>();
        for h in small {
            let mut x = hex(h);
            for sign in [0, 0x80] {
                x[31] = (x[31] & 0x7f) | sign;
                let e = err(json!({"kty":"OKP","crv":"Ed25519","alg":"EdDSA","x":b64(&x)}));
                assert!(e.contains("small order"), "{h} with sign {sign:#x}: {e}");
            }
        }
        // RFC 8037 A.2's public key loads.
        parse_jwk(
            &json!({"kty":"OKP","crv":"Ed25519","alg":"EdDSA","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
        )
        .unwrap();
    }

    #[test]
    fn fingerprints_tell_apart_keys_whose_fields_run_together() {
        // n = N‖0‖X with e = 3, against n = N with e = X‖0‖3: the same bytes
        // in a row, two keys.
        let big: Vec<u8> = std::iter::once(0xc5).chain((0..255).map(|i| (i * 7 + 1) as u8)).collect();
        let n1: Vec<u8> = big.iter().copied().chain([0, 0x11]).collect();
        let k1 = parse_jwk(&json!({"kty":"RSA","alg":"RS256","kid":"a","n":b64(&n1),"e":b64(&[3])})).unwrap();
        let k2 = parse_jwk(&json!({"kty":"RSA","alg":"RS256","kid":"a","n":b64(&big),"e":b64(&[0x11, 0, 3])})).unwrap();
        assert_ne!(k1.fingerprint, k2.fingerprint);
        // Likewise a kid that runs into the key.
        let hs = |kid: &str, k: &[u8]| parse_jwk(&json!({"kty":"oct","alg":"HS256","kid":kid,"k":b64(k)})).unwrap();
        let k = [7u8; 40];
        let mut k_longer = vec![0u8];
        k_longer.extend_from_slice(&k);
        assert_ne!(hs("a", &k_longer).fingerprint, hs("a\u{0}", &k).fingerprint);
        assert_eq!(hs("a", &k).fingerprint, hs("a", &k).fingerprint);
    }

    #[test]
    fn pins_and_fits() {
        let k = parse_jwk(&json!({"kty":"EC","crv":"P-256","alg":"ES256","kid":"a","x":P256_X,"y":P256_Y})).unwrap();
        assert_eq!(k.alg(), Alg::ES256);
        assert_eq!(k.kid(), Some("a"));
        assert!(k.usable());
        assert!(err(json!({"kty":"EC","crv":"P-256","x":P256_X,"y":P256_Y})).contains("missing \"alg\""));
        assert!(err(json!({"kty":"EC","crv":"P-256","alg":"ES384","x":P256_X,"y":P256_Y})).contains("P-384"));
        assert!(err(json!({"kty":"EC","crv":"P-256","alg":"none","x":P256_X,"y":P256_Y})).contains("unsupported"));
        assert!(err(json!({"kty":"EC","crv":"P-256","alg":"HS256","x":P256_X,"y":P256_Y})).contains("\"oct\""));
        assert!(err(json!({"kty":"EC","crv":"P-256","alg":"ES256","x":P256_X,"y":P256_Y,"d":"AA"})).contains("private"));
        assert!(err(json!({"kty":"EC","crv":"P-256","alg":"ES256","x":P256_X,"y":P256_X})).contains("not on"));
        assert!(err(json!({"kty":"EC","crv":"P-256","alg":"ES256","kid":5,"x":P256_X,"y":P256_Y})).contains("string"));
        assert!(err(json!({"kty":"OKP","crv":"Ed448","alg":"EdDSA","x":"AA"})).contains("Ed25519"));
        assert!(err(json!([])).contains("object"));
    }

    #[test]
    fn unusable_keys_load() {
        let base = json!({"kty":"oct","alg":"HS256","k":"5VBNTDmpHioeBEX_Pkd8O3W-iQu0PvMd9Mqw_VyVPIc"});
        let with = |k: &str, v: Value| {
            let mut o = base.clone();
            o[k] = v;
            parse_jwk(&o)
        };
        assert!(!with("use", json!("enc")).unwrap().usable());
        assert!(with("use", json!("sig")).unwrap().usable());
        assert!(!with("key_ops", json!(["sign"])).unwrap().usable());
        assert!(with("key_ops", json!(["sign", "verify"])).unwrap().usable());
        assert!(with("key_ops", json!("verify")).is_err());
        assert!(with("key_ops", json!([1])).is_err());
        assert!(with("use", json!(1)).is_err());
    }

    #[test]
    fn weak_secrets_and_rsa_refused() {
        assert!(err(json!({"kty":"oct","alg":"HS256","k":"AAAA"})).contains("at least 32"));
        let n = b64::encode(&b64::URL, &[0xc3; 128]);
        assert!(err(json!({"kty":"RSA","alg":"RS256","n":n,"e":"AQAB"})).contains("1024 bits"));
        let n = b64::encode(&b64::URL, &[0xc3; 256]);
        assert!(parse_jwk(&json!({"kty":"RSA","alg":"RS256","n":n,"e":"AQAB"})).is_ok());
        for e in ["AQ", "Ag", "BA", "", "AAE"] {
            assert!(err(json!({"kty":"RSA","alg":"RS256","n":n,"e":e})).contains("exponent"), "e={e}");
        }
        assert!(parse_jwk(&json!({"kty":"RSA","alg":"PS256","n":n,"e":"Aw"})).is_ok());
        assert!(err(json!({"kty":"RSA","alg":"RS256","n":"AA==","e":"AQAB"})).contains("base64url"));
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_len(&[]), 0);
        assert_eq!(bit_len(&[1]), 1);
        assert_eq!(bit_len(&[0x80, 0]), 16);
        assert_eq!(strip_zeros(&[0, 0, 1]), &[1]);
    }
}
