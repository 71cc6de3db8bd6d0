//! Claim policy (SPEC §1 `jwt` section, §5 "Policy"): time claims, required
//! claims, issuer, audience and `typ`. Pure functions of the parsed token, the
//! policy and `now`.

use super::token::{Aud, Claims, Parsed};
use crate::json::{self, RawStr, Value};
use crate::verdict::Code;

/// Default bound on a credential's length (SPEC §5).
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8192;

/// The JWT policy of one snapshot.
#[derive(Clone, Debug)]
pub struct Policy {
    pub issuers: Vec<String>,
    pub audiences: Vec<String>,
    pub leeway_s: f64,
    /// Claims that must be present (default `["exp"]`); when `max_lifetime_s`
    /// is set, `iat` and `exp` are added.
    pub require: Vec<String>,
    pub max_lifetime_s: Option<f64>,
    /// Expected `typ`, normalized with [`normalize_typ`].
    pub typ: Option<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            issuers: Vec::new(),
            audiences: Vec::new(),
            leeway_s: 0.0,
            require: vec!["exp".into()],
            max_lifetime_s: None,
            typ: None,
        }
    }
}

/// RFC 8725 §3.11 / SPEC §5: remove one leading `application/` (any case),
/// compare the rest case-insensitively. Config side: lowercase once.
pub fn normalize_typ(t: &str) -> String {
    let b = t.as_bytes();
    let rest = if b.len() >= 12 && b[..12].eq_ignore_ascii_case(b"application/") { &t[12..] } else { t };
    rest.to_ascii_lowercase()
}

/// Does a header `typ` meet the expected (normalized) one?
pub fn typ_matches(header: &RawStr<'_>, want: &str) -> bool {
    // Decode into a small stack buffer: a `typ` longer than any sensible
    // media type simply does not match.
    let mut buf = [0u8; 128];
    let mut n = 0;
    for b in header.decoded() {
        if n == buf.len() {
            return false;
        }
        buf[n] = b;
        n += 1;
    }
    let got = &buf[..n];
    let got = if got.len() >= 12 && got[..12].eq_ignore_ascii_case(b"application/") { &got[12..] } else { got };
    got.eq_ignore_ascii_case(want.as_bytes())
}

impl Policy {
    /// Check the claims of a token whose signature has verified, in SPEC §3
    /// order: time claims, required claims, issuer, audience.
    // The negated comparisons are deliberate: a NaN fails them (closed).
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub fn check(&self, p: &Parsed<'_, '_>, now: f64) -> Result<(), Code> {
        let c: &Claims<'_> = &p.claims;
        let (exp, nbf, iat) = (c.exp.map(|d| d.value), c.nbf.map(|d| d.value), c.iat.map(|d| d.value));
        self.check_time(exp, nbf, iat, now)?;
        if let (Some(max), Some(iat), Some(exp)) = (self.max_lifetime_s, iat, exp) {
            if !(exp - iat <= max) {
                return Err(Code::LifetimeTooLong);
            }
        }
        for name in &self.require {
            if !p.has_claim(name.as_bytes()) {
                return Err(Code::MissingClaim);
            }
        }
        if self.max_lifetime_s.is_some() && (c.iat.is_none() || c.exp.is_none()) {
            return Err(Code::MissingClaim);
        }
        if !self.issuers.is_empty() {
            match c.iss {
                Some(iss) if self.issuers.iter().any(|i| iss.eq_bytes(i.as_bytes())) => {}
                _ => return Err(Code::BadIssuer),
            }
        }
        match c.aud {
            None if self.audiences.is_empty() => {}
            // RFC 7519 §4.1.3: a token with `aud` must be rejected by a
            // recipient that does not identify itself with a value in it.
            Some(_) if self.audiences.is_empty() => return Err(Code::BadAudience),
            None => return Err(Code::BadAudience),
            Some(Aud::One(a)) => {
                if !self.audience_ok(&a) {
                    return Err(Code::BadAudience);
                }
            }
            Some(Aud::Many(raw)) => {
                let hit = json::array_items(raw).any(|v| matches!(v, Value::Str(a) if self.audience_ok(&a)));
                if !hit {
                    return Err(Code::BadAudience);
                }
            }
        }
        Ok(())
    }

    /// The checks that depend on `now`: `exp`, `nbf`, `iat` (with leeway).
    /// Every comparison fails closed, so a NaN `now` rejects instead of
    /// skipping the check. RFC 7519 §4.1.4: the current time must be before
    /// `exp`.
    #[inline]
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub fn check_time(&self, exp: Option<f64>, nbf: Option<f64>, iat: Option<f64>, now: f64) -> Result<(), Code> {
        let l = self.leeway_s;
        if let Some(exp) = exp {
            if !(now < exp + l) {
                return Err(Code::Expired);
            }
        }
        if let Some(nbf) = nbf {
            if !(now >= nbf - l) {
                return Err(Code::NotYetValid);
            }
        }
        if let Some(iat) = iat {
            if !(iat <= now + l) {
                return Err(Code::IssuedInFuture);
            }
        }
        Ok(())
    }

    #[inline]
    fn audience_ok(&self, a: &RawStr<'_>) -> bool {
        self.audiences.iter().any(|x| a.eq_bytes(x.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typ_normalization() {
        assert_eq!(normalize_typ("Application/AT+JWT"), "at+jwt");
        let raw = |s: &'static str| RawStr { raw: s.as_bytes(), escaped: s.contains('\\') };
        assert!(typ_matches(&raw("at+jwt"), "at+jwt"));
        assert!(typ_matches(&raw("AT+JWT"), "at+jwt"));
        assert!(typ_matches(&raw("APPLICATION/at+jwt"), "at+jwt"));
        assert!(typ_matches(&raw("application\\/at+jwt"), "at+jwt"));
        assert!(!typ_matches(&raw("application/application/at+jwt"), "at+jwt"));
        assert!(!typ_matches(&raw("application/"), "at+jwt"));
        assert!(!typ_matches(&raw("at+jwt; charset=utf-8"), "at+jwt"));
        assert!(!typ_matches(&raw("x-application/at+jwt"), "at+jwt"));
        assert!(!typ_matches(&raw("JWT"), "at+jwt"));
        let long = Box::leak("a".repeat(200).into_boxed_str());
        assert!(!typ_matches(&raw(long), "at+jwt"));
    }
}
