//! Broken configs, table-driven: each one must be refused with one clear,
//! one-line message that names the place (`ConfigError.at`) and the
//! offending member or value, and must never replace a working snapshot —
//! neither through `reload_from_json` nor `reload_from_file`, after which a
//! known-good token still verifies and the failure is counted.

use serde_json::{json, Value};
use std::path::PathBuf;
use warden::{Code, Counter, Scratch, Verifier};

const NOW: f64 = 1_700_000_000.0;
const SECRET: &[u8; 32] = b"bad-configs-test-hs256-secret-32";

fn b64(b: &[u8]) -> String {
    warden::b64::encode(&warden::b64::URL, b)
}

fn hs_key() -> Value {
    json!({"kty": "oct", "alg": "HS256", "kid": "good", "k": b64(SECRET)})
}

fn good_token() -> String {
    let h = b64(br#"{"alg":"HS256","kid":"good"}"#);
    let p = b64(br#"{"sub":"ok","exp":1700003600}"#);
    let si = format!("{h}.{p}");
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET), si.as_bytes());
    format!("{si}.{}", b64(tag.as_ref()))
}

/// A scratch directory for the file-based cases.
fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("warden-bad-configs-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `content` to `name` in the tests' directory. Tests run in
/// parallel and each builds the table, rewriting these files while others
/// load configs naming them: a write in place would let a loader read a
/// truncated file (an empty htpasswd file is a valid one), so the content
/// is written beside and renamed over, and a reader sees a whole file.
fn file(name: &str, content: &str) -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let p = dir().join(name);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir().join(format!(".{name}.{n}"));
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, &p).unwrap();
    p.display().to_string()
}

fn ec_p256(x: &str, y: &str) -> Value {
    json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "kid": "ec", "x": x, "y": y})
}

const P256_X: &str = "7TZBqmx2Dgc5bkVabSFaqFMCnteFKghsoo6Qdg76Z1Y";
const P256_Y: &str = "ZbpcXOdREz9H24qi65ECRWG-qeGKuFI4gzSgipGKh3c";
const PBKDF2_OK: &str = "$pbkdf2-sha256$i=1000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

fn jwt(extra: Value) -> Value {
    let mut j = json!({"jwks": {"keys": [hs_key()]}});
    for (k, v) in extra.as_object().unwrap() {
        j[k] = v.clone();
    }
    json!({ "jwt": j })
}

fn keys(list: Vec<Value>) -> Value {
    json!({"jwt": {"jwks": {"keys": list}}})
}

fn api(entry: Value) -> Value {
    json!({"api_keys": {"prefixes": ["wk_live"], "keys": [entry]}})
}

const SHA: &str = "77f7022a7c59ed82907b322c318e508408845ca8a81cd41b5276ec3c771bd598";

/// (what, config text, `at` must contain, message must contain)
fn table() -> Vec<(&'static str, String, String, &'static str)> {
    let rsa = |bits: usize, e: &str| {
        let mut n = vec![0xc3u8; bits / 8];
        n[bits / 8 - 1] |= 1;
        json!({"kty": "RSA", "alg": "RS256", "kid": "r", "n": b64(&n), "e": e})
    };
    let htpasswd_sha = file("sha.htpasswd", &format!("alice:{PBKDF2_OK}\nbob:{{SHA}}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"));
    let htpasswd_apr1 = file("apr1.htpasswd", "# users\ncarol:$apr1$salt$hash\n");
    let htpasswd_plain = file("plain.htpasswd", "dave:hunter2\n");
    let htpasswd_dup = file("dup.htpasswd", &format!("alice:{PBKDF2_OK}\n"));
    let jwks_not_json = file("notjson.json", "{\"keys\": [");
    let jwks_weak =
        file("weak.json", &json!({"keys": [{"kty": "oct", "alg": "HS256", "kid": "w", "k": "c2hvcnQ"}]}).to_string());
    let missing = dir().join("absent.json").display().to_string();
    let s = |v: Value| v.to_string();
    vec![
        // Not JSON, or not the right shape at the top.
        ("not JSON", r#"{"jwt": {"#.to_string(), "line 1".into(), "not valid JSON"),
        ("trailing garbage", r#"{} {}"#.to_string(), "line 1".into(), "not valid JSON"),
        ("top level is an array", "[]".to_string(), "the config".into(), "must be an object"),
        ("unknown top-level key", s(json!({"jwts": {}})), "jwts".into(), "unknown key"),
        (
            "member given twice",
            r#"{"jwt": {"leeway_s": 1, "leeway_s": 300}}"#.to_string(),
            "jwt.leeway_s".into(),
            "twice",
        ),
        // Wrong types and values in the jwt section.
        ("unknown jwt member", s(jwt(json!({"leeway": 30}))), "jwt.leeway".into(), "unknown key"),
        ("leeway as a string", s(jwt(json!({"leeway_s": "30"}))), "jwt.leeway_s".into(), "number"),
        ("negative leeway", s(jwt(json!({"leeway_s": -1}))), "jwt.leeway_s".into(), "out of range"),
        ("issuer as a number", s(jwt(json!({"issuer": 5}))), "jwt.issuer".into(), "must be"),
        // An empty list once switched the check off: every issuer / audience passed.
        ("issuer an empty list", s(jwt(json!({"issuer": []}))), "jwt.issuer".into(), "empty list"),
        ("audience an empty list", s(jwt(json!({"audience": []}))), "jwt.audience".into(), "empty list"),
        // An empty name matched no ordinary token (found by an audit).
        ("issuer the empty string", s(jwt(json!({"issuer": ""}))), "jwt.issuer[0]".into(), "empty string"),
        ("an empty issuer in a list", s(jwt(json!({"issuer": ["a", ""]}))), "jwt.issuer[1]".into(), "empty string"),
        ("an empty audience", s(jwt(json!({"audience": [""]}))), "jwt.audience[0]".into(), "empty string"),
        ("an empty required claim", s(jwt(json!({"require": ["exp", ""]}))), "jwt.require[1]".into(), "empty string"),
        ("typ empty", s(jwt(json!({"typ": ""}))), "jwt.typ".into(), "empty media type"),
        ("typ application/ alone", s(jwt(json!({"typ": "application/"}))), "jwt.typ".into(), "empty media type"),
        ("require with a number", s(jwt(json!({"require": ["exp", 1]}))), "jwt.require[1]".into(), "string"),
        ("typ as a list", s(jwt(json!({"typ": ["at+jwt"]}))), "jwt.typ".into(), "string"),
        ("max_token_bytes 0", s(jwt(json!({"max_token_bytes": 0}))), "jwt.max_token_bytes".into(), "at least 1"),
        (
            "max_token_bytes fractional",
            s(jwt(json!({"max_token_bytes": 1.5}))),
            "jwt.max_token_bytes".into(),
            "whole number",
        ),
        ("jwks as a list", s(json!({"jwt": {"jwks": [hs_key()]}})), "jwt.jwks".into(), "keys"),
        (
            "jwks with an extra member",
            s(json!({"jwt": {"jwks": {"keys": [], "x": 1}}})),
            "jwt.jwks.x".into(),
            "unknown member",
        ),
        // Keys (SPEC §1, §5).
        (
            "JWK without alg",
            s(keys(vec![json!({"kty": "oct", "kid": "n", "k": b64(SECRET)})])),
            "jwt.jwks.keys[0]".into(),
            "alg",
        ),
        (
            "JWK with alg none",
            s(keys(vec![json!({"kty": "oct", "alg": "none", "k": b64(SECRET)})])),
            "jwt.jwks.keys[0]".into(),
            "unsupported",
        ),
        (
            "JWK alg in lower case",
            s(keys(vec![json!({"kty": "oct", "alg": "hs256", "k": b64(SECRET)})])),
            "jwt.jwks.keys[0]".into(),
            "unsupported",
        ),
        (
            "HS256 secret of 31 bytes",
            s(keys(vec![json!({"kty": "oct", "alg": "HS256", "k": b64(&SECRET[..31])})])),
            "jwt.jwks.keys[0]".into(),
            "at least 32",
        ),
        (
            "HS512 secret of 32 bytes",
            s(keys(vec![json!({"kty": "oct", "alg": "HS512", "k": b64(SECRET)})])),
            "jwt.jwks.keys[0]".into(),
            "at least 64",
        ),
        (
            "HMAC secret with padding",
            s(keys(vec![json!({"kty": "oct", "alg": "HS256", "k": format!("{}=", b64(SECRET))})])),
            "jwt.jwks.keys[0]".into(),
            "base64url",
        ),
        ("RSA 1024", s(keys(vec![rsa(1024, "AQAB")])), "jwt.jwks.keys[0]".into(), "2048"),
        ("RSA even exponent", s(keys(vec![rsa(2048, "AQAA")])), "jwt.jwks.keys[0]".into(), "exponent"),
        ("RSA exponent 1", s(keys(vec![rsa(2048, "AQ")])), "jwt.jwks.keys[0]".into(), "exponent"),
        (
            "HS256 on an RSA key",
            s(keys(vec![json!({"kty": "RSA", "alg": "HS256", "n": "AQAB", "e": "AQAB"})])),
            "jwt.jwks.keys[0]".into(),
            "\"oct\"",
        ),
        (
            "ES256 on a P-384 key",
            s(keys(vec![json!({"kty": "EC", "crv": "P-384", "alg": "ES256", "x": P256_X, "y": P256_Y})])),
            "jwt.jwks.keys[0]".into(),
            "P-256",
        ),
        (
            "EC point off the curve",
            s(keys(vec![ec_p256(P256_X, P256_X)])),
            "jwt.jwks.keys[0] (kid \"ec\")".into(),
            "not on",
        ),
        (
            "EC private key pasted",
            s(keys(vec![{
                let mut k = ec_p256(P256_X, P256_Y);
                k["d"] = json!("AAAA");
                k
            }])),
            "jwt.jwks.keys[0]".into(),
            "private",
        ),
        ("duplicate kid for one alg", s(keys(vec![hs_key(), hs_key()])), "jwt.jwks.keys".into(), "\"good\""),
        (
            "key_ops not a list",
            s(keys(vec![{
                let mut k = hs_key();
                k["key_ops"] = json!("verify");
                k
            }])),
            "jwt.jwks.keys[0]".into(),
            "key_ops",
        ),
        (
            "kid as a number",
            s(keys(vec![{
                let mut k = hs_key();
                k["kid"] = json!(7);
                k
            }])),
            "jwt.jwks.keys[0]".into(),
            "kid",
        ),
        // Key files.
        ("missing jwks_file", s(json!({"jwt": {"jwks_file": missing}})), "jwt.jwks_file".into(), "cannot read"),
        // An endless file ends in a refusal, not in exhausted memory.
        (
            "endless jwks_file",
            s(json!({"jwt": {"jwks_file": "/dev/zero"}})),
            "jwt.jwks_file".into(),
            "larger than 64 MiB",
        ),
        ("huge token cache", s(json!({"cache": {"tokens": 2_000_000}})), "cache.tokens".into(), "from 0 to 1048576"),
        (
            "jwks_file not JSON",
            s(json!({"jwt": {"jwks_file": jwks_not_json}})),
            "jwt.jwks_file".into(),
            "not valid JSON",
        ),
        ("weak key in jwks_file", s(json!({"jwt": {"jwks_file": jwks_weak}})), "jwt.jwks_file".into(), "at least 32"),
        (
            "kid in jwks_file clashing with inline",
            s(
                json!({"jwt": {"jwks": {"keys": [{"kty": "oct", "alg": "HS256", "kid": "w", "k": b64(SECRET)}]}, "jwks_file": file("dupkid.json", &json!({"keys": [{"kty": "oct", "alg": "HS256", "kid": "w", "k": b64(&[7u8; 32])}]}).to_string())}}),
            ),
            "jwt.jwks_file".into(),
            "keys[0]: kid \"w\" is used by another HS256 key, given inline",
        ),
        (
            "member given twice in jwks_file",
            s(json!({"jwt": {"jwks_file": file("dupmember.json", &format!(
                r#"{{"keys":[{{"kty":"oct","alg":"HS512","alg":"HS256","kid":"h1","k":"{}"}}]}}"#,
                b64(SECRET)
            ))}})),
            "jwt.jwks_file".into(),
            "given twice",
        ),
        // Remote key sources refused before anything is fetched.
        (
            "jwks_uri over plain http",
            s(jwt(json!({"jwks_uri": "http://keys.example/jwks.json"}))),
            "jwt.jwks_uri".into(),
            "http",
        ),
        (
            "refresh without a remote source",
            s(jwt(json!({"refresh": {"min_s": 60}}))),
            "jwt.refresh".into(),
            "jwks_uri",
        ),
        (
            "profile list entry without issuer",
            s(json!({"jwt": [{"jwks": {"keys": [hs_key()]}}]})),
            "jwt[0].issuer".into(),
            "issuer",
        ),
        // API keys.
        (
            "API key sha256 in upper case",
            s(api(json!({"id": "k", "sha256": SHA.to_uppercase()}))),
            "api_keys.keys[0].sha256".into(),
            "hex",
        ),
        (
            "API key sha256 too short",
            s(api(json!({"id": "k", "sha256": &SHA[..62]}))),
            "api_keys.keys[0].sha256".into(),
            "64",
        ),
        ("API key without id", s(api(json!({"sha256": SHA}))), "api_keys.keys[0].id".into(), "required"),
        (
            "API key unknown member",
            s(api(json!({"id": "k", "sha256": SHA, "scope": ["a"]}))),
            "api_keys.keys[0].scope".into(),
            "unknown key",
        ),
        (
            "API key scopes not strings",
            s(api(json!({"id": "k", "sha256": SHA, "scopes": [1]}))),
            "api_keys.keys[0].scopes[0]".into(),
            "string",
        ),
        (
            "API key window reversed",
            s(api(json!({"id": "k", "sha256": SHA, "not_before": 2, "not_after": 1}))),
            "api_keys.keys[0]".into(),
            "not_after",
        ),
        (
            "rate burst 0",
            s(api(json!({"id": "k", "sha256": SHA, "rate": {"per_s": 5, "burst": 0}}))),
            "api_keys.keys[0].rate.burst".into(),
            "at least 1",
        ),
        (
            "rate per_s 0",
            s(api(json!({"id": "k", "sha256": SHA, "rate": {"per_s": 0, "burst": 1}}))),
            "api_keys.keys[0].rate.per_s".into(),
            "at least 1e-9",
        ),
        (
            // Tiny enough that one over it is infinite: the limit was void.
            "rate per_s subnormal",
            s(api(json!({"id": "k", "sha256": SHA, "rate": {"per_s": 1e-310, "burst": 1}}))),
            "api_keys.keys[0].rate.per_s".into(),
            "at least 1e-9",
        ),
        (
            "keys without prefixes",
            s(json!({"api_keys": {"keys": [{"id": "k", "sha256": SHA}]}})),
            "api_keys.prefixes".into(),
            "required",
        ),
        (
            "prefix with a dash",
            s(json!({"api_keys": {"prefixes": ["wk-live"]}})),
            "api_keys.prefixes[0]".into(),
            "letters",
        ),
        (
            "same API key id twice",
            s(
                json!({"api_keys": {"prefixes": ["wk"], "keys": [{"id": "k", "sha256": SHA}, {"id": "k", "sha256": SHA.replace('7', "8")}]}}),
            ),
            "api_keys.keys".into(),
            "\"k\"",
        ),
        // Basic.
        (
            "user name with a colon",
            s(json!({"basic": {"users": [{"user": "a:b", "hash": PBKDF2_OK}]}})),
            "basic.users[0].user".into(),
            "':'",
        ),
        (
            "apr1 hash inline",
            s(json!({"basic": {"users": [{"user": "a", "hash": "$apr1$abc$def"}]}})),
            "basic.users[0].hash".into(),
            "apr1",
        ),
        (
            "PBKDF2 with 10 iterations",
            s(
                json!({"basic": {"users": [{"user": "a", "hash": "$pbkdf2-sha256$i=10$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"}]}}),
            ),
            "basic.users[0].hash".into(),
            "too weak",
        ),
        (
            "bcrypt $2a$",
            s(
                json!({"basic": {"users": [{"user": "a", "hash": "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"}]}}),
            ),
            "basic.users[0].hash".into(),
            "$2a$",
        ),
        (
            "bcrypt cost 3",
            s(
                json!({"basic": {"users": [{"user": "a", "hash": "$2y$03$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"}]}}),
            ),
            "basic.users[0].hash".into(),
            "cost",
        ),
        (
            "plain-text password",
            s(json!({"basic": {"users": [{"user": "a", "hash": "hunter2"}]}})),
            "basic.users[0].hash".into(),
            "plain text",
        ),
        (
            "htpasswd with a {SHA} line",
            s(json!({"basic": {"htpasswd_file": htpasswd_sha}})),
            "basic.htpasswd_file".into(),
            "sha.htpasswd:2",
        ),
        (
            "htpasswd with an apr1 line",
            s(json!({"basic": {"htpasswd_file": htpasswd_apr1}})),
            "basic.htpasswd_file".into(),
            "apr1.htpasswd:2",
        ),
        (
            "htpasswd with a plain line",
            s(json!({"basic": {"htpasswd_file": htpasswd_plain}})),
            "basic.htpasswd_file".into(),
            "plain.htpasswd:1",
        ),
        (
            "missing htpasswd file",
            s(json!({"basic": {"htpasswd_file": missing}})),
            "basic.htpasswd_file".into(),
            "cannot read",
        ),
        (
            "user inline and in htpasswd",
            s(json!({"basic": {"users": [{"user": "alice", "hash": PBKDF2_OK}], "htpasswd_file": htpasswd_dup}})),
            "basic.users".into(),
            "twice",
        ),
        (
            "max_failures_per_min 0",
            s(json!({"basic": {"max_failures_per_min": 0}})),
            "basic.max_failures_per_min".into(),
            "at least 1",
        ),
        (
            // Past what a budget counts to: it would never lock out.
            "max_failures_per_min past the count",
            s(json!({"basic": {"max_failures_per_min": 16_777_216}})),
            "basic.max_failures_per_min".into(),
            "from 0 to 16777215",
        ),
        // Revocations and caches.
        (
            "sub_before not a number",
            s(json!({"revoked": {"sub_before": {"alice": "2024-01-01"}}})),
            "revoked.sub_before.alice".into(),
            "NumericDate",
        ),
        ("unknown revoked member", s(json!({"revoked": {"jtis": ["a"]}})), "revoked.jtis".into(), "unknown key"),
        ("cache size negative", s(json!({"cache": {"tokens": -1}})), "cache.tokens".into(), "whole number"),
        (
            "cache TTL beyond a day",
            s(json!({"cache": {"basic_ttl_s": 1e9}})),
            "cache.basic_ttl_s".into(),
            "out of range",
        ),
    ]
}

fn working() -> Verifier {
    let v = Verifier::from_json(json!({"jwt": {"jwks": {"keys": [hs_key()]}}}).to_string().as_bytes()).unwrap();
    assert_good(&v, "fresh");
    v
}

fn assert_good(v: &Verifier, when: &str) {
    let r = v.verify_jwt(good_token().as_bytes(), NOW, &mut Scratch::new()).map(|_| ()).map_err(|e| e.code);
    assert!(r.is_ok(), "known-good token rejected {when}: {r:?}");
}

#[test]
fn every_broken_config_is_refused_with_its_place() {
    let table = table();
    assert!(table.len() >= 25, "the table has {} rows", table.len());
    let mut failures = Vec::new();
    for (what, text, at, msg) in &table {
        match Verifier::from_json(text.as_bytes()) {
            Ok(_) => failures.push(format!("{what}: ACCEPTED {text}")),
            Err(e) => {
                let shown = e.to_string();
                if e.at.is_empty() || !e.at.contains(at.as_str()) {
                    failures.push(format!("{what}: at {:?}, expected it to contain {at:?} ({shown})", e.at));
                }
                if !e.message.contains(msg) {
                    failures.push(format!("{what}: message {:?} does not mention {msg:?}", e.message));
                }
                if shown.contains('\n') {
                    failures.push(format!("{what}: message is not one line: {shown:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), table.len(), failures.join("\n"));
}

#[test]
fn a_broken_reload_never_replaces_a_working_snapshot() {
    let v = working();
    let before = v.stats().counter(Counter::ReloadFailure);
    let table = table();
    for (i, (what, text, _, _)) in table.iter().enumerate() {
        let e = v.reload_from_json(text.as_bytes()).expect_err(what);
        assert!(!e.at.is_empty(), "{what}: reload error without a place: {e}");
        assert_good(&v, &format!("after the failed reload of {what:?}"));
        // The same through a file: the message also names the file.
        let path = dir().join(format!("bad-{i}.json"));
        std::fs::write(&path, text).unwrap();
        let e = v.reload_from_file(&path).expect_err(what);
        assert!(e.to_string().contains(&path.display().to_string()), "{what}: {e}");
        assert_good(&v, &format!("after the failed file reload of {what:?}"));
    }
    assert_eq!(v.stats().counter(Counter::ReloadFailure) - before, 2 * table.len() as u64);
    // The verifier still reloads a good config afterwards.
    let other =
        json!({"jwt": {"jwks": {"keys": [{"kty": "oct", "alg": "HS256", "kid": "other", "k": b64(&[9u8; 32])}]}}});
    v.reload_from_json(other.to_string().as_bytes()).unwrap();
    let r = v.verify_jwt(good_token().as_bytes(), NOW, &mut Scratch::new()).map(|_| ()).map_err(|e| e.code);
    assert_eq!(r, Err(Code::UnknownKey), "the good reload took effect");
}

#[test]
fn a_config_file_that_cannot_be_read_names_the_file() {
    let missing = dir().join("no-such-config.json");
    let e = Verifier::from_file(&missing).err().expect("refused");
    assert_eq!(e.file.as_deref(), Some(missing.display().to_string().as_str()));
    assert!(e.message.contains("cannot read"), "{e}");
    let v = working();
    assert!(v.reload_from_file(&missing).is_err());
    assert_good(&v, "after reloading a missing file");
}

/// `set_jwks` (a host pushing keys) refuses the same broken keys, with the
/// place, and keeps the key set in force.
#[test]
fn a_broken_key_set_never_replaces_working_keys() {
    let v = working();
    for (what, set) in [
        ("not JSON", "{\"keys\": [".to_string()),
        ("not a set", "[]".to_string()),
        ("weak secret", json!({"keys": [{"kty": "oct", "alg": "HS256", "kid": "good", "k": "c2hvcnQ"}]}).to_string()),
        ("no alg", json!({"keys": [{"kty": "oct", "kid": "good", "k": b64(SECRET)}]}).to_string()),
        ("duplicate kid", json!({"keys": [hs_key(), hs_key()]}).to_string()),
        ("extra member", json!({"keys": [], "next": "x"}).to_string()),
    ] {
        let e = v.set_jwks(set.as_bytes()).expect_err(what);
        assert!(!e.at.is_empty(), "{what}: {e}");
        assert_good(&v, &format!("after the refused key set {what:?}"));
    }
}

/// A member given twice must be refused wherever config-like JSON enters
/// (SPEC §1: "a typo must never silently weaken a policy"; the config loader
/// does this). `set_jwks` parses with serde_json alone, which keeps the last
/// duplicate, so a pushed key set can carry `"alg"` (or `"k"`, `"kid"`) twice
/// and the reviewer of that JSON may read the first one.
#[test]
fn set_jwks_refuses_duplicate_members() {
    let v = working();
    let set = format!(r#"{{"keys":[{{"kty":"oct","alg":"HS512","alg":"HS256","kid":"dup","k":"{}"}}]}}"#, b64(SECRET));
    let r = v.set_jwks(set.as_bytes());
    assert!(r.is_err(), "set_jwks accepted a JWK with \"alg\" given twice");
}

/// The config loader's duplicate check runs warden's own JSON scanner, whose
/// depth bound (64) is lower than serde_json's (128). Nesting an ignored JWK
/// member 65 deep makes the check give up silently, and serde_json then keeps
/// the last of two `kid`s (or `alg`s, or `k`s) of that key.
#[test]
fn duplicate_members_behind_deep_nesting_are_refused() {
    let deep = format!("{}{}", "[".repeat(70), "]".repeat(70));
    let text = format!(
        r#"{{"jwt":{{"jwks":{{"keys":[{{"kty":"oct","alg":"HS256","kid":"first","x-note":{deep},"kid":"second","k":"{}"}}]}}}}}}"#,
        b64(SECRET)
    );
    let r = Verifier::from_json(text.as_bytes());
    assert!(r.is_err(), "a config with \"kid\" given twice loaded because a member nests 70 deep");
}

/// Every refusal names its place (SPEC §1 / this suite's contract). The
/// check added for documents nested deeper than the JSON scanner's bound
/// reports an empty `at`, so the message reads "nested deeper than 64
/// levels" with no hint of where.
#[test]
fn deeply_nested_config_error_names_a_place() {
    let deep = format!("{}{}", "[".repeat(70), "]".repeat(70));
    let text = format!(
        r#"{{"jwt":{{"jwks":{{"keys":[{{"kty":"oct","alg":"HS256","kid":"a","x-note":{deep},"k":"{}"}}]}}}}}}"#,
        b64(SECRET)
    );
    let e = Verifier::from_json(text.as_bytes()).err().expect("refused");
    assert!(!e.at.is_empty(), "no place in {e:?}");
    let v = working();
    let e = v.reload_from_json(text.as_bytes()).expect_err("refused");
    assert!(!e.at.is_empty(), "no place in {e:?}");
}

/// A bcrypt hash of 60 *bytes* whose 29th byte falls inside a multi-byte
/// UTF-8 character (found by the `htpasswd` fuzz target). `parse_bcrypt`
/// checks the byte length and then slices the `&str` at fixed byte offsets
/// (`&s[7..29]`, `&s[29..]`, also `&s[4..6]`), which panics on a non-char
/// boundary: loading such a config — inline or from an htpasswd file —
/// panics instead of being refused.
#[test]
fn non_ascii_bcrypt_hash_is_refused_not_a_panic() {
    let fuzzed = "$2b$10$H.uEYVaedyYJXCjDBm4T9\u{496}rRfqnBJSUuEMsnRswpgy1SB/TmtTAG";
    let minimal = format!("$2b$10${}\u{e9}{}", "a".repeat(21), "a".repeat(30));
    let cost = format!("$2y$1\u{e9}${}", "a".repeat(52));
    for (what, hash) in [("fuzzed", fuzzed.to_string()), ("minimal", minimal), ("cost", cost)] {
        assert_eq!(hash.len(), 60, "{what}");
        let inline = json!({"basic": {"users": [{"user": "a", "hash": hash}]}}).to_string();
        let r = std::panic::catch_unwind(|| Verifier::from_json(inline.as_bytes()).map(|_| ()));
        assert!(matches!(r, Ok(Err(_))), "{what}: inline hash panicked or loaded");
        let path = file(&format!("nonascii-{what}.htpasswd"), &format!("a:{hash}\n"));
        let from_file = json!({"basic": {"htpasswd_file": path}}).to_string();
        let r = std::panic::catch_unwind(|| Verifier::from_json(from_file.as_bytes()).map(|_| ()));
        assert!(matches!(r, Ok(Err(_))), "{what}: htpasswd line panicked or loaded");
    }
}

/// Found by the short `config_json` fuzz run: an unknown top-level member
/// whose name is the empty string is refused, but its path is the empty
/// name itself, so `ConfigError.at` is empty and the message does not say
/// where the problem is.
#[test]
fn empty_member_name_error_names_a_place() {
    for text in [r#"{"": {}}"#, r#"{"jwt": {"jwks": {"keys": []}}, "": 1}"#] {
        let e = Verifier::from_json(text.as_bytes()).err().expect("refused");
        assert!(!e.at.is_empty(), "{text}: no place in {e:?}");
    }
}
