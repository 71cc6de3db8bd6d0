//! Counters of verdicts and cache behaviour, readable without locks.
//!
//! Counters are sharded by thread (cache-line aligned shards, relaxed atomic
//! increments) so that two cores verifying at full speed do not bounce one
//! cache line between them; a read sums the shards.

use crate::verdict::{Code, Kind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

const SHARDS: usize = 16;
const CODES: usize = Code::ALL.len();

#[repr(align(128))]
#[derive(Default)]
struct Shard {
    verdicts: [[AtomicU64; CODES]; 3],
    counters: [AtomicU64; Counter::COUNT],
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
    shards: Box<[Shard]>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats { shards: (0..SHARDS).map(|_| Shard::default()).collect() }
    }
}

fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static IDX: usize = NEXT.fetch_add(1, Relaxed) % SHARDS;
    }
    IDX.try_with(|i| *i).unwrap_or(0)
}

fn kind_index(k: Kind) -> usize {
    k as usize - 1
}

impl Stats {
    #[inline]
    pub fn verdict(&self, kind: Kind, code: Code) {
        self.shards[shard_index()].verdicts[kind_index(kind)][code as usize].fetch_add(1, Relaxed);
    }

    #[inline]
    pub fn bump(&self, c: Counter) {
        self.shards[shard_index()].counters[c as usize].fetch_add(1, Relaxed);
    }

    /// A consistent-enough copy (each counter is read once; counts taken
    /// while verifications run may be a few apart from each other).
    pub fn snapshot(&self) -> StatsSnapshot {
        let mut s = StatsSnapshot::default();
        for sh in self.shards.iter() {
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
        let s = std::sync::Arc::new(Stats::default());
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        s.verdict(Kind::Jwt, Code::Ok);
                        s.bump(Counter::TokenCacheHit);
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
        let p = snap.to_prometheus();
        assert!(p.contains("warden_verdicts_total{kind=\"jwt\",code=\"ok\"} 4000\n"));
        assert!(p.contains("warden_token_cache_hits_total 4000\n"));
    }
}
