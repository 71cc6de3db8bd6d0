//! The C ABI's pointer and length handling, driven the way a C caller drives
//! it, with no cryptography on any path: tests/miri.sh runs this file under
//! Miri (ring's assembly cannot run there), which checks every read and
//! write through the raw pointers crossing the boundary, the handles' frees,
//! leaks and data races. Natively it is an ordinary (fast) test.
//!
//! Credentials and configs are passed in exact-size heap allocations, so a
//! read one byte past the caller's length is an out-of-bounds access, not a
//! read of a neighbouring byte. Every `now` is explicit: the clock is host
//! state that Miri's isolation hides.

use std::ffi::{c_char, c_void, CStr};
use std::mem::MaybeUninit;
use std::ptr;
use warden::ffi::result::*;
use warden::ffi::verifier::*;
use warden::ffi::verify::*;
use warden::ffi::{warden_code, warden_counter, warden_kind, warden_result, warden_str, warden_verifier};

const OK: u32 = warden_code::Ok as u32;
const TOO_LARGE: u32 = warden_code::TooLarge as u32;
const MALFORMED: u32 = warden_code::Malformed as u32;
const UNSUPPORTED_ALG: u32 = warden_code::UnsupportedAlg as u32;
const REVOKED_CODE: u32 = warden_code::Revoked as u32;
const BAD_API_KEY: u32 = warden_code::BadApiKey as u32;
const BAD_CREDENTIALS: u32 = warden_code::BadCredentials as u32;
const RATE_LIMITED: u32 = warden_code::RateLimited as u32;
const INVALID: u32 = warden_code::InvalidArgument as u32;
const CONFIG: u32 = warden_code::Config as u32;
const NOT_FOUND: u32 = warden_code::NotFound as u32;
const TOO_SMALL: u32 = warden_code::BufferTooSmall as u32;

const NOW: f64 = 1_700_000_000.0;

/// API keys (digests only: looking a well-formed key up would hash it with
/// ring), no JWT keys, Basic with no users but a failure budget, a size
/// limit, and no caches (the credential cache's key would be a ring HMAC
/// key; the token cache only ever holds tokens whose signature verified,
/// and its 1024 slots would cost Miri a second per verifier): the verifier
/// is built, and every verdict below reached, without cryptography.
const CONFIG_JSON: &str = r#"{
  "jwt": {"max_token_bytes": 4096},
  "api_keys": {
    "keys": [{"id": "k1", "sha256": "76465ba39492dab963e6b0d4c019c3bf5b5c3f9c5cbfb3c3b76ff06f90e4a1d6",
              "owner": "svc", "scopes": ["a", "b"]}],
    "prefixes": ["mk_test"]
  },
  "basic": {"users": [], "max_failures_per_min": 2},
  "revoked": {"jti": ["gone"]},
  "cache": {"tokens": 0, "basic_entries": 0}
}"#;

/// `s` in a heap allocation of exactly its length.
fn exact(s: &[u8]) -> Box<[u8]> {
    s.to_vec().into_boxed_slice()
}

/// The NUL-terminated text warden copied into `buf` (never read past it).
fn text(buf: &[c_char]) -> &str {
    // SAFETY: c_char and u8 have the same size and alignment.
    let bytes = unsafe { std::slice::from_raw_parts(buf.as_ptr() as *const u8, buf.len()) };
    CStr::from_bytes_until_nul(bytes).expect("NUL-terminated").to_str().unwrap()
}

fn new_verifier(json: &str) -> *mut warden_verifier {
    let json = exact(json.as_bytes());
    let mut v = ptr::null_mut();
    let mut err = [0x55 as c_char; 256];
    let rc = unsafe { warden_verifier_new_from_json(json.as_ptr(), json.len(), &mut v, err.as_mut_ptr(), err.len()) };
    assert_eq!(rc, OK, "{}", text(&err));
    assert_eq!(text(&err), "");
    assert!(!v.is_null());
    v
}

fn new_result() -> warden_result {
    let mut r = MaybeUninit::<warden_result>::uninit();
    assert_eq!(unsafe { warden_result_init(r.as_mut_ptr()) }, OK);
    // SAFETY: initialized by warden_result_init.
    unsafe { r.assume_init() }
}

/// A result that holds no accepted verdict answers every accessor with
/// NOT_FOUND, NULL and 0, and refuses NULL out-pointers.
fn no_verdict_accessors(r: &warden_result) {
    unsafe {
        // Junk the accessors must overwrite (a real pointer: Miri runs with
        // strict provenance).
        let junk = [0x55 as c_char; 1];
        let mut p: *const c_char = junk.as_ptr();
        let mut n = 7usize;
        assert_eq!(warden_result_scope(r, 0, &mut p, &mut n), NOT_FOUND);
        assert!(p.is_null());
        assert_eq!(n, 0);
        assert_eq!(warden_result_scope(r, 0, ptr::null_mut(), &mut n), INVALID);
        assert_eq!(warden_result_scope(r, 0, &mut p, ptr::null_mut()), INVALID);
        assert_eq!(warden_result_scope(ptr::null(), 0, &mut p, &mut n), INVALID);

        // All scopes at once: none, which is not an error; the caller's
        // array (exactly `cap` entries) is left untouched.
        let mut out = vec![warden_str { ptr: junk.as_ptr(), len: 7 }; 2].into_boxed_slice();
        n = 7;
        assert_eq!(warden_result_scopes(r, out.as_mut_ptr(), out.len(), &mut n), OK);
        assert_eq!(n, 0);
        assert!(out.iter().all(|s| s.ptr == junk.as_ptr() && s.len == 7));
        n = 7;
        assert_eq!(warden_result_scopes(r, ptr::null_mut(), 0, &mut n), OK);
        assert_eq!(n, 0);
        n = 7;
        assert_eq!(warden_result_scopes(r, ptr::null_mut(), 1, &mut n), INVALID);
        assert_eq!(n, 0);
        assert_eq!(warden_result_scopes(r, out.as_mut_ptr(), usize::MAX, &mut n), INVALID);
        assert_eq!(warden_result_scopes(r, out.as_mut_ptr(), out.len(), ptr::null_mut()), INVALID);
        assert_eq!(warden_result_scopes(ptr::null(), out.as_mut_ptr(), out.len(), &mut n), INVALID);
        assert!(out.iter().all(|s| s.ptr == junk.as_ptr() && s.len == 7));

        let name = exact(b"sub");
        let (np, nl) = (name.as_ptr() as *const c_char, name.len());
        p = junk.as_ptr();
        n = 7;
        assert_eq!(warden_result_claim(r, np, nl, &mut p, &mut n), NOT_FOUND);
        assert!(p.is_null());
        assert_eq!(n, 0);
        assert_eq!(warden_result_claim_path(r, np, nl, &mut p, &mut n), NOT_FOUND);
        assert_eq!(warden_result_claim(r, ptr::null(), 1, &mut p, &mut n), INVALID);
        assert_eq!(warden_result_claim(r, np, nl, ptr::null_mut(), &mut n), INVALID);
        assert_eq!(warden_result_claim(ptr::null(), np, nl, &mut p, &mut n), INVALID);

        let mut buf = [0 as c_char; 4];
        n = 7;
        assert_eq!(warden_result_claim_str(r, np, nl, buf.as_mut_ptr(), buf.len(), &mut n), NOT_FOUND);
        assert_eq!(n, 0);
        assert_eq!(warden_result_claim_path_str(r, np, nl, ptr::null_mut(), 0, &mut n), NOT_FOUND);
        assert_eq!(warden_result_claim_str(r, np, nl, ptr::null_mut(), 1, &mut n), INVALID);
        assert_eq!(warden_result_claim_str(r, np, nl, buf.as_mut_ptr(), usize::MAX, &mut n), INVALID);
        assert_eq!(warden_result_claim_str(r, np, nl, buf.as_mut_ptr(), buf.len(), ptr::null_mut()), INVALID);
    }
}

fn assert_rejected(r: &warden_result, code: u32, kind: warden_kind) {
    assert_eq!(r.code, code);
    assert_eq!(r.kind, kind as u32);
    assert!(r.subject.is_null() && r.kid.is_null() && r.key_id.is_null());
    assert_eq!((r.subject_len, r.kid_len, r.key_id_len, r.scope_count), (0, 0, 0, 0));
    assert!(!r.has_exp);
    no_verdict_accessors(r);
}

#[test]
fn constructors_report_through_err_buf() {
    unsafe {
        let broken = exact(br#"{"jwt": {"leeway_s": -1}, "nope": 1}"#);
        let mut v: *mut warden_verifier = ptr::NonNull::dangling().as_ptr();
        let mut err = [0x55 as c_char; 200];
        let rc = warden_verifier_new_from_json(broken.as_ptr(), broken.len(), &mut v, err.as_mut_ptr(), err.len());
        assert_eq!(rc, CONFIG);
        assert!(v.is_null());
        let full = text(&err).to_owned();
        assert!(!full.is_empty());

        // Cut to fit, NUL-terminated, never past the buffer.
        let mut small = [0x55 as c_char; 6];
        let rc = warden_verifier_new_from_json(broken.as_ptr(), broken.len(), &mut v, small.as_mut_ptr(), small.len());
        assert_eq!(rc, CONFIG);
        assert_eq!(text(&small), &full[..5]);
        let mut one = [0x55 as c_char; 1];
        assert_eq!(warden_verifier_new_from_json(broken.as_ptr(), broken.len(), &mut v, one.as_mut_ptr(), 1), CONFIG);
        assert_eq!(one[0], 0);
        // No buffer at all.
        assert_eq!(warden_verifier_new_from_json(broken.as_ptr(), broken.len(), &mut v, ptr::null_mut(), 0), CONFIG);

        // Not JSON at all, and an empty document.
        let junk = exact(b"{\"jwt\": [");
        assert_eq!(
            warden_verifier_new_from_json(junk.as_ptr(), junk.len(), &mut v, err.as_mut_ptr(), err.len()),
            CONFIG
        );
        assert!(!text(&err).is_empty());
        assert_eq!(warden_verifier_new_from_json(ptr::null(), 0, &mut v, err.as_mut_ptr(), err.len()), CONFIG);

        // Argument errors: out NULL, data NULL with a length, err_buf NULL
        // with a length, absurd lengths.
        assert_eq!(
            warden_verifier_new_from_json(junk.as_ptr(), junk.len(), ptr::null_mut(), err.as_mut_ptr(), 200),
            INVALID
        );
        assert!(text(&err).contains("out is NULL"));
        assert_eq!(warden_verifier_new_from_json(ptr::null(), 3, &mut v, err.as_mut_ptr(), err.len()), INVALID);
        assert!(v.is_null());
        assert_eq!(warden_verifier_new_from_json(junk.as_ptr(), usize::MAX, &mut v, err.as_mut_ptr(), 200), INVALID);
        assert_eq!(warden_verifier_new_from_json(junk.as_ptr(), junk.len(), &mut v, ptr::null_mut(), 5), INVALID);
        assert_eq!(
            warden_verifier_new_from_json(junk.as_ptr(), junk.len(), &mut v, err.as_mut_ptr(), usize::MAX),
            INVALID
        );
        // From a file: only the argument checks (files are host state).
        assert_eq!(warden_verifier_new_from_file(ptr::null(), 4, &mut v, err.as_mut_ptr(), err.len()), INVALID);
        assert_eq!(warden_verifier_new_from_file(ptr::null(), 0, ptr::null_mut(), ptr::null_mut(), 0), INVALID);

        // Freeing NULL is a no-op.
        warden_verifier_free(ptr::null_mut());
    }
}

#[test]
fn rejections_fill_the_result_and_nothing_else() {
    let v = new_verifier(CONFIG_JSON);
    let mut r = new_result();
    unsafe {
        // JWTs: no key is pinned to any alg, so the header is parsed (base64url,
        // JSON) and the token rejected before any signature check.
        let hs = exact(b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.c2ln");
        assert_eq!(warden_verify_jwt(v, hs.as_ptr(), hs.len(), NOW, &mut r), UNSUPPORTED_ALG);
        assert_rejected(&r, UNSUPPORTED_ALG, warden_kind::Jwt);
        for bad in [&b"a.b"[..], b"...", b"eyJ9.e30.", b"\xff\xfe.\x00.x"] {
            let t = exact(bad);
            assert_eq!(warden_verify_jwt(v, t.as_ptr(), t.len(), NOW, &mut r), MALFORMED, "{bad:?}");
            assert_rejected(&r, MALFORMED, warden_kind::Jwt);
        }
        let big = exact(&[b'a'; 4097]);
        assert_eq!(warden_verify_jwt(v, big.as_ptr(), big.len(), NOW, &mut r), TOO_LARGE);
        assert_eq!(warden_verify_jwt(v, ptr::null(), 0, NOW, &mut r), MALFORMED);
        let no_alg = exact(b"e30.e30.c2ln"); // {}.{}
        assert_eq!(warden_verify_jwt(v, no_alg.as_ptr(), no_alg.len(), NOW, &mut r), UNSUPPORTED_ALG);

        // API keys: unknown prefix, bad checksum, too short, too large.
        let wrong_prefix = exact(b"zz_test_AAAAAAAAAAbbbbbbbbbbCCCCCCCCCCd2000000");
        let bad_sum = exact(b"mk_test_AAAAAAAAAAbbbbbbbbbbCCCCCCCCCCd2000000");
        let short = exact(b"mk_test_abc");
        for k in [&wrong_prefix, &bad_sum, &short] {
            assert_eq!(warden_verify_api_key(v, k.as_ptr(), k.len(), NOW, &mut r), BAD_API_KEY);
            assert_rejected(&r, BAD_API_KEY, warden_kind::ApiKey);
        }
        assert_eq!(warden_verify_api_key(v, big.as_ptr(), big.len(), NOW, &mut r), TOO_LARGE);

        // Authorization values of every shape.
        let cases: [(&[u8], u32, warden_kind); 7] = [
            (b"Bearer mk_test_AAAAAAAAAAbbbbbbbbbbCCCCCCCCCCd2000000", BAD_API_KEY, warden_kind::ApiKey),
            (b"  bearer a.b.c\t", MALFORMED, warden_kind::Jwt),
            (b"Digest x", MALFORMED, warden_kind::Jwt),
            (b"Bearer", MALFORMED, warden_kind::Jwt),
            (b"Basic !!!!", MALFORMED, warden_kind::Basic),
            (b"Basic dXNlcg==", MALFORMED, warden_kind::Basic), // "user", no colon
            (b"", MALFORMED, warden_kind::Jwt),
        ];
        for (value, code, kind) in cases {
            let a = exact(value);
            assert_eq!(warden_verify_authorization(v, a.as_ptr(), a.len(), NOW, &mut r), code, "{value:?}");
            assert_rejected(&r, code, kind);
        }

        // Basic: no such user, until the failure budget (2 a minute) is spent.
        let user = exact(b"mallory");
        let pass = exact(b"guess");
        for _ in 0..2 {
            let rc = warden_verify_basic(v, user.as_ptr(), user.len(), pass.as_ptr(), pass.len(), NOW, &mut r);
            assert_eq!(rc, BAD_CREDENTIALS);
            assert_rejected(&r, BAD_CREDENTIALS, warden_kind::Basic);
            assert_eq!(r.retry_after_s, 0);
        }
        let a = exact(b"Basic bWFsbG9yeTpndWVzcw=="); // mallory:guess
        assert_eq!(warden_verify_authorization(v, a.as_ptr(), a.len(), NOW + 1.0, &mut r), RATE_LIMITED);
        assert_eq!(r.kind, warden_kind::Basic as u32);
        assert!(r.retry_after_s >= 1);
        let ctl = exact(b"a\x01");
        assert_eq!(warden_verify_basic(v, ctl.as_ptr(), ctl.len(), ptr::null(), 0, NOW, &mut r), MALFORMED);
        assert_eq!(r.retry_after_s, 0);

        // Argument errors. With a result, it says INVALID_ARGUMENT and kind
        // NONE; without one there is nowhere to say anything.
        let t = exact(b"x");
        for rc in [
            warden_verify_jwt(ptr::null(), t.as_ptr(), t.len(), NOW, &mut r),
            warden_verify_jwt(v, ptr::null(), 1, NOW, &mut r),
            warden_verify_jwt(v, t.as_ptr(), usize::MAX, NOW, &mut r),
            warden_verify_jwt(v, t.as_ptr(), t.len(), f64::NAN, &mut r),
            warden_verify_api_key(v, t.as_ptr(), t.len(), f64::INFINITY, &mut r),
            warden_verify_authorization(v, ptr::null(), 2, NOW, &mut r),
            warden_verify_basic(v, t.as_ptr(), t.len(), ptr::null(), 1, NOW, &mut r),
            warden_verify_basic(v, ptr::null(), 1, t.as_ptr(), t.len(), NOW, &mut r),
        ] {
            assert_eq!(rc, INVALID);
            assert_rejected(&r, INVALID, warden_kind::None);
        }
        assert_eq!(warden_verify_jwt(v, t.as_ptr(), t.len(), NOW, ptr::null_mut()), INVALID);
        assert_eq!(warden_verify_basic(v, t.as_ptr(), 1, t.as_ptr(), 1, NOW, ptr::null_mut()), INVALID);

        // Counters saw every verdict.
        let mut n = 0u64;
        assert_eq!(warden_stats_verdicts(v, warden_kind::Jwt as u32, MALFORMED, &mut n), OK);
        assert_eq!(n, 4 + 1 + 4); // direct, (NULL, 0), Authorization
        assert_eq!(warden_stats_verdicts(v, warden_kind::Basic as u32, RATE_LIMITED, &mut n), OK);
        assert_eq!(n, 1);

        warden_result_free(&mut r);
        warden_result_free(&mut r); // twice is fine
        assert!(r.internal.is_null());
        warden_result_free(ptr::null_mut());
        assert_eq!(warden_result_init(ptr::null_mut()), INVALID);
        warden_verifier_free(v);
    }
}

fn b64url(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// Tokens of many lengths, so that decoding and JSON parsing (vectorized
/// where the CPU allows; tests/miri.sh builds for AVX2) meet every block
/// boundary and tail length. No key is pinned to the alg: each token is
/// decoded and parsed whole, then rejected before any signature check.
#[test]
fn tokens_of_every_length_are_decoded_within_bounds() {
    let v = new_verifier(CONFIG_JSON);
    let mut r = new_result();
    let header = b64url(br#"{"alg":"HS256","typ":"JWT","kid":"a-kid-long-enough-for-a-vector-block"}"#);
    // Under Miri, 24 consecutive payload lengths: 32 consecutive lengths of
    // its base64 text, every offset within a 32-byte vector block.
    let lengths = if cfg!(miri) { 0..24 } else { 0..400 };
    for n in lengths {
        let payload = format!(
            r#"{{"sub":"{}","scope":"a b\u00e9","n":123456789012,"o":{{"k":[1,2.5,true,null]}}}}"#,
            "x".repeat(n)
        );
        for sig in ["", "c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtc2lnbmF0dXJl"] {
            let token = exact(format!("{header}.{}.{sig}", b64url(payload.as_bytes())).as_bytes());
            let rc = unsafe { warden_verify_jwt(v, token.as_ptr(), token.len(), NOW, &mut r) };
            assert_eq!(rc, UNSUPPORTED_ALG, "payload of {n} bytes, signature {sig:?}");
            // The same with one character too many in the payload segment.
            let bad = exact(format!("{header}.{}A.{sig}", b64url(payload.as_bytes())).as_bytes());
            let rc = unsafe { warden_verify_jwt(v, bad.as_ptr(), bad.len(), NOW, &mut r) };
            assert!(rc == MALFORMED || rc == UNSUPPORTED_ALG, "{rc}");
        }
    }
    unsafe {
        warden_result_free(&mut r);
        warden_verifier_free(v);
    }
}

#[test]
fn a_zeroed_result_works_and_a_never_used_one_frees() {
    let v = new_verifier(CONFIG_JSON);
    unsafe {
        let mut z: warden_result = std::mem::zeroed();
        let t = exact(b"abc");
        assert_eq!(warden_verify_jwt(v, t.as_ptr(), t.len(), NOW, &mut z), MALFORMED);
        assert!(!z.internal.is_null());
        warden_result_free(&mut z);
        let mut unused = new_result();
        warden_result_free(&mut unused);
        warden_verifier_free(v);
    }
}

#[test]
fn stats_and_messages_copy_into_caller_buffers() {
    let v = new_verifier(CONFIG_JSON);
    unsafe {
        // Prometheus text: measure, then fill exactly, then cut.
        let mut need = 0usize;
        assert_eq!(warden_stats_prometheus(v, ptr::null_mut(), 0, &mut need), TOO_SMALL);
        assert!(need > 100);
        let mut buf = vec![0x55 as c_char; need + 1].into_boxed_slice();
        assert_eq!(warden_stats_prometheus(v, buf.as_mut_ptr(), buf.len(), &mut need), OK);
        let all = text(&buf).to_owned();
        assert_eq!(all.len(), need);
        assert!(all.contains("warden_verdicts_total"));
        let mut small = vec![0x55 as c_char; 10].into_boxed_slice();
        assert_eq!(warden_stats_prometheus(v, small.as_mut_ptr(), small.len(), ptr::null_mut()), TOO_SMALL);
        assert_eq!(text(&small), &all[..9]);
        assert_eq!(warden_stats_prometheus(v, ptr::null_mut(), 3, &mut need), INVALID);
        assert_eq!(warden_stats_prometheus(ptr::null(), buf.as_mut_ptr(), buf.len(), &mut need), INVALID);

        // Counters by number, with out-of-range numbers refused.
        let mut n = u64::MAX;
        assert_eq!(warden_stats_counter(v, warden_counter::Reload as u32, &mut n), OK);
        assert_eq!(n, 0);
        assert_eq!(warden_stats_counter(v, 10, &mut n), INVALID);
        assert_eq!(warden_stats_counter(v, 0, ptr::null_mut()), INVALID);
        assert_eq!(warden_stats_counter(ptr::null(), 0, &mut n), INVALID);
        assert_eq!(warden_stats_verdicts(v, warden_kind::None as u32, OK, &mut n), INVALID);
        assert_eq!(warden_stats_verdicts(v, warden_kind::Jwt as u32, 19, &mut n), INVALID);
        assert_eq!(warden_stats_verdicts(v, warden_kind::Jwt as u32, OK, ptr::null_mut()), INVALID);

        // last_error: empty until something is refused.
        let mut msg = [0x55 as c_char; 300];
        assert_eq!(warden_verifier_last_error(v, msg.as_mut_ptr(), msg.len(), &mut need), OK);
        assert_eq!((text(&msg), need), ("", 0));
        let refused = exact(br#"{"api_keys": {"keys": [{"id": "x"}]}}"#);
        assert_eq!(warden_verifier_reload_from_json(v, refused.as_ptr(), refused.len()), CONFIG);
        assert_eq!(warden_verifier_last_error(v, msg.as_mut_ptr(), msg.len(), &mut need), OK);
        let full = text(&msg).to_owned();
        assert_eq!(full.len(), need);
        assert!(full.contains("api_keys"), "{full}");
        let mut cut = [0x55 as c_char; 4];
        assert_eq!(warden_verifier_last_error(v, cut.as_mut_ptr(), cut.len(), &mut need), TOO_SMALL);
        assert_eq!(text(&cut), &full[..3]);
        assert_eq!(warden_verifier_last_error(v, ptr::null_mut(), 0, ptr::null_mut()), TOO_SMALL);
        assert_eq!(warden_verifier_last_error(v, ptr::null_mut(), 1, &mut need), INVALID);
        assert_eq!(warden_verifier_last_error(ptr::null(), msg.as_mut_ptr(), msg.len(), &mut need), INVALID);

        // A JWK Set that is not one, then an empty one; reload with no file.
        let not_jwks = exact(br#"{"keys": [{"kty": "oct"}]}"#);
        assert_eq!(warden_verifier_set_jwks(v, not_jwks.as_ptr(), not_jwks.len()), CONFIG);
        assert_eq!(warden_verifier_set_jwks(v, ptr::null(), 2), INVALID);
        let empty = exact(br#"{"keys": []}"#);
        assert_eq!(warden_verifier_set_jwks(v, empty.as_ptr(), empty.len()), OK);
        assert_eq!(warden_verifier_set_jwks(ptr::null(), empty.as_ptr(), empty.len()), INVALID);
        assert_eq!(warden_verifier_reload(v), CONFIG);
        assert_eq!(warden_verifier_reload(ptr::null()), INVALID);
        assert_eq!(warden_verifier_reload_from_file(v, ptr::null(), 1), INVALID);
        assert_eq!(warden_verifier_reload_from_json(v, ptr::null(), 1), INVALID);

        // A good reload counts.
        let good = exact(CONFIG_JSON.as_bytes());
        assert_eq!(warden_verifier_reload_from_json(v, good.as_ptr(), good.len()), OK);
        assert_eq!(warden_stats_counter(v, warden_counter::Reload as u32, &mut n), OK);
        assert_eq!(n, 1);
        assert_eq!(warden_stats_counter(v, warden_counter::ReloadFailure as u32, &mut n), OK);
        assert_eq!(n, 3); // the refused JSON, the refused JWK Set, the reload without a file
        warden_verifier_free(v);
    }
}

#[test]
fn run_time_revocations() {
    let v = new_verifier(CONFIG_JSON);
    unsafe {
        let jti = exact(b"j-1");
        let sub = exact("sübject".as_bytes());
        let id = exact(b"k1");
        let not_utf8 = exact(b"\xc3");
        assert_eq!(warden_revoke_jti(v, jti.as_ptr() as *const c_char, jti.len(), NOW + 60.0, NOW), OK);
        assert_eq!(warden_revoke_subject_before(v, sub.as_ptr() as *const c_char, sub.len(), NOW, NOW), OK);
        assert_eq!(warden_revoke_api_key_id(v, id.as_ptr() as *const c_char, id.len(), NOW), OK);
        let mut n = 0u64;
        assert_eq!(warden_stats_counter(v, warden_counter::Revocation as u32, &mut n), OK);
        assert_eq!(n, 3);

        assert_eq!(warden_unrevoke_jti(v, jti.as_ptr() as *const c_char, jti.len()), OK);
        assert_eq!(warden_unrevoke_jti(v, jti.as_ptr() as *const c_char, jti.len()), NOT_FOUND);
        assert_eq!(warden_unrevoke_subject(v, sub.as_ptr() as *const c_char, sub.len()), OK);
        assert_eq!(warden_unrevoke_api_key_id(v, id.as_ptr() as *const c_char, id.len()), OK);
        assert_eq!(warden_unrevoke_api_key_id(v, ptr::null(), 0), NOT_FOUND);
        // A config revocation is not a run-time one.
        let gone = exact(b"gone");
        assert_eq!(warden_unrevoke_jti(v, gone.as_ptr() as *const c_char, gone.len()), NOT_FOUND);

        let p = not_utf8.as_ptr() as *const c_char;
        assert_eq!(warden_revoke_jti(v, p, 1, 0.0, NOW), INVALID);
        assert_eq!(warden_revoke_subject_before(v, p, 1, NOW, NOW), INVALID);
        assert_eq!(warden_revoke_api_key_id(v, p, 1, NOW), INVALID);
        assert_eq!(warden_unrevoke_jti(v, p, 1), INVALID);
        assert_eq!(warden_unrevoke_subject(v, ptr::null(), 1), INVALID);
        assert_eq!(warden_revoke_jti(v, jti.as_ptr() as *const c_char, jti.len(), f64::NAN, NOW), INVALID);
        assert_eq!(warden_revoke_subject_before(v, jti.as_ptr() as *const c_char, 3, f64::INFINITY, NOW), INVALID);
        assert_eq!(warden_revoke_api_key_id(v, id.as_ptr() as *const c_char, id.len(), f64::NAN), INVALID);
        assert_eq!(warden_revoke_jti(ptr::null(), jti.as_ptr() as *const c_char, jti.len(), 0.0, NOW), INVALID);
        assert_eq!(warden_unrevoke_api_key_id(ptr::null(), ptr::null(), 0), INVALID);

        // A revoked API key id is REVOKED only once the key itself checks out,
        // which needs its SHA-256 (ring): here it only must not disturb the
        // checks before.
        assert_eq!(warden_revoke_api_key_id(v, id.as_ptr() as *const c_char, id.len(), NOW), OK);
        let mut r = new_result();
        let k = exact(b"mk_test_AAAAAAAAAAbbbbbbbbbbCCCCCCCCCCd2000000");
        assert_ne!(warden_verify_api_key(v, k.as_ptr(), k.len(), NOW, &mut r), REVOKED_CODE);
        warden_result_free(&mut r);
        warden_verifier_free(v);
    }
}

unsafe extern "C" fn log_sink(user_data: *mut c_void, _level: u32, msg: *const c_char, msg_len: usize) {
    let seen = &mut *(user_data as *mut Vec<u8>);
    seen.extend_from_slice(std::slice::from_raw_parts(msg as *const u8, msg_len));
}

#[test]
fn logger_install_and_removal() {
    let v = new_verifier(CONFIG_JSON);
    let mut seen: Vec<u8> = Vec::new();
    unsafe {
        let ud = &mut seen as *mut Vec<u8> as *mut c_void;
        assert_eq!(warden_verifier_set_logger(v, Some(log_sink), ud), OK);
        assert_eq!(warden_verifier_set_logger(v, Some(log_sink), ud), OK); // replaces
        assert_eq!(warden_verifier_set_logger(v, None, ptr::null_mut()), OK);
        assert_eq!(warden_verifier_set_logger(ptr::null(), Some(log_sink), ud), INVALID);
        // Nothing to pause without remote key sources.
        assert_eq!(warden_verifier_pause_refresh(v), OK);
        assert_eq!(warden_verifier_resume_refresh(v), OK);
        assert_eq!(warden_verifier_pause_refresh(ptr::null()), INVALID);
        assert_eq!(warden_verifier_resume_refresh(ptr::null()), INVALID);
        // Freed with a logger still installed: the closure goes with it.
        assert_eq!(warden_verifier_set_logger(v, Some(log_sink), ud), OK);
        warden_verifier_free(v);
    }
    // Created with a logger (the constructors that install it before the
    // first remote fetch), and freed with it.
    let json = exact(CONFIG_JSON.as_bytes());
    let mut err = [0x55 as c_char; 256];
    unsafe {
        let ud = &mut seen as *mut Vec<u8> as *mut c_void;
        let mut v = ptr::null_mut();
        let rc = warden_verifier_new_from_json_with_logger(
            json.as_ptr(),
            json.len(),
            Some(log_sink),
            ud,
            &mut v,
            err.as_mut_ptr(),
            err.len(),
        );
        assert_eq!((rc, text(&err), v.is_null()), (OK, "", false));
        warden_verifier_free(v);
        let rc =
            warden_verifier_new_from_json_with_logger(json.as_ptr(), json.len(), None, ud, &mut v, ptr::null_mut(), 0);
        assert_eq!(rc, OK);
        warden_verifier_free(v);
        let bad = exact(b"{\"jwt\": 1}");
        let rc = warden_verifier_new_from_json_with_logger(
            bad.as_ptr(),
            bad.len(),
            Some(log_sink),
            ud,
            &mut v,
            err.as_mut_ptr(),
            err.len(),
        );
        assert_eq!((rc, v.is_null()), (CONFIG, true));
        assert!(!text(&err).is_empty());
        let rc =
            warden_verifier_new_from_file_with_logger(ptr::null(), 1, Some(log_sink), ud, &mut v, ptr::null_mut(), 0);
        assert_eq!(rc, INVALID);
    }
    // Nothing here fetches remote keys, so nothing was logged.
    assert!(seen.is_empty());
}

#[test]
fn static_strings() {
    unsafe {
        assert_eq!(CStr::from_ptr(warden::ffi::warden_code_str(RATE_LIMITED)).to_str().unwrap(), "rate_limited");
        assert_eq!(CStr::from_ptr(warden::ffi::warden_kind_str(9)).to_str().unwrap(), "unknown");
        assert!(!CStr::from_ptr(warden::ffi::warden_version()).to_bytes().is_empty());
    }
}

/// One verifier, several threads: verifications with their own results while
/// another thread reloads, swaps key sets and revokes. Under Miri this checks
/// for data races in the shared state (snapshots, counters, revocations).
#[test]
fn threads_share_one_verifier() {
    struct Shared(*mut warden_verifier);
    // SAFETY: the header promises a verifier may be used from any thread.
    unsafe impl Send for Shared {}
    unsafe impl Sync for Shared {}
    let v = Shared(new_verifier(CONFIG_JSON));
    let rounds = if cfg!(miri) { 3 } else { 200 };
    std::thread::scope(|s| {
        for t in 0..2 {
            let v = &v;
            s.spawn(move || {
                let mut r = new_result();
                let tok = exact(b"eyJhbGciOiJFUzI1NiJ9.e30.c2ln");
                let key = exact(b"mk_test_AAAAAAAAAAbbbbbbbbbbCCCCCCCCCCd2000000");
                let auth = exact(b"Bearer x.y");
                for i in 0..rounds {
                    unsafe {
                        let rc = match (i + t) % 3 {
                            0 => warden_verify_jwt(v.0, tok.as_ptr(), tok.len(), NOW, &mut r),
                            1 => warden_verify_api_key(v.0, key.as_ptr(), key.len(), NOW, &mut r),
                            _ => warden_verify_authorization(v.0, auth.as_ptr(), auth.len(), NOW, &mut r),
                        };
                        assert!([UNSUPPORTED_ALG, BAD_API_KEY, MALFORMED].contains(&rc), "{rc}");
                        assert_eq!(r.code, rc);
                    }
                }
                unsafe { warden_result_free(&mut r) };
            });
        }
        let v = &v;
        s.spawn(move || {
            let good = exact(CONFIG_JSON.as_bytes());
            let jti = exact(b"j");
            let mut buf = [0 as c_char; 64];
            for _ in 0..rounds {
                unsafe {
                    assert_eq!(warden_verifier_reload_from_json(v.0, good.as_ptr(), good.len()), OK);
                    assert_eq!(warden_revoke_jti(v.0, jti.as_ptr() as *const c_char, 1, 0.0, NOW), OK);
                    assert_eq!(warden_unrevoke_jti(v.0, jti.as_ptr() as *const c_char, 1), OK);
                    let rc = warden_stats_prometheus(v.0, buf.as_mut_ptr(), buf.len(), ptr::null_mut());
                    assert_eq!(rc, TOO_SMALL);
                }
            }
        });
    });
    unsafe { warden_verifier_free(v.0) };
}
