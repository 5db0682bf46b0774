#!/usr/bin/env bash
# Install the Debian packages tagd needs: to build it, and with --test also to
# test it; --package: what scripts/package.sh needs to build the .deb;
# --bench: what bench/ needs beside the build.
# Installs only what is missing; uses sudo when not root.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev uuid-dev
            libsqlite3-dev nettle-dev libgnutls28-dev libsystemd-dev libpq-dev
            libcurl4-gnutls-dev curl ca-certificates)
test_pkgs=(check python3 clang-format sqlite3 procps openssl clang libclang-rt-dev postgresql)
# postgresql: the server binaries (under /usr/lib/postgresql/*/bin) for the
# private cluster scripts/pg-test-cluster.sh makes for the tests.  Nothing uses
# the system cluster ("main") the package makes: the install below keeps it
# from being started.
# clang and its runtime (libclang-rt-dev: ASan, UBSan, libFuzzer) build the
# sanitizer and fuzz targets.  The contract tests run on node and npm.  They are looked for as commands:
# a Node.js from elsewhere (e.g. one that bundles npm and conflicts with
# Debian's npm package) is as good as Debian's nodejs + npm.
test_cmds=(node:nodejs npm:npm)
# The Debian package: debhelper builds it (dpkg-buildpackage); the tests lint
# it and install it into a clean Debian 12 (debootstrap) booted with systemd
# (systemd-nspawn).
package_pkgs=(debhelper)
package_test_pkgs=(lintian debootstrap systemd-container)
# bench/: the load generator, nginx as a baseline, sqlite3 for seeding.
bench_pkgs=(wrk nginx-light sqlite3 python3)

pkgs=("${build_pkgs[@]}")
cmds=()
for arg in "$@"; do
  case $arg in
    --test)
      pkgs+=("${test_pkgs[@]}" "${package_pkgs[@]}" "${package_test_pkgs[@]}")
      cmds+=("${test_cmds[@]}") ;;
    --package) pkgs+=("${package_pkgs[@]}") ;;
    --bench) pkgs+=("${bench_pkgs[@]}") ;;
    *) echo "usage: scripts/deps.sh [--test] [--package] [--bench]" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
for c in ${cmds[@]+"${cmds[@]}"}; do
  if ! command -v "${c%%:*}" >/dev/null; then
    missing+=("${c#*:}")
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

# Installing postgresql makes a system cluster and starts it.  Keep it from
# starting with a policy-rc.d that denies service starts during the install,
# when there is no policy-rc.d already (one that is there is not ours to
# change); then stop any cluster that is new and running all the same.  Only
# clusters this install made are touched, and only stopped.
policy=/usr/sbin/policy-rc.d
own_policy=false
clusters_before=
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
  clusters_before=$(pg_lsclusters -h 2>/dev/null | awk '{print $1 "/" $2}' || true)
  if [ ! -e "$policy" ]; then
    trap '"${sudo[@]}" rm -f "$policy"' EXIT
    printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs\nexit 101\n' |
      "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    own_policy=true
  fi
fi
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if $own_policy; then
  "${sudo[@]}" rm -f "$policy"
  trap - EXIT
fi
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
  pg_lsclusters -h 2>/dev/null | while read -r version name _ status _; do
    if [ "$status" = online ] && ! grep -qx "$version/$name" <<<"$clusters_before"; then
      echo "deps: stopping the system cluster $version/$name the install started" >&2
      "${sudo[@]}" pg_ctlcluster "$version" "$name" stop
    fi
  done
fi
