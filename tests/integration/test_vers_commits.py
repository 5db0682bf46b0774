"""Vers commits: list, public list, pagination, update, soft delete and what it leaves."""
import unittest

from verstest import COMMIT_KEYS, MISSING_UUID, UUID_RE, VersCase, q


class CommitListTest(VersCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.org = "pager"
        cls.org_token = cls.tagd.new_org(cls.org)
        # Oldest first; the list answers newest first.
        cls.ids = [cls.tagd.new_commit(cls.org, name=f"c{i}") for i in range(5)]

    def page(self, query="", token=None, path="/api/v1/commits"):
        r = self.req("GET", path + query, token=token or self.org_token)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(list(doc), ["commits", "total", "limit", "offset"])
        return doc

    def test_newest_first_with_defaults(self):
        doc = self.page()
        self.assertEqual([c["commit_id"] for c in doc["commits"]], self.ids[::-1])
        self.assertEqual((doc["total"], doc["limit"], doc["offset"]), (5, 50, 0))

    def test_shape(self):
        c = self.page("?limit=1")["commits"][0]
        self.assertEqual(set(c), COMMIT_KEYS)
        self.assertEqual(c["commit_id"], self.ids[-1])
        self.assertEqual(c["name"], "c4")
        self.assertRegex(c["owner_id"], UUID_RE)
        self.assertIsNone(c["description"])
        self.assertIsNone(c["parent_vm_id"])
        self.assertIsNone(c["grandparent_commit_id"])
        self.assertIs(c["is_public"], False)
        self.assertTime(c["created_at"])

    def test_limit_and_offset(self):
        doc = self.page("?limit=2&offset=1")
        self.assertEqual([c["commit_id"] for c in doc["commits"]], self.ids[::-1][1:3])
        self.assertEqual((doc["total"], doc["limit"], doc["offset"]), (5, 2, 1))

    def test_clamps(self):
        for query, limit, offset, n in (("?limit=0", 1, 0, 1), ("?limit=-7", 1, 0, 1),
                                        ("?limit=1000", 100, 0, 5), ("?limit=100", 100, 0, 5),
                                        ("?offset=-3", 50, 0, 5), ("?offset=4", 50, 4, 1),
                                        ("?offset=99", 50, 99, 0), ("?limit=%2B2", 2, 0, 2),
                                        ("?limit=9223372036854775807", 100, 0, 5)):
            doc = self.page(query)
            self.assertEqual((doc["limit"], doc["offset"], len(doc["commits"]), doc["total"]),
                             (limit, offset, n, 5), query)

    def test_bad_integers_are_400(self):
        for query, why in (("?limit=abc", "invalid digit found in string"),
                           ("?limit=1.5", "invalid digit found in string"),
                           ("?offset=x", "invalid digit found in string"),
                           ("?limit=", "cannot parse integer from empty string"),
                           ("?limit=99999999999999999999",
                            "number too large to fit in target type"),
                           ("?limit=%zz", "invalid digit found in string"),
                           ("?limit=1&limit=2", "duplicate field `limit`"),
                           ("?offset=1&x=1&offset=1", "duplicate field `offset`"),
                           # the first bad pair of the query string is the one reported
                           ("?offset=&limit=x", "cannot parse integer from empty string"),
                           ("?limit=x&offset=", "invalid digit found in string")):
            r = self.req("GET", "/api/v1/commits" + query, token=self.org_token)
            self.assertVersError(r, 400, "Failed to deserialize query string: " + why)
            r = self.req("GET", "/api/v1/commits/public" + query, token=self.org_token)
            self.assertVersError(r, 400, "Failed to deserialize query string: " + why)

    def test_unknown_keys_ignored(self):
        doc = self.page("?limit=2&page=abc&sort=asc")
        self.assertEqual((doc["limit"], len(doc["commits"])), (2, 2))

    def test_isolated(self):
        ids = {c["commit_id"] for c in self.page("?limit=100", token=self.token)["commits"]}
        self.assertFalse(ids & set(self.ids))

    def test_public_list(self):
        org, tok = self.new_org()
        pub = self.public_commit(org)
        priv = self.tagd.new_commit(org)
        theirs = self.public_commit("other")
        doc = self.page("?limit=100", token=tok, path="/api/v1/commits/public")
        ids = [c["commit_id"] for c in doc["commits"]]
        self.assertIn(pub, ids)
        self.assertIn(theirs, ids)  # every organization's public commits
        self.assertNotIn(priv, ids)
        self.assertLess(ids.index(theirs), ids.index(pub))  # newest first
        self.assertTrue(all(c["is_public"] for c in doc["commits"]))
        self.assertEqual(doc["total"], len(ids))
        one = self.page("?limit=1&offset=0", token=tok, path="/api/v1/commits/public")
        self.assertEqual(one["commits"][0]["commit_id"], theirs)
        self.assertEqual(one["total"], doc["total"])

    def test_auth(self):
        for path in ("/api/v1/commits", "/api/v1/commits/public"):
            self.assertVersError(self.req("GET", path, token=None), 401,
                                 "Missing or invalid Authorization header")


class CommitUpdateTest(VersCase):
    def path(self, cid):
        return f"/api/v1/commits/{q(cid)}"

    def test_update(self):
        cid = self.commit(name="orig", description="d0")
        r = self.req("PATCH", self.path(cid), {"is_public": True})
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(set(doc), COMMIT_KEYS)
        self.assertEqual((doc["commit_id"], doc["name"], doc["description"], doc["is_public"]),
                         (cid, "orig", "d0", True))
        # null leaves a value unchanged, as absence does
        doc = self.req("PATCH", self.path(cid), {"is_public": False, "name": None,
                                                 "description": None}).json()
        self.assertEqual((doc["name"], doc["description"], doc["is_public"]),
                         ("orig", "d0", False))
        doc = self.req("PATCH", self.path(cid), {"is_public": True, "name": "n2",
                                                 "description": "d2"}).json()
        self.assertEqual((doc["name"], doc["description"], doc["is_public"]), ("n2", "d2", True))
        listed = [c for c in self.req("GET", "/api/v1/commits?limit=100").json()["commits"]
                  if c["commit_id"] == cid]
        self.assertEqual(listed, [doc])

    def test_public_flag_moves_it_in_and_out_of_public_list(self):
        cid = self.commit()

        def public_ids():
            doc = self.req("GET", "/api/v1/commits/public?limit=100").json()
            return [c["commit_id"] for c in doc["commits"]]

        self.assertNotIn(cid, public_ids())
        self.req("PATCH", self.path(cid), {"is_public": True})
        self.assertIn(cid, public_ids())
        self.req("PATCH", self.path(cid), {"is_public": False})
        self.assertNotIn(cid, public_ids())

    def test_upper_case_id(self):
        cid = self.commit()
        r = self.req("PATCH", self.path(cid.upper()), {"is_public": True})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["commit_id"], cid)

    def test_errors(self):
        cid = self.commit()
        self.assertVersError(self.req("PATCH", self.path(MISSING_UUID), {"is_public": True}),
                             404, "commit not found")
        self.assertVersError(self.req("PATCH", self.path("not-a-uuid"), {"is_public": True}),
                             404, "commit not found")
        theirs = self.commit("other")
        self.assertVersError(self.req("PATCH", self.path(theirs), {"is_public": True}), 403,
                             "forbidden")
        self.assertVersError(self.req("PATCH", self.path(cid), {}), 400)
        self.assertVersError(self.req("PATCH", self.path(cid), {"is_public": None}), 400)
        self.assertVersError(self.req("PATCH", self.path(cid), {"is_public": 1}), 400)
        self.assertVersError(self.req("PATCH", self.path(cid), {"is_public": True, "name": 5}),
                             400)
        self.assertVersError(self.req("PATCH", self.path(cid), raw="{}", content_type=None), 415)
        self.assertVersError(self.req("PATCH", self.path(cid), {"is_public": True}, token=None),
                             401)

    def test_other_org_commit_unchanged(self):
        theirs = self.commit("other", name="keep")
        self.req("PATCH", self.path(theirs), {"is_public": True, "name": "hijack"})
        doc = self.req("GET", "/api/v1/commits?limit=100", token=self.other_token).json()
        [c] = [c for c in doc["commits"] if c["commit_id"] == theirs]
        self.assertEqual((c["name"], c["is_public"]), ("keep", False))


class CommitGetTest(VersCase):
    """GET /api/v1/commits/{commit_id}, a tagd extension: what the two lists show."""

    def get(self, cid, token="default"):
        return self.req("GET", f"/api/v1/commits/{q(cid)}", token=token)

    def test_own_commit(self):
        cid = self.commit(name="build 7", description="from CI")
        r = self.get(cid)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(set(doc), COMMIT_KEYS)
        self.assertEqual((doc["commit_id"], doc["name"], doc["description"], doc["is_public"]),
                         (cid, "build 7", "from CI", False))
        self.assertIsNone(doc["parent_vm_id"])
        self.assertTime(doc["created_at"])
        # The same object the list shows.
        listed = [c for c in self.req("GET", "/api/v1/commits?limit=100").json()["commits"]
                  if c["commit_id"] == cid]
        self.assertEqual(listed, [doc])
        # Any UUID form; the answer is lower-case hyphenated.
        self.assertEqual(self.get(cid.upper()).json()["commit_id"], cid)
        self.assertEqual(self.get(cid.replace("-", "")).json()["commit_id"], cid)
        self.assertEqual(self.get("{" + cid + "}").json()["commit_id"], cid)

    def test_public_commits_of_others_not_their_private_ones(self):
        public = self.public_commit("other")
        private = self.commit("other")
        self.assertEqual(self.get(public).json()["commit_id"], public)
        self.assertVersError(self.get(private), 404, "commit not found")
        self.assertEqual(self.get(private, token=self.other_token).status, 200)

    def test_missing_deleted_and_not_uuid(self):
        self.assertVersError(self.get(MISSING_UUID), 404, "commit not found")
        self.assertVersError(self.get("zzz"), 404, "commit not found")
        cid = self.commit()
        self.assertNoContent(self.req("DELETE", f"/api/v1/commits/{cid}"))
        self.assertVersError(self.get(cid), 404, "commit not found")

    def test_auth(self):
        cid = self.commit()
        self.assertVersError(self.get(cid, token=None), 401)

    def test_registered_with_a_chosen_id_then_409(self):
        """The CI mapping: the same id twice is 409, and GET reads what the first made."""
        cid = "5d41402a-bc4b-2a76-b971-9d911017c592"
        body = {"commit_id": cid, "name": "5d41402abc4b2a76b9719d911017c592deadbeef"}
        self.assertEqual(self.req("POST", "/api/v1/commits", body).status, 201)
        self.assertVersError(self.req("POST", "/api/v1/commits", body), 409,
                             "commit already exists")
        self.assertEqual(self.get(cid).json()["name"], body["name"])


class CommitDeleteTest(VersCase):
    def path(self, cid):
        return f"/api/v1/commits/{q(cid)}"

    def ids(self, path="/api/v1/commits?limit=100"):
        return [c["commit_id"] for c in self.req("GET", path).json()["commits"]]

    def test_soft_delete(self):
        org, tok = self.new_org()
        keep = self.tagd.new_commit(org)
        gone = self.public_commit(org)
        self.assertNoContent(self.req("DELETE", self.path(gone), token=tok))
        doc = self.req("GET", "/api/v1/commits", token=tok).json()
        self.assertEqual([c["commit_id"] for c in doc["commits"]], [keep])
        self.assertEqual(doc["total"], 1)
        self.assertNotIn(gone, self.ids("/api/v1/commits/public?limit=100"))
        self.assertVersError(self.req("DELETE", self.path(gone), token=tok), 404,
                             "commit not found")
        self.assertVersError(self.req("PATCH", self.path(gone), {"is_public": True}, token=tok),
                             404, "commit not found")

    def test_tags_keep_pointing_at_a_deleted_commit(self):
        repo = self.new_repo()
        gone, other = self.commit(), self.commit()
        self.new_tag(repo, "v1", gone, description="kept")
        r = self.req("POST", "/api/v1/commit_tags", {"tag_name": self.unique("lt"),
                                                     "commit_id": gone})
        self.assertEqual(r.status, 201, r)
        legacy = r.json()["tag_name"]
        self.assertNoContent(self.req("DELETE", self.path(gone)))
        # Existing tags still name it...
        tag = self.req("GET", f"/api/v1/repositories/{repo}/tags/v1").json()
        self.assertEqual((tag["commit_id"], tag["description"]), (gone, "kept"))
        self.assertEqual(self.req("GET", f"/api/v1/commit_tags/{legacy}").json()["commit_id"],
                         gone)
        # ...but it can no longer be tagged or moved to.
        r = self.req("POST", f"/api/v1/repositories/{repo}/tags",
                     {"tag_name": "v2", "commit_id": gone})
        self.assertVersError(r, 404, "commit not found")
        r = self.req("POST", "/api/v1/commit_tags", {"tag_name": "x", "commit_id": gone})
        self.assertVersError(r, 404, "commit not found")
        r = self.new_tag(repo, "v3", other)
        r = self.req("PATCH", f"/api/v1/repositories/{repo}/tags/v3", {"commit_id": gone})
        self.assertVersError(r, 404, "commit not found")
        # A tag on it can still be moved away, edited and deleted.
        self.assertNoContent(self.req("PATCH", f"/api/v1/repositories/{repo}/tags/v1",
                                      {"description": "edited"}))
        self.assertNoContent(self.req("PATCH", f"/api/v1/repositories/{repo}/tags/v1",
                                      {"commit_id": other}))
        self.assertNoContent(self.req("DELETE", f"/api/v1/commit_tags/{legacy}"))

    def test_other_org_is_403(self):
        theirs = self.commit("other")
        self.assertVersError(self.req("DELETE", self.path(theirs)), 403, "forbidden")
        self.assertIn(theirs, [c["commit_id"] for c in self.req(
            "GET", "/api/v1/commits?limit=100", token=self.other_token).json()["commits"]])

    def test_missing(self):
        self.assertVersError(self.req("DELETE", self.path(MISSING_UUID)), 404, "commit not found")
        self.assertVersError(self.req("DELETE", self.path("zzz")), 404, "commit not found")

    def test_upper_case_id(self):
        cid = self.commit()
        self.assertNoContent(self.req("DELETE", self.path(cid.upper())))
        self.assertNotIn(cid, self.ids())

    def test_auth(self):
        cid = self.commit()
        self.assertVersError(self.req("DELETE", self.path(cid), token=None), 401)
        self.assertIn(cid, self.ids())


if __name__ == "__main__":
    unittest.main()
