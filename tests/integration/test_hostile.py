"""Hostile clients: slowloris, oversized requests, bad encodings, deep JSON,
connection floods.  The server must answer what it can, refuse the rest with
the right status, and keep serving everyone else."""
import http.client
import json
import selectors
import socket
import threading
import time
import unittest

from tagdtest import TagdCase

TIMEOUT_S = 2  # the server's --timeout: idle connections and slow headers are cut after it


def raw_exchange(port, data, wait=10.0):
    """Send data on a fresh connection and read until the server closes or wait passes.
    Returns (status, headers dict, body bytes); status None when nothing came back."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may answer and close before reading everything
        out = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
            head, sep, body = out.partition(b"\r\n\r\n")
            if sep:
                headers = {}
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "-1"))
                if n >= 0 and len(body) >= n:
                    break
    finally:
        s.close()
    if not out:
        return None, {}, b""
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


class HostileTest(TagdCase):
    server_args = ("--connection-timeout", str(TIMEOUT_S))

    def setUp(self):
        # The server must be alive and well before and after every test.
        self.assertIsNone(self.tagd.proc.poll())

    def tearDown(self):
        self.assertIsNone(self.tagd.proc.poll(), "tagd died:\n" + self.tagd.log())
        self.assertServes()

    def assertServes(self):
        repo = self.unique("alive")
        r = self.req("POST", "/api/v1/repositories", {"name": repo})
        self.assertEqual(r.status, 201, r)

    def assertEnvelope(self, status, headers, body, want):
        self.assertEqual(status, want, body[:300])
        self.assertEqual(headers.get("content-type"), "application/json", headers)
        doc = json.loads(body)
        self.assertIs(doc["success"], False)
        self.assertIsInstance(doc["error"], str)

    # -- slowloris --
    def test_trickled_headers_are_cut_while_others_are_served(self):
        n = 8
        socks = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", self.tagd.port), timeout=10)
            s.sendall(b"POST /api/v1/repositories HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            socks.append(s)
        closed_after = {}
        served = 0
        start = time.monotonic()
        # Trickle one byte per socket every 0.25 s: never idle long enough for an idle timeout.
        while len(closed_after) < n and time.monotonic() - start < TIMEOUT_S * 5:
            for i, s in enumerate(socks):
                if i in closed_after:
                    continue
                try:
                    s.sendall(b"a")
                    s.setblocking(False)
                    try:
                        if s.recv(1024) == b"":
                            closed_after[i] = time.monotonic() - start
                    except BlockingIOError:
                        pass
                    finally:
                        s.setblocking(True)
                except OSError:
                    closed_after[i] = time.monotonic() - start
            # Meanwhile everyone else is served at once.
            t0 = time.monotonic()
            self.assertServes()
            self.assertLess(time.monotonic() - t0, 2.0)
            served += 1
            time.sleep(0.25)  # the trickle's pace, not synchronisation
        for s in socks:
            s.close()
        self.assertEqual(len(closed_after), n, f"still open after {TIMEOUT_S * 5}s: "
                         f"{sorted(set(range(n)) - set(closed_after))}")
        for i, t in closed_after.items():
            self.assertGreaterEqual(t, TIMEOUT_S - 0.5, (i, t))
            self.assertLess(t, TIMEOUT_S + 2.5, (i, t))
        self.assertGreater(served, 3)
        self.assertIn("request headers too slow", self.tagd.log())

    def test_busy_keep_alive_connection_outlives_the_deadline(self):
        # The deadline is per request, from its start to its last header: a
        # connection that keeps sending complete requests is never cut.
        conn = http.client.HTTPConnection("127.0.0.1", self.tagd.port, timeout=10)
        try:
            start = time.monotonic()
            n = 0
            while time.monotonic() - start < TIMEOUT_S * 1.75:
                r = self.req("POST", "/api/v1/repositories", {"name": self.unique("ka")},
                             conn=conn)
                self.assertEqual(r.status, 201, r)
                if n == 0:
                    first = conn.sock.getsockname()
                self.assertEqual(conn.sock.getsockname(), first)  # not a new connection
                n += 1
                time.sleep(TIMEOUT_S / 4)  # the client's pace, under the idle timeout
            self.assertGreaterEqual(n, 4)
        finally:
            conn.close()

    def test_idle_connection_is_closed(self):
        s = socket.create_connection(("127.0.0.1", self.tagd.port), timeout=TIMEOUT_S * 4)
        t0 = time.monotonic()
        self.assertEqual(s.recv(1024), b"")  # closed by the server, without an answer
        self.assertLess(time.monotonic() - t0, TIMEOUT_S * 3)
        s.close()

    # -- oversized requests --
    def test_long_url_is_414(self):
        # Past tagd's limit (4 KiB), within the connection's 16 KiB pool: the envelope.
        status, headers, body = raw_exchange(
            self.tagd.port, b"GET /api/v1/" + b"a" * 6000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEnvelope(status, headers, body, 414)
        # The query counts too.
        status, headers, body = raw_exchange(
            self.tagd.port, b"GET /api/v1/x?q=" + b"a" * 6000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEnvelope(status, headers, body, 414)
        # Past libmicrohttpd's memory pool: it answers 414 itself.
        status, _, _ = raw_exchange(
            self.tagd.port, b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(status, 414)

    def test_large_headers_are_431(self):
        # Past tagd's limit (8 KiB), within the connection's 16 KiB pool: the envelope.
        status, headers, body = raw_exchange(
            self.tagd.port,
            b"GET /api/v1/x HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 12000 + b"\r\n\r\n")
        self.assertEnvelope(status, headers, body, 431)
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(100))
        status, headers, body = raw_exchange(
            self.tagd.port, b"GET /api/v1/x HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        self.assertEnvelope(status, headers, body, 431)
        status, _, _ = raw_exchange(
            self.tagd.port,
            b"GET /api/v1/x HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
        self.assertEqual(status, 431)

    def test_large_body_is_413(self):
        head = (b"POST /api/v1/repositories HTTP/1.1\r\nHost: x\r\n"
                b"Authorization: Bearer " + self.token.encode() + b"\r\n"
                b"Content-Type: application/json\r\n")
        # Declared too large: refused before reading it.
        status, headers, body = raw_exchange(
            self.tagd.port, head + b"Content-Length: 2000000\r\n\r\n" + b"a" * 1000)
        self.assertEnvelope(status, headers, body, 413)
        # Chunked, so only known once read.
        chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"
        status, headers, body = raw_exchange(
            self.tagd.port, head + b"Transfer-Encoding: chunked\r\n\r\n" + chunk * 2 + b"0\r\n\r\n")
        self.assertEnvelope(status, headers, body, 413)

    # -- bad encodings --
    def test_invalid_utf8_is_400(self):
        r = self.req("POST", "/api/v1/repositories", raw=b'{"name": "\xff\xfe"}')
        self.assertVersError(r, 400)
        r = self.req("POST", "/api/v1/repositories", raw=b'{"name": "a\xed\xa0\x80"}')  # surrogate
        self.assertVersError(r, 400)
        r = self.req("POST", "/api/v1/repositories", raw=b'{"name": "\\u0000"}')
        self.assertVersError(r, 400)
        # A bad escape followed by bad bytes: jansson quotes them (a 500 before the fix).
        r = self.req("POST", "/api/v1/repositories", raw=b'{"name":"]0000a\\u000\xcf\x9d\xddx')
        self.assertVersError(r, 400)
        # Not UTF-8 in a path parameter: not a name any repository has.
        commit = self.tagd.new_commit("acme")
        r = self.req("POST", "/api/v1/repositories/%FF%FE/tags",
                     {"tag_name": "v1", "commit_id": commit})
        self.assertVersError(r, 404)

    def test_deep_nesting_is_400(self):
        for doc in (b"[" * 100000, b"[" * 5000 + b"]" * 5000,
                    b'{"a":' * 5000 + b"1" + b"}" * 5000):
            r = self.req("POST", "/api/v1/repositories", raw=doc)
            self.assertVersError(r, 400)

    # -- floods --
    def test_many_connections_hit_the_limit_without_a_crash(self):
        n = 1500  # more than the connection limit (1024)
        socks = []
        sel = selectors.DefaultSelector()
        try:
            for _ in range(n):
                s = socket.create_connection(("127.0.0.1", self.tagd.port), timeout=5)
                s.sendall(b"GET /api/v1/x HTTP/1.1\r\nHost: x\r\n")  # never finished
                socks.append(s)
                sel.register(s, selectors.EVENT_READ)
            self.assertIsNone(self.tagd.proc.poll())
            # The server takes 1024 at once; each is cut at its header deadline, and
            # only then are the others (waiting in the listen queue) taken and cut.
            start = time.monotonic()
            closed = []
            while len(closed) < n and time.monotonic() - start < TIMEOUT_S * 10:
                for key, _ in sel.select(1.0):
                    try:
                        data = key.fileobj.recv(100)
                    except OSError:
                        data = b""
                    self.assertEqual(data, b"")  # no answer to a request never finished
                    sel.unregister(key.fileobj)
                    closed.append(time.monotonic() - start)
            self.assertEqual(len(closed), n)
            first = min(closed)
            second_wave = [t for t in closed if t >= first + TIMEOUT_S - 0.5]
            self.assertGreaterEqual(len(second_wave), n - 1024, "limit not held")
        finally:
            sel.close()
            for s in socks:
                s.close()
        self.assertIsNone(self.tagd.proc.poll())

    def test_concurrent_clients_with_floods(self):
        # Honest clients keep being served while others send garbage.
        errors = []

        def garbage():
            # libmicrohttpd answers some at once, and waits for the rest of the
            # others (a NUL ends its request line): the header deadline cuts those.
            junk = [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x16\x03\x01\x00\xa5\x01",
                    b"GET /api/v1/repositories HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                    b"POST /api/v1/repositories HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"zz\r\n", b"\x00\xff GARBAGE\r\n\r\n"]
            for data in junk:
                try:
                    status, _, _ = raw_exchange(self.tagd.port, data, wait=TIMEOUT_S * 3)
                    if status is not None and status >= 500 and status != 505:
                        errors.append((data, status))
                except OSError:
                    pass

        def honest():
            for _ in range(20):
                r = self.req("POST", "/api/v1/repositories", {"name": self.unique("h")})
                if r.status != 201:
                    errors.append(r)

        threads = [threading.Thread(target=garbage) for _ in range(3)]
        threads += [threading.Thread(target=honest) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])


if __name__ == "__main__":
    unittest.main()
