//! Run-time state that outlives config snapshots: rate-limit buckets, failure
//! budgets, caches, run-time revocations and counters.

use crate::basic::CredCache;
use crate::cache::TokenCache;
use crate::config::CacheConfig;
use crate::ratelimit::{FailureBudget, RateLimiter};
use crate::revocation::Blocklist;
use crate::stats::Stats;
use arc_swap::{ArcSwap, Guard};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;

/// Most names tracked for rate limits and failure budgets each.
pub const MAX_TRACKED_NAMES: usize = 100_000;

pub(crate) struct Caches {
    pub tokens: TokenCache,
    pub creds: CredCache,
    pub config: CacheConfig,
}

impl Caches {
    pub fn new(c: CacheConfig) -> Caches {
        Caches { tokens: TokenCache::new(c.tokens), creds: CredCache::new(c.basic_entries, c.basic_ttl_s), config: c }
    }
}

pub(crate) struct Runtime {
    pub rates: RateLimiter,
    pub failures: FailureBudget,
    pub caches: ArcSwap<Caches>,
    /// Revocations made at run time (the config's are in the snapshot).
    pub revoked: ArcSwap<Blocklist>,
    pub stats: Stats,
    /// The remote-JWKS refresher, once started.
    pub refresher: OnceLock<Thread>,
}

/// A loaded `Arc<Caches>` that derefs to the token cache.
pub(crate) struct TokenCacheRef(Guard<Arc<Caches>>);

impl core::ops::Deref for TokenCacheRef {
    type Target = TokenCache;
    fn deref(&self) -> &TokenCache {
        &self.0.tokens
    }
}

impl Runtime {
    pub fn new(c: CacheConfig) -> Runtime {
        Runtime {
            rates: RateLimiter::new(MAX_TRACKED_NAMES),
            failures: FailureBudget::new(MAX_TRACKED_NAMES),
            caches: ArcSwap::from_pointee(Caches::new(c)),
            revoked: ArcSwap::from_pointee(Blocklist::default()),
            stats: Stats::default(),
            refresher: OnceLock::new(),
        }
    }

    /// Wake the refresher (a token met an unknown kid, or shutdown). Lock-free.
    #[inline]
    pub fn wake_refresher(&self) {
        if let Some(t) = self.refresher.get() {
            t.unpark();
        }
    }

    #[inline]
    pub fn token_cache(&self) -> TokenCacheRef {
        TokenCacheRef(self.caches.load())
    }

    /// Resize the caches when a new config asks for other sizes. Entries are
    /// tied to key and user fingerprints, so same-size caches are kept
    /// across reloads.
    pub fn resize_caches(&self, c: CacheConfig) {
        if self.caches.load().config != c {
            self.caches.store(Arc::new(Caches::new(c)));
        }
    }
}
