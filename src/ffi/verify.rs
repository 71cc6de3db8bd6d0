//! The `warden_verify_*` functions.

use super::result::{warden_result, Internal};
use super::verifier::{verifier, warden_verifier};
use super::{bytes, guard, now_or_clock, Arg, INTERNAL, INVALID_ARGUMENT};
use crate::{Scratch, Verdict, Verifier};
use std::ffi::c_char;

/// Validate the arguments with `args`, then verify with `verify` into the
/// scratch of `out`, and fill `out`. `inputs`: the credential's bytes, as
/// the caller passed them.
unsafe fn run<A>(
    out: *mut warden_result,
    inputs: &[(*const u8, usize)],
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
        let verdict = if inputs.iter().any(|&(p, n)| (*ip).scratch.bufs.holds(p, n)) {
            verify_aside(&mut *ip, a, verify)
        } else {
            verify(a, &mut (*ip).scratch)
        };
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

/// A credential read out of this very result (a token in a claim) lives in
/// the buffers a verification rewrites: verify into new ones, and keep the
/// old ones, unchanged, until the credential is read.
#[cold]
#[inline(never)]
fn verify_aside<'s, A>(
    i: &'s mut Internal,
    a: A,
    verify: impl FnOnce(A, &'s mut Scratch) -> Verdict<'s>,
) -> Verdict<'s> {
    let read_from = std::mem::replace(&mut i.scratch, Scratch::new());
    let verdict = verify(a, &mut i.scratch);
    drop(read_from);
    verdict
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
/// (fractions allowed); 0 means the system clock (on Linux its coarse
/// reading: the time of the last kernel tick, at most a few milliseconds
/// old). `out` must have been initialized (`warden_result_init` or zeroed);
/// it is overwritten, and every pointer obtained from it before this call
/// becomes invalid. The credential may itself be such a pointer (a token
/// read from a claim of `out`): such a call works in new memory of `out`'s
/// (it allocates), so the credential stays intact while it is read.
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
    run(out, &[(token, len)], || args1(v, token, len, now), |(v, t, now), s| v.verify_jwt(t, now, s))
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
    run(out, &[(key, len)], || args1(v, key, len, now), |(v, k, now), s| v.verify_api_key(k, now, s))
}

/// Verify a Basic user `(user, user_len)` and password `(pass, pass_len)`,
/// compared as raw octets (RFC 7617; no normalization). Everything else as
/// `warden_verify_jwt`; rejections are `WARDEN_CODE_TOO_LARGE`,
/// `WARDEN_CODE_MALFORMED` (a control character, below 0x20 or 0x7f, in
/// either: RFC 7617 §2 forbids them), `WARDEN_CODE_BAD_CREDENTIALS`,
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
        &[(user, user_len), (pass, pass_len)],
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
    run(out, &[(value, len)], || args1(v, value, len, now), |(v, a, now), s| v.verify_authorization(a, now, s))
}

#[cfg(test)]
mod tests {
    //! The accepted-verdict path of `run`: the result's working memory, the
    //! verdict kept beside the scratch it borrows from, and the accessors that
    //! hand out pointers into that scratch, driven by a stand-in for the
    //! verifier. A real accepted credential needs ring, which Miri cannot run;
    //! tests/miri.sh runs these under Miri (tests/miri_ffi.rs covers the rest
    //! of the C ABI there).
    use super::*;
    use crate::ffi::result::*;
    use crate::ffi::{warden_kind, warden_str, BUFFER_TOO_SMALL, NOT_FOUND, OK, WRONG_TYPE};
    use crate::scratch::{Buffers, Span};
    use crate::{Code, Kind, Rejection, Verified};
    use std::ptr;

    const PAYLOAD: &[u8] = br#"{"sub":"alice","n":12,"s":"a\"b\u00e9","o":{"p":{"q":"deep"}},"scope":"x yy"}"#;

    /// What an accepted JWT leaves in the scratch: the decoded payload in
    /// `dec`, the result's strings in `out`, scope spans in `scopes`.
    fn accept<'s>(s: &'s mut Scratch, sub: &[u8]) -> Verdict<'s> {
        let s = &mut s.bufs;
        s.clear();
        s.reserve(PAYLOAD.len());
        s.dec.extend_from_slice(PAYLOAD);
        let subject = Span::push(&mut s.out, sub);
        let kid = Span::push(&mut s.out, b"key-1");
        for scope in [&b"x"[..], b"yy"] {
            let span = Span::push(&mut s.out, scope);
            s.scopes.push(span);
        }
        let Buffers { dec, out, scopes, .. } = s;
        Ok(Verified {
            kind: Kind::Jwt,
            out: &out[..],
            payload: &dec[..],
            subject: Some(subject),
            kid: Some(kid),
            key_id: None,
            scopes: &scopes[..],
            exp: Some(1.5e9),
            exp_text: None,
        })
    }

    unsafe fn read<'a>(p: *const c_char, n: usize) -> &'a [u8] {
        assert!(!p.is_null());
        std::slice::from_raw_parts(p as *const u8, n)
    }

    unsafe fn claim(r: &warden_result, name: &str, path: bool) -> Result<Vec<u8>, u32> {
        let name = name.as_bytes().to_vec().into_boxed_slice();
        let (mut p, mut n) = (ptr::null(), 0);
        let f = if path { warden_result_claim_path } else { warden_result_claim };
        match f(r, name.as_ptr() as *const c_char, name.len(), &mut p, &mut n) {
            OK => Ok(read(p, n).to_vec()),
            rc => {
                assert!(p.is_null() && n == 0);
                Err(rc)
            }
        }
    }

    /// `warden_result_claim_str` into an exact-size heap buffer of `room`
    /// bytes: what it returned, what it wrote, and `*out_len`.
    unsafe fn claim_str(r: &warden_result, name: &str, room: usize) -> (u32, Vec<u8>, usize) {
        let name = name.as_bytes().to_vec().into_boxed_slice();
        let mut buf = vec![0x55u8; room].into_boxed_slice();
        let mut n = usize::MAX;
        let bp = if room == 0 { ptr::null_mut() } else { buf.as_mut_ptr() as *mut c_char };
        let rc = warden_result_claim_path_str(r, name.as_ptr() as *const c_char, name.len(), bp, room, &mut n);
        (rc, buf.into_vec(), n)
    }

    unsafe fn scope(r: &warden_result, i: usize) -> Result<Vec<u8>, u32> {
        let (mut p, mut n) = (ptr::null(), 0);
        match warden_result_scope(r, i, &mut p, &mut n) {
            OK => Ok(read(p, n).to_vec()),
            rc => Err(rc),
        }
    }

    /// `warden_result_scopes` into a heap array of `cap` junk entries: what
    /// it returned, `*count`, and the strings of the first `*count` entries
    /// when it returned OK.
    unsafe fn scopes(r: *const warden_result, cap: usize) -> (u32, usize, Vec<Vec<u8>>) {
        let junk = [0x55 as c_char; 1];
        let mut out = vec![warden_str { ptr: junk.as_ptr(), len: 7 }; cap].into_boxed_slice();
        let mut n = usize::MAX;
        let op = if cap == 0 { ptr::null_mut() } else { out.as_mut_ptr() };
        let rc = warden_result_scopes(r, op, cap, &mut n);
        let mut got = Vec::new();
        for (i, s) in out.iter().enumerate() {
            if rc == OK && i < n {
                got.push(read(s.ptr, s.len).to_vec());
            } else {
                // Untouched past *count, and everywhere unless OK.
                assert!(s.ptr == junk.as_ptr() && s.len == 7);
            }
        }
        (rc, n, got)
    }

    #[test]
    fn scopes_in_one_call() {
        let mut r = warden_result::EMPTY;
        unsafe {
            // Never used: no scopes, not an error.
            assert_eq!(scopes(&r, 0), (OK, 0, vec![]));
            assert_eq!(scopes(&r, 2), (OK, 0, vec![]));

            assert_eq!(run(&mut r, &[], || Ok(()), |(), s| accept(s, b"alice")), OK);
            let both = vec![b"x".to_vec(), b"yy".to_vec()];
            assert_eq!(scopes(&r, 2), (OK, 2, both.clone()));
            assert_eq!(scopes(&r, 3), (OK, 2, both.clone()));
            // Measured with (NULL, 0); too small: nothing written.
            assert_eq!(scopes(&r, 0), (BUFFER_TOO_SMALL, 2, vec![]));
            assert_eq!(scopes(&r, 1), (BUFFER_TOO_SMALL, 2, vec![]));
            // The same pointers as the one-at-a-time accessor.
            let mut out = [warden_str { ptr: ptr::null(), len: 0 }; 2];
            let mut n = 0;
            assert_eq!(warden_result_scopes(&r, out.as_mut_ptr(), 2, &mut n), OK);
            for (i, s) in out.iter().enumerate() {
                let (mut p, mut len) = (ptr::null(), 0);
                assert_eq!(warden_result_scope(&r, i, &mut p, &mut len), OK);
                assert_eq!((s.ptr, s.len), (p, len));
            }

            // Invalid arguments: *count is 0 afterwards when it can be written.
            n = 9;
            assert_eq!(warden_result_scopes(&r, ptr::null_mut(), 2, &mut n), INVALID_ARGUMENT);
            assert_eq!(n, 0);
            assert_eq!(warden_result_scopes(&r, out.as_mut_ptr(), 2, ptr::null_mut()), INVALID_ARGUMENT);
            assert_eq!(warden_result_scopes(&r, out.as_mut_ptr(), usize::MAX, &mut n), INVALID_ARGUMENT);
            let too_many = isize::MAX as usize / std::mem::size_of::<warden_str>() + 1;
            assert_eq!(warden_result_scopes(&r, out.as_mut_ptr(), too_many, &mut n), INVALID_ARGUMENT);
            n = 9;
            assert_eq!(warden_result_scopes(ptr::null(), out.as_mut_ptr(), 2, &mut n), INVALID_ARGUMENT);
            assert_eq!(n, 0);

            // A rejection: 0 scopes, OK, nothing written.
            assert_eq!(run(&mut r, &[], || Ok(()), limited), Code::RateLimited as u32);
            assert_eq!(scopes(&r, 2), (OK, 0, vec![]));
            assert_eq!(scopes(&r, 0), (OK, 0, vec![]));
            // A failed call (argument error) likewise.
            assert_eq!(run(&mut r, &[], || Ok(()), |(), s| accept(s, b"alice")), OK);
            assert_eq!(run(&mut r, &[], || Err::<(), _>(INVALID_ARGUMENT), not_called), INVALID_ARGUMENT);
            assert_eq!(scopes(&r, 2), (OK, 0, vec![]));

            warden_result_free(&mut r);
            assert_eq!(scopes(&r, 1), (OK, 0, vec![]));
        }
    }

    #[test]
    fn accepted_verdicts_are_read_through_the_result() {
        let mut r = warden_result::EMPTY;
        unsafe {
            assert_eq!(run(&mut r, &[], || Ok(()), |(), s| accept(s, b"alice")), OK);
            assert_eq!((r.code, r.kind), (OK, warden_kind::Jwt as u32));
            assert_eq!(read(r.subject, r.subject_len), b"alice");
            assert_eq!(read(r.kid, r.kid_len), b"key-1");
            assert!(r.key_id.is_null() && r.key_id_len == 0);
            assert_eq!(r.scope_count, 2);
            assert!(r.has_exp && r.exp == 1.5e9);
            assert_eq!(scope(&r, 0), Ok(b"x".to_vec()));
            assert_eq!(scope(&r, 1), Ok(b"yy".to_vec()));
            assert_eq!(scope(&r, 2), Err(NOT_FOUND));

            assert_eq!(claim(&r, "sub", false), Ok(br#""alice""#.to_vec()));
            assert_eq!(claim(&r, "n", false), Ok(b"12".to_vec()));
            assert_eq!(claim(&r, "o.p.q", true), Ok(br#""deep""#.to_vec()));
            assert_eq!(claim(&r, "o.p", true), Ok(br#"{"q":"deep"}"#.to_vec()));
            assert_eq!(claim(&r, "o.p.q", false), Err(NOT_FOUND));
            assert_eq!(claim(&r, "n.x", true), Err(NOT_FOUND));
            assert_eq!(claim(&r, "missing", false), Err(NOT_FOUND));
            let bad = [0xffu8];
            let (mut p, mut n) = (ptr::null(), 0);
            assert_eq!(warden_result_claim(&r, bad.as_ptr() as *const c_char, 1, &mut p, &mut n), NOT_FOUND);

            // Unescaped into the caller's buffer: measured, cut (nothing
            // written), exact; not a string; nested.
            let want = "a\"bé".as_bytes();
            assert_eq!(claim_str(&r, "s", 0), (BUFFER_TOO_SMALL, vec![], want.len()));
            assert_eq!(claim_str(&r, "s", want.len() - 1), (BUFFER_TOO_SMALL, vec![0x55; want.len() - 1], want.len()));
            assert_eq!(claim_str(&r, "s", want.len()), (OK, want.to_vec(), want.len()));
            assert_eq!(claim_str(&r, "n", 8), (WRONG_TYPE, vec![0x55; 8], 0));
            assert_eq!(claim_str(&r, "o.p.q", 4), (OK, b"deep".to_vec(), 4));
            assert_eq!(claim_str(&r, "o.p.z", 4), (NOT_FOUND, vec![0x55; 4], 0));
            let mut buf = [0 as c_char; 8];
            let s = b"s";
            let rc = warden_result_claim_str(&r, s.as_ptr() as *const c_char, 1, buf.as_mut_ptr(), 8, &mut n);
            assert_eq!((rc, n), (OK, want.len()));

            // The same result again: the old verdict is forgotten before the
            // scratch is rewritten, the new one points into it.
            assert_eq!(run(&mut r, &[], || Ok(()), |(), s| accept(s, b"bob")), OK);
            assert_eq!(read(r.subject, r.subject_len), b"bob");
            assert_eq!(claim(&r, "sub", false), Ok(br#""alice""#.to_vec()));

            warden_result_free(&mut r);
            assert!(r.internal.is_null() && r.subject.is_null());
        }
    }

    fn limited(_: (), _: &mut Scratch) -> Verdict<'_> {
        Err(Rejection { retry_after_s: Some(3), ..Rejection::new(Kind::ApiKey, Code::RateLimited) })
    }

    fn not_called(_: (), _: &mut Scratch) -> Verdict<'_> {
        unreachable!()
    }

    fn half_then_panic(_: (), s: &mut Scratch) -> Verdict<'_> {
        s.bufs.out.extend_from_slice(b"half");
        panic!("boom")
    }

    #[test]
    fn rejections_and_failures_clear_the_last_verdict() {
        let mut r = warden_result::EMPTY;
        unsafe {
            assert_eq!(run(&mut r, &[], || Ok(()), |(), s| accept(s, b"alice")), OK);

            // A rejection: no subject, no scopes, no claims.
            assert_eq!(run(&mut r, &[], || Ok(()), limited), Code::RateLimited as u32);
            assert_eq!((r.kind, r.retry_after_s), (warden_kind::ApiKey as u32, 3));
            assert!(r.subject.is_null() && r.kid.is_null() && r.scope_count == 0 && !r.has_exp);
            assert_eq!(scope(&r, 0), Err(NOT_FOUND));
            assert_eq!(claim(&r, "sub", false), Err(NOT_FOUND));

            // Accepted again, then an argument error: the verifier is not
            // called and the verdict is gone.
            assert_eq!(run(&mut r, &[], || Ok(()), |(), s| accept(s, b"alice")), OK);
            assert_eq!(run(&mut r, &[], || Err::<(), _>(INVALID_ARGUMENT), not_called), INVALID_ARGUMENT);
            assert_eq!((r.code, r.kind, r.retry_after_s), (INVALID_ARGUMENT, warden_kind::None as u32, 0));
            assert_eq!(claim(&r, "sub", false), Err(NOT_FOUND));
            assert_eq!(run(ptr::null_mut(), &[], || Ok(()), not_called), INVALID_ARGUMENT);

            // A panic after the scratch was half rewritten: INTERNAL, every
            // member reset, the working memory kept and still usable.
            assert_eq!(run(&mut r, &[], || Ok(()), |(), s| accept(s, b"alice")), OK);
            let internal = r.internal;
            // (The harness captures the panic message.)
            let rc = run(&mut r, &[], || Ok(()), half_then_panic);
            assert_eq!(rc, INTERNAL);
            assert_eq!((r.code, r.kind), (INTERNAL, warden_kind::None as u32));
            assert!(r.subject.is_null() && r.scope_count == 0);
            assert_eq!(r.internal, internal);
            assert_eq!(claim(&r, "sub", false), Err(NOT_FOUND));
            assert_eq!(run(&mut r, &[], || Ok(()), |(), s| accept(s, b"carol")), OK);
            assert_eq!(read(r.subject, r.subject_len), b"carol");

            warden_result_free(&mut r);
            warden_result_free(&mut r);
        }
    }
}
