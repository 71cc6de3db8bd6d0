//! Property tests (proptest).
//!
//! * Valid credentials from the shared vectors (HS256, ES256, EdDSA and RS256
//!   tokens, an API key), mutated — one bit flipped, a byte inserted or
//!   changed, truncated, a suffix dropped, segments swapped or duplicated —
//!   are always rejected, directly and through `Authorization: Bearer`.
//! * `warden::b64` agrees with a hand-written reference decoder
//!   (`fuzz/src/refimpl.rs`, written from RFC 4648) on arbitrary strings, and
//!   round-trips arbitrary bytes.
//! * `warden::json` agrees with the hand-written strict reference parser
//!   exactly, and with serde_json except where warden is deliberately
//!   stricter: nesting deeper than `json::MAX_DEPTH` (serde_json allows 128).
//!   (serde_json also refuses numbers beyond a double and unpaired
//!   surrogates, as warden does; duplicate members are a JWT-level rule, not
//!   the scanner's, so both accept them here.)
//! * A JWT's `scope` claim gives the scopes `str::split(' ')` gives, empty
//!   parts dropped, escaped spaces included.

mod common;

#[allow(dead_code)]
#[path = "../fuzz/src/refimpl.rs"]
mod refimpl;

use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;
use warden::{Scratch, Verifier};

/// A vector file's config as a verifier, and the named case's credential and time.
struct Valid {
    verifier: Verifier,
    cred: Vec<u8>,
    now: f64,
}

fn load(file: &str, case: &str, member: &str) -> Valid {
    let path = common::vectors_dir().join(file);
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let c = doc["cases"].as_array().unwrap().iter().find(|c| c["name"] == case).unwrap_or_else(|| panic!("{case}"));
    assert_eq!(c["expect"], "ok");
    let verifier = Verifier::from_json(doc["config"].to_string().as_bytes()).unwrap();
    let v = Valid { verifier, cred: c[member].as_str().unwrap().as_bytes().to_vec(), now: c["now"].as_f64().unwrap() };
    let mut s = Scratch::new();
    let ok = match member {
        "jwt" => v.verifier.verify_jwt(&v.cred, v.now, &mut s).is_ok(),
        _ => v.verifier.verify_api_key(&v.cred, v.now, &mut s).is_ok(),
    };
    assert!(ok, "{file} / {case} must verify");
    v
}

fn tokens() -> &'static [Valid] {
    static T: OnceLock<Vec<Valid>> = OnceLock::new();
    T.get_or_init(|| {
        vec![
            load("jwt_hs.json", "HS256 valid", "jwt"),
            load("jwt_ec.json", "ES256 valid", "jwt"),
            load("jwt_eddsa.json", "EdDSA valid", "jwt"),
            load("jwt_rsa.json", "RS256 valid (2048-bit key)", "jwt"),
        ]
    })
}

fn api_key() -> &'static Valid {
    static K: OnceLock<Valid> = OnceLock::new();
    K.get_or_init(|| load("api_keys.json", "wk_live key inside its window", "api_key"))
}

/// A changed token must be rejected, directly and as a Bearer credential.
fn assert_token_rejected(t: &Valid, mutated: &[u8]) -> Result<(), TestCaseError> {
    if mutated == t.cred.as_slice() {
        return Ok(());
    }
    let mut s = Scratch::new();
    let direct = t.verifier.verify_jwt(mutated, t.now, &mut s);
    prop_assert!(direct.is_err(), "accepted a mutated token: {:?}", String::from_utf8_lossy(mutated));
    let mut h = b"Bearer ".to_vec();
    h.extend_from_slice(mutated);
    let bearer = t.verifier.verify_authorization(&h, t.now, &mut s);
    prop_assert!(bearer.is_err(), "accepted a mutated Bearer token: {:?}", String::from_utf8_lossy(mutated));
    Ok(())
}

fn segments(t: &[u8]) -> Vec<Vec<u8>> {
    t.split(|&b| b == b'.').map(<[u8]>::to_vec).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn bit_flips_of_valid_tokens_are_rejected(which in 0usize..4, pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let t = &tokens()[which];
        let mut m = t.cred.clone();
        let i = pos.index(m.len());
        m[i] ^= 1 << bit;
        assert_token_rejected(t, &m)?;
    }

    #[test]
    fn byte_changes_and_insertions_are_rejected(which in 0usize..4, pos in any::<prop::sample::Index>(), b in any::<u8>(), insert in any::<bool>()) {
        let t = &tokens()[which];
        let mut m = t.cred.clone();
        let i = pos.index(m.len());
        if insert { m.insert(i, b) } else { m[i] = b }
        assert_token_rejected(t, &m)?;
    }

    #[test]
    fn truncations_are_rejected(which in 0usize..4, cut in any::<prop::sample::Index>(), from_front in any::<bool>()) {
        let t = &tokens()[which];
        let n = cut.index(t.cred.len());
        let m = if from_front { &t.cred[n + 1..] } else { &t.cred[..n] };
        assert_token_rejected(t, m)?;
    }

    #[test]
    fn segment_swaps_and_duplicates_are_rejected(which in 0usize..4, perm in prop::collection::vec(0usize..3, 1..6)) {
        let t = &tokens()[which];
        let segs = segments(&t.cred);
        let m: Vec<Vec<u8>> = perm.iter().map(|&i| segs[i].clone()).collect();
        assert_token_rejected(t, &m.join(&b'.'))?;
    }

    /// Transplants: one segment of a valid token replaced by the same segment
    /// of another valid token (signature from another alg, payload from
    /// another issuer's token).
    #[test]
    fn transplanted_segments_are_rejected(a in 0usize..4, b in 0usize..4, seg in 0usize..3) {
        prop_assume!(a != b);
        let (ta, tb) = (&tokens()[a], &tokens()[b]);
        let mut segs = segments(&ta.cred);
        segs[seg] = segments(&tb.cred)[seg].clone();
        assert_token_rejected(ta, &segs.join(&b'.'))?;
    }

    #[test]
    fn mutated_api_keys_are_rejected(pos in any::<prop::sample::Index>(), bit in 0u8..8, cut in any::<prop::sample::Index>(), mode in 0u8..3) {
        let k = api_key();
        let mut m = k.cred.clone();
        match mode {
            0 => { let i = pos.index(m.len()); m[i] ^= 1 << bit; }
            1 => m.truncate(cut.index(m.len())),
            _ => { let (i, j) = (pos.index(m.len()), cut.index(m.len())); m.swap(i, j); }
        }
        prop_assume!(m != k.cred);
        let mut s = Scratch::new();
        prop_assert!(k.verifier.verify_api_key(&m, k.now, &mut s).is_err(), "accepted {:?}", String::from_utf8_lossy(&m));
        let mut h = b"Bearer ".to_vec();
        h.extend_from_slice(&m);
        prop_assert!(k.verifier.verify_authorization(&h, k.now, &mut s).is_err());
    }
}

// ------------------------------------------------------------------ base64

fn warden_url(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    warden::b64::decode_url_append(s, &mut out).map(|r| out[r].to_vec())
}

fn warden_std_padded(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    warden::b64::decode_append(&warden::b64::STD_PADDED, s, &mut out).map(|r| out[r].to_vec())
}

/// Strings mostly from the base64 alphabets, with the characters that make
/// decoders disagree: padding, the other alphabet, whitespace, NUL, `*`.
fn b64ish() -> impl Strategy<Value = Vec<u8>> {
    let c = prop_oneof![
        8 => prop::sample::select(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".to_vec()),
        2 => prop::sample::select(b"-_+/=".to_vec()),
        1 => prop::sample::select(b" *\n\0.\xff".to_vec()),
    ];
    prop::collection::vec(c, 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn base64url_agrees_with_the_reference(s in b64ish()) {
        prop_assert_eq!(warden_url(&s), refimpl::b64url(&s), "input {:?}", String::from_utf8_lossy(&s));
    }

    #[test]
    fn base64_padded_agrees_with_the_reference(s in b64ish()) {
        prop_assert_eq!(warden_std_padded(&s), refimpl::b64std_padded(&s), "input {:?}", String::from_utf8_lossy(&s));
    }

    #[test]
    fn base64_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let url = refimpl::b64url_encode(&bytes);
        prop_assert_eq!(warden_url(url.as_bytes()), Some(bytes.clone()));
        prop_assert_eq!(warden::b64::encode(&warden::b64::URL, &bytes), url);
        let std = refimpl::b64std_encode(&bytes);
        prop_assert_eq!(warden_std_padded(std.as_bytes()), Some(bytes));
    }
}

// -------------------------------------------------------------------- JSON

/// JSON-ish text: real JSON values rendered with random whitespace and
/// escapes, then possibly damaged by one edit.
fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        prop::sample::select(vec![
            "0",
            "-0",
            "1",
            "-1.5",
            "1e3",
            "1E-3",
            "2.5e+10",
            "1e308",
            "1e309",
            "-1e400",
            "123456789012345678901234567890",
            "01",
            "1.",
            ".5",
            "+1",
            "1e",
            "NaN",
            "Infinity",
            "0x10",
        ])
        .prop_map(str::to_string),
        prop::collection::vec(
            prop_oneof![
                4 => prop::sample::select(vec!["a", "b", "é", "😀", " ", "/"]).prop_map(str::to_string),
                1 => prop::sample::select(vec![
                    "\\\"", "\\\\", "\\/", "\\n", "\\u0041", "\\u00e9", "\\ud83d\\ude00", "\\ud800", "\\udc00",
                    "\\ud800\\u0041", "\\x", "\\u12", "\u{1}", "\t",
                ])
                .prop_map(str::to_string),
            ],
            0..5,
        )
        .prop_map(|parts| format!("\"{}\"", parts.concat())),
    ];
    leaf.prop_recursive(6, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((prop::sample::select(vec!["a", "b", "alg", "a\\u0062", "ab"]), inner), 0..5)
                .prop_map(|m| format!(
                    "{{{}}}",
                    m.iter().map(|(k, v)| format!("\"{k}\" : {v}")).collect::<Vec<_>>().join(" ,\n")
                )),
        ]
    })
}

fn json_text() -> impl Strategy<Value = Vec<u8>> {
    (
        json_value(),
        0u8..8,
        any::<prop::sample::Index>(),
        prop::sample::select(b"{}[],:\" \\\xef\xbb\xbf0e-/*".to_vec()),
        0usize..80,
    )
        .prop_map(|(v, edit, at, c, depth)| {
            let mut b = v.into_bytes();
            let i = at.index(b.len() + 1);
            match edit {
                0 => b.insert(i, c),
                1 if i < b.len() => {
                    b.remove(i);
                }
                2 => {
                    b = format!("{}{}{}", "[".repeat(depth), String::from_utf8_lossy(&b), "]".repeat(depth))
                        .into_bytes()
                }
                3 => b.extend_from_slice(b" x"),
                _ => {}
            }
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Exact agreement with the reference parser (depth bound included).
    #[test]
    fn json_validity_agrees_with_the_reference(doc in json_text()) {
        let warden_ok = warden::json::validate(&doc).is_ok();
        let ref_ok = refimpl::parse_json(&doc, warden::json::MAX_DEPTH).is_some();
        prop_assert_eq!(warden_ok, ref_ok, "doc {:?}", String::from_utf8_lossy(&doc));
    }

    /// Agreement with serde_json, outside the one place warden is stricter.
    #[test]
    fn json_validity_agrees_with_serde_json(doc in json_text()) {
        let warden_ok = warden::json::validate(&doc).is_ok();
        let serde_ok = serde_json::from_slice::<Value>(&doc).is_ok();
        let deep = refimpl::parse_json(&doc, 1000).is_some() && refimpl::parse_json(&doc, warden::json::MAX_DEPTH).is_none();
        if deep {
            prop_assert!(!warden_ok);
        } else {
            prop_assert_eq!(warden_ok, serde_ok, "doc {:?}", String::from_utf8_lossy(&doc));
        }
    }

    /// Objects: `for_each_member` sees exactly the members serde_json sees
    /// (names compared after unescaping, in order, duplicates included).
    #[test]
    fn object_members_agree_with_the_reference(doc in json_value().prop_map(|v| format!("{{\"k\":{v},\"z\" : 1}}"))) {
        let mut names = Vec::new();
        let r = warden::json::for_each_member(doc.as_bytes(), |k, _| {
            names.push(String::from_utf8(k.decoded().collect()).unwrap());
            Ok(())
        });
        match refimpl::parse_json(doc.as_bytes(), warden::json::MAX_DEPTH) {
            Some(refimpl::J::Obj(m)) => {
                prop_assert!(r.is_ok());
                prop_assert_eq!(names, m.into_iter().map(|(k, _)| k).collect::<Vec<_>>());
            }
            _ => prop_assert!(r.is_err(), "doc {:?}", doc),
        }
    }
}

/// Which claim gives the scopes: `scope` when it is a string (RFC 8693
/// §4.2), else `scp`, split the same way when it is a string (Microsoft
/// Entra ID) or its string items when it is an array (Okta).
#[test]
fn scope_then_scp_string_or_array() {
    let (v, k) = minted();
    let cases: [(&str, &[&str]); 7] = [
        (r#""scope":"a b","scp":"c d""#, &["a", "b"]),
        (r#""scope":"a b","scp":["c"]"#, &["a", "b"]),
        (r#""scope":7,"scp":"User.Read  Files.Read ""#, &["User.Read", "Files.Read"]),
        (r#""scp":"User.Read""#, &["User.Read"]),
        (r#""scp":["p",1,"q"]"#, &["p", "q"]),
        (r#""scp":7"#, &[]),
        (r#""scp":"""#, &[]),
    ];
    for (members, want) in cases {
        let payload = format!(r#"{{"sub":"s","exp":4102444800,{members}}}"#);
        let token = k.sign_text(r#"{"alg":"HS256","kid":"k"}"#, &payload);
        let mut s = Scratch::new();
        let got: Vec<String> =
            v.verify_jwt(token.as_bytes(), 1.0e9, &mut s).unwrap().scopes().map(String::from).collect();
        assert_eq!(got, want, "{members}");
    }
}

/// An HS256 verifier and its key, for tokens minted here.
fn minted() -> &'static (Verifier, common::mint::TestKey) {
    static M: OnceLock<(Verifier, common::mint::TestKey)> = OnceLock::new();
    M.get_or_init(|| {
        let k = common::mint::TestKey::hs256("k");
        let cfg = serde_json::json!({"jwt": {"jwks": common::mint::jwks(&[&k])}});
        (Verifier::from_json(cfg.to_string().as_bytes()).unwrap(), k)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A `scope` claim is split on spaces with empty parts dropped (runs of
    /// spaces, at either end, words around the eight-byte steps of the
    /// search), after its escapes are decoded (`\u0020` is a space too).
    #[test]
    fn scope_splits_on_spaces(
        parts in prop::collection::vec(("[a-z:]{0,17}", 0usize..3, any::<bool>()), 0..8),
        member in prop::sample::select(vec!["scope", "scp"]),
    ) {
        let (v, k) = minted();
        let mut scope = String::new();
        let mut json_scope = String::new();
        for (word, spaces, escaped) in &parts {
            scope.push_str(word);
            json_scope.push_str(word);
            for _ in 0..*spaces {
                scope.push(' ');
                json_scope.push_str(if *escaped { "\\u0020" } else { " " });
            }
        }
        let payload = format!(r#"{{"sub":"s","exp":4102444800,"{member}":"{json_scope}"}}"#);
        let token = k.sign(&serde_json::from_str(&payload).unwrap());
        let mut s = Scratch::new();
        let got: Vec<String> = v.verify_jwt(token.as_bytes(), 1.0e9, &mut s).unwrap().scopes().map(String::from).collect();
        let want: Vec<String> = scope.split(' ').filter(|p| !p.is_empty()).map(String::from).collect();
        prop_assert_eq!(got, want);
    }
}
