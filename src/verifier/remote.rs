//! The verifier's side of remote JWKS: the last good set of each source, the
//! fetch schedule, and the one refresher thread (see `crate::jwks`).

use super::{Inner, Verifier};
use crate::config::Snapshot;
use crate::jwks::{self, LogLevel, RemoteSpec};
use crate::keys::KeySet;
use crate::runtime::{forks, watch_forks};
use crate::stats::Counter;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest the refresher sleeps without looking at the snapshot again (so
/// it notices new sources and shutdown even without a wake-up).
const MAX_SLEEP: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(crate) struct RemoteState {
    /// Last good set per source id.
    sets: HashMap<String, Arc<KeySet>>,
    schedule: HashMap<String, Schedule>,
}

/// Where the refresher thread runs and whether it may. Threads do not
/// survive `fork()`, so both are kept as the fork count ([`forks`]) they
/// hold for: a child sees no refresher and no pause of its parent's.
pub(crate) struct Refresher {
    /// The fork count under which the running refresher was started
    /// (`NONE`: none was, or it stopped).
    running_in: AtomicU64,
    /// The fork count under which background refresh was paused (`NONE`: it was not).
    paused_in: AtomicU64,
    /// The thread last started, to wait for in [`Verifier::pause_refresh`],
    /// with the fork count it was started under.
    handle: Mutex<Option<(JoinHandle<()>, u64)>>,
    /// Why a verification could not start the refresher, for the next
    /// thread that may call the logger (see [`Inner::ensure_refresher`]).
    unstarted: Mutex<Option<String>>,
}

const NONE: u64 = u64::MAX;

impl Default for Refresher {
    fn default() -> Refresher {
        Refresher {
            running_in: AtomicU64::new(NONE),
            paused_in: AtomicU64::new(NONE),
            handle: Mutex::new(None),
            unstarted: Mutex::new(None),
        }
    }
}

#[derive(Clone, Copy)]
struct Schedule {
    next_at: Instant,
    last_attempt: Option<Instant>,
    failures: u32,
}

thread_local! {
    /// The verifier whose logger this thread is calling (null: none).
    static LOGGING: Cell<*const Inner> = const { Cell::new(std::ptr::null()) };
}

impl Inner {
    fn log(&self, level: LogLevel, msg: &str) {
        // Under the read lock: see `Inner::logger`.
        if let Some(l) = &*self.logger.read().unwrap_or_else(|e| e.into_inner()) {
            // Freed by the logger's own call (see `Drop for Verifier`).
            if self.shutdown.load(Ordering::Acquire) {
                return;
            }
            struct Restore(*const Inner);
            impl Drop for Restore {
                fn drop(&mut self) {
                    LOGGING.with(|c| c.set(self.0));
                }
            }
            let _restore = Restore(LOGGING.with(|c| c.replace(self)));
            l(level, msg);
        }
    }

    /// Is this thread inside a call of this verifier's logger?
    pub(super) fn logging_here(&self) -> bool {
        LOGGING.with(|c| std::ptr::eq(c.get(), self))
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
                let (next, shadowed) = s.with_remote_keys(&id, &set);
                self.warn_shadowed(&id, &shadowed);
                s = next;
            }
        }
        s
    }

    /// Say which fetched keys a configured key of the same kid and alg
    /// shadows: their tokens verify with the configured key (or not at all).
    fn warn_shadowed(&self, id: &str, shadowed: &[String]) {
        if !shadowed.is_empty() {
            let keys = shadowed.join(", ");
            self.log(
                LogLevel::Warn,
                &format!("{id}: fetched keys left out, a configured key has the same kid and alg: {keys}"),
            );
        }
    }

    /// Report a set fetched and installed: its size, the next refresh, and
    /// the keys skipped.
    fn log_installed(&self, id: &str, n: usize, delay: f64, skipped: &[crate::keys::Skipped]) {
        // Signing keys skipped are worth a warning (their tokens will not
        // verify); keys not for signatures only a mention. The first few,
        // then how many more: a set of 350,000 empty objects made a 21 MB
        // log line on every refresh.
        let list = |warn: bool| {
            let of_kind = || skipped.iter().filter(|k| k.not_for_signing != warn);
            let s: Vec<String> = of_kind().take(MAX_LISTED).map(|k| format!("{}: {}", k.at, k.reason)).collect();
            let more = of_kind().count().saturating_sub(MAX_LISTED);
            let tail = if more > 0 { format!("; and {more} more") } else { String::new() };
            s.join("; ") + &tail
        };
        let quiet = skipped.iter().filter(|k| k.not_for_signing).count();
        let also =
            if quiet > 0 { format!(" (ignored {quiet} not for signatures: {})", list(false)) } else { String::new() };
        self.log(LogLevel::Info, &format!("{id}: installed {n} keys{also}; next refresh in {delay:.0} s"));
        if skipped.len() > quiet {
            self.log(LogLevel::Warn, &format!("{id}: skipped keys warden cannot use: {}", list(true)));
        }
    }

    /// Fetch `spec` now and install the result. Returns the next delay.
    fn fetch_and_install(&self, spec: &RemoteSpec, id: &str) -> Result<f64, String> {
        let fetched = jwks::fetch_now(spec);
        let result = fetched.map(|f| {
            let set = Arc::new(f.keys);
            let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            let (next, shadowed) = self.snapshot().with_remote_keys(id, &set);
            self.publish(next);
            let n = set.len();
            self.remote.lock().unwrap_or_else(|e| e.into_inner()).sets.insert(id.to_string(), set);
            self.rt.stats.bump(Counter::KeySetSwap);
            (n, f.max_age, f.skipped, shadowed)
        });
        match result {
            Ok((n, max_age, skipped, shadowed)) => {
                self.rt.stats.bump(Counter::JwksFetch);
                let delay = jwks::next_after_success(&spec.refresh, max_age);
                self.log_installed(id, n, delay, &skipped);
                self.warn_shadowed(id, &shadowed);
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
            // A reload may have lowered `max_s` since this was scheduled
            // (under a provider's max-age of an hour, say): never wait past
            // what the config now in force allows.
            let st = Schedule {
                next_at: st.last_attempt.map_or(st.next_at, |t| st.next_at.min(t + secs(spec.refresh.max_s))),
                ..st
            };
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

/// A key set fetched for a reload, not installed yet.
pub(super) struct Prefetched {
    id: String,
    set: Arc<KeySet>,
    schedule: Schedule,
}

impl Inner {
    /// Keep the sets a reload fetched, as if the refresher had (called
    /// with the writer lock held, right before the reload's snapshot is
    /// merged and published).
    pub(super) fn keep_prefetched(&self, sets: Vec<Prefetched>) {
        let mut r = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        for p in sets {
            r.sets.insert(p.id.clone(), p.set);
            r.schedule.insert(p.id, p.schedule);
        }
    }
}

/// Skipped keys named one by one in a log line; past this, a count.
const MAX_LISTED: usize = 10;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

impl Verifier {
    /// Before a reload installs `s`: fetch each remote source it names that
    /// the config in force does not, for the install to keep and merge in
    /// ([`Inner::keep_prefetched`]). A source that cannot be fetched
    /// refuses the reload, naming the profile: installed, it served no key
    /// at all (every token `unsupported_alg`) where the previous config
    /// served, and the reload said it had succeeded. Runs without the
    /// writer lock (it waits on the network, up to each `timeout_s`).
    pub(super) fn prefetch_new_sources(&self, s: &Snapshot) -> Result<Vec<Prefetched>, (String, String)> {
        let mut out = Vec::new();
        // A source the config in force names is the refresher's (fetched,
        // or down since it started): the reload changes nothing for it.
        let mut seen: HashSet<String> = self.inner.snapshot().remotes().map(|r| r.id()).collect();
        for (i, p) in s.profiles.iter().enumerate() {
            let Some(spec) = &p.remote else { continue };
            let id = spec.id();
            if !seen.insert(id.clone()) || self.inner.remote_set(&id).is_some() {
                continue;
            }
            let now = Instant::now();
            match jwks::fetch_now(spec) {
                Ok(f) => {
                    let (n, skipped) = (f.keys.len(), f.skipped);
                    let delay = jwks::next_after_success(&spec.refresh, f.max_age);
                    self.inner.rt.stats.bump(Counter::JwksFetch);
                    self.inner.log_installed(&id, n, delay, &skipped);
                    let schedule = Schedule { next_at: now + secs(delay), last_attempt: Some(now), failures: 0 };
                    out.push(Prefetched { id, set: Arc::new(f.keys), schedule });
                }
                Err(e) => {
                    self.inner.rt.stats.bump(Counter::JwksFetchFailure);
                    self.inner
                        .log(LogLevel::Warn, &format!("{e}; the reload is refused, the config in force keeps serving"));
                    let profile = if s.profiles.len() == 1 { "jwt".to_string() } else { format!("jwt[{i}]") };
                    let member = match spec.source {
                        jwks::Source::JwksUri(_) => "jwks_uri",
                        jwks::Source::Discovery { .. } => "discovery",
                    };
                    return Err((format!("{profile}.{member}"), format!("the key set cannot be fetched: {e}")));
                }
            }
        }
        Ok(out)
    }

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
        self.inner.ensure_refresher(true);
    }

    /// Stop refreshing remote key sets in the background in this process,
    /// waiting for the refresher thread to finish what it is doing (at
    /// most one fetch) and exit: for a process that only hands the
    /// verifier to the children it forks (nginx's master), so that it makes
    /// no requests of its own and holds no lock when it forks. Children
    /// refresh on their own regardless; configs (re)loaded meanwhile still
    /// fetch their new sources once. Undone by [`Verifier::resume_refresh`].
    pub fn pause_refresh(&self) {
        let inner = &self.inner;
        inner.refresh.paused_in.store(forks(), Ordering::Release);
        inner.rt.wake_refresher();
        let handle = inner.refresh.handle.lock().unwrap_or_else(|e| e.into_inner()).take();
        match handle {
            Some((h, fork)) if fork == forks() && h.thread().id() != std::thread::current().id() => {
                let _ = h.join();
            }
            // Started before a fork: that thread is not in this process.
            Some((h, fork)) if fork != forks() => std::mem::forget(h),
            _ => {}
        }
    }

    /// Refresh in the background again after [`Verifier::pause_refresh`].
    pub fn resume_refresh(&self) {
        self.inner.refresh.paused_in.store(NONE, Ordering::Release);
        self.inner.ensure_refresher(true);
    }
}

impl Inner {
    fn refresh_paused(&self) -> bool {
        self.refresh.paused_in.load(Ordering::Acquire) == forks()
    }

    /// Start the refresher unless one runs in this process, the verifier
    /// is shutting down, refresh is paused here or the config has no remote
    /// source. Lock-free up to the start itself (it runs on the
    /// verification path in a forked child, where a lock a parent's thread
    /// held at the fork stays held).
    ///
    /// A failed start is logged here when `log_here`; a verification passes
    /// false, and the reason waits for the refresher that starts later (or
    /// the next reload). A verification never calls the host's logger: a C
    /// logger may free the verifier, which the verification is still using
    /// (the C ABI defers such a free only in the calls that can log).
    pub(super) fn ensure_refresher(self: &Arc<Inner>, log_here: bool) {
        let fork = forks();
        let running = self.refresh.running_in.load(Ordering::Acquire);
        if running == fork
            || self.shutdown.load(Ordering::Acquire)
            || self.refresh_paused()
            || self.view.load().snap.remotes().next().is_none()
        {
            return;
        }
        if self.refresh.running_in.compare_exchange(running, fork, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return; // another thread is starting it
        }
        watch_forks();
        let weak: Weak<Inner> = Arc::downgrade(self);
        match std::thread::Builder::new().name("warden-jwks".into()).spawn(move || refresher(weak, fork)) {
            Ok(h) => {
                self.rt.refresher.store(Some(Arc::new(h.thread().clone())));
                let old = self.refresh.handle.try_lock().ok().and_then(|mut g| g.replace((h, fork)));
                if let Some((h, f)) = old {
                    if f != fork {
                        std::mem::forget(h); // a parent's thread: nothing to detach here
                    }
                }
            }
            Err(e) => {
                self.refresh.running_in.store(NONE, Ordering::Release);
                let msg = format!("cannot start the JWKS refresher thread: {e}");
                if log_here {
                    self.log(LogLevel::Error, &msg);
                } else if let Ok(mut m) = self.refresh.unstarted.try_lock() {
                    *m = Some(msg);
                }
            }
        }
    }
}

/// The refresher: one per verifier and process, holding only a weak
/// reference; `fork` is the fork count it was started under.
fn refresher(weak: Weak<Inner>, fork: u64) {
    if let Some(inner) = weak.upgrade() {
        let unstarted = inner.refresh.unstarted.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(msg) = unstarted {
            inner.log(LogLevel::Warn, &format!("{msg} (on a verification; started now)"));
        }
    }
    loop {
        let sleep = {
            let Some(inner) = weak.upgrade() else { return };
            if inner.shutdown.load(Ordering::Acquire) {
                return;
            }
            if inner.refresh_paused() {
                // Let a resume start another; carry on if one came in
                // between and started none.
                let r = &inner.refresh.running_in;
                let _ = r.compare_exchange(fork, NONE, Ordering::AcqRel, Ordering::Acquire);
                if inner.refresh_paused()
                    || r.compare_exchange(NONE, fork, Ordering::AcqRel, Ordering::Acquire).is_err()
                {
                    return;
                }
            }
            inner.refresh_due()
        };
        std::thread::park_timeout(sleep);
    }
}
