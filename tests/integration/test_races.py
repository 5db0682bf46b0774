"""Races: many clients creating the same thing at once get exactly one 201,
the rest 409, never a 500, and the database holds exactly one row.
(Moves and deletes join here once they exist.)"""
import sqlite3
import threading
import unittest
import uuid

from tagdtest import TagdCase

CLIENTS = 12
ROUNDS = 8


class RaceTest(TagdCase):
    def race(self, make_request):
        """Run make_request(i) from CLIENTS threads released together; the statuses."""
        barrier = threading.Barrier(CLIENTS)
        statuses = [None] * CLIENTS

        def client(i):
            barrier.wait(30)
            statuses[i] = make_request(i)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return statuses

    def assertOneWinner(self, statuses, loser_message):
        wins = [s for s in statuses if s[0] == 201]
        self.assertEqual(len(wins), 1, statuses)
        for status, doc in statuses:
            if status != 201:
                self.assertEqual((status, doc), (409, {"success": False, "error": loser_message}))

    def count(self, sql, *args):
        con = sqlite3.connect(f"file:{self.tagd.db}?mode=ro", uri=True)
        try:
            return con.execute(sql, args).fetchone()[0]
        finally:
            con.close()

    def post(self, path, body):
        r = self.req("POST", path, body)
        return r.status, r.json()

    def test_one_repository_name(self):
        for _ in range(ROUNDS):
            name = self.unique("race")
            statuses = self.race(lambda i: self.post("/api/v1/repositories", {"name": name}))
            self.assertOneWinner(statuses, "repository already exists")
            self.assertEqual(self.count("SELECT count(*) FROM repos WHERE name = ?", name), 1)

    def test_one_tag_name(self):
        repo = self.unique("race")
        self.assertEqual(self.post("/api/v1/repositories", {"name": repo})[0], 201)
        commits = [self.tagd.new_commit("acme") for _ in range(3)]
        for n in range(ROUNDS):
            tag = f"v{n}"
            statuses = self.race(lambda i: self.post(
                f"/api/v1/repositories/{repo}/tags",
                {"tag_name": tag, "commit_id": commits[i % len(commits)]}))
            self.assertOneWinner(statuses, "tag already exists in repository")
            winner = next(doc for status, doc in statuses if status == 201)
            self.assertEqual(self.count(
                "SELECT count(*) FROM repo_tags t JOIN repos r ON r.id = t.repo_id "
                "JOIN commits c ON c.id = t.commit_id "
                "WHERE r.name = ? AND t.name = ? AND c.uuid = ?", repo, tag,
                winner["commit_id"]), 1)

    def test_one_commit_id(self):
        for _ in range(ROUNDS):
            cid = str(uuid.uuid4())
            statuses = self.race(lambda i: self.post("/api/v1/commits",
                                                     {"commit_id": cid, "name": f"c{i}"}))
            self.assertOneWinner(statuses, "commit already exists")
            self.assertEqual(self.count("SELECT count(*) FROM commits WHERE uuid = ?", cid), 1)


if __name__ == "__main__":
    unittest.main()
