//! The verifier's side of remote JWKS: the last good set of each source, the
//! fetch schedule, and the one refresher thread (see `crate::jwks`).

use super::{Inner, Verifier};
use crate::config::Snapshot;
use crate::jwks::{self, LogLevel, RemoteSpec};
use crate::keys::KeySet;
use crate::stats::Counter;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Longest the refresher sleeps without looking at the snapshot again (so
/// it notices new sources and shutdown even without a wake-up).
const MAX_SLEEP: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(crate) struct RemoteState {
    /// Last good set per source id.
    sets: HashMap<String, Arc<KeySet>>,
    schedule: HashMap<String, Schedule>,
    thread_started: bool,
}

#[derive(Clone, Copy)]
struct Schedule {
    next_at: Instant,
    last_attempt: Option<Instant>,
    failures: u32,
}

impl Inner {
    fn log(&self, level: LogLevel, msg: &str) {
        // Under the read lock: see `Inner::logger`.
        if let Some(l) = &*self.logger.read().unwrap_or_else(|e| e.into_inner()) {
            l(level, msg);
        }
    }

    pub(super) fn remote_set(&self, id: &str) -> Option<Arc<KeySet>> {
        self.remote.lock().unwrap_or_else(|e| e.into_inner()).sets.get(id).cloned()
    }

    /// `s` with every remote set already known merged in (a reload keeps
    /// serving fetched keys; a merge conflict keeps the configured keys only).
    pub(super) fn merge_known_remotes(&self, mut s: Snapshot) -> Snapshot {
        let ids: Vec<String> = s.remotes().map(|r| r.id()).collect();
        for id in ids {
            if let Some(set) = self.remote_set(&id) {
                match s.with_remote_keys(&id, &set) {
                    Ok(next) => s = next,
                    Err(e) => self.log(LogLevel::Error, &format!("{id}: fetched keys conflict with the config: {e}")),
                }
            }
        }
        s
    }

    /// Fetch `spec` now and install the result. Returns the next delay.
    fn fetch_and_install(&self, spec: &RemoteSpec, id: &str) -> Result<f64, String> {
        let fetched = jwks::fetch_now(spec);
        let result = fetched.and_then(|(set, max_age)| {
            let set = Arc::new(set);
            let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            let next = self.snapshot().with_remote_keys(id, &set).map_err(|e| format!("{id}: {e}"))?;
            self.publish(next);
            let n = set.len();
            self.remote.lock().unwrap_or_else(|e| e.into_inner()).sets.insert(id.to_string(), set);
            self.rt.stats.bump(Counter::KeySetSwap);
            Ok((n, max_age))
        });
        match result {
            Ok((n, max_age)) => {
                self.rt.stats.bump(Counter::JwksFetch);
                let delay = jwks::next_after_success(&spec.refresh, max_age);
                self.log(LogLevel::Info, &format!("{id}: installed {n} keys; next refresh in {delay:.0} s"));
                Ok(delay)
            }
            Err(e) => {
                self.rt.stats.bump(Counter::JwksFetchFailure);
                self.log(LogLevel::Warn, &format!("{e}; the last good key set keeps serving"));
                Err(e)
            }
        }
    }

    /// One pass of the refresher: fetch what is due; return how long to sleep.
    fn refresh_due(&self) -> Duration {
        let snap = self.snapshot();
        let now = Instant::now();
        let mut sleep = MAX_SLEEP;
        let mut seen = HashSet::new();
        for spec in snap.remotes() {
            let id = spec.id();
            if !seen.insert(id.clone()) {
                continue;
            }
            let min = Duration::from_secs_f64(spec.refresh.min_s);
            let st = {
                let mut r = self.remote.lock().unwrap_or_else(|e| e.into_inner());
                *r.schedule.entry(id.clone()).or_insert(Schedule { next_at: now, last_attempt: None, failures: 0 })
            };
            let cooled_at = st.last_attempt.map_or(now, |t| t + min);
            let wanted = spec.wanted.load(std::sync::atomic::Ordering::Acquire);
            let due = now >= st.next_at || (wanted && now >= cooled_at);
            let st = if due && now >= cooled_at {
                spec.take_wanted();
                let next = match self.fetch_and_install(spec, &id) {
                    Ok(delay) => {
                        Schedule { next_at: Instant::now() + secs(delay), last_attempt: Some(now), failures: 0 }
                    }
                    Err(_) => {
                        let failures = st.failures + 1;
                        let delay = jwks::next_after_failure(&spec.refresh, failures);
                        Schedule { next_at: Instant::now() + secs(delay), last_attempt: Some(now), failures }
                    }
                };
                self.remote.lock().unwrap_or_else(|e| e.into_inner()).schedule.insert(id.clone(), next);
                next
            } else {
                st
            };
            let now = Instant::now();
            let mut until = st.next_at.saturating_duration_since(now);
            if spec.wanted.load(std::sync::atomic::Ordering::Acquire) {
                let cooled = st.last_attempt.map_or(now, |t| t + min);
                until = until.min(cooled.saturating_duration_since(now));
            }
            sleep = sleep.min(until.max(Duration::from_millis(5)));
        }
        let mut r = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        r.schedule.retain(|id, _| seen.contains(id));
        r.sets.retain(|id, _| seen.contains(id));
        sleep
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

impl Verifier {
    /// Fetch every remote source the snapshot names that has no set yet
    /// (synchronously: a new verifier or config serves its provider's keys
    /// from the first request), then make sure the refresher runs.
    pub(super) fn sync_remotes(&self) {
        let snap = self.inner.snapshot();
        if snap.remotes().next().is_none() {
            return;
        }
        let mut seen = HashSet::new();
        for spec in snap.remotes() {
            let id = spec.id();
            if !seen.insert(id.clone()) || self.inner.remote_set(&id).is_some() {
                continue;
            }
            let now = Instant::now();
            let sched = match self.inner.fetch_and_install(spec, &id) {
                Ok(delay) => Schedule { next_at: now + secs(delay), last_attempt: Some(now), failures: 0 },
                Err(_) => Schedule {
                    next_at: now + secs(jwks::next_after_failure(&spec.refresh, 1)),
                    last_attempt: Some(now),
                    failures: 1,
                },
            };
            self.inner.remote.lock().unwrap_or_else(|e| e.into_inner()).schedule.insert(id, sched);
        }
        let start = {
            let mut r = self.inner.remote.lock().unwrap_or_else(|e| e.into_inner());
            !std::mem::replace(&mut r.thread_started, true)
        };
        if start {
            let weak: Weak<Inner> = Arc::downgrade(&self.inner);
            let spawned = std::thread::Builder::new().name("warden-jwks".into()).spawn(move || refresher(weak));
            match spawned {
                Ok(h) => {
                    let _ = self.inner.rt.refresher.set(h.thread().clone());
                }
                Err(e) => {
                    self.inner.remote.lock().unwrap_or_else(|e| e.into_inner()).thread_started = false;
                    self.inner.log(LogLevel::Error, &format!("cannot start the JWKS refresher thread: {e}"));
                }
            }
        }
    }
}

/// The refresher: one per verifier, holding only a weak reference.
fn refresher(weak: Weak<Inner>) {
    loop {
        let sleep = {
            let Some(inner) = weak.upgrade() else { return };
            if inner.shutdown.load(std::sync::atomic::Ordering::Acquire) {
                return;
            }
            inner.refresh_due()
        };
        std::thread::park_timeout(sleep);
    }
}
