/*
 * pg.c - the PostgreSQL backend: libpq, one connection per reader thread and
 * per writer, statements prepared once per connection, text parameters and
 * binary results, migrations under an advisory lock.  See store_internal.h
 * for the seam and pg.h for what its other files share.
 *
 * Every connection is made with synchronous_commit = on (a write is answered
 * only once PostgreSQL has flushed its commit) and statement_timeout =
 * db_timeout, so no request waits longer than that on the database.  A
 * connection that breaks (the server restarting, failing over) makes its
 * statements fail with STORE_UNAVAILABLE; the store replaces it (see
 * store.c's readers and the writer) once the server answers again.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "log.h"
#include "migrations.h"
#include "names.h"
#include "pg.h"

#define MAX_PARAMS 32

/* Type oids of the columns tagd reads (pg_type.h is server-side: these are stable). */
#define BOOLOID  16
#define BYTEAOID 17
#define INT8OID  20
#define INT2OID  21
#define INT4OID  23

/* The advisory lock the migrations run under: org ids (chain locks) are positive. */
#define MIGRATION_LOCK "-7262000001"

struct pg_stmt {
	struct db_stmt base;
	const char *sql;
	char name[16];
	int nparams;
	const char *values[MAX_PARAMS];
	int lengths[MAX_PARAMS];
	int formats[MAX_PARAMS];
	char ints[MAX_PARAMS][24];
	char *owned[MAX_PARAMS]; /* texts made valid UTF-8 by bind_text, freed at reset */
	PGresult *res;
	int row, nrows;
	bool executed;
};

struct pg_conn {
	struct store_conn base;
	PGconn *pg;
	int next_name;
	int64_t changes;
	char sqlstate[6];
	char err[256];
	bool failed_conn; /* the last failure was the connection, not the statement */
	const char *stmt_sql[STORE_STMT_SLOTS];
	struct pg_stmt *stmt[STORE_STMT_SLOTS];
};

static struct pg_conn *conn_of(struct store_conn *c)
{
	return (struct pg_conn *)c;
}

static struct pg_stmt *stmt_of(struct db_stmt *st)
{
	return (struct pg_stmt *)st;
}

PGconn *pg_handle(struct store_conn *c)
{
	return conn_of(c)->pg;
}

/* ---- errors ---- */

enum store_status pg_status_of(const char *sqlstate, bool conn_bad)
{
	if (conn_bad || sqlstate == NULL || sqlstate[0] == '\0')
		return STORE_UNAVAILABLE;
	if (strcmp(sqlstate, "23505") == 0)
		return STORE_CONFLICT;
	if (strncmp(sqlstate, "23", 2) == 0)
		return STORE_INVALID; /* a broken reference or check: a bug, not the client's */
	if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0)
		return STORE_RETRY;
	if (strcmp(sqlstate, "53100") == 0)
		return STORE_FULL;
	if (strcmp(sqlstate, "25006") == 0)
		return STORE_READONLY; /* a standby: not the primary (yet) */
	if (strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "57P", 3) == 0 ||
	    strcmp(sqlstate, "57014") == 0 || strcmp(sqlstate, "53300") == 0)
		return STORE_UNAVAILABLE; /* connection lost, server going down, timeout, no slot */
	if (strcmp(sqlstate, "53200") == 0)
		return STORE_NOMEM;
	return STORE_ERROR;
}

/* Remember the failure of res (or of the connection when res is NULL). */
static void note_failure(struct pg_conn *c, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg);
	snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", state ? state : "");
	snprintf(c->err, sizeof(c->err), "%s", msg && *msg ? msg : "connection lost");
	for (char *p = c->err; *p != '\0'; p++)
		if (*p == '\n' || *p == '"')
			*p = ' '; /* one line, fit for a logfmt value */
	c->failed_conn = PQstatus(c->pg) != CONNECTION_OK;
}

static enum store_status status(struct store_conn *base)
{
	struct pg_conn *c = conn_of(base);
	return pg_status_of(c->sqlstate, c->failed_conn);
}

static const char *errmsg(struct store_conn *base)
{
	return conn_of(base)->err;
}

/* ---- statements ---- */

static size_t slot_of(const char *sql)
{
	uintptr_t p = (uintptr_t)sql;
	return (size_t)((p >> 3) ^ (p >> 11)) % STORE_STMT_SLOTS;
}

/* The highest $N of sql: the parameters it takes. */
static int count_params(const char *sql)
{
	int n = 0;
	for (const char *p = strchr(sql, '$'); p != NULL; p = strchr(p + 1, '$')) {
		int k = atoi(p + 1);
		if (k > n)
			n = k;
	}
	return n;
}

static struct pg_stmt *prepare(struct pg_conn *c, const char *sql)
{
	struct pg_stmt *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->base.conn = &c->base;
	s->sql = sql;
	s->nparams = count_params(sql);
	if (s->nparams > MAX_PARAMS) {
		free(s);
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "t%d", c->next_name++);
	PGresult *res = PQprepare(c->pg, s->name, sql, s->nparams, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		note_failure(c, res);
		log_msg(LOG_ERROR, "prepare failed", "error=\"%s\"", c->err);
		PQclear(res);
		free(s);
		return NULL;
	}
	PQclear(res);
	return s;
}

static void stmt_clear(struct pg_stmt *s)
{
	for (int i = 0; i < MAX_PARAMS; i++) {
		free(s->owned[i]);
		s->owned[i] = NULL;
	}
	PQclear(s->res);
	s->res = NULL;
	s->executed = false;
	s->row = -1;
	s->nrows = 0;
}

static struct db_stmt *stmt(struct store_conn *base, const char *sql)
{
	struct pg_conn *c = conn_of(base);
	size_t i = slot_of(sql);

	for (size_t probes = 0; probes < STORE_STMT_SLOTS; probes++) {
		if (c->stmt_sql[i] == sql) {
			struct pg_stmt *s = c->stmt[i];
			stmt_clear(s);
			memset(s->values, 0, sizeof(s->values));
			memset(s->lengths, 0, sizeof(s->lengths));
			memset(s->formats, 0, sizeof(s->formats));
			return &s->base;
		}
		if (c->stmt_sql[i] == NULL) {
			struct pg_stmt *s = prepare(c, sql);
			if (s == NULL)
				return NULL;
			s->row = -1;
			c->stmt_sql[i] = sql;
			c->stmt[i] = s;
			return &s->base;
		}
		i = (i + 1) % STORE_STMT_SLOTS;
	}
	log_msg(LOG_ERROR, "statement cache full", NULL);
	return NULL;
}

static bool param_ok(struct pg_stmt *s, int idx)
{
	return idx >= 1 && idx <= s->nparams;
}

static void bind_int(struct db_stmt *st, int idx, int64_t v)
{
	struct pg_stmt *s = stmt_of(st);
	if (!param_ok(s, idx))
		return;
	snprintf(s->ints[idx - 1], sizeof(s->ints[0]), "%" PRId64, v);
	s->values[idx - 1] = s->ints[idx - 1];
	s->formats[idx - 1] = 0;
}

/*
 * v with every byte that is not valid UTF-8 written as U+FFFD (malloc'd), or
 * NULL when v is valid (or no memory).  PostgreSQL refuses such text; tagd
 * stores only valid UTF-8 (names and bodies are checked before), so a text
 * that is not can only be a key looked up (a path segment) -- and U+FFFD is
 * in no name, so the lookup finds nothing, as it does on SQLite.
 */
static char *utf8_repaired(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t n = strlen(v), i = 0;
	unsigned cp;
	while (i < n) {
		size_t k = names_utf8_decode(p + i, n - i, &cp);
		if (k == 0)
			break;
		i += k;
	}
	if (i == n)
		return NULL;
	char *out = malloc(3 * n + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	for (i = 0; i < n;) {
		size_t k = names_utf8_decode(p + i, n - i, &cp);
		if (k == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
		}
	}
	out[o] = '\0';
	return out;
}

static void bind_text(struct db_stmt *st, int idx, const char *v)
{
	struct pg_stmt *s = stmt_of(st);
	if (!param_ok(s, idx))
		return;
	free(s->owned[idx - 1]);
	s->owned[idx - 1] = v != NULL ? utf8_repaired(v) : NULL;
	s->values[idx - 1] = s->owned[idx - 1] != NULL ? s->owned[idx - 1] : v; /* NULL: NULL */
	s->formats[idx - 1] = 0;
}

static void bind_blob(struct db_stmt *st, int idx, const void *v, size_t n)
{
	struct pg_stmt *s = stmt_of(st);
	if (!param_ok(s, idx))
		return;
	s->values[idx - 1] = v;
	s->lengths[idx - 1] = (int)n;
	s->formats[idx - 1] = 1; /* bytea in binary: the bytes as they are */
}

static enum db_rc step(struct db_stmt *st)
{
	struct pg_stmt *s = stmt_of(st);
	struct pg_conn *c = conn_of(st->conn);
	if (!s->executed) {
		s->executed = true;
		s->res = PQexecPrepared(c->pg, s->name, s->nparams, s->values, s->lengths,
		                        s->formats, 1);
		ExecStatusType rs = s->res ? PQresultStatus(s->res) : PGRES_FATAL_ERROR;
		if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
			note_failure(c, s->res);
			stmt_clear(s);
			s->executed = true;
			return DB_FAIL;
		}
		s->nrows = PQntuples(s->res);
		const char *tuples = PQcmdTuples(s->res);
		c->changes = tuples && *tuples ? strtoll(tuples, NULL, 10) : 0;
	}
	if (s->res == NULL)
		return DB_FAIL;
	if (s->row + 1 < s->nrows) {
		s->row++;
		return DB_ROW;
	}
	return DB_DONE;
}

static void reset(struct db_stmt *st)
{
	stmt_clear(stmt_of(st));
}

static bool col_null(struct db_stmt *st, int col)
{
	struct pg_stmt *s = stmt_of(st);
	return s->res == NULL || PQgetisnull(s->res, s->row, col);
}

static int64_t col_int(struct db_stmt *st, int col)
{
	struct pg_stmt *s = stmt_of(st);
	if (col_null(st, col))
		return 0;
	const char *v = PQgetvalue(s->res, s->row, col);
	switch (PQftype(s->res, col)) {
	case INT8OID: {
		uint64_t x;
		memcpy(&x, v, 8);
		return (int64_t)be64toh(x);
	}
	case INT4OID: {
		uint32_t x;
		memcpy(&x, v, 4);
		return (int32_t)ntohl(x);
	}
	case INT2OID: {
		uint16_t x;
		memcpy(&x, v, 2);
		return (int16_t)ntohs(x);
	}
	case BOOLOID:
		return v[0] != 0;
	default:
		return 0; /* not a number: the shared SQL never asks this */
	}
}

static const char *col_text(struct db_stmt *st, int col)
{
	struct pg_stmt *s = stmt_of(st);
	if (col_null(st, col))
		return NULL;
	/* Binary text is the bytes themselves; libpq always ends a value with a NUL. */
	return PQgetvalue(s->res, s->row, col);
}

static size_t col_bytes(struct db_stmt *st, int col)
{
	struct pg_stmt *s = stmt_of(st);
	return col_null(st, col) ? 0 : (size_t)PQgetlength(s->res, s->row, col);
}

static const void *col_blob(struct db_stmt *st, int col)
{
	return col_text(st, col);
}

static int64_t changes(struct store_conn *c)
{
	return conn_of(c)->changes;
}

/* ---- transactions ---- */

/* Run a statement without parameters or result rows. */
static enum store_status exec(struct pg_conn *c, const char *sql)
{
	PGresult *res = PQexec(c->pg, sql);
	ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	enum store_status ret = STORE_OK;
	if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
		note_failure(c, res);
		ret = status(&c->base);
	}
	PQclear(res);
	return ret;
}

static const char *const txn_sql[] = {
        [DB_BEGIN_WRITE] = "BEGIN",
        [DB_BEGIN_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        [DB_COMMIT] = "COMMIT",
        [DB_ROLLBACK] = "ROLLBACK",
        [DB_SAVEPOINT] = "SAVEPOINT op",
        [DB_RELEASE] = "RELEASE op",
        [DB_ROLLBACK_TO] = "ROLLBACK TO op",
};

static enum store_status txn(struct store_conn *base, enum db_txn what)
{
	struct pg_conn *c = conn_of(base);
	if (what == DB_COMMIT) {
		/* COMMIT of an aborted transaction answers ROLLBACK, not an error: tell them apart.
		 */
		bool aborted = PQtransactionStatus(c->pg) == PQTRANS_INERROR;
		enum store_status ret = exec(c, txn_sql[what]);
		if (ret == STORE_OK && aborted) {
			snprintf(c->err, sizeof(c->err), "the transaction was aborted");
			return STORE_ERROR;
		}
		return ret;
	}
	return exec(c, txn_sql[what]);
}

static bool in_txn(struct store_conn *c)
{
	PGTransactionStatusType t = PQtransactionStatus(conn_of(c)->pg);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

static const char SQL_LOCK_CHAIN[] = "SELECT pg_advisory_xact_lock($1)";

static enum store_status lock_chain(struct store_conn *c, int64_t org_id)
{
	struct db_stmt *st = stmt(c, SQL_LOCK_CHAIN);
	if (st == NULL)
		return status(c);
	bind_int(st, 1, org_id);
	return store_step_done(st);
}

/*
 * Hook claims are session advisory locks on the claimer's connection:
 * released by the server the moment that connection ends (a node that dies
 * loses its claims at once), keyed apart from the chain locks (positive org
 * ids) and the migration lock.
 */
#define HOOK_LOCK_BASE (-(INT64_C(1) << 40))

static const char SQL_HOOK_CLAIM[] = "SELECT pg_try_advisory_lock($1)::int";
static const char SQL_HOOK_UNCLAIM[] = "SELECT pg_advisory_unlock($1)::int";

static enum store_status hook_claim(struct store_conn *c, int64_t hook_id, bool *got)
{
	*got = false;
	struct db_stmt *st = stmt(c, SQL_HOOK_CLAIM);
	if (st == NULL)
		return status(c);
	bind_int(st, 1, HOOK_LOCK_BASE - hook_id);
	enum db_rc rc = step(st);
	if (rc == DB_ROW)
		*got = col_int(st, 0) == 1;
	reset(st);
	return rc == DB_ROW ? STORE_OK : status(c);
}

static void hook_unclaim(struct store_conn *c, int64_t hook_id)
{
	struct db_stmt *st = stmt(c, SQL_HOOK_UNCLAIM);
	if (st == NULL)
		return;
	bind_int(st, 1, HOOK_LOCK_BASE - hook_id);
	step(st);
	reset(st);
}

/* EXPLAIN of a query with its parameters unknown: the plan's lines. */
static enum store_status explain(struct store_conn *base, const char *query, char *out, size_t cap)
{
	struct pg_conn *c = conn_of(base);
	int n = count_params(query);
	char *sql = errmsg_fmt("EXPLAIN (COSTS OFF) %s", query);
	if (sql == NULL)
		return STORE_NOMEM;
	const char *values[MAX_PARAMS] = {NULL};
	/* A generic plan: the parameters as NULL would let the planner see through them. */
	PGresult *prep = PQprepare(c->pg, "tagd_explain", sql, n, NULL);
	free(sql);
	enum store_status ret = STORE_OK;
	if (prep == NULL || PQresultStatus(prep) != PGRES_COMMAND_OK) {
		note_failure(c, prep);
		PQclear(prep);
		return STORE_ERROR;
	}
	PQclear(prep);
	PGresult *res = PQexec(c->pg, "SET plan_cache_mode = force_generic_plan");
	PQclear(res);
	res = PQexecPrepared(c->pg, "tagd_explain", n, values, NULL, NULL, 0);
	size_t len = 0;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		note_failure(c, res);
		ret = STORE_ERROR;
	}
	for (int i = 0; ret == STORE_OK && i < PQntuples(res); i++) {
		const char *line = PQgetvalue(res, i, 0);
		size_t k = strlen(line);
		if (len + k + 2 > cap) {
			ret = STORE_ERROR;
			break;
		}
		memcpy(out + len, line, k);
		len += k;
		out[len++] = '\n';
		out[len] = '\0';
	}
	PQclear(res);
	PQclear(PQexec(c->pg, "RESET plan_cache_mode"));
	PQclear(PQexec(c->pg, "DEALLOCATE tagd_explain"));
	return ret;
}

/* ---- connections ---- */

static void disconnect(struct store_conn *base)
{
	struct pg_conn *c = conn_of(base);
	if (c == NULL)
		return;
	for (size_t i = 0; i < STORE_STMT_SLOTS; i++) {
		if (c->stmt[i] != NULL)
			PQclear(c->stmt[i]->res);
		free(c->stmt[i]);
	}
	PQfinish(c->pg);
	free(c);
}

/* Why a connection could not be made, on one line. */
static char *connect_error(const char *uri, PGconn *pg)
{
	char *why = errmsg_fmt("%s", pg ? PQerrorMessage(pg) : "out of memory");
	for (char *p = why; p != NULL && *p != '\0'; p++)
		if (*p == '\n')
			*p = *(p + 1) != '\0' ? ' ' : '\0';
	char *safe = pg_redact(uri);
	char *msg = errmsg_fmt("%s: cannot connect to PostgreSQL: %s", safe ? safe : "?",
	                       why ? why : "out of memory");
	free(safe);
	free(why);
	return msg;
}

/* What every session of tagd's runs with (see the top of this file). */
static enum store_status session_setup(struct pg_conn *c)
{
	unsigned t = c->base.store->opts.db_timeout_s ? c->base.store->opts.db_timeout_s : 5;
	char set[256];
	snprintf(set, sizeof(set),
	         "SET synchronous_commit = on; SET statement_timeout = '%us'; "
	         "SET idle_in_transaction_session_timeout = '%us'",
	         t, 4 * t);
	return exec(c, set);
}

static struct store_conn *open_connection(struct store *s, bool writer, char **err)
{
	struct pg_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		if (err)
			*err = errmsg_fmt("out of memory");
		return NULL;
	}
	c->base.be = store_pg_backend();
	c->base.store = s;
	c->base.writer = writer;

	/* The URI as given, plus what tagd needs of every connection (later keys win). */
	char timeout[16];
	snprintf(timeout, sizeof(timeout), "%u", s->opts.db_timeout_s ? s->opts.db_timeout_s : 5);
	const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char *vals[] = {s->path, timeout, "tagd", NULL};
	c->pg = PQconnectdbParams(keys, vals, 1);
	if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
		if (err)
			*err = connect_error(s->path, c->pg);
		disconnect(&c->base);
		return NULL;
	}
	if (session_setup(c) != STORE_OK) {
		if (err)
			*err = errmsg_fmt("cannot set up the PostgreSQL session: %s", c->err);
		disconnect(&c->base);
		return NULL;
	}
	return &c->base;
}

static bool healthy(struct store_conn *c)
{
	return PQstatus(conn_of(c)->pg) == CONNECTION_OK;
}

/* ---- migrations ---- */

/* A one-value query's answer as an integer; false and *err when it fails. */
static bool one_value(struct pg_conn *c, const char *sql, bool *null, long long *v, char **err)
{
	PGresult *res = PQexec(c->pg, sql);
	bool ok = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	if (ok) {
		*null = PQgetisnull(res, 0, 0);
		*v = *null ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	} else {
		note_failure(c, res);
		*err = errmsg_fmt("cannot read the schema version: %s", c->err);
	}
	PQclear(res);
	return ok;
}

/* max(version) of schema_migrations, 0 when the table does not exist yet. */
static bool current_version(struct pg_conn *c, int *version, char **err)
{
	bool null;
	long long v;
	*version = 0;
	if (!one_value(c, "SELECT to_regclass('schema_migrations')::oid", &null, &v, err))
		return false;
	if (null)
		return true;
	if (!one_value(c, "SELECT max(version) FROM schema_migrations", &null, &v, err))
		return false;
	*version = (int)v;
	return true;
}

/*
 * Apply every migration newer than the database, each in its own
 * transaction, under a session advisory lock: N nodes starting at once on an
 * empty database migrate it once, the others wait and find it done.
 */
static bool migrate(struct store *s, struct pg_conn *c, char **err)
{
	int current = 0, known = store_known_version();
	char *safe = pg_redact(s->path);
	bool ok = false;

	if (pg_migrations_count == 0 || pg_migrations[pg_migrations_count - 1].version != known) {
		*err = errmsg_fmt("this tagd has no PostgreSQL schema for version %d", known);
		goto out;
	}
	if (s->opts.check_only) {
		if (!current_version(c, &current, err))
			goto out;
		s->schema_version = current;
		if (current != known)
			*err = errmsg_fmt("%s: database schema version %d, this tagd knows %d",
			                  safe, current, known);
		ok = current == known;
		goto out;
	}
	/* A migration may take longer than a request may. */
	exec(c, "SET statement_timeout = 0");
	if (exec(c, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")") != STORE_OK) {
		*err = errmsg_fmt("%s: cannot take the migration lock: %s", safe, c->err);
		goto out;
	}
	if (!current_version(c, &current, err))
		goto unlock;
	if (current > known) {
		*err = errmsg_fmt("%s: database schema version %d was written by a newer tagd "
		                  "(this one knows up to %d); refusing to open it",
		                  safe, current, known);
		goto unlock;
	}
	s->schema_version = current;
	for (size_t i = 0; i < pg_migrations_count; i++) {
		const struct migration *m = &pg_migrations[i];
		if (m->version <= current)
			continue;
		char record[200];
		snprintf(record, sizeof(record),
		         "INSERT INTO schema_migrations(version, name, applied_at) "
		         "VALUES (%d, '%s', extract(epoch FROM now())::bigint)",
		         m->version, m->name);
		if (exec(c, "BEGIN") != STORE_OK || exec(c, m->sql) != STORE_OK ||
		    exec(c, record) != STORE_OK || exec(c, "COMMIT") != STORE_OK) {
			*err = errmsg_fmt("%s: migration %04d_%s failed: %s", safe, m->version,
			                  m->name, c->err);
			exec(c, "ROLLBACK");
			goto unlock;
		}
		s->schema_version = m->version;
	}
	if (s->schema_version != current)
		log_msg(LOG_INFO, "database migrated", "from=%d to=%d", current, s->schema_version);
	ok = true;
unlock:
	exec(c, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")");
	session_setup(c);
out:
	free(safe);
	return ok;
}

static bool open_store(struct store *s, char **err)
{
	s->wconn = open_connection(s, true, err);
	if (s->wconn == NULL)
		return false;
	return migrate(s, conn_of(s->wconn), err);
}

static void closing(struct store *s)
{
}

static void global_init(void)
{
}

static const char *version(void)
{
	static char v[32];
	int n = PQlibVersion();
	snprintf(v, sizeof(v), "libpq %d.%d", n / 10000, n % 10000);
	return v;
}

static const struct store_backend pg_backend = {
        .name = "postgresql",
        .open = open_store,
        .connect = open_connection,
        .disconnect = disconnect,
        .healthy = healthy,
        .stmt = stmt,
        .bind_int = bind_int,
        .bind_text = bind_text,
        .bind_blob = bind_blob,
        .step = step,
        .reset = reset,
        .col_null = col_null,
        .col_int = col_int,
        .col_text = col_text,
        .col_bytes = col_bytes,
        .col_blob = col_blob,
        .changes = changes,
        .txn = txn,
        .in_txn = in_txn,
        .lock_chain = lock_chain,
        .hook_claim = hook_claim,
        .hook_unclaim = hook_unclaim,
        .explain = explain,
        .status = status,
        .errmsg = errmsg,
        .backup = pg_backup,
        .check = pg_check,
        .closing = closing,
        .global_init = global_init,
        .version = version,
};

const struct store_backend *store_pg_backend(void)
{
	return &pg_backend;
}
