"""The test harness on both backends (dbtest.py): each server's database is
made fresh and dropped afterwards, what --db is given reaches it, and the SQL
helper the tests use behind tagd's back reads and writes every kind of value
alike on SQLite and PostgreSQL.  On PostgreSQL also the private clusters of
scripts/pg-test-cluster.sh: a crash (immediate stop) keeps committed rows,
and a database still in use is dropped all the same.

Runs on both halves (integration.pgharness, integration.pg.pgharness).
"""
import os
import shutil
import subprocess
import tempfile
import unittest

from dbtest import (BACKEND, PG_HOST, PG_USER, Database, PgCluster, PgDatabase, create_database,
                    drop_database, on_postgres, pg_bin, pg_bind, pg_literal, psql)
from tagdtest import Tagd

# Every kind of value a test binds or reads: integers, text with quotes,
# backslashes, placeholders and non-ASCII, NULL, and bytes of every value.
VALUES = [
    (1, 0, "", b""),
    (2, -1, "it's", bytes(range(256))),
    (3, 2 ** 62, 'a "quoted" \\ back\\slash', b"\x00'\\"),
    (4, None, "? and '?' and -- and /* */", None),
    (5, -2 ** 63, "snow \u2603 \u00e9\nnew line\ttab", b"\xff"),
    (6, 7, None, b"\\x00"),
]


def databases():
    """The names of the cluster's databases."""
    return {r[0] for r in PgDatabase("postgres").sql("SELECT datname FROM pg_database")}


class BindTest(unittest.TestCase):
    """"?" placeholders become PostgreSQL literals, and nothing else does."""

    def test_literals(self):
        self.assertEqual(pg_literal(None), "NULL")
        self.assertEqual(pg_literal(True), "'1'")  # untyped: fills an integer or a boolean
        self.assertEqual(pg_literal(-5), "'-5'")
        self.assertEqual(pg_literal("it's"), "'it''s'")
        self.assertEqual(pg_literal("a\\b"), "'a\\b'")
        self.assertEqual(pg_literal(b"\x00\xff"), "'\\x00ff'::bytea")
        for bad in ("nul\0", float("nan"), object()):
            with self.assertRaises(ValueError):
                pg_literal(bad)

    def test_placeholders_outside_literals_and_comments_only(self):
        self.assertEqual(pg_bind("SELECT ?, '?', \"?\", ? -- ?\n/* ? */ FROM t WHERE a = ?",
                                 (1, "x", None)),
                         "SELECT '1', '?', \"?\", 'x' -- ?\n/* ? */ FROM t WHERE a = NULL")
        self.assertEqual(pg_bind("SELECT 'it''s ?', ?", ("y",)), "SELECT 'it''s ?', 'y'")
        self.assertEqual(pg_bind("SELECT E'\\' ?', ?", (2,)), "SELECT E'\\' ?', '2'")
        # A name ending in e is no E'' string: its quote ends at the next quote.
        self.assertEqual(pg_bind("SELECT type'\\', ?", (3,)), "SELECT type'\\', '3'")

    def test_mismatches_are_refused(self):
        for query, params in (("SELECT ?", ()), ("SELECT ?", (1, 2)), ("SELECT '?", (1,)),
                              ("SELECT 1 /* ?", (1,))):
            with self.subTest(query=query):
                with self.assertRaises(ValueError):
                    pg_bind(query, params)


class HelperTest(unittest.TestCase):
    """Database.sql / sql_exec on this half's backend."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tagd-harness-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.db = Database.fresh(self.dir)
        self.addCleanup(self.db.drop)
        if not on_postgres():
            open(self.db.path, "wb").close()  # tagd makes the file; here the test does
        blob = "BYTEA" if on_postgres() else "BLOB"
        self.db.sql_exec(f"CREATE TABLE h (id BIGINT PRIMARY KEY, n BIGINT, t TEXT, b {blob})")

    def test_values_round_trip(self):
        for row in VALUES:
            self.db.sql_exec("INSERT INTO h VALUES (?, ?, ?, ?)", row)
        self.assertEqual(self.db.sql("SELECT id, n, t, b FROM h ORDER BY id"), VALUES)
        # Bound values compare as they were stored.
        for row in VALUES:
            if row[2] is None:
                continue
            with self.subTest(id=row[0]):
                self.assertEqual(self.db.sql("SELECT id FROM h WHERE t = ?", (row[2],)),
                                 [(row[0],)])
        self.assertEqual(self.db.sql("SELECT count(*), sum(n) FROM h WHERE n > ?", (0,)),
                         [(2, 2 ** 62 + 7)])

    def test_empty_result_and_returning(self):
        self.assertEqual(self.db.sql("SELECT * FROM h"), [])
        self.db.sql_exec("INSERT INTO h(id, t) VALUES (?, ?)", (1, "a"))
        self.assertEqual(self.db.sql("UPDATE h SET t = ? WHERE id = ? RETURNING id, t",
                                     ("b", 1)), [(1, "b")])
        self.assertEqual(self.db.sql("SELECT t FROM h"), [("b",)])  # and it was committed

    def test_errors_raise_and_change_nothing(self):
        self.db.sql_exec("INSERT INTO h(id, t) VALUES (1, 'kept')")
        with self.assertRaises(Exception):
            self.db.sql_exec("INSERT INTO h(id, t) VALUES (1, 'duplicate')")
        with self.assertRaises(Exception):
            self.db.sql("SELECT no_such_column FROM h")
        self.assertEqual(self.db.sql("SELECT id, t FROM h"), [(1, "kept")])


class TagdDatabaseTest(unittest.TestCase):
    """Each Tagd has a database of its own, reachable by what --db is given."""

    def test_fresh_database_per_server_dropped_by_cleanup(self):
        a, b = Tagd(), Tagd()
        try:
            self.assertNotEqual(a.db, b.db)
            if on_postgres():
                self.assertTrue(a.db.startswith("postgresql:///tagd_"), a.db)
                self.assertIn(f"host={PG_HOST}", a.db)
                self.assertLessEqual({a.database.name, b.database.name}, databases())
                # libpq takes the URI as tagd is given it.
                r = subprocess.run([pg_bin("psql"), "-X", "-A", "-t", "-c",
                                    "SELECT current_database(), current_user", a.db],
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(r.stdout.strip(), f"{a.database.name}|{PG_USER}", r.stderr)
                self.assertFalse(a.database.made())  # empty until tagd migrates it
            else:
                self.assertEqual(os.path.dirname(a.db), a.dir)
                self.assertFalse(a.database.made())
        finally:
            a.cleanup()
            b.cleanup()
        if on_postgres():
            self.assertEqual({a.database.name, b.database.name} & databases(), set())
        self.assertFalse(os.path.exists(a.dir))

    def test_shared_database_outlives_the_server_that_shares_it(self):
        a = Tagd()
        try:
            b = Tagd(database=a.database)
            self.assertEqual(b.db, a.db)
            b.cleanup()
            if on_postgres():
                self.assertIn(a.database.name, databases())
        finally:
            a.cleanup()


@unittest.skipUnless(on_postgres(), f"PostgreSQL only (backend: {BACKEND})")
class PgClusterTest(unittest.TestCase):
    def test_database_in_use_is_dropped(self):
        name = create_database()
        # A session left open on it, as a server that was not stopped leaves one.
        held = subprocess.Popen([pg_bin("psql"), "-X", "-q", "-h", PG_HOST, "-U", PG_USER,
                                 "-d", name], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            held.stdin.write("SELECT 1;\n")
            held.stdin.flush()
            psql(name, "SELECT 1;\n")  # connected: the database is in use
            self.assertIn(name, databases())
            drop_database(name)
            self.assertNotIn(name, databases())
            drop_database(name)  # gone already: no error
        finally:
            held.stdin.close()
            held.wait(30)

    def test_private_cluster_keeps_committed_rows_across_a_crash(self):
        folder = tempfile.mkdtemp(prefix="tagd-pg-", dir="/tmp")
        os.rmdir(folder)  # the script makes it, owned by the server's user
        cluster = PgCluster(folder)
        try:
            cluster.start()
            cluster.start()  # running already: left as it is
            self.assertTrue(os.path.exists(os.path.join(folder, ".s.PGSQL.5432")))
            db = PgDatabase(create_database(host=folder), host=folder)
            db.sql_exec("CREATE TABLE t (x BIGINT)")
            db.sql_exec("INSERT INTO t VALUES (?)", (42,))
            self.assertEqual(db.sql("SELECT current_setting('synchronous_commit')"), [("on",)])
            self.assertEqual(db.sql("SELECT current_setting('fsync')"), [("on",)])
            # No TCP port: the Unix socket in folder only.
            self.assertEqual(db.sql("SELECT current_setting('listen_addresses')"), [("",)])
            cluster.kill()
            with self.assertRaises(Exception):
                db.sql("SELECT 1")  # down
            cluster.kill()  # down already: no error
            cluster.start()
            self.assertEqual(db.sql("SELECT x FROM t"), [(42,)])
        finally:
            cluster.stop()
        self.assertFalse(os.path.exists(folder))
        cluster.stop()  # gone already: no error


if __name__ == "__main__":
    unittest.main()
