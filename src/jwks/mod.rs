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

use crate::keys::KeySet;
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
    /// Set by a verification that met an unknown kid.
    pub(crate) wanted: AtomicBool,
}

impl RemoteSpec {
    pub fn new(source: Source, refresh: Refresh, allow_insecure_loopback: bool, ca_pem: Option<Vec<u8>>) -> Self {
        RemoteSpec { source, refresh, allow_insecure_loopback, ca_pem, wanted: AtomicBool::new(false) }
    }

    /// The key under which this source's fetched set is kept.
    pub fn id(&self) -> String {
        match &self.source {
            Source::JwksUri(u) => u.clone(),
            Source::Discovery { issuer } => format!("discovery:{issuer}"),
        }
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
/// `allow_insecure_loopback`?
pub fn check_url(url: &str, allow_insecure_loopback: bool) -> Result<(), String> {
    if let Some(rest) = url.strip_prefix("https://") {
        return if rest.is_empty() { Err(format!("{url:?} has no host")) } else { Ok(()) };
    }
    if let Some(rest) = url.strip_prefix("http://") {
        if !allow_insecure_loopback {
            return Err(format!(
                "{url:?} is not https (plain http is allowed only to loopback, with allow_insecure_loopback)"
            ));
        }
        let authority = rest.split('/').next().unwrap_or("");
        let host = if let Some(v6) = authority.strip_prefix('[') {
            v6.split(']').next().unwrap_or("")
        } else {
            authority.split(':').next().unwrap_or("")
        };
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        return if loopback { Ok(()) } else { Err(format!("{url:?}: plain http is allowed only to loopback hosts")) };
    }
    Err(format!("{url:?} is not an https URL"))
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
            found = v.trim_matches('"').parse::<u64>().ok().map(|n| n as f64);
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
pub fn fetch_now(spec: &RemoteSpec) -> Result<(KeySet, Option<f64>), String> {
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
    }

    #[test]
    fn cache_control() {
        assert_eq!(max_age("public, max-age=300"), Some(300.0));
        assert_eq!(max_age("Max-Age=\"60\""), Some(60.0));
        assert_eq!(max_age("no-store"), Some(0.0));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=x"), None);
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
