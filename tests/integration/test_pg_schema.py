"""PostgreSQL's schema is SQLite's: migrations/pg/*.sql, applied in order to a
fresh database on the private cluster (each file in one transaction, as
psql --single-transaction runs it), give the same tables, columns in the same
order, nullability, defaults, primary keys, unique constraints, indexes by
name (columns, order, partial or not), CHECK constraints and foreign keys
(with their ON DELETE actions) as SQLite's migrations give a fresh SQLite
database; the types are SQLite's written as migrations/pg/0001_initial.sql
says.  And 0003 and 0005 keep the rows written before them.

Runs on the PostgreSQL half only (ctest's integration.pg.pg_schema, fixture
pg); it needs no tagd.
"""
import glob
import os
import re
import sqlite3
import subprocess
import unittest

from dbtest import PG_HOST, PG_USER, create_database, drop_database, pg_bin, pg_query

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PG_DIR = os.path.join(ROOT, "migrations", "pg")
# SQLite's migrations: in migrations/sqlite/ once both backends embed theirs
# from a folder each, in migrations/ until then.
SQLITE_DIR = next(d for d in (os.path.join(ROOT, "migrations", "sqlite"),
                              os.path.join(ROOT, "migrations"))
                  if glob.glob(os.path.join(d, "0001_*.sql")))
# 0/1 flags: BOOLEAN on PostgreSQL (the shared SQL tests them as truth
# values and binds 0/1); every other SQLite INTEGER is a BIGINT.
FLAGS = {("repos", "is_public"), ("commits", "is_public"),
         ("ss_repo_auths", "all_namespaces"), ("events", "description_changed")}
ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL",
             "d": "SET DEFAULT"}


def migration_files(folder):
    files = sorted(glob.glob(os.path.join(folder, "[0-9][0-9][0-9][0-9]_*.sql")))
    return [os.path.basename(f) for f in files], files


def apply_pg(database, path):
    """Apply one migration file in one transaction; stop at the first error."""
    r = subprocess.run([pg_bin("psql"), "-X", "-q", "-h", PG_HOST, "-U", PG_USER, "-d", database,
                        "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", path],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"{path} does not apply: {r.stderr.strip()}")


# ---- each backend's schema, in one shape ----
# {table: {"columns": [(name, type, notnull, default)], "pk": (cols),
#          "identity": {col}, "unique": {(cols)}, "checks": n,
#          "fks": {((cols), table, (cols), on_delete)},
#          "indexes": {name: ((cols), (desc flags), unique, partial)}}}

def sqlite_type(table, column, declared):
    declared = declared.upper()
    if declared == "INTEGER":
        return "boolean" if (table, column) in FLAGS else "bigint"
    return {"TEXT": "text", "BLOB": "bytea"}[declared]


def sqlite_default(table, column, default):
    """A flag's 0/1 default is PostgreSQL's false/true."""
    if (table, column) in FLAGS and default is not None:
        return {"0": "false", "1": "true"}[default]
    return default


def sqlite_schema(path):
    db = sqlite3.connect(path)
    try:
        out = {}
        tables = db.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'table' "
                            "AND name NOT LIKE 'sqlite_%'").fetchall()
        for table, sql in tables:
            cols = db.execute(f"PRAGMA table_info({table})").fetchall()
            pk = tuple(c[1] for c in sorted((c for c in cols if c[5]), key=lambda c: c[5]))
            without_rowid = re.search(r"WITHOUT\s+ROWID\s*$", sql, re.I) is not None
            # A rowid table's single INTEGER PRIMARY KEY is its row id: an
            # identity on PostgreSQL when it is a generated id.
            rowid = len(pk) == 1 and not without_rowid and pk[0] == "id"
            t = {"columns": [(c[1], sqlite_type(table, c[1], c[2]), bool(c[3] or c[5]),
                              sqlite_default(table, c[1], c[4])) for c in cols],
                 "pk": pk, "identity": {pk[0]} if rowid else set(), "unique": set(),
                 "checks": len(re.findall(r"\bCHECK\s*\(", sql, re.I)), "fks": set(),
                 "indexes": {}}
            for _, name, unique, origin, partial in db.execute(f"PRAGMA index_list({table})"):
                info = [r for r in db.execute(f"PRAGMA index_xinfo({name})") if r[5]]  # key
                key = tuple(r[2] for r in info)
                if origin == "u":
                    t["unique"].add(key)
                elif origin == "c":
                    t["indexes"][name] = (key, tuple(bool(r[3]) for r in info), bool(unique),
                                          bool(partial))
            fks = {}
            for fid, _, ref, col, refcol, _, on_delete, _ in db.execute(
                    f"PRAGMA foreign_key_list({table})"):
                f = fks.setdefault(fid, ([], ref, [], on_delete))
                f[0].append(col)
                f[2].append(refcol)
            t["fks"] = {(tuple(a), ref, tuple(b), d) for a, ref, b, d in fks.values()}
            out[table] = t
        return out
    finally:
        db.close()


def pg_default(expr):
    """A text default as SQLite says it: 'read', not 'read'::text."""
    if expr is not None:
        m = re.fullmatch(r"('(?:[^']|'')*')::text", expr)
        if m:
            return m.group(1)
    return expr


def pg_schema(database):
    q = lambda sql: pg_query(database, sql)  # noqa: E731
    out = {}
    attnames = {(t, n): a for t, n, a in q(
        "SELECT c.relname, a.attnum, a.attname FROM pg_attribute a JOIN pg_class c "
        "ON c.oid = a.attrelid JOIN pg_namespace s ON s.oid = c.relnamespace "
        "WHERE s.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0")}
    for (table,) in q("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
        rel = f"'public.{table}'::regclass"
        cols = q("SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                 "pg_get_expr(d.adbin, d.adrelid), a.attidentity, coalesce(co.collname, '') "
                 "FROM pg_attribute a LEFT JOIN pg_attrdef d "
                 "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                 "LEFT JOIN pg_collation co ON co.oid = a.attcollation "
                 f"WHERE a.attrelid = {rel} AND a.attnum > 0 AND NOT a.attisdropped "
                 "ORDER BY a.attnum")

        def colnames(nums, of=table):
            return tuple(attnames[(of, int(n))] for n in nums)

        t = {"columns": [(c[0], c[1], c[2], pg_default(c[3])) for c in cols],
             "collations": {c[0]: c[5] for c in cols if c[1] == "text"},
             "identity": {c[0] for c in cols if c[4] == "d"},
             "identity_always": {c[0] for c in cols if c[4] == "a"},
             "pk": (), "unique": set(), "checks": 0, "fks": set(), "indexes": {}}
        constraint_indexes = set()
        for contype, key, ftable, fkey, deltype, index in q(
                "SELECT contype, array_to_string(conkey, ' '), "
                "coalesce(confrelid::regclass::text, ''), "
                "coalesce(array_to_string(confkey, ' '), ''), confdeltype, "
                f"coalesce(conindid::regclass::text, '') FROM pg_constraint WHERE conrelid = {rel} "
                "ORDER BY conname"):
            key = colnames(key.split())
            if index:
                constraint_indexes.add(index)
            if contype == "p":
                # Primary key columns in index order, as conkey is.
                t["pk"] = key
            elif contype == "u":
                t["unique"].add(key)
            elif contype == "c":
                t["checks"] += 1
            elif contype == "f":
                t["fks"].add((key, ftable, colnames(fkey.split(), ftable), ON_DELETE[deltype]))
        for name, key, options, unique, partial in q(
                "SELECT c.relname, array_to_string(i.indkey, ' '), "
                "array_to_string(i.indoption, ' '), i.indisunique, i.indpred IS NOT NULL "
                "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                f"WHERE i.indrelid = {rel}"):
            if name in constraint_indexes:
                continue
            t["indexes"][name] = (colnames(key.split()),
                                  tuple(bool(int(o) & 1) for o in options.split()),
                                  unique, partial)
        out[table] = t
    return out


class PgSchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not PG_HOST:
            raise unittest.SkipTest("no PostgreSQL cluster (TAGD_TEST_PG_HOST): "
                                    "ctest's fixture pg starts one")
        cls.database = create_database()
        try:
            names, cls.pg_files = migration_files(PG_DIR)
            sqlite_names, sqlite_files = migration_files(SQLITE_DIR)
            assert names == sqlite_names, (names, sqlite_names)
            for f in cls.pg_files:
                apply_pg(cls.database, f)
            cls.pg = pg_schema(cls.database)
            cls.tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                   f"tagd-schema-{cls.database}.db")
            db = sqlite3.connect(cls.tmp)
            try:
                for f in sqlite_files:
                    with open(f, encoding="utf-8") as fh:
                        db.executescript("BEGIN;\n" + fh.read() + "\nCOMMIT;")
            finally:
                db.close()
            cls.sqlite = sqlite_schema(cls.tmp)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        drop_database(cls.database)
        if getattr(cls, "tmp", None) and os.path.exists(cls.tmp):
            os.remove(cls.tmp)

    def each_table(self):
        """(table, SQLite's, PostgreSQL's) for every table both have."""
        self.assertGreaterEqual(len(self.sqlite), 17)  # the comparison is not vacuous
        return [(t, self.sqlite[t], self.pg[t]) for t in sorted(self.sqlite) if t in self.pg]

    def test_same_tables(self):
        self.assertEqual(sorted(self.pg), sorted(self.sqlite))
        self.assertIn("schema_migrations", self.pg)

    def test_same_columns_in_the_same_order(self):
        for table, lite, pg in self.each_table():
            with self.subTest(table=table):
                self.assertEqual([c[0] for c in pg["columns"]], [c[0] for c in lite["columns"]])
                # Types as migrations/pg/0001_initial.sql says, NOT NULL alike.
                self.assertEqual([c[1:3] for c in pg["columns"]], [c[1:3] for c in lite["columns"]])
                # Byte order for every text column, as SQLite's BINARY.
                self.assertEqual(set(pg["collations"].values()),
                                 {"C"} if pg["collations"] else set())

    def test_same_defaults(self):
        for table, lite, pg in self.each_table():
            with self.subTest(table=table):
                want = {c[0]: c[3] for c in lite["columns"] if c[3] is not None}
                got = {c[0]: c[3] for c in pg["columns"] if c[3] is not None}
                self.assertEqual(got, want)

    def test_same_keys(self):
        for table, lite, pg in self.each_table():
            with self.subTest(table=table):
                self.assertEqual(pg["pk"], lite["pk"])
                self.assertEqual(pg["unique"], lite["unique"])
                # Generated ids: BY DEFAULT (a copy inserts its own), never ALWAYS.
                self.assertEqual(pg["identity"], lite["identity"])
                self.assertEqual(pg["identity_always"], set())

    def test_same_foreign_keys(self):
        for table, lite, pg in self.each_table():
            with self.subTest(table=table):
                self.assertEqual(pg["fks"], lite["fks"])
        self.assertIn((("default_branch_id",), "ss_branches", ("id",), "SET NULL"),
                      self.pg["ss_projects"]["fks"])

    def test_same_indexes(self):
        for table, lite, pg in self.each_table():
            with self.subTest(table=table):
                self.assertEqual(pg["indexes"], lite["indexes"])
        self.assertTrue(self.pg["commits"]["indexes"]["commits_public_recent"][3])  # partial

    def test_same_checks(self):
        for table, lite, pg in self.each_table():
            with self.subTest(table=table):
                self.assertEqual(pg["checks"], lite["checks"])
        self.assertEqual(self.pg["ss_repo_auths"]["checks"], 1)

    def test_text_sorts_by_bytes(self):
        """COLLATE "C": upper case before lower case, as SQLite's BINARY sorts."""
        names = ["b", "B", "a", "_", "A", "é"]
        rows = pg_query(self.database, "SELECT n FROM (VALUES " +
                        ", ".join(f"('{n}'::text COLLATE \"C\")" for n in names) +
                        ") v(n) ORDER BY n")
        self.assertEqual([r[0] for r in rows], sorted(names, key=lambda n: n.encode()))
        # And the table's own column sorts that way without being told.
        rows = pg_query(self.database,
                        "SELECT attcollation = 'pg_catalog.\"C\"'::regcollation FROM pg_attribute "
                        "WHERE attrelid = 'repos'::regclass AND attname = 'name'")
        self.assertEqual(rows, [(True,)])


class PgHistoryMigrationTest(unittest.TestCase):
    """0003 adds the tags' rev to rows already there (0), and keeps them."""

    def setUp(self):
        if not PG_HOST:
            self.skipTest("no PostgreSQL cluster (TAGD_TEST_PG_HOST)")
        self.database = create_database()
        self.addCleanup(drop_database, self.database)

    def test_rows_before_0003_are_kept_with_rev_0(self):
        _, files = migration_files(PG_DIR)
        self.assertEqual(os.path.basename(files[2]), "0003_history.sql")
        for f in files[:2]:
            apply_pg(self.database, f)
        q = lambda sql: pg_query(self.database, sql)  # noqa: E731
        org = q("INSERT INTO orgs(uuid, name, created_at) VALUES ('o-1', 'acme', 1) "
                "RETURNING id")[0][0]
        repo = q(f"INSERT INTO repos(uuid, org_id, name, created_at) VALUES ('r-1', {org}, "
                 "'app', 1) RETURNING id")[0][0]
        commit = q(f"INSERT INTO commits(uuid, org_id, name, created_at) VALUES ('c-1', {org}, "
                   "'c', 1) RETURNING id")[0][0]
        q(f"INSERT INTO repo_tags(uuid, repo_id, name, commit_id, created_at, updated_at) "
          f"VALUES ('t-1', {repo}, 'latest', {commit}, 1, 1) RETURNING id")
        q(f"INSERT INTO commit_tags(uuid, org_id, name, commit_id, created_at, updated_at) "
          f"VALUES ('t-2', {org}, 'legacy', {commit}, 1, 1) RETURNING id")
        ns = q(f"INSERT INTO ss_namespaces(org_id, name, created_at) VALUES ({org}, 'ns', 1) "
               "RETURNING id")[0][0]
        project = q(f"INSERT INTO ss_projects(namespace_id, name, created_at) VALUES ({ns}, "
                    "'p', 1) RETURNING id")[0][0]
        sha = q(f"INSERT INTO ss_commits(project_id, sha, message, authored_at, created_at) "
                f"VALUES ({project}, '{'a' * 40}', 'm', 1, 1) RETURNING id")[0][0]
        q(f"INSERT INTO ss_tags(project_id, name, commit_id, message, created_at) "
          f"VALUES ({project}, 'v1', {sha}, 'm', 1) RETURNING id")
        apply_pg(self.database, files[2])
        self.assertEqual(q("SELECT name, rev FROM repo_tags"), [("latest", 0)])
        self.assertEqual(q("SELECT name, rev FROM commit_tags"), [("legacy", 0)])
        self.assertEqual(q("SELECT name, rev FROM ss_tags"), [("v1", 0)])
        # An explicit id (as a copy from SQLite writes) is taken.
        self.assertEqual(q(f"INSERT INTO orgs(id, uuid, name, created_at) VALUES (1000, 'o-2', "
                           "'b', 1) RETURNING id"), [(1000,)])


class PgProtectionMigrationTest(unittest.TestCase):
    """0005 makes the tokens already there admin (they keep every right they had);
    a row written without a scope gets the least."""

    def setUp(self):
        if not PG_HOST:
            self.skipTest("no PostgreSQL cluster (TAGD_TEST_PG_HOST)")
        self.database = create_database()
        self.addCleanup(drop_database, self.database)

    def test_tokens_before_0005_become_admin(self):
        _, files = migration_files(PG_DIR)
        self.assertEqual(os.path.basename(files[4]), "0005_protection.sql")
        for f in files[:4]:
            apply_pg(self.database, f)
        q = lambda sql: pg_query(self.database, sql)  # noqa: E731
        org = q("INSERT INTO orgs(uuid, name, created_at) VALUES ('o-1', 'acme', 1) "
                "RETURNING id")[0][0]
        q(f"INSERT INTO tokens(org_id, public_id, digest, created_at) VALUES ({org}, "
          "'0123456789abcdef', '\\x00', 1) RETURNING id")
        apply_pg(self.database, files[4])
        self.assertEqual(q("SELECT public_id, scope FROM tokens"), [("0123456789abcdef", "admin")])
        q(f"INSERT INTO tokens(org_id, public_id, digest, created_at) VALUES ({org}, "
          "'fedcba9876543210', '\\x00', 1) RETURNING id")
        self.assertEqual(q("SELECT scope FROM tokens WHERE public_id = 'fedcba9876543210'"),
                         [("read",)])


if __name__ == "__main__":
    unittest.main()
