"""The README, run as a new user would (issue 17, "Must show"): the quick
start, the commands it prints, the ServiceStage example and the CI snippet,
each taken from README.md (or from what scripts/run.sh prints) and run
verbatim with bash.

Two things differ from a user's machine, and only these:
- scripts/run.sh runs with TAGD_BIN (the binary under test: no package
  install, no second build), TAGD_RUN_DIR (a temporary directory, not the
  checkout's var/) and TAGD_LISTEN=127.0.0.1:PORT, PORT a free port the kernel
  picked a moment before (bound and closed by the test; if another process
  took it meanwhile, tagd says "cannot listen" and the test fails, it does
  not hang).  run.sh prints its commands with that address, so they run
  exactly as printed.
- The README's blocks name the default address http://127.0.0.1:8080; the
  test replaces that one string with http://127.0.0.1:PORT and changes
  nothing else.
The "./scripts/test.sh" line of the quick start is the command running this
test, so it is not run again.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import unittest

from tagdtest import SANITIZER_RE, TAGD_BIN, Tagd, clean_env

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
README_URL = "http://127.0.0.1:8080"


def readme_block(heading):
    """The first ```sh block after a README heading."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.index("\n" + heading + "\n")
    return text[start:].split("```sh\n", 1)[1].split("```", 1)[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def terminal_env():
    """A fresh terminal: nothing of tagd's in the environment."""
    env = clean_env()
    del env["TAGD_CONFIG"]
    return env


def bash(script, env=None, cwd=None):
    return subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], capture_output=True,
                          text=True, timeout=120, env=env or terminal_env(), cwd=cwd)


class QuickStart:
    """scripts/run.sh as the quick start runs it, until stopped."""

    def __init__(self, run_dir, port):
        self.out_path = os.path.join(run_dir, "run.out")
        self.lines = []
        self.cond = threading.Condition()
        env = terminal_env()
        env.update(TAGD_BIN=os.path.realpath(TAGD_BIN), TAGD_RUN_DIR=os.path.join(run_dir, "var"),
                   TAGD_LISTEN=f"127.0.0.1:{port}")
        with open(self.out_path, "w") as out:
            # run.sh execs tagd: this PID is the server's.
            self.proc = subprocess.Popen(["bash", "-c", QUICK_START_LINE], cwd=ROOT, env=env,
                                         stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.PIPE, text=True)
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self):
        with self.proc.stderr:
            for line in self.proc.stderr:
                with self.cond:
                    self.lines.append(line.rstrip("\n"))
                    self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # ended
            self.cond.notify_all()

    def wait_listening(self):
        with self.cond:
            ok = self.cond.wait_for(lambda: any(ln is None or 'msg="listening"' in ln
                                                for ln in self.lines), timeout=60)
            if not ok or None in self.lines:
                raise AssertionError("the quick start did not serve:\n"
                                     + "\n".join(ln for ln in self.lines if ln))
        # Everything run.sh printed is in the file: it printed before exec'ing tagd.
        with open(self.out_path) as f:
            return f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(30)
        self.pump.join(10)
        log = "\n".join(ln for ln in self.lines if ln)
        if SANITIZER_RE.search(log):
            raise AssertionError("sanitizer report:\n" + log)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


QUICK_START = readme_block("## Quick start").strip().splitlines()
QUICK_START_LINE = QUICK_START[0].split("#", 1)[0].strip()


def printed_commands(output):
    """The commands run.sh prints: the lines indented by four spaces."""
    return [ln[4:] for ln in output.splitlines() if ln.startswith("    ")]


class ReadmeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tagd-readme-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self):
        qs = QuickStart(self.dir, self.port)
        self.addCleanup(qs.kill)
        return qs, qs.wait_listening()

    def readme(self, heading):
        block = readme_block(heading)
        self.assertIn(README_URL, block)
        return block.replace(README_URL, self.base)

    def api(self, path, token):
        t = Tagd(workdir=self.dir)  # only its HTTP client
        t.port = self.port
        r = t.request("GET", path, token=token)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_quick_start_then_servicestage_example_then_ci(self):
        self.assertEqual(QUICK_START_LINE, "./scripts/run.sh")
        self.assertTrue(QUICK_START[1].startswith("./scripts/test.sh"), QUICK_START)

        # First run: the printed commands work as printed, in a fresh terminal.
        qs, output = self.start()
        commands = printed_commands(output)
        self.assertTrue(commands[0].startswith("export PATH="), output)
        self.assertIn("TAGD_CONFIG=", commands[0])
        token = re.search(r"^export TOKEN=(tagd_\S+)$", "\n".join(commands), re.M).group(1)
        r = bash("\n".join(commands))
        self.assertEqual(r.returncode, 0, r.stderr)
        repo, tag = (json.loads(ln) for ln in r.stdout.splitlines())
        self.assertEqual(repo["name"], "my-app")
        self.assertEqual(tag["reference"], "my-app:v1.0")
        setup = commands[0]

        # The ServiceStage example, in a terminal where the export line was pasted.
        r = bash(setup + "\n" + self.readme("## ServiceStage example"))
        self.assertEqual(r.returncode, 0, r.stderr)
        expected = re.findall(r"#\s*(\{.*\})\s*$", readme_block("## ServiceStage example"), re.M)
        self.assertEqual(expected, ['{"name":"test1"}', '{"tags":["test1"]}'])
        got = [ln for ln in r.stdout.splitlines() if ln in expected]
        self.assertEqual(got, expected, r.stdout)

        # The CI snippet: twice for one SHA (nothing changes), then for another (latest moves).
        ci = readme_block("### Tagging builds from CI")  # its address comes from API_URL
        for sha in ("3b18e512dba79e4c8300dd08aeb37f8e728b8dad",) * 2 + (
                "9fceb02d0ae598e95dc970b74767f19372d61af8",):
            with self.subTest(sha=sha):
                env = dict(terminal_env(), API_URL=self.base, TOKEN=token, ORG="default",
                           GIT_SHA=sha)
                r = bash(ci, env=env)
                self.assertEqual(r.returncode, 0, r.stderr)
                want = hashlib.sha256(f"default/{sha}".encode()).hexdigest()[:32]
                want = "-".join((want[:8], want[8:12], want[12:16], want[16:20], want[20:]))
                latest = self.api("/api/v1/repositories/my-app/tags/latest", token)
                self.assertEqual(latest["commit_id"], want)
                self.assertEqual(self.api(f"/api/v1/commits/{want}", token)["name"], sha)
        commits = self.api("/api/v1/commits?limit=100", token)["commits"]
        self.assertEqual(len(commits), 3)  # the quick start's, and one per SHA

        # Scopes and rules: a read-only token refused a delete, an immutable v*.
        heading = "## Scopes and protected tags (tagd extension)"
        r = bash(setup + "\n" + self.readme(heading), env=dict(terminal_env(), TOKEN=token))
        self.assertEqual(r.returncode, 0, r.stderr)
        expected = re.findall(r"#\s*(\{.*\}|\d{3})\s*$", readme_block(heading), re.M)
        self.assertEqual(expected, ["403", '{"success":false,"error":"tag \'v1.0\' is immutable '
                                    '(rule \'v*\')"}', "403"])
        lines = r.stdout.splitlines()
        self.assertEqual([ln for ln in lines if ln in expected], expected, r.stdout)
        self.assertEqual(json.loads(lines[0])["tag_name"], "v1.0")
        rule = json.loads(lines[2])
        self.assertEqual((rule["pattern"], rule["mode"], rule["scope"]),
                         ("v*", "immutable", {"kind": "repository", "repository": "my-app"}))
        self.assertEqual(qs.stop(), 0)

        # A later run prints the export line and how to make a token: both work as printed.
        qs, output = self.start()
        commands = printed_commands(output)
        self.assertEqual(commands[0], setup)
        self.assertEqual(commands[1:], ["tagd token create --org default --scope admin"])
        r = bash("\n".join(commands))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.strip(), r"^tagd_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")
        self.assertEqual(qs.stop(), 0)


if __name__ == "__main__":
    unittest.main()
