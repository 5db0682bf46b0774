"""Storage faults: a full file system, a read-only one, a corrupt database.

Full and read-only file systems are small tmpfs mounts the test makes, which
needs root (CAP_SYS_ADMIN); without it those tests are skipped and say so.
The read-only database while serving is covered by tests/unit/test_store_faults.c.
"""
import contextlib
import os
import subprocess
import tempfile
import unittest

from dbtest import only_sqlite
from tagdtest import TAGD_BIN, Tagd


@contextlib.contextmanager
def tmpfs(test, size):
    if os.geteuid() != 0:
        test.skipTest("needs root to mount a tmpfs")
    mnt = tempfile.mkdtemp(prefix="tagd-fs-")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mnt],
                       capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(mnt)
        test.skipTest(f"cannot mount a tmpfs: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", mnt], check=False)
        os.rmdir(mnt)


def serve_once(db):
    """Start tagd on db expecting it to refuse; returns (exit status, stderr)."""
    r = subprocess.run([TAGD_BIN, "serve", "--listen", "127.0.0.1:0", "--db", db],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
    return r.returncode, r.stderr


def sqlite_ok(db):
    r = subprocess.run(["sqlite3", db, "PRAGMA integrity_check"], capture_output=True,
                       text=True, timeout=60)
    return r.stdout.strip() == "ok"


@only_sqlite("damages the SQLite file")
class CorruptDatabaseTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tagd-corrupt-")
        self.db = os.path.join(self.dir, "tagd.db")

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.dir], check=False)

    def test_not_a_database_is_refused(self):
        with open(self.db, "wb") as f:
            f.write(os.urandom(64 * 1024))
        rc, err = serve_once(self.db)
        self.assertEqual(rc, 1, err)
        self.assertIn(self.db, err)
        self.assertIn("not a database", err)
        self.assertNotIn("listening", err)

    def test_damaged_pages_are_refused(self):
        t = Tagd(workdir=self.dir)
        for i in range(30):
            t.new_org(f"org{i}")
        size = os.path.getsize(self.db)
        self.assertGreater(size, 4 * 4096)
        with open(self.db, "r+b") as f:  # every page but the header's
            for off in range(4096, size, 4096):
                f.seek(off)
                f.write(b"\xa5" * 4096)
        rc, err = serve_once(self.db)
        self.assertEqual(rc, 1, err)
        self.assertIn("database is corrupt", err)
        self.assertIn("restore it from a backup", err)
        self.assertEqual(err.count("\n"), 1, err)  # one line
        self.assertNotIn("listening", err)


@only_sqlite("the file system under the SQLite file; PostgreSQL's is the server's")
class FileSystemFaultTest(unittest.TestCase):
    def test_full_disk_is_507_then_service_returns(self):
        with tmpfs(self, "1m") as mnt:
            t = Tagd(workdir=mnt)
            try:
                token = t.new_org("acme")
                t.start()
                r = t.request("POST", "/api/v1/repositories", {"name": "before"}, token=token)
                self.assertEqual(r.status, 201, r)
                filler = os.path.join(mnt, "filler")
                fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
                try:
                    while True:
                        os.write(fd, b"\0" * 4096)
                except OSError:
                    pass  # the file system is full
                finally:
                    os.close(fd)
                statuses = set()
                for i in range(20):  # enough to need new pages
                    r = t.request("POST", "/api/v1/repositories",
                                  {"name": f"full{i}-" + "x" * 100}, token=token,
                                  headers={"X-Request-Id": f"full-{i}"})
                    statuses.add(r.status)
                    if r.status != 201:
                        self.assertEqual(r.status, 507, r)
                        doc = r.json()
                        self.assertEqual(doc, {"success": False, "error":
                                               "insufficient storage: database or disk is full"})
                        # The log says why, at info, under the request id.
                        t.wait_log(rf'level=info msg="request failed" request_id=full-{i} '
                                   r'status=507 route="/api/v1/repositories" '
                                   r'reason="insufficient storage: database or disk is full"')
                self.assertIn(507, statuses)
                self.assertIsNone(t.proc.poll(), "tagd died:\n" + t.log())
                os.unlink(filler)
                r = t.request("POST", "/api/v1/repositories", {"name": "after"}, token=token)
                self.assertEqual(r.status, 201, r)
                self.assertEqual(t.stop(), 0)
                self.assertIsNone(t.sanitizer_report())
                self.assertTrue(sqlite_ok(t.db))
            finally:
                t.kill()

    def test_read_only_file_system_is_refused_at_start(self):
        with tmpfs(self, "2m") as mnt:
            t = Tagd(workdir=mnt)
            t.new_org("acme")
            subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
            rc, err = serve_once(t.db)
            self.assertEqual(rc, 1, err)
            self.assertIn("Read-only file system", err)
            self.assertNotIn("listening", err)


if __name__ == "__main__":
    unittest.main()
