//! The verdict vocabulary of SPEC §3: one code per rejection, and the kind of
//! credential a verdict is about.

use core::fmt;

/// Why a credential was rejected. The discriminants are part of the C ABI
/// (`WARDEN_CODE_*`) and never change; `Ok` is 0 so a C caller can test
/// `code == 0`.
///
/// The order of the variants (after `Ok`) is SPEC §3's precedence: when
/// several checks fail, the first in this list is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub enum Code {
    Ok = 0,
    TooLarge = 1,
    Malformed = 2,
    UnsupportedAlg = 3,
    UnknownKey = 4,
    BadType = 5,
    CritUnsupported = 6,
    BadSignature = 7,
    Expired = 8,
    NotYetValid = 9,
    IssuedInFuture = 10,
    LifetimeTooLong = 11,
    MissingClaim = 12,
    BadIssuer = 13,
    BadAudience = 14,
    Revoked = 15,
    BadApiKey = 16,
    BadCredentials = 17,
    RateLimited = 18,
}

impl Code {
    /// Every code, in precedence order (`Ok` first).
    pub const ALL: [Code; 19] = [
        Code::Ok,
        Code::TooLarge,
        Code::Malformed,
        Code::UnsupportedAlg,
        Code::UnknownKey,
        Code::BadType,
        Code::CritUnsupported,
        Code::BadSignature,
        Code::Expired,
        Code::NotYetValid,
        Code::IssuedInFuture,
        Code::LifetimeTooLong,
        Code::MissingClaim,
        Code::BadIssuer,
        Code::BadAudience,
        Code::Revoked,
        Code::BadApiKey,
        Code::BadCredentials,
        Code::RateLimited,
    ];

    /// The SPEC's spelling of the code (`"ok"` for `Ok`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::Ok => "ok",
            Code::TooLarge => "too_large",
            Code::Malformed => "malformed",
            Code::UnsupportedAlg => "unsupported_alg",
            Code::UnknownKey => "unknown_key",
            Code::BadType => "bad_type",
            Code::CritUnsupported => "crit_unsupported",
            Code::BadSignature => "bad_signature",
            Code::Expired => "expired",
            Code::NotYetValid => "not_yet_valid",
            Code::IssuedInFuture => "issued_in_future",
            Code::LifetimeTooLong => "lifetime_too_long",
            Code::MissingClaim => "missing_claim",
            Code::BadIssuer => "bad_issuer",
            Code::BadAudience => "bad_audience",
            Code::Revoked => "revoked",
            Code::BadApiKey => "bad_api_key",
            Code::BadCredentials => "bad_credentials",
            Code::RateLimited => "rate_limited",
        }
    }

    /// The code spelled `s`, if any.
    pub fn from_name(s: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    /// The code with C ABI number `n`.
    pub fn from_u32(n: u32) -> Option<Code> {
        Code::ALL.get(n as usize).copied()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of credential a verdict is about. Discriminants are C ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Kind {
    Jwt = 1,
    ApiKey = 2,
    Basic = 3,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Jwt, Kind::ApiKey, Kind::Basic];

    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Jwt => "jwt",
            Kind::ApiKey => "api_key",
            Kind::Basic => "basic",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejection: the code, and for `rate_limited` how long to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub kind: Kind,
    pub code: Code,
    /// Whole seconds until a retry can succeed (`rate_limited` only).
    pub retry_after_s: Option<u64>,
}

impl Rejection {
    pub(crate) const fn new(kind: Kind, code: Code) -> Self {
        Rejection { kind, code, retry_after_s: None }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_dense() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(*c as u32, i as u32);
            assert_eq!(Code::from_u32(i as u32), Some(*c));
            assert_eq!(Code::from_name(c.as_str()), Some(*c));
        }
        assert_eq!(Code::from_u32(19), None);
        assert_eq!(Code::from_name("nope"), None);
    }
}
