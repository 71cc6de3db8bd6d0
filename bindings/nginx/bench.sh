#!/usr/bin/env bash
# Benchmark (not a test): wrk on loopback against the packaged nginx with the
# module: an unprotected location, HS256, ES256 with and without the
# verified-token cache, API key and cached Basic; prints requests/s, latency,
# nginx worker CPU time per request and the ratios to the unprotected location
# and to the same request (token sent) to it. With --rounds N the locations are
# measured N times, interleaved; ratios are paired per round, medians reported.
# --target-rounds N then measures, per backend, N short rounds of only the
# three requests the HS256 target compares (its verdict in BENCHMARKS.md);
# --perf samples the worker with perf: the module's share of its CPU.
#
#   bindings/nginx/bench.sh [--duration 10s] [--connections 32] [--rounds 3]
#                           [--target-rounds 30] [--target-duration 1s] [--perf]
#                           [--workers 1] [--min-hs256-ratio 0.9]
#
# Installs wrk with apt-get when missing (as root). Honours CARGO_TARGET_DIR,
# WARDEN_LIB and WARDEN_VECTORS as test.sh does.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
vectors="${WARDEN_VECTORS:-$root/../shared/vectors}"

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "bench.sh: wrk is required (apt-get install wrk)" >&2
    exit 1
  fi
fi

module="$("$here/build.sh" | tail -n 1)"
exec python3 "$here/tests/bench.py" --module "$module" --vectors "$vectors" "$@"
