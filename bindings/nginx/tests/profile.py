#!/usr/bin/env python3
"""User-space instructions per request of an nginx worker, under callgrind: the
deterministic complement of bench.py (whose req/s and CPU time a shared machine
blurs). nginx runs as one process (master_process off) under valgrind; each
location of bench.py's HS256 comparison gets --requests keepalive requests
after a warm-up, counted between `callgrind_control -z` and `-d`. Kernel work
(sockets, sendfile) is not counted: on loopback it is about half of the
worker's CPU time.

    profile.py --module build/ngx_http_warden_module.so [--tokens tokens.json]
               [--requests 2000] [--out DIR]

Prints instructions per request for the static and proxy backends: the
unprotected location, the same with the HS256 token sent, and the HS256
location (verified-token cache on), then what the protected request spends
in warden_verify_jwt (the Rust core) and in the module's own C code. The
callgrind files stay in --out for callgrind_annotate.
"""

import argparse
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def token_and_config(path):
    if path:
        with open(path, encoding="utf-8") as f:
            shared = json.load(f)
        tok = {a["alg"]: a["token"] for a in shared["algs"]}["HS256"]
        # the verified-token cache as configured by default (on)
        return tok, {k: v for k, v in shared["config"].items() if k != "cache"}
    secret = os.urandom(32)
    claims = {"iss": "https://issuer.example", "sub": "user_2Nf8kQ4tXb7LmZ9pR3vW", "aud": "orders-api",
              "exp": 4102444800, "iat": 1700000000, "nbf": 1700000000, "jti": "x" * 32,
              "scope": "orders:read orders:write", "name": "A Profiled User " + "x" * 60}
    tok = harness.hs256(secret, claims, kid="hs256-profile")
    return tok, {"jwt": {"jwks": {"keys": [harness.hs256_jwk(secret, "hs256-profile")]},
                         "issuer": ["https://issuer.example"], "audience": ["orders-api"]}}


def summary_of(path):
    trigger = total = None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("desc: Trigger:"):
                trigger = line.split(":", 2)[2].strip()
            elif line.startswith("summary:"):
                total = int(line.split()[1])
                break
    return trigger, total


def inclusive(path):
    """function name -> inclusive instructions, from callgrind_annotate."""
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no", "--inclusive=yes", path],
                         capture_output=True, text=True).stdout
    inc = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([\s\d.]+%\)\s+(\S+)", line)
        if m:
            name = m.group(2).split(":", 1)[-1]
            inc[name] = max(inc.get(name, 0), int(m.group(1).replace(",", "")))
    return inc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True)
    ap.add_argument("--tokens", help="tokens.json from benches/hosts/tokens.py (default: mint an HS256 token)")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--out", default=None, help="where the callgrind files go (default: a temporary directory)")
    args = ap.parse_args()

    for tool in ("valgrind", "callgrind_control", "callgrind_annotate"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found (apt-get install valgrind)")

    token, config = token_and_config(args.tokens)
    tmp = tempfile.mkdtemp(prefix="warden-nginx-profile-")
    os.chmod(tmp, 0o755)
    out = args.out or os.path.join(tmp, "callgrind")
    os.makedirs(out, exist_ok=True)
    for f in glob.glob(os.path.join(out, "callgrind.out*")):
        os.unlink(f)
    cfg = os.path.join(tmp, "hs256.json")
    with open(cfg, "w") as f:
        json.dump(config, f)
    # the same locations as bench.py's static and proxy HS256 comparison
    ng, main_, temps, port, up_port, backends = harness.bench_nginx(tmp, args.module)
    locs = []
    for b, body in backends.items():
        locs.append(f"location /{b}/open/ {{ {body} }}")
        locs.append(f"location /{b}/hs256/ {{ warden_config {cfg}; warden jwt; {body} }}")
    ng.write_conf(main_ + "master_process off; daemon off; worker_processes 1;\n"
                  + harness.bench_http(temps, port, up_port, locs))
    auth = "Authorization: Bearer " + token
    runs = []
    for b in backends:
        runs += [(f"{b}: unprotected", f"/{b}/open/", None),
                 (f"{b}: unprotected, HS256 token sent", f"/{b}/open/", auth),
                 (f"{b}: HS256, token cache on", f"/{b}/hs256/", auth)]

    def send(path, header, n):
        req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: profile\r\n"
               + (header + "\r\n" if header else "") + "\r\n").encode()
        socks = [socket.create_connection(("127.0.0.1", port), timeout=120) for _ in range(args.connections)]
        done = 0
        try:
            while done < n:
                for s in socks:
                    s.sendall(req)
                for s in socks:
                    buf = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            raise SystemExit(f"{path}: connection closed")
                        buf += chunk
                        i = buf.find(b"\r\n\r\n")
                        if i < 0:
                            continue
                        m = re.search(rb"(?i)content-length: (\d+)", buf[:i])
                        if m and len(buf) >= i + 4 + int(m.group(1)):
                            break
                    if not buf.startswith(b"HTTP/1.1 200"):
                        raise SystemExit(f"{path}: {buf[:100]!r}")
                done += len(socks)
        finally:
            for s in socks:
                s.close()
        return done

    vg = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.out",
                           ng.bin, "-p", tmp + "/", "-c", ng.conf],
                          stdout=subprocess.DEVNULL, stderr=open(os.path.join(out, "valgrind.log"), "w"))
    counts = {}
    try:
        deadline = time.time() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or vg.poll() is not None:
                    raise SystemExit("nginx did not start under valgrind\n" + ng.log_tail())
                time.sleep(0.2)
        for i, (name, path, header) in enumerate(runs):
            send(path, header, 200)    # warm-up: caches, keepalive upstream connections
            time.sleep(0.2)
            subprocess.run(["callgrind_control", "-z", str(vg.pid)], capture_output=True, check=True)
            counts[f"r{i}"] = (name, send(path, header, args.requests))
            time.sleep(0.2)
            subprocess.run(["callgrind_control", "-d", f"r{i}", str(vg.pid)], capture_output=True, check=True)
    finally:
        vg.terminate()
        vg.wait()
        if not args.out:
            print(f"callgrind files: {out}")

    per = {}
    files = {}
    for f in glob.glob(os.path.join(out, "callgrind.out.*")):
        trigger, total = summary_of(f)
        key = (trigger or "").replace("dump ", "")
        if key in counts:
            name, n = counts[key]
            per[name] = total / n
            files[name] = (f, n)
    print(f"nginx under callgrind, one process, {args.requests} keepalive requests per location "
          f"({args.connections} connections); user-space instructions per request")
    for b in backends:
        o, t, h = (per[f"{b}: {x}"] for x in ("unprotected", "unprotected, HS256 token sent",
                                              "HS256, token cache on"))
        f, n = files[f"{b}: HS256, token cache on"]
        inc = inclusive(f)
        handler = inc.get("ngx_http_warden_handler", 0) / n
        rust = inc.get("warden_verify_jwt", 0) / n
        var = inc.get("ngx_http_warden_variable", 0) / n
        cln = inc.get("ngx_http_warden_cleanup", 0) / n
        print(f"\n{b}:")
        print(f"  unprotected                    {o:8.0f}")
        print(f"  unprotected, HS256 token sent  {t:8.0f}  (+{t - o:.0f}: nginx receiving the header"
              + (", and the upstream, the same nginx, parsing it again" if b == "proxy" else "") + ")")
        print(f"  HS256, token cache on          {h:8.0f}  (+{h - t:.0f} over token sent)")
        print(f"    warden_verify_jwt (Rust)     {rust:8.0f}")
        print(f"    module C: access handler {handler - rust:.0f}, variables {var:.0f}, cleanup {cln:.0f}: "
              f"{handler - rust + var + cln:.0f}")
        print(f"    the rest: nginx's own work that differs between the two locations (variable machinery, "
              f"the added header, allocator; a few hundred either way) {h - t - handler - var - cln:.0f}")
    if args.out:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
