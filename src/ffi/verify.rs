//! The `warden_verify_*` functions.

use super::result::{warden_result, Internal};
use super::verifier::{verifier, warden_verifier};
use super::{bytes, guard, now_or_clock, Arg, INTERNAL, INVALID_ARGUMENT};
use crate::{Scratch, Verdict, Verifier};
use std::ffi::c_char;

/// Validate the arguments with `args`, then verify with `verify` into the
/// scratch of `out`, and fill `out`.
unsafe fn run<A>(
    out: *mut warden_result,
    args: impl FnOnce() -> Arg<A>,
    verify: impl for<'s> FnOnce(A, &'s mut Scratch) -> Verdict<'s>,
) -> u32 {
    let Some(res) = out.as_mut() else {
        return INVALID_ARGUMENT;
    };
    let code = guard(|| {
        res.reset(INVALID_ARGUMENT);
        if let Some(i) = res.internal_mut() {
            i.forget();
        }
        let a = match args() {
            Ok(a) => a,
            Err(code) => return code,
        };
        // The borrow of the scratch below goes through a raw pointer so that
        // the verdict can be stored next to it (see `Internal::remember`).
        let ip: *mut Internal = res.internal_or_new();
        let verdict = verify(a, &mut (*ip).scratch);
        match verdict {
            Ok(v) => {
                let text =
                    |s: Option<&str>| s.map_or((std::ptr::null(), 0), |s| (s.as_ptr() as *const c_char, s.len()));
                res.code = 0;
                res.kind = v.kind() as u32;
                (res.subject, res.subject_len) = text(v.subject());
                (res.kid, res.kid_len) = text(v.kid());
                (res.key_id, res.key_id_len) = text(v.key_id());
                res.scope_count = v.scopes.len();
                res.has_exp = v.exp().is_some();
                res.exp = v.exp().unwrap_or(0.0);
                (*ip).remember(v);
            }
            Err(r) => {
                res.code = r.code as u32;
                res.kind = r.kind as u32;
                res.retry_after_s = r.retry_after_s.unwrap_or(0);
            }
        }
        res.code
    });
    if code == INTERNAL {
        // A panic may have left any member half-written.
        res.reset(INTERNAL);
        if let Some(i) = res.internal_mut() {
            i.forget();
        }
    }
    code
}

/// The common arguments: the verifier, one credential, `now`.
unsafe fn args1<'a>(
    v: *const warden_verifier,
    p: *const u8,
    len: usize,
    now: f64,
) -> Arg<(&'a Verifier, &'a [u8], f64)> {
    Ok((&verifier(v)?.inner, bytes(p, len)?, now_or_clock(now)?))
}

/// Verify the compact JWS `(token, len)` (the token only, without `Bearer`).
///
/// `now`: the time to judge `exp`/`nbf`/`iat` by, in seconds since the epoch
/// (fractions allowed); 0 means the system clock. `out` must have been
/// initialized (`warden_result_init` or zeroed); it is overwritten, and
/// every pointer obtained from it before this call becomes invalid.
///
/// Returns the verdict, also stored in `out->code`: `WARDEN_CODE_OK` (0)
/// when the token is accepted, else the first failing check's code (SPEC
/// §3). `WARDEN_CODE_INVALID_ARGUMENT` when `v` or `out` is NULL, `token`
/// is NULL with a non-zero length, or `now` is not finite (`out` is left
/// untouched only when it is NULL itself). `(NULL, 0)` is an empty token
/// (`WARDEN_CODE_MALFORMED`). `WARDEN_CODE_INTERNAL` if warden panicked.
///
/// Allocation: none, once `out` has verified a credential at least this
/// long (the first call through a result allocates its working memory).
/// Thread-safe on `v`; `out` must not be shared with another thread during
/// the call.
#[no_mangle]
pub unsafe extern "C" fn warden_verify_jwt(
    v: *const warden_verifier,
    token: *const u8,
    len: usize,
    now: f64,
    out: *mut warden_result,
) -> u32 {
    run(out, || args1(v, token, len, now), |(v, t, now), s| v.verify_jwt(t, now, s))
}

/// Verify the API key `(key, len)`
/// (`<prefix>_<random><checksum>`). Everything else as `warden_verify_jwt`;
/// rejections are `WARDEN_CODE_TOO_LARGE`, `WARDEN_CODE_BAD_API_KEY`,
/// `WARDEN_CODE_REVOKED`, `WARDEN_CODE_RATE_LIMITED` (with
/// `out->retry_after_s`).
#[no_mangle]
pub unsafe extern "C" fn warden_verify_api_key(
    v: *const warden_verifier,
    key: *const u8,
    len: usize,
    now: f64,
    out: *mut warden_result,
) -> u32 {
    run(out, || args1(v, key, len, now), |(v, k, now), s| v.verify_api_key(k, now, s))
}

/// Verify a Basic user `(user, user_len)` and password `(pass, pass_len)`,
/// compared as raw octets (RFC 7617; no normalization, any bytes allowed).
/// Everything else as `warden_verify_jwt`; rejections are
/// `WARDEN_CODE_TOO_LARGE`, `WARDEN_CODE_BAD_CREDENTIALS`,
/// `WARDEN_CODE_RATE_LIMITED` (failure budget spent; checked before the
/// password). A password check can take tens of milliseconds (PBKDF2,
/// bcrypt) unless the verified-credential cache holds the pair.
#[no_mangle]
pub unsafe extern "C" fn warden_verify_basic(
    v: *const warden_verifier,
    user: *const u8,
    user_len: usize,
    pass: *const u8,
    pass_len: usize,
    now: f64,
    out: *mut warden_result,
) -> u32 {
    run(
        out,
        || Ok((args1(v, user, user_len, now)?, bytes(pass, pass_len)?)),
        |((v, u, now), p), s| v.verify_basic(u, p, now, s),
    )
}

/// Verify the value of an HTTP `Authorization` header `(value, len)`
/// (without the header name): `Bearer <JWT>`, `Bearer <API key>` (a
/// credential starting with a configured API-key prefix and `_`, without a
/// `.`) or `Basic <base64(user:password)>`; the scheme is case-insensitive
/// and surrounding spaces/tabs are ignored (SPEC §5). Any other shape or
/// scheme is `WARDEN_CODE_MALFORMED`. `out->kind` tells which credential it
/// was. Everything else as `warden_verify_jwt`.
#[no_mangle]
pub unsafe extern "C" fn warden_verify_authorization(
    v: *const warden_verifier,
    value: *const u8,
    len: usize,
    now: f64,
    out: *mut warden_result,
) -> u32 {
    run(out, || args1(v, value, len, now), |(v, a, now), s| v.verify_authorization(a, now, s))
}
