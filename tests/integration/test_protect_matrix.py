"""The matrix of issue 13: every authenticated route of both dialects (as
src/'s route tables list them) x every token scope (read, write, maintain,
admin) x the state of the tag the route concerns (no rule covers it, a
protected rule does, an immutable rule does), every cell asserted: the
answer, and for every refusal that nothing changed (the object as it was,
no event appended).  A route that concerns no tag has one state.

The expectations are written here from the issue, not read from the route
tables: a route whose scope in src/ differs fails its cells, and a route
missing from SPEC fails test_every_route_is_in_the_matrix.

The rules sit at every level: the Vers repository tags' in their
repository, the legacy commit tags' and the tags of repositories deleted
whole in the organization, the ServiceStage tags' in their project."""
import itertools
import json
import urllib.parse

from routetables import route_table, source_routes
from sstest import JSON_TYPE, new_sha
from tagdtest import TagdCase

SCOPES = ("read", "write", "maintain", "admin")
RANK = {s: i for i, s in enumerate(SCOPES)}
STATES = ("unprotected", "protected", "immutable")
SS = "/v1/proj-acme/git/repos"
PROJECT = SS + "/team/app"
REPO = "/api/v1/repositories/matrix"
# Tag name prefixes by state: repository and project rules cover "p-*" and
# "i-*"; the organization's, "op-*" and "oi-*" (never a "p-"/"i-" name).
LOCAL = {"unprotected": "u-", "protected": "p-", "immutable": "i-"}
ORG = {"unprotected": "ou-", "protected": "op-", "immutable": "oi-"}
_n = itertools.count(1)


def q(s):
    return urllib.parse.quote(s, safe="")


def fresh(prefix):
    return f"{prefix}{next(_n)}"


class Cell:
    """One route: the least scope it takes (the issue's), whether the state of
    a tag matters, and how to make one request of it."""

    def __init__(self, scope, setup, send, change=None, ok=200, snapshot=None, org_rule=False,
                 cascade=False):
        self.scope = scope
        self.setup = setup          # (case, state) -> ctx
        self.send = send            # (case, ctx, headers) -> response
        self.change = change        # None, or "create", "set", "delete" of a tag
        self.ok = ok                # the status of success
        self.snapshot = snapshot    # (case, ctx) -> what a refusal must leave as it was
        self.org_rule = org_rule    # the tag's rules are the organization's
        self.cascade = cascade      # the tag goes with its repository

    @property
    def stateful(self):
        return self.change is not None or self.cascade


def none(case, state):
    return {}


class ProtectMatrixTest(TagdCase):
    server_args = ("--synchronous", "normal")  # fewer fsyncs: ~1000 requests

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.tagd.cli("repo-auth", "create", "--org", "acme", "--name", "all")
            cls.tokens = {s: cls.tagd.new_token("acme", s, "--name", s) for s in SCOPES}
            cls.fixtures()
        except Exception:
            cls.tagd.cleanup()
            raise

    @classmethod
    def fixtures(cls):
        """Two commits, the repository "matrix", a ServiceStage project, and the rules."""
        cls.c1 = cls.admin("POST", "/api/v1/commits", {"name": "m1"}, 201)["commit_id"]
        cls.c2 = cls.admin("POST", "/api/v1/commits", {"name": "m2"}, 201)["commit_id"]
        cls.admin("POST", "/api/v1/repositories", {"name": "matrix"}, 201)
        for prefix, level in (("", REPO), ("o", "/api/v1")):
            for mode in ("protected", "immutable"):
                cls.admin("POST", f"{level}/protected_tags",
                          {"pattern": f"{prefix}{mode[0]}-*", "mode": mode}, 201)
        cls.admin("POST", SS + "/team/projects", {"name": "app"}, 200)
        for sha in (new_sha(), new_sha()):
            cls.admin("POST", PROJECT + "/commits",
                      {"sha": sha, "message": "m", "branch": "main"}, 201)
        for mode in ("protected", "immutable"):
            cls.admin("POST", PROJECT + "/protected_tags",
                      {"pattern": f"{mode[0]}-*", "mode": mode}, 200)

    # -- requests --
    @classmethod
    def call(cls, method, path, body, token):
        if path.startswith("/v1/"):
            headers, ctype = {"X-Auth-Token": token, "X-Repo-Auth": "all"}, JSON_TYPE
        else:
            headers, ctype = {"Authorization": f"Bearer {token}"}, "application/json"
        return cls.tagd.request(method, path, body=body, headers=headers, content_type=ctype)

    @classmethod
    def admin(cls, method, path, body=None, status=None):
        r = cls.call(method, path, body, cls.tokens["admin"])
        if status is not None and r.status != status:
            raise AssertionError(f"{method} {path}: {r}, not {status}")
        return r.json() if r.body else None

    def head(self):
        return self.admin("GET", "/api/v1/events/head", status=200)["seq"]

    def get(self, path):
        r = self.call("GET", path, None, self.tokens["admin"])
        return r.status, r.body

    # -- objects, made by admin --
    def vtag(self, state):
        name = fresh(LOCAL[state])
        self.admin("POST", REPO + "/tags", {"tag_name": name, "commit_id": self.c1}, 201)
        return {"tag": name}

    def ctag(self, state):
        name = fresh(ORG[state])
        self.admin("POST", "/api/v1/commit_tags", {"tag_name": name, "commit_id": self.c1}, 201)
        return {"tag": name}

    def sstag(self, state):
        name = fresh(LOCAL[state])
        self.admin("POST", PROJECT + "/tags?ref=main", {"name": name, "description": "d"}, 200)
        return {"tag": name}

    # -- the matrix --
    def spec(self):
        c = self
        vtag_path = lambda x: f"{REPO}/tags/{q(x['tag'])}"  # noqa: E731
        ctag_path = lambda x: f"/api/v1/commit_tags/{q(x['tag'])}"  # noqa: E731
        sstag_path = lambda x: f"{PROJECT}/tags/{q(x['tag'])}"  # noqa: E731

        def send(method, path, body=None):
            """A request whose path and body may depend on the cell's ctx."""
            def go(case, ctx, token):
                p = path(ctx) if callable(path) else path
                b = body(ctx) if callable(body) else body
                return case.call(method, p, b, token)
            return go

        def new_name(prefix):
            return lambda case, state: {"name": fresh(prefix), "tag": fresh(LOCAL[state])}

        def repo_with_tag(case, state):
            name = fresh("gone-")
            case.admin("POST", "/api/v1/repositories", {"name": name}, 201)
            tag = fresh(ORG[state])
            case.admin("POST", f"/api/v1/repositories/{name}/tags",
                       {"tag_name": tag, "commit_id": case.c1}, 201)
            return {"name": name, "tag": tag}

        def new_commit(case, state):
            return {"id": case.admin("POST", "/api/v1/commits", {}, 201)["commit_id"]}

        def rule_at(level):
            def make(case, state):
                pattern = fresh("zz-") + "-?"
                case.admin("POST", f"{level}/protected_tags",
                           {"pattern": pattern, "mode": "protected"},
                           200 if level.startswith("/v1/") else 201)
                return {"pattern": pattern}
            return make

        def created(path):
            return lambda case, ctx: case.get(path(ctx))

        # Hooks to a name, not an address: registration takes it without
        # hook_allow_private (the dispatcher's attempts fail, which is no cell's business).
        hook_body = lambda x: {"url": "https://hooks.example.com/" + fresh("m"),  # noqa: E731
                               "secret": "matrix-hook-secret-0123"}

        def hook_at(level):
            def make(case, state):
                status = 200 if level.startswith("/v1/") else 201
                return {"id": case.admin("POST", f"{level}/hooks", hook_body(None), status)["id"]}
            return make

        hooks = lambda level: lambda case, ctx: case.get(level + "/hooks")  # noqa: E731
        rule_body = lambda x: {"pattern": fresh("zz-") + "-*", "mode": "immutable"}  # noqa: E731
        rules = lambda level: lambda case, ctx: case.get(level + "/protected_tags")  # noqa: E731
        return {
            # -- Vers: repositories --
            ("GET", "/api/v1/repositories"): Cell("read", none, send("GET", "/api/v1/repositories")),
            ("POST", "/api/v1/repositories"): Cell(
                "maintain", new_name("new-"),
                send("POST", "/api/v1/repositories", lambda x: {"name": x["name"]}), ok=201,
                snapshot=created(lambda x: f"/api/v1/repositories/{x['name']}")),
            ("POST", "/api/v1/repositories/fork"): Cell(
                "maintain", none,
                send("POST", "/api/v1/repositories/fork",
                     {"source_org": "acme", "source_repo": "matrix", "source_tag": "x",
                      "new_repo_name": "y"}), ok=501),
            ("GET", "/api/v1/repositories/{repo_name}"): Cell("read", none, send("GET", REPO)),
            ("DELETE", "/api/v1/repositories/{repo_name}"): Cell(
                "maintain", repo_with_tag,
                send("DELETE", lambda x: f"/api/v1/repositories/{x['name']}"), ok=204,
                snapshot=created(lambda x: f"/api/v1/repositories/{x['name']}/tags"),
                org_rule=True, cascade=True),
            ("PATCH", "/api/v1/repositories/{repo_name}/visibility"): Cell(
                "maintain", none, send("PATCH", REPO + "/visibility", {"is_public": False}),
                ok=204, snapshot=lambda case, x: case.get(REPO)),
            # -- Vers: repository tags --
            ("GET", "/api/v1/repositories/{repo_name}/tags"): Cell(
                "read", none, send("GET", REPO + "/tags")),
            ("POST", "/api/v1/repositories/{repo_name}/tags"): Cell(
                "write", lambda case, state: {"tag": fresh(LOCAL[state])},
                send("POST", REPO + "/tags", lambda x: {"tag_name": x["tag"], "commit_id": c.c1}),
                change="create", ok=201, snapshot=created(vtag_path)),
            ("GET", "/api/v1/repositories/{repo_name}/tags/{tag_name}"): Cell(
                "read", lambda case, state: case.vtag(state), send("GET", vtag_path),
                change="read"),
            ("PATCH", "/api/v1/repositories/{repo_name}/tags/{tag_name}"): Cell(
                "write", lambda case, state: case.vtag(state),
                send("PATCH", vtag_path, lambda x: {"commit_id": c.c2}), change="set", ok=204,
                snapshot=created(vtag_path)),
            # PUT of an existing tag moves it (its create is POST's, in test_vers_put.py)
            ("PUT", "/api/v1/repositories/{repo_name}/tags/{tag_name}"): Cell(
                "write", lambda case, state: case.vtag(state),
                send("PUT", vtag_path, lambda x: {"commit_id": c.c2}), change="set",
                snapshot=created(vtag_path)),
            ("DELETE", "/api/v1/repositories/{repo_name}/tags/{tag_name}"): Cell(
                "write", lambda case, state: case.vtag(state), send("DELETE", vtag_path),
                change="delete", ok=204, snapshot=created(vtag_path)),
            ("GET", "/api/v1/repositories/{repo_name}/tags/{tag_name}/history"): Cell(
                "read", lambda case, state: case.vtag(state),
                send("GET", lambda x: vtag_path(x) + "/history"), change="read"),
            # -- Vers: protection rules --
            ("GET", "/api/v1/protected_tags"): Cell("read", none, send("GET", "/api/v1/protected_tags")),
            ("POST", "/api/v1/protected_tags"): Cell(
                "admin", none, send("POST", "/api/v1/protected_tags", rule_body), ok=201,
                snapshot=rules("/api/v1")),
            ("DELETE", "/api/v1/protected_tags/{pattern}"): Cell(
                "admin", rule_at("/api/v1"),
                send("DELETE", lambda x: f"/api/v1/protected_tags/{q(x['pattern'])}"), ok=204,
                snapshot=rules("/api/v1")),
            ("GET", "/api/v1/repositories/{repo_name}/protected_tags"): Cell(
                "read", none, send("GET", REPO + "/protected_tags")),
            ("POST", "/api/v1/repositories/{repo_name}/protected_tags"): Cell(
                "admin", none, send("POST", REPO + "/protected_tags", rule_body), ok=201,
                snapshot=rules(REPO)),
            ("DELETE", "/api/v1/repositories/{repo_name}/protected_tags/{pattern}"): Cell(
                "admin", rule_at(REPO),
                send("DELETE", lambda x: f"{REPO}/protected_tags/{q(x['pattern'])}"), ok=204,
                snapshot=rules(REPO)),
            # -- Vers: commits --
            ("GET", "/api/v1/commits"): Cell("read", none, send("GET", "/api/v1/commits")),
            ("POST", "/api/v1/commits"): Cell("write", none, send("POST", "/api/v1/commits", {}),
                                              ok=201),
            ("GET", "/api/v1/commits/public"): Cell("read", none,
                                                    send("GET", "/api/v1/commits/public")),
            ("GET", "/api/v1/commits/{commit_id}"): Cell(
                "read", none, send("GET", lambda x: f"/api/v1/commits/{c.c1}")),
            ("PATCH", "/api/v1/commits/{commit_id}"): Cell(
                "maintain", new_commit,
                send("PATCH", lambda x: f"/api/v1/commits/{x['id']}", {"is_public": True}),
                snapshot=created(lambda x: f"/api/v1/commits/{x['id']}")),
            ("DELETE", "/api/v1/commits/{commit_id}"): Cell(
                "maintain", new_commit, send("DELETE", lambda x: f"/api/v1/commits/{x['id']}"),
                ok=204, snapshot=created(lambda x: f"/api/v1/commits/{x['id']}")),
            # -- Vers: legacy commit tags (the organization's rules) --
            ("GET", "/api/v1/commit_tags"): Cell("read", none, send("GET", "/api/v1/commit_tags")),
            ("POST", "/api/v1/commit_tags"): Cell(
                "write", lambda case, state: {"tag": fresh(ORG[state])},
                send("POST", "/api/v1/commit_tags",
                     lambda x: {"tag_name": x["tag"], "commit_id": c.c1}),
                change="create", ok=201, snapshot=created(ctag_path), org_rule=True),
            ("GET", "/api/v1/commit_tags/{tag_name}"): Cell(
                "read", lambda case, state: case.ctag(state), send("GET", ctag_path),
                change="read", org_rule=True),
            ("PATCH", "/api/v1/commit_tags/{tag_name}"): Cell(
                "write", lambda case, state: case.ctag(state),
                send("PATCH", ctag_path, {"description": "changed"}), change="set", ok=204,
                snapshot=created(ctag_path), org_rule=True),
            ("PUT", "/api/v1/commit_tags/{tag_name}"): Cell(
                "write", lambda case, state: case.ctag(state),
                send("PUT", ctag_path, lambda x: {"commit_id": c.c2}), change="set",
                snapshot=created(ctag_path), org_rule=True),
            ("DELETE", "/api/v1/commit_tags/{tag_name}"): Cell(
                "write", lambda case, state: case.ctag(state), send("DELETE", ctag_path),
                change="delete", ok=204, snapshot=created(ctag_path), org_rule=True),
            ("GET", "/api/v1/commit_tags/{tag_name}/history"): Cell(
                "read", lambda case, state: case.ctag(state),
                send("GET", lambda x: ctag_path(x) + "/history"), change="read", org_rule=True),
            # -- Vers: history --
            ("GET", "/api/v1/events"): Cell("read", none, send("GET", "/api/v1/events")),
            ("GET", "/api/v1/events/head"): Cell("read", none, send("GET", "/api/v1/events/head")),
            # -- Vers: hooks (maintain, reading too) --
            ("GET", "/api/v1/hooks"): Cell("maintain", none, send("GET", "/api/v1/hooks")),
            ("POST", "/api/v1/hooks"): Cell(
                "maintain", none, send("POST", "/api/v1/hooks", hook_body), ok=201,
                snapshot=hooks("/api/v1")),
            ("DELETE", "/api/v1/hooks/{hook_id}"): Cell(
                "maintain", hook_at("/api/v1"),
                send("DELETE", lambda x: f"/api/v1/hooks/{x['id']}"), ok=204,
                snapshot=hooks("/api/v1")),
            ("GET", "/api/v1/hooks/{hook_id}/deliveries"): Cell(
                "maintain", hook_at("/api/v1"),
                send("GET", lambda x: f"/api/v1/hooks/{x['id']}/deliveries")),
            ("GET", "/api/v1/repositories/{repo_name}/hooks"): Cell(
                "maintain", none, send("GET", REPO + "/hooks")),
            ("POST", "/api/v1/repositories/{repo_name}/hooks"): Cell(
                "maintain", none, send("POST", REPO + "/hooks", hook_body), ok=201,
                snapshot=hooks(REPO)),
            ("DELETE", "/api/v1/repositories/{repo_name}/hooks/{hook_id}"): Cell(
                "maintain", hook_at(REPO), send("DELETE", lambda x: f"{REPO}/hooks/{x['id']}"),
                ok=204, snapshot=hooks(REPO)),
            # -- ServiceStage (the project's rules) --
            ("POST", "/v1/{project_id}/git/repos/{namespace}/{project}/tags"): Cell(
                "write", lambda case, state: {"tag": fresh(LOCAL[state])},
                send("POST", PROJECT + "/tags?ref=main",
                     lambda x: {"name": x["tag"], "description": "d"}),
                change="create", snapshot=lambda case, x: case.get(PROJECT + "/tags")),
            ("GET", "/v1/{project_id}/git/repos/{namespace}/{project}/tags"): Cell(
                "read", none, send("GET", PROJECT + "/tags")),
            ("DELETE", "/v1/{project_id}/git/repos/{namespace}/{project}/tags/{tag_name}"): Cell(
                "write", lambda case, state: case.sstag(state), send("DELETE", sstag_path),
                change="delete", ok=204, snapshot=lambda case, x: case.get(PROJECT + "/tags")),
            ("GET", "/v1/{project_id}/git/repos/{namespace}/{project}/tags/{tag_name}/history"):
                Cell("read", lambda case, state: case.sstag(state),
                     send("GET", lambda x: sstag_path(x) + "/history"), change="read"),
            ("GET", "/v1/{project_id}/git/repos/{namespace}/{project}/protected_tags"): Cell(
                "read", none, send("GET", PROJECT + "/protected_tags")),
            ("POST", "/v1/{project_id}/git/repos/{namespace}/{project}/protected_tags"): Cell(
                "admin", none, send("POST", PROJECT + "/protected_tags", rule_body),
                snapshot=rules(PROJECT)),
            ("DELETE", "/v1/{project_id}/git/repos/{namespace}/{project}/protected_tags/{pattern}"):
                Cell("admin", rule_at(PROJECT),
                     send("DELETE", lambda x: f"{PROJECT}/protected_tags/{q(x['pattern'])}"),
                     ok=204, snapshot=rules(PROJECT)),
            ("POST", "/v1/{project_id}/git/repos/{namespace}/{project}/hooks"): Cell(
                "maintain", none, send("POST", PROJECT + "/hooks", hook_body),
                snapshot=hooks(PROJECT)),
            ("GET", "/v1/{project_id}/git/repos/{namespace}/{project}/hooks"): Cell(
                "maintain", none, send("GET", PROJECT + "/hooks")),
            ("DELETE", "/v1/{project_id}/git/repos/{namespace}/{project}/hooks/{hook_id}"): Cell(
                "maintain", hook_at(PROJECT),
                send("DELETE", lambda x: f"{PROJECT}/hooks/{x['id']}"), ok=204,
                snapshot=hooks(PROJECT)),
            ("GET", "/v1/{project_id}/git/repos/{namespace}/{project}/branches"): Cell(
                "read", none, send("GET", PROJECT + "/branches")),
            ("GET", "/v1/{project_id}/git/repos/{namespace}/{project}/commits"): Cell(
                "read", none, send("GET", PROJECT + "/commits?ref=main")),
            ("POST", "/v1/{project_id}/git/repos/{namespace}/{project}/commits"): Cell(
                "write", none, send("POST", PROJECT + "/commits",
                                    lambda x: {"sha": new_sha(), "message": "m"}), ok=201),
            ("GET", "/v1/{project_id}/git/repos/namespaces"): Cell(
                "read", none, send("GET", SS + "/namespaces")),
            ("GET", "/v1/{project_id}/git/repos/{namespace}/projects"): Cell(
                "read", none, send("GET", SS + "/team/projects")),
            ("POST", "/v1/{project_id}/git/repos/{namespace}/projects"): Cell(
                "maintain", new_name("proj-"),
                send("POST", SS + "/team/projects", lambda x: {"name": x["name"]}),
                snapshot=lambda case, x: case.get(SS + "/team/projects")),
            ("GET", "/v1/{project_id}/git/repos/project-info"): Cell(
                "read", none, send("GET", SS + "/project-info?clone_url=" +
                                   q("https://git.example.com/team/app.git"))),
            ("GET", "/v1/{project_id}/git/auths"): Cell(
                "read", none, send("GET", "/v1/proj-acme/git/auths")),
        }

    # -- what a cell must answer --
    def expected(self, key, cell, scope, state):
        """("ok",) or ("scope",) or ("rule", mode): what scope gets on a tag in state."""
        if RANK[scope] < RANK[cell.scope]:
            return ("scope",)
        change = "delete" if cell.cascade else cell.change
        if state == "unprotected" or change in (None, "read"):
            return ("ok",)
        if state == "protected":
            return ("ok",) if RANK[scope] >= RANK["maintain"] else ("rule", "protected")
        return ("ok",) if change == "create" else ("rule", "immutable")

    def check(self, key, cell, scope, state):
        ctx = cell.setup(self, state)
        before = cell.snapshot(self, ctx) if cell.snapshot else None
        seq = self.head()
        r = cell.send(self, ctx, self.tokens[scope])
        want = self.expected(key, cell, scope, state)
        ss = key[1].startswith("/v1/")
        if want[0] == "ok":
            self.assertEqual(r.status, cell.ok, r)
            if cell.change in ("create", "set", "delete") or cell.cascade:
                self.assertGreater(self.head(), seq, "the change wrote no event")
            return
        # A refusal: in the dialect's envelope, and nothing changed.
        self.assertEqual(r.status, 400 if ss and want[0] == "rule" else 403, r)
        doc = json.loads(r.body)
        if want[0] == "scope" and ss:
            self.assertEqual((r.status, doc), (403, {
                "error_code": "APIGW.0302",
                "error_msg": "The IAM user is not authorized to access the API"}))
        elif want[0] == "scope":
            self.assertEqual((r.status, doc), (403, {
                "success": False,
                "error": f"insufficient scope: this request takes a token of scope "
                         f"{cell.scope} or above, this one is {scope}"}))
        elif ss:
            code = "SVCSTG.REPO.0453" if want[1] == "protected" else "SVCSTG.REPO.0454"
            msg = "tag protected" if want[1] == "protected" else "tag immutable"
            self.assertEqual((r.status, doc), (400, {"error_code": code, "error_msg": msg}))
        else:
            prefix = "o" if cell.org_rule else ""
            rule = ("organization " if cell.org_rule else "") + f"rule '{prefix}{want[1][0]}-*'"
            msg = f"tag '{ctx['tag']}' is {want[1]} ({rule})"
            if want[1] == "protected":
                msg += ": it takes a token of scope maintain or above"
            if cell.cascade:
                msg = "cannot delete the repository: " + msg
            self.assertEqual((r.status, doc), (403, {"success": False, "error": msg}))
        self.assertEqual(self.head(), seq, "a refused request wrote an event")
        if before is not None:
            self.assertEqual(cell.snapshot(self, ctx), before, "a refused request changed it")

    def run_cells(self, dialect):
        spec = self.spec()
        cells = 0
        for key in sorted(k for k in spec if k[1].startswith("/v1/") == (dialect == "ss")):
            cell = spec[key]
            for state in STATES if cell.stateful else ("unprotected",):
                for scope in SCOPES:
                    with self.subTest(route=f"{key[0]} {key[1]}", scope=scope, state=state):
                        self.check(key, cell, scope, state)
                    cells += 1
        return cells

    def test_every_route_is_in_the_matrix(self):
        spec = self.spec()
        self.assertEqual(set(spec), source_routes())
        # And the route tables say what the issue says each route takes.
        table = route_table()
        self.assertEqual({k: c.scope for k, c in spec.items()},
                         {k: table[k][1] for k in spec})

    def test_vers_cells(self):
        self.assertGreaterEqual(self.run_cells("vers"), 150)

    def test_ss_cells(self):
        self.assertGreaterEqual(self.run_cells("ss"), 70)


if __name__ == "__main__":
    import unittest
    unittest.main()
