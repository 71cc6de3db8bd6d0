//! `warden_result`: the caller-owned verdict, and lookups into it.

use super::{bytes, copy_bytes, guard, status, Arg, BUFFER_TOO_SMALL, INVALID_ARGUMENT, NOT_FOUND, OK, WRONG_TYPE};
use crate::json::{self, Value};
use crate::{Claim, Scratch, Verified};
use std::ffi::{c_char, c_void};
use std::ptr;

/// The verdict of one `warden_verify_*` call, owned by the caller (on the
/// stack, in a request's memory, anywhere).
///
/// Lifecycle: initialize with `warden_result_init` (or zero it, e.g.
/// `warden_result r = {0};` - both are equivalent); pass it to any number of
/// `warden_verify_*` calls; release with `warden_result_free`. The first
/// verification through a result allocates its working memory (about 26 KiB,
/// more for credentials over 8 KiB); later ones reuse it and allocate
/// nothing. Never copy a result that holds working memory and use or free
/// both copies.
///
/// Lifetimes: `subject`, `kid`, `key_id` and every pointer handed out by the
/// `warden_result_*` accessors point into the result's working memory. They
/// stay valid until the next `warden_verify_*` call with this result, or
/// `warden_result_free`, whichever comes first - not longer, even if the
/// verifier is freed or reloaded in between (the verifier may be freed: the
/// result does not point into it). A result does keep alive the verifier
/// state its last verifications read (configuration, caches), of up to four
/// verifiers, so that the next call through it gets that state without an
/// atomic read-modify-write, even when calls alternate between verifiers;
/// it lets go of a state the verifier has since replaced, or of a freed
/// verifier's, at its next verification (with any verifier), and of the
/// rest at `warden_result_free`.
///
/// Strings are UTF-8 and NOT NUL-terminated: always use the `_len` member.
/// A NULL pointer means "absent"; a present empty string has a non-NULL
/// pointer and length 0.
///
/// Threads: a result may be moved between threads, but must not be used by
/// two threads at once (one result per thread or per request).
#[repr(C)]
pub struct warden_result {
    /// The verdict: `WARDEN_CODE_OK` (0) when accepted, a verdict code
    /// (1..18) when rejected, or `WARDEN_CODE_INVALID_ARGUMENT` /
    /// `WARDEN_CODE_INTERNAL` when the call itself failed. The verify
    /// functions also return it.
    pub code: u32,
    /// The credential kind the verdict is about (`warden_kind`); for a
    /// rejected `Authorization` value, the kind its scheme announced (a value
    /// that is not `Bearer`/`Basic` at all counts as a JWT).
    /// `WARDEN_KIND_NONE` when the call failed before looking at a credential.
    pub kind: u32,
    /// Accepted only: the JWT `sub`, the API key's `owner`, the Basic user
    /// name. NULL when absent (a JWT without `sub`) and on rejection.
    pub subject: *const c_char,
    pub subject_len: usize,
    /// Accepted JWTs only: the `kid` of the key that verified the token (also
    /// for tokens without a `kid` header). NULL when absent.
    pub kid: *const c_char,
    pub kid_len: usize,
    /// Accepted API keys only: the key's configured `id`. NULL otherwise.
    pub key_id: *const c_char,
    pub key_id_len: usize,
    /// Accepted only: the number of scopes (JWT `scope` split on spaces, else
    /// `scp`, split so too when a string, or its string items when an array;
    /// an API key's `scopes`). Read them with
    /// `warden_result_scopes` (all at once) or `warden_result_scope`. 0 on
    /// rejection.
    pub scope_count: usize,
    /// Accepted JWTs with an `exp` claim: its value (seconds since the epoch,
    /// possibly fractional). 0 when `has_exp` is false.
    pub exp: f64,
    /// Whether `exp` is set.
    pub has_exp: bool,
    /// `WARDEN_CODE_RATE_LIMITED` only: whole seconds until a retry can
    /// succeed (at least 1; suitable for a `Retry-After` header). 0 otherwise.
    pub retry_after_s: u64,
    /// Private to warden: NULL, or the result's working memory. Do not read
    /// or write it.
    pub internal: *mut c_void,
}

/// What `warden_result.internal` points to.
pub(crate) struct Internal {
    pub(crate) scratch: Scratch,
    /// The last accepted verdict. Its borrows point into `scratch`'s buffers
    /// (heap memory that does not move with this struct); it is cleared
    /// before `scratch` is touched again, so they never dangle while
    /// reachable. The `'static` is a lie confined to this module and
    /// `verify.rs`: readers only get it back with the lifetime of `&self`.
    last: Option<Verified<'static>>,
}

impl Internal {
    pub(crate) fn new() -> Internal {
        Internal { scratch: Scratch::new(), last: None }
    }

    /// The last accepted verdict, borrowed for as long as `self` is.
    pub(crate) fn last(&self) -> Option<&Verified<'_>> {
        self.last.as_ref()
    }

    /// Forget the last verdict (before the scratch is reused).
    pub(crate) fn forget(&mut self) {
        self.last = None;
    }

    /// Remember `v`, which borrows from `self.scratch`.
    ///
    /// # Safety
    /// `v` must borrow only from `self.scratch`'s buffers (or static data),
    /// and `forget` must be called before the scratch is used again.
    pub(crate) unsafe fn remember(&mut self, v: Verified<'_>) {
        self.last = Some(std::mem::transmute::<Verified<'_>, Verified<'static>>(v));
    }
}

impl warden_result {
    /// A result with no verdict and no working memory.
    pub(crate) const EMPTY: warden_result = warden_result {
        code: OK,
        kind: 0,
        subject: ptr::null(),
        subject_len: 0,
        kid: ptr::null(),
        kid_len: 0,
        key_id: ptr::null(),
        key_id_len: 0,
        scope_count: 0,
        exp: 0.0,
        has_exp: false,
        retry_after_s: 0,
        internal: ptr::null_mut(),
    };

    /// Clear every public member (the working memory stays).
    pub(crate) fn reset(&mut self, code: u32) {
        let internal = self.internal;
        *self = warden_result { code, internal, ..warden_result::EMPTY };
    }

    pub(crate) fn internal_mut(&mut self) -> Option<&mut Internal> {
        // SAFETY: `internal` is NULL or was made by `Box::into_raw` below and
        // is owned by this result (the header's contract).
        unsafe { (self.internal as *mut Internal).as_mut() }
    }

    /// The working memory, allocated on first use.
    pub(crate) fn internal_or_new(&mut self) -> *mut Internal {
        if self.internal.is_null() {
            self.internal = Box::into_raw(Box::new(Internal::new())) as *mut c_void;
        }
        self.internal as *mut Internal
    }
}

/// The last accepted verdict of the result at `r`.
unsafe fn last<'a>(r: *const warden_result) -> Arg<Option<&'a Verified<'a>>> {
    let r = r.as_ref().ok_or(INVALID_ARGUMENT)?;
    Ok((r.internal as *const Internal).as_ref().and_then(|i| i.last()))
}

/// Point `(*ptr, *len)` at `s`, or at (NULL, 0).
unsafe fn hand_out(s: Option<&[u8]>, ptr: *mut *const c_char, len: *mut usize) {
    *ptr = s.map_or(ptr::null(), |s| s.as_ptr() as *const c_char);
    *len = s.map_or(0, <[u8]>::len);
}

/// Initialize `r`: no verdict (`code` 0, `kind` `WARDEN_KIND_NONE`), every
/// pointer NULL, no working memory. Allocates nothing. Equivalent to zeroing
/// the struct.
///
/// Do not call it on a result that already holds working memory (that
/// memory would leak): use `warden_result_free` first.
///
/// Returns `WARDEN_CODE_OK`, or `WARDEN_CODE_INVALID_ARGUMENT` when `r` is
/// NULL.
#[no_mangle]
pub unsafe extern "C" fn warden_result_init(r: *mut warden_result) -> u32 {
    guard(|| match r.as_mut() {
        None => INVALID_ARGUMENT,
        Some(r) => {
            ptr::write(r, warden_result::EMPTY);
            OK
        }
    })
}

/// Release the working memory of `r` and reset it as `warden_result_init`
/// does; every pointer obtained from it becomes invalid. The result can be
/// used again afterwards. NULL, and a result that never verified anything,
/// are fine (no-op / reset only). Calling it twice is fine.
#[no_mangle]
pub unsafe extern "C" fn warden_result_free(r: *mut warden_result) {
    guard(|| {
        if let Some(r) = r.as_mut() {
            if !r.internal.is_null() {
                // SAFETY: made by `Box::into_raw` in `internal_or_new`.
                drop(Box::from_raw(r.internal as *mut Internal));
            }
            *r = warden_result::EMPTY;
        }
        OK
    });
}

/// Scope number `index` (0-based, below `scope_count`) of an accepted
/// verdict: `*ptr`/`*len` point at it (UTF-8, not NUL-terminated; valid as
/// long as the result's other pointers).
///
/// Returns `WARDEN_CODE_OK`; `WARDEN_CODE_NOT_FOUND` when `index >=
/// scope_count` or the result holds no accepted verdict (`*ptr` = NULL,
/// `*len` = 0); `WARDEN_CODE_INVALID_ARGUMENT` when `r`, `ptr` or `len` is
/// NULL.
#[no_mangle]
pub unsafe extern "C" fn warden_result_scope(
    r: *const warden_result,
    index: usize,
    ptr: *mut *const c_char,
    len: *mut usize,
) -> u32 {
    guard(|| {
        status((|| {
            if ptr.is_null() || len.is_null() {
                return Err(INVALID_ARGUMENT);
            }
            let v = last(r)?; // an invalid `r` changes nothing
            hand_out(None, ptr, len);
            let v = v.ok_or(NOT_FOUND)?;
            let span = v.scopes.get(index).ok_or(NOT_FOUND)?;
            hand_out(Some(span.get(v.out)), ptr, len);
            Ok(OK)
        })())
    })
}

/// A string handed out by warden: `len` bytes at `ptr`, UTF-8 and NOT
/// NUL-terminated (the same as a `(pointer, _len)` pair of
/// `warden_result`). Filled by `warden_result_scopes`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct warden_str {
    pub ptr: *const c_char,
    pub len: usize,
}

/// Every scope of an accepted verdict in one call, in order: `out[i]` is
/// scope number `i`, as `warden_result_scope(r, i, ...)` would give it
/// (UTF-8, not NUL-terminated; the pointers are valid as long as the
/// result's other pointers). `out` is the caller's array of `cap` entries;
/// `*count` receives the number of scopes - `scope_count`, or 0 when the
/// result holds no accepted verdict (rejected, failed, never used), which is
/// not an error - so a call with `(NULL, 0)` measures.
///
/// Returns `WARDEN_CODE_OK` (`out[0]` to `out[*count - 1]` written, the
/// rest of `out` untouched); `WARDEN_CODE_BUFFER_TOO_SMALL` when `cap <
/// *count` (nothing written); `WARDEN_CODE_INVALID_ARGUMENT` when `r` or
/// `count` is NULL, `out` is NULL with a non-zero `cap`, or `cap *
/// sizeof(warden_str)` exceeds `PTRDIFF_MAX`. `*count` is 0 except after OK
/// and BUFFER_TOO_SMALL.
#[no_mangle]
pub unsafe extern "C" fn warden_result_scopes(
    r: *const warden_result,
    out: *mut warden_str,
    cap: usize,
    count: *mut usize,
) -> u32 {
    guard(|| {
        status((|| {
            if count.is_null() {
                return Err(INVALID_ARGUMENT);
            }
            *count = 0;
            if (out.is_null() && cap != 0) || cap > isize::MAX as usize / std::mem::size_of::<warden_str>() {
                return Err(INVALID_ARGUMENT);
            }
            let Some(v) = last(r)? else {
                return Ok(OK);
            };
            *count = v.scopes.len();
            if cap < v.scopes.len() {
                return Ok(BUFFER_TOO_SMALL);
            }
            for (i, span) in v.scopes.iter().enumerate() {
                let s = span.get(v.out);
                out.add(i).write(warden_str { ptr: s.as_ptr() as *const c_char, len: s.len() });
            }
            Ok(OK)
        })())
    })
}

/// Find a claim by top-level name (`path == false`) or dotted path.
unsafe fn find<'a>(r: *const warden_result, name: *const c_char, name_len: usize, path: bool) -> Arg<Claim<'a>> {
    let name = bytes(name as *const u8, name_len)?;
    let v = last(r)?.ok_or(NOT_FOUND)?;
    // Payloads are UTF-8, so a name that is not cannot match anything.
    let name = core::str::from_utf8(name).map_err(|_| NOT_FOUND)?;
    if path { v.claim_path(name) } else { v.claim(name) }.ok_or(NOT_FOUND)
}

fn json_lookup(
    r: *const warden_result,
    name: *const c_char,
    name_len: usize,
    path: bool,
    json: *mut *const c_char,
    json_len: *mut usize,
) -> u32 {
    guard(|| unsafe {
        status((|| {
            if json.is_null() || json_len.is_null() {
                return Err(INVALID_ARGUMENT);
            }
            let c = find(r, name, name_len, path).map_err(|code| {
                // NOT_FOUND says so in the outputs; an invalid argument
                // changes nothing.
                if code != INVALID_ARGUMENT {
                    hand_out(None, json, json_len);
                }
                code
            })?;
            hand_out(Some(c.raw_json().as_bytes()), json, json_len);
            Ok(OK)
        })())
    })
}

/// A top-level claim of an accepted JWT, by name (compared with the
/// payload's member names after JSON unescaping): `*json`/`*json_len` point
/// at its JSON text exactly as the payload has it (a string with its quotes
/// and escapes, a number as written, an object or array whole). UTF-8, not
/// NUL-terminated; valid as long as the result's other pointers.
///
/// Returns `WARDEN_CODE_OK`; `WARDEN_CODE_NOT_FOUND` when there is no such
/// claim or the result holds no accepted JWT (API keys and Basic have no
/// claims) - then `*json` = NULL, `*json_len` = 0;
/// `WARDEN_CODE_INVALID_ARGUMENT` when `r`, `json` or `json_len` is NULL or
/// `name` is NULL with a non-zero length.
#[no_mangle]
pub unsafe extern "C" fn warden_result_claim(
    r: *const warden_result,
    name: *const c_char,
    name_len: usize,
    json: *mut *const c_char,
    json_len: *mut usize,
) -> u32 {
    json_lookup(r, name, name_len, false, json, json_len)
}

/// Like `warden_result_claim`, for a nested claim named by a dotted path:
/// `"realm_access.roles"` is member `roles` of the object claim
/// `realm_access`. Each step is a member name (array indexes are not
/// supported); a member whose name contains a dot is reachable only with
/// `warden_result_claim`. A path without dots is a top-level claim. A name
/// given twice in a nested object (the top level refuses that) is the last
/// one, as most JSON parsers read it.
///
/// Returns `WARDEN_CODE_OK`; `WARDEN_CODE_NOT_FOUND` when a step is missing
/// or is not an object, or the result holds no accepted JWT;
/// `WARDEN_CODE_INVALID_ARGUMENT` as for `warden_result_claim`.
#[no_mangle]
pub unsafe extern "C" fn warden_result_claim_path(
    r: *const warden_result,
    path: *const c_char,
    path_len: usize,
    json: *mut *const c_char,
    json_len: *mut usize,
) -> u32 {
    json_lookup(r, path, path_len, true, json, json_len)
}

fn str_lookup(
    r: *const warden_result,
    name: *const c_char,
    name_len: usize,
    path: bool,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> u32 {
    guard(|| unsafe {
        status((|| {
            if out_len.is_null() {
                return Err(INVALID_ARGUMENT);
            }
            // First, so that it is 0 after every error, as documented.
            *out_len = 0;
            if (buf.is_null() && buf_len != 0) || buf_len > isize::MAX as usize {
                return Err(INVALID_ARGUMENT);
            }
            let c = find(r, name, name_len, path)?;
            // The claim's text was validated with the whole payload; parsing
            // it again yields the string without allocating.
            let Ok(Value::Str(s)) = json::validate(c.raw_json().as_bytes()) else {
                return Err(WRONG_TYPE);
            };
            copy_bytes(s.decoded(), s.decoded_len(), buf as *mut u8, buf_len, out_len)
        })())
    })
}

/// The value of a string claim, unescaped (`"a\"b\u00e9"` gives the 4 bytes
/// of `a"bé`), copied into the caller's buffer `(buf, buf_len)`. UTF-8 and
/// NOT NUL-terminated (a JSON string may contain U+0000). `*out_len`
/// receives the value's length in bytes in every case where the claim is a
/// string, so a call with `(NULL, 0)` measures.
///
/// Returns `WARDEN_CODE_OK`; `WARDEN_CODE_BUFFER_TOO_SMALL` when
/// `buf_len < *out_len` (nothing written); `WARDEN_CODE_NOT_FOUND` as for
/// `warden_result_claim`; `WARDEN_CODE_WRONG_TYPE` when the claim is not a
/// string; `WARDEN_CODE_INVALID_ARGUMENT` when `r` or `out_len` is NULL, or
/// a pointer is NULL with a non-zero length. `*out_len` is 0 except after OK
/// and BUFFER_TOO_SMALL.
#[no_mangle]
pub unsafe extern "C" fn warden_result_claim_str(
    r: *const warden_result,
    name: *const c_char,
    name_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> u32 {
    str_lookup(r, name, name_len, false, buf, buf_len, out_len)
}

/// `warden_result_claim_str` for a nested claim named by a dotted path (see
/// `warden_result_claim_path`). Returns `WARDEN_CODE_OK`,
/// `WARDEN_CODE_BUFFER_TOO_SMALL`, `WARDEN_CODE_NOT_FOUND`,
/// `WARDEN_CODE_WRONG_TYPE` or `WARDEN_CODE_INVALID_ARGUMENT`, as
/// `warden_result_claim_str` does.
#[no_mangle]
pub unsafe extern "C" fn warden_result_claim_path_str(
    r: *const warden_result,
    path: *const c_char,
    path_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> u32 {
    str_lookup(r, path, path_len, true, buf, buf_len, out_len)
}
