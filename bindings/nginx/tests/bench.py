#!/usr/bin/env python3
"""wrk against nginx on loopback: an unprotected location next to locations
protected by warden (HS256 and ES256 with and without the verified-token
cache, API key, cached Basic). Prints requests/s, latency and the ratio to the
unprotected location, and to the same request (token sent) to the unprotected
location. With --rounds N every location is measured N times, interleaved
(order reversed every other round); ratios are paired within a round and the
median over the rounds is reported. --target-rounds N then gives each
backend N short rounds of only the three requests the HS256 target compares
(unprotected, token sent, HS256 with the cache on; all six orders in turn),
whose per-round ratios' median is the target's figure; --perf samples the
worker with perf on each HS256 location for the module's share of its CPU.
A benchmark, not a test: it asserts nothing unless --min-hs256-ratio is
given.

    bench.py --module build/ngx_http_warden_module.so --vectors ../shared/vectors

--tokens takes the HS256 and ES256 tokens and keys from the tokens.json of
benches/hosts/tokens.py (the set every host benchmark shares; verified at
the system clock) instead of the shared vectors; the API key and Basic
credentials still come from the vectors. --json writes the results for
benches/report.py.
"""

import argparse
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def first_ok(data, key, alg=None):
    for c in data["cases"]:
        if c.get("expect") != "ok" or key not in c or "repeat" in c:
            continue
        if alg:
            hdr = c["jwt"].split(".")[0]
            hdr = json.loads(base64.urlsafe_b64decode(hdr + "=" * (-len(hdr) % 4)))
            if hdr.get("alg") != alg:
                continue
        return c
    raise SystemExit(f"no accepted {alg or key} case")


def unmetered_key(data):
    import hashlib
    metered = {k["sha256"] for k in data["config"]["api_keys"]["keys"] if "rate" in k}
    for c in data["cases"]:
        if c.get("expect") == "ok" and "api_key" in c and "repeat" not in c \
                and hashlib.sha256(c["api_key"].encode()).hexdigest() not in metered:
            return c
    raise SystemExit("no accepted API key without a rate limit")


def cpu_seconds(pids):
    """CPU time the processes have run, in seconds: /proc/PID/schedstat's
    nanoseconds where the kernel keeps them (scheduler statistics), else
    /proc/PID/stat's utime + stime in clock ticks (1/100 s: coarse for a
    one-second measurement)."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/schedstat") as f:
                total += int(f.read().split()[0]) / 1e9
            continue
        except (OSError, ValueError, IndexError):
            pass
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime + stime
    return total


def quantiles(xs):
    """(25th percentile, median, 75th percentile) of xs, linear interpolation."""
    xs = sorted(xs)
    if not xs:
        return None, None, None

    def q(f):
        i = f * (len(xs) - 1)
        lo = int(i)
        hi = min(lo + 1, len(xs) - 1)
        return xs[lo] + (xs[hi] - xs[lo]) * (i - lo)
    return q(0.25), q(0.5), q(0.75)


def perf_share(pid, module, seconds, run_load):
    """Share of the nginx worker's CPU samples (perf record, user and kernel)
    that fall in the module's shared object (its C code and the warden core
    linked into it) and in the kernel, while run_load() keeps the worker
    busy. None when perf is missing or may not sample here."""
    perf = shutil.which("perf")
    if not perf:
        return None
    data = tempfile.mktemp(prefix="warden-nginx-perf-", suffix=".data")
    try:
        rec = subprocess.Popen([perf, "record", "-q", "-F", "4999", "-o", data, "-p", str(pid)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run_load(seconds)
        rec.send_signal(signal.SIGINT)
        rec.wait(timeout=60)
        rep = subprocess.run([perf, "report", "-i", data, "--stdio", "--sort", "dso", "-q"],
                             capture_output=True, text=True, timeout=120)
        shares = {}
        for line in rep.stdout.splitlines():
            m = re.match(r"\s*([\d.]+)%\s+(\S+)", line)
            if m:
                shares[m.group(2)] = float(m.group(1)) / 100
        if not shares:
            return None
        mod = os.path.basename(module)
        return {"module": sum(v for k, v in shares.items() if k == mod),
                "kernel": sum(v for k, v in shares.items() if k.startswith("[kernel")),
                "seconds": seconds}
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        for f in (data, data + ".old"):
            if os.path.exists(f):
                os.unlink(f)


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        m = re.search(label + r"\s+([\d.]+)(us|ms|s)\b", out)
        if not m:
            return None
        v = float(m.group(1))
        return {"us": v / 1000, "ms": v, "s": v * 1000}[m.group(2)]

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%"), "requests": total,
            "errors": int(non2xx.group(1)) if non2xx else 0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True)
    ap.add_argument("--vectors", required=True)
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure every location this many times, interleaved; report medians of the "
                         "per-round figures and ratios")
    ap.add_argument("--target-rounds", type=int, default=0,
                    help="then, per backend, this many short rounds of the target's three requests "
                         "(unprotected, token sent, HS256 cache on) for its paired ratios")
    ap.add_argument("--target-duration", default="1s")
    ap.add_argument("--perf", action="store_true",
                    help="then sample the worker with perf on each HS256 location: the module's share of its CPU")
    ap.add_argument("--min-hs256-ratio", type=float, default=None)
    ap.add_argument("--tokens", help="tokens.json from benches/hosts/tokens.py for the JWT locations")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()

    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("wrk not found (apt-get install wrk)")

    def load(name):
        with open(os.path.join(args.vectors, name), encoding="utf-8") as f:
            return json.load(f)

    hs, ec, ak, bs = load("jwt_hs.json"), load("jwt_ec.json"), load("api_keys.json"), load("basic.json")
    hs_case, ec_case = first_ok(hs, "jwt", "HS256"), first_ok(ec, "jwt", "ES256")
    ak_case, bs_case = unmetered_key(ak), first_ok(bs, "basic")
    if args.tokens:
        # The shared tokens, at the system clock (now None: no warden_now).
        with open(args.tokens, encoding="utf-8") as f:
            shared = json.load(f)
        tok = {a["alg"]: a["token"] for a in shared["algs"]}
        hs = {"config": shared["config"]}
        ec = {"config": shared["config"]}
        hs_case, ec_case = {"jwt": tok["HS256"], "now": None}, {"jwt": tok["ES256"], "now": None}

    tmp = tempfile.mkdtemp(prefix="warden-nginx-bench-")
    os.chmod(tmp, 0o755)

    def cfg(name, config):
        p = os.path.join(tmp, name + ".json")
        with open(p, "w") as f:
            json.dump(config, f)
        return p

    # The verified-token cache as configured by default (on) for "hs256" and
    # "es256" (any "cache" member dropped), and off for the "_nocache" twins.
    def cache(config, on):
        c = {k: v for k, v in config.items() if k != "cache"}
        if not on:
            c["cache"] = {"tokens": 0}
        return c

    configs = {
        "hs256": cfg("hs256", cache(hs["config"], True)),
        "hs256_nocache": cfg("hs256_nocache", cache(hs["config"], False)),
        "es256": cfg("es256", cache(ec["config"], True)),
        "es256_nocache": cfg("es256_nocache", cache(ec["config"], False)),
        "api_key": cfg("api_key", ak["config"]),
        "basic": cfg("basic", bs["config"]),
    }
    ng, main_, temps, port, up_port, backends = harness.bench_nginx(tmp, args.module)

    # every location twice: serving a small static file, and proxying to an
    # upstream (a second server of the same nginx, over keepalive connections)
    protected = {
        "hs256": (hs_case["now"], "warden jwt;"),
        "hs256_nocache": (hs_case["now"], "warden jwt;"),
        "es256": (ec_case["now"], "warden jwt;"),
        "es256_nocache": (ec_case["now"], "warden jwt;"),
        "api_key": (ak_case["now"], "warden api_key; warden_credential $http_x_api_key;"),
        "basic": (bs_case["now"], "warden basic;"),
    }
    locs = []
    for b, body in backends.items():
        locs.append(f"location /{b}/open/ {{ {body} }}")
        for name, (now, directives) in protected.items():
            at = "" if now is None else f"warden_now {now}; "
            locs.append(f"location /{b}/{name}/ {{ warden_config {configs[name]}; {at}"
                        f"{directives} {body} }}")
    ng.write_conf(main_ + f"worker_processes {args.workers};\n"
                  + harness.bench_http(temps, port, up_port, locs))

    basic = "Basic " + base64.b64encode(bs_case["basic"].encode()).decode()
    kinds = [
        ("unprotected", "open", []),
        # the same request as the HS256 one, to a location that does not look
        # at it: what carrying the token costs nginx, before warden
        ("unprotected, HS256 token sent", "open", ["Authorization: Bearer " + hs_case["jwt"]]),
        ("HS256, token cache on", "hs256", ["Authorization: Bearer " + hs_case["jwt"]]),
        ("HS256, token cache off", "hs256_nocache", ["Authorization: Bearer " + hs_case["jwt"]]),
        ("ES256, token cache on", "es256", ["Authorization: Bearer " + ec_case["jwt"]]),
        ("ES256, token cache off", "es256_nocache", ["Authorization: Bearer " + ec_case["jwt"]]),
        ("API key", "api_key", ["X-Api-Key: " + ak_case["api_key"]]),
        ("Basic (cached)", "basic", ["Authorization: " + basic]),
    ]
    runs = [(b, name, f"/{b}/{loc}/", headers) for b in backends for name, loc, headers in kinds]

    # Every location is measured once per round; the order runs forwards in
    # even rounds and backwards in odd ones, so that the protected locations
    # sit next to the two unprotected ones (listed first) either way and a
    # load that drifts during a round favours no side. A location's ratio is
    # the median over the rounds of its ratio to the baseline measured in
    # the same round (paired), not a ratio of two bests.
    per_round = {}   # (backend, name) -> [wrk result per round]
    target_rounds = {}   # the same, for the target's own rounds
    shares = {}   # backend -> perf_share of the HS256 location
    token_base = "unprotected, HS256 token sent"
    try:
        ng.start(port)
        workers = ng.worker_pids()
        for b, name, path, headers in runs:
            h = [tuple(x.split(": ", 1)) for x in headers]
            status, _, _ = harness.request(port, path, h)   # also warms the caches
            if status != 200:
                raise SystemExit(f"{name}: {path} answered {status}\n{ng.log_tail()}")
        def measure(path, headers, duration):
            cmd = [wrk, "-t", str(args.threads), "-c", str(args.connections), "-d", duration, "--latency"]
            for x in headers:
                cmd += ["-H", x]
            cmd.append(f"http://127.0.0.1:{port}{path}")
            c0 = cpu_seconds(workers)
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            r = parse_wrk(out)
            r["cpu_us"] = (cpu_seconds(workers) - c0) * 1e6 / max(r["requests"], 1)
            return r

        for rnd in range(args.rounds):
            for b, name, path, headers in (runs if rnd % 2 == 0 else runs[::-1]):
                per_round.setdefault((b, name), []).append(measure(path, headers, args.duration))

        # The target's own measurement: per backend, many short rounds of
        # just the three requests it compares (plain to the unprotected
        # location, the HS256 request to it, the HS256 request to the HS256
        # location), the order rotating each round, so that each ratio pairs
        # measurements seconds apart and its median over many rounds is not
        # at the mercy of a few: on a shared machine single seconds swing
        # by ±30 %.
        trio = ["unprotected", token_base, "HS256, token cache on"]
        by_name = {(b, name): (path, headers) for b, name, path, headers in runs}
        for b in backends if args.target_rounds else ():
            for rnd in range(args.target_rounds):
                k = rnd % 3
                order = trio[k:] + trio[:k]
                if rnd % 6 >= 3:
                    order = order[::-1]
                for name in order:
                    path, headers = by_name[(b, name)]
                    target_rounds.setdefault((b, name), []).append(
                        measure(path, headers, args.target_duration))
        if args.perf:
            for b in backends:
                path, headers = by_name[(b, "HS256, token cache on")]
                shares[b] = perf_share(workers[0], args.module, 3,
                                       lambda secs: measure(path, headers, f"{secs}s"))
    finally:
        ng.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    def median(xs):
        xs = sorted(x for x in xs if x is not None)
        if not xs:
            return None
        n = len(xs)
        return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2

    results = {}
    for (b, name), rs in per_round.items():
        base, tok = per_round[(b, "unprotected")], per_round[(b, token_base)]
        results[(b, name)] = {
            "rps": median(r["rps"] for r in rs),
            "p50": median(r["p50"] for r in rs),
            "p99": median(r["p99"] for r in rs),
            "cpu_us": median(r["cpu_us"] for r in rs),
            "requests": sum(r["requests"] for r in rs),
            "errors": sum(r["errors"] for r in rs),
            # paired, per round: req/s ratio, and CPU ratio (baseline CPU per
            # request over this location's), each to the plain unprotected
            # request and to the same request (token sent) to an unprotected
            # location
            "ratio": median(r["rps"] / x["rps"] for r, x in zip(rs, base)),
            "cpu_ratio": median(x["cpu_us"] / r["cpu_us"] for r, x in zip(rs, base)),
            "ratio_token": median(r["rps"] / x["rps"] for r, x in zip(rs, tok)),
            "cpu_ratio_token": median(x["cpu_us"] / r["cpu_us"] for r, x in zip(rs, tok)),
            "rounds_rps": [round(r["rps"]) for r in rs],
            "rounds_cpu_us": [round(r["cpu_us"], 3) for r in rs],
        }

    # The target's rounds: per-round ratios of the HS256 location to the two
    # baselines, by req/s and by CPU per request; quartiles over the rounds.
    target = {}
    for b in backends:
        rs = target_rounds.get((b, "HS256, token cache on"))
        if not rs:
            continue
        base, tok = target_rounds[(b, "unprotected")], target_rounds[(b, token_base)]
        target[b] = {
            "rounds": len(rs),
            "duration": args.target_duration,
            "errors": sum(r["errors"] for r in rs + base + tok),
            "ratio": quantiles([r["rps"] / x["rps"] for r, x in zip(rs, base)]),
            "cpu_ratio": quantiles([x["cpu_us"] / r["cpu_us"] for r, x in zip(rs, base)]),
            "ratio_token": quantiles([r["rps"] / x["rps"] for r, x in zip(rs, tok)]),
            "cpu_ratio_token": quantiles([x["cpu_us"] / r["cpu_us"] for r, x in zip(rs, tok)]),
            "cpu_us": {n: median(r["cpu_us"] for r in target_rounds[(b, n)]) for n in trio},
            "rps": {n: median(r["rps"] for r in target_rounds[(b, n)]) for n in trio},
            "perf": shares.get(b),
        }

    print(f"nginx {args.workers} worker(s), wrk -t{args.threads} -c{args.connections} -d{args.duration} "
          f"on loopback, {os.cpu_count()} cores, {args.rounds} interleaved round(s) (order reversed every "
          "other round); medians over the rounds")
    print("ratios are paired: each round's figure over the same round's baseline, median over the rounds. "
          "'unprot.': to the unprotected location with the same backend; 'token': to the same request, token "
          "sent, to that unprotected location (what nginx spends on the header alone is out of it). "
          "CPU: nginx worker CPU time per request (less sensitive to a busy machine than req/s); "
          "CPU ratio = baseline CPU/req over this location's.")
    for b in backends:
        print(f"\nbackend: {b}")
        print(f"{'location':<30} {'req/s':>9} {'unprot.':>7} {'token':>6} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'CPU/req us':>11} {'CPU unprot.':>11} {'CPU token':>9} {'non-2xx':>8}")
        for name, _, _ in kinds:
            r = results[(b, name)]
            print(f"{name:<30} {r['rps']:>9.0f} {r['ratio']:>7.2f} {r['ratio_token']:>6.2f} {r['p50'] or 0:>7.3f} "
                  f"{r['p99'] or 0:>7.3f} {r['cpu_us']:>11.2f} {r['cpu_ratio']:>11.2f} {r['cpu_ratio_token']:>9.2f} "
                  f"{r['errors']:>8}")
    for b, t in target.items():
        q = lambda x: "/".join(f"{v:.2f}" for v in x)   # noqa: E731
        print(f"\ntarget ({b}): {t['rounds']} rounds of {t['duration']}, ratios as 25th/50th/75th percentile: "
              f"req/s {q(t['ratio'])} of unprotected, {q(t['ratio_token'])} of token sent; "
              f"CPU {q(t['cpu_ratio'])}, {q(t['cpu_ratio_token'])}")
        if t["perf"]:
            print(f"  perf: the module (its C and the warden core) {t['perf']['module'] * 100:.1f} % of the "
                  f"worker's CPU samples, the kernel {t['perf']['kernel'] * 100:.1f} %")
    if args.json:
        version = subprocess.run([harness.nginx_binary(), "-v"], capture_output=True, text=True).stderr.strip()
        with open(args.json, "w") as f:
            json.dump({"nginx": version.rsplit("/", 1)[-1], "workers": args.workers, "threads": args.threads,
                       "connections": args.connections, "duration": args.duration, "rounds": args.rounds,
                       "method": "median of paired per-round ratios", "token_baseline": token_base,
                       "shared_tokens": bool(args.tokens), "target": target,
                       "backends": {b: {name: results[(b, name)] for name, _, _ in kinds} for b in backends}},
                      f, indent=1)
    bad = [f"{b}/{n}" for (b, n), r in results.items() if r["errors"]]
    bad += [f"{b}/target rounds" for b, t in target.items() if t["errors"]]
    if bad:
        print("non-2xx responses in: " + ", ".join(bad))
        sys.exit(1)
    if args.min_hs256_ratio is not None:
        ratio = results[("proxy", "HS256, token cache on")]["ratio"]
        if ratio < args.min_hs256_ratio:
            print(f"HS256 keeps {ratio:.2f} of the unprotected rate (proxy), below {args.min_hs256_ratio}")
            sys.exit(1)


if __name__ == "__main__":
    main()
