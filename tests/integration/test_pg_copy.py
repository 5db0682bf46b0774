"""tagd db copy: a SQLite deployment moved into an empty PostgreSQL database.

The source is the previous release's committed fixture (tests/fixtures/schema2),
upgraded and then written to by this tagd, so that it holds history, moves,
deletes, tombstones, a revoked token and ServiceStage data.  After the copy,
tagd on PostgreSQL answers every read exactly as it did on SQLite (bodies,
ETags, history, the chain's head), the tokens keep working (the revoked one
stays revoked), ids and times are unchanged, new rows get fresh ids, and
the chain goes on from the copied head.  A copy into a database that is not
empty, or of a table the copy does not know, is refused and leaves nothing.

Runs on the PostgreSQL half only (integration.pg.pg_copy).
"""
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

import tagdtest
from dbtest import PgDatabase, SqliteDatabase, create_database
from tagdtest import Tagd

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "schema2")
TABLES = ("orgs", "tokens", "repos", "commits", "repo_tags", "commit_tags", "ss_repo_auths",
          "ss_repo_auth_namespaces", "ss_namespaces", "ss_projects", "ss_commits", "ss_branches",
          "ss_branch_commits", "ss_tags", "tag_rules", "events", "event_tombstones",
          "event_floors", "hooks", "hook_deliveries")
SS = "/v1/proj-acme/git/repos"


def run_tagd(*args):
    return subprocess.run([tagdtest.TAGD_BIN, *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120, env=tagdtest.clean_env())


def counts(database):
    return {t: int(database.sql(f"SELECT count(*) FROM {t}")[0][0]) for t in TABLES}


class CopyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        """The source: the old release's database, upgraded and written to by this tagd."""
        cls.dir = tempfile.mkdtemp(prefix="tagd-copy-")
        src = os.path.join(cls.dir, "tagd.db")
        shutil.copy(os.path.join(FIXTURE, "tagd.db"), src)
        with open(os.path.join(FIXTURE, "answers.json"), encoding="utf-8") as f:
            cls.fixture = json.load(f)
        cls.source = SqliteDatabase(src)
        # A hook to a closed port on loopback: its failed attempt is in the log the copy takes.
        t = Tagd(workdir=cls.dir, database=cls.source, extra_args=("--hook-allow-private", "true"))
        cls.acme = cls.fixture["tokens"]["acme"]
        cls.other = cls.fixture["tokens"]["other"]
        c1, c2 = cls.fixture["commits"]["c1"], cls.fixture["commits"]["c2"]
        cls.revoked = t.cli("token", "create", "--org", "acme").stdout.strip()
        t.cli("token", "revoke", "--org", "acme", cls.revoked.split("_")[1])
        t.cli("protect", "add", "rel-*", "--org", "acme", "--repo", "app", "--mode", "immutable")
        t.cli("protect", "add", "v*", "--org", "acme", "--mode", "protected")
        t.cli("protect", "remove", "v*", "--org", "acme")
        try:
            t.start()
            steps = [
                ("POST", "/api/v1/hooks", {"url": "http://127.0.0.1:9/h",
                                           "secret": "copy-secret-0123456789"}, 201),
                ("PATCH", "/api/v1/repositories/app/tags/latest", {"commit_id": c1}, 204),
                ("POST", "/api/v1/repositories/app/tags",
                 {"tag_name": "v2.0", "commit_id": c2, "description": "two"}, 201),
                ("PATCH", "/api/v1/repositories/app/tags/v2.0", {"description": None}, 204),
                ("DELETE", "/api/v1/repositories/app/tags/v1.1", None, 204),
                ("POST", "/api/v1/repositories/app/tags", {"tag_name": "v1.1", "commit_id": c1},
                 201),
                ("DELETE", "/api/v1/repositories/team%2Flib", None, 204),
                ("POST", "/api/v1/commit_tags", {"tag_name": "weekly", "commit_id": c2}, 201),
            ]
            for method, path, body, status in steps:
                r = t.request(method, path, body, token=cls.acme)
                assert r.status == status, (path, r)
            ss = {"X-Auth-Token": cls.acme, "X-Repo-Auth": "all"}
            r = t.request("POST", SS + "/team/svc/tags?ref=main", {"name": "rel/2", "description": "release 2"},
                          headers=ss)
            assert r.status == 200, r
            r = t.request("DELETE", SS + "/team/svc/tags/rel%2F1", headers=ss)
            assert r.status in (200, 204), r
            cls.answers = cls.read_all(t)
        finally:
            rc = t.stop()
        assert rc == 0, t.log()
        cls.before = counts(cls.source)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.dest = PgDatabase(create_database())

    def tearDown(self):
        self.dest.drop()

    @classmethod
    def read_all(cls, t):
        """Every recorded read of the fixture, and what history adds, with status,
        body and ETag."""
        ss = {"X-Auth-Token": cls.acme, "X-Repo-Auth": "all"}
        reads = [(r["method"], r["path"], r["token"], r["servicestage"])
                 for r in cls.fixture["reads"]]
        reads += [("GET", "/api/v1/repositories/app/tags/latest/history", "acme", False),
                  ("GET", "/api/v1/repositories/app/tags/v1.1/history", "acme", False),
                  ("GET", "/api/v1/repositories/team%2Flib/tags/v0/history", "acme", False),
                  ("GET", "/api/v1/events", "acme", False),
                  ("GET", "/api/v1/events/head", "acme", False),
                  ("GET", "/api/v1/events/head", "other", False),
                  ("GET", "/api/v1/repositories/app/tags/v2.0", "acme", False),
                  ("GET", SS + "/team/svc/tags/rel%2F1/history", None, True)]
        out = {}
        for method, path, token, servicestage in reads:
            tok = {"acme": cls.acme, "other": cls.other}.get(token)
            r = t.request(method, path, token=tok, headers=ss if servicestage else None)
            out[f"{method} {path} {token}"] = (r.status, r.json(), r.header("etag"))
        return out

    def copy(self, src=None, dest=None):
        return run_tagd("db", "copy", "--from", src or self.source.target,
                        "--to", dest or self.dest.target)

    def test_the_copy_answers_as_the_source_and_goes_on(self):
        r = self.copy()
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = sum(self.before.values())
        self.assertEqual(r.stdout.strip(),
                         f"copied {rows} rows of {len(TABLES)} tables; verified {rows} rows "
                         f"and 2 history chains")
        self.assertEqual(counts(self.dest), self.before)
        # Ids and times, as stored.
        for table, cols in (("orgs", "id, name, created_at"),
                            ("tokens", "id, public_id, created_at, revoked_at"),
                            ("repo_tags", "id, repo_id, name, commit_id, created_at, rev"),
                            ("events", "org_id, seq, uuid, at")):
            want = [tuple(str(v) if v is not None else None for v in row)
                    for row in self.source.sql(f"SELECT {cols} FROM {table} ORDER BY 1, 2")]
            got = [tuple(str(v) if v is not None else None for v in row)
                   for row in self.dest.sql(f"SELECT {cols} FROM {table} ORDER BY 1, 2")]
            self.assertEqual(got, want, table)

        t = Tagd(database=self.dest)
        try:
            t.start()
            got = self.read_all(t)
            for key, answer in self.answers.items():
                self.assertEqual(got[key], answer, key)
            # The revoked token stays revoked.
            r = t.request("GET", "/api/v1/repositories", token=self.revoked)
            self.assertEqual(r.status, 401, r)
            # New rows: fresh ids, and the chain goes on from the copied head.
            head = self.answers["GET /api/v1/events/head acme"][1]
            c1 = self.fixture["commits"]["c1"]
            r = t.request("POST", "/api/v1/repositories", {"name": "new"}, token=self.acme)
            self.assertEqual(r.status, 201, r)
            r = t.request("POST", "/api/v1/repositories/new/tags",
                          {"tag_name": "v1", "commit_id": c1}, token=self.acme)
            self.assertEqual(r.status, 201, r)
            r = t.request("GET", "/api/v1/repositories/new/tags/v1/history", token=self.acme)
            (ev,) = r.json()["events"]
            self.assertEqual((ev["seq"], ev["previous_hash"]), (head["seq"] + 1, head["hash"]))
            t.cli("org", "create", "later")
            t.cli("token", "create", "--org", "acme")
            v = t.cli("history", "verify", "--org", "acme", "--expect",
                      f"{head['seq']}:{head['hash']}")
            self.assertIn(f"ok: {head['seq'] + 1} events", v.stdout)
            self.assertEqual(t.cli("db", "check").stdout.strip(), "ok")
        finally:
            rc = t.stop()
            t.cleanup()
        self.assertEqual(rc, 0)

    def test_refused_into_a_database_that_is_not_empty(self):
        self.assertEqual(self.copy().returncode, 0)
        after = counts(self.dest)
        r = self.copy()
        self.assertEqual(r.returncode, 1)
        self.assertIn("orgs is not empty in the destination", r.stderr)
        self.assertEqual(counts(self.dest), after)

    def test_a_failed_copy_leaves_nothing(self):
        # The destination migrated, with a row only in its last table: the copy
        # gets that far, is refused there, and what it had copied is rolled back.
        self.assertEqual(run_tagd("org", "list", "--db", self.dest.target).returncode, 0)
        self.dest.sql_exec("INSERT INTO event_floors(org_id, seq, hash) VALUES (?, ?, ?)",
                           (999, 1, b"\0" * 32))
        r = self.copy()
        self.assertEqual(r.returncode, 1)
        self.assertIn("event_floors is not empty", r.stderr)
        left = counts(self.dest)
        self.assertEqual(left.pop("event_floors"), 1)
        self.assertEqual(set(left.values()), {0})

    def test_a_table_it_does_not_know_is_refused(self):
        src = os.path.join(self.dir, "extra.db")
        shutil.copy(self.source.path, src)
        db = sqlite3.connect(src)
        db.execute("CREATE TABLE extra(x INTEGER)")
        db.commit()
        db.close()
        r = self.copy(src=src)
        self.assertEqual(r.returncode, 1)
        self.assertIn("a table the copy does not know: extra", r.stderr)
        self.assertEqual(set(counts(self.dest).values()), {0})

    def test_and_back_to_sqlite(self):
        self.assertEqual(self.copy().returncode, 0)
        back = os.path.join(self.dir, "back.db")
        r = self.copy(src=self.dest.target, dest=back)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(counts(SqliteDatabase(back)), self.before)
        self.assertEqual(run_tagd("db", "check", "--db", back).stdout.strip(), "ok")

    def test_usage(self):
        r = run_tagd("db", "copy", "--from", self.source.target)
        self.assertEqual(r.returncode, 2)
        r = self.copy(dest=self.source.target)
        self.assertEqual(r.returncode, 2)
        self.assertIn("the same database", r.stderr)


if __name__ == "__main__":
    unittest.main()
