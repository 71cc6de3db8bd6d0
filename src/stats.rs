//! Counters of verdicts and cache behaviour, counted without locks.
//!
//! Verifications count into a shard that their [`Scratch`](crate::Scratch)
//! has claimed for itself (a `Tally`): one writer per shard, so an increment
//! is a plain load and store (no locked read-modify-write, which costs a
//! rejected call a quarter of its time), and two cores verifying at full
//! speed never share a cache line. Events off the hot path (reloads, key
//! swaps, revocations, fetches) count into one shared shard with atomic
//! increments. A read sums every shard (under the mutex that also guards
//! claiming one; verifications never take it).

use crate::verdict::{Code, Kind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex, PoisonError};

/// Shards a verifier starts with: so many scratches can verify with it at
/// once before claiming a shard allocates (once per further scratch).
const SPARE_SHARDS: usize = 8;
const CODES: usize = Code::ALL.len();

#[repr(align(128))]
#[derive(Default)]
struct Shard {
    verdicts: [[AtomicU64; CODES]; 3],
    counters: [AtomicU64; Counter::COUNT],
    /// Owned by a [`Tally`] (owned shards only).
    claimed: AtomicBool,
}

/// Event counters besides verdicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Counter {
    TokenCacheHit = 0,
    TokenCacheMiss = 1,
    BasicCacheHit = 2,
    BasicCacheMiss = 3,
    Reload = 4,
    ReloadFailure = 5,
    KeySetSwap = 6,
    Revocation = 7,
    JwksFetch = 8,
    JwksFetchFailure = 9,
}

impl Counter {
    pub const COUNT: usize = 10;
    pub const ALL: [Counter; Counter::COUNT] = [
        Counter::TokenCacheHit,
        Counter::TokenCacheMiss,
        Counter::BasicCacheHit,
        Counter::BasicCacheMiss,
        Counter::Reload,
        Counter::ReloadFailure,
        Counter::KeySetSwap,
        Counter::Revocation,
        Counter::JwksFetch,
        Counter::JwksFetchFailure,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Counter::TokenCacheHit => "token_cache_hits",
            Counter::TokenCacheMiss => "token_cache_misses",
            Counter::BasicCacheHit => "basic_cache_hits",
            Counter::BasicCacheMiss => "basic_cache_misses",
            Counter::Reload => "reloads",
            Counter::ReloadFailure => "reload_failures",
            Counter::KeySetSwap => "key_set_swaps",
            Counter::Revocation => "revocation_changes",
            Counter::JwksFetch => "jwks_fetches",
            Counter::JwksFetchFailure => "jwks_fetch_failures",
        }
    }
}

pub struct Stats {
    /// Events without a scratch (rare): atomic increments.
    shared: Shard,
    /// Claimed by scratches, one writer each; never removed (a released
    /// shard keeps its counts and goes to the next scratch that claims one).
    owned: Mutex<Vec<Arc<Shard>>>,
}

impl Default for Stats {
    fn default() -> Self {
        let spare = (0..SPARE_SHARDS).map(|_| Arc::default()).collect();
        Stats { shared: Shard::default(), owned: Mutex::new(spare) }
    }
}

fn kind_index(k: Kind) -> usize {
    k as usize - 1
}

/// Add one to a counter that only this thread writes.
#[inline]
fn add_one(c: &AtomicU64) {
    c.store(c.load(Relaxed).wrapping_add(1), Relaxed);
}

/// A shard of a verifier's counters owned by one scratch: while it exists,
/// no one else writes the shard, so counting needs no atomic
/// read-modify-write. Dropping it gives the shard back (counts kept).
pub(crate) struct Tally(Arc<Shard>);

impl Tally {
    #[inline]
    pub(crate) fn verdict(&self, kind: Kind, code: Code) {
        add_one(&self.0.verdicts[kind_index(kind)][code as usize]);
    }

    #[inline]
    pub(crate) fn bump(&self, c: Counter) {
        add_one(&self.0.counters[c as usize]);
    }
}

impl Drop for Tally {
    fn drop(&mut self) {
        // Release: the next owner's first load sees this owner's last store.
        self.0.claimed.store(false, Release);
    }
}

impl Stats {
    /// Count an event that has no scratch (reloads, key swaps, fetches).
    #[inline]
    pub fn bump(&self, c: Counter) {
        self.shared.counters[c as usize].fetch_add(1, Relaxed);
    }

    /// A shard for one scratch to count into: a free one if there is one,
    /// else a new one (allocated only when more than [`SPARE_SHARDS`]
    /// scratches verify with this verifier at once).
    pub(crate) fn claim(&self) -> Tally {
        let mut owned = self.owned.lock().unwrap_or_else(PoisonError::into_inner);
        // A plain load first: a claimed shard costs no locked instruction to
        // pass over. Shards are only claimed under this lock, so a free one
        // stays free until the exchange.
        let free = owned
            .iter()
            .find(|s| !s.claimed.load(Relaxed) && s.claimed.compare_exchange(false, true, Acquire, Relaxed).is_ok());
        if let Some(s) = free {
            return Tally(s.clone());
        }
        let s = Arc::new(Shard { claimed: AtomicBool::new(true), ..Shard::default() });
        owned.push(s.clone());
        Tally(s)
    }

    /// A consistent-enough copy (each counter is read once; counts taken
    /// while verifications run may be a few apart from each other).
    pub fn snapshot(&self) -> StatsSnapshot {
        let mut s = StatsSnapshot::default();
        let owned = self.owned.lock().unwrap_or_else(PoisonError::into_inner);
        for sh in std::iter::once(&self.shared).chain(owned.iter().map(|s| &**s)) {
            for k in 0..3 {
                for c in 0..CODES {
                    s.verdicts[k][c] += sh.verdicts[k][c].load(Relaxed);
                }
            }
            for c in 0..Counter::COUNT {
                s.counters[c] += sh.counters[c].load(Relaxed);
            }
        }
        s
    }
}

/// Summed counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub verdicts: [[u64; CODES]; 3],
    pub counters: [u64; Counter::COUNT],
}

impl StatsSnapshot {
    pub fn verdicts(&self, kind: Kind, code: Code) -> u64 {
        self.verdicts[kind_index(kind)][code as usize]
    }

    pub fn counter(&self, c: Counter) -> u64 {
        self.counters[c as usize]
    }

    /// Prometheus text exposition format.
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP warden_verdicts_total Verifications by credential kind and verdict code.\n");
        out.push_str("# TYPE warden_verdicts_total counter\n");
        for k in Kind::ALL {
            for c in Code::ALL {
                out.push_str(&format!(
                    "warden_verdicts_total{{kind=\"{}\",code=\"{}\"}} {}\n",
                    k.as_str(),
                    c.as_str(),
                    self.verdicts(k, c)
                ));
            }
        }
        for c in Counter::ALL {
            out.push_str(&format!(
                "# TYPE warden_{}_total counter\nwarden_{}_total {}\n",
                c.name(),
                c.name(),
                self.counter(c)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_across_threads() {
        let s = Arc::new(Stats::default());
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    let t = s.claim();
                    for _ in 0..1000 {
                        t.verdict(Kind::Jwt, Code::Ok);
                        t.bump(Counter::TokenCacheHit);
                        s.bump(Counter::Reload);
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        let snap = s.snapshot();
        assert_eq!(snap.verdicts(Kind::Jwt, Code::Ok), 4000);
        assert_eq!(snap.verdicts(Kind::Basic, Code::Ok), 0);
        assert_eq!(snap.counter(Counter::TokenCacheHit), 4000);
        assert_eq!(snap.counter(Counter::Reload), 4000);
        let p = snap.to_prometheus();
        assert!(p.contains("warden_verdicts_total{kind=\"jwt\",code=\"ok\"} 4000\n"));
        assert!(p.contains("warden_token_cache_hits_total 4000\n"));
    }

    #[test]
    fn a_shard_has_one_owner_at_a_time_and_keeps_its_counts() {
        let s = Stats::default();
        let a = s.claim();
        let b = s.claim();
        assert!(!Arc::ptr_eq(&a.0, &b.0), "two live tallies share a shard");
        a.verdict(Kind::ApiKey, Code::Revoked);
        let shard = a.0.clone();
        drop(a);
        let c = s.claim();
        assert!(Arc::ptr_eq(&c.0, &shard), "a released shard is not reused");
        c.verdict(Kind::ApiKey, Code::Revoked);
        b.verdict(Kind::ApiKey, Code::Revoked);
        assert_eq!(s.snapshot().verdicts(Kind::ApiKey, Code::Revoked), 3);
        assert_eq!(s.owned.lock().unwrap().len(), SPARE_SHARDS);
        let more: Vec<_> = (0..SPARE_SHARDS).map(|_| s.claim()).collect();
        assert_eq!(s.owned.lock().unwrap().len(), SPARE_SHARDS + 2);
        drop(more);
    }
}
