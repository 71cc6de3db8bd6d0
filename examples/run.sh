#!/usr/bin/env bash
# Build warden and verify every bundled example credential with it.
#   ./examples/run.sh            (from the repository root or anywhere)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
cargo build --release --quiet --bin warden
warden="${CARGO_TARGET_DIR:-target}/release/warden"
config="$here/warden.json"

show() { # label, then the warden verify arguments
  local label="$1"; shift
  local out code=0
  out="$("$warden" verify --config "$config" "$@")" || code=$?
  printf '%-36s exit %d  %s\n' "$label" "$code" "$out"
}

echo "== JWTs (examples/tokens/*.jwt) =="
for t in "$here"/tokens/*.jwt; do
  show "$(basename "$t")" --jwt "$(cat "$t")"
done
echo
echo "== API key, Basic, Authorization header =="
show "api key" --api-key "$(cat "$here/credentials/api-key")"
show "api key, checksum broken" --api-key "$(sed 's/.$/0/' "$here/credentials/api-key")"
show "api key, 12 at once (burst 10)" --repeat 12 --api-key "$(cat "$here/credentials/api-key")"
show "basic alice" --basic "$(cat "$here/credentials/basic")"
show "basic alice, wrong password" --basic "$(cat "$here/credentials/basic-wrong")"
show "basic, 7 wrong tries (budget 5/min)" --repeat 7 --basic "$(cat "$here/credentials/basic-wrong")"
show "Authorization: Bearer <es256>" --authorization "Bearer $(cat "$here/tokens/es256.jwt")"
show "Authorization: Basic" --authorization "Basic $(tr -d '\n' < "$here/credentials/basic" | base64 -w0)"
show "Authorization: Digest" --authorization "Digest username=alice"
echo
echo "== inspect (decodes without verifying) =="
"$warden" inspect "$(cat "$here/tokens/tampered.jwt")" 2>&1 | head -5
