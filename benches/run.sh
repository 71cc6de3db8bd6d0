#!/usr/bin/env bash
# Run warden's benchmarks and write BENCHMARKS.md at the repository root.
#
#   benches/run.sh             full run (about 10 minutes on 2 cores, after the build)
#   benches/run.sh --quick     short measurements: a smoke test, not numbers to publish
#   benches/run.sh --profile   also profile (benches/profile.sh: callgrind, and perf
#                              where it works) and include the breakdowns
#   benches/run.sh --hosts DIR also report the host benchmarks in DIR (benches/all.sh,
#                              which runs everything, passes it)
#   benches/run.sh --out FILE  write FILE instead of BENCHMARKS.md
#
# Extra arguments after `--` go to every criterion binary (e.g. a filter).
# Honours CARGO_TARGET_DIR. Ratios within one run are what count: on a shared
# machine, absolute times move with the load (the report records it).
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
PROFILE=0
HOSTS_ARGS=()
OUT=BENCHMARKS.md
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --profile) PROFILE=1 ;;
        --hosts) HOSTS_ARGS=(--hosts "$2"); shift ;;
        --out) OUT="$2"; shift ;;
        --) shift; EXTRA=("$@"); break ;;
        *) echo "usage: benches/run.sh [--quick] [--profile] [--hosts DIR] [--out FILE] [-- criterion args]" >&2; exit 2 ;;
    esac
    shift
done

TARGET="${CARGO_TARGET_DIR:-target}"
mkdir -p "$TARGET"
TARGET="$(cd "$TARGET" && pwd)"
export CRITERION_HOME="$TARGET/criterion"
export WARDEN_BENCH_NOTES="$TARGET/warden-bench-notes"
rm -rf "$CRITERION_HOME" "$WARDEN_BENCH_NOTES" # only this run's numbers
mkdir -p "$WARDEN_BENCH_NOTES"

ARGS=()
if [ "$QUICK" = 1 ]; then
    ARGS=(--warm-up-time 0.2 --measurement-time 0.5)
fi
ARGS+=("${EXTRA[@]}")

# Build everything first, so the build does not run beside the measurements.
cargo bench --no-run --bench jwt --bench credentials --bench scaling

load() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_BEFORE="$(load)"
START=$(date +%s)
for b in jwt credentials scaling; do
    cargo bench --bench "$b" -- "${ARGS[@]}"
done
LOAD_AFTER="$(load)"
MINUTES=$(( ($(date +%s) - START + 30) / 60 ))

PROFILE_ARGS=()
if [ "$PROFILE" = 1 ]; then
    benches/profile.sh "$TARGET/warden-profile"
    PROFILE_ARGS=(--profile "$TARGET/warden-profile/perf.md" --profile "$TARGET/warden-profile/profile.md")
fi

python3 benches/report.py report --criterion "$CRITERION_HOME" --notes "$WARDEN_BENCH_NOTES" \
    "${PROFILE_ARGS[@]}" "${HOSTS_ARGS[@]}" --load "$LOAD_BEFORE / $LOAD_AFTER" \
    --minutes "$MINUTES" --out "$OUT"
echo "wrote $OUT"
