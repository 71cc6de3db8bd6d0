//! Run-time behaviour: reloads, key-set swaps, revocation, caches, stats and
//! rate limits — alone and under concurrency.

mod common;

use common::mint::{jwks, TestKey};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use warden::{Code, Counter, Kind, Scratch, Target, Verifier, PRUNE_GRACE_S};

const NOW: f64 = 1_750_000_000.0;

fn claims(sub: &str, jti: &str) -> Value {
    json!({"sub": sub, "jti": jti, "iat": NOW - 10.0, "exp": NOW + 3600.0})
}

fn config(keys: &[&TestKey], extra: Value) -> Vec<u8> {
    let mut c = json!({"jwt": {"jwks": jwks(keys)}});
    if let Value::Object(m) = extra {
        for (k, v) in m {
            c[k] = v;
        }
    }
    serde_json::to_vec(&c).unwrap()
}

fn code(v: &Verifier, token: &str, now: f64) -> Code {
    let mut s = Scratch::new();
    v.verify_jwt(token.as_bytes(), now, &mut s).map(|_| Code::Ok).unwrap_or_else(|r| r.code)
}

#[test]
fn failed_reload_keeps_the_old_snapshot_and_names_the_problem() {
    let k = TestKey::es256("k1");
    let dir = std::env::temp_dir().join(format!("warden-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("warden.json");
    std::fs::write(&path, config(&[&k], json!({}))).unwrap();
    let v = Verifier::from_file(&path).unwrap();
    let t = k.sign(&claims("a", "j1"));
    assert_eq!(code(&v, &t, NOW), Code::Ok);

    std::fs::write(&path, br#"{"jwt": {"leeway": 30}}"#).unwrap();
    let e = v.reload().unwrap_err();
    assert!(e.to_string().contains("warden.json") && e.at == "jwt.leeway", "{e}");
    assert_eq!(code(&v, &t, NOW), Code::Ok, "old snapshot still serving");

    std::fs::write(&path, b"{\"jwt\": ").unwrap();
    let e = v.reload().unwrap_err();
    assert!(e.at.starts_with("line 1"), "{e}");
    std::fs::remove_file(&path).unwrap();
    assert!(v.reload().unwrap_err().message.contains("cannot read"));
    assert_eq!(code(&v, &t, NOW), Code::Ok);

    let k2 = TestKey::eddsa("k2");
    std::fs::write(&path, config(&[&k2], json!({}))).unwrap();
    v.reload().unwrap();
    assert_eq!(code(&v, &t, NOW), Code::UnsupportedAlg, "old key gone");
    assert_eq!(code(&v, &k2.sign(&claims("a", "j")), NOW), Code::Ok);
    let st = v.stats();
    assert_eq!(st.counter(Counter::Reload), 1);
    assert_eq!(st.counter(Counter::ReloadFailure), 3);
}

#[test]
fn set_jwks_swaps_keys_and_refuses_bad_sets() {
    let old = TestKey::es256("old");
    let new = TestKey::es256("new");
    let v =
        Verifier::from_json(&config(&[&old], json!({"jwt": {"jwks": jwks(&[&old]), "audience": ["api"]}}))).unwrap();
    let c = json!({"sub": "s", "aud": "api", "exp": NOW + 60.0});
    let (to, tn) = (old.sign(&c), new.sign(&c));
    assert_eq!(code(&v, &to, NOW), Code::Ok);
    assert_eq!(code(&v, &tn, NOW), Code::UnknownKey);
    v.set_jwks(jwks(&[&old, &new]).to_string().as_bytes()).unwrap();
    assert_eq!(code(&v, &to, NOW), Code::Ok);
    assert_eq!(code(&v, &tn, NOW), Code::Ok, "policy (audience) kept across the swap");
    v.set_jwks(jwks(&[&new]).to_string().as_bytes()).unwrap();
    assert_eq!(code(&v, &to, NOW), Code::UnknownKey, "a removed key stops verifying, cache or not");
    let bad = json!({"keys": [{"kty": "oct", "alg": "HS256", "k": "c2hvcnQ"}]}).to_string();
    let e = v.set_jwks(bad.as_bytes()).unwrap_err();
    assert!(e.at.starts_with("jwks.keys[0]"), "{e}");
    assert!(v.set_jwks(b"not json").is_err());
    assert_eq!(code(&v, &tn, NOW), Code::Ok, "a refused set leaves the old one serving");
}

#[test]
fn token_cache_hits_and_is_invalidated_by_key_changes() {
    let k = TestKey::es256("k");
    let v = Verifier::from_json(&config(&[&k], json!({}))).unwrap();
    let t = k.sign(&claims("a", "j"));
    for _ in 0..3 {
        assert_eq!(code(&v, &t, NOW), Code::Ok);
    }
    let st = v.stats();
    assert_eq!(st.counter(Counter::TokenCacheHit), 2);
    assert_eq!(st.counter(Counter::TokenCacheMiss), 1);
    // A hit still checks time claims and revocation.
    assert_eq!(code(&v, &t, NOW + 7200.0), Code::Expired);
    v.revoke(Target::Jti { jti: "j".into(), until: Some(NOW + 3600.0) }, NOW);
    assert_eq!(code(&v, &t, NOW), Code::Revoked);
    assert!(v.unrevoke(&Target::Jti { jti: "j".into(), until: None }));
    assert_eq!(code(&v, &t, NOW), Code::Ok);
    // Same key re-announced: the entry still counts.
    v.set_jwks(jwks(&[&k]).to_string().as_bytes()).unwrap();
    let hits = v.stats().counter(Counter::TokenCacheHit);
    assert_eq!(code(&v, &t, NOW), Code::Ok);
    assert_eq!(v.stats().counter(Counter::TokenCacheHit), hits + 1);
    // Same kid, other key material: the cached verification must not count.
    let impostor = TestKey::es256("k");
    v.set_jwks(jwks(&[&impostor]).to_string().as_bytes()).unwrap();
    assert_eq!(code(&v, &t, NOW), Code::BadSignature);
    // A disabled cache never hits.
    let off = Verifier::from_json(&config(&[&k], json!({"cache": {"tokens": 0}}))).unwrap();
    for _ in 0..3 {
        assert_eq!(code(&off, &t, NOW), Code::Ok);
    }
    assert_eq!(off.stats().counter(Counter::TokenCacheHit), 0);
}

#[test]
fn hmac_tokens_are_cached_too() {
    // A hit costs a fraction of an HMAC over a realistic token, and is as
    // sound: the whole token is compared, and the key that verified it must
    // still be a candidate.
    let k = TestKey::hs256("h");
    let v = Verifier::from_json(&config(&[&k], json!({}))).unwrap();
    let t = k.sign(&claims("a", "j"));
    for _ in 0..3 {
        assert_eq!(code(&v, &t, NOW), Code::Ok);
    }
    let st = v.stats();
    assert_eq!(st.counter(Counter::TokenCacheHit), 2);
    assert_eq!(st.counter(Counter::TokenCacheMiss), 1);
    assert_eq!(st.verdicts(Kind::Jwt, Code::Ok), 3);
    assert_eq!(code(&v, &t, NOW + 7200.0), Code::Expired);
    // Same kid, another secret: the cached verification must not count.
    let other_secret = "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVU"; // 32 bytes of 0x55
    let impostor = json!({"keys": [{"kty": "oct", "alg": "HS256", "kid": "h", "k": other_secret}]});
    v.set_jwks(impostor.to_string().as_bytes()).unwrap();
    assert_eq!(code(&v, &t, NOW), Code::BadSignature);
    // A token differing from the cached one in its last signature bit.
    let v = Verifier::from_json(&config(&[&k], json!({}))).unwrap();
    assert_eq!(code(&v, &t, NOW), Code::Ok);
    let mut forged = t.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'Q' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(code(&v, &forged, NOW), Code::BadSignature);
}

#[test]
fn a_token_cache_of_two_keeps_two_tokens_in_turn() {
    // Two entries are one bucket: every token lands in it. Two tokens in
    // turn both stay; a third replaces the one used least recently.
    let k = TestKey::es256("k");
    let v = Verifier::from_json(&config(&[&k], json!({"cache": {"tokens": 2}}))).unwrap();
    let (a, b, c) = (k.sign(&claims("a", "1")), k.sign(&claims("b", "2")), k.sign(&claims("c", "3")));
    let counts = || (v.stats().counter(Counter::TokenCacheHit), v.stats().counter(Counter::TokenCacheMiss));
    for _ in 0..3 {
        assert_eq!(code(&v, &a, NOW), Code::Ok);
        assert_eq!(code(&v, &b, NOW), Code::Ok);
    }
    assert_eq!(counts(), (4, 2));
    assert_eq!(code(&v, &c, NOW), Code::Ok); // replaces `a`
    assert_eq!(code(&v, &b, NOW), Code::Ok);
    assert_eq!(counts(), (5, 3));
    assert_eq!(code(&v, &a, NOW), Code::Ok); // replaces `c`
    assert_eq!(code(&v, &b, NOW), Code::Ok);
    assert_eq!(counts(), (6, 4));
}

#[test]
fn revocations_and_caches_outlive_reloads_and_key_swaps() {
    // A verification reads one view (snapshot, caches, run-time revocations)
    // swapped as a whole: each writer must carry the parts it does not change.
    let k = TestKey::es256("k");
    let v = Verifier::from_json(&config(&[&k], json!({}))).unwrap();
    let t = k.sign(&claims("a", "j"));
    assert_eq!(code(&v, &t, NOW), Code::Ok);
    v.revoke(Target::Jti { jti: "j".into(), until: None }, NOW);
    v.reload_from_json(&config(&[&k], json!({}))).unwrap();
    assert_eq!(code(&v, &t, NOW), Code::Revoked, "kept across a reload");
    v.set_jwks(jwks(&[&k]).to_string().as_bytes()).unwrap();
    assert_eq!(code(&v, &t, NOW), Code::Revoked, "kept across a key-set swap");
    v.reload_from_json(&config(&[&k], json!({"cache": {"tokens": 0}}))).unwrap();
    assert_eq!(code(&v, &t, NOW), Code::Revoked, "kept across a cache resize");
    assert!(v.unrevoke(&Target::Jti { jti: "j".into(), until: None }));

    // Same sizes: the entries stay (the signature is not checked again).
    let v = Verifier::from_json(&config(&[&k], json!({}))).unwrap();
    assert_eq!(code(&v, &t, NOW), Code::Ok);
    v.reload_from_json(&config(&[&k], json!({}))).unwrap();
    v.revoke(Target::Jti { jti: "other".into(), until: None }, NOW);
    assert_eq!(code(&v, &t, NOW), Code::Ok);
    assert_eq!(v.stats().counter(Counter::TokenCacheHit), 1, "same-size cache kept");
    // Other sizes: a new cache; off: no hits at all.
    v.reload_from_json(&config(&[&k], json!({"cache": {"tokens": 0}}))).unwrap();
    for _ in 0..2 {
        assert_eq!(code(&v, &t, NOW), Code::Ok);
    }
    assert_eq!(v.stats().counter(Counter::TokenCacheHit), 1, "cache off after the reload");
    v.reload_from_json(&config(&[&k], json!({"cache": {"tokens": 64}}))).unwrap();
    assert_eq!(code(&v, &t, NOW), Code::Ok);
    assert_eq!(v.stats().counter(Counter::TokenCacheHit), 1, "a resized cache starts empty");
    assert_eq!(code(&v, &t, NOW), Code::Ok);
    assert_eq!(v.stats().counter(Counter::TokenCacheHit), 2);
}

#[test]
fn a_reused_scratch_sees_every_change_and_every_verifier() {
    // A scratch keeps the view it last verified with and checks, on each
    // call, that it is still the current one of the verifier at hand.
    let (k1, k2) = (TestKey::es256("k1"), TestKey::eddsa("k2"));
    let (t1, t2) = (k1.sign(&claims("a", "j1")), k2.sign(&claims("b", "j2")));
    let v = Verifier::from_json(&config(&[&k1], json!({}))).unwrap();
    let mut s = Scratch::new();
    let mut code =
        |v: &Verifier, t: &str| v.verify_jwt(t.as_bytes(), NOW, &mut s).map(|_| Code::Ok).unwrap_or_else(|r| r.code);
    assert_eq!(code(&v, &t1), Code::Ok);
    v.revoke(Target::Jti { jti: "j1".into(), until: None }, NOW);
    assert_eq!(code(&v, &t1), Code::Revoked, "a revocation");
    assert!(v.unrevoke(&Target::Jti { jti: "j1".into(), until: None }));
    assert_eq!(code(&v, &t1), Code::Ok, "an unrevocation");
    v.set_jwks(jwks(&[&k2]).to_string().as_bytes()).unwrap();
    assert_eq!((code(&v, &t1), code(&v, &t2)), (Code::UnsupportedAlg, Code::Ok), "a key-set swap");
    v.reload_from_json(&config(&[&k1], json!({}))).unwrap();
    assert_eq!((code(&v, &t1), code(&v, &t2)), (Code::Ok, Code::UnsupportedAlg), "a reload");
    // Two verifiers that have each published the same number of views, in
    // turn through one scratch: each answers with its own keys.
    let (w1, w2) = (
        Verifier::from_json(&config(&[&k1], json!({}))).unwrap(),
        Verifier::from_json(&config(&[&k2], json!({}))).unwrap(),
    );
    for _ in 0..2 {
        assert_eq!((code(&w1, &t1), code(&w2, &t1)), (Code::Ok, Code::UnsupportedAlg));
        assert_eq!((code(&w2, &t2), code(&w1, &t2)), (Code::Ok, Code::UnsupportedAlg));
    }
    // More verifiers than a scratch keeps states of, in turn and out of
    // turn: each answers with its own keys, and sees a revocation made
    // while the scratch was busy with the others.
    let ws: Vec<Verifier> =
        (0..6).map(|i| Verifier::from_json(&config(&[[&k1, &k2][i % 2]], json!({}))).unwrap()).collect();
    let expect = |i: usize, t: &str| match (i % 2, t == t1) {
        (0, true) | (1, false) => Code::Ok,
        _ => Code::UnsupportedAlg,
    };
    for order in [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [0, 1, 0, 2, 0, 3], [4, 1, 4, 5, 1, 2]] {
        for i in order {
            for t in [&t1, &t2] {
                assert_eq!(code(&ws[i], t), expect(i, t), "verifier {i} in {order:?}");
            }
        }
    }
    ws[2].revoke(Target::Jti { jti: "j1".into(), until: None }, NOW);
    assert_eq!(code(&ws[3], &t2), Code::Ok);
    assert_eq!(code(&ws[2], &t1), Code::Revoked, "revoked while another verifier was in use");
    assert_eq!(code(&ws[0], &t1), Code::Ok, "on that verifier only");
    // A verifier dropped while a scratch still holds its view: the scratch
    // keeps that view alive (nothing dangles) until its next verification.
    drop(w1);
    assert_eq!(code(&w2, &t2), Code::Ok);
}

#[test]
fn every_verdict_is_counted_however_scratches_come_and_go() {
    // Each scratch counts into a shard it owns while it keeps a verifier's
    // state: shards are claimed, given back when the scratch needs the room
    // for a fifth verifier or is dropped, and reused with their counts. No
    // count may be lost on the way, with threads verifying at once.
    let k = TestKey::es256("k");
    let t = k.sign(&claims("a", "j"));
    // More verifiers than a scratch keeps states of: every round evicts.
    let vs: Vec<Arc<Verifier>> =
        (0..5).map(|_| Arc::new(Verifier::from_json(&config(&[&k], json!({}))).unwrap())).collect();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (vs, t) = (vs.clone(), t.clone());
            std::thread::spawn(move || {
                // More scratches alive at once than a verifier has spare shards.
                let mut kept: Vec<Scratch> = (0..12).map(|_| Scratch::new()).collect();
                for round in 0..50 {
                    for s in kept.iter_mut() {
                        for v in &vs {
                            assert!(v.verify_jwt(t.as_bytes(), NOW, s).is_ok());
                            assert_eq!(v.verify_jwt(b"x", NOW, s).unwrap_err().code, Code::Malformed);
                        }
                    }
                    if round % 10 == 0 {
                        kept.pop();
                        kept.push(Scratch::new());
                    }
                }
            })
        })
        .collect();
    for h in threads {
        h.join().unwrap();
    }
    for v in &vs {
        let s = v.stats();
        assert_eq!(s.verdicts(Kind::Jwt, Code::Ok), 4 * 50 * 12);
        assert_eq!(s.verdicts(Kind::Jwt, Code::Malformed), 4 * 50 * 12);
        assert_eq!(s.counter(Counter::TokenCacheHit) + s.counter(Counter::TokenCacheMiss), 4 * 50 * 12);
    }
}

#[test]
fn a_revoked_jti_stays_revoked_through_the_leeway() {
    let k = TestKey::hs256("k");
    let v = Verifier::from_json(&config(&[&k], json!({}))).unwrap();
    v.reload_from_json(&serde_json::to_vec(&json!({"jwt": {"jwks": jwks(&[&k]), "leeway_s": 60}})).unwrap()).unwrap();
    let exp = NOW + 10.0;
    let t = k.sign(&json!({"sub": "s", "jti": "stolen", "exp": exp}));
    v.revoke(Target::Jti { jti: "stolen".into(), until: Some(exp) }, NOW);
    assert_eq!(code(&v, &t, exp + 5.0), Code::Revoked);
    // Another revocation past the token's exp prunes expired entries: this
    // one is still accepted for the leeway, so it stays.
    v.revoke(Target::ApiKeyId("other".into()), exp + 1.0);
    assert_eq!(code(&v, &t, exp + 5.0), Code::Revoked);
    assert_eq!(code(&v, &t, exp + 59.0), Code::Revoked);
    assert_eq!(code(&v, &t, exp + 61.0), Code::Expired);
    // Kept a grace period longer: a reload may raise the leeway, and the
    // token is then accepted again; its revocation must still be there (an
    // audit found it pruned, and the token passed).
    v.revoke(Target::ApiKeyId("another".into()), exp + 61.0);
    v.reload_from_json(&serde_json::to_vec(&json!({"jwt": {"jwks": jwks(&[&k]), "leeway_s": 600}})).unwrap()).unwrap();
    assert_eq!(code(&v, &t, exp + 300.0), Code::Revoked);
    v.revoke(Target::ApiKeyId("third".into()), exp + 600.0 + PRUNE_GRACE_S - 1.0);
    assert_eq!(code(&v, &t, exp + 300.0), Code::Revoked);
    v.revoke(Target::ApiKeyId("fourth".into()), exp + 600.0 + PRUNE_GRACE_S + 1.0);
    assert!(!v.unrevoke(&Target::Jti { jti: "stolen".into(), until: None }), "pruned a grace period past the leeway");
}

#[test]
fn a_revoke_with_a_now_no_clock_reads_prunes_nothing() {
    // One call with milliseconds for seconds (or +inf) dropped every jti
    // entry, and the revoked tokens verified again.
    let k = TestKey::hs256("k");
    let v = Verifier::from_json(&config(&[&k], json!({}))).unwrap();
    let exp = NOW + 3600.0;
    let t = k.sign(&json!({"sub": "s", "jti": "stolen", "exp": exp}));
    v.revoke(Target::Jti { jti: "stolen".into(), until: Some(exp) }, NOW);
    for bogus in [NOW * 1000.0, NOW * 1e6, f64::INFINITY, f64::NAN] {
        v.revoke(Target::ApiKeyId("other".into()), bogus);
        assert_eq!(code(&v, &t, NOW + 1.0), Code::Revoked, "after a revoke at {bogus}");
    }
    // An `until` that is not a number keeps the entry (NaN matched nothing).
    let t2 = k.sign(&json!({"sub": "s", "jti": "nan", "exp": exp}));
    v.revoke(Target::Jti { jti: "nan".into(), until: Some(f64::NAN) }, NOW);
    assert_eq!(code(&v, &t2, NOW + 1.0), Code::Revoked);
    v.revoke(Target::ApiKeyId("later".into()), exp + 1e6);
    assert!(v.unrevoke(&Target::Jti { jti: "nan".into(), until: None }), "kept until unrevoked");
}

#[test]
fn with_several_issuers_alg_none_is_unsupported_whatever_the_issuer() {
    let (a, b) = (TestKey::hs256("a"), TestKey::hs256("b"));
    let c =
        json!({"jwt": [{"issuer": "https://a", "jwks": jwks(&[&a])}, {"issuer": "https://b", "jwks": jwks(&[&b])}]});
    let v = Verifier::from_json(c.to_string().as_bytes()).unwrap();
    let b64 = |s: &str| warden::b64::encode(&warden::b64::URL, s.as_bytes());
    for (iss, want) in [
        (Some("https://a"), Code::UnsupportedAlg),
        (Some("https://nobody"), Code::UnsupportedAlg),
        (None, Code::UnsupportedAlg),
    ] {
        let mut claims = json!({"sub": "s", "exp": NOW + 60.0});
        if let Some(i) = iss {
            claims["iss"] = json!(i);
        }
        let none = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(&claims.to_string()));
        assert_eq!(code(&v, &none, NOW), want, "alg none, iss {iss:?}");
    }
    // An alg warden supports but no profile has a key for is the same
    // (SPEC §5: no configured key pinned to it); it was bad_issuer for an
    // unknown or missing iss (found by an audit).
    for iss in [Some("https://a"), Some("https://nobody"), None] {
        let mut claims = json!({"sub": "s", "exp": NOW + 60.0});
        if let Some(i) = iss {
            claims["iss"] = json!(i);
        }
        let header = json!({"alg": "HS384", "kid": "a"}).to_string();
        assert_eq!(
            code(&v, &a.sign_text(&header, &claims.to_string()), NOW),
            Code::UnsupportedAlg,
            "HS384, iss {iss:?}"
        );
    }
    // A supported alg with an unknown issuer is still bad_issuer.
    let t = a.sign(&json!({"sub": "s", "iss": "https://nobody", "exp": NOW + 60.0}));
    assert_eq!(code(&v, &t, NOW), Code::BadIssuer);
    assert_eq!(code(&v, &a.sign(&json!({"sub": "s", "iss": "https://a", "exp": NOW + 60.0})), NOW), Code::Ok);
}

#[test]
fn with_several_issuers_an_escaped_iss_finds_its_profile() {
    let (a, b, c) = (TestKey::hs256("a"), TestKey::hs256("b"), TestKey::hs256("c"));
    let long = format!("https://c/{}", "x".repeat(600));
    let cfg = json!({"jwt": [{"issuer": "https://a/", "jwks": jwks(&[&a])},
                             {"issuer": ["https://b/", "https://b2/"], "jwks": jwks(&[&b])},
                             {"issuer": long.clone(), "jwks": jwks(&[&c])}]});
    let v = Verifier::from_json(cfg.to_string().as_bytes()).unwrap();
    let exp = NOW + 60.0;
    let tok = |k: &TestKey, iss_json: &str| {
        let header = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, k.jwk()["kid"].as_str().unwrap());
        k.sign_text(&header, &format!(r#"{{"sub":"s","exp":{exp},"iss":{iss_json}}}"#))
    };
    // escaped and plain spellings of one issuer route alike
    assert_eq!(code(&v, &tok(&a, r#""https:\/\/a\/""#), NOW), Code::Ok);
    assert_eq!(code(&v, &tok(&a, r#""\u0068ttps://a/""#), NOW), Code::Ok);
    assert_eq!(code(&v, &tok(&b, r#""https:\/\/b2\/""#), NOW), Code::Ok);
    // the profile is the issuer's: b's key is not among a's keys
    assert_eq!(code(&v, &tok(&b, r#""https:\/\/a\/""#), NOW), Code::UnknownKey);
    // an escaped iss longer than every issuer, or near one, is no issuer
    let longer = format!(r#""https:\/\/a\/{}""#, "y".repeat(700));
    assert_eq!(code(&v, &tok(&a, &longer), NOW), Code::BadIssuer);
    assert_eq!(code(&v, &tok(&a, r#""https:\/\/a""#), NOW), Code::BadIssuer);
    // an issuer longer than the stack buffer, spelled with escapes
    let escaped_long = format!("\"{}\"", long.replace('/', "\\/"));
    assert_eq!(code(&v, &tok(&c, &escaped_long), NOW), Code::Ok);
    assert_eq!(code(&v, &tok(&c, &format!("\"{long}\"")), NOW), Code::Ok);
}

#[test]
fn with_several_issuers_the_index_path_decodes_escapes_up_to_the_longest_issuer() {
    // Every issuer within the 512-byte stack buffer: an escaped iss is
    // decoded there; one longer than the longest issuer matches none.
    let (a, b) = (TestKey::hs256("a"), TestKey::hs256("b"));
    let long = format!("https://b/{}", "x".repeat(502)); // 512 bytes
    assert_eq!(long.len(), 512);
    let cfg = json!({"jwt": [{"issuer": "https://a/", "jwks": jwks(&[&a])},
                             {"issuer": long.clone(), "jwks": jwks(&[&b])}]});
    let v = Verifier::from_json(cfg.to_string().as_bytes()).unwrap();
    let tok = |k: &TestKey, iss_json: &str| {
        let header = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, k.jwk()["kid"].as_str().unwrap());
        k.sign_text(&header, &format!(r#"{{"sub":"s","exp":{},"iss":{iss_json}}}"#, NOW + 60.0))
    };
    let esc = |s: &str| format!("\"{}\"", s.replace('/', "\\/"));
    assert_eq!(code(&v, &tok(&b, &esc(&long)), NOW), Code::Ok, "512 bytes, escaped");
    assert_eq!(code(&v, &tok(&b, &esc(&format!("{long}x"))), NOW), Code::BadIssuer, "513 bytes");
    assert_eq!(code(&v, &tok(&b, &esc(&long[..511])), NOW), Code::BadIssuer, "511 bytes");
    assert_eq!(code(&v, &tok(&a, &esc("https://a/")), NOW), Code::Ok);
    assert_eq!(code(&v, &tok(&a, r#""https:\/\/a\/\u0000""#), NOW), Code::BadIssuer);
    assert_eq!(code(&v, &tok(&a, r#""""#), NOW), Code::BadIssuer);
}

#[test]
fn with_several_issuers_a_hand_built_or_reordered_snapshot_still_routes() {
    let (a, b) = (TestKey::hs256("a"), TestKey::hs256("b"));
    let cfg = json!({"jwt": [{"issuer": "https://a", "jwks": jwks(&[&a])},
                             {"issuer": "https://b", "jwks": jwks(&[&b])}]});
    let loaded = warden::Snapshot::from_json(cfg.to_string().as_bytes(), std::path::Path::new(".")).unwrap();
    let t = |k: &TestKey, iss: &str| k.sign(&json!({"sub": "s", "iss": iss, "exp": NOW + 60.0}));
    let mut reordered = loaded.clone();
    reordered.profiles.reverse();
    let hand_built = warden::Snapshot {
        profiles: loaded.profiles.clone(),
        max_token_bytes: loaded.max_token_bytes,
        ..Default::default()
    };
    for snap in [loaded, reordered, hand_built] {
        let v = Verifier::new(snap);
        assert_eq!(code(&v, &t(&a, "https://a"), NOW), Code::Ok);
        assert_eq!(code(&v, &t(&b, "https://b"), NOW), Code::Ok);
        assert_eq!(code(&v, &t(&b, "https://a"), NOW), Code::UnknownKey);
        assert_eq!(code(&v, &t(&a, "https://c"), NOW), Code::BadIssuer);
    }
}

#[test]
fn runtime_revocation_by_subject_and_api_key() {
    let k = TestKey::eddsa("e");
    let key = warden::apikey::generate("tk").unwrap();
    let sha = warden::apikey::hex(ring::digest::digest(&ring::digest::SHA256, key.as_bytes()).as_ref());
    let extra = json!({"api_keys": {"prefixes": ["tk"], "keys": [{"id": "id1", "sha256": sha, "owner": "o"}]}});
    let v = Verifier::from_json(&config(&[&k], extra)).unwrap();
    let t = k.sign(&claims("alice", "j"));
    let mut s = Scratch::new();
    v.revoke(Target::SubjectBefore { sub: "alice".into(), before: NOW - 10.0 }, NOW);
    assert_eq!(code(&v, &t, NOW), Code::Revoked, "iat == cut-off is revoked");
    v.revoke(Target::SubjectBefore { sub: "alice".into(), before: NOW - 20.0 }, NOW);
    assert_eq!(code(&v, &t, NOW), Code::Revoked, "a revocation is never shortened by a later, earlier one");
    assert!(v.unrevoke(&Target::SubjectBefore { sub: "alice".into(), before: 0.0 }));
    assert_eq!(code(&v, &t, NOW), Code::Ok);
    assert!(v.verify_api_key(key.as_bytes(), NOW, &mut s).is_ok());
    v.revoke(Target::ApiKeyId("id1".into()), NOW);
    assert_eq!(v.verify_api_key(key.as_bytes(), NOW, &mut s).unwrap_err().code, Code::Revoked);
    assert!(!v.unrevoke(&Target::ApiKeyId("other".into())));
    assert!(v.unrevoke(&Target::ApiKeyId("id1".into())));
    assert!(v.verify_api_key(key.as_bytes(), NOW, &mut s).is_ok());
    assert_eq!(v.stats().counter(Counter::Revocation), 5);
}

#[test]
fn basic_cache_is_dropped_when_the_user_changes() {
    let h1 = warden::basic::hash_password(b"one", 1000).unwrap();
    let h2 = warden::basic::hash_password(b"two", 1000).unwrap();
    let cfg = |h: &str| json!({"basic": {"users": [{"user": "u", "hash": h}]}}).to_string();
    let v = Verifier::from_json(cfg(&h1).as_bytes()).unwrap();
    let mut s = Scratch::new();
    assert!(v.verify_basic(b"u", b"one", NOW, &mut s).is_ok());
    assert!(v.verify_basic(b"u", b"one", NOW, &mut s).is_ok());
    assert_eq!(v.stats().counter(Counter::BasicCacheHit), 1);
    v.reload_from_json(cfg(&h2).as_bytes()).unwrap();
    assert_eq!(v.verify_basic(b"u", b"one", NOW, &mut s).unwrap_err().code, Code::BadCredentials);
    assert!(v.verify_basic(b"u", b"two", NOW, &mut s).is_ok());
    // TTL: an entry older than basic_ttl_s is not honoured (the slow check runs again).
    let hits = v.stats().counter(Counter::BasicCacheHit);
    assert!(v.verify_basic(b"u", b"two", NOW + 301.0, &mut s).is_ok());
    assert_eq!(v.stats().counter(Counter::BasicCacheHit), hits);
}

#[test]
fn guesses_sent_at_once_get_no_more_than_the_failure_budget() {
    // A slow hash (the point of one): every guess is in flight at once.
    let h = warden::basic::hash_password(b"right", 200_000).unwrap();
    let cfg = json!({"basic": {"users": [{"user": "alice", "hash": h}], "max_failures_per_min": 3}});
    let v = Verifier::from_json(cfg.to_string().as_bytes()).unwrap();
    let start = std::sync::Barrier::new(16);
    let codes: Vec<Code> = std::thread::scope(|s| {
        let guess = || {
            start.wait();
            let mut sc = Scratch::new();
            v.verify_basic(b"alice", b"wrong", NOW, &mut sc).map(|_| Code::Ok).unwrap_or_else(|r| r.code)
        };
        let threads: Vec<_> = (0..16).map(|_| s.spawn(guess)).collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let bad = codes.iter().filter(|&&c| c == Code::BadCredentials).count();
    assert_eq!(bad, 3, "{codes:?}");
    assert_eq!(codes.iter().filter(|&&c| c == Code::RateLimited).count(), 13);
    // A right password gives back what it counted in advance: with one
    // failure to go, a user may log in any number of times.
    let v = Verifier::from_json(cfg.to_string().as_bytes()).unwrap();
    let mut sc = Scratch::new();
    for _ in 0..2 {
        assert_eq!(v.verify_basic(b"alice", b"wrong", NOW, &mut sc).unwrap_err().code, Code::BadCredentials);
    }
    v.reload_from_json(
        json!({"basic": {"users": [{"user": "alice", "hash": h}], "max_failures_per_min": 3},
                               "cache": {"basic_entries": 0}})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    for _ in 0..3 {
        assert!(v.verify_basic(b"alice", b"right", NOW, &mut sc).is_ok());
    }
    assert_eq!(v.verify_basic(b"alice", b"wrong", NOW, &mut sc).unwrap_err().code, Code::BadCredentials);
    assert_eq!(v.verify_basic(b"alice", b"right", NOW, &mut sc).unwrap_err().code, Code::RateLimited);
}

#[test]
fn retry_after_counts_down() {
    let key = warden::apikey::generate("rl").unwrap();
    let sha = warden::apikey::hex(ring::digest::digest(&ring::digest::SHA256, key.as_bytes()).as_ref());
    let c = json!({"api_keys": {"prefixes": ["rl"], "keys": [{"id": "k", "sha256": sha, "rate": {"per_s": 0.1, "burst": 1}}]}});
    let v = Verifier::from_json(c.to_string().as_bytes()).unwrap();
    let mut s = Scratch::new();
    assert!(v.verify_api_key(key.as_bytes(), NOW, &mut s).is_ok());
    let r = v.verify_api_key(key.as_bytes(), NOW, &mut s).unwrap_err();
    assert_eq!((r.code, r.retry_after_s), (Code::RateLimited, Some(10)));
    let r = v.verify_api_key(key.as_bytes(), NOW + 7.5, &mut s).unwrap_err();
    assert_eq!(r.retry_after_s, Some(3));
    assert!(v.verify_api_key(key.as_bytes(), NOW + 10.0, &mut s).is_ok());
    assert_eq!(v.stats().verdicts(Kind::ApiKey, Code::RateLimited), 2);
}

/// Readers verify while writers reload, swap key sets, revoke and unrevoke.
/// A token valid in every configuration is never rejected; a token revoked
/// before a reader starts is never accepted.
#[test]
fn concurrent_readers_and_writers() {
    let stable = TestKey::es256("stable");
    let hstable = TestKey::hs256("hstable");
    let rotating = TestKey::eddsa("rotating");
    let v = Arc::new(Verifier::from_json(&config(&[&stable, &hstable], json!({}))).unwrap());
    let good = [stable.sign(&claims("s", "keep")), hstable.sign(&claims("s", "keep2"))];
    let doomed = stable.sign(&claims("s", "doomed"));
    let stop = Arc::new(AtomicBool::new(false));
    let revoked_at = Arc::new(AtomicU64::new(0)); // verifications started after this see the revoke
    let verified = Arc::new(AtomicU64::new(0));

    std::thread::scope(|sc| {
        for i in 0..3 {
            let (v, stop, good, verified) = (v.clone(), stop.clone(), good.clone(), verified.clone());
            sc.spawn(move || {
                let mut s = Scratch::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = &good[i % 2];
                    let r = v.verify_jwt(t.as_bytes(), NOW, &mut s);
                    assert!(r.is_ok(), "valid token rejected mid-swap: {:?}", r.err());
                    verified.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        {
            let (v, stop, revoked_at, doomed) = (v.clone(), stop.clone(), revoked_at.clone(), doomed.clone());
            sc.spawn(move || {
                let mut s = Scratch::new();
                while !stop.load(Ordering::Relaxed) {
                    let was_revoked = revoked_at.load(Ordering::Acquire) != 0;
                    let r = v.verify_jwt(doomed.as_bytes(), NOW, &mut s);
                    if was_revoked {
                        assert_eq!(r.unwrap_err().code, Code::Revoked, "revoked token passed after revoke returned");
                    }
                }
            });
        }
        let writer = {
            let (v, revoked_at) = (v.clone(), revoked_at.clone());
            let (stable, hstable, rotating) = (&stable, &hstable, &rotating);
            sc.spawn(move || {
                for i in 0..300 {
                    match i % 4 {
                        0 => v.set_jwks(jwks(&[stable, hstable, rotating]).to_string().as_bytes()).unwrap(),
                        1 => v.set_jwks(jwks(&[hstable, stable]).to_string().as_bytes()).unwrap(),
                        2 => v.reload_from_json(&config(&[stable, hstable], json!({}))).unwrap(),
                        _ => assert!(v.reload_from_json(b"{\"jwt\": {\"jwks\": 5}}").is_err()),
                    }
                    v.revoke(Target::Jti { jti: format!("other-{i}"), until: Some(NOW + 1.0) }, NOW);
                    if i == 150 {
                        v.revoke(Target::Jti { jti: "doomed".into(), until: None }, NOW);
                        revoked_at.store(1, Ordering::Release);
                    }
                    std::thread::yield_now();
                }
            })
        };
        writer.join().unwrap();
        stop.store(true, Ordering::Relaxed);
    });
    assert!(verified.load(Ordering::Relaxed) > 100);
    assert_eq!(code(&v, &doomed, NOW), Code::Revoked);
}

/// Threads spending one API key's budget together never let more than the
/// budget through.
#[test]
fn concurrent_rate_limit_is_exact() {
    let key = warden::apikey::generate("cc").unwrap();
    let sha = warden::apikey::hex(ring::digest::digest(&ring::digest::SHA256, key.as_bytes()).as_ref());
    let c = json!({"api_keys": {"prefixes": ["cc"], "keys": [{"id": "k", "sha256": sha, "rate": {"per_s": 1, "burst": 1000}}]}});
    let v = Verifier::from_json(c.to_string().as_bytes()).unwrap();
    let ok = AtomicU64::new(0);
    std::thread::scope(|sc| {
        for _ in 0..4 {
            sc.spawn(|| {
                let mut s = Scratch::new();
                for _ in 0..1000 {
                    if v.verify_api_key(key.as_bytes(), NOW, &mut s).is_ok() {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(ok.load(Ordering::Relaxed), 1000);
}

/// Every verdict code of SPEC §3 is expected by at least one shared vector
/// (so every reject path is exercised, through the library and the CLI).
#[test]
fn every_verdict_code_is_reachable_in_the_vectors() {
    let mut seen = std::collections::HashSet::new();
    for f in common::load_all() {
        for c in f.cases() {
            seen.insert(c["expect"].as_str().unwrap().to_string());
        }
    }
    for c in Code::ALL {
        assert!(seen.contains(c.as_str()), "no vector expects {c}");
    }
}

/// A NaN or infinite `now` must never skip a time check (every comparison
/// fails closed).
#[test]
fn non_finite_now_fails_closed() {
    let k = TestKey::hs256("h");
    let v = Verifier::from_json(&config(&[&k], json!({}))).unwrap();
    let t = k.sign(&json!({"sub": "s", "exp": NOW + 60.0, "nbf": NOW - 60.0, "iat": NOW - 60.0}));
    assert_eq!(code(&v, &t, NOW), Code::Ok);
    assert_eq!(code(&v, &t, f64::NAN), Code::Expired);
    assert_eq!(code(&v, &t, f64::INFINITY), Code::Expired);
    let only_nbf = k.sign(&json!({"sub": "s", "nbf": NOW - 60.0}));
    let v2 = Verifier::from_json(&config(&[&k], json!({"jwt": {"jwks": jwks(&[&k]), "require": []}}))).unwrap();
    assert_eq!(code(&v2, &only_nbf, NOW), Code::Ok);
    assert_eq!(code(&v2, &only_nbf, f64::NAN), Code::NotYetValid);
    assert_eq!(code(&v2, &only_nbf, f64::NEG_INFINITY), Code::NotYetValid);
    let key = warden::apikey::generate("nn").unwrap();
    let sha = warden::apikey::hex(ring::digest::digest(&ring::digest::SHA256, key.as_bytes()).as_ref());
    let c = json!({"api_keys": {"prefixes": ["nn"], "keys": [{"id": "k", "sha256": sha}]}});
    let v3 = Verifier::from_json(c.to_string().as_bytes()).unwrap();
    let mut s = Scratch::new();
    assert!(v3.verify_api_key(key.as_bytes(), NOW, &mut s).is_ok());
    assert_eq!(v3.verify_api_key(key.as_bytes(), f64::NAN, &mut s).unwrap_err().code, Code::BadApiKey);
}

#[test]
fn from_json_in_resolves_files_against_the_given_directory() {
    let k = TestKey::es256("f");
    let dir = std::env::temp_dir().join(format!("warden-fj-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("keys.json"), jwks(&[&k]).to_string()).unwrap();
    let cfg = br#"{"jwt": {"jwks_file": "keys.json"}}"#;
    assert!(Verifier::from_json(cfg).is_err());
    let v = Verifier::from_json_in(cfg, &dir).unwrap();
    assert_eq!(code(&v, &k.sign(&claims("a", "j")), NOW), Code::Ok);
    // A refused set_jwks and a reload() without a file are counted as failures.
    assert!(v.set_jwks(b"{}").is_err());
    assert!(v.reload().is_err());
    assert_eq!(v.stats().counter(Counter::ReloadFailure), 2);
}

#[test]
fn a_config_blocklist_of_many_entries_loads_and_every_entry_counts() {
    // 60,000 entries: the loader once copied the whole list for each entry
    // it added (n²/2 ≈ 1.8e9 entry copies here: minutes, not milliseconds).
    let k = TestKey::hs256("k");
    let n = 30_000;
    let jtis: Vec<String> = (0..n).map(|i| format!("jti-{i}")).collect();
    let subs: serde_json::Map<String, Value> = (0..n).map(|i| (format!("sub-{i}"), json!(NOW))).collect();
    let v = Verifier::from_json(&config(&[&k], json!({"revoked": {"jti": jtis, "sub_before": subs}}))).unwrap();
    for i in [0, 1, n / 2, n - 1] {
        let t = k.sign(&json!({"sub": "s", "jti": format!("jti-{i}"), "exp": NOW + 60.0}));
        assert_eq!(code(&v, &t, NOW), Code::Revoked, "jti-{i}");
        let t = k.sign(&json!({"sub": format!("sub-{i}"), "iat": NOW, "exp": NOW + 60.0}));
        assert_eq!(code(&v, &t, NOW), Code::Revoked, "sub-{i}");
        let t = k.sign(&json!({"sub": format!("sub-{i}"), "iat": NOW + 1.0, "exp": NOW + 60.0}));
        assert_eq!(code(&v, &t, NOW + 2.0), Code::Ok, "sub-{i} issued after the cut-off");
    }
    let t = k.sign(&json!({"sub": "s", "jti": format!("jti-{n}"), "exp": NOW + 60.0}));
    assert_eq!(code(&v, &t, NOW), Code::Ok);
}

#[test]
fn many_run_time_revocations_one_at_a_time() {
    // Each revocation once copied the whole run-time list: 40,000 took 35 s.
    let k = TestKey::hs256("k");
    let v = Verifier::from_json(&config(&[&k], json!({}))).unwrap();
    let n = 40_000;
    for i in 0..n {
        v.revoke(Target::Jti { jti: format!("jti-{i}"), until: Some(NOW + 3600.0) }, NOW);
    }
    v.revoke(Target::SubjectBefore { sub: "mallory".into(), before: NOW }, NOW);
    for i in [0, 1, n / 3, n - 1] {
        assert_eq!(code(&v, &k.sign(&claims("s", &format!("jti-{i}"))), NOW), Code::Revoked, "jti-{i}");
    }
    assert_eq!(code(&v, &k.sign(&claims("s", &format!("jti-{n}"))), NOW), Code::Ok);
    assert_eq!(code(&v, &k.sign(&claims("mallory", "x")), NOW), Code::Revoked);
    assert!(v.unrevoke(&Target::Jti { jti: "jti-7".into(), until: None }));
    assert_eq!(code(&v, &k.sign(&claims("s", "jti-7")), NOW), Code::Ok);
    assert_eq!(code(&v, &k.sign(&claims("s", "jti-8")), NOW), Code::Revoked);
}
