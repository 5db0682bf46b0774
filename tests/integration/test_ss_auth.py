"""ServiceStage: X-Auth-Token and project id, X-Repo-Auth, /git/auths, the
gateway's fallbacks, headers (Content-Type, X-Request-Id)."""
import unittest

from sstest import JSON_TYPE, SsCase

GW_0301 = "APIGW.0301"
GW_0302 = "APIGW.0302"
NO_API = "The API does not exist or has not been published in the environment"


class TokenTest(SsCase):
    def test_missing_token_is_401(self):
        r = self.ss("GET", "/auths", token=None)
        self.assertSsError(r, 401, GW_0301)
        r = self.ss("GET", "/auths", token=None, headers={"X-Auth-Token": "  "})
        self.assertSsError(r, 401, GW_0301)

    def test_unknown_token_is_401(self):
        self.assertSsError(self.ss("GET", "/auths", token="nope"), 401, GW_0301)
        forged = self.token[:-4] + ("AAAA" if not self.token.endswith("AAAA") else "BBBB")
        self.assertSsError(self.ss("GET", "/repos/namespaces", token=forged), 401, GW_0301)

    def test_bearer_header_is_not_a_token(self):
        r = self.tagd.request("GET", "/v1/proj-acme/git/auths", token=self.token)
        self.assertSsError(r, 401, GW_0301)

    def test_other_orgs_project_is_403(self):
        r = self.ss("GET", "/auths", project="proj-other")
        self.assertSsError(r, 403, GW_0302, "The IAM user is not authorized to access the API")
        r = self.ss("GET", "/auths", token=self.other_token)
        self.assertSsError(r, 403, GW_0302)

    def test_unknown_project_id_is_403_too(self):
        self.assertSsError(self.ss("GET", "/auths", project="proj-nobody"), 403, GW_0302)
        ns, name, _ = self.new_project()
        r = self.ss("GET", f"/repos/{ns}/{name}/tags", project="proj-nobody")
        self.assertSsError(r, 403, GW_0302)

    def test_token_checked_before_repo_auth(self):
        r = self.ss("GET", "/repos/namespaces", token=None, repo_auth=None)
        self.assertSsError(r, 401, GW_0301)

    def test_revoked_token_is_401(self):
        token = self.tagd.cli("token", "create", "--org", "acme").stdout.strip()
        self.assertOk(self.ss("GET", "/auths", token=token))
        self.tagd.cli("token", "revoke", "--org", "acme", token)
        self.assertSsError(self.ss("GET", "/auths", token=token), 401, GW_0301)


class RepoAuthTest(SsCase):
    def test_missing_or_unknown_is_0450(self):
        ns, name, _ = self.new_project()
        for ra in (None, "", "nobody"):
            r = self.ss("GET", f"/repos/{ns}/{name}/tags", repo_auth=ra)
            self.assertSsError(r, 400, "SVCSTG.REPO.0450", "no repository authorization")
            r = self.ss("GET", "/repos/namespaces", repo_auth=ra)
            self.assertSsError(r, 400, "SVCSTG.REPO.0450")

    def test_other_orgs_authorization_is_0450(self):
        ns, name, _ = self.new_project()
        r = self.ss("GET", f"/repos/{ns}/{name}/branches", repo_auth="theirs")
        self.assertSsError(r, 400, "SVCSTG.REPO.0450")
        r = self.ss("POST", f"/repos/{ns}/projects", {"name": "x"}, repo_auth="theirs")
        self.assertSsError(r, 400, "SVCSTG.REPO.0450")

    def test_repo_auth_checked_before_body(self):
        ns, name, _ = self.new_project()
        r = self.ss("POST", f"/repos/{ns}/{name}/tags", raw="{", repo_auth=None)
        self.assertSsError(r, 400, "SVCSTG.REPO.0450")

    def test_namespace_not_covered_is_0451(self):
        ns, name, _ = self.new_project()
        for method, path, body in (("GET", f"/repos/{ns}/{name}/tags", None),
                                   ("GET", f"/repos/{ns}/{name}/branches", None),
                                   ("GET", f"/repos/{ns}/{name}/commits", None),
                                   ("GET", f"/repos/{ns}/projects", None),
                                   ("POST", f"/repos/{ns}/projects", {"name": "q"}),
                                   ("POST", f"/repos/{ns}/{name}/tags?ref=x",
                                    {"name": "t", "description": "d"}),
                                   ("DELETE", f"/repos/{ns}/{name}/tags/t", None)):
            r = self.ss(method, path, body, repo_auth="only-ns1")
            self.assertSsError(r, 400, "SVCSTG.REPO.0451", "repository authorization invalid")
        # An unknown namespace outside the authorization is 0451 as well: nothing is revealed.
        r = self.ss("GET", "/repos/nowhere/projects", repo_auth="only-ns1")
        self.assertSsError(r, 400, "SVCSTG.REPO.0451")
        r = self.ss("GET", f"/repos/project-info?clone_url=https://git.example.com/{ns}/{name}.git",
                    repo_auth="only-ns1")
        self.assertSsError(r, 400, "SVCSTG.REPO.0451")

    def test_covered_namespace_works_and_by_id(self):
        _, _, p = self.new_project(ns="ns1", name=self.unique("p"), repo_auth="only-ns1")
        self.assertOk(self.ss("GET", "/repos/ns1/projects", repo_auth="only-ns1"))
        ns_id = [n["id"] for n in self.assertOk(self.ss("GET", "/repos/namespaces"))["namespaces"]
                 if n["name"] == "ns1"][0]
        doc = self.assertOk(self.ss("GET", f"/repos/{ns_id}/projects", repo_auth="only-ns1"))
        self.assertIn(p["id"], [x["id"] for x in doc["projects"]])

    def test_namespaces_list_follows_the_authorization(self):
        self.new_project(ns="ns1", name=self.unique("p"))
        ns, _, _ = self.new_project()
        all_names = [n["name"] for n in self.assertOk(self.ss("GET", "/repos/namespaces"))["namespaces"]]
        self.assertIn("ns1", all_names)
        self.assertIn(ns, all_names)
        self.assertEqual(all_names, sorted(all_names))
        only = self.assertOk(self.ss("GET", "/repos/namespaces", repo_auth="only-ns1"))
        self.assertEqual([n["name"] for n in only["namespaces"]], ["ns1"])
        for n in only["namespaces"]:
            self.assertEqual(set(n), {"id", "name"})
            self.assertIsInstance(n["id"], str)

    def test_namespaces_are_per_organization(self):
        ns, _, _ = self.new_project()
        theirs = self.ss("GET", "/repos/namespaces", token=self.other_token, project="proj-other",
                         repo_auth="theirs")
        self.assertNotIn(ns, [n["name"] for n in self.assertOk(theirs)["namespaces"]])

    def test_deleted_authorization_stops_working(self):
        self.tagd.cli("repo-auth", "create", "--org", "acme", "--name", "temp")
        self.assertOk(self.ss("GET", "/repos/namespaces", repo_auth="temp"))
        self.tagd.cli("repo-auth", "delete", "--org", "acme", "--name", "temp")
        self.assertSsError(self.ss("GET", "/repos/namespaces", repo_auth="temp"), 400,
                           "SVCSTG.REPO.0450")


class AuthsListTest(SsCase):
    def test_fields(self):
        doc = self.assertOk(self.ss("GET", "/auths", repo_auth=None))
        self.assertEqual(set(doc), {"authorizations", "count"})
        self.assertEqual(doc["count"], len(doc["authorizations"]))
        by_name = {a["name"]: a for a in doc["authorizations"]}
        self.assertIn("all", by_name)
        self.assertIn("only-ns1", by_name)
        self.assertNotIn("theirs", by_name)
        a = by_name["only-ns1"]
        self.assertEqual(set(a), {"name", "repo_type", "repo_host", "repo_home", "repo_user",
                                  "avartar", "token_type", "create_time", "update_time",
                                  "status"})
        self.assertEqual(a["repo_type"], "gitlab")
        self.assertEqual(by_name["all"]["repo_type"], "devcloud")
        self.assertEqual(a["status"], 0)
        self.assertEqual(a["repo_user"], "acme")
        self.assertEqual(a["repo_host"], "https://git.example.com")
        self.assertIsInstance(a["create_time"], int)
        self.assertGreater(a["create_time"], 1_600_000_000_000)  # milliseconds
        self.assertLess(a["create_time"], 100_000_000_000_000)
        self.assertEqual(a["create_time"], a["update_time"])
        # Oldest first.
        names = [x["name"] for x in doc["authorizations"]]
        self.assertLess(names.index("all"), names.index("only-ns1"))

    def test_ignores_repo_auth_header(self):
        self.assertOk(self.ss("GET", "/auths", repo_auth="nobody"))

    def test_other_org_sees_its_own(self):
        doc = self.assertOk(self.ss("GET", "/auths", token=self.other_token, project="proj-other"))
        self.assertEqual([a["name"] for a in doc["authorizations"]], ["theirs"])
        self.assertEqual(doc["count"], 1)


class CliTest(SsCase):
    def test_repo_auth_commands(self):
        t = self.tagd
        r = t.cli("repo-auth", "create", "--org", "acme", "--name", "cli1", "--repo-type",
                  "gitee", "--namespace", "b", "--namespace", "a", "--namespace", "a")
        self.assertEqual(r.stdout.strip(), "cli1")
        out = t.cli("repo-auth", "list", "--org", "acme").stdout
        line = [ln for ln in out.splitlines() if ln.startswith("cli1 ")][0]
        self.assertIn("gitee", line)
        self.assertTrue(line.endswith("a,b"), line)
        self.assertTrue([ln for ln in out.splitlines() if ln.startswith("all ")][0].endswith("*"))
        r = t.cli("repo-auth", "create", "--org", "acme", "--name", "cli1", check=False)
        self.assertEqual(r.returncode, 3)  # exists
        self.assertIn("exists", r.stderr)
        for bad in (["--repo-type", "svn"], ["--namespace", "bad ns"], ["--namespace", "123"]):
            r = t.cli("repo-auth", "create", "--org", "acme", "--name", "cli2", *bad, check=False)
            self.assertEqual(r.returncode, 1, bad)
        r = t.cli("repo-auth", "create", "--org", "nobody", "--name", "x", check=False)
        self.assertEqual(r.returncode, 4)  # no such organization
        r = t.cli("repo-auth", "create", "--name", "x", check=False)
        self.assertEqual(r.returncode, 2)  # usage: --org is required
        self.assertIn("--org", r.stderr)
        t.cli("repo-auth", "delete", "--org", "acme", "--name", "cli1")
        r = t.cli("repo-auth", "delete", "--org", "acme", "--name", "cli1", check=False)
        self.assertEqual(r.returncode, 4)
        self.assertNotIn("cli1 ", t.cli("repo-auth", "list", "--org", "acme").stdout)


class GatewayTest(SsCase):
    def test_unknown_path_is_apigw_0101(self):
        self.assertSsError(self.ss("GET", "/nothing"), 404, "APIGW.0101", NO_API)
        r = self.tagd.request("GET", "/v1/whatever")
        self.assertSsError(r, 404, "APIGW.0101", NO_API)

    def test_wrong_method_is_404_with_allow(self):
        r = self.ss("PUT", "/auths")
        self.assertSsError(r, 404, "APIGW.0101", NO_API)
        self.assertIn("GET", r.header("allow"))
        ns, name, _ = self.new_project()
        r = self.ss("PATCH", f"/repos/{ns}/{name}/tags")
        self.assertSsError(r, 404, "APIGW.0101")
        self.assertEqual(set(r.header("allow").split(", ")), {"GET", "HEAD", "POST"})

    def test_bad_percent_encoding_is_0400(self):
        self.assertBadParam(self.ss("GET", "/repos/ns%zz/p/tags"))

    def test_vers_paths_keep_their_envelope(self):
        r = self.tagd.request("GET", "/api/v1/nothing")
        self.assertEqual(r.status, 404)
        self.assertEqual(set(r.json()), {"success", "error"})


class HeadersTest(SsCase):
    def setUp(self):
        self.ns, self.name, _ = self.new_project()

    def post(self, content_type, raw=None):
        return self.ss("POST", f"/repos/{self.ns}/projects", content_type=content_type,
                       raw=raw if raw is not None else f'{{"name": "{self.unique("p")}"}}')

    def test_json_content_types_accepted(self):
        for ct in ("application/json;charset=utf8", "application/json;charset=UTF-8",
                   "application/json; charset=utf-8", "Application/JSON;Charset=UTF8",
                   "application/json ; charset = \"utf-8\"", "application/json"):
            self.assertOk(self.post(ct))

    def test_other_content_types_are_0400(self):
        for ct in ("text/plain", "application/json;charset=latin1",
                   "application/x-www-form-urlencoded", None):
            self.assertBadParam(self.post(ct))

    def test_bad_bodies_are_0400(self):
        for raw in ("{", "[]", "{}", '{"name": 5}', '{"name": null}', ""):
            self.assertBadParam(self.post(JSON_TYPE, raw=raw))

    def test_request_id(self):
        r = self.ss("GET", "/auths")
        rid = r.header("x-request-id")
        self.assertRegex(rid, r"^[0-9a-f-]{36}$")
        self.assertNotEqual(self.ss("GET", "/auths").header("x-request-id"), rid)
        r = self.ss("GET", "/auths", headers={"X-Request-Id": "trace-42"})
        self.assertEqual(r.header("x-request-id"), "trace-42")
        for r in (self.ss("GET", "/auths", token=None), self.ss("GET", "/nope"),
                  self.ss("GET", "/repos/namespaces", repo_auth=None)):
            self.assertTrue(r.header("x-request-id"), r)

    def test_response_content_type(self):
        self.assertEqual(self.ss("GET", "/auths").header("content-type"), JSON_TYPE)


if __name__ == "__main__":
    unittest.main()
