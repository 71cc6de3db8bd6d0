//! Remote JWKS against a local HTTPS server with a test CA: start-up fetch,
//! max-age refresh, rotation with overlap, unknown-kid refetch under a flood,
//! provider failures, OIDC discovery, and two issuers with colliding kids.
#![cfg(feature = "remote-jwks")]

mod common;

use common::https::{Reply, Server};
use common::mint::{jwks, TestKey};
use common::remote::{claims, code, eventually, Setup, NOW};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use warden::jwks::LogLevel;
use warden::{Code, Counter, Snapshot, Verifier};

#[test]
fn fetched_at_start_then_refreshed_on_max_age() {
    let srv = Server::start();
    let (k1, k2) = (TestKey::es256("k1"), TestKey::eddsa("k2"));
    srv.set("/jwks", Reply::json(jwks(&[&k1]).to_string()).max_age(1));
    let s = Setup::new(&srv);
    let v =
        s.verifier(json!({"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem", "refresh": {"min_s": 0.2, "max_s": 60}}));
    let (t1, t2) = (k1.sign(&claims(None)), k2.sign(&claims(None)));
    assert_eq!(code(&v, &t1), Code::Ok, "keys are there from the first request");
    assert_eq!(srv.hits("/jwks"), 1);
    assert_eq!(v.stats().counter(Counter::JwksFetch), 1);
    // The provider rotates: k1 disappears, k2 appears. max-age=1 drives a refresh.
    srv.set("/jwks", Reply::json(jwks(&[&k2]).to_string()).max_age(1));
    assert!(eventually(5.0, || code(&v, &t2) == Code::Ok), "new key served after max-age");
    assert_eq!(code(&v, &t1), Code::UnsupportedAlg, "a key gone from the provider stops verifying");
    assert!(s.logged("installed 1 keys"));
}

#[test]
fn without_max_age_the_default_ttl_applies_within_bounds() {
    let srv = Server::start();
    let k1 = TestKey::es256("k1");
    srv.set("/jwks", Reply::json(jwks(&[&k1]).to_string()));
    let s = Setup::new(&srv);
    let _v =
        s.verifier(json!({"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem", "refresh": {"min_s": 0.1, "max_s": 0.5}}));
    // Default TTL (600 s) clamped to max_s = 0.5 s: a few refreshes in 2 s.
    assert!(eventually(3.0, || srv.hits("/jwks") >= 3), "hits {}", srv.hits("/jwks"));
}

#[test]
fn rotation_with_overlap_and_the_token_cache() {
    let srv = Server::start();
    let (old, new) = (TestKey::es256("old"), TestKey::es256("new"));
    srv.set("/jwks", Reply::json(jwks(&[&old, &new]).to_string()).max_age(3600));
    let s = Setup::new(&srv);
    let v = s
        .verifier(json!({"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem", "refresh": {"min_s": 0.1, "max_s": 3600}}));
    let (to, tn) = (old.sign(&claims(None)), new.sign(&claims(None)));
    for _ in 0..2 {
        assert_eq!(code(&v, &to), Code::Ok);
        assert_eq!(code(&v, &tn), Code::Ok);
    }
    assert!(v.stats().counter(Counter::TokenCacheHit) >= 2);
    // End of the overlap: the provider drops `old`. An unknown kid makes the
    // refresher fetch (after min_s), and the cached `old` token dies with its key.
    srv.set("/jwks", Reply::json(jwks(&[&new]).to_string()).max_age(3600));
    let probe = TestKey::es256("not-yet-known").sign(&claims(None));
    assert_eq!(code(&v, &probe), Code::UnknownKey);
    assert!(eventually(5.0, || code(&v, &to) == Code::UnknownKey), "old key removed, cache entry not honoured");
    assert_eq!(code(&v, &tn), Code::Ok);
}

#[test]
fn unknown_kid_flood_costs_one_fetch_per_min_s_and_cannot_starve_a_real_new_key() {
    let srv = Server::start();
    let (k1, k2) = (TestKey::es256("k1"), TestKey::es256("k2"));
    srv.set("/jwks", Reply::json(jwks(&[&k1]).to_string()).max_age(3600));
    let s = Setup::new(&srv);
    let v = s
        .verifier(json!({"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem", "refresh": {"min_s": 1.0, "max_s": 3600}}));
    assert_eq!(srv.hits("/jwks"), 1);
    srv.set("/jwks", Reply::json(jwks(&[&k1, &k2]).to_string()).max_age(3600));
    let t2 = k2.sign(&claims(None));
    let start = Instant::now();
    let mut bogus = 0u32;
    let mut first_k2 = None;
    let mut k2_ok_after = None;
    while start.elapsed() < Duration::from_secs(3) {
        // A flood of made-up kids (the same forged token shape, new kid each time).
        for _ in 0..200 {
            let forged = format!(
                "{}.{}.AAAA",
                common::mint::b64u(json!({"alg": "ES256", "kid": format!("bogus-{bogus}")}).to_string().as_bytes()),
                common::mint::b64u(b"{}")
            );
            assert_eq!(code(&v, &forged), Code::UnknownKey);
            bogus += 1;
        }
        let c = code(&v, &t2);
        first_k2.get_or_insert(c);
        if c == Code::Ok && k2_ok_after.is_none() {
            k2_ok_after = Some(start.elapsed());
        }
    }
    let hits = srv.hits("/jwks");
    // Start-up fetch + at most one per min_s (3 s of flood → ≤ 4 more).
    assert!(hits <= 1 + 4, "{bogus} bogus kids caused {hits} fetches");
    assert_eq!(first_k2, Some(Code::UnknownKey), "the triggering request is answered at once, not held");
    let after = k2_ok_after.expect("the real new key must be served despite the flood");
    assert!(after < Duration::from_millis(2500), "{after:?}");
}

#[test]
fn provider_failures_keep_the_last_good_set() {
    let srv = Server::start();
    let k1 = TestKey::es256("k1");
    srv.set("/jwks", Reply::json(jwks(&[&k1]).to_string()).max_age(3600));
    let s = Setup::new(&srv);
    let v = s.verifier(json!({"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem",
                               "refresh": {"min_s": 0.05, "max_s": 0.2, "timeout_s": 0.3}}));
    let t1 = k1.sign(&claims(None));
    assert_eq!(code(&v, &t1), Code::Ok);
    // Not a set (one weak key would only be skipped: see
    // keys_warden_cannot_use_are_skipped_not_fatal).
    let not_a_set = json!({"keys": {"kty": "oct", "alg": "HS256", "kid": "w", "k": "c2hvcnQ"}}).to_string();
    let mut slow = Reply::json(jwks(&[&k1]).to_string());
    slow.delay = Duration::from_millis(1500);
    for (what, reply) in [
        ("status 500", Reply::status(500)),
        ("not valid JSON", Reply::json("{\"keys\": [")),
        ("must be an array", Reply::json(not_a_set)),
        ("timeout", slow),
    ] {
        let failures = v.stats().counter(Counter::JwksFetchFailure);
        srv.set("/jwks", reply);
        assert!(
            eventually(5.0, || v.stats().counter(Counter::JwksFetchFailure) > failures),
            "{what}: no failure counted"
        );
        assert_eq!(code(&v, &t1), Code::Ok, "{what}: the last good set keeps serving");
    }
    assert!(s.logged("HTTP status 500") && s.logged("not valid JSON") && s.logged("must be an array"));
    assert!(s.logs.lock().unwrap().iter().any(|(l, _)| *l == LogLevel::Warn));
    // The provider recovers.
    let k2 = TestKey::es256("k2");
    srv.set("/jwks", Reply::json(jwks(&[&k2]).to_string()).max_age(3600));
    assert!(eventually(5.0, || code(&v, &k2.sign(&claims(None))) == Code::Ok));
}

#[test]
fn provider_down_at_start_then_recovers() {
    let srv = Server::start();
    let k1 = TestKey::es256("k1");
    srv.set("/jwks", Reply::status(503));
    let s = Setup::new(&srv);
    let v =
        s.verifier(json!({"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem", "refresh": {"min_s": 0.1, "max_s": 1}}));
    let t1 = k1.sign(&claims(None));
    assert_eq!(code(&v, &t1), Code::UnsupportedAlg, "no keys yet");
    assert_eq!(v.stats().counter(Counter::JwksFetchFailure), 1);
    srv.set("/jwks", Reply::json(jwks(&[&k1]).to_string()));
    assert!(eventually(5.0, || code(&v, &t1) == Code::Ok), "retried with back-off");
}

#[test]
fn untrusted_certificate_is_refused() {
    let srv = Server::start();
    let k1 = TestKey::es256("k1");
    srv.set("/jwks", Reply::json(jwks(&[&k1]).to_string()));
    let s = Setup::new(&srv);
    // No ca_file: the public web roots do not know the test CA.
    let v = s.verifier(json!({"jwks_uri": srv.url("/jwks")}));
    assert_eq!(code(&v, &k1.sign(&claims(None))), Code::UnsupportedAlg);
    assert_eq!(v.stats().counter(Counter::JwksFetchFailure), 1);
}

#[test]
fn oidc_discovery() {
    let srv = Server::start();
    let k1 = TestKey::eddsa("k1");
    let issuer = srv.url("");
    srv.set(
        "/.well-known/openid-configuration",
        Reply::json(json!({"issuer": issuer, "jwks_uri": srv.url("/keys")}).to_string()),
    );
    srv.set("/keys", Reply::json(jwks(&[&k1]).to_string()));
    let s = Setup::new(&srv);
    let v = s.verifier(json!({"issuer": issuer, "discovery": true, "ca_file": "ca.pem"}));
    assert_eq!(code(&v, &k1.sign(&claims(Some(&issuer)))), Code::Ok);
    assert_eq!(code(&v, &k1.sign(&claims(Some("https://other")))), Code::BadIssuer);

    // A discovery document for another issuer is refused (RFC 8414 §3.3).
    let srv2 = Server::start();
    let issuer2 = srv2.url("");
    srv2.set(
        "/.well-known/openid-configuration",
        Reply::json(json!({"issuer": "https://evil.example", "jwks_uri": srv2.url("/keys")}).to_string()),
    );
    srv2.set("/keys", Reply::json(jwks(&[&k1]).to_string()));
    let s2 = Setup::new(&srv2);
    let v2 = s2.verifier(json!({"issuer": issuer2, "discovery": true, "ca_file": "ca.pem"}));
    assert_eq!(code(&v2, &k1.sign(&claims(Some(&issuer2)))), Code::UnsupportedAlg);
    assert_eq!(srv2.hits("/keys"), 0);
    assert!(s2.logged("evil.example"));
}

#[test]
fn two_issuers_with_colliding_kids() {
    let srv = Server::start();
    let a = TestKey::es256("k1");
    let b = TestKey::es256("k1");
    srv.set("/b-keys", Reply::json(jwks(&[&b]).to_string()));
    let s = Setup::new(&srv);
    let v = s.verifier(json!([
        {"issuer": "https://a.example", "jwks": jwks(&[&a]), "audience": ["api"]},
        {"issuer": "https://b.example", "jwks_uri": srv.url("/b-keys"), "ca_file": "ca.pem"}
    ]));
    let mut ca = claims(Some("https://a.example"));
    ca["aud"] = json!("api");
    assert_eq!(code(&v, &a.sign(&ca)), Code::Ok);
    assert_eq!(code(&v, &b.sign(&claims(Some("https://b.example")))), Code::Ok);
    // Same kid, but each issuer's tokens are checked with that issuer's keys only.
    assert_eq!(code(&v, &a.sign(&claims(Some("https://b.example")))), Code::BadSignature);
    let mut cb = claims(Some("https://a.example"));
    cb["aud"] = json!("api");
    assert_eq!(code(&v, &b.sign(&cb)), Code::BadSignature);
    // Per-profile policy: a's audience applies to a's tokens only.
    assert_eq!(code(&v, &a.sign(&claims(Some("https://a.example")))), Code::BadAudience);
    assert_eq!(code(&v, &a.sign(&claims(Some("https://c.example")))), Code::BadIssuer);
    assert_eq!(code(&v, &a.sign(&claims(None))), Code::BadIssuer);
    // set_jwks needs to know which profile.
    assert!(v.set_jwks(jwks(&[&a]).to_string().as_bytes()).is_err());
    v.set_jwks_for("https://a.example", jwks(&[&b]).to_string().as_bytes()).unwrap();
    assert_eq!(code(&v, &b.sign(&cb)), Code::Ok);
}

#[test]
fn remote_config_errors_name_the_place() {
    let garbled = std::env::temp_dir().join(format!("warden-garbled-{}.pem", std::process::id()));
    let real = Server::start().ca_pem.clone();
    std::fs::write(
        &garbled,
        format!("{real}-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n"),
    )
    .unwrap();
    let bad = [
        (json!({"jwks_uri": "http://127.0.0.1:9/jwks"}), "jwt.jwks_uri"),
        (json!({"jwks_uri": "http://example.com/jwks", "allow_insecure_loopback": true}), "jwt.jwks_uri"),
        // Looks like loopback, goes to example.com.
        (json!({"jwks_uri": "http://127.0.0.1:1@example.com/jwks", "allow_insecure_loopback": true}), "jwt.jwks_uri"),
        (json!({"jwks_uri": "https://a b/jwks"}), "jwt.jwks_uri"),
        (
            json!({"discovery": true, "issuer": "http://localhost@example.com", "allow_insecure_loopback": true}),
            "jwt.issuer",
        ),
        (json!({"discovery": true, "issuer": "https://idp.example/#x"}), "jwt.issuer"),
        (json!({"jwks_uri": "https://x/jwks", "discovery": true, "issuer": "https://x"}), "jwt.discovery"),
        (json!({"discovery": true}), "jwt.discovery"),
        (json!({"discovery": true, "issuer": ["https://a", "https://b"]}), "jwt.discovery"),
        (json!({"jwks_uri": "https://x/jwks", "refresh": {"min_s": 10, "max_s": 1}}), "jwt.refresh.max_s"),
        (json!({"jwks_uri": "https://x/jwks", "refresh": {"every": 10}}), "jwt.refresh.every"),
        (json!({"jwks_uri": "https://x/jwks", "ca_file": "missing.pem"}), "jwt.ca_file"),
        // A file with no certificate is refused now, not at every fetch.
        (
            json!({"jwks_uri": "https://x/jwks", "ca_file": concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")}),
            "jwt.ca_file",
        ),
        // A CERTIFICATE block that is no certificate (found by an audit:
        // it loaded, and every fetch then failed).
        (json!({"jwks_uri": "https://x/jwks", "ca_file": garbled.to_str().unwrap()}), "jwt.ca_file"),
        (json!({"refresh": {"min_s": 1}}), "jwt.refresh"),
        (json!({"fetched_key_alg": "RS256"}), "jwt.fetched_key_alg"),
        (json!({"jwks_uri": "https://x/jwks", "fetched_key_alg": "HS256"}), "jwt.fetched_key_alg"),
        (json!({"jwks_uri": "https://x/jwks", "fetched_key_alg": "none"}), "jwt.fetched_key_alg"),
        (json!({"jwks_uri": "https://x/jwks", "fetched_key_alg": "rs256"}), "jwt.fetched_key_alg"),
        (json!({"jwks_uri": "https://x/jwks", "fetched_key_alg": ["RS256"]}), "jwt.fetched_key_alg"),
        // It pins fetched keys only: a configured key still needs its alg.
        (
            json!({"jwks_uri": "https://x/jwks", "fetched_key_alg": "ES256",
                   "jwks": {"keys": [TestKey::es256("e").jwk().as_object().unwrap().clone().into_iter()
                       .filter(|(k, _)| k != "alg").collect::<serde_json::Map<_, _>>()]}}),
            "jwt.jwks.keys[0] (kid \"e\")",
        ),
        (json!([{"jwks": {"keys": []}}]), "jwt[0].issuer"),
        (json!([{"issuer": "a"}, {"issuer": ["b", "a"]}]), "jwt[1].issuer"),
        (json!([]), "jwt"),
    ];
    for (jwt, at) in bad {
        let e = Verifier::from_json(json!({ "jwt": jwt }).to_string().as_bytes())
            .err()
            .unwrap_or_else(|| panic!("{jwt} loaded"));
        assert_eq!(e.at, at, "{jwt}: {e}");
    }
    let e = Verifier::from_json(
        json!({"jwt": {"jwks_uri": "https://x/jwks", "ca_file": garbled.to_str().unwrap()}}).to_string().as_bytes(),
    )
    .err()
    .unwrap();
    assert!(e.message.contains("certificate 2 is not one a TLS client can trust"), "{e}");
    std::fs::remove_file(&garbled).unwrap();
    // Plain http to loopback is allowed only with the explicit opt-in.
    let ok = json!({"jwt": {"jwks_uri": "http://127.0.0.1:9/jwks", "allow_insecure_loopback": true,
                            "refresh": {"timeout_s": 0.2}}});
    assert!(Verifier::from_json(ok.to_string().as_bytes()).is_ok());
}

#[test]
fn cli_verifies_with_a_remote_key_set() {
    let srv = Server::start();
    let k1 = TestKey::es256("k1");
    srv.set("/jwks", Reply::json(jwks(&[&k1]).to_string()));
    let s = Setup::new(&srv);
    let path = s.dir.join("cli.json");
    std::fs::write(&path, json!({"jwt": {"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem"}}).to_string()).unwrap();
    let t = k1.sign(&claims(None));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["verify", "--config", path.to_str().unwrap(), "--now", &NOW.to_string(), "--jwt", &t])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"kid\": \"k1\""));
}

#[test]
fn no_logger_call_outlives_its_removal_or_the_verifier() {
    // A C host frees what its logger captured once `set_logger(NULL)` or
    // `warden_verifier_free` returns: both must wait for a call in flight
    // on the refresher thread, and no call may follow.
    #[derive(Default)]
    struct Seen {
        in_call: std::sync::atomic::AtomicBool,
        calls: std::sync::atomic::AtomicUsize,
    }
    use std::sync::atomic::Ordering::SeqCst;
    let logger = |seen: &Arc<Seen>| -> warden::Logger {
        let seen = seen.clone();
        Arc::new(move |_, _| {
            seen.in_call.store(true, SeqCst);
            std::thread::sleep(Duration::from_millis(150));
            seen.calls.fetch_add(1, SeqCst);
            seen.in_call.store(false, SeqCst);
        })
    };
    let config = json!({"jwt": {"jwks_uri": "http://127.0.0.1:9/jwks", "allow_insecure_loopback": true,
                                "refresh": {"min_s": 0.05, "max_s": 0.1, "timeout_s": 0.2}}});
    let snap = || Snapshot::from_json(config.to_string().as_bytes(), std::path::Path::new(".")).unwrap();
    for removal in ["set_logger(None)", "drop"] {
        let seen = Arc::new(Seen::default());
        let v = Verifier::with_logger(snap(), Some(logger(&seen)));
        assert!(seen.calls.load(SeqCst) >= 1, "{removal}: the failed first fetch is logged at creation");
        assert!(eventually(5.0, || seen.in_call.load(SeqCst)), "{removal}: the refresher logs its retries");
        match removal {
            "drop" => drop(v),
            _ => v.set_logger(None),
        }
        assert!(!seen.in_call.load(SeqCst), "{removal} returned during a logger call");
        let calls = seen.calls.load(SeqCst);
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(seen.calls.load(SeqCst), calls, "{removal}: the logger was called afterwards");
    }
}

#[test]
fn a_logger_may_drop_its_own_verifier() {
    // A host's garbage collector can run inside the logger's call and free
    // the verifier (Python: a verifier in a reference cycle, collected on
    // the refresher thread): that must not wait for the very call it is in.
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    let config = json!({"jwt": {"jwks_uri": "http://127.0.0.1:9/jwks", "allow_insecure_loopback": true,
                                "refresh": {"min_s": 0.05, "max_s": 0.1, "timeout_s": 0.2}}});
    let snap = Snapshot::from_json(config.to_string().as_bytes(), std::path::Path::new(".")).unwrap();
    let slot: Arc<std::sync::Mutex<Option<Verifier>>> = Arc::default();
    let (calls, dropped_on) = (Arc::new(AtomicUsize::new(0)), Arc::new(std::sync::Mutex::new(None)));
    let logger: warden::Logger = {
        let (slot, calls, dropped_on) = (slot.clone(), calls.clone(), dropped_on.clone());
        Arc::new(move |_, _| {
            calls.fetch_add(1, SeqCst);
            if let Some(v) = slot.lock().unwrap().take() {
                drop(v);
                *dropped_on.lock().unwrap() = std::thread::current().name().map(str::to_owned);
            }
        })
    };
    let v = Verifier::new(snap);
    v.set_logger(Some(logger));
    *slot.lock().unwrap() = Some(v);
    assert!(eventually(5.0, || dropped_on.lock().unwrap().is_some()), "the refresher's retry drops the verifier");
    assert_eq!(dropped_on.lock().unwrap().as_deref(), Some("warden-jwks"));
    let after = calls.load(SeqCst);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(calls.load(SeqCst), after, "not called once its own call dropped the verifier");
}

#[test]
fn keys_warden_cannot_use_are_skipped_not_fatal() {
    // Keycloak publishes an RSA-OAEP encryption key next to its signing
    // keys; other providers keys of algorithms warden does not support.
    // Refusing the whole set froze the keys: a key the provider withdrew
    // went on verifying.
    let srv = Server::start();
    let (k1, k2) = (TestKey::es256("k1"), TestKey::es256("k2"));
    // An HMAC secret published in a key set is readable by everyone: a
    // token "signed" with it must not verify (an audit found it did).
    let shared = TestKey::hs256("shared");
    let extra = |keys: &[&TestKey]| {
        let mut set = jwks(keys);
        let published = jwks(&[&shared])["keys"][0].clone();
        set["keys"].as_array_mut().unwrap().push(published);
        let arr = set["keys"].as_array_mut().unwrap();
        arr.push(json!({"kty": "RSA", "use": "enc", "alg": "RSA-OAEP", "kid": "enc1", "n": "AQAB", "e": "AQAB"}));
        arr.push(json!({"kty": "EC", "crv": "P-521", "alg": "ES512", "kid": "big", "x": "AA", "y": "AA"}));
        arr.push(json!({"kty": "oct", "alg": "HS256", "kid": "weak", "k": "c2hvcnQ"}));
        set["x-provider-extension"] = json!(true); // RFC 7517 §5: ignored
        set.to_string()
    };
    srv.set("/jwks", Reply::json(extra(&[&k1, &k2])).max_age(1));
    let s = Setup::new(&srv);
    let v =
        s.verifier(json!({"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem", "refresh": {"min_s": 0.2, "max_s": 60}}));
    let (t1, t2) = (k1.sign(&claims(None)), k2.sign(&claims(None)));
    assert_eq!(code(&v, &t1), Code::Ok, "the usable keys are installed");
    assert_eq!(code(&v, &t2), Code::Ok);
    assert!(s.logged("installed 2 keys (ignored 1 not for signatures"), "{:?}", s.logs.lock().unwrap());
    let warned = s
        .logs
        .lock()
        .unwrap()
        .iter()
        .any(|(l, m)| *l == LogLevel::Warn && m.contains("\"big\"") && m.contains("ES512"));
    assert!(warned, "a signing key warden cannot use is a warning: {:?}", s.logs.lock().unwrap());
    assert!(s.logged("\"weak\"") && s.logged("\"shared\""), "{:?}", s.logs.lock().unwrap());
    assert!(s.logged("its secret is public"), "symmetric keys are skipped with their reason");
    assert_eq!(code(&v, &shared.sign(&claims(None))), Code::UnsupportedAlg, "a published secret verifies nothing");
    // The provider withdraws k1: the swap happens, and k1 stops verifying.
    srv.set("/jwks", Reply::json(extra(&[&k2])).max_age(1));
    assert!(eventually(5.0, || code(&v, &t1) == Code::UnknownKey), "a withdrawn key stops verifying");
    assert_eq!(code(&v, &t2), Code::Ok);
    assert_eq!(v.stats().counter(Counter::JwksFetchFailure), 0);
}

#[test]
fn fetched_keys_without_alg_are_pinned_by_fetched_key_alg() {
    // Microsoft Entra ID publishes RSA keys with kid, use, x5t, x5c and
    // issuer, but no alg (RFC 7517 makes it optional). Pinning still holds:
    // the operator names the one alg such a key serves.
    let srv = Server::start();
    let (rsa, ec, pinned) = (TestKey::rs256("entra-1"), TestKey::es256("ec-1"), TestKey::es256("ec-2"));
    let mut set = jwks(&[&rsa, &ec, &pinned]);
    for k in &mut set["keys"].as_array_mut().unwrap()[..2] {
        let k = k.as_object_mut().unwrap();
        k.remove("alg");
        k.insert("use".into(), json!("sig"));
        k.insert("x5t".into(), json!("bm90LWNoZWNrZWQ"));
        k.insert("x5c".into(), json!(["MIIBnotchecked"]));
        k.insert("issuer".into(), json!("https://login.microsoftonline.com/tenant/v2.0"));
    }
    srv.set("/keys", Reply::json(set.to_string()));
    let s = Setup::new(&srv);
    let (t_rsa, t_ec, t_pinned) = (rsa.sign(&claims(None)), ec.sign(&claims(None)), pinned.sign(&claims(None)));

    // Without the option such keys are skipped, with a warning.
    let v = s.verifier(json!({"jwks_uri": srv.url("/keys"), "ca_file": "ca.pem"}));
    assert_eq!(code(&v, &t_rsa), Code::UnsupportedAlg);
    assert_eq!(code(&v, &t_ec), Code::UnknownKey, "ES256 has a key (ec-2), not this kid");
    assert_eq!(code(&v, &t_pinned), Code::Ok);
    assert!(s.logged("\"entra-1\"") && s.logged("missing \"alg\""), "{:?}", s.logs.lock().unwrap());

    // With it, the RSA key serves RS256 and nothing else; the EC key
    // without alg does not fit RS256 and is skipped; a key that names its
    // alg keeps it.
    let v = s.verifier(json!({"jwks_uri": srv.url("/keys"), "ca_file": "ca.pem", "fetched_key_alg": "RS256"}));
    assert_eq!(code(&v, &t_rsa), Code::Ok);
    assert_eq!(code(&v, &t_ec), Code::UnknownKey);
    assert_eq!(code(&v, &t_pinned), Code::Ok);
    assert!(s.logged("fetched_key_alg RS256 needs \"kty\" \"RSA\", but the key has \"EC\""));
    let payload = claims(None).to_string();
    for alg in ["RS384", "RS512", "PS256", "HS256"] {
        let header = json!({"alg": alg, "kid": "entra-1"}).to_string();
        assert_eq!(code(&v, &rsa.sign_text(&header, &payload)), Code::UnsupportedAlg, "{alg}");
    }

    // A reload that pins otherwise parses the set again (a fetch of its own):
    // ES256 now takes the EC key, and the RSA key is skipped.
    let hits = srv.hits("/keys");
    v.reload_from_json(
        json!({"jwt": {"jwks_uri": srv.url("/keys"), "ca_file": s.dir.join("ca.pem"), "fetched_key_alg": "ES256"}})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    // At least one fetch (the refresher may race the reload to it).
    assert!(srv.hits("/keys") > hits);
    assert_eq!(code(&v, &t_ec), Code::Ok);
    assert_eq!(code(&v, &t_rsa), Code::UnsupportedAlg);
    assert_eq!(code(&v, &t_pinned), Code::Ok);
}

#[test]
fn a_reload_applies_its_refresh_bounds_and_trust_at_once() {
    // Found by an audit: a source's schedule and fetched set were kept by
    // its URL alone, so a reload's lower max_s waited for the old
    // schedule (an hour, under the provider's max-age), and a reload that
    // changed ca_file kept serving keys fetched under the old trust.
    let srv = Server::start();
    let other = Server::start();
    let k1 = TestKey::es256("k1");
    srv.set("/jwks", Reply::json(jwks(&[&k1]).to_string()).max_age(3600));
    let s = Setup::new(&srv);
    std::fs::write(s.dir.join("other.pem"), &other.ca_pem).unwrap();
    let v = s
        .verifier(json!({"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem", "refresh": {"min_s": 0.1, "max_s": 3600}}));
    let t = k1.sign(&claims(None));
    assert_eq!(code(&v, &t), Code::Ok);
    assert_eq!(srv.hits("/jwks"), 1);
    let reload = |mut jwt: serde_json::Value| {
        // ca_file relative to the config's own directory.
        if let Some(f) = jwt.get("ca_file").and_then(|f| f.as_str()) {
            jwt["ca_file"] = json!(s.dir.join(f));
        }
        v.reload_from_json(json!({ "jwt": jwt }).to_string().as_bytes()).unwrap();
    };
    reload(json!({"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem", "refresh": {"min_s": 0.1, "max_s": 0.3}}));
    assert!(eventually(4.0, || srv.hits("/jwks") >= 3), "max_s 0.3 applies: {} fetches", srv.hits("/jwks"));

    // Trust another CA only: the set is fetched again under that trust,
    // which fails, so the reload is refused (not served the keys fetched
    // under the old trust).
    let other_ca = json!({"jwt": {"jwks_uri": srv.url("/jwks"), "ca_file": s.dir.join("other.pem")}});
    let e = v.reload_from_json(other_ca.to_string().as_bytes()).unwrap_err();
    assert!(e.message.contains("cannot be fetched") && e.message.contains("certificate"), "{e}");
    assert_eq!(code(&v, &t), Code::Ok, "the config in force keeps serving");

    // Two profiles, one URL, different trust: each has its own set.
    let path = s.dir.join("two.json");
    std::fs::write(
        &path,
        json!({"jwt": [
            {"issuer": "https://a", "jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem"},
            {"issuer": "https://b", "jwks_uri": srv.url("/jwks"), "ca_file": "other.pem"}]})
        .to_string(),
    )
    .unwrap();
    let v = Verifier::new(Snapshot::from_file(&path).unwrap());
    assert_eq!(code(&v, &k1.sign(&claims(Some("https://a")))), Code::Ok);
    assert_eq!(code(&v, &k1.sign(&claims(Some("https://b")))), Code::UnsupportedAlg);
}

#[test]
fn a_configured_key_shadows_a_fetched_one_of_its_kid_and_alg_only() {
    // Found by an audit: a reload adding an inline key under a kid the
    // provider also uses succeeded, but dropped every fetched key, and
    // every later refresh failed while saying the last good set served.
    let srv = Server::start();
    let (k1, k2) = (TestKey::es256("k1"), TestKey::es256("k2"));
    srv.set("/jwks", Reply::json(jwks(&[&k1, &k2]).to_string()).max_age(1));
    let s = Setup::new(&srv);
    let v =
        s.verifier(json!({"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem", "refresh": {"min_s": 0.1, "max_s": 60}}));
    let (t1, t2) = (k1.sign(&claims(None)), k2.sign(&claims(None)));
    assert_eq!((code(&v, &t1), code(&v, &t2)), (Code::Ok, Code::Ok));

    let mine = TestKey::es256("k1");
    let config = json!({"jwt": {"jwks_uri": srv.url("/jwks"), "ca_file": s.dir.join("ca.pem"),
        "jwks": jwks(&[&mine]), "refresh": {"min_s": 0.1, "max_s": 60}}});
    v.reload_from_json(config.to_string().as_bytes()).unwrap();
    assert_eq!(code(&v, &t2), Code::Ok, "the other fetched keys still serve");
    assert_eq!(code(&v, &mine.sign(&claims(None))), Code::Ok, "the configured k1 serves");
    assert_eq!(code(&v, &t1), Code::BadSignature, "the provider's k1 is shadowed");
    assert!(s.logged("a configured key has the same kid and alg: kid \"k1\" (ES256)"), "{:?}", s.logs.lock().unwrap());

    // Refreshes go on succeeding (max-age 1), and keep the same answer.
    let fetches = v.stats().counter(Counter::JwksFetch);
    assert!(eventually(5.0, || v.stats().counter(Counter::JwksFetch) > fetches + 1));
    assert_eq!(v.stats().counter(Counter::JwksFetchFailure), 0);
    assert_eq!(code(&v, &t2), Code::Ok);
    assert_eq!(code(&v, &t1), Code::BadSignature);
}

#[test]
fn a_set_of_many_unusable_keys_logs_a_bounded_line() {
    // Found by an audit: 1 MiB of empty objects made a 21 MB warning on
    // every refresh, through the host's logger.
    let srv = Server::start();
    let k1 = TestKey::es256("k1");
    let mut set = jwks(&[&k1]);
    for i in 0..5000 {
        set["keys"].as_array_mut().unwrap().push(json!({"kid": format!("junk-{i}")}));
    }
    srv.set("/jwks", Reply::json(set.to_string()));
    let s = Setup::new(&srv);
    let v = s.verifier(json!({"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem"}));
    assert_eq!(code(&v, &k1.sign(&claims(None))), Code::Ok);
    let logs = s.logs.lock().unwrap();
    let line = logs.iter().find(|(_, m)| m.contains("skipped keys")).expect("a warning");
    assert!(line.1.contains("junk-9\"") && !line.1.contains("junk-10\""), "the first ten: {}", &line.1[..300]);
    assert!(line.1.ends_with("; and 4990 more") && line.1.len() < 2000, "{} bytes", line.1.len());
}

#[test]
fn a_reload_to_a_source_that_cannot_be_fetched_is_refused() {
    // Found by an audit: the reload said Ok, and every token was then
    // unsupported_alg (no key at all) where the previous config served.
    let srv = Server::start();
    let (k1, k2) = (TestKey::es256("k1"), TestKey::es256("k2"));
    srv.set("/jwks", Reply::json(jwks(&[&k1]).to_string()).max_age(3600));
    srv.set("/next", Reply::json(jwks(&[&k2]).to_string()).max_age(3600));
    let s = Setup::new(&srv);
    let v = s.verifier(json!({"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem"}));
    let (t1, t2) = (k1.sign(&claims(None)), k2.sign(&claims(None)));
    assert_eq!(code(&v, &t1), Code::Ok);
    let reload = |path: &str| {
        let c = json!({"jwt": {"jwks_uri": srv.url(path), "ca_file": s.dir.join("ca.pem")}});
        v.reload_from_json(c.to_string().as_bytes())
    };
    let failures = v.stats().counter(Counter::ReloadFailure);
    let e = reload("/missing").unwrap_err();
    assert_eq!(e.at, "jwt.jwks_uri", "{e}");
    assert!(e.message.contains("cannot be fetched") && e.message.contains("404"), "{e}");
    assert_eq!(code(&v, &t1), Code::Ok, "the config in force keeps serving");
    assert_eq!(v.stats().counter(Counter::ReloadFailure), failures + 1);

    // A source that can be fetched: its keys serve from the first request
    // after the reload returns, fetched once.
    let hits = srv.hits("/next");
    reload("/next").unwrap();
    assert_eq!(code(&v, &t2), Code::Ok);
    assert_eq!(code(&v, &t1), Code::UnknownKey);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(srv.hits("/next"), hits + 1, "one fetch, not one by the reload and one by the refresher");

    // A source the config in force already names, down since it started,
    // does not refuse a reload: that config is no better off.
    let down = s.verifier(json!({"jwks_uri": srv.url("/missing"), "ca_file": "ca.pem"}));
    down.reload().unwrap();
}
