#!/usr/bin/env bash
# Compare two tagd builds on the same machine, interleaved so that both see
# the same load:  bench/ab.sh OLD_TAGD NEW_TAGD [SECONDS] [ROUNDS]
# Each round seeds a fresh 1k-tag database for each binary (bench/seed.sh)
# and drives "get one tag" then "create tag" at 64 keep-alive connections
# with wrk -t1, old binary first, then the new one.  Prints one line per
# measurement.  Build a binary of another commit with e.g.
#   git archive COMMIT | tar -x -C /tmp/old && cmake -S /tmp/old -B /tmp/old/b \
#     -DCMAKE_BUILD_TYPE=Release -DTAGD_TESTS=OFF && cmake --build /tmp/old/b
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: bench/ab.sh OLD_TAGD NEW_TAGD [SECONDS] [ROUNDS]}
new=${2:?usage: bench/ab.sh OLD_TAGD NEW_TAGD [SECONDS] [ROUNDS]}
seconds=${3:-10}
rounds=${4:-3}
work=$(mktemp -d /var/tmp/tagd-ab.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# One binary: seed, serve, measure get and create, stop.
measure() {
  local name=$1 bin=$2 token commit port out
  read -r token commit < <(bench/seed.sh "$bin" "$work/$name.db" 10 100 2>/dev/null)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # Access log on (info), to /dev/null, as bench.py runs it.
  "$bin" serve --listen "127.0.0.1:$port" --db "$work/$name.db" 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/livez" >/dev/null && break; sleep 0.05; done
  for scenario in get create; do
    out=$(BENCH_LUA=$PWD/bench/wrk TOKEN=$token COMMIT=$commit CLOSE=0 RUN_ID=$$ \
          GET_PATH=/api/v1/repositories/r00001/tags/t0042 \
          CREATE_PATH=/api/v1/repositories/r00002/tags \
          wrk -t1 -c64 -d"${seconds}s" -s "bench/wrk/$scenario.lua" "http://127.0.0.1:$port" |
          grep RESULT)
    echo "$out" | awk -v n="$name" -v s="$scenario" '{
      split($2, r, "="); split($3, d, "="); split($5, p, "=");
      printf "%-4s %-7s %8.0f req/s  p99 %6.2f ms\n", n, s, r[2] / (d[2] / 1e6), p[2] / 1000 }'
  done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
  rm -f "$work/$name.db"*
}

for r in $(seq "$rounds"); do
  echo "round $r ($(cut -d' ' -f1-3 /proc/loadavg) load)"
  measure old "$old"
  measure new "$new"
done
