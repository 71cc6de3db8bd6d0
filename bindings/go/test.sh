#!/usr/bin/env bash
# The Go binding's suite: build libwarden (cargo build --release --lib,
# honouring CARGO_TARGET_DIR), then gofmt, go vet, and go test -race (every
# shared vector, the API, the middleware, concurrent use), go test without
# -race for the zero-allocation check, and a check that the benchmark
# tokens verify with both warden and golang-jwt (bench/, its own module).
#
#   bindings/go/test.sh
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
