"""A webhook receiver for the tests: Python's http.server on 127.0.0.1 (a port
the kernel picks) that checks both signatures of every delivery -- Standard
Webhooks' webhook-signature and GitHub's X-Hub-Signature-256 -- and records
it.  Each hook posts to a path of its own (/h/NAME), registered with its
secret.

The receiver can answer something else than 200 (answer), be slow (delay),
hold every request until released (hold), or be down: a socket bound but not
listening refuses connections, so the hook's URL is known before it is up.
Tests wait on its records (wait_for), never on the clock.  With
TAGD_CONTRACT_LOG set, every delivery is logged for the contract check too
(tests/contract/check_contract.mjs checks it against the document's webhooks).
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import threading
import time

import tagdtest

WAIT = 30.0


class Delivery:
    def __init__(self, path, headers, body):
        self.path = path
        self.headers = headers  # lower-case name -> value
        self.body = body
        self.json = json.loads(body.decode("utf-8"))
        self.webhook_id = headers.get("webhook-id")
        self.timestamp = headers.get("webhook-timestamp")

    def __repr__(self):
        return f"<Delivery {self.path} {self.webhook_id} {self.body[:120]!r}>"


def standard_signature(secret, webhook_id, timestamp, body):
    """Standard Webhooks: v1,base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}"))."""
    mac = hmac.new(secret.encode(), f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def hub_signature(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _contract_log(path, headers, body):
    """One delivery as a record of the contract log (see tagdtest.py)."""
    if not tagdtest.CONTRACT_LOG:
        return
    record = {"webhook": "tagPush" if "x-gitlab-event" in headers else "tagEvent",
              "method": "POST", "path": path, "status": 0, "headers": headers,
              "body": body.decode("utf-8", "replace"), "test": None}
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with tagdtest._contract_lock:
        os.makedirs(tagdtest.CONTRACT_LOG, exist_ok=True)
        name = os.path.join(tagdtest.CONTRACT_LOG, f"exchanges-{os.getpid()}.jsonl")
        with open(name, "a", encoding="utf-8") as f:
            f.write(line)


class Receiver:
    def __init__(self, up=True):
        self.secrets = {}      # path -> secret
        self.records = []      # verified deliveries, in arrival order
        self.bad = []          # (path, why) of deliveries that did not verify
        self.failed = 0        # requests answered with a status of answer[] >= 300
        self.answer = {}       # path -> list of (status, headers) to answer next, in order
        self.delay = 0.0
        self.hold = None       # a threading.Event every request waits for
        self.in_flight = {}    # path -> requests being answered now
        self.max_in_flight = {}
        self.arrived = threading.Event()  # set on each request's arrival (before hold)
        self._cond = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The answer's head and body go out in two writes: without this, Nagle and
            # the client's delayed ACK hold the second for 40 ms.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                receiver._handle(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler,
                                                      bind_and_activate=False)
        self.server.daemon_threads = True
        # A client gone mid-answer (tagd killed) is part of some tests, not an error.
        self.server.handle_error = lambda request, address: None
        self.server.server_bind()  # the port is ours now; connections are refused until up()
        self.port = self.server.server_address[1]
        self.thread = None
        if up:
            self.up()

    def url(self, name):
        return f"http://127.0.0.1:{self.port}/h/{name}"

    def register(self, name, secret):
        self.secrets[f"/h/{name}"] = secret
        return self.url(name)

    def up(self):
        self.server.server_activate()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        if self.hold is not None:
            self.hold.set()
        if self.thread is not None:
            self.server.shutdown()
        self.server.server_close()

    def _handle(self, h):
        path = h.path
        length = int(h.headers.get("Content-Length", "0"))
        body = h.rfile.read(length)
        headers = {k.lower(): v for k, v in h.headers.items()}
        with self._cond:
            self.in_flight[path] = self.in_flight.get(path, 0) + 1
            self.max_in_flight[path] = max(self.max_in_flight.get(path, 0),
                                           self.in_flight[path])
        self.arrived.set()
        _contract_log(path, headers, body)
        try:
            if self.hold is not None:
                self.hold.wait(WAIT)
            if self.delay:
                time.sleep(self.delay)  # a slow receiver, not synchronisation
            status, extra = self._verify_and_record(path, headers, body)
        finally:
            with self._cond:
                self.in_flight[path] -= 1
        payload = b"{}"
        h.send_response(status)
        for k, v in extra.items():
            h.send_header(k, v)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)

    def _verify_and_record(self, path, headers, body):
        secret = self.secrets.get(path)
        why = None
        if secret is None:
            why = "unknown path"
        elif headers.get("webhook-signature") != standard_signature(
                secret, headers.get("webhook-id", ""), headers.get("webhook-timestamp", ""), body):
            why = "webhook-signature does not verify"
        elif headers.get("x-hub-signature-256") != hub_signature(secret, body):
            why = "X-Hub-Signature-256 does not verify"
        elif abs(int(headers.get("webhook-timestamp", "0")) - time.time()) > 300:
            why = "webhook-timestamp is not now"
        with self._cond:
            if why is not None:
                self.bad.append((path, why))
                self._cond.notify_all()
                return 401, {}
            queue = self.answer.get(path)
            status, extra = queue.pop(0) if queue else (200, {})
            if status < 300:
                self.records.append(Delivery(path, headers, body))
            else:
                self.failed += 1
            self._cond.notify_all()
            return status, extra

    def of(self, name):
        with self._cond:
            return [d for d in self.records if d.path == f"/h/{name}"]

    def wait_for(self, name, n, timeout=WAIT):
        """Block until n deliveries to name verified; returns them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [d for d in self.records if d.path == f"/h/{name}"]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(got)} of {n} deliveries to {name} arrived; "
                                         f"bad: {self.bad}")
                self._cond.wait(left)

    def wait_attempts(self, total, timeout=WAIT):
        """Block until total requests were answered (delivered, refused or failed)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.records) + len(self.bad) + self.failed < total:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("requests did not arrive")
                self._cond.wait(left)
