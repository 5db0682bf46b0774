"""Vers repository tags: list, get, update (tri-state), delete - every status and isolation."""
import unittest

from verstest import MISSING_UUID, REPO_TAG_KEYS, UUID_RE, VersCase, q


class TagListGetTest(VersCase):
    def test_list_sorted_by_name(self):
        repo = self.new_repo()
        commit = self.commit()
        names = ["b", "a", "C", "_x", "1.0", "版本", "a-b"]
        for n in names:
            self.new_tag(repo, n, commit)
        r = self.req("GET", f"/api/v1/repositories/{repo}/tags")
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(set(doc), {"repository", "tags"})
        self.assertEqual(doc["repository"], repo)
        self.assertEqual([t["tag_name"] for t in doc["tags"]],
                         sorted(names, key=lambda s: s.encode("utf-8")))

    def test_shape_and_get_agree(self):
        repo = self.new_repo()
        commit = self.commit()
        created = self.new_tag(repo, "v1", commit, description="first")
        self.new_tag(repo, "v2", commit)
        tags = self.req("GET", f"/api/v1/repositories/{repo}/tags").json()["tags"]
        v1, v2 = tags
        for t in tags:
            self.assertEqual(set(t), REPO_TAG_KEYS)
            self.assertRegex(t["tag_id"], UUID_RE)
            self.assertEqual(t["commit_id"], commit)
            self.assertTime(t["created_at"])
            self.assertEqual(t["created_at"], t["updated_at"])
        self.assertEqual(v1["tag_id"], created["tag_id"])
        self.assertEqual(v1["reference"], f"{repo}:v1")
        self.assertEqual(v1["description"], "first")
        self.assertIsNone(v2["description"])
        for t in tags:
            r = self.req("GET", f"/api/v1/repositories/{repo}/tags/{t['tag_name']}")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json(), t)

    def test_empty_list(self):
        repo = self.new_repo()
        r = self.req("GET", f"/api/v1/repositories/{repo}/tags")
        self.assertEqual(r.json(), {"repository": repo, "tags": []})

    def test_slash_repo_reference(self):
        repo = self.unique("team") + "/svc"
        self.new_repo(repo)
        self.new_tag(repo, "v1", self.commit())
        doc = self.req("GET", f"/api/v1/repositories/{q(repo)}/tags").json()
        self.assertEqual(doc["repository"], repo)
        self.assertEqual(doc["tags"][0]["reference"], f"{repo}:v1")
        r = self.req("GET", f"/api/v1/repositories/{q(repo)}/tags/v1")
        self.assertEqual(r.json()["reference"], f"{repo}:v1")

    def test_missing(self):
        repo = self.new_repo()
        self.assertVersError(self.req("GET", "/api/v1/repositories/nope-none/tags"), 404,
                             "repository not found")
        self.assertVersError(self.req("GET", "/api/v1/repositories/nope-none/tags/v1"), 404,
                             "repository not found")
        self.assertVersError(self.req("GET", f"/api/v1/repositories/{repo}/tags/v1"), 404,
                             "tag not found")

    def test_other_org_is_404(self):
        repo = self.new_repo()
        self.new_tag(repo, "v1", self.commit())
        r = self.req("GET", f"/api/v1/repositories/{repo}/tags", token=self.other_token)
        self.assertVersError(r, 404, "repository not found")
        r = self.req("GET", f"/api/v1/repositories/{repo}/tags/v1", token=self.other_token)
        self.assertVersError(r, 404, "repository not found")

    def test_tags_stay_in_their_repository(self):
        a, b = self.new_repo(), self.new_repo()
        commit = self.commit()
        self.new_tag(a, "only-a", commit)
        self.assertEqual(self.req("GET", f"/api/v1/repositories/{b}/tags").json()["tags"], [])
        self.assertVersError(self.req("GET", f"/api/v1/repositories/{b}/tags/only-a"), 404,
                             "tag not found")

    def test_auth(self):
        repo = self.new_repo()
        for path in (f"/api/v1/repositories/{repo}/tags", f"/api/v1/repositories/{repo}/tags/x"):
            self.assertVersError(self.req("GET", path, token=None), 401,
                                 "Missing or invalid Authorization header")


class TagUpdateTest(VersCase):
    def setUp(self):
        self.repo = self.new_repo()
        self.c1 = self.commit()
        self.c2 = self.commit()
        self.new_tag(self.repo, "v1", self.c1, description="orig")
        self.path = f"/api/v1/repositories/{self.repo}/tags/v1"

    def get(self):
        r = self.req("GET", self.path)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_description_set(self):
        before = self.get()
        self.assertNoContent(self.req("PATCH", self.path, {"description": "new"}))
        after = self.get()
        self.assertEqual(after["description"], "new")
        self.assertEqual(after["commit_id"], self.c1)
        self.assertEqual(after["created_at"], before["created_at"])
        self.assertGreater(after["updated_at"], before["updated_at"])

    def test_description_null_clears(self):
        self.assertNoContent(self.req("PATCH", self.path, {"description": None}))
        self.assertIsNone(self.get()["description"])

    def test_description_absent_is_unchanged(self):
        before = self.get()
        self.assertNoContent(self.req("PATCH", self.path, {"commit_id": self.c2}))
        after = self.get()
        self.assertEqual(after["commit_id"], self.c2)
        self.assertEqual(after["description"], "orig")
        self.assertEqual(after["tag_id"], before["tag_id"])
        self.assertGreater(after["updated_at"], before["updated_at"])

    def test_move_and_clear(self):
        self.assertNoContent(self.req("PATCH", self.path,
                                      {"commit_id": self.c2.upper(), "description": None}))
        after = self.get()
        self.assertEqual(after["commit_id"], self.c2)
        self.assertIsNone(after["description"])

    def test_null_commit_with_description(self):
        self.assertNoContent(self.req("PATCH", self.path, {"commit_id": None,
                                                           "description": "d"}))
        after = self.get()
        self.assertEqual(after["commit_id"], self.c1)
        self.assertEqual(after["description"], "d")

    def test_no_updates(self):
        for body in ({}, {"commit_id": None}, {"other": 1}):
            self.assertVersError(self.req("PATCH", self.path, body), 400, "no updates provided")
        # Checked before any lookup: a missing repository or tag still gets 400.
        self.assertVersError(self.req("PATCH", "/api/v1/repositories/nope-none/tags/x", {}), 400,
                             "no updates provided")
        r = self.req("PATCH", self.path, {}, token=self.other_token)
        self.assertVersError(r, 400, "no updates provided")
        self.assertEqual(self.get()["description"], "orig")

    def test_body_errors(self):
        self.assertVersError(self.req("PATCH", self.path, {"commit_id": "nope"}), 400)
        self.assertVersError(self.req("PATCH", self.path, {"description": 5}), 400)
        self.assertVersError(self.req("PATCH", self.path, raw="[]"), 400)
        self.assertVersError(self.req("PATCH", self.path, raw="{", content_type=None), 415)

    def test_commit_checks(self):
        self.assertVersError(self.req("PATCH", self.path, {"commit_id": MISSING_UUID}), 404,
                             "commit not found")
        theirs = self.commit("other")
        self.assertVersError(self.req("PATCH", self.path, {"commit_id": theirs}), 403,
                             "forbidden")
        # A failed update changes nothing, not even the description sent with it.
        r = self.req("PATCH", self.path, {"commit_id": theirs, "description": "zzz"})
        self.assertEqual(r.status, 403)
        after = self.get()
        self.assertEqual((after["commit_id"], after["description"]), (self.c1, "orig"))

    def test_order_of_checks(self):
        r = self.req("PATCH", "/api/v1/repositories/nope-none/tags/v1",
                     {"commit_id": MISSING_UUID})
        self.assertVersError(r, 404, "repository not found")
        r = self.req("PATCH", f"/api/v1/repositories/{self.repo}/tags/none",
                     {"commit_id": MISSING_UUID})
        self.assertVersError(r, 404, "tag not found")

    def test_other_org_is_404(self):
        r = self.req("PATCH", self.path, {"description": "x"}, token=self.other_token)
        self.assertVersError(r, 404, "repository not found")
        self.assertEqual(self.get()["description"], "orig")

    def test_auth(self):
        self.assertVersError(self.req("PATCH", self.path, {"description": "x"}, token=None), 401)


class TagDeleteTest(VersCase):
    def test_delete(self):
        repo = self.new_repo()
        commit = self.commit()
        self.new_tag(repo, "v1", commit)
        self.new_tag(repo, "v2", commit)
        self.assertNoContent(self.req("DELETE", f"/api/v1/repositories/{repo}/tags/v1"))
        self.assertVersError(self.req("GET", f"/api/v1/repositories/{repo}/tags/v1"), 404,
                             "tag not found")
        tags = self.req("GET", f"/api/v1/repositories/{repo}/tags").json()["tags"]
        self.assertEqual([t["tag_name"] for t in tags], ["v2"])
        self.assertVersError(self.req("DELETE", f"/api/v1/repositories/{repo}/tags/v1"), 404,
                             "tag not found")
        # The name is free again.
        self.new_tag(repo, "v1", commit)

    def test_missing_repo(self):
        self.assertVersError(self.req("DELETE", "/api/v1/repositories/nope-none/tags/v1"), 404,
                             "repository not found")

    def test_other_org_is_404(self):
        repo = self.new_repo()
        self.new_tag(repo, "v1", self.commit())
        r = self.req("DELETE", f"/api/v1/repositories/{repo}/tags/v1", token=self.other_token)
        self.assertVersError(r, 404, "repository not found")
        self.assertEqual(self.req("GET", f"/api/v1/repositories/{repo}/tags/v1").status, 200)

    def test_auth(self):
        r = self.req("DELETE", "/api/v1/repositories/x/tags/v1", token=None)
        self.assertVersError(r, 401, "Missing or invalid Authorization header")


if __name__ == "__main__":
    unittest.main()
