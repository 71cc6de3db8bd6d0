#!/usr/bin/env bash
# warden's C ABI against libjwt (Debian's libjwt-dev) on the same tokens:
# builds bench_libjwt.c against target/release/libwarden.so (flags from the
# warden.pc build.rs writes) and libjwt (pkg-config), then runs it.
#
#   benches/c/run.sh [--quick] [--seconds S] [--tokens DIR] [--json FILE]
#
# --tokens: a directory written by benches/hosts/tokens.py (default: fresh
# tokens in $CARGO_TARGET_DIR/warden-bench-c/tokens). Installs libjwt-dev and
# pkg-config with apt-get when missing (as root). Honours CARGO_TARGET_DIR
# and CC. A benchmark, not a test: it prints ratios and asserts nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
out="$target/warden-bench-c"
cc="${CC:-cc}"

seconds=3
tokens=""
json=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) seconds=0.5 ;;
        --seconds) seconds="$2"; shift ;;
        --tokens) tokens="$2"; shift ;;
        --json) json="$2"; shift ;;
        *) echo "usage: benches/c/run.sh [--quick] [--seconds S] [--tokens DIR] [--json FILE]" >&2; exit 2 ;;
    esac
    shift
done

need=()
[ -f /usr/include/jwt.h ] || need+=(libjwt-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v "$cc" >/dev/null 2>&1 || need+=(gcc)
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "benches/c/run.sh: missing ${need[*]} (apt-get install ${need[*]})" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

(cd "$root" && cargo build --release --lib --quiet)
mkdir -p "$out"
if [ -z "$tokens" ]; then
    tokens="$out/tokens"
    python3 "$root/benches/hosts/tokens.py" "$tokens"
fi

export PKG_CONFIG_PATH="$target/release${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# shellcheck disable=SC2046
"$cc" -std=c11 -O2 -Wall -Wextra -o "$out/bench_libjwt" "$here/bench_libjwt.c" \
    $(pkg-config --cflags warden libjwt) \
    $(pkg-config --libs warden libjwt) -Wl,-rpath,"$target/release"

args=("$tokens" --seconds "$seconds")
[ -n "$json" ] && args+=(--json "$json")
echo "libjwt $(pkg-config --modversion libjwt) ($(dpkg-query -W -f='${Package} ${Version}' libjwt-dev 2>/dev/null || echo 'not from dpkg'))"
exec "$out/bench_libjwt" "${args[@]}"
