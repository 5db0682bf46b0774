#!/usr/bin/env bash
# Build tagd with warnings as errors and run every test (unit, integration,
# contract, format check) twice: in a plain build, then in an AddressSanitizer +
# UndefinedBehaviorSanitizer build with leak checking, where the libFuzzer
# targets also run for a bounded time.  Any sanitizer report fails the run.
# Between the two, the Debian package is built and tested once.
# Installs missing Debian packages first.
#
#   TAGD_FUZZ_SECONDS=N  seconds each fuzz target runs (default 20)
#   TAGD_CRASH_CYCLES=N  kill/restart cycles of the crash-safety test (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."

# Each build's tests run on a private PostgreSQL cluster (ctest's fixture pg,
# scripts/pg-test-cluster.sh) that ctest removes after the last test needing
# it, failed or not.  A run cut short (Ctrl-C, SIGTERM) may end before that:
# on any exit, stop whatever cluster a build of ours names (none: no-op).
stop_pg_clusters() {
  local b d
  for b in build/test build/asan; do
    d=$(sed -n 's/^TAGD_PG_CLUSTER_DIR:PATH=//p' "$b/CMakeCache.txt" 2>/dev/null || true)
    if [ -n "$d" ]; then
      scripts/pg-test-cluster.sh stop "$d" || echo "test: could not stop the cluster in $d" >&2
    fi
  done
}
trap stop_pg_clusters EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/deps.sh --test
jobs=$(nproc)

scripts/check-format.sh

# The contract tests' npm packages, exactly as the lock file says (from npm's
# cache when it has them); nothing else is downloaded while the tests run.
npm ci --prefix tests/contract --prefer-offline --no-audit --no-fund --loglevel=error

cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAGD_WERROR=ON >/dev/null
cmake --build build/test -j"$jobs"
ctest --test-dir build/test --output-on-failure -j"$jobs"

# The Debian package, built by scripts/package.sh and checked (tests/packaging/):
# lintian, its contents, install/upgrade/remove/purge with apt on this system
# seen through a throwaway overlay and on a clean Debian 12 booted with systemd.
scripts/package.sh --check

# The sanitizer build needs clang: libFuzzer comes with it.  No clang, no pass.
if ! command -v clang >/dev/null; then
  echo "test: clang is required for the sanitizer and fuzz build" >&2
  exit 1
fi
cmake -S . -B build/asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DTAGD_WERROR=ON \
  -DTAGD_SANITIZE=address,undefined -DTAGD_FUZZ=ON \
  -DTAGD_FUZZ_SECONDS="${TAGD_FUZZ_SECONDS:-20}" >/dev/null
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure -j"$jobs"
