//! Run-time budgets: per-API-key rates (GCRA) and per-user Basic failure
//! budgets (SPEC §5).
//!
//! State lives in `dashmap`s keyed by key id / user name, outside the
//! snapshot, so it survives reloads. The hot path takes only a shard *read*
//! lock and updates an atomic with compare-and-swap, so verifiers never wait
//! on each other; a write lock is taken only the first time a name is seen.
//! Memory is bounded: past `cap` names, idle entries are swept, and if the
//! map is still full, new names share one overflow entry (which can only make
//! the budget stricter, never looser).

use dashmap::DashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// A token bucket: `burst` verifications at once, refilled at `per_s`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub per_s: f64,
    pub burst: u32,
}

/// Whole seconds to wait, at least 1 (a `Retry-After` of 0 invites a spin).
fn retry_secs(wait: f64) -> u64 {
    (wait.ceil() as u64).max(1)
}

/// Name under which new names are tracked once the map is full.
const OVERFLOW: &str = "";

/// GCRA state per API key id: the theoretical arrival time, as f64 bits.
pub struct RateLimiter {
    tat: DashMap<Box<str>, AtomicU64>,
    cap: usize,
}

impl RateLimiter {
    pub fn new(cap: usize) -> Self {
        RateLimiter { tat: DashMap::new(), cap: cap.max(16) }
    }

    pub fn len(&self) -> usize {
        self.tat.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tat.is_empty()
    }

    /// Spend one token of `id`'s bucket at `now`, or say how long to wait.
    #[inline]
    pub fn take(&self, id: &str, rate: Rate, now: f64) -> Result<(), u64> {
        let t = 1.0 / rate.per_s;
        let tau = (rate.burst.saturating_sub(1)) as f64 * t;
        let attempt = |a: &AtomicU64| -> Result<(), u64> {
            let mut cur = a.load(Ordering::Acquire);
            loop {
                let tat = f64::from_bits(cur).max(now);
                if tat - now > tau {
                    return Err(retry_secs(tat - now - tau));
                }
                match a.compare_exchange_weak(cur, (tat + t).to_bits(), Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => return Ok(()),
                    Err(x) => cur = x,
                }
            }
        };
        if let Some(a) = self.tat.get(id) {
            return attempt(&a);
        }
        let name = self.admit(id, now);
        let a = self.tat.entry(name.into()).or_insert_with(|| AtomicU64::new(f64::NEG_INFINITY.to_bits()));
        attempt(&a)
    }

    /// The name to track `id` under: itself, unless the map is full.
    fn admit<'a>(&self, id: &'a str, now: f64) -> &'a str {
        if self.tat.len() < self.cap {
            return id;
        }
        // A bucket whose TAT has passed is full again: the same as no entry.
        self.tat.retain(|_, a| f64::from_bits(a.load(Ordering::Relaxed)) > now);
        if self.tat.len() < self.cap {
            id
        } else {
            OVERFLOW
        }
    }
}

/// Basic failure budgets: at most `max` `bad_credentials` verdicts per name
/// per 60 s window, counted from the window's first failure.
pub struct FailureBudget {
    /// (window start in whole seconds) << 24 | failures in the window.
    state: DashMap<Box<str>, AtomicU64>,
    cap: usize,
}

const WINDOW_S: u64 = 60;
const COUNT_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

fn secs(now: f64) -> u64 {
    if now <= 0.0 {
        0
    } else {
        (now as u64).min(u64::MAX >> COUNT_BITS)
    }
}

impl FailureBudget {
    pub fn new(cap: usize) -> Self {
        FailureBudget { state: DashMap::new(), cap: cap.max(16) }
    }

    pub fn len(&self) -> usize {
        self.state.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    /// Is `user` locked out at `now`? If so, for how many seconds.
    #[inline]
    pub fn check(&self, user: &str, max: u32, now: f64) -> Result<(), u64> {
        let tracked = self.state.get(user);
        let full = || if self.state.len() >= self.cap { self.state.get(OVERFLOW) } else { None };
        let Some(a) = tracked.or_else(full) else {
            return Ok(());
        };
        let v = a.load(Ordering::Acquire);
        let (start, count) = (v >> COUNT_BITS, v & COUNT_MASK);
        let now_s = secs(now);
        if now_s < start + WINDOW_S && count >= max as u64 {
            return Err(retry_secs((start + WINDOW_S) as f64 - now));
        }
        Ok(())
    }

    /// Record one failure for `user` at `now`.
    pub fn fail(&self, user: &str, now: f64) {
        let now_s = secs(now);
        let bump = |a: &AtomicU64| {
            let _ = a.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                let (start, count) = (v >> COUNT_BITS, v & COUNT_MASK);
                Some(if now_s >= start + WINDOW_S || v == 0 {
                    (now_s << COUNT_BITS) | 1
                } else {
                    (start << COUNT_BITS) | (count + 1).min(COUNT_MASK)
                })
            });
        };
        if let Some(a) = self.state.get(user) {
            bump(&a);
            return;
        }
        let name = if self.state.len() < self.cap {
            user
        } else {
            self.state.retain(|_, a| (a.load(Ordering::Relaxed) >> COUNT_BITS) + WINDOW_S > now_s);
            if self.state.len() < self.cap {
                user
            } else {
                OVERFLOW
            }
        };
        let a = self.state.entry(name.into()).or_insert_with(|| AtomicU64::new(0));
        bump(&a);
    }

    /// Forget `user`'s failures (after a successful login the budget is not
    /// reset: SPEC counts failures in a window, not consecutive ones).
    pub fn clear(&self) {
        self.state.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_burst_then_refill() {
        let r = RateLimiter::new(100);
        let rate = Rate { per_s: 1.0, burst: 2 };
        assert!(r.take("k", rate, 100.0).is_ok());
        assert!(r.take("k", rate, 100.0).is_ok());
        assert_eq!(r.take("k", rate, 100.0), Err(1));
        assert_eq!(r.take("k", rate, 100.5), Err(1));
        assert!(r.take("k", rate, 101.0).is_ok());
        assert!(r.take("other", rate, 101.0).is_ok());
        let slow = Rate { per_s: 0.1, burst: 1 };
        assert!(r.take("s", slow, 0.0).is_ok());
        assert_eq!(r.take("s", slow, 0.0), Err(10));
        assert_eq!(r.take("s", slow, 9.5), Err(1));
        assert!(r.take("s", slow, 10.0).is_ok());
    }

    #[test]
    fn rate_map_is_bounded() {
        let r = RateLimiter::new(16);
        let rate = Rate { per_s: 1.0, burst: 1 };
        for i in 0..1000 {
            let _ = r.take(&format!("k{i}"), rate, 5.0);
        }
        assert!(r.len() <= 17, "{}", r.len());
        // Everything past the cap shares the overflow bucket: stricter, not looser.
        assert!(r.take("fresh", rate, 5.0).is_err());
        // Once idle entries are swept, new names get their own bucket again.
        assert!(r.take("fresh2", rate, 100.0).is_ok());
    }

    #[test]
    fn failure_window() {
        let f = FailureBudget::new(100);
        for _ in 0..3 {
            assert!(f.check("u", 3, 1000.0).is_ok());
            f.fail("u", 1000.0);
        }
        assert_eq!(f.check("u", 3, 1000.0), Err(60));
        assert_eq!(f.check("u", 3, 1059.5), Err(1));
        assert!(f.check("v", 3, 1000.0).is_ok());
        assert!(f.check("u", 3, 1060.0).is_ok());
        f.fail("u", 1060.0);
        assert!(f.check("u", 3, 1060.0).is_ok());
    }

    #[test]
    fn failure_map_is_bounded() {
        let f = FailureBudget::new(16);
        for i in 0..1000 {
            f.fail(&format!("u{i}"), 10.0);
        }
        assert!(f.len() <= 17);
        assert!(f.check("unseen", 1, 10.0).is_err(), "names past the cap share the overflow budget");
        f.fail("later", 200.0);
        assert!(f.len() <= 17);
        f.clear();
        assert!(f.is_empty());
    }
}
