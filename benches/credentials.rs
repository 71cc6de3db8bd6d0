//! API keys and HTTP Basic, each beside the one primitive it cannot avoid:
//!
//! * `api_key`: `verify_api_key` vs one bare SHA-256 of the key;
//! * `basic_cached`: `verify_basic` answered by the verified-credential
//!   cache vs one HMAC-SHA256 of `user:password`;
//! * `basic_cold`: `verify_basic` with the cache off (a full PBKDF2 at
//!   600,000 iterations) vs ring's `pbkdf2::verify` of the same hash;
//! * `api_key_two_verifiers`: two verifiers' keys verified in turn, through
//!   one scratch (`one_scratch`: as hosts that pool results across
//!   verifiers do) or a scratch each (`scratch_each`): what a scratch
//!   moving between verifiers costs, per pair of verifications.

mod common;

use common::ThreadCpu;
use common::{BASIC_PASSWORD, BASIC_USER};
use criterion::{black_box, criterion_group, criterion_main, Criterion, SamplingMode};
use ring::{digest, hmac, pbkdf2};
use std::num::NonZeroU32;
use std::time::Duration;
use warden::Scratch;

fn api_key(c: &mut Criterion<ThreadCpu>) {
    let (key, v) = common::api_key_fixture();
    let now = common::now();
    let key = key.as_bytes();
    let mut g = c.benchmark_group("api_key");
    let mut scratch = Scratch::new();
    g.bench_function("warden", |b| b.iter(|| v.verify_api_key(black_box(key), now, &mut scratch).is_ok()));
    g.bench_function("sha256_floor", |b| b.iter(|| digest::digest(&digest::SHA256, black_box(key))));
    g.finish();
    let warden = || v.verify_api_key(black_box(key), now, &mut scratch).is_ok();
    let floor = || digest::digest(&digest::SHA256, black_box(key)).as_ref()[0] != 0;
    common::note_paired("api_key", "api_key", || common::paired_ratio(warden, floor, Duration::from_secs(1)));
}

fn api_key_two_verifiers(c: &mut Criterion<ThreadCpu>) {
    let ((k1, v1), (k2, v2)) = (common::api_key_fixture(), common::api_key_fixture());
    let (k1, k2) = (k1.as_bytes(), k2.as_bytes());
    let now = common::now();
    let (mut s1, mut s2) = (Scratch::new(), Scratch::new());
    let mut g = c.benchmark_group("api_key_two_verifiers");
    let pair = |s1: &mut Scratch, s2: Option<&mut Scratch>| {
        let ok = v1.verify_api_key(black_box(k1), now, s1).is_ok();
        ok && v2.verify_api_key(black_box(k2), now, s2.unwrap_or(s1)).is_ok()
    };
    g.bench_function("one_scratch", |b| b.iter(|| pair(&mut s1, None)));
    g.bench_function("scratch_each", |b| b.iter(|| pair(&mut s1, Some(&mut s2))));
    g.finish();
    let mut s3 = Scratch::new();
    let one = || pair(&mut s3, None);
    let each = || pair(&mut s1, Some(&mut s2));
    common::note_paired("api_key_two_verifiers", "api_key_two_verifiers", || {
        common::paired_ratio(one, each, Duration::from_secs(1))
    });
}

fn basic_cached(c: &mut Criterion<ThreadCpu>) {
    let hash = common::basic_hash(warden::basic::DEFAULT_PBKDF2_ITERATIONS);
    let v = common::basic_verifier(&hash, 4096);
    let now = common::now();
    let (user, pass) = (BASIC_USER.as_bytes(), BASIC_PASSWORD.as_bytes());
    let mut scratch = Scratch::new();
    assert!(v.verify_basic(user, pass, now, &mut scratch).is_ok(), "first (cold) verification");
    let mut g = c.benchmark_group("basic_cached");
    g.bench_function("warden", |b| {
        b.iter(|| v.verify_basic(black_box(user), black_box(pass), now, &mut scratch).is_ok())
    });
    let key = hmac::Key::new(hmac::HMAC_SHA256, &[0x5a; 32]);
    let pair = format!("{BASIC_USER}:{BASIC_PASSWORD}");
    let pair = pair.as_bytes();
    g.bench_function("hmac_sha256_floor", |b| b.iter(|| hmac::sign(&key, black_box(pair))));
    g.finish();
    let warden = || v.verify_basic(black_box(user), black_box(pass), now, &mut scratch).is_ok();
    let floor = || hmac::sign(&key, black_box(pair)).as_ref()[0] != 0;
    common::note_paired("basic_cached", "basic_cached", || common::paired_ratio(warden, floor, Duration::from_secs(1)));
    let s = v.stats();
    assert_eq!(s.counter(warden::Counter::BasicCacheMiss), 1, "basic_cached measured cache misses");
}

/// The PHC string's salt and hash (standard base64, no padding).
fn phc_parts(phc: &str) -> (u32, Vec<u8>, Vec<u8>) {
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    use base64::Engine;
    let parts: Vec<&str> = phc.split('$').collect();
    // ["", "pbkdf2-sha256", "i=N", salt, hash]
    let iterations = parts[2].trim_start_matches("i=").parse().expect("iterations");
    let salt = STANDARD_NO_PAD.decode(parts[3]).expect("salt");
    let hash = STANDARD_NO_PAD.decode(parts[4]).expect("hash");
    (iterations, salt, hash)
}

fn basic_cold(c: &mut Criterion<ThreadCpu>) {
    let hash = common::basic_hash(warden::basic::DEFAULT_PBKDF2_ITERATIONS);
    let v = common::basic_verifier(&hash, 0);
    let now = common::now();
    let (user, pass) = (BASIC_USER.as_bytes(), BASIC_PASSWORD.as_bytes());
    let (iterations, salt, stored) = phc_parts(&hash);
    let iterations = NonZeroU32::new(iterations).unwrap();
    assert!(pbkdf2::verify(pbkdf2::PBKDF2_HMAC_SHA256, iterations, &salt, pass, &stored).is_ok());

    let mut g = c.benchmark_group("basic_cold");
    // A few hundred milliseconds per verification: ten one-shot samples.
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    let mut scratch = Scratch::new();
    g.bench_function("warden", |b| {
        b.iter(|| v.verify_basic(black_box(user), black_box(pass), now, &mut scratch).is_ok())
    });
    g.bench_function("pbkdf2_floor", |b| {
        b.iter(|| pbkdf2::verify(pbkdf2::PBKDF2_HMAC_SHA256, iterations, &salt, black_box(pass), &stored))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion_cpu();
    targets = api_key, api_key_two_verifiers, basic_cached, basic_cold
}
criterion_main!(benches);
