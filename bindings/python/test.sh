#!/usr/bin/env bash
# The Python binding's suite, as a user gets it: a fresh virtual environment,
# `pip install ./bindings/python pytest` (which builds libwarden with cargo,
# honouring CARGO_TARGET_DIR), then pytest over every shared vector, the API,
# the WSGI/ASGI middlewares and threads sharing one verifier.
#
#   bindings/python/test.sh [pytest args...]
#   bindings/python/test.sh --asan [pytest args...]
#
# --asan: the same suite against a libwarden built with AddressSanitizer
# (tests/asan-lib.sh; nightly Rust), with gcc's ASan runtime preloaded into
# the (uninstrumented) interpreter and PYTHONMALLOC=malloc, so the buffers
# Python hands to warden are malloc blocks with poisoned edges (a bytes
# object ends with a NUL inside its block: a read just one byte past its
# data stays invisible). LeakSanitizer checks at exit that everything warden
# allocated for Python was freed (CPython's own memory at exit is all still
# referenced: no suppressions needed). Any report fails the run. Before the
# suite, a canary passes warden a length one byte past a malloc block and
# must be caught, so a run where the checker is not working cannot pass.
#
# Vectors: $WARDEN_VECTORS, else <checkout>/../shared/vectors.
# Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
venv="$here/.venv"
asan=0
if [ "${1:-}" = "--asan" ]; then
  asan=1
  shift
  venv="$here/.venv-asan"
fi

if ! command -v "$python" >/dev/null; then
  echo "python3 is not installed" >&2
  exit 1
fi

# Debian/Ubuntu ship venv/ensurepip separately (python3-venv).
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    ver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$ver-venv" >/dev/null \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "python3 has no venv/ensurepip: install python3-venv" >&2
    exit 1
  fi
fi

if [ "$asan" = 1 ]; then
  # Status 3: no nightly toolchain, SKIP (said on stderr).
  asan_lib="$("$root/tests/asan-lib.sh")" || { rc=$?; [ "$rc" = 3 ] && exit 0; exit "$rc"; }
  # The package carries the instrumented library instead of building one.
  export WARDEN_LIB="$asan_lib/libwarden.so"
  asan_rt="$(${CC:-gcc} -print-file-name=libasan.so)"
  if [ ! -f "$asan_rt" ]; then
    echo "gcc's libasan.so was not found (${CC:-gcc} -print-file-name=libasan.so)" >&2
    exit 1
  fi
fi

rm -rf "$venv" "$here/build" "$here"/*.egg-info
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# The package's build step runs `cargo build --release --lib` at the root
# (or copies $WARDEN_LIB).
(cd "$root" && "$venv/bin/python" -m pip install -q ./bindings/python pytest)
rm -rf "$here/build" "$here"/*.egg-info

# Import the installed package, not the source tree (run from elsewhere).
cd "$here/tests"
unset WARDEN_LIBRARY
export WARDEN_EXPECT_INSTALLED=1
if [ "$asan" = 0 ]; then
  "$venv/bin/python" -c 'import warden, sys; print("warden", warden.__version__, "from", warden.__file__, "library", warden.library_version)'
  exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@" .
fi

# The instrumented library needs the runtime in the process before it loads.
# WARDEN_LIBRARY: the same library as the installed one, but with its line
# tables (the package strips them), so reports name files and lines.
# Reports go to files as well as stderr: pytest captures stderr, and a report
# ends the process before pytest could show what it captured.
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
asan_env=(
  env LD_PRELOAD="$asan_rt" PYTHONMALLOC=malloc WARDEN_LIBRARY="$WARDEN_LIB"
  ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86:strict_string_checks=1:log_path=$logs/asan"
)
"${asan_env[@]}" "$venv/bin/python" -c 'import warden, sys; print("warden", warden.__version__, "from", warden.__file__, "library", warden.library_version)'

echo "== ASan canary: a read one byte past a malloc block must be reported"
canary_rc=0
"${asan_env[@]}" "$venv/bin/python" - >"$logs/canary.out" 2>&1 <<'PY' || canary_rc=$?
import ctypes, os
import warden

lib = ctypes.CDLL(os.environ["WARDEN_LIBRARY"])
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
lib.warden_verifier_new_from_json.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p, ctypes.c_size_t]
lib.warden_verify_authorization.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_double, ctypes.c_void_p]
v = ctypes.c_void_p()
assert lib.warden_verifier_new_from_json(b"{}", 2, ctypes.byref(v), None, 0) == 0
value = b"Bearer x.y.z"
p = libc.malloc(len(value))
ctypes.memmove(p, value, len(value))
result = ctypes.create_string_buffer(256)  # larger than warden_result
# The caller's bug: one byte too many. Trailing blanks are trimmed, so warden
# reads the last byte it was given.
lib.warden_verify_authorization(v, p, len(value) + 1, 1.7e9, result)
print("canary: not caught")
PY
if [ "$canary_rc" = 86 ] && grep -q 'ERROR: AddressSanitizer: heap-buffer-overflow' "$logs"/asan.* 2>/dev/null; then
  echo "caught: $(grep -h -m1 'ERROR: AddressSanitizer' "$logs"/asan.*)"
  rm -f "$logs"/asan.*
else
  echo "the ASan canary was not caught (exit $canary_rc): the checker is not working" >&2
  cat "$logs/canary.out" "$logs"/asan.* 2>/dev/null >&2 || true
  exit 1
fi

echo "== pytest under AddressSanitizer"
rc=0
"${asan_env[@]}" "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@" . || rc=$?
if compgen -G "$logs/asan.*" >/dev/null; then
  echo "AddressSanitizer reported:" >&2
  cat "$logs"/asan.* >&2
  [ "$rc" != 0 ] || rc=1
fi
if [ "$rc" = 86 ]; then
  echo "pytest was stopped by an AddressSanitizer report" >&2
fi
exit "$rc"
