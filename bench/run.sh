#!/usr/bin/env bash
# tagd's benchmark, one command:  bench/run.sh [SECONDS_PER_SCENARIO]
# Builds a Release tagd and the libmicrohttpd baseline, seeds a 1 thousand and
# a 1 million tag database, and drives tagd, the baseline, nginx and the peer
# (Fastify + better-sqlite3, from $TAGD_PEER_DIR, default ../shared/bench/peer-node,
# installed into a temporary copy with npm) with wrk (1 thread) on loopback.
# Prints the table; bench/RESULTS.md records runs.
# Run it on a quiet machine: every figure is only as good as the idle cores.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}

scripts/deps.sh --bench

build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTAGD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
cc -O2 -Wall -o "$build/baseline_mhd" bench/baseline_mhd.c $(pkg-config --cflags --libs libmicrohttpd)

work=$(mktemp -d /var/tmp/tagd-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "seeding 1k and 1M tags in $work ..." >&2
small=$(bench/seed.sh "$build/tagd" "$work/small.db" 10 100 2>/dev/null)
large=$(bench/seed.sh "$build/tagd" "$work/large.db" 10000 100 2>/dev/null)

# The peer is copied out before installing (shared/ is read-only in CI); npm's
# cache makes a second run offline.
peer_src=${TAGD_PEER_DIR:-$PWD/../shared/bench/peer-node}
peer=()
if [ -f "$peer_src/server.js" ] && command -v node >/dev/null && command -v npm >/dev/null; then
  cp -r "$peer_src" "$work/peer"
  if npm install --prefix "$work/peer" --no-audit --no-fund --loglevel=error >&2; then
    peer=(--peer "$work/peer")
  else
    echo "bench: npm install of the peer failed; no peer rows" >&2
  fi
else
  echo "bench: no peer at $peer_src (or no node/npm); no peer rows" >&2
fi

python3 bench/bench.py --tagd "$build/tagd" --baseline "$build/baseline_mhd" \
  --small-db "$work/small.db" --large-db "$work/large.db" \
  --small-creds "$small" --large-creds "$large" --seconds "$seconds" \
  ${peer[@]+"${peer[@]}"} --out "$build/last-run.md"
