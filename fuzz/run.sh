#!/usr/bin/env bash
# Run the libFuzzer targets, each for a bounded time, and summarize.
#   fuzz/run.sh [seconds-per-target (default 60)] [target ...]
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Seeds: fuzz/corpus/<target> (read only). New inputs: fuzz/corpus-work/<target>.
# Failures: fuzz/artifacts/<target>/ (reproduce with
#   cargo +nightly fuzz run <target> <file>).
# Environment: WARDEN_FUZZ_SANITIZER (address | none; default address),
# WARDEN_FUZZ_TOOLCHAIN (default nightly).
# Exits non-zero when any target fails.
set -uo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(jwt_verify authorization api_key config_json jwks htpasswd)
tc="${WARDEN_FUZZ_TOOLCHAIN:-nightly}"
san="${WARDEN_FUZZ_SANITIZER:-address}"
logs="${TMPDIR:-/tmp}/warden-fuzz-logs"
mkdir -p "$logs"

echo "building fuzz targets (toolchain $tc, sanitizer $san, debug assertions on)"
if ! cargo +"$tc" fuzz build --fuzz-dir . -O -a -s "$san"; then
  echo "fuzz/run.sh: build failed"
  exit 1
fi

passed=0
failed=0
summary=()
for t in "${targets[@]}"; do
  mkdir -p "corpus-work/$t" "artifacts/$t"
  log="$logs/$t.log"
  echo "--- $t: ${secs}s"
  cargo +"$tc" fuzz run --fuzz-dir . -O -a -s "$san" "$t" "corpus-work/$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" ${WARDEN_FUZZ_ARGS:-} >"$log" 2>&1
  rc=$?
  runs=$(grep -aEo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
  cov=$(grep -aEo 'cov: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
  corp=$(find "corpus-work/$t" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    summary+=("$(printf '%-14s ok      runs=%-9s cov=%-6s new-corpus=%s' "$t" "${runs:-?}" "${cov:-?}" "$corp")")
  else
    failed=$((failed + 1))
    summary+=("$(printf '%-14s FAILED  runs=%-9s (log: %s)' "$t" "${runs:-?}" "$log")")
    grep -aE 'PROPERTY|panicked|ERROR: |SUMMARY|Test unit written' "$log" | head -8
  fi
done
echo
printf '%s\n' "${summary[@]}"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
