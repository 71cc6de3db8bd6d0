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
//! The table is a fixed array of buckets of two entries, each bucket behind
//! its own `RwLock`; a token may sit in either entry of its bucket, and an
//! insert replaces the one used least recently. Two ways rather than one
//! because slots are placed at random: with one way, two hot tokens that
//! land together evict each other on every request (among 4 tokens in 1,024
//! slots, in ~0.6 % of processes; among 300, in a third of the slots they
//! use), while a bucket holds any two. An entry allocates its buffers on its
//! first insert and reuses them after, so in steady state lookups and
//! inserts allocate nothing; `try_` locks mean a verifier never waits — a
//! contended bucket is simply a miss.

use crate::scratch::{Buffers, Span};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::RwLock;

/// Longest token the cache holds; longer tokens are always verified cold.
pub const MAX_CACHED_TOKEN: usize = 2048;
/// Default number of entries.
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

impl Slot {
    /// Compared in constant time: a held token is a valid credential, and
    /// an early-exit compare would time how much of it a probe that
    /// reached its bucket got right. (A hit reads every byte either way.)
    #[inline]
    fn holds(&self, token: &[u8]) -> bool {
        !self.token.is_empty() && crate::ct::eq(&self.token, token)
    }
}

#[derive(Default)]
struct Bucket {
    ways: [Slot; 2],
    /// The way that hit or was written last: an insert replaces the other.
    /// Written under the read lock too (a hit), so atomic; stored only when
    /// it changes, so a bucket with one hot token is never written by hits.
    recent: AtomicU8,
}

impl Bucket {
    /// The way holding `token`, marked most recently used.
    #[inline]
    fn find(&self, token: &[u8]) -> Option<&Slot> {
        let way = if self.ways[0].holds(token) {
            0
        } else if self.ways[1].holds(token) {
            1
        } else {
            return None;
        };
        if self.recent.load(Ordering::Relaxed) != way {
            self.recent.store(way, Ordering::Relaxed);
        }
        Some(&self.ways[way as usize])
    }

    /// The way an insert of `token` writes: the one holding it already,
    /// else an empty one, else the least recently used.
    fn victim(&mut self, token: &[u8]) -> &mut Slot {
        let way = match self.ways.iter().position(|s| s.holds(token)) {
            Some(w) => w,
            None if self.ways[0].token.is_empty() => 0,
            None if self.ways[1].token.is_empty() => 1,
            None => 1 - *self.recent.get_mut() as usize,
        };
        *self.recent.get_mut() = way as u8;
        &mut self.ways[way]
    }
}

pub struct TokenCache {
    buckets: Box<[RwLock<Bucket>]>,
    seed: u64,
    /// Set by the first insert: until then a lookup costs one load.
    used: AtomicBool,
}

impl TokenCache {
    /// A cache of `entries` entries (rounded up to a power of two, and to at
    /// least one bucket of two); 0 disables.
    pub fn new(entries: usize) -> TokenCache {
        let n = if entries == 0 { 0 } else { entries.next_power_of_two().div_ceil(2) };
        let buckets = (0..n).map(|_| RwLock::new(Bucket::default())).collect::<Vec<_>>().into_boxed_slice();
        let seed = RandomState::new().build_hasher().finish();
        TokenCache { buckets, seed, used: AtomicBool::new(false) }
    }

    /// How many tokens the cache holds at most.
    pub fn capacity(&self) -> usize {
        self.buckets.len() * 2
    }

    pub fn enabled(&self) -> bool {
        !self.buckets.is_empty()
    }

    #[inline]
    fn bucket(&self, token: &[u8]) -> &RwLock<Bucket> {
        // The last eight bytes (the signature's tail: as good as random for
        // honest tokens) and the length, mixed with this cache's random seed
        // by one multiply (SipHash over them was a quarter of a cache hit).
        // Only verified tokens are ever inserted, so a forger cannot crowd
        // a bucket; a forged token can only choose which ones it is compared
        // with, and the seed makes even that differ from process to process.
        let n = token.len();
        let tail = match token.get(n.wrapping_sub(8)..) {
            Some(t) => u64::from_le_bytes(t.try_into().expect("8 bytes")),
            None => token.iter().fold(0u64, |x, &b| x << 8 | b as u64),
        };
        let x = (tail ^ (n as u64).rotate_left(40) ^ self.seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // The product's top bits depend on every input bit: scale them to
        // the table (its low bits would ignore the tail's last bytes).
        &self.buckets[((x as u128 * self.buckets.len() as u128) >> 64) as usize]
    }

    /// The fingerprint of the key that verified exactly `token`, if cached.
    #[inline]
    pub fn get(&self, token: &[u8]) -> Option<[u8; 32]> {
        if self.buckets.is_empty() || token.len() > MAX_CACHED_TOKEN {
            return None;
        }
        let b = self.bucket(token).try_read().ok()?;
        b.find(token).map(|s| s.key)
    }

    /// The full verdict summary of exactly `token` computed against snapshot
    /// `generation`, with its strings, scopes and payload copied into
    /// `scratch` (whose capacity was reserved, so nothing is allocated).
    #[inline]
    pub(crate) fn get_accepted(&self, token: &[u8], generation: u64, scratch: &mut Buffers) -> Option<Summary> {
        if self.buckets.is_empty() || token.len() > MAX_CACHED_TOKEN || !self.used.load(Ordering::Relaxed) {
            return None;
        }
        let b = self.bucket(token).try_read().ok()?;
        let s = b.find(token)?;
        let sum = s.summary.filter(|m| m.generation == generation)?;
        scratch.out.extend_from_slice(&s.out);
        scratch.scopes.extend_from_slice(&s.scopes);
        scratch.dec.extend_from_slice(&s.payload);
        Some(sum)
    }

    /// Remember that `token` verified with the key fingerprinted `key`,
    /// and, when it was accepted, its summary and result.
    #[inline]
    pub(crate) fn put(&self, token: &[u8], key: &[u8; 32], accepted: Option<Accepted<'_>>) {
        if self.buckets.is_empty() || token.len() > MAX_CACHED_TOKEN {
            return;
        }
        if let Ok(mut b) = self.bucket(token).try_write() {
            let s = b.victim(token);
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
        for b in self.buckets.iter() {
            if let Ok(mut b) = b.write() {
                for s in &mut b.ways {
                    s.token.clear();
                    s.summary = None;
                }
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
        let c = TokenCache::new(2048); // 1,024 buckets: spread over as many places as ever
        let tokens: Vec<Vec<u8>> = (1..40usize)
            .map(|n| (0..n).map(|i| b'a' + (i % 26) as u8).collect())
            .chain((0..200u32).map(|i| format!("h.p.sig{i:08}").into_bytes()))
            .collect();
        let mut used = std::collections::HashSet::new();
        for (i, t) in tokens.iter().enumerate() {
            c.put(t, &[i as u8; 32], None);
            assert_eq!(c.get(t), Some([i as u8; 32]), "{t:?}");
            used.insert(c.bucket(t) as *const _ as usize);
        }
        assert!(used.len() > 180, "{} buckets for {} tokens", used.len(), tokens.len());
    }

    /// Distinct tokens that the cache puts in one bucket.
    fn together(c: &TokenCache, n: usize) -> Vec<Vec<u8>> {
        let first = b"h.p.sig-first".to_vec();
        let home = c.bucket(&first) as *const _;
        let mut found = vec![first];
        for i in 0u32.. {
            let t = format!("h.p.sig{i:06}").into_bytes();
            if found.len() == n {
                return found;
            }
            if std::ptr::eq(c.bucket(&t), home) {
                found.push(t);
            }
        }
        unreachable!()
    }

    #[test]
    fn a_bucket_holds_two_tokens_and_replaces_the_least_recently_used() {
        let c = TokenCache::new(64);
        assert_eq!(c.capacity(), 64);
        let t = together(&c, 3);
        let (a, b, third) = (&t[0], &t[1], &t[2]);
        c.put(a, &[1; 32], None);
        c.put(b, &[2; 32], None);
        assert_eq!((c.get(a), c.get(b)), (Some([1; 32]), Some([2; 32])), "two tokens of one bucket");
        // `b` was used last: the third token replaces `a`.
        c.put(third, &[3; 32], None);
        assert_eq!((c.get(a), c.get(b), c.get(third)), (None, Some([2; 32]), Some([3; 32])));
        // A hit makes `b` the most recent: `a` comes back in place of `third`.
        assert!(c.get(b).is_some());
        c.put(a, &[4; 32], None);
        assert_eq!((c.get(a), c.get(b), c.get(third)), (Some([4; 32]), Some([2; 32]), None));
        // Re-inserting a cached token rewrites its own entry, never its neighbour's.
        c.put(a, &[5; 32], None);
        c.put(a, &[6; 32], None);
        assert_eq!((c.get(a), c.get(b)), (Some([6; 32]), Some([2; 32])));
        // The smallest cache is one bucket of two.
        let one = TokenCache::new(1);
        assert_eq!(one.capacity(), 2);
        one.put(a, &[7; 32], None);
        one.put(b, &[8; 32], None);
        assert_eq!((one.get(a), one.get(b)), (Some([7; 32]), Some([8; 32])));
    }
}
