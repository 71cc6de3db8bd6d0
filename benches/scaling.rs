//! Throughput across threads, and under key-set swaps.
//!
//! * `scaling_<alg>/threads_{1,2}`: each thread verifies the same token
//!   `iters` times with its own `Scratch`; the time reported is the wall time
//!   for all threads to finish. With perfect scaling both report the same
//!   time per iteration, and the throughput ratio 2 threads / 1 thread is
//!   `2 × t(threads_1) / t(threads_2)`.
//! * `swap_<alg>/{no_swap,swap_1000hz}`: one thread verifying, with and
//!   without a second thread calling `Verifier::set_jwks` (the same key set,
//!   re-parsed) every millisecond. Measured in CPU time of the verifying
//!   thread, which counts what the swaps cost it (cache-line traffic,
//!   arc-swap debt, freeing old snapshots) but not time it spends waiting
//!   for a core: on a dedicated 2-core machine the two are the same.
//!
//! The verified-token cache is off: these are cold verifications.

mod common;

use common::ThreadCpu;
use criterion::measurement::WallTime;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};
use warden::{Scratch, Verifier};

const ALGS: [&str; 2] = ["HS256", "ES256"];

/// CPU time the verifying threads spent, and how many verifications.
#[derive(Default)]
struct CpuTally {
    ns: AtomicU64,
    ops: AtomicU64,
}

/// Wall time for `threads` threads to verify `token` `iters` times each.
fn run_threads(v: &Verifier, token: &[u8], now: f64, threads: usize, iters: u64, tally: &CpuTally) -> Duration {
    let start = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut scratch = Scratch::new();
                    assert!(v.verify_jwt(token, now, &mut scratch).is_ok());
                    start.wait();
                    let cpu = common::thread_cpu_ns();
                    for _ in 0..iters {
                        black_box(v.verify_jwt(black_box(token), now, &mut scratch).is_ok());
                    }
                    tally.ns.fetch_add(common::thread_cpu_ns() - cpu, Ordering::Relaxed);
                    tally.ops.fetch_add(iters, Ordering::Relaxed);
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        for h in handles {
            h.join().expect("verifier thread");
        }
        t0.elapsed()
    })
}

fn thread_scaling(c: &mut Criterion<WallTime>) {
    let fixtures = common::all_fixtures();
    let v = common::jwt_verifier(&fixtures, 0);
    let now = common::now();
    for alg in ALGS {
        let f = fixtures.iter().find(|f| f.alg == alg).unwrap();
        let token = f.token.as_bytes();
        let mut g = c.benchmark_group(format!("scaling_{alg}"));
        g.measurement_time(Duration::from_secs(3));
        let mut cpu_per_op = Vec::new();
        for threads in [1, 2] {
            let tally = CpuTally::default();
            g.bench_function(format!("threads_{threads}"), |b| {
                b.iter_custom(|iters| run_threads(&v, token, now, threads, iters, &tally))
            });
            let ops = tally.ops.load(Ordering::Relaxed).max(1);
            cpu_per_op.push(tally.ns.load(Ordering::Relaxed) as f64 / ops as f64);
        }
        g.finish();
        // CPU time per verification, summed over threads: equal for 1 and 2
        // threads when nothing is shared that costs (cache lines, locks).
        common::note(
            &format!("scaling_{alg}.json"),
            &format!("{{\"cpu_ns_per_op_1\": {:.1}, \"cpu_ns_per_op_2\": {:.1}}}\n", cpu_per_op[0], cpu_per_op[1]),
        );
    }
}

/// The key set swapped under load: the two benched algs' keys plus an RS256
/// and an EdDSA key, a typical mixed JWKS. (All twelve bench keys would not
/// do: validating the ES384 point alone takes about a millisecond, so 1,000
/// swaps a second would need more than a whole core; `set_jwks/all_12_keys`
/// shows that cost.)
fn swap_set(fixtures: &[common::Fixture]) -> Vec<&common::Fixture> {
    ["HS256", "ES256", "RS256", "EdDSA"].iter().map(|a| fixtures.iter().find(|f| f.alg == *a).unwrap()).collect()
}

/// What one `set_jwks` costs the thread that calls it.
fn swap_cost(c: &mut Criterion<ThreadCpu>) {
    let fixtures = common::all_fixtures();
    let v = common::jwt_verifier(&fixtures, 0);
    let mut g = c.benchmark_group("set_jwks");
    let swap = common::jwks_json(swap_set(&fixtures));
    let all = common::jwks_json(&fixtures);
    for (name, jwks) in [("swap_set", &swap), ("all_12_keys", &all)] {
        g.bench_function(name, |b| b.iter(|| v.set_jwks(black_box(jwks)).is_ok()));
    }
    g.finish();
}

fn swap_under_load(c: &mut Criterion<ThreadCpu>) {
    let fixtures = common::all_fixtures();
    let set = swap_set(&fixtures);
    let jwks = common::jwks_json(set.iter().copied());
    let v = common::jwt_verifier(set.iter().copied(), 0);
    let now = common::now();
    for alg in ALGS {
        let f = fixtures.iter().find(|f| f.alg == alg).unwrap();
        let token = f.token.as_bytes();
        let mut g = c.benchmark_group(format!("swap_{alg}"));
        g.measurement_time(Duration::from_secs(3));
        let mut scratch = Scratch::new();
        g.bench_function("no_swap", |b| b.iter(|| v.verify_jwt(black_box(token), now, &mut scratch).is_ok()));

        let stop = AtomicBool::new(false);
        let swaps = AtomicU64::new(0);
        let started = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                // 1,000 swaps a second on a fixed schedule: one swap per
                // millisecond tick, sleeping until the next one. A thread
                // woken late (timer slack, a busy machine) swaps again at
                // once to catch up, as long as it is less than 20 ticks
                // behind, so the average rate holds.
                let period = Duration::from_millis(1);
                let mut next = Instant::now() + period;
                while !stop.load(Ordering::Relaxed) {
                    v.set_jwks(&jwks).expect("set_jwks");
                    swaps.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    if next > t {
                        std::thread::sleep(next - t);
                    } else if t - next > 20 * period {
                        next = t;
                    }
                    next += period;
                }
            });
            g.bench_function("swap_1000hz", |b| b.iter(|| v.verify_jwt(black_box(token), now, &mut scratch).is_ok()));
            stop.store(true, Ordering::Relaxed);
        });
        let secs = started.elapsed().as_secs_f64();
        let n = swaps.load(Ordering::Relaxed);
        let rate = n as f64 / secs;
        eprintln!("swap_{alg}: {n} key-set swaps in {secs:.1} s = {rate:.0}/s");
        if n > 0 {
            common::note(
                &format!("swap_{alg}.json"),
                &format!("{{\"swaps\": {n}, \"seconds\": {secs:.3}, \"per_s\": {rate:.1}}}\n"),
            );
        }
        g.finish();
        // Every swap went through, and tokens still verify against the last set.
        assert!(v.stats().counter(warden::Counter::KeySetSwap) >= n);
        assert!(v.verify_jwt(token, now, &mut scratch).is_ok());
    }
}

criterion_group! {
    name = wall;
    config = common::criterion_wall();
    targets = thread_scaling
}
criterion_group! {
    name = cpu;
    config = common::criterion_cpu();
    targets = swap_cost, swap_under_load
}
criterion_main!(wall, cpu);
