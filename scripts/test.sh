#!/usr/bin/env bash
# Build tagd with warnings as errors and run every test (unit, integration,
# contract, format check).  Installs missing Debian packages first.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --test
jobs=$(nproc)

scripts/check-format.sh

# The contract tests' npm packages, exactly as the lock file says (from npm's
# cache when it has them); nothing else is downloaded while the tests run.
npm ci --prefix tests/contract --prefer-offline --no-audit --no-fund --loglevel=error

cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAGD_WERROR=ON >/dev/null
cmake --build build/test -j"$jobs"
ctest --test-dir build/test --output-on-failure -j"$jobs"
