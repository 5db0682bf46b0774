"""Crash safety: concurrent writes, SIGKILL at random moments, restart, check.

Every acknowledged write must be there after the restart, nothing that was
never acknowledged may be half there, and both `tagd db check` and SQLite
itself (PRAGMA integrity_check, foreign_key_check) must find the database
intact (on PostgreSQL, which enforces constraints itself, `tagd db check`
alone).  The history too: every acknowledged tag change has its events (found
by the request's X-Request-Id), an operation in flight has them exactly when
its change is there, no event lacks its change or comes from nowhere, and
`tagd history verify` passes.

The checker is a model of what the database should hold, per key (a
repository, a commit, a tag).  Each worker owns its keys and writes them one
at a time, so each key's history is a list of acknowledged operations and at
most one operation in flight when the server died.  After the restart a key
must be in the state its acknowledged operations give, or - only when an
operation was in flight - in the state that operation would give.  Each kind
of operation is a class with a key, a request and the state it leads to;
one that changes several keys (a repository delete takes its tags with it)
lists them all in effects(), and the checker wants all of them applied or
none.

TAGD_CRASH_CYCLES sets the number of kill/restart cycles (default 5);
TAGD_CRASH_SEED the random seed.  The figures are printed at the end.
"""
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import unittest
import uuid

from dbtest import on_postgres
from tagdtest import Tagd

CYCLES = int(os.environ.get("TAGD_CRASH_CYCLES", "5"))
SEED = int(os.environ.get("TAGD_CRASH_SEED", str(random.randrange(1 << 30))))
WORKERS = 4

ACKED, UNKNOWN, NOT_SENT, REFUSED = "acked", "unknown", "not sent", "refused"


# ---- operations: each names its key, its request and the state it leads to ----

class Op:
    key = None

    def events(self):
        """The history events this operation writes: (action, repository, tag)."""
        return []

    def request(self):
        """(method, path, body)"""
        raise NotImplementedError

    def after(self, before, response):
        """The key's state once this operation has taken effect.  response is the
        parsed answer, or None when unknown (server-made ids are then not known)."""
        raise NotImplementedError

    def ok(self, status):
        return status == 201

    def effects(self, model, response):
        """Every key this operation changes, with its state afterwards."""
        return {self.key: self.after(model.get(self.key), response)}


class CreateCommit(Op):
    def __init__(self, commit_id, name):
        self.key = ("commit", commit_id)
        self.commit_id, self.name = commit_id, name

    def request(self):
        return "POST", "/api/v1/commits", {"commit_id": self.commit_id, "name": self.name}

    def after(self, before, response):
        return {"name": self.name}


class CreateRepo(Op):
    def __init__(self, name):
        self.key = ("repo", name)
        self.name = name

    def request(self):
        return "POST", "/api/v1/repositories", {"name": self.name}

    def after(self, before, response):
        return {"uuid": response["repo_id"] if response else None}


class CreateTag(Op):
    def __init__(self, repo, tag, commit_id):
        self.key = ("tag", repo, tag)
        self.repo, self.tag, self.commit_id = repo, tag, commit_id

    def request(self):
        return ("POST", f"/api/v1/repositories/{self.repo}/tags",
                {"tag_name": self.tag, "commit_id": self.commit_id})

    def after(self, before, response):
        return {"commit": self.commit_id, "uuid": response["tag_id"] if response else None}

    def events(self):
        return [("create", self.repo, self.tag)]


class MoveTag(Op):
    def __init__(self, repo, tag, commit_id):
        self.key = ("tag", repo, tag)
        self.repo, self.tag, self.commit_id = repo, tag, commit_id

    def request(self):
        return ("PATCH", f"/api/v1/repositories/{self.repo}/tags/{self.tag}",
                {"commit_id": self.commit_id})

    def after(self, before, response):
        return {"commit": self.commit_id, "uuid": before["uuid"]}

    def ok(self, status):
        return status == 204

    def events(self):
        return [("move", self.repo, self.tag)]


class DeleteTag(Op):
    def __init__(self, repo, tag):
        self.key = ("tag", repo, tag)
        self.repo, self.tag = repo, tag

    def request(self):
        return "DELETE", f"/api/v1/repositories/{self.repo}/tags/{self.tag}", None

    def after(self, before, response):
        return None

    def ok(self, status):
        return status == 204

    def events(self):
        return [("delete", self.repo, self.tag)]


class DeleteRepo(Op):
    """Deletes the repository and, in the same transaction, its tags."""

    def __init__(self, name, tags):
        self.key = ("repo", name)
        self.name = name
        self.tag_keys = [("tag", name, tag) for tag in tags]  # its live tags, all of them

    def request(self):
        return "DELETE", f"/api/v1/repositories/{self.name}", None

    def ok(self, status):
        return status == 204

    def effects(self, model, response):
        return {k: None for k in [self.key] + self.tag_keys}

    def events(self):
        return sorted(("delete", self.name, k[2]) for k in self.tag_keys)


def same(expected, actual):
    """actual (from the database) is expected; None fields of expected match anything."""
    if expected is None or actual is None:
        return expected is None and actual is None
    return all(v is None or actual.get(k) == v for k, v in expected.items())


# ---- the database as the checker sees it ----

def read_state(tagd):
    state = {}
    for uuid_, name in tagd.sql("SELECT uuid, name FROM commits"):
        state[("commit", uuid_)] = {"name": name}
    for uuid_, name in tagd.sql("SELECT uuid, name FROM repos"):
        state[("repo", name)] = {"uuid": uuid_}
    for repo, tag, commit, tag_uuid in tagd.sql(
            "SELECT r.name, t.name, c.uuid, t.uuid FROM repo_tags t "
            "JOIN repos r ON r.id = t.repo_id JOIN commits c ON c.id = t.commit_id"):
        state[("tag", repo, tag)] = {"commit": commit, "uuid": tag_uuid}
    return state


def read_events(tagd):
    """request id -> [(action, repository, tag)] of every event, in chain order."""
    out = {}
    for rid, action, scope, tag in tagd.sql(
            "SELECT request_id, action, scope, tag FROM events ORDER BY seq"):
        out.setdefault(rid, []).append((action, scope, tag))
    return out


def history_check(tagd):
    """Problems `tagd history verify` finds (empty when none)."""
    r = tagd.cli("history", "verify", "--org", "acme", check=False)
    if r.returncode == 0 and r.stdout.startswith("ok: "):
        return []
    return [f"tagd history verify exited {r.returncode}: {r.stdout.strip()} {r.stderr.strip()}"]


def sqlite_check(db):
    """Problems SQLite finds in the database file (empty when none); on
    PostgreSQL none: it keeps its own pages and constraints."""
    if on_postgres():
        return []
    r = subprocess.run(["sqlite3", db, "PRAGMA integrity_check; PRAGMA foreign_key_check;"],
                       capture_output=True, text=True, timeout=120)
    out = r.stdout.strip()
    problems = [] if out == "ok" else [out]
    if r.returncode != 0:
        problems.append(f"sqlite3 exited {r.returncode}: {r.stderr.strip()}")
    return problems


def tagd_check(tagd):
    """Problems `tagd db check` finds (empty when none): it says ok and exits 0."""
    r = tagd.cli("db", "check", check=False)
    if r.returncode == 0 and r.stdout.strip() == "ok":
        return []
    return [f"tagd db check exited {r.returncode}: {r.stdout.strip()} {r.stderr.strip()}"]


# ---- workers ----

class Worker(threading.Thread):
    def __init__(self, wid, port, token, model, rng, on_ack):
        super().__init__(daemon=True)
        self.wid, self.port, self.token, self.rng = wid, port, token, rng
        self.model = model  # shared: key -> state; this worker only touches its keys
        self.on_ack = on_ack
        self.log = []  # (op, outcome, state_before, state_after_or_None, request id)
        self.error = None
        self.counter = 0
        # This worker's existing repositories and commits (taken before it starts).
        self.repos = [k[1] for k, v in model.items()
                      if k[0] == "repo" and v is not None and k[1].startswith(f"w{wid}-")]
        self.commits = [k[1] for k, v in model.items()
                        if k[0] == "commit" and v is not None and v["name"].startswith(f"w{wid}-")]
        self.tags = [k[1:] for k, v in model.items()
                     if k[0] == "tag" and v is not None and k[1].startswith(f"w{wid}-")]

    def next_op(self):
        self.counter += 1
        choice = self.rng.random()
        if choice < 0.25 or not self.commits:
            cid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            return CreateCommit(cid, f"w{self.wid}-c{self.counter}-{self.rng.randrange(1 << 30)}")
        if choice < 0.4 or not self.repos:
            return CreateRepo(f"w{self.wid}-r{self.counter}-{self.rng.randrange(1 << 30)}")
        if choice < 0.5:
            repo = self.rng.choice(self.repos)
            return DeleteRepo(repo, [t for r, t in self.tags if r == repo])
        if choice < 0.75 and self.tags:
            repo, tag = self.rng.choice(self.tags)
            if choice < 0.62:
                return DeleteTag(repo, tag)
            current = self.model[("tag", repo, tag)]["commit"]
            others = [c for c in self.commits if c != current]
            if others:
                return MoveTag(repo, tag, self.rng.choice(others))
        repo = self.rng.choice(self.repos)
        commit = self.rng.choice(self.commits)
        return CreateTag(repo, f"w{self.wid}-t{self.counter}-{self.rng.randrange(1 << 30)}",
                         commit)

    def note(self, op):
        """Keep the lists of this worker's live repositories, commits and tags."""
        if isinstance(op, CreateRepo):
            self.repos.append(op.name)
        elif isinstance(op, CreateCommit):
            self.commits.append(op.commit_id)
        elif isinstance(op, CreateTag):
            self.tags.append((op.repo, op.tag))
        elif isinstance(op, DeleteTag):
            self.tags.remove((op.repo, op.tag))
        elif isinstance(op, DeleteRepo):
            self.repos.remove(op.name)
            self.tags = [t for t in self.tags if t[0] != op.name]

    def run(self):
        try:
            self.work()
        except BaseException as e:  # reported by the test, not lost in the thread
            self.error = e

    def work(self):
        while True:
            op = self.next_op()
            method, path, body = op.request()
            before = {k: self.model.get(k) for k in op.effects(self.model, None)}
            rid = f"w{self.wid}-{uuid.UUID(int=self.rng.getrandbits(128), version=4).hex}"
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                try:
                    conn.connect()
                except OSError:
                    self.log.append((op, NOT_SENT, before, None, rid))
                    return
                try:
                    conn.request(method, path,
                                 body=None if body is None else json.dumps(body),
                                 headers={"Authorization": f"Bearer {self.token}",
                                          "Content-Type": "application/json",
                                          "X-Request-Id": rid})
                    r = conn.getresponse()
                    data = r.read()
                except (OSError, http.client.HTTPException):
                    self.log.append((op, UNKNOWN, before, None, rid))
                    return
            finally:
                conn.close()
            if op.ok(r.status):
                after = op.effects(self.model, json.loads(data) if data else None)
                self.model.update(after)
                self.note(op)
                self.log.append((op, ACKED, before, after, rid))
                self.on_ack()
            else:
                # A definite refusal changes nothing; in this workload it is a bug.
                self.log.append((op, REFUSED, before, (r.status, data[:200]), rid))
                return


class CrashSafetyTest(unittest.TestCase):
    def test_acknowledged_writes_survive_sigkill(self):
        rng = random.Random(SEED)
        tagd = Tagd()
        kinds = {}
        figures = {"cycles": 0, "acked": 0, "key_checks": 0, "unknown": 0, "unknown_applied": 0,
                   "losses": 0, "half_applied": 0, "phantoms": 0, "integrity_failures": 0,
                   "events_checked": 0, "event_problems": 0}
        try:
            token = tagd.new_org("acme")
            model = {}  # key -> state (None: absent)
            sent = set()  # the request id of every operation sent, over all cycles
            for cycle in range(CYCLES):
                tagd.start()
                acks = [0]
                lock = threading.Condition()
                target = rng.randrange(5, 60)

                def on_ack():
                    with lock:
                        acks[0] += 1
                        lock.notify_all()

                workers = [Worker(w, tagd.port, token, model, random.Random(rng.random()), on_ack)
                           for w in range(WORKERS)]
                for w in workers:
                    w.start()
                with lock:  # kill after a random number of acknowledged writes
                    lock.wait_for(lambda: acks[0] >= target or
                                  not any(w.is_alive() for w in workers), timeout=120)
                tagd.kill()
                for w in workers:
                    w.join(60)
                    self.assertFalse(w.is_alive())
                    self.assertIsNone(w.error, f"worker {w.wid} (seed {SEED})")
                figures["cycles"] += 1

                problems = sqlite_check(tagd.db) + tagd_check(tagd) + history_check(tagd)
                figures["integrity_failures"] += len(problems)
                self.assertEqual(problems, [], f"cycle {cycle} (seed {SEED})")
                actual = read_state(tagd)
                events = read_events(tagd)

                # Every key the workers wrote: acknowledged state, or (in flight) either.
                for w in workers:
                    for op, outcome, before, after, rid in w.log:
                        sent.add(rid)
                        if outcome == REFUSED:
                            self.fail(f"{op.request()} refused: {after} (seed {SEED})")
                        if outcome == ACKED:
                            figures["acked"] += 1
                            kinds[type(op).__name__] = kinds.get(type(op).__name__, 0) + 1
                            figures["events_checked"] += len(op.events())
                            if sorted(events.get(rid, [])) != sorted(op.events()):
                                figures["event_problems"] += 1
                                self.fail(f"{op.request()}: acknowledged with events "
                                          f"{op.events()}, found {events.get(rid)} (seed {SEED})")
                            continue
                        got = {k: actual.get(k) for k in before}
                        untouched = all(same(before[k], got[k]) for k in before)
                        if outcome == NOT_SENT:
                            self.assertTrue(untouched, f"{op.request()}: never sent, "
                                            f"found {got} (seed {SEED})")
                            self.assertNotIn(rid, events, f"{op.request()}: never sent")
                            continue
                        figures["unknown"] += 1
                        applied = op.effects(before, None)
                        done = all(same(applied[k], got[k]) for k in before) and not untouched
                        # Its events are there exactly when its change is.
                        want = sorted(op.events()) if done else []
                        if sorted(events.get(rid, [])) != want:
                            figures["event_problems"] += 1
                            self.fail(f"{op.request()}: in flight, change "
                                      f"{'applied' if done else 'not applied'}, events "
                                      f"{events.get(rid)} (seed {SEED})")
                        if done:
                            figures["unknown_applied"] += 1
                            model.update(got)
                        elif not untouched:
                            figures["half_applied"] += 1
                            self.fail(f"{op.request()}: in flight, found {got}, expected "
                                      f"{before} or {applied} (seed {SEED})")
                for key, want in model.items():
                    figures["key_checks"] += 1
                    if not same(want, actual.get(key)):
                        figures["losses"] += 1
                        self.fail(f"{key}: acknowledged {want}, found {actual.get(key)} "
                                  f"(cycle {cycle}, seed {SEED})")
                known = {k for k, v in model.items() if v is not None}
                phantoms = set(actual) - known
                figures["phantoms"] += len(phantoms)
                self.assertEqual(phantoms, set(), f"never acknowledged (seed {SEED})")
                stray = set(events) - sent
                figures["event_problems"] += len(stray)
                self.assertEqual(stray, set(), f"events of no request (seed {SEED})")
            # Last: the server starts on what is left and is consistent once more.
            tagd.start()
            self.assertEqual(tagd.stop(), 0)
            self.assertEqual(sqlite_check(tagd.db) + tagd_check(tagd) + history_check(tagd), [])
        finally:
            tagd.cleanup()
            print(f"\ncrash-safety: seed={SEED} " +
                  " ".join(f"{k}={v}" for k, v in figures.items()) + " acked_by_kind=" +
                  ",".join(f"{k}:{v}" for k, v in sorted(kinds.items())), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
