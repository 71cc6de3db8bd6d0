#!/usr/bin/env bash
# Every benchmark, one report: the hosts (Python, Go, C, nginx) against their
# usual JWT libraries, then the Rust benches (benches/run.sh), all written to
# BENCHMARKS.md by benches/report.py.
#
#   benches/all.sh                    full run (about 14 minutes on 2 cores after the builds; the
#                                     builds from scratch take about 10 more)
#   benches/all.sh --quick            short measurements: a smoke test, not numbers to publish
#   benches/all.sh --only c,python    some hosts only (rust, python, go, c, nginx); the report
#                                     then goes to $CARGO_TARGET_DIR/warden-bench-hosts/BENCHMARKS.md,
#                                     never over the published one
#
# Hosts, each on the same tokens and keys (benches/hosts/tokens.py, minted at
# the start of the run):
#   python  bindings/python/bench.py: the binding vs PyJWT and joserfc (its own venv)
#   go      bindings/go/bench: go test -bench -benchmem, and TestRatios (interleaved, thread CPU
#           time) vs golang-jwt
#   c       benches/c/run.sh: the C ABI vs libjwt (Debian's libjwt-dev)
#   nginx   bindings/nginx/bench.sh: wrk on loopback, protected vs unprotected locations
#
# As root with apt-get, installs what is missing: libjwt-dev, pkg-config, wrk, nginx,
# nginx-dev. pip (PyJWT, joserfc, cryptography, in bindings/python/.bench-venv) and the Go
# module proxy (golang-jwt) are used through their own clients. Go itself must be installed.
# A host that fails is reported as "not run" (its log is in $CARGO_TARGET_DIR/warden-bench-hosts)
# and the script exits 1 after writing the report. No test depends on any of these timings.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

QUICK=0
ONLY="rust,python,go,c,nginx"
PARTIAL=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --only) ONLY="$2"; PARTIAL=1; shift ;;
        *) echo "usage: benches/all.sh [--quick] [--only rust,python,go,c,nginx]" >&2; exit 2 ;;
    esac
    shift
done
want() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
[ "$ONLY" = "rust,python,go,c,nginx" ] && PARTIAL=0

TARGET="${CARGO_TARGET_DIR:-target}"
mkdir -p "$TARGET"
TARGET="$(cd "$TARGET" && pwd)"
HOSTS="$TARGET/warden-bench-hosts"
rm -rf "$HOSTS" # only this run's numbers
mkdir -p "$HOSTS"
log() { echo "all.sh: $*" >&2; }

# 1. What the hosts need -----------------------------------------------------
need=()
if want c; then
    [ -f /usr/include/jwt.h ] || need+=(libjwt-dev)
    command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
fi
if want nginx; then
    command -v wrk >/dev/null 2>&1 || need+=(wrk)
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
    [ -f /usr/share/nginx/src/configure ] || need+=(nginx-dev)
fi
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
        log "missing ${need[*]} (apt-get install ${need[*]}); the hosts needing them will fail"
    fi
fi

# 2. Builds first, so that no build runs beside a measurement ----------------
log "cargo build --release --lib"
cargo build --release --lib --quiet
python3 benches/hosts/tokens.py "$HOSTS/tokens"
TOKENS="$HOSTS/tokens/tokens.json"
if want nginx; then
    log "building the nginx module"
    WARDEN_LIB="$TARGET/release/libwarden.a" bindings/nginx/build.sh >"$HOSTS/nginx-build.log" 2>&1 \
        || log "nginx module build failed (see $HOSTS/nginx-build.log)"
fi
if want go && command -v go >/dev/null 2>&1; then
    (cd bindings/go/bench && CGO_LDFLAGS="-L$TARGET/release" go test -count=1 -run '^$' . >/dev/null) \
        || log "go: the benchmark does not build"
fi

# 3. The hosts, one after the other ------------------------------------------
FAILED=()
host() { # host NAME COMMAND...: run, log to $HOSTS/NAME.log, remember a failure
    local name="$1"
    shift
    log "== $name"
    if ! "$@" 2>&1 | tee "$HOSTS/$name.log"; then
        log "$name failed (see $HOSTS/$name.log)"
        FAILED+=("$name")
    fi
}
go_bench() {
    cd bindings/go/bench
    export CGO_LDFLAGS="-L$TARGET/release" WARDEN_BENCH_TOKENS="$TOKENS"
    local benchtime=1s rounds=5
    [ "$QUICK" = 1 ] && benchtime=100ms rounds=1
    go test -count=1 -run '^$' -bench . -benchmem -benchtime "$benchtime" . | tee "$HOSTS/go-bench.txt" || return 1
    WARDEN_BENCH_RATIOS=1 WARDEN_BENCH_ROUNDS="$rounds" WARDEN_BENCH_JSON="$HOSTS/go.json" \
        go test -count=1 -run TestRatios -v .
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_BEFORE="$(load)"
START=$(date +%s)
if [ "$QUICK" = 1 ]; then
    PY_ARGS=(--seconds 0.1 --rounds 1) C_ARGS=(--quick) NGINX_ARGS=(--duration 1s --rounds 1 --target-rounds 3 --perf)
else
    PY_ARGS=(--rounds 5) C_ARGS=(--seconds 5) NGINX_ARGS=(--duration 2s --rounds 7 --target-rounds 30 --perf)
fi
want python && host python python3 bindings/python/bench.py --tokens "$TOKENS" --json "$HOSTS/python.json" "${PY_ARGS[@]}"
want go && host go go_bench
want c && host c benches/c/run.sh --tokens "$HOSTS/tokens" --json "$HOSTS/c.json" "${C_ARGS[@]}"
want nginx && host nginx bindings/nginx/bench.sh --tokens "$TOKENS" --json "$HOSTS/nginx.json" "${NGINX_ARGS[@]}"
echo "$LOAD_BEFORE / $(load)" >"$HOSTS/load.txt"
echo $(( ($(date +%s) - START + 30) / 60 )) >"$HOSTS/minutes.txt"

# Versions of every peer (benches/report.py reads them) -----------------------
{
    v() { printf '%s\t%s\n' "$1" "$2"; }
    v cc "$(${CC:-cc} --version 2>/dev/null | head -n 1)"
    v libjwt "$(dpkg-query -W -f='${Version}' libjwt-dev 2>/dev/null || pkg-config --modversion libjwt 2>/dev/null)"
    v openssl "$(openssl version 2>/dev/null)"
    v go "$(go version 2>/dev/null | cut -d' ' -f3-)"
    v golang-jwt "$(cd bindings/go/bench && go list -m -f '{{.Version}}' github.com/golang-jwt/jwt/v5 2>/dev/null)"
    v nginx "$( (nginx -v 2>&1 || /usr/sbin/nginx -v 2>&1) | sed 's|.*/||')"
    v wrk "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f2)"
} >"$HOSTS/versions.tsv"

# 4. The Rust benches, and the one report ------------------------------------
RUN_ARGS=()
[ "$QUICK" = 1 ] && RUN_ARGS+=(--quick)
if want rust && [ "$PARTIAL" = 0 ]; then
    benches/run.sh "${RUN_ARGS[@]}" --hosts "$HOSTS"
elif want rust; then
    benches/run.sh "${RUN_ARGS[@]}" --hosts "$HOSTS" --out "$HOSTS/BENCHMARKS.md"
else
    mkdir -p "$HOSTS/no-criterion"
    python3 benches/report.py report --criterion "$HOSTS/no-criterion" --hosts "$HOSTS" --out "$HOSTS/BENCHMARKS.md"
    log "wrote $HOSTS/BENCHMARKS.md (a partial run: BENCHMARKS.md is left alone)"
fi

if [ "${#FAILED[@]}" -gt 0 ]; then
    log "failed: ${FAILED[*]}"
    exit 1
fi
