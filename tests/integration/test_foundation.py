"""The foundation end to end: create calls, concurrency, restarts, HTTP plumbing, the CLI."""
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import unittest

from tagdtest import TAGD_BIN, Tagd, TagdCase, once_seen

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
COMMIT_KEYS = {"commit_id", "owner_id", "name", "description", "parent_vm_id",
               "grandparent_commit_id", "is_public", "created_at"}


def run_concurrently(n, fn):
    """Run fn(i) on n threads released together; returns the results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as e:  # reported by the caller's assertions
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


class RepositoryCreateTest(TagdCase):
    def test_created(self):
        name = self.unique("repo")
        r = self.req("POST", "/api/v1/repositories", {"name": name, "description": "d"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.header("content-type"), "application/json")
        doc = r.json()
        self.assertEqual(set(doc), {"repo_id", "name"})
        self.assertRegex(doc["repo_id"], UUID_RE)
        self.assertEqual(doc["name"], name)

    def test_invalid_names(self):
        prefix = "invalid repository name: "
        cases = [
            ("", "Repository name must be 1-128 characters"),
            ("r" * 129, "Repository name must be 1-128 characters"),
            ("a b", "Repository name can only contain alphanumeric characters, hyphens, "
                    "underscores, dots, and slashes"),
            ("a:b", "Repository name can only contain alphanumeric characters, hyphens, "
                    "underscores, dots, and slashes"),
            ("/lead", "Repository name cannot start or end with a slash"),
            ("trail/", "Repository name cannot start or end with a slash"),
            ("a//b", "Repository name cannot contain consecutive slashes"),
        ]
        for name, why in cases:
            with self.subTest(name=name):
                r = self.req("POST", "/api/v1/repositories", {"name": name})
                self.assertVersError(r, 400, prefix + why)
        # The edges that are fine.
        for name in ["r" * 128, self.unique("é"), self.unique("team") + "/app.v2_x-y"]:
            self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": name}).status,
                             201, name)

    def test_conflict_and_other_org(self):
        name = self.unique("dup")
        self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": name}).status, 201)
        r = self.req("POST", "/api/v1/repositories", {"name": name, "description": "again"})
        self.assertVersError(r, 409, "repository already exists")
        r = self.req("POST", "/api/v1/repositories", {"name": name}, token=self.other_token)
        self.assertEqual(r.status, 201, r)

    def test_unauthorized(self):
        r = self.req("POST", "/api/v1/repositories", {"name": "x"}, token=None)
        self.assertVersError(r, 401, "Missing or invalid Authorization header")
        self.assertEqual(r.header("www-authenticate"), "Bearer")
        r = self.req("POST", "/api/v1/repositories", {"name": "x"}, token="nope")
        self.assertVersError(r, 401, "Invalid bearer token")
        self.assertEqual(r.header("www-authenticate"), "Bearer")

    def test_wrong_types(self):
        for body in [{"name": 5}, {"name": None}, {}, {"name": "x", "description": []}]:
            with self.subTest(body=body):
                self.assertVersError(self.req("POST", "/api/v1/repositories", body), 400)
        self.assertVersError(self.req("POST", "/api/v1/repositories", raw='"x"'), 400)
        self.assertVersError(self.req("POST", "/api/v1/repositories", raw="{\"name\":"), 400)
        self.assertVersError(self.req("POST", "/api/v1/repositories", raw='{"name":"a","name":"b"}'),
                             400)
        self.assertVersError(self.req("POST", "/api/v1/repositories", raw=b'{"name":"\xff"}'), 400)
        r = self.req("POST", "/api/v1/repositories", raw='{"name":"x"}', content_type="text/json")
        self.assertVersError(r, 415, "Expected request with `Content-Type: application/json`")
        r = self.req("POST", "/api/v1/repositories", raw='{"name":"%s"}' % self.unique("ct"),
                     content_type="application/json; charset=utf-8")
        self.assertEqual(r.status, 201, r)


class CommitCreateTest(TagdCase):
    def test_defaults(self):
        r = self.req("POST", "/api/v1/commits", {})
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertEqual(set(doc), COMMIT_KEYS)
        self.assertRegex(doc["commit_id"], UUID_RE)
        self.assertRegex(doc["owner_id"], UUID_RE)
        self.assertEqual(doc["name"], doc["commit_id"])
        self.assertIsNone(doc["description"])
        self.assertIsNone(doc["parent_vm_id"])
        self.assertIsNone(doc["grandparent_commit_id"])
        self.assertIs(doc["is_public"], False)
        self.assertRegex(doc["created_at"], RFC3339_RE)
        # Same owner for every commit of the organization, another for the other one.
        again = self.req("POST", "/api/v1/commits", {}).json()
        self.assertEqual(again["owner_id"], doc["owner_id"])
        theirs = self.req("POST", "/api/v1/commits", {}, token=self.other_token).json()
        self.assertNotEqual(theirs["owner_id"], doc["owner_id"])

    def test_supplied_fields_and_conflicts(self):
        cid = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
        body = {"commit_id": cid.upper(), "name": "build-7", "description": "nightly",
                "is_public": True}
        r = self.req("POST", "/api/v1/commits", body)
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertEqual(doc["commit_id"], cid)
        self.assertEqual(doc["name"], "build-7")
        self.assertEqual(doc["description"], "nightly")
        self.assertIs(doc["is_public"], True)
        self.assertVersError(self.req("POST", "/api/v1/commits", {"commit_id": cid}), 409,
                             "commit already exists")
        # Commit ids are global: another organization cannot reuse one.
        self.assertVersError(self.req("POST", "/api/v1/commits", {"commit_id": cid},
                                      token=self.other_token), 409, "commit already exists")
        # The commit can be tagged right away.
        repo = self.unique("repo")
        self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": repo}).status, 201)
        r = self.req("POST", f"/api/v1/repositories/{repo}/tags",
                     {"tag_name": "v1", "commit_id": cid})
        self.assertEqual(r.status, 201, r)

    def test_wrong_types(self):
        for body in [{"commit_id": "not-a-uuid"}, {"commit_id": 7}, {"name": 1},
                     {"description": False}, {"is_public": "true"}, {"is_public": 0}, [], 5]:
            with self.subTest(body=body):
                self.assertVersError(self.req("POST", "/api/v1/commits", body), 400)
        r = self.req("POST", "/api/v1/commits", {"commit_id": None, "name": None,
                                                 "description": None, "is_public": None})
        self.assertEqual(r.status, 201, r)
        self.assertVersError(self.req("POST", "/api/v1/commits", {}, token=None), 401)


class ConcurrencyTest(TagdCase):
    def setUp(self):
        self.repo = self.unique("conc")
        self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": self.repo}).status,
                         201)
        self.commit = self.req("POST", "/api/v1/commits", {}).json()["commit_id"]

    def post_tag(self, name):
        return self.req("POST", f"/api/v1/repositories/{self.repo}/tags",
                        {"tag_name": name, "commit_id": self.commit})

    def test_same_tag_name(self):
        results = run_concurrently(32, lambda i: self.post_tag("race"))
        statuses = []
        for r in results:
            self.assertNotIsInstance(r, Exception, r)
            statuses.append(r.status)
        self.assertEqual(statuses.count(201), 1, statuses)
        self.assertEqual(statuses.count(409), 31, statuses)
        for r in results:
            if r.status == 409:
                self.assertVersError(r, 409, "tag already exists in repository")

    def test_distinct_tags(self):
        results = run_concurrently(32, lambda i: self.post_tag(f"t{i}"))
        ids = set()
        for i, r in enumerate(results):
            self.assertNotIsInstance(r, Exception, r)
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json()["reference"], f"{self.repo}:t{i}")
            ids.add(r.json()["tag_id"])
        self.assertEqual(len(ids), 32)
        # Each really exists: a second create of any of them conflicts.
        for i in (0, 17, 31):
            self.assertEqual(self.post_tag(f"t{i}").status, 409)

    def test_same_repository_name(self):
        name = self.unique("samerepo")
        results = run_concurrently(16, lambda i: self.req("POST", "/api/v1/repositories",
                                                          {"name": name}))
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [201] + [409] * 15)


class HttpTest(TagdCase):
    def test_not_found_and_method(self):
        r = self.req("GET", "/api/v1/nothing-here")
        self.assertVersError(r, 404)
        r = self.req("GET", "/")
        self.assertVersError(r, 404)
        r = self.req("PUT", "/api/v1/repositories", {"name": "x"})
        self.assertVersError(r, 405)
        self.assertIn("POST", [m.strip() for m in r.header("allow").split(",")])
        self.assertNotIn("PUT", r.header("allow"))
        r = self.req("DELETE", f"/api/v1/repositories/x/tags")
        self.assertVersError(r, 405)
        self.assertIn("POST", r.header("allow"))

    def test_bad_path_encoding(self):
        r = self.req("POST", "/api/v1/repositories/a%zz/tags", {"tag_name": "x",
                                                                 "commit_id": "x"})
        self.assertVersError(r, 400)
        r = self.req("POST", "/api/v1/repositories/a%00b/tags", {"tag_name": "x",
                                                                  "commit_id": "x"})
        self.assertVersError(r, 400)

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.tagd.port, timeout=30)
        try:
            ports = set()
            statuses = []
            for i in range(6):
                if i % 3 == 0:
                    r = self.req("POST", "/api/v1/repositories", {"name": self.unique("ka")},
                                 conn=conn)
                elif i % 3 == 1:
                    r = self.req("GET", "/api/v1/nope", conn=conn)
                else:
                    r = self.req("POST", "/api/v1/repositories", {"name": ""}, conn=conn)
                statuses.append(r.status)
                self.assertNotEqual((r.header("connection") or "").lower(), "close", r)
                self.assertIsNotNone(conn.sock, "the server closed the connection")
                ports.add(conn.sock.getsockname()[1])
            self.assertEqual(statuses, [201, 404, 400, 201, 404, 400])
            self.assertEqual(len(ports), 1, "a new connection was opened")
        finally:
            conn.close()

    def test_body_too_large_content_length(self):
        # Declared too large: answered 413 without the body being sent at all.
        with socket.create_connection(("127.0.0.1", self.tagd.port), timeout=30) as s:
            s.sendall(b"POST /api/v1/repositories HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Authorization: Bearer " + self.token.encode() + b"\r\n"
                      b"Content-Length: 1048577\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            self.assertTrue(data.startswith(b"HTTP/1.1 413"), data[:200])
            head, _, rest = data.partition(b"\r\n\r\n")
            m = re.search(rb"(?i)content-length: *(\d+)", head)
            while len(rest) < int(m.group(1)):
                chunk = s.recv(4096)
                if not chunk:
                    break
                rest += chunk
            self.assertEqual(rest, b'{"success":false,"error":"request body too large"}')
        # Exactly the limit is read (and then judged as JSON).
        r = self.req("POST", "/api/v1/repositories", raw=b" " * (1024 * 1024))
        self.assertVersError(r, 400)

    def test_body_too_large_chunked(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.tagd.port, timeout=60)
        try:
            def chunks():
                for _ in range(17):
                    yield b" " * 65536  # 17 * 64 KiB > 1 MiB
            conn.request("POST", "/api/v1/repositories", body=chunks(), encode_chunked=True,
                         headers={"Content-Type": "application/json",
                                  "Authorization": f"Bearer {self.token}"})
            r = conn.getresponse()
            body = r.read()
            self.assertEqual(r.status, 413, body)
            self.assertEqual(r.getheader("content-type"), "application/json")
            self.assertEqual(body, b'{"success":false,"error":"request body too large"}')
        finally:
            conn.close()
        # A small chunked body is fine.
        conn = http.client.HTTPConnection("127.0.0.1", self.tagd.port, timeout=60)
        try:
            name = self.unique("chunk")
            conn.request("POST", "/api/v1/repositories",
                         body=iter([b'{"name": ', f'"{name}"'.encode(), b"}"]),
                         encode_chunked=True,
                         headers={"Content-Type": "application/json",
                                  "Authorization": f"Bearer {self.token}"})
            r = conn.getresponse()
            self.assertEqual(r.status, 201, r.read())
            r.read()
        finally:
            conn.close()


class HangUpTest(unittest.TestCase):
    """Clients that hang up while their write waits for the store."""

    def test_hang_up_during_write(self):
        tagd = Tagd()
        self.addCleanup(tagd.cleanup)
        token = tagd.new_org("acme")
        tagd.start()
        ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(60)]
        for cid in ids:
            body = json.dumps({"commit_id": cid, "description": "d" * 500}).encode()
            s = socket.create_connection(("127.0.0.1", tagd.port), timeout=30)
            s.sendall(b"POST /api/v1/commits HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Authorization: Bearer " + token.encode() + b"\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
            # Close with a reset, at once: the answer has nowhere to go.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        # The server goes on serving, and every write it received was made.
        r = tagd.request("POST", "/api/v1/commits", {}, token=token)
        self.assertEqual(r.status, 201, r)
        for cid in ids:
            r = tagd.request("POST", "/api/v1/commits", {"commit_id": cid}, token=token)
            self.assertIn(r.status, (201, 409), r)
        # A clean exit (under a sanitizer build this is also where leaks are reported).
        self.assertEqual(tagd.stop(), 0, tagd.log())


class SmallBodyLimitTest(TagdCase):
    server_args = ("--max-body", "100")

    def test_limit(self):
        name = "b" * (100 - len('{"name":""}'))
        r = self.req("POST", "/api/v1/repositories", raw='{"name":"%s"}' % name)
        self.assertEqual(r.status, 201, r)
        r = self.req("POST", "/api/v1/repositories", raw='{"name":"%sb"}' % name)
        self.assertVersError(r, 413, "request body too large")


class RestartTest(unittest.TestCase):
    """A server of its own: restarted, signalled, its files read."""

    def setUp(self):
        self.tagd = Tagd()
        self.addCleanup(self.tagd.cleanup)
        self.token = self.tagd.new_org("acme")
        self.tagd.start()

    def req(self, method, path, body=None, **kw):
        return self.tagd.request(method, path, body=body, token=self.token, **kw)

    def test_data_kept_across_restart(self):
        self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": "kept"}).status, 201)
        commit = self.req("POST", "/api/v1/commits", {"name": "c"}).json()["commit_id"]
        r = self.req("POST", "/api/v1/repositories/kept/tags",
                     {"tag_name": "v1", "commit_id": commit})
        self.assertEqual(r.status, 201, r)
        self.tagd.restart()
        self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": "kept"}).status, 409)
        self.assertEqual(self.req("POST", "/api/v1/commits", {"commit_id": commit}).status, 409)
        r = self.req("POST", "/api/v1/repositories/kept/tags",
                     {"tag_name": "v1", "commit_id": commit})
        self.assertEqual(r.status, 409, r)
        r = self.req("POST", "/api/v1/repositories/kept/tags",
                     {"tag_name": "v2", "commit_id": commit})
        self.assertEqual(r.status, 201, r)

    def test_sigterm_exits_zero(self):
        self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": "x"}).status, 201)
        self.assertEqual(self.tagd.stop(signal.SIGTERM), 0)
        self.assertIn('msg="stopped"', self.tagd.log())
        self.tagd.start()
        self.assertEqual(self.tagd.stop(signal.SIGINT), 0)

    def test_token_not_stored(self):
        self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": "t"}).status, 201)
        self.assertEqual(self.req("POST", "/api/v1/commits", {}).status, 201)
        secret = self.token.encode()
        data = self.tagd.database.contents()  # the files, or pg_dump's output
        self.assertGreater(len(data), 0)
        self.assertNotIn(secret, data)
        self.assertNotIn(secret[22:], data)  # nor the secret half
        self.tagd.stop()
        data = self.tagd.database.contents()  # once SQLite has checkpointed its WAL
        self.assertNotIn(secret, data)
        self.assertNotIn(secret[22:], data)


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tagd = Tagd()
        self.addCleanup(self.tagd.cleanup)

    def assertOneLineError(self, r):
        self.assertNotEqual(r.returncode, 0, r)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertEqual(r.stdout, "", r.stdout)

    def test_help(self):
        for args in (["serve"], ["org", "create"], ["token", "create"], ["token", "list"],
                     ["token", "revoke"], ["commit", "create"]):
            with self.subTest(args=args):
                r = self.tagd.cli(*args, "--help", check=False)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("usage:", r.stdout)
                self.assertFalse(self.tagd.database.made(), "--help opened the database")
        for group in ("org", "token", "commit"):
            with self.subTest(group=group):
                r = self.tagd.cli(group, "--help", check=False)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout.startswith("usage: tagd " + group), r.stdout)
        r = self.tagd.cli("--help", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_errors(self):
        self.tagd.cli("org", "create", "acme")
        cases = [
            ["token", "create"],                          # missing --org
            ["token", "list"],
            ["token", "revoke", "0123456789abcdef"],
            ["commit", "create"],
            ["token", "create", "--org", "nobody"],       # unknown org
            ["token", "list", "--org", "nobody"],
            ["token", "revoke", "--org", "nobody", "0123456789abcdef"],
            ["commit", "create", "--org", "nobody"],
            ["commit", "create", "--org", "acme", "--id", "nope"],   # bad args
            ["org", "create"],
            ["org", "create", "a b"],
            ["org", "create", "acme"],                    # exists
            ["org", "create", "x", "--bogus"],
            ["token", "list", "--org"],                   # option without its value
            ["serve", "--bogus"],
            ["serve", "--listen", "nonsense"],
            ["serve", "--threads", "257"],
            ["serve", "--threads", "4294967297"],
            ["serve", "--max-body", "-5"],
            ["serve", "--max-body", "18446744073709551615"],
            ["serve", "--listen", "127.0.0.1:+80"],
            ["token", "revoke", "--org", "acme", "short"],
            ["token", "revoke", "--org", "acme", "0123456789abcdef"],  # no such token
            ["token", "frobnicate"],
            ["token", "create", "--org", "acme", "--name", ""],
            ["token", "create", "--org", "acme", "--name", "x" * 129],
            ["token", "create", "--org", "acme", "--name", "two\nlines"],
            ["nonsense"],
        ]
        for args in cases:
            with self.subTest(args=args):
                self.assertOneLineError(self.tagd.cli(*args, check=False))
        # An empty --db would be SQLite's throwaway temporary database.
        for args in (["org", "create", "x"], ["serve"]):
            with self.subTest(args=args, db=""):
                r = subprocess.run([TAGD_BIN] + args + ["--db", ""], capture_output=True,
                                   text=True, timeout=60)
                self.assertOneLineError(r)
        # On a database file that does not exist yet, too.
        for args in (["token", "create", "--org", "nobody"], ["token", "list", "--org", "x"],
                     ["commit", "create", "--org", "nobody"]):
            with self.subTest(args=args, fresh=True):
                r = subprocess.run([TAGD_BIN] + args + ["--db", self.fresh_db()],
                                   capture_output=True, text=True, timeout=60)
                self.assertOneLineError(r)

    def fresh_db(self):
        CliTest._fresh = getattr(CliTest, "_fresh", 0) + 1
        return os.path.join(self.tagd.dir, f"fresh{CliTest._fresh}.db")

    def test_revoke_takes_exact_ids(self):
        token = self.tagd.new_org("acme")
        pid = token[5:21]
        for arg in (pid + "0", pid.upper(), pid[:15], token[:-1], token + "x", "tagd_" + pid):
            with self.subTest(arg=arg):
                self.assertOneLineError(self.tagd.cli("token", "revoke", "--org", "acme", arg,
                                                      check=False))
        listing = self.tagd.cli("token", "list", "--org", "acme").stdout
        self.assertNotIn("revoked", listing)
        self.tagd.cli("token", "revoke", "--org", "acme", pid)
        self.assertIn("revoked", self.tagd.cli("token", "list", "--org", "acme").stdout)

    def test_token_lifecycle(self):
        token = self.tagd.new_org("acme")
        self.assertRegex(token, r"^tagd_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")
        second = self.tagd.cli("token", "create", "--org", "acme", "--name", "ci").stdout
        self.assertEqual(len(second.splitlines()), 1)
        second = second.strip()
        listing = self.tagd.cli("token", "list", "--org", "acme").stdout
        self.assertIn(token[5:21], listing)
        self.assertIn(second[5:21], listing)
        self.assertIn("ci", listing)
        self.assertNotIn(token[22:], listing)
        self.assertNotIn(second[22:], listing)

        self.tagd.start()
        ok = self.tagd.request("POST", "/api/v1/commits", {}, token=token)
        self.assertEqual(ok.status, 201, ok)
        # Revoke by id while the server runs: the very next request is refused
        # (on PostgreSQL, once the change's notification is in: see once_seen).
        r = self.tagd.cli("token", "revoke", "--org", "acme", token[5:21])
        self.assertEqual(r.stdout, "")
        r = once_seen(lambda: self.tagd.request("POST", "/api/v1/commits", {}, token=token))
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json()["error"], "Invalid bearer token")
        # The other token still works; revoking by whole token text works too.
        self.assertEqual(self.tagd.request("POST", "/api/v1/commits", {}, token=second).status,
                         201)
        self.tagd.cli("token", "revoke", "--org", "acme", second)
        r = once_seen(lambda: self.tagd.request("POST", "/api/v1/commits", {}, token=second))
        self.assertEqual(r.status, 401, r)
        listing = self.tagd.cli("token", "list", "--org", "acme").stdout
        self.assertEqual(listing.count("revoked"), 2, listing)
        self.assertNotIn(token[22:], listing)

    def test_commit_create(self):
        self.tagd.cli("org", "create", "acme")
        cid = "1B4E28BA-2FA1-41D2-883F-0016D3CCA427"
        r = self.tagd.cli("commit", "create", "--org", "acme", "--id", cid, "--name", "n",
                          "--description", "d")
        self.assertEqual(r.stdout, cid.lower() + "\n")
        r = self.tagd.cli("commit", "create", "--org", "acme", "--id", cid, check=False)
        self.assertOneLineError(r)
        r = self.tagd.cli("commit", "create", "--org", "acme")
        self.assertRegex(r.stdout.strip(), UUID_RE)

    def test_db_from_environment(self):
        env = dict(os.environ, TAGD_DB=self.tagd.db)
        r = subprocess.run([TAGD_BIN, "org", "create", "envorg"], env=env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.tagd.database.made())
        r = self.tagd.cli("org", "create", "envorg", check=False)
        self.assertOneLineError(r)


if __name__ == "__main__":
    unittest.main()
