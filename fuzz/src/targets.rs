//! The six harnesses. Each panics with a message starting `PROPERTY` when a
//! property fails; anything else that panics is a crash in warden.

use super::fixture::{fixture, ref_segment, verifiers, Fixture, NOW};
use super::refimpl::{self, J};
use super::Outcome;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use warden::keys::Alg;
use warden::{Code, Kind, Scratch, Snapshot, Verifier};

/// Longest credential warden accepts by default (SPEC §5).
const MAX: usize = 8192;

thread_local! {
    /// A scratch that every harness call on this thread reuses: verdicts
    /// through it must equal verdicts through a fresh one.
    static DIRTY: RefCell<Scratch> = RefCell::new(Scratch::new());
}

fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(600)]).into_owned();
    format!("{s:?}{}", if b.len() > 600 { " (cut)" } else { "" })
}

fn jwt(v: &Verifier, t: &[u8]) -> Outcome {
    Outcome::of(v.verify_jwt(t, NOW, &mut Scratch::new()))
}

fn dirty(f: impl FnOnce(&mut Scratch) -> Outcome) -> Outcome {
    DIRTY.with(|s| f(&mut s.borrow_mut()))
}

// ---------------------------------------------------------------- jwt_verify

/// `jwt_verify`: a token against the full key set.
///
/// * Anti-forgery: an accepted token's signing input is one the harness
///   signed, its signature (for algs with unique signatures) is the one the
///   harness made, and the subject/exp warden reports are that payload's.
/// * Reference verdict: under the plain policy the exact code is predicted by
///   a model written from SPEC §3/§5 on top of [`refimpl`].
/// * Only input and snapshot matter: a used scratch, the verified-token cache
///   (second call, cache-less twin), a twin verifier and the
///   `Authorization: Bearer` route give the same verdict; codes decided
///   before the signature do not depend on the claim policy.
pub fn jwt_verify(data: &[u8]) {
    let f = fixture();
    let v = verifiers();
    let plain = jwt(&v.plain, data);
    let again = |o: Outcome, what: &str| {
        assert_eq!(o, plain, "PROPERTY: {what} changed the verdict for {}", show(data));
    };
    again(dirty(|s| Outcome::of(v.plain.verify_jwt(data, NOW, s))), "a used scratch");
    again(jwt(&v.plain, data), "verifying twice (token cache)");
    again(jwt(&v.plain_twin, data), "a twin verifier");
    again(jwt(&v.nocache, data), "disabling the token cache");

    let mut header = b"Bearer ".to_vec();
    header.extend_from_slice(data);
    let via = Outcome::of(v.plain.verify_authorization(&header, NOW, &mut Scratch::new()));
    let want = match refimpl::split_authorization(&header) {
        None => Outcome::Err(Code::Malformed),
        Some((_, cred)) => jwt(&v.plain, cred),
    };
    assert_eq!(via, want, "PROPERTY: Authorization: Bearer disagrees with verify_jwt for {}", show(data));

    let strict = jwt(&v.strict, data);
    assert_eq!(jwt(&v.strict, data), strict, "PROPERTY: strict verdict not repeatable for {}", show(data));
    let pre_sig = |c: Code| c != Code::Ok && c <= Code::BadSignature;
    if pre_sig(plain.code()) || pre_sig(strict.code()) {
        assert_eq!(
            plain.code(),
            strict.code(),
            "PROPERTY: a code decided before the signature depends on the claim policy for {}",
            show(data)
        );
    }
    for o in [&plain, &strict] {
        if o.is_ok() {
            check_accepted_jwt(f, data, o);
        }
    }
    if let Some(expect) = reference_plain(f, data) {
        assert_eq!(plain.code(), expect, "PROPERTY: verdict differs from the SPEC model for {}", show(data));
    }
}

/// An accepted JWT must be one the harness signed, with the claims it signed.
fn check_accepted_jwt(f: &Fixture, t: &[u8], o: &Outcome) {
    let segs: Vec<&[u8]> = t.split(|&b| b == b'.').collect();
    assert_eq!(segs.len(), 3, "PROPERTY: accepted a token without three segments: {}", show(t));
    let si = &t[..segs[0].len() + 1 + segs[1].len()];
    let Some(k) = f.known.get(si) else {
        panic!("PROPERTY: FORGERY: accepted a token whose signing input the harness never signed: {}", show(t));
    };
    let sig =
        refimpl::b64url(segs[2]).unwrap_or_else(|| panic!("PROPERTY: accepted a non-canonical signature: {}", show(t)));
    if k.unique() {
        assert_eq!(sig, k.sig, "PROPERTY: accepted a {} signature other than the only valid one: {}", k.alg, show(t));
    }
    let p = ref_segment(segs[1])
        .unwrap_or_else(|| panic!("PROPERTY: accepted a payload that is not strict JSON: {}", show(t)));
    let Outcome::Ok { kind, subject, exp_text, .. } = o else { unreachable!() };
    assert_eq!(*kind, Kind::Jwt);
    assert_eq!(
        subject.as_deref(),
        p.get("sub").and_then(J::as_str),
        "PROPERTY: subject is not the payload's: {}",
        show(t)
    );
    let exp = exp_text.as_deref().map(|e| e.parse::<f64>().expect("exp text is a number"));
    assert_eq!(exp, p.get("exp").and_then(J::as_f64), "PROPERTY: exp is not the payload's: {}", show(t));
}

/// SPEC §3/§5 under the plain policy (leeway 0, `require: ["exp"]`, no
/// issuer/audience/typ, no revocations), from the reference decoders.
pub fn reference_plain(f: &Fixture, t: &[u8]) -> Option<Code> {
    use Code::*;
    if t.len() > MAX {
        return Some(TooLarge);
    }
    let segs: Vec<&[u8]> = t.split(|&b| b == b'.').collect();
    if segs.len() != 3 {
        return Some(Malformed);
    }
    let (Some(h), Some(p), Some(sig)) = (ref_segment(segs[0]), ref_segment(segs[1]), refimpl::b64url(segs[2])) else {
        return Some(Malformed);
    };
    if !matches!(h, J::Obj(_)) || !matches!(p, J::Obj(_)) || h.has_top_level_duplicate() || p.has_top_level_duplicate()
    {
        return Some(Malformed);
    }
    let all_str = |a: &[J]| a.iter().all(|i| matches!(i, J::Str(_)));
    let typed = ["alg", "kid", "typ", "cty"].iter().all(|n| h.get(n).map_or(true, |x| x.as_str().is_some()))
        && h.get("crit").map_or(true, |c| matches!(c, J::Arr(a) if all_str(a)))
        && h.get("b64").map_or(true, |b| matches!(b, J::Bool(_)))
        && !(matches!(h.get("b64"), Some(J::Bool(false))) && h.get("crit").is_none())
        && ["exp", "nbf", "iat"].iter().all(|n| p.get(n).map_or(true, |x| x.as_f64().is_some()))
        && ["iss", "sub", "jti"].iter().all(|n| p.get(n).map_or(true, |x| x.as_str().is_some()))
        && p.get("aud").map_or(true, |a| match a {
            J::Str(_) => true,
            J::Arr(items) => all_str(items),
            _ => false,
        });
    if !typed {
        return Some(Malformed);
    }
    let Some(alg) = h.get("alg").and_then(J::as_str).and_then(|a| Alg::from_name(a.as_bytes())) else {
        return Some(UnsupportedAlg);
    };
    if let Some(kid) = h.get("kid").and_then(J::as_str) {
        if !f.has_kid(alg, kid) {
            return Some(UnknownKey);
        }
    }
    if h.get("crit").is_some() {
        return Some(CritUnsupported);
    }
    let si = &t[..segs[0].len() + 1 + segs[1].len()];
    match f.known.get(si) {
        // Nobody but the harness holds the keys: an unsigned message cannot verify.
        None => return Some(BadSignature),
        Some(k) if k.sig == sig => {}
        Some(k) if k.unique() => return Some(BadSignature),
        Some(_) if !f.verify_with_own_key(alg, si, &sig) => return Some(BadSignature),
        Some(_) => {}
    }
    let num = |n: &str| p.get(n).and_then(J::as_f64);
    if num("exp").is_some_and(|e| NOW >= e) {
        return Some(Expired);
    }
    if num("nbf").is_some_and(|n| NOW < n) {
        return Some(NotYetValid);
    }
    if num("iat").is_some_and(|i| i > NOW) {
        return Some(IssuedInFuture);
    }
    if p.get("exp").is_none() {
        return Some(MissingClaim);
    }
    if p.get("aud").is_some() {
        return Some(BadAudience);
    }
    Some(Ok)
}

// ------------------------------------------------------------- authorization

/// `authorization`: an `Authorization` header value against a config with an
/// HS256 key, API keys (prefixes `fz` and `fz_live`) and Basic users.
///
/// * The verdict equals the reference route (SPEC §5 split, Bearer → API key
///   when it starts with a configured prefix and `_` and has no `.`, else JWT;
///   Basic → strict padded base64, split at the first colon) applied to the
///   direct `verify_*` calls.
/// * Accepted ⇒ the credential is one the fixture issued.
/// * A used scratch gives the same verdict.
pub fn authorization(data: &[u8]) {
    let f = fixture();
    let v = &verifiers().creds;
    let got = Outcome::of(v.verify_authorization(data, NOW, &mut Scratch::new()));
    let again = dirty(|s| Outcome::of(v.verify_authorization(data, NOW, s)));
    assert_eq!(again, got, "PROPERTY: a used scratch changed the verdict for {}", show(data));
    let mut s = Scratch::new();
    let want = match refimpl::split_authorization(data) {
        None => Outcome::Err(Code::Malformed),
        Some((scheme, cred)) if scheme.eq_ignore_ascii_case(b"bearer") => {
            let api = ["fz_live_", "fz_"].iter().any(|p| cred.starts_with(p.as_bytes())) && !cred.contains(&b'.');
            if api {
                Outcome::of(v.verify_api_key(cred, NOW, &mut s))
            } else {
                Outcome::of(v.verify_jwt(cred, NOW, &mut s))
            }
        }
        Some((scheme, cred)) if scheme.eq_ignore_ascii_case(b"basic") => {
            if cred.len() > MAX {
                Outcome::Err(Code::TooLarge)
            } else {
                match refimpl::b64std_padded(cred) {
                    None => Outcome::Err(Code::Malformed),
                    Some(pair) => match pair.iter().position(|&b| b == b':') {
                        None => Outcome::Err(Code::Malformed),
                        Some(i) => Outcome::of(v.verify_basic(&pair[..i], &pair[i + 1..], NOW, &mut s)),
                    },
                }
            }
        }
        Some(_) => Outcome::Err(Code::Malformed),
    };
    assert_eq!(got, want, "PROPERTY: Authorization verdict differs from the reference route for {}", show(data));
    if let Outcome::Ok { kind, key_id, subject, .. } = &got {
        let (_, cred) = refimpl::split_authorization(data).expect("accepted");
        match kind {
            Kind::Jwt => check_accepted_jwt(f, cred, &got),
            Kind::ApiKey => assert!(
                f.good_api_keys().iter().any(|(k, id)| k.as_bytes() == cred && key_id.as_deref() == Some(id)),
                "PROPERTY: accepted an API key the fixture did not issue: {}",
                show(data)
            ),
            Kind::Basic => {
                let pair = refimpl::b64std_padded(cred).expect("accepted");
                let issued =
                    f.users.iter().any(|(u, p)| pair == format!("{u}:{p}").as_bytes() && subject.as_deref() == Some(u));
                assert!(issued, "PROPERTY: accepted Basic credentials the fixture did not issue: {}", show(data));
            }
        }
    }
}

// ------------------------------------------------------------------- api_key

/// `api_key`: one API key.
///
/// * Reference verdict: prefix (longest configured first), ≥ 30 base62
///   random characters, CRC-32/base62 checksum (bitwise reference CRC), then
///   the key table: revoked before the validity window (SPEC §3).
/// * Accepted ⇒ the exact bytes of a key the fixture issued, with its id.
/// * Same verdict twice, through a used scratch, and through `Bearer`.
pub fn api_key(data: &[u8]) {
    let f = fixture();
    let v = &verifiers().creds;
    let got = Outcome::of(v.verify_api_key(data, NOW, &mut Scratch::new()));
    assert_eq!(
        dirty(|s| Outcome::of(v.verify_api_key(data, NOW, s))),
        got,
        "PROPERTY: a used scratch changed the verdict for {}",
        show(data)
    );
    let want = if data.len() > MAX {
        Code::TooLarge
    } else {
        let prefix = ["fz_live", "fz"].into_iter().find(|p| data.starts_with(format!("{p}_").as_bytes()));
        match prefix {
            Some(p) if refimpl::api_key_format_ok(data, p) => {
                match f.api_keys.iter().find(|(k, _)| k.as_bytes() == data).map(|(_, id)| id.as_str()) {
                    Some("fz-revoked") => Code::Revoked,
                    Some("fz-expired") | None => Code::BadApiKey,
                    Some(_) => Code::Ok,
                }
            }
            _ => Code::BadApiKey,
        }
    };
    assert_eq!(got.code(), want, "PROPERTY: API key verdict differs from the reference for {}", show(data));
    if let Outcome::Ok { key_id, .. } = &got {
        assert!(
            f.good_api_keys().iter().any(|(k, id)| k.as_bytes() == data && key_id.as_deref() == Some(id)),
            "PROPERTY: accepted an API key the fixture did not issue: {}",
            show(data)
        );
    }
    let routable = ["fz_live_", "fz_"].iter().any(|p| data.starts_with(p.as_bytes()))
        && !data.contains(&b'.')
        && !data.iter().any(|&b| b == b' ' || b == b'\t');
    if routable {
        let mut h = b"Bearer ".to_vec();
        h.extend_from_slice(data);
        let via = Outcome::of(v.verify_authorization(&h, NOW, &mut Scratch::new()));
        assert_eq!(via, got, "PROPERTY: Bearer route disagrees with verify_api_key for {}", show(data));
    }
}

// --------------------------------------------------------------- config_json

/// A directory with the files fuzzed configs may name: `keys.json` (a valid
/// JWK set), `users.htpasswd` (a bcrypt line) and `bad.json` (not JSON).
pub fn files_dir() -> &'static Path {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let f = fixture();
        let d = std::env::temp_dir().join(format!("warden-fuzz-files-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let few: Vec<&Value> = f.jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k.get("kid").is_some_and(|kid| kid == "fz-es256" || kid == "fz-eddsa"))
            .collect();
        std::fs::write(d.join("keys.json"), json!({ "keys": few }).to_string()).unwrap();
        let bob = &f.user_entries[1];
        std::fs::write(
            d.join("users.htpasswd"),
            format!("# fixture\n{}:{}\n", bob["user"].as_str().unwrap(), bob["hash"].as_str().unwrap()),
        )
        .unwrap();
        std::fs::write(d.join("bad.json"), "{not json").unwrap();
        d
    })
}

/// Only plain file names (no path separators, no leading dot) may be read by
/// a fuzzed config: a fuzzer must not make the loader read `/dev/zero`. And
/// no config that names a remote key source (`jwks_uri`, `discovery`) is
/// loaded at all: a fuzzer must never make warden open a connection.
fn file_refs_are_plain(data: &[u8]) -> bool {
    fn walk(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.iter().all(|(k, v)| {
                let plain = |s: &str| {
                    !s.is_empty()
                        && s.len() < 64
                        && !s.starts_with('.')
                        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                };
                let ok = match (k.as_str(), v) {
                    ("jwks_uri" | "discovery", _) => false,
                    ("jwks_file" | "htpasswd_file" | "ca_file", Value::String(s)) => plain(s),
                    _ => true,
                };
                ok && walk(v)
            }),
            Value::Array(a) => a.iter().all(walk),
            _ => true,
        }
    }
    match serde_json::from_slice::<Value>(data) {
        Ok(v) => walk(&v),
        Err(_) => true,
    }
}

/// Does a refusal say where?
fn names_a_place(e: &warden::ConfigError) -> bool {
    !e.at.is_empty()
}

/// Caches never change a verdict (`jwt_verify` checks that); harness-made
/// verifiers go without them, which makes building one much cheaper.
fn no_caches(s: &mut Snapshot) {
    s.cache.tokens = 0;
    s.cache.basic_entries = 0;
}

/// Verdicts for a sample of credentials that every config can be asked about
/// cheaply (JWTs of each alg and API keys; never Basic, whose cost a fuzzed
/// config sets).
fn sample_verdicts(v: &Verifier) -> Vec<Outcome> {
    let f = fixture();
    let mut s = Scratch::new();
    let mut out: Vec<Outcome> =
        f.good.iter().step_by(2).map(|t| Outcome::of(v.verify_jwt(t.as_bytes(), NOW, &mut s))).collect();
    for (k, _) in &f.api_keys {
        out.push(Outcome::of(v.verify_api_key(k.as_bytes(), NOW, &mut s)));
    }
    out
}

/// `config_json`: a whole config file.
///
/// * Loading is deterministic (same result and message twice).
/// * Refused ⇒ the error names a place (`at`) and says why.
/// * Accepted ⇒ the text is strict JSON without a member given twice
///   anywhere, and its canonical re-serialization loads to a snapshot that
///   gives the same verdicts.
/// * `reload_from_json` of it on a working verifier: refused ⇒ the old
///   snapshot keeps serving the same verdicts; accepted ⇒ the verifier now
///   answers like a fresh one built from the same text.
pub fn config_json(data: &[u8]) {
    if !file_refs_are_plain(data) {
        return;
    }
    let dir = files_dir();
    let a = Snapshot::from_json(data, dir);
    let b = Snapshot::from_json(data, dir);
    match (&a, &b) {
        (Err(x), Err(y)) => assert_eq!(x, y, "PROPERTY: loading twice gave different errors for {}", show(data)),
        (Ok(_), Ok(_)) => {}
        _ => panic!("PROPERTY: loading twice gave different results for {}", show(data)),
    }
    match a {
        Err(e) => {
            assert!(names_a_place(&e), "PROPERTY: config error without a place: {e} for {}", show(data));
            assert!(!e.message.is_empty(), "PROPERTY: config error without a message for {}", show(data));
        }
        Ok(mut snap) => {
            no_caches(&mut snap);
            match refimpl::parse_json(data, 128) {
                None => panic!("PROPERTY: accepted a config that is not strict JSON: {}", show(data)),
                Some(j) if j.has_duplicate_anywhere() => {
                    // SPEC §1: a typo must never silently change a policy.
                    panic!("PROPERTY: accepted a config with a member given twice: {}", show(data));
                }
                Some(_) => {}
            }
            let canon = serde_json::to_vec(&serde_json::from_slice::<Value>(data).unwrap()).unwrap();
            let mut again = Snapshot::from_json(&canon, dir)
                .unwrap_or_else(|e| panic!("PROPERTY: re-serialized config refused ({e}): {}", show(data)));
            no_caches(&mut again);
            assert_eq!(
                sample_verdicts(&Verifier::new(snap)),
                sample_verdicts(&Verifier::new(again)),
                "PROPERTY: re-serializing the config changed verdicts: {}",
                show(data)
            );
        }
    }

    // Reload onto a working verifier.
    let f = fixture();
    let mut cfg = f.credentials_config();
    cfg["cache"] = json!({"tokens": 0, "basic_entries": 0});
    let w = Verifier::from_json(cfg.to_string().as_bytes()).unwrap();
    let before = sample_verdicts(&w);
    match w.reload_from_json(data) {
        Err(e) => {
            assert!(names_a_place(&e), "PROPERTY: reload error without a place: {e}");
            assert_eq!(sample_verdicts(&w), before, "PROPERTY: a failed reload changed verdicts: {}", show(data));
        }
        Ok(()) => {
            let mut snap = Snapshot::from_json(data, Path::new(".")).expect("reloaded config loads");
            no_caches(&mut snap);
            let fresh = Verifier::new(snap);
            assert_eq!(sample_verdicts(&w), sample_verdicts(&fresh), "PROPERTY: reload differs from a fresh load");
        }
    }
}

// ---------------------------------------------------------------------- jwks

/// `jwks`: `Verifier::set_jwks` with an arbitrary JWK Set.
///
/// * Refused ⇒ error with a place; the old key set keeps serving.
/// * Accepted ⇒ strict JSON, no RSA key under 2048 bits, no duplicate kid
///   per alg; the policy is untouched; every fixture token it accepts is
///   accepted because the set holds the fixture's public key for that alg
///   (and that kid): keys come from the set, never from the token.
pub fn jwks(data: &[u8]) {
    let f = fixture();
    let cfg = json!({
        "jwt": {"jwks": f.own_jwks(&[Alg::HS256, Alg::ES256, Alg::EdDSA]), "issuer": "https://fuzz.example"},
        "cache": {"tokens": 0, "basic_entries": 0},
    });
    let w = Verifier::from_json(cfg.to_string().as_bytes()).unwrap();
    let before = sample_verdicts(&w);
    let r = w.set_jwks(data);
    let twin = Verifier::from_json(cfg.to_string().as_bytes()).unwrap();
    assert_eq!(
        twin.set_jwks(data).map_err(|e| e.to_string()),
        r.clone().map_err(|e| e.to_string()),
        "PROPERTY: set_jwks not deterministic"
    );
    match r {
        Err(e) => {
            assert!(!e.at.is_empty(), "PROPERTY: JWKS error without a place: {e}");
            assert_eq!(sample_verdicts(&w), before, "PROPERTY: a refused JWKS changed verdicts: {}", show(data));
        }
        Ok(()) => {
            let snap = w.snapshot();
            assert_eq!(
                snap.profiles[0].policy.issuers,
                ["https://fuzz.example"],
                "PROPERTY: set_jwks changed the policy"
            );
            let j = refimpl::parse_json(data, 128)
                .unwrap_or_else(|| panic!("PROPERTY: set_jwks accepted text that is not strict JSON: {}", show(data)));
            assert!(!j.has_duplicate_anywhere(), "PROPERTY: set_jwks accepted a member given twice: {}", show(data));
            let mut seen = std::collections::HashSet::new();
            for k in snap.profiles.iter().flat_map(|p| p.keys.keys()) {
                if matches!(k.alg().name().as_bytes()[0], b'R' | b'P') {
                    assert!(k.bits() >= 2048, "PROPERTY: accepted an RSA key of {} bits", k.bits());
                }
                if let Some(kid) = k.kid() {
                    assert!(seen.insert((k.alg(), kid.to_string())), "PROPERTY: duplicate kid {kid} for {}", k.alg());
                }
            }
            let mut s = Scratch::new();
            for t in f.good.iter().chain(f.tokens.iter().take(60)) {
                if w.verify_jwt(t.as_bytes(), NOW, &mut s).is_ok() {
                    let h = ref_segment(t.split('.').next().unwrap().as_bytes()).unwrap();
                    let alg = Alg::from_name(h.get("alg").and_then(J::as_str).unwrap().as_bytes()).unwrap();
                    let kid = h.get("kid").and_then(J::as_str);
                    let keys = match j.get("keys") {
                        Some(J::Arr(a)) => a.clone(),
                        _ => vec![],
                    };
                    let holds = keys.iter().any(|k| {
                        k.get("alg").and_then(J::as_str) == Some(alg.name())
                            && kid.map_or(true, |kid| k.get("kid").and_then(J::as_str) == Some(kid))
                            && f.is_own_public_key(alg, k)
                    });
                    assert!(
                        holds,
                        "PROPERTY: a token was accepted without its public key in the set: {t} with {}",
                        show(data)
                    );
                }
            }
        }
    }
    fetched_pinning(data);
}

/// The same text as a fetched set under `fetched_key_alg`: a key that names
/// its alg keeps it, and only a key without one takes the pinned alg.
fn fetched_pinning(data: &[u8]) {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else { return };
    let pin = [Alg::RS256, Alg::ES256, Alg::EdDSA, Alg::PS384][data.len() % 4];
    let pinned = warden::keys::parse_fetched_jwk_set(&doc, "fuzz", Some(pin));
    let plain = warden::keys::parse_fetched_jwk_set(&doc, "fuzz", None);
    let entries = doc.get("keys").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let declared: std::collections::HashSet<&str> =
        entries.iter().filter_map(|k| k.get("alg").and_then(Value::as_str)).collect();
    let bare = entries.iter().any(|k| k.as_object().is_some_and(|o| !o.contains_key("alg")));
    if let Ok((set, _)) = &pinned {
        for k in set.keys() {
            assert!(
                declared.contains(k.alg().name()) || (bare && k.alg() == pin),
                "PROPERTY: a fetched key took alg {} it was not pinned to: {}",
                k.alg(),
                show(data)
            );
        }
    }
    if !bare {
        assert_eq!(
            pinned.map(|(s, _)| s.len()).map_err(|e| e.1),
            plain.map(|(s, _)| s.len()).map_err(|e| e.1),
            "PROPERTY: fetched_key_alg changed a set whose keys all name their alg: {}",
            show(data)
        );
    }
}

// ------------------------------------------------------------------ htpasswd

/// `htpasswd`: an htpasswd file, parsed directly and loaded through a config.
///
/// * Reference line model: blank lines and `#` comments are skipped; every
///   other line is `user:hash` with a non-empty user and a `$pbkdf2-sha256$`,
///   `$2b$` or `$2y$` hash, or the file is refused naming that line.
/// * The config loader agrees with the parser (and refuses non-UTF-8 files
///   and a user given twice).
/// * Loaded users with a cheap hash reject a wrong password (`malformed` for
///   a name with a control character, RFC 7617 §2); the fixture's
///   own line, when present, verifies with its password.
pub fn htpasswd(data: &[u8]) {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("warden-fuzz-htpasswd-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    });
    // One file per thread: the smoke harness may run targets in parallel.
    let name = format!("u{:?}.htpasswd", std::thread::current().id()).replace(['(', ')', ' '], "");
    std::fs::write(dir.join(&name), data).unwrap();
    let cfg = json!({"basic": {"htpasswd_file": name}});
    let loaded = Snapshot::from_json(cfg.to_string().as_bytes(), dir);
    let Ok(text) = core::str::from_utf8(data) else {
        assert!(loaded.is_err(), "PROPERTY: loaded an htpasswd file that is not UTF-8");
        return;
    };
    let parsed = warden::basic::parse_htpasswd(text, &name);

    // The reference line model.
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let live: Vec<(usize, &str)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| (i + 1, *l))
        .collect();
    let shape_ok = |l: &str| match l.split_once(':') {
        Some((u, h)) => !u.is_empty() && ["$pbkdf2-sha256$", "$2b$", "$2y$"].iter().any(|p| h.starts_with(p)),
        None => false,
    };
    match &parsed {
        Ok(users) => {
            assert!(
                live.iter().all(|(_, l)| shape_ok(l)),
                "PROPERTY: parsed an htpasswd line of a refused shape: {}",
                show(data)
            );
            assert_eq!(users.len(), live.len(), "PROPERTY: user count differs from line count: {}", show(data));
            for ((n, l), (at, u)) in live.iter().zip(users) {
                assert_eq!(*at, format!("{name}:{n}"));
                assert_eq!(Some(&*u.name), l.split_once(':').map(|x| x.0), "PROPERTY: user name is not the line's");
            }
        }
        Err(e) => {
            let (at, _) = e.split_once(": ").unwrap_or_else(|| panic!("PROPERTY: htpasswd error without a place: {e}"));
            let n: usize = at
                .strip_prefix(&format!("{name}:"))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("PROPERTY: htpasswd error does not name file:line: {e}"));
            assert!(live.iter().any(|(m, _)| *m == n), "PROPERTY: htpasswd error names line {n}, not a user line: {e}");
            let first_bad_shape = live.iter().find(|(_, l)| !shape_ok(l)).map(|(m, _)| *m);
            if let Some(m) = first_bad_shape {
                assert!(n <= m, "PROPERTY: error names line {n} but line {m} is already wrong");
            }
        }
    }
    let unique = parsed.as_ref().is_ok_and(|u| {
        let mut names: Vec<&str> = u.iter().map(|(_, u)| &*u.name).collect();
        names.sort_unstable();
        names.windows(2).all(|w| w[0] != w[1])
    });
    match &loaded {
        Ok(_) => assert!(unique, "PROPERTY: config loaded an htpasswd file the parser refuses: {}", show(data)),
        Err(e) => {
            assert!(!unique, "PROPERTY: config refused an htpasswd file the parser accepts ({e}): {}", show(data));
            let named = e.at.contains("htpasswd_file") || e.to_string().contains(&format!("{name}:"));
            assert!(named, "PROPERTY: htpasswd error names neither the member nor the file and line: {e}");
        }
    }
    if let (Ok(snap), Ok(users)) = (loaded, parsed) {
        let v = Verifier::new(snap);
        let mut s = Scratch::new();
        let f = fixture();
        for (_, u) in users.iter().take(4) {
            let cheap = match &u.hash {
                warden::basic::PasswordHash::Pbkdf2 { iterations, .. } => iterations.get() <= 5000,
                warden::basic::PasswordHash::Bcrypt { cost, .. } => *cost <= 6,
            };
            if !cheap {
                continue;
            }
            let r = v.verify_basic(u.name.as_bytes(), b"wrong password, fuzz", NOW, &mut s).map(|_| ());
            // RFC 7617 §2: a user-id with a control character is malformed
            // (such a line loads, but its user can never sign in).
            let want =
                if u.name.bytes().any(|b| b < 0x20 || b == 0x7f) { Code::Malformed } else { Code::BadCredentials };
            assert_eq!(r.map_err(|e| e.code), Err(want), "PROPERTY: wrong password not refused");
            if let Some((_, pw)) = f.users.iter().find(|(n, _)| *n == *u.name) {
                let fixture_line = format!("{}:{}", u.name, f.user_entries[1]["hash"].as_str().unwrap());
                if lines.iter().any(|l| *l == fixture_line) {
                    assert!(
                        v.verify_basic(u.name.as_bytes(), pw.as_bytes(), NOW, &mut s).is_ok(),
                        "PROPERTY: fixture user rejected"
                    );
                }
            }
        }
    }
}
