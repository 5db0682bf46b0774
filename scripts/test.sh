#!/usr/bin/env bash
# Build tagd with warnings as errors and run every test (unit, integration,
# format check).  Installs missing Debian packages first.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --test
jobs=$(nproc)

scripts/check-format.sh

cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAGD_WERROR=ON >/dev/null
cmake --build build/test -j"$jobs"
ctest --test-dir build/test --output-on-failure -j"$jobs"
