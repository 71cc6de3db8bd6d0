//! API keys: `<prefix>_<random><checksum>` where the random part is base62 and
//! the last six characters are the base62 CRC-32 of everything before them
//! (SPEC §1, §5). Only the SHA-256 of a key is ever stored.
//!
//! The checksum lets warden (and secret scanners) reject a mistyped or made-up
//! key without touching the key table; the table is keyed by digest, so the
//! lookup is a hash probe, not a comparison against every key.

mod format;

pub use format::{base62_crc, check_format, crc32, generate, BASE62};

use crate::ratelimit::Rate;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// One configured API key.
#[derive(Debug, Clone)]
pub struct ApiKeyEntry {
    pub id: Box<str>,
    pub digest: [u8; 32],
    pub owner: Box<str>,
    pub scopes: Vec<Box<str>>,
    /// Valid when `not_before <= now < not_after` (no leeway).
    pub not_before: f64,
    pub not_after: f64,
    pub rate: Option<Rate>,
}

impl ApiKeyEntry {
    #[inline]
    pub fn valid_at(&self, now: f64) -> bool {
        self.not_before <= now && now < self.not_after
    }
}

/// A SHA-256 digest is already uniformly distributed: hash it by taking
/// eight of its bytes instead of running SipHash over all 32.
#[derive(Default)]
pub struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Arrays hash as their bytes (after a length prefix for slices; the
        // [u8; 32] key hashes without one). Fold whatever comes.
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(b);
        }
    }
}

pub type DigestMap<V> = HashMap<[u8; 32], V, BuildHasherDefault<DigestHasher>>;

/// The API keys of one snapshot.
#[derive(Debug, Default)]
pub struct ApiKeys {
    /// Configured prefixes, longest first, so that `wk_live` wins over `wk`.
    prefixes: Vec<Box<str>>,
    entries: Vec<ApiKeyEntry>,
    by_digest: DigestMap<u32>,
}

impl ApiKeys {
    pub fn new(mut prefixes: Vec<String>, entries: Vec<ApiKeyEntry>) -> Result<ApiKeys, String> {
        prefixes.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        prefixes.dedup();
        let mut by_digest = DigestMap::default();
        let mut ids = std::collections::HashSet::new();
        for (i, e) in entries.iter().enumerate() {
            if !ids.insert(&e.id) {
                return Err(format!("keys[{i}]: id {:?} is used twice", e.id));
            }
            if by_digest.insert(e.digest, i as u32).is_some() {
                return Err(format!("keys[{i}] ({:?}): the same sha256 is configured twice", e.id));
            }
        }
        Ok(ApiKeys { prefixes: prefixes.into_iter().map(Into::into).collect(), entries, by_digest })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[ApiKeyEntry] {
        &self.entries
    }

    pub fn prefixes(&self) -> &[Box<str>] {
        &self.prefixes
    }

    /// Does `cred` start with a configured prefix and `_`? (Used to route a
    /// Bearer credential to the API key path.)
    #[inline]
    pub fn has_prefix(&self, cred: &[u8]) -> bool {
        self.prefix_of(cred).is_some()
    }

    #[inline]
    fn prefix_of(&self, cred: &[u8]) -> Option<usize> {
        self.prefixes
            .iter()
            .find(|p| cred.len() > p.len() && cred.starts_with(p.as_bytes()) && cred[p.len()] == b'_')
            .map(|p| p.len())
    }

    /// The entry for `key`, if its format, checksum and digest check out.
    /// The validity window and revocation are the caller's to check.
    #[inline]
    pub fn lookup(&self, key: &[u8]) -> Option<&ApiKeyEntry> {
        let plen = self.prefix_of(key)?;
        if !check_format(key, plen) {
            return None;
        }
        let d = ring::digest::digest(&ring::digest::SHA256, key);
        let mut digest = [0u8; 32];
        digest.copy_from_slice(d.as_ref());
        self.by_digest.get(&digest).map(|&i| &self.entries[i as usize])
    }
}

/// Lowercase hex of a digest (config entries, `keygen`).
pub fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parse 64 lowercase hex digits.
pub fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks(2).enumerate() {
        let v = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        out[i] = (v(pair[0])? << 4) | v(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, id: &str) -> ApiKeyEntry {
        let d = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        ApiKeyEntry {
            id: id.into(),
            digest: d.as_ref().try_into().unwrap(),
            owner: "o".into(),
            scopes: vec![],
            not_before: f64::NEG_INFINITY,
            not_after: f64::INFINITY,
            rate: None,
        }
    }

    #[test]
    fn lookup_by_prefix_checksum_and_digest() {
        let k = generate("wk_live").unwrap();
        let other = generate("wk").unwrap();
        let keys = ApiKeys::new(vec!["wk".into(), "wk_live".into()], vec![entry(&k, "a"), entry(&other, "b")]).unwrap();
        assert_eq!(&*keys.lookup(k.as_bytes()).unwrap().id, "a");
        assert_eq!(&*keys.lookup(other.as_bytes()).unwrap().id, "b");
        assert!(keys.lookup(generate("wk_live").unwrap().as_bytes()).is_none(), "unknown key");
        assert!(keys.lookup(generate("zz").unwrap().as_bytes()).is_none(), "unknown prefix");
        let mut bad = k.clone().into_bytes();
        let n = bad.len();
        bad[n - 1] = if bad[n - 1] == b'a' { b'b' } else { b'a' };
        assert!(keys.lookup(&bad).is_none(), "bad checksum");
        assert!(keys.has_prefix(b"wk_x") && !keys.has_prefix(b"wk") && !keys.has_prefix(b"wkx_"));
    }

    #[test]
    fn duplicates_refused() {
        let k = generate("wk").unwrap();
        assert!(ApiKeys::new(vec![], vec![entry(&k, "a"), entry(&k, "b")]).is_err());
        assert!(ApiKeys::new(vec![], vec![entry(&k, "a"), entry(&generate("wk").unwrap(), "a")]).is_err());
    }

    #[test]
    fn hex_round_trip() {
        let d = [0xabu8; 32];
        assert_eq!(parse_hex32(&hex(&d)), Some(d));
        assert_eq!(parse_hex32(&hex(&d).to_uppercase()), None);
        assert_eq!(parse_hex32("ab"), None);
    }
}
