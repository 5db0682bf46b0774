"""PUT of a tag (a tagd extension): create or move in one call.

PUT /api/v1/repositories/{repo_name}/tags/{tag_name} and
PUT /api/v1/commit_tags/{tag_name} with {"commit_id", "description"?}: 201
when the name was free, 200 when moved or updated, 200 with no event when
the tag already was that; If-None-Match: * makes it create-only, If-Match
move-only.  The body is POST's, the ETag the tag's.  Every failure changes
nothing; protection rules apply as to POST and PATCH; many PUTs of one name
at once are serial."""
import threading

from verstest import MISSING_UUID, UUID_RE, VersCase, q


class PutCase(VersCase):
    def put(self, path, body, token="default", **headers):
        return self.req("PUT", path, body, token=token,
                        headers={k.replace("_", "-"): v for k, v in headers.items()})

    def history(self, path):
        r = self.req("GET", path + "/history")
        self.assertEqual(r.status, 200, r)
        return r.json()["events"]

    def head(self):
        return self.req("GET", "/api/v1/events/head").json()

    def assertPreconditionFailed(self, r, message):
        self.assertEqual((r.status, r.json()), (412, {"success": False, "error": message}))


class RepositoryTagPutTest(PutCase):
    def setUp(self):
        self.repo = self.new_repo()
        self.path = f"/api/v1/repositories/{q(self.repo)}/tags"
        self.c1, self.c2 = self.commit(), self.commit()

    def test_create_move_update_and_nothing(self):
        tag = f"{self.path}/latest"
        r = self.put(tag, {"commit_id": self.c1, "description": "first"})
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertEqual(set(doc), {"tag_id", "reference", "commit_id"})
        self.assertRegex(doc["tag_id"], UUID_RE)
        self.assertEqual((doc["reference"], doc["commit_id"]), (f"{self.repo}:latest", self.c1))
        created = r.header("etag")
        got = self.req("GET", tag)
        self.assertEqual((got.json()["commit_id"], got.json()["description"], got.header("etag")),
                         (self.c1, "first", created))

        # The same again: 200, nothing written, no event.
        head = self.head()
        r = self.put(tag, {"commit_id": self.c1})
        self.assertEqual((r.status, r.json(), r.header("etag")), (200, doc, created))
        self.assertEqual(self.head(), head)
        self.assertEqual(self.req("GET", tag).json()["updated_at"], got.json()["updated_at"])

        # A move keeps the description when none is given.
        r = self.put(tag, {"commit_id": self.c2})
        self.assertEqual((r.status, r.json()["commit_id"], r.json()["tag_id"]),
                         (200, self.c2, doc["tag_id"]))
        moved = r.header("etag")
        self.assertNotEqual(moved, created)
        self.assertEqual(self.req("GET", tag).json()["description"], "first")
        # The description alone: an update; null clears it.
        r = self.put(tag, {"commit_id": self.c2, "description": "second"})
        self.assertEqual(r.status, 200, r)
        r = self.put(tag, {"commit_id": self.c2, "description": None})
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(self.req("GET", tag).json()["description"])
        events = self.history(tag)
        self.assertEqual([(e["action"], e["commit_id"], e["description_changed"])
                          for e in reversed(events)],
                         [("create", self.c1, True), ("move", self.c2, False),
                          ("update", self.c2, True), ("update", self.c2, True)])
        self.assertEqual(events[-2]["previous_commit_id"], self.c1)
        self.assertEqual(self.req("GET", tag).header("etag"), f'"{events[0]["seq"]}"')

    def test_create_only_and_move_only(self):
        tag = f"{self.path}/v1"
        r = self.put(tag, {"commit_id": self.c1}, If_None_Match="*")
        self.assertEqual(r.status, 201, r)
        etag = r.header("etag")
        head = self.head()
        r = self.put(tag, {"commit_id": self.c2}, If_None_Match="*")
        self.assertPreconditionFailed(r, "precondition failed: If-None-Match: * and the tag exists")
        r = self.put(tag, {"commit_id": self.c2}, If_Match='"999999"')
        self.assertPreconditionFailed(r, "precondition failed: If-Match does not match the tag's "
                                         "ETag")
        self.assertEqual(self.head(), head)
        self.assertEqual(self.req("GET", tag).json()["commit_id"], self.c1)
        r = self.put(tag, {"commit_id": self.c2}, If_Match=etag)
        self.assertEqual((r.status, r.json()["commit_id"]), (200, self.c2))
        # If-Match on a free name creates nothing.
        r = self.put(f"{self.path}/absent", {"commit_id": self.c1}, If_Match="*")
        self.assertPreconditionFailed(r, "precondition failed: If-Match does not match the tag's "
                                         "ETag")
        self.assertEqual(self.req("GET", f"{self.path}/absent").status, 404)

    def test_bad_requests_change_nothing(self):
        other_name, other_token = self.new_org()
        theirs = self.commit(org=other_name)
        gone = self.commit()
        self.assertEqual(self.req("DELETE", f"/api/v1/commits/{gone}").status, 204)
        head = self.head()
        cases = [
            (self.put(f"{self.path}/t", {}), 400,
             "Failed to deserialize the JSON body into the target type: missing field `commit_id`"),
            (self.put(f"{self.path}/t", {"commit_id": "nope"}), 400, None),
            (self.put(f"{self.path}/{q('bad name')}", {"commit_id": self.c1}), 400, None),
            (self.put(f"{self.path}/t", {"commit_id": self.c1}, If_Match='"1"', If_None_Match="*"),
             400, "If-Match and If-None-Match cannot be used together"),
            (self.put(f"{self.path}/t", {"commit_id": self.c1}, If_None_Match='"1"'), 400,
             "If-None-Match: only * is supported on PUT"),
            (self.put("/api/v1/repositories/absent/tags/t", {"commit_id": self.c1}), 404,
             "repository not found"),
            (self.put(f"{self.path}/t", {"commit_id": MISSING_UUID}), 404, "commit not found"),
            (self.put(f"{self.path}/t", {"commit_id": gone}), 404, "commit not found"),
            (self.put(f"{self.path}/t", {"commit_id": theirs}), 403, "forbidden"),
            (self.req("PUT", f"{self.path}/t", raw=b'{"commit_id": 1', ), 400, None),
            (self.req("PUT", f"{self.path}/t", {"commit_id": self.c1}, token=None), 401, None),
        ]
        for r, status, message in cases:
            self.assertEqual(r.status, status, r)
            self.assertEqual(r.header("content-type"), "application/json")
            doc = r.json()
            self.assertIs(doc["success"], False)
            if message is not None:
                self.assertEqual(doc["error"], message)
        self.assertEqual(self.head(), head)
        self.assertEqual(self.req("GET", f"{self.path}/t").status, 404)

    def test_many_puts_of_one_name_at_once(self):
        commits = [self.commit() for _ in range(4)]
        tag = f"{self.path}/race"
        answers = [None] * 12
        barrier = threading.Barrier(len(answers))

        def client(i):
            barrier.wait(30)
            r = self.put(tag, {"commit_id": commits[i % 4]})
            answers[i] = (r.status, r.json()["commit_id"], r.header("etag"))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(len(answers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(a[0] for a in answers), [200] * 11 + [201])
        events = list(reversed(self.history(tag)))
        self.assertEqual(events[0]["action"], "create")
        self.assertTrue(all(e["action"] == "move" for e in events[1:]), events)
        # Each answer's ETag is an event that put the tag where that answer says.
        by_seq = {e["seq"]: e["commit_id"] for e in events}
        for status, commit, etag in answers:
            self.assertEqual(by_seq[int(etag.strip('"'))], commit)
        self.assertEqual(self.req("GET", tag).json()["commit_id"], events[-1]["commit_id"])


class CommitTagPutTest(PutCase):
    def test_create_move_and_nothing(self):
        c1, c2 = self.commit(), self.commit()
        name = self.unique("nightly")
        tag = f"/api/v1/commit_tags/{name}"
        r = self.put(tag, {"commit_id": c1})
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertEqual(set(doc), {"tag_id", "tag_name", "commit_id"})
        self.assertEqual((doc["tag_name"], doc["commit_id"]), (name, c1))
        head = self.head()
        self.assertEqual(self.put(tag, {"commit_id": c1}).status, 200)
        self.assertEqual(self.head(), head)
        r = self.put(tag, {"commit_id": c2, "description": "moved"})
        self.assertEqual((r.status, r.json()["commit_id"]), (200, c2))
        got = self.req("GET", tag).json()
        self.assertEqual((got["commit_id"], got["description"]), (c2, "moved"))
        self.assertEqual([e["action"] for e in self.history(tag)], ["move", "create"])
        r = self.put(tag, {"commit_id": c1}, If_None_Match="*")
        self.assertEqual(r.status, 412, r)
        r = self.put("/api/v1/commit_tags/" + "x" * 65, {"commit_id": c1})
        self.assertEqual(r.status, 400, r)


class PutRulesTest(PutCase):
    """Protection rules see a PUT as the create or the move it is; a PUT that
    changes nothing writes nothing, so no rule is consulted."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        admin = cls.tagd.new_token("acme", "admin")
        cls.write = cls.tagd.new_token("acme", "write")
        cls.maintain = cls.tagd.new_token("acme", "maintain")
        for pattern, mode in (("rel-*", "immutable"), ("prod", "protected")):
            r = cls.tagd.request("POST", "/api/v1/protected_tags",
                                 {"pattern": pattern, "mode": mode}, token=admin)
            assert r.status == 201, r

    def test_immutable_and_protected(self):
        repo = self.new_repo()
        path = f"/api/v1/repositories/{q(repo)}/tags"
        c1, c2 = self.commit(), self.commit()
        # immutable: created by anyone who may write, then never moved
        self.assertEqual(self.put(f"{path}/rel-1", {"commit_id": c1}, token=self.write).status,
                         201)
        self.assertEqual(self.put(f"{path}/rel-1", {"commit_id": c1}, token=self.write).status,
                         200)
        head = self.head()
        r = self.put(f"{path}/rel-1", {"commit_id": c2}, token=self.maintain)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"],
                         "tag 'rel-1' is immutable (organization rule 'rel-*')")
        self.assertEqual(self.head(), head)
        # protected: maintain and above only
        r = self.put(f"{path}/prod", {"commit_id": c1}, token=self.write)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.req("GET", f"{path}/prod").status, 404)
        self.assertEqual(self.put(f"{path}/prod", {"commit_id": c1}, token=self.maintain).status,
                         201)
        self.assertEqual(self.put(f"{path}/prod", {"commit_id": c2}, token=self.write).status,
                         403)
        self.assertEqual(self.put(f"{path}/prod", {"commit_id": c2}, token=self.maintain).status,
                         200)
        # a read token may not PUT at all
        reader = self.tagd.new_token("acme", "read")
        self.assertEqual(self.put(f"{path}/x", {"commit_id": c1}, token=reader).status, 403)


if __name__ == "__main__":
    import unittest
    unittest.main()
