//! Allocation counts are tests (DEVELOPERS.md): in steady state, verifying any
//! credential allocates nothing of ours. Every case of every shared vector
//! file is verified three times; the third run is counted.
//!
//! The one allocation that is not ours: ring 0.17 parses an RSA public key
//! (boxing its modulus limbs) on every RSA verification and has no public
//! pre-parsed RSA verification key. For cold RS*/PS* verifications the count
//! must equal what a bare `ring` verification of the same bytes allocates;
//! with the verified-token cache on, a repeated RSA token allocates nothing.

mod common;

use common::*;
use serde_json::Value;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use warden::{Scratch, Verifier};

struct Counting;

thread_local! {
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

fn allocations<R>(f: impl FnOnce() -> R) -> (u64, R) {
    let before = COUNT.with(Cell::get);
    let r = f();
    (COUNT.with(Cell::get) - before, r)
}

fn verify(v: &Verifier, (flag, cred, now): &(&str, String, f64), s: &mut Scratch) -> bool {
    let now = *now;
    let r = match *flag {
        "--jwt" => v.verify_jwt(cred.as_bytes(), now, s).map(|_| ()),
        "--api-key" => v.verify_api_key(cred.as_bytes(), now, s).map(|_| ()),
        "--basic" => v.verify_basic_pair(cred.as_bytes(), now, s).map(|_| ()),
        _ => v.verify_authorization(cred.as_bytes(), now, s).map(|_| ()),
    };
    r.is_ok()
}

/// The header alg of a JWT case, if it is one.
fn jwt_alg(case: &Value) -> Option<String> {
    let tok = case.get("jwt").and_then(Value::as_str)?;
    let h = warden::b64::decode_vec(&warden::b64::URL, tok.split('.').next()?)?;
    let h: Value = serde_json::from_slice(&h).ok()?;
    h.get("alg")?.as_str().map(str::to_string)
}

/// Allocations of one bare ring RSA verification of `token` with the
/// config's RSA key named by the token's kid.
fn ring_rsa_allocations(config: &Value, token: &str) -> Option<u64> {
    use ring::signature::{self, RsaPublicKeyComponents};
    let mut parts = token.split('.');
    let h: Value = serde_json::from_slice(&warden::b64::decode_vec(&warden::b64::URL, parts.next()?)?).ok()?;
    let kid = h.get("kid")?.as_str()?;
    let alg = h.get("alg")?.as_str()?;
    let keys = config["jwt"]["jwks"]["keys"].as_array()?;
    let jwk = keys.iter().find(|k| k["kid"] == kid && k["alg"] == alg)?;
    let n = warden::b64::decode_vec(&warden::b64::URL, jwk["n"].as_str()?)?;
    let e = warden::b64::decode_vec(&warden::b64::URL, jwk["e"].as_str()?)?;
    let dot = token.rfind('.')?;
    let sig = warden::b64::decode_vec(&warden::b64::URL, &token[dot + 1..])?;
    let params: &signature::RsaParameters = match alg {
        "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
        "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
        "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
        "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
        "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
        _ => &signature::RSA_PSS_2048_8192_SHA512,
    };
    let comps = RsaPublicKeyComponents { n: &n[..], e: &e[..] };
    let msg = &token.as_bytes()[..dot];
    let _ = comps.verify(params, msg, &sig);
    Some(allocations(|| comps.verify(params, msg, &sig)).0)
}

fn with_token_cache(config: &Value, entries: u64) -> Vec<u8> {
    let mut c = config.clone();
    c["cache"] = serde_json::json!({"tokens": entries});
    serde_json::to_vec(&c).unwrap()
}

#[test]
fn steady_state_verification_allocates_nothing() {
    let mut failures = Vec::new();
    let mut counted = 0;
    let mut rsa_ring = 0;
    for f in load_all() {
        if f.expect_load_error() {
            continue;
        }
        for cache in [true, false] {
            let mut config = f.doc["config"].clone();
            if cache {
                config["cache"] = serde_json::json!({"tokens": 64});
            } else {
                config = serde_json::from_slice(&with_token_cache(&config, 0)).unwrap();
            }
            // Files (jwks_file, htpasswd_file) are beside the written config.
            let path = f.dir.join(if cache { "alloc-cache.json" } else { "alloc-nocache.json" });
            std::fs::write(&path, serde_json::to_vec(&config).unwrap()).unwrap();
            let v = Verifier::from_file(&path).unwrap();
            let mut s = Scratch::new();
            for case in f.cases() {
                let (flag, cred) = credential(case);
                let c = (flag, cred, case["now"].as_f64().unwrap());
                verify(&v, &c, &mut s);
                verify(&v, &c, &mut s);
                let (n, ok) = allocations(|| verify(&v, &c, &mut s));
                counted += 1;
                let alg = jwt_alg(case).unwrap_or_default();
                let rsa = alg.starts_with("RS") || alg.starts_with("PS");
                let allowed = if rsa && !(cache && ok) {
                    // A cold RSA verification: ring's allocations, none of ours.
                    let ring = ring_rsa_allocations(&f.doc["config"], case["jwt"].as_str().unwrap());
                    if ok {
                        rsa_ring = ring.unwrap_or(0);
                    }
                    ring.unwrap_or(n)
                } else {
                    0
                };
                let bad = if rsa && !cache && ok { n != allowed } else { n > allowed };
                if bad {
                    failures.push(format!(
                        "{} / {} (cache {cache}): {n} allocations, allowed {allowed}",
                        f.name,
                        case_name(case)
                    ));
                }
            }
        }
    }
    assert!(counted > 400, "only {counted} cases counted");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("{counted} verifications counted; a cold RSA verification allocates {rsa_ring} times, all inside ring");
}

#[test]
fn a_fresh_scratch_does_not_allocate_either() {
    // Scratch::new() reserves for 8 KiB credentials up front.
    let f = load_all().into_iter().find(|f| f.name == "jwt_hs.json").expect("jwt_hs.json");
    let v = Verifier::from_file(&f.config_path).unwrap();
    let case = f.cases().iter().find(|c| c["expect"] == "ok").unwrap();
    let (flag, cred) = credential(case);
    let c = (flag, cred, case["now"].as_f64().unwrap());
    let mut warm = Scratch::new();
    verify(&v, &c, &mut warm);
    let mut s = Scratch::new();
    let (n, ok) = allocations(|| verify(&v, &c, &mut s));
    assert!(ok);
    assert_eq!(n, 0);
}

#[test]
fn a_scratch_moving_between_verifiers_does_not_allocate() {
    // One scratch for several verifiers, as hosts pool them: within the
    // states a scratch keeps (two, four) and past them (six: every call
    // evicts one and claims a counter shard again).
    let f = load_all().into_iter().find(|f| f.name == "jwt_hs.json").expect("jwt_hs.json");
    let case = f.cases().iter().find(|c| c["expect"] == "ok").unwrap();
    let (flag, cred) = credential(case);
    let c = (flag, cred, case["now"].as_f64().unwrap());
    for n in [2, 4, 6] {
        let vs: Vec<Verifier> = (0..n).map(|_| Verifier::from_file(&f.config_path).unwrap()).collect();
        let mut s = Scratch::new();
        for v in &vs {
            assert!(verify(v, &c, &mut s));
        }
        let (count, ok) = allocations(|| (0..3).all(|_| vs.iter().all(|v| verify(v, &c, &mut s))));
        assert!(ok);
        assert_eq!(count, 0, "{n} verifiers in turn through one scratch");
    }
}
