"""ServiceStage tags: create (every ref form, name rules, errors), list,
delete, hierarchical names through percent-encoding, ID or name paths."""
import shutil
import subprocess
import unittest
from urllib.parse import quote

from sstest import SsCase, new_sha


class TagTest(SsCase):
    def setUp(self):
        self.ns, self.name, self.project = self.new_project()
        self.base = f"/repos/{self.ns}/{self.name}"
        self.sha1 = new_sha()
        self.sha2 = new_sha()
        self.record(self.ns, self.name, self.sha1, "one", branch="main")
        self.record(self.ns, self.name, self.sha2, "two", branch="release/1.0")

    def create(self, name, ref, description="desc", base=None, **kw):
        body = {"name": name, "description": description}
        q = "" if ref is None else "?ref=" + quote(ref, safe="")
        return self.ss("POST", (base or self.base) + "/tags", body, query=q, **kw)

    def tags(self, base=None):
        return self.assertOk(self.ss("GET", (base or self.base) + "/tags"))["tags"]

    def commits_of(self, ref):
        q = "?ref=" + quote(ref, safe="")
        return self.assertOk(self.ss("GET", self.base + "/commits", query=q))["commits"]

    def test_create_seed_example(self):
        r = self.create("test1", "main", "test version 1")
        self.assertEqual(self.assertOk(r), {"name": "test1"})
        self.assertIn("test1", self.tags())
        self.assertEqual(self.commits_of("test1")[0]["sha"], self.sha1)

    def test_ref_forms(self):
        self.assertOk(self.create("on-branch", "release/1.0"))
        self.assertEqual(self.commits_of("on-branch")[0]["sha"], self.sha2)
        self.assertOk(self.create("on-tag", "on-branch"))
        self.assertEqual(self.commits_of("on-tag")[0]["sha"], self.sha2)
        self.assertOk(self.create("on-sha", self.sha1))
        self.assertEqual(self.commits_of("on-sha")[0]["sha"], self.sha1)
        self.assertOk(self.create("on-upper-sha", self.sha1.upper()))
        self.assertEqual(self.commits_of("on-upper-sha")[0]["sha"], self.sha1)

    def test_abbreviated_sha(self):
        a = "abcdef1" + "0" * 33
        b = "abcdef1" + "1" * 33
        self.record(self.ns, self.name, a)
        self.record(self.ns, self.name, b)
        self.assertOk(self.create("abbr8", "abcdef10"))
        self.assertEqual(self.commits_of("abbr8")[0]["sha"], a)
        self.assertOk(self.create("abbr-long", b[:20]))
        self.assertEqual(self.commits_of("abbr-long")[0]["sha"], b)
        # Ambiguous, too short, unknown.
        self.assertBadParam(self.create("amb", "abcdef1"))
        self.assertBadParam(self.create("short", a[:6]))
        self.assertBadParam(self.create("unknown", "1234567"))
        self.assertNotIn("amb", self.tags())

    def test_branch_beats_tag_beats_sha(self):
        # A branch named like a tag wins; a tag named like a SHA prefix wins over the SHA.
        self.assertOk(self.create("main", self.sha2))  # tag "main" -> sha2, branch main -> sha1
        self.assertOk(self.create("via-main", "main"))
        self.assertEqual(self.commits_of("via-main")[0]["sha"], self.sha1)
        prefix = self.sha2[:8]
        self.assertOk(self.create(prefix, self.sha1))  # tag named like sha2's prefix
        self.assertOk(self.create("via-prefix", prefix))
        self.assertEqual(self.commits_of("via-prefix")[0]["sha"], self.sha1)

    def test_unknown_ref_is_0400(self):
        self.assertBadParam(self.create("x", "no-such-branch"))
        self.assertBadParam(self.create("x", new_sha()))

    def test_missing_parts_are_0400(self):
        self.assertBadParam(self.create("x", None))
        self.assertBadParam(self.create("x", ""))
        path = self.base + "/tags"
        self.assertBadParam(self.ss("POST", path, {"description": "d"}, query="?ref=main"))
        self.assertBadParam(self.ss("POST", path, {"name": "x"}, query="?ref=main"))
        self.assertBadParam(self.ss("POST", path, {"name": "x", "description": None},
                                    query="?ref=main"))
        self.assertBadParam(self.ss("POST", path, {"name": 1, "description": "d"},
                                    query="?ref=main"))
        self.assertBadParam(self.ss("POST", path, raw="{", query="?ref=main"))
        self.assertBadParam(self.ss("POST", path, {"name": "x", "description": "d"},
                                    query="?ref=main", content_type="text/plain"))
        self.assertBadParam(self.ss("POST", path, {"name": "x", "description": "d"},
                                    query="?ref=%zz"))
        self.assertEqual(self.tags(), [])

    def test_empty_description_is_allowed(self):
        self.assertOk(self.create("empty-desc", "main", ""))

    def test_name_rules(self):
        good = ["v1.0", "release/1.0", "a/b/c", "x-y_z", "版本", "v1@2", "a.b", "A" * 255]
        bad = ["", "-v1", "a..b", "a b", "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b",
               "a@{b", ".hidden", "a/.b", "a.lock", "a/b.lock", "a/", "/a", "a//b", "a.",
               "a\tb", "a\x7fb", "A" * 256]
        for n in good:
            self.assertOk(self.create(n, "main"))
        for n in bad:
            self.assertBadParam(self.create(n, "main"))
        self.assertEqual(sorted(self.tags()), sorted(good))

    @unittest.skipUnless(shutil.which("git"), "git is not installed")
    def test_names_agree_with_git_check_ref_format(self):
        names = ["@", "a@", "a/@", "a@b{", "a{b}", "x./y", "x/y.", "a..", "a/..", "a.lock/b",
                 "a.LOCK", "a!", "a#", "a$", "a%", "a&", "a'", "a(", "a+", "a,", "a;", "a<",
                 "a=", "a|", "a`", "a\"", "é", "HEAD", "refs/heads/x", "a/b.c/d", "a..b/c",
                 "a\x7f", "a\x1fb", "a/b/", ".", "lock", ".lock"]
        for i, n in enumerate(names):
            git_ok = subprocess.run(["git", "check-ref-format", "refs/tags/" + n],
                                    capture_output=True).returncode == 0
            r = self.create(n, "main")
            self.assertEqual(r.status == 200, git_ok, (n, r))
            if not git_ok:
                self.assertBadParam(r)

    def test_taken_name_is_0403(self):
        self.assertOk(self.create("dup", "main"))
        r = self.create("dup", "release/1.0")
        self.assertSsError(r, 400, "SVCSTG.REPO.0403", "resource already exist")
        # Same name in another project is fine.
        ns2, name2, _ = self.new_project()
        self.record(ns2, name2, new_sha(), branch="main")
        self.assertOk(self.create("dup", "main", base=f"/repos/{ns2}/{name2}"))

    def test_list_is_sorted_by_name(self):
        for n in ("b", "a/z", "C", "a"):
            self.assertOk(self.create(n, "main"))
        self.assertEqual(self.tags(), ["C", "a", "a/z", "b"])

    def test_delete(self):
        self.assertOk(self.create("gone", "main"))
        r = self.ss("DELETE", self.base + "/tags/gone")
        self.assertOk(r, 204)
        self.assertEqual(r.body, b"")
        self.assertNotIn("gone", self.tags())
        self.assertBadParam(self.ss("DELETE", self.base + "/tags/gone"))
        # The name is free again.
        self.assertOk(self.create("gone", "release/1.0"))

    def test_hierarchical_names_percent_encoded(self):
        self.assertOk(self.create("release/2.0", "release/1.0"))
        self.assertIn("release/2.0", self.tags())
        self.assertEqual(self.commits_of("release/2.0")[0]["sha"], self.sha2)
        self.assertOk(self.ss("DELETE", self.base + "/tags/release%2F2.0"), 204)
        self.assertNotIn("release/2.0", self.tags())
        # Unencoded, the extra segment names no API.
        self.assertOk(self.create("release/3.0", "main"))
        r = self.ss("DELETE", self.base + "/tags/release/3.0")
        self.assertSsError(r, 404, "APIGW.0101")
        self.assertOk(self.ss("DELETE", self.base + "/tags/release%2f3.0"), 204)

    def test_unknown_namespace_project_tag_are_0400(self):
        self.assertBadParam(self.create("x", "main", base=f"/repos/nons/{self.name}"))
        self.assertBadParam(self.create("x", "main", base=f"/repos/{self.ns}/noproj"))
        self.assertBadParam(self.ss("GET", f"/repos/nons/{self.name}/tags"))
        self.assertBadParam(self.ss("GET", f"/repos/{self.ns}/noproj/tags"))
        self.assertBadParam(self.ss("DELETE", f"/repos/{self.ns}/noproj/tags/x"))
        self.assertBadParam(self.ss("DELETE", self.base + "/tags/never"))

    def test_ids_and_names_in_path(self):
        ns_id = [n["id"] for n in self.assertOk(self.ss("GET", "/repos/namespaces"))["namespaces"]
                 if n["name"] == self.ns][0]
        pid = self.project["id"]
        self.assertOk(self.create("by-ids", "main", base=f"/repos/{ns_id}/{pid}"))
        self.assertOk(self.create("by-mixed", "main", base=f"/repos/{self.ns}/{pid}"))
        self.assertEqual(self.tags(base=f"/repos/{ns_id}/{self.name}"), ["by-ids", "by-mixed"])

    def test_project_with_slash_as_colon(self):
        ns, name, _ = self.new_project(name="group/sub/app")
        self.record(ns, "group:sub:app", new_sha(), branch="main")
        base = f"/repos/{ns}/group:sub:app"
        self.assertOk(self.create("v1", "main", base=base))
        self.assertEqual(self.tags(base=base), ["v1"])
        # Percent-encoded slashes and the namespace-qualified form name it too.
        self.assertEqual(self.tags(base=f"/repos/{ns}/group%2Fsub%2Fapp"), ["v1"])
        self.assertEqual(self.tags(base=f"/repos/{ns}/{ns}:group:sub:app"), ["v1"])

    def test_other_org_cannot_see(self):
        self.assertOk(self.create("mine", "main"))
        r = self.ss("GET", self.base + "/tags", token=self.other_token, project="proj-other",
                    repo_auth="theirs")
        self.assertBadParam(r)
        pid = self.project["id"]
        r = self.ss("GET", f"/repos/{self.ns}/{pid}/tags", token=self.other_token,
                    project="proj-other", repo_auth="theirs")
        self.assertBadParam(r)
        r = self.ss("DELETE", self.base + "/tags/mine", token=self.other_token,
                    project="proj-other", repo_auth="theirs")
        self.assertBadParam(r)
        self.assertIn("mine", self.tags())


if __name__ == "__main__":
    unittest.main()
