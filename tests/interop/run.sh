#!/usr/bin/env bash
# Interop with other JOSE implementations (CI: tests/run-all.sh runs this).
#
# PyJWT and joserfc (PyPI), golang-jwt/jwt/v5 (Go module proxy) and jose
# (npm) each generate their own keys and mint a token for every alg warden
# supports (HS256/384/512, RS256/384/512, PS256/384/512, ES256/384, EdDSA),
# written as a vectors-format file (SPEC §4). `warden verify` must accept
# every one (with the expected subject and kid), and must reject the expired
# token and the classic attacks derived from each peer's tokens with the code
# the RFCs and SPEC §3/§5 demand (check.py). Finally a set of defect probes is
# verified by warden and by each peer: where a peer is laxer than warden is
# printed and kept in laxness.tsv (informational; see README.md).
#
# Installs what it needs (a Python venv, Go modules, npm packages) under
# $WARDEN_INTEROP_CACHE (default ~/.cache/warden-interop) and node/node_modules.
# Prints "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${WARDEN_INTEROP_CACHE:-${HOME:-/tmp}/.cache/warden-interop}"
mkdir -p "$cache"
work="$(mktemp -d "${TMPDIR:-/tmp}/warden-interop.XXXXXX")"

echo "== warden (cargo build)"
(cd "$root" && cargo build --quiet --bin warden)
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
warden="$target/debug/warden"

echo "== PyJWT, joserfc (pip, venv in $cache/venv)"
[ -x "$cache/venv/bin/python" ] || python3 -m venv "$cache/venv"
py="$cache/venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check \
  "PyJWT[crypto]==2.15.1" "cryptography>=42" "joserfc==1.8.0"
"$py" -c 'import jwt, joserfc, cryptography; print("   PyJWT", jwt.__version__, "| joserfc", joserfc.__version__, "| cryptography", cryptography.__version__)'

echo "== golang-jwt/jwt/v5 (go build)"
(cd "$here/go" && go build -o "$work/golang-jwt-peer" .)

echo "== jose (npm ci)"
(cd "$here/node" && npm ci --no-audit --no-fund --silent >/dev/null)
node -e 'console.log("   jose", require("'"$here"'/node/node_modules/jose/package.json").version)'

echo "== minting"
"$py" "$here/py/peer.py" mint pyjwt "$work/pyjwt.json"
"$py" "$here/py/peer.py" mint joserfc "$work/joserfc.json"
"$work/golang-jwt-peer" mint "$work/golang-jwt.json"
node "$here/node/peer.mjs" mint "$work/jose.json"

echo "== verifying with warden"
set +e
python3 "$here/check.py" "$warden" "$work" \
  "$work/pyjwt.json" "$work/joserfc.json" "$work/golang-jwt.json" "$work/jose.json" \
  --probe-peer "PyJWT=$py $here/py/peer.py verify pyjwt" \
  --probe-peer "joserfc=$py $here/py/peer.py verify joserfc" \
  --probe-peer "golang-jwt=$work/golang-jwt-peer verify" \
  --probe-peer "jose=node $here/node/peer.mjs verify"
rc=$?
set -e
cp "$work/laxness.tsv" "$cache/laxness.tsv" 2>/dev/null || true
if [ "$rc" -eq 0 ]; then
  rm -rf "$work"
else
  echo "inputs kept in $work"
fi
exit "$rc"
