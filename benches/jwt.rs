//! JWT verification, per algorithm, side by side in one run:
//!
//! * `warden`: `Verifier::verify_jwt` with a reused `Scratch`, the
//!   verified-token cache disabled (cold numbers);
//! * `ring_floor`: exactly the raw ring verification of the same signing
//!   input and signature bytes (signature decoded once, outside the loop);
//! * `jsonwebtoken`: the `jsonwebtoken` crate's `decode` of the same token
//!   into a claims struct, validating alg, `exp`, `nbf`, `iss` and `aud`.
//!
//! Plus `cache_hit`: warden with the verified-token cache on, verifying a
//! token it has seen (RS256, ES256, EdDSA); and `kid_lookup`: the HS256
//! token with its key alone in the set (`keys_1`) and last of 256 HS256
//! keys (`keys_256`): what a large key set costs a token.

mod common;

use common::ThreadCpu;
use common::{Fixture, Floor};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ring::{hmac, signature};
use serde::Deserialize;
use std::time::Duration;
use warden::Scratch;

/// The claims as a `jsonwebtoken` user would declare them.
#[derive(Deserialize)]
#[allow(dead_code)] // read by serde; the values themselves are not used
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: u64,
    iat: u64,
    nbf: u64,
    jti: String,
    scope: String,
    name: String,
}

fn jsonwebtoken_setup(f: &Fixture) -> (jsonwebtoken::DecodingKey, jsonwebtoken::Validation) {
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(f.jwk.clone()).expect("jsonwebtoken reads the JWK");
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("jsonwebtoken key");
    let alg: jsonwebtoken::Algorithm = f.alg.parse().expect("jsonwebtoken alg");
    // Equivalent to warden's policy: pinned alg, exp required, nbf checked,
    // issuer and audience, no leeway.
    let mut v = jsonwebtoken::Validation::new(alg);
    v.set_issuer(&[common::ISSUER]);
    v.set_audience(&[common::AUDIENCE]);
    v.leeway = 0;
    v.validate_nbf = true;
    (key, v)
}

fn per_alg(c: &mut Criterion<ThreadCpu>) {
    let fixtures = common::all_fixtures();
    let cold = common::jwt_verifier(&fixtures, 0);
    let now = common::now();
    for f in &fixtures {
        let group = format!("jwt_{}", f.alg);
        let mut g = c.benchmark_group(&group);
        let token = f.token.as_bytes();

        let mut scratch = Scratch::new();
        g.bench_function("warden", |b| b.iter(|| cold.verify_jwt(black_box(token), now, &mut scratch).is_ok()));

        let (msg, sig) = (&f.signing_input[..], &f.signature[..]);
        match &f.floor {
            Floor::Hmac(key) => {
                g.bench_function("ring_floor", |b| b.iter(|| hmac::verify(key, black_box(msg), black_box(sig))))
            }
            Floor::Rsa { n, e, params } => {
                let pk = signature::RsaPublicKeyComponents { n: &n[..], e: &e[..] };
                g.bench_function("ring_floor", |b| b.iter(|| pk.verify(params, black_box(msg), black_box(sig))))
            }
            Floor::Unparsed { alg, public } => {
                let pk = signature::UnparsedPublicKey::new(*alg, &public[..]);
                g.bench_function("ring_floor", |b| b.iter(|| pk.verify(black_box(msg), black_box(sig))))
            }
        };

        let (key, validation) = jsonwebtoken_setup(f);
        if let Err(e) = jsonwebtoken::decode::<Claims>(&f.token, &key, &validation) {
            panic!("{}: jsonwebtoken rejects the fixture token: {e}", f.alg);
        }
        g.bench_function("jsonwebtoken", |b| {
            b.iter(|| jsonwebtoken::decode::<Claims>(black_box(&f.token), &key, &validation).is_ok())
        });
        g.finish();

        // Cross-checks of the two ratios, interleaved (see common::paired_ratio).
        let mut warden = || cold.verify_jwt(black_box(token), now, &mut scratch).is_ok();
        let floor = || f.floor.verify(black_box(msg), black_box(sig));
        common::note_paired(&group, &format!("{}_warden_floor", f.alg), || {
            common::paired_ratio(&mut warden, floor, PAIRED)
        });
        let peer = || jsonwebtoken::decode::<Claims>(black_box(&f.token), &key, &validation).is_ok();
        common::note_paired(&group, &format!("{}_jsonwebtoken_warden", f.alg), || {
            common::paired_ratio(peer, &mut warden, PAIRED)
        });
        if f.alg.starts_with("HS") && common::benchmarking() && common::selected(&group) {
            // Not a verdict: the same cross-check pinned to each of two CPUs,
            // because the vCPUs here differ, and not alike for warden's code
            // (branchy, high IPC) and ring's (SHA rounds).
            let cpus = common::pin::allowed_cpus();
            let (mut on, mut ratios) = (Vec::new(), Vec::new());
            if cpus.len() >= 2 {
                for &cpu in &cpus[..2] {
                    if common::pin::to(&[cpu]) {
                        on.push(cpu);
                        ratios.push(format!("{:.4}", common::paired_ratio(&mut warden, floor, PAIRED).0));
                    }
                }
                common::pin::to(&cpus);
            }
            let ratios = ratios.join(", ");
            eprintln!("paired {}_warden_floor pinned to CPUs {on:?}: {ratios}", f.alg);
            common::note(
                &format!("{}_warden_floor_by_cpu.json", f.alg),
                &format!("{{\"cpus\": {on:?}, \"ratios\": [{ratios}]}}\n"),
            );
        }
    }
}

/// Time spent on each interleaved cross-check.
const PAIRED: Duration = Duration::from_millis(700);

fn cache_hit(c: &mut Criterion<ThreadCpu>) {
    let fixtures: Vec<Fixture> = ["HS256", "RS256", "ES256", "EdDSA"].into_iter().map(common::fixture).collect();
    let now = common::now();
    let mut g = c.benchmark_group("cache_hit");
    for f in &fixtures {
        // A verifier per token, so no other token can share its cache slot
        // (slots are placed by a per-process random seed). It verified the
        // token once: the cache is warm.
        let cached = common::jwt_verifier([f], 1024);
        let misses = || cached.stats().counter(warden::Counter::TokenCacheMiss);
        let misses_before = misses();
        let token = f.token.as_bytes();
        let mut scratch = Scratch::new();
        g.bench_function(f.alg, |b| b.iter(|| cached.verify_jwt(black_box(token), now, &mut scratch).is_ok()));
        assert_eq!(misses(), misses_before, "cache_hit/{} measured cache misses", f.alg);
    }
    g.finish();
}

fn kid_lookup(c: &mut Criterion<ThreadCpu>) {
    let f = common::fixture("HS256");
    let ours = f.jwk.clone();
    let mut g = c.benchmark_group("kid_lookup");
    for n in [1usize, 256] {
        // n - 1 other HS256 keys with kids alike, then the token's own.
        let mut keys: Vec<serde_json::Value> = (1..n)
            .map(|i| {
                let mut k = ours.clone();
                k["kid"] = serde_json::json!(format!("{}-{i:04}", f.kid));
                k
            })
            .collect();
        keys.push(ours.clone());
        let config = serde_json::json!({"jwt": {"jwks": {"keys": keys}, "issuer": [common::ISSUER], "audience": [common::AUDIENCE]}, "cache": {"tokens": 0}});
        let v = warden::Verifier::from_json(config.to_string().as_bytes()).expect("config");
        let (token, now, mut scratch) = (f.token.as_bytes(), common::now(), Scratch::new());
        assert!(v.verify_jwt(token, now, &mut scratch).is_ok(), "kid_lookup token");
        g.bench_function(format!("keys_{n}"), |b| b.iter(|| v.verify_jwt(black_box(token), now, &mut scratch).is_ok()));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion_cpu();
    targets = per_alg, cache_hit, kid_lookup
}
criterion_main!(benches);
