//! A plain loop over one verification, for profilers (callgrind, perf):
//! `benches/profile.sh` runs it. Not a criterion bench, and not part of a
//! plain `cargo bench` (`bench = false` in Cargo.toml).
//!
//! Usage: `profile <case> [iterations]`, case one of
//! `jwt:<ALG>` (cold, cache off), `floor:<ALG>` (raw ring), `cache:<ALG>`
//! (verified-token cache hit), `api_key`, `sha256`, `basic_cached`, `hmac`.
//! The measured loop is the function `hot_loop` (callgrind:
//! `--toggle-collect='*hot_loop*'`).

mod common;

use criterion::black_box;
use ring::{digest, hmac};
use std::time::Instant;
use warden::Scratch;

#[inline(never)]
fn hot_loop(n: u64, mut f: impl FnMut() -> bool) -> u64 {
    let mut ok = 0;
    for _ in 0..n {
        ok += black_box(f()) as u64;
    }
    ok
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let case = args.first().map(String::as_str).unwrap_or("jwt:HS256");
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let now = common::now();
    let mut scratch = Scratch::new();
    let (kind, alg) = case.split_once(':').unwrap_or((case, ""));
    let alg: &'static str = common::ALGS.iter().find(|a| **a == alg).copied().unwrap_or("HS256");
    let t0;
    let ok = match kind {
        "jwt" | "cache" => {
            let f = common::fixture(alg);
            let v = common::jwt_verifier(std::slice::from_ref(&f), if kind == "cache" { 1024 } else { 0 });
            let token = f.token.as_bytes();
            t0 = Instant::now();
            hot_loop(n, || v.verify_jwt(black_box(token), now, &mut scratch).is_ok())
        }
        "floor" => {
            let f = common::fixture(alg);
            let (msg, sig) = (&f.signing_input[..], &f.signature[..]);
            t0 = Instant::now();
            hot_loop(n, || f.floor.verify(black_box(msg), black_box(sig)))
        }
        "api_key" | "sha256" => {
            let (key, v) = common::api_key_fixture();
            let key = key.as_bytes();
            t0 = Instant::now();
            if kind == "sha256" {
                hot_loop(n, || digest::digest(&digest::SHA256, black_box(key)).as_ref()[0] != 1)
            } else {
                hot_loop(n, || v.verify_api_key(black_box(key), now, &mut scratch).is_ok())
            }
        }
        "basic_cached" | "hmac" => {
            let v = common::basic_verifier(&common::basic_hash(1000), 4096);
            let (user, pass) = (common::BASIC_USER.as_bytes(), common::BASIC_PASSWORD.as_bytes());
            let key = hmac::Key::new(hmac::HMAC_SHA256, &[0x5a; 32]);
            let pair = format!("{}:{}", common::BASIC_USER, common::BASIC_PASSWORD);
            assert!(v.verify_basic(user, pass, now, &mut scratch).is_ok());
            t0 = Instant::now();
            if kind == "hmac" {
                hot_loop(n, || hmac::sign(&key, black_box(pair.as_bytes())).as_ref()[0] != 1)
            } else {
                hot_loop(n, || v.verify_basic(black_box(user), black_box(pass), now, &mut scratch).is_ok())
            }
        }
        _ => {
            eprintln!("unknown case {case:?}");
            std::process::exit(2);
        }
    };
    let dt = t0.elapsed();
    eprintln!("{case}: {n} iterations, {ok} ok, {:.1} ns each", dt.as_nanos() as f64 / n as f64);
}
