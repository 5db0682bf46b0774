"""ServiceStage namespaces, projects, project-info, branches and commits,
the clone base URL, and persistence across a restart."""
import unittest
from urllib.parse import quote

from sstest import SsCase, new_sha
from tagdtest import Tagd


class ProjectTest(SsCase):
    def test_create_and_list(self):
        ns = self.unique("ns")
        doc = self.assertOk(self.ss("POST", f"/repos/{ns}/projects", {"name": "web"}))
        self.assertEqual(set(doc), {"id", "name", "clone_url"})
        self.assertIsInstance(doc["id"], str)
        self.assertEqual(doc["name"], "web")
        self.assertEqual(doc["clone_url"], f"https://git.example.com/{ns}/web.git")
        self.assertOk(self.ss("POST", f"/repos/{ns}/projects", {"name": "api/v2"}))
        self.assertOk(self.ss("POST", f"/repos/{ns}/projects", {"name": "App"}))
        listed = self.assertOk(self.ss("GET", f"/repos/{ns}/projects"))["projects"]
        self.assertEqual([p["name"] for p in listed], ["App", "api/v2", "web"])
        self.assertIn(doc, listed)
        self.assertEqual(listed[1]["clone_url"], f"https://git.example.com/{ns}/api/v2.git")

    def test_namespace_comes_with_first_project(self):
        ns = self.unique("ns")
        names = lambda: [n["name"] for n in self.assertOk(self.ss("GET", "/repos/namespaces"))["namespaces"]]
        self.assertNotIn(ns, names())
        self.assertBadParam(self.ss("GET", f"/repos/{ns}/projects"))
        self.assertOk(self.ss("POST", f"/repos/{ns}/projects", {"name": "p"}))
        self.assertIn(ns, names())
        self.assertEqual(len(self.assertOk(self.ss("GET", f"/repos/{ns}/projects"))["projects"]), 1)

    def test_duplicate_is_0403(self):
        ns, name, _ = self.new_project()
        r = self.ss("POST", f"/repos/{ns}/projects", {"name": name})
        self.assertSsError(r, 400, "SVCSTG.REPO.0403", "resource already exist")
        # Another organization may use the same names.
        r = self.ss("POST", f"/repos/{ns}/projects", {"name": name}, token=self.other_token,
                    project="proj-other", repo_auth="theirs")
        self.assertOk(r)

    def test_bad_names_are_0400(self):
        ns = self.unique("ns")
        for name in ("", "a b", "a:b", "/a", "a/", "a//b", ".a", "-a", "123", "a" * 256, "ü"):
            self.assertBadParam(self.ss("POST", f"/repos/{ns}/projects", {"name": name}))
        for bad_ns in ("bad%20ns", ".x", "-x", "a:b"):
            self.assertBadParam(self.ss("POST", f"/repos/{bad_ns}/projects", {"name": "p"}))

    def test_namespace_by_id(self):
        ns, name, p = self.new_project()
        ns_id = [n["id"] for n in self.assertOk(self.ss("GET", "/repos/namespaces"))["namespaces"]
                 if n["name"] == ns][0]
        doc = self.assertOk(self.ss("POST", f"/repos/{ns_id}/projects", {"name": "second"}))
        self.assertEqual(doc["clone_url"], f"https://git.example.com/{ns}/second.git")
        listed = self.assertOk(self.ss("GET", f"/repos/{ns_id}/projects"))["projects"]
        self.assertEqual({x["name"] for x in listed}, {name, "second"})

    def test_project_info(self):
        ns, name, p = self.new_project(name="grp/tool")
        url = quote(p["clone_url"], safe="")
        doc = self.assertOk(self.ss("GET", "/repos/project-info", query=f"?clone_url={url}"))
        self.assertEqual(set(doc), {"namespace_id", "namespace", "project_id", "project"})
        self.assertEqual(doc["namespace"], ns)
        self.assertEqual(doc["project"], "grp/tool")
        self.assertEqual(doc["project_id"], p["id"])
        self.assertIsInstance(doc["namespace_id"], str)
        # Without ".git" too.
        q = "?clone_url=" + quote(f"https://git.example.com/{ns}/grp/tool", safe="")
        self.assertEqual(self.assertOk(self.ss("GET", "/repos/project-info", query=q)), doc)

    def test_project_info_errors(self):
        ns, name, _ = self.new_project()
        for bad in ("nonsense", "https://github.com/a/b.git", "https://git.example.com/",
                    f"https://git.example.com/{ns}", f"https://git.example.com/{ns}/",
                    "https://git.example.comx/a/b.git", f"https://git.example.com/{ns}/a b.git"):
            r = self.ss("GET", "/repos/project-info", query="?clone_url=" + quote(bad, safe=""))
            self.assertSsError(r, 400, "SVCSTG.REPO.0452", "clone url invalid")
        self.assertSsError(self.ss("GET", "/repos/project-info", query="?clone_url=%zz"), 400,
                           "SVCSTG.REPO.0452")
        self.assertBadParam(self.ss("GET", "/repos/project-info"))
        # Well formed but unknown: the not-found answer.
        for url in (f"https://git.example.com/{ns}/nope.git", "https://git.example.com/nons/p.git"):
            r = self.ss("GET", "/repos/project-info", query="?clone_url=" + quote(url, safe=""))
            self.assertBadParam(r)


class BranchCommitTest(SsCase):
    def setUp(self):
        self.ns, self.name, _ = self.new_project()
        self.base = f"/repos/{self.ns}/{self.name}"

    def commits(self, ref=None):
        q = "" if ref is None else "?ref=" + quote(ref, safe="")
        return self.assertOk(self.ss("GET", self.base + "/commits", query=q))["commits"]

    def branches(self):
        return self.assertOk(self.ss("GET", self.base + "/branches"))["branches"]

    def test_empty_project(self):
        self.assertEqual(self.branches(), [])
        self.assertEqual(self.commits(), [])
        self.assertBadParam(self.ss("GET", self.base + "/commits", query="?ref=main"))

    def test_record_commit(self):
        sha = new_sha()
        r = self.ss("POST", self.base + "/commits",
                    {"sha": sha.upper(), "message": "fix: things", "branch": "main",
                     "authored_date": "2024-05-01T12:00:00+02:00"})
        doc = self.assertOk(r, 201)
        self.assertEqual(doc, {"sha": sha, "message": "fix: things",
                               "authored_date": "2024-05-01T10:00:00.000000Z"})
        self.assertEqual(self.commits(), [doc])
        self.assertEqual(self.branches(), ["main"])

    def test_authored_date_defaults_to_now(self):
        doc = self.record(self.ns, self.name, new_sha(), branch="main")
        self.assertRegex(doc["authored_date"], r"^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

    def test_latest_ten_newest_first_in_recorded_order(self):
        shas = [new_sha() for _ in range(12)]
        for i, sha in enumerate(shas):
            # Authored dates go backwards: the order is the order of recording.
            self.record(self.ns, self.name, sha, f"c{i}", branch="main",
                        authored_date=f"2020-01-{28 - i:02d}T00:00:00Z")
        got = self.commits()
        self.assertEqual([c["sha"] for c in got], list(reversed(shas))[:10])
        self.assertEqual(got[0]["message"], "c11")
        self.assertEqual(self.commits("main"), got)

    def test_default_branch_is_the_first(self):
        a, b = new_sha(), new_sha()
        self.record(self.ns, self.name, a, branch="develop")
        self.record(self.ns, self.name, b, branch="main")
        self.assertEqual([c["sha"] for c in self.commits()], [a])
        self.assertEqual([c["sha"] for c in self.commits("main")], [b])
        self.assertEqual(self.branches(), ["develop", "main"])

    def test_hierarchical_branch(self):
        a, b = new_sha(), new_sha()
        self.record(self.ns, self.name, a, branch="feature/x/y")
        self.record(self.ns, self.name, b, branch="feature/x/y")
        self.assertEqual([c["sha"] for c in self.commits("feature/x/y")], [b, a])
        self.assertIn("feature/x/y", self.branches())

    def test_commits_of_tag_and_sha(self):
        a, b, c = new_sha(), new_sha(), new_sha()
        for sha in (a, b, c):
            self.record(self.ns, self.name, sha, branch="main")
        r = self.ss("POST", self.base + "/tags", {"name": "rel/b", "description": "d"},
                    query="?ref=" + b)
        self.assertOk(r)
        self.assertEqual([x["sha"] for x in self.commits("rel/b")], [b, a])
        self.assertEqual([x["sha"] for x in self.commits(b[:9])], [b, a])
        loose = new_sha()
        self.record(self.ns, self.name, loose)  # on no branch
        self.assertEqual([x["sha"] for x in self.commits(loose)], [loose])

    def test_known_sha(self):
        sha = new_sha()
        self.record(self.ns, self.name, sha, "first message", branch="main")
        # Known SHA, no branch: nothing new.
        r = self.ss("POST", self.base + "/commits", {"sha": sha, "message": "again"})
        self.assertSsError(r, 400, "SVCSTG.REPO.0403")
        # Already the head of main: nothing new.
        r = self.ss("POST", self.base + "/commits", {"sha": sha, "message": "x", "branch": "main"})
        self.assertSsError(r, 400, "SVCSTG.REPO.0403")
        # Onto another branch: recorded there, keeping its first message.
        doc = self.record(self.ns, self.name, sha, "other message", branch="release")
        self.assertEqual(doc["message"], "first message")
        self.assertEqual([x["sha"] for x in self.commits("release")], [sha])

    def test_commit_body_errors(self):
        path = self.base + "/commits"
        for body in ({"message": "m"}, {"sha": new_sha()}, {"sha": "abc", "message": "m"},
                     {"sha": "g" * 40, "message": "m"}, {"sha": new_sha() + "0", "message": "m"},
                     {"sha": new_sha(), "message": "m", "authored_date": "yesterday"},
                     {"sha": new_sha(), "message": "m", "branch": "bad branch"},
                     {"sha": new_sha(), "message": "m", "branch": ""},
                     {"sha": new_sha(), "message": 3}):
            self.assertBadParam(self.ss("POST", path, body))
        self.assertBadParam(self.ss("POST", path, {"sha": new_sha(), "message": "m"},
                                    content_type="text/plain"))
        self.assertBadParam(self.ss("POST", f"/repos/{self.ns}/nope/commits",
                                    {"sha": new_sha(), "message": "m"}))
        self.assertEqual(self.commits(), [])

    def test_unknown_ref_and_project(self):
        self.record(self.ns, self.name, new_sha(), branch="main")
        self.assertBadParam(self.ss("GET", self.base + "/commits", query="?ref=nope"))
        self.assertBadParam(self.ss("GET", self.base + "/commits", query="?ref="))
        self.assertBadParam(self.ss("GET", f"/repos/{self.ns}/nope/branches"))
        self.assertBadParam(self.ss("GET", f"/repos/nons/{self.name}/commits"))


class CloneBaseTest(SsCase):
    server_args = ("--clone-base-url", "https://code.corp.test/git/")

    def test_configured_base(self):
        ns, name, p = self.new_project()
        self.assertEqual(p["clone_url"], f"https://code.corp.test/git/{ns}/{name}.git")
        q = "?clone_url=" + quote(p["clone_url"], safe="")
        self.assertEqual(self.assertOk(self.ss("GET", "/repos/project-info", query=q))["project"],
                         name)
        q = "?clone_url=" + quote(f"https://git.example.com/{ns}/{name}.git", safe="")
        self.assertSsError(self.ss("GET", "/repos/project-info", query=q), 400,
                           "SVCSTG.REPO.0452")
        auths = self.assertOk(self.ss("GET", "/auths"))["authorizations"]
        self.assertEqual(auths[0]["repo_host"], "https://code.corp.test/git")

    def test_bad_base_is_refused(self):
        t = Tagd(extra_args=["--clone-base-url", "ftp://x"])
        try:
            with self.assertRaises(RuntimeError):
                t.start()
            self.assertIn("--clone-base-url", t.log())
        finally:
            t.cleanup()


class RestartTest(SsCase):
    def test_everything_survives_a_restart(self):
        ns, name, p = self.new_project()
        base = f"/repos/{ns}/{name}"
        sha = new_sha()
        self.record(ns, name, sha, "persisted", branch="release/1.0")
        r = self.ss("POST", base + "/tags", {"name": "v/1", "description": "d"},
                    query="?ref=release%2F1.0")
        self.assertOk(r)
        self.tagd.restart()
        self.assertEqual(self.assertOk(self.ss("GET", base + "/tags"))["tags"], ["v/1"])
        self.assertEqual(self.assertOk(self.ss("GET", base + "/branches"))["branches"],
                         ["release/1.0"])
        commits = self.assertOk(self.ss("GET", base + "/commits"))["commits"]
        self.assertEqual([(c["sha"], c["message"]) for c in commits], [(sha, "persisted")])
        listed = self.assertOk(self.ss("GET", f"/repos/{ns}/projects"))["projects"]
        self.assertEqual(listed, [p])
        self.assertIn("only-ns1", [a["name"] for a in
                                   self.assertOk(self.ss("GET", "/auths"))["authorizations"]])
        self.assertSsError(self.ss("GET", base + "/tags", repo_auth="only-ns1"), 400,
                           "SVCSTG.REPO.0451")
        # IDs are not reused after a restart.
        _, _, q = self.new_project(ns=ns)
        self.assertGreater(int(q["id"]), int(p["id"]))


if __name__ == "__main__":
    unittest.main()
