#!/usr/bin/env bash
# Profile the hot paths with callgrind (instruction counts: deterministic, so
# usable on a busy machine) and, where it works, perf (sampling on the real
# CPU), and write per-category breakdowns of where each verification's time
# goes: OUT_DIR/profile.md and OUT_DIR/perf.md.
#
#   benches/profile.sh [OUT_DIR]      (default: $CARGO_TARGET_DIR/warden-profile)
#
# Needs valgrind (Debian: apt-get install -y valgrind); perf is optional. Note: under valgrind
# ring cannot use SHA-NI (valgrind hides it), so ring's own share is larger
# than on the real CPU; warden's share (everything that is not ring) is
# what this profile is for.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
OUT="${1:-$TARGET/warden-profile}"
mkdir -p "$OUT"
command -v valgrind >/dev/null || { echo "valgrind is missing (apt-get install -y valgrind)" >&2; exit 2; }

BIN=$(cargo bench --bench profile --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "profile" and m.get("executable"):
        print(m["executable"])')
[ -x "$BIN" ] || { echo "could not build benches/profile.rs" >&2; exit 2; }

# case and iterations (enough that start-up is noise; it is not collected).
CASES=(
    "jwt:HS256 2000" "floor:HS256 2000"
    "jwt:ES256 200" "floor:ES256 200"
    "jwt:RS256 200" "floor:RS256 200"
    "cache:ES256 2000"
    "api_key 5000" "sha256 5000"
    "basic_cached 5000" "hmac 5000"
)
FILES=()
for c in "${CASES[@]}"; do
    set -- $c
    f="$OUT/callgrind.${1//:/_}.$2.out"
    valgrind --tool=callgrind --toggle-collect='*hot_loop*' --callgrind-out-file="$f" "$BIN" "$1" "$2" \
        >/dev/null 2>"$f.log" || { echo "callgrind failed for $1 (see $f.log)" >&2; exit 1; }
    FILES+=("$f")
done
python3 benches/report.py profile --out "$OUT/profile.md" "${FILES[@]}"
echo "wrote $OUT/profile.md"

# The same on the real CPU (SHA-NI and all), by sampling, where perf works.
if command -v perf >/dev/null && perf record -e cpu-clock -o "$OUT/perf.probe.data" true >/dev/null 2>&1; then
    PERF=()
    for c in "jwt:HS256 1000000" "jwt:ES256 20000" "jwt:RS256 40000" "cache:ES256 1000000" "api_key 3000000"; do
        set -- $c
        f="$OUT/perf.${1//:/_}.data"
        perf record -e cpu-clock -F 5000 -o "$f" "$BIN" "$1" "$2" >/dev/null 2>&1
        PERF+=("$f")
    done
    python3 benches/report.py perf --out "$OUT/perf.md" "${PERF[@]}"
    echo "wrote $OUT/perf.md"
else
    echo "perf is unavailable: skipping the sampling profile (apt-get install -y linux-perf)" >&2
fi
