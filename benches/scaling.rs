//! Throughput across threads, and under key-set swaps.
//!
//! * `scaling_<alg>/threads_{1,2}`: each thread verifies the same token
//!   `iters` times with its own `Scratch`; the time reported is the wall time
//!   for all threads to finish. With perfect scaling both report the same
//!   time per iteration, and the throughput ratio 2 threads / 1 thread is
//!   `2 × t(threads_1) / t(threads_2)`. `floor_threads_{1,2}`: the same with
//!   the raw ring verification of the same bytes, the machine's own scaling.
//!   The verdict's figure is the paired, pinned cross-check
//!   ([`paired_scaling`]): one thread per CPU, against each CPU alone.
//! * `swap_<alg>/{no_swap,swap_1000hz}`: one thread verifying, with and
//!   without a second thread calling `Verifier::set_jwks` (the same key set,
//!   re-parsed) every millisecond. Measured in CPU time of the verifying
//!   thread, which counts what the swaps cost it (cache-line traffic,
//!   arc-swap debt, freeing old snapshots) but not time it spends waiting
//!   for a core: on a dedicated 2-core machine the two are the same.
//!   The two run minutes apart; the verdict uses a paired cross-check
//!   ([`paired_swaps`]) that alternates swapping and quiet rounds, so load
//!   that changes during the run moves both sides alike.
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

/// Wall time for `threads` threads to run `verify` `iters` times each (each
/// thread with its own `Scratch`).
fn run_threads(
    threads: usize,
    iters: u64,
    tally: &CpuTally,
    verify: &(dyn Fn(&mut Scratch) -> bool + Sync),
) -> Duration {
    let start = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut scratch = Scratch::new();
                    assert!(verify(&mut scratch));
                    start.wait();
                    let cpu = common::thread_cpu_ns();
                    for _ in 0..iters {
                        black_box(verify(&mut scratch));
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
        // warden, then the raw ring verification of the same bytes: the
        // floor's own scaling is what the machine's cores allow (two vCPUs
        // that are one core's hyperthreads, or a busy host, scale less).
        let warden = |s: &mut Scratch| v.verify_jwt(black_box(token), now, s).is_ok();
        let floor = |_: &mut Scratch| f.floor.verify(black_box(&f.signing_input), black_box(&f.signature));
        let mut cpu_per_op = Vec::new();
        for (prefix, verify) in [("", &warden as &(dyn Fn(&mut Scratch) -> bool + Sync)), ("floor_", &floor)] {
            for threads in [1, 2] {
                let tally = CpuTally::default();
                g.bench_function(format!("{prefix}threads_{threads}"), |b| {
                    b.iter_custom(|iters| run_threads(threads, iters, &tally, verify))
                });
                let ops = tally.ops.load(Ordering::Relaxed).max(1);
                cpu_per_op.push(tally.ns.load(Ordering::Relaxed) as f64 / ops as f64);
            }
        }
        g.finish();
        common::note_paired(&format!("scaling_{alg}"), &format!("scaling_{alg}"), || {
            let pinned = [&warden as &(dyn Fn(&mut Scratch) -> bool + Sync), &floor].map(paired_scaling);
            let (Some((ratio, rounds, per_s)), Some((floor_ratio, _, floor_per_s))) = (pinned[0], pinned[1]) else {
                eprintln!("paired scaling_{alg}: fewer than two CPUs to pin to");
                return (f64::NAN, 0);
            };
            eprintln!(
                "paired scaling_{alg}: alone {:.0} / {:.0} verifications/s on the two CPUs; ring floor {floor_ratio:.3}x",
                per_s[0], per_s[1]
            );
            common::note(
                &format!("paired_scaling_{alg}_detail.json"),
                &format!(
                    "{{\"floor_ratio\": {floor_ratio:.4}, \"alone_per_s\": [{:.0}, {:.0}], \"floor_alone_per_s\": [{:.0}, {:.0}]}}\n",
                    per_s[0], per_s[1], floor_per_s[0], floor_per_s[1]
                ),
            );
            (ratio, rounds)
        });
        // CPU time per verification, summed over threads: equal for 1 and 2
        // threads when nothing is shared that costs (cache lines, locks).
        common::note(
            &format!("scaling_{alg}.json"),
            &format!(
                "{{\"cpu_ns_per_op_1\": {:.1}, \"cpu_ns_per_op_2\": {:.1}, \"floor_cpu_ns_per_op_1\": {:.1}, \
                 \"floor_cpu_ns_per_op_2\": {:.1}}}\n",
                cpu_per_op[0], cpu_per_op[1], cpu_per_op[2], cpu_per_op[3]
            ),
        );
    }
}

/// Two threads against one, pinned and paired: rounds of three ~20 ms
/// phases (order rotating) — a thread pinned to the first CPU verifying
/// alone, one pinned to the second alone, and both at once — with each
/// phase's verifications counted. The round's ratio is the verifications of
/// both phases together over the mean of the two alone: 2.0 when the two
/// threads do not slow each other down. Returns the median ratio, the rounds
/// and each CPU's verifications per second alone; `None` with fewer than two
/// CPUs allowed (or no way to pin).
///
/// Why pinned, and why the idle thread spins: the vCPUs of a cloud machine
/// need not be alike (here one was at times a third slower than the other),
/// so an unpinned one-thread figure is whichever vCPU the thread ran on; and
/// a vCPU that halts changes how fast the other one runs (here the thread
/// alone ran slower beside a halted vCPU than beside one spinning on
/// `pause`, which put both warden and the ring floor above 2×). So in an
/// "alone" phase the other thread stays awake, spinning.
fn paired_scaling(verify: &(dyn Fn(&mut Scratch) -> bool + Sync)) -> Option<(f64, usize, [f64; 2])> {
    const PHASE: Duration = Duration::from_millis(20);
    const ROUNDS: usize = 30;
    let cpus = common::pin::allowed_cpus();
    if cpus.len() < 2 {
        return None;
    }
    let (start, end) = (Barrier::new(3), Barrier::new(3));
    let active = [AtomicBool::new(false), AtomicBool::new(false)];
    let stop = AtomicBool::new(false);
    let counts = [AtomicU64::new(0), AtomicU64::new(0)];
    let quit = AtomicBool::new(false);
    let pinned = AtomicU64::new(0);
    let mut ratios = Vec::with_capacity(ROUNDS);
    let mut alone = [0u64; 2];
    std::thread::scope(|s| {
        for w in 0..2 {
            let (start, end, active, stop, counts, quit, pinned) =
                (&start, &end, &active, &stop, &counts, &quit, &pinned);
            let cpu = cpus[w];
            s.spawn(move || {
                pinned.fetch_add(common::pin::to(&[cpu]) as u64, Ordering::Relaxed);
                let mut scratch = Scratch::new();
                assert!(verify(&mut scratch));
                loop {
                    start.wait();
                    if quit.load(Ordering::Relaxed) {
                        return;
                    }
                    let mut n = 0u64;
                    if active[w].load(Ordering::Relaxed) {
                        while !stop.load(Ordering::Relaxed) {
                            for _ in 0..8 {
                                black_box(verify(&mut scratch));
                            }
                            n += 8;
                        }
                    } else {
                        // Awake but idle: a halted vCPU changes how fast the
                        // other one runs (it ran faster beside a spinning one).
                        while !stop.load(Ordering::Relaxed) {
                            std::hint::spin_loop();
                        }
                    }
                    counts[w].store(n, Ordering::Relaxed);
                    end.wait();
                }
            });
        }
        // One phase with the workers in `which` verifying: their counts.
        let phase = |which: [bool; 2]| {
            for w in 0..2 {
                active[w].store(which[w], Ordering::Relaxed);
            }
            stop.store(false, Ordering::Relaxed);
            start.wait();
            std::thread::sleep(PHASE);
            stop.store(true, Ordering::Relaxed);
            end.wait();
            [counts[0].load(Ordering::Relaxed), counts[1].load(Ordering::Relaxed)]
        };
        phase([true, true]); // warm-up
        if pinned.load(Ordering::Relaxed) == 2 {
            for round in 0..ROUNDS {
                let (mut a0, mut a1, mut both) = (0, 0, 0);
                for k in 0..3 {
                    match (round + k) % 3 {
                        0 => a0 = phase([true, false])[0],
                        1 => a1 = phase([false, true])[1],
                        _ => both = phase([true, true]).iter().sum(),
                    }
                }
                alone[0] += a0;
                alone[1] += a1;
                ratios.push(both as f64 / ((a0 + a1) as f64 / 2.0).max(1.0));
            }
        }
        quit.store(true, Ordering::Relaxed);
        start.wait();
    });
    if ratios.is_empty() {
        return None;
    }
    ratios.sort_by(|x, y| x.total_cmp(y));
    let per_s = alone.map(|n| n as f64 / (ROUNDS as f64 * PHASE.as_secs_f64()));
    Some((ratios[ratios.len() / 2], ratios.len(), per_s))
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
            s.spawn(|| swapper(&v, &jwks, &stop, None, &swaps));
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
        common::note_paired(&format!("swap_{alg}"), &format!("swap_{alg}"), || {
            let (ratio, rounds, rate) = paired_swaps(&v, token, now, &jwks);
            eprintln!("paired swap_{alg}: {rate:.0} swaps/s in the swapping rounds");
            common::note(&format!("paired_swap_{alg}_rate.json"), &format!("{{\"per_s\": {rate:.1}}}\n"));
            (ratio, rounds)
        });
        // Every swap went through, and tokens still verify against the last set.
        assert!(v.stats().counter(warden::Counter::KeySetSwap) >= n);
        assert!(v.verify_jwt(token, now, &mut scratch).is_ok());
    }
}

/// Swap `jwks` in 1,000 times a second until `stop` (only while `active`,
/// when given), counting swaps. A fixed schedule: one swap per millisecond
/// tick, sleeping until the next one. A thread woken late (timer slack, a
/// busy machine) swaps again at once to catch up, as long as it is less
/// than 20 ticks behind, so the average rate holds.
fn swapper(v: &Verifier, jwks: &[u8], stop: &AtomicBool, active: Option<&AtomicBool>, swaps: &AtomicU64) {
    let period = Duration::from_millis(1);
    let mut next = Instant::now() + period;
    while !stop.load(Ordering::Relaxed) {
        if active.map_or(true, |a| a.load(Ordering::Relaxed)) {
            v.set_jwks(jwks).expect("set_jwks");
            swaps.fetch_add(1, Ordering::Relaxed);
        }
        let t = Instant::now();
        if next > t {
            std::thread::sleep(next - t);
        } else if t - next > 20 * period {
            next = t;
        }
        next += period;
    }
}

/// Throughput under 1,000 swaps a second relative to none, as the median
/// over rounds of t(quiet) / t(swapping): each round verifies for ~30 ms
/// with the swapper quiet and ~30 ms with it swapping every millisecond
/// (order alternating), timed in the verifying thread's CPU time. Returns
/// the ratio, the number of rounds and the swap rate while swapping.
fn paired_swaps(v: &Verifier, token: &[u8], now: f64, jwks: &[u8]) -> (f64, usize, f64) {
    const ROUND_NS: u64 = 30_000_000;
    const ROUNDS: usize = 40;
    let mut scratch = Scratch::new();
    let mut verify = || v.verify_jwt(black_box(token), now, &mut scratch).is_ok();
    let k = common::calls_per_round(&mut verify, ROUND_NS);
    let (active, stop) = (AtomicBool::new(false), AtomicBool::new(false));
    let swaps = AtomicU64::new(0);
    let mut swapping_wall = Duration::ZERO;
    let mut ratios = Vec::with_capacity(ROUNDS);
    std::thread::scope(|s| {
        s.spawn(|| swapper(v, jwks, &stop, Some(&active), &swaps));
        let mut swapping = |on: bool| {
            active.store(on, Ordering::Relaxed);
            let w0 = Instant::now();
            let t = common::cpu_batch(&mut verify, k);
            if on {
                swapping_wall += w0.elapsed();
            }
            t
        };
        for round in 0..ROUNDS {
            let (quiet, busy) = if round % 2 == 0 {
                let q = swapping(false);
                (q, swapping(true))
            } else {
                let b = swapping(true);
                (swapping(false), b)
            };
            ratios.push(quiet as f64 / busy.max(1) as f64);
        }
        active.store(false, Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
    });
    ratios.sort_by(|x, y| x.total_cmp(y));
    let rate = swaps.load(Ordering::Relaxed) as f64 / swapping_wall.as_secs_f64().max(1e-9);
    (ratios[ratios.len() / 2], ratios.len(), rate)
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
