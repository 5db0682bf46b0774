"""Diagnosable errors (issue 17, point 2): every 4xx and 5xx logs its reason
under the request id, in both dialects, at debug for ordinary 4xx and at info
for 5xx and the authentication budget's 429, while the wire keeps the
dialect's documented answer; reasons never carry the client's text."""
import itertools
import json
import re
import unittest

from sstest import SsCase, new_sha
from tagdtest import Tagd, TagdCase

_ids = itertools.count(1)
SECRET = "bodytext-9f8e7d"  # put in bodies and paths: must never reach the log


def outcome(tagd, request_id):
    """The reason line of request_id: (level, msg, status, reason)."""
    m = tagd.wait_log(r'level=(\w+) msg="(request refused|request failed)" request_id='
                      + re.escape(request_id) + r' status=(\d+) route="[^"]*" reason="([^"]*)"')
    return m.group(1), m.group(2), int(m.group(3)), m.group(4)


class ServiceStageReasonsTest(SsCase):
    server_args = ("--log-level", "debug")

    def rid(self):
        return f"ss-{next(_ids)}"

    def call(self, method, path, **kw):
        rid = self.rid()
        headers = dict(kw.pop("headers", None) or {}, **{"X-Request-Id": rid})
        return self.ss(method, path, headers=headers, **kw), rid

    def assertReason(self, r, rid, status, code, reason):
        self.assertSsError(r, status, code)
        level, msg, logged, text = outcome(self.tagd, rid)
        self.assertEqual((level, msg, logged), ("debug", "request refused", status))
        self.assertEqual(text, reason)
        self.assertEqual(r.header("x-request-id"), rid)

    def test_seven_mistakes_of_a_tag_creation_say_which(self):
        ns, name, _ = self.new_project()
        self.record(ns, name, new_sha(), branch="main")
        tags = f"/repos/{ns}/{name}/tags"
        ok_body = {"name": "v1", "description": "d"}
        cases = [
            (dict(body={"name": "v1"}, query="?ref=main"),
             "request body: missing field `description`"),
            (dict(body=ok_body, query="?ref=main", content_type=None),
             "request body: no Content-Type header"),
            (dict(body=ok_body, query="?ref=main", content_type="text/plain"),
             "request body: Content-Type is not JSON in UTF-8"),
            (dict(raw='{"name": "' + SECRET + '",', query="?ref=main"),
             "request body is not valid JSON at line 1 column 27"),
            (dict(body=ok_body), "query ref: missing"),
            (dict(body=ok_body, query="?ref=nosuchbranch"),
             "ref names no branch, tag or commit of the project"),
            (dict(body={"name": "bad..name", "description": "d"}, query="?ref=main"),
             "invalid tag name: ref name must not contain '..'"),
        ]
        for kw, reason in cases:
            with self.subTest(reason=reason):
                r, rid = self.call("POST", tags, **kw)
                self.assertReason(r, rid, 400, "SVCSTG.REPO.0400", reason)
        r, rid = self.call("POST", f"/repos/{ns}/{SECRET}/tags", body=ok_body, query="?ref=main")
        self.assertReason(r, rid, 400, "SVCSTG.REPO.0400", "project not found in the namespace")
        r, rid = self.call("POST", f"/repos/nons{next(_ids)}/{name}/tags", body=ok_body,
                           query="?ref=main")
        self.assertReason(r, rid, 400, "SVCSTG.REPO.0400", "namespace not found")
        # And a project id that is not the token's: 403, said so.
        r, rid = self.call("POST", tags, body=ok_body, query="?ref=main", project="proj-other")
        self.assertReason(r, rid, 403, "APIGW.0302",
                          "{project_id} is not the project id of the token's organization")
        self.assertNotIn(SECRET, self.tagd.log())
        self.assertNotIn('reason="unspecified"', self.tagd.log())

    def test_authorization_auth_and_gateway_reasons(self):
        ns, name, _ = self.new_project(ns="ns1")
        self.record(ns, name, new_sha(), branch="main")
        body = {"name": f"t{next(_ids)}", "description": ""}
        cases = [
            (dict(repo_auth=None), 400, "SVCSTG.REPO.0450",
             "no X-Repo-Auth header, or an empty one"),
            (dict(repo_auth="nobody"), 400, "SVCSTG.REPO.0450",
             "X-Repo-Auth names no repository authorization of the organization"),
            (dict(token=None), 401, "APIGW.0301", "no X-Auth-Token header, or an empty one"),
            (dict(token="tagd_0123456789abcdef_" + "A" * 43), 401, "APIGW.0301",
             "X-Auth-Token is no live token (unknown, revoked or expired)"),
        ]
        for kw, status, code, reason in cases:
            with self.subTest(reason=reason):
                r, rid = self.call("POST", f"/repos/{ns}/{name}/tags", body=body,
                                   query="?ref=main", **kw)
                self.assertReason(r, rid, status, code, reason)
        r, rid = self.call("GET", f"/repos/ns2/{name}/tags", repo_auth="only-ns1")
        self.assertReason(r, rid, 400, "SVCSTG.REPO.0451",
                          "the repository authorization does not cover this namespace")
        r, rid = self.call("GET", "/nothing/here")
        self.assertReason(r, rid, 404, "APIGW.0101", "no such path, or not with this method")
        r, rid = self.call("POST", f"/repos/{ns}/{name}/tags", body=body, query="?ref=main")
        self.assertEqual(r.status, 200, r)
        r, rid = self.call("POST", f"/repos/{ns}/{name}/tags", body=body, query="?ref=main")
        self.assertReason(r, rid, 400, "SVCSTG.REPO.0403", "the project has a tag of that name")
        r, rid = self.call("DELETE", f"/repos/{ns}/{name}/tags/none")
        self.assertReason(r, rid, 400, "SVCSTG.REPO.0400", "tag not found")
        r, rid = self.call("GET", "/repos/project-info", query="?clone_url=ftp://x/y/z")
        self.assertReason(r, rid, 400, "SVCSTG.REPO.0452",
                          "clone_url is not <clone base>/<namespace>/<project>[.git] with "
                          "valid names")
        r, rid = self.call("POST", f"/repos/{ns}/{name}/commits",
                           body={"sha": "nothex", "message": "m"})
        self.assertReason(r, rid, 400, "SVCSTG.REPO.0400",
                          "request body: sha is not 40 hex digits")
        self.assertNotIn('reason="unspecified"', self.tagd.log())

class VersReasonsTest(TagdCase):
    server_args = ("--log-level", "debug")

    def call(self, method, path, body=None, **kw):
        rid = f"v-{next(_ids)}"
        headers = dict(kw.pop("headers", None) or {}, **{"X-Request-Id": rid})
        return self.req(method, path, body, headers=headers, **kw), rid

    def assertReason(self, r, rid, status, reason, wire=None):
        doc = self.assertVersError(r, status, wire)
        level, msg, logged, text = outcome(self.tagd, rid)
        self.assertEqual((level, msg, logged), ("debug", "request refused", status))
        self.assertEqual(text, reason)
        return doc

    def test_reasons(self):
        r, rid = self.call("GET", "/api/v1/repositories/nope")
        self.assertReason(r, rid, 404, "repository not found", "repository not found")
        r, rid = self.call("DELETE", "/api/v1/commits/not-a-uuid")
        self.assertReason(r, rid, 404, "the commit id in the path is not a UUID",
                          "commit not found")
        r, rid = self.call("POST", "/api/v1/repositories", raw='{"name": "' + SECRET)
        doc = self.assertReason(r, rid, 400, "request body is not valid JSON at line 1 column 25")
        self.assertTrue(doc["error"].startswith("Failed to parse the request body as JSON: "))
        r, rid = self.call("POST", "/api/v1/repositories", raw="{}", content_type="text/plain")
        self.assertReason(r, rid, 415, "request body: Content-Type is not JSON")
        r, rid = self.call("POST", "/api/v1/repositories", {"name": "a//b"})
        self.assertReason(r, rid, 400, "invalid repository name: Repository name cannot "
                          "contain consecutive slashes")
        r, rid = self.call("GET", "/api/v1/repositories", token="tagd_0123456789abcdef_" + "A" * 43)
        self.assertReason(r, rid, 401, "Invalid bearer token")
        r, rid = self.call("PUT", "/api/v1/commits")
        self.assertReason(r, rid, 405, "method not allowed")
        r, rid = self.call("GET", "/nowhere")
        self.assertReason(r, rid, 404, "not found")
        # Errors the HTTP layer answers itself (no documented route answers 414: sent past
        # the contract log).
        conn = self.tagd.connection()
        try:
            conn.request("GET", "/api/v1/repositories?" + "a" * 5000,
                         headers={"X-Request-Id": "v-long"})
            self.assertEqual(conn.getresponse().status, 414)
        finally:
            conn.close()
        self.assertEqual(outcome(self.tagd, "v-long"),
                         ("debug", "request refused", 414, "request URL too long"))
        self.assertNotIn(SECRET, self.tagd.log())
        self.assertNotIn(self.token[22:], self.tagd.log())
        self.assertNotIn('reason="unspecified"', self.tagd.log())


class LevelsTest(unittest.TestCase):
    """At info, ordinary 4xx say nothing more; the budget's 429 does."""

    def test_info_level(self):
        t = Tagd()
        try:
            token = t.new_org("acme")
            t.start()
            r = t.request("GET", "/api/v1/repositories/nope", token=token,
                          headers={"X-Request-Id": "plain-404"})
            self.assertEqual(r.status, 404)
            # Fail authentication from one address until the budget refuses.
            for i in range(40):
                r = t.request("GET", "/api/v1/repositories", token="tagd_bad", source="127.0.0.9",
                              headers={"X-Request-Id": f"guess-{i}"})
                if r.status == 429:
                    break
            self.assertEqual(r.status, 429, r)
            level, msg, status, reason = outcome(t, f"guess-{i}")
            self.assertEqual((level, msg, status), ("info", "request refused", 429))
            self.assertEqual(reason, "authentication failures of this address over budget")
            self.assertEqual(t.stop(), 0)
            log = t.log()
            self.assertNotIn("request_id=plain-404 status", log)  # only its access line
            self.assertIn("request_id=plain-404 method=GET", log)
            self.assertNotIn('request_id=guess-0 status', log)  # a plain 401: debug
        finally:
            t.cleanup()


if __name__ == "__main__":
    unittest.main()
