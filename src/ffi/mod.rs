//! The C ABI (`include/warden.h`, generated from this module by cbindgen).
//!
//! Shape (after rustls-ffi): an opaque [`warden_verifier`] shared by every
//! thread; a caller-owned [`warden_result`] filled by the `warden_verify_*`
//! functions without heap allocation (after its first use); status codes
//! (`uint32_t`) everywhere, with the verdict codes of [`crate::Code`] and a
//! few FFI-only codes above 100.
//!
//! Rules every entry point follows:
//! - its body runs inside `catch_unwind`; a panic becomes
//!   `WARDEN_CODE_INTERNAL` ([`warden_code::Internal`]) and never crosses the boundary;
//! - a null pointer where an object is needed, a null data pointer with a
//!   non-zero length, or a length above `isize::MAX` is
//!   `WARDEN_CODE_INVALID_ARGUMENT` ([`warden_code::InvalidArgument`]); `(NULL, 0)` is an empty
//!   byte string;
//! - byte strings are `(pointer, length)`, never NUL-terminated on input;
//!   strings handed out are UTF-8 and not NUL-terminated either, except the
//!   static names (`warden_code_str`, `warden_kind_str`, `warden_version`)
//!   and text copied into caller buffers by `*_last_error`, the constructors'
//!   `err_buf` and `warden_stats_prometheus`.
//!
//! Items here are named the C way (`warden_result`), so the header needs no
//! renaming table.

#![allow(non_camel_case_types)]
// The safety contract of every `extern "C"` function is the header's (see
// "Conventions" in cbindgen.toml's header text and each function's doc):
// non-NULL pointers point to valid memory of the stated length, results and
// verifiers come from warden. Repeating it as a `# Safety` section on each
// function would only add noise to include/warden.h.
#![allow(clippy::missing_safety_doc)]

use crate::{Code, Kind};
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A static NUL-terminated string (`c"..."` literals need Rust 1.77; the
/// crate supports 1.75).
macro_rules! cstr {
    ($s:literal) => {
        concat!($s, "\0").as_ptr() as *const c_char
    };
}

pub mod result;
pub mod verifier;
pub mod verify;

pub use result::{warden_result, warden_str};
pub use verifier::warden_verifier;

/// Status and verdict codes. Every function that returns `uint32_t` returns
/// one of these. 0 to 18 are the verdict codes of SPEC §3 (same numbers as
/// `warden::Code`); 100 and above are about the call itself, not about a
/// credential.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum warden_code {
    /// Accepted (verify functions) or success (everything else).
    Ok = 0,
    /// The credential is longer than the configured `max_token_bytes`.
    TooLarge = 1,
    /// Not a well-formed credential (SPEC §3 `malformed`).
    Malformed = 2,
    /// JWT `alg` missing, `none`, or no key pinned to it.
    UnsupportedAlg = 3,
    /// No key with the token's `kid` (or, without `kid`, for its `alg`).
    UnknownKey = 4,
    /// The `typ` policy is not met.
    BadType = 5,
    /// The JWT header has `crit`.
    CritUnsupported = 6,
    /// The signature does not verify.
    BadSignature = 7,
    /// `exp` has passed.
    Expired = 8,
    /// `nbf` is in the future.
    NotYetValid = 9,
    /// `iat` is in the future.
    IssuedInFuture = 10,
    /// `exp - iat` exceeds `max_lifetime_s`.
    LifetimeTooLong = 11,
    /// A required claim is absent.
    MissingClaim = 12,
    /// The `issuer` policy is not met.
    BadIssuer = 13,
    /// The `audience` policy is not met.
    BadAudience = 14,
    /// Revoked by jti, subject-before-time or API key id.
    Revoked = 15,
    /// Wrong API key prefix or checksum, unknown key, or outside its window.
    BadApiKey = 16,
    /// Basic user unknown or password wrong.
    BadCredentials = 17,
    /// Per-key or per-user budget spent; see `warden_result.retry_after_s`.
    RateLimited = 18,
    /// A required pointer was NULL, a data pointer was NULL with a non-zero
    /// length, a length exceeded `PTRDIFF_MAX`, or a number was out of range
    /// (a non-finite `now`, an unknown kind, code or counter).
    InvalidArgument = 100,
    /// warden caught a panic (a bug in warden). The call had no effect
    /// beyond, possibly, counters.
    Internal = 101,
    /// A config or JWK Set was refused (constructors, reload, `set_jwks`):
    /// the message is in `err_buf` or `warden_verifier_last_error`.
    Config = 102,
    /// The claim, scope or run-time revocation asked for does not exist.
    NotFound = 103,
    /// The caller's buffer is too small; the length needed was stored.
    BufferTooSmall = 104,
    /// The claim exists but is not of the type asked for.
    WrongType = 105,
}

/// Credential kinds (same numbers as `warden::Kind`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum warden_kind {
    /// No verdict yet, or the call failed before a credential was looked at
    /// (`WARDEN_CODE_INVALID_ARGUMENT`, `WARDEN_CODE_INTERNAL`).
    None = 0,
    Jwt = 1,
    ApiKey = 2,
    Basic = 3,
}

/// Event counters, for `warden_stats_counter` (same order as
/// `warden::Counter`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum warden_counter {
    /// A JWT was found in the verified-token cache (every algorithm).
    TokenCacheHit = 0,
    /// ... and was not.
    TokenCacheMiss = 1,
    /// A Basic user/password pair was found in the verified-credential cache.
    BasicCacheHit = 2,
    /// ... and was not.
    BasicCacheMiss = 3,
    /// Successful reloads (file or JSON).
    Reload = 4,
    /// Refused reloads and refused JWK Sets (the old config kept serving).
    ReloadFailure = 5,
    /// Successful `warden_verifier_set_jwks` calls.
    KeySetSwap = 6,
    /// Run-time revocations and successful unrevocations.
    Revocation = 7,
    /// Remote JWKS fetches that installed a key set.
    JwksFetch = 8,
    /// Remote JWKS fetches that failed (the last good set kept serving).
    JwksFetchFailure = 9,
}

// The FFI enums mirror the core's; a renumbering there must break the build.
const _: () = {
    assert!(Code::ALL.len() == 19);
    assert!(Code::Ok as u32 == warden_code::Ok as u32);
    assert!(Code::RateLimited as u32 == warden_code::RateLimited as u32);
    assert!(Kind::Jwt as u32 == warden_kind::Jwt as u32);
    assert!(Kind::ApiKey as u32 == warden_kind::ApiKey as u32);
    assert!(Kind::Basic as u32 == warden_kind::Basic as u32);
    assert!(crate::Counter::COUNT == 10);
    assert!(crate::Counter::Revocation as usize == warden_counter::Revocation as usize);
    assert!(crate::Counter::JwksFetchFailure as usize == warden_counter::JwksFetchFailure as usize);
};

pub(crate) const OK: u32 = warden_code::Ok as u32;
pub(crate) const INVALID_ARGUMENT: u32 = warden_code::InvalidArgument as u32;
pub(crate) const INTERNAL: u32 = warden_code::Internal as u32;
pub(crate) const CONFIG: u32 = warden_code::Config as u32;
pub(crate) const NOT_FOUND: u32 = warden_code::NotFound as u32;
pub(crate) const BUFFER_TOO_SMALL: u32 = warden_code::BufferTooSmall as u32;
pub(crate) const WRONG_TYPE: u32 = warden_code::WrongType as u32;

/// Run `f`, turning a panic into `WARDEN_CODE_INTERNAL`.
#[inline]
pub(crate) fn guard(f: impl FnOnce() -> u32) -> u32 {
    guard_or(INTERNAL, f)
}

/// Run `f`, turning a panic into `fallback`.
#[inline]
pub(crate) fn guard_or<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// [`guard`] for the entry points that may call the host's logger on the
/// caller's thread (constructors, reloads, key sets, resuming refresh).
/// Verifications and result accessors never do, and pay nothing for it.
pub(crate) fn guard_logging(f: impl FnOnce() -> u32) -> u32 {
    let _call = Call::enter();
    guard(f)
}

thread_local! {
    /// How many warden calls that may call the logger this thread is inside.
    static DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// Verifiers freed inside such a call on this thread, to drop once the
    /// outermost one returns (`PENDING`: there are some).
    // Boxed: the call in progress holds a reference to the verifier where
    // the caller's pointer points; it must not move.
    #[allow(clippy::vec_box)]
    static DEFERRED: std::cell::RefCell<Vec<Box<warden_verifier>>> = const { std::cell::RefCell::new(Vec::new()) };
    static PENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A [`guard_logging`] entry point's stay on a thread. A logger called on
/// the caller's thread (a reload's first fetch of a new source, say) may
/// free the verifier that call is using, as the header allows: the drop
/// then waits until the outermost such call is done with it.
struct Call;

impl Call {
    #[inline]
    fn enter() -> Call {
        DEPTH.with(|d| d.set(d.get() + 1));
        Call
    }
}

impl Drop for Call {
    #[inline]
    fn drop(&mut self) {
        let outermost = DEPTH.with(|d| {
            d.set(d.get() - 1);
            d.get() == 0
        });
        if outermost && PENDING.with(|p| p.replace(false)) {
            // Taken out first: a verifier's drop may call warden again.
            for v in DEFERRED.with(|q| std::mem::take(&mut *q.borrow_mut())) {
                let _ = catch_unwind(AssertUnwindSafe(|| drop(v)));
            }
        }
    }
}

/// Drop `v` now, or, inside a call that may log (from its logger), once
/// that call returns; either way its logger is not called again after this.
pub(crate) fn free_verifier(v: Box<warden_verifier>) {
    if DEPTH.with(|d| d.get()) > 0 {
        v.inner.stop();
        DEFERRED.with(|q| q.borrow_mut().push(v));
        PENDING.with(|p| p.set(true));
    } else {
        drop(v);
    }
}

/// Status of a failed argument check: `Err(INVALID_ARGUMENT)`.
pub(crate) type Arg<T> = Result<T, u32>;

/// The bytes at `(ptr, len)`: `(NULL, 0)` and `(any, 0)` are empty; a null
/// `ptr` with a non-zero `len`, or a `len` above `isize::MAX`, is invalid.
///
/// # Safety
/// A non-null `ptr` must point to `len` readable bytes that stay unchanged
/// for `'a`.
#[inline]
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Arg<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() || len > isize::MAX as usize {
        return Err(INVALID_ARGUMENT);
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

/// Like [`bytes`], but the text must be UTF-8 (names of things that can only
/// be UTF-8: a jti, a subject, an API key id).
#[inline]
pub(crate) unsafe fn utf8<'a>(ptr: *const u8, len: usize) -> Arg<&'a str> {
    core::str::from_utf8(bytes(ptr, len)?).map_err(|_| INVALID_ARGUMENT)
}

/// `now` as the core wants it: 0 means the clock ([`clock_now`]); NaN and
/// infinities are refused (a NaN `now` would make every time comparison
/// false).
#[inline]
pub(crate) fn now_or_clock(now: f64) -> Arg<f64> {
    if now == 0.0 {
        Ok(clock_now())
    } else if now.is_finite() {
        Ok(now)
    } else {
        Err(INVALID_ARGUMENT)
    }
}

/// The system clock, for a host that passes `now == 0`. On Linux the coarse
/// real-time clock: the time of the kernel's last tick (at most 1-4 ms old),
/// which the vDSO returns without reading the TSC. A precise read took
/// ~35 ns here, a third of a rejected call and 3 % of an HS256
/// verification, to judge claims written in whole seconds; nginx judges
/// them by its cached time for the same reason. Elsewhere, or if the coarse
/// clock is missing, [`crate::unix_now`].
fn clock_now() -> f64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid timespec for the call to write.
        if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) } == 0 {
            return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
        }
    }
    crate::unix_now()
}

/// Copy `text` into the caller's `(buf, buf_len)` as a NUL-terminated
/// string, cut at a UTF-8 boundary when it does not fit, and store its full
/// length (without the NUL) in `*needed` when `needed` is not null. Returns
/// `OK`, or `BUFFER_TOO_SMALL` when `buf_len < len + 1`.
///
/// # Safety
/// A non-null `buf` must point to `buf_len` writable bytes.
pub(crate) unsafe fn copy_text(text: &str, buf: *mut c_char, buf_len: usize, needed: *mut usize) -> Arg<u32> {
    if (buf.is_null() && buf_len != 0) || buf_len > isize::MAX as usize {
        return Err(INVALID_ARGUMENT);
    }
    if !needed.is_null() {
        *needed = text.len();
    }
    if buf_len == 0 {
        return Ok(BUFFER_TOO_SMALL); // not even room for the NUL
    }
    let mut n = text.len().min(buf_len - 1);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    std::ptr::copy_nonoverlapping(text.as_ptr(), buf as *mut u8, n);
    *buf.add(n) = 0;
    Ok(if n == text.len() { OK } else { BUFFER_TOO_SMALL })
}

/// Copy the `n` bytes of `src` into the caller's `(buf, buf_len)` when they
/// fit (no NUL is added) and store `n` in `*out_len`. Returns `OK`, or
/// `BUFFER_TOO_SMALL` (nothing written) when `buf_len < n`.
///
/// # Safety
/// `out_len` must be valid; a non-null `buf` must point to `buf_len`
/// writable bytes.
pub(crate) unsafe fn copy_bytes(
    src: impl Iterator<Item = u8>,
    n: usize,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> Arg<u32> {
    *out_len = n;
    if buf_len < n {
        return Ok(BUFFER_TOO_SMALL);
    }
    for (i, b) in src.take(n).enumerate() {
        *buf.add(i) = b;
    }
    Ok(OK)
}

/// Collapse an `Arg<u32>` into the status it carries.
#[inline]
pub(crate) fn status(r: Arg<u32>) -> u32 {
    r.unwrap_or_else(|e| e)
}

/// The library version (`"0.1.0"`), a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn warden_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// The name of a code (`"ok"`, `"bad_signature"`, `"invalid_argument"`,
/// ...): the SPEC §3 spelling for verdict codes, the snake_case name of the
/// enumerator for the others, `"unknown"` for any other number. A static
/// NUL-terminated string; never NULL.
#[no_mangle]
pub extern "C" fn warden_code_str(code: u32) -> *const c_char {
    guard_or(cstr!("unknown"), || code_cstr(code))
}

pub(crate) fn code_cstr(code: u32) -> *const c_char {
    match code {
        0 => cstr!("ok"),
        1 => cstr!("too_large"),
        2 => cstr!("malformed"),
        3 => cstr!("unsupported_alg"),
        4 => cstr!("unknown_key"),
        5 => cstr!("bad_type"),
        6 => cstr!("crit_unsupported"),
        7 => cstr!("bad_signature"),
        8 => cstr!("expired"),
        9 => cstr!("not_yet_valid"),
        10 => cstr!("issued_in_future"),
        11 => cstr!("lifetime_too_long"),
        12 => cstr!("missing_claim"),
        13 => cstr!("bad_issuer"),
        14 => cstr!("bad_audience"),
        15 => cstr!("revoked"),
        16 => cstr!("bad_api_key"),
        17 => cstr!("bad_credentials"),
        18 => cstr!("rate_limited"),
        100 => cstr!("invalid_argument"),
        101 => cstr!("internal"),
        102 => cstr!("config"),
        103 => cstr!("not_found"),
        104 => cstr!("buffer_too_small"),
        105 => cstr!("wrong_type"),
        _ => cstr!("unknown"),
    }
}

/// The name of a kind: `"jwt"`, `"api_key"`, `"basic"`, `"none"` for 0,
/// `"unknown"` for any other number. A static NUL-terminated string; never
/// NULL.
#[no_mangle]
pub extern "C" fn warden_kind_str(kind: u32) -> *const c_char {
    guard_or(cstr!("unknown"), || match kind {
        0 => cstr!("none"),
        1 => cstr!("jwt"),
        2 => cstr!("api_key"),
        3 => cstr!("basic"),
        _ => cstr!("unknown"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn guard_turns_a_panic_into_internal() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = guard(|| panic!("boom"));
        std::panic::set_hook(prev);
        assert_eq!(r, INTERNAL);
        assert_eq!(guard(|| 7), 7);
    }

    #[test]
    fn code_names_match_the_core() {
        for c in Code::ALL {
            let s = unsafe { CStr::from_ptr(warden_code_str(c as u32)) };
            assert_eq!(s.to_str().unwrap(), c.as_str());
        }
        for k in Kind::ALL {
            let s = unsafe { CStr::from_ptr(warden_kind_str(k as u32)) };
            assert_eq!(s.to_str().unwrap(), k.as_str());
        }
        let s = |c| unsafe { CStr::from_ptr(warden_code_str(c)) }.to_str().unwrap();
        assert_eq!(s(19), "unknown");
        assert_eq!(s(100), "invalid_argument");
        assert_eq!(s(105), "wrong_type");
        assert_eq!(s(u32::MAX), "unknown");
        let v = unsafe { CStr::from_ptr(warden_version()) };
        assert_eq!(v.to_str().unwrap(), crate::VERSION);
    }

    #[test]
    fn byte_arguments() {
        unsafe {
            assert_eq!(bytes(std::ptr::null(), 0), Ok(&[][..]));
            assert_eq!(bytes(std::ptr::null(), 1), Err(INVALID_ARGUMENT));
            let b = [1u8, 2];
            assert_eq!(bytes(b.as_ptr(), usize::MAX), Err(INVALID_ARGUMENT));
            assert_eq!(bytes(b.as_ptr(), 2), Ok(&b[..]));
            let bad = [0xffu8];
            assert_eq!(utf8(bad.as_ptr(), 1), Err(INVALID_ARGUMENT));
        }
        assert_eq!(now_or_clock(f64::NAN), Err(INVALID_ARGUMENT));
        assert_eq!(now_or_clock(f64::INFINITY), Err(INVALID_ARGUMENT));
        assert_eq!(now_or_clock(5.5), Ok(5.5));
        // The clock is host state that Miri's isolation hides.
        if !cfg!(miri) {
            // The coarse clock lags the precise one by at most a tick.
            let (before, coarse, after) = (crate::unix_now(), now_or_clock(0.0).unwrap(), crate::unix_now());
            assert!(before > 1.6e9);
            assert!(coarse <= after && coarse > before - 0.1, "{before} {coarse} {after}");
        }
    }

    #[test]
    fn copy_text_truncates_on_a_char_boundary() {
        let mut buf = [0x55 as c_char; 8];
        let mut need = 0usize;
        unsafe {
            assert_eq!(copy_text("héllo", buf.as_mut_ptr(), 8, &mut need), Ok(OK));
            assert_eq!(need, 6);
            assert_eq!(CStr::from_ptr(buf.as_ptr()).to_str().unwrap(), "héllo");
            // room for "h" and half of "é": cut before "é"
            assert_eq!(copy_text("héllo", buf.as_mut_ptr(), 3, &mut need), Ok(BUFFER_TOO_SMALL));
            assert_eq!(CStr::from_ptr(buf.as_ptr()).to_str().unwrap(), "h");
            assert_eq!(copy_text("x", std::ptr::null_mut(), 0, &mut need), Ok(BUFFER_TOO_SMALL));
            assert_eq!(need, 1);
            assert_eq!(copy_text("x", std::ptr::null_mut(), 4, &mut need), Err(INVALID_ARGUMENT));
            assert_eq!(copy_text("", buf.as_mut_ptr(), 1, std::ptr::null_mut()), Ok(OK));
        }
    }
}
