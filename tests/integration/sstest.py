"""Helpers for the ServiceStage integration tests: a TagdCase whose requests
carry X-Auth-Token and X-Repo-Auth, and assertions on the error envelope."""
import hashlib
import itertools
import json
import os

from tagdtest import TagdCase

JSON_TYPE = "application/json;charset=utf8"
_shas = itertools.count(1)


def new_sha(prefix=""):
    """A fresh 40-hex SHA (optionally starting with prefix), as git's look."""
    digest = hashlib.sha1(f"{os.getpid()}-{next(_shas)}".encode()).hexdigest()
    return (prefix + digest)[:40]


class SsCase(TagdCase):
    """acme has authorization "all" (every namespace) and "only-ns1" (ns1 only);
    other has "theirs"."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.tagd.cli("repo-auth", "create", "--org", "acme", "--name", "all")
            cls.tagd.cli("repo-auth", "create", "--org", "acme", "--name", "only-ns1",
                         "--repo-type", "gitlab", "--namespace", "ns1")
            cls.tagd.cli("repo-auth", "create", "--org", "other", "--name", "theirs")
        except Exception:
            cls.tagd.cleanup()
            raise

    # -- requests --
    def ss(self, method, path, body=None, token="default", repo_auth="all", project="proj-acme",
           headers=None, raw=None, content_type=JSON_TYPE, query=""):
        """A ServiceStage call; path is below /v1/{project}/git."""
        h = {}
        tok = self.token if token == "default" else token
        if tok is not None:
            h["X-Auth-Token"] = tok
        if repo_auth is not None:
            h["X-Repo-Auth"] = repo_auth
        h.update(headers or {})
        return self.tagd.request(method, f"/v1/{project}/git{path}{query}", body=body,
                                 headers=h, token=None, raw=raw, content_type=content_type)

    def new_project(self, ns=None, name=None, repo_auth="all"):
        ns = ns or self.unique("ns")
        name = name or self.unique("p")
        r = self.ss("POST", f"/repos/{ns}/projects", {"name": name}, repo_auth=repo_auth)
        self.assertEqual(r.status, 200, r)
        return ns, name, r.json()

    def record(self, ns, project, sha, message="m", branch=None, **extra):
        body = {"sha": sha, "message": message, **extra}
        if branch is not None:
            body["branch"] = branch
        r = self.ss("POST", f"/repos/{ns}/{project}/commits", body)
        self.assertEqual(r.status, 201, r)
        return r.json()

    # -- assertions --
    def assertSsError(self, r, status, code, msg=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("content-type"), JSON_TYPE, r)
        doc = json.loads(r.body)
        self.assertEqual(set(doc), {"error_code", "error_msg"}, doc)
        self.assertEqual(doc["error_code"], code, doc)
        if msg is not None:
            self.assertEqual(doc["error_msg"], msg, doc)
        self.assertTrue(r.header("x-request-id"), r)
        return doc

    def assertBadParam(self, r):
        return self.assertSsError(r, 400, "SVCSTG.REPO.0400", "parameter invalid")

    def assertOk(self, r, status=200):
        self.assertEqual(r.status, status, r)
        if status != 204:
            self.assertEqual(r.header("content-type"), JSON_TYPE, r)
        self.assertTrue(r.header("x-request-id"), r)
        return r.json() if status != 204 else None
