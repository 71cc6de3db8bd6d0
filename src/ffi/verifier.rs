//! `warden_verifier`: creation, reload, key-set swap, revocation, stats.

use super::{
    bytes, copy_text, guard, guard_logging, now_or_clock, status, utf8, Arg, CONFIG, INTERNAL, INVALID_ARGUMENT,
    NOT_FOUND, OK,
};
use crate::{Code, ConfigError, Counter, Kind, Snapshot, Target, Verifier};
use std::ffi::{c_char, c_void};
use std::path::PathBuf;
use std::ptr;
use std::sync::Mutex;

/// A verifier: one validated config snapshot plus run-time state (rate-limit
/// buckets, caches, run-time revocations, counters).
///
/// Opaque. Create it with `warden_verifier_new_from_file` or
/// `warden_verifier_new_from_json`, free it with `warden_verifier_free`.
///
/// Threads: every function taking a `const warden_verifier *` may be called
/// from any number of threads at once on the same verifier, verifications
/// included, while other threads reload, swap keys or revoke: a verification
/// sees either the old or the new config, never a mix, and reloads never make
/// verifications wait. Only `warden_verifier_free` needs exclusive access.
pub struct warden_verifier {
    pub(crate) inner: Verifier,
    /// The message of the last refused reload / JWK Set.
    last_error: Mutex<String>,
}

// The header promises that one verifier serves every thread.
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<warden_verifier>();
};

impl warden_verifier {
    fn new(inner: Verifier) -> warden_verifier {
        warden_verifier { inner, last_error: Mutex::new(String::new()) }
    }

    /// Turn the outcome of a reload into a status, keeping the message.
    fn outcome(&self, r: Result<(), ConfigError>) -> u32 {
        match r {
            Ok(()) => OK,
            Err(e) => {
                *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = e.to_string();
                CONFIG
            }
        }
    }
}

/// The verifier at `v`, or `INVALID_ARGUMENT`.
pub(crate) unsafe fn verifier<'a>(v: *const warden_verifier) -> Arg<&'a warden_verifier> {
    v.as_ref().ok_or(INVALID_ARGUMENT)
}

#[cfg(unix)]
fn path_of(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(b).into()
}

#[cfg(not(unix))]
fn path_of(b: &[u8]) -> PathBuf {
    String::from_utf8_lossy(b).into_owned().into()
}

/// Shared body of the two constructors.
unsafe fn construct(
    load: impl FnOnce() -> Arg<Result<Verifier, ConfigError>>,
    out: *mut *mut warden_verifier,
    err_buf: *mut c_char,
    err_buf_len: usize,
) -> u32 {
    let rc = guard_logging(|| {
        if (err_buf.is_null() && err_buf_len != 0) || err_buf_len > isize::MAX as usize {
            // As documented: `*out` is NULL on every failure (a caller may
            // free it unconditionally), even when nothing can be said.
            if !out.is_null() {
                *out = ptr::null_mut();
            }
            return INVALID_ARGUMENT;
        }
        let say = |msg: &str| {
            let _ = copy_text(msg, err_buf, err_buf_len, ptr::null_mut());
        };
        if out.is_null() {
            say("invalid argument: out is NULL");
            return INVALID_ARGUMENT;
        }
        *out = ptr::null_mut();
        match load() {
            Err(code) => {
                say("invalid argument: NULL pointer with a non-zero length");
                code
            }
            Ok(Err(e)) => {
                say(&e.to_string());
                CONFIG
            }
            Ok(Ok(v)) => {
                say("");
                *out = Box::into_raw(Box::new(warden_verifier::new(v)));
                OK
            }
        }
    });
    if rc == INTERNAL {
        // A panic: `*out` is already NULL, but `err_buf` must still hold a
        // NUL-terminated message (callers print it).
        let _ = guard(|| status(copy_text("internal error (a bug in warden)", err_buf, err_buf_len, ptr::null_mut())));
    }
    rc
}

/// Load the config file at `(path, path_len)` (bytes of a file name, not
/// NUL-terminated; relative names are relative to the current directory, and
/// relative `jwks_file`/`htpasswd_file` names in the config are relative to
/// the config's directory). The verifier remembers the path for
/// `warden_verifier_reload`.
///
/// On success stores a new verifier in `*out` (free it with
/// `warden_verifier_free`) and returns `WARDEN_CODE_OK`. Otherwise stores
/// NULL in `*out` and returns `WARDEN_CODE_CONFIG` (unreadable file, invalid
/// or refused config) or `WARDEN_CODE_INVALID_ARGUMENT` (`out` NULL, `path`
/// NULL with a non-zero length, `err_buf` NULL with a non-zero
/// `err_buf_len`).
///
/// `err_buf` (may be NULL when `err_buf_len` is 0) receives a NUL-terminated
/// message, cut to fit: the empty string on success, else what went wrong
/// and where (`"<file>: <JSON path or line/column>: <reason>"`), or, with
/// `WARDEN_CODE_INTERNAL` (a bug in warden), that it was an internal error.
///
/// Thread-safe; blocks on file I/O and key parsing.
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_new_from_file(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut warden_verifier,
    err_buf: *mut c_char,
    err_buf_len: usize,
) -> u32 {
    warden_verifier_new_from_file_with_logger(path, path_len, None, ptr::null_mut(), out, err_buf, err_buf_len)
}

/// Load a config from JSON text `(json, len)` (UTF-8, not NUL-terminated).
/// Relative `jwks_file`/`htpasswd_file` names resolve against the current
/// directory. Such a verifier cannot `warden_verifier_reload` (it has no
/// file); use `warden_verifier_reload_from_json`.
///
/// Returns `WARDEN_CODE_OK` (a new verifier in `*out`), `WARDEN_CODE_CONFIG`
/// (invalid or refused JSON; `*out` = NULL) or
/// `WARDEN_CODE_INVALID_ARGUMENT` (`out` NULL, `json` NULL with a non-zero
/// length, `err_buf` NULL with a non-zero `err_buf_len`). `err_buf` and
/// threads as `warden_verifier_new_from_file`.
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_new_from_json(
    json: *const u8,
    len: usize,
    out: *mut *mut warden_verifier,
    err_buf: *mut c_char,
    err_buf_len: usize,
) -> u32 {
    warden_verifier_new_from_json_with_logger(json, len, None, ptr::null_mut(), out, err_buf, err_buf_len)
}

/// Free a verifier. NULL is a no-op. No other thread may be using it, and it
/// must not be used afterwards. `warden_result`s filled by it stay valid
/// (they do not point into the verifier). Its logger is never called once
/// this returns (a call in flight on the refresher thread is waited for), so
/// the logger's `user_data` may be released then.
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_free(v: *mut warden_verifier) {
    guard(|| {
        if !v.is_null() {
            // SAFETY: made by `Box::into_raw` in a constructor.
            super::free_verifier(Box::from_raw(v));
        }
        OK
    });
}

/// Re-read the file the config in force came from (the one given to
/// `warden_verifier_new_from_file` or to the latest
/// `warden_verifier_reload_from_file`), and switch to it atomically. A config
/// installed by `*_from_json` has no file: then this fails until a
/// `warden_verifier_reload_from_file`. Keys set with
/// `warden_verifier_set_jwks` are replaced by the file's. A remote key set
/// (`jwks_uri`, `discovery`) the config in force does not already fetch is
/// fetched first; when that fails, the reload is refused (a config whose
/// keys cannot be had would reject every token).
///
/// Returns `WARDEN_CODE_OK`; `WARDEN_CODE_CONFIG` when the new config is
/// refused or there is no file - the config in force keeps serving
/// unchanged, and `warden_verifier_last_error` tells why;
/// `WARDEN_CODE_INVALID_ARGUMENT` when `v` is NULL.
///
/// Thread-safe: verifications on other threads go on (with the old config
/// until the switch); concurrent reloads, key swaps and revocations are
/// serialized.
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_reload(v: *const warden_verifier) -> u32 {
    guard_logging(|| status(verifier(v).map(|v| v.outcome(v.inner.reload()))))
}

/// Replace the whole config with the file at `(path, path_len)` (all or
/// nothing); later `warden_verifier_reload` calls re-read that file.
/// Results and threads as `warden_verifier_reload`; also
/// `WARDEN_CODE_INVALID_ARGUMENT` when `path` is NULL with a non-zero length.
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_reload_from_file(
    v: *const warden_verifier,
    path: *const c_char,
    path_len: usize,
) -> u32 {
    guard_logging(|| {
        status((|| {
            let v = verifier(v)?;
            let p = bytes(path as *const u8, path_len)?;
            Ok(v.outcome(v.inner.reload_from_file(path_of(p))))
        })())
    })
}

/// Replace the whole config with JSON text `(json, len)` (all or nothing;
/// relative file names resolve against the current directory).
///
/// Returns `WARDEN_CODE_OK`; `WARDEN_CODE_CONFIG` when refused (the config in
/// force keeps serving; see `warden_verifier_last_error`);
/// `WARDEN_CODE_INVALID_ARGUMENT` when `v` is NULL or `json` is NULL with a
/// non-zero length. Threads as `warden_verifier_reload`.
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_reload_from_json(
    v: *const warden_verifier,
    json: *const u8,
    len: usize,
) -> u32 {
    guard_logging(|| {
        status((|| {
            let v = verifier(v)?;
            let j = bytes(json, len)?;
            Ok(v.outcome(v.inner.reload_from_json(j)))
        })())
    })
}

/// Replace the JWT key set with the RFC 7517 JWK Set `(json, len)`
/// (`{"keys": [...]}`), keeping the policy and everything else. Every key is
/// validated first: on `WARDEN_CODE_CONFIG` nothing changed and
/// `warden_verifier_last_error` tells why (a key that is wrong; with
/// several issuer profiles, that the profile must be named: use
/// `warden_verifier_set_jwks_for`). A later reload replaces these keys
/// with the config's. Results and threads as
/// `warden_verifier_reload_from_json`.
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_set_jwks(v: *const warden_verifier, json: *const u8, len: usize) -> u32 {
    guard_logging(|| {
        status((|| {
            let v = verifier(v)?;
            let j = bytes(json, len)?;
            Ok(v.outcome(v.inner.set_jwks(j)))
        })())
    })
}

/// `warden_verifier_set_jwks` for the issuer profile whose `issuer` list
/// holds `(issuer, issuer_len)` (UTF-8), when `jwt` is a list of profiles:
/// its configured keys are replaced, the other profiles' are kept.
/// `WARDEN_CODE_CONFIG` also when no profile has that issuer;
/// `WARDEN_CODE_INVALID_ARGUMENT` also when `issuer` is NULL with a
/// non-zero length or not UTF-8. Otherwise as `warden_verifier_set_jwks`.
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_set_jwks_for(
    v: *const warden_verifier,
    issuer: *const c_char,
    issuer_len: usize,
    json: *const u8,
    len: usize,
) -> u32 {
    guard_logging(|| {
        status((|| {
            let v = verifier(v)?;
            let iss = utf8(issuer as *const u8, issuer_len)?;
            let j = bytes(json, len)?;
            Ok(v.outcome(v.inner.set_jwks_for(iss, j)))
        })())
    })
}

/// A log sink for events that happen off the verification path: remote JWK
/// Set fetches (success at `WARDEN_LOG_INFO`; at `WARDEN_LOG_WARN` a failure
/// that keeps the last good key set, one that refuses a reload, fetched keys
/// skipped as unusable, fetched keys a configured key of the same kid and
/// alg shadows).
///
/// `msg` is UTF-8, `msg_len` bytes, not NUL-terminated, and valid only during
/// the call. It names the source and the reason; it never contains a
/// credential. The callback runs on the verifier's refresher thread (or on
/// the thread that creates, reloads or resumes the verifier, or swaps its
/// key set; never on a verifying thread), possibly concurrently
/// with verifications: it must be thread-safe, must not block for long, and
/// must not call `warden_verifier_set_logger` on this verifier (it waits
/// for calls in flight to return). It may call `warden_verifier_free` on
/// this verifier (a garbage collector running inside the callback may):
/// that returns at once, and the logger is not called again once the
/// callback returns. (When the callback runs inside another call on the
/// verifier, a reload say, the memory is released when that call returns.)
pub type warden_log_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: u32, msg: *const c_char, msg_len: usize)>;

/// Log levels passed to a `warden_log_fn`.
pub const WARDEN_LOG_INFO: u32 = 1;
/// A remote key fetch failed; the last good key set keeps serving.
pub const WARDEN_LOG_WARN: u32 = 2;
/// A fetched key set could not be installed.
pub const WARDEN_LOG_ERROR: u32 = 3;

struct CLogger {
    f: unsafe extern "C" fn(*mut c_void, u32, *const c_char, usize),
    user_data: *mut c_void,
}

// The caller promises (see `warden_verifier_set_logger`) that the callback
// and its user data may be used from any thread.
unsafe impl Send for CLogger {}
unsafe impl Sync for CLogger {}

/// The log sink `(f, user_data)` as warden calls it: `None` for a NULL `f`.
fn c_logger(f: warden_log_fn, user_data: *mut c_void) -> Option<crate::Logger> {
    f.map(|f| {
        let c = CLogger { f, user_data };
        let l: crate::Logger = std::sync::Arc::new(move |level: crate::jwks::LogLevel, msg: &str| {
            let c = &c;
            // A panic must not unwind into C, nor out of the refresher.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
                (c.f)(c.user_data, level as u32, msg.as_ptr().cast(), msg.len())
            }));
        });
        l
    })
}

/// Install (or, with `f == NULL`, remove) the verifier's log sink. `user_data`
/// is passed back to every call and must stay valid until the logger is
/// replaced or removed, or the verifier freed: a call of the previous logger
/// in flight on another thread is waited for, and it is never called once
/// this returns. Events of the verifier's creation (the first remote fetch)
/// happen before a logger can be set this way: create the verifier with
/// `warden_verifier_new_from_file_with_logger` to see them too.
///
/// Returns `WARDEN_CODE_OK`, or `WARDEN_CODE_INVALID_ARGUMENT` when `v` is NULL.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_set_logger(
    v: *const warden_verifier,
    f: warden_log_fn,
    user_data: *mut c_void,
) -> u32 {
    guard(|| {
        status((|| {
            verifier(v)?.inner.set_logger(c_logger(f, user_data));
            Ok(OK)
        })())
    })
}

/// Stop refreshing remote key sets in the background in this process: the
/// refresher thread finishes what it is doing (at most one fetch, bounded
/// by the source's timeout), exits, and this returns then. For a process
/// that loads verifiers only to hand them to the children it forks (a
/// pre-forking server's master): it makes no requests of its own, and no
/// refresher holds a lock when it forks. The pause holds in this process
/// only: a child refreshes on its own (threads do not survive `fork()`, so
/// every child starts its own refresher at its first verification). A
/// reload still fetches the new config's sources once. A verifier without
/// remote key sources has nothing to pause.
///
/// Returns `WARDEN_CODE_OK`, or `WARDEN_CODE_INVALID_ARGUMENT` when `v` is NULL.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_pause_refresh(v: *const warden_verifier) -> u32 {
    guard(|| {
        status((|| {
            verifier(v)?.inner.pause_refresh();
            Ok(OK)
        })())
    })
}

/// Undo `warden_verifier_pause_refresh` in this process: the refresher
/// starts again (if the config has remote key sources).
///
/// Returns `WARDEN_CODE_OK`, or `WARDEN_CODE_INVALID_ARGUMENT` when `v` is NULL.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_resume_refresh(v: *const warden_verifier) -> u32 {
    guard_logging(|| {
        status((|| {
            verifier(v)?.inner.resume_refresh();
            Ok(OK)
        })())
    })
}

/// `warden_verifier_new_from_file` with the log sink `(f, user_data)` (see
/// `warden_verifier_set_logger`) installed before the config's remote key
/// sources are first fetched, so that a failure of that first fetch (an
/// unreachable provider at start-up: the configured keys serve meanwhile)
/// is logged with its reason. `f` may be NULL (no logger).
///
/// Returns what `warden_verifier_new_from_file` returns: `WARDEN_CODE_OK`,
/// `WARDEN_CODE_CONFIG` or `WARDEN_CODE_INVALID_ARGUMENT`, with the same
/// `*out` and `err_buf`. On failure nothing was logged and nothing keeps
/// `user_data`.
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_new_from_file_with_logger(
    path: *const c_char,
    path_len: usize,
    f: warden_log_fn,
    user_data: *mut c_void,
    out: *mut *mut warden_verifier,
    err_buf: *mut c_char,
    err_buf_len: usize,
) -> u32 {
    let load = || -> Arg<Result<Verifier, ConfigError>> {
        let p = bytes(path as *const u8, path_len)?;
        Ok(Snapshot::from_file(&path_of(p)).map(|s| Verifier::with_logger(s, c_logger(f, user_data))))
    };
    construct(load, out, err_buf, err_buf_len)
}

/// `warden_verifier_new_from_json` with a log sink installed before the
/// first remote fetch; see `warden_verifier_new_from_file_with_logger`.
/// Returns what `warden_verifier_new_from_json` returns (`WARDEN_CODE_OK`,
/// `WARDEN_CODE_CONFIG`, `WARDEN_CODE_INVALID_ARGUMENT`).
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_new_from_json_with_logger(
    json: *const u8,
    len: usize,
    f: warden_log_fn,
    user_data: *mut c_void,
    out: *mut *mut warden_verifier,
    err_buf: *mut c_char,
    err_buf_len: usize,
) -> u32 {
    let load = || -> Arg<Result<Verifier, ConfigError>> {
        let s = Snapshot::from_json(bytes(json, len)?, std::path::Path::new("."));
        Ok(s.map(|s| Verifier::with_logger(s, c_logger(f, user_data))))
    };
    construct(load, out, err_buf, err_buf_len)
}

/// Copy the message of the most recent refused reload or JWK Set on this
/// verifier (the empty string if none was ever refused; a later success does
/// not clear it) into `(buf, buf_len)`, NUL-terminated and cut to fit at a
/// UTF-8 boundary. `*needed` (when `needed` is not NULL) receives the full
/// message length without the NUL.
///
/// Returns `WARDEN_CODE_OK`; `WARDEN_CODE_BUFFER_TOO_SMALL` when the message
/// was cut (`buf_len < *needed + 1`); `WARDEN_CODE_INVALID_ARGUMENT` when
/// `v` is NULL or `buf` is NULL with a non-zero `buf_len`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn warden_verifier_last_error(
    v: *const warden_verifier,
    buf: *mut c_char,
    buf_len: usize,
    needed: *mut usize,
) -> u32 {
    guard(|| {
        status((|| {
            let v = verifier(v)?;
            let msg = v.last_error.lock().unwrap_or_else(|p| p.into_inner());
            copy_text(&msg, buf, buf_len, needed)
        })())
    })
}

fn revoke(v: *const warden_verifier, t: impl FnOnce() -> Arg<Target>, now: f64) -> u32 {
    guard(|| {
        status((|| {
            let v = unsafe { verifier(v)? };
            let now = now_or_clock(now)?;
            v.inner.revoke(t()?, now);
            Ok(OK)
        })())
    })
}

fn finite(x: f64) -> Arg<f64> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(INVALID_ARGUMENT)
    }
}

/// Revoke the JWT id `(jti, len)` (UTF-8) at run time: every verification
/// that starts after this returns rejects tokens with that `jti` as
/// `WARDEN_CODE_REVOKED`. `until`: the token's `exp`; the entry is dropped
/// once `now` passes it by more than the config's largest `leeway_s` and a
/// day (the token is expired then, even if a reload raises the leeway;
/// 0 = keep until unrevoked). `now` (0 = the clock) prunes the entries so
/// passed; a `now` past the year 10000 (milliseconds for seconds) prunes
/// nothing.
///
/// Returns `WARDEN_CODE_OK`, or `WARDEN_CODE_INVALID_ARGUMENT` (`v` NULL,
/// `jti` NULL with a non-zero length or not UTF-8, `until`/`now` not
/// finite). Thread-safe. Run-time revocations survive reloads; revocations
/// in the config file are separate and cannot be unrevoked here.
#[no_mangle]
pub unsafe extern "C" fn warden_revoke_jti(
    v: *const warden_verifier,
    jti: *const c_char,
    len: usize,
    until: f64,
    now: f64,
) -> u32 {
    let t = || {
        let until = finite(until)?;
        Ok(Target::Jti { jti: utf8(jti as *const u8, len)?.to_owned(), until: (until != 0.0).then_some(until) })
    };
    revoke(v, t, now)
}

/// Revoke every token of subject `(sub, len)` (UTF-8) issued at or before
/// `before` (seconds since the epoch), and every token of that subject
/// without `iat`. A later cut-off for the same subject replaces an earlier
/// one (revoking never shortens what is revoked).
///
/// Returns `WARDEN_CODE_OK`, or `WARDEN_CODE_INVALID_ARGUMENT` (`v` NULL,
/// `sub` NULL with a non-zero length or not UTF-8, `before`/`now` not
/// finite). Threads as `warden_revoke_jti`.
#[no_mangle]
pub unsafe extern "C" fn warden_revoke_subject_before(
    v: *const warden_verifier,
    sub: *const c_char,
    len: usize,
    before: f64,
    now: f64,
) -> u32 {
    let t = || Ok(Target::SubjectBefore { sub: utf8(sub as *const u8, len)?.to_owned(), before: finite(before)? });
    revoke(v, t, now)
}

/// Revoke the API key whose configured `id` is `(id, len)` (UTF-8): it is
/// rejected as `WARDEN_CODE_REVOKED` from now on.
///
/// Returns `WARDEN_CODE_OK`, or `WARDEN_CODE_INVALID_ARGUMENT` (`v` NULL,
/// `id` NULL with a non-zero length or not UTF-8, `now` not finite). Threads
/// as `warden_revoke_jti`.
#[no_mangle]
pub unsafe extern "C" fn warden_revoke_api_key_id(
    v: *const warden_verifier,
    id: *const c_char,
    len: usize,
    now: f64,
) -> u32 {
    revoke(v, || Ok(Target::ApiKeyId(utf8(id as *const u8, len)?.to_owned())), now)
}

fn unrevoke(v: *const warden_verifier, t: impl FnOnce() -> Arg<Target>) -> u32 {
    guard(|| {
        status((|| {
            let v = unsafe { verifier(v)? };
            Ok(if v.inner.unrevoke(&t()?) { OK } else { NOT_FOUND })
        })())
    })
}

/// Undo `warden_revoke_jti` for `(jti, len)`.
///
/// Returns `WARDEN_CODE_OK` when an entry was removed,
/// `WARDEN_CODE_NOT_FOUND` when there was no run-time revocation of that
/// name (config revocations stay until the config changes), or
/// `WARDEN_CODE_INVALID_ARGUMENT` (`v` NULL, name NULL with a non-zero
/// length or not UTF-8). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn warden_unrevoke_jti(v: *const warden_verifier, jti: *const c_char, len: usize) -> u32 {
    unrevoke(v, || Ok(Target::Jti { jti: utf8(jti as *const u8, len)?.to_owned(), until: None }))
}

/// Undo `warden_revoke_subject_before` for `(sub, len)`.
///
/// Returns `WARDEN_CODE_OK` (removed), `WARDEN_CODE_NOT_FOUND` (no run-time
/// revocation for that subject) or `WARDEN_CODE_INVALID_ARGUMENT`, as
/// `warden_unrevoke_jti`.
#[no_mangle]
pub unsafe extern "C" fn warden_unrevoke_subject(v: *const warden_verifier, sub: *const c_char, len: usize) -> u32 {
    unrevoke(v, || Ok(Target::SubjectBefore { sub: utf8(sub as *const u8, len)?.to_owned(), before: 0.0 }))
}

/// Undo `warden_revoke_api_key_id` for `(id, len)`.
///
/// Returns `WARDEN_CODE_OK` (removed), `WARDEN_CODE_NOT_FOUND` (no run-time
/// revocation for that id) or `WARDEN_CODE_INVALID_ARGUMENT`, as
/// `warden_unrevoke_jti`.
#[no_mangle]
pub unsafe extern "C" fn warden_unrevoke_api_key_id(v: *const warden_verifier, id: *const c_char, len: usize) -> u32 {
    unrevoke(v, || Ok(Target::ApiKeyId(utf8(id as *const u8, len)?.to_owned())))
}

/// Store in `*out` how many verifications of credential kind `kind`
/// (`warden_kind`, not NONE) ended with verdict `code` (0..18) since the
/// verifier was created (reloads do not reset counters).
///
/// Returns `WARDEN_CODE_OK`, or `WARDEN_CODE_INVALID_ARGUMENT` (`v` or `out`
/// NULL, unknown kind or code). Thread-safe; it sums the counters' shards
/// under a short internal lock, which a result also takes once, at its
/// first verification with this verifier (verifications do not otherwise
/// wait for it). Counts taken while other threads verify may be a few
/// apart from each other.
#[no_mangle]
pub unsafe extern "C" fn warden_stats_verdicts(v: *const warden_verifier, kind: u32, code: u32, out: *mut u64) -> u32 {
    guard(|| {
        status((|| {
            let v = verifier(v)?;
            let out = out.as_mut().ok_or(INVALID_ARGUMENT)?;
            let kind = Kind::ALL.into_iter().find(|k| *k as u32 == kind).ok_or(INVALID_ARGUMENT)?;
            let code = Code::from_u32(code).ok_or(INVALID_ARGUMENT)?;
            *out = v.inner.stats().verdicts(kind, code);
            Ok(OK)
        })())
    })
}

/// Store in `*out` the value of event counter `which` (`warden_counter`)
/// since the verifier was created.
///
/// Returns `WARDEN_CODE_OK`, or `WARDEN_CODE_INVALID_ARGUMENT` (`v` or `out`
/// NULL, unknown counter). Thread-safe, as `warden_stats_verdicts`.
#[no_mangle]
pub unsafe extern "C" fn warden_stats_counter(v: *const warden_verifier, which: u32, out: *mut u64) -> u32 {
    guard(|| {
        status((|| {
            let v = verifier(v)?;
            let out = out.as_mut().ok_or(INVALID_ARGUMENT)?;
            let c = *Counter::ALL.get(which as usize).ok_or(INVALID_ARGUMENT)?;
            *out = v.inner.stats().counter(c);
            Ok(OK)
        })())
    })
}

/// Every counter in the Prometheus text exposition format
/// (`warden_verdicts_total{kind="jwt",code="ok"} 12` ...), copied into
/// `(buf, buf_len)` NUL-terminated; `*needed` (when not NULL) receives the
/// text's length without the NUL. Call with `(NULL, 0)` to measure, then
/// with a buffer of at least `*needed + 1` bytes (add some slack: counters
/// grow between the calls).
///
/// Returns `WARDEN_CODE_OK`; `WARDEN_CODE_BUFFER_TOO_SMALL` when the text
/// was cut; `WARDEN_CODE_INVALID_ARGUMENT` when `v` is NULL or `buf` is NULL
/// with a non-zero `buf_len`. Thread-safe; allocates a temporary string.
#[no_mangle]
pub unsafe extern "C" fn warden_stats_prometheus(
    v: *const warden_verifier,
    buf: *mut c_char,
    buf_len: usize,
    needed: *mut usize,
) -> u32 {
    guard(|| {
        status((|| {
            let v = verifier(v)?;
            copy_text(&v.inner.stats().to_prometheus(), buf, buf_len, needed)
        })())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(buf: &[u8]) -> &str {
        std::ffi::CStr::from_bytes_until_nul(buf).expect("NUL-terminated").to_str().unwrap()
    }

    /// A panic while loading is INTERNAL, with `*out` NULL and a message in
    /// `err_buf` all the same (callers print it whatever the code).
    #[test]
    fn a_panic_while_loading_still_leaves_a_message() {
        // (The harness captures the panic messages.)
        let boom = || -> Arg<Result<Verifier, ConfigError>> { panic!("boom") };
        let mut out: *mut warden_verifier = ptr::NonNull::dangling().as_ptr();
        let mut err = [0x55u8; 64];
        unsafe {
            assert_eq!(construct(boom, &mut out, err.as_mut_ptr() as *mut c_char, err.len()), INTERNAL);
            assert!(out.is_null());
            assert_eq!(text(&err), "internal error (a bug in warden)");
            let mut small = [0x55u8; 4];
            assert_eq!(construct(boom, &mut out, small.as_mut_ptr() as *mut c_char, small.len()), INTERNAL);
            assert_eq!(text(&small), "int");
            assert_eq!(construct(boom, &mut out, ptr::null_mut(), 0), INTERNAL);
        }
    }
}
