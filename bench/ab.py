#!/usr/bin/env python3
"""A/B of durable writes: two tagd binaries, the same scenarios, alternated.

    bench/ab.py --a OLD_TAGD --b NEW_TAGD [--rounds 5] [--seconds 10] [--conns 64]
                [--a-hooks N] [--b-hooks N] [--receiver-nice N]

For each round and each binary (A then B, B then A on odd rounds, so that
drift of this 2-vCPU machine falls on both alike), seeds a fresh database
with bench/seed.sh (10 repositories x 100 tags and a second commit), starts
the binary and drives with wrk (1 thread, keep-alive):
  create   POST a uniquely named tag (bench/wrk/create.lua)
  move     PATCH one of 100 seeded tags to the other commit (bench/wrk/move.lua)
  get      GET one seeded tag (bench/wrk/get.lua; --scenarios get,create)
Writes are durable (synchronous=FULL, group commit).  Prints per-round
figures and the median req/s of each side with the ratio B/A.

--a-hooks / --b-hooks N register N organization-wide webhooks on that side
before wrk starts, all posting to bench/hook_receiver.py on loopback (started
once, under nice --receiver-nice: it stands for systems on other hosts), so
that every create is delivered N times while the side is measured.  Both
sides run with --hook-allow-private true; the side's line in the table says
how many deliveries the receiver got during its runs.  Compare one binary
with itself: --a X --b X --b-hooks 10.
"""
import argparse
import json
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


def add_hooks(port, token, n, receiver_port):
    """n organization-wide hooks posting to the receiver."""
    import http.client
    for i in range(n):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body = json.dumps({"url": f"http://127.0.0.1:{receiver_port}/h/{i}",
                           "secret": f"bench-secret-{i:04}-0123456789"})
        c.request("POST", "/api/v1/hooks", body=body,
                  headers={"Authorization": f"Bearer {token}",
                           "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 201:
            raise RuntimeError(f"hook not registered: {r.status}")


def run(binary, scenario, seconds, conns, work, hooks=0, receiver_port=None):
    """One measurement; with a receiver (any side has hooks) the server may deliver to it."""
    db = os.path.join(work, "ab.db")
    for suffix in ("", "-wal", "-shm", "-hooklock"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    token, commit, commit2 = seed(binary, db)
    extra = ["--hook-allow-private", "true"] if receiver_port else []
    srv = bench.tagd_server(binary, db, extra_args=extra)
    try:
        if hooks:  # registering hooks takes maintain; wrk keeps the seed's write token
            owner = subprocess.run([binary, "token", "create", "--org", "bench", "--scope",
                                    "maintain", "--name", "hooks", "--db", db],
                                   capture_output=True, text=True, check=True).stdout.strip()
            add_hooks(srv.port, owner, hooks, receiver_port)
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
    ap.add_argument("--a-hooks", type=int, default=0, help="webhooks registered on side A")
    ap.add_argument("--b-hooks", type=int, default=0, help="webhooks registered on side B")
    ap.add_argument("--receiver-nice", type=int, default=19)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tagd-ab-", dir="/var/tmp")
    results = {}
    receiver = None
    receiver_port = None
    if a.a_hooks or a.b_hooks:
        receiver = subprocess.Popen(["nice", "-n", str(a.receiver_nice), sys.executable,
                                     os.path.join(HERE, "hook_receiver.py")],
                                    stdout=subprocess.PIPE, text=True)
        receiver_port = int(receiver.stdout.readline())
    try:
        for scen in a.scenarios.split(","):
            for rnd in range(a.rounds):
                order = ("a", "b") if rnd % 2 == 0 else ("b", "a")
                for side in order:
                    r = run(getattr(a, side), scen, a.seconds, a.conns, work,
                            getattr(a, f"{side}_hooks"), receiver_port)
                    results.setdefault((scen, side), []).append(r)
                    print(f"{scen:<7} round {rnd + 1} {side.upper()} {r['rps']:>9.0f} req/s "
                          f"p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if receiver is not None:
            receiver.terminate()
            delivered = receiver.communicate(timeout=30)[0].strip()
            print(f"hook receiver: {delivered} deliveries in all (hooks: A {a.a_hooks}, "
                  f"B {a.b_hooks})")
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
