#!/usr/bin/env bash
# Install the Debian packages tagd needs: to build it, and with --test also to
# test it.  Installs only what is missing; uses sudo when not root.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev uuid-dev
            libsqlite3-dev nettle-dev libsystemd-dev curl ca-certificates)
# clang and its runtime (libclang-rt-dev: ASan, UBSan, libFuzzer) build the
# sanitizer and fuzz targets.
test_pkgs=(check python3 clang-format sqlite3 procps clang libclang-rt-dev)

pkgs=("${build_pkgs[@]}")
if [ "${1:-}" = "--test" ]; then
  pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
