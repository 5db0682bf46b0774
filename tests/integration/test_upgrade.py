"""Upgrading in place: a database written by the previous release (the
committed fixture tests/fixtures/schema2, made by that release's binary with
tests/fixtures/make_upgrade_fixture.py) opens with this tagd, keeps every
row, answers every recorded read as the old tagd did, and then takes part in
what is new (history, ETags) like any other data."""
import json
import os
import shutil
import sqlite3
import tempfile
import unittest

from dbtest import only_sqlite
from tagdtest import Tagd

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "schema2")
TABLES = ("orgs", "tokens", "repos", "commits", "repo_tags", "commit_tags", "ss_repo_auths",
          "ss_namespaces", "ss_projects", "ss_commits", "ss_branches", "ss_branch_commits",
          "ss_tags")


def counts(path):
    db = sqlite3.connect(path)
    try:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        db.close()


@only_sqlite("the committed fixture is a database file of an older SQLite schema")
class UpgradeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tagd-upgrade-")
        shutil.copy(os.path.join(FIXTURE, "tagd.db"), os.path.join(self.dir, "tagd.db"))
        with open(os.path.join(FIXTURE, "answers.json"), encoding="utf-8") as f:
            self.fixture = json.load(f)
        self.before = counts(os.path.join(self.dir, "tagd.db"))
        self.tagd = Tagd(workdir=self.dir).start()

    def tearDown(self):
        rc = self.tagd.stop()
        report = self.tagd.sanitizer_report()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.assertIsNone(report, report)
        self.assertEqual(rc, 0)

    def token(self, name):
        return self.fixture["tokens"][name] if name else None

    def test_every_row_kept_and_every_read_answered_as_before(self):
        self.assertEqual(self.fixture["reads"][0]["path"], "/api/v1/repositories")
        self.assertGreater(self.before["repo_tags"], 0)
        for read in self.fixture["reads"]:
            headers = None
            if read["servicestage"]:
                headers = {"X-Auth-Token": self.fixture["tokens"]["acme"], "X-Repo-Auth": "all"}
            r = self.tagd.request(read["method"], read["path"], token=self.token(read["token"]),
                                  headers=headers)
            self.assertEqual((r.status, r.json()), (read["status"], read["body"]), read["path"])
        db = sqlite3.connect(self.tagd.db)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            events = db.execute("SELECT count(*) FROM events").fetchone()[0]
            revs = db.execute("SELECT DISTINCT rev FROM repo_tags").fetchall()
        finally:
            db.close()
        self.assertGreaterEqual(version, 3)
        self.assertEqual(events, 0)  # every chain starts empty
        self.assertEqual(revs, [(0,)])
        self.assertEqual(counts(self.tagd.db), self.before)

    def test_old_tags_join_the_history(self):
        acme = self.token("acme")
        c1 = self.fixture["commits"]["c1"]
        r = self.tagd.request("GET", "/api/v1/repositories/app/tags/latest", token=acme)
        self.assertEqual(r.header("etag"), '"0"')
        # No event yet: the tag exists, so its history is empty rather than 404.
        r = self.tagd.request("GET", "/api/v1/repositories/app/tags/latest/history", token=acme)
        self.assertEqual((r.status, r.json()), (200, {"events": [], "next_after": None}))
        r = self.tagd.request("PATCH", "/api/v1/repositories/app/tags/latest",
                              {"commit_id": c1}, token=acme, headers={"If-Match": '"0"'})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.header("etag"), '"1"')
        r = self.tagd.request("GET", "/api/v1/repositories/app/tags/latest/history", token=acme)
        (ev,) = r.json()["events"]
        self.assertEqual((ev["seq"], ev["action"], ev["commit_id"]), (1, "move", c1))
        self.assertEqual(ev["previous_commit_id"], self.fixture["commits"]["c2"])
        # A cascade over old tags: each gets its delete event, the soft-deleted commit's too.
        r = self.tagd.request("DELETE", "/api/v1/repositories/team%2Flib", token=acme)
        self.assertEqual(r.status, 204, r)
        r = self.tagd.request("GET", "/api/v1/repositories/team%2Flib/tags/v0/history",
                              token=acme)
        (ev,) = r.json()["events"]
        self.assertEqual((ev["action"], ev["previous_commit_id"]),
                         ("delete", self.fixture["commits"]["gone"]))
        v = self.tagd.cli("history", "verify", "--org", "acme")
        self.assertIn("ok: 2 events", v.stdout)
        self.tagd.cli("history", "verify", "--org", "other")


if __name__ == "__main__":
    unittest.main()
