"""Configuration: precedence flags > environment > file > defaults, refusal of
bad configuration with FILE:LINE, `tagd config check`, and serve using it."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from tagdtest import TAGD_BIN, Tagd, clean_env


def run(args, env=None):
    return subprocess.run([TAGD_BIN] + args, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=30, env=clean_env(env))


def effective(stdout):
    """config check output -> {key: (value, origin)}"""
    out = {}
    for line in stdout.splitlines():
        m = re.match(r'^(\w+) = (.*?)\s+# (.*)$', line)
        if m:
            origin = m.group(3).replace(" (restart to change)", "")
            out[m.group(1)] = (m.group(2).strip('"'), origin)
    return out


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tagd-cfg-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, text, name="tagd.conf"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_precedence(self):
        path = self.write("# a comment\n"
                          "log_level = warn\n"
                          "max_body = 1000   # inline comment\n"
                          "threads = 2\n"
                          "shutdown_timeout = 5\n"
                          'clone_base_url = "https://git.acme.test/"\n')
        r = run(["config", "check", "--config", path, "--threads", "4"],
                env={"TAGD_MAX_BODY": "2000", "TAGD_THREADS": "3"})
        self.assertEqual(r.returncode, 0, r.stderr)
        cfg = effective(r.stdout)
        self.assertEqual(cfg["threads"], ("4", "--threads"))
        self.assertEqual(cfg["max_body"], ("2000", "environment TAGD_MAX_BODY"))
        self.assertEqual(cfg["log_level"], ("warn", f"{path}:2"))
        self.assertEqual(cfg["shutdown_timeout"][0], "5")
        self.assertEqual(cfg["connection_timeout"][0], "30")
        self.assertTrue(cfg["connection_timeout"][1].startswith("default"))
        self.assertEqual(cfg["clone_base_url"][0], "https://git.acme.test")
        self.assertEqual(cfg["listen"][0], "127.0.0.1:8080")
        # Every key of the table is printed.
        self.assertEqual(set(cfg), {"listen", "db", "threads", "max_connections",
                                    "max_connections_per_ip", "connection_timeout", "max_body",
                                    "synchronous", "clone_base_url", "log_level", "log_format",
                                    "log_file", "shutdown_timeout", "tls_cert", "tls_key",
                                    "tls_priorities", "write_batch", "history_retention",
                                    "db_pool_size", "db_timeout", "hook_allow_private"})

    def test_a_database_password_is_never_printed(self):
        for uri in ("postgresql://tagd:s3cr3t-pw@db.example/tagd",
                    "postgresql:///tagd?host=/run/postgresql&password=s3cr3t-pw&sslmode=require"):
            r = run(["config", "check", "--config", "/dev/null", "--db", uri])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn("s3cr3t-pw", r.stdout + r.stderr)
            self.assertIn("db = postgresql://", r.stdout)
            self.assertIn("***", r.stdout)

    def test_pool_and_timeout_bounds(self):
        for flag, bad in (("--db-pool-size", "2"), ("--db-pool-size", "1001"),
                          ("--db-timeout", "0")):
            r = run(["config", "check", "--config", "/dev/null", flag, bad])
            self.assertEqual(r.returncode, 1, (flag, bad, r.stdout))

    def test_credentials_in_url_are_refused(self):
        """Every clone_url answered would carry them: refused, and never echoed."""
        path = self.write("clone_base_url = https://robot:s3cr3t-pw@git.acme.test\n")
        for args in (["config", "check", "--config", path], ["serve", "--config", path],
                     ["serve", "--clone-base-url", "http://robot@git.acme.test/x"],
                     ["org", "list", "--config", path]):
            with self.subTest(args=args):
                r = run(args)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
                self.assertIn("clone_base_url must not contain user information", r.stderr)
                self.assertNotIn("s3cr3t", r.stderr + r.stdout)
                self.assertNotIn("robot", r.stderr + r.stdout)

    def test_bad_file_refused_with_file_and_line(self):
        path = self.write("listen = 127.0.0.1:0\n"
                          "\n"
                          "bogus_key = 1\n"
                          "threads = many\n"
                          "synchronous = sometimes\n"
                          "just words\n"
                          "listen = 127.0.0.1:1\n")
        for args in (["config", "check", "--config", path],
                     ["serve", "--config", path, "--db", os.path.join(self.dir, "x.db")]):
            r = run(args)
            self.assertEqual(r.returncode, 1, (args, r.stderr))
            err = r.stderr
            self.assertIn(f"{path}:3: unknown key 'bogus_key'", err)
            self.assertIn(f"{path}:4: threads takes a whole number from 0 to 256, not 'many'",
                          err)
            self.assertIn(f"{path}:5: synchronous takes one of full, normal", err)
            self.assertIn(f"{path}:6: expected 'key = value'", err)
            self.assertIn(f"{path}:7: 'listen' is set twice (first on line 1)", err)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "x.db")),
                         "serve must refuse before touching the database")

    def test_bad_listen_and_numbers(self):
        cases = {"listen = 127.0.0.1": "listen takes HOST:PORT",
                 "listen = 127.0.0.1:0, nonsense": "not 'nonsense'",
                 "listen = 127.0.0.1:70000": "listen takes HOST:PORT",
                 "max_body = 0": "max_body takes a byte count",
                 "max_body = 2T": "max_body takes a byte count",
                 "max_connections = -1": "max_connections takes a whole number",
                 "clone_base_url = ftp://x": "clone_base_url takes an http:// or https:// URL",
                 "log_format = xml": "log_format takes one of logfmt, json"}
        for line, why in cases.items():
            path = self.write(line + "\n")
            r = run(["config", "check", "--config", path])
            self.assertEqual(r.returncode, 1, line)
            self.assertRegex(r.stderr, re.escape(f"{path}:1: ") + ".*" + re.escape(why), line)

    def test_bad_environment_and_flags(self):
        r = run(["config", "check"], env={"TAGD_THREADS": "x"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("environment TAGD_THREADS: threads takes a whole number", r.stderr)
        r = run(["config", "check", "--log-level", "loud"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("--log-level: log_level takes one of debug, info, warn, error", r.stderr)
        r = run(["serve", "--no-such-flag", "1"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option '--no-such-flag'", r.stderr)

    def test_missing_explicit_file_is_an_error(self):
        missing = os.path.join(self.dir, "absent.conf")
        r = run(["config", "check", "--config", missing])
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{missing}: cannot read the configuration file", r.stderr)
        r = run(["config", "check"], env={"TAGD_CONFIG": missing})
        self.assertEqual(r.returncode, 1)

    def test_serve_uses_the_configuration(self):
        # File says 100 bytes, the environment 200: the environment wins.
        path = self.write("max_body = 100\nlog_level = debug\n")
        t = Tagd(extra_args=["--config", path], env={"TAGD_MAX_BODY": "200"})
        try:
            token = t.new_org("acme")
            t.start()
            ok = t.request("POST", "/api/v1/repositories", raw="x" * 150, token=token)
            self.assertNotEqual(ok.status, 413, ok)
            big = t.request("POST", "/api/v1/repositories", raw="x" * 250, token=token)
            self.assertEqual(big.status, 413, big)
            self.assertEqual(t.stop(), 0)
        finally:
            t.cleanup()

    def test_flag_beats_environment_in_serve(self):
        t = Tagd(extra_args=["--max-body", "120"], env={"TAGD_MAX_BODY": "200"})
        try:
            token = t.new_org("acme")
            t.start()
            r = t.request("POST", "/api/v1/repositories", raw="x" * 150, token=token)
            self.assertEqual(r.status, 413, r)
            self.assertEqual(t.stop(), 0)
        finally:
            t.cleanup()

    def test_several_listen_addresses(self):
        t = Tagd(extra_args=["--listen", "127.0.0.1:0, 127.0.0.1:0"])
        try:
            t.start()
            first = next(i for i, ln in enumerate(t.log_lines) if 'msg="listening"' in ln)
            t.wait_log(r'msg="listening"', start=first + 1)
            lines = [ln for ln in t.log().splitlines() if 'msg="listening"' in ln]
            self.assertEqual(len(lines), 2, t.log())
            ports = [int(re.search(r'addr=127\.0\.0\.1:(\d+)', ln).group(1)) for ln in lines]
            self.assertNotEqual(ports[0], ports[1])
            for port in ports:
                t.port = port
                self.assertEqual(t.request("GET", "/livez").status, 200)
            self.assertEqual(t.stop(), 0)
        finally:
            t.cleanup()


if __name__ == "__main__":
    unittest.main()
