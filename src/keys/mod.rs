//! Verification keys: RFC 7517 JWKs turned, once at load time, into ring key
//! objects, each pinned to exactly one algorithm.
//!
//! Everything that can be decided about a key is decided here, when the
//! config loads, so that the hot path only selects a key and verifies:
//! weak keys, alg/kty mismatches, points off their curve and duplicate kids
//! never reach a verifier.

mod alg;
mod jwk;

pub use alg::{Alg, Family};
pub(crate) use jwk::json_type as json_type_name;
pub use jwk::parse_jwk;

use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};

/// Public key material in the form ring verifies with.
#[derive(Clone)]
pub(crate) enum Material {
    Hmac(ring::hmac::Key),
    /// Big-endian modulus (no leading zeros) and exponent. ring re-parses
    /// these on every verification; it has no public pre-parsed RSA public
    /// key type in 0.17 (see the README's allocation notes).
    Rsa {
        n: Box<[u8]>,
        e: Box<[u8]>,
    },
    /// SEC1 uncompressed point `04 ‖ x ‖ y`, validated on its curve at load.
    Ec(Box<[u8]>),
    Ed25519([u8; 32]),
}

/// One verification key, pinned to one algorithm.
#[derive(Clone)]
pub struct Key {
    alg: Alg,
    kid: Option<Box<str>>,
    /// False when `use` is not `sig` or `key_ops` lacks `verify`: such a key
    /// pins its alg (so tokens get `unknown_key`, not `unsupported_alg`) but
    /// never verifies anything.
    usable: bool,
    material: Material,
    /// SHA-256 over alg, kid and key material. Identifies the key across
    /// reloads: the verified-token cache only trusts an entry while a key with
    /// the same fingerprint is still configured.
    fingerprint: [u8; 32],
    /// Modulus size in bits (RSA) — for messages and docs.
    bits: u32,
}

impl Key {
    pub fn alg(&self) -> Alg {
        self.alg
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub fn usable(&self) -> bool {
        self.usable
    }

    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// RSA modulus bits, 0 for other families.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Verify `sig` over `msg` with this key and its pinned algorithm.
    #[inline]
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.material {
            Material::Hmac(k) => ring::hmac::verify(k, msg, sig).is_ok(),
            Material::Rsa { n, e } => {
                let params: &signature::RsaParameters = match self.alg {
                    Alg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Alg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Alg::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Alg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Alg::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                    Alg::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
                    _ => return false,
                };
                RsaPublicKeyComponents { n: &n[..], e: &e[..] }.verify(params, msg, sig).is_ok()
            }
            Material::Ec(point) => {
                let a: &'static dyn signature::VerificationAlgorithm = match self.alg {
                    Alg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
                    Alg::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
                    _ => return false,
                };
                UnparsedPublicKey::new(a, &point[..]).verify(msg, sig).is_ok()
            }
            Material::Ed25519(x) => UnparsedPublicKey::new(&signature::ED25519, &x[..]).verify(msg, sig).is_ok(),
        }
    }
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print key material.
        f.debug_struct("Key").field("alg", &self.alg).field("kid", &self.kid).field("usable", &self.usable).finish()
    }
}

/// Up to this many candidate keys are tried for a token without `kid`
/// (SPEC §5 asks for at least 4). A kid-less token therefore costs at most
/// four signature checks, whatever the key set holds; give keys `kid`s and
/// tokens `kid` headers to make it exactly one.
pub const MAX_KIDLESS_TRIES: usize = 4;

/// The key set of one snapshot, indexed by algorithm.
#[derive(Default, Debug, Clone)]
pub struct KeySet {
    keys: Vec<Key>,
    /// For each alg, the indices of the keys pinned to it, in config order.
    by_alg: [Vec<u32>; 12],
}

/// Which keys a token header selects (SPEC §5 "candidate keys").
pub enum Selection<'k> {
    /// No key at all is pinned to the alg.
    UnsupportedAlg,
    /// The alg is pinned, but no usable key has the kid (or, without kid, no
    /// usable key exists).
    UnknownKey,
    /// Try these keys in order (one when the token names a kid).
    Keys(Candidates<'k>),
}

/// Iterator over candidate keys, bounded by [`MAX_KIDLESS_TRIES`].
#[derive(Clone)]
pub struct Candidates<'k> {
    set: &'k KeySet,
    idx: &'k [u32],
    pos: usize,
    left: usize,
    only: Option<u32>,
}

impl<'k> Iterator for Candidates<'k> {
    type Item = (u32, &'k Key);

    fn next(&mut self) -> Option<(u32, &'k Key)> {
        if let Some(i) = self.only.take() {
            self.left = 0;
            return Some((i, &self.set.keys[i as usize]));
        }
        while self.left > 0 && self.pos < self.idx.len() {
            let i = self.idx[self.pos];
            self.pos += 1;
            let k = &self.set.keys[i as usize];
            if k.usable {
                self.left -= 1;
                return Some((i, k));
            }
        }
        None
    }
}

impl KeySet {
    /// Build a set, refusing a kid that another key of the same alg already has.
    pub fn new(keys: Vec<Key>) -> Result<KeySet, String> {
        let mut by_alg: [Vec<u32>; 12] = Default::default();
        for (i, k) in keys.iter().enumerate() {
            let list = &mut by_alg[k.alg.index()];
            if let Some(kid) = &k.kid {
                if list.iter().any(|&j| keys[j as usize].kid.as_deref() == Some(kid)) {
                    return Err(format!("key {i}: kid {kid:?} is used by another {} key", k.alg));
                }
            }
            list.push(i as u32);
        }
        Ok(KeySet { keys, by_alg })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    pub fn get(&self, i: u32) -> Option<&Key> {
        self.keys.get(i as usize)
    }

    /// The union of two sets, `self`'s keys first (inline `jwks`, then
    /// `jwks_file`).
    pub fn union(mut self, other: KeySet) -> Result<KeySet, String> {
        self.keys.extend(other.keys);
        KeySet::new(self.keys)
    }

    /// `a`'s keys, then those of `b` that `a` does not already hold (same
    /// fingerprint): configured keys plus a fetched set, where the provider
    /// may well publish a key the config also pins.
    pub fn merged(a: &KeySet, b: &KeySet) -> Result<KeySet, String> {
        let mut keys = a.keys.clone();
        for k in &b.keys {
            if !a.keys.iter().any(|x| x.fingerprint == k.fingerprint) {
                keys.push(k.clone());
            }
        }
        KeySet::new(keys)
    }

    /// Select the keys a token with this alg and kid may be verified with.
    /// `kid_matches(k)` compares the header's (decoded) kid with a key's.
    #[inline]
    pub fn select<'k>(&'k self, alg: Alg, kid: Option<&dyn Fn(&str) -> bool>) -> Selection<'k> {
        let idx = &self.by_alg[alg.index()];
        if idx.is_empty() {
            return Selection::UnsupportedAlg;
        }
        match kid {
            Some(eq) => {
                for &i in idx {
                    let k = &self.keys[i as usize];
                    if k.usable && k.kid.as_deref().is_some_and(eq) {
                        return Selection::Keys(Candidates { set: self, idx, pos: 0, left: 0, only: Some(i) });
                    }
                }
                Selection::UnknownKey
            }
            None => {
                if !idx.iter().any(|&i| self.keys[i as usize].usable) {
                    return Selection::UnknownKey;
                }
                Selection::Keys(Candidates { set: self, idx, pos: 0, left: MAX_KIDLESS_TRIES, only: None })
            }
        }
    }
}

/// Parse an RFC 7517 JWK Set (`{"keys": [...]}`) into keys; `at` names the
/// place for messages (e.g. `jwt.jwks`). Errors are (place, message).
pub fn parse_jwk_set(v: &serde_json::Value, at: &str) -> Result<KeySet, (String, String)> {
    let obj = v.as_object().ok_or_else(|| (at.to_string(), "a JWK set must be an object with \"keys\"".to_string()))?;
    for k in obj.keys() {
        if k != "keys" {
            return Err((format!("{at}.{k}"), "unknown member (a JWK set has only \"keys\")".into()));
        }
    }
    let arr = obj
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or_else(|| (format!("{at}.keys"), "must be an array of JWKs".to_string()))?;
    let mut keys = Vec::with_capacity(arr.len());
    for (i, jwk) in arr.iter().enumerate() {
        keys.push(parse_jwk(jwk).map_err(|e| (format!("{at}.keys[{i}]{}", kid_note(jwk)), e))?);
    }
    KeySet::new(keys).map_err(|e| (format!("{at}.keys"), e))
}

pub(crate) fn kid_note(jwk: &serde_json::Value) -> String {
    match jwk.get("kid").and_then(|k| k.as_str()) {
        Some(k) => format!(" (kid {k:?})"),
        None => String::new(),
    }
}
