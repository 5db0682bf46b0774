"""Logs: one access line per request (logfmt or JSON) with the request id,
method, route template, status, duration and bytes; journald priority
prefixes under systemd; never a token; and, although access lines leave
through a buffer off the request path, never one lost at shutdown or across a
SIGHUP that reopens the log file."""
import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time
import unittest

from tagdtest import TAGD_BIN, Tagd, TagdCase, clean_env, wait_for_text

ACCESS_RE = re.compile(
    r'^time=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) level=info msg="request" '
    r'request_id=(\S+) method=([A-Z]+) route="([^"]*)" status=(\d{3}) '
    r'duration_ms=(\d+\.\d{3}) bytes=(\d+)$')
UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class AccessLogTest(TagdCase):
    def access_line(self, request_id):
        m = self.tagd.wait_log(rf'request_id={re.escape(request_id)} ')
        line = m.string
        a = ACCESS_RE.match(line)
        self.assertIsNotNone(a, line)
        return a

    def test_access_line(self):
        repo = self.unique("logrepo")
        r = self.req("POST", "/api/v1/repositories", {"name": repo},
                     headers={"X-Request-Id": "it-log-1"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.header("x-request-id"), "it-log-1")
        a = self.access_line("it-log-1")
        self.assertEqual(a.group(3), "POST")
        self.assertEqual(a.group(4), "/api/v1/repositories")
        self.assertEqual(a.group(5), "201")
        self.assertEqual(int(a.group(7)), len(r.body))
        self.assertGreater(float(a.group(6)), 0)
        # Exactly one line per request.
        self.assertEqual(self.tagd.log().count("request_id=it-log-1 "), 1)

    def test_generated_request_id_is_echoed_and_logged(self):
        r = self.tagd.request("GET", "/livez")
        rid = r.header("x-request-id")
        self.assertRegex(rid, UUID_RE)
        a = self.access_line(rid)
        self.assertEqual((a.group(3), a.group(4), a.group(5)), ("GET", "/livez", "200"))

    def test_unmatched_path_is_not_logged_raw(self):
        r = self.tagd.request("GET", "/secret-path-segment?q=secret-query",
                              headers={"X-Request-Id": "it-log-404"})
        self.assertEqual(r.status, 404)
        a = self.access_line("it-log-404")
        self.assertEqual((a.group(4), a.group(5)), ("unmatched", "404"))
        self.assertNotIn("secret-path-segment", self.tagd.log())
        self.assertNotIn("secret-query", self.tagd.log())

    def test_tokens_never_reach_the_log(self):
        secret_ss = "ss-" + "Z" * 40
        fake = "tagd_0123456789abcdef_" + "A" * 43
        # Good token in the header, in a query string and in a body; a forged one;
        # a ServiceStage-style header; a failed authentication.
        self.req("POST", "/api/v1/repositories", {"name": self.unique("t")},
                 headers={"X-Request-Id": "it-tok-1"})
        self.req("POST", f"/api/v1/repositories?token={self.token}",
                 {"name": self.unique("t"), "token": self.token},
                 headers={"X-Request-Id": "it-tok-2"})
        self.req("POST", "/api/v1/repositories", {"name": self.unique("t")}, token=fake,
                 headers={"X-Request-Id": "it-tok-3"})
        self.tagd.request("GET", "/v1/proj-acme/git/repos/x/tags",
                          headers={"X-Auth-Token": secret_ss, "X-Repo-Auth": secret_ss,
                                   "X-Request-Id": "it-tok-4"})
        self.req("POST", "/api/v1/repositories", raw=b"{not json " + self.token.encode(),
                 headers={"X-Request-Id": "it-tok-5"})
        for i in range(1, 6):
            self.access_line(f"it-tok-{i}")
        log = self.tagd.log()
        # tagd_<16 hex>_<43 base64url>: the secret may itself contain '_'.
        secret_part = self.token[len("tagd_") + 16 + 1:]
        self.assertEqual(len(secret_part), 43)
        for needle in (self.token, secret_part, fake, "A" * 43, secret_ss, "Bearer"):
            self.assertNotIn(needle, log)


class LogFormatTest(unittest.TestCase):
    def test_json_lines(self):
        t = Tagd(extra_args=["--log-format", "json"])
        try:
            token = t.new_org("acme")
            t.start()
            r = t.request("POST", "/api/v1/repositories", {"name": "jrepo"}, token=token,
                          headers={"X-Request-Id": "it-json-1"})
            self.assertEqual(r.status, 201)
            line = t.wait_log(r'"request_id":"it-json-1"').string
            doc = json.loads(line)
            self.assertEqual(doc["level"], "info")
            self.assertEqual(doc["msg"], "request")
            self.assertEqual(doc["method"], "POST")
            self.assertEqual(doc["route"], "/api/v1/repositories")
            self.assertEqual(doc["status"], 201)
            self.assertIsInstance(doc["duration_ms"], float)
            self.assertEqual(doc["bytes"], len(r.body))
            self.assertRegex(doc["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
            self.assertEqual(t.stop(), 0)
            for ln in t.log().splitlines():
                json.loads(ln)  # every line is one JSON object
            self.assertNotIn(token, t.log())
        finally:
            t.cleanup()

    def test_level_filters_and_reloads(self):
        t = Tagd()
        try:
            conf = os.path.join(t.dir, "tagd.conf")
            open(conf, "w").close()
            t.extra_args = ["--config", conf]
            t.start()
            # warn from now on; the threads change is logged at warn, so it shows.
            with open(conf, "w") as f:
                f.write("log_level = warn\nthreads = 3\n")
            mark = t.log_mark()
            t.proc.send_signal(signal.SIGHUP)
            t.wait_log(r'level=warn msg="setting changed; it takes effect at the next restart" '
                       r'key=threads', start=mark)
            self.assertEqual(t.request("GET", "/livez",
                                       headers={"X-Request-Id": "it-quiet"}).status, 200)
            # An error (a refused reload) is still logged, after the request.
            with open(conf, "w") as f:
                f.write("log_level = silent\n")
            t.proc.send_signal(signal.SIGHUP)
            t.wait_log(r'level=error msg="reload refused', start=mark)
            self.assertNotIn("it-quiet", t.log())
            self.assertNotIn('msg="configuration reloaded"', "\n".join(t.log_lines[mark:]))
            self.assertEqual(t.stop(), 0)
        finally:
            t.cleanup()

    def test_journald_priority_prefixes(self):
        tmp = Tagd()
        try:
            rfd, wfd = os.pipe()
            st = os.fstat(wfd)
            env = clean_env({"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
            proc = subprocess.Popen([TAGD_BIN, "serve", "--listen", "127.0.0.1:0", "--db",
                                     tmp.db], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=wfd, env=env)
            os.close(wfd)
            lines = []
            got_listening = threading.Event()

            def pump():
                with os.fdopen(rfd, "r") as f:
                    for ln in f:
                        lines.append(ln.rstrip("\n"))
                        if 'msg="listening"' in ln:
                            got_listening.set()
                got_listening.set()

            th = threading.Thread(target=pump, daemon=True)
            th.start()
            self.assertTrue(got_listening.wait(20))
            proc.terminate()
            self.assertEqual(proc.wait(20), 0)
            th.join(20)
            self.assertTrue(lines)
            for ln in lines:
                self.assertRegex(ln, r"^<6>time=")  # info is priority 6
        finally:
            tmp.cleanup()


def burst(port, prefix, n, conns=8):
    """n GET /livez with request ids prefix-0 .. prefix-(n-1), over conns keep-alive connections;
    returns when every answer is in."""
    errors = []

    def worker(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for i in range(k, n, conns):
                c.request("GET", "/livez", headers={"X-Request-Id": f"{prefix}-{i}"})
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(r.status)
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    if errors:
        raise AssertionError(f"answers other than 200: {errors[:5]}")


def ids_in(text, prefix):
    return re.findall(rf"request_id=({re.escape(prefix)}-\d+) ", text)


class LogDeliveryTest(unittest.TestCase):
    N = 600

    def test_every_access_line_is_written_at_shutdown(self):
        t = Tagd()
        self.addCleanup(t.cleanup)
        t.start()
        burst(t.port, "shut", self.N)
        # Stop at once: lines still in the buffer must be written before exit.
        self.assertEqual(t.stop(), 0)
        got = ids_in(t.log(), "shut")
        self.assertEqual(len(got), self.N)
        self.assertEqual(set(got), {f"shut-{i}" for i in range(self.N)})
        self.assertTrue(t.log_lines[-1].endswith('msg="stopped"'), t.log_lines[-1])

    def test_no_access_line_is_lost_or_misplaced_across_a_reopen(self):
        t = Tagd()
        self.addCleanup(t.cleanup)
        log = os.path.join(t.dir, "tagd.log")
        conf = os.path.join(t.dir, "tagd.conf")
        open(conf, "w").close()
        t.extra_args = ["--config", conf]
        t.start()  # on stderr, where the harness reads the port
        with open(conf, "w") as f:
            f.write(f"log_file = {log}\n")
        t.proc.send_signal(signal.SIGHUP)
        wait_for_text(log, 'msg="configuration reloaded"')
        burst(t.port, "before", self.N)
        # logrotate: move the file, then SIGHUP.  Lines of requests answered before the
        # signal belong in the moved file, all of them; later ones in the new file.
        os.rename(log, log + ".1")
        t.proc.send_signal(signal.SIGHUP)
        wait_for_text(log, 'msg="configuration reloaded"')
        burst(t.port, "after", self.N)
        self.assertEqual(t.stop(), 0)
        with open(log + ".1") as f:
            old = f.read()
        with open(log) as f:
            new = f.read()
        self.assertEqual(sorted(ids_in(old, "before")),
                         sorted(f"before-{i}" for i in range(self.N)))
        self.assertEqual(ids_in(new, "before"), [])
        self.assertEqual(sorted(ids_in(new, "after")),
                         sorted(f"after-{i}" for i in range(self.N)))
        self.assertEqual(ids_in(old, "after"), [])
        self.assertTrue(new.endswith('msg="stopped"\n'), new[-200:])


if __name__ == "__main__":
    unittest.main()
