//! Verification keys: RFC 7517 JWKs turned, once at load time, into ring key
//! objects, each pinned to exactly one algorithm.
//!
//! Everything that can be decided about a key is decided here, when the
//! config loads, so that the hot path only selects a key and verifies:
//! weak keys, alg/kty mismatches, points off their curve and duplicate kids
//! never reach a verifier.

mod alg;
mod edwards;
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

/// The key set of one snapshot, indexed by algorithm, and by kid within an
/// algorithm.
#[derive(Default, Debug, Clone)]
pub struct KeySet {
    keys: Vec<Key>,
    /// For each alg, the indices of the keys pinned to it, in config order.
    by_alg: [Vec<u32>; 12],
    /// For each alg, its keys that have a kid (unique within an alg), by kid.
    by_kid: [KidTable; 12],
}

/// Keys by kid: open addressing, linear probing, at most half full, so a
/// token's kid costs one hash and (nearly always) one comparison whether
/// the set holds one key or thousands. The kids are the config's or a
/// provider's; a token only looks them up, so it cannot lengthen a probe —
/// but a provider could pick kids that pile into one probe run, so the hash
/// is keyed with a seed drawn for each table.
#[derive(Default, Debug, Clone)]
struct KidTable {
    /// `(key index + 1, high half of the kid's hash)`; `(0, _)`: empty.
    slots: Vec<(u32, u32)>,
    seed: [u64; 2],
}

/// The high and low halves of the 128-bit product, folded: every input bit
/// reaches the result through the carries.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// A word-at-a-time keyed hash of a kid (kids are short: one to a few
/// words). Without the seed its outputs are not predictable, so kids cannot
/// be chosen to collide (with a fixed multiply-rotate, 40k crafted kids
/// shared their low 22 bits and an unknown kid's lookup cost 4.7 µs).
#[inline]
fn kid_hash(kid: &[u8], seed: [u64; 2]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    // Odd and with its top bit set: never a degenerate multiplier (1, say,
    // would leave the mix linear), whatever the seed.
    let m = seed[1] | (1 << 63) | 1;
    let mix = |h: u64, w: u64| fold_mul(h ^ w, m) ^ K;
    // The length goes through the multiply before the first word: XORed
    // into the same word, `len ^ w1` was one value for kids of different
    // lengths (NUL-padded), colliding whatever the seed.
    let mut h = mix(seed[0], kid.len() as u64);
    let mut words = kid.chunks_exact(8);
    for w in &mut words {
        h = mix(h, u64::from_le_bytes(w.try_into().expect("8 bytes")));
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        let mut w = [0u8; 8];
        w[..tail.len()].copy_from_slice(tail);
        h = mix(h, u64::from_le_bytes(w));
    }
    fold_mul(h, m)
}

impl KidTable {
    fn with_capacity(n: usize) -> KidTable {
        use std::hash::BuildHasher;
        let size = if n == 0 { 0 } else { (2 * n).next_power_of_two() };
        let r = std::collections::hash_map::RandomState::new();
        KidTable { slots: vec![(0, 0); size], seed: [r.hash_one(1u8), r.hash_one(2u8)] }
    }

    /// The slot where `kid` (whose hash is `h`) is, or where it would go.
    #[inline]
    fn probe(&self, keys: &[Key], kid: &[u8], h: u64) -> usize {
        let (mask, tag) = (self.slots.len() - 1, (h >> 32) as u32);
        let mut i = h as usize & mask;
        loop {
            let (k, t) = self.slots[i];
            if k == 0 || (t == tag && keys[k as usize - 1].kid.as_deref().map(str::as_bytes) == Some(kid)) {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// The index of the key with this kid.
    #[inline]
    fn get(&self, keys: &[Key], kid: &[u8]) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        self.slots[self.probe(keys, kid, kid_hash(kid, self.seed))].0.checked_sub(1)
    }

    /// Add key `i` (its kid is `kid`); false when another key has that kid.
    fn insert(&mut self, keys: &[Key], kid: &[u8], i: u32) -> bool {
        let h = kid_hash(kid, self.seed);
        let at = self.probe(keys, kid, h);
        if self.slots[at].0 != 0 {
            return false;
        }
        self.slots[at] = (i + 1, (h >> 32) as u32);
        true
    }
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
        let mut with_kid = [0usize; 12];
        for (i, k) in keys.iter().enumerate() {
            by_alg[k.alg.index()].push(i as u32);
            with_kid[k.alg.index()] += k.kid.is_some() as usize;
        }
        let mut by_kid: [KidTable; 12] = core::array::from_fn(|a| KidTable::with_capacity(with_kid[a]));
        for (i, k) in keys.iter().enumerate() {
            if let Some(kid) = &k.kid {
                if !by_kid[k.alg.index()].insert(&keys, kid.as_bytes(), i as u32) {
                    return Err(format!("key {i}: kid {kid:?} is used by another {} key", k.alg));
                }
            }
        }
        Ok(KeySet { keys, by_alg, by_kid })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Is any key of the set pinned to `alg`?
    #[inline]
    pub fn pins(&self, alg: Alg) -> bool {
        !self.by_alg[alg.index()].is_empty()
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
        // A clash named by the other set's own index (an index into the
        // union pointed at no key of either).
        for (j, k) in other.keys.iter().enumerate() {
            if let Some(kid) = &k.kid {
                if self.by_kid[k.alg.index()].get(&self.keys, kid.as_bytes()).is_some() {
                    return Err(format!("keys[{j}]: kid {kid:?} is used by another {} key, given inline", k.alg));
                }
            }
        }
        self.keys.extend(other.keys);
        KeySet::new(self.keys)
    }

    /// `a`'s keys, then those of `b` that `a` does not already hold (same
    /// fingerprint): configured keys plus a fetched set, where the provider
    /// may well publish a key the config also pins. A key of `b` whose kid
    /// an `a` key of its alg already has is left out too (`a`'s serves),
    /// and named in the second value: refusing the merge dropped every
    /// fetched key, and then every refresh, until the config changed.
    pub fn merged(a: &KeySet, b: &KeySet) -> (KeySet, Vec<String>) {
        let held: std::collections::HashSet<&[u8; 32]> = a.keys.iter().map(|k| &k.fingerprint).collect();
        let mut keys = a.keys.clone();
        let mut shadowed = Vec::new();
        for k in b.keys.iter().filter(|k| !held.contains(&k.fingerprint)) {
            match &k.kid {
                Some(kid) if a.by_kid[k.alg.index()].get(&a.keys, kid.as_bytes()).is_some() => {
                    shadowed.push(format!("kid {kid:?} ({})", k.alg));
                }
                _ => keys.push(k.clone()),
            }
        }
        let set = KeySet::new(keys).expect("no kid twice for an alg: a and b have none, and clashes were left out");
        (set, shadowed)
    }

    /// Select the keys a token with this alg and kid (decoded) may be
    /// verified with.
    #[inline]
    pub fn select<'k>(&'k self, alg: Alg, kid: Option<&[u8]>) -> Selection<'k> {
        let idx = &self.by_alg[alg.index()];
        if idx.is_empty() {
            return Selection::UnsupportedAlg;
        }
        match kid {
            Some(kid) => match self.by_kid[alg.index()].get(&self.keys, kid) {
                Some(i) if self.keys[i as usize].usable => {
                    Selection::Keys(Candidates { set: self, idx, pos: 0, left: 0, only: Some(i) })
                }
                _ => Selection::UnknownKey,
            },
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
    parse_set(v, at, Origin::Config).map(|(keys, _)| keys)
}

/// A key of a fetched set that warden skipped, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    /// `"<url>.keys[i] (kid ..)"`.
    pub at: String,
    pub reason: String,
    /// Not a signing key at all (`use` other than `sig`, or `key_ops`
    /// without `verify`): expected in a provider's set, not a warning.
    pub not_for_signing: bool,
}

/// Parse a JWK Set fetched from a provider. Unlike a configured set, a key
/// warden cannot use (an encryption key, an algorithm it does not support,
/// no `alg`, a weak or malformed key) is skipped and reported rather than
/// refusing the whole set: refusing it kept the last good set serving, so
/// one such key (Keycloak publishes an RSA-OAEP key by default) froze the
/// keys, and a key the provider withdrew went on verifying. Members of the
/// set other than `keys` are ignored (RFC 7517 §5). Duplicate kids still
/// refuse the set. A key without `alg` is pinned to `alg_if_none` when the
/// config names one (Microsoft Entra ID publishes its keys without `alg`).
pub fn parse_fetched_jwk_set(
    v: &serde_json::Value,
    at: &str,
    alg_if_none: Option<Alg>,
) -> Result<(KeySet, Vec<Skipped>), (String, String)> {
    parse_set(v, at, Origin::Fetched { alg_if_none })
}

/// Where a JWK Set comes from, which decides how strictly it is read.
#[derive(Clone, Copy)]
enum Origin {
    /// The config or a host (`set_jwks`): every key must load.
    Config,
    /// A provider: unusable keys are skipped; a key without `alg` is pinned
    /// to `alg_if_none` when the config names one.
    Fetched { alg_if_none: Option<Alg> },
}

fn parse_set(v: &serde_json::Value, at: &str, origin: Origin) -> Result<(KeySet, Vec<Skipped>), (String, String)> {
    let obj = v.as_object().ok_or_else(|| (at.to_string(), "a JWK set must be an object with \"keys\"".to_string()))?;
    if let Origin::Config = origin {
        if let Some(k) = obj.keys().find(|k| *k != "keys") {
            return Err((format!("{at}.{k}"), "unknown member (a JWK set has only \"keys\")".into()));
        }
    }
    let arr = obj
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or_else(|| (format!("{at}.keys"), "must be an array of JWKs".to_string()))?;
    let mut keys = Vec::with_capacity(arr.len());
    let mut skipped = Vec::new();
    let alg_if_none = match origin {
        Origin::Config => None,
        Origin::Fetched { alg_if_none } => alg_if_none,
    };
    for (i, jwk) in arr.iter().enumerate() {
        let here = || format!("{at}.keys[{i}]{}", kid_note(jwk));
        // A fetched set is a public document: a symmetric key in it is a
        // secret everyone can read, and a token "signed" with it proves
        // nothing. (A host's `set_jwks` is configuration, and may hold one.)
        if let Origin::Fetched { .. } = origin {
            if symmetric(jwk) {
                let reason = "a symmetric key (\"kty\" \"oct\" or an HS* \"alg\") in a published key set: \
                              its secret is public, so it never verifies"
                    .to_string();
                skipped.push(Skipped { at: here(), reason, not_for_signing: false });
                continue;
            }
        }
        match jwk::parse_jwk_pinning(jwk, alg_if_none) {
            Ok(k) => keys.push(k),
            Err(e) if matches!(origin, Origin::Fetched { .. }) => {
                skipped.push(Skipped { at: here(), reason: e, not_for_signing: not_for_signing(jwk) })
            }
            Err(e) => return Err((here(), e)),
        }
    }
    let set = KeySet::new(keys).map_err(|e| (format!("{at}.keys"), e))?;
    Ok((set, skipped))
}

/// Is the JWK a symmetric key, by its `kty` or its `alg`?
fn symmetric(jwk: &serde_json::Value) -> bool {
    let member = |m: &str| jwk.get(m).and_then(|v| v.as_str());
    member("kty") == Some("oct")
        || member("alg").and_then(|a| Alg::from_name(a.as_bytes())).is_some_and(|a| !a.is_asymmetric())
}

/// Does the JWK say it is not for verifying signatures?
fn not_for_signing(jwk: &serde_json::Value) -> bool {
    jwk.as_object().is_some_and(|o| jwk::for_verifying(o) == Ok(false))
}

pub(crate) fn kid_note(jwk: &serde_json::Value) -> String {
    match jwk.get("kid").and_then(|k| k.as_str()) {
        Some(k) => format!(" (kid {k:?})"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b64;
    use serde_json::json;

    fn key(alg: &str, kid: Option<&str>, n: u8) -> Key {
        let mut j = json!({"kty": "oct", "alg": alg, "k": b64::encode(&b64::URL, &[n; 64])});
        if let Some(kid) = kid {
            j["kid"] = json!(kid);
        }
        jwk::parse_jwk(&j).unwrap()
    }

    fn only(s: Selection<'_>) -> Option<u32> {
        match s {
            Selection::Keys(mut c) => c.next().map(|(i, _)| i),
            _ => None,
        }
    }

    #[test]
    fn a_kid_finds_its_key_in_sets_of_any_size() {
        // Kids alike but for their last bytes, of every length around the
        // hash's eight-byte words, the empty kid, and keys without one.
        let kid = |i: usize| format!("{}{i}", "k".repeat(i % 19));
        for n in [0usize, 1, 2, 3, 7, 8, 9, 31, 64, 300] {
            let mut keys: Vec<Key> = (0..n).map(|i| key("HS256", Some(&kid(i)), i as u8)).collect();
            keys.push(key("HS256", None, 1));
            keys.push(key("HS512", Some(""), 2));
            let set = KeySet::new(keys).unwrap();
            for i in 0..n {
                assert_eq!(only(set.select(Alg::HS256, Some(kid(i).as_bytes()))), Some(i as u32), "{n} keys, key {i}");
            }
            for other in ["", "k", "nope", "kkkkkkkkkkkkkkkkkk", "0 "] {
                if !(0..n).any(|i| kid(i) == other) {
                    assert!(
                        matches!(set.select(Alg::HS256, Some(other.as_bytes())), Selection::UnknownKey),
                        "{other:?}"
                    );
                }
            }
            assert_eq!(only(set.select(Alg::HS512, Some(b""))), Some(n as u32 + 1));
            assert!(matches!(set.select(Alg::HS512, Some(b"0")), Selection::UnknownKey));
            assert!(matches!(set.select(Alg::HS384, Some(b"0")), Selection::UnsupportedAlg));
        }
    }

    #[test]
    fn kid_hashes_depend_on_the_seed_and_probe_runs_stay_short() {
        let (a, b) = (KidTable::with_capacity(4).seed, KidTable::with_capacity(4).seed);
        assert_ne!(a, b, "each table draws its own seed");
        let same = (0..64)
            .filter(|i| kid_hash(format!("kid-{i}").as_bytes(), a) == kid_hash(format!("kid-{i}").as_bytes(), b));
        assert_eq!(same.count(), 0);
        // Kids of lengths 9 to 16 whose first word is c ^ length, the rest
        // NUL: with the length XORed into the first word they shared one
        // hash under every seed.
        for seed in [a, b, [0, 0], [u64::MAX, 0x9E37_79B9_7F4A_7C15]] {
            let mut hashes: Vec<u64> = (9u64..=16)
                .map(|len| {
                    let mut kid = (0x4141_4141_4141_4141u64 ^ len).to_le_bytes().to_vec();
                    kid.resize(len as usize, 0);
                    kid_hash(&kid, seed)
                })
                .collect();
            hashes.sort_unstable();
            hashes.dedup();
            assert_eq!(hashes.len(), 8, "seed {seed:?}");
        }
        // Kids of one shape that a fixed hash could be searched against:
        // with 20,000 of them the longest probe run stays short.
        let keys: Vec<Key> = (0..20_000).map(|i| key("HS256", Some(&format!("{i:08}")), i as u8)).collect();
        let n = keys.len();
        let set = KeySet::new(keys).unwrap();
        let t = &set.by_kid[Alg::HS256.index()];
        let (mut run, mut longest) = (0, 0);
        for &(k, _) in t.slots.iter().chain(t.slots.iter()) {
            run = if k == 0 { 0 } else { run + 1 };
            longest = longest.max(run);
        }
        assert!(longest < 64, "longest probe run {longest} for {n} kids in {} slots", t.slots.len());
    }

    #[test]
    fn merging_skips_keys_the_first_set_holds_by_fingerprint() {
        let a = KeySet::new((0..50).map(|i| key("HS256", Some(&format!("a{i}")), i)).collect()).unwrap();
        let b = KeySet::new((40..90).map(|i| key("HS256", Some(&format!("a{i}")), i)).collect()).unwrap();
        let (m, shadowed) = KeySet::merged(&a, &b);
        assert!(shadowed.is_empty());
        assert_eq!(m.keys.len(), 90);
        for i in 0..90u32 {
            assert_eq!(only(m.select(Alg::HS256, Some(format!("a{i}").as_bytes()))), Some(i));
        }
        // Another key under a kid `a` uses for that alg: `a`'s serves, the
        // clash is named; under another alg it is no clash.
        let b = KeySet::new(vec![key("HS256", Some("a3"), 200), key("HS512", Some("a3"), 201)]).unwrap();
        let (m, shadowed) = KeySet::merged(&a, &b);
        assert_eq!(shadowed, vec!["kid \"a3\" (HS256)".to_string()]);
        assert_eq!(m.keys.len(), 51);
        assert_eq!(only(m.select(Alg::HS256, Some(b"a3"))), Some(3));
        assert_eq!(only(m.select(Alg::HS512, Some(b"a3"))), Some(50));
    }

    #[test]
    fn a_kid_is_unique_within_an_alg_only() {
        let k = |alg, kid, n| key(alg, Some(kid), n);
        assert!(KeySet::new(vec![k("HS256", "a", 1), k("HS512", "a", 2)]).is_ok());
        let e = KeySet::new(vec![k("HS256", "a", 1), k("HS256", "b", 2), k("HS256", "b", 3), k("HS256", "a", 4)]);
        assert_eq!(e.unwrap_err(), r#"key 2: kid "b" is used by another HS256 key"#);
        // Without a kid, any number of keys.
        assert!(KeySet::new(vec![key("HS256", None, 1), key("HS256", None, 2)]).is_ok());
    }

    #[test]
    fn an_unusable_key_is_found_but_not_selected() {
        let mut j =
            json!({"kty": "oct", "alg": "HS256", "kid": "enc", "use": "enc", "k": b64::encode(&b64::URL, &[1; 32])});
        let enc = jwk::parse_jwk(&j).unwrap();
        j["kid"] = json!("sig");
        j["use"] = json!("sig");
        let set = KeySet::new(vec![enc, jwk::parse_jwk(&j).unwrap()]).unwrap();
        assert!(matches!(set.select(Alg::HS256, Some(b"enc")), Selection::UnknownKey));
        assert_eq!(only(set.select(Alg::HS256, Some(b"sig"))), Some(1));
    }
}
