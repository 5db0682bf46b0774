#!/usr/bin/env python3
"""Memory of tagd binaries side by side:  python3 bench/rss.py TAGD [TAGD...]

For each binary: seed a database with 1 thousand tags (bench/seed.sh), start
`tagd serve` on it, read the idle process's /proc/PID/smaps_rollup (RSS,
anonymous) and the resident pages of its shared libraries, then the peak RSS
with 1,000 open keep-alive connections (bench.idle_connections_rss, as
bench/run.sh measures it)."""
import os
import shutil
import subprocess
import sys
import tempfile

import bench

HERE = os.path.dirname(os.path.abspath(__file__))


def smaps(pid):
    rollup = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                rollup[parts[0].rstrip(":")] = int(parts[1])
    libs, name = 0, ""
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
                name = parts[5] if len(parts) > 5 else ""
            elif parts[0] == "Rss:" and ".so" in name:
                libs += int(parts[1])
    return rollup["Rss"], rollup["Anonymous"], libs


def main():
    print("| tagd | idle RSS MiB | shared libraries MiB | anonymous MiB | threads "
          "| 1,000 connections peak MiB |")
    print("|---|---|---|---|---|---|")
    for binary in sys.argv[1:]:
        work = tempfile.mkdtemp(prefix="tagd-rss-", dir="/var/tmp")
        try:
            db = os.path.join(work, "r.db")
            subprocess.run([os.path.join(HERE, "seed.sh"), binary, db, "10", "100"],
                           capture_output=True, check=True)
            srv = bench.tagd_server(binary, db)
            try:
                rss, anon, libs = smaps(srv.proc.pid)
                threads = len(os.listdir(f"/proc/{srv.proc.pid}/task"))
                peak = bench.idle_connections_rss(srv, 1000)
            finally:
                srv.stop()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"| {binary} | {rss / 1024:.1f} | {libs / 1024:.1f} | {anon / 1024:.1f} "
              f"| {threads} | {peak / 1024:.1f} |")


if __name__ == "__main__":
    main()
