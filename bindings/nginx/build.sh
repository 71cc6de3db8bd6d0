#!/usr/bin/env bash
# Build ngx_http_warden_module.so for the nginx installed from Debian's
# packages, with warden linked in statically.
#
#   bindings/nginx/build.sh            # -> bindings/nginx/build/ngx_http_warden_module.so
#
# What it does:
#   1. installs nginx and nginx-dev with apt-get when they are missing (as root);
#      nginx-dev (Debian 12+) ships the configured nginx source tree of exactly
#      the packaged version in /usr/share/nginx/src, with its configure flags;
#   2. builds libwarden.a (cargo build --release; honours CARGO_TARGET_DIR;
#      skipped when WARDEN_LIB names an existing library);
#   3. configures a copy of that tree with Debian's own flags plus
#      --add-dynamic-module=bindings/nginx (as dh's nginx_mod build system does)
#      and runs `make modules`.
#
# Environment: WARDEN_LIB (a libwarden.a to link), NGINX_MODULE_BUILD_DIR (where
# to build; default bindings/nginx/build), NGINX_SRC (default /usr/share/nginx/src).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${NGINX_MODULE_BUILD_DIR:-$here/build}"
src="${NGINX_SRC:-/usr/share/nginx/src}"

log() { echo "build.sh: $*" >&2; }

# 1. nginx and its development tree ------------------------------------------
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
[ -f "$src/configure" ] || need+=(nginx-dev)
command -v make >/dev/null 2>&1 || need+=(make)
command -v cc >/dev/null 2>&1 || need+=(gcc)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "missing: ${need[*]} (install them: apt-get install ${need[*]})"
    exit 1
  fi
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

# the module must be built from the tree of the very nginx that will load it
ver_bin="$("$nginx_bin" -v 2>&1 | sed -n 's|^nginx version: nginx/||p')"
ver_src="$(sed -n 's/^#define NGINX_VERSION *"\(.*\)"/\1/p' "$src/src/core/nginx.h")"
if [ "$ver_bin" != "$ver_src" ]; then
  log "nginx is $ver_bin but $src is $ver_src: install matching nginx and nginx-dev"
  exit 1
fi

# 2. libwarden.a --------------------------------------------------------------
if [ -z "${WARDEN_LIB:-}" ]; then
  log "cargo build --release"
  (cd "$root" && cargo build --release --quiet)
  WARDEN_LIB="${CARGO_TARGET_DIR:-$root/target}/release/libwarden.a"
fi
case "$WARDEN_LIB" in /*) ;; *) WARDEN_LIB="$PWD/$WARDEN_LIB" ;; esac
[ -f "$WARDEN_LIB" ] || { log "no static library at $WARDEN_LIB"; exit 1; }
export WARDEN_LIB

# 3. configure a private copy of Debian's tree and build the module ----------
mkdir -p "$build"
tree="$build/nginx-$ver_src"
if [ ! -f "$tree/.copied" ]; then
  rm -rf "$tree"
  cp -a "$src" "$tree"
  touch "$tree/.copied"
fi

# Debian's configure flags (the binary's own, minus the modules it builds as
# separate packages) and compiler flags, as its nginx_mod build system uses them.
# shellcheck disable=SC1091
. "$tree/conf_flags"
cflags="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security -fPIC -Wdate-time -D_FORTIFY_SOURCE=2"
ldflags="-Wl,-z,relro -Wl,-z,now -fPIC"
if command -v dpkg-buildflags >/dev/null 2>&1; then
  cflags="$(dpkg-buildflags --get CFLAGS) -fPIC $(dpkg-buildflags --get CPPFLAGS)"
  ldflags="$(dpkg-buildflags --get LDFLAGS) -fPIC"
fi

stamp="$build/.configured"
want="$WARDEN_LIB|$cflags|$ldflags|${NGX_CONF_FLAGS[*]}|$(cksum <"$here/config")"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -f "$build/objs/Makefile" ]; then
  log "configure (nginx $ver_src, Debian's flags)"
  (cd "$tree" && ./configure \
      --with-cc-opt="$cflags" --with-ld-opt="$ldflags" \
      "${NGX_CONF_FLAGS[@]}" \
      --add-dynamic-module="$here" \
      --builddir="$build/objs" >"$build/configure.log" 2>&1) \
    || { log "configure failed; see $build/configure.log"; tail -20 "$build/configure.log" >&2; exit 1; }
  echo "$want" >"$stamp"
fi

# relink when libwarden.a changed
if [ -f "$build/objs/ngx_http_warden_module.so" ] && [ "$WARDEN_LIB" -nt "$build/objs/ngx_http_warden_module.so" ]; then
  rm -f "$build/objs/ngx_http_warden_module.so"
fi

log "make modules"
make -s -C "$tree" -f "$build/objs/Makefile" modules >"$build/make.log" 2>&1 \
  || { log "make failed"; cat "$build/make.log" >&2; exit 1; }

cp "$build/objs/ngx_http_warden_module.so" "$build/ngx_http_warden_module.so"

# loads into the packaged nginx?
conf="$(mktemp)"
trap 'rm -f "$conf"' EXIT
printf 'load_module %s;\nevents {}\n' "$build/ngx_http_warden_module.so" >"$conf"
if ! "$nginx_bin" -t -q -p "$build" -c "$conf" -g "error_log stderr; pid $build/nginx-t.pid;" ; then
  log "the built module does not load into $nginx_bin"
  exit 1
fi

echo "$build/ngx_http_warden_module.so"
