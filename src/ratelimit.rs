//! Run-time budgets: per-API-key rates (GCRA) and per-user Basic failure
//! budgets (SPEC §5).
//!
//! State lives in `dashmap`s keyed by key id / user name, outside the
//! snapshot, so it survives reloads. The hot path takes only a shard *read*
//! lock and updates an atomic with compare-and-swap, so verifiers never wait
//! on each other; a write lock is taken only the first time a name is seen.
//! Memory is bounded: past `cap` names, idle entries are swept (at most once
//! a second), and while the map is still full, new names share one overflow
//! entry (which can only make the budget stricter, never looser).

use crate::apikey::DigestHasher;
use dashmap::DashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, BuildHasherDefault};
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

/// Name under which new key ids are tracked once the map is full.
const OVERFLOW: &str = "";

/// The smallest `per_s` a rate can have (one verification in about 32
/// years); smaller ones are refused at load time.
pub const MIN_PER_S: f64 = 1e-9;

/// How far a call's `now` may lie behind a time an earlier call recorded
/// and still count as arriving out of order rather than as the clock going
/// back. Threads read the clock, then reach the shared state in any order
/// (microseconds apart; more on a loaded machine): such a call must meet
/// the state as it is. Only a step back further than this (a clock reset,
/// a call that had a bogus future `now`) starts a budget afresh, so that it
/// is not locked until the clock catches up.
const OUT_OF_ORDER_S: u64 = 60;

/// The latest time a rate tells apart, in nanoseconds (the year 2262):
/// half the range, so that arrival times computed from it do not saturate.
/// Every `now` past it is this instant, and a spent bucket stays spent:
/// saturated at `u64::MAX`, every call found its bucket full.
const LAST_NS: u64 = u64::MAX / 2;

/// `now` in whole nanoseconds (0 before the epoch, [`LAST_NS`] at most).
fn nanos(now: f64) -> u64 {
    if now > 0.0 {
        ((now * 1e9) as u64).min(LAST_NS)
    } else {
        0
    }
}

/// GCRA state per API key id: the theoretical arrival time, in nanoseconds.
/// Integers, not seconds as doubles: near today's `now` a double moves in
/// steps of about 0.2 µs, so the interval of a fast rate (10^7 per second)
/// vanished when added, and its bucket never emptied.
pub struct RateLimiter {
    tat: DashMap<Box<str>, AtomicU64>,
    cap: usize,
    sweeps: Sweeps,
}

/// When a full map may next be swept. A sweep visits every entry with
/// every shard write-locked; run for each new name while the map stayed
/// full, it cost each such call 0.2 ms at 100k entries and stalled every
/// other verification meanwhile. At most one sweep a second (by the
/// callers' `now`): in between, new names share the overflow entry.
#[derive(Default)]
struct Sweeps {
    next_ns: AtomicU64,
}

const SWEEP_EVERY_NS: u64 = 1_000_000_000;

impl Sweeps {
    /// Is a sweep due at `now_ns`? True for one caller per interval.
    fn due(&self, now_ns: u64) -> bool {
        let next = self.next_ns.load(Ordering::Relaxed);
        // A `next` further ahead than one interval: the clock went back.
        if now_ns < next && next - now_ns <= SWEEP_EVERY_NS {
            return false;
        }
        self.next_ns
            .compare_exchange(next, now_ns.saturating_add(SWEEP_EVERY_NS), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}

impl RateLimiter {
    pub fn new(cap: usize) -> Self {
        RateLimiter { tat: DashMap::new(), cap: cap.max(16), sweeps: Sweeps::default() }
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
        // The interval between tokens, and how far ahead of `now` the
        // arrival time may run (burst - 1 intervals).
        let t = ((1e9 / rate.per_s.max(MIN_PER_S)).round() as u64).max(1);
        let tau = t.saturating_mul(u64::from(rate.burst.saturating_sub(1)));
        let now_ns = nanos(now);
        let attempt = |a: &AtomicU64| -> Result<(), u64> {
            let mut cur = a.load(Ordering::Acquire);
            loop {
                // An arrival time further ahead than any call could have
                // set it, by more than calls arrive out of order: the clock
                // went back (or a call had a bogus future `now`). The bucket
                // counts as full again rather than locked until then. A
                // call only a little behind meets the bucket as it is: taken
                // as a reset, each one of those had a fresh burst.
                let ahead = now_ns.saturating_add(tau).saturating_add(t).saturating_add(OUT_OF_ORDER_S * 1_000_000_000);
                let tat = if cur > ahead { now_ns } else { cur.max(now_ns) };
                if tat - now_ns > tau {
                    return Err(retry_secs((tat - now_ns - tau) as f64 / 1e9));
                }
                match a.compare_exchange_weak(cur, tat.saturating_add(t), Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => return Ok(()),
                    Err(x) => cur = x,
                }
            }
        };
        if let Some(a) = self.tat.get(id) {
            return attempt(&a);
        }
        let name = self.admit(id, now_ns);
        let a = self.tat.entry(name.into()).or_insert_with(|| AtomicU64::new(0));
        attempt(&a)
    }

    /// The name to track `id` under: itself, unless the map is full.
    fn admit<'a>(&self, id: &'a str, now_ns: u64) -> &'a str {
        if self.tat.len() < self.cap {
            return id;
        }
        if !self.sweeps.due(now_ns) {
            return OVERFLOW;
        }
        // A bucket whose TAT has passed is full again: the same as no entry.
        self.tat.retain(|_, a| a.load(Ordering::Relaxed) > now_ns);
        if self.tat.len() < self.cap {
            id
        } else {
            OVERFLOW
        }
    }
}

/// Basic failure budgets: at most `max` `bad_credentials` verdicts per name
/// per 60 s window, counted from the window's first failure.
///
/// An attempt that is about to run the password hash is counted as a
/// failure first ([`FailureBudget::reserve`]) and given back when the
/// password is right ([`FailureBudget::refund`]): counting after the hash,
/// guesses sent at once all passed the check while none had failed yet.
///
/// Names are kept as a keyed 128-bit hash: a guesser's made-up names (up to
/// `max_token_bytes` each, up to `cap` of them) cost a fixed few dozen bytes
/// each, not their length.
pub struct FailureBudget {
    /// (window start in whole seconds) << 24 | failures in the window, by
    /// the name's keyed hash (already uniform: the map hashes it no more).
    state: DashMap<u128, AtomicU64, BuildHasherDefault<DigestHasher>>,
    keys: [RandomState; 2],
    cap: usize,
    sweeps: Sweeps,
}

const WINDOW_S: u64 = 60;
const COUNT_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
/// The largest `max_failures_per_min` a budget can count to.
pub const MAX_FAILURES: u32 = COUNT_MASK as u32;
/// The entry new names share once the map is full (no name hashes to it).
const OVERFLOW_KEY: u128 = 0;

fn secs(now: f64) -> u64 {
    if now <= 0.0 {
        0
    } else {
        (now as u64).min(u64::MAX >> COUNT_BITS)
    }
}

/// A budget's state: its window's start and the failures counted in it.
#[derive(Clone, Copy, PartialEq, Debug)]
struct Window {
    start: u64,
    count: u64,
}

impl Window {
    fn of(v: u64) -> Window {
        Window { start: v >> COUNT_BITS, count: v & COUNT_MASK }
    }

    fn bits(self) -> u64 {
        (self.start << COUNT_BITS) | self.count.min(COUNT_MASK)
    }

    /// Does the window hold at `now_s`? One that starts a little after
    /// `now_s` does: that call read the clock before another started the
    /// window, and restarting the count there gave its failures back. One
    /// that starts further ahead does not: the clock went back (or a call
    /// had a bogus future `now`), and a budget must not stay locked until
    /// then.
    fn holds(self, now_s: u64) -> bool {
        self.count > 0 && self.start <= now_s.saturating_add(OUT_OF_ORDER_S) && now_s < self.start + WINDOW_S
    }

    /// Seconds until it ends, for `Retry-After`.
    fn wait(self, now: f64) -> u64 {
        retry_secs((self.start + WINDOW_S) as f64 - now)
    }
}

/// What [`FailureBudget::reserve`] counted, to give back.
#[derive(Clone, Copy, Debug)]
pub struct Reservation {
    key: u128,
    start: u64,
}

impl FailureBudget {
    pub fn new(cap: usize) -> Self {
        FailureBudget {
            state: DashMap::default(),
            keys: [RandomState::new(), RandomState::new()],
            cap: cap.max(16),
            sweeps: Sweeps::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.state.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    fn key(&self, user: &str) -> u128 {
        let k = (u128::from(self.keys[0].hash_one(user)) << 64) | u128::from(self.keys[1].hash_one(user));
        k.max(OVERFLOW_KEY + 1)
    }

    /// The entry `user` is counted in, if any: its own, else (when the map
    /// is full) the overflow entry.
    fn entry(&self, key: u128) -> Option<dashmap::mapref::one::Ref<'_, u128, AtomicU64>> {
        self.state.get(&key).or_else(|| if self.state.len() >= self.cap { self.state.get(&OVERFLOW_KEY) } else { None })
    }

    /// Is `user` locked out at `now`? If so, for how many seconds.
    #[inline]
    pub fn check(&self, user: &str, max: u32, now: f64) -> Result<(), u64> {
        let Some(a) = self.entry(self.key(user)) else {
            return Ok(());
        };
        let w = Window::of(a.load(Ordering::Acquire));
        if w.holds(secs(now)) && w.count >= u64::from(max) {
            return Err(w.wait(now));
        }
        Ok(())
    }

    /// Count one failure for `user` at `now` before the password is
    /// checked, unless the budget is spent (then the seconds to wait).
    pub fn reserve(&self, user: &str, max: u32, now: f64) -> Result<Reservation, u64> {
        let now_s = secs(now);
        let key = self.key(user);
        let take = |key: u128, a: &AtomicU64| {
            let mut cur = a.load(Ordering::Acquire);
            loop {
                let w = Window::of(cur);
                let next = if w.holds(now_s) {
                    if w.count >= u64::from(max) {
                        return Err(w.wait(now));
                    }
                    Window { start: w.start, count: w.count + 1 }
                } else {
                    Window { start: now_s, count: 1 }
                };
                match a.compare_exchange_weak(cur, next.bits(), Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => return Ok(Reservation { key, start: next.start }),
                    Err(x) => cur = x,
                }
            }
        };
        if let Some(a) = self.state.get(&key) {
            return take(key, &a);
        }
        let key = if self.state.len() < self.cap {
            key
        } else if !self.sweeps.due(nanos(now)) {
            OVERFLOW_KEY
        } else {
            self.state.retain(|_, a| Window::of(a.load(Ordering::Relaxed)).holds(now_s));
            if self.state.len() < self.cap {
                key
            } else {
                OVERFLOW_KEY
            }
        };
        let a = self.state.entry(key).or_insert_with(|| AtomicU64::new(0));
        take(key, &a)
    }

    /// Give back a reservation: the password was right. Nothing happens when
    /// its window has ended since (the count it was in is gone).
    pub fn refund(&self, r: Reservation) {
        if let Some(a) = self.state.get(&r.key) {
            let _ = a.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                let w = Window::of(v);
                (w.start == r.start && w.count > 0).then(|| Window { start: w.start, count: w.count - 1 }.bits())
            });
        }
    }

    /// Forget every name's failures.
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
    fn rates_at_the_ends_of_the_range_still_limit() {
        let r = RateLimiter::new(100);
        let now = 1.75e9;
        // 10^7 per second: an interval of 100 ns, below a double's step at
        // this `now`.
        let fast = Rate { per_s: 1e7, burst: 1 };
        assert!(r.take("fast", fast, now).is_ok());
        assert_eq!(r.take("fast", fast, now), Err(1));
        let fastest = Rate { per_s: 1e9, burst: 3 };
        assert!((0..3).all(|_| r.take("fastest", fastest, now).is_ok()));
        assert!(r.take("fastest", fastest, now).is_err());
        // The slowest rate the config takes.
        let slow = Rate { per_s: MIN_PER_S, burst: 1 };
        assert!(r.take("slow", slow, now).is_ok());
        assert_eq!(r.take("slow", slow, now + 86400.0), Err(1_000_000_000 - 86400));
    }

    #[test]
    fn a_clock_that_goes_back_does_not_lock_a_bucket() {
        let r = RateLimiter::new(100);
        let rate = Rate { per_s: 1.0, burst: 2 };
        // One call with milliseconds for seconds.
        assert!(r.take("k", rate, 1.75e12).is_ok());
        assert!(r.take("k", rate, 1.75e9).is_ok(), "not locked until the year 57,000");
        assert!(r.take("k", rate, 1.75e9).is_ok());
        assert_eq!(r.take("k", rate, 1.75e9), Err(1), "and limited as usual from there");
        // An hour back.
        assert!(r.take("k", rate, 1.75e9 - 3600.0).is_ok());
    }

    #[test]
    fn calls_out_of_order_meet_the_bucket_as_it_is() {
        // Threads read the clock, then take a token in another order: a
        // call whose `now` is a little behind one already counted gets no
        // fresh burst (each did, when any `now` behind was a clock reset).
        let r = RateLimiter::new(100);
        let rate = Rate { per_s: 1.0, burst: 1 };
        let t0 = 1.75e9;
        assert!(r.take("k", rate, t0).is_ok());
        assert_eq!(r.take("k", rate, t0), Err(1));
        for back in [1e-6, 1e-3, 0.5, 30.0, 59.0] {
            assert!(r.take("k", rate, t0 - back).is_err(), "{back} s behind");
        }
        assert!(r.take("k", rate, t0 + 1.0).is_ok(), "and refilled on time");
        // Further back than any out-of-order arrival: a clock reset.
        assert!(r.take("k", rate, t0 - 3600.0).is_ok());

        // Past the range of nanoseconds (the year 2554): still limited.
        for far in [1.8446744074e10, 2e10, 1e300] {
            let r = RateLimiter::new(100);
            assert!(r.take("k", rate, far).is_ok());
            assert!(r.take("k", rate, far).is_err(), "{far}");
        }

        // Many threads, each `now` up to 3 ms behind the newest: at most
        // what the rate allows over the span, plus the burst.
        let r = RateLimiter::new(100);
        let rate = Rate { per_s: 100.0, burst: 1 };
        let passed = std::sync::atomic::AtomicU32::new(0);
        std::thread::scope(|s| {
            for th in 0..8u32 {
                let (r, passed) = (&r, &passed);
                s.spawn(move || {
                    for i in 0..2000u32 {
                        let now = t0 + f64::from(i) * 1e-4 - f64::from((i * 7 + th * 13) % 31) * 1e-4;
                        if r.take("k", rate, now).is_ok() {
                            passed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        // The span is 0.2 s: 20 intervals, and the first token.
        assert!(passed.load(Ordering::Relaxed) <= 21, "{} passed", passed.load(Ordering::Relaxed));
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
    fn a_full_map_is_swept_at_most_once_a_second() {
        let r = RateLimiter::new(16);
        let rate = Rate { per_s: 1.0, burst: 1 };
        for i in 0..16 {
            assert!(r.take(&format!("k{i}"), rate, 5.0).is_ok());
        }
        // Full of live buckets: the first new name sweeps (in vain) and goes
        // to the overflow entry.
        let _ = r.take("a", rate, 5.5);
        assert_eq!(r.len(), 17);
        // At 6.2 every bucket is idle, but the last sweep was at 5.5: no
        // sweep before 6.5, new names share the overflow entry meanwhile.
        let _ = r.take("b", rate, 6.2);
        assert_eq!(r.len(), 17);
        assert!(r.tat.get("b").is_none());
        // Due again: the sweep frees the idle buckets; the name gets its own.
        assert!(r.take("c", rate, 6.6).is_ok());
        assert!(r.tat.get("c").is_some() && r.len() <= 2, "{}", r.len());
        // A clock gone back does not hold sweeps off until it catches up.
        let s = Sweeps::default();
        assert!(s.due(100 * SWEEP_EVERY_NS) && !s.due(100 * SWEEP_EVERY_NS + 1));
        assert!(s.due(10 * SWEEP_EVERY_NS), "90 s back: due");
    }

    #[test]
    fn failure_window() {
        let f = FailureBudget::new(100);
        for _ in 0..3 {
            assert!(f.check("u", 3, 1000.0).is_ok());
            assert!(f.reserve("u", 3, 1000.0).is_ok());
        }
        assert_eq!(f.check("u", 3, 1000.0), Err(60));
        assert_eq!(f.reserve("u", 3, 1000.0).map(|_| ()), Err(60), "spent: nothing more is counted");
        assert_eq!(f.check("u", 3, 1059.5), Err(1));
        assert!(f.check("v", 3, 1000.0).is_ok());
        assert!(f.check("u", 3, 1060.0).is_ok());
        assert!(f.reserve("u", 3, 1060.0).is_ok());
        assert!(f.check("u", 3, 1060.0).is_ok());
    }

    #[test]
    fn a_right_password_gives_its_reservation_back() {
        let f = FailureBudget::new(100);
        let r = f.reserve("u", 2, 1000.0).unwrap();
        let _ = f.reserve("u", 2, 1000.0).unwrap();
        assert!(f.check("u", 2, 1000.0).is_err(), "attempts in flight count");
        f.refund(r);
        assert!(f.check("u", 2, 1000.0).is_ok());
        // A reservation of a window that has ended gives nothing back.
        let old = f.reserve("w", 1, 1000.0).unwrap();
        let _ = f.reserve("w", 1, 1061.0).unwrap();
        f.refund(old);
        assert!(f.check("w", 1, 1061.0).is_err());
    }

    #[test]
    fn concurrent_guesses_cannot_outrun_the_budget() {
        let f = FailureBudget::new(100);
        let passed = std::sync::atomic::AtomicU32::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..100 {
                        if f.reserve("alice", 3, 1000.0).is_ok() {
                            passed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(passed.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_window_from_the_future_does_not_lock_a_name_until_then() {
        let f = FailureBudget::new(100);
        // A call with a bogus `now` (milliseconds for seconds), or a clock
        // that went back: the window it started does not hold before it.
        let _ = f.reserve("u", 1, 1.75e12).unwrap();
        assert!(f.check("u", 1, 1.75e12).is_err());
        assert!(f.check("u", 1, 1.75e9).is_ok());
        assert!(f.reserve("u", 1, 1.75e9).is_ok());
        assert!(f.check("u", 1, 1.75e9).is_err());
    }

    #[test]
    fn a_guess_that_read_the_clock_early_does_not_restart_the_window() {
        // The window started at 1000 s; a guess whose `now` is just before
        // it (read before another thread's) must not start a new one.
        let f = FailureBudget::new(100);
        for i in 0..3 {
            assert!(f.reserve("u", 3, 1000.0 + f64::from(i) * 1e-3).is_ok());
        }
        assert!(f.check("u", 3, 999.9999).is_err());
        assert!(f.reserve("u", 3, 999.9999).is_err());
        assert!(f.reserve("u", 3, 1000.5).is_err(), "still spent");
        // Some seconds early is the same; far earlier is a clock reset.
        assert!(f.reserve("u", 3, 990.0).is_err());
        assert!(f.reserve("u", 3, 900.0).is_ok());
    }

    #[test]
    fn failure_map_is_bounded_in_names_and_bytes() {
        let f = FailureBudget::new(16);
        let long = "x".repeat(8000);
        for i in 0..1000 {
            let _ = f.reserve(&format!("{long}{i}"), 1000, 10.0);
        }
        assert!(f.len() <= 17);
        assert!(f.check("unseen", 1, 10.0).is_err(), "names past the cap share the overflow budget");
        let _ = f.reserve("later", 1000, 200.0);
        assert!(f.len() <= 17);
        // Kept by a fixed-size hash, not by name.
        assert_eq!(std::mem::size_of::<(u128, AtomicU64)>(), 32);
        f.clear();
        assert!(f.is_empty());
    }
}
