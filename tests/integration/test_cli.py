"""The command line (issue 17, points 1 and 4): every command finds the
database as serve does (--db, TAGD_DB, the configuration file named by
--config or TAGD_CONFIG), flags are strict (an unknown, abbreviated or
repeated flag is a usage error), listings speak JSON, exit statuses say what
happened, and every --help lists the command's flags, one line each."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from tagdtest import TAGD_BIN, Tagd, clean_env

UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TIME_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"


def tagd(*args, env=None, check=False):
    r = subprocess.run([TAGD_BIN] + list(args), capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=60, env=clean_env(env))
    if check and r.returncode != 0:
        raise AssertionError(f"tagd {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def everything():
    """tagd help --json: every command with its flags, and every key."""
    r = tagd("help", "--json", check=True)
    return json.loads(r.stdout)


class Case(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tagd-cli-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def conf(self, text, name="tagd.conf"):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def assertUsage(self, r, text):
        self.assertEqual(r.returncode, 2, r)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn(text, r.stderr)
        self.assertEqual(r.stdout, "")


class FindingTheDatabaseTest(Case):
    """Point 1: one way to find the database, for every command."""

    def test_every_command_reads_the_configuration_file(self):
        db = self.path("service.db")
        conf = self.conf(f'db = "{db}"\n')
        # TAGD_CONFIG, as on the service's host (or after the quick start)...
        tagd("org", "create", "acme", env={"TAGD_CONFIG": conf}, check=True)
        self.assertTrue(os.path.exists(db))
        token = tagd("token", "create", "--org", "acme", env={"TAGD_CONFIG": conf},
                     check=True).stdout.strip()
        # ...or --config: the same database.
        listing = tagd("token", "list", "--org", "acme", "--config", conf, check=True).stdout
        self.assertIn(token[5:21], listing)
        tagd("commit", "create", "--org", "acme", "--config", conf, check=True)
        tagd("repo-auth", "create", "--org", "acme", "--name", "ci", "--config", conf,
             check=True)
        self.assertIn("ci", tagd("repo-auth", "list", "--org", "acme", "--config", conf,
                                 check=True).stdout)
        self.assertIn("acme", tagd("org", "list", "--config", conf, check=True).stdout)
        tagd("token", "revoke", "--org", "acme", token[5:21], "--config", conf, check=True)
        tagd("repo-auth", "delete", "--org", "acme", "--name", "ci", "--config", conf,
             check=True)
        # backup and db check too.
        copy = self.path("copy.db")
        tagd("backup", "--out", copy, env={"TAGD_CONFIG": conf}, check=True)
        self.assertEqual(tagd("db", "check", "--config", conf, check=True).stdout, "ok\n")
        self.assertEqual(tagd("db", "check", "--db", copy, check=True).stdout, "ok\n")
        # Nothing was written where the default would have put it.
        self.assertEqual(sorted(os.listdir(self.dir)),
                         sorted(["tagd.conf", "service.db", "copy.db"] +
                                [n for n in os.listdir(self.dir) if n.startswith("service.db-")]))

    def test_precedence_flag_environment_file(self):
        by_file, by_env, by_flag = (self.path(n) for n in ("file.db", "env.db", "flag.db"))
        conf = self.conf(f"db = {by_file}\n")
        tagd("org", "create", "f", "--config", conf, check=True)
        tagd("org", "create", "e", "--config", conf, env={"TAGD_DB": by_env}, check=True)
        tagd("org", "create", "x", "--config", conf, "--db", by_flag, env={"TAGD_DB": by_env},
             check=True)
        for db, name in ((by_file, "f"), (by_env, "e"), (by_flag, "x")):
            with self.subTest(db=db):
                out = json.loads(tagd("org", "list", "--json", "--db", db, check=True).stdout)
                self.assertEqual([o["name"] for o in out["organizations"]], [name])

    def test_a_bad_configuration_stops_every_command(self):
        conf = self.conf(f"db = {self.path('x.db')}\nthreads = many\n")
        for args in (["org", "create", "a"], ["org", "list"], ["token", "list", "--org", "a"],
                     ["backup", "--out", self.path("b.db")], ["db", "check"]):
            with self.subTest(args=args):
                r = tagd(*args, "--config", conf)
                self.assertEqual(r.returncode, 1, r)
                self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
                self.assertTrue(r.stderr.startswith(f"tagd {args[0]}"), r.stderr)
                self.assertIn(f"{conf}:2: threads takes a whole number from 0 to 256, not "
                              "'many'", r.stderr)
        self.assertFalse(os.path.exists(self.path("x.db")))
        missing = self.path("absent.conf")
        r = tagd("org", "list", env={"TAGD_CONFIG": missing})
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{missing}: cannot read the configuration file", r.stderr)
        r = tagd("org", "list", "--db", "")
        self.assertEqual(r.returncode, 1)
        self.assertIn("db must not be empty", r.stderr)

    @unittest.skipIf(os.path.exists("/etc/tagd/tagd.conf"), "this host has /etc/tagd/tagd.conf")
    def test_the_default_file_may_be_missing(self):
        env = {k: v for k, v in clean_env().items() if k != "TAGD_CONFIG"}
        r = subprocess.run([TAGD_BIN, "org", "create", "d", "--db", self.path("d.db")],
                           capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)


class StrictFlagsTest(Case):
    """Point 4: a repeated, unknown or abbreviated flag is an error, never a guess."""

    def setUp(self):
        super().setUp()
        self.db = self.path("t.db")
        tagd("org", "create", "acme", "--db", self.db, check=True)

    def test_usage_errors(self):
        db = ["--db", self.db]
        cases = [
            (["token", "create", "--org", "acme", "--org", "acme"], "'--org' is given twice"),
            (["token", "list", "--org", "acme", "--json", "--json"], "'--json' is given twice"),
            (["org", "list", "--db", self.db, "--db", self.db], "'--db' is given twice"),
            (["org", "list", "--config", "/dev/null", "--config", "/dev/null"],
             "'--config' is given twice"),
            (["serve", "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0"],
             "'--listen' is given twice"),
            (["config", "check", "--max-body", "1", "--max-body", "2"],
             "'--max-body' is given twice"),
            (["token", "create", "--or", "acme"], "unknown option '--or'"),
            (["token", "list", "--org", "acme", "--js"], "unknown option '--js'"),
            (["serve", "--max-conn", "5"], "unknown option '--max-conn'"),
            (["serve", "--log-l", "debug"], "unknown option '--log-l'"),
            (["org", "list", "--bogus"], "unknown option '--bogus'"),
            (["org", "list", "--json=yes"], "unknown option '--json=yes'"),
            (["token", "list", "--db", self.db, "--org"], "option '--org' needs a value"),
            (["token", "list"], "--org NAME is required"),
            (["token", "revoke", "--org", "acme"], "ID is missing"),
            (["token", "revoke", "--org", "acme", "a", "b"], "unexpected argument 'b'"),
            (["org", "create"], "NAME is missing"),
            (["org", "list", "extra"], "unexpected argument 'extra'"),
            (["backup"], "--out FILE is required"),
            (["repo-auth", "delete", "--org", "acme"], "--name AUTH is required"),
        ]
        for args, text in cases:
            with self.subTest(args=args):
                extra = [] if args[0] in ("serve", "config") or "--db" in args else db
                self.assertUsage(tagd(*args, *extra), text)
        r = tagd("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command 'frobnicate'", r.stderr)
        r = tagd("token")
        self.assertEqual(r.returncode, 2)
        self.assertIn("tagd token create", r.stderr)

    def test_what_may_repeat_does(self):
        r = tagd("repo-auth", "create", "--org", "acme", "--name", "ci", "--namespace", "b",
                 "--namespace", "a", "--db", self.db, check=True)
        out = json.loads(tagd("repo-auth", "list", "--org", "acme", "--json", "--db", self.db,
                              check=True).stdout)
        self.assertEqual(out["authorizations"][0]["namespaces"], ["a", "b"])

    def test_flags_and_arguments_in_any_order(self):
        # "--" ends the flags; an argument may come before or after them.
        tagd("org", "create", "--project-id", "p1", "--db", self.db, "second", check=True)
        tagd("org", "create", "--db", self.db, "--", "third", check=True)
        names = [o["name"] for o in json.loads(tagd("org", "list", "--json", "--db", self.db,
                                                    check=True).stdout)["organizations"]]
        self.assertEqual(names, ["acme", "second", "third"])

    def test_exit_statuses(self):
        db = ["--db", self.db]
        self.assertEqual(tagd("org", "create", "acme", *db).returncode, 3)
        cid = tagd("commit", "create", "--org", "acme", *db, check=True).stdout.strip()
        self.assertEqual(tagd("commit", "create", "--org", "acme", "--id", cid, *db).returncode,
                         3)
        tagd("repo-auth", "create", "--org", "acme", "--name", "ci", *db, check=True)
        self.assertEqual(tagd("repo-auth", "create", "--org", "acme", "--name", "ci",
                              *db).returncode, 3)
        for args in (["token", "create", "--org", "nobody"], ["token", "list", "--org", "nobody"],
                     ["token", "revoke", "--org", "acme", "0123456789abcdef"],
                     ["commit", "create", "--org", "nobody"],
                     ["repo-auth", "list", "--org", "nobody"],
                     ["repo-auth", "delete", "--org", "acme", "--name", "nope"]):
            with self.subTest(args=args):
                r = tagd(*args, *db)
                self.assertEqual(r.returncode, 4, r)
                self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        for args in (["org", "create", "bad name"], ["token", "create", "--org", "acme",
                                                      "--expires", "yesterday"],
                     ["commit", "create", "--org", "acme", "--id", "nope"]):
            with self.subTest(args=args):
                self.assertEqual(tagd(*args, *db).returncode, 1)


class JsonListingsTest(Case):
    """Point 4: every listing speaks JSON; org list is new."""

    def test_listings(self):
        db = ["--db", self.path("j.db")]
        acme = tagd("org", "create", "acme", "--project-id", "p-acme", *db,
                    check=True).stdout.strip()
        tagd("org", "create", "beta", *db, check=True)
        t1 = tagd("token", "create", "--org", "acme", "--name", "ci", "--expires", "30d", *db,
                  check=True).stdout.strip()
        t2 = tagd("token", "create", "--org", "acme", *db, check=True).stdout.strip()
        tagd("token", "revoke", "--org", "acme", t2[5:21], *db, check=True)
        tagd("repo-auth", "create", "--org", "acme", "--name", "all", *db, check=True)
        tagd("repo-auth", "create", "--org", "acme", "--name", "some", "--namespace", "ns1",
             "--repo-type", "gitee", *db, check=True)

        orgs = json.loads(tagd("org", "list", "--json", *db, check=True).stdout)
        self.assertEqual(list(orgs), ["organizations"])
        self.assertEqual([o["name"] for o in orgs["organizations"]], ["acme", "beta"])
        a, b = orgs["organizations"]
        self.assertEqual(a["id"], acme)
        self.assertEqual(a["project_id"], "p-acme")
        self.assertIsNone(b["project_id"])
        self.assertRegex(a["created_at"], TIME_RE)
        self.assertEqual(a["live_tokens"], 1)
        self.assertEqual(b["live_tokens"], 0)
        table = tagd("org", "list", *db, check=True).stdout.splitlines()
        self.assertTrue(table[0].startswith("NAME"), table)
        self.assertTrue(table[1].startswith("acme ") and acme in table[1], table)

        tokens = json.loads(tagd("token", "list", "--org", "acme", "--json", *db,
                                 check=True).stdout)["tokens"]
        self.assertEqual([t["id"] for t in tokens], [t1[5:21], t2[5:21]])
        self.assertEqual([t["status"] for t in tokens], ["active", "revoked"])
        self.assertEqual(tokens[0]["label"], "ci")
        self.assertIsNone(tokens[1]["label"])
        self.assertRegex(tokens[0]["expires_at"], TIME_RE)
        self.assertIsNone(tokens[1]["expires_at"])
        self.assertIsNone(tokens[0]["revoked_at"])
        self.assertRegex(tokens[1]["revoked_at"], TIME_RE)
        self.assertIsNone(tokens[0]["last_used_at"])
        self.assertEqual(set(tokens[0]), {"id", "status", "scope", "created_at", "expires_at",
                                          "last_used_at", "revoked_at", "label"})
        self.assertEqual(tokens[0]["scope"], "write")  # the default
        out = tagd("token", "list", "--org", "acme", "--json", *db, check=True).stdout
        for secret in (t1[22:], t2[22:]):
            self.assertNotIn(secret, out)

        auths = json.loads(tagd("repo-auth", "list", "--org", "acme", "--json", *db,
                                check=True).stdout)["authorizations"]
        self.assertEqual([x["name"] for x in auths], ["all", "some"])
        self.assertTrue(auths[0]["all_namespaces"])
        self.assertIsNone(auths[0]["namespaces"])
        self.assertEqual(auths[0]["repo_type"], "devcloud")
        self.assertFalse(auths[1]["all_namespaces"])
        self.assertEqual(auths[1]["namespaces"], ["ns1"])
        self.assertEqual(auths[1]["repo_type"], "gitee")
        # One document, one line: a pipe into jq or json.loads needs nothing else.
        self.assertEqual(len(tagd("org", "list", "--json", *db).stdout.splitlines()), 1)


class HelpTest(Case):
    """Point 4: each --help lists every flag of its command, one line each."""

    def test_every_help_lists_its_flags(self):
        doc = everything()
        keys = [k["flag"] for k in doc["keys"]]
        self.assertGreater(len(doc["commands"]), 10)
        for cmd in doc["commands"]:
            with self.subTest(command=cmd["name"]):
                r = tagd(*cmd["name"].split(), "--help")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout.startswith(f"usage: tagd {cmd['name']}"), r.stdout)
                self.assertIn(cmd["summary"], r.stdout)
                flags = [f["name"] for f in cmd["flags"]] + (keys if cmd["key_flags"] else [])
                lines = [ln.split()[0] for ln in r.stdout.splitlines()
                         if re.match(r"^  --[a-z]", ln)]
                self.assertEqual(sorted(lines), sorted(flags))
                for f in cmd["flags"]:
                    line = next(ln for ln in r.stdout.splitlines()
                                if ln.startswith(f"  {f['name']} ") or ln == f"  {f['name']}")
                    self.assertIn(f["help"], line)
                # tagd help COMMAND says the same.
                self.assertEqual(tagd("help", *cmd["name"].split()).stdout, r.stdout)

    def test_max_body_help_says_suffixes(self):
        line = next(ln for ln in tagd("serve", "--help").stdout.splitlines()
                    if ln.startswith("  --max-body"))
        self.assertIn("K, M or G", line)

    def test_usage_lists_every_command(self):
        usage = tagd("help", check=True).stdout
        for cmd in everything()["commands"]:
            self.assertIn(f"  tagd {cmd['name']}", usage)
        self.assertEqual(tagd("--help").stdout, usage)
        self.assertEqual(tagd().returncode, 2)
        r = tagd("help", "nothing")
        self.assertEqual(r.returncode, 2)

    def test_help_never_opens_a_database(self):
        db = self.path("never.db")
        for args in (["org", "create", "x", "--help"], ["backup", "--help"],
                     ["db", "check", "--help"], ["token", "list", "--help"]):
            with self.subTest(args=args):
                r = tagd(*args, "--db", db)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("--db PATH", r.stdout)
        self.assertFalse(os.path.exists(db))


class ServeWithHostNameTest(unittest.TestCase):
    """Point 5: listen takes host names, resolved at start, each address bound."""

    def test_localhost(self):
        import socket
        expected = {ai[4][0] for ai in socket.getaddrinfo("localhost", 0, type=socket.SOCK_STREAM)
                    if ai[0] in (socket.AF_INET, socket.AF_INET6)}
        t = Tagd(extra_args=["--listen", "localhost:0"])
        try:
            t.start()
            # One "listening" line per address localhost resolves to.
            seen = [i for i, ln in enumerate(t.log_lines) if 'msg="listening"' in ln]
            while len(seen) < len(expected):
                t.wait_log(r'msg="listening"', start=seen[-1] + 1)
                seen = [i for i, ln in enumerate(t.log_lines) if 'msg="listening"' in ln]
            addrs = re.findall(r'msg="listening" addr=(\S+):\d+', t.log())
            self.assertEqual({a.strip("[]") for a in addrs}, expected)
            if "127.0.0.1" in expected:
                port = int(re.search(r'addr=127\.0\.0\.1:(\d+)', t.log()).group(1))
                t.port = port
                self.assertEqual(t.request("GET", "/livez").status, 200)
            self.assertEqual(t.stop(), 0)
        finally:
            t.cleanup()

    def test_unresolvable_name_stops_the_start(self):
        d = tempfile.mkdtemp(prefix="tagd-cli-")
        self.addCleanup(shutil.rmtree, d, True)
        r = tagd("serve", "--listen", "no-such-host.invalid:0", "--db", os.path.join(d, "x.db"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("tagd serve: listen address no-such-host.invalid: cannot resolve it",
                      r.stderr)


if __name__ == "__main__":
    unittest.main()
