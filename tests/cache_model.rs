//! The caches are invisible: a verifier with its verified-token and
//! verified-credential caches on gives, after any sequence of verifications
//! and run-time changes, exactly the verdicts of a verifier with both off.
//!
//! The two verifiers get the same random sequence of operations: JWT and
//! Basic verifications at times that go forwards and backwards across every
//! `exp`/`nbf`/`iat` boundary, run-time revocations and unrevocations, key-set
//! swaps (including a key replaced by another under the same kid, and keys
//! that disappear), and reloads that change the policy, the issuer profiles,
//! the keys and the Basic users. Every verdict must match field by field (the
//! code, Retry-After, subject, kid, scopes, exp and the payload), and every
//! run-time change must succeed or fail alike. A cache entry that outlived a
//! change it should not have shows up as a verdict only the cached verifier
//! gives.

mod common;

use common::mint::{jwks, Signer, TestKey};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::OnceLock;
use warden::{Code, Scratch, Target, Verifier};

const NOW: f64 = 1_750_000_000.0;
const ISS_I: &str = "https://i.example";
const ISS_J: &str = "https://j.example";

/// Time offsets from `NOW`: on, just before and just after every boundary
/// the tokens below have (exp +10/+100/+1000, nbf +50, iat -10/-500), the
/// 30 s leeway, and the 300 s Basic cache lifetime.
const DT: &[f64] = &[
    -600.0, -501.0, -100.0, -11.0, -1.0, 0.0, 9.0, 10.0, 11.0, 39.0, 40.0, 49.0, 50.0, 51.0, 99.0, 100.0, 101.0, 129.0,
    130.0, 131.0, 299.0, 300.0, 301.0, 999.0, 1000.0, 1030.0, 1031.0,
];

struct World {
    /// Signers: ES256 "e", another ES256 key under the same kid "e", HS256
    /// "h", another HS256 secret under kid "h", EdDSA "d".
    keys: Vec<TestKey>,
    tokens: Vec<String>,
    /// PHC hashes: user 0's first and second password, user 1's password.
    hashes: [String; 3],
}

const PASSWORDS: [&[u8]; 4] = [b"pw-one", b"pw-one-b", b"pw-two", b"wrong"];
const USERS: [&[u8]; 3] = [b"u0", b"u1", b"nobody"];
const JTIS: [&str; 4] = ["j1", "j2", "j3", "j4"];
const SUBS: [&str; 3] = ["a", "b", "c"];

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let other_secret: Vec<u8> = (0..32u8).map(|i| i ^ 0x5a).collect();
        let keys = vec![
            TestKey::es256("e"),
            TestKey::es256("e"),
            TestKey::hs256("h"),
            TestKey { kid: "h".into(), signer: Signer::Hs256(other_secret) },
            TestKey::eddsa("d"),
        ];
        let claim_sets = [
            json!({"sub": "a", "jti": "j1", "iat": NOW - 10.0, "exp": NOW + 100.0}),
            json!({"sub": "b", "jti": "j2", "iat": NOW - 10.0, "nbf": NOW + 50.0, "exp": NOW + 100.0,
                   "aud": "api", "scope": "r w", "iss": ISS_I}),
            json!({"sub": "a", "jti": "j3", "exp": NOW + 10.0, "aud": ["api", "x"], "iss": ISS_J, "scp": ["s1", "s2"]}),
            json!({"sub": "c", "iat": NOW - 500.0, "exp": NOW + 1000.0, "iss": ISS_I, "aud": "x"}),
            json!({"sub": "b", "jti": "j4", "iss": ISS_J}),
        ];
        let mut tokens = Vec::new();
        for k in &keys {
            for c in &claim_sets {
                tokens.push(k.sign(c));
            }
            // Without a kid: the candidates are every key of the alg.
            tokens.push(k.sign_raw(&json!({"alg": k.alg()}), &claim_sets[1]));
        }
        let h = |pw: &[u8]| warden::basic::hash_password(pw, 1000).unwrap();
        World { keys, tokens, hashes: [h(PASSWORDS[0]), h(PASSWORDS[1]), h(PASSWORDS[2])] }
    })
}

/// Everything a reload sets: which keys, which policy, which Basic users.
#[derive(Clone, Copy, Debug)]
struct Setup {
    /// Bit i: key i is in the set.
    keys: u8,
    policy: usize,
    /// Which hash user 0 has (0 or 1); user 1 exists when `two_users`.
    u0_hash: usize,
    two_users: bool,
}

fn key_set(mask: u8) -> Value {
    let w = world();
    let chosen: Vec<&TestKey> = w.keys.iter().enumerate().filter(|(i, _)| mask >> i & 1 == 1).map(|(_, k)| k).collect();
    // Two keys of one alg under one kid are refused at load: both verifiers
    // refuse alike, which the model checks too.
    jwks(&chosen)
}

/// The JWT section for `policy` (one profile, or two issuer profiles).
fn jwt_section(s: &Setup) -> Value {
    let keys = key_set(s.keys);
    match s.policy {
        0 => json!({"jwks": keys}),
        1 => json!({"jwks": keys, "audience": ["api"], "leeway_s": 30}),
        2 => json!({"jwks": keys, "issuer": [ISS_I, ISS_J], "require": ["exp", "jti"]}),
        3 => json!({"jwks": keys, "require": [], "max_lifetime_s": 200}),
        // Two issuer profiles: the second keeps only the keys of the low bits.
        4 => json!([
            {"jwks": keys, "issuer": [ISS_I], "audience": ["api", "x"]},
            {"jwks": key_set(s.keys & 0b00101), "issuer": [ISS_J], "leeway_s": 30, "require": []},
        ]),
        _ => unreachable!(),
    }
}

fn config(s: &Setup, cached: bool) -> Vec<u8> {
    let w = world();
    let mut users = vec![json!({"user": "u0", "hash": w.hashes[s.u0_hash]})];
    if s.two_users {
        users.push(json!({"user": "u1", "hash": w.hashes[2]}));
    }
    let cache = if cached {
        json!({"tokens": 4, "basic_entries": 4, "basic_ttl_s": 300})
    } else {
        json!({"tokens": 0, "basic_entries": 0})
    };
    let c = json!({
        "jwt": jwt_section(s),
        "basic": {"users": users, "max_failures_per_min": 3},
        "cache": cache,
    });
    serde_json::to_vec(&c).unwrap()
}

#[derive(Clone, Debug)]
enum Op {
    Jwt { token: usize, dt: usize },
    Basic { user: usize, password: usize, dt: usize },
    RevokeJti { jti: usize, until: Option<usize>, dt: usize },
    RevokeSub { sub: usize, before: usize },
    UnrevokeJti { jti: usize },
    UnrevokeSub { sub: usize },
    SetJwks { keys: u8 },
    Reload(Setup),
}

fn setup() -> impl Strategy<Value = Setup> {
    (0u8..32, 0usize..5, 0usize..2, any::<bool>()).prop_map(|(keys, policy, u0_hash, two_users)| Setup {
        keys,
        policy,
        u0_hash,
        two_users,
    })
}

fn op() -> impl Strategy<Value = Op> {
    let n_tokens = world().tokens.len();
    let dt = 0..DT.len();
    prop_oneof![
        8 => (0..n_tokens, dt.clone()).prop_map(|(token, dt)| Op::Jwt { token, dt }),
        3 => (0..USERS.len(), 0..PASSWORDS.len(), dt.clone())
            .prop_map(|(user, password, dt)| Op::Basic { user, password, dt }),
        1 => (0..JTIS.len(), prop::option::of(dt.clone()), dt.clone())
            .prop_map(|(jti, until, dt)| Op::RevokeJti { jti, until, dt }),
        1 => (0..SUBS.len(), dt.clone()).prop_map(|(sub, before)| Op::RevokeSub { sub, before }),
        1 => (0..JTIS.len()).prop_map(|jti| Op::UnrevokeJti { jti }),
        1 => (0..SUBS.len()).prop_map(|sub| Op::UnrevokeSub { sub }),
        1 => (0u8..32).prop_map(|keys| Op::SetJwks { keys }),
        1 => setup().prop_map(Op::Reload),
    ]
}

/// One verdict, owned, every field a host can read.
#[derive(Debug, PartialEq)]
enum Seen {
    Accepted {
        subject: Option<String>,
        kid: Option<String>,
        scopes: Vec<String>,
        exp: Option<String>,
        payload: Option<String>,
    },
    Rejected {
        code: Code,
        retry_after_s: Option<u64>,
    },
}

fn seen(v: warden::Verdict<'_>) -> Seen {
    match v {
        Ok(a) => Seen::Accepted {
            subject: a.subject().map(String::from),
            kid: a.kid().map(String::from),
            scopes: a.scopes().map(String::from).collect(),
            exp: a.exp_text().map(String::from),
            payload: a.payload().map(String::from),
        },
        Err(r) => Seen::Rejected { code: r.code, retry_after_s: r.retry_after_s },
    }
}

/// Apply `op` to `v`; what a host would observe.
fn apply(v: &Verifier, op: &Op, cached: bool, s: &mut Scratch) -> String {
    let w = world();
    match op {
        Op::Jwt { token, dt } => format!("{:?}", seen(v.verify_jwt(w.tokens[*token].as_bytes(), NOW + DT[*dt], s))),
        Op::Basic { user, password, dt } => {
            format!("{:?}", seen(v.verify_basic(USERS[*user], PASSWORDS[*password], NOW + DT[*dt], s)))
        }
        Op::RevokeJti { jti, until, dt } => {
            v.revoke(Target::Jti { jti: JTIS[*jti].into(), until: until.map(|u| NOW + DT[u]) }, NOW + DT[*dt]);
            String::new()
        }
        Op::RevokeSub { sub, before } => {
            v.revoke(Target::SubjectBefore { sub: SUBS[*sub].into(), before: NOW + DT[*before] }, NOW);
            String::new()
        }
        Op::UnrevokeJti { jti } => v.unrevoke(&Target::Jti { jti: JTIS[*jti].into(), until: None }).to_string(),
        Op::UnrevokeSub { sub } => {
            v.unrevoke(&Target::SubjectBefore { sub: SUBS[*sub].into(), before: 0.0 }).to_string()
        }
        Op::SetJwks { keys } => v.set_jwks(key_set(*keys).to_string().as_bytes()).is_ok().to_string(),
        Op::Reload(setup) => v.reload_from_json(&config(setup, cached)).is_ok().to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_caches_never_change_a_verdict(first in setup(), ops in prop::collection::vec(op(), 1..48)) {
        // A first setup that does not load (two keys under one kid) is the
        // same for both; start from the full set then.
        let load = |cached| Verifier::from_json(&config(&first, cached))
            .or_else(|_| Verifier::from_json(&config(&Setup { keys: 0b10101, ..first }, cached)))
            .unwrap();
        let (on, off) = (load(true), load(false));
        // One scratch for both: it also switches between verifiers' views.
        let mut s = Scratch::new();
        for (n, op) in ops.iter().enumerate() {
            let a = apply(&on, op, true, &mut s);
            let b = apply(&off, op, false, &mut s);
            prop_assert_eq!(&a, &b, "step {} {:?}", n, op);
        }
    }
}

/// The model must be able to fail: the operations reach accepted verdicts
/// from cache hits, rejections after changes, and Basic rate limits.
#[test]
fn the_model_reaches_hits_changes_and_limits() {
    let w = world();
    let s0 = Setup { keys: 0b10101, policy: 0, u0_hash: 0, two_users: true };
    let v = Verifier::from_json(&config(&s0, true)).unwrap();
    let mut s = Scratch::new();
    let ok = |v: &Verifier, t: usize, s: &mut Scratch| v.verify_jwt(w.tokens[t].as_bytes(), NOW, s).is_ok();
    assert!(ok(&v, 0, &mut s) && ok(&v, 0, &mut s));
    assert_eq!(v.stats().counter(warden::Counter::TokenCacheHit), 1);
    // Key "e" replaced under its kid: the cached token no longer verifies.
    v.set_jwks(key_set(0b10110).to_string().as_bytes()).unwrap();
    assert_eq!(v.verify_jwt(w.tokens[0].as_bytes(), NOW, &mut s).unwrap_err().code, Code::BadSignature);
    // The Basic cache hits, and the failure budget runs out.
    assert!(v.verify_basic(b"u0", PASSWORDS[0], NOW, &mut s).is_ok());
    assert!(v.verify_basic(b"u0", PASSWORDS[0], NOW, &mut s).is_ok());
    assert_eq!(v.stats().counter(warden::Counter::BasicCacheHit), 1);
    for _ in 0..3 {
        assert_eq!(v.verify_basic(b"u0", b"wrong", NOW, &mut s).unwrap_err().code, Code::BadCredentials);
    }
    assert_eq!(v.verify_basic(b"u0", PASSWORDS[0], NOW, &mut s).unwrap_err().code, Code::RateLimited);
}
