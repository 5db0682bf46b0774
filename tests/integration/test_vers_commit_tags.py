"""Vers legacy commit tags (/api/v1/commit_tags): organization-scoped, 1-64 byte names."""
import unittest

from verstest import MISSING_UUID, TAG_KEYS, UUID_RE, VersCase, q

BASE = "/api/v1/commit_tags"


class CommitTagCreateTest(VersCase):
    def test_created(self):
        cid = self.commit()
        name = self.unique("ct")
        r = self.req("POST", BASE, {"tag_name": name, "commit_id": cid.upper(),
                                    "description": None})
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertEqual(set(doc), {"tag_id", "tag_name", "commit_id"})
        self.assertRegex(doc["tag_id"], UUID_RE)
        self.assertEqual((doc["tag_name"], doc["commit_id"]), (name, cid))

    def test_duplicate_in_org_is_409_but_other_org_may_reuse(self):
        name = self.unique("dup")
        cid = self.commit()
        self.assertEqual(self.req("POST", BASE, {"tag_name": name, "commit_id": cid}).status, 201)
        r = self.req("POST", BASE, {"tag_name": name, "commit_id": cid})
        self.assertVersError(r, 409, "tag already exists")
        theirs = self.commit("other")
        r = self.req("POST", BASE, {"tag_name": name, "commit_id": theirs},
                     token=self.other_token)
        self.assertEqual(r.status, 201, r)

    def test_names(self):
        cid = self.commit()
        ok = ["a" * 64, "版本", "v1.0_rc-1"]
        for n in ok:
            r = self.req("POST", BASE, {"tag_name": n, "commit_id": cid})
            self.assertEqual(r.status, 201, (n, r))
        for n in ("a" * 65, ""):
            self.assertVersError(self.req("POST", BASE, {"tag_name": n, "commit_id": cid}), 400,
                                 "invalid tag name: Tag name must be 1-64 characters")
        for n in ("bad name", "a/b", "a:b"):
            self.assertVersError(
                self.req("POST", BASE, {"tag_name": n, "commit_id": cid}), 400,
                "invalid tag name: Tag name can only contain alphanumeric characters, "
                "hyphens, underscores, and dots")

    def test_commit_checks_in_order(self):
        # name, then commit existence, then ownership
        self.assertEqual(self.req("POST", BASE, {"tag_name": "bad name",
                                                 "commit_id": MISSING_UUID}).status, 400)
        self.assertVersError(self.req("POST", BASE, {"tag_name": "x", "commit_id": MISSING_UUID}),
                             404, "commit not found")
        theirs = self.commit("other")
        self.assertVersError(self.req("POST", BASE, {"tag_name": "x", "commit_id": theirs}), 403,
                             "forbidden")

    def test_body_errors(self):
        cid = self.commit()
        self.assertVersError(self.req("POST", BASE, {"commit_id": cid}), 400)
        self.assertVersError(self.req("POST", BASE, {"tag_name": "x"}), 400)
        self.assertVersError(self.req("POST", BASE, {"tag_name": "x", "commit_id": "nope"}), 400)
        self.assertVersError(self.req("POST", BASE, raw="{"), 400)
        self.assertVersError(self.req("POST", BASE, raw="{}", content_type="text/plain"), 415)

    def test_auth(self):
        r = self.req("POST", BASE, {"tag_name": "x", "commit_id": MISSING_UUID}, token=None)
        self.assertVersError(r, 401, "Missing or invalid Authorization header")


class CommitTagReadTest(VersCase):
    def test_list_sorted_and_shaped(self):
        org, tok = self.new_org()
        c1 = self.tagd.new_commit(org)
        names = ["b", "a", "Z", "_u", "é"]
        for i, n in enumerate(names):
            body = {"tag_name": n, "commit_id": c1}
            if i == 0:
                body["description"] = "bee"
            self.assertEqual(self.req("POST", BASE, body, token=tok).status, 201)
        r = self.req("GET", BASE, token=tok)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(set(doc), {"tags"})
        self.assertEqual([t["tag_name"] for t in doc["tags"]],
                         sorted(names, key=lambda s: s.encode("utf-8")))
        for t in doc["tags"]:
            self.assertEqual(set(t), TAG_KEYS)
            self.assertEqual(t["commit_id"], c1)
            self.assertTime(t["created_at"])
            self.assertEqual(t["created_at"], t["updated_at"])
            self.assertEqual(t["description"], "bee" if t["tag_name"] == "b" else None)
            g = self.req("GET", f"{BASE}/{q(t['tag_name'])}", token=tok)
            self.assertEqual(g.status, 200, g)
            self.assertEqual(g.json(), t)

    def test_empty_and_isolated(self):
        _, tok = self.new_org()
        self.assertEqual(self.req("GET", BASE, token=tok).json(), {"tags": []})
        name = self.unique("mine")
        self.req("POST", BASE, {"tag_name": name, "commit_id": self.commit()})
        theirs = [t["tag_name"] for t in self.req("GET", BASE, token=self.other_token)
                  .json()["tags"]]
        self.assertNotIn(name, theirs)
        self.assertVersError(self.req("GET", f"{BASE}/{name}", token=self.other_token), 404,
                             "tag not found")

    def test_missing(self):
        self.assertVersError(self.req("GET", f"{BASE}/nope-none"), 404, "tag not found")

    def test_auth(self):
        self.assertVersError(self.req("GET", BASE, token=None), 401)
        self.assertVersError(self.req("GET", f"{BASE}/x", token="bad"), 401,
                             "Invalid bearer token")


class CommitTagUpdateDeleteTest(VersCase):
    def setUp(self):
        self.c1, self.c2 = self.commit(), self.commit()
        self.name = self.unique("ct")
        r = self.req("POST", BASE, {"tag_name": self.name, "commit_id": self.c1,
                                    "description": "orig"})
        self.assertEqual(r.status, 201, r)
        self.path = f"{BASE}/{self.name}"

    def get(self):
        r = self.req("GET", self.path)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_tri_state(self):
        before = self.get()
        self.assertNoContent(self.req("PATCH", self.path, {"commit_id": self.c2}))
        after = self.get()
        self.assertEqual((after["commit_id"], after["description"]), (self.c2, "orig"))
        self.assertEqual(after["created_at"], before["created_at"])
        self.assertGreater(after["updated_at"], before["updated_at"])
        self.assertNoContent(self.req("PATCH", self.path, {"description": "new"}))
        self.assertEqual((self.get()["commit_id"], self.get()["description"]), (self.c2, "new"))
        self.assertNoContent(self.req("PATCH", self.path, {"commit_id": None,
                                                           "description": None}))
        self.assertEqual((self.get()["commit_id"], self.get()["description"]), (self.c2, None))

    def test_no_updates(self):
        for body in ({}, {"commit_id": None}):
            self.assertVersError(self.req("PATCH", self.path, body), 400, "no updates provided")
        self.assertVersError(self.req("PATCH", f"{BASE}/nope-none", {}), 400,
                             "no updates provided")

    def test_errors(self):
        self.assertVersError(self.req("PATCH", f"{BASE}/nope-none", {"description": "x"}), 404,
                             "tag not found")
        # A missing tag is reported before a missing commit.
        self.assertVersError(self.req("PATCH", f"{BASE}/nope-none", {"commit_id": MISSING_UUID}),
                             404, "tag not found")
        self.assertVersError(self.req("PATCH", self.path, {"commit_id": MISSING_UUID}), 404,
                             "commit not found")
        theirs = self.commit("other")
        self.assertVersError(self.req("PATCH", self.path, {"commit_id": theirs}), 403,
                             "forbidden")
        self.assertVersError(self.req("PATCH", self.path, {"commit_id": 7}), 400)
        self.assertVersError(self.req("PATCH", self.path, {"description": "x"}, token=None), 401)
        after = self.get()
        self.assertEqual((after["commit_id"], after["description"]), (self.c1, "orig"))

    def test_other_org_cannot_touch(self):
        r = self.req("PATCH", self.path, {"description": "x"}, token=self.other_token)
        self.assertVersError(r, 404, "tag not found")
        r = self.req("DELETE", self.path, token=self.other_token)
        self.assertVersError(r, 404, "tag not found")
        self.assertEqual(self.get()["description"], "orig")

    def test_delete(self):
        self.assertNoContent(self.req("DELETE", self.path))
        self.assertVersError(self.req("GET", self.path), 404, "tag not found")
        self.assertVersError(self.req("DELETE", self.path), 404, "tag not found")
        self.assertNotIn(self.name, [t["tag_name"] for t in self.req("GET", BASE).json()["tags"]])
        r = self.req("POST", BASE, {"tag_name": self.name, "commit_id": self.c1})
        self.assertEqual(r.status, 201, r)

    def test_delete_auth(self):
        self.assertVersError(self.req("DELETE", self.path, token=None), 401)
        self.get()


if __name__ == "__main__":
    unittest.main()
