#!/usr/bin/env bash
# The C ABI tests under AddressSanitizer + UndefinedBehaviorSanitizer, each
# linked twice: against libwarden.so (with an rpath) and against libwarden.a.
#
#   tests/c/run.sh [seconds for the thread test, default 3]
#
# Builds the library (`cargo build --release --lib`, honouring
# CARGO_TARGET_DIR), takes compiler and linker flags from the warden.pc that
# build.rs writes, and exits non-zero on any failure. The last line is
# "N passed, M failed" (N, M count test programs and checks of the setup).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
libdir="$target/release"
out="$here/build"
seconds="${1:-3}"
cc="${CC:-cc}"

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

echo "== cargo build --release --lib"
if ! cargo build --release --lib --quiet; then
  fail "cargo build --release --lib"
  finish
fi
for f in libwarden.so libwarden.a warden.pc; do
  if [ ! -f "$libdir/$f" ]; then
    fail "$libdir/$f was not built"
    finish
  fi
done

# The fixtures must be what generate.py makes (stdlib Python only).
if command -v python3 >/dev/null; then
  if python3 "$here/fixtures/generate.py" --check; then pass "fixtures are current"; else fail "fixtures are stale (run tests/c/fixtures/generate.py)"; fi
fi

export PKG_CONFIG_PATH="$libdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
if ! command -v pkg-config >/dev/null; then
  fail "pkg-config is not installed (apt-get install pkg-config)"
  finish
fi
cflags="$(pkg-config --cflags warden)" || { fail "pkg-config --cflags warden"; finish; }
libs_shared="$(pkg-config --libs warden)" || { fail "pkg-config --libs warden"; finish; }
# Static: the archive itself, plus the system libraries warden.pc lists.
libs_static="$libdir/libwarden.a $(pkg-config --static --libs-only-l warden | sed -e 's/-lwarden\b//')"

# The header stands alone, in strict C99 and in C++.
if printf '#include "warden.h"\nint main(void) { return WARDEN_CODE_OK; }\n' |
  "$cc" -std=c99 -pedantic -Wall -Wextra -Werror -I"$root/include" -x c -fsyntax-only -; then
  pass "warden.h compiles as C99"
else
  fail "warden.h compiles as C99"
fi
if command -v "${CXX:-c++}" >/dev/null; then
  if printf '#include "warden.h"\nint main() { warden_result r = {}; return (int)warden_result_init(&r); }\n' |
    "${CXX:-c++}" -std=c++11 -Wall -Wextra -Werror -I"$root/include" -x c++ -fsyntax-only -; then
    pass "warden.h compiles as C++11"
  else
    fail "warden.h compiles as C++11"
  fi
fi

san=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
warn=(-std=c11 -Wall -Wextra -Werror)
mkdir -p "$out"

# Leak detection needs ptrace-free LeakSanitizer; probe it once.
leaks=1
printf '#include <stdlib.h>\nint main(void){void *volatile p = malloc(7); p = 0; (void)p; return 0;}\n' >"$out/leak_probe.c"
if "$cc" "${san[@]}" -g "$out/leak_probe.c" -o "$out/leak_probe" 2>/dev/null; then
  if ASAN_OPTIONS=detect_leaks=1 "$out/leak_probe" >/dev/null 2>&1; then
    leaks=0
    echo "note: LeakSanitizer does not work in this environment; running with detect_leaks=0"
  fi
else
  fail "$cc cannot build with -fsanitize=address,undefined"
  finish
fi
export ASAN_OPTIONS="detect_leaks=$leaks:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

for t in test_warden test_threads; do
  for link in shared static; do
    exe="$out/$t.$link"
    if [ "$link" = shared ]; then
      # shellcheck disable=SC2086
      "$cc" "${warn[@]}" "${san[@]}" -g -O1 $cflags -I"$here" -I"$here/fixtures" "$here/$t.c" \
        -o "$exe" $libs_shared -Wl,-rpath,"$libdir" -pthread
    else
      # shellcheck disable=SC2086
      "$cc" "${warn[@]}" "${san[@]}" -g -O1 $cflags -I"$here" -I"$here/fixtures" "$here/$t.c" \
        -o "$exe" $libs_static -pthread
    fi
    if [ $? -ne 0 ]; then
      fail "$t ($link): compile"
      continue
    fi
    # The static build must not need libwarden.so, the shared one must.
    if [ "$link" = static ] && readelf -d "$exe" | grep -q 'libwarden\.so'; then
      fail "$t ($link): links libwarden.so"
      continue
    fi
    if [ "$link" = shared ] && ! readelf -d "$exe" | grep -q 'libwarden\.so'; then
      fail "$t ($link): does not link libwarden.so"
      continue
    fi
    args=("$here/fixtures")
    [ "$t" = test_threads ] && args+=("$seconds")
    echo "== $t ($link)"
    if "$exe" "${args[@]}"; then pass "$t ($link)"; else fail "$t ($link)"; fi
  done
done
finish
