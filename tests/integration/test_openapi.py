"""GET /openapi.json serves the document built into the binary; and a few
answers the contract check should see: the commit extension, unknown paths,
wrong methods."""
import json
import os
import unittest

from tagdtest import TagdCase

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "openapi", "tagd.json")


class OpenApiTest(TagdCase):
    def test_document_is_served_byte_for_byte(self):
        r = self.req("GET", "/openapi.json", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json")
        with open(DOC, "rb") as f:
            self.assertEqual(r.body, f.read())
        doc = r.json()
        self.assertEqual(doc["openapi"], "3.1.0")
        self.assertIn("/openapi.json", doc["paths"])

    def test_needs_no_token_and_ignores_a_bad_one(self):
        r = self.req("GET", "/openapi.json", token="not-a-token")
        self.assertEqual(r.status, 200, r)

    def test_head(self):
        r = self.req("HEAD", "/openapi.json", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"")
        with open(DOC, "rb") as f:
            self.assertEqual(int(r.header("content-length")), len(f.read()))

    def test_other_methods_are_405(self):
        for method in ("POST", "PUT", "DELETE"):
            r = self.req(method, "/openapi.json", token=None)
            self.assertVersError(r, 405, "method not allowed")
            self.assertEqual(r.header("allow"), "GET, HEAD")

    def test_unknown_paths_are_404(self):
        for path in ("/openapi.yaml", "/api/v1/nope", "/api/v1/repositories/a/b/c/d"):
            self.assertVersError(self.req("GET", path), 404, "not found")


class CommitExtensionTest(TagdCase):
    """POST /api/v1/commits, tagd's extension: the shape its document declares."""

    def test_created_with_defaults(self):
        r = self.req("POST", "/api/v1/commits", {})
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertEqual(set(doc), {"commit_id", "owner_id", "name", "description", "parent_vm_id",
                                    "grandparent_commit_id", "is_public", "created_at"})
        self.assertEqual(doc["name"], doc["commit_id"])
        self.assertIsNone(doc["description"])
        self.assertIs(doc["is_public"], False)

    def test_duplicate_is_409(self):
        body = {"commit_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "name": "n",
                "description": "d", "is_public": True}
        first = self.req("POST", "/api/v1/commits", body)
        self.assertEqual(first.status, 201, first)
        self.assertEqual(first.json()["description"], "d")
        self.assertVersError(self.req("POST", "/api/v1/commits", body), 409,
                             "commit already exists")

    def test_errors(self):
        self.assertVersError(self.req("POST", "/api/v1/commits", {}, token=None), 401)
        self.assertVersError(self.req("POST", "/api/v1/commits", raw="{", content_type=None), 415)
        self.assertVersError(self.req("POST", "/api/v1/commits", {"commit_id": "x"}), 400)


if __name__ == "__main__":
    unittest.main()
