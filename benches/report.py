#!/usr/bin/env python3
"""Turn one benchmark run into BENCHMARKS.md (Python 3 standard library only).

    report.py report --criterion DIR [--notes DIR] [--profile FILE] [--hosts DIR] --out BENCHMARKS.md
    report.py profile --out FILE callgrind.<case>.<iterations>.out ...
    report.py perf --out FILE perf.<case>.data ...

`report` reads the medians criterion saved (DIR/<group>/<bench>/new/estimates.json)
and writes the ratio tables with their targets (with --hosts, also the host
benchmarks benches/all.sh ran: Python, Go, C, nginx); `profile` and `perf` summarize
callgrind and perf profiles of benches/profile.rs by where the time goes.
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys

ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
        "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median_ns(crit, group, bench):
    path = os.path.join(crit, group, bench, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def paired(notes, name):
    """The interleaved cross-check ratio the benches noted, if any."""
    if not notes:
        return None
    try:
        with open(os.path.join(notes, f"paired_{name}.json")) as f:
            n = json.load(f)
    except (OSError, ValueError):
        return None
    r = n.get("ratio")
    # No rounds (e.g. nothing to pin to): not measured.
    return r if isinstance(r, (int, float)) and r == r and n.get("rounds", 1) > 0 else None


def fmt_time(ns):
    if ns is None:
        return "—"
    if ns >= 1e6:
        return f"{ns / 1e6:.1f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r, digits=2):
    return "—" if r is None else f"{r:.{digits}f}×"


def verdict(value, op, target):
    if value is None:
        return "not run"
    ok = value <= target if op == "<=" else value >= target
    return "PASS" if ok else "**MISS**"


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def lock_versions(names):
    """Versions of `names` in Cargo.lock (all of them, if several)."""
    found = {n: [] for n in names}
    try:
        text = open(os.path.join(REPO, "Cargo.lock")).read()
    except OSError:
        return found
    for m in re.finditer(r'\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"', text):
        if m.group(1) in found:
            found[m.group(1)].append(m.group(2))
    return found


def machine():
    model, cpus = "", ""
    for line in sh(["lscpu"]).splitlines():
        k, _, v = line.partition(":")
        if k.strip() == "Model name":
            model = v.strip()
        elif k.strip() == "CPU(s)":
            cpus = v.strip()
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    ext = [f for f in ("sha_ni", "avx2", "avx512f", "adx", "bmi2") if re.search(rf"\b{f}\b", flags)]
    return model or platform.processor(), cpus or str(os.cpu_count()), ext


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def go_benchmem(path):
    """{(benchmark, alg): (ns/op, allocs/op)} from `go test -bench -benchmem` output."""
    out = {}
    try:
        text = open(path).read()
    except OSError:
        return out
    for mm in re.finditer(r"^Benchmark(\w+)/(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op.*?\s(\d+) allocs/op",
                          text, re.M):
        out[(mm.group(1), mm.group(2))] = (float(mm.group(3)), int(mm.group(4)))
    return out


def hosts_section(d, w, summarize):
    """The host benchmarks benches/all.sh ran into `d`: a ratio table per alg and host, the
    details of each, their versions; their targets go into the summary."""
    versions = {}
    try:
        for line in open(os.path.join(d, "versions.tsv")):
            k, _, v = line.rstrip("\n").partition("\t")
            versions[k] = v.strip() or "?"
    except OSError:
        pass
    py, go, c, ng = (read_json(os.path.join(d, f"{h}.json")) for h in ("python", "go", "c", "nginx"))
    gomem = go_benchmem(os.path.join(d, "go-bench.txt"))
    by_alg = lambda data: {a["alg"]: a for a in data["algs"]} if data else {}  # noqa: E731
    pya, goa, ca = by_alg(py), by_alg(go), by_alg(c)
    algs = ["HS256", "RS256", "ES256", "EdDSA"]

    w("## Hosts: the bindings against each language's usual JWT library\n")
    w("Every host verifies **the same tokens and keys**, minted at the start of the run by "
      "`benches/hosts/tokens.py` in the Rust fixtures' shape (header `alg`, `kid`, `typ`; the 257-byte "
      "payload; RS256 with the committed 2048-bit key; HS256 secret, P-256 and Ed25519 keys fresh). Per call, "
      "each library verifies the signature with the key pinned to the alg, checks exp / nbf, issuer and "
      "audience, and hands back `sub`; warden's verified-token cache is off. Ratios are peer time / warden "
      "time (higher: warden faster), measured in the same process, in interleaved rounds, in the measuring "
      "thread's CPU time.\n")
    load, minutes = "", ""
    try:
        load = open(os.path.join(d, "load.txt")).read().strip()
        minutes = open(os.path.join(d, "minutes.txt")).read().strip()
    except OSError:
        pass
    if load:
        w(f"- load average before / after the host benchmarks: {load}; they took {minutes} min")
    pv = py["versions"] if py else {}
    w(f"- Python {pv.get('python', '?')}: warden's ctypes binding vs PyJWT {pv.get('pyjwt', '?')} and joserfc "
      f"{pv.get('joserfc', '?')} (cryptography {pv.get('cryptography', '?')})")
    w(f"- Go: {versions.get('go', '?')}, warden's cgo binding vs golang-jwt {versions.get('golang-jwt', '?')}")
    w(f"- C: {versions.get('cc', '?')}; warden's C ABI (libwarden.so) vs libjwt {versions.get('libjwt', '?')} "
      f"(Debian's libjwt-dev; {versions.get('openssl', 'OpenSSL ?')})")
    w(f"- nginx {versions.get('nginx', '?')} (Debian's package) with `ngx_http_warden_module`, wrk "
      f"{versions.get('wrk', '?')}\n")

    def cell(r, target):
        if r is None:
            return "not run", "not run"
        v = verdict(r, ">=", target) if target > 1 else ("PASS" if r > 1 else "**MISS**")
        return f"{fmt_ratio(r, 1)} {v}", v

    def r_of(rows, alg, peer, mine="warden_ns"):
        a = rows.get(alg)
        return ratio(a.get(peer), a.get(mine)) if a else None

    w("### Ratios per alg and host\n")
    w("Targets: Python ≥ 10 × PyJWT on HS256 and faster than PyJWT and joserfc on every alg; Go ≥ 8 × "
      "golang-jwt on HS256 with 0 Go allocations per call, faster on every alg; C ≥ 10 × libjwt on HS256 "
      "(other algs: faster). *Faster* is a ratio above 1.\n")
    w("| alg | Python: PyJWT / warden | Python: joserfc / warden | Go: golang-jwt / warden | C: libjwt / warden |")
    w("|---|---|---|---|---|")
    py_hs, py_all, go_hs, go_all, c_hs, c_all = [], [], [], [], [], []
    for alg in algs:
        hs = alg == "HS256"
        cells = []
        for rows, peer, target, bucket_hs, bucket_all in (
                (pya, "pyjwt_ns", 10.0, py_hs, py_all), (pya, "joserfc_ns", 1.0, None, py_all),
                (goa, "golang_jwt_ns", 8.0, go_hs, go_all), (ca, "libjwt_ns", 10.0, c_hs, c_all)):
            r = r_of(rows, alg, peer)
            if rows is ca and alg == "EdDSA":
                cells.append("— (not in libjwt 1.x)")
                continue
            text, v = cell(r, target if hs else 1.0)
            cells.append(text)
            label = f"{alg}{' vs joserfc' if peer == 'joserfc_ns' else ''}"
            if hs and bucket_hs is not None:
                bucket_hs.append((label, fmt_ratio(r, 1), v))
            if not (hs and bucket_hs is not None):
                bucket_all.append((label, fmt_ratio(r, 1), v))
        w(f"| {alg} | " + " | ".join(cells) + " |")
    w("")
    go_allocs = []
    for alg in algs:
        if ("Warden", alg) in gomem:
            n = gomem[("Warden", alg)][1]
            go_allocs.append((alg, str(n), "PASS" if n == 0 else "**MISS**"))
    summarize("Python binding ≥ 10 × PyJWT on HS256", py_hs)
    summarize("Python binding faster than PyJWT and joserfc on every other case", py_all)
    summarize("Go binding ≥ 8 × golang-jwt on HS256", go_hs)
    summarize("Go binding: 0 Go allocations per verification (`-benchmem`)",
              go_allocs or [("", "—", "not run")])
    summarize("Go binding faster than golang-jwt on RS256, ES256, EdDSA", go_all)
    summarize("C ABI ≥ 10 × libjwt on HS256", c_hs)

    if py:
        w("### Python\n")
        w("`bindings/python/bench.py`: warden is `r = verifier.verify_jwt(token); r.ok and r.subject`; "
          "*+ claims* also reads `r.scopes` and the whole claims dict. PyJWT: `jwt.decode(token, key, "
          "algorithms=[alg], audience=..., issuer=...)`; joserfc: `jwt.decode` then `JWTClaimsRegistry"
          "(iss=..., aud=...).validate`. Best of "
          f"{py.get('rounds', '?')} interleaved rounds of {py.get('seconds', '?')} s each.\n")
        w("| alg | token bytes | warden | warden + claims | PyJWT | joserfc | PyJWT / warden | joserfc / warden |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|")
        for a in py["algs"]:
            w(f"| {a['alg']} | {a['bytes']} | {fmt_time(a['warden_ns'])} | {fmt_time(a['warden_claims_ns'])} "
              f"| {fmt_time(a['pyjwt_ns'])} | {fmt_time(a['joserfc_ns'])} "
              f"| {fmt_ratio(ratio(a['pyjwt_ns'], a['warden_ns']), 1)} "
              f"| {fmt_ratio(ratio(a['joserfc_ns'], a['warden_ns']), 1)} |")
        w("")
    if go or gomem:
        w("### Go\n")
        w("`bindings/go/bench`: warden is `VerifyJWTInto(&r, token, 0)` (a reused `Result`), *owned* is "
          "`VerifyJWT(token)` (a `Result` owning its strings); golang-jwt is `ParseWithClaims` into a claims "
          "struct with `WithValidMethods`, `WithIssuer`, `WithAudience`, `WithExpirationRequired`, "
          "`WithIssuedAt`. The ratio columns come from `TestRatios` (each on a locked OS thread, its CPU "
          f"time, best of {go.get('rounds', '?') if go else '?'} interleaved rounds; garbage collection "
          "runs on other threads and is not counted, which favours golang-jwt); the `go test -bench "
          "-benchmem` columns are wall time per op and allocations per op, measured separately. Verdicts "
          "use `TestRatios` for speed, `-benchmem` for allocations.\n")
        w("| alg | warden | warden owned | golang-jwt | golang-jwt / warden | golang-jwt / owned "
          "| `-bench` ratio | warden allocs/op | owned allocs/op | golang-jwt allocs/op |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for alg in algs:
            a = goa.get(alg, {})
            bw, bo, bj = gomem.get(("Warden", alg)), gomem.get(("WardenOwned", alg)), gomem.get(("GolangJWT", alg))
            ba = lambda b: "—" if b is None else str(b[1])  # noqa: E731
            w(f"| {alg} | {fmt_time(a.get('warden_ns'))} | {fmt_time(a.get('warden_owned_ns'))} "
              f"| {fmt_time(a.get('golang_jwt_ns'))} | {fmt_ratio(ratio(a.get('golang_jwt_ns'), a.get('warden_ns')), 1)} "
              f"| {fmt_ratio(ratio(a.get('golang_jwt_ns'), a.get('warden_owned_ns')), 1)} "
              f"| {fmt_ratio(ratio(bj and bj[0], bw and bw[0]), 1)} | {ba(bw)} | {ba(bo)} | {ba(bj)} |")
        fl = gomem.get(("WardenFloor", ""))
        par = [f"{alg} {fmt_time(gomem[('WardenParallel', alg)][0])}" for alg in algs
               if ("WardenParallel", alg) in gomem]
        w("")
        if par:
            w(f"One verifier shared by GOMAXPROCS goroutines (`BenchmarkWardenParallel`, wall time per op): "
              f"{', '.join(par)}.\n")
        if fl:
            w(f"The binding's own cost (`BenchmarkWardenFloor`, a token rejected at the first check): "
              f"{fmt_time(fl[0])}, {fl[1]} allocs/op.\n")
    if c:
        w("### C\n")
        w("`benches/c/bench_libjwt.c` (built by `benches/c/run.sh`): warden is one `warden_verifier`, one "
          "reused `warden_result` and `warden_verify_jwt(v, token, len, 0, &r)` per call; libjwt is "
          "`jwt_decode(&jwt, token, key, key_len)`, the alg pinned (`jwt_get_alg`), exp / nbf, iss, aud and "
          "sub read and compared by the host (libjwt 1.10 has no claim validation), `jwt_free`. RS256 and "
          "ES256 keys are PEM, which libjwt 1.x parses on every call: that is its API. Batches of about 2 ms "
          f"of each, back to back, order alternating, for {c.get('seconds', '?')} s per alg; medians.\n")
        w("| alg | token bytes | warden | libjwt | libjwt / warden (median of rounds) | rounds |")
        w("|---|---:|---:|---:|---:|---:|")
        for a in c["algs"]:
            w(f"| {a['alg']} | {a['bytes']} | {fmt_time(a['warden_ns'])} | {fmt_time(a['libjwt_ns'])} "
              f"| {fmt_ratio(a['ratio'], 1)} | {a['rounds']} |")
        w("")
    nginx_items = []
    if ng:
        w("### nginx\n")
        paired = ng.get("method") == "median of paired per-round ratios"
        targets = ng.get("target") or {}
        how = (": every location measured once per round, the order reversed every other round; figures are "
               "medians over the rounds, and each ratio is the median of the per-round ratios, a round's "
               "figure over the same round's baseline" if paired else ", best of them")
        w(f"`bindings/nginx/bench.sh`: nginx {ng.get('nginx', '?')}, {ng['workers']} worker, `wrk -t{ng['threads']} "
          f"-c{ng['connections']} -d{ng['duration']}` on loopback, {ng['rounds']} interleaved round(s){how}. "
          "wrk and nginx share the machine's cores (and whatever else runs on it). Every location "
          "twice: serving a small static file, and proxying to an upstream on keepalive connections. "
          "JWT locations use the shared tokens; API key and Basic come from the shared test vectors. "
          "*CPU / req* is the nginx worker's CPU time per request, less sensitive to a busy machine than "
          "req/s.\n")
        try:
            quiet = float(load.split()[0]) < 1.0
        except (IndexError, ValueError):
            quiet = False
        w("The target row is the HS256 location as configured by default, verified-token cache on: wrk sends "
          "one token over and over, as a client does for its token's lifetime, so after the first request "
          "every check is a cache hit (the time claims and revocation are still checked). The cache-off row "
          "is what a stream of distinct tokens costs.\n")
        w("The verdict uses the req/s ratio when the machine was quiet before the host benchmarks (1-minute "
          "load average below 1); otherwise the CPU ratio, marked *(cpu)*: on a busy machine req/s measures "
          "the other load as much as nginx.\n")
        has_tok = paired and all("ratio_token" in r for locs in ng["backends"].values() for r in locs.values())
        if has_tok:
            w("Two baselines: *of unprotected* compares with the plain request to the unprotected location (the "
              "target's definition); *of token sent* compares with the same request, `Authorization` header "
              "and all, to the unprotected location, so what nginx spends receiving and parsing the header "
              "(before any module runs) is out of it: that is what the module and warden cost. It is the HS256 "
              "rows' own request; for the other rows (other headers) it is only indicative.\n")
            w("| backend | location | req/s | of unprotected | of token sent | CPU / req | CPU ratio "
              "| CPU ratio, token sent | p50 | p99 | target | |")
            w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
        else:
            w("| backend | location | req/s | of unprotected | CPU / req | CPU ratio | p50 | p99 | target | |")
            w("|---|---|---:|---:|---:|---:|---:|---:|---|---|")
        for b, locs in ng["backends"].items():
            for name, r in locs.items():
                t, v = ("", "")
                if name == "HS256, token cache on":
                    tg = targets.get(b)
                    if tg:
                        # the target's own rounds decide (see below the table)
                        by = tg["ratio"][1] if quiet else tg["cpu_ratio"][1]
                    else:
                        by = r["ratio"] if quiet else r.get("cpu_ratio")
                    mark = "" if quiet else " (cpu)"
                    t, v = "≥ 0.90×", verdict(by, ">=", 0.90) + mark
                    text = fmt_ratio(by) + mark
                    if tg:
                        text += f" (median of {tg['rounds']} rounds; table: {fmt_ratio(r['ratio'] if quiet else r.get('cpu_ratio'))})"
                    if has_tok:
                        # reported beside the verdict's figure, not used by it
                        if tg:
                            tok = tg["ratio_token"][1] if quiet else tg["cpu_ratio_token"][1]
                        else:
                            tok = r["ratio_token"] if quiet else r["cpu_ratio_token"]
                        text += f", {fmt_ratio(tok)} of token sent"
                    nginx_items.append((b, text, v))
                p50 = "—" if r.get("p50") is None else f"{r['p50']:.2f} ms"
                p99 = "—" if r.get("p99") is None else f"{r['p99']:.2f} ms"
                if has_tok:
                    w(f"| {b} | {name} | {r['rps']:,.0f} | {fmt_ratio(r['ratio'])} | {fmt_ratio(r['ratio_token'])} "
                      f"| {r['cpu_us']:.2f} µs | {fmt_ratio(r.get('cpu_ratio'))} | {fmt_ratio(r['cpu_ratio_token'])} "
                      f"| {p50} | {p99} | {t} | {v} |")
                else:
                    w(f"| {b} | {name} | {r['rps']:,.0f} | {fmt_ratio(r['ratio'])} | {r['cpu_us']:.2f} µs "
                      f"| {fmt_ratio(r.get('cpu_ratio'))} | {p50} | {p99} | {t} | {v} |")
        w("")
        if targets:
            tg0 = next(iter(targets.values()))
            w(f"**The target's own rounds.** The table's rounds pair each location with a baseline measured up to "
              f"a dozen wrk runs away, and single seconds on a shared machine swing by a third, so "
              f"{ng['rounds']} of them decide little. After the table, each backend gets {tg0['rounds']} short rounds ({tg0['duration']} "
              "each) of just the three requests the target compares — plain to the unprotected location, the "
              "HS256 request to it, the HS256 request to the HS256 location (cache on) — in each of the six "
              "orders in turn, and the ratios are taken per round. **The verdict is their median** (req/s or "
              "CPU by the rule above); the quartiles show the spread.\n")
            w("| backend | rounds | req/s: of unprotected | of token sent | CPU: of unprotected | of token sent "
              "| CPU / req: unprotected | token sent | HS256 | module's share of worker CPU (perf) |")
            w("|---|---:|---|---|---|---|---:|---:|---:|---:|")
            q = lambda x: f"**{x[1]:.2f}×** ({x[0]:.2f}–{x[2]:.2f})"  # noqa: E731
            for b, tg in targets.items():
                cu = tg["cpu_us"]
                names = list(cu)
                pf = tg.get("perf")
                share = (f"{pf['module'] * 100:.1f} % (kernel {pf['kernel'] * 100:.0f} %)" if pf else "—")
                w(f"| {b} | {tg['rounds']} | {q(tg['ratio'])} | {q(tg['ratio_token'])} | {q(tg['cpu_ratio'])} "
                  f"| {q(tg['cpu_ratio_token'])} | {cu[names[0]]:.2f} µs | {cu[names[1]]:.2f} µs "
                  f"| {cu[names[2]]:.2f} µs | {share} |")
            w("\nRatios: median (25th–75th percentile) over the rounds. *Module's share*: `perf record` of the "
              "worker while wrk hits the HS256 location for 3 s, the share of its CPU samples (user and "
              "kernel) in `ngx_http_warden_module.so` — the module's C and the warden core linked into it: "
              "what protecting the location costs, measured directly rather than as a difference of two "
              "noisy rates. The rest of the gap to the plain request is nginx's own work: receiving and "
              "parsing the `Authorization` header (*of token sent*), and for the protected request the "
              "variables and the `X-Warden-Subject` response header the benchmark's config adds.\n")
    summarize("nginx: an HS256 location keeps ≥ 90 % of an unprotected location's req/s (static; proxy)",
              nginx_items or [("", "—", "not run")])


def report(args):
    crit = args.criterion
    m = lambda g, b: median_ns(crit, g, b)  # noqa: E731
    out = []
    w = out.append
    model, cpus, ext = machine()
    vers = lock_versions(["ring", "jsonwebtoken", "aws-lc-rs", "aws-lc-sys", "criterion", "base64", "arc-swap"])
    v = lambda n: ", ".join(vers.get(n) or ["?"])  # noqa: E731
    # WARDEN_BENCH_COMMIT: for a run in an exported tree (no .git).
    commit = os.environ.get("WARDEN_BENCH_COMMIT") or sh(["git", "rev-parse", "--short", "HEAD"])
    dirty = " (with uncommitted changes)" if sh(["git", "status", "--porcelain", "--untracked-files=no"]) else ""
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    w("# warden benchmarks\n")
    w("warden's promise: as fast as the cryptography allows, with nothing of ours on top. Every ratio "
      "below compares figures measured in **one run** on the same tokens and keys, so that machine "
      "speed cancels out. Tokens are realistic: a header with `kid` and `typ`, a 256-byte payload "
      "(iss, sub, aud, exp, iat, nbf, jti, scope, name); warden verifies them with an issuer and "
      "audience policy, and `jsonwebtoken` decodes them into a claims struct validating alg, exp, "
      "nbf, iss and aud.\n")
    if args.hosts:
        w("Generated by `benches/all.sh` (every benchmark; the Rust part is `benches/run.sh`) — do not edit "
          "by hand.\n")
    else:
        w("Generated by `benches/run.sh` — do not edit by hand.\n")
    w("## Run\n")
    w(f"- date: {date}; commit `{commit}`{dirty}")
    w(f"- machine: {model}, {cpus} CPUs ({', '.join(ext) or 'no SHA/AVX flags'}); "
      f"{platform.system()} {platform.release()}")
    if args.load:
        nice = os.nice(0)
        w(f"- load average before / after the run: {args.load}"
          f"{f'; benchmarks ran at nice {nice}' if nice else ''}"
          f"{f'; the run took {args.minutes} min' if args.minutes else ''} (the machine may be shared: "
          "ratios are what count, absolute times are indicative)")
    w(f"- {sh(['rustc', '-V']) or 'rustc ?'}; ring {v('ring')}; jsonwebtoken {v('jsonwebtoken')} "
      f"(backend `aws_lc_rs`: aws-lc-rs {v('aws-lc-rs')}); criterion {v('criterion')}; "
      f"base64 {v('base64')}; arc-swap {v('arc-swap')}")
    w("- single-thread figures are the **CPU time of the benchmarking thread** (`CLOCK_THREAD_CPUTIME_ID`, a "
      "custom criterion measurement), so time spent descheduled on a shared machine does not count; "
      "thread scaling is wall time; criterion medians; `cargo bench` release profile\n")
    summary_at = len(out)
    summary = []  # (target, measured, verdicts)

    def summarize(target, items):
        """items: (label, value text, verdict) per measured case."""
        measured = "; ".join(f"{label} {val}" if label else val for label, val, _ in items)
        misses = sum(1 for _, _, v in items if "MISS" in v or v == "not run")
        status = "PASS" if misses == 0 else "not run" if all(v == "not run" for _, _, v in items) else f"**MISS** ({misses} of {len(items)})" if len(items) > 1 else "**MISS**"
        summary.append((target, measured, status))

    w("## JWT verification, cold (verified-token cache off)\n")
    w("`ring floor` is exactly the raw ring verification of the same signing input and signature "
      "bytes (`hmac::verify`, `RsaPublicKeyComponents::verify`, `UnparsedPublicKey::verify`), "
      "signature decoded once outside the loop.\n")
    w("The *paired* columns are a cross-check: the median over some hundred short rounds in which the "
      "two are timed back to back (order alternating), so load that changes between criterion's "
      "separate measurements cannot skew them. **Verdicts use the paired ratio** (criterion's when "
      "there is none); on a quiet machine the two agree.\n")
    w("| alg | ring floor | warden | jsonwebtoken | warden / floor | paired | target | | "
      "jsonwebtoken / warden | paired | target | |")
    w("|---|---:|---:|---:|---:|---:|---|---|---:|---:|---|---|")
    hs, hs_peer, asym, peer_ceiling = [], [], [], []
    for alg in ALGS:
        g = f"jwt_{alg}"
        fl, wa, jw = m(g, "ring_floor"), m(g, "warden"), m(g, "jsonwebtoken")
        r, peer = ratio(wa, fl), ratio(jw, wa)
        pr, pp = paired(args.notes, f"{alg}_warden_floor"), paired(args.notes, f"{alg}_jsonwebtoken_warden")
        vr = pr if pr is not None else r
        vp = pp if pp is not None else peer
        if alg.startswith("HS"):
            t1, v1 = "≤ 2.0×", verdict(vr, "<=", 2.0)
            t2, v2 = "≥ 5×", verdict(vp, ">=", 5.0)
            hs.append((alg, fmt_ratio(vr), v1))
            hs_peer.append((alg, fmt_ratio(vp), v2))
            if ratio(jw, fl) is not None:
                peer_ceiling.append(f"{alg} {fmt_ratio(ratio(jw, fl), 1)}")
        else:
            t1, v1 = "≤ 1.05×", verdict(vr, "<=", 1.05)
            t2, v2 = "—", ""
            asym.append((alg, fmt_ratio(vr), v1))
        w(f"| {alg} | {fmt_time(fl)} | {fmt_time(wa)} | {fmt_time(jw)} | {fmt_ratio(r)} | {fmt_ratio(pr)} "
          f"| {t1} | {v1} | {fmt_ratio(peer)} | {fmt_ratio(pp)} | {t2} | {v2} |")
    w("")
    if peer_ceiling:
        w(f"jsonwebtoken / ring floor (what a verifier with no overhead at all would show): "
          f"{', '.join(peer_ceiling)}.\n")
    by_cpu = []
    for alg in ALGS:
        try:
            with open(os.path.join(args.notes or "", f"{alg}_warden_floor_by_cpu.json")) as f:
                n = json.load(f)
        except (OSError, ValueError):
            continue
        if n.get("ratios") and len(n["ratios"]) == len(n.get("cpus", [])):
            by_cpu.append(f"{alg} " + ", ".join(f"CPU {c} {fmt_ratio(r)}" for c, r in zip(n["cpus"], n["ratios"])))
    if by_cpu:
        w("warden / floor, the same paired cross-check pinned to one CPU at a time (not a verdict: it shows "
          "how far the two vCPUs differ for warden's code against ring's): " + "; ".join(by_cpu) + ".\n")
    summarize("HS256/384/512 verify ≤ 2.0 × raw ring HMAC", hs)
    summarize("HS256/384/512 ≥ 5 × faster than `jsonwebtoken`"
              + (f" (no-overhead ceiling: {', '.join(peer_ceiling)})" if peer_ceiling else ""), hs_peer)
    summarize("RS/PS/ES/EdDSA cold verify ≤ 1.05 × raw ring verify", asym)

    w("## Verified-token cache hit\n")
    w("The same token verified again with the cache on: the signature check is skipped; header "
      "checks, time claims, policy and revocation still run.\n")
    w("| alg | warden (cache hit) | target | |")
    w("|---|---:|---|---|")
    hits = []
    for alg in ["RS256", "ES256", "EdDSA"]:
        t = m("cache_hit", alg)
        v = verdict(None if t is None else t / 1e3, "<=", 0.3)
        hits.append((alg, fmt_time(t), v))
        w(f"| {alg} | {fmt_time(t)} | ≤ 0.3 µs | {v} |")
    t = m("cache_hit", "HS256")
    if t is not None:
        # Not a target: HMAC tokens are cached too, and a hit beats the HMAC.
        w(f"| HS256 | {fmt_time(t)} | — | |")
    w("")
    summarize("verified-token cache hit (RS256, ES256, EdDSA) ≤ 0.3 µs", hits)
    k1, k256 = m("kid_lookup", "keys_1"), m("kid_lookup", "keys_256")
    if k1 is not None and k256 is not None:
        w(f"Key-set size: the HS256 token (cold) with its key alone in the set {fmt_time(k1)}, last of 256 "
          f"HS256 keys {fmt_time(k256)} ({fmt_ratio(ratio(k256, k1))}): a kid is found by hash, not by "
          "scanning the set.\n")

    w("## API keys and Basic\n")
    w("| credential | warden | floor | floor is | ratio | paired | target | |")
    w("|---|---:|---:|---|---:|---:|---|---|")
    a, s = m("api_key", "warden"), m("api_key", "sha256_floor")
    pa = paired(args.notes, "api_key")
    va = pa if pa is not None else ratio(a, s)
    w(f"| API key | {fmt_time(a)} | {fmt_time(s)} | one SHA-256 of the key | {fmt_ratio(ratio(a, s))} "
      f"| {fmt_ratio(pa)} | ≤ 3× | {verdict(va, '<=', 3.0)} |")
    summarize("API key verify ≤ 3 × one SHA-256 of the key", [("", fmt_ratio(va), verdict(va, "<=", 3.0))])
    b, h = m("basic_cached", "warden"), m("basic_cached", "hmac_sha256_floor")
    pb = paired(args.notes, "basic_cached")
    vb = pb if pb is not None else ratio(b, h)
    w(f"| Basic, cached | {fmt_time(b)} | {fmt_time(h)} | one HMAC-SHA256 of `user:pass` "
      f"| {fmt_ratio(ratio(b, h))} | {fmt_ratio(pb)} | ≤ 3× | {verdict(vb, '<=', 3.0)} |")
    summarize("cached Basic ≤ 3 × one HMAC-SHA256", [("", fmt_ratio(vb), verdict(vb, "<=", 3.0))])
    b, p = m("basic_cold", "warden"), m("basic_cold", "pbkdf2_floor")
    w(f"| Basic, cold (PBKDF2-SHA256, 600,000 iterations) | {fmt_time(b)} | {fmt_time(p)} "
      f"| ring `pbkdf2::verify` of the same hash | {fmt_ratio(ratio(b, p))} | | — | |")
    w("")
    one, each = m("api_key_two_verifiers", "one_scratch"), m("api_key_two_verifiers", "scratch_each")
    if one is not None and each is not None:
        po = paired(args.notes, "api_key_two_verifiers")
        w(f"Two verifiers' API keys verified in turn cost {fmt_time(one)} per pair through one `Scratch` "
          f"(a pooled result serving several verifiers, as nginx's does across locations) and "
          f"{fmt_time(each)} with a scratch each: {fmt_ratio(ratio(one, each))}"
          + (f" ({fmt_ratio(po)} paired)" if po is not None else "")
          + ". A scratch keeps the state of its last four verifiers, so moving between them loads "
          "nothing and claims no counter shard.\n")

    w("## Threads\n")
    w("Each thread verifies the same token with its own `Scratch`; the wall time for all threads to "
      "do N verifications each is compared with one thread doing N. Throughput ratio = "
      "2 × t(1 thread) / t(2 threads).\n")
    w("The CPU columns sum the verifying threads' CPU time per verification: equal for 1 and 2 threads "
      "when the threads share nothing that costs (cache lines, locks). `2 / (cpu₂ / cpu₁)` is the "
      "throughput two idle cores would give, whatever else the machine was running.\n")
    quiet = bool(args.load) and float(args.load.split()[0]) < 1.0
    w("*paired, pinned* is the verdict's figure when present (`paired_scaling` in benches/scaling.rs): "
      "one thread pinned to each of two CPUs, in rounds of three ~20 ms phases (order rotating): the "
      "first CPU's thread alone (the other thread awake, spinning on `pause`), the second's alone, both "
      "at once. A round's ratio is the verifications of both together over the mean of the two alone; "
      "the column is the median over the rounds, 2.0× when the threads do not slow each other down. "
      "The unpinned figures compare with one thread on whichever vCPU it happened to run, and this "
      "machine's two vCPUs are not alike (the *alone* column: verifications per second on each CPU by "
      "itself, from the same rounds); a halted vCPU also slowed the other (beside one, both warden and "
      "the floor came out above 2×), hence the spinning.\n")
    w("Without the paired figure, the verdict uses the wall-time ratio when the machine was quiet "
      "before the run (1-minute load average below 1); otherwise the CPU-time figure, marked *(cpu)*: "
      "the cold JWT path takes no lock a thread could wait on, so CPU time is what the two threads "
      "would take on idle cores.\n")
    w("*ring floor* is the same measurement with the raw ring verification of the same bytes in "
      "place of warden's: how far two threads scale on this machine with nothing of warden's in the "
      "way (two vCPUs that are hyperthreads of one core, or a busy host, give less than 2×). It is "
      "the ceiling, shown as the jsonwebtoken ceiling is; the verdict is still on warden's ratio.\n")
    w("| alg | 1 thread, wall per op | 2 threads, wall per op each | throughput 2 / 1 (wall) | "
      "CPU per op, 1 thread | CPU per op, 2 threads | throughput 2 / 1 (CPU) | ring floor 2 / 1 (wall; CPU) "
      "| paired, pinned: warden; ring floor | alone, per s: CPU A; CPU B | target | |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    scal, ceilings = [], []
    for alg in ["HS256", "ES256"]:
        t1, t2 = m(f"scaling_{alg}", "threads_1"), m(f"scaling_{alg}", "threads_2")
        r = None if ratio(t1, t2) is None else 2 * ratio(t1, t2)
        f1, f2 = m(f"scaling_{alg}", "floor_threads_1"), m(f"scaling_{alg}", "floor_threads_2")
        fr = None if ratio(f1, f2) is None else 2 * ratio(f1, f2)
        c1 = c2 = fc1 = fc2 = None
        detail = {}
        if args.notes:
            try:
                with open(os.path.join(args.notes, f"scaling_{alg}.json")) as f:
                    n = json.load(f)
                c1, c2 = n["cpu_ns_per_op_1"], n["cpu_ns_per_op_2"]
                fc1, fc2 = n.get("floor_cpu_ns_per_op_1"), n.get("floor_cpu_ns_per_op_2")
            except (OSError, KeyError, ValueError):
                pass
            try:
                with open(os.path.join(args.notes, f"paired_scaling_{alg}_detail.json")) as f:
                    detail = json.load(f)
            except (OSError, ValueError):
                pass
        rc = None if ratio(c1, c2) is None else 2 * ratio(c1, c2)
        frc = None if ratio(fc1, fc2) is None else 2 * ratio(fc1, fc2)
        pr = paired(args.notes, f"scaling_{alg}")
        pfr = detail.get("floor_ratio")
        alone = detail.get("alone_per_s")
        if pr is not None:
            ceiling = pfr
        else:
            ceiling = fr if quiet or frc is None else frc
        if ceiling is not None:
            ceilings.append(f"{alg} {fmt_ratio(ceiling)}")
        # Wall time is the literal target, but on a busy machine it measures the
        # other load; then the verdict comes from CPU time (marked "cpu"). The
        # paired, pinned ratio beats both when there is one.
        if pr is not None:
            v, shown = verdict(pr, ">=", 1.9), fmt_ratio(pr) + " (paired)"
        elif quiet or rc is None:
            v, shown = verdict(r, ">=", 1.9), fmt_ratio(r)
        else:
            v, shown = verdict(rc, ">=", 1.9) + " (cpu)", fmt_ratio(rc) + " (cpu)"
        scal.append((alg, shown, v))
        alone_text = "—" if not alone else f"{alone[0]:,.0f}; {alone[1]:,.0f}"
        w(f"| {alg} | {fmt_time(t1)} | {fmt_time(t2)} | {fmt_ratio(r)} | {fmt_time(c1)} | {fmt_time(c2)} "
          f"| {fmt_ratio(rc)} | {fmt_ratio(fr)}; {fmt_ratio(frc)} | {fmt_ratio(pr)}; {fmt_ratio(pfr)} "
          f"| {alone_text} | ≥ 1.9× | {v} |")
    w("")
    summarize("2 threads ≥ 1.9 × one thread (HS256, ES256)"
              + (f" (ring floor on this machine: {', '.join(ceilings)})" if ceilings else ""), scal)

    w("## Key-set swaps under load\n")
    w("One thread verifies while another calls `Verifier::set_jwks` with the same key set "
      "(HS256, ES256, RS256 and EdDSA keys, re-parsed and re-validated each time) every millisecond. Times are "
      "the verifying thread's CPU time; throughput ratio = t(no swap) / t(with swaps). The criterion "
      "columns are two measurements minutes apart; the *paired* ratio (the verdict's, when present) is "
      "the median over 40 rounds that each verify ~30 ms quiet and ~30 ms while swapping, order alternating.\n")
    w("| alg | no swap | 1,000 swaps/s | swaps achieved | throughput ratio | paired | swaps achieved (paired) "
      "| target | |")
    w("|---|---:|---:|---:|---:|---:|---:|---|---|")
    swaps = []

    def rate_of(name):
        if not args.notes:
            return "—"
        try:
            with open(os.path.join(args.notes, name)) as f:
                return f"{json.load(f)['per_s']:.0f}/s"
        except (OSError, KeyError, ValueError):
            return "—"

    for alg in ["HS256", "ES256"]:
        n, s = m(f"swap_{alg}", "no_swap"), m(f"swap_{alg}", "swap_1000hz")
        r = ratio(n, s)
        pr = paired(args.notes, f"swap_{alg}")
        vr = pr if pr is not None else r
        rate, prate = rate_of(f"swap_{alg}.json"), rate_of(f"paired_swap_{alg}_rate.json")
        w(f"| {alg} | {fmt_time(n)} | {fmt_time(s)} | {rate} | {fmt_ratio(r)} | {fmt_ratio(pr)} | {prate} "
          f"| ≥ 0.95× | {verdict(vr, '>=', 0.95)} |")
        swaps.append((alg, f"{fmt_ratio(vr)} at {prate if pr is not None else rate}", verdict(vr, ">=", 0.95)))
    w("")
    summarize("throughput under 1,000 key-set swaps/s ≥ 95 % of no swaps", swaps)
    sa, se = m("set_jwks", "swap_set"), m("set_jwks", "all_12_keys")
    w(f"One `set_jwks` costs the calling thread {fmt_time(sa)} for the swapped set (HS256, ES256, "
      f"RS256 and EdDSA keys) and {fmt_time(se)} for all twelve bench keys.\n")

    if args.hosts:
        hosts_section(args.hosts, w, summarize)

    if args.profile:
        parts = [p for p in args.profile if os.path.exists(p)]
        if parts:
            w("## Where the time goes\n")
            for p in parts:
                w(open(p).read().strip() + "\n")

    w("## Rerun\n")
    w("```sh\nbenches/all.sh              # everything: the hosts (about 9 minutes), then the Rust benches\n"
      "                            # (about 5): about 14 minutes on 2 cores after the builds; writes BENCHMARKS.md\n"
      "benches/all.sh --quick      # the same, short: a smoke test\n"
      "benches/all.sh --only c,go  # some hosts only (rust, python, go, c, nginx); the report goes to\n"
      "                            # $CARGO_TARGET_DIR/warden-bench-hosts/BENCHMARKS.md\n"
      "benches/run.sh              # the Rust benches only: about 5 minutes on 2 cores after the build\n"
      "benches/run.sh --quick      # shorter measurements, for a smoke test\n"
      "benches/run.sh --profile    # also profile (callgrind, perf; about 2 more minutes) and include the tables\n"
      "cargo bench --bench jwt -- jwt_ES256   # one group, criterion's own output\n```\n")
    w("Benches: `benches/jwt.rs` (per-alg groups: warden, ring floor, jsonwebtoken; cache hits), "
      "`benches/credentials.rs` (API keys, Basic cold and cached), `benches/scaling.rs` (threads, "
      "key-set swaps), `benches/profile.rs` + `benches/profile.sh` (plain loops for callgrind / perf). "
      "Fixtures: `benches/common/mod.rs` (keys generated with ring at start-up; RSA from "
      "`benches/data/rsa2048.pk8.der`, our own test key). Hosts: `benches/hosts/tokens.py` (the shared "
      "tokens), `bindings/python/bench.py`, `bindings/go/bench/`, `benches/c/` (`run.sh`, "
      "`bench_libjwt.c`), `bindings/nginx/bench.sh`; each also runs alone (see its header).")
    head = ["## Targets\n", "| target | measured | |", "|---|---|---|"]
    head += [f"| {t} | {meas} | {st} |" for t, meas, st in summary]
    out[summary_at:summary_at] = head + [""]
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")


# --- callgrind summary -------------------------------------------------------

CATEGORIES = [
    ("ring (the cryptography)",
     lambda f, fn: "/ring-" in f or fn.startswith(("ring_core_", "ring::", "__ecp_nistz256", "__bn_", "__rsaz"))),
    ("base64url decoding", lambda f, fn: "/base64-" in f or f.endswith("src/b64.rs") or "base64::" in fn or "b64::" in fn),
    ("duplicate-name check", lambda f, fn: "has_duplicate" in fn),
    ("UTF-8 validation", lambda f, fn: "str/validations.rs" in f or "from_utf8" in fn),
    ("JSON number parsing", lambda f, fn: "dec2flt" in f or "dec2flt" in fn or "FromStr>::from_str" in fn),
    ("JSON scanning", lambda f, fn: f.endswith("src/json.rs") or "warden::json::" in fn),
    ("token split and claim dispatch", lambda f, fn: f.endswith("jwt/token.rs") or "token::parse" in fn),
    ("claim policy", lambda f, fn: f.endswith("jwt/policy.rs") or "Policy::check" in fn or "has_claim" in fn),
    ("API key checksum (CRC-32, base62)",
     lambda f, fn: f.endswith("apikey/format.rs") or "check_format" in fn or "crc32" in fn or "base62" in fn),
    ("hash-map lookups (SipHash, hashbrown, DashMap)",
     lambda f, fn: "/hashbrown-" in f or "/dashmap-" in f or "/hash/sip.rs" in f or "/hash/mod.rs" in f
     or "hashbrown" in fn),
    ("verified-token cache", lambda f, fn: f.endswith("src/cache.rs") or "TokenCache" in fn),
    ("Basic user and cache logic", lambda f, fn: "/src/basic/" in f or "basic::" in fn),
    ("stats counters", lambda f, fn: f.endswith("src/stats.rs") or "stats::" in fn),
    ("arc-swap loads", lambda f, fn: "/arc-swap-" in f or "arc_swap" in fn),
    ("result strings (scratch)", lambda f, fn: f.endswith("src/scratch.rs") or f.endswith("src/verified.rs")),
    ("libc memcmp / memcpy / memset", lambda f, fn: "libc.so" in fn or "/multiarch/mem" in f or fn.startswith("__mem")),
]
OTHER = "everything else (verify_* glue: key selection, revocation, result strings, lookups)"
FLOOR_OF = {"jwt:": "floor:", "cache:": None, "api_key": "sha256", "basic_cached": "hmac"}


def categorize(path):
    """Self cost (Ir) per category, from `callgrind_annotate` of `path`."""
    text = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", path],
                          capture_output=True, text=True, check=True).stdout
    total, cats = 0, {}
    line_re = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.+)$")
    in_table = False
    for line in text.splitlines():
        if "file:function" in line:
            in_table = True
            continue
        if not in_table:
            if "PROGRAM TOTALS" in line:
                total = int(line.split()[0].replace(",", ""))
            continue
        mm = line_re.match(line)
        if not mm:
            continue
        ir = int(mm.group(1).replace(",", ""))
        file, _, fn = mm.group(2).partition(":")
        name = OTHER
        for cat, test in CATEGORIES:
            if test(file, fn):
                name = cat
                break
        cats[name] = cats.get(name, 0) + ir
    return total, cats


def floor_case(case):
    for prefix, floor in FLOOR_OF.items():
        if case.startswith(prefix):
            return None if floor is None else (floor + case[len(prefix):] if prefix.endswith(":") else floor)
    return None


def profile(args):
    rows = {}
    for path in args.files:
        mm = re.match(r"callgrind\.(.+)\.(\d+)\.out$", os.path.basename(path))
        if not mm:
            sys.exit(f"unexpected file name {path}")
        case = mm.group(1)
        if case.startswith(("jwt_", "floor_", "cache_")):
            case = case.replace("_", ":", 1)
        n = int(mm.group(2))
        total, cats = categorize(path)
        rows[case] = (total / n, {k: v / n for k, v in cats.items()})
    ring_cat = CATEGORIES[0][0]
    out = []
    w = out.append
    w("Instructions per operation, from callgrind (`benches/profile.sh`): deterministic, unlike the times "
      "above. Valgrind hides SHA-NI from ring, so ring's own counts here exceed what the real CPU runs; "
      "the overhead column (the case minus its floor) is what warden adds.\n")
    w("| case | instructions / op | floor case | floor / op | overhead / op |")
    w("|---|---:|---|---:|---:|")
    for case, (total, cats) in rows.items():
        if case.startswith("floor:") or case in ("sha256", "hmac"):
            continue
        fc = floor_case(case)
        ft = rows[fc][0] if fc in rows else 0.0
        w(f"| `{case}` | {total:,.0f} | {'`' + fc + '`' if fc else 'none (no crypto on a hit)'} | {ft:,.0f} "
          f"| {total - ft:,.0f} |")
    w("")
    w("Where each case's instructions outside ring go (self cost by source file; inlined code counts "
      "where it is written):\n")
    shown = [c for c in rows if not c.startswith("floor:") and c not in ("sha256", "hmac")]
    cats_seen = []
    for c in shown:
        for k in rows[c][1]:
            if k != ring_cat and k not in cats_seen:
                cats_seen.append(k)
    cats_seen.sort(key=lambda k: -max(rows[c][1].get(k, 0) for c in shown))
    w("| where | " + " | ".join(f"`{c}`" for c in shown) + " |")
    w("|---|" + "---:|" * len(shown))
    for k in cats_seen:
        vals = [rows[c][1].get(k, 0) for c in shown]
        if max(vals) < 5:
            continue
        w(f"| {k} | " + " | ".join(f"{v:,.0f}" for v in vals) + " |")
    w("| **total outside ring** | " + " | ".join(
        f"**{rows[c][0] - rows[c][1].get(ring_cat, 0):,.0f}**" for c in shown) + " |")
    w("")
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")


def perf_shares(path):
    """Share of samples per category, from `perf report` of `path` (symbols only:
    inlined code counts in the function it was inlined into)."""
    text = subprocess.run(["perf", "report", "-i", path, "--stdio", "--no-children", "--sort", "symbol",
                           "-g", "none"], capture_output=True, text=True, check=True).stdout
    cats = {}
    for line in text.splitlines():
        mm = re.match(r"^\s+([\d.]+)%\s+\[(.)\]\s+(.+?)\s*(?:-\s+-\s*)?$", line)
        if not mm:
            continue
        pct, space, fn = float(mm.group(1)), mm.group(2), mm.group(3)
        name = "kernel" if space == "k" else OTHER
        if space != "k":
            for cat, test in CATEGORIES:
                if test("", fn):
                    name = cat
                    break
        cats[name] = cats.get(name, 0.0) + pct
    return cats


def perf_summary(args):
    ring_cat = CATEGORIES[0][0]
    rows = []
    for path in args.files:
        mm = re.match(r"perf\.(.+)\.data$", os.path.basename(path))
        case = mm.group(1) if mm else path
        if case.startswith(("jwt_", "cache_")):
            case = case.replace("_", ":", 1)
        rows.append((case, perf_shares(path)))
    out = []
    w = out.append
    w("On the real CPU (perf sampling, `benches/profile.sh`; ring uses SHA-NI here): share of each "
      "verification's time. For a cold verification, 100 % / ring's share estimates warden / floor.\n")
    cats = []
    for _, c in rows:
        for k in c:
            if k not in cats:
                cats.append(k)
    cats.sort(key=lambda k: (k != ring_cat, -max(c.get(k, 0) for _, c in rows)))
    w("| where | " + " | ".join(f"`{case}`" for case, _ in rows) + " |")
    w("|---|" + "---:|" * len(rows))
    for k in cats:
        vals = [c.get(k, 0.0) for _, c in rows]
        if max(vals) < 0.5:
            continue
        w(f"| {k} | " + " | ".join(f"{v:.1f}%" for v in vals) + " |")
    est = []
    for case, c in rows:
        ring = c.get(ring_cat, 0.0)
        est.append(f"{100 / ring:.2f}×" if ring > 0 and case.startswith("jwt:") else "—")
    w("| **estimated warden / floor** | " + " | ".join(est) + " |")
    w("")
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report")
    r.add_argument("--criterion", required=True)
    r.add_argument("--notes")
    r.add_argument("--profile", action="append", help="markdown from profile.sh (repeatable)")
    r.add_argument("--load", default="")
    r.add_argument("--minutes", default="")
    r.add_argument("--hosts", help="the directory benches/all.sh wrote the host benchmarks to")
    r.add_argument("--out", required=True)
    p = sub.add_parser("profile")
    p.add_argument("--out", required=True)
    p.add_argument("files", nargs="+")
    q = sub.add_parser("perf")
    q.add_argument("--out", required=True)
    q.add_argument("files", nargs="+")
    args = ap.parse_args()
    {"report": report, "profile": profile, "perf": perf_summary}[args.cmd](args)


if __name__ == "__main__":
    main()
