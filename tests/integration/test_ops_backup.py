"""Data safety: `tagd backup` under write load gives a consistent copy that
passes `tagd db check` and holds every tag acknowledged before it began;
`tagd db check` finds integrity and foreign-key problems."""
import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import unittest

from dbtest import PgDatabase, create_database, on_postgres, only_sqlite, pg_bin
from tagdtest import TAGD_BIN, Tagd, clean_env


def tool(*args):
    return subprocess.run([TAGD_BIN] + list(args), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60, env=clean_env())


@only_sqlite("tagd backup copies the SQLite file; PostgreSQL's is pg_dump")
class BackupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tagd = Tagd()
        try:
            cls.token = cls.tagd.new_org("acme")
            cls.tagd.start()
            r = cls.tagd.request("POST", "/api/v1/repositories", {"name": "load"},
                                 token=cls.token)
            assert r.status == 201, r
            cls.commit = cls.tagd.new_commit("acme")
        except Exception:
            cls.tagd.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        rc = cls.tagd.stop()
        cls.tagd.cleanup()
        if rc != 0:
            raise AssertionError(f"tagd exited with {rc}")

    def writer(self, prefix, acked, lock, stop, errors):
        conn = http.client.HTTPConnection("127.0.0.1", self.tagd.port, timeout=30)
        i = 0
        try:
            while not stop.is_set():
                name = f"{prefix}-{i}"
                i += 1
                body = json.dumps({"tag_name": name, "commit_id": self.commit})
                conn.request("POST", "/api/v1/repositories/load/tags", body=body,
                             headers={"Authorization": f"Bearer {self.token}",
                                      "Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                if r.status != 201:
                    errors.append(r.status)
                    return
                with lock:
                    acked.append(name)
        except Exception as e:  # reported by the test, not swallowed
            errors.append(repr(e))
        finally:
            conn.close()

    def test_backup_under_write_load(self):
        acked, lock, stop, errors = [], threading.Lock(), threading.Event(), []
        enough = threading.Event()
        threads = [threading.Thread(target=self.writer, args=(f"w{k}", acked, lock, stop, errors))
                   for k in range(3)]
        for th in threads:
            th.start()

        # Let some writes land first; then freeze what was acknowledged so far.
        def watch():
            while not stop.is_set():
                with lock:
                    if len(acked) >= 60:
                        enough.set()
                        return
                if errors:
                    enough.set()
                    return
                stop.wait(0.005)
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            self.assertTrue(enough.wait(60), "writers made no progress")
            self.assertEqual(errors, [])
            with lock:
                before = list(acked)
            out = os.path.join(self.tagd.dir, "backup.db")
            r = tool("backup", "--db", self.tagd.db, "--out", out)
            with lock:
                during = len(acked) - len(before)
        finally:
            stop.set()
            watcher.join()
            for th in threads:
                th.join(30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(errors, [])
        self.assertFalse(os.path.exists(out + ".partial"))

        check = tool("db", "check", "--db", out)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(check.stdout.strip(), "ok")

        with sqlite3.connect(out) as db:
            names = {n for (n,) in db.execute("SELECT name FROM repo_tags")}
            mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        missing = [n for n in before if n not in names]
        self.assertEqual(missing, [], f"{len(missing)} acknowledged tags missing")
        self.assertEqual(mode, "delete", "the copy stands alone, without a WAL")
        # Writes went on while the backup ran (it did not stop the daemon).
        print(f"\nbackup: {len(before)} tags acknowledged before, {during} during, "
              f"{len(names)} in the copy")
        self.assertEqual(self.tagd.request("GET", "/readyz").status, 200)

    def test_restore_from_backup_serves(self):
        out = os.path.join(self.tagd.dir, "restore-src.db")
        self.assertEqual(tool("backup", "--db", self.tagd.db, "--out", out).returncode, 0)
        t = Tagd()
        try:
            shutil.copy(out, t.db)
            t.start()
            r = t.request("POST", "/api/v1/repositories", {"name": "load"}, token=self.token)
            self.assertEqual(r.status, 409, r)  # the repository came back with the copy
            self.assertEqual(t.stop(), 0)
        finally:
            t.cleanup()

    def test_backup_errors(self):
        r = tool("backup", "--db", os.path.join(self.tagd.dir, "absent.db"),
                 "--out", os.path.join(self.tagd.dir, "never.db"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot open database", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tagd.dir, "never.db")))
        self.assertEqual(tool("backup", "--db", self.tagd.db).returncode, 2)  # no --out


@unittest.skipUnless(on_postgres(), "tagd backup wraps pg_dump on PostgreSQL only")
class PgBackupTest(unittest.TestCase):
    """On PostgreSQL, tagd backup runs pg_dump --format=custom: one snapshot
    that pg_restore puts into a new database, which then serves."""

    def setUp(self):
        self.t = Tagd()
        self.addCleanup(self.t.cleanup)
        self.token = self.t.new_org("acme")
        self.commit = self.t.new_commit("acme")
        self.t.start()
        r = self.t.request("POST", "/api/v1/repositories", {"name": "app"}, token=self.token)
        self.assertEqual(r.status, 201, r)
        for i in range(20):
            r = self.t.request("POST", "/api/v1/repositories/app/tags",
                               {"tag_name": f"v{i}", "commit_id": self.commit}, token=self.token)
            self.assertEqual(r.status, 201, r)

    def test_backup_and_restore(self):
        out = os.path.join(self.t.dir, "tagd.dump")
        r = tool("backup", "--db", self.t.db, "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(out + ".partial"))
        with open(out, "rb") as f:
            self.assertEqual(f.read(5), b"PGDMP")  # pg_dump's custom format
        restored = PgDatabase(create_database())
        self.addCleanup(restored.drop)
        p = subprocess.run([pg_bin("pg_restore"), "--no-owner", "-h", restored.host, "-U",
                            "postgres", "-d", restored.name, out], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(tool("db", "check", "--db", restored.target).stdout, "ok\n")
        t = Tagd(database=restored)
        try:
            t.start()
            r = t.request("GET", "/api/v1/repositories/app/tags?limit=100", token=self.token)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(len(r.json()["tags"]), 20)
            want = self.t.request("GET", "/api/v1/events/head", token=self.token).json()
            got = t.request("GET", "/api/v1/events/head", token=self.token).json()
            self.assertEqual(got, want)
            self.assertEqual(t.stop(), 0)
        finally:
            t.cleanup()

    def test_without_pg_dump(self):
        out = os.path.join(self.t.dir, "never.dump")
        env = clean_env({"PATH": "/nonexistent"})
        r = subprocess.run([TAGD_BIN, "backup", "--db", self.t.db, "--out", out],
                           capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot run pg_dump", r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertFalse(os.path.exists(out + ".partial"))


class DbCheckTest(unittest.TestCase):
    def setUp(self):
        self.t = Tagd()
        self.addCleanup(self.t.cleanup)
        self.t.new_org("acme")  # creates and migrates the database

    def test_healthy(self):
        r = tool("db", "check", "--db", self.t.db)
        self.assertEqual((r.returncode, r.stdout), (0, "ok\n"), r.stderr)

    @only_sqlite("PostgreSQL enforces foreign keys: no row can break one")
    def test_foreign_key_violation(self):
        with sqlite3.connect(self.t.db) as db:
            db.execute("PRAGMA foreign_keys=OFF")
            db.execute("INSERT INTO repos(uuid, org_id, name, created_at) "
                       "VALUES ('u-1', 999, 'orphan', 0)")
        r = tool("db", "check", "--db", self.t.db)
        self.assertEqual(r.returncode, 1)
        self.assertIn("foreign key: repos row", r.stdout)
        self.assertIn("missing orgs row", r.stdout)
        self.assertIn("1 problem", r.stderr)

    @only_sqlite("damages the SQLite file's pages")
    def test_corrupt_file(self):
        with open(self.t.db, "r+b") as f:
            f.seek(4096)  # the second page's b-tree header: an invalid page type
            f.write(b"\x00" * 8)
        r = tool("db", "check", "--db", self.t.db)
        self.assertNotEqual(r.returncode, 0, r.stdout)

    def test_a_rewritten_history_event(self):
        token = self.t.cli("token", "create", "--org", "acme").stdout.strip()
        commit = self.t.new_commit("acme")
        self.t.start()
        try:
            r = self.t.request("POST", "/api/v1/repositories", {"name": "app"}, token=token)
            self.assertEqual(r.status, 201, r)
            r = self.t.request("POST", "/api/v1/repositories/app/tags",
                               {"tag_name": "v1", "commit_id": commit}, token=token)
            self.assertEqual(r.status, 201, r)
        finally:
            self.assertEqual(self.t.stop(), 0)
        self.assertEqual(tool("db", "check", "--db", self.t.db).stdout, "ok\n")
        self.t.sql_exec("UPDATE events SET description = 'quietly' WHERE seq = 1")
        r = tool("db", "check", "--db", self.t.db)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("history of acme: ", r.stdout)
        self.assertIn("1 problem", r.stderr)

    @only_sqlite("the committed fixture is an older SQLite file")
    def test_an_older_backup_is_checked_as_it_is(self):
        path = os.path.join(self.t.dir, "old.db")
        shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                                 "schema2", "tagd.db"), path)
        with open(path, "rb") as f:
            before = f.read()
        r = tool("db", "check", "--db", path)
        self.assertEqual((r.returncode, r.stdout), (0, "ok\n"), r.stderr)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), before, "db check changed the file")

    def test_missing_database_is_not_created(self):
        path = os.path.join(self.t.dir, "absent.db")
        r = tool("db", "check", "--db", path)
        self.assertEqual(r.returncode, 1)
        self.assertFalse(os.path.exists(path))


if __name__ == "__main__":
    unittest.main()
