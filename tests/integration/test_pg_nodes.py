"""Several tagd nodes on one PostgreSQL database, and PostgreSQL going away.

- Three nodes: a create raced through all of them has exactly one 201; a
  write on one node is read at once on the others; a revoked token stops
  working on every node within the documented bound (NODE_BOUND_S).
- Moves raced through three nodes: every answer and the end state are those
  of some serial order, and the history chain stays gapless and linear.
- A node killed (SIGKILL) under load and PostgreSQL stopped at once
  (pg_ctl stop -m immediate) under load and started again: every write that
  was acknowledged is there, nothing is half-applied (each tag row has the
  event of its revision, and no event lacks its change), the chains verify;
  during the outage every answer is a 503 in the dialect's envelope with
  Retry-After, within db_timeout, never a 500; /readyz says 503 and the
  nodes serve again by themselves.
- db_pool_size bounds a node's connections, and requests beyond it wait for
  one instead of failing.

Runs on the PostgreSQL half only (integration.pg.pg_nodes).
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

from dbtest import PgCluster, PgDatabase, create_database
from tagdtest import Tagd
from test_races import race

# How long a change made through one node may take to be seen by another
# (README "Outgrowing one machine": caches and their bound).
NODE_BOUND_S = 1.0


def post(node, path, body, token):
    r = node.request("POST", path, body, token=token)
    return r.status, r.json() if r.body else None


def stop_all(case, nodes):
    for n in nodes:
        rc = n.stop()
        report = n.sanitizer_report()
        n.cleanup()
        case.assertIsNone(report, report)
        case.assertIn(rc, (0, None), n.log()[-3000:])


def consistent(t):
    """Problems in the store: a tag row without the event of its revision, an
    event whose change is not there (a create or move of a tag that does not
    point where the event says)."""
    problems = []
    rows = t.sql("SELECT r.org_id, r.name, t.name, t.rev, c.uuid FROM repo_tags t "
                 "JOIN repos r ON r.id = t.repo_id JOIN commits c ON c.id = t.commit_id")
    events = {(int(o), s, g, int(q)): (a, c) for o, s, g, q, a, c in t.sql(
        "SELECT org_id, scope, tag, seq, action, commit_ref FROM events "
        "WHERE scope_kind = 'repository'")}
    for org, repo, tag, rev, commit in rows:
        ev = events.get((int(org), repo, tag, int(rev)))
        if ev is None or ev[1] != commit:
            problems.append(f"{repo}/{tag}@{rev}: event {ev}")
    return problems


class NodesTest(unittest.TestCase):
    """Three nodes on one database."""

    @classmethod
    def setUpClass(cls):
        first = Tagd()
        cls.nodes = [first]
        try:
            cls.token = first.new_org("acme", project_id="proj-acme")
            cls.commits = [first.new_commit("acme") for _ in range(6)]
            first.start()
            for _ in range(2):
                cls.nodes.append(Tagd(database=first.database).start())
        except Exception:
            for n in reversed(cls.nodes):
                n.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        # The first owns the database: it goes last.
        for n in reversed(cls.nodes):
            n.stop()
            n.cleanup()

    def node(self, i):
        return self.nodes[i % len(self.nodes)]

    def new_repo(self):
        name = "r-" + uuid.uuid4().hex[:8]
        self.assertEqual(post(self.node(0), "/api/v1/repositories", {"name": name},
                              self.token)[0], 201)
        return name

    def test_a_create_raced_through_three_nodes_has_one_winner(self):
        repo = self.new_repo()
        for n in range(6):
            tag = f"v{n}"
            answers = race(lambda i: post(self.node(i), f"/api/v1/repositories/{repo}/tags",
                                          {"tag_name": tag,
                                           "commit_id": self.commits[i % len(self.commits)]},
                                          self.token), n=9)
            wins = [doc for status, doc in answers if status == 201]
            self.assertEqual(len(wins), 1, answers)
            for status, doc in answers:
                if status != 201:
                    self.assertEqual((status, doc), (409, {
                        "success": False, "error": "tag already exists in repository"}))
            # Every node reads the winner at once.
            for i in range(3):
                r = self.node(i).request("GET", f"/api/v1/repositories/{repo}/tags/{tag}",
                                         token=self.token)
                self.assertEqual((r.status, r.json()["commit_id"]),
                                 (200, wins[0]["commit_id"]))
        names = race(lambda i: post(self.node(i), "/api/v1/repositories", {"name": repo + "x"},
                                    self.token), n=9)
        self.assertEqual(sorted(s for s, _ in names), [201] + [409] * 8)

    def test_a_write_on_one_node_is_read_at_once_on_another(self):
        repo = self.new_repo()
        for i in range(20):
            writer, reader = self.node(i), self.node(i + 1)
            commit = self.commits[i % len(self.commits)]
            if i == 0:
                status, _ = post(writer, f"/api/v1/repositories/{repo}/tags",
                                 {"tag_name": "latest", "commit_id": commit}, self.token)
                self.assertEqual(status, 201)
            else:
                r = writer.request("PATCH", f"/api/v1/repositories/{repo}/tags/latest",
                                   {"commit_id": commit}, token=self.token)
                self.assertEqual(r.status, 204, r)
                etag = r.header("etag")
            r = reader.request("GET", f"/api/v1/repositories/{repo}/tags/latest",
                               token=self.token)
            self.assertEqual((r.status, r.json()["commit_id"]), (200, commit))
            if i > 0:
                self.assertEqual(r.header("etag"), etag)

    def test_moves_raced_through_three_nodes_are_serial_and_the_chain_linear(self):
        repo = self.new_repo()
        path = f"/api/v1/repositories/{repo}/tags/t"
        first = self.commits[0]
        self.assertEqual(post(self.node(0), f"/api/v1/repositories/{repo}/tags",
                              {"tag_name": "t", "commit_id": first}, self.token)[0], 201)
        head = self.node(0).request("GET", "/api/v1/events/head", token=self.token).json()
        for _ in range(4):
            # Moves conditional on the revision everyone saw: one wins, the rest 412.
            r = self.node(1).request("GET", path, token=self.token)
            etag = r.header("etag")
            answers = race(lambda i: self.node(i).request(
                "PATCH", path, {"commit_id": self.commits[1 + i % 5]}, token=self.token,
                headers={"If-Match": etag}).status, n=9)
            self.assertEqual(sorted(answers), [204] + [412] * 8)
            # Unconditional moves: all 204, and the tag ends where one of them put it.
            answers = race(lambda i: self.node(i).request(
                "PATCH", path, {"commit_id": self.commits[i % 6]}, token=self.token).status,
                n=9)
            self.assertEqual(answers, [204] * 9)
        events = self.node(2).request("GET", f"{path}/history?limit=100",
                                      token=self.token).json()["events"]
        self.assertEqual(len(events), 1 + 4 * 10)
        # Per tag, each event links to the one before it, newest first.
        for newer, older in zip(events, events[1:]):
            self.assertEqual(newer["previous_seq"], older["seq"])
            self.assertEqual(newer["previous_commit_id"], older["commit_id"])
        r = self.node(0).request("GET", path, token=self.token)
        self.assertEqual(r.json()["commit_id"], events[0]["commit_id"])
        after = self.node(1).request("GET", "/api/v1/events/head", token=self.token).json()
        self.assertGreaterEqual(after["seq"], head["seq"] + 40)
        v = self.node(0).cli("history", "verify", "--org", "acme", "--expect",
                             f"{head['seq']}:{head['hash']}")
        self.assertIn("ok:", v.stdout)
        self.assertEqual(consistent(self.node(0)), [])

    def test_a_revoked_token_stops_on_every_node(self):
        token = self.node(0).cli("token", "create", "--org", "acme").stdout.strip()
        for i in range(3):
            r = self.node(i).request("GET", "/api/v1/repositories", token=token)
            self.assertEqual(r.status, 200, r)
        self.node(0).cli("token", "revoke", "--org", "acme", token.split("_")[1])
        revoked = time.monotonic()
        pending = {0, 1, 2}
        while pending and time.monotonic() - revoked < NODE_BOUND_S + 1:
            for i in list(pending):
                if self.node(i).request("GET", "/api/v1/repositories", token=token).status == 401:
                    pending.discard(i)
            time.sleep(0.05)
        elapsed = time.monotonic() - revoked
        self.assertEqual(pending, set(), "nodes still taking the revoked token")
        self.assertLessEqual(elapsed, NODE_BOUND_S)


    def test_revocation_while_the_listener_is_away(self):
        """The nodes' listening connections cut: the epoch goes stale within the
        bound and every node reads it itself, so a revocation still holds."""
        token = self.node(0).cli("token", "create", "--org", "acme").stdout.strip()
        for i in range(3):
            self.assertEqual(self.node(i).request("GET", "/api/v1/repositories",
                                                  token=token).status, 200)
        cut = self.node(0).sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE '%FROM token_epoch%' "
            "AND pid <> pg_backend_pid()")
        self.assertGreaterEqual(int(cut[0][0]), 3)  # one listener per node
        self.node(1).cli("token", "revoke", "--org", "acme", token.split("_")[1])
        revoked = time.monotonic()
        pending = {0, 1, 2}
        while pending and time.monotonic() - revoked < NODE_BOUND_S + 1:
            for i in list(pending):
                if self.node(i).request("GET", "/api/v1/repositories", token=token).status == 401:
                    pending.discard(i)
            time.sleep(0.02)
        self.assertEqual(pending, set())
        self.assertLessEqual(time.monotonic() - revoked, NODE_BOUND_S)
        # and the listeners come back: a token works everywhere again
        other = self.node(0).cli("token", "create", "--org", "acme").stdout.strip()
        for i in range(3):
            self.assertEqual(self.node(i).request("GET", "/api/v1/repositories",
                                                  token=other).status, 200)


class Load:
    """Writers and readers spread over nodes, recording every answer."""

    def __init__(self, nodes, token, repo, commit, ss_path=None):
        self.nodes, self.token, self.repo, self.commit = nodes, token, repo, commit
        self.ss_path = ss_path
        self.acked, self.answers, self.errors = [], [], []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = []

    def start(self, writers=4, readers=2):
        for k in range(writers):
            self.threads.append(threading.Thread(target=self.writer, args=(k,)))
        for k in range(readers):
            self.threads.append(threading.Thread(target=self.reader, args=(k,)))
        for t in self.threads:
            t.start()
        return self

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def record(self, kind, node, status, headers, body, took):
        with self.lock:
            self.answers.append((kind, node, status, headers, body, took, time.monotonic()))

    def send(self, k, node, method, path, body, headers):
        n = self.nodes[node]
        if n.proc is None or n.port is None:
            return None
        t0 = time.monotonic()
        try:
            c = http.client.HTTPConnection("127.0.0.1", n.port, timeout=30)
            c.request(method, path, body=json.dumps(body) if body is not None else None,
                      headers=headers)
            r = c.getresponse()
            data = r.read()
            c.close()
        except (ConnectionError, OSError, http.client.HTTPException):
            return None  # the node died under the request: not acknowledged
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data, time.monotonic() - t0

    def writer(self, k):
        i = 0
        auth = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        while not self.stop.is_set():
            node = (k + i) % len(self.nodes)
            name = f"w{k}-{i}"
            i += 1
            got = self.send(k, node, "POST", f"/api/v1/repositories/{self.repo}/tags",
                            {"tag_name": name, "commit_id": self.commit}, auth)
            if got is None:
                time.sleep(0.01)
                continue
            status, headers, data, took = got
            self.record("vers", node, status, headers, data, took)
            if status == 201:
                with self.lock:
                    self.acked.append(name)
            elif status == 503:
                time.sleep(0.02)
            # moves of the tag just made keep the history busy too
            if status == 201 and i % 3 == 0:
                got = self.send(k, node, "PATCH",
                                f"/api/v1/repositories/{self.repo}/tags/{name}",
                                {"commit_id": self.commit, "description": f"d{i}"}, auth)
                if got is not None:
                    self.record("vers", node, *got)

    def reader(self, k):
        i = 0
        while not self.stop.is_set():
            node = (k + i) % len(self.nodes)
            i += 1
            if self.ss_path and i % 2:
                got = self.send(k, node, "GET", self.ss_path,
                                None, {"X-Auth-Token": self.token, "X-Repo-Auth": "all"})
                kind = "ss"
            else:
                got = self.send(k, node, "GET", f"/api/v1/repositories/{self.repo}/tags",
                                None, {"Authorization": f"Bearer {self.token}"})
                kind = "vers"
            if got is None:
                time.sleep(0.01)
                continue
            self.record(kind, node, *got)
            if got[0] == 503:
                time.sleep(0.02)

    def wait_acked(self, n, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.acked) >= n:
                    return True
            time.sleep(0.01)
        return False


class FaultCase(unittest.TestCase):
    def assertWellFormed(self, answers, db_timeout):
        """Every answer a success or a 503 in its envelope, within db_timeout."""
        statuses = {}
        for kind, node, status, headers, body, took, _ in answers:
            statuses[status] = statuses.get(status, 0) + 1
            self.assertIn(status, (200, 201, 204, 503), (kind, status, body[:300]))
            self.assertLess(took, db_timeout + 1.5, (kind, status, took))
            if status != 503:
                continue
            self.assertEqual(headers.get("retry-after"), "1")
            doc = json.loads(body)
            if kind == "vers":
                self.assertEqual(doc, {"success": False,
                                       "error": "service unavailable: database unavailable"})
            else:
                self.assertEqual(doc, {"error_code": "SVCSTG.REPO.0503",
                                       "error_msg": "service unavailable: database unavailable"})
        return statuses

    def assertAllThere(self, t, acked):
        names = {n for (n,) in t.sql("SELECT name FROM repo_tags")}
        missing = [n for n in acked if n not in names]
        self.assertEqual(missing, [], f"{len(missing)} acknowledged tags lost")
        self.assertEqual(consistent(t), [])
        self.assertIn("ok:", t.cli("history", "verify", "--org", "acme").stdout)
        self.assertEqual(t.cli("db", "check").stdout.strip(), "ok")


class NodeKillTest(FaultCase):
    def test_sigkill_of_a_node_under_load(self):
        first = Tagd()
        nodes = [first]
        try:
            token = first.new_org("acme", project_id="proj-acme")
            commit = first.new_commit("acme")
            first.start()
            nodes += [Tagd(database=first.database).start() for _ in range(2)]
            self.assertEqual(post(first, "/api/v1/repositories", {"name": "load"}, token)[0], 201)
            load = Load(nodes, token, "load", commit).start(writers=6, readers=2)
            try:
                self.assertTrue(load.wait_acked(150))
                nodes[1].proc.send_signal(signal.SIGKILL)
                nodes[1].proc.wait(10)
                nodes[1].proc = None
                with load.lock:
                    at_kill = len(load.acked)
                self.assertTrue(load.wait_acked(at_kill + 150))
            finally:
                load.finish()
            self.assertEqual(load.errors, [])
            self.assertWellFormed(load.answers, 5)
            self.assertAllThere(first, load.acked)
            nodes[1].start()  # the killed node comes back on the same database
            r = nodes[1].request("GET", "/api/v1/repositories/load/tags?limit=1",
                                 token=token)
            self.assertEqual(r.status, 200, r)
            print(f"\nnode kill: {len(load.acked)} acknowledged, {at_kill} before the kill")
        finally:
            stop_all(self, list(reversed(nodes)))


class OutageTest(FaultCase):
    """PostgreSQL stopped at once under load, and started again."""

    DB_TIMEOUT = 2

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tagd-pgo-", dir="/tmp")
        os.chmod(self.dir, 0o755)  # the server's user must reach its socket folder
        self.cluster = PgCluster(os.path.join(self.dir, "pg")).start()
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.addCleanup(self.cluster.stop)
        self.database = PgDatabase(create_database(host=self.cluster.host),
                                   host=self.cluster.host)

    def test_immediate_stop_and_start_under_load(self):
        args = ["--db-timeout", str(self.DB_TIMEOUT)]
        first = Tagd(database=self.database, extra_args=args)
        nodes = [first]
        try:
            token = first.new_org("acme", project_id="proj-acme")
            first.cli("repo-auth", "create", "--org", "acme", "--name", "all")
            commit = first.new_commit("acme")
            first.start()
            nodes.append(Tagd(database=self.database, extra_args=args).start())
            self.assertEqual(post(first, "/api/v1/repositories", {"name": "load"}, token)[0], 201)
            ss = {"X-Auth-Token": token, "X-Repo-Auth": "all"}
            r = first.request("POST", "/v1/proj-acme/git/repos/team/projects", {"name": "svc"},
                              headers=ss)
            self.assertEqual(r.status, 200, r)
            load = Load(nodes, token, "load", commit,
                        ss_path="/v1/proj-acme/git/repos/team/projects").start()
            try:
                self.assertTrue(load.wait_acked(100))
                marks = [n.log_mark() for n in nodes]
                self.cluster.kill()
                down = time.monotonic()
                for n, mark in zip(nodes, marks):
                    n.wait_log(r'msg="database unavailable"', timeout=10, start=mark)
                # While it is down: 503s, readiness false, never a hang.
                time.sleep(1.5)
                for n in nodes:
                    r = n.request("GET", "/readyz")
                    self.assertEqual(r.status, 503, r)
                    t0 = time.monotonic()
                    r = n.request("POST", "/api/v1/repositories/load/tags",
                                  {"tag_name": "during", "commit_id": commit}, token=token)
                    self.assertEqual(r.status, 503, (r, n.log()[-2500:]))
                    self.assertLess(time.monotonic() - t0, self.DB_TIMEOUT + 1)
                with load.lock:
                    during = sum(1 for a in load.answers if a[6] > down and a[2] == 503)
                self.cluster.start()
                up = time.monotonic()
                for n in nodes:
                    while n.request("GET", "/readyz").status != 200:
                        self.assertLess(time.monotonic() - up, 20, "the node did not recover")
                        time.sleep(0.05)
                recovered = time.monotonic() - up
                with load.lock:
                    at_up = len(load.acked)
                self.assertTrue(load.wait_acked(at_up + 100), "no writes after the restart")
            finally:
                load.finish()
            self.assertEqual(load.errors, [])
            statuses = self.assertWellFormed(load.answers, self.DB_TIMEOUT)
            self.assertGreater(during, 0, statuses)
            for n in nodes:
                self.assertIn('msg="database available again"', n.log())
            self.assertAllThere(first, load.acked)
            print(f"\noutage: {len(load.acked)} acknowledged, answers {statuses}, "
                  f"all nodes ready {recovered:.2f} s after the restart")
        finally:
            stop_all(self, list(reversed(nodes)))


    def cluster_pids(self):
        """The server processes of this test's own cluster: the postmaster and its children."""
        with open(os.path.join(self.cluster.host, "data", "postmaster.pid")) as f:
            postmaster = int(f.readline())
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(postmaster)],
                                  capture_output=True, text=True).stdout.split()
        return [postmaster] + [int(p) for p in children]

    def test_a_server_that_does_not_answer(self):
        """A frozen host (every server process stopped): no answer ever comes.
        Requests get 503 within db_timeout and a second, not a hang, and
        the node serves again once the server does."""
        t = Tagd(database=self.database, extra_args=["--db-timeout", str(self.DB_TIMEOUT)])
        pids = []
        try:
            token = t.new_org("acme")
            commit = t.new_commit("acme")
            t.start()
            self.assertEqual(post(t, "/api/v1/repositories", {"name": "app"}, token)[0], 201)
            pids = self.cluster_pids()
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
            for path, body in (("/api/v1/repositories/app/tags", None),
                               ("/api/v1/repositories/app/tags",
                                {"tag_name": "frozen", "commit_id": commit})):
                t0 = time.monotonic()
                r = t.request("POST" if body else "GET", path, body, token=token)
                took = time.monotonic() - t0
                self.assertEqual(r.status, 503, r)
                self.assertLess(took, self.DB_TIMEOUT + 2, path)
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
            pids = []
            deadline = time.monotonic() + 20
            while t.request("GET", "/readyz").status != 200:
                self.assertLess(time.monotonic(), deadline, "the node did not recover")
                time.sleep(0.05)
            r = t.request("POST", "/api/v1/repositories/app/tags",
                          {"tag_name": "after", "commit_id": commit}, token=token)
            self.assertEqual(r.status, 201, r)
            self.assertIn("no answer from PostgreSQL within the deadline", t.log())
            self.assertEqual(t.stop(), 0)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
            t.cleanup()


class PoolTest(unittest.TestCase):
    def test_connections_are_bounded_and_requests_wait_for_one(self):
        t = Tagd(extra_args=["--db-pool-size", "3", "--threads", "8"])
        try:
            token = t.new_org("acme")
            t.start()
            self.assertEqual(post(t, "/api/v1/repositories", {"name": "app"}, token)[0], 201)
            name = t.database.name
            peak = [0]
            stop = threading.Event()

            def watch():
                while not stop.is_set():
                    n = int(t.database.sql("SELECT count(*) FROM pg_stat_activity "
                                           "WHERE datname = ? AND pid <> pg_backend_pid()",
                                           (name,))[0][0])
                    peak[0] = max(peak[0], n)
                    time.sleep(0.01)
            w = threading.Thread(target=watch)
            w.start()
            try:
                answers = race(lambda i: [t.request("GET", "/api/v1/repositories/app/tags",
                                                    token=token).status
                                          for _ in range(10)], n=24)
            finally:
                stop.set()
                w.join()
            self.assertEqual({s for a in answers for s in a}, {200})
            self.assertGreaterEqual(peak[0], 1)
            self.assertLessEqual(peak[0], 3)
            self.assertEqual(t.stop(), 0)
        finally:
            t.cleanup()


if __name__ == "__main__":
    unittest.main()
