//! The [`Verifier`]: an immutable view (config snapshot, caches, run-time
//! revocations) behind `arc-swap`, plus the run-time state updated in place,
//! shared by every thread.
//!
//! Readers take the view from their [`Scratch`], which keeps the one it last
//! used: one plain load of the verifier's version number says whether it is
//! still current, and only when it is not is the view loaded again from the
//! `ArcSwap` (no lock either way). Writers (reload, key-set swap, revoke)
//! build a complete replacement first, swap it in and then bump the
//! version, serialized among themselves by a mutex that readers never touch.

use crate::b64;
use crate::config::{ConfigError, Snapshot};
use crate::jwks::LogLevel;
use crate::keys::parse_jwk_set;
use crate::revocation::Target;
use crate::runtime::{Runtime, View};
use crate::scratch::{Buffers, Scratch, Span, ViewSlot, Views};
use crate::stats::{Counter, StatsSnapshot, Tally};
use crate::verdict::{Code, Kind, Rejection};
use crate::verified::Verified;
use arc_swap::ArcSwap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

mod remote;

/// The outcome of one verification.
pub type Verdict<'s> = Result<Verified<'s>, Rejection>;

/// How long a run-time jti revocation is kept past its token's `exp` plus
/// the config's largest leeway. Without it, a reload that raised the
/// leeway made a pruned token valid again, unrevoked; a clock corrected
/// back did the same. A day of entries costs little memory.
pub const PRUNE_GRACE_S: f64 = 86_400.0;

/// The start of the year 10000: a `now` beyond it is no clock reading
/// (milliseconds or microseconds for seconds), and prunes nothing.
const LAST_PLAUSIBLE_NOW: f64 = 253_402_300_800.0;

/// A credential verifier. Cheap to share (`&Verifier` or `Arc<Verifier>`)
/// across threads; every method takes `&self`.
pub struct Verifier {
    inner: Arc<Inner>,
}

/// The shared state; the remote-JWKS refresher thread holds a weak reference.
pub(crate) struct Inner {
    view: ArcSwap<View>,
    /// Unique among verifiers (never reused): a scratch's view slot says
    /// whose view it holds.
    id: u64,
    rt: Runtime,
    /// Serializes writers (reload, key swaps, revocations); readers never take it.
    writer: Mutex<()>,
    remote: Mutex<remote::RemoteState>,
    refresh: remote::Refresher,
    /// Called under the read lock, so that replacing or removing it (the
    /// write lock) waits for calls in flight: once `set_logger` or the
    /// verifier's drop returns, the old logger is never called again (a C
    /// host may free what it captured).
    logger: RwLock<Option<Logger>>,
    shutdown: AtomicBool,
}

/// A host's log sink for events off the hot path (remote key fetches).
pub type Logger = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

impl Inner {
    /// Swap a snapshot in, with a generation no snapshot had before (and
    /// caches resized if it asks for other sizes). Writers only, under `writer`.
    pub(crate) fn publish(&self, mut s: Snapshot) {
        static GENERATION: AtomicU64 = AtomicU64::new(1);
        s.generation = GENERATION.fetch_add(1, Ordering::Relaxed);
        let next = self.view.load().with_snapshot(s);
        self.store_view(next);
    }

    /// Swap `next` in, then retire the view it replaces (in that order: a
    /// scratch that sees the retirement loads a view at least as new).
    /// Writers only, under `writer`.
    fn store_view(&self, next: View) {
        self.view.swap(Arc::new(next)).retire();
    }

    /// The view in force, as kept in the scratch's slot for this verifier:
    /// the one it holds while no view was retired since, else (when it is
    /// let go, or on first use) loaded afresh and kept; and the slot's shard
    /// of this verifier's counters (claimed on first use).
    #[inline]
    fn view<'a>(self: &Arc<Self>, views: &'a mut Views) -> (&'a View, &'a Tally) {
        let ViewSlot { view, tally, .. } = views.slot(self.id);
        (view.get_or_insert_with(|| self.load_view()), tally.get_or_insert_with(|| self.rt.stats.claim()))
    }

    /// The view in force, for a scratch that does not hold it. In a child
    /// process this is where a verifier first finds itself after the fork
    /// (views from before it count as retired), so it starts the refresher
    /// the child lacks here.
    #[cold]
    #[inline(never)]
    fn load_view(self: &Arc<Self>) -> Arc<View> {
        self.ensure_refresher(false);
        self.view.load_full()
    }

    /// The snapshot in force.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.view.load().snap.clone()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Scratches holding the last view let it go at their next
        // verification, whichever verifier it is with.
        self.view.load().retire();
    }
}

impl Verifier {
    /// The first half of a drop: the logger is not called again, and the
    /// refresher exits at its next wake-up (it never keeps the verifier
    /// alive). The C ABI does this at once when the drop itself must wait.
    pub(crate) fn stop(&self) {
        self.inner.shutdown.store(true, Ordering::Release);
        self.inner.rt.wake_refresher();
    }
}

impl Drop for Verifier {
    fn drop(&mut self) {
        self.stop();
        if self.inner.logging_here() {
            // The logger let go of its own verifier (a host's garbage
            // collector can run inside the call): waiting for the call in
            // flight would wait for this very thread. The flag set above
            // keeps the logger from being called again; this call ends when
            // the logger returns.
            return;
        }
        // The refresher may be in a fetch, and log its outcome after the
        // host has let go of its logger: no call once the verifier is gone.
        self.set_logger(None);
    }
}

/// Name under which a Basic user name that is not UTF-8 is budgeted (no
/// configured user can have such a name).
const NON_UTF8_USER: &str = "\u{0}non-utf8";

impl Verifier {
    /// A verifier for a validated snapshot. When a JWT profile has a remote
    /// key source, its first fetch happens here (bounded by the source's
    /// timeout; a failure is logged and retried in the background, and the
    /// configured keys serve meanwhile), then a refresher thread keeps it fresh.
    pub fn new(snap: Snapshot) -> Verifier {
        Verifier::with_logger(snap, None)
    }

    /// [`Verifier::new`] with a logger installed before the first fetch.
    pub fn with_logger(snap: Snapshot, logger: Option<Logger>) -> Verifier {
        let rt = Runtime::new();
        let v = Verifier {
            inner: Arc::new(Inner {
                view: ArcSwap::from_pointee(View::new(Snapshot { cache: snap.cache, ..Snapshot::default() })),
                id: {
                    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
                    NEXT_ID.fetch_add(1, Ordering::Relaxed)
                },
                rt,
                writer: Mutex::new(()),
                remote: Mutex::new(remote::RemoteState::default()),
                refresh: remote::Refresher::default(),
                logger: RwLock::new(logger),
                shutdown: AtomicBool::new(false),
            }),
        };
        v.inner.publish(snap);
        v.sync_remotes();
        v
    }

    /// Install (or remove, with `None`) the log sink for remote key events.
    /// Waits for a call of the old logger in flight on another thread, so
    /// that the old one is never called after this returns; a logger must
    /// therefore not call `set_logger` itself. (It may drop the verifier:
    /// then the logger is not called again once its call returns.)
    pub fn set_logger(&self, logger: Option<Logger>) {
        *self.inner.logger.write().unwrap_or_else(|e| e.into_inner()) = logger;
    }

    /// Load a config file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Verifier, ConfigError> {
        Snapshot::from_file(path.as_ref()).map(Verifier::new)
    }

    /// Load a config from JSON text; relative file names resolve against the
    /// current directory.
    pub fn from_json(json: &[u8]) -> Result<Verifier, ConfigError> {
        Verifier::from_json_in(json, Path::new("."))
    }

    /// Load a config from JSON text; relative file names (`jwks_file`,
    /// `htpasswd_file`, `ca_file`) resolve against `base_dir`.
    pub fn from_json_in(json: &[u8], base_dir: impl AsRef<Path>) -> Result<Verifier, ConfigError> {
        Snapshot::from_json(json, base_dir.as_ref()).map(Verifier::new)
    }

    /// The snapshot in force (for inspection; verification loads its own).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.snapshot()
    }

    fn install(&self, next: Result<Snapshot, ConfigError>) -> Result<(), ConfigError> {
        match next {
            Ok(s) => {
                // Merge in the remote sets in hand: fetched for sources the
                // new config still names, or just now for its new ones.
                let s = self.inner.merge_known_remotes(s);
                self.inner.publish(s);
                self.inner.rt.stats.bump(Counter::Reload);
                Ok(())
            }
            Err(e) => {
                self.inner.rt.stats.bump(Counter::ReloadFailure);
                Err(e)
            }
        }
    }

    /// Re-read the config file this verifier was loaded from. On error the
    /// snapshot in force keeps serving, and the error says why.
    pub fn reload(&self) -> Result<(), ConfigError> {
        let Some(path) = self.inner.snapshot().source.clone() else {
            self.inner.rt.stats.bump(Counter::ReloadFailure);
            return Err(ConfigError {
                file: None,
                at: String::new(),
                message: "this verifier was not loaded from a file; use reload_from_file or reload_from_json".into(),
            });
        };
        self.reload_with(Snapshot::from_file(&path))
    }

    /// Replace the whole config with the one in `path` (all or nothing).
    pub fn reload_from_file(&self, path: impl AsRef<Path>) -> Result<(), ConfigError> {
        self.reload_with(Snapshot::from_file(path.as_ref()))
    }

    /// Replace the whole config with `json` (all or nothing).
    pub fn reload_from_json(&self, json: &[u8]) -> Result<(), ConfigError> {
        self.reload_with(Snapshot::from_json(json, Path::new(".")))
    }

    /// Install a config just read, once the key sets of its new remote
    /// sources are in hand (all or nothing: a source that cannot be
    /// fetched keeps the config in force, see `prefetch_new_sources`).
    fn reload_with(&self, next: Result<Snapshot, ConfigError>) -> Result<(), ConfigError> {
        let next = next.and_then(|s| {
            let sets = self.prefetch_new_sources(&s).map_err(|(at, message)| ConfigError {
                file: s.source.as_ref().map(|p| p.display().to_string()),
                at,
                message,
            })?;
            Ok((s, sets))
        });
        let _w = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let next = next.map(|(s, sets)| {
            self.inner.keep_prefetched(sets);
            s
        });
        let r = self.install(next);
        drop(_w);
        if r.is_ok() {
            // Starts the refresher if need be (every source has its set).
            self.sync_remotes();
        }
        r
    }

    /// Replace the configured JWT key set with an RFC 7517 JWK Set, keeping
    /// the policy and everything else (for hosts that fetch keys
    /// themselves). All keys are validated before the swap. With several
    /// issuer profiles use [`Verifier::set_jwks_for`].
    pub fn set_jwks(&self, jwks_json: &[u8]) -> Result<(), ConfigError> {
        self.set_jwks_at(None, jwks_json)
    }

    /// Replace the configured key set of the profile whose issuers include
    /// `issuer`.
    pub fn set_jwks_for(&self, issuer: &str, jwks_json: &[u8]) -> Result<(), ConfigError> {
        self.set_jwks_at(Some(issuer), jwks_json)
    }

    fn set_jwks_at(&self, issuer: Option<&str>, jwks_json: &[u8]) -> Result<(), ConfigError> {
        let r = self.try_set_jwks(issuer, jwks_json);
        if r.is_err() {
            self.inner.rt.stats.bump(Counter::ReloadFailure);
        }
        r
    }

    fn try_set_jwks(&self, issuer: Option<&str>, jwks_json: &[u8]) -> Result<(), ConfigError> {
        let err = |at: &str, m: String| ConfigError { file: None, at: at.into(), message: m };
        let v: serde_json::Value =
            serde_json::from_slice(jwks_json).map_err(|e| err("jwks", format!("not valid JSON: {e}")))?;
        crate::config::check_members(jwks_json)
            .map_err(|(at, m)| err(&if at.is_empty() { "jwks".into() } else { format!("jwks.{at}") }, m))?;
        let keys = parse_jwk_set(&v, "jwks").map_err(|(at, m)| err(&at, m))?;
        let _w = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let cur = self.inner.snapshot();
        let i = match issuer {
            None if cur.profiles.len() <= 1 => 0,
            None => {
                return Err(err(
                    "jwt",
                    "several issuer profiles: name the issuer (set_jwks_for; in C warden_verifier_set_jwks_for)".into(),
                ))
            }
            Some(iss) => cur
                .profiles
                .iter()
                .position(|p| p.policy.issuers.iter().any(|i| i == iss))
                .ok_or_else(|| err("jwt", format!("no profile has issuer {iss:?}")))?,
        };
        let remote = cur.profiles.get(i).and_then(|p| p.remote.as_ref()).and_then(|r| self.inner.remote_set(&r.id()));
        let next = if cur.profiles.is_empty() {
            let mut s = (*cur).clone();
            let keys = Arc::new(keys);
            s.profiles.push(crate::config::Profile {
                static_keys: keys.clone(),
                keys,
                max_token_bytes: s.max_token_bytes,
                ..Default::default()
            });
            s
        } else {
            cur.with_static_keys(i, keys, remote.as_deref()).map_err(|m| err("jwks", m))?
        };
        self.inner.publish(next);
        self.inner.rt.stats.bump(Counter::KeySetSwap);
        Ok(())
    }

    /// Revoke at run time; visible to every verification that starts after
    /// this returns. `now` prunes jti entries whose tokens have long expired
    /// (see [`PRUNE_GRACE_S`]). A jti's `until` that is not finite keeps
    /// the entry until it is unrevoked.
    pub fn revoke(&self, t: Target, now: f64) {
        let t = match t {
            // NaN matched no `now`: the revocation did nothing at all.
            Target::Jti { jti, until } => Target::Jti { jti, until: until.filter(|u| u.is_finite()) },
            t => t,
        };
        let _w = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let view = self.inner.view.load();
        // A token is accepted until its exp plus the leeway: its jti entry
        // (`until` = exp) is kept that long, and a grace period more. A
        // `now` no clock reads prunes nothing: one call with milliseconds
        // for seconds dropped every entry, and the stolen tokens passed.
        let leeway = view.snap.profiles.iter().map(|p| p.policy.leeway_s).fold(0.0, f64::max);
        let expired_by =
            if now.is_finite() && now < LAST_PLAUSIBLE_NOW { now - leeway - PRUNE_GRACE_S } else { f64::NEG_INFINITY };
        let next = view.with_revoked(view.revoked.with(t, expired_by));
        self.inner.store_view(next);
        self.inner.rt.stats.bump(Counter::Revocation);
    }

    /// Undo a run-time revocation. Returns false when `t` was not revoked at
    /// run time (revocations in the config stay until the config changes).
    pub fn unrevoke(&self, t: &Target) -> bool {
        let _w = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let view = self.inner.view.load();
        match view.revoked.without(t) {
            Some(next) => {
                self.inner.store_view(view.with_revoked(next));
                self.inner.rt.stats.bump(Counter::Revocation);
                true
            }
            None => false,
        }
    }

    /// Counters since the verifier was created.
    pub fn stats(&self) -> StatsSnapshot {
        self.inner.rt.stats.snapshot()
    }

    fn record<'s>(tally: &Tally, kind: Kind, r: Result<Verified<'s>, Code>, retry: Option<u64>) -> Verdict<'s> {
        match r {
            Ok(v) => {
                tally.verdict(kind, Code::Ok);
                Ok(v)
            }
            Err(code) => {
                tally.verdict(kind, code);
                Err(Rejection { kind, code, retry_after_s: if code == Code::RateLimited { retry } else { None } })
            }
        }
    }

    /// Verify a compact JWS.
    pub fn verify_jwt<'s>(&self, token: &[u8], now: f64, scratch: &'s mut Scratch) -> Verdict<'s> {
        let Scratch { bufs, views } = scratch;
        let (view, tally) = self.inner.view(views);
        self.jwt_in(view, tally, token, now, bufs)
    }

    fn jwt_in<'s>(&self, view: &View, tally: &Tally, token: &[u8], now: f64, bufs: &'s mut Buffers) -> Verdict<'s> {
        let r = crate::jwt::verify(view, &self.inner.rt, tally, token, now, bufs);
        Self::record(tally, Kind::Jwt, r, None)
    }

    /// Verify an API key.
    pub fn verify_api_key<'s>(&self, key: &[u8], now: f64, scratch: &'s mut Scratch) -> Verdict<'s> {
        let Scratch { bufs, views } = scratch;
        let (view, tally) = self.inner.view(views);
        self.api_key_in(view, tally, key, now, bufs)
    }

    fn api_key_in<'s>(&self, view: &View, tally: &Tally, key: &[u8], now: f64, bufs: &'s mut Buffers) -> Verdict<'s> {
        let mut retry = None;
        let r = self.api_key(view, key, now, bufs, &mut retry);
        Self::record(tally, Kind::ApiKey, r, retry)
    }

    fn api_key<'s>(
        &self,
        view: &View,
        key: &[u8],
        now: f64,
        bufs: &'s mut Buffers,
        retry: &mut Option<u64>,
    ) -> Result<Verified<'s>, Code> {
        let snap = &view.snap;
        if key.len() > snap.max_token_bytes {
            return Err(Code::TooLarge);
        }
        let e = snap.api_keys.lookup(key).ok_or(Code::BadApiKey)?;
        if snap.revoked.api_key_revoked(&*e.id) || view.revoked.api_key_revoked(&*e.id) {
            return Err(Code::Revoked);
        }
        if !e.valid_at(now) {
            return Err(Code::BadApiKey);
        }
        if let Some(rate) = e.rate {
            if let Err(wait) = self.inner.rt.rates.take(&e.id, rate, now) {
                *retry = Some(wait);
                return Err(Code::RateLimited);
            }
        }
        bufs.clear();
        bufs.reserve(key.len());
        let Buffers { out, scopes, .. } = bufs;
        let subject = Span::push(out, e.owner.as_bytes());
        let key_id = Span::push(out, e.id.as_bytes());
        for s in &e.scopes {
            scopes.push(Span::push(out, s.as_bytes()));
        }
        Ok(Verified {
            kind: Kind::ApiKey,
            out: &out[..],
            payload: &[],
            subject: Some(subject),
            kid: None,
            key_id: Some(key_id),
            scopes: &scopes[..],
            exp: None,
            exp_text: None,
        })
    }

    /// Verify a Basic user and password (raw octets, RFC 7617).
    pub fn verify_basic<'s>(&self, user: &[u8], password: &[u8], now: f64, scratch: &'s mut Scratch) -> Verdict<'s> {
        let Scratch { bufs, views } = scratch;
        let (view, tally) = self.inner.view(views);
        let mut retry = None;
        let r = if user.len() + 1 + password.len() > view.snap.max_token_bytes {
            Err(Code::TooLarge)
        } else {
            self.basic(view, tally, user, password, now, bufs, &mut retry)
        };
        Self::record(tally, Kind::Basic, r, retry)
    }

    /// Verify `user:password` as given on the command line (split at the
    /// first colon; no colon is `malformed`).
    pub fn verify_basic_pair<'s>(&self, pair: &[u8], now: f64, scratch: &'s mut Scratch) -> Verdict<'s> {
        let Scratch { bufs, views } = scratch;
        let (view, tally) = self.inner.view(views);
        let mut retry = None;
        let r = if pair.len() > view.snap.max_token_bytes {
            Err(Code::TooLarge)
        } else {
            match pair.iter().position(|&b| b == b':') {
                None => Err(Code::Malformed),
                Some(i) => self.basic(view, tally, &pair[..i], &pair[i + 1..], now, bufs, &mut retry),
            }
        };
        Self::record(tally, Kind::Basic, r, retry)
    }

    #[allow(clippy::too_many_arguments)]
    fn basic<'s>(
        &self,
        view: &View,
        tally: &Tally,
        user: &[u8],
        password: &[u8],
        now: f64,
        bufs: &'s mut Buffers,
        retry: &mut Option<u64>,
    ) -> Result<Verified<'s>, Code> {
        // RFC 7617 §2: the user-id and password MUST NOT contain control
        // characters. (PBKDF2-HMAC would also verify "pw\0" as "pw": HMAC
        // zero-pads short keys.)
        if user.iter().chain(password).any(|&b| b < 0x20 || b == 0x7f) {
            return Err(Code::Malformed);
        }
        let users = &view.snap.users;
        let budget_name = core::str::from_utf8(user).unwrap_or(NON_UTF8_USER);
        // The failure budget is checked before the password (SPEC §5), so a
        // locked-out guesser learns nothing from the verdict.
        if let Some(max) = users.max_failures_per_min {
            if let Err(wait) = self.inner.rt.failures.check(budget_name, max, now) {
                *retry = Some(wait);
                return Err(Code::RateLimited);
            }
        }
        // The slow hash runs as a failure counted in advance, given back when
        // the password is right: guesses sent at once cannot all get past
        // the check above before any of them has failed.
        let slow = |retry: &mut Option<u64>, check: &dyn Fn() -> bool| -> Result<bool, Code> {
            let Some(max) = users.max_failures_per_min else {
                return Ok(check());
            };
            let failures = &self.inner.rt.failures;
            let r = failures.reserve(budget_name, max, now).map_err(|wait| {
                *retry = Some(wait);
                Code::RateLimited
            })?;
            let ok = check();
            if ok {
                failures.refund(r);
            }
            Ok(ok)
        };
        let ok = match users.get(user) {
            Some(u) => {
                let creds = &view.caches.creds;
                if creds.enabled() {
                    let tag = creds.tag(user, password);
                    if creds.hit(&tag, u, now) {
                        tally.bump(Counter::BasicCacheHit);
                        true
                    } else {
                        tally.bump(Counter::BasicCacheMiss);
                        let ok = slow(retry, &|| u.hash.verify(password))?;
                        if ok {
                            creds.insert(tag, u, now);
                        }
                        ok
                    }
                } else {
                    slow(retry, &|| u.hash.verify(password))?
                }
            }
            None => slow(retry, &|| {
                users.burn_decoy(user, password);
                false
            })?,
        };
        if !ok {
            return Err(Code::BadCredentials);
        }
        bufs.clear();
        bufs.reserve(user.len());
        let subject = Span::push(&mut bufs.out, user);
        Ok(Verified {
            kind: Kind::Basic,
            out: &bufs.out[..],
            payload: &[],
            subject: Some(subject),
            kid: None,
            key_id: None,
            scopes: &[],
            exp: None,
            exp_text: None,
        })
    }

    /// Verify the value of an `Authorization` header (SPEC §5 "Credentials"):
    /// `Bearer <jwt>`, `Bearer <api key>` or `Basic <base64(user:pass)>`.
    pub fn verify_authorization<'s>(&self, value: &[u8], now: f64, scratch: &'s mut Scratch) -> Verdict<'s> {
        let Scratch { bufs, views } = scratch;
        let (view, tally) = self.inner.view(views);
        let snap = &view.snap;
        let malformed = |kind| {
            tally.verdict(kind, Code::Malformed);
            Err(Rejection::new(kind, Code::Malformed))
        };
        let Some((scheme, cred)) = split_authorization(value) else {
            return malformed(Kind::Jwt);
        };
        if scheme.eq_ignore_ascii_case(b"bearer") {
            let kind = if snap.api_keys.has_prefix(cred) && !cred.contains(&b'.') { Kind::ApiKey } else { Kind::Jwt };
            match kind {
                Kind::ApiKey => self.api_key_in(view, tally, cred, now, bufs),
                _ => self.jwt_in(view, tally, cred, now, bufs),
            }
        } else if scheme.eq_ignore_ascii_case(b"basic") {
            if cred.len() > snap.max_token_bytes {
                tally.verdict(Kind::Basic, Code::TooLarge);
                return Err(Rejection::new(Kind::Basic, Code::TooLarge));
            }
            bufs.clear();
            bufs.reserve(cred.len());
            let Some(range) = b64::decode_append(&b64::STD_PADDED, cred, &mut bufs.dec) else {
                return malformed(Kind::Basic);
            };
            // Move the decoded pair out of the scratch's way: `basic` writes
            // the result into the same buffers. A stack buffer holds any
            // realistic pair; longer ones take one allocation.
            let decoded = &bufs.dec[range];
            let mut stack = [0u8; 1024];
            let heap;
            let pair: &[u8] = if decoded.len() <= stack.len() {
                stack[..decoded.len()].copy_from_slice(decoded);
                &stack[..decoded.len()]
            } else {
                heap = decoded.to_vec();
                &heap
            };
            let Some(colon) = pair.iter().position(|&b| b == b':') else {
                return malformed(Kind::Basic);
            };
            let mut retry = None;
            let r = self.basic(view, tally, &pair[..colon], &pair[colon + 1..], now, bufs, &mut retry);
            Self::record(tally, Kind::Basic, r, retry)
        } else {
            malformed(Kind::Jwt)
        }
    }
}

/// Split an `Authorization` value into scheme and credentials: trim spaces
/// and tabs, then `scheme 1*SP credentials`, where the credentials are one
/// token (no spaces or tabs inside).
fn split_authorization(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let ws = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !ws(b))?;
    let end = value.iter().rposition(|b| !ws(b))? + 1;
    let v = &value[start..end];
    let sp = v.iter().position(|&b| b == b' ')?;
    let scheme = &v[..sp];
    let cred = &v[sp..];
    let cred = &cred[cred.iter().position(|&b| b != b' ')?..];
    if cred.iter().any(ws) || scheme.is_empty() {
        return None;
    }
    Some((scheme, cred))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::VIEW_SLOTS;

    /// `n` verifiers that each accept the API key `key`, as owner `o0`, `o1`...
    fn owners(n: usize, key: &str) -> Vec<Verifier> {
        let sha = crate::apikey::hex(ring::digest::digest(&ring::digest::SHA256, key.as_bytes()).as_ref());
        (0..n)
            .map(|i| {
                let cfg = format!(
                    r#"{{"api_keys": {{"prefixes": ["tk"], "keys": [{{"id": "k", "sha256": "{sha}", "owner": "o{i}"}}]}}}}"#
                );
                Verifier::from_json(cfg.as_bytes()).unwrap()
            })
            .collect()
    }

    fn owner(v: &Verifier, key: &str, s: &mut Scratch) -> String {
        v.verify_api_key(key.as_bytes(), 0.0, s).unwrap().subject().unwrap().to_string()
    }

    /// The verifiers whose state `s` holds, most recently used first.
    fn held(s: &Scratch) -> Vec<u64> {
        s.views.slots.iter().map(|s| s.owner).filter(|&o| o != 0).collect()
    }

    fn front_view(s: &Scratch) -> *const View {
        Arc::as_ptr(s.views.slots[0].view.as_ref().unwrap())
    }

    #[test]
    fn a_scratch_keeps_the_states_of_its_last_verifiers() {
        let key = crate::apikey::generate("tk").unwrap();
        let vs = owners(VIEW_SLOTS + 1, &key);
        let id = |i: usize| vs[i].inner.id;
        let mut s = Scratch::new();
        let first: Vec<_> = vs[..VIEW_SLOTS]
            .iter()
            .map(|v| {
                owner(v, &key, &mut s);
                front_view(&s)
            })
            .collect();
        // As many verifiers as slots, in turn: each state is loaded once
        // and kept, with its counter shard.
        for _ in 0..3 {
            for (i, v) in vs[..VIEW_SLOTS].iter().enumerate() {
                assert_eq!(owner(v, &key, &mut s), format!("o{i}"));
                assert_eq!(front_view(&s), first[i], "verifier {i}'s state loaded again");
            }
        }
        assert_eq!(held(&s), (0..VIEW_SLOTS).rev().map(id).collect::<Vec<_>>());
        // One more: the least recently used makes room for it.
        assert_eq!(owner(&vs[VIEW_SLOTS], &key, &mut s), format!("o{VIEW_SLOTS}"));
        assert_eq!(held(&s), (1..=VIEW_SLOTS).rev().map(id).collect::<Vec<_>>());
        assert_eq!(owner(&vs[0], &key, &mut s), "o0");
        assert_eq!(held(&s), [0, VIEW_SLOTS, 3, 2].map(id));
        // Each verifier counted its own verdicts, whichever slot held it.
        let ok = |i: usize| vs[i].stats().verdicts(Kind::ApiKey, Code::Ok);
        assert_eq!((ok(0), ok(1), ok(VIEW_SLOTS)), (5, 4, 1));
    }

    #[test]
    fn a_scratch_lets_go_of_replaced_and_dropped_states() {
        let key = crate::apikey::generate("tk").unwrap();
        let mut vs = owners(2, &key);
        let mut s = Scratch::new();
        for v in &vs {
            owner(v, &key, &mut s);
        }
        let current = |v: &Verifier| Arc::downgrade(&v.inner.view.load_full());
        // A state replaced (here by a run-time revocation) is let go at the
        // scratch's next verification, with any verifier.
        let old = current(&vs[0]);
        vs[0].revoke(Target::Jti { jti: "j".into(), until: None }, 0.0);
        assert!(old.upgrade().is_some(), "held until the scratch is used");
        assert_eq!(owner(&vs[1], &key, &mut s), "o1");
        assert!(old.upgrade().is_none(), "kept after a verification with another verifier");
        assert_eq!(held(&s), [vs[1].inner.id], "the replaced state's slot is free");
        assert_eq!(owner(&vs[0], &key, &mut s), "o0");
        // A dropped verifier's state likewise, and its slot is free again.
        let gone = current(&vs[1]);
        let id0 = vs[0].inner.id;
        drop(vs.pop());
        assert!(gone.upgrade().is_some());
        assert_eq!(owner(&vs[0], &key, &mut s), "o0");
        assert!(gone.upgrade().is_none(), "a dropped verifier's state kept");
        assert_eq!(held(&s), [id0]);
    }

    #[test]
    fn authorization_split() {
        let s = |v: &str| split_authorization(v.as_bytes()).map(|(a, b)| (a.to_vec(), b.to_vec()));
        assert_eq!(s("Bearer abc"), Some((b"Bearer".to_vec(), b"abc".to_vec())));
        assert_eq!(s(" \tbearer   abc \t"), Some((b"bearer".to_vec(), b"abc".to_vec())));
        assert_eq!(s("Bearer"), None);
        assert_eq!(s("Bearer "), None);
        assert_eq!(s("Bearer\tabc"), None);
        assert_eq!(s("Bearer a b"), None);
        assert_eq!(s("Bearer a\tb"), None);
        assert_eq!(s(""), None);
        assert_eq!(s("abc"), None);
    }
}
