"""Webhooks: every tag change delivered to the systems that wait for it.

A real receiver (hooktest.Receiver: http.server on 127.0.0.1, checking both
signatures of every delivery) records what tagd sends.  Create, move, update
and delete arrive once each, in order, as the history shows them; both
dialects' bodies and headers; the API's errors in each envelope; a receiver
down then up; 410 disabling a hook; Retry-After; the failure counts that
disable a hook; retention holding what a hook has not delivered.  The
address rule, a SIGKILL between a change and its delivery and 1,000 events
to a slow receiver have classes of their own below.
"""
import os
import re
import threading
import time
import unittest

from hooktest import Receiver
from sstest import JSON_TYPE, SsCase, new_sha
from tagdtest import Tagd
from verstest import q

SECRET = "s3cret-0123456789-abcdef"
ZEROS = "0" * 40
ROUND = r'msg="hook round recorded" hook={} delivered_seq=(\d+) failures=(\d+)'


class HookCase(SsCase):
    """acme's server with hook_allow_private (the receiver is on loopback) and a receiver."""

    server_args = ("--hook-allow-private", "true", "--log-level", "debug")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rx = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        super().tearDownClass()

    def hook(self, name, repo=None, secret=SECRET, rx=None):
        """A Vers hook (the organization's, or repo's) posting to /h/name; returns its JSON."""
        url = (rx or self.rx).register(name, secret)
        path = f"/api/v1/repositories/{q(repo)}/hooks" if repo else "/api/v1/hooks"
        r = self.req("POST", path, {"url": url, "secret": secret})
        self.assertEqual(r.status, 201, r)
        return r.json()

    def commit(self):
        return self.tagd.new_commit("acme")

    def repo(self):
        name = self.unique("repo")
        self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": name}).status, 201)
        return name

    def tag(self, repo, name, commit, description=None):
        body = {"tag_name": name, "commit_id": commit}
        if description is not None:
            body["description"] = description
        r = self.req("POST", f"/api/v1/repositories/{q(repo)}/tags", body)
        self.assertEqual(r.status, 201, r)

    def wait_round(self, hook_id, seq=None, mark=0, timeout=30):
        """The log line of a recorded round of hook_id (at delivered_seq seq, if given)."""
        want = str(seq) if seq is not None else r"\d+"
        return self.tagd.wait_log(ROUND.format(hook_id).replace(r"(\d+)", f"({want})", 1),
                                  timeout=timeout, start=mark)

    def get_hook(self, hook_id):
        r = self.req("GET", f"/api/v1/hooks/{hook_id}/deliveries")
        self.assertEqual(r.status, 200, r)
        return r.json()

    def events(self, after=0):
        r = self.req("GET", f"/api/v1/events?after={after}&limit=1000")
        self.assertEqual(r.status, 200, r)
        return r.json()["events"]


class DeliveryTest(HookCase):
    def test_changes_arrive_once_each_in_order_as_the_history_shows_them(self):
        repo, elsewhere = self.repo(), self.repo()
        h = self.hook("order", repo=repo)
        witness = self.hook("order-all")
        c1, c2 = self.commit(), self.commit()
        self.tag(repo, "v1", c1)
        self.assertEqual(self.req("PATCH", f"/api/v1/repositories/{repo}/tags/v1",
                                  {"commit_id": c2}).status, 204)
        self.assertEqual(self.req("PATCH", f"/api/v1/repositories/{repo}/tags/v1",
                                  {"description": "d"}).status, 204)
        self.tag(elsewhere, "v1", c1)  # not this hook's repository
        self.assertEqual(self.req("DELETE", f"/api/v1/repositories/{repo}/tags/v1").status, 204)
        got = self.rx.wait_for("order", 4)
        self.assertEqual([d.json["action"] for d in got], ["create", "move", "update", "delete"])
        self.assertEqual([d.json["repository"] for d in got], [repo] * 4)
        seqs = [d.json["seq"] for d in got]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len({d.webhook_id for d in got}), 4)
        # The body is the feed's event plus "repository", member for member.
        feed = {e["seq"]: e for e in self.events(seqs[0] - 1)}
        for d in got:
            body = dict(d.json)
            del body["repository"]
            self.assertEqual(body, feed[body["seq"]])
            self.assertEqual(d.headers["content-type"], "application/json")
            self.assertTrue(re.fullmatch(r"msg_[0-9a-f]{32}", d.webhook_id), d.webhook_id)
            self.assertNotIn("x-gitlab-event", d.headers)
        # The organization's hook saw all five, the other repository's included.
        everything = self.rx.wait_for("order-all", 5)
        self.assertEqual([d.json["seq"] for d in everything], sorted(feed)[:5])
        self.assertEqual(len(self.rx.of("order")), 4)
        self.wait_round(h["id"], seqs[-1])
        log = self.get_hook(h["id"])
        self.assertEqual([d["seq"] for d in log["deliveries"]], seqs[::-1])
        for d, sent in zip(log["deliveries"], got[::-1]):
            self.assertEqual((d["state"], d["attempts"], d["last_status"]), ("delivered", 1, 200))
            self.assertEqual(d["webhook_id"], sent.webhook_id)
            self.assertIsNone(d["next_attempt_at"])
        self.assertEqual(log["hook"]["delivered_seq"], seqs[-1])
        self.assertEqual(witness["repository"], None)
        self.assertEqual(h["repository"], repo)

    def test_a_create_answers_the_hook_as_it_is_listed(self):
        repo = self.repo()
        self.tag(repo, "before", self.commit())  # the chain's head is past 0
        head = self.req("GET", "/api/v1/events/head").json()["seq"]
        h = self.hook("answer", repo=repo)
        self.assertEqual(h["delivered_seq"], head)  # it hears what follows
        r = self.req("GET", f"/api/v1/repositories/{q(repo)}/hooks")
        self.assertEqual((r.status, r.json()), (200, {"hooks": [h]}))

    def test_organization_hook_hears_every_kind_of_tag(self):
        self.hook("kinds")
        c = self.commit()
        repo = self.repo()
        self.tag(repo, "t", c)
        r = self.req("POST", "/api/v1/commit_tags", {"tag_name": self.unique("ct"), "commit_id": c})
        self.assertEqual(r.status, 201, r)
        ns, project, _ = self.new_project()
        sha = new_sha()
        self.assertEqual(self.ss("POST", f"/repos/{ns}/{project}/commits",
                                 {"sha": sha, "message": "m", "branch": "main"}).status, 201)
        r = self.ss("POST", f"/repos/{ns}/{project}/tags", {"name": "v1", "description": "d"},
                    query="?ref=main")
        self.assertEqual(r.status, 200, r)
        got = self.rx.wait_for("kinds", 3)
        self.assertEqual([d.json["scope"]["kind"] for d in got],
                         ["repository", "commit_tags", "servicestage"])
        self.assertEqual([d.json["repository"] for d in got], [repo, None, f"{ns}/{project}"])
        self.assertEqual(got[2].json["commit_id"], sha)

    def test_a_repository_deleted_keeps_its_hooks_which_hear_its_tags_go(self):
        repo = self.repo()
        h = self.hook("gone", repo=repo)
        c = self.commit()
        self.tag(repo, "a", c)
        self.tag(repo, "b", c)
        self.assertEqual(self.req("DELETE", f"/api/v1/repositories/{repo}").status, 204)
        got = self.rx.wait_for("gone", 4)
        self.assertEqual([(d.json["action"], d.json["tag"]) for d in got],
                         [("create", "a"), ("create", "b"), ("delete", "a"), ("delete", "b")])
        # The repository's routes are gone with it; the organization's still name the hook.
        self.assertVersError(self.req("GET", f"/api/v1/repositories/{repo}/hooks"), 404,
                             "repository not found")
        self.assertEqual(self.get_hook(h["id"])["hook"]["repository"], repo)
        self.assertEqual(self.req("DELETE", f"/api/v1/hooks/{h['id']}").status, 204)
        self.assertVersError(self.req("GET", f"/api/v1/hooks/{h['id']}/deliveries"), 404,
                             "hook not found")


def readme_receiver():
    """The receiver of README's "Webhooks", as its namespace: Hook, SECRET."""
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md"),
              encoding="utf-8") as f:
        text = f.read()
    start = text.index("```python\n", text.index("A receiver that checks the signature"))
    code = text[start + len("```python\n"):text.index("```\n", start + 10)]
    serve = 'HTTPServer(("127.0.0.1", 9000), Hook).serve_forever()\n'
    assert code.endswith(serve), code[-200:]
    return code[:-len(serve)]


class ReadmeReceiverTest(HookCase):
    def test_the_readme_receiver_verifies_the_signature(self):
        printed = []
        ns = {"print": lambda *a: printed.append(a)}
        exec(readme_receiver(), ns)  # noqa: S102 -- README's own example
        ns["Hook"].log_message = lambda *args: None  # http.server's access lines
        server = ns["HTTPServer"](("127.0.0.1", 0), ns["Hook"])
        self.addCleanup(server.server_close)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        url = f"http://127.0.0.1:{server.server_address[1]}/tagd"
        good = self.req("POST", "/api/v1/hooks",
                        {"url": url, "secret": ns["SECRET"].decode()}).json()
        wrong = self.req("POST", "/api/v1/hooks", {"url": url, "secret": SECRET}).json()
        mark = self.tagd.log_mark()
        repo = self.repo()
        c = self.commit()
        self.tag(repo, "v1", c)
        self.wait_round(good["id"], mark=mark)
        self.wait_round(wrong["id"], mark=mark)
        self.assertEqual(printed, [("create", repo, "v1", c)])
        (d,) = self.get_hook(good["id"])["deliveries"]
        self.assertEqual((d["state"], d["last_status"]), ("delivered", 204))
        (d,) = self.get_hook(wrong["id"])["deliveries"]
        self.assertEqual((d["state"], d["last_status"], d["last_error"]),
                         ("pending", 401, "HTTP 401"))


class ServiceStageHookTest(HookCase):
    def test_create_list_deliver_delete(self):
        ns, project, info = self.new_project()
        base = f"/repos/{ns}/{project}"
        url = self.rx.register("ss", SECRET)
        r = self.ss("POST", base + "/hooks", {"secret": SECRET, "url": url})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), JSON_TYPE)
        hook = r.json()
        self.assertEqual(set(hook), {"id", "type", "callback_url"})
        self.assertTrue(hook["id"].isdigit(), hook)
        self.assertEqual((hook["type"], hook["callback_url"]), ("tag_push", url))
        r = self.ss("GET", base + "/hooks")
        self.assertEqual((r.status, r.json()), (200, {"hooks": [hook]}))
        sha = new_sha()
        self.assertEqual(self.ss("POST", base + "/commits",
                                 {"sha": sha, "message": "m", "branch": "main"}).status, 201)
        r = self.ss("POST", base + "/tags", {"name": "v1.0", "description": "release"},
                    query="?ref=main")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.ss("DELETE", base + "/tags/v1.0").status, 204)
        created, deleted = self.rx.wait_for("ss", 2)
        for d in (created, deleted):
            self.assertEqual(d.headers["x-gitlab-event"], "Tag Push Hook")
            self.assertEqual(d.headers["x-gitlab-token"], SECRET)
            self.assertEqual(d.headers["x-gitlab-event-uuid"], d.webhook_id)
            self.assertEqual(d.json["object_kind"], "tag_push")
            self.assertEqual(d.json["ref"], "refs/tags/v1.0")
            self.assertEqual(d.json["project_id"], int(info["id"]))
            project_doc = d.json["project"]
            self.assertEqual(project_doc["path_with_namespace"], f"{ns}/{project}")
            self.assertEqual(project_doc["namespace"], ns)
            self.assertEqual(project_doc["git_http_url"], info["clone_url"])
            self.assertEqual(d.json["repository"]["url"], info["clone_url"])
            self.assertEqual(d.json["commits"], [])
        self.assertEqual((created.json["before"], created.json["after"]), (ZEROS, sha))
        self.assertEqual((created.json["checkout_sha"], created.json["message"]), (sha, "release"))
        self.assertEqual((deleted.json["before"], deleted.json["after"]), (sha, ZEROS))
        self.assertIsNone(deleted.json["checkout_sha"])
        self.assertNotEqual(created.webhook_id, deleted.webhook_id)
        r = self.ss("DELETE", f"{base}/hooks/{hook['id']}")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.ss("GET", base + "/hooks").json(), {"hooks": []})
        self.assertEqual(self.ss("DELETE", f"{base}/hooks/{hook['id']}").json()["error_code"],
                         "SVCSTG.REPO.0400")

    def test_errors_in_the_servicestage_envelope(self):
        ns, project, _ = self.new_project()
        base = f"/repos/{ns}/{project}/hooks"
        url = self.rx.register("ss-bad", SECRET)
        cases = [
            (self.ss("POST", base, {"secret": SECRET, "url": url}, repo_auth=None), "0450"),
            (self.ss("POST", base, {"url": url}), "0400"),
            (self.ss("POST", base, {"secret": SECRET}), "0400"),
            (self.ss("POST", base, {"secret": "", "url": url}), "0400"),
            (self.ss("POST", base, {"secret": SECRET, "url": "ftp://x.example/"}), "0400"),
            (self.ss("POST", base, {"secret": SECRET, "url": "http://u:p@x.example/"}), "0400"),
            (self.ss("POST", base, {"secret": "a\nb", "url": url}), "0400"),
            (self.ss("POST", f"/repos/{ns}/nope/hooks", {"secret": SECRET, "url": url}), "0400"),
            (self.ss("POST", base, {"secret": SECRET, "url": url}, repo_auth="only-ns1"), "0451"),
            (self.ss("GET", f"/repos/{ns}/nope/hooks"), "0400"),
            (self.ss("DELETE", base + "/123456"), "0400"),
            (self.ss("DELETE", base + "/not-a-number"), "0400"),
        ]
        for r, code in cases:
            self.assertEqual(r.status, 400, r)
            self.assertEqual(r.json(), {"error_code": f"SVCSTG.REPO.{code}",
                                        "error_msg": r.json()["error_msg"]})
        # A Vers hook is not a ServiceStage one, nor the other way round.
        vers = self.hook("ss-vers")
        self.assertEqual(self.ss("DELETE", f"{base}/{vers['id']}").status, 400)
        self.assertEqual(self.ss("GET", base).json(), {"hooks": []})


class VersHookErrorsTest(HookCase):
    def test_errors(self):
        repo = self.repo()
        url = self.rx.register("errs", SECRET)
        for path in ("/api/v1/hooks", f"/api/v1/repositories/{repo}/hooks"):
            for body, message in (
                    ({"secret": SECRET}, None),
                    ({"url": url}, None),
                    ({"url": url, "secret": "short"}, "invalid hook: secret must be 16-1024 bytes"),
                    ({"url": "ftp://h.example/x", "secret": SECRET},
                     "invalid hook: url must be http:// or https://"),
                    ({"url": "h.example/x", "secret": SECRET},
                     "invalid hook: url is not an absolute http:// or https:// URL"),
                    ({"url": "http://a:b@h.example/", "secret": SECRET}, None),
                    ({"url": "http://h.example/a b", "secret": SECRET}, None),
                    ({"url": "http://h.example/" + "x" * 2048, "secret": SECRET},
                     "invalid hook: url must be 1-2048 bytes"),
                    ({"url": url, "secret": "x" * 1025}, "invalid hook: secret must be 16-1024 bytes"),
            ):
                self.assertVersError(self.req("POST", path, body), 400, message)
            self.assertVersError(self.req("POST", path, raw="{}", content_type="text/plain"), 415)
        self.assertVersError(self.req("POST", "/api/v1/repositories/nope/hooks",
                                      {"url": url, "secret": SECRET}), 404, "repository not found")
        self.assertVersError(self.req("GET", "/api/v1/repositories/nope/hooks"), 404,
                             "repository not found")
        missing = "00000000-0000-4000-8000-000000000000"
        self.assertVersError(self.req("DELETE", f"/api/v1/hooks/{missing}"), 404, "hook not found")
        self.assertVersError(self.req("DELETE", "/api/v1/hooks/1"), 404, "hook not found")
        self.assertVersError(self.req("GET", f"/api/v1/hooks/{missing}/deliveries"), 404,
                             "hook not found")
        # Another repository's hook is not this repository's; another organization's is nobody's.
        other_repo = self.repo()
        h = self.hook("errs", repo=repo)
        self.assertVersError(self.req("DELETE", f"/api/v1/repositories/{other_repo}/hooks/{h['id']}"),
                             404, "hook not found")
        self.assertVersError(self.req("DELETE", f"/api/v1/hooks/{h['id']}", token=self.other_token),
                             404, "hook not found")
        r = self.req("GET", f"/api/v1/repositories/{repo}/hooks")
        self.assertEqual([x["id"] for x in r.json()["hooks"]], [h["id"]])
        self.assertEqual(self.req("GET", "/api/v1/hooks", token=self.other_token).json(),
                         {"hooks": []})
        r = self.req("DELETE", f"/api/v1/repositories/{repo}/hooks/{h['id']}")
        self.assertEqual(r.status, 204, r)

    def test_secrets_are_never_shown(self):
        secret = "never-shown-" + self.unique("s")
        repo = self.repo()
        made = [self.hook("quiet-org", secret=secret), self.hook("quiet-repo", repo, secret=secret)]
        self.tag(repo, "t", self.commit())
        self.rx.wait_for("quiet-repo", 1)
        answers = [self.req("GET", "/api/v1/hooks"),
                   self.req("GET", f"/api/v1/repositories/{repo}/hooks")]
        answers += [self.req("GET", f"/api/v1/hooks/{h['id']}/deliveries") for h in made]
        for r in answers:
            self.assertEqual(r.status, 200, r)
            self.assertNotIn(secret.encode(), r.body)
        cli = self.tagd.cli("hook", "list", "--org", "acme", "--json").stdout
        self.assertIn(made[0]["id"], cli)
        self.assertNotIn(secret, cli)
        self.assertNotIn(secret, self.tagd.log())
        self.assertTrue(all("secret" not in h for h in made))


class RetryTest(HookCase):
    def test_receiver_down_then_up(self):
        down = Receiver(up=False)
        self.addCleanup(down.close)
        h = self.hook("later", rx=down)
        mark = self.tagd.log_mark()
        repo = self.repo()
        self.tag(repo, "t", self.commit())
        self.wait_round(h["id"], mark=mark)
        doc = self.get_hook(h["id"])
        self.assertEqual((doc["hook"]["state"], doc["hook"]["failures"]), ("active", 1))
        self.assertIsNone(doc["hook"]["last_status"])
        self.assertIsNotNone(doc["hook"]["last_error"])
        (pending,) = doc["deliveries"]
        self.assertEqual((pending["state"], pending["attempts"]), ("pending", 1))
        self.assertIsNotNone(pending["next_attempt_at"])
        down.up()
        # The schedule's first retry is 5 s after the failure.
        (got,) = down.wait_for("later", 1, timeout=30)
        self.assertEqual(got.webhook_id, pending["webhook_id"])
        self.wait_round(h["id"], got.json["seq"], mark=mark)
        (done,) = self.get_hook(h["id"])["deliveries"]
        self.assertEqual((done["state"], done["attempts"], done["last_status"]),
                         ("delivered", 2, 200))

    def test_410_disables_until_enabled(self):
        url = self.rx.register("gone410", SECRET)
        r = self.req("POST", "/api/v1/hooks", {"url": url, "secret": SECRET})
        h = r.json()
        self.rx.answer["/h/gone410"] = [(410, {})]
        witness = self.hook("gone410-witness")
        mark = self.tagd.log_mark()
        repo = self.repo()
        self.tag(repo, "one", self.commit())
        self.tagd.wait_log(f'msg="hook disabled" hook={h["id"]}', start=mark)
        doc = self.get_hook(h["id"])["hook"]
        self.assertEqual((doc["state"], doc["last_status"]), ("disabled", 410))
        self.assertIn("410", doc["disabled_reason"])
        self.tag(repo, "two", self.commit())
        self.rx.wait_for("gone410-witness", 2)
        self.assertEqual(self.rx.of("gone410"), [])
        self.tagd.cli("hook", "enable", h["id"], "--org", "acme")
        got = self.rx.wait_for("gone410", 2)
        self.assertEqual([d.json["tag"] for d in got], ["one", "two"])
        self.assertEqual(witness["state"], "active")

    def test_retry_after_is_honoured_and_redeliver_sends_now(self):
        url = self.rx.register("later503", SECRET)
        h = self.req("POST", "/api/v1/hooks", {"url": url, "secret": SECRET}).json()
        self.rx.answer["/h/later503"] = [(503, {"Retry-After": "600"})]
        mark = self.tagd.log_mark()
        self.tag(self.repo(), "t", self.commit())
        self.wait_round(h["id"], mark=mark)
        doc = self.get_hook(h["id"])["hook"]
        self.assertEqual((doc["failures"], doc["last_status"]), (1, 503))
        wait = _seconds(doc["next_attempt_at"]) - _seconds(doc["last_attempt_at"])
        self.assertGreaterEqual(wait, 599)  # the schedule alone says 5 s
        self.assertLessEqual(wait, 601)
        self.tagd.cli("hook", "redeliver", h["id"], "--org", "acme")
        (got,) = self.rx.wait_for("later503", 1)
        # --from sends again what was delivered, with the same webhook-id.
        self.wait_round(h["id"], got.json["seq"], mark=mark)
        self.tagd.cli("hook", "redeliver", h["id"], "--org", "acme", "--from", str(got.json["seq"]))
        again = self.rx.wait_for("later503", 2)[1]
        self.assertEqual((again.webhook_id, again.body), (got.webhook_id, got.body))
        r = self.tagd.cli("hook", "redeliver", h["id"], "--org", "acme", "--from", "999999",
                          check=False)
        self.assertEqual(r.returncode, 1, r)
        r = self.tagd.cli("hook", "redeliver", "nope", "--org", "acme", check=False)
        self.assertEqual(r.returncode, 4, r)

    def test_failures_in_a_row_disable_temporarily_then_for_good(self):
        url = self.rx.register("failing", SECRET)
        h = self.req("POST", "/api/v1/hooks", {"url": url, "secret": SECRET}).json()
        self.rx.answer["/h/failing"] = [(500, {}), (500, {})]
        self.tagd.sql_exec("UPDATE hooks SET failures = 3 WHERE uuid = ?", (h["id"],))
        mark = self.tagd.log_mark()
        self.tag(self.repo(), "t", self.commit())
        self.wait_round(h["id"], mark=mark)
        doc = self.get_hook(h["id"])["hook"]
        self.assertEqual((doc["state"], doc["failures"], doc["last_status"]),
                         ("temporarily_disabled", 4, 500))
        self.assertEqual(doc["last_error"], "HTTP 500")
        self.tagd.sql_exec("UPDATE hooks SET failures = 39 WHERE uuid = ?", (h["id"],))
        mark = self.tagd.log_mark()
        self.tagd.cli("hook", "redeliver", h["id"], "--org", "acme")
        self.tagd.wait_log(f'msg="hook disabled" hook={h["id"]}', start=mark)
        doc = self.get_hook(h["id"])["hook"]
        self.assertEqual((doc["state"], doc["failures"]), ("disabled", 40))
        self.assertIsNone(doc["next_attempt_at"])
        listed = self.tagd.cli("hook", "list", "--org", "acme").stdout
        self.assertRegex(listed, rf"{h['id']}\s+vers\s+\(organization\)\s+disabled\s+40")
        r = self.tagd.cli("hook", "redeliver", h["id"], "--org", "acme", check=False)
        self.assertEqual(r.returncode, 1, r)
        self.tagd.cli("hook", "enable", h["id"], "--org", "acme")
        (got,) = self.rx.wait_for("failing", 1)
        self.assertEqual(got.json["tag"], "t")

    def test_retention_keeps_what_an_active_hook_has_not_delivered(self):
        # An organization of its own: the other tests' hooks hold acme's events.
        org = self.unique("ret")
        token = self.tagd.new_org(org)
        down = Receiver(up=False)
        self.addCleanup(down.close)
        r = self.req("POST", "/api/v1/hooks", {"url": down.register("held", SECRET),
                                               "secret": SECRET}, token=token)
        h = r.json()
        mark = self.tagd.log_mark()
        for repo in ("a", "b"):
            self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": repo},
                                      token=token).status, 201)
        commit = self.tagd.new_commit(org)
        for i in range(3):
            r = self.req("POST", "/api/v1/repositories/a/tags",
                         {"tag_name": f"t{i}", "commit_id": commit}, token=token)
            self.assertEqual(r.status, 201, r)
        self.wait_round(h["id"], mark=mark)
        # Every event looks a year old: only what the hook still owes stays.
        self.tagd.sql_exec("UPDATE events SET at = at - 31536000000000 WHERE org_id = "
                           "(SELECT id FROM orgs WHERE name = ?)", (org,))
        self.tagd.cli("history", "prune", "--older-than", "30d")
        r = self.req("GET", "/api/v1/events", token=token)
        self.assertEqual([e["tag"] for e in r.json()["events"]], ["t0", "t1", "t2"])
        # A disabled hook holds nothing back.
        self.tagd.sql_exec("UPDATE hooks SET state = 'disabled' WHERE uuid = ?", (h["id"],))
        self.tagd.cli("history", "prune", "--older-than", "30d")
        self.assertEqual(self.req("GET", "/api/v1/events", token=token).json()["events"], [])


def _seconds(rfc3339):
    return time.mktime(time.strptime(rfc3339[:19], "%Y-%m-%dT%H:%M:%S"))


class PrivateAddressTest(unittest.TestCase):
    """Without hook_allow_private: loopback refused when registered by address, and at
    connect time when a name resolves to it."""

    def setUp(self):
        self.rx = Receiver()
        self.addCleanup(self.rx.close)
        self.tagd = Tagd(extra_args=("--log-level", "debug"))
        self.addCleanup(self.tagd.cleanup)
        self.token = self.tagd.new_org("acme", project_id="proj-acme")
        self.tagd.cli("repo-auth", "create", "--org", "acme", "--name", "all")
        self.tagd.start()

    def test_refused(self):
        h = {"Authorization": f"Bearer {self.token}"}
        for host in ("127.0.0.1", "[::1]", "10.1.2.3", "169.254.169.254", "[::ffff:127.0.0.1]",
                     "224.0.0.1"):
            r = self.tagd.request("POST", "/api/v1/hooks",
                                  {"url": f"http://{host}:{self.rx.port}/h/p", "secret": SECRET},
                                  headers=h)
            self.assertEqual(r.status, 400, (host, r))
            self.assertIn("hook_allow_private", r.json()["error"])
        r = self.tagd.request("POST", "/v1/proj-acme/git/repos/ns/projects", {"name": "p"},
                              headers={"X-Auth-Token": self.token, "X-Repo-Auth": "all"},
                              content_type=JSON_TYPE)
        self.assertEqual(r.status, 200, r)
        r = self.tagd.request("POST", "/v1/proj-acme/git/repos/ns/p/hooks",
                              {"url": self.rx.url("p"), "secret": SECRET},
                              headers={"X-Auth-Token": self.token, "X-Repo-Auth": "all"},
                              content_type=JSON_TYPE)
        self.assertEqual((r.status, r.json()["error_code"]), (400, "SVCSTG.REPO.0400"))
        # A name is judged on the address it resolves to, when tagd connects.
        url = f"http://localhost:{self.rx.port}/h/p"
        self.rx.register("p", SECRET)
        r = self.tagd.request("POST", "/api/v1/hooks", {"url": url, "secret": SECRET}, headers=h)
        self.assertEqual(r.status, 201, r)
        hook = r.json()
        self.assertEqual(self.tagd.request("POST", "/api/v1/repositories", {"name": "a"},
                                           headers=h).status, 201)
        commit = self.tagd.new_commit("acme")
        self.assertEqual(self.tagd.request("POST", "/api/v1/repositories/a/tags",
                                           {"tag_name": "t", "commit_id": commit},
                                           headers=h).status, 201)
        self.tagd.wait_log(ROUND.format(hook["id"]))
        r = self.tagd.request("GET", f"/api/v1/hooks/{hook['id']}/deliveries", headers=h)
        (d,) = r.json()["deliveries"]
        self.assertEqual(d["state"], "pending")
        self.assertRegex(d["last_error"],
                         r"refused to connect to (127\.0\.0\.1|::1): a loopback address")
        self.assertFalse(self.rx.arrived.is_set(), "a refused address was connected to")
        self.tagd.stop()


class HeldReceiverCase(unittest.TestCase):
    """A server of the test's own with one organization hook, posting to a receiver
    that holds every request until the test releases it (rx.hold.set())."""

    def server_with_hook(self, name):
        self.rx = Receiver()
        self.addCleanup(self.rx.close)
        self.rx.hold = threading.Event()
        t = Tagd(extra_args=("--hook-allow-private", "true"))
        self.addCleanup(t.cleanup)
        self.headers = {"Authorization": f"Bearer {t.new_org('acme')}"}
        t.start()
        r = t.request("POST", "/api/v1/hooks", {"url": self.rx.register(name, SECRET),
                                                "secret": SECRET}, headers=self.headers)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(t.request("POST", "/api/v1/repositories", {"name": "a"},
                                   headers=self.headers).status, 201)
        return t, t.new_commit("acme")


class CrashTest(HeldReceiverCase):
    """tagd SIGKILLed between a change and its delivery: delivered after the restart."""

    def test_kill_then_restart(self):
        t, commit = self.server_with_hook("k")
        self.assertEqual(t.request("POST", "/api/v1/repositories/a/tags",
                                   {"tag_name": "t", "commit_id": commit},
                                   headers=self.headers).status, 201)
        self.assertTrue(self.rx.arrived.wait(30), "the delivery never started")
        t.kill()  # SIGKILL while the receiver holds the request: nothing was recorded
        t.start()
        self.rx.hold.set()
        first, second = self.rx.wait_for("k", 2)
        self.assertEqual((first.webhook_id, first.body), (second.webhook_id, second.body))
        self.assertEqual(first.json["tag"], "t")
        t.stop()


class ManyEventsTest(HeldReceiverCase):
    """1,000 events to a slow receiver: all of them, in order, and tagd's memory does not
    grow with the backlog (each is 16 KiB: holding them all would be 16 MiB)."""

    N = 1000

    def test_thousand(self):
        t, commit = self.server_with_hook("many")
        rx, h = self.rx, self.headers
        description = "d" * 16384
        errors = []

        def make(names):
            conn = t.connection()
            try:
                for name in names:
                    r = t.request("POST", "/api/v1/repositories/a/tags",
                                  {"tag_name": name, "commit_id": commit,
                                   "description": description}, headers=h, conn=conn)
                    if r.status != 201:
                        errors.append(r)
            finally:
                conn.close()

        names = [f"t{i:04}" for i in range(self.N)]
        makers = [threading.Thread(target=make, args=(names[k::4],)) for k in range(4)]
        for m in makers:
            m.start()
        for m in makers:
            m.join()
        self.assertEqual(errors, [])
        order, after = [], 0
        while after is not None:  # pages stop at about 4 MiB: these events are big
            page = t.request("GET", f"/api/v1/events?limit=1000&after={after}",
                             headers=h).json()
            order += [e["tag"] for e in page["events"]]
            after = page["next_after"]
        self.assertEqual(sorted(order), names)
        before = _rss_kib(t.proc.pid)
        _reset_peak(t.proc.pid)
        rx.delay = 0.002
        rx.hold.set()
        got = rx.wait_for("many", self.N, timeout=240)
        self.assertEqual([d.json["tag"] for d in got], order)
        self.assertEqual(len({d.webhook_id for d in got}), self.N)
        self.assertEqual(rx.max_in_flight["/h/many"], 1)
        grew = _peak_kib(t.proc.pid) - before
        if "ASAN_OPTIONS" not in os.environ:  # ASan keeps freed memory in quarantine
            self.assertLess(grew, 8 * 1024, f"tagd grew by {grew} KiB delivering the backlog")
        t.stop()


def _status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field}")


def _rss_kib(pid):
    return _status(pid, "VmRSS")


def _peak_kib(pid):
    return _status(pid, "VmHWM")


def _reset_peak(pid):
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


if __name__ == "__main__":
    unittest.main()
