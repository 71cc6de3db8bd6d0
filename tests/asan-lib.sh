#!/usr/bin/env bash
# Build libwarden (.so and .a) instrumented with AddressSanitizer, for the
# host suites that run under it (bindings/python/test.sh --asan,
# bindings/go/test.sh --asan), and print the directory that holds them.
#
#   libdir="$(tests/asan-lib.sh)" || exit    # stdout: that directory only
#
# `-Zsanitizer=address` needs a nightly rustc: installed with rustup when
# missing. Exit status 3 (with a SKIP line on stderr) when there is no
# nightly and rustup cannot get one; any other failure is 1.
#
# The build goes to <target>/asan (<target> is $CARGO_TARGET_DIR or target),
# apart from the ordinary release build. Only warden and its dependencies are
# instrumented, not the precompiled std (-Zbuild-std would rebuild std for
# minutes) nor ring's C and assembly: what this checks is warden's own code,
# in particular every access it makes to the host's memory through the C
# ABI. The ASan runtime is not linked into the library (rustc links it into
# executables only): the host brings gcc's libasan (Go's -asan links it, for
# Python it is LD_PRELOADed); it speaks the same instrumentation ABI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac

if ! rustc +nightly --version >/dev/null 2>&1; then
  echo "asan-lib: installing the nightly toolchain (rustup)" >&2
  if ! rustup toolchain install nightly --profile minimal >&2; then
    echo "SKIP: no nightly Rust toolchain and rustup could not install one; the AddressSanitizer build needs -Zsanitizer" >&2
    exit 3
  fi
fi
host="$(rustc +nightly -vV | sed -n 's/^host: //p')"
case "$host" in
  x86_64-unknown-linux-gnu | aarch64-unknown-linux-gnu) ;;
  *)
    echo "SKIP: AddressSanitizer builds are set up for x86_64/aarch64 Linux only (host: $host)" >&2
    exit 3
    ;;
esac

# --target keeps RUSTFLAGS off build scripts and proc macros (they run in
# the compiler and must not be instrumented). Frame pointers make ASan's
# fast unwinder give whole stacks; the release profile keeps line tables.
echo "asan-lib: cargo +nightly build --release --lib, -Zsanitizer=address, into $target/asan" >&2
RUSTFLAGS="-Zsanitizer=address -Cforce-frame-pointers=yes" CARGO_TARGET_DIR="$target/asan" \
  cargo +nightly build --release --lib --quiet --target "$host" >&2
libdir="$target/asan/$host/release"
for f in libwarden.so libwarden.a; do
  if [ ! -f "$libdir/$f" ]; then
    echo "asan-lib: $libdir/$f was not built" >&2
    exit 1
  fi
done
# Proof that the instrumentation is there (a build that silently dropped the
# flag would make every run below pass).
if ! nm -D --undefined-only "$libdir/libwarden.so" | grep -c '__asan_report_load' >/dev/null; then
  echo "asan-lib: $libdir/libwarden.so is not instrumented (no __asan_report_load*)" >&2
  exit 1
fi
echo "$libdir"
