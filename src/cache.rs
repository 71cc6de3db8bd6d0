//! The verified-token cache: tokens whose signature already verified, so
//! that a repeated token skips the check (a hit costs a fraction of even an
//! HMAC over a realistic token).
//!
//! Soundness rests on two exact comparisons, never on a hash: an entry holds
//! the whole token text, compared byte for byte, and the fingerprint (SHA-256
//! of alg, kid and key material) of the key that verified it, which must still
//! be a candidate key of the current snapshot. A hit skips only the signature:
//! the header checks, time claims, policy and revocation run as on a miss, so
//! a hit can never accept what a cold verification would reject now.
//!
//! An entry may also carry the token's full verdict summary, computed
//! against one snapshot generation: while that snapshot is in force, a hit
//! skips the parsing too — it re-checks only what can change without a new
//! snapshot (the time claims against `now`, and run-time revocations) and
//! copies the result strings and payload out of the entry.
//!
//! The table is a fixed array of slots, each behind its own `RwLock`. A slot
//! allocates its buffers on its first insert and reuses them after, so in
//! steady state lookups and inserts allocate nothing; `try_` locks mean a
//! verifier never waits — a contended slot is simply a miss.

use crate::scratch::{Buffers, Span};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

/// Longest token the cache holds; longer tokens are always verified cold.
pub const MAX_CACHED_TOKEN: usize = 2048;
/// Default number of slots.
pub const DEFAULT_ENTRIES: usize = 1024;

/// What an accepted verification produced, minus what can change while its
/// snapshot stays in force. Spans point into the entry's copy of
/// `Buffers::out`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Summary {
    pub generation: u64,
    /// Which JWT profile of that snapshot accepted it.
    pub profile: u32,
    pub exp: Option<f64>,
    pub nbf: Option<f64>,
    pub iat: Option<f64>,
    pub subject: Option<Span>,
    pub jti: Option<Span>,
    pub kid: Option<Span>,
    pub exp_text: Option<Span>,
}

/// An accepted verdict as the token cache keeps it: its summary, the result
/// strings (`Buffers::out`), the scope spans into them, and the payload.
pub(crate) type Accepted<'a> = (Summary, &'a [u8], &'a [Span], &'a [u8]);

#[derive(Default)]
struct Slot {
    token: Vec<u8>,
    key: [u8; 32],
    summary: Option<Summary>,
    out: Vec<u8>,
    scopes: Vec<Span>,
    payload: Vec<u8>,
}

pub struct TokenCache {
    slots: Box<[RwLock<Slot>]>,
    seed: u64,
    /// Set by the first insert: until then a lookup costs one load.
    used: AtomicBool,
}

impl TokenCache {
    /// A cache of `entries` slots (rounded up to a power of two); 0 disables.
    pub fn new(entries: usize) -> TokenCache {
        let n = if entries == 0 { 0 } else { entries.next_power_of_two() };
        let slots = (0..n).map(|_| RwLock::new(Slot::default())).collect::<Vec<_>>().into_boxed_slice();
        let seed = RandomState::new().build_hasher().finish();
        TokenCache { slots, seed, used: AtomicBool::new(false) }
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub fn enabled(&self) -> bool {
        !self.slots.is_empty()
    }

    #[inline]
    fn slot(&self, token: &[u8]) -> &RwLock<Slot> {
        // The last eight bytes (the signature's tail: as good as random for
        // honest tokens) and the length, mixed with this cache's random seed
        // by one multiply (SipHash over them was a quarter of a cache hit).
        // Only verified tokens are ever inserted, so a forger cannot crowd
        // a slot; a forged token can only choose which one it is compared
        // with, and the seed makes even that differ from process to process.
        let n = token.len();
        let tail = match token.get(n.wrapping_sub(8)..) {
            Some(t) => u64::from_le_bytes(t.try_into().expect("8 bytes")),
            None => token.iter().fold(0u64, |x, &b| x << 8 | b as u64),
        };
        let x = (tail ^ (n as u64).rotate_left(40) ^ self.seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // The product's top bits depend on every input bit: scale them to
        // the table (its low bits would ignore the tail's last bytes).
        &self.slots[((x as u128 * self.slots.len() as u128) >> 64) as usize]
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

    /// The full verdict summary of exactly `token` computed against snapshot
    /// `generation`, with its strings, scopes and payload copied into
    /// `scratch` (whose capacity was reserved, so nothing is allocated).
    #[inline]
    pub(crate) fn get_accepted(&self, token: &[u8], generation: u64, scratch: &mut Buffers) -> Option<Summary> {
        if self.slots.is_empty() || token.len() > MAX_CACHED_TOKEN || !self.used.load(Ordering::Relaxed) {
            return None;
        }
        let s = self.slot(token).try_read().ok()?;
        let sum = s.summary.filter(|m| m.generation == generation)?;
        if s.token != token {
            return None;
        }
        scratch.out.extend_from_slice(&s.out);
        scratch.scopes.extend_from_slice(&s.scopes);
        scratch.dec.extend_from_slice(&s.payload);
        Some(sum)
    }

    /// Remember that `token` verified with the key fingerprinted `key`,
    /// and, when it was accepted, its summary and result.
    #[inline]
    pub(crate) fn put(&self, token: &[u8], key: &[u8; 32], accepted: Option<Accepted<'_>>) {
        if self.slots.is_empty() || token.len() > MAX_CACHED_TOKEN {
            return;
        }
        if let Ok(mut s) = self.slot(token).try_write() {
            s.token.clear();
            s.token.extend_from_slice(token);
            s.key = *key;
            s.summary = None;
            if let Some((sum, out, scopes, payload)) = accepted {
                s.out.clear();
                s.out.extend_from_slice(out);
                s.scopes.clear();
                s.scopes.extend_from_slice(scopes);
                s.payload.clear();
                s.payload.extend_from_slice(payload);
                s.summary = Some(sum);
            }
            if !self.used.load(Ordering::Relaxed) {
                self.used.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Forget everything (the key set changed in a way we cannot track).
    pub fn clear(&self) {
        for s in self.slots.iter() {
            if let Ok(mut s) = s.write() {
                s.token.clear();
                s.summary = None;
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
        c.put(b"a.b.c", &[1; 32], None);
        assert_eq!(c.get(b"a.b.c"), Some([1; 32]));
        assert!(c.get(b"a.b.d").is_none());
        assert!(c.get(b"a.b.").is_none());
        c.clear();
        assert!(c.get(b"a.b.c").is_none());
        let big = vec![b'x'; MAX_CACHED_TOKEN + 1];
        c.put(&big, &[2; 32], None);
        assert!(c.get(&big).is_none());
        let off = TokenCache::new(0);
        off.put(b"a", &[0; 32], None);
        assert!(!off.enabled() && off.get(b"a").is_none());
    }

    #[test]
    fn slots_spread_tokens_of_every_length() {
        // Short tokens (no 8-byte tail), tokens differing only in the tail,
        // and tokens differing only in length: each is found again, and
        // distinct tails land in many slots.
        let c = TokenCache::new(1024);
        let tokens: Vec<Vec<u8>> = (1..40usize)
            .map(|n| (0..n).map(|i| b'a' + (i % 26) as u8).collect())
            .chain((0..200u32).map(|i| format!("h.p.sig{i:08}").into_bytes()))
            .collect();
        let mut used = std::collections::HashSet::new();
        for (i, t) in tokens.iter().enumerate() {
            c.put(t, &[i as u8; 32], None);
            assert_eq!(c.get(t), Some([i as u8; 32]), "{t:?}");
            used.insert(c.slot(t) as *const _ as usize);
        }
        assert!(used.len() > 180, "{} slots for {} tokens", used.len(), tokens.len());
    }
}
