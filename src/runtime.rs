//! Run-time state that outlives config snapshots: rate-limit buckets, failure
//! budgets, caches, run-time revocations and counters.

use crate::basic::CredCache;
use crate::cache::TokenCache;
use crate::config::CacheConfig;
use crate::config::Snapshot;
use crate::ratelimit::{FailureBudget, RateLimiter};
use crate::revocation::Blocklist;
use crate::stats::Stats;
use arc_swap::ArcSwapOption;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
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

/// What one verification reads, swapped in as a whole: one view for the
/// whole call, which a [`crate::Scratch`] keeps between calls and checks
/// with one plain load of [`retirements`] (an `arc-swap` load and its
/// guard's release are two atomic read-modify-writes: a quarter of a
/// token-cache hit).
pub(crate) struct View {
    pub snap: Arc<Snapshot>,
    /// The caches, sized by the config (kept across reloads that keep the sizes).
    pub caches: Arc<Caches>,
    /// Revocations made at run time (the config's are in the snapshot).
    pub revoked: Arc<Blocklist>,
    /// Set once its verifier has replaced it or was dropped (see `retire`).
    retired: AtomicBool,
    /// [`forks`] when it was made: a view from before a `fork()` counts as
    /// retired in the child, so that each verifier is looked at again there.
    fork: u64,
}

/// Views retired so far, by every verifier in the process.
static RETIREMENTS: AtomicU64 = AtomicU64::new(0);

/// How many views have been retired so far: while this has not moved, every
/// view a scratch holds is still its verifier's current one. One counter for
/// all verifiers, so that a scratch holding several verifiers' views checks
/// them all with one load; it moves only on reloads, key-set swaps,
/// run-time revocations and verifier drops.
#[inline]
pub(crate) fn retirements() -> u64 {
    RETIREMENTS.load(Ordering::Acquire)
}

/// `fork()`s this process is a child of, counted once a refresher thread
/// has ever run (see [`watch_forks`]).
static FORKS: AtomicU64 = AtomicU64::new(0);

/// How many times this process was forked off (0 in the original one).
/// Threads do not survive `fork()`: a verifier whose refresher thread was
/// started under another count has none in this process.
#[inline]
pub(crate) fn forks() -> u64 {
    FORKS.load(Ordering::Acquire)
}

/// Count forks from now on. A child counts its fork and makes every
/// scratch sweep its views: the views from before the fork count as
/// retired ([`View::is_retired`]), so the next verification with each
/// verifier loads its view again, and that (`Inner::load_view`) starts the
/// refresher the child lacks. Only atomics: async-signal-safe, as a child
/// handler must be.
pub(crate) fn watch_forks() {
    #[cfg(unix)]
    {
        extern "C" fn forked_child() {
            FORKS.fetch_add(1, Ordering::AcqRel);
            RETIREMENTS.fetch_add(1, Ordering::Release);
        }
        static WATCH: std::sync::Once = std::sync::Once::new();
        // SAFETY: registers a handler that only touches atomics; a failure
        // (ENOMEM) leaves children without a refresher, as before.
        WATCH.call_once(|| unsafe {
            libc::pthread_atfork(None, None, Some(forked_child));
        });
    }
}

impl View {
    pub fn new(snap: Snapshot) -> View {
        let caches = Arc::new(Caches::new(snap.cache));
        View::of(Arc::new(snap), caches, Arc::default())
    }

    fn of(snap: Arc<Snapshot>, caches: Arc<Caches>, revoked: Arc<Blocklist>) -> View {
        View { snap, caches, revoked, retired: AtomicBool::new(false), fork: forks() }
    }

    /// This view with another snapshot: same run-time revocations, and the
    /// same caches unless the snapshot asks for other sizes. Entries are tied
    /// to key and user fingerprints, so same-size caches are kept.
    pub fn with_snapshot(&self, snap: Snapshot) -> View {
        let caches =
            if self.caches.config == snap.cache { self.caches.clone() } else { Arc::new(Caches::new(snap.cache)) };
        View::of(Arc::new(snap), caches, self.revoked.clone())
    }

    /// This view with other run-time revocations.
    pub fn with_revoked(&self, revoked: Blocklist) -> View {
        View::of(self.snap.clone(), self.caches.clone(), Arc::new(revoked))
    }

    /// Its verifier no longer serves this view (it swapped in another, or
    /// was dropped): scratches let it go at their next verification, with
    /// whichever verifier. The flag first, then the count: a scratch that
    /// sees the count move sees the flag.
    pub fn retire(&self) {
        self.retired.store(true, Ordering::Relaxed);
        RETIREMENTS.fetch_add(1, Ordering::Release);
    }

    /// Has [`View::retire`] been called (as of the last [`retirements`]
    /// read), or was the process forked since it was made?
    #[inline]
    pub fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Relaxed) || self.fork != forks()
    }
}

/// Run-time state that is not swapped with the view: updated in place.
pub(crate) struct Runtime {
    pub rates: RateLimiter,
    pub failures: FailureBudget,
    pub stats: Stats,
    /// The remote-JWKS refresher last started (in this process or, after
    /// a `fork()`, in the parent: waking that one does nothing).
    pub refresher: ArcSwapOption<Thread>,
}

impl Runtime {
    pub fn new() -> Runtime {
        Runtime {
            rates: RateLimiter::new(MAX_TRACKED_NAMES),
            failures: FailureBudget::new(MAX_TRACKED_NAMES),
            stats: Stats::default(),
            refresher: ArcSwapOption::empty(),
        }
    }

    /// Wake the refresher (a token met an unknown kid, or shutdown). Lock-free.
    #[inline]
    pub fn wake_refresher(&self) {
        if let Some(t) = &*self.refresher.load() {
            t.unpark();
        }
    }
}
