"""Keyset pagination, a tagd extension: `limit`/`after` on the tag lists (private,
public, legacy commit tags) and `after` on the commit lists, with Link rel="next".
Requests without these parameters must get exactly the answers they got before."""
import http.client
import json
import re
import unittest
import urllib.parse

from verstest import MISSING_UUID, VersCase, q

PREFIX = "Failed to deserialize query string: "
LINK_RE = re.compile(r'^<([^>]*)>; rel="next"$')
CURSOR_ERROR = "`after` is not a commit of this list: it is unknown, deleted, or not listed here"


def enc(text):
    """Percent-encoding as tagd writes it: everything but RFC 3986 unreserved bytes."""
    return urllib.parse.quote(text, safe="-._~")


def byte_order(names):
    return sorted(names, key=lambda n: n.encode("utf-8"))


class PagingCase(VersCase):
    def get(self, path, token="default"):
        return self.req("GET", path, token=token)

    def next_link(self, r):
        """The target of the Link rel="next" header, or None."""
        link = r.header("link")
        if link is None:
            return None
        m = LINK_RE.match(link)
        self.assertIsNotNone(m, link)
        return m.group(1)

    def walk(self, first, key, token="default"):
        """Follow Link rel="next" from first, collecting each element's key."""
        seen, pages, path = [], [], first
        while path is not None:
            r = self.get(path, token=token)
            self.assertEqual(r.status, 200, r)
            doc = r.json()
            items = [x[key] for x in doc["commits" if "commits" in doc else "tags"]]
            nxt = self.next_link(r)
            if nxt is None:
                self.assertIsNone(doc["next_after"], doc)
            else:
                self.assertTrue(items)
                self.assertEqual(doc["next_after"], items[-1])
            seen += items
            pages.append((path, items, nxt))
            path = nxt
            self.assertLess(len(pages), 1000, "the walk does not end")
        return seen, pages


class TagPagingTest(PagingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.commit_id = cls.tagd.new_commit("acme")
        names = [f"t{i:03d}" for i in range(280)]
        names += ["v1.2", "v1.10", "v1.2.3", "é", "éa", "Zeta", "版本", "a-b_c", "A.1",
                  "ñ.9", "z", "_x", "-y", "0.0.1", "Ω", "e", "f.é"]
        cls.names = byte_order(names)
        cls.repo = "big"
        conn = http.client.HTTPConnection("127.0.0.1", cls.tagd.port, timeout=30)
        try:
            for body, path in [({"name": cls.repo}, "/api/v1/repositories")] + [
                    ({"tag_name": n, "commit_id": cls.commit_id},
                     f"/api/v1/repositories/{cls.repo}/tags") for n in names]:
                r = cls.tagd.request("POST", path, body=body, token=cls.token, conn=conn)
                assert r.status == 201, r
            r = cls.tagd.request("PATCH", f"/api/v1/repositories/{cls.repo}/visibility",
                                 body={"is_public": True}, token=cls.token, conn=conn)
            assert r.status == 204, r
        finally:
            conn.close()
        cls.private = f"/api/v1/repositories/{cls.repo}/tags"
        cls.public = f"/api/v1/public/repositories/acme/{cls.repo}/tags"

    def test_walk_private_every_tag_once_in_order(self):
        seen, pages = self.walk(self.private + "?limit=7", "tag_name")
        self.assertEqual(seen, self.names)
        self.assertEqual(len(pages), -(-len(self.names) // 7))
        for path, items, nxt in pages[:-1]:
            self.assertEqual(len(items), 7)
            self.assertEqual(nxt, f"{self.private}?limit=7&after={enc(items[-1])}")
        self.assertIsNone(pages[-1][2])

    def test_walk_public(self):
        seen, pages = self.walk(self.public + "?limit=50", "tag_name")
        self.assertEqual(seen, self.names)
        self.assertTrue(pages[0][2].startswith(self.public + "?limit=50&after="))
        r = self.get(self.public + "?limit=3", token=None)
        doc = r.json()
        self.assertEqual(list(doc), ["repository", "tags", "next_after"])
        self.assertEqual(doc["repository"], f"acme/{self.repo}")
        self.assertEqual(doc["tags"][0]["reference"], f"{self.repo}:{self.names[0]}")

    def test_cursor_is_percent_encoded(self):
        # é is two bytes, encoded; dots are unreserved and stay as they are.
        for name in ("é", "f.é", "v1.2", "版本", "Ω"):
            i = self.names.index(name)
            r = self.get(f"{self.private}?limit=1&after={enc(self.names[i - 1])}")
            self.assertEqual([t["tag_name"] for t in r.json()["tags"]], [name])
            want = None if name == self.names[-1] else f"{self.private}?limit=1&after={enc(name)}"
            self.assertEqual(self.next_link(r), want)
        r = self.get(f"{self.private}?limit=1&after=v1.2")
        self.assertEqual(r.json()["tags"][0]["tag_name"], "v1.2.3")
        self.assertIn("after=v1.2.3>", r.header("link"))
        self.assertIn("after=%C3%A9>",
                      self.get(f"{self.private}?limit=1&after=z").header("link"))

    def test_cursor_need_not_be_a_tag(self):
        r = self.get(f"{self.private}?limit=2&after=t0005")
        self.assertEqual([t["tag_name"] for t in r.json()["tags"]], ["t001", "t002"])
        r = self.get(f"{self.private}?limit=2&after=")  # empty: from the start
        self.assertEqual([t["tag_name"] for t in r.json()["tags"]], self.names[:2])
        r = self.get(f"{self.private}?limit=2&after=%F4%8F%BF%BF")  # after every name
        self.assertEqual(r.json(), {"repository": self.repo, "tags": [], "next_after": None})
        self.assertIsNone(r.header("link"))

    def test_default_answer_unchanged(self):
        r = self.get(self.private)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("link"))
        doc = r.json()
        self.assertEqual(list(doc), ["repository", "tags"])
        self.assertEqual([t["tag_name"] for t in doc["tags"]], self.names)
        # Byte for byte the one-page answer without the extension's field.
        paged = self.get(self.private + "?limit=1000")
        self.assertIsNone(paged.header("link"))
        self.assertEqual(paged.body.replace(b',"next_after":null}', b"}"), r.body)
        # Unknown keys do not turn paging on.
        self.assertEqual(self.get(self.private + "?page=2&offset=5").body, r.body)
        pub = self.get(self.public, token=None)
        self.assertIsNone(pub.header("link"))
        self.assertEqual(list(pub.json()), ["repository", "tags"])
        self.assertEqual(len(pub.json()["tags"]), len(self.names))

    def test_after_alone_pages_by_100(self):
        r = self.get(self.private + "?after=t100")
        tags = [t["tag_name"] for t in r.json()["tags"]]
        i = self.names.index("t101")
        self.assertEqual(tags, self.names[i:i + 100])
        self.assertEqual(self.next_link(r), f"{self.private}?limit=100&after={enc(tags[-1])}")

    def test_last_page_exactly_full_has_no_link(self):
        n = len(self.names)
        r = self.get(f"{self.private}?limit={n}")
        self.assertEqual(len(r.json()["tags"]), n)
        self.assertIsNone(r.header("link"))
        self.assertIsNone(r.json()["next_after"])
        r = self.get(f"{self.private}?limit={n - 1}")
        self.assertEqual(r.json()["next_after"], self.names[-2])
        self.assertIsNotNone(r.header("link"))

    def test_bad_values_are_400(self):
        cases = (("limit=0", "invalid value for `limit`: 0, expected an integer from 1 to 1000"),
                 ("limit=1001",
                  "invalid value for `limit`: 1001, expected an integer from 1 to 1000"),
                 ("limit=-1", "invalid value for `limit`: -1, expected an integer from 1 to 1000"),
                 ("limit=abc", "invalid digit found in string"),
                 ("limit=1.5", "invalid digit found in string"),
                 ("limit=", "cannot parse integer from empty string"),
                 ("limit=99999999999999999999", "number too large to fit in target type"),
                 ("limit=1&limit=2", "duplicate field `limit`"),
                 ("after=a&after=b", "duplicate field `after`"),
                 ("after=%FF", "invalid value for `after`: not percent-encoded UTF-8"),
                 ("after=%C3", "invalid value for `after`: not percent-encoded UTF-8"),
                 ("after=%ED%A0%80", "invalid value for `after`: not percent-encoded UTF-8"),
                 ("after=a%00b", "invalid value for `after`: not percent-encoded UTF-8"),
                 ("after=%zz", "invalid value for `after`: not percent-encoded UTF-8"),
                 ("after=" + "a" * 129, "invalid value for `after`: longer than 128 bytes"),
                 # the first bad pair of the query string is the one reported
                 ("after=%FF&limit=0", "invalid value for `after`: not percent-encoded UTF-8"),
                 ("limit=0&after=%FF",
                  "invalid value for `limit`: 0, expected an integer from 1 to 1000"))
        for query, why in cases:
            for base, token in ((self.private, "default"), (self.public, None),
                                # query errors come before the repository lookup
                                ("/api/v1/repositories/none/tags", "default")):
                r = self.get(f"{base}?{query}", token=token)
                self.assertVersError(r, 400, PREFIX + why)
                self.assertIsNone(r.header("link"))
        self.assertEqual(len(self.get(f"{self.private}?after={'a' * 128}").json()["tags"]), 100)
        self.assertEqual(len(self.get(f"{self.private}?limit=1000").json()["tags"]),
                         len(self.names))
        self.assertEqual(len(self.get(f"{self.private}?limit=%2B1").json()["tags"]), 1)

    def test_missing_repository_is_404(self):
        self.assertVersError(self.get("/api/v1/repositories/none/tags?limit=5"), 404,
                             "repository not found")
        self.assertVersError(self.get(f"/api/v1/repositories/{self.repo}/tags?limit=5",
                                      token=self.other_token), 404, "repository not found")
        self.assertVersError(self.get(f"/api/v1/public/repositories/other/{self.repo}/tags"
                                      "?limit=5", token=None), 404, "repository not found")

    def test_repository_name_with_slash_in_link(self):
        repo = self.new_repo("team/app.x")
        for n in ("b", "a", "c"):
            self.new_tag(repo, n, self.commit_id)
        first = f"/api/v1/repositories/{q(repo)}/tags?limit=2"
        r = self.get(first)
        self.assertEqual(self.next_link(r),
                         "/api/v1/repositories/team%2Fapp.x/tags?limit=2&after=b")
        seen, _ = self.walk(first, "tag_name")
        self.assertEqual(seen, ["a", "b", "c"])


class CommitTagPagingTest(PagingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.commit_id = cls.tagd.new_commit("acme")
        theirs = cls.tagd.new_commit("other")
        names = [f"r{i:02d}" for i in range(30)] + ["é", "ü", "v1.2", "v1.10"]
        cls.names = byte_order(names)
        conn = http.client.HTTPConnection("127.0.0.1", cls.tagd.port, timeout=30)
        try:
            for n in names:
                r = cls.tagd.request("POST", "/api/v1/commit_tags",
                                     body={"tag_name": n, "commit_id": cls.commit_id},
                                     token=cls.token, conn=conn)
                assert r.status == 201, r
            r = cls.tagd.request("POST", "/api/v1/commit_tags",
                                 body={"tag_name": "r05x", "commit_id": theirs},
                                 token=cls.other_token, conn=conn)
            assert r.status == 201, r
        finally:
            conn.close()

    def test_walk(self):
        seen, pages = self.walk("/api/v1/commit_tags?limit=4", "tag_name")
        self.assertEqual(seen, self.names)
        self.assertEqual(pages[0][2], f"/api/v1/commit_tags?limit=4&after={enc(self.names[3])}")
        r = self.get("/api/v1/commit_tags?limit=1&after=v1.2")
        self.assertEqual(self.next_link(r), "/api/v1/commit_tags?limit=1&after=%C3%A9")

    def test_default_unchanged(self):
        r = self.get("/api/v1/commit_tags")
        self.assertIsNone(r.header("link"))
        self.assertEqual(list(r.json()), ["tags"])
        self.assertEqual([t["tag_name"] for t in r.json()["tags"]], self.names)
        paged = self.get("/api/v1/commit_tags?limit=1000")
        self.assertEqual(paged.body.replace(b',"next_after":null}', b"}"), r.body)

    def test_bad_values_are_400(self):
        for query, why in (
                ("limit=0", "invalid value for `limit`: 0, expected an integer from 1 to 1000"),
                ("limit=x", "invalid digit found in string"),
                ("after=" + "a" * 65, "invalid value for `after`: longer than 64 bytes"),
                ("after=%C0%AF", "invalid value for `after`: not percent-encoded UTF-8")):
            self.assertVersError(self.get(f"/api/v1/commit_tags?{query}"), 400, PREFIX + why)
        self.assertEqual(self.get("/api/v1/commit_tags?after=" + "a" * 64).status, 200)


class CommitPagingTest(PagingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.org = "cpager"
        cls.org_token = cls.tagd.new_org(cls.org)
        for i in range(13):
            if i % 3 == 0:
                cls.tagd.cli("commit", "create", "--org", cls.org, "--name", f"p{i}", "--public")
            else:
                cls.tagd.new_commit(cls.org, name=f"c{i}")
        cls.theirs = cls.tagd.new_commit("other")
        r = cls.tagd.request("GET", "/api/v1/commits?limit=100", token=cls.org_token)
        cls.ids = [c["commit_id"] for c in r.json()["commits"]]  # newest first
        r = cls.tagd.request("GET", "/api/v1/commits/public?limit=100", token=cls.org_token)
        cls.public_ids = [c["commit_id"] for c in r.json()["commits"]]

    def get(self, path, token=None):
        return self.req("GET", path, token=token or self.org_token)

    def cursor_walk(self, path, limit):
        """First page by limit alone, then by `after` following Link."""
        r = self.get(f"{path}?limit={limit}")
        self.assertIsNone(r.header("link"))  # the real API's answer: no extension
        first = [c["commit_id"] for c in r.json()["commits"]]
        seen, pages = self.walk(f"{path}?limit={limit}&after={first[-1]}", "commit_id",
                                token=self.org_token)
        return first + seen, pages

    def test_walk_matches_offset_order(self):
        self.assertEqual(len(self.ids), 13)
        seen, pages = self.cursor_walk("/api/v1/commits", 4)
        self.assertEqual(seen, self.ids)
        for path, items, nxt in pages[:-1]:
            self.assertEqual(nxt, f"/api/v1/commits?limit=4&after={items[-1]}")
        self.assertIsNone(pages[-1][2])
        r = self.get(f"/api/v1/commits?limit=4&after={self.ids[3]}")
        doc = r.json()
        self.assertEqual(list(doc), ["commits", "total", "limit", "offset", "next_after"])
        self.assertEqual((doc["total"], doc["limit"], doc["offset"]), (13, 4, 0))
        self.assertEqual(doc["next_after"], self.ids[7])

    def test_walk_public(self):
        self.assertGreaterEqual(len(self.public_ids), 5)
        seen, pages = self.cursor_walk("/api/v1/commits/public", 2)
        self.assertEqual(seen, self.public_ids)
        self.assertTrue(pages[0][2].startswith("/api/v1/commits/public?limit=2&after="))

    def test_default_answers_unchanged(self):
        for path in ("/api/v1/commits", "/api/v1/commits?limit=3", "/api/v1/commits?offset=2",
                     "/api/v1/commits/public"):
            r = self.get(path)
            self.assertEqual(r.status, 200, r)
            self.assertIsNone(r.header("link"), path)
            self.assertEqual(list(r.json()), ["commits", "total", "limit", "offset"], path)

    def test_limit_clamps_as_ever(self):
        doc = self.get(f"/api/v1/commits?limit=1000&after={self.ids[0]}").json()
        self.assertEqual((doc["limit"], len(doc["commits"])), (100, 12))
        doc = self.get(f"/api/v1/commits?limit=0&after={self.ids[0]}").json()
        self.assertEqual(doc["limit"], 1)
        self.assertEqual(doc["commits"][0]["commit_id"], self.ids[1])

    def test_any_uuid_form(self):
        want = self.get(f"/api/v1/commits?limit=2&after={self.ids[4]}").json()["commits"]
        for form in (self.ids[4].upper(), self.ids[4].replace("-", ""),
                     "{" + self.ids[4] + "}", "urn:uuid:" + self.ids[4]):
            r = self.get(f"/api/v1/commits?limit=2&after={urllib.parse.quote(form)}")
            self.assertEqual(r.json()["commits"], want, form)

    def test_bad_cursor_is_400(self):
        for path in ("/api/v1/commits", "/api/v1/commits/public"):
            for query, msg in (("after=xyz", PREFIX + "invalid value for `after`: not a commit id"),
                               ("after=", PREFIX + "invalid value for `after`: not a commit id"),
                               (f"after={self.ids[0]}&after={self.ids[1]}",
                                PREFIX + "duplicate field `after`"),
                               (f"offset=0&after={self.ids[0]}",
                                PREFIX + "`offset` and `after` cannot be used together"),
                               (f"after={self.ids[0]}&offset=3",
                                PREFIX + "`offset` and `after` cannot be used together"),
                               ("after=xyz&offset=1",
                                PREFIX + "invalid value for `after`: not a commit id"),
                               (f"limit=x&after={self.ids[0]}",
                                PREFIX + "invalid digit found in string"),
                               (f"after={MISSING_UUID}", CURSOR_ERROR),
                               (f"after={self.theirs}", CURSOR_ERROR)):
                r = self.get(f"{path}?{query}")
                self.assertVersError(r, 400, msg)
                self.assertIsNone(r.header("link"))
        # A private commit is no cursor for the public list.
        private = next(i for i in self.ids if i not in self.public_ids)
        self.assertVersError(self.get(f"/api/v1/commits/public?after={private}"), 400,
                             CURSOR_ERROR)

    def test_deleted_cursor_is_400(self):
        victim = self.tagd.new_commit(self.org, name="victim")
        r = self.get(f"/api/v1/commits?limit=1&after={victim}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["commits"][0]["commit_id"], self.ids[0])
        self.assertNoContent(self.req("DELETE", f"/api/v1/commits/{victim}",
                                      token=self.org_token))
        self.assertVersError(self.get(f"/api/v1/commits?limit=1&after={victim}"), 400,
                             CURSOR_ERROR)


if __name__ == "__main__":
    unittest.main()
