#!/usr/bin/env bash
# SQLite and PostgreSQL side by side:  bench/backends.sh [SECONDS] [ROUNDS]
# Builds a Release tagd, starts a private PostgreSQL cluster (Unix socket
# only, default durability: fsync and synchronous_commit on), seeds a SQLite
# database with 1 thousand tags (bench/seed.sh), copies it into PostgreSQL
# with "tagd db copy", and runs bench/backends.py; the cluster is stopped
# and removed afterwards.  bench/RESULTS.md records one run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-8}
rounds=${2:-3}

scripts/deps.sh --test --bench

build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTAGD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

work=$(mktemp -d /var/tmp/tagd-bench-db.XXXXXX)
pg=$(mktemp -d /tmp/tagd-bpg.XXXXXX)
rmdir "$pg"
cleanup() {
  scripts/pg-test-cluster.sh stop "$pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
scripts/pg-test-cluster.sh start --fresh "$pg" >/dev/null
uri="postgresql:///tagd_bench?host=$pg&user=postgres"
"$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/psql' | sort -V | tail -n 1)" \
  -X -q -h "$pg" -U postgres -d postgres -c 'CREATE DATABASE tagd_bench'

echo "seeding 1k tags, copying them into PostgreSQL ..." >&2
creds=$(bench/seed.sh "$build/tagd" "$work/small.db" 10 100 2>/dev/null)
"$build/tagd" db copy --from "$work/small.db" --to "$uri" >&2

python3 bench/backends.py --tagd "$build/tagd" --sqlite-db "$work/small.db" --pg-uri "$uri" \
  --pg-dir "$pg" --creds "$creds" --seconds "$seconds" --rounds "$rounds" \
  --out "$build/backends-last-run.md"
