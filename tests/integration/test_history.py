"""The history of tag changes (issue 11): one event per changed tag on every
mutating route of both dialects and the cascades, no event for a failed or
non-tag change, the chain recomputed independently with RFC 8785 + SHA-256,
the per-tag histories and the feed, `tagd history verify` catching edits
made behind tagd's back, If-Match compare-and-swap, and retention."""
import hashlib
import json
import threading
import time
import urllib.parse
import uuid

from sstest import SsCase, new_sha
from tagdtest import Tagd

ZERO = "0" * 64
EVENT_KEYS = {"action", "actor", "at", "commit_id", "description", "description_changed",
              "dialect", "hash", "id", "previous_commit_id", "previous_description",
              "previous_hash", "previous_seq", "request_id", "scope", "seq", "tag"}


def canonical(ev):
    """RFC 8785 for the JSON tagd writes (strings, integers, booleans, null, ASCII keys):
    Python's compact, sorted, non-ASCII-preserving dump is exactly that."""
    body = {k: v for k, v in ev.items() if k not in ("hash", "previous_hash")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def q(name):
    return urllib.parse.quote(name, safe="")


class HistoryCase(SsCase):
    def fresh(self):
        """A new organization (so its chain starts at 1) with a token, an
        authorization "all", a repository, two commits and a ServiceStage project."""
        name = self.unique("h")
        project_id = "p-" + name
        token = self.tagd.new_org(name, project_id=project_id)
        self.tagd.cli("repo-auth", "create", "--org", name, "--name", "all")
        token_id = token[5:21]
        o = type("Org", (), {})()
        o.name, o.token, o.token_id, o.project_id = name, token, token_id, project_id
        o.c1, o.c2 = self.commit(name), self.commit(name)
        o.repo = self.unique("repo")
        self.assertEqual(self.v(o, "POST", "/api/v1/repositories", {"name": o.repo}).status, 201)
        o.ns, o.proj = self.unique("ns"), self.unique("proj")
        r = self.s(o, "POST", f"/repos/{o.ns}/projects", {"name": o.proj})
        self.assertEqual(r.status, 200, r)
        o.sha1, o.sha2 = new_sha(), new_sha()
        for sha in (o.sha1, o.sha2):
            r = self.s(o, "POST", f"/repos/{o.ns}/{o.proj}/commits",
                       {"sha": sha, "message": "m", "branch": "main"})
            self.assertEqual(r.status, 201, r)
        return o

    def commit(self, org):
        return self.tagd.new_commit(org)

    def v(self, o, method, path, body=None, headers=None, rid=None):
        h = dict(headers or {})
        if rid:
            h["X-Request-Id"] = rid
        return self.tagd.request(method, path, body=body, token=o.token, headers=h)

    def s(self, o, method, path, body=None, query="", rid=None):
        h = {"X-Auth-Token": o.token, "X-Repo-Auth": "all"}
        if rid:
            h["X-Request-Id"] = rid
        return self.tagd.request(method, f"/v1/{o.project_id}/git{path}{query}", body=body,
                                 headers=h, token=None, content_type="application/json")

    def head(self, o):
        r = self.v(o, "GET", "/api/v1/events/head")
        self.assertEqual(r.status, 200, r)
        return r.json()

    def feed(self, o, after=0, limit=1000):
        out = []
        while True:
            r = self.v(o, "GET", f"/api/v1/events?after={after}&limit={limit}")
            self.assertEqual(r.status, 200, r)
            doc = r.json()
            out += doc["events"]
            if doc["next_after"] is None:
                self.assertIsNone(r.header("link"))
                return out
            self.assertEqual(r.header("link"),
                             f'</api/v1/events?limit={limit}&after={doc["next_after"]}>; '
                             'rel="next"')
            after = doc["next_after"]

    def assertChain(self, events):
        prev = bytes(32)
        for i, ev in enumerate(events, 1):
            self.assertEqual(set(ev), EVENT_KEYS, ev)
            self.assertEqual(ev["seq"], i, ev)
            self.assertEqual(ev["previous_hash"], prev.hex(), ev)
            h = hashlib.sha256(prev + canonical(ev)).digest()
            self.assertEqual(ev["hash"], h.hex(), ev)
            prev = h
        return prev.hex()


class HistoryTest(HistoryCase):
    def test_every_tag_change_is_one_event(self):
        o = self.fresh()
        repo = {"kind": "repository", "repository": o.repo}
        ctags = {"kind": "commit_tags"}
        ss = {"kind": "servicestage", "namespace": o.ns, "project": o.proj}
        tags = f"/api/v1/repositories/{o.repo}/tags"
        sst = f"/repos/{o.ns}/{o.proj}/tags"

        def ev(scope, tag, action, commit, prev, desc_changed=False, desc=None, prev_desc=None,
               dialect="vers"):
            return {"scope": scope, "tag": tag, "action": action, "commit_id": commit,
                    "previous_commit_id": prev, "description_changed": desc_changed,
                    "description": desc, "previous_description": prev_desc, "dialect": dialect}

        weird = 'tab\there \u0001 é 版本 "q" \\ \u007f \u2028'
        cases = [
            ("create a repository tag", 201,
             lambda rid: self.v(o, "POST", tags, {"tag_name": "t1", "commit_id": o.c1,
                                                  "description": "first"}, rid=rid),
             [ev(repo, "t1", "create", o.c1, None, True, "first", None)]),
            ("create without description", 201,
             lambda rid: self.v(o, "POST", tags, {"tag_name": "t2", "commit_id": o.c1}, rid=rid),
             [ev(repo, "t2", "create", o.c1, None)]),
            ("move", 204,
             lambda rid: self.v(o, "PATCH", f"{tags}/t1", {"commit_id": o.c2}, rid=rid),
             [ev(repo, "t1", "move", o.c2, o.c1)]),
            ("move and describe", 204,
             lambda rid: self.v(o, "PATCH", f"{tags}/t2",
                                {"commit_id": o.c2, "description": weird}, rid=rid),
             [ev(repo, "t2", "move", o.c2, o.c1, True, weird, None)]),
            ("describe only", 204,
             lambda rid: self.v(o, "PATCH", f"{tags}/t1", {"description": "second"}, rid=rid),
             [ev(repo, "t1", "update", o.c2, o.c2, True, "second", "first")]),
            ("clear the description", 204,
             lambda rid: self.v(o, "PATCH", f"{tags}/t1", {"description": None}, rid=rid),
             [ev(repo, "t1", "update", o.c2, o.c2, True, None, "second")]),
            ("a PATCH that changes nothing but updated_at", 204,
             lambda rid: self.v(o, "PATCH", f"{tags}/t1", {"commit_id": o.c2}, rid=rid),
             [ev(repo, "t1", "update", o.c2, o.c2)]),
            ("delete a repository tag", 204,
             lambda rid: self.v(o, "DELETE", f"{tags}/t1", rid=rid),
             [ev(repo, "t1", "delete", None, o.c2)]),
            ("create a legacy commit tag", 201,
             lambda rid: self.v(o, "POST", "/api/v1/commit_tags",
                                {"tag_name": "n1", "commit_id": o.c1}, rid=rid),
             [ev(ctags, "n1", "create", o.c1, None)]),
            ("move a legacy commit tag", 204,
             lambda rid: self.v(o, "PATCH", "/api/v1/commit_tags/n1",
                                {"commit_id": o.c2, "description": "d"}, rid=rid),
             [ev(ctags, "n1", "move", o.c2, o.c1, True, "d", None)]),
            ("delete a legacy commit tag", 204,
             lambda rid: self.v(o, "DELETE", "/api/v1/commit_tags/n1", rid=rid),
             [ev(ctags, "n1", "delete", None, o.c2, True, None, "d")]),
            ("create a ServiceStage tag", 200,
             lambda rid: self.s(o, "POST", sst, {"name": "rel/1", "description": "r1"},
                                query="?ref=main", rid=rid),
             [ev(ss, "rel/1", "create", o.sha2, None, True, "r1", None, "servicestage")]),
            ("create a ServiceStage tag by SHA", 200,
             lambda rid: self.s(o, "POST", sst, {"name": "rel2", "description": ""},
                                query="?ref=" + o.sha1[:8], rid=rid),
             [ev(ss, "rel2", "create", o.sha1, None, True, "", None, "servicestage")]),
            ("delete a ServiceStage tag", 204,
             lambda rid: self.s(o, "DELETE", f"{sst}/rel%2F1", rid=rid),
             [ev(ss, "rel/1", "delete", None, o.sha2, True, None, "r1", "servicestage")]),
            ("delete a repository: each tag goes with its event, by name", 204,
             lambda rid: self.v(o, "DELETE", f"/api/v1/repositories/{o.repo}", rid=rid),
             [ev(repo, "t2", "delete", None, o.c2, True, None, weird)]),
        ]
        for what, status, do, expected in cases:
            with self.subTest(what):
                before = self.head(o)["seq"]
                rid = "rid-" + uuid.uuid4().hex
                r = do(rid)
                self.assertEqual(r.status, status, (what, r))
                got = self.feed(o, after=before)
                self.assertEqual(len(got), len(expected), (what, got))
                for e, want in zip(got, expected):
                    for k, v in want.items():
                        self.assertEqual(e[k], v, (what, k, e))
                    self.assertEqual(e["request_id"], rid)
                    self.assertEqual(e["actor"], {"token_id": o.token_id, "label": None})
                    self.assertRegex(e["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
                    uuid.UUID(e["id"])
        events = self.feed(o)
        head = self.head(o)
        self.assertEqual(head, {"seq": len(events), "hash": self.assertChain(events)})
        v = self.tagd.cli("history", "verify", "--org", o.name)
        self.assertIn(f"ok: {len(events)} events", v.stdout)

    def test_a_repository_delete_writes_one_event_per_tag(self):
        o = self.fresh()
        names = [f"v{i:03d}" for i in range(300)]  # more than one of the cascade's chunks
        for n in names:
            self.assertEqual(self.v(o, "POST", f"/api/v1/repositories/{o.repo}/tags",
                                   {"tag_name": n, "commit_id": o.c1}).status, 201)
        before = self.head(o)["seq"]
        self.assertEqual(self.v(o, "DELETE", f"/api/v1/repositories/{o.repo}").status, 204)
        got = self.feed(o, after=before)
        self.assertEqual([e["tag"] for e in got], names)
        self.assertEqual({e["action"] for e in got}, {"delete"})
        self.assertChain(self.feed(o))

    def test_failed_and_non_tag_changes_write_no_event(self):
        o = self.fresh()
        tags = f"/api/v1/repositories/{o.repo}/tags"
        self.assertEqual(self.v(o, "POST", tags, {"tag_name": "t", "commit_id": o.c1}).status,
                         201)
        other = self.commit("other")
        attempts = [
            ("duplicate", 409, "POST", tags, {"tag_name": "t", "commit_id": o.c1}),
            ("bad name", 400, "POST", tags, {"tag_name": "a b", "commit_id": o.c1}),
            ("unknown repository", 404, "POST", "/api/v1/repositories/nope/tags",
             {"tag_name": "x", "commit_id": o.c1}),
            ("unknown commit", 404, "POST", tags,
             {"tag_name": "x", "commit_id": str(uuid.uuid4())}),
            ("another org's commit", 403, "PATCH", f"{tags}/t", {"commit_id": other}),
            ("unknown tag", 404, "PATCH", f"{tags}/zz", {"commit_id": o.c2}),
            ("nothing to do", 400, "PATCH", f"{tags}/t", {}),
            ("unknown tag delete", 404, "DELETE", f"{tags}/zz", None),
            ("legacy duplicate", 201, "POST", "/api/v1/commit_tags",
             {"tag_name": "dup", "commit_id": o.c1}),
            ("legacy duplicate again", 409, "POST", "/api/v1/commit_tags",
             {"tag_name": "dup", "commit_id": o.c1}),
            ("a repository", 201, "POST", "/api/v1/repositories", {"name": self.unique("r")}),
            ("visibility", 204, "PATCH", f"/api/v1/repositories/{o.repo}/visibility",
             {"is_public": True}),
            ("a commit", 201, "POST", "/api/v1/commits", {"name": "c"}),
            ("a commit's fields", 200, "PATCH", f"/api/v1/commits/{o.c2}", {"is_public": True}),
        ]
        for what, status, method, path, body in attempts:
            with self.subTest(what):
                before = self.head(o)["seq"]
                r = self.v(o, method, path, body)
                self.assertEqual(r.status, status, (what, r))
                n = len(self.feed(o, after=before))
                self.assertEqual(n, 1 if what == "legacy duplicate" else 0, what)
        before = self.head(o)["seq"]
        sst = f"/repos/{o.ns}/{o.proj}/tags"
        self.assertEqual(self.s(o, "POST", sst, {"name": "x", "description": "d"},
                                query="?ref=main").status, 200)
        self.assertEqual(self.s(o, "POST", sst, {"name": "x", "description": "d"},
                                query="?ref=main").status, 400)
        self.assertEqual(self.s(o, "POST", sst, {"name": "y", "description": "d"},
                                query="?ref=nope").status, 400)
        self.assertEqual(self.s(o, "DELETE", f"{sst}/nope").status, 400)
        self.assertEqual(self.s(o, "POST", f"/repos/{o.ns}/projects",
                                {"name": self.unique("p")}).status, 200)
        self.assertEqual(len(self.feed(o, after=before)), 1)
        self.tagd.cli("history", "verify", "--org", o.name)

    def test_tag_histories(self):
        o = self.fresh()
        tags = f"/api/v1/repositories/{o.repo}/tags"
        self.assertEqual(self.v(o, "POST", tags, {"tag_name": "v1", "commit_id": o.c1}).status,
                         201)
        for i in range(4):
            c = o.c2 if i % 2 == 0 else o.c1
            self.assertEqual(self.v(o, "PATCH", f"{tags}/v1", {"commit_id": c}).status, 204)
        self.assertEqual(self.v(o, "POST", tags, {"tag_name": "v2", "commit_id": o.c1}).status,
                         201)
        r = self.v(o, "GET", f"{tags}/v1/history")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json")
        doc = r.json()
        self.assertEqual([e["seq"] for e in doc["events"]], [5, 4, 3, 2, 1])  # newest first
        self.assertIsNone(doc["next_after"])
        # Paged: limit/after, next_after and Link, as the tag lists.
        r = self.v(o, "GET", f"{tags}/v1/history?limit=2")
        self.assertEqual([e["seq"] for e in r.json()["events"]], [5, 4])
        self.assertEqual(r.json()["next_after"], 4)
        self.assertEqual(r.header("link"),
                         f'</api/v1/repositories/{o.repo}/tags/v1/history?limit=2&after=4>; '
                         'rel="next"')
        r = self.v(o, "GET", f"{tags}/v1/history?limit=2&after=4")
        self.assertEqual([e["seq"] for e in r.json()["events"]], [3, 2])
        r = self.v(o, "GET", f"{tags}/v1/history?limit=2&after=2")
        self.assertEqual(([e["seq"] for e in r.json()["events"]], r.json()["next_after"]),
                         ([1], None))
        self.assertIsNone(r.header("link"))
        # Past the end of an existing history: empty, not 404.
        r = self.v(o, "GET", f"{tags}/v1/history?after=1")
        self.assertEqual((r.status, r.json()), (200, {"events": [], "next_after": None}))
        # History outlives the tag and the repository.
        self.assertEqual(self.v(o, "DELETE", f"/api/v1/repositories/{o.repo}").status, 204)
        r = self.v(o, "GET", f"{tags}/v1/history?limit=1")
        self.assertEqual(r.json()["events"][0]["action"], "delete")
        # Never existed: the usual 404s.
        self.assertVersError(self.v(o, "GET", f"{tags}/never/history"), 404,
                             "repository not found")
        repo2 = self.unique("repo")
        self.assertEqual(self.v(o, "POST", "/api/v1/repositories", {"name": repo2}).status, 201)
        self.assertVersError(self.v(o, "GET", f"/api/v1/repositories/{repo2}/tags/x/history"),
                             404, "tag not found")
        self.assertVersError(self.v(o, "GET", "/api/v1/commit_tags/x/history"), 404,
                             "tag not found")
        # Another organization sees nothing of it.
        r = self.tagd.request("GET", f"{tags}/v1/history", token=self.other_token)
        self.assertVersError(r, 404, "repository not found")
        # Bad paging: the tag lists' words.
        for query, why in (("limit=0", "invalid value for `limit`: 0, expected an integer "
                                       "from 1 to 1000"),
                           ("limit=abc", "invalid digit found in string"),
                           ("after=-1", "invalid value for `after`: -1, expected an integer "
                                        "from 0 to 9223372036854775806"),
                           ("limit=1&limit=2", "duplicate field `limit`")):
            self.assertVersError(self.v(o, "GET", f"{tags}/v1/history?{query}"), 400,
                                 "Failed to deserialize query string: " + why)
            self.assertVersError(self.v(o, "GET", f"/api/v1/events?{query}"), 400,
                                 "Failed to deserialize query string: " + why)

    def test_legacy_and_servicestage_histories(self):
        o = self.fresh()
        self.assertEqual(self.v(o, "POST", "/api/v1/commit_tags",
                                {"tag_name": "nightly", "commit_id": o.c1}).status, 201)
        self.assertEqual(self.v(o, "PATCH", "/api/v1/commit_tags/nightly",
                                {"commit_id": o.c2}).status, 204)
        r = self.v(o, "GET", "/api/v1/commit_tags/nightly/history")
        self.assertEqual([e["action"] for e in r.json()["events"]], ["move", "create"])
        sst = f"/repos/{o.ns}/{o.proj}/tags"
        self.assertEqual(self.s(o, "POST", sst, {"name": "a/b", "description": "m"},
                                query="?ref=main").status, 200)
        self.assertEqual(self.s(o, "DELETE", f"{sst}/a%2Fb").status, 204)
        self.assertEqual(self.s(o, "POST", sst, {"name": "a/b", "description": "again"},
                                query="?ref=" + o.sha1).status, 200)
        r = self.s(o, "GET", f"{sst}/a%2Fb/history")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json;charset=utf8")
        evs = r.json()["events"]
        self.assertEqual([(e["action"], e["commit_id"]) for e in evs],
                         [("create", o.sha1), ("delete", None), ("create", o.sha2)])
        self.assertEqual(evs[0]["scope"],
                         {"kind": "servicestage", "namespace": o.ns, "project": o.proj})
        # By project and namespace id too: the same history.
        info = self.s(o, "GET", "/repos/project-info",
                      query="?clone_url=" + q(f"https://git.example.com/{o.ns}/{o.proj}.git"))
        ids = info.json()
        r2 = self.s(o, "GET", f"/repos/{ids['namespace_id']}/{ids['project_id']}/tags/a%2Fb/"
                              "history?limit=1")
        self.assertEqual(r2.json()["events"], evs[:1])
        self.assertTrue(r2.header("link").endswith('&after=%s>; rel="next"' % evs[0]["seq"]))
        # Never existed, unknown project, bad paging: 400 0400 as every ServiceStage not-found.
        self.assertBadParam(self.s(o, "GET", f"{sst}/never/history"))
        self.assertBadParam(self.s(o, "GET", f"/repos/{o.ns}/nope/tags/a%2Fb/history"))
        self.assertBadParam(self.s(o, "GET", f"{sst}/a%2Fb/history", query="?limit=0"))
        self.assertBadParam(self.s(o, "GET", f"{sst}/a%2Fb/history", query="?after=x"))
        # Its auth: X-Repo-Auth required; another tenant's project id refused.
        r = self.tagd.request("GET", f"/v1/{o.project_id}/git{sst}/a%2Fb/history",
                              headers={"X-Auth-Token": o.token})
        self.assertSsError(r, 400, "SVCSTG.REPO.0450")
        r = self.tagd.request("GET", f"/v1/{o.project_id}/git{sst}/a%2Fb/history",
                              headers={"X-Auth-Token": self.token, "X-Repo-Auth": "all"})
        self.assertSsError(r, 403, "APIGW.0302")

    def test_verify_catches_changes_behind_tagds_back(self):
        o = self.fresh()
        tags = f"/api/v1/repositories/{o.repo}/tags"
        for n in ("a", "b", "c"):
            self.assertEqual(self.v(o, "POST", tags, {"tag_name": n, "commit_id": o.c1}).status,
                             201)
        self.assertEqual(self.v(o, "PATCH", f"{tags}/b", {"commit_id": o.c2}).status, 204)
        self.tagd.cli("history", "verify", "--org", o.name)
        seq_b = self.v(o, "GET", f"{tags}/b/history").json()["events"][0]["seq"]
        db = self.tagd
        org_id = db.sql("SELECT id FROM orgs WHERE name = ?", (o.name,))[0][0]

        def verify_fails(pattern):
            r = self.tagd.cli("history", "verify", "--org", o.name, check=False)
            self.assertEqual(r.returncode, 1, r)
            self.assertRegex(r.stderr, pattern)

        def tamper(sql, args, undo, undo_args, pattern):
            db.sql_exec(sql, args)
            try:
                verify_fails(pattern)
            finally:
                db.sql_exec(undo, undo_args)
            self.tagd.cli("history", "verify", "--org", o.name)

        # An event's content rewritten: named by its seq.
        tamper("UPDATE events SET commit_ref = ? WHERE org_id = ? AND seq = ?",
               (o.c1, org_id, seq_b), "UPDATE events SET commit_ref = ? WHERE org_id = ? "
               "AND seq = ?", (o.c2, org_id, seq_b),
               f"event {seq_b}: its hash does not match its content")
        tamper("UPDATE events SET token_label = 'someone else' WHERE org_id = ? AND seq = 2",
               (org_id,), "UPDATE events SET token_label = NULL WHERE org_id = ? AND seq = 2",
               (org_id,), "event 2: its hash does not match")
        # A tag moved behind tagd's back (its row edited, no event).
        tamper("UPDATE repo_tags SET commit_id = (SELECT id FROM commits WHERE uuid = ?) "
               "WHERE name = 'a' AND repo_id = (SELECT id FROM repos WHERE org_id = ? AND "
               "name = ?)", (o.c2, org_id, o.repo),
               "UPDATE repo_tags SET commit_id = (SELECT id FROM commits WHERE uuid = ?) "
               "WHERE name = 'a' AND repo_id = (SELECT id FROM repos WHERE org_id = ? AND "
               "name = ?)", (o.c1, org_id, o.repo),
               f"repository tag '{o.repo}:a': its commit is not the one its last event set")
        # An event removed from the middle, or from the end.
        row = db.sql("SELECT * FROM events WHERE org_id = ? AND seq = 2", (org_id,))[0]
        cols = len(row)
        tamper("DELETE FROM events WHERE org_id = ? AND seq = 2", (org_id,),
               f"INSERT INTO events VALUES ({','.join('?' * cols)})", row,
               "event 2 is missing")
        last = db.sql("SELECT * FROM events WHERE org_id = ? AND seq = ?", (org_id, seq_b))[0]
        tamper("DELETE FROM events WHERE org_id = ? AND seq = ?", (org_id, seq_b),
               f"INSERT INTO events VALUES ({','.join('?' * cols)})", last,
               f"repository tag '{o.repo}:b': the event of its revision does not exist")
        # The last event removed and the tag put back as it was before it: the chain
        # alone cannot tell; a head published earlier can.
        head = self.head(o)
        expect = f"{head['seq']}:{head['hash']}"
        self.tagd.cli("history", "verify", "--org", o.name, "--expect", expect)
        b_row = db.sql("SELECT commit_id, rev FROM repo_tags WHERE name = 'b' AND repo_id = "
                       "(SELECT id FROM repos WHERE org_id = ? AND name = ?)", (org_id, o.repo))[0]
        (b_prev,), = db.sql("SELECT previous_seq FROM events WHERE org_id = ? AND seq = ?",
                            (org_id, seq_b))
        db.sql_exec("DELETE FROM events WHERE org_id = ? AND seq = ?", (org_id, seq_b))
        db.sql_exec("UPDATE repo_tags SET commit_id = (SELECT id FROM commits WHERE uuid = ?), "
                    "rev = ? WHERE name = 'b' AND repo_id = (SELECT id FROM repos WHERE org_id = ? "
                    "AND name = ?)", (o.c1, b_prev, org_id, o.repo))
        self.tagd.cli("history", "verify", "--org", o.name)  # consistent, but shorter
        r = self.tagd.cli("history", "verify", "--org", o.name, "--expect", expect, check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(f"event {head['seq']} of the expected head is missing", r.stderr)
        db.sql_exec(f"INSERT INTO events VALUES ({','.join('?' * cols)})", last)
        db.sql_exec("UPDATE repo_tags SET commit_id = ?, rev = ? WHERE name = 'b' AND repo_id = "
                    "(SELECT id FROM repos WHERE org_id = ? AND name = ?)",
                    (b_row[0], b_row[1], org_id, o.repo))
        self.tagd.cli("history", "verify", "--org", o.name, "--expect", expect)
        bad = f"{head['seq']}:{'0' * 64}"
        r = self.tagd.cli("history", "verify", "--org", o.name, "--expect", bad, check=False)
        self.assertIn("does not have the expected hash", r.stderr)
        for junk in ("12", "x:" + "0" * 64, "3:abc", "-1:" + "0" * 64):
            r = self.tagd.cli("history", "verify", "--org", o.name, "--expect", junk,
                              check=False)
            self.assertEqual(r.returncode, 2, (junk, r))
        # A tag deleted behind tagd's back.
        tag_row = db.sql("SELECT * FROM repo_tags WHERE name = 'c' AND repo_id = (SELECT id "
                         "FROM repos WHERE org_id = ? AND name = ?)", (org_id, o.repo))[0]
        tamper("DELETE FROM repo_tags WHERE id = ?", (tag_row[0],),
               f"INSERT INTO repo_tags VALUES ({','.join('?' * len(tag_row))})", tag_row,
               f"the create of repository tag '{o.repo}:c' is its last event, but no such tag "
               "exists")
        r = self.tagd.cli("history", "verify", "--org", "no-such-org", check=False)
        self.assertEqual((r.returncode, r.stderr.strip()),
                         (4, "tagd history verify: no such organization"))

    def test_history_cli(self):
        o = self.fresh()
        tags = f"/api/v1/repositories/{o.repo}/tags"
        self.assertEqual(self.v(o, "POST", tags, {"tag_name": "v1", "commit_id": o.c1},
                                rid="cli-1").status, 201)
        self.assertEqual(self.v(o, "POST", "/api/v1/commit_tags",
                                {"tag_name": "v1", "commit_id": o.c1}).status, 201)
        lines = self.tagd.cli("history", "--org", o.name).stdout.splitlines()
        self.assertEqual(len(lines), 2)
        self.assertRegex(lines[0], rf"^1 \S+Z create {o.repo} v1 {o.c1} <- - by {o.token_id} "
                                   r"request cli-1$")
        js = self.tagd.cli("history", "--org", o.name, "--repo", o.repo, "--json").stdout
        (one,) = [json.loads(line) for line in js.splitlines()]
        self.assertEqual(one, self.feed(o)[0])
        self.assertEqual(len(self.tagd.cli("history", "--org", o.name, "--commit-tags")
                             .stdout.splitlines()), 1)
        self.assertEqual(self.tagd.cli("history", "--org", o.name, "--tag", "nope").stdout, "")
        for bad in (["history"], ["history", "--org", o.name, "--org", o.name],
                    ["history", "--org", o.name, "--bogus"],
                    ["history", "--org", o.name, "--repo", "a", "--commit-tags"]):
            r = self.tagd.cli(*bad, check=False)
            self.assertEqual(r.returncode, 2, (bad, r))
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)


class IfMatchTest(HistoryCase):
    def test_compare_and_swap(self):
        o = self.fresh()
        tags = f"/api/v1/repositories/{o.repo}/tags"
        r = self.v(o, "POST", tags, {"tag_name": "v1", "commit_id": o.c1})
        etag = r.header("etag")
        self.assertRegex(etag, r'^"[1-9][0-9]*"$')
        for path in (f"{tags}/v1", f"/api/v1/public/repositories/{o.name}/{o.repo}/tags/v1"):
            if "public" in path:
                self.assertEqual(self.v(o, "PATCH", f"/api/v1/repositories/{o.repo}/visibility",
                                        {"is_public": True}).status, 204)
            r = self.tagd.request("GET", path, token=o.token if "public" not in path else None)
            self.assertEqual((r.status, r.header("etag")), (200, etag), path)
        stale = '"999999"'
        refused = [stale, 'W/' + etag, "garbage", etag[1:-1], '"1", garbage', ""]
        for value in refused:
            with self.subTest(value):
                before = self.head(o)["seq"]
                r = self.v(o, "PATCH", f"{tags}/v1", {"commit_id": o.c2},
                           headers={"If-Match": value})
                self.assertVersError(r, 412, "precondition failed: If-Match does not match the "
                                             "tag's ETag")
                r = self.v(o, "DELETE", f"{tags}/v1", headers={"If-Match": value})
                self.assertVersError(r, 412)
                self.assertEqual(self.head(o)["seq"], before)
        # A missing tag is 404 whatever If-Match says; a bad body 400 before it.
        self.assertVersError(self.v(o, "PATCH", f"{tags}/zz", {"commit_id": o.c2},
                                    headers={"If-Match": etag}), 404, "tag not found")
        self.assertVersError(self.v(o, "PATCH", f"{tags}/v1", {}, headers={"If-Match": stale}),
                             400, "no updates provided")
        # 412 comes before the commit is looked up.
        self.assertVersError(self.v(o, "PATCH", f"{tags}/v1", {"commit_id": str(uuid.uuid4())},
                                    headers={"If-Match": stale}), 412)
        self.assertVersError(self.v(o, "PATCH", f"{tags}/v1", {"commit_id": str(uuid.uuid4())},
                                    headers={"If-Match": etag}), 404, "commit not found")
        # Matching: the tag's own ETag, within a list, or *.
        r = self.v(o, "PATCH", f"{tags}/v1", {"commit_id": o.c2},
                   headers={"If-Match": f'"77", {etag}'})
        self.assertEqual(r.status, 204, r)
        new = r.header("etag")
        self.assertNotEqual(new, etag)
        self.assertEqual(self.v(o, "GET", f"{tags}/v1").header("etag"), new)
        self.assertEqual(self.v(o, "PATCH", f"{tags}/v1", {"description": "d"},
                                headers={"If-Match": etag}).status, 412)
        self.assertEqual(self.v(o, "PATCH", f"{tags}/v1", {"description": "d"},
                                headers={"If-Match": "*"}).status, 204)
        self.assertVersError(self.v(o, "DELETE", f"{tags}/zz", headers={"If-Match": "*"}), 404)
        cur = self.v(o, "GET", f"{tags}/v1").header("etag")
        self.assertEqual(self.v(o, "DELETE", f"{tags}/v1", headers={"If-Match": cur}).status,
                         204)
        # Legacy commit tags: the same.
        r = self.v(o, "POST", "/api/v1/commit_tags", {"tag_name": "n", "commit_id": o.c1})
        etag = r.header("etag")
        self.assertEqual(self.v(o, "GET", "/api/v1/commit_tags/n").header("etag"), etag)
        self.assertVersError(self.v(o, "PATCH", "/api/v1/commit_tags/n", {"commit_id": o.c2},
                                    headers={"If-Match": stale}), 412)
        r = self.v(o, "PATCH", "/api/v1/commit_tags/n", {"commit_id": o.c2},
                   headers={"If-Match": etag})
        self.assertEqual(r.status, 204)
        self.assertVersError(self.v(o, "DELETE", "/api/v1/commit_tags/n",
                                    headers={"If-Match": etag}), 412)
        self.assertEqual(self.v(o, "DELETE", "/api/v1/commit_tags/n",
                                headers={"If-Match": r.header("etag")}).status, 204)
        self.tagd.cli("history", "verify", "--org", o.name)

    def test_concurrent_moves_from_one_etag(self):
        o = self.fresh()
        tags = f"/api/v1/repositories/{o.repo}/tags"
        etag = self.v(o, "POST", tags, {"tag_name": "v1", "commit_id": o.c1}).header("etag")
        commits = [self.commit(o.name) for _ in range(16)]
        results = [None] * len(commits)
        go = threading.Barrier(len(commits))

        def move(i):
            go.wait()
            results[i] = self.v(o, "PATCH", f"{tags}/v1", {"commit_id": commits[i]},
                                headers={"If-Match": etag})

        threads = [threading.Thread(target=move, args=(i,)) for i in range(len(commits))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [i for i, r in enumerate(results) if r.status == 204]
        self.assertEqual(len(winners), 1, [r.status for r in results])
        self.assertEqual(sorted(r.status for r in results), [204] + [412] * 15)
        tag = self.v(o, "GET", f"{tags}/v1").json()
        self.assertEqual(tag["commit_id"], commits[winners[0]])
        moves = [e for e in self.feed(o) if e["action"] == "move"]
        self.assertEqual([e["commit_id"] for e in moves], [commits[winners[0]]])


class RetentionTest(HistoryCase):
    def test_prune_keeps_a_verifiable_chain(self):
        o = self.fresh()
        tags = f"/api/v1/repositories/{o.repo}/tags"
        for n in ("old1", "old2"):
            self.assertEqual(self.v(o, "POST", tags, {"tag_name": n, "commit_id": o.c1}).status,
                             201)
        self.assertEqual(self.v(o, "DELETE", f"{tags}/old2").status, 204)
        time.sleep(1.2)  # the events above must be older than the cut
        self.assertEqual(self.v(o, "PATCH", f"{tags}/old1", {"commit_id": o.c2}).status, 204)
        head = self.head(o)
        r = self.tagd.cli("history", "prune", "--older-than", "1s")
        self.assertRegex(r.stdout, r"^pruned [1-9][0-9]* events$")
        self.assertEqual(self.head(o), head)  # the head is untouched
        (kept,) = self.feed(o)
        self.assertEqual((kept["seq"], kept["action"], kept["tag"]), (head["seq"], "move", "old1"))
        v = self.tagd.cli("history", "verify", "--org", o.name).stdout
        self.assertIn(f"ok: 1 events from seq {head['seq']}", v)
        # A tag whose events are all gone and which is gone: never known.
        self.assertVersError(self.v(o, "GET", f"{tags}/old2/history"), 404, "tag not found")
        self.assertEqual(self.v(o, "POST", tags, {"tag_name": "new", "commit_id": o.c1}).status,
                         201)
        self.tagd.cli("history", "verify", "--org", o.name)
        for bad in ("0", "1", "2026-01-01", "abc"):
            r = self.tagd.cli("history", "prune", "--older-than", bad, check=False)
            self.assertEqual(r.returncode, 2, (bad, r))

    def test_serve_prunes_with_history_retention(self):
        t = Tagd(extra_args=("--history-retention", "1s"))
        try:
            token = t.new_org("acme")
            c = t.new_commit("acme")
            t.start()
            self.assertEqual(t.request("POST", "/api/v1/repositories", {"name": "r"},
                                       token=token).status, 201)
            self.assertEqual(t.request("POST", "/api/v1/repositories/r/tags",
                                       {"tag_name": "v", "commit_id": c}, token=token).status,
                             201)
            t.stop()
            time.sleep(1.2)
            mark = t.log_count()
            t.start()
            t.wait_log(r'msg="history retention: events pruned" events=1 more=no', start=mark)
            r = t.request("GET", "/api/v1/events", token=token)
            self.assertEqual(r.json(), {"events": [], "next_after": None})
            t.cli("history", "verify", "--org", "acme")
            r = t.cli("config", "check", "--history-retention", "2d")
            bad = t.cli("config", "check", "--history-retention", "forever", check=False)
            self.assertIn("history_retention = 2d", r.stdout)
            self.assertEqual(bad.returncode, 1, bad)
            self.assertIn("history_retention takes 0 or a duration", bad.stderr)
        finally:
            self.assertEqual(t.stop(), 0)
            t.cleanup()


if __name__ == "__main__":
    import unittest
    unittest.main()
