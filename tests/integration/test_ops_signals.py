"""Signals: SIGTERM drains requests in flight and exits 0, a second SIGTERM exits
at once, the drain has a deadline; SIGHUP reloads limits and the log without
dropping connections."""
import http.client
import json
import os
import signal
import socket
import time
import unittest

from dbtest import on_postgres
from tagdtest import Tagd, wait_for_text


class HeldRequest:
    """A request whose headers tagd has accepted (it answered 100 Continue) but
    whose body is held back until finish(): a request in flight, for certain."""

    def __init__(self, port, path, doc, token):
        self.body = json.dumps(doc).encode()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(self.body)}\r\nExpect: 100-continue\r\n\r\n")
        self.sock.sendall(head.encode())
        self.buf = b""
        self._read_until(b"\r\n\r\n")
        if not self.buf.startswith(b"HTTP/1.1 100"):
            raise AssertionError(f"expected 100 Continue, got {self.buf!r}")
        self.buf = self.buf[self.buf.index(b"\r\n\r\n") + 4:]

    def _read_until(self, marker):
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed; got {self.buf!r}")
            self.buf += chunk

    def finish(self):
        """Send the body; returns (status, body)."""
        self.sock.sendall(self.body)
        self._read_until(b"\r\n\r\n")
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        status = int(head.split(b" ")[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        self.buf = rest
        while len(self.buf) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        self.sock.close()
        return status, self.buf[:length]

    def closed_by_server(self):
        """True when the server closed the connection (nothing more to read)."""
        self.sock.settimeout(30)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        finally:
            self.sock.close()


class SignalTest(unittest.TestCase):
    def start(self, *args, env=None):
        t = Tagd(extra_args=list(args), env=env)
        self.addCleanup(t.cleanup)
        self.token = t.new_org("acme")
        t.start()
        self.repo = "sig-repo"
        r = t.request("POST", "/api/v1/repositories", {"name": self.repo}, token=self.token)
        self.assertEqual(r.status, 201, r)
        self.commit = t.new_commit("acme")
        return t

    def held_tag(self, t, name):
        return HeldRequest(t.port, f"/api/v1/repositories/{self.repo}/tags",
                           {"tag_name": name, "commit_id": self.commit}, self.token)

    def test_sigterm_lets_requests_in_flight_finish(self):
        t = self.start()
        idle = http.client.HTTPConnection("127.0.0.1", t.port, timeout=30)
        mark = t.log_mark()
        idle.request("GET", "/readyz")
        r = idle.getresponse()
        self.assertEqual((r.status, r.read()), (200, b"ready\n"))
        # Answered is not yet done: its access line says it no longer counts as in flight.
        t.wait_log(r'route="/readyz" status=200', start=mark)
        held = [self.held_tag(t, f"inflight-{i}") for i in range(3)]

        t.proc.send_signal(signal.SIGTERM)
        t.wait_log(r'msg="shutting down" signal=TERM in_flight=3')
        # Draining: not ready, but connections already open are still served.
        idle.request("GET", "/readyz")
        r = idle.getresponse()
        self.assertEqual((r.status, r.read()), (503, b"draining\n"))
        # New connections are refused: the listening socket is closed.
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", t.port), timeout=5).close()

        for i, h in enumerate(held):
            status, body = h.finish()
            self.assertEqual(status, 201, body)
            self.assertEqual(json.loads(body)["reference"], f"{self.repo}:inflight-{i}")
        # No further signal: the drain ends by itself once the last request is done.
        self.assertEqual(t.proc.wait(20), 0, t.log())
        t.wait_log(r'msg="stopped"')
        idle.close()
        # Every acknowledged tag is in the database, and SQLite's WAL was checkpointed.
        if not on_postgres():
            wal = t.db + "-wal"
            self.assertTrue(not os.path.exists(wal) or os.path.getsize(wal) == 0)
        names = {n for (n,) in t.sql("SELECT name FROM repo_tags")}
        self.assertEqual(names, {"inflight-0", "inflight-1", "inflight-2"})

    def test_second_sigterm_exits_at_once(self):
        t = self.start("--shutdown-timeout", "600")
        held = self.held_tag(t, "never")
        t.proc.send_signal(signal.SIGTERM)
        t.wait_log(r'msg="shutting down"')
        started = time.monotonic()
        t.proc.send_signal(signal.SIGTERM)
        rc = t.proc.wait(20)
        self.assertEqual(rc, 1)
        self.assertLess(time.monotonic() - started, 15)
        t.wait_log(r'msg="second signal: exiting at once" in_flight=1')
        self.assertTrue(held.closed_by_server())

    def test_drain_deadline(self):
        t = self.start("--shutdown-timeout", "1")
        held = self.held_tag(t, "too-slow")
        t.proc.send_signal(signal.SIGTERM)
        self.assertEqual(t.proc.wait(20), 0)
        t.wait_log(r'msg="shutdown deadline passed; cutting off requests" in_flight=1 '
                   r'shutdown_timeout=1')
        t.wait_log(r'msg="stopped"')
        self.assertTrue(held.closed_by_server())

    def test_sighup_reloads_limits_without_dropping_connections(self):
        t = Tagd()
        self.addCleanup(t.cleanup)
        conf = os.path.join(t.dir, "tagd.conf")
        with open(conf, "w") as f:
            f.write("max_body = 1000\nthreads = 2\n")
        t.extra_args = ["--config", conf]
        token = t.new_org("acme")
        t.start()
        kept = http.client.HTTPConnection("127.0.0.1", t.port, timeout=30)
        body = json.dumps({"name": "r" * 150})
        r = t.request("POST", "/api/v1/repositories", raw=body, token=token, conn=kept)
        self.assertNotEqual(r.status, 413, r)

        with open(conf, "w") as f:
            f.write("max_body = 100\nthreads = 3\nlog_level = debug\n")
        mark = t.log_mark()
        t.proc.send_signal(signal.SIGHUP)
        t.wait_log(r'msg="configuration reloaded" changed=3', start=mark)
        t.wait_log(r'msg="setting changed; it takes effect at the next restart" key=threads',
                   start=mark)
        # The same connection, still open, now meets the new limit.
        r = t.request("POST", "/api/v1/repositories", raw=body, token=token, conn=kept)
        self.assertEqual(r.status, 413, r)

        # A broken file is refused; the running configuration stays.
        with open(conf, "w") as f:
            f.write("max_body = lots\n")
        mark = t.log_mark()
        t.proc.send_signal(signal.SIGHUP)
        t.wait_log(r'msg="reload refused; the running configuration stays" '
                   r'error=".*tagd.conf:1: max_body takes a byte count', start=mark)
        r = t.request("POST", "/api/v1/repositories", raw=body, token=token, conn=kept)
        self.assertEqual(r.status, 413, r)
        r = t.request("GET", "/readyz", conn=kept)
        self.assertEqual(r.status, 200, r)
        kept.close()
        self.assertEqual(t.stop(), 0)

    def test_sighup_shortens_the_header_deadline(self):
        # A client trickling its headers is cut by the new connection_timeout,
        # not by the one tagd started with.
        t = Tagd()
        self.addCleanup(t.cleanup)
        conf = os.path.join(t.dir, "tagd.conf")
        with open(conf, "w") as f:
            f.write("connection_timeout = 60\n")
        t.extra_args = ["--config", conf]
        t.start()
        with open(conf, "w") as f:
            f.write("connection_timeout = 1\n")
        mark = t.log_mark()
        t.proc.send_signal(signal.SIGHUP)
        t.wait_log(r'msg="configuration reloaded" changed=1', start=mark)
        s = socket.create_connection(("127.0.0.1", t.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        start = time.monotonic()
        cut = None
        while cut is None and time.monotonic() - start < 10:
            try:
                s.sendall(b"a")
                s.settimeout(0.25)
                try:
                    if s.recv(1024) == b"":
                        cut = time.monotonic() - start
                except socket.timeout:
                    pass
            except OSError:
                cut = time.monotonic() - start
        self.assertIsNotNone(cut, "a trickling client outlived the reloaded 1 s deadline")
        self.assertLess(cut, 10)
        self.assertEqual(t.stop(), 0)

    def test_sighup_reopens_the_log_file(self):
        t = Tagd()
        self.addCleanup(t.cleanup)
        conf = os.path.join(t.dir, "tagd.conf")
        log = os.path.join(t.dir, "tagd.log")
        open(conf, "w").close()
        t.extra_args = ["--config", conf]
        t.start()
        with open(conf, "w") as f:
            f.write(f"log_file = {log}\n")
        t.proc.send_signal(signal.SIGHUP)
        wait_for_text(log, 'msg="configuration reloaded"')
        # logrotate moves the file, then signals.
        os.rename(log, log + ".1")
        t.proc.send_signal(signal.SIGHUP)
        wait_for_text(log, 'msg="configuration reloaded"')
        r = t.request("GET", "/livez", headers={"X-Request-Id": "after-rotation"})
        self.assertEqual(r.status, 200)
        self.assertEqual(t.stop(), 0)
        with open(log) as f:
            new = f.read()
        with open(log + ".1") as f:
            old = f.read()
        self.assertIn("request_id=after-rotation", new)
        self.assertNotIn("after-rotation", old)
        self.assertIn('msg="stopped"', new)



if __name__ == "__main__":
    unittest.main()
