"""Protection rules beyond the matrix (test_protect_matrix.py): bad input in
each envelope, the organization's rules over every kind of tag, what a
repository delete does with its rules and its immutable tags, rule events in
the history and `history verify` against rules changed behind tagd's back,
`tagd protect`, and the race of a rule against moves in flight (on two nodes
sharing the database): no move commits after the rule's commit."""
import json
import threading
import urllib.parse

from sstest import SsCase, new_sha
from tagdtest import Tagd

IMMUTABLE_V = "tag 'v1' is immutable (rule 'v*')"


def q(s):
    return urllib.parse.quote(s, safe="")


class ProtectTest(SsCase):
    def setUp(self):
        self.repo = self.unique("repo")
        r = self.req("POST", "/api/v1/repositories", {"name": self.repo})
        self.assertEqual(r.status, 201, r)
        self.c1 = self.tagd.new_commit("acme")
        self.c2 = self.tagd.new_commit("acme")
        self.base = f"/api/v1/repositories/{q(self.repo)}"

    def rule(self, pattern, mode="immutable", level=None, status=201):
        r = self.req("POST", (level or self.base) + "/protected_tags",
                     {"pattern": pattern, "mode": mode})
        self.assertEqual(r.status, status, r)
        return r.json() if r.body else None

    def tag(self, name, commit=None):
        r = self.req("POST", self.base + "/tags", {"tag_name": name, "commit_id": commit or self.c1})
        self.assertEqual(r.status, 201, r)

    def head(self):
        return self.req("GET", "/api/v1/events/head").json()["seq"]

    def write_token(self):
        return self.tagd.new_token("acme", "write")

    # -- bad input --
    def test_bad_rules_in_the_vers_envelope(self):
        long = "v" * 256
        for body, msg in (
                ({"pattern": "", "mode": "protected"}, "invalid pattern: must not be empty"),
                ({"pattern": long, "mode": "protected"}, "invalid pattern: longer than 255 bytes"),
                ({"pattern": "v\u0001", "mode": "protected"},
                 "invalid pattern: control characters are not allowed"),
                ({"pattern": "v*", "mode": "frozen"}, "invalid mode: it is protected or immutable"),
                ({"pattern": "v*", "mode": "Immutable"}, "invalid mode: it is protected or immutable")):
            with self.subTest(body=body):
                self.assertVersError(self.req("POST", self.base + "/protected_tags", body), 400, msg)
        for body in ({"pattern": "v*"}, {"mode": "immutable"}, {"pattern": 1, "mode": "protected"},
                     []):
            with self.subTest(body=body):
                r = self.req("POST", self.base + "/protected_tags", body)
                doc = self.assertVersError(r, 400)
                self.assertTrue(doc["error"].startswith("Failed to deserialize the JSON body"), doc)
        head = self.head()
        self.rule("v*")
        self.assertVersError(self.req("POST", self.base + "/protected_tags",
                                      {"pattern": "v*", "mode": "protected"}),
                             409, "rule already exists")
        self.assertVersError(self.req("POST", "/api/v1/repositories/nope/protected_tags",
                                      {"pattern": "v*", "mode": "protected"}),
                             404, "repository not found")
        self.assertVersError(self.req("GET", "/api/v1/repositories/nope/protected_tags"), 404,
                             "repository not found")
        self.assertVersError(self.req("DELETE", self.base + "/protected_tags/w%2A"), 404,
                             "rule not found")
        self.assertVersError(self.req("DELETE", "/api/v1/protected_tags/" + "x" * 256), 400,
                             "invalid pattern: longer than 255 bytes")
        self.assertEqual(self.head(), head + 1)  # the one rule added, nothing else
        # Another organization's repository of the same name is not this one.
        r = self.req("POST", self.base + "/protected_tags", {"pattern": "v*", "mode": "protected"},
                     token=self.other_token)
        self.assertVersError(r, 404, "repository not found")

    def test_bad_rules_in_the_servicestage_envelope(self):
        ns, project, _ = self.new_project()
        path = f"/repos/{ns}/{project}/protected_tags"
        for body in ({"pattern": "", "mode": "protected"}, {"pattern": "v*", "mode": "frozen"},
                     {"pattern": "v*"}, {"pattern": "x" * 256, "mode": "immutable"}):
            with self.subTest(body=body):
                self.assertBadParam(self.ss("POST", path, body))
        self.assertBadParam(self.ss("POST", path, {"pattern": "v*", "mode": "protected"},
                                    content_type="text/plain"))
        r = self.ss("POST", path, {"pattern": "v*", "mode": "protected"})
        rule = self.assertOk(r)
        self.assertEqual(rule["scope"], {"kind": "servicestage", "namespace": ns,
                                         "project": project})
        self.assertSsError(self.ss("POST", path, {"pattern": "v*", "mode": "immutable"}), 400,
                           "SVCSTG.REPO.0403", "resource already exist")
        self.assertBadParam(self.ss("POST", f"/repos/{ns}/nope/protected_tags",
                                    {"pattern": "v*", "mode": "protected"}))
        self.assertBadParam(self.ss("GET", "/repos/nope/nope/protected_tags"))
        self.assertBadParam(self.ss("DELETE", path + "/w%2A"))
        self.assertSsError(self.ss("GET", path, repo_auth=None), 400, "SVCSTG.REPO.0450")
        self.assertSsError(self.ss("POST", f"/repos/{ns}/{project}/protected_tags",
                                   {"pattern": "x*", "mode": "protected"}, repo_auth="only-ns1"),
                           400, "SVCSTG.REPO.0451")
        self.assertEqual(self.assertOk(self.ss("GET", path))["protected_tags"], [rule])
        self.assertOk(self.ss("DELETE", path + "/v%2A"), 204)
        self.assertEqual(self.assertOk(self.ss("GET", path))["protected_tags"], [])

    def test_at_most_100_rules_a_repository(self):
        for i in range(100):
            self.rule(f"r{i:03}-*", "protected")
        self.assertVersError(self.req("POST", self.base + "/protected_tags",
                                      {"pattern": "one-more", "mode": "protected"}),
                             400, "too many rules: a repository has 100 at most")
        listed = self.req("GET", self.base + "/protected_tags").json()["protected_tags"]
        self.assertEqual([r["pattern"] for r in listed], [f"r{i:03}-*" for i in range(100)])
        # The organization's own are counted apart.
        org = self.rule("one-more", "protected", level="/api/v1")
        self.assertEqual(org["scope"], {"kind": "organization"})
        self.assertEqual(self.req("DELETE", "/api/v1/protected_tags/one-more").status, 204)

    # -- what the rules cover --
    def test_organization_rules_cover_every_kind_of_tag(self):
        pattern = self.unique("rel") + "-*"
        name = pattern[:-1] + "1"
        self.rule(pattern, "protected", level="/api/v1")
        write = self.write_token()
        msg = f"tag '{name}' is protected (organization rule '{pattern}'): it takes a token of " \
              "scope maintain or above"
        r = self.req("POST", self.base + "/tags", {"tag_name": name, "commit_id": self.c1},
                     token=write)
        self.assertVersError(r, 403, msg)
        r = self.req("POST", "/api/v1/commit_tags", {"tag_name": name, "commit_id": self.c1},
                     token=write)
        self.assertVersError(r, 403, msg)
        ns, project, _ = self.new_project()
        self.record(ns, project, new_sha(), branch="main")
        r = self.ss("POST", f"/repos/{ns}/{project}/tags", {"name": name, "description": "d"},
                    token=write, query="?ref=main")
        self.assertSsError(r, 400, "SVCSTG.REPO.0453", "tag protected")
        # The owner (admin) may; a name the pattern does not match is anyone's.
        self.tag(name)
        self.assertEqual(self.req("POST", self.base + "/tags",
                                  {"tag_name": "x" + name, "commit_id": self.c1},
                                  token=write).status, 201)

    def test_immutable_refuses_move_before_if_match_and_commit(self):
        self.rule("v*")
        self.tag("v1")
        etag = self.req("GET", self.base + "/tags/v1").header("etag")
        for headers, body in (({"If-Match": '"999"'}, {"commit_id": self.c2}),
                              ({"If-Match": etag}, {"commit_id": "00000000-0000-4000-8000-000000000000"}),
                              (None, {"description": "d"})):
            r = self.req("PATCH", self.base + "/tags/v1", body, headers=headers)
            self.assertVersError(r, 403, IMMUTABLE_V)
        self.assertVersError(self.req("DELETE", self.base + "/tags/v1"), 403, IMMUTABLE_V)
        # A tag that does not exist is not found first.
        self.assertVersError(self.req("DELETE", self.base + "/tags/v2"), 404, "tag not found")
        # Removing the rule frees it.
        self.assertEqual(self.req("DELETE", self.base + "/protected_tags/v%2A").status, 204)
        r = self.req("PATCH", self.base + "/tags/v1", {"commit_id": self.c2},
                     headers={"If-Match": etag})
        self.assertEqual(r.status, 204, r)

    # -- repository deletes --
    def test_repository_delete_refused_whole_by_an_immutable_tag(self):
        self.tag("a")
        self.tag("v1")
        self.tag("z")
        self.rule("v*")
        head = self.head()
        r = self.req("DELETE", self.base)
        self.assertVersError(r, 403, "cannot delete the repository: " + IMMUTABLE_V)
        self.assertEqual(self.head(), head)
        names = [t["tag_name"] for t in self.req("GET", self.base + "/tags").json()["tags"]]
        self.assertEqual(names, ["a", "v1", "z"])
        self.assertEqual(len(self.req("GET", self.base + "/protected_tags").json()
                             ["protected_tags"]), 1)

    def test_repository_delete_removes_its_rules_with_events(self):
        self.tag("v1")
        self.rule("v*", "protected")
        self.rule("r?", "immutable")
        head = self.head()
        self.assertEqual(self.req("DELETE", self.base).status, 204)
        events = self.req("GET", f"/api/v1/events?after={head}").json()["events"]
        self.assertEqual([(e["action"], e["tag"], e.get("rule")) for e in events], [
            ("delete", "v1", None),
            ("rule_remove", None, {"mode": "immutable", "pattern": "r?"}),
            ("rule_remove", None, {"mode": "protected", "pattern": "v*"})])
        for e in events[1:]:
            self.assertEqual(e["scope"], {"kind": "repository", "repository": self.repo})
            self.assertIsNone(e["previous_seq"])
            self.assertIsNotNone(e["actor"])
        # A repository made again under the name starts without rules.
        self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": self.repo}).status, 201)
        self.assertEqual(self.req("GET", self.base + "/protected_tags").json(),
                         {"protected_tags": []})
        self.tagd.cli("history", "verify", "--org", "acme")

    # -- the history --
    def test_rule_events_and_verify(self):
        ev_head = self.head()
        rule = self.rule("v*")
        r = self.req("GET", f"/api/v1/events?after={ev_head}")
        (ev,) = r.json()["events"]
        self.assertEqual(ev["seq"], rule["seq"])
        self.assertEqual((ev["action"], ev["rule"], ev["tag"], ev["commit_id"], ev["dialect"]),
                         ("rule_add", {"mode": "immutable", "pattern": "v*"}, None, None, "vers"))
        self.assertEqual(ev["actor"]["token_id"], self.token[5:21])
        self.tag("v1")
        # A tag's own history has no rule event.
        hist = self.req("GET", self.base + "/tags/v1/history").json()["events"]
        self.assertEqual([e["action"] for e in hist], ["create"])
        self.tagd.cli("history", "verify", "--org", "acme")
        # A rule removed behind tagd's back, or added: verify names it.
        org_id = self.tagd.sql("SELECT id FROM orgs WHERE name = 'acme'")[0][0]
        row = self.tagd.sql("SELECT * FROM tag_rules WHERE org_id = ? AND seq = ?",
                            (org_id, rule["seq"]))[0]
        self.tagd.sql_exec("DELETE FROM tag_rules WHERE org_id = ? AND seq = ?",
                           (org_id, rule["seq"]))
        v = self.tagd.cli("history", "verify", "--org", "acme", check=False)
        self.assertEqual(v.returncode, 1, v)
        self.assertIn(f"event {rule['seq']} added the repository rule 'v*' of '{self.repo}', "
                      "which is gone without an event removing it", v.stderr)
        self.tagd.sql_exec(f"INSERT INTO tag_rules VALUES ({','.join('?' * len(row))})", row)
        self.tagd.cli("history", "verify", "--org", "acme")
        self.tagd.sql_exec("UPDATE tag_rules SET mode = 'protected' WHERE org_id = ? AND seq = ?",
                           (org_id, rule["seq"]))
        v = self.tagd.cli("history", "verify", "--org", "acme", check=False)
        self.assertIn(f"the repository rule 'v*' of '{self.repo}' is not as event "
                      f"{rule['seq']} added it", v.stderr)
        self.tagd.sql_exec("UPDATE tag_rules SET mode = 'immutable' WHERE org_id = ? AND seq = ?",
                           (org_id, rule["seq"]))
        self.tagd.cli("history", "verify", "--org", "acme")

    # -- the command line --
    def test_cli(self):
        ns, project, _ = self.new_project()
        cli = self.tagd.cli
        cli("protect", "add", "v*", "--org", "acme", "--repo", self.repo, "--mode", "immutable")
        cli("protect", "add", "rc-?", "--org", "acme", "--project", f"{ns}/{project}", "--mode",
            "protected")
        for args, code, msg in (
                (["v*", "--repo", self.repo, "--mode", "protected"], 3, "a rule of that pattern"),
                (["v*", "--repo", "nope", "--mode", "protected"], 4, "no such repository"),
                (["v*", "--project", f"{ns}/nope", "--mode", "protected"], 4, "no such project"),
                (["v*", "--project", "nope/nope", "--mode", "protected"], 4, "no such project"),
                (["v*", "--project", "nope", "--mode", "protected"], 1, "NAMESPACE/PROJECT"),
                (["", "--mode", "protected"], 1, "invalid pattern: must not be empty"),
                (["v*", "--mode", "frozen"], 1, "invalid mode"),
                (["v*", "--repo", "a", "--project", "b/c", "--mode", "protected"], 2,
                 "--repo or --project"),
                (["v*"], 2, "--mode")):
            with self.subTest(args=args):
                r = cli("protect", "add", *args, "--org", "acme", check=False)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertIn(msg, r.stderr)
        r = cli("protect", "add", "v*", "--org", "nobody", "--mode", "protected", check=False)
        self.assertEqual(r.returncode, 4, r.stderr)
        listed = json.loads(cli("protect", "list", "--org", "acme", "--json").stdout)
        mine = [r for r in listed["protected_tags"]
                if r["scope"].get("repository") == self.repo or r["scope"].get("project") == project]
        self.assertEqual([(r["pattern"], r["mode"]) for r in mine],
                         [("v*", "immutable"), ("rc-?", "protected")])
        table = cli("protect", "list", "--org", "acme", "--repo", self.repo).stdout.splitlines()
        self.assertEqual(table[0].split(), ["SCOPE", "MODE", "CREATED", "EVENT", "PATTERN"])
        self.assertEqual(len(table), 2)
        self.assertTrue(table[1].startswith(f"repository:{self.repo} "), table)
        # The API sees what the command line did, and the history says who: no token.
        self.tag("v1")
        self.assertVersError(self.req("DELETE", self.base + "/tags/v1"), 403, IMMUTABLE_V)
        line = [ln for ln in cli("history", "--org", "acme", "--repo", self.repo,
                                 "--json").stdout.splitlines() if '"rule_add"' in ln]
        ev = json.loads(line[0])
        self.assertEqual((ev["dialect"], ev["actor"], ev["request_id"]), ("cli", None, None))
        text = cli("history", "--org", "acme", "--repo", self.repo).stdout
        self.assertIn(f"rule_add {self.repo} immutable rule 'v*' by cli", text)
        r = cli("protect", "remove", "w*", "--org", "acme", "--repo", self.repo, check=False)
        self.assertEqual(r.returncode, 4, r.stderr)
        cli("protect", "remove", "v*", "--org", "acme", "--repo", self.repo)
        cli("protect", "remove", "rc-?", "--org", "acme", "--project", f"{ns}/{project}")
        self.assertEqual(self.req("DELETE", self.base + "/tags/v1").status, 204)
        self.tagd.cli("history", "verify", "--org", "acme")


class RuleRaceTest(SsCase):
    """Moves of tags v0..v5 in flight on node B while node A adds an immutable
    rule on v*: every move that committed did so before the rule (its ETag,
    the seq of its event, is below the rule's), every move sent after the rule
    was answered is refused, and the history holds no move of a v* tag after
    the rule's event."""

    THREADS = 6

    def test_no_move_commits_after_the_rule(self):
        repo = self.unique("race")
        self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": repo}).status, 201)
        commits = [self.tagd.new_commit("acme"), self.tagd.new_commit("acme")]
        for i in range(self.THREADS):
            r = self.req("POST", f"/api/v1/repositories/{repo}/tags",
                         {"tag_name": f"v{i}", "commit_id": commits[0]})
            self.assertEqual(r.status, 201, r)
        node_b = Tagd(database=self.tagd.database)
        node_b.start()
        self.addCleanup(node_b.cleanup)
        ruled = threading.Event()
        moved = threading.Barrier(self.THREADS + 1)
        answers = [[] for _ in range(self.THREADS)]
        errors = []

        def mover(i):
            try:
                n, after = 0, 0
                while after < 3:  # a few refusals once the rule is in force
                    if ruled.is_set():
                        after += 1
                    r = node_b.request("PATCH", f"/api/v1/repositories/{repo}/tags/v{i}",
                                       {"commit_id": commits[(n + 1) % 2]},
                                       token=self.token)
                    answers[i].append((after > 0, r.status, r.header("etag"), r.body))
                    n += 1
                    if n == 3:
                        moved.wait(30)  # every mover has moved: the race is on
            except BaseException as e:
                errors.append(e)
                moved.abort()

        threads = [threading.Thread(target=mover, args=(i,)) for i in range(self.THREADS)]
        for t in threads:
            t.start()
        moved.wait(30)
        rule = self.req("POST", f"/api/v1/repositories/{repo}/protected_tags",
                        {"pattern": "v*", "mode": "immutable"})
        ruled.set()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(rule.status, 201, rule)
        seq = rule.json()["seq"]
        ok = refused = 0
        for i, mine in enumerate(answers):
            for sent_after, status, etag, body in mine:
                if status == 204:
                    ok += 1
                    self.assertLess(int(etag.strip('"')), seq, "a move committed after the rule")
                    self.assertFalse(sent_after, "a move sent after the rule was answered passed")
                else:
                    refused += 1
                    self.assertEqual((status, json.loads(body)["error"]),
                                     (403, f"tag 'v{i}' is immutable (rule 'v*')"))
        self.assertGreaterEqual(ok, 3 * self.THREADS)
        self.assertGreaterEqual(refused, 3 * self.THREADS)
        events = []
        after = 0
        while True:
            page = self.req("GET", f"/api/v1/events?after={after}&limit=1000").json()
            events += page["events"]
            if page["next_after"] is None:
                break
            after = page["next_after"]
        late = [e for e in events if e["seq"] > seq and e["scope"].get("repository") == repo]
        self.assertEqual(late, [])
        moves = [e for e in events if e["action"] == "move" and
                 e["scope"].get("repository") == repo]
        self.assertEqual(len(moves), ok)
        self.tagd.cli("history", "verify", "--org", "acme")
        self.assertEqual(node_b.stop(), 0)
        self.assertIsNone(node_b.sanitizer_report())
