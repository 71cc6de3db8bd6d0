#!/usr/bin/env bash
# nginx suite (CI entry point, run by tests/run-all.sh): builds the module
# against Debian's nginx (installing nginx and nginx-dev when missing, as
# root), then runs tests/run_tests.py: every shared vector as an HTTP request
# to a real nginx on loopback, plus scopes, claim variables, the status page,
# reloads with a good and a broken config, and the error log. Ends with an
# "N passed, M failed" line; exits non-zero on any failure.
#
#   bindings/nginx/test.sh [-v] [--keep]
#
# Honours CARGO_TARGET_DIR, WARDEN_LIB (see build.sh) and WARDEN_VECTORS
# (default: ../shared/vectors beside the checkout).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
vectors="${WARDEN_VECTORS:-$root/../shared/vectors}"

if [ ! -d "$vectors" ]; then
  echo "test.sh: no vectors at $vectors (set WARDEN_VECTORS)" >&2
  exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null
  else
    echo "test.sh: python3 is required" >&2
    exit 1
  fi
fi

module="$("$here/build.sh" | tail -n 1)"
exec python3 "$here/tests/run_tests.py" --module "$module" --vectors "$vectors" "$@"
