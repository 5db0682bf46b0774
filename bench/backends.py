#!/usr/bin/env python3
"""SQLite and PostgreSQL side by side: GET one tag and durable creates at 64
connections, on one node and on two nodes sharing the database, plus the
PostgreSQL writer modes (a batched transaction per group of writes, against
one transaction per request, on one connection and over a pool of four).
Run through bench/backends.sh, which builds, starts the private cluster and
seeds.

Every figure is measured in this run: requests/s and p50/p99 from wrk's own
summary (the Lua done() hook of bench/wrk/common.lua); CPU per request from
/proc (utime + stime of every tagd node, of every PostgreSQL server process,
and of wrk), divided by the requests wrk counted.  Scenarios run in rounds,
alternating the backends, and each figure is the median of its rounds, so a
neighbour's burst on a shared machine moves one round, not the table.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (wrk, free_port, Server)

TICK = os.sysconf("SC_CLK_TCK")
CONNS = 64


def parse_wrk(out):
    """The RESULT line bench/wrk/common.lua's done() prints."""
    m = re.search(r"RESULT requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) "
                  r"errors=(\d+) non2xx=(\d+)", out)
    if not m:
        raise RuntimeError("no RESULT line from wrk:\n" + out)
    req, dur, p50, p99, errors, non2xx = map(int, m.groups())
    return {"rps": req / (dur / 1e6), "p50_ms": p50 / 1000, "p99_ms": p99 / 1000,
            "errors": errors, "non2xx": non2xx, "requests": req}


def cpu_seconds(pids):
    """{pid: utime + stime in seconds} of pids (their threads included); gone ones left out."""
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, IndexError):
            pass
    return out


def cpu_since(before, pids):
    """CPU seconds pids used since before (a process started meanwhile: all of its)."""
    now = cpu_seconds(pids)
    return sum(v - before.get(pid, 0.0) for pid, v in now.items())


def pg_pids(pg_dir):
    """The postmaster of the cluster in pg_dir and its children (the backends)."""
    with open(os.path.join(pg_dir, "data", "postmaster.pid")) as f:
        postmaster = int(f.readline())
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(postmaster)], capture_output=True,
                         text=True).stdout.split()
    return [postmaster] + [int(p) for p in out]


def start_nodes(binary, db, n, env):
    nodes = []
    try:
        for _ in range(n):
            port = bench.free_port()
            e = dict(os.environ, **env)
            e.pop("TAGD_DB", None)
            nodes.append(bench.Server([binary, "serve", "--listen", f"127.0.0.1:{port}",
                                       "--db", db], port, env=e, ready_path="/readyz"))
    except Exception:
        for s in nodes:
            s.stop()
        raise
    return nodes


def drive(nodes, script, seconds, env, pg_dir):
    """wrk against every node at once, CONNS connections in all; the summed figures."""
    per = CONNS // len(nodes)
    e = dict(os.environ, BENCH_LUA=bench.LUA, **env)
    procs = []
    tagd = [s.proc.pid for s in nodes]
    c_tagd = cpu_seconds(tagd)
    c_pg = cpu_seconds(pg_pids(pg_dir)) if pg_dir else {}
    t_wrk = os.times()
    for i, s in enumerate(nodes):
        e_i = dict(e, RUN_ID=f"{env.get('RUN_ID', 'r')}-n{i}")
        cmd = ["wrk", "-t1", f"-c{per}", f"-d{seconds}s", "--timeout", "5s", "-s",
               os.path.join(bench.LUA, script), f"http://127.0.0.1:{s.port}"]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=e_i))
    outs = [p.communicate()[0] for p in procs]
    w = os.times()
    c_tagd = cpu_since(c_tagd, tagd)
    c_pg = cpu_since(c_pg, pg_pids(pg_dir)) if pg_dir else 0.0
    c_wrk = (w.children_user - t_wrk.children_user) + (w.children_system - t_wrk.children_system)
    res = [parse_wrk(o) for o in outs]
    req = sum(r["requests"] for r in res)
    return {"rps": sum(r["rps"] for r in res), "p50_ms": max(r["p50_ms"] for r in res),
            "p99_ms": max(r["p99_ms"] for r in res), "bad": sum(r["errors"] + r["non2xx"]
                                                               for r in res),
            "tagd_us": c_tagd * 1e6 / max(req, 1), "pg_us": c_pg * 1e6 / max(req, 1),
            "wrk_us": c_wrk * 1e6 / max(req, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tagd", required=True)
    ap.add_argument("--sqlite-db", required=True)
    ap.add_argument("--pg-uri", required=True)
    ap.add_argument("--pg-dir", required=True, help="the cluster's folder (for its processes)")
    ap.add_argument("--creds", required=True, help="TOKEN COMMIT")
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    token, commit = a.creds.split()
    env = {"TOKEN": token, "COMMIT": commit, "CLOSE": "0",
           "GET_PATH": "/api/v1/repositories/r00001/tags/t0042",
           "CREATE_PATH": "/api/v1/repositories/r00002/tags"}
    backends = {"SQLite": (a.sqlite_db, None), "PostgreSQL": (a.pg_uri, a.pg_dir)}
    # (label, script, nodes, backends, extra environment of the nodes)
    scenarios = [
        ("get one tag", "get.lua", 1, ("SQLite", "PostgreSQL"), {}),
        ("get one tag", "get.lua", 2, ("SQLite", "PostgreSQL"), {}),
        ("create tag", "create.lua", 1, ("SQLite", "PostgreSQL"), {}),
        ("create tag", "create.lua", 2, ("SQLite", "PostgreSQL"), {}),
        ("create tag, a transaction per request", "create.lua", 1, ("PostgreSQL",),
         {"TAGD_WRITE_BATCH": "1"}),
        ("create tag, a transaction per request over 4 connections", "create.lua", 4,
         ("PostgreSQL",), {"TAGD_WRITE_BATCH": "1"}),
    ]
    runs = {}
    for rnd in range(a.rounds):
        for label, script, n, names, node_env in scenarios:
            for name in names if rnd % 2 == 0 else tuple(reversed(names)):
                db, pg_dir = backends[name]
                nodes = start_nodes(a.tagd, db, n, node_env)
                try:
                    r = drive(nodes, script, a.seconds,
                              dict(env, RUN_ID=f"{time.time():.0f}-{rnd}"), pg_dir)
                finally:
                    for s in nodes:
                        s.stop()
                runs.setdefault((label, n, name), []).append(r)
                print(f"round {rnd + 1}: {label}, {n} node(s), {name}: {r['rps']:.0f} req/s",
                      file=sys.stderr)

    def med(key, field):
        return statistics.median(r[field] for r in runs[key])

    lines = ["| scenario | nodes | backend | req/s | x SQLite | p50 ms | p99 ms | tagd CPU us/req "
             "| PostgreSQL CPU us/req | wrk CPU us/req | non-2xx |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, _, n, names, _ in scenarios:
        for name in names:
            key = (label, n, name)
            base = (label, n, "SQLite")
            if base not in runs:  # the writer modes: against SQLite's create on one node
                base = ("create tag", 1, "SQLite")
            ratio = ""
            if name != "SQLite":
                ratios = [r["rps"] / b["rps"] for r, b in zip(runs[key], runs[base])]
                ratio = f"{statistics.median(ratios):.2f}"
            pg = f"{med(key, 'pg_us'):.1f}" if name == "PostgreSQL" else ""
            lines.append(f"| {label} | {n} | {name} | {med(key, 'rps'):.0f} | {ratio} | "
                         f"{med(key, 'p50_ms'):.2f} | {med(key, 'p99_ms'):.2f} | "
                         f"{med(key, 'tagd_us'):.1f} | {pg} | {med(key, 'wrk_us'):.1f} | "
                         f"{sum(r['bad'] for r in runs[key])} |")
    table = "\n".join(lines)
    print(table)
    if a.out:
        with open(a.out, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
