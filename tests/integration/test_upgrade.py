"""Upgrading in place: a database written by an older release (the committed
fixtures tests/fixtures/schema2, schema3 and schema5, each made by that release's
binary with tests/fixtures/make_upgrade_fixture.py) opens with this tagd,
keeps every row, answers every recorded read as the old tagd did (schema 3's
history included, event for event: the canonical form of tag events did not
change), and then takes part in what is new (history, ETags, scopes, rules)
like any other data.  The tokens a release before scopes made keep working
with every right they had: they are admin now; a release with scopes keeps
its tokens' scopes and its rules."""
import json
import os
import shutil
import sqlite3
import tempfile
import unittest

from dbtest import only_sqlite
from tagdtest import Tagd

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
TABLES = ("orgs", "tokens", "repos", "commits", "repo_tags", "commit_tags", "ss_repo_auths",
          "ss_namespaces", "ss_projects", "ss_commits", "ss_branches", "ss_branch_commits",
          "ss_tags")


def counts(path):
    db = sqlite3.connect(path)
    try:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        db.close()


class Upgrade:
    """Opening a copy of fixtures/<FIXTURE> with this tagd."""

    FIXTURE = None

    def setUp(self):
        fixture = os.path.join(FIXTURES, self.FIXTURE)
        self.dir = tempfile.mkdtemp(prefix="tagd-upgrade-")
        shutil.copy(os.path.join(fixture, "tagd.db"), os.path.join(self.dir, "tagd.db"))
        with open(os.path.join(fixture, "answers.json"), encoding="utf-8") as f:
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

    def check_reads(self):
        """Every recorded read answers as the old tagd answered it."""
        self.assertEqual(self.fixture["reads"][0]["path"], "/api/v1/repositories")
        for read in self.fixture["reads"]:
            headers = None
            if read["servicestage"]:
                headers = {"X-Auth-Token": self.fixture["tokens"]["acme"], "X-Repo-Auth": "all"}
            r = self.tagd.request(read["method"], read["path"], token=self.token(read["token"]),
                                  headers=headers)
            self.assertEqual((r.status, r.json()), (read["status"], read["body"]), read["path"])
        self.assertEqual(counts(self.tagd.db), self.before)

    def test_old_tokens_are_admin_and_keep_working(self):
        listing = json.loads(self.tagd.cli("token", "list", "--org", "acme", "--json").stdout)
        self.assertEqual({t["scope"] for t in listing["tokens"]}, {"admin"})
        self.assertEqual(len(listing["tokens"]), 2)  # acme's first, and "ci"
        acme = self.token("acme")
        # An admin's right: a rule; and a maintainer's: a repository.
        r = self.tagd.request("POST", "/api/v1/repositories/app/protected_tags",
                              {"pattern": "v*", "mode": "immutable"}, token=acme)
        self.assertEqual(r.status, 201, r)
        r = self.tagd.request("DELETE", "/api/v1/repositories/app/tags/v1.0", token=acme)
        self.assertEqual((r.status, r.json()["error"]),
                         (403, "tag 'v1.0' is immutable (rule 'v*')"))
        r = self.tagd.request("POST", "/api/v1/repositories", {"name": "new"}, token=acme)
        self.assertEqual(r.status, 201, r)
        r = self.tagd.request("GET", "/v1/proj-other/git/auths",
                              headers={"X-Auth-Token": self.token("other")})
        self.assertEqual(r.status, 200, r)
        # A token made now gets the default scope.
        new = self.tagd.cli("token", "create", "--org", "acme").stdout.strip()
        r = self.tagd.request("POST", "/api/v1/repositories", {"name": "newer"}, token=new)
        self.assertEqual(r.status, 403, r)
        self.tagd.cli("history", "verify", "--org", "acme")


@only_sqlite("the committed fixture is a database file of an older SQLite schema")
class UpgradeFromSchema2Test(Upgrade, unittest.TestCase):
    FIXTURE = "schema2"

    def test_every_row_kept_and_every_read_answered_as_before(self):
        self.assertGreater(self.before["repo_tags"], 0)
        self.check_reads()
        db = sqlite3.connect(self.tagd.db)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            events = db.execute("SELECT count(*) FROM events").fetchone()[0]
            revs = db.execute("SELECT DISTINCT rev FROM repo_tags").fetchall()
        finally:
            db.close()
        self.assertGreaterEqual(version, 4)
        self.assertEqual(events, 0)  # every chain starts empty
        self.assertEqual(revs, [(0,)])

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


@only_sqlite("the committed fixture is a database file of an older SQLite schema")
class UpgradeFromSchema3Test(Upgrade, unittest.TestCase):
    """Made by main's tagd before scopes and rules: its events read back as they
    were written, and the chain it wrote verifies and goes on."""

    FIXTURE = "schema3"

    def test_every_read_and_every_event_answered_as_before(self):
        paths = [read["path"] for read in self.fixture["reads"]]
        self.assertIn("/api/v1/events?limit=100", paths)
        self.check_reads()
        for org in ("acme", "other"):
            self.tagd.cli("history", "verify", "--org", org)
        head = self.tagd.request("GET", "/api/v1/events/head", token=self.token("acme")).json()
        # A rule event goes on the old chain, and the chain still verifies from seq 1.
        r = self.tagd.request("POST", "/api/v1/protected_tags",
                              {"pattern": "rel*", "mode": "protected"}, token=self.token("acme"))
        self.assertEqual((r.status, r.json()["seq"]), (201, head["seq"] + 1))
        v = self.tagd.cli("history", "verify", "--org", "acme",
                          "--expect", f"{head['seq']}:{head['hash']}")
        self.assertIn(f"ok: {head['seq'] + 1} events from seq 1", v.stdout)


@only_sqlite("the committed fixture is a database file of an older SQLite schema")
class UpgradeFromSchema5Test(Upgrade, unittest.TestCase):
    """Made by main's tagd before webhooks (scopes, rules, PUT): its scopes and
    rules hold as they were, its chain verifies, and hooks can be added."""

    FIXTURE = "schema5"

    def test_every_read_and_every_event_answered_as_before(self):
        paths = [read["path"] for read in self.fixture["reads"]]
        self.assertIn("/api/v1/protected_tags", paths)
        self.check_reads()
        for org in ("acme", "other"):
            self.tagd.cli("history", "verify", "--org", org)

    def test_old_tokens_are_admin_and_keep_working(self):
        """Here: the tokens keep the scopes they were made with."""
        listing = json.loads(self.tagd.cli("token", "list", "--org", "acme", "--json").stdout)
        self.assertEqual(sorted(t["scope"] for t in listing["tokens"]),
                         ["admin", "read", "write"])
        reader = self.token("reader")
        r = self.tagd.request("GET", "/api/v1/repositories/app/tags", token=reader)
        self.assertEqual(r.status, 200, r)
        r = self.tagd.request("POST", "/api/v1/commits", {}, token=reader)
        self.assertEqual((r.status, r.json()["error"]), (403, (
            "insufficient scope: this request takes a token of scope write or above, "
            "this one is read")))

    def test_rules_hold_and_hooks_join(self):
        acme = self.token("acme")
        c1 = self.fixture["commits"]["c1"]
        r = self.tagd.request("PATCH", "/api/v1/repositories/app/tags/v1.0",
                              {"commit_id": c1}, token=acme)
        self.assertEqual((r.status, r.json()["error"]),
                         (403, "tag 'v1.0' is immutable (organization rule 'v1.*')"))
        ss = {"X-Auth-Token": acme, "X-Repo-Auth": "all"}
        api = "/v1/proj-acme/git/repos/team/svc"
        r = self.tagd.request("DELETE", api + "/tags/rel%2F1", headers=ss)
        self.assertEqual((r.status, r.json()["error_code"]), (400, "SVCSTG.REPO.0454"))
        head = self.tagd.request("GET", "/api/v1/events/head", token=acme).json()
        r = self.tagd.request("POST", "/api/v1/hooks",
                              {"url": "https://hooks.example.com/upgrade",
                               "secret": "upgrade-secret-0123456789"}, token=acme)
        self.assertEqual(r.status, 201, r)
        # A hook hears the events after it: its cursor starts at the old chain's head.
        self.assertEqual(r.json()["delivered_seq"], head["seq"])
        r = self.tagd.request("POST", api + "/hooks",
                              {"url": "https://hooks.example.com/gitlab", "secret": "s"},
                              headers=ss)
        self.assertEqual((r.status, r.json()["type"]), (200, "tag_push"))
        self.tagd.cli("history", "verify", "--org", "acme",
                      "--expect", f"{head['seq']}:{head['hash']}")


if __name__ == "__main__":
    unittest.main()
