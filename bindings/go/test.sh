#!/usr/bin/env bash
# The Go binding's suite: build libwarden (cargo build --release --lib,
# honouring CARGO_TARGET_DIR), then gofmt, go vet, and go test -race (every
# shared vector, the API, the middleware, concurrent use), go test without
# -race for the zero-allocation check, and a check that the benchmark
# tokens verify with both warden and golang-jwt (bench/, its own module).
#
#   bindings/go/test.sh
#   bindings/go/test.sh --asan
#
# --asan: go test -asan instead, against a libwarden built with
# AddressSanitizer (tests/asan-lib.sh; nightly Rust): Go's heap objects get
# poisoned redzones and the cgo glue and warden are instrumented, so warden
# reading or writing outside what Go handed it is reported. At exit,
# LeakSanitizer reports C memory (warden's) that nothing in C or Go points
# to any more (Go 1.25 and later; the Go heap is scanned conservatively, so
# a pointer left in dead Go memory still counts: tests/c/run.sh and Miri are
# the strict leak checks). Any report fails the run. First a canary
# (asan_canary_test.go) passes warden a length one byte past a Go allocation
# and must be caught, so a run where the checker is not working cannot pass.
#
# Vectors: $WARDEN_VECTORS, else <checkout>/../shared/vectors.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac

if ! command -v go >/dev/null; then
  echo "go is not installed" >&2
  exit 1
fi

if [ "${1:-}" = "--asan" ]; then
  # Status 3: no nightly toolchain, SKIP (said on stderr).
  asan_lib="$("$root/tests/asan-lib.sh")" || { rc=$?; [ "$rc" = 3 ] && exit 0; exit "$rc"; }
  export CGO_ENABLED=1
  export CGO_LDFLAGS="-L$asan_lib${CGO_LDFLAGS:+ $CGO_LDFLAGS}"
  export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:exitcode=86:strict_string_checks=1"
  cd "$here"
  # One test binary for the canary and the suite, built with `go test -c`:
  # unlike `go test`'s own, it keeps DWARF, so reports name files and lines.
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  echo "== go test -c -asan"
  go test -c -asan -o "$work/warden.test" .
  echo "== ASan canary: a read one byte past a Go allocation must be reported"
  canary_rc=0
  WARDEN_ASAN_CANARY=1 "$work/warden.test" -test.run '^TestASanCanary$' >"$work/canary.out" 2>&1 || canary_rc=$?
  if [ "$canary_rc" != 0 ] && grep -q 'ERROR: AddressSanitizer: \(use-after-poison\|heap-buffer-overflow\)' "$work/canary.out"; then
    echo "caught: $(grep -m1 'ERROR: AddressSanitizer' "$work/canary.out")"
  else
    cat "$work/canary.out" >&2
    echo "the ASan canary was not caught (exit $canary_rc): the checker is not working" >&2
    exit 1
  fi
  echo "== the suite under AddressSanitizer (go test -asan)"
  "$work/warden.test" -test.count=1
  exit
fi

echo "== cargo build --release --lib"
(cd "$root" && cargo build --release --lib --quiet)
test -f "$target/release/libwarden.a"

# cgo links -l:libwarden.a from ../../target/release; a -L given here comes
# first, so a CARGO_TARGET_DIR build is the one linked.
export CGO_ENABLED=1
export CGO_LDFLAGS="-L$target/release${CGO_LDFLAGS:+ $CGO_LDFLAGS}"

cd "$here"
echo "== gofmt"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "not gofmt'ed: $unformatted" >&2
  exit 1
fi
echo "== go vet"
go vet ./...
(cd bench && go vet ./...)
echo "== go test -race"
go test -race -count=1 ./...
echo "== go test (allocation counts, without -race)"
go test -count=1 -run 'TestZeroAllocations' -v .
echo "== bench/: both libraries agree on the benchmark tokens (go vet compiled the benchmarks)"
(cd bench && go test -count=1 -run TestSameVerdicts .)
