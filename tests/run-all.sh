#!/usr/bin/env bash
# Every test warden has: the Rust suites (unit, shared vectors through the
# library and the CLI, allocation counts, examples), the FFI layer and the
# parsers under Miri, then each host's suite that exists in this checkout (C
# under ASan+UBSan+LSan, Python and Go as they are and again against an
# ASan-instrumented libwarden, nginx). Each suite script installs what it
# needs. Exits non-zero if any fails.
#   bash tests/run-all.sh
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
passed=0
failed=0
failed_names=()

suite() { # name, command...
  local name="$1"; shift
  echo
  echo "=== $name ==="
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failed_names+=("$name")
  fi
}

suite "rust: cargo test" cargo test --all-targets --quiet
suite "rust: doc tests" cargo test --doc --quiet
[ -x tests/miri.sh ] && suite "rust: Miri (FFI layer, parsers)" tests/miri.sh
[ -x tests/c/run.sh ] && suite "c: sanitizers, shared and static" tests/c/run.sh
[ -x bindings/python/test.sh ] && suite "python" bindings/python/test.sh
[ -x bindings/python/test.sh ] && suite "python: AddressSanitizer" bindings/python/test.sh --asan
[ -x bindings/go/test.sh ] && suite "go" bindings/go/test.sh
[ -x bindings/go/test.sh ] && suite "go: AddressSanitizer" bindings/go/test.sh --asan
[ -x bindings/nginx/test.sh ] && suite "nginx" bindings/nginx/test.sh
[ -x tests/interop/run.sh ] && suite "interop: PyJWT, joserfc, golang-jwt, jose" tests/interop/run.sh
[ -x fuzz/ci.sh ] && suite "fuzz (short)" fuzz/ci.sh

cd "$root"
echo
if [ "$failed" -ne 0 ]; then
  echo "failed suites: ${failed_names[*]}"
fi
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
