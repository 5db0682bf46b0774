"""Token lifecycle over the wire: expiry, last use, rotation, the failure
budget (429 + Retry-After), and no token in logs or error bodies."""
import calendar
import re
import time
import unittest

from dbtest import on_postgres
from tagdtest import Tagd

INVALID = {"success": False, "error": "Invalid bearer token"}
TOO_MANY = {"success": False, "error": "Too many failed authentication attempts; retry later"}
BURST = 20  # GUARD_DEFAULT_BURST

# How soon a token change made behind a server's back is seen: at the next
# request on SQLite, when the epoch's notification arrives (a second at most)
# on PostgreSQL (README "Token lifecycle").
EPOCH_BOUND_S = 1.0 if on_postgres() else 0.0


def once_seen(send, refused=lambda r: r.status == 401):
    """send() until refused(answer), within EPOCH_BOUND_S; the last answer."""
    deadline = time.monotonic() + EPOCH_BOUND_S
    while True:
        r = send()
        if refused(r) or time.monotonic() >= deadline:
            return r
        time.sleep(0.01)


def token_rows(tagd, org):
    """`tagd token list` as {id: {column: value}}."""
    out = tagd.cli("token", "list", "--org", org).stdout.splitlines()
    rows = {}
    for line in out[1:]:
        parts = re.split(r"\s{2,}", line.strip())
        row = dict(zip(["id", "status", "created", "expires", "last_used", "label"], parts))
        rows[row["id"]] = row
    return out[0], rows


def public_id(token):
    return token[5:21]


class ServerCase(unittest.TestCase):
    """A server of the test class's own: budgets and logs are not shared."""

    @classmethod
    def setUpClass(cls):
        cls.tagd = Tagd()
        try:
            cls.tagd.cli("org", "create", "acme")
            cls.token = cls.tagd.cli("token", "create", "--org", "acme").stdout.strip()
            cls.tagd.start()
        except Exception:
            cls.tagd.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        rc = cls.tagd.stop()
        cls.tagd.cleanup()
        if rc not in (0, None):
            raise AssertionError(f"tagd exited with {rc}")

    def post(self, token, **kw):
        return self.tagd.request("POST", "/api/v1/commits", body={}, token=token, **kw)


class ExpiryAndLastUse(ServerCase):
    def test_create_with_expiry(self):
        r = self.tagd.cli("token", "create", "--org", "acme", "--name", "ci", "--expires", "90d")
        tok = r.stdout.strip()
        self.assertRegex(tok, r"^tagd_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")
        m = re.fullmatch(r"expires (\S+)\n", r.stderr)
        self.assertIsNotNone(m, r.stderr)
        self.assertEqual(self.post(tok).status, 201)
        listing = self.tagd.cli("token", "list", "--org", "acme").stdout
        self.assertNotIn(tok[22:], listing)  # never the secret
        header, rows = token_rows(self.tagd, "acme")
        self.assertEqual(header.split(), ["ID", "STATUS", "CREATED", "EXPIRES", "LAST", "USED",
                                          "LABEL"])
        row = rows[public_id(tok)]
        self.assertEqual((row["status"], row["expires"], row["label"]), ("active", m.group(1), "ci"))
        # 90 days from now, to the day.
        days = (calendar.timegm(time.strptime(m.group(1)[:10], "%Y-%m-%d")) - time.time()) / 86400
        self.assertAlmostEqual(days, 90, delta=1.01)

        r = self.tagd.cli("token", "create", "--org", "acme", "--expires", "2031-02-03")
        row = token_rows(self.tagd, "acme")[1][public_id(r.stdout.strip())]
        self.assertEqual(row["expires"], "2031-02-03T00:00:00.000000Z")

    def test_refused_expiries(self):
        for bad, msg in (("2001-01-01", "--expires must be in the future"),
                         ("0h", "--expires must be in the future"),
                         ("soon", "--expires takes a duration"),
                         ("12", "--expires takes a duration")):
            r = self.tagd.cli("token", "create", "--org", "acme", "--expires", bad, check=False)
            self.assertEqual(r.returncode, 1, bad)
            self.assertEqual(r.stdout, "", bad)
            self.assertTrue(r.stderr.startswith("tagd token create: " + msg), r.stderr)

    def test_expired_token_answers_like_an_unknown_one(self):
        tok = self.tagd.cli("token", "create", "--org", "acme", "--expires", "1h").stdout.strip()
        self.assertEqual(self.post(tok).status, 201)
        # Let an hour pass: move the expiry into the past in the database.
        self.tagd.sql_exec("UPDATE tokens SET expires_at = ? WHERE public_id = ?",
                           (int((time.time() - 1) * 1e6), public_id(tok)))
        expired = once_seen(lambda: self.post(tok))
        unknown = self.post(tok[:5] + "0" * 16 + tok[21:])
        for r in (expired, unknown):
            self.assertEqual(r.status, 401, r)
            self.assertEqual(r.json(), INVALID)
            self.assertEqual(r.header("www-authenticate"), "Bearer")
        self.assertEqual(expired.body, unknown.body)
        self.assertEqual(token_rows(self.tagd, "acme")[1][public_id(tok)]["status"], "expired")

    def test_last_use_is_recorded(self):
        tok = self.tagd.cli("token", "create", "--org", "acme", "--name", "lu").stdout.strip()
        self.assertEqual(token_rows(self.tagd, "acme")[1][public_id(tok)]["last_used"], "-")
        before = time.time()
        for _ in range(5):
            self.assertEqual(self.post(tok).status, 201)
        # The write is queued to the store's writer; a clean stop runs what is queued.
        self.tagd.restart()
        used = token_rows(self.tagd, "acme")[1][public_id(tok)]["last_used"]
        self.assertRegex(used, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        secs = calendar.timegm(time.strptime(used[:19], "%Y-%m-%dT%H:%M:%S"))
        self.assertGreaterEqual(secs, int(before) - 1)
        self.assertLessEqual(secs, time.time() + 1)

    def test_rotation(self):
        old = self.tagd.cli("token", "create", "--org", "acme", "--name", "deploy").stdout.strip()
        new = self.tagd.cli("token", "create", "--org", "acme", "--name", "deploy-2",
                            "--expires", "90d").stdout.strip()
        self.assertEqual(self.post(old).status, 201)
        self.assertEqual(self.post(new).status, 201)
        self.tagd.cli("token", "revoke", "--org", "acme", public_id(old))
        r = once_seen(lambda: self.post(old))
        self.assertEqual((r.status, r.json()), (401, INVALID))
        self.assertEqual(self.post(new).status, 201)
        self.assertEqual(token_rows(self.tagd, "acme")[1][public_id(old)]["status"], "revoked")


class FailureBudget(ServerCase):
    def test_budget_429_valid_token_still_served(self):
        wrong = self.token[:-1] + ("A" if self.token[-1] != "A" else "B")
        bodies = []
        mark = self.tagd.log_count()
        # The budget refills one failure per 3 s: on a slow machine a few more may pass.
        for i in range(3 * BURST):
            r = self.post(wrong if i % 2 else None)
            if r.status != 401:
                break
            self.assertEqual(r.json()["error"], "Invalid bearer token" if i % 2 else
                             "Missing or invalid Authorization header")
            bodies.append(r.body)
        self.assertGreaterEqual(len(bodies), BURST)
        self.assertEqual(r.status, 429, r)
        self.assertEqual(r.json(), TOO_MANY)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertIsNone(r.header("www-authenticate"))
        retry = int(r.header("retry-after"))
        self.assertTrue(1 <= retry <= 3, retry)
        self.tagd.wait_log(r'msg="authentication failures over budget" addr=127\.0\.0\.1 ',
                           start=mark)
        # Malformed credentials are refused the same way.
        r = self.post(None, headers={"Authorization": "Basic Zm9vOmJhcg=="})
        self.assertEqual(r.status, 429, r)

        # The valid token from the same address is never refused.
        r = self.post(self.token)
        self.assertEqual(r.status, 201, r)
        # Another address has its own budget.
        r = self.post(wrong, source="127.0.0.2")
        self.assertEqual((r.status, r.json()), (401, INVALID))

        # Nothing echoes a token: not the bodies, not the log.
        secret = self.token[22:]
        for body in bodies + [r.body]:
            self.assertNotIn(secret.encode(), body)
            self.assertNotIn(wrong[22:].encode(), body)
        log = self.tagd.log()
        self.assertNotIn(secret, log)
        self.assertNotIn(wrong[22:], log)
        self.assertNotIn(public_id(self.token), log)
        self.assertEqual(log.count("authentication failures over budget"), 1, log)


if __name__ == "__main__":
    unittest.main()
