//! Keys from the identity provider: a JWK Set fetched from `jwks_uri` (or
//! found through OIDC discovery), refreshed in the background.
//!
//! * One refresher thread per verifier (started only when a profile has a
//!   remote source) does every fetch. The hot path never does I/O and never
//!   waits: it reads whatever key set the last good fetch installed.
//! * The schedule honours `Cache-Control: max-age` clamped to the configured
//!   `[min_s, max_s]`; failures back off from `min_s` up to `max_s`.
//! * A token whose `kid` is unknown asks for a refetch: it sets a flag and
//!   wakes the refresher, and gets `unknown_key` right away. The refresher
//!   fetches at most once per `min_s` per source (single-flight, rate-limited),
//!   and a fetch installs the provider's whole current set, so a flood of
//!   made-up kids costs the provider one request per `min_s` and cannot keep
//!   a real new key out for longer than that.
//! * Fetch errors, timeouts, bad JSON and weak or malformed keys keep the last
//!   good set serving; they are counted and reported to the host's logger.

#[cfg(feature = "remote-jwks")]
mod fetch;

use crate::keys::{Alg, KeySet, Skipped};
use std::sync::atomic::{AtomicBool, Ordering};

/// Where a remote key set comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A JWK Set URL.
    JwksUri(String),
    /// OIDC discovery: `<issuer>/.well-known/openid-configuration`, whose
    /// `issuer` must equal this one, names the `jwks_uri`.
    Discovery { issuer: String },
}

/// Refresh bounds (the `refresh` member of a JWT profile).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Refresh {
    /// Shortest interval between two fetches of one source, also the
    /// cool-down of unknown-kid refetches and the first failure back-off.
    pub min_s: f64,
    /// Longest interval between two fetches (and the back-off cap).
    pub max_s: f64,
    /// Whole-request timeout.
    pub timeout_s: f64,
}

impl Default for Refresh {
    fn default() -> Self {
        Refresh { min_s: 30.0, max_s: 3600.0, timeout_s: 5.0 }
    }
}

/// Used when the provider sends no `max-age`.
pub const DEFAULT_TTL_S: f64 = 600.0;
/// Largest JWKS or discovery document accepted.
pub const MAX_DOCUMENT_BYTES: u64 = 1 << 20;

/// A remote key source of one JWT profile.
#[derive(Debug)]
pub struct RemoteSpec {
    pub source: Source,
    pub refresh: Refresh,
    /// Permit `http://` to loopback addresses (tests only).
    pub allow_insecure_loopback: bool,
    /// PEM trust anchors replacing the public web roots (`ca_file`).
    pub ca_pem: Option<Vec<u8>>,
    /// The alg a fetched key without `alg` is pinned to (`fetched_key_alg`);
    /// `None`: such a key is skipped.
    pub fetched_key_alg: Option<Alg>,
    /// Set by a verification that met an unknown kid.
    pub(crate) wanted: AtomicBool,
}

impl RemoteSpec {
    pub fn new(source: Source, refresh: Refresh, allow_insecure_loopback: bool, ca_pem: Option<Vec<u8>>) -> Self {
        RemoteSpec {
            source,
            refresh,
            allow_insecure_loopback,
            ca_pem,
            fetched_key_alg: None,
            wanted: AtomicBool::new(false),
        }
    }

    /// The key under which this source's fetched set is kept. The set is
    /// parsed under `fetched_key_alg`, so a profile that pins alg-less keys
    /// otherwise (or not at all) keeps a set of its own.
    pub fn id(&self) -> String {
        let mut id = match &self.source {
            Source::JwksUri(u) => u.clone(),
            Source::Discovery { issuer } => format!("discovery:{issuer}"),
        };
        if let Some(alg) = self.fetched_key_alg {
            id.push_str(&format!(" (keys without alg: {alg})"));
        }
        // How the set is fetched is part of what it is: keys fetched
        // trusting one CA must not serve a profile (or a reload) that
        // trusts another.
        if let Some(pem) = &self.ca_pem {
            let d = ring::digest::digest(&ring::digest::SHA256, pem);
            id.push_str(&format!(" (ca_file sha256:{})", crate::apikey::hex(&d.as_ref()[..8])));
        }
        if self.allow_insecure_loopback {
            id.push_str(" (insecure loopback allowed)");
        }
        id
    }

    /// Ask the refresher for a fetch (a token carried an unknown kid).
    #[inline]
    pub(crate) fn want(&self) {
        self.wanted.store(true, Ordering::Release);
    }

    pub(crate) fn take_wanted(&self) -> bool {
        self.wanted.swap(false, Ordering::AcqRel)
    }
}

/// Is `url` acceptable: `https://`, or `http://` to a loopback host when
/// `allow_insecure_loopback`? The authority must be a plain `host[:port]`
/// (no `user:password@`: with one, the text before `@` looked like the
/// host, so `http://127.0.0.1:1@example.com/` passed as loopback while the
/// request went to example.com).
pub fn check_url(url: &str, allow_insecure_loopback: bool) -> Result<(), String> {
    let (rest, https) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (rest, true),
        (None, Some(rest)) => (rest, false),
        _ => return Err(format!("{url:?} is not an https URL")),
    };
    if url.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(format!("{url:?} has spaces or control characters"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host_of(authority).ok_or_else(|| {
        if authority.contains('@') {
            format!("{url:?}: user names or passwords in the URL are not supported")
        } else {
            format!("{url:?} has no valid host[:port]")
        }
    })?;
    if https {
        return Ok(());
    }
    if !allow_insecure_loopback {
        return Err(format!(
            "{url:?} is not https (plain http is allowed only to loopback, with allow_insecure_loopback)"
        ));
    }
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(format!("{url:?}: plain http is allowed only to loopback hosts"))
    }
}

/// The host of an authority that is exactly `host[:port]` (a name, an IPv4
/// address, or `[IPv6]`), else `None`.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']')?;
            h.parse::<std::net::Ipv6Addr>().ok()?;
            (h, after)
        }
        None => {
            let end = authority.find(':').unwrap_or(authority.len());
            let h = &authority[..end];
            let name_char = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_';
            if h.is_empty() || !h.bytes().all(name_char) {
                return None;
            }
            (h, &authority[end..])
        }
    };
    match port.strip_prefix(':') {
        None if port.is_empty() => Some(host),
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => Some(host),
        _ => None,
    }
}

/// `max-age` of a `Cache-Control` value (`no-cache`/`no-store` count as 0).
pub fn max_age(cache_control: &str) -> Option<f64> {
    let mut found = None;
    for d in cache_control.split(',') {
        let d = d.trim();
        let lower = d.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Some(0.0);
        }
        if let Some(v) = lower.strip_prefix("max-age=") {
            // Digits only; a value past u64 is very large, not absent
            // (RFC 9111 §1.2.2): the schedule clamps it to max_s.
            let v = v.trim_matches('"');
            found = (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .then(|| v.parse::<f64>().unwrap_or(f64::MAX).min(f64::MAX));
        }
    }
    found
}

/// Seconds until the next scheduled fetch after a success with this
/// `max-age`: within `[min_s, max_s]`.
pub fn next_after_success(r: &Refresh, max_age: Option<f64>) -> f64 {
    max_age.unwrap_or(DEFAULT_TTL_S).clamp(r.min_s, r.max_s.max(r.min_s))
}

/// Seconds until the next attempt after `failures` consecutive failures.
pub fn next_after_failure(r: &Refresh, failures: u32) -> f64 {
    let backoff = r.min_s * 2f64.powi(failures.saturating_sub(1).min(30) as i32);
    backoff.clamp(r.min_s, r.max_s.max(r.min_s))
}

/// Fetch a source's key set now: `(keys, max-age)`.
/// Does a `ca_file` hold a certificate? Checked when the config loads, so
/// that a wrong file is refused then rather than failing every fetch.
pub fn check_ca_pem(pem: &[u8]) -> Result<(), String> {
    #[cfg(feature = "remote-jwks")]
    {
        fetch::ca_roots(pem).map(|_| ())
    }
    #[cfg(not(feature = "remote-jwks"))]
    {
        let _ = pem;
        Ok(())
    }
}

/// What one fetch brought: the set, the provider's `max-age`, and the keys
/// skipped (see [`crate::keys::parse_fetched_jwk_set`]).
pub struct Fetched {
    pub keys: KeySet,
    pub max_age: Option<f64>,
    pub skipped: Vec<Skipped>,
}

pub fn fetch_now(spec: &RemoteSpec) -> Result<Fetched, String> {
    #[cfg(feature = "remote-jwks")]
    {
        fetch::fetch(spec)
    }
    #[cfg(not(feature = "remote-jwks"))]
    {
        let _ = spec;
        Err("this build of warden has no remote JWKS support (cargo feature remote-jwks)".into())
    }
}

/// Log levels of the host's logger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum LogLevel {
    Info = 1,
    Warn = 2,
    Error = 3,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(check_url("https://idp.example/jwks", false).is_ok());
        assert!(check_url("http://idp.example/jwks", true).is_err());
        assert!(check_url("http://127.0.0.1:8080/jwks", false).is_err());
        assert!(check_url("http://127.0.0.1:8080/jwks", true).is_ok());
        assert!(check_url("http://localhost/jwks", true).is_ok());
        assert!(check_url("http://[::1]:9/jwks", true).is_ok());
        assert!(check_url("http://127.0.0.1.evil.example/", true).is_err());
        assert!(check_url("ftp://x", true).is_err());
        assert!(check_url("https://", false).is_err());
        // The text before `@` is not the host: these go to example.com.
        for u in ["http://127.0.0.1:1@example.com/ok", "http://localhost:1@example.com/", "http://[::1]@example.com/"] {
            let e = check_url(u, true).unwrap_err();
            assert!(e.contains("user names or passwords"), "{u}: {e}");
        }
        assert!(check_url("https://user@idp.example/jwks", false).is_err());
        for u in
            ["https:///x", "https://a b/x", "https://idp.example:/x", "https://idp.example:123456/x", "https://[::1/x"]
        {
            assert!(check_url(u, false).is_err(), "{u}");
        }
        assert!(check_url("https://idp.example:8443/jwks?x=1", false).is_ok());
        assert!(check_url("https://[2001:db8::1]/jwks", false).is_ok());
    }

    #[test]
    fn cache_control() {
        assert_eq!(max_age("public, max-age=300"), Some(300.0));
        assert_eq!(max_age("Max-Age=\"60\""), Some(60.0));
        assert_eq!(max_age("no-store"), Some(0.0));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=x"), None);
        assert_eq!(max_age("max-age=-5"), None);
        // Past u64: very large, so the schedule uses max_s (not the 600 s default).
        let huge = max_age("max-age=99999999999999999999999").unwrap();
        assert!(huge > 1e20);
        let r = Refresh { min_s: 1.0, max_s: 3600.0, timeout_s: 5.0 };
        assert_eq!(next_after_success(&r, Some(huge)), 3600.0);
    }

    #[test]
    fn schedule_stays_in_bounds() {
        let r = Refresh { min_s: 30.0, max_s: 3600.0, timeout_s: 5.0 };
        assert_eq!(next_after_success(&r, Some(300.0)), 300.0);
        assert_eq!(next_after_success(&r, Some(1.0)), 30.0);
        assert_eq!(next_after_success(&r, Some(1e9)), 3600.0);
        assert_eq!(next_after_success(&r, None), DEFAULT_TTL_S);
        assert_eq!(next_after_failure(&r, 1), 30.0);
        assert_eq!(next_after_failure(&r, 2), 60.0);
        assert_eq!(next_after_failure(&r, 40), 3600.0);
    }
}
