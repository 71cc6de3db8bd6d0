//! The JWS algorithms warden verifies, and which keys fit them.

use core::fmt;

/// A supported JWS `alg` (RFC 7518 §3.1, RFC 8037 §3.1). `none` is not one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Alg {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

/// The family of key an algorithm needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Hmac,
    Rsa,
    Ec,
    Okp,
}

impl Alg {
    pub const ALL: [Alg; 12] = [
        Alg::HS256,
        Alg::HS384,
        Alg::HS512,
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::EdDSA,
    ];

    /// The header spelling, exactly as RFC 7518 registers it.
    pub const fn name(self) -> &'static str {
        match self {
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
        }
    }

    /// The algorithm whose name is exactly `name` (case-sensitive, RFC 7515
    /// §4.1.1: `"hs256"` is not `HS256`).
    #[inline]
    pub fn from_name(name: &[u8]) -> Option<Alg> {
        Alg::ALL.iter().copied().find(|a| a.name().as_bytes() == name)
    }

    pub const fn index(self) -> usize {
        self as usize
    }

    pub const fn family(self) -> Family {
        match self {
            Alg::HS256 | Alg::HS384 | Alg::HS512 => Family::Hmac,
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => Family::Rsa,
            Alg::ES256 | Alg::ES384 => Family::Ec,
            Alg::EdDSA => Family::Okp,
        }
    }

    /// Minimum HMAC secret length: the hash output size (RFC 7518 §3.2).
    pub const fn min_hmac_secret(self) -> usize {
        match self {
            Alg::HS384 => 48,
            Alg::HS512 => 64,
            _ => 32,
        }
    }

    /// Is this an algorithm whose verification is costly enough that the
    /// verified-token cache pays for itself? (HMAC is cheaper than a lookup.)
    pub const fn is_asymmetric(self) -> bool {
        !matches!(self.family(), Family::Hmac)
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_exact() {
        for a in Alg::ALL {
            assert_eq!(Alg::from_name(a.name().as_bytes()), Some(a));
            assert_eq!(Alg::ALL[a.index()], a);
        }
        for bad in ["hs256", "HS256 ", "none", "NONE", "", "ES512", "Ed25519", "RSA-OAEP"] {
            assert_eq!(Alg::from_name(bad.as_bytes()), None, "{bad}");
        }
    }
}
