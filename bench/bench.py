#!/usr/bin/env python3
"""tagd's benchmark: drives tagd, two baselines and a peer with wrk on loopback
and prints one markdown table.  Run through bench/run.sh, which builds and
seeds.  The peer (--peer) is what a team would write instead of tagd: the
Fastify + better-sqlite3 server of ../shared/bench/peer-node, durable too.

Every figure is measured in this run: requests/s and p50/p99 latency from
wrk's own summary (a Lua done() hook), peak RSS from /proc/PID/status (VmHWM,
reset between scenarios through /proc/PID/clear_refs).
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "wrk")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, path="/", timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            c.getresponse().read()
            c.close()
            return True
        except OSError:
            time.sleep(0.005)
    return False


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def reset_peak(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


class Server:
    def __init__(self, args, port, env=None, ready_path="/"):
        self.port = port
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=env)
        if not wait_http(port, ready_path):
            self.stop()
            raise RuntimeError(f"server did not start: {args}")
        self.ready_s = time.monotonic() - self.t0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wrk(port, script, conns, seconds, env):
    e = dict(os.environ, BENCH_LUA=LUA, **env)
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "5s", "-s",
           os.path.join(LUA, script), f"http://127.0.0.1:{port}"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=e, check=True).stdout
    return parse_wrk(out)


def parse_wrk(out):
    """The figures of the RESULT line bench/wrk/common.lua's done() prints."""
    m = re.search(r"RESULT requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) "
                  r"errors=(\d+) non2xx=(\d+)", out)
    if not m:
        raise RuntimeError("no RESULT line from wrk:\n" + out)
    req, dur, p50, p99, errors, non2xx = map(int, m.groups())
    return {"rps": req / (dur / 1e6), "p50_ms": p50 / 1000, "p99_ms": p99 / 1000,
            "errors": errors, "non2xx": non2xx, "requests": req}


def tagd_server(binary, db, extra_env=None, extra_args=()):
    port = free_port()
    env = dict(os.environ, **(extra_env or {}))
    env.pop("TAGD_DB", None)
    s = Server([binary, "serve", "--listen", f"127.0.0.1:{port}", "--db", db, *extra_args], port,
               env=env, ready_path="/livez")
    return s


def idle_connections_rss(server, n):
    """Open n keep-alive connections that each made one request; return peak RSS."""
    reset_peak(server.proc.pid)
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", server.port))
            s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        for s in socks:
            s.recv(4096)
        return peak_rss_kib(server.proc.pid)
    finally:
        for s in socks:
            s.close()


def peer_server(peer_dir, db, token, commit):
    """Start the peer (node server.js PORT DB) and seed it like tagd's small database:
    the token, repositories r00001 and r00002, the commit, and tag t0042 in r00001."""
    port = free_port()
    s = Server(["node", os.path.join(peer_dir, "server.js"), str(port), db], port)
    try:
        for repo in ("r00001", "r00002"):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("POST", "/seed", body=json.dumps({"token": token, "org": "bench",
                                                         "repo": repo, "commit": commit}),
                      headers={"Content-Type": "application/json"})
            if c.getresponse().status != 200:
                raise RuntimeError("peer: seeding failed")
            c.close()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", "/api/v1/repositories/r00001/tags",
                  body=json.dumps({"tag_name": "t0042", "commit_id": commit}),
                  headers={"Content-Type": "application/json",
                           "Authorization": f"Bearer {token}"})
        if c.getresponse().status != 201:
            raise RuntimeError("peer: cannot create the tag to get")
        c.close()
    except Exception:
        s.stop()
        raise
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tagd", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--small-db", required=True)
    ap.add_argument("--large-db", required=True)
    ap.add_argument("--small-creds", required=True, help="TOKEN COMMIT")
    ap.add_argument("--large-creds", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds of the side-by-side target measurements")
    ap.add_argument("--peer", default=None,
                    help="a peer-node directory with its node_modules installed")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    rows = []  # (scenario, conns, mode, result dict)
    work = tempfile.mkdtemp(prefix="tagd-bench-")
    get_path = "/api/v1/repositories/r00001/tags/t0042"
    list_path = "/api/v1/repositories/r00001/tags"
    create_path = "/api/v1/repositories/r00002/tags"

    def run_set(label, db, creds, scenarios, extra_env=None):
        token, commit = creds.split()
        srv = tagd_server(a.tagd, db, extra_env)
        try:
            for scen, script, conns, close in scenarios:
                reset_peak(srv.proc.pid)
                env = {"TOKEN": token, "COMMIT": commit, "GET_PATH": get_path,
                       "LIST_PATH": list_path, "CREATE_PATH": create_path,
                       "CLOSE": "1" if close else "0", "RUN_ID": f"{int(time.time())}{conns}"}
                r = wrk(srv.port, script, conns, a.seconds, env)
                r["rss_kib"] = peak_rss_kib(srv.proc.pid)
                rows.append((f"{scen} ({label})", conns, "close" if close else "keep-alive", r))
                print(f"{scen:<22} {label:<18} c={conns:<3} {'close' if close else 'keep':<5} "
                      f"{r['rps']:>9.0f} req/s p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms "
                      f"rss {r['rss_kib'] / 1024:.1f} MiB errors {r['errors']}", flush=True)
        finally:
            srv.stop()
        return srv

    full = []
    for scen, script in (("get one tag", "get.lua"), ("list tags", "list.lua"),
                         ("create tag", "create.lua"), ("mix 90/10", "mix.lua")):
        for close in (False, True):
            for conns in (1, 64):
                full.append((scen, script, conns, close))
    run_set("1k tags", a.small_db, a.small_creds, full)
    run_set("1M tags", a.large_db, a.large_creds,
            [("get one tag", "get.lua", 64, False), ("list tags", "list.lua", 64, False),
             ("create tag", "create.lua", 64, False)])
    run_set("1k, no group commit", a.small_db, a.small_creds,
            [("create tag", "create.lua", 64, False)], {"TAGD_WRITE_BATCH": "1"})

    # Body size of the get-one-tag answer, for the baselines.
    token = a.small_creds.split()[0]
    srv = tagd_server(a.tagd, a.small_db)
    try:
        c = http.client.HTTPConnection("127.0.0.1", srv.port)
        c.request("GET", get_path, headers={"Authorization": f"Bearer {token}"})
        body = c.getresponse().read()
        rss_1000 = idle_connections_rss(srv, 1000)
    finally:
        srv.stop()
    size = len(body)

    # Ready time with 1M tags: from exec to the first answered request.
    readies = []
    for _ in range(5):
        s = tagd_server(a.tagd, a.large_db)
        readies.append(s.ready_s)
        s.stop()

    baselines = {}
    port = free_port()
    b = Server([a.baseline, str(port), str(size)], port)
    try:
        for conns in (1, 64):
            for close in (False, True):
                r = wrk(port, "get.lua", conns, a.seconds,
                        {"GET_PATH": "/x", "CLOSE": "1" if close else "0", "TOKEN": ""})
                r["rss_kib"] = peak_rss_kib(b.proc.pid)
                baselines[("mhd", conns, close)] = r
    finally:
        b.stop()

    ngx_dir = os.path.join(work, "nginx")
    os.makedirs(os.path.join(ngx_dir, "www"))
    with open(os.path.join(ngx_dir, "www", "tag.json"), "wb") as f:
        f.write(body)
    port = free_port()
    conf = os.path.join(ngx_dir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off; worker_processes auto; pid {ngx_dir}/nginx.pid;
error_log {ngx_dir}/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 100000000; default_type application/json;
  server {{ listen 127.0.0.1:{port}; root {ngx_dir}/www; location / {{ try_files /tag.json =404; }} }} }}
""")
    n = Server(["nginx", "-c", conf, "-p", ngx_dir], port)
    try:
        for conns in (1, 64):
            for close in (False, True):
                r = wrk(port, "get.lua", conns, a.seconds,
                        {"GET_PATH": "/x", "CLOSE": "1" if close else "0", "TOKEN": ""})
                r["rss_kib"] = 0
                baselines[("nginx", conns, close)] = r
    finally:
        n.stop()

    # The targets, side by side: tagd, the libmicrohttpd baseline and the peer run at once,
    # and each round takes their scenarios back to back, so that every ratio compares
    # figures measured within a minute of each other.  The load of a shared machine drifts
    # over a whole run by more than the targets' margins.
    token, commit = a.small_creds.split()
    rounds = []
    srv = tagd_server(a.tagd, a.small_db)
    mport = free_port()
    servers = [srv, Server([a.baseline, str(mport), str(size)], mport)]
    try:
        peer = None
        if a.peer:
            peer = peer_server(a.peer, os.path.join(work, "peer.db"), token, commit)
            servers.append(peer)
        for i in range(a.rounds):
            env = {"TOKEN": token, "COMMIT": commit, "GET_PATH": get_path,
                   "CREATE_PATH": create_path, "CLOSE": "0", "RUN_ID": f"t{int(time.time())}r{i}"}
            r = {"mhd get": wrk(mport, "get.lua", 64, a.seconds,
                                {"GET_PATH": "/x", "CLOSE": "0", "TOKEN": ""}),
                 "get": wrk(srv.port, "get.lua", 64, a.seconds, env),
                 "create": wrk(srv.port, "create.lua", 64, a.seconds, env)}
            if peer is not None:
                r["peer get"] = wrk(peer.port, "get.lua", 64, a.seconds, env)
                r["peer create"] = wrk(peer.port, "create.lua", 64, a.seconds, env)
            rounds.append(r)
            print(f"round {i + 1}: " + ", ".join(f"{k} {v['rps']:.0f}/s p99 {v['p99_ms']:.2f} ms"
                                                 for k, v in r.items()), flush=True)
    finally:
        for x in servers:
            x.stop()
    shutil.rmtree(work, ignore_errors=True)

    lines = ["| scenario | conns | connection | req/s | p50 ms | p99 ms | peak RSS MiB | "
             "x libmicrohttpd | x nginx |", "|---|---|---|---|---|---|---|---|---|"]
    for scen, conns, mode, r in rows:
        close = mode == "close"
        mhd = baselines[("mhd", conns, close)]["rps"]
        ngx = baselines[("nginx", conns, close)]["rps"]
        lines.append(f"| {scen} | {conns} | {mode} | {r['rps']:.0f} | {r['p50_ms']:.2f} | "
                     f"{r['p99_ms']:.2f} | {r['rss_kib'] / 1024:.1f} | {r['rps'] / mhd:.2f} | "
                     f"{r['rps'] / ngx:.2f} |")
    for (kind, conns, close), r in sorted(baselines.items()):
        # nginx's memory is spread over its worker processes: not measured.
        rss = f"{r['rss_kib'] / 1024:.1f}" if r["rss_kib"] else "n/a"
        lines.append(f"| baseline: {'libmicrohttpd' if kind == 'mhd' else 'nginx'} "
                     f"({size} B body) | {conns} | {'close' if close else 'keep-alive'} | "
                     f"{r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {rss} | | |")
    lines.append("")
    lines.append(f"Targets, side by side ({len(rounds)} rounds; 64 keep-alive connections, 1k tags):")
    lines.append("")
    with_peer = bool(rounds) and "peer get" in rounds[0]
    head = "| round | libmicrohttpd get | tagd get | tagd create (p99 ms) |"
    sep = "|---|---|---|---|"
    if with_peer:
        head += " peer get | peer create (p99 ms) |"
        sep += "---|---|"
    head += " get / libmicrohttpd | create / get |"
    sep += "---|---|"
    if with_peer:
        head += " get / peer get | create / peer create |"
        sep += "---|---|"
    lines += [head, sep]
    ratios = {"get": [], "create": [], "peer get": [], "peer create": []}
    for i, r in enumerate(rounds):
        g, c, m = r["get"]["rps"], r["create"]["rps"], r["mhd get"]["rps"]
        row = f"| {i + 1} | {m:.0f} | {g:.0f} | {c:.0f} ({r['create']['p99_ms']:.2f}) |"
        if with_peer:
            row += (f" {r['peer get']['rps']:.0f} | {r['peer create']['rps']:.0f} "
                    f"({r['peer create']['p99_ms']:.2f}) |")
        ratios["get"].append(g / m)
        ratios["create"].append(c / g)
        row += f" {g / m:.2f} | {c / g:.2f} |"
        if with_peer:
            ratios["peer get"].append(g / r["peer get"]["rps"])
            ratios["peer create"].append(c / r["peer create"]["rps"])
            row += f" {ratios['peer get'][-1]:.1f} | {ratios['peer create'][-1]:.1f} |"
        lines.append(row)
    lines.append("")
    if rounds:
        lines.append(f"- median of the rounds: get one tag {statistics.median(ratios['get']):.2f} x "
                     f"libmicrohttpd; create tag {statistics.median(ratios['create']):.2f} x get "
                     f"one tag, p99 {statistics.median(r['create']['p99_ms'] for r in rounds):.2f} ms")
    if with_peer:
        lines.append(f"- median of the rounds: get {statistics.median(ratios['peer get']):.1f} x "
                     f"and create {statistics.median(ratios['peer create']):.1f} x the peer "
                     "(Fastify + better-sqlite3)")
    lines.append(f"- peak RSS with 1,000 open keep-alive connections: {rss_1000 / 1024:.1f} MiB")
    lines.append(f"- ready to serve with 1M tags (exec to first answer), 5 starts: "
                 f"min {min(readies) * 1000:.0f} ms, max {max(readies) * 1000:.0f} ms")
    table = "\n".join(lines)
    print()
    print(table)
    if a.out:
        with open(a.out, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    sys.exit(main())
