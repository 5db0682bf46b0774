"""Harness for tagd's integration tests: the real binary, a fresh database (a
file in a temporary folder, or with TAGD_TEST_BACKEND=postgres a database of
its own on the private cluster: see dbtest.py), a free port chosen by the
kernel, HTTP over loopback.

Each test class gets its own server (setUpClass); TagdCase sets up two
organizations, "acme" and "other", each with a token.  Servers are stopped by
their PID; nothing binds anything but 127.0.0.1.
"""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from dbtest import Database, on_postgres

TAGD_BIN = os.environ.get("TAGD_BIN", os.path.join(os.path.dirname(__file__), "../../build/tagd"))
START_TIMEOUT = 20.0
# Settings tagd reads from the environment (TAGD_<KEY>): a test run must not
# inherit the operator's.  TAGD_CONFIG=/dev/null: an empty configuration file.
TAGD_SETTING_VARS = ("TAGD_CONFIG", "TAGD_LISTEN", "TAGD_DB", "TAGD_THREADS",
                     "TAGD_MAX_CONNECTIONS", "TAGD_MAX_CONNECTIONS_PER_IP",
                     "TAGD_CONNECTION_TIMEOUT", "TAGD_MAX_BODY", "TAGD_SYNCHRONOUS",
                     "TAGD_CLONE_BASE_URL", "TAGD_LOG_LEVEL", "TAGD_LOG_FORMAT", "TAGD_LOG_FILE",
                     "TAGD_SHUTDOWN_TIMEOUT", "TAGD_TLS_CERT", "TAGD_TLS_KEY",
                     "TAGD_TLS_PRIORITIES", "TAGD_WRITE_BATCH", "TAGD_HISTORY_RETENTION",
                     "TAGD_DB_POOL_SIZE", "TAGD_DB_TIMEOUT", "TAGD_HOOK_ALLOW_PRIVATE")
LISTENING_RE = re.compile(r'msg="listening" addr=\S*:(\d+)|"msg":"listening","addr":"[^"]*:(\d+)"')


# How soon a token change made behind a server's back is seen: at the next
# request on SQLite, when the epoch's notification arrives (a second at most)
# on PostgreSQL (README "Token lifecycle").
EPOCH_BOUND_S = 1.0 if on_postgres() else 0.0


def once_seen(send, refused=lambda r: r.status == 401):
    """send() until refused(answer), within EPOCH_BOUND_S; the last answer."""
    deadline = time.monotonic() + EPOCH_BOUND_S
    while True:
        r = send()
        if refused(r) or time.monotonic() >= deadline:
            return r
        time.sleep(0.01)


def clean_env(extra=None):
    """The environment for a tagd process: no inherited TAGD_* settings, then extra."""
    env = {k: v for k, v in os.environ.items() if k not in TAGD_SETTING_VARS}
    env["TAGD_CONFIG"] = "/dev/null"
    env.update(extra or {})
    return env

# Contract log: with TAGD_CONTRACT_LOG=<dir>, every exchange made through
# Tagd.request is appended as one JSON line to <dir>/exchanges-<pid>.jsonl,
# for tests/contract/check_contract.mjs to check against openapi/tagd.json.
# One file per process, so parallel ctest processes never interleave; one
# lock per process, so threads of one test never do.
CONTRACT_LOG = os.environ.get("TAGD_CONTRACT_LOG")
_contract_lock = threading.Lock()


def _current_test_id():
    """The id of the unittest test on this thread's stack, for failure reports."""
    f = sys._getframe(1)
    while f is not None:
        owner = f.f_locals.get("self")
        if isinstance(owner, unittest.TestCase):
            return owner.id()
        f = f.f_back
    return None


def _contract_record(method, path, response):
    record = {
        "method": method.upper(),
        "path": path.split("?", 1)[0],
        "status": response.status,
        "content_type": response.header("content-type"),
        "headers": response.headers,
        "body": response.body.decode("utf-8", "replace"),
        "test": _current_test_id(),
    }
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _contract_lock:
        os.makedirs(CONTRACT_LOG, exist_ok=True)
        name = os.path.join(CONTRACT_LOG, f"exchanges-{os.getpid()}.jsonl")
        with open(name, "a", encoding="utf-8") as f:
            f.write(line)

# What AddressSanitizer, LeakSanitizer and UBSan print; in the sanitizer build
# any of these in a server's log fails the test that ran the server.
SANITIZER_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: "
                          r"|SUMMARY: UndefinedBehaviorSanitizer")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Tagd:
    """One tagd server process on a database of its own."""

    def __init__(self, workdir=None, extra_args=(), env=None, database=None):
        """workdir: the folder for its files (default a new one, removed by
        cleanup).  database: a Database shared with another server (e.g.
        other.database), left in place by cleanup; default a fresh one of
        its own, dropped by cleanup."""
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="tagd-it-")
        self.own_database = database is None
        try:
            self.database = database or Database.fresh(self.dir)
        except Exception:
            if self.own_dir:
                shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self.db = self.database.target  # what --db is given: a path or a URI
        self.extra_args = list(extra_args)
        self.env = clean_env(env)
        self.proc = None
        self.port = None
        self.log_lines = []
        self._log_lock = threading.Lock()
        self._log_cond = threading.Condition(self._log_lock)
        self.tls_context = None  # an ssl.SSLContext: talk HTTPS to the server

    # -- process --
    def start(self):
        # A flag may be given once: the test's own --listen replaces the default one.
        listen = [] if "--listen" in self.extra_args else ["--listen", "127.0.0.1:0"]
        args = [TAGD_BIN, "serve"] + listen + ["--db", self.db] + self.extra_args
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=self.env)
        self.proc = proc
        self.port = None  # a restart must not take the last run's port for this one's
        ready = threading.Event()

        proc = self.proc

        def pump():
            with proc.stderr:
                for raw in proc.stderr:
                    line = raw.decode("utf-8", "replace").rstrip("\n")
                    with self._log_cond:
                        self.log_lines.append(line)
                        self._log_cond.notify_all()
                    m = LISTENING_RE.search(line)
                    if m and not ready.is_set():
                        self.port = int(m.group(1) or m.group(2))
                        ready.set()
            ready.set()  # the process ended: do not wait any longer
            with self._log_cond:
                self._log_cond.notify_all()

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        if not ready.wait(START_TIMEOUT) or self.port is None:
            self.kill()
            raise RuntimeError("tagd did not start:\n" + "\n".join(self.log_lines))
        return self

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signal the server and wait; returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        self.proc = None
        self._pump.join(10)  # the whole log, sanitizer reports included
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self.kill()
        try:
            if self.own_database:
                self.database.drop()
        finally:
            if self.own_dir:
                shutil.rmtree(self.dir, ignore_errors=True)

    # -- the database behind its back --
    def sql(self, query, params=()):
        """The rows of query on the server's database, as tuples ("?" placeholders)."""
        return self.database.sql(query, params)

    def sql_exec(self, query, params=()):
        """Run a statement on the server's database and commit it."""
        self.database.sql_exec(query, params)

    def log(self):
        with self._log_lock:
            return "\n".join(self.log_lines)

    def wait_log(self, pattern, timeout=10.0, start=0):
        """Block until a log line (from index start on) matches pattern; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._log_cond:
            while True:
                for line in self.log_lines[start:]:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no log line matches {pattern!r}:\n"
                                         + "\n".join(self.log_lines))
                self._log_cond.wait(left)

    def log_mark(self):
        """The number of log lines so far, for wait_log(start=...)."""
        return self.log_count()

    def log_count(self):
        """The number of log lines so far."""
        with self._log_lock:
            return len(self.log_lines)

    def sanitizer_report(self):
        """The log from the first sanitizer report on, or None when there is none."""
        with self._log_lock:
            for i, line in enumerate(self.log_lines):
                if SANITIZER_RE.search(line):
                    return "\n".join(self.log_lines[i:i + 60])
        return None

    # -- command line --
    def cli(self, *args, check=True):
        r = subprocess.run([TAGD_BIN] + list(args) + ["--db", self.db], capture_output=True,
                           text=True, stdin=subprocess.DEVNULL, timeout=60, env=self.env)
        if check and r.returncode != 0:
            raise AssertionError(f"tagd {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def new_org(self, name, project_id=None):
        """Create an organization and its owner's token (scope admin); returns the token."""
        args = ["org", "create", name] + (["--project-id", project_id] if project_id else [])
        self.cli(*args)
        return self.new_token(name, "admin")

    def new_token(self, org, scope, *args):
        """A new token of org with that scope (and more `token create` flags)."""
        return self.cli("token", "create", "--org", org, "--scope", scope, *args).stdout.strip()

    def new_commit(self, org, **kw):
        args = ["commit", "create", "--org", org]
        for k, v in kw.items():
            args += [f"--{k}", v]
        return self.cli(*args).stdout.strip()

    # -- HTTP --
    def connection(self, source=None):
        """A new connection: HTTPS when tls_context is set; source is a local address."""
        src = (source, 0) if source else None
        if self.tls_context is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                               context=self.tls_context, source_address=src)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                          source_address=src)

    def request(self, method, path, body=None, headers=None, token=None, raw=None,
                content_type="application/json", conn=None, source=None):
        """One request.  body is JSON-encoded; raw is sent as is (bytes or str).
        source: the local address to connect from (e.g. "127.0.0.2")."""
        h = {}
        if body is not None or raw is not None:
            if content_type is not None:
                h["Content-Type"] = content_type
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if isinstance(data, str):
            data = data.encode("utf-8")
        own = conn is None
        c = conn or self.connection(source)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            payload = r.read()
            resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, payload)
            if CONTRACT_LOG:
                _contract_record(method, path, resp)
            return resp
        finally:
            if own:
                c.close()


def wait_for_text(path, text, timeout=10.0):
    """Wait until the file at path exists and contains text (tagd writes it on its own)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                if text in f.read():
                    return
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"{path} never contained {text!r}")

class TagdCase(unittest.TestCase):
    """A server shared by the tests of one class, with two organizations."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.tagd = Tagd(extra_args=cls.server_args)
        try:
            cls.token = cls.tagd.new_org("acme", project_id="proj-acme")
            cls.other_token = cls.tagd.new_org("other", project_id="proj-other")
            cls.tagd.start()
        except Exception:
            cls.tagd.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        rc = cls.tagd.stop()
        report = cls.tagd.sanitizer_report()
        tail = "\n".join(cls.tagd.log_lines[-40:])
        cls.tagd.cleanup()
        if report is not None:
            raise AssertionError("sanitizer report:\n" + report)
        if rc not in (0, None):
            raise AssertionError(f"tagd exited with {rc}; the end of its log:\n{tail}")

    # -- helpers --
    def req(self, method, path, body=None, token="default", **kw):
        tok = self.token if token == "default" else token
        return self.tagd.request(method, path, body=body, token=tok, **kw)

    def unique(self, prefix="n"):
        TagdCase._counter = getattr(TagdCase, "_counter", 0) + 1
        return f"{prefix}{TagdCase._counter}-{int(time.time() * 1000) % 100000}"

    def assertVersError(self, r, status, message=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("content-type"), "application/json", r)
        doc = r.json()
        self.assertEqual(set(doc), {"success", "error"}, doc)
        self.assertIs(doc["success"], False)
        self.assertIsInstance(doc["error"], str)
        if message is not None:
            self.assertEqual(doc["error"], message)
        return doc
