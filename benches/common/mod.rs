//! Fixtures shared by the benches: one key per algorithm, a realistic token
//! signed with each (ring), the matching config, and the raw ring "floor"
//! material for the same bytes.
//!
//! Every bench binary builds its fixtures once at start-up. Tokens are issued
//! 30 s before the process's fixed `now()` and expire an hour later, so they
//! are valid both for warden (which takes `now` as a parameter) and for the
//! `jsonwebtoken` crate (which reads the clock) for the whole run.

#![allow(dead_code)] // each bench binary uses a part of this module

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::Criterion;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use ring::{digest, hmac};
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::Duration;
use warden::Verifier;

/// Our own 2048-bit RSA test key (PKCS#8 DER, made with `openssl genpkey`):
/// ring cannot generate RSA keys.
const RSA2048_PKCS8: &[u8] = include_bytes!("../data/rsa2048.pk8.der");

pub const ISSUER: &str = "https://auth.example.com";
pub const AUDIENCE: &str = "orders-api";

/// The twelve JWS algorithms warden supports, in report order.
pub const ALGS: [&str; 12] =
    ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

/// The verification time used for every warden call: the wall clock when the
/// process first asked, truncated to whole seconds.
pub fn now() -> f64 {
    static NOW: OnceLock<f64> = OnceLock::new();
    *NOW.get_or_init(|| warden::unix_now().floor())
}

/// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`), as a
/// criterion measurement: on a shared machine, time the benchmark thread
/// spends descheduled does not count, so ratios measured minutes apart stay
/// comparable. Values are nanoseconds, like criterion's wall time.
pub struct ThreadCpu;

pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec we pass it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns() - start
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL: WallTime = WallTime;
        WALL.formatter() // nanoseconds, formatted as durations
    }
}

/// Criterion settings shared by the single-thread benches: thread CPU time,
/// short measurements (ratios within one run are what counts), no plots.
pub fn criterion_cpu() -> Criterion<ThreadCpu> {
    Criterion::default()
        .with_measurement(ThreadCpu)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .nresamples(20_000)
        .without_plots()
}

/// The same with wall time, for the multi-thread benches.
pub fn criterion_wall() -> Criterion<WallTime> {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40)
        .nresamples(20_000)
        .without_plots()
}

/// True under `cargo bench`; false under `cargo test --benches`, where
/// criterion runs each benchmark once as a test and the extra measurements
/// here are skipped.
pub fn benchmarking() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test" || a == "--list")
}

/// Thread CPU time, in ns, of `k` calls of `f`.
pub fn cpu_batch(f: &mut dyn FnMut() -> bool, k: u64) -> u64 {
    let t0 = thread_cpu_ns();
    for _ in 0..k {
        criterion::black_box(f());
    }
    thread_cpu_ns() - t0
}

/// The number of calls of `f` (a power of two) that takes at least
/// `round_ns` of thread CPU time.
pub fn calls_per_round(f: &mut dyn FnMut() -> bool, round_ns: u64) -> u64 {
    let mut k = 1;
    while cpu_batch(f, k) < round_ns && k < 1 << 30 {
        k *= 2;
    }
    k
}

/// The median, over many short rounds, of time(`a`) / time(`b`), with the
/// two run back to back in each round (order alternating) and timed in
/// thread CPU time: a cross-check of criterion's ratio of medians that load
/// changing between criterion's measurements cannot skew.
pub fn paired_ratio(mut a: impl FnMut() -> bool, mut b: impl FnMut() -> bool, budget: Duration) -> (f64, usize) {
    // Rounds of about 200 µs of `a`.
    let k = calls_per_round(&mut a, 200_000);
    let mut ratios = Vec::new();
    let end = std::time::Instant::now() + budget;
    while std::time::Instant::now() < end || ratios.len() < 21 {
        let (ta, tb) = if ratios.len() % 2 == 0 {
            let ta = cpu_batch(&mut a, k);
            (ta, cpu_batch(&mut b, k))
        } else {
            let tb = cpu_batch(&mut b, k);
            (cpu_batch(&mut a, k), tb)
        };
        ratios.push(ta as f64 / tb.max(1) as f64);
    }
    ratios.sort_by(|x, y| x.total_cmp(y));
    (ratios[ratios.len() / 2], ratios.len())
}

/// Is the criterion group `group` selected by the command line's filter
/// (none, or plain text found in the group's name)? A filter with regex
/// syntax selects no cross-check: run without one for those.
pub fn selected(group: &str) -> bool {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    match args.next() {
        None => true,
        Some(f) => !f.contains(|c: char| "\\.*+?()[]{}|^$".contains(c)) && group.contains(&f),
    }
}

/// Record `paired_ratio`'s answer for benches/report.py (when run by
/// benches/run.sh, which sets `WARDEN_BENCH_NOTES`); `group` is the criterion
/// group it cross-checks.
pub fn note_paired(group: &str, name: &str, paired: impl FnOnce() -> (f64, usize)) {
    if !benchmarking() || !selected(group) {
        return;
    }
    let (ratio, rounds) = paired();
    eprintln!("paired {name}: {ratio:.3}x over {rounds} rounds");
    note(&format!("paired_{name}.json"), &format!("{{\"ratio\": {ratio:.4}, \"rounds\": {rounds}}}\n"));
}

/// Write `text` to `name` in the notes directory, if there is one.
pub fn note(name: &str, text: &str) {
    if let Some(dir) = std::env::var_os("WARDEN_BENCH_NOTES") {
        let dir = std::path::PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(name), text);
    }
}

/// The raw ring verification that a token's signature costs, with nothing
/// else: what warden's overhead is measured against.
pub enum Floor {
    Hmac(hmac::Key),
    Rsa { n: Vec<u8>, e: Vec<u8>, params: &'static signature::RsaParameters },
    Unparsed { alg: &'static dyn signature::VerificationAlgorithm, public: Vec<u8> },
}

impl Floor {
    /// One verification (used to check the fixture; the benches call ring
    /// directly, without this match).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match self {
            Floor::Hmac(k) => hmac::verify(k, msg, sig).is_ok(),
            Floor::Rsa { n, e, params } => signature::RsaPublicKeyComponents { n, e }.verify(params, msg, sig).is_ok(),
            Floor::Unparsed { alg, public } => signature::UnparsedPublicKey::new(*alg, public).verify(msg, sig).is_ok(),
        }
    }
}

/// One algorithm's key, token and floor.
pub struct Fixture {
    pub alg: &'static str,
    pub kid: String,
    /// The compact JWS.
    pub token: String,
    /// The public JWK (with `alg` and `kid`) as configured.
    pub jwk: Value,
    /// `BASE64URL(header) . BASE64URL(payload)`, the signed bytes.
    pub signing_input: Vec<u8>,
    /// The decoded signature.
    pub signature: Vec<u8>,
    pub floor: Floor,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The realistic claims: about 250 bytes of payload JSON.
pub fn payload_json() -> String {
    let iat = now() as u64 - 30;
    format!(
        concat!(
            r#"{{"iss":"{iss}","sub":"user_2Nf8kQ4tXb7LmZ9pR3vW","aud":"{aud}","exp":{exp},"iat":{iat},"#,
            r#""nbf":{iat},"jti":"6f1c2e8a-93b4-4d7e-b0a5-2c9f8e71d346","scope":"orders:read orders:write","#,
            r#""name":"Alexandra Whitfield-Rodriguez"}}"#
        ),
        iss = ISSUER,
        aud = AUDIENCE,
        exp = iat + 3600,
        iat = iat,
    )
}

fn signing_input(alg: &str, kid: &str) -> String {
    let header = format!(r#"{{"alg":"{alg}","kid":"{kid}","typ":"JWT"}}"#);
    format!("{}.{}", b64(header.as_bytes()), b64(payload_json().as_bytes()))
}

fn rsa_params(alg: &str) -> (&'static dyn signature::RsaEncoding, &'static signature::RsaParameters) {
    match alg {
        "RS256" => (&signature::RSA_PKCS1_SHA256, &signature::RSA_PKCS1_2048_8192_SHA256),
        "RS384" => (&signature::RSA_PKCS1_SHA384, &signature::RSA_PKCS1_2048_8192_SHA384),
        "RS512" => (&signature::RSA_PKCS1_SHA512, &signature::RSA_PKCS1_2048_8192_SHA512),
        "PS256" => (&signature::RSA_PSS_SHA256, &signature::RSA_PSS_2048_8192_SHA256),
        "PS384" => (&signature::RSA_PSS_SHA384, &signature::RSA_PSS_2048_8192_SHA384),
        "PS512" => (&signature::RSA_PSS_SHA512, &signature::RSA_PSS_2048_8192_SHA512),
        _ => unreachable!("{alg} is not an RSA alg"),
    }
}

/// Build the fixture for `alg` with fresh keys (RSA: the committed key).
pub fn fixture(alg: &'static str) -> Fixture {
    let rng = SystemRandom::new();
    let kid = format!("{}-2025-01", alg.to_ascii_lowercase());
    let input = signing_input(alg, &kid);
    let msg = input.as_bytes();
    let (jwk, signature, floor) = match alg {
        "HS256" | "HS384" | "HS512" => {
            let (halg, len) = match alg {
                "HS256" => (hmac::HMAC_SHA256, 32),
                "HS384" => (hmac::HMAC_SHA384, 48),
                _ => (hmac::HMAC_SHA512, 64),
            };
            let mut secret = vec![0u8; len];
            ring::rand::SecureRandom::fill(&rng, &mut secret).expect("rng");
            let key = hmac::Key::new(halg, &secret);
            let sig = hmac::sign(&key, msg).as_ref().to_vec();
            let jwk = json!({"kty": "oct", "alg": alg, "kid": kid, "k": b64(&secret)});
            (jwk, sig, Floor::Hmac(key))
        }
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => {
            let kp = RsaKeyPair::from_pkcs8(RSA2048_PKCS8).expect("benches/data/rsa2048.pk8.der");
            let (enc, params) = rsa_params(alg);
            let mut sig = vec![0u8; kp.public().modulus_len()];
            kp.sign(enc, &rng, msg, &mut sig).expect("RSA sign");
            let pc = signature::RsaPublicKeyComponents::<Vec<u8>>::from(kp.public());
            let jwk = json!({"kty": "RSA", "alg": alg, "kid": kid, "n": b64(&pc.n), "e": b64(&pc.e)});
            (jwk, sig, Floor::Rsa { n: pc.n, e: pc.e, params })
        }
        "ES256" | "ES384" => {
            let (signing, verifying, crv, coord): (_, &'static dyn signature::VerificationAlgorithm, _, _) =
                if alg == "ES256" {
                    (&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &signature::ECDSA_P256_SHA256_FIXED, "P-256", 32)
                } else {
                    (&signature::ECDSA_P384_SHA384_FIXED_SIGNING, &signature::ECDSA_P384_SHA384_FIXED, "P-384", 48)
                };
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &rng).expect("EC keygen");
            let kp = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &rng).expect("EC key");
            let sig = kp.sign(&rng, msg).expect("ECDSA sign").as_ref().to_vec();
            let point = kp.public_key().as_ref().to_vec(); // 04 ‖ x ‖ y
            let (x, y) = (&point[1..1 + coord], &point[1 + coord..]);
            let jwk = json!({"kty": "EC", "alg": alg, "kid": kid, "crv": crv, "x": b64(x), "y": b64(y)});
            (jwk, sig, Floor::Unparsed { alg: verifying, public: point })
        }
        "EdDSA" => {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("Ed25519 keygen");
            let kp = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("Ed25519 key");
            let sig = kp.sign(msg).as_ref().to_vec();
            let public = kp.public_key().as_ref().to_vec();
            let jwk = json!({"kty": "OKP", "alg": alg, "kid": kid, "crv": "Ed25519", "x": b64(&public)});
            (jwk, sig, Floor::Unparsed { alg: &signature::ED25519, public })
        }
        _ => panic!("unknown alg {alg}"),
    };
    let token = format!("{input}.{}", b64(&signature));
    assert!(floor.verify(msg, &signature), "{alg}: the fixture's own signature does not verify");
    Fixture { alg, kid, token, jwk, signing_input: msg.to_vec(), signature, floor }
}

/// Fixtures for all twelve algorithms.
pub fn all_fixtures() -> Vec<Fixture> {
    ALGS.iter().map(|a| fixture(a)).collect()
}

/// The JWK Set text of `fixtures`' keys.
pub fn jwks_json<'a>(fixtures: impl IntoIterator<Item = &'a Fixture>) -> Vec<u8> {
    let keys: Vec<Value> = fixtures.into_iter().map(|f| f.jwk.clone()).collect();
    serde_json::to_vec(&json!({ "keys": keys })).unwrap()
}

/// A JWT config trusting `fixtures`' keys, with the issuer and audience
/// policy the tokens satisfy; `tokens` sizes the verified-token cache
/// (0 disables it: cold numbers). Checks that every fixture token verifies.
pub fn jwt_verifier<'a>(fixtures: impl IntoIterator<Item = &'a Fixture> + Clone, tokens: usize) -> Verifier {
    let jwks: Value = serde_json::from_slice(&jwks_json(fixtures.clone())).unwrap();
    let config = json!({
        "jwt": {"jwks": jwks, "issuer": [ISSUER], "audience": [AUDIENCE]},
        "cache": {"tokens": tokens},
    });
    let v = Verifier::from_json(config.to_string().as_bytes()).expect("bench config");
    let mut s = warden::Scratch::new();
    for f in fixtures {
        if let Err(r) = v.verify_jwt(f.token.as_bytes(), now(), &mut s) {
            panic!("{}: warden rejects the fixture token: {}", f.alg, r.code);
        }
    }
    v
}

/// An API key and a verifier that knows it (among 64 keys).
pub fn api_key_fixture() -> (String, Verifier) {
    let mut keys = Vec::new();
    let mut mine = String::new();
    for i in 0..64 {
        let k = warden::apikey::generate("wk_live").expect("keygen");
        let sha = warden::apikey::hex(digest::digest(&digest::SHA256, k.as_bytes()).as_ref());
        keys.push(json!({
            "id": format!("k_live_{i}"), "sha256": sha, "owner": "billing-svc",
            "scopes": ["orders:read", "orders:write"],
        }));
        if i == 17 {
            mine = k;
        }
    }
    let config = json!({"api_keys": {"keys": keys, "prefixes": ["wk_live", "wk_test"]}});
    let v = Verifier::from_json(config.to_string().as_bytes()).expect("api key config");
    assert!(v.verify_api_key(mine.as_bytes(), now(), &mut warden::Scratch::new()).is_ok());
    (mine, v)
}

pub const BASIC_USER: &str = "alice";
pub const BASIC_PASSWORD: &str = "correct horse battery staple";

/// A PHC PBKDF2-SHA256 hash of [`BASIC_PASSWORD`] at `iterations`.
pub fn basic_hash(iterations: u32) -> String {
    warden::basic::hash_password(BASIC_PASSWORD.as_bytes(), iterations).expect("hash")
}

/// A verifier with one Basic user whose stored hash is `hash`;
/// `cache_entries` 0 disables the verified-credential cache, otherwise the
/// TTL is a day (the longest allowed).
pub fn basic_verifier(hash: &str, cache_entries: usize) -> Verifier {
    let config = json!({
        "basic": {"users": [
            {"user": BASIC_USER, "hash": hash},
            {"user": "bob", "hash": hash},
        ]},
        "cache": {"basic_entries": cache_entries, "basic_ttl_s": 86400},
    });
    Verifier::from_json(config.to_string().as_bytes()).expect("basic config")
}

/// Pinning the calling thread to CPUs (Linux; elsewhere never pinned).
pub mod pin {
    /// The CPUs this thread may run on.
    #[cfg(target_os = "linux")]
    pub fn allowed_cpus() -> Vec<usize> {
        // SAFETY: a zeroed cpu_set_t is a valid empty set, filled by the call.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a cpu_set_t of the size passed.
        if unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) } != 0 {
            return Vec::new();
        }
        // SAFETY: CPU_ISSET reads the set at an index below CPU_SETSIZE.
        (0..libc::CPU_SETSIZE as usize).filter(|&c| unsafe { libc::CPU_ISSET(c, &set) }).collect()
    }

    /// Let this thread run on `cpus` only (true when done).
    #[cfg(target_os = "linux")]
    pub fn to(cpus: &[usize]) -> bool {
        // SAFETY: as above.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        for &c in cpus.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
            // SAFETY: CPU_SET writes an index below CPU_SETSIZE.
            unsafe { libc::CPU_SET(c, &mut set) };
        }
        // SAFETY: `set` is a cpu_set_t of the size passed.
        !cpus.is_empty() && unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) } == 0
    }

    #[cfg(not(target_os = "linux"))]
    pub fn allowed_cpus() -> Vec<usize> {
        Vec::new()
    }

    #[cfg(not(target_os = "linux"))]
    pub fn to(_: &[usize]) -> bool {
        false
    }
}
