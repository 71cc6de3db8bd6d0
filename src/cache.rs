//! The verified-token cache: tokens whose RS/PS/ES/EdDSA signature already
//! verified, so that a repeated token skips the expensive check.
//!
//! Soundness rests on two exact comparisons, never on a hash: an entry holds
//! the whole token text, compared byte for byte, and the fingerprint (SHA-256
//! of alg, kid and key material) of the key that verified it, which must still
//! be a candidate key of the current snapshot. A hit skips only the signature:
//! the header checks, time claims, policy and revocation run as on a miss, so
//! a hit can never accept what a cold verification would reject now.
//!
//! The table is a fixed array of slots, each behind its own `RwLock`, with
//! buffers allocated when the cache is built: lookups and inserts allocate
//! nothing, and use `try_` locks so a verifier never waits — a contended slot
//! is simply a miss.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::RwLock;

/// Longest token the cache holds; longer tokens are always verified cold.
pub const MAX_CACHED_TOKEN: usize = 2048;
/// Default number of slots.
pub const DEFAULT_ENTRIES: usize = 1024;

struct Slot {
    token: Vec<u8>,
    key: [u8; 32],
}

pub struct TokenCache {
    slots: Box<[RwLock<Slot>]>,
    mask: usize,
    seed: RandomState,
}

impl TokenCache {
    /// A cache of `entries` slots (rounded up to a power of two); 0 disables.
    pub fn new(entries: usize) -> TokenCache {
        let n = if entries == 0 { 0 } else { entries.next_power_of_two() };
        let slots = (0..n)
            .map(|_| RwLock::new(Slot { token: Vec::with_capacity(MAX_CACHED_TOKEN), key: [0; 32] }))
            .collect::<Vec<_>>()
            .into_boxed_slice();
        TokenCache { slots, mask: n.wrapping_sub(1), seed: RandomState::new() }
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub fn enabled(&self) -> bool {
        !self.slots.is_empty()
    }

    #[inline]
    fn slot(&self, token: &[u8]) -> &RwLock<Slot> {
        // The signature's tail is as good as random for honest tokens; a
        // forged one can only choose which slot it competes for.
        let mut h = self.seed.build_hasher();
        h.write_usize(token.len());
        h.write(&token[token.len().saturating_sub(24)..]);
        &self.slots[h.finish() as usize & self.mask]
    }

    /// The fingerprint of the key that verified exactly `token`, if cached.
    #[inline]
    pub fn get(&self, token: &[u8]) -> Option<[u8; 32]> {
        if self.slots.is_empty() || token.len() > MAX_CACHED_TOKEN {
            return None;
        }
        let s = self.slot(token).try_read().ok()?;
        (!s.token.is_empty() && s.token == token).then_some(s.key)
    }

    /// Remember that `token` verified with the key fingerprinted `key`.
    #[inline]
    pub fn put(&self, token: &[u8], key: &[u8; 32]) {
        if self.slots.is_empty() || token.len() > MAX_CACHED_TOKEN {
            return;
        }
        if let Ok(mut s) = self.slot(token).try_write() {
            s.token.clear();
            s.token.extend_from_slice(token); // within the reserved capacity
            s.key = *key;
        }
    }

    /// Forget everything (the key set changed in a way we cannot track).
    pub fn clear(&self) {
        for s in self.slots.iter() {
            if let Ok(mut s) = s.write() {
                s.token.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_match_only() {
        let c = TokenCache::new(3);
        assert_eq!(c.capacity(), 4);
        assert!(c.get(b"a.b.c").is_none());
        c.put(b"a.b.c", &[1; 32]);
        assert_eq!(c.get(b"a.b.c"), Some([1; 32]));
        assert!(c.get(b"a.b.d").is_none());
        assert!(c.get(b"a.b.").is_none());
        c.clear();
        assert!(c.get(b"a.b.c").is_none());
        let big = vec![b'x'; MAX_CACHED_TOKEN + 1];
        c.put(&big, &[2; 32]);
        assert!(c.get(&big).is_none());
        let off = TokenCache::new(0);
        off.put(b"a", &[0; 32]);
        assert!(!off.enabled() && off.get(b"a").is_none());
    }
}
