#!/usr/bin/env bash
# Profile one scenario with perf while wrk drives it:
#   bench/profile.sh get|list|create|mix [SECONDS]
# Needs a Release build (bench/run.sh makes build/bench/tagd) and linux-perf.
# Writes perf.<scenario>.data here; read it with
#   perf report -i perf.get.data --no-children --sort dso,symbol --stdio
# PERF_CALLGRAPH=dwarf records whole call chains (the libraries have no frame
# pointers), for inclusive costs:
#   perf report -i perf.get.data --children --sort symbol --stdio -g none
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:?usage: bench/profile.sh get|list|create|mix [SECONDS]}
seconds=${2:-6}
bin=build/bench/tagd
work=$(mktemp -d /var/tmp/tagd-profile.XXXXXX)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
read -r TOKEN COMMIT < <(bench/seed.sh "$bin" "$work/p.db" 10 100 2>/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# As bench.py runs it: access log on, to /dev/null.
"$bin" serve --listen "127.0.0.1:$port" --db "$work/p.db" 2>/dev/null &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/livez" >/dev/null && break; sleep 0.05; done
export BENCH_LUA=$PWD/bench/wrk TOKEN COMMIT CLOSE=0 RUN_ID=$$ \
  GET_PATH=/api/v1/repositories/r00001/tags/t0042 LIST_PATH=/api/v1/repositories/r00001/tags \
  CREATE_PATH=/api/v1/repositories/r00002/tags
if [ "${PERF_CALLGRAPH:-fp}" = dwarf ]; then
  record=(-F 499 --call-graph dwarf,16384)
else
  record=(-F 999 -g)
fi
perf record "${record[@]}" -p "$pid" -o "perf.$scenario.data" -- sleep "$seconds" 2>/dev/null &
wrk -t1 -c64 -d"${seconds}s" -s "bench/wrk/$scenario.lua" "http://127.0.0.1:$port" | grep RESULT
wait %2 || true
