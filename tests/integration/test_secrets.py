"""Secrets: every authenticated operation of both dialects refuses a caller
without a valid token and never shows one organization's data to another;
token text never reaches the log, a response or the database file; a
revoked token is refused on the very next request.

The operations are those openapi/tagd.json marks with a security
requirement, checked against the route tables in src/ (vers_routes,
ss_routes): a new route without a case here fails test_every_route_has_a_case.

The failure budget (429 after 20 failed authentications per client address)
is kept out of the way by sending each operation's refused requests from an
address of its own (127.0.0.10, .11, ...): at most 4 failures per address.
"""
import json
import os
import secrets
import unittest
import urllib.parse

from routetables import ROOT, source_routes
from hooktest import Receiver
from sstest import JSON_TYPE, new_sha
from tagdtest import TagdCase

MISSING = "Missing or invalid Authorization header"
INVALID = "Invalid bearer token"
GW_0301 = "APIGW.0301"
GW_0302 = "APIGW.0302"


def openapi_secured():
    """(METHOD, path) of every operation of openapi/tagd.json with a security requirement."""
    with open(os.path.join(ROOT, "openapi", "tagd.json"), encoding="utf-8") as f:
        doc = json.load(f)
    ops = set()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "put", "post", "patch", "delete") and op.get("security"):
                ops.add((method.upper(), path))
    return ops


def q(s):
    return urllib.parse.quote(s, safe="")


class Fixture:
    """acme's objects, made through the API; names unguessable so that a leak is unmistakable."""

    def __init__(self, case):
        tag = secrets.token_hex(4)
        self.repo = f"secret-repo-{tag}"
        self.tag = f"secret-tag-{tag}"
        self.ctag = f"secret-ctag-{tag}"
        self.ns = f"secret-ns-{tag}"
        self.project = f"secret-proj-{tag}"
        self.sstag = f"secret-sstag-{tag}"
        self.sha = new_sha()
        ok = case.owner_ok
        self.repo_id = ok("POST", "/api/v1/repositories", {"name": self.repo}, 201)["repo_id"]
        self.commit1 = ok("POST", "/api/v1/commits", {"name": f"secret-c1-{tag}"}, 201)["commit_id"]
        self.commit2 = ok("POST", "/api/v1/commits", {"name": f"secret-c2-{tag}"}, 201)["commit_id"]
        self.tag_id = ok("POST", f"/api/v1/repositories/{self.repo}/tags",
                         {"tag_name": self.tag, "commit_id": self.commit1}, 201)["tag_id"]
        self.ctag_id = ok("POST", "/api/v1/commit_tags",
                          {"tag_name": self.ctag, "commit_id": self.commit1}, 201)["tag_id"]
        base = f"/v1/proj-acme/git/repos/{self.ns}"
        self.project_id = ok("POST", f"{base}/projects", {"name": self.project}, 200)["id"]
        ok("POST", f"{base}/{self.project}/commits",
           {"sha": self.sha, "message": f"secret-msg-{tag}", "branch": "main"}, 201)
        ok("POST", f"{base}/{self.project}/tags?ref=main",
           {"name": self.sstag, "description": "d"}, 200)
        # Rules of every level, covering nothing the other cases change.
        self.rule = f"secret-rule-{tag}-*"
        rule = {"pattern": self.rule, "mode": "protected"}
        ok("POST", "/api/v1/protected_tags", rule, 201)
        ok("POST", f"/api/v1/repositories/{self.repo}/protected_tags", rule, 201)
        ok("POST", f"{base}/{self.project}/protected_tags", rule, 200)
        # Hooks: the organization's, the repository's, the project's; each secret its own.
        self.hook_secrets = [f"secret-hook{i}-{tag}-0123456789" for i in range(3)]
        type(case).hook_secrets.extend(self.hook_secrets)
        self.hook_name = f"secret-hook-{tag}"
        urls = [case.rx.register(f"{self.hook_name}-{i}", s)
                for i, s in enumerate(self.hook_secrets)]
        self.hook_url = case.rx.url(self.hook_name)  # for the matrix's own new hooks
        self.hook_id = ok("POST", "/api/v1/hooks",
                          {"url": urls[0], "secret": self.hook_secrets[0]}, 201)["id"]
        self.repo_hook_id = ok("POST", f"/api/v1/repositories/{self.repo}/hooks",
                               {"url": urls[1], "secret": self.hook_secrets[1]}, 201)["id"]
        self.ss_hook_id = ok("POST", f"{base}/{self.project}/hooks",
                             {"url": urls[2], "secret": self.hook_secrets[2]}, 200)["id"]

    def identifiers(self):
        """Text that only acme's data contains."""
        return [self.repo, self.tag, self.ctag, self.ns, self.project, self.sstag, self.sha,
                self.repo_id, self.commit1, self.commit2, self.tag_id, self.ctag_id,
                "secret-c1-", "secret-c2-", "secret-msg-", "secret-rule-", self.hook_id,
                self.repo_hook_id, self.hook_name] + self.hook_secrets


def vers_cases(fx):
    """Per operation: (path, body, other org's (status, error) or status alone, owner's status).
    A status alone: the other organization's own collection (2xx), checked for leaks."""
    fresh = "fresh-" + secrets.token_hex(4)
    repo = f"/api/v1/repositories/{fx.repo}"
    hook = {"url": fx.hook_url, "secret": "fresh-hook-secret-" + secrets.token_hex(8)}
    return {
        ("GET", "/api/v1/repositories"): ("/api/v1/repositories", None, 200, 200),
        ("POST", "/api/v1/repositories"): ("/api/v1/repositories", {"name": fresh}, 201, 201),
        ("POST", "/api/v1/repositories/fork"): (
            "/api/v1/repositories/fork",
            {"source_org": "acme", "source_repo": fx.repo, "source_tag": fx.tag,
             "new_repo_name": fresh},
            (501, None), 501),
        ("GET", "/api/v1/repositories/{repo_name}"): (
            repo, None, (404, "repository not found"), 200),
        ("DELETE", "/api/v1/repositories/{repo_name}"): (
            repo, None, (404, "repository not found"), 204),
        ("PATCH", "/api/v1/repositories/{repo_name}/visibility"): (
            repo + "/visibility", {"is_public": True}, (404, "repository not found"), 204),
        ("GET", "/api/v1/repositories/{repo_name}/tags"): (
            repo + "/tags", None, (404, "repository not found"), 200),
        ("POST", "/api/v1/repositories/{repo_name}/tags"): (
            repo + "/tags", {"tag_name": fresh, "commit_id": fx.commit1},
            (404, "repository not found"), 201),
        ("GET", "/api/v1/repositories/{repo_name}/tags/{tag_name}"): (
            f"{repo}/tags/{fx.tag}", None, (404, "repository not found"), 200),
        ("PATCH", "/api/v1/repositories/{repo_name}/tags/{tag_name}"): (
            f"{repo}/tags/{fx.tag}", {"commit_id": fx.commit2}, (404, "repository not found"),
            204),
        ("PUT", "/api/v1/repositories/{repo_name}/tags/{tag_name}"): (
            f"{repo}/tags/{fx.tag}", {"commit_id": fx.commit2}, (404, "repository not found"),
            200),
        ("DELETE", "/api/v1/repositories/{repo_name}/tags/{tag_name}"): (
            f"{repo}/tags/{fx.tag}", None, (404, "repository not found"), 204),
        ("GET", "/api/v1/repositories/{repo_name}/tags/{tag_name}/history"): (
            f"{repo}/tags/{fx.tag}/history", None, (404, "repository not found"), 200),
        ("GET", "/api/v1/commits"): ("/api/v1/commits", None, 200, 200),
        ("POST", "/api/v1/commits"): ("/api/v1/commits", {"name": fresh}, 201, 201),
        ("GET", "/api/v1/commits/public"): ("/api/v1/commits/public", None, 200, 200),
        ("GET", "/api/v1/commits/{commit_id}"): (
            f"/api/v1/commits/{fx.commit2}", None, (404, "commit not found"), 200),
        ("PATCH", "/api/v1/commits/{commit_id}"): (
            f"/api/v1/commits/{fx.commit2}", {"is_public": False}, (403, "forbidden"), 200),
        ("DELETE", "/api/v1/commits/{commit_id}"): (
            f"/api/v1/commits/{fx.commit2}", None, (403, "forbidden"), 204),
        ("GET", "/api/v1/commit_tags"): ("/api/v1/commit_tags", None, 200, 200),
        ("POST", "/api/v1/commit_tags"): (
            "/api/v1/commit_tags", {"tag_name": fresh, "commit_id": fx.commit1},
            (403, "forbidden"), 201),
        ("GET", "/api/v1/commit_tags/{tag_name}"): (
            f"/api/v1/commit_tags/{fx.ctag}", None, (404, "tag not found"), 200),
        ("PATCH", "/api/v1/commit_tags/{tag_name}"): (
            f"/api/v1/commit_tags/{fx.ctag}", {"description": "changed"},
            (404, "tag not found"), 204),
        ("PUT", "/api/v1/commit_tags/{tag_name}"): (
            f"/api/v1/commit_tags/{fx.ctag}", {"commit_id": fx.commit2}, (403, "forbidden"),
            200),
        ("DELETE", "/api/v1/commit_tags/{tag_name}"): (
            f"/api/v1/commit_tags/{fx.ctag}", None, (404, "tag not found"), 204),
        ("GET", "/api/v1/commit_tags/{tag_name}/history"): (
            f"/api/v1/commit_tags/{fx.ctag}/history", None, (404, "tag not found"), 200),
        ("GET", "/api/v1/events"): ("/api/v1/events", None, 200, 200),
        ("GET", "/api/v1/events/head"): ("/api/v1/events/head", None, 200, 200),
        ("GET", "/api/v1/protected_tags"): ("/api/v1/protected_tags", None, 200, 200),
        ("POST", "/api/v1/protected_tags"): (
            "/api/v1/protected_tags", {"pattern": fresh, "mode": "protected"}, 201, 201),
        ("DELETE", "/api/v1/protected_tags/{pattern}"): (
            f"/api/v1/protected_tags/{q(fx.rule)}", None, (404, "rule not found"), 204),
        ("GET", "/api/v1/repositories/{repo_name}/protected_tags"): (
            repo + "/protected_tags", None, (404, "repository not found"), 200),
        ("POST", "/api/v1/repositories/{repo_name}/protected_tags"): (
            repo + "/protected_tags", {"pattern": fresh, "mode": "protected"},
            (404, "repository not found"), 201),
        ("DELETE", "/api/v1/repositories/{repo_name}/protected_tags/{pattern}"): (
            f"{repo}/protected_tags/{q(fx.rule)}", None, (404, "repository not found"), 204),
        ("GET", "/api/v1/hooks"): ("/api/v1/hooks", None, 200, 200),
        ("POST", "/api/v1/hooks"): ("/api/v1/hooks", hook, 201, 201),
        ("DELETE", "/api/v1/hooks/{hook_id}"): (
            f"/api/v1/hooks/{fx.hook_id}", None, (404, "hook not found"), 204),
        ("GET", "/api/v1/hooks/{hook_id}/deliveries"): (
            f"/api/v1/hooks/{fx.hook_id}/deliveries", None, (404, "hook not found"), 200),
        ("GET", "/api/v1/repositories/{repo_name}/hooks"): (
            repo + "/hooks", None, (404, "repository not found"), 200),
        ("POST", "/api/v1/repositories/{repo_name}/hooks"): (
            repo + "/hooks", hook, (404, "repository not found"), 201),
        ("DELETE", "/api/v1/repositories/{repo_name}/hooks/{hook_id}"): (
            f"{repo}/hooks/{fx.repo_hook_id}", None, (404, "repository not found"), 204),
    }


def ss_cases(fx):
    """Per operation: (path below /v1/{project_id}/git, query, body, other org's answer in
    its own project (status, error_code or None), owner's status)."""
    fresh = "fresh-" + secrets.token_hex(4)
    p = f"/repos/{fx.ns}/{fx.project}"
    clone = urllib.parse.quote(f"https://git.example.com/{fx.ns}/{fx.project}.git", safe="")
    not_found = (400, "SVCSTG.REPO.0400")
    return {
        ("POST", "/v1/{project_id}/git/repos/{namespace}/{project}/tags"): (
            p + "/tags", "?ref=main", {"name": fresh, "description": "d"}, not_found, 200),
        ("GET", "/v1/{project_id}/git/repos/{namespace}/{project}/tags"): (
            p + "/tags", "", None, not_found, 200),
        ("DELETE", "/v1/{project_id}/git/repos/{namespace}/{project}/tags/{tag_name}"): (
            f"{p}/tags/{fx.sstag}", "", None, not_found, 204),
        ("GET", "/v1/{project_id}/git/repos/{namespace}/{project}/tags/{tag_name}/history"): (
            f"{p}/tags/{fx.sstag}/history", "", None, not_found, 200),
        ("GET", "/v1/{project_id}/git/repos/{namespace}/{project}/branches"): (
            p + "/branches", "", None, not_found, 200),
        ("GET", "/v1/{project_id}/git/repos/{namespace}/{project}/commits"): (
            p + "/commits", "?ref=main", None, not_found, 200),
        ("POST", "/v1/{project_id}/git/repos/{namespace}/{project}/commits"): (
            p + "/commits", "", {"sha": new_sha(), "message": "m", "branch": "main"},
            not_found, 201),
        ("GET", "/v1/{project_id}/git/repos/namespaces"): (
            "/repos/namespaces", "", None, (200, None), 200),
        ("GET", "/v1/{project_id}/git/repos/{namespace}/projects"): (
            f"/repos/{fx.ns}/projects", "", None, not_found, 200),
        ("POST", "/v1/{project_id}/git/repos/{namespace}/projects"): (
            f"/repos/{fx.ns}/projects", "", {"name": fresh}, (200, None), 200),
        ("GET", "/v1/{project_id}/git/repos/project-info"): (
            "/repos/project-info", "?clone_url=" + clone, None, not_found, 200),
        ("GET", "/v1/{project_id}/git/auths"): ("/auths", "", None, (200, None), 200),
        ("GET", "/v1/{project_id}/git/repos/{namespace}/{project}/protected_tags"): (
            p + "/protected_tags", "", None, not_found, 200),
        ("POST", "/v1/{project_id}/git/repos/{namespace}/{project}/protected_tags"): (
            p + "/protected_tags", "", {"pattern": fresh, "mode": "protected"}, not_found, 200),
        ("DELETE", "/v1/{project_id}/git/repos/{namespace}/{project}/protected_tags/{pattern}"): (
            f"{p}/protected_tags/{q(fx.rule)}", "", None, not_found, 204),
        ("POST", "/v1/{project_id}/git/repos/{namespace}/{project}/hooks"): (
            p + "/hooks", "", {"url": fx.hook_url, "secret": "fresh-" + secrets.token_hex(8)},
            not_found, 200),
        ("GET", "/v1/{project_id}/git/repos/{namespace}/{project}/hooks"): (
            p + "/hooks", "", None, not_found, 200),
        ("DELETE", "/v1/{project_id}/git/repos/{namespace}/{project}/hooks/{hook_id}"): (
            f"{p}/hooks/{fx.ss_hook_id}", "", None, not_found, 204),
    }


def owner_order(key):
    """Destructive operations last, the deepest path first among them."""
    method, path = key
    return (method == "DELETE", -path.count("/"), path)


class SecretsTest(TagdCase):
    # Every level: whatever any log line says, no token text in it.  Hooks post to a
    # receiver on loopback.
    server_args = ("--log-level", "debug", "--hook-allow-private", "true")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rx = Receiver()
        try:
            cls.tagd.cli("repo-auth", "create", "--org", "acme", "--name", "all")
            cls.tagd.cli("repo-auth", "create", "--org", "other", "--name", "theirs")
        except Exception:
            cls.tagd.cleanup()
            raise
        cls.source_index = 10
        # Well-formed but wrong: acme's public id with another secret; and not a token at all.
        cls.forged = cls.token[:-6] + ("AAAAAA" if not cls.token.endswith("AAAAAA") else "BBBBBB")
        cls.garbage = "garbage-" + secrets.token_urlsafe(24)
        cls.responses = []
        cls.hook_secrets = []  # every Fixture's

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        super().tearDownClass()

    def fresh_source(self):
        """A client address of its own, so its failures have their own budget."""
        cls = type(self)
        cls.source_index += 1
        self.assertLess(cls.source_index, 250)
        return f"127.0.0.{cls.source_index}"

    def send(self, method, path, body=None, headers=None, source=None):
        r = self.tagd.request(method, path, body=body, headers=headers, source=source,
                              content_type=JSON_TYPE if path.startswith("/v1/") else
                              "application/json")
        type(self).responses.append(r)
        return r

    def owner_ok(self, method, path, body, status):
        if path.startswith("/v1/"):
            headers = {"X-Auth-Token": self.token, "X-Repo-Auth": "all"}
        else:
            headers = {"Authorization": f"Bearer {self.token}"}
        r = self.send(method, path, body, headers)
        self.assertEqual(r.status, status, (method, path, r))
        return r.json() if r.body else None

    def snapshot(self):
        """acme's rows in every table of data (not tokens: their last use changes)."""
        acme = "(SELECT id FROM orgs WHERE name = 'acme')"
        projects = ("(SELECT p.id FROM ss_projects p JOIN ss_namespaces n "
                    f"ON n.id = p.namespace_id WHERE n.org_id = {acme})")
        return {sql: self.tagd.sql(sql) for sql in (
            f"SELECT * FROM repos WHERE org_id = {acme} ORDER BY id",
            f"SELECT t.* FROM repo_tags t JOIN repos r ON r.id = t.repo_id "
            f"WHERE r.org_id = {acme} ORDER BY t.id",
            f"SELECT * FROM commits WHERE org_id = {acme} ORDER BY id",
            f"SELECT * FROM commit_tags WHERE org_id = {acme} ORDER BY id",
            f"SELECT * FROM ss_namespaces WHERE org_id = {acme} ORDER BY id",
            f"SELECT p.* FROM ss_projects p JOIN ss_namespaces n ON n.id = p.namespace_id "
            f"WHERE n.org_id = {acme} ORDER BY p.id",
            f"SELECT * FROM ss_commits WHERE project_id IN {projects} ORDER BY id",
            f"SELECT * FROM ss_branches WHERE project_id IN {projects} ORDER BY id",
            f"SELECT * FROM ss_tags WHERE project_id IN {projects} ORDER BY id",
            f"SELECT * FROM ss_repo_auths WHERE org_id = {acme} ORDER BY id",
            f"SELECT * FROM tag_rules WHERE org_id = {acme} ORDER BY id",
            f"SELECT * FROM events WHERE org_id = {acme} ORDER BY seq",
            # Not their delivery state: the dispatcher moves it meanwhile.
            f"SELECT id, uuid, dialect, scope_kind, scope, url, secret FROM hooks "
            f"WHERE org_id = {acme} ORDER BY id")}

    def assertNoLeak(self, r, fx, what, sent=""):
        """None of acme's identifiers in r, except those the request itself named (sent)."""
        for ident in fx.identifiers():
            if ident in sent:
                continue
            self.assertNotIn(ident.encode(), r.body, (what, r))
            for name, value in r.headers.items():
                self.assertNotIn(ident, value, (what, name))

    # -- the route list --
    def test_every_route_has_a_case(self):
        routes = source_routes()
        self.assertGreaterEqual(len(routes), 30)  # the parse found the tables
        self.assertEqual(routes, openapi_secured())
        fx = Fixture(self)
        self.assertEqual(set(vers_cases(fx)) | set(ss_cases(fx)), routes)

    # -- the matrix --
    def test_vers_matrix(self):
        fx = Fixture(self)
        cases = vers_cases(fx)
        before = self.snapshot()
        for (method, template), (path, body, other, _) in sorted(cases.items()):
            what = f"{method} {template}"
            source = self.fresh_source()
            refused = (
                (None, MISSING),
                ({"Authorization": f"Basic {self.token}"}, MISSING),
                ({"Authorization": f"Bearer {self.forged}"}, INVALID),
                ({"Authorization": f"Bearer {self.garbage}"}, INVALID),
            )
            for headers, message in refused:
                r = self.send(method, path, body, headers, source=source)
                self.assertVersError(r, 401, message)
                self.assertEqual(r.header("www-authenticate"), "Bearer", (what, r))
                self.assertNoLeak(r, fx, what)
            r = self.send(method, path, body, {"Authorization": f"Bearer {self.other_token}"})
            if isinstance(other, tuple):
                self.assertVersError(r, other[0], other[1])
            else:
                self.assertEqual(r.status, other, (what, r))
            self.assertNoLeak(r, fx, what, path + json.dumps(body))
        self.assertEqual(self.snapshot(), before, "a refused request changed acme's data")
        self.owner_succeeds(cases, lambda c: (c[0], c[1], c[3]))

    def test_ss_matrix(self):
        fx = Fixture(self)
        cases = ss_cases(fx)
        before = self.snapshot()
        for (method, template), (path, query, body, other, _) in sorted(cases.items()):
            what = f"{method} {template}"
            source = self.fresh_source()
            acme_path = f"/v1/proj-acme/git{path}{query}"
            refused = (
                ({"X-Repo-Auth": "all"}, 401, GW_0301),
                ({"X-Repo-Auth": "all", "Authorization": f"Bearer {self.token}"}, 401, GW_0301),
                ({"X-Repo-Auth": "all", "X-Auth-Token": self.forged}, 401, GW_0301),
                ({"X-Repo-Auth": "all", "X-Auth-Token": self.garbage}, 401, GW_0301),
                # Another organization's token on acme's project.
                ({"X-Repo-Auth": "all", "X-Auth-Token": self.other_token}, 403, GW_0302),
                ({"X-Repo-Auth": "theirs", "X-Auth-Token": self.other_token}, 403, GW_0302),
            )
            for headers, status, code in refused:
                r = self.send(method, acme_path, body, headers, source=source)
                self.assertSsError(r, status, code, what)
                self.assertNoLeak(r, fx, what)
            # Another organization in its own project, naming acme's namespace and project.
            other_path = f"/v1/proj-other/git{path}{query}"
            r = self.send(method, other_path, body,
                          {"X-Repo-Auth": "theirs", "X-Auth-Token": self.other_token})
            self.assertEqual(r.status, other[0], (what, r))
            if other[1] is not None:
                self.assertSsError(r, other[0], other[1], what)
            self.assertNoLeak(r, fx, what, urllib.parse.unquote(other_path) + json.dumps(body))
        self.assertEqual(self.snapshot(), before, "a refused request changed acme's data")
        self.owner_succeeds(cases, lambda c: (c[0] + c[1], c[2], c[4]), prefix="/v1/proj-acme/git")

    def assertSsError(self, r, status, code, what):
        self.assertEqual(r.status, status, (what, r))
        self.assertEqual(r.header("content-type"), JSON_TYPE, (what, r))
        doc = r.json()
        self.assertEqual(set(doc), {"error_code", "error_msg"}, (what, doc))
        self.assertEqual(doc["error_code"], code, (what, doc))
        return doc

    def owner_succeeds(self, cases, parts, prefix=""):
        """acme's own token on every case: the objects were real, and are usable."""
        for key in sorted(cases, key=owner_order):
            path, body, status = parts(cases[key])
            self.owner_ok(key[0], prefix + path, body, status)

    # -- token text --
    def test_z_token_text_is_nowhere(self):
        """Named to run last (unittest runs a class's tests in name order), so that it
        searches the responses and log of the whole matrix; its own traffic makes it
        meaningful when run alone."""
        fx = Fixture(self)
        for path in (f"/api/v1/repositories/{fx.repo}", "/api/v1/commits"):
            for tok in (self.token, self.other_token, self.forged, self.garbage):
                self.send("GET", path, headers={"Authorization": f"Bearer {tok}"},
                          source=self.fresh_source())
        for tok in (self.token, self.other_token, self.forged, self.garbage):
            self.send("GET", "/v1/proj-acme/git/auths", headers={"X-Auth-Token": tok},
                      source=self.fresh_source())
        for path in ("/api/v1/hooks", f"/api/v1/repositories/{fx.repo}/hooks",
                     f"/api/v1/hooks/{fx.hook_id}/deliveries",
                     f"/api/v1/hooks/{fx.repo_hook_id}/deliveries"):
            self.owner_ok("GET", path, None, 200)
        self.owner_ok("GET", f"/v1/proj-acme/git/repos/{fx.ns}/{fx.project}/hooks", None, 200)
        texts = [self.token, self.other_token, self.forged, self.garbage]
        # The secret part alone (after "tagd_<public id>_") is what must never leak.
        texts += [t[22:] for t in (self.token, self.other_token, self.forged)]
        for r in type(self).responses:
            for t in texts:
                self.assertNotIn(t.encode(), r.body, r)
                for name, value in r.headers.items():
                    self.assertNotIn(t, value, name)
        log = self.tagd.log()
        self.assertIn('msg="request"', log)  # the access log is on: the check is not vacuous
        for t in texts:
            self.assertFalse(t in log, f"token text {t[:12]}... in the log")
        # Hook secrets: never answered, never logged (the database keeps them: tagd signs
        # with them).
        self.assertGreaterEqual(len(type(self).hook_secrets), 3)
        for secret in type(self).hook_secrets:
            for r in type(self).responses:
                self.assertNotIn(secret.encode(), r.body, r)
            self.assertFalse(secret in log, "a hook secret in the log")
        data = self.tagd.database.contents()  # the files, or pg_dump's output
        for t in texts:
            self.assertNotIn(t.encode(), data, self.tagd.db)
        self.assertGreater(len(data), 0)

    # -- revocation --
    def test_revoked_token_is_refused_on_the_next_request(self):
        token = self.tagd.cli("token", "create", "--org", "acme").stdout.strip()
        source = self.fresh_source()
        conn = self.tagd.connection(source)  # one keep-alive connection throughout
        try:
            r = self.tagd.request("GET", "/api/v1/repositories", token=token, conn=conn)
            self.assertEqual(r.status, 200, r)
            r = self.tagd.request("GET", "/v1/proj-acme/git/auths",
                                  headers={"X-Auth-Token": token}, conn=conn)
            self.assertEqual(r.status, 200, r)
            self.tagd.cli("token", "revoke", "--org", "acme", token)
            r = self.tagd.request("GET", "/api/v1/repositories", token=token, conn=conn)
            self.assertVersError(r, 401, INVALID)
            r = self.tagd.request("GET", "/v1/proj-acme/git/auths",
                                  headers={"X-Auth-Token": token}, conn=conn)
            self.assertSsError(r, 401, GW_0301, "revoked")
        finally:
            conn.close()
        # The other tokens of the organization still work.
        self.assertEqual(self.req("GET", "/api/v1/repositories").status, 200)


if __name__ == "__main__":
    unittest.main()
