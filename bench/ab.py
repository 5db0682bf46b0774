#!/usr/bin/env python3
"""A/B of durable writes: two tagd binaries, the same scenarios, alternated.

    bench/ab.py --a OLD_TAGD --b NEW_TAGD [--rounds 5] [--seconds 10] [--conns 64]

For each round and each binary (A then B, B then A on odd rounds, so that
drift of this 2-vCPU machine falls on both alike), seeds a fresh database
with bench/seed.sh (10 repositories x 100 tags and a second commit), starts
the binary and drives with wrk (1 thread, keep-alive):
  create   POST a uniquely named tag (bench/wrk/create.lua)
  move     PATCH one of 100 seeded tags to the other commit (bench/wrk/move.lua)
  get      GET one seeded tag (bench/wrk/get.lua; --scenarios get,create)
Writes are durable (synchronous=FULL, group commit).  Prints per-round
figures and the median req/s of each side with the ratio B/A.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def seed(binary, db):
    out = subprocess.run([os.path.join(HERE, "seed.sh"), binary, db, "10", "100"],
                         capture_output=True, text=True, check=True).stdout.split()
    token, commit = out[0], out[1]
    commit2 = subprocess.run([binary, "commit", "create", "--org", "bench", "--name", "bench2",
                              "--db", db], capture_output=True, text=True,
                             check=True).stdout.strip()
    return token, commit, commit2


def run(binary, scenario, seconds, conns, work):
    db = os.path.join(work, "ab.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    token, commit, commit2 = seed(binary, db)
    srv = bench.tagd_server(binary, db)
    try:
        env = {"TOKEN": token, "COMMIT": commit, "COMMIT2": commit2, "CLOSE": "0",
               "CREATE_PATH": "/api/v1/repositories/r00002/tags", "MOVE_REPO": "r00003",
               "GET_PATH": "/api/v1/repositories/r00001/tags/t0042",
               "RUN_ID": f"{int(time.time() * 1000)}"}
        r = bench.wrk(srv.port, f"{scenario}.lua", conns, seconds, env)
    finally:
        srv.stop()
    if r["errors"] or r["non2xx"]:
        raise RuntimeError(f"{binary} {scenario}: {r['errors']} errors, {r['non2xx']} non-2xx")
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True, help="the tagd before the change")
    ap.add_argument("--b", required=True, help="the tagd after it")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--scenarios", default="create,move")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tagd-ab-", dir="/var/tmp")
    results = {}
    try:
        for scen in a.scenarios.split(","):
            for rnd in range(a.rounds):
                order = ("a", "b") if rnd % 2 == 0 else ("b", "a")
                for side in order:
                    r = run(getattr(a, side), scen, a.seconds, a.conns, work)
                    results.setdefault((scen, side), []).append(r)
                    print(f"{scen:<7} round {rnd + 1} {side.upper()} {r['rps']:>9.0f} req/s "
                          f"p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"| scenario ({a.conns} conns, {a.rounds} rounds x {a.seconds} s) | A req/s (median) | "
          "B req/s (median) | B/A | A p99 ms | B p99 ms |")
    print("|---|---|---|---|---|---|")
    for scen in a.scenarios.split(","):
        ra, rb = results[(scen, "a")], results[(scen, "b")]
        ma = statistics.median(x["rps"] for x in ra)
        mb = statistics.median(x["rps"] for x in rb)
        pa = statistics.median(x["p99_ms"] for x in ra)
        pb = statistics.median(x["p99_ms"] for x in rb)
        print(f"| {scen} | {ma:.0f} | {mb:.0f} | {mb / ma:.2f} | {pa:.2f} | {pb:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
