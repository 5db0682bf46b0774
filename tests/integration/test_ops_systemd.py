"""systemd: the units pass `systemd-analyze verify` (and the service's exposure
score is reported), tagd sends READY=1 only once it serves, STOPPING=1 on
shutdown, watchdog pings, takes its socket from systemd, and installs."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

from tagdtest import TAGD_BIN, Tagd, clean_env

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGING = os.path.join(HERE, "..", "..", "packaging")


class Log:
    """tagd's stderr lines as they come, with a way to wait for one."""

    def __init__(self):
        self.lines = []
        self.cond = threading.Condition()
        self.ended = False

    def add(self, line):
        with self.cond:
            if line is None:
                self.ended = True
            else:
                self.lines.append(line)
            self.cond.notify_all()

    def wait_for(self, pattern, timeout=20):
        rx = re.compile(pattern)
        with self.cond:
            while True:
                for ln in self.lines:
                    m = rx.search(ln)
                    if m:
                        return m
                if self.ended or not self.cond.wait(timeout):
                    raise AssertionError(f"no line matches {pattern!r}: {self.lines}")


class NotifySocket:
    """A stand-in for systemd's notification socket: collects datagrams."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(20)

    def next(self):
        return self.sock.recv(4096).decode()

    def wait_for(self, field):
        """Messages until one holds field ("READY=1"); returns them all."""
        seen = []
        while True:
            msg = self.next()
            seen.append(msg)
            if field in msg.split("\n"):
                return seen

    def close(self):
        self.sock.close()


def built_with_systemd():
    t = Tagd()
    try:
        t.start()
        info = t.request("GET", "/metrics").body.decode()
        t.stop()
        return 'systemd="yes"' in info
    finally:
        t.cleanup()


class UnitFilesTest(unittest.TestCase):
    @unittest.skipUnless(shutil.which("systemd-analyze"),
                         "systemd-analyze is not installed: units not verified")
    def test_units_verify_and_exposure(self):
        d = tempfile.mkdtemp(prefix="tagd-units-")
        self.addCleanup(shutil.rmtree, d, True)
        with open(os.path.join(PACKAGING, "systemd", "tagd.service.in")) as f:
            unit = f.read()
        self.assertIn("@TAGD_INSTALL_BIN@", unit)
        # verify checks that ExecStart's binary exists: point it at the one under test.
        with open(os.path.join(d, "tagd.service"), "w") as f:
            f.write(unit.replace("@TAGD_INSTALL_BIN@", os.path.abspath(TAGD_BIN)))
        shutil.copy(os.path.join(PACKAGING, "systemd", "tagd.socket"), d)
        for required in ("Type=notify", "DynamicUser=yes", "StateDirectory=tagd",
                         "ProtectSystem=strict", "NoNewPrivileges=yes",
                         "CapabilityBoundingSet=\n", "RestrictAddressFamilies=",
                         "SystemCallFilter=@system-service", "UMask=0077", "WatchdogSec="):
            self.assertIn(required, unit)
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", "tagd.service",
                            "tagd.socket"], cwd=d, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stderr.strip(), "", r.stderr)
        r = subprocess.run(["systemd-analyze", "security", "--offline=true", "tagd.service"],
                           cwd=d, capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for tagd\.service: (\d+\.\d+) (\w+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        score = float(m.group(1))
        sys.stderr.write(f"\nsystemd-analyze security: tagd.service exposure {score} "
                         f"{m.group(2)}\n")
        self.assertLessEqual(score, 2.0, r.stdout)


class NotifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not built_with_systemd():
            raise unittest.SkipTest("tagd was built without libsystemd")

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tagd-sd-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.notify = NotifySocket(self.dir)
        self.addCleanup(self.notify.close)

    def spawn(self, extra_env=None, pre="", pass_fds=()):
        env = clean_env({"NOTIFY_SOCKET": self.notify.path, **(extra_env or {})})
        cmd = [TAGD_BIN, "serve", "--listen", "127.0.0.1:0",
               "--db", os.path.join(self.dir, "tagd.db")]
        if pre:
            # A shell sets variables that must name tagd's own PID, then execs it.
            cmd = ["sh", "-c", pre + ' exec "$@"', "sh"] + cmd
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env, pass_fds=pass_fds)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        log = Log()

        def pump():
            for raw in proc.stderr:
                log.add(raw.decode().rstrip("\n"))
            proc.stderr.close()
            log.add(None)

        threading.Thread(target=pump, daemon=True).start()
        return proc, log

    def test_ready_only_when_serving_then_stopping(self):
        proc, log = self.spawn()
        seen = self.notify.wait_for("READY=1")
        self.assertIn("STATUS=serving", seen[-1].split("\n"))
        # At READY=1 the database is open and the socket listens (the log line
        # saying where was written before, though it may reach us after).
        port = int(log.wait_for(r'msg="listening" addr=127\.0\.0\.1:(\d+)').group(1))
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
        s.close()
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply)
        self.assertTrue(reply.endswith(b"ready\n"), reply)
        proc.terminate()
        self.notify.wait_for("STOPPING=1")
        self.assertEqual(proc.wait(20), 0)

    def test_reload_notifies(self):
        proc, _ = self.spawn()
        self.notify.wait_for("READY=1")
        proc.send_signal(1)  # SIGHUP
        self.notify.wait_for("RELOADING=1")
        self.notify.wait_for("READY=1")
        proc.terminate()
        self.assertEqual(proc.wait(20), 0)

    def test_watchdog_pings(self):
        proc, _ = self.spawn({"WATCHDOG_USEC": "200000"}, pre="WATCHDOG_PID=$$; export WATCHDOG_PID;")
        self.notify.wait_for("READY=1")
        self.notify.wait_for("WATCHDOG=1")
        self.notify.wait_for("WATCHDOG=1")
        proc.terminate()
        self.assertEqual(proc.wait(20), 0)

    def test_socket_activation(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        fd = listener.fileno()
        pre = (f"exec 3<&{fd} {fd}<&-; LISTEN_FDS=1 LISTEN_PID=$$; "
               "export LISTEN_FDS LISTEN_PID;")
        proc, log = self.spawn(pre=pre, pass_fds=(fd,))
        self.notify.wait_for("READY=1")
        log.wait_for(rf'msg="listening" addr=127\.0\.0\.1:{port} .*socket=systemd')
        listener.close()  # only tagd holds it now
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200"))
        s.close()
        proc.terminate()
        self.assertEqual(proc.wait(20), 0)


class InstallTest(unittest.TestCase):
    def test_cmake_install_layout(self):
        build = os.path.dirname(os.path.abspath(TAGD_BIN))
        if not os.path.exists(os.path.join(build, "cmake_install.cmake")):
            self.skipTest("TAGD_BIN is not in a CMake build directory")
        dest = tempfile.mkdtemp(prefix="tagd-install-")
        self.addCleanup(shutil.rmtree, dest, True)
        env = dict(os.environ, DESTDIR=dest)
        r = subprocess.run(["cmake", "--install", build, "--prefix", "/usr"],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for path in ("usr/bin/tagd", "usr/lib/systemd/system/tagd.service",
                     "usr/lib/systemd/system/tagd.socket", "usr/share/doc/tagd/tagd.conf.example",
                     "usr/share/man/man8/tagd.8", "usr/sbin/tagdctl",
                     "usr/share/man/man8/tagdctl.8"):
            self.assertTrue(os.path.exists(os.path.join(dest, path)), path)
        with open(os.path.join(dest, "usr/lib/systemd/system/tagd.service")) as f:
            self.assertIn("ExecStart=/usr/bin/tagd serve\n", f.read())
        with open(os.path.join(dest, "usr/sbin/tagdctl")) as f:
            self.assertIn("\ntagd='/usr/bin/tagd'\n", f.read())
        with open(os.path.join(dest, "usr/share/man/man8/tagd.8")) as f:
            self.assertNotIn("@TAGD_VERSION@", f.read())
        # The example configuration is valid as shipped.
        r = subprocess.run([TAGD_BIN, "config", "check", "--config",
                            os.path.join(dest, "usr/share/doc/tagd/tagd.conf.example")],
                           capture_output=True, text=True, env=clean_env(), timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
