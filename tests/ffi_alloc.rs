//! Steady-state verification through the C ABI allocates nothing: a counting
//! global allocator watches this thread while the `extern "C"` functions are
//! called directly, after one warm-up call per case (the first verification
//! through a `warden_result` allocates its working memory; rate-limit and
//! cache entries are created the first time a name is seen).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::c_char;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use warden::ffi::result::*;
use warden::ffi::verifier::*;
use warden::ffi::verify::*;
use warden::ffi::{warden_code, warden_result, warden_verifier};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note();
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note();
        System.alloc_zeroed(l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note();
        System.realloc(p, l, n)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by this thread while `f` runs.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Relaxed);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.load(Relaxed) - before
}

// The C tests' fixtures (tests/c/fixtures/generate.py) plus one ES256 case
// from shared/vectors/fields.json ("kid and exp of an ES256 token"), so the
// verified-token cache path is covered too.
const CONFIG_B: &str = include_str!("c/fixtures/config_b.json");
const ES256_CONFIG: &str = r#"{"jwt": {"jwks": {"keys": [{"kty": "EC", "crv": "P-256", "kid": "fd-es256", "alg": "ES256", "x": "aG8q6BUF70rNJ8IaybaJf37OcbockfSaDkobQobkklM", "y": "V7qvWKE2zCFN4FyzVAVfJXt9RyGN61drIpRiYj3C7NA"}]}}}"#;
const ES256_TOKEN: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImZkLWVzMjU2In0.eyJzdWIiOiJmZC00IiwiZXhwIjoxNzA3MDAwOTAwfQ.tBuRonmyL9geaXLPvl2QHy6oQJAGzAyGLIvpoIzzUS4w5Mx4EWPJI5xdIjkKyPyak_UQiwlomwZLht_OtAq70g";
const ES256_NOW: f64 = 1707000000.0;

/// `#define NAME "value"` from tests/c/fixtures/fixtures.h (plain ASCII ones).
fn fixture(name: &str) -> String {
    let h = include_str!("c/fixtures/fixtures.h");
    let prefix = format!("#define FX_{name} \"");
    let line = h.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no fixture {name}"));
    let v = &line[prefix.len()..line.len() - 1];
    assert!(!v.contains('\\'), "fixture {name} has escapes");
    v.to_string()
}

const NOW: f64 = 1700000000.0;

fn new_verifier(json: &str) -> *mut warden_verifier {
    let mut v = ptr::null_mut();
    let mut err = [0 as c_char; 256];
    let rc = unsafe { warden_verifier_new_from_json(json.as_ptr(), json.len(), &mut v, err.as_mut_ptr(), err.len()) };
    assert_eq!(rc, warden_code::Ok as u32);
    v
}

/// One verification, as a closure over its arguments.
type Verify = Box<dyn Fn(&mut warden_result) -> u32>;

#[test]
fn steady_state_verification_allocates_nothing() {
    let v = new_verifier(CONFIG_B);
    let es = new_verifier(ES256_CONFIG);
    let (main, forged, expired) = (fixture("TOKEN_MAIN"), fixture("TOKEN_FORGED"), fixture("TOKEN_EXPIRED"));
    let (none, scp) = (fixture("TOKEN_ALG_NONE"), fixture("TOKEN_SCP"));
    let (key, key_rl, key_unknown) = (fixture("API_KEY"), fixture("API_KEY_RL"), fixture("API_KEY_UNKNOWN"));
    let (user, pass, basic_auth) = (fixture("BASIC_USER"), fixture("BASIC_PASS"), fixture("BASIC_AUTHORIZATION"));
    let bearer = format!("Bearer {main}");
    let bearer_key = format!("  bearer {key}\t");
    let jwt = |t: &str, now: f64, es_v: bool| {
        let t = t.to_string();
        let vv = if es_v { es } else { v };
        Box::new(move |r: &mut warden_result| unsafe { warden_verify_jwt(vv, t.as_ptr(), t.len(), now, r) }) as Verify
    };
    let api = |k: &str| {
        let k = k.to_string();
        Box::new(move |r: &mut warden_result| unsafe { warden_verify_api_key(v, k.as_ptr(), k.len(), NOW, r) })
            as Verify
    };
    let auth = |a: &str| {
        let a = a.to_string();
        Box::new(move |r: &mut warden_result| unsafe { warden_verify_authorization(v, a.as_ptr(), a.len(), NOW, r) })
            as Verify
    };
    let basic = |u: &str, p: &str| {
        let (u, p) = (u.to_string(), p.to_string());
        Box::new(move |r: &mut warden_result| unsafe {
            warden_verify_basic(v, u.as_ptr(), u.len(), p.as_ptr(), p.len(), NOW, r)
        }) as Verify
    };
    let cases: Vec<(&str, u32, Verify)> = vec![
        ("jwt ok", 0, jwt(&main, NOW, false)),
        ("jwt scp ok", 0, jwt(&scp, NOW, false)),
        ("jwt bad signature", 7, jwt(&forged, NOW, false)),
        ("jwt expired", 8, jwt(&expired, NOW, false)),
        ("jwt alg none", 3, jwt(&none, NOW, false)),
        ("jwt malformed", 2, jwt("not.a.jwt!", NOW, false)),
        ("jwt empty", 2, jwt("", NOW, false)),
        ("es256 ok (token cache)", 0, jwt(ES256_TOKEN, ES256_NOW, true)),
        ("api key ok", 0, api(&key)),
        ("api key unknown", 16, api(&key_unknown)),
        ("api key rate limited", 18, api(&key_rl)),
        ("basic ok (credential cache)", 0, basic(&user, &pass)),
        ("basic wrong password", 17, basic(&user, "nope")),
        ("basic unknown user", 17, basic("mallory", "nope")),
        ("authorization bearer jwt", 0, auth(&bearer)),
        ("authorization bearer api key", 0, auth(&bearer_key)),
        ("authorization basic", 0, auth(&basic_auth)),
        ("authorization other scheme", 2, auth("Digest abc")),
    ];

    let mut r: warden_result = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { warden_result_init(&mut r) }, 0);
    // Warm up: the result's working memory, rate-limit state, caches.
    for (_, _, f) in &cases {
        f(&mut r);
        f(&mut r);
        f(&mut r);
    }
    let mut total = 0;
    for (name, want, f) in &cases {
        let mut got = u32::MAX;
        let n = allocations(|| {
            for _ in 0..50 {
                got = f(&mut r);
            }
        });
        assert_eq!(got, *want, "{name}: verdict");
        println!("{name}: {n} allocations in 50 verifications");
        total += n;
    }

    // The accessors allocate nothing either.
    assert_eq!(jwt(&main, NOW, false)(&mut r), 0);
    let n = allocations(|| unsafe {
        let (mut p, mut l) = (ptr::null(), 0usize);
        let mut buf = [0 as c_char; 128];
        let mut scopes = [warden_str { ptr: ptr::null(), len: 0 }; 4];
        for _ in 0..50 {
            assert_eq!(warden_result_scope(&r, 1, &mut p, &mut l), 0);
            assert_eq!(warden_result_scopes(&r, scopes.as_mut_ptr(), 4, &mut l), 0);
            assert_eq!(warden_result_claim(&r, "realm".as_ptr().cast(), 5, &mut p, &mut l), 0);
            assert_eq!(warden_result_claim_path(&r, "realm.level.n".as_ptr().cast(), 13, &mut p, &mut l), 0);
            assert_eq!(warden_result_claim_str(&r, "esc".as_ptr().cast(), 3, buf.as_mut_ptr(), 128, &mut l), 0);
            assert_eq!(
                warden_result_claim_path_str(&r, "realm.level.name".as_ptr().cast(), 16, buf.as_mut_ptr(), 128, &mut l),
                0
            );
        }
    });
    println!("accessors: {n} allocations in 300 calls");
    total += n;

    unsafe {
        warden_result_free(&mut r);
        warden_verifier_free(v);
        warden_verifier_free(es);
    }
    assert_eq!(total, 0, "steady-state calls allocated");
}

#[test]
fn first_use_allocates_once_and_free_releases() {
    let v = new_verifier(CONFIG_B);
    let main = fixture("TOKEN_MAIN");
    let mut r: warden_result = unsafe { std::mem::zeroed() };
    // Warm this thread's run-time state with another result first.
    let mut warm: warden_result = unsafe { std::mem::zeroed() };
    unsafe {
        warden_verify_jwt(v, main.as_ptr(), main.len(), NOW, &mut warm);
        warden_result_free(&mut warm);
    }
    let n = allocations(|| unsafe {
        assert_eq!(warden_verify_jwt(v, main.as_ptr(), main.len(), NOW, &mut r), 0);
    });
    // The result's box and the scratch's buffers, nothing per token.
    assert!(n > 0 && n <= 8, "{n} allocations on first use");
    assert!(!r.internal.is_null());
    unsafe {
        warden_result_free(&mut r);
        assert!(r.internal.is_null());
        warden_result_free(&mut r);
        warden_verifier_free(v);
    }
}
