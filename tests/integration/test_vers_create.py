"""Vers create calls: repositories, commits, repository tags - every status."""
import re
import unittest

from tagdtest import TagdCase

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class CreateTagTest(TagdCase):
    def setUp(self):
        self.repo = self.unique("repo")
        r = self.req("POST", "/api/v1/repositories", {"name": self.repo})
        self.assertEqual(r.status, 201, r)
        self.commit = self.tagd.new_commit("acme")

    def create_tag(self, body, repo=None, **kw):
        return self.req("POST", f"/api/v1/repositories/{repo or self.repo}/tags", body, **kw)

    def test_created(self):
        r = self.create_tag({"tag_name": "v1.0", "commit_id": self.commit, "description": None})
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertEqual(set(doc), {"tag_id", "reference", "commit_id"})
        self.assertRegex(doc["tag_id"], UUID_RE)
        self.assertEqual(doc["reference"], f"{self.repo}:v1.0")
        self.assertEqual(doc["commit_id"], self.commit)

    def test_commit_id_upper_case_is_normalized(self):
        r = self.create_tag({"tag_name": "up", "commit_id": self.commit.upper()})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["commit_id"], self.commit)

    def test_duplicate_is_409(self):
        self.assertEqual(self.create_tag({"tag_name": "dup", "commit_id": self.commit}).status, 201)
        r = self.create_tag({"tag_name": "dup", "commit_id": self.commit})
        self.assertVersError(r, 409, "tag already exists in repository")

    def test_invalid_names(self):
        r = self.create_tag({"tag_name": "a" * 129, "commit_id": self.commit})
        self.assertVersError(r, 400, "invalid tag name: Tag name must be 1-128 characters")
        r = self.create_tag({"tag_name": "bad name", "commit_id": self.commit})
        self.assertVersError(r, 400, "invalid tag name: Tag name can only contain alphanumeric "
                             "characters, hyphens, underscores, and dots")
        r = self.create_tag({"tag_name": "版本", "commit_id": self.commit})
        self.assertEqual(r.status, 201, r)

    def test_order_of_checks(self):
        # A bad name is reported before a missing repository or commit.
        r = self.create_tag({"tag_name": "bad name", "commit_id": self.commit}, repo="nope")
        self.assertEqual(r.status, 400)
        # A missing repository before a missing commit.
        r = self.create_tag({"tag_name": "x", "commit_id": "00000000-0000-4000-8000-000000000000"},
                            repo="nope")
        self.assertVersError(r, 404, "repository not found")
        r = self.create_tag({"tag_name": "x", "commit_id": "00000000-0000-4000-8000-000000000000"})
        self.assertVersError(r, 404, "commit not found")

    def test_other_org_commit_is_403(self):
        theirs = self.tagd.new_commit("other")
        self.assertVersError(self.create_tag({"tag_name": "x", "commit_id": theirs}), 403,
                             "forbidden")

    def test_other_org_repo_is_404(self):
        theirs = self.tagd.new_commit("other")
        r = self.create_tag({"tag_name": "x", "commit_id": theirs}, token=self.other_token)
        self.assertVersError(r, 404, "repository not found")

    def test_body_errors(self):
        path = f"/api/v1/repositories/{self.repo}/tags"
        self.assertVersError(self.req("POST", path, raw="{", content_type="application/json"), 400)
        self.assertVersError(self.req("POST", path, raw="[]"), 400)
        self.assertVersError(self.req("POST", path, {"commit_id": self.commit}), 400)
        self.assertVersError(self.req("POST", path, {"tag_name": 5, "commit_id": self.commit}), 400)
        self.assertVersError(self.req("POST", path, {"tag_name": "x", "commit_id": "nope"}), 400)
        self.assertVersError(self.req("POST", path, raw="{}", content_type="text/plain"), 415)
        self.assertVersError(self.req("POST", path, raw="{}", content_type=None), 415)

    def test_auth(self):
        path = f"/api/v1/repositories/{self.repo}/tags"
        body = {"tag_name": "x", "commit_id": self.commit}
        r = self.req("POST", path, body, token=None)
        self.assertVersError(r, 401, "Missing or invalid Authorization header")
        self.assertEqual(r.header("www-authenticate"), "Bearer")
        r = self.req("POST", path, body, token="tagd_0000000000000000_" + "A" * 43)
        self.assertVersError(r, 401, "Invalid bearer token")
        r = self.req("POST", path, body, token=None, headers={"Authorization": "Basic abc"})
        self.assertVersError(r, 401, "Missing or invalid Authorization header")

    def test_slash_in_repo_name(self):
        repo = self.unique("team") + "/app"
        self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": repo}).status, 201)
        r = self.create_tag({"tag_name": "v1", "commit_id": self.commit},
                            repo=repo.replace("/", "%2F"))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["reference"], f"{repo}:v1")


if __name__ == "__main__":
    unittest.main()
