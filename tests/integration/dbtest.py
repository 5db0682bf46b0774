"""The database under the integration tests, on either backend.

TAGD_TEST_BACKEND chooses it: "sqlite" (the default) gives each test server a
file in its folder; "postgres" gives it a database of its own on the private
cluster whose socket folder is TAGD_TEST_PG_HOST (scripts/pg-test-cluster.sh,
started by ctest's fixture "pg"), made fresh and dropped afterwards.

A test that reads or changes the database behind tagd's back does it through
Database.sql / sql_exec (Tagd.sql, Tagd.sql_exec), which speak to either
backend: Python's sqlite3 module for a file, psql for PostgreSQL, with "?"
placeholders on both.  Tests that are about SQLite itself skip themselves on
PostgreSQL with only_sqlite(reason).
"""
import csv
import glob
import io
import json
import os
import secrets
import sqlite3
import subprocess
import unittest

BACKENDS = ("sqlite", "postgres")
BACKEND = os.environ.get("TAGD_TEST_BACKEND", "sqlite")
if BACKEND not in BACKENDS:
    raise RuntimeError(f"TAGD_TEST_BACKEND={BACKEND!r}: expected one of {', '.join(BACKENDS)}")
PG_HOST = os.environ.get("TAGD_TEST_PG_HOST")  # the private cluster's socket folder
PG_USER = "postgres"  # the cluster's superuser (initdb -U postgres, trust)
SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts")
CLUSTER_SCRIPT = os.path.join(SCRIPTS, "pg-test-cluster.sh")


def on_postgres():
    return BACKEND == "postgres"


def only_sqlite(reason):
    """Skip a test or class on PostgreSQL: it is about SQLite itself (reason says how)."""
    return unittest.skipIf(on_postgres(), f"SQLite only: {reason}")


def pg_bin(name):
    """The path of PostgreSQL program name: in TAGD_TEST_PG_BIN, else in the
    newest /usr/lib/postgresql/*/bin (Debian keeps the server's programs off
    PATH), else the name itself (found on PATH)."""
    d = os.environ.get("TAGD_TEST_PG_BIN")
    if not d:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/" + name),
                       key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
        d = os.path.dirname(found[-1]) if found else ""
    return os.path.join(d, name) if d else name


class PgError(RuntimeError):
    """psql failed; the message holds its standard error."""


# ---- literals: "?" placeholders bound by quoting, for psql ----

def pg_literal(value):
    """value as a PostgreSQL literal: None, int (bool as 0/1, as SQLite binds it),
    float, str, bytes (as bytea).  Raises ValueError for what has no literal.
    Integers are quoted ('12'): an untyped literal takes the column's type, so
    0/1 also fill a boolean flag, as tagd binds them."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "'1'" if value else "'0'"
    if isinstance(value, int):
        return "'" + str(value) + "'"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"no SQL literal for {value!r}")
        return repr(value)
    if isinstance(value, str):
        if "\0" in value:
            raise ValueError("PostgreSQL text cannot hold NUL")
        # standard_conforming_strings is on: only the quote needs doubling.
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "'\\x" + bytes(value).hex() + "'::bytea"
    raise ValueError(f"no SQL literal for a {type(value).__name__}")


def pg_bind(query, params):
    """query with each "?" outside literals, quoted identifiers and comments
    replaced by the next of params as a literal.  Raises ValueError when the
    counts differ or the query ends inside a literal or comment."""
    out = []
    params = list(params)
    n = 0
    i = 0
    end = len(query)
    while i < end:
        c = query[i]
        if c in "'\"":
            # A literal or quoted identifier; E'...' strings also escape with \.
            escapes = c == "'" and i > 0 and query[i - 1] in "eE" and \
                (i == 1 or not (query[i - 2].isalnum() or query[i - 2] == "_"))
            j = i + 1
            while True:
                if j >= end:
                    raise ValueError(f"unterminated {c} in {query!r}")
                if escapes and query[j] == "\\":
                    j += 2
                    continue
                if query[j] == c:
                    if j + 1 < end and query[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            out.append(query[i:j + 1])
            i = j + 1
        elif query.startswith("--", i):
            j = query.find("\n", i)
            j = end if j < 0 else j
            out.append(query[i:j])
            i = j
        elif query.startswith("/*", i):
            j = query.find("*/", i + 2)
            if j < 0:
                raise ValueError(f"unterminated comment in {query!r}")
            out.append(query[i:j + 2])
            i = j + 2
        elif c == "?":
            if n >= len(params):
                raise ValueError(f"more placeholders than the {len(params)} parameters")
            out.append(pg_literal(params[n]))
            n += 1
            i += 1
        else:
            out.append(c)
            i += 1
    if n != len(params):
        raise ValueError(f"{len(params)} parameters for {n} placeholders")
    return "".join(out)


# ---- psql ----

def psql(database, script, host=None, csv_out=True, timeout=60):
    """Run script (SQL and psql commands) with psql on database of the cluster
    at host (default TAGD_TEST_PG_HOST), stopping at the first error; returns
    its standard output.  Raises PgError when psql fails."""
    host = host or PG_HOST
    if not host:
        raise PgError("no PostgreSQL cluster: TAGD_TEST_PG_HOST is not set "
                      "(ctest's fixture pg sets it)")
    args = [pg_bin("psql"), "-X", "-q", "-h", host, "-U", PG_USER, "-d", database,
            "-v", "ON_ERROR_STOP=1", "-f", "-"]
    if csv_out:
        args[1:1] = ["--csv", "-t"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PGCONNECT_TIMEOUT="10", PGAPPNAME="tagd-tests")
    r = subprocess.run(args, input=script, capture_output=True, text=True, timeout=timeout,
                       env=env)
    if r.returncode != 0:
        raise PgError(f"psql on {database} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def pg_uri(database, host=None):
    """The libpq URI tagd is given for database: Unix socket only."""
    return f"postgresql:///{database}?host={host or PG_HOST}&user={PG_USER}"


def pg_query(database, query, params=(), host=None):
    """The rows (tuples) of query on database: NULL as None, integers as int,
    bytea as bytes, text as str.  query returns rows (a SELECT, or a change
    with RETURNING); it may not hold psql's own syntax (backslash commands,
    :variables outside literals)."""
    sql = pg_bind(query.strip().rstrip(";"), params)
    # First the columns' types (\gdesc only prepares), then one JSON object
    # per row: JSON keeps NULL apart from '' and numbers apart from text.
    out = psql(database, f"{sql}\n\\gdesc\nWITH q AS ({sql}) SELECT row_to_json(q) FROM q;\n",
               host=host)
    types, rows = [], []
    for record in csv.reader(io.StringIO(out)):
        if len(record) == 2:
            types.append(record[1])
        elif len(record) == 1:
            rows.append(json.loads(record[0], object_pairs_hook=lambda pairs: pairs))
        else:
            raise PgError(f"unexpected psql output: {record!r}")
    result = []
    for pairs in rows:
        values = [v for _, v in pairs]
        if len(values) != len(types):
            raise PgError(f"{len(types)} column types for a row of {len(values)}")
        result.append(tuple(bytes.fromhex(v[2:]) if t == "bytea" and v is not None else v
                            for t, v in zip(types, values)))
    return result


def pg_exec(database, query, params=(), host=None):
    """Run one statement (or several, without parameters) on database, in one
    transaction."""
    psql(database, f"BEGIN;\n{pg_bind(query, params).strip().rstrip(';')};\nCOMMIT;\n",
         host=host, csv_out=False)


def create_database(host=None):
    """A new empty database on the cluster; returns its name (tagd_<hex>)."""
    name = "tagd_" + secrets.token_hex(8)
    psql("postgres", f'CREATE DATABASE "{name}";\n', host=host, csv_out=False)
    return name


def drop_database(name, host=None):
    """Drop database name, disconnecting whoever is still on it; no error when
    it is gone."""
    psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);\n', host=host,
         csv_out=False)


# ---- one test database ----

class Database:
    """A test database: target is what tagd's --db is given."""

    @staticmethod
    def fresh(folder):
        """A new database for a server whose files are in folder."""
        if on_postgres():
            return PgDatabase(create_database())
        return SqliteDatabase(os.path.join(folder, "tagd.db"))


class SqliteDatabase(Database):
    def __init__(self, path):
        self.path = self.target = path

    def _connect(self):
        # mode=rw: never create the file (tagd does, on first use).
        return sqlite3.connect(f"file:{self.path}?mode=rw", uri=True, timeout=10)

    def sql(self, query, params=()):
        """The rows of query, as tuples; a change is committed."""
        con = self._connect()
        try:
            rows = con.execute(query, tuple(params)).fetchall()
            con.commit()
            return rows
        finally:
            con.close()

    def sql_exec(self, query, params=()):
        """Run a statement and commit it."""
        self.sql(query, params)

    def made(self):
        """Whether tagd has made the database (the file exists)."""
        return os.path.exists(self.path)

    def contents(self):
        """Every byte stored: the database file and its WAL and shared memory."""
        data = b""
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                with open(self.path + suffix, "rb") as f:
                    data += f.read()
        return data

    def drop(self):
        pass  # the file goes with its folder


class PgDatabase(Database):
    def __init__(self, name, host=None):
        self.name = name
        self.host = host or PG_HOST
        self.target = pg_uri(name, self.host)

    def sql(self, query, params=()):
        """The rows of query (a SELECT, or a change with RETURNING), as tuples."""
        return pg_query(self.name, query, params, host=self.host)

    def sql_exec(self, query, params=()):
        """Run a statement and commit it."""
        pg_exec(self.name, query, params, host=self.host)

    def made(self):
        """Whether tagd has made the database: migrated it (an empty one stands
        for a new file)."""
        return bool(self.sql("SELECT 1 FROM pg_tables WHERE schemaname = 'public' "
                             "AND tablename = 'schema_migrations'"))

    def contents(self):
        """Every byte stored, as pg_dump writes the database out."""
        r = subprocess.run([pg_bin("pg_dump"), "-h", self.host, "-U", PG_USER, self.name],
                           capture_output=True, timeout=120)
        if r.returncode != 0:
            raise PgError(f"pg_dump {self.name} failed: {r.stderr.decode(errors='replace')}")
        return r.stdout

    def drop(self):
        drop_database(self.name, host=self.host)


# ---- a cluster of a test's own ----

class PgCluster:
    """A private cluster in folder (scripts/pg-test-cluster.sh), for a test that
    stops and starts PostgreSQL under tagd: the shared one serves other tests
    at the same time.  host is its socket folder."""

    def __init__(self, folder):
        self.host = folder

    def _run(self, *args):
        r = subprocess.run([CLUSTER_SCRIPT, *args, self.host], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=180)
        if r.returncode != 0:
            raise PgError(f"pg-test-cluster.sh {' '.join(args)} failed: {r.stderr.strip()}")
        return r.stdout

    def start(self):
        """Running, with the data it had (made when there is none)."""
        self._run("start")
        return self

    def kill(self):
        """Stopped at once, as in a crash (pg_ctl stop -m immediate); data kept."""
        self._run("kill")

    def stop(self):
        """Stopped and removed."""
        self._run("stop")
