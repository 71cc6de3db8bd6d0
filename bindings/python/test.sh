#!/usr/bin/env bash
# The Python binding's suite, as a user gets it: a fresh virtual environment,
# `pip install ./bindings/python pytest` (which builds libwarden with cargo,
# honouring CARGO_TARGET_DIR), then pytest over every shared vector, the API,
# the WSGI/ASGI middlewares and threads sharing one verifier.
#
#   bindings/python/test.sh [pytest args...]
#
# Vectors: $WARDEN_VECTORS, else <checkout>/../shared/vectors.
# Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
venv="$here/.venv"

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

rm -rf "$venv" "$here/build" "$here"/*.egg-info
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# The package's build step runs `cargo build --release --lib` at the root.
(cd "$root" && "$venv/bin/python" -m pip install -q ./bindings/python pytest)
rm -rf "$here/build" "$here"/*.egg-info

# Import the installed package, not the source tree (run from elsewhere).
cd "$here/tests"
unset WARDEN_LIBRARY
export WARDEN_EXPECT_INSTALLED=1
"$venv/bin/python" -c 'import warden, sys; print("warden", warden.__version__, "from", warden.__file__, "library", warden.library_version)'
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@" .
