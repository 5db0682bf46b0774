"""Races: many clients released together on one name.

- Creates of one name: exactly one 201, the rest 409, one row.
- Moves, deletes (and creates) of one tag, a repository delete during tag
  creation, ServiceStage tag create against delete: never a 500, and the
  answers and the end state are those of *some* serial order of the same
  requests.  `serial_outcomes` searches every order (a reachability search
  over which requests have run and the state they left), so the check is
  exact, not a list of expected cases.
- After every race the database has no orphan rows (`orphans`)."""
import threading
import unittest
import urllib.parse
import uuid

from dbtest import on_postgres
from sstest import SsCase, new_sha
from tagdtest import TagdCase

CLIENTS = 12
ROUNDS = 8

TAG_NOT_FOUND = (404, "tag not found")
REPO_NOT_FOUND = (404, "repository not found")
TAG_TAKEN = (409, "tag already exists in repository")
REPO_TAKEN = (409, "repository already exists")


def race(make_request, n=CLIENTS):
    """Run make_request(i) for i in range(n) from n threads released together; the answers."""
    barrier = threading.Barrier(n)
    answers = [None] * n
    errors = []

    def client(i):
        try:
            barrier.wait(30)
            answers[i] = make_request(i)
        except BaseException as e:  # reported below, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    return answers


def serial_outcomes(steps, observed, initial):
    """The end states of every serial order of the requests in which each
    request answers exactly as observed.  steps[i](state) gives (the answer
    request i would get in that state, the state after it).  Empty: no
    serial order explains the answers."""
    n = len(steps)
    frontier = {(0, initial)}
    for _ in range(n):
        following = set()
        for done, state in frontier:
            for i in range(n):
                if done & (1 << i):
                    continue
                answer, after = steps[i](state)
                if answer == observed[i]:
                    following.add((done | (1 << i), after))
        frontier = following
    return {state for _, state in frontier}


def orphans(tagd):
    """Rows that reference a missing row, by table; and PRAGMA foreign_key_check's rows
    (none on PostgreSQL, which enforces foreign keys on every statement)."""
    counts = {
        "repo_tags without repository": tagd.sql(
            "SELECT count(*) FROM repo_tags t "
            "WHERE NOT EXISTS (SELECT 1 FROM repos r WHERE r.id = t.repo_id)")[0][0],
        "repo_tags without commit": tagd.sql(
            "SELECT count(*) FROM repo_tags t "
            "WHERE NOT EXISTS (SELECT 1 FROM commits c WHERE c.id = t.commit_id)")[0][0],
        "ss_tags without project or commit": tagd.sql(
            "SELECT count(*) FROM ss_tags t "
            "WHERE NOT EXISTS (SELECT 1 FROM ss_projects p WHERE p.id = t.project_id) "
            "OR NOT EXISTS (SELECT 1 FROM ss_commits c WHERE c.id = t.commit_id)")[0][0],
    }
    fk = [] if on_postgres() else tagd.sql("PRAGMA foreign_key_check")
    return {k: v for k, v in counts.items() if v}, fk


class RaceCase(TagdCase):
    def query(self, sql, *args):
        return self.tagd.sql(sql, args)

    def count(self, sql, *args):
        return self.query(sql, *args)[0][0]

    def assertNoOrphans(self):
        self.assertEqual(orphans(self.tagd), ({}, []))

    def assertSerial(self, steps, observed, initial, final):
        """Some serial order explains every answer and ends in the state found."""
        for answer in observed:
            self.assertNotEqual(answer[0], 500, observed)
        outcomes = serial_outcomes(steps, observed, initial)
        self.assertTrue(outcomes, f"no serial order gives these answers: {observed}")
        self.assertIn(final, outcomes, f"answers {observed}")


class CreateRaceTest(RaceCase):
    """Creates of one name: exactly one winner."""

    def assertOneWinner(self, statuses, loser_message):
        wins = [s for s in statuses if s[0] == 201]
        self.assertEqual(len(wins), 1, statuses)
        for status, doc in statuses:
            if status != 201:
                self.assertEqual((status, doc), (409, {"success": False, "error": loser_message}))

    def post(self, path, body):
        r = self.req("POST", path, body)
        return r.status, r.json()

    def test_one_repository_name(self):
        for _ in range(ROUNDS):
            name = self.unique("race")
            statuses = race(lambda i: self.post("/api/v1/repositories", {"name": name}))
            self.assertOneWinner(statuses, "repository already exists")
            self.assertEqual(self.count("SELECT count(*) FROM repos WHERE name = ?", name), 1)

    def test_one_tag_name(self):
        repo = self.unique("race")
        self.assertEqual(self.post("/api/v1/repositories", {"name": repo})[0], 201)
        commits = [self.tagd.new_commit("acme") for _ in range(3)]
        for n in range(ROUNDS):
            tag = f"v{n}"
            statuses = race(lambda i: self.post(
                f"/api/v1/repositories/{repo}/tags",
                {"tag_name": tag, "commit_id": commits[i % len(commits)]}))
            self.assertOneWinner(statuses, "tag already exists in repository")
            winner = next(doc for status, doc in statuses if status == 201)
            self.assertEqual(self.count(
                "SELECT count(*) FROM repo_tags t JOIN repos r ON r.id = t.repo_id "
                "JOIN commits c ON c.id = t.commit_id "
                "WHERE r.name = ? AND t.name = ? AND c.uuid = ?", repo, tag,
                winner["commit_id"]), 1)
        self.assertNoOrphans()

    def test_one_commit_id(self):
        for _ in range(ROUNDS):
            cid = str(uuid.uuid4())
            statuses = race(lambda i: self.post("/api/v1/commits",
                                                {"commit_id": cid, "name": f"c{i}"}))
            self.assertOneWinner(statuses, "commit already exists")
            self.assertEqual(self.count("SELECT count(*) FROM commits WHERE uuid = ?", cid), 1)


def vers_answer(r):
    """(status, error message or None, tag_id or None): what a serial model can predict."""
    doc = r.json() if r.body else {}
    return r.status, doc.get("error"), doc.get("tag_id")


class TagRaceTest(RaceCase):
    """Moves, deletes and creates of one tag.  State: None (no tag) or
    (tag_id, commit_id) of the tag."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.commits = [cls.tagd.new_commit("acme") for _ in range(CLIENTS + 1)]

    def setUp(self):
        self.repo = self.unique("tagrace")
        r = self.req("POST", "/api/v1/repositories", {"name": self.repo})
        self.assertEqual(r.status, 201, r)
        self.path = f"/api/v1/repositories/{self.repo}/tags"

    def tag_state(self, tag):
        rows = self.query("SELECT t.uuid, c.uuid FROM repo_tags t JOIN repos r ON r.id = t.repo_id "
                          "JOIN commits c ON c.id = t.commit_id WHERE r.name = ? AND t.name = ?",
                          self.repo, tag)
        self.assertLessEqual(len(rows), 1)
        return tuple(rows[0]) if rows else None

    # Each request: how to send it, and what it does to a state.
    def move(self, tag, commit):
        def send():
            return vers_answer(self.req("PATCH", f"{self.path}/{tag}", {"commit_id": commit}))

        def step(state):
            if state is None:
                return TAG_NOT_FOUND + (None,), None
            return (204, None, None), (state[0], commit)
        return send, step

    def delete(self, tag):
        def send():
            return vers_answer(self.req("DELETE", f"{self.path}/{tag}"))

        def step(state):
            if state is None:
                return TAG_NOT_FOUND + (None,), None
            return (204, None, None), None
        return send, step

    def create(self, tag, commit):
        answer = {}

        def send():
            answer["a"] = vers_answer(self.req("POST", self.path,
                                               {"tag_name": tag, "commit_id": commit}))
            return answer["a"]

        def step(state):
            if state is not None:
                return TAG_TAKEN + (None,), state
            tag_id = answer["a"][2]  # the id this create was given, had it won
            return (201, None, tag_id), (tag_id, commit)
        return send, step

    def run_race(self, tag, requests, initial):
        observed = race(lambda i: requests[i][0](), len(requests))
        self.assertSerial([step for _, step in requests], observed, initial, self.tag_state(tag))
        self.assertNoOrphans()
        return observed

    def test_move_against_delete(self):
        deleted = 0
        for n in range(ROUNDS):
            tag = f"v{n}"
            initial = self.req("POST", self.path, {"tag_name": tag, "commit_id": self.commits[0]})
            self.assertEqual(initial.status, 201, initial)
            requests = [self.move(tag, self.commits[1 + i]) if i % 2 else self.delete(tag)
                        for i in range(CLIENTS)]
            observed = self.run_race(tag, requests,
                                     (initial.json()["tag_id"], self.commits[0]))
            # One delete wins; moves after it find nothing.
            self.assertEqual([a[0] for a in observed[0::2]].count(204), 1, observed)
            self.assertIsNone(self.tag_state(tag))
            deleted += 1
        self.assertEqual(deleted, ROUNDS)

    def test_move_delete_create(self):
        for n in range(ROUNDS):
            tag = f"w{n}"
            # Start with the tag in odd rounds, without it in even ones.
            initial = None
            if n % 2:
                r = self.req("POST", self.path, {"tag_name": tag, "commit_id": self.commits[0]})
                self.assertEqual(r.status, 201, r)
                initial = (r.json()["tag_id"], self.commits[0])
            requests = []
            for i in range(CLIENTS):
                commit = self.commits[1 + i]
                requests.append((self.move(tag, commit), self.delete(tag),
                                 self.create(tag, commit))[i % 3])
            self.run_race(tag, requests, initial)


class RepositoryDeleteRaceTest(RaceCase):
    """A repository deleted (and made again) while tags are created in it.
    State: (repo_id or None, frozenset of (tag_name, tag_id))."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.commit = cls.tagd.new_commit("acme")

    def repo_state(self, name):
        rows = self.query("SELECT r.uuid FROM repos r JOIN orgs o ON o.id = r.org_id "
                          "WHERE o.name = 'acme' AND r.name = ?", name)
        if not rows:
            return None, frozenset()
        tags = self.query("SELECT t.name, t.uuid FROM repo_tags t JOIN repos r ON r.id = t.repo_id "
                          "WHERE r.uuid = ?", rows[0][0])
        return rows[0][0], frozenset(tuple(t) for t in tags)

    def test_delete_during_tag_creation(self):
        for n in range(ROUNDS):
            name = self.unique("doomed")
            path = f"/api/v1/repositories/{name}"
            r = self.req("POST", "/api/v1/repositories", {"name": name})
            self.assertEqual(r.status, 201, r)
            answers = {}

            def send(i):
                if i == 0:
                    r = self.req("DELETE", path)
                elif i == 1 and n % 2:  # odd rounds: the repository is made again
                    r = self.req("POST", "/api/v1/repositories", {"name": name})
                else:
                    r = self.req("POST", f"{path}/tags",
                                 {"tag_name": f"t{i}", "commit_id": self.commit})
                doc = r.json() if r.body else {}
                answers[i] = (r.status, doc.get("error"), doc.get("tag_id") or doc.get("repo_id"))
                return answers[i]

            def delete_step(state):
                if state[0] is None:
                    return REPO_NOT_FOUND + (None,), state
                return (204, None, None), (None, frozenset())

            def recreate_step(state):
                if state[0] is not None:
                    return REPO_TAKEN + (None,), state
                repo_id = answers[1][2]
                return (201, None, repo_id), (repo_id, frozenset())

            def tag_step(i):
                def step(state):
                    if state[0] is None:
                        return REPO_NOT_FOUND + (None,), state
                    tag_id = answers[i][2]
                    return (201, None, tag_id), (state[0], state[1] | {(f"t{i}", tag_id)})
                return step

            steps = [delete_step] + [recreate_step if i == 1 and n % 2 else tag_step(i)
                                     for i in range(1, CLIENTS)]
            observed = race(send)
            for i, answer in enumerate(observed):
                if i > 0 and not (i == 1 and n % 2):
                    self.assertIn(answer[:2], ((201, None), REPO_NOT_FOUND), observed)
            self.assertEqual(observed[0][0], 204, observed)
            self.assertSerial(steps, observed, (r.json()["repo_id"], frozenset()),
                              self.repo_state(name))
            self.assertNoOrphans()  # no tag row of a missing repository among them


class SsTagRaceTest(SsCase):
    """ServiceStage: creates and deletes of one tag name.  State: None or the tag's SHA."""

    def setUp(self):
        self.ns, self.name, project = self.new_project()
        self.project_row = int(project["id"])
        self.base = f"/repos/{self.ns}/{self.name}"
        self.shas = [new_sha() for _ in range(4)]
        for i, sha in enumerate(self.shas):
            self.record(self.ns, self.name, sha, f"c{i}", branch="main")

    def tag_state(self, tag):
        rows = self.tagd.sql("SELECT c.sha FROM ss_tags t JOIN ss_commits c ON c.id = t.commit_id "
                             "WHERE t.project_id = ? AND t.name = ?", (self.project_row, tag))
        self.assertLessEqual(len(rows), 1)
        return rows[0][0] if rows else None

    def test_create_against_delete(self):
        taken = (400, "SVCSTG.REPO.0403")
        absent = (400, "SVCSTG.REPO.0400")
        for n in range(ROUNDS):
            tag = f"rel/{n}"  # hierarchical: the delete path carries it percent-encoded
            quoted = urllib.parse.quote(tag, safe="")
            initial = None
            if n % 2:
                r = self.ss("POST", self.base + "/tags", {"name": tag, "description": "d"},
                            query="?ref=" + self.shas[0])
                self.assertOk(r)
                initial = self.shas[0]

            def send(i):
                if i % 2:
                    r = self.ss("DELETE", f"{self.base}/tags/{quoted}")
                else:
                    r = self.ss("POST", self.base + "/tags", {"name": tag, "description": "d"},
                                query="?ref=" + self.shas[i % len(self.shas)])
                doc = r.json() if r.body else {}
                return r.status, doc.get("error_code")

            def step(i):
                sha = self.shas[i % len(self.shas)]

                def delete(state):
                    return ((204, None), None) if state is not None else (absent, None)

                def create(state):
                    return ((200, None), sha) if state is None else (taken, state)
                return delete if i % 2 else create

            observed = race(send)
            for answer in observed:
                self.assertIn(answer, ((200, None), (204, None), taken, absent), observed)
            outcomes = serial_outcomes([step(i) for i in range(CLIENTS)], observed, initial)
            self.assertTrue(outcomes, f"no serial order gives these answers: {observed}")
            self.assertIn(self.tag_state(tag), outcomes, observed)
        self.assertEqual(orphans(self.tagd), ({}, []))


if __name__ == "__main__":
    unittest.main()
