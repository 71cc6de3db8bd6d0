#!/usr/bin/env bash
# The unsafe Rust that Miri can run, under Miri: the C ABI layer (src/ffi:
# pointer and length checks, caller buffers, the result's working memory and
# the verdict kept beside it, handles, panics caught at the boundary), driven
# by its unit tests and by tests/miri_ffi.rs (the whole C ABI, called as a C
# caller would, on paths without cryptography), plus the parsers it feeds:
# JSON, base64 (their AVX2 code included), JWT segments, API key format,
# config reading, the token cache.
#
#   tests/miri.sh
#
# Miri reports undefined behaviour (out-of-bounds or dangling accesses,
# aliasing violations under Stacked Borrows, uninitialized reads, misaligned
# accesses, data races), leaks, and any test failure; each fails this script.
# ring (assembly and C) cannot run under Miri, so tests whose path reaches it
# are not run here: every verifier in tests/miri_ffi.rs is built and used
# without a key, a password hash or a cache key.
#
# Needs the nightly toolchain with the miri and rust-src components; installs
# them with rustup when missing. If they cannot be installed (rustup cannot
# reach its server), prints a SKIP line and exits 0. Builds under
# <target>/miri (cargo miri's own directory: $CARGO_TARGET_DIR or target),
# apart from the ordinary builds.
set -euo pipefail
cd "$(dirname "$0")/.."

have_miri() { cargo +nightly miri --version >/dev/null 2>&1; }
if ! have_miri; then
  echo "== rustup toolchain install nightly --profile minimal --component miri,rust-src"
  if ! rustup toolchain install nightly --profile minimal --component miri,rust-src; then
    echo "SKIP: Miri is not installed and rustup could not install it (nightly with miri, rust-src)"
    exit 0
  fi
  if ! have_miri; then
    echo "rustup installed nightly with miri, but cargo +nightly miri does not run" >&2
    exit 1
  fi
fi
cargo +nightly miri --version

# Miri interprets the crates it tests and ignores their opt-level, but build
# scripts and proc macros (cbindgen, syn, ring's C) are compiled natively:
# the dev profile's opt-level 3 for dependencies would make that the longest
# part of the run.
fast_build=(--config 'profile.dev.package."*".opt-level=0')

# -Zmiri-strict-provenance: no integer-to-pointer casts anywhere, so Miri
# tracks where every pointer came from exactly instead of guessing (which
# could hide an out-of-bounds or use-after-free access). Isolation stays on:
# no test here needs the clock, files or the environment.
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}"
# Build for AVX2 (and POPCNT, which the JSON marker also asks for) where the
# CPU family has it: the JSON and base64 fast paths are the crate's unsafe
# code outside src/ffi, and Miri runs them (with `is_x86_feature_detected!`
# answered by the target features).
if [ "$(uname -m)" = x86_64 ]; then
  export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-Ctarget-feature=+avx2,+popcnt"
fi

echo "== cargo +nightly miri setup"
cargo +nightly miri setup

# Unit tests: the modules with unsafe code or feeding it. None of these
# reaches ring's assembly (only its random generator, a system call Miri
# runs); the exhaustive loops below are skipped for time (they run natively
# in `cargo test`).
lib_filters=(ffi:: json:: b64:: jwt::token:: apikey::format:: config::read:: cache::)
lib_skips=(
  # exhaustive fast-path-versus-reference loops (minutes under Miri)
  json::tests::fast_path_agrees_with_the_general_scanner
  json::tests::quote_bitmaps_agree
  b64::tests::fast_decoder_agrees_with_the_strict_engine
  b64::tests::long_inputs_agree_with_the_strict_engine
  apikey::format::tests::sliced_crc_matches_the_bitwise_definition
  # every position of a byte in safe word-at-a-time scanners (5 s each)
  jwt::token::tests::find_byte_matches_position
  json::tests::skip_plain_stops_exactly
)
skip_args=()
for t in "${lib_skips[@]}"; do skip_args+=(--skip "$t"); done

# Both runs, whatever the first one says; then fail if either failed.
failed=()
echo "== cargo +nightly miri test --lib (${lib_filters[*]})"
cargo +nightly miri test "${fast_build[@]}" --lib -- "${lib_filters[@]}" "${skip_args[@]}" || failed+=(--lib)
echo "== cargo +nightly miri test --test miri_ffi"
cargo +nightly miri test "${fast_build[@]}" --test miri_ffi || failed+=("--test miri_ffi")
if [ "${#failed[@]}" -ne 0 ]; then
  echo "Miri: failed: ${failed[*]}" >&2
  exit 1
fi
echo "Miri: no undefined behaviour, leaks or test failures"
