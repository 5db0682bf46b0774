"""Vers repositories: list, get, delete, visibility, fork - every status and isolation."""
import unittest

from verstest import REPO_KEYS, UUID_RE, VersCase, q


class RepoListTest(VersCase):
    def test_sorted_by_name_in_byte_order(self):
        _, tok = self.new_org()
        names = ["b-repo", "B-repo", "a", "_x", "é", "a.b", "team/app", "Z"]
        for n in names:
            self.new_repo(n, token=tok)
        r = self.req("GET", "/api/v1/repositories", token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json")
        doc = r.json()
        self.assertEqual(set(doc), {"repositories"})
        got = [x["name"] for x in doc["repositories"]]
        self.assertEqual(got, sorted(names, key=lambda s: s.encode("utf-8")))

    def test_shape(self):
        _, tok = self.new_org()
        self.new_repo("plain", token=tok)
        self.new_repo("described", token=tok, description="hello", public=True)
        repos = self.req("GET", "/api/v1/repositories", token=tok).json()["repositories"]
        self.assertEqual(len(repos), 2)
        described, plain = repos
        for x in repos:
            self.assertEqual(set(x), REPO_KEYS)
            self.assertRegex(x["repo_id"], UUID_RE)
            self.assertTime(x["created_at"])
        self.assertIsNone(plain["description"])
        self.assertIs(plain["is_public"], False)
        self.assertEqual(described["description"], "hello")
        self.assertIs(described["is_public"], True)

    def test_empty_and_isolated(self):
        _, tok = self.new_org()
        r = self.req("GET", "/api/v1/repositories", token=tok)
        self.assertEqual(r.json(), {"repositories": []})
        mine = self.new_repo()
        theirs = [x["name"] for x in
                  self.req("GET", "/api/v1/repositories", token=self.other_token)
                  .json()["repositories"]]
        self.assertNotIn(mine, theirs)

    def test_auth(self):
        r = self.req("GET", "/api/v1/repositories", token=None)
        self.assertVersError(r, 401, "Missing or invalid Authorization header")
        r = self.req("GET", "/api/v1/repositories", token="nope")
        self.assertVersError(r, 401, "Invalid bearer token")


class RepoGetTest(VersCase):
    def test_get(self):
        name = self.new_repo(description="desc")
        r = self.req("GET", f"/api/v1/repositories/{name}")
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(set(doc), REPO_KEYS)
        self.assertEqual(doc["name"], name)
        self.assertEqual(doc["description"], "desc")
        self.assertIs(doc["is_public"], False)
        listed = [x for x in self.req("GET", "/api/v1/repositories").json()["repositories"]
                  if x["name"] == name]
        self.assertEqual(listed, [doc])

    def test_slash_name(self):
        name = self.unique("team") + "/app"
        self.new_repo(name)
        r = self.req("GET", f"/api/v1/repositories/{q(name)}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["name"], name)

    def test_missing(self):
        self.assertVersError(self.req("GET", "/api/v1/repositories/nope-none"), 404,
                             "repository not found")

    def test_other_org_is_404(self):
        name = self.new_repo()
        r = self.req("GET", f"/api/v1/repositories/{name}", token=self.other_token)
        self.assertVersError(r, 404, "repository not found")

    def test_same_name_in_two_orgs(self):
        name = self.unique("shared")
        self.new_repo(name, description="mine")
        self.new_repo(name, token=self.other_token, description="theirs")
        self.assertEqual(self.req("GET", f"/api/v1/repositories/{name}").json()["description"],
                         "mine")
        r = self.req("GET", f"/api/v1/repositories/{name}", token=self.other_token)
        self.assertEqual(r.json()["description"], "theirs")

    def test_auth(self):
        name = self.new_repo()
        r = self.req("GET", f"/api/v1/repositories/{name}", token=None)
        self.assertVersError(r, 401, "Missing or invalid Authorization header")


class RepoDeleteTest(VersCase):
    def test_delete_takes_tags_with_it(self):
        name = self.new_repo()
        commit = self.commit()
        self.new_tag(name, "v1", commit)
        self.new_tag(name, "v2", commit)
        self.assertNoContent(self.req("DELETE", f"/api/v1/repositories/{name}"))
        self.assertVersError(self.req("GET", f"/api/v1/repositories/{name}"), 404,
                             "repository not found")
        self.assertVersError(self.req("GET", f"/api/v1/repositories/{name}/tags/v1"), 404,
                             "repository not found")
        # A new repository of the same name starts without the old tags.
        self.new_repo(name)
        r = self.req("GET", f"/api/v1/repositories/{name}/tags")
        self.assertEqual(r.json(), {"repository": name, "tags": []})
        # The commit itself is untouched and can be tagged again.
        self.new_tag(name, "v1", commit)

    def test_delete_missing(self):
        self.assertVersError(self.req("DELETE", "/api/v1/repositories/nope-none"), 404,
                             "repository not found")

    def test_delete_twice(self):
        name = self.new_repo()
        self.assertNoContent(self.req("DELETE", f"/api/v1/repositories/{name}"))
        self.assertVersError(self.req("DELETE", f"/api/v1/repositories/{name}"), 404,
                             "repository not found")

    def test_other_org_cannot_delete(self):
        name = self.new_repo()
        r = self.req("DELETE", f"/api/v1/repositories/{name}", token=self.other_token)
        self.assertVersError(r, 404, "repository not found")
        self.assertEqual(self.req("GET", f"/api/v1/repositories/{name}").status, 200)

    def test_delete_only_own_of_same_name(self):
        name = self.unique("twin")
        self.new_repo(name)
        self.new_repo(name, token=self.other_token)
        self.assertNoContent(self.req("DELETE", f"/api/v1/repositories/{name}"))
        r = self.req("GET", f"/api/v1/repositories/{name}", token=self.other_token)
        self.assertEqual(r.status, 200, r)

    def test_slash_name(self):
        name = self.unique("team") + "/gone"
        self.new_repo(name)
        self.assertNoContent(self.req("DELETE", f"/api/v1/repositories/{q(name)}"))
        self.assertEqual(self.req("GET", f"/api/v1/repositories/{q(name)}").status, 404)

    def test_auth(self):
        name = self.new_repo()
        r = self.req("DELETE", f"/api/v1/repositories/{name}", token=None)
        self.assertVersError(r, 401)
        self.assertEqual(self.req("GET", f"/api/v1/repositories/{name}").status, 200)


class VisibilityTest(VersCase):
    def path(self, name):
        return f"/api/v1/repositories/{q(name)}/visibility"

    def test_flip(self):
        name = self.new_repo()
        self.assertNoContent(self.req("PATCH", self.path(name), {"is_public": True}))
        self.assertIs(self.req("GET", f"/api/v1/repositories/{name}").json()["is_public"], True)
        # Setting the same value again is fine.
        self.assertNoContent(self.req("PATCH", self.path(name), {"is_public": True}))
        self.assertNoContent(self.req("PATCH", self.path(name), {"is_public": False}))
        self.assertIs(self.req("GET", f"/api/v1/repositories/{name}").json()["is_public"], False)

    def test_unknown_fields_ignored(self):
        name = self.new_repo()
        self.assertNoContent(self.req("PATCH", self.path(name), {"is_public": True, "x": 1}))

    def test_missing_repo(self):
        self.assertVersError(self.req("PATCH", self.path("nope-none"), {"is_public": True}),
                             404, "repository not found")

    def test_other_org_is_404(self):
        name = self.new_repo()
        r = self.req("PATCH", self.path(name), {"is_public": True}, token=self.other_token)
        self.assertVersError(r, 404, "repository not found")
        self.assertIs(self.req("GET", f"/api/v1/repositories/{name}").json()["is_public"], False)

    def test_body_errors(self):
        name = self.new_repo()
        self.assertVersError(self.req("PATCH", self.path(name), {}), 400)
        self.assertVersError(self.req("PATCH", self.path(name), {"is_public": "yes"}), 400)
        self.assertVersError(self.req("PATCH", self.path(name), {"is_public": None}), 400)
        self.assertVersError(self.req("PATCH", self.path(name), raw="{"), 400)
        self.assertVersError(self.req("PATCH", self.path(name), raw="{}", content_type=None),
                             415)

    def test_auth(self):
        name = self.new_repo()
        r = self.req("PATCH", self.path(name), {"is_public": True}, token=None)
        self.assertVersError(r, 401, "Missing or invalid Authorization header")


class ForkTest(VersCase):
    def test_not_implemented(self):
        body = {"source_org": "acme", "source_repo": "x", "source_tag": "latest"}
        doc = self.assertVersError(self.req("POST", "/api/v1/repositories/fork", body), 501)
        self.assertIn("VM runtime", doc["error"])

    def test_auth_first(self):
        r = self.req("POST", "/api/v1/repositories/fork", {}, token=None)
        self.assertVersError(r, 401, "Missing or invalid Authorization header")

    def test_fork_is_not_a_repository_name(self):
        # The static segment wins, as in axum: GET /repositories/fork is 405.
        r = self.req("GET", "/api/v1/repositories/fork")
        self.assertVersError(r, 405)
        self.assertIn("POST", r.header("allow"))


if __name__ == "__main__":
    unittest.main()
