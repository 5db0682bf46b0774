"""Vers public repositories: no key, visible only while public, org/repo addressing."""
import unittest

from verstest import PUBLIC_REPO_KEYS, REPO_TAG_KEYS, VersCase, q


class PublicTest(VersCase):
    def public_names(self):
        r = self.req("GET", "/api/v1/public/repositories", token=None)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(set(doc), {"repositories"})
        return [(x["org_name"], x["name"]) for x in doc["repositories"]]

    def test_list_only_public_sorted_by_name(self):
        org, tok = self.new_org()
        prefix = self.unique("p")
        for n in ("zeta", "alpha", "Mid"):
            self.new_repo(f"{prefix}-{n}", token=tok, public=True)
        self.new_repo(f"{prefix}-hidden", token=tok)
        mine = [n for o, n in self.public_names() if o == org]
        self.assertEqual(mine, [f"{prefix}-Mid", f"{prefix}-alpha", f"{prefix}-zeta"])
        names = [n for _, n in self.public_names()]
        self.assertEqual(names, sorted(names, key=lambda s: s.encode("utf-8")))

    def test_same_name_in_two_orgs_sorted_by_org(self):
        name = self.unique("twin")
        self.new_repo(name, public=True)
        self.new_repo(name, token=self.other_token, public=True)
        self.assertEqual([o for o, n in self.public_names() if n == name], ["acme", "other"])

    def test_shape(self):
        name = self.new_repo(description="pub", public=True)
        repos = self.req("GET", "/api/v1/public/repositories", token=None).json()["repositories"]
        [doc] = [x for x in repos if x["name"] == name]
        self.assertEqual(set(doc), PUBLIC_REPO_KEYS)
        self.assertEqual(doc["org_name"], "acme")
        self.assertEqual(doc["full_name"], f"acme/{name}")
        self.assertEqual(doc["description"], "pub")
        private = self.req("GET", f"/api/v1/repositories/{name}").json()
        self.assertEqual(doc["repo_id"], private["repo_id"])
        self.assertEqual(doc["created_at"], private["created_at"])
        r = self.req("GET", f"/api/v1/public/repositories/acme/{name}", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), doc)

    def test_tags(self):
        name = self.new_repo(public=True)
        commit = self.commit()
        self.new_tag(name, "v2", commit)
        self.new_tag(name, "v1", commit, description="one")
        r = self.req("GET", f"/api/v1/public/repositories/acme/{name}/tags", token=None)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["repository"], f"acme/{name}")
        self.assertEqual([t["tag_name"] for t in doc["tags"]], ["v1", "v2"])
        for t in doc["tags"]:
            self.assertEqual(set(t), REPO_TAG_KEYS)
            self.assertEqual(t["reference"], f"{name}:{t['tag_name']}")
        private = self.req("GET", f"/api/v1/repositories/{name}/tags").json()["tags"]
        self.assertEqual(doc["tags"], private)
        r = self.req("GET", f"/api/v1/public/repositories/acme/{name}/tags/v1", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), doc["tags"][0])
        self.assertEqual(r.json()["description"], "one")

    def test_missing(self):
        name = self.new_repo(public=True)
        base = "/api/v1/public/repositories"
        for path in (f"{base}/acme/nope-none", f"{base}/acme/nope-none/tags",
                     f"{base}/acme/nope-none/tags/v1", f"{base}/nobody/{name}",
                     f"{base}/other/{name}", f"{base}/other/{name}/tags/v1"):
            self.assertVersError(self.req("GET", path, token=None), 404, "repository not found")
        self.assertVersError(self.req("GET", f"{base}/acme/{name}/tags/nope", token=None), 404,
                             "tag not found")

    def test_private_is_invisible_and_flips_at_once(self):
        name = self.new_repo()
        self.new_tag(name, "v1", self.commit())
        base = f"/api/v1/public/repositories/acme/{name}"
        paths = (base, f"{base}/tags", f"{base}/tags/v1")

        def visible():
            codes = [self.req("GET", p, token=None).status for p in paths]
            listed = ("acme", name) in self.public_names()
            self.assertIn(codes, ([200] * 3, [404] * 3))
            self.assertEqual(listed, codes[0] == 200)
            return listed

        self.assertFalse(visible())
        for p in paths:
            self.assertVersError(self.req("GET", p, token=None), 404, "repository not found")
        self.req("PATCH", f"/api/v1/repositories/{name}/visibility", {"is_public": True})
        self.assertTrue(visible())
        self.req("PATCH", f"/api/v1/repositories/{name}/visibility", {"is_public": False})
        self.assertFalse(visible())

    def test_deleted_repo_leaves_public_view(self):
        name = self.new_repo(public=True)
        self.assertNoContent(self.req("DELETE", f"/api/v1/repositories/{name}"))
        self.assertNotIn(("acme", name), self.public_names())
        r = self.req("GET", f"/api/v1/public/repositories/acme/{name}", token=None)
        self.assertVersError(r, 404, "repository not found")

    def test_slash_name(self):
        name = self.unique("team") + "/pub"
        self.new_repo(name, public=True)
        self.new_tag(name, "v1", self.commit())
        base = f"/api/v1/public/repositories/acme/{q(name)}"
        self.assertEqual(self.req("GET", base, token=None).json()["full_name"], f"acme/{name}")
        doc = self.req("GET", f"{base}/tags", token=None).json()
        self.assertEqual(doc["repository"], f"acme/{name}")
        r = self.req("GET", f"{base}/tags/v1", token=None)
        self.assertEqual(r.json()["reference"], f"{name}:v1")

    def test_no_key_needed_and_any_key_ignored(self):
        name = self.new_repo(public=True)
        for tok in (None, "garbage", self.other_token):
            r = self.req("GET", f"/api/v1/public/repositories/acme/{name}", token=tok)
            self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    unittest.main()
