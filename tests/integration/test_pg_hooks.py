"""Webhooks with two tagd nodes on one PostgreSQL database: they share the
work and never send to one hook twice at once (each hook is claimed by one
node at a time, under a session advisory lock), so every event reaches every
hook exactly once (no attempt fails here), in order, one request at a time.

Runs on PostgreSQL only (integration.pg.pg_hooks).
"""
import threading
import unittest

from dbtest import on_postgres
from hooktest import Receiver
from tagdtest import Tagd

SECRET = "s3cret-0123456789-abcdef"
HOOKS = 4
EVENTS = 60


@unittest.skipUnless(on_postgres(), "several nodes share a database on PostgreSQL only")
class TwoNodesTest(unittest.TestCase):
    def setUp(self):
        self.rx = Receiver()
        self.addCleanup(self.rx.close)
        args = ("--hook-allow-private", "true", "--log-level", "debug")
        self.a = Tagd(extra_args=args)
        self.addCleanup(self.a.cleanup)
        self.token = self.a.new_org("acme")
        self.b = Tagd(extra_args=args, database=self.a.database)
        self.addCleanup(self.b.cleanup)
        self.a.start()
        self.b.start()

    def req(self, node, method, path, body=None):
        r = node.request(method, path, body, token=self.token)
        self.assertLess(r.status, 300, r)
        return r

    def test_every_event_once_per_hook_in_order_never_two_at_once(self):
        # Slow enough that rounds overlap the other node's polls.
        self.rx.delay = 0.01
        for i in range(HOOKS):
            self.req(self.a if i % 2 else self.b, "POST", "/api/v1/hooks",
                     {"url": self.rx.register(f"n{i}", SECRET), "secret": SECRET})
        self.req(self.a, "POST", "/api/v1/repositories", {"name": "app"})
        commit = self.a.new_commit("acme")
        errors = []

        def make(node, names):
            try:
                for name in names:
                    self.req(node, "POST", "/api/v1/repositories/app/tags",
                             {"tag_name": name, "commit_id": commit})
            except Exception as e:  # noqa: BLE001 -- reported below
                errors.append(e)

        names = [f"t{i:03}" for i in range(EVENTS)]
        writers = [threading.Thread(target=make, args=(node, names[k::2]))
                   for k, node in enumerate((self.a, self.b))]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        self.assertEqual(errors, [])
        feed = self.req(self.a, "GET", "/api/v1/events?limit=1000").json()["events"]
        order = [e["tag"] for e in feed]
        self.assertEqual(sorted(order), names)
        for i in range(HOOKS):
            got = self.rx.wait_for(f"n{i}", EVENTS)
            self.assertEqual([d.json["tag"] for d in got], order, f"hook n{i}")
            self.assertEqual(len({d.webhook_id for d in got}), EVENTS, f"hook n{i}")
            self.assertEqual(self.rx.max_in_flight[f"/h/n{i}"], 1, f"hook n{i}")
        self.assertEqual(self.rx.bad, [])
        # Both nodes took part: each delivered, or found a hook the other held.
        for node in (self.a, self.b):
            log = node.log()
            self.assertTrue('msg="hook round recorded"' in log or
                            'msg="another tagd delivers these hooks"' in log, log[-2000:])
        for node in (self.a, self.b):
            self.assertEqual(node.stop(), 0)


if __name__ == "__main__":
    unittest.main()
