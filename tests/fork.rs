//! Remote key sets across `fork()` and with background refresh paused.
//!
//! Threads do not survive `fork()`: a pre-forking host (nginx's master,
//! gunicorn or uWSGI loading the application before forking workers) hands
//! its children verifiers whose refresher thread exists only in the
//! parent. Each child must start its own, or it serves the key set of the
//! fork forever — keys the provider has since removed included.
//!
//! Its own test binary, its tests one at a time: a child may only rely on
//! what no other thread of the parent held at the fork.
#![cfg(feature = "remote-jwks")]

mod common;

use common::https::{Reply, Server};
use common::mint::{jwks, TestKey};
use common::remote::{claims, eventually, Setup, NOW};
use serde_json::json;
use std::sync::Mutex;
use std::time::Duration;
use warden::{Code, Scratch, Verifier};

/// One test at a time (see the module's comment).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn code_in(v: &Verifier, token: &str, s: &mut Scratch) -> Code {
    v.verify_jwt(token.as_bytes(), NOW, s).map(|_| Code::Ok).unwrap_or_else(|r| r.code)
}

/// Run `child` in a forked child process; its exit status (a panic is 101).
fn in_child(child: impl FnOnce() -> bool) -> i32 {
    // SAFETY: the child runs only `child` and then `_exit`s, never returning
    // into the test harness.
    match unsafe { libc::fork() } {
        -1 => panic!("fork: {}", std::io::Error::last_os_error()),
        0 => {
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(false);
            unsafe { libc::_exit(if ok { 0 } else { 101 }) }
        }
        pid => {
            let mut status = 0;
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            assert!(libc::WIFEXITED(status), "child status {status:#x}");
            libc::WEXITSTATUS(status)
        }
    }
}

/// Refresher threads of this process (they are named).
fn refreshers() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.unwrap().path().join("comm")).ok())
        .filter(|name| name.trim() == "warden-jwks")
        .count()
}

/// A provider serving `k1`, and a verifier of it that would refresh only
/// in an hour (or on an unknown kid, at most every 0.1 s).
fn provider(k1: &TestKey) -> (Server, Setup, Verifier) {
    let srv = Server::start();
    srv.set("/jwks", Reply::json(jwks(&[k1]).to_string()).max_age(3600));
    let s = Setup::new(&srv);
    let v = s
        .verifier(json!({"jwks_uri": srv.url("/jwks"), "ca_file": "ca.pem", "refresh": {"min_s": 0.1, "max_s": 3600}}));
    (srv, s, v)
}

#[test]
fn a_forked_child_refreshes_its_keys_itself() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (k1, k2) = (TestKey::es256("k1"), TestKey::eddsa("k2"));
    let (srv, _s, v) = provider(&k1);
    let (t1, t2) = (k1.sign(&claims(None)), k2.sign(&claims(None)));
    // A scratch that holds the parent's view when the child inherits it.
    let mut scratch = Scratch::new();
    assert_eq!(code_in(&v, &t1, &mut scratch), Code::Ok);
    // The provider rotates k1 out; the parent has not looked since.
    srv.set("/jwks", Reply::json(jwks(&[&k2]).to_string()).max_age(3600));
    let status = in_child(|| {
        // The unknown kid asks the refresher for a fetch: the child's own.
        eventually(5.0, || code_in(&v, &t2, &mut scratch) == Code::Ok)
            && code_in(&v, &t1, &mut scratch) == Code::UnsupportedAlg
            && refreshers() == 1
    });
    assert_eq!(status, 0, "the child serves the provider's current keys");
    assert_eq!(srv.hits("/jwks"), 2, "start-up, then the child's fetch");
    assert_eq!(code_in(&v, &t1, &mut scratch), Code::Ok, "the parent's keys are its own");
}

#[test]
fn a_paused_refresher_stops_and_makes_no_request_until_resumed() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (k1, k2) = (TestKey::es256("k1"), TestKey::eddsa("k2"));
    let (srv, _s, v) = provider(&k1);
    let t2 = k2.sign(&claims(None));
    let mut scratch = Scratch::new();
    // (A thread names itself once it runs.)
    assert!(eventually(2.0, || refreshers() == 1));
    v.pause_refresh();
    assert_eq!(refreshers(), 0, "pausing waits for the thread to exit");
    srv.set("/jwks", Reply::json(jwks(&[&k1, &k2]).to_string()).max_age(3600));
    assert_eq!(code_in(&v, &t2, &mut scratch), Code::UnsupportedAlg);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(code_in(&v, &t2, &mut scratch), Code::UnsupportedAlg, "no fetch while paused");
    assert_eq!(srv.hits("/jwks"), 1);
    v.pause_refresh(); // twice is once
    v.resume_refresh();
    assert!(eventually(2.0, || refreshers() == 1));
    assert!(eventually(5.0, || code_in(&v, &t2, &mut scratch) == Code::Ok), "refreshing again");
    v.resume_refresh(); // no second thread
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(refreshers(), 1);
}

#[test]
fn a_pause_holds_in_its_own_process_only() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (k1, k2) = (TestKey::es256("k1"), TestKey::eddsa("k2"));
    let (srv, _s, v) = provider(&k1);
    let t2 = k2.sign(&claims(None));
    // nginx's master: it only hands the verifier to the workers it forks.
    v.pause_refresh();
    srv.set("/jwks", Reply::json(jwks(&[&k2]).to_string()).max_age(3600));
    let status = in_child(|| {
        let mut scratch = Scratch::new();
        eventually(5.0, || code_in(&v, &t2, &mut scratch) == Code::Ok) && refreshers() == 1
    });
    assert_eq!(status, 0, "the child refreshes");
    let mut scratch = Scratch::new();
    assert_eq!(code_in(&v, &t2, &mut scratch), Code::UnsupportedAlg, "the parent stays paused");
    assert_eq!(refreshers(), 0);
    assert_eq!(srv.hits("/jwks"), 2);
}
