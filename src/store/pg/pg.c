/*
 * pg.c - the PostgreSQL backend's statements: prepared once per connection,
 * text parameters and binary results, the status of each failure, the
 * transactions and the chain lock, and the backend's table.  pg_open.c opens
 * connections and migrates, pg_io.c bounds every round trip, pg_listen.c
 * follows the token epoch, pg_admin.c backs up and checks.  See
 * store_internal.h for the seam and pg.h for what the files share.
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

/* Type oids of the columns tagd reads (pg_type.h is server-side: these are stable). */
#define BOOLOID  16
#define BYTEAOID 17
#define INT8OID  20
#define INT2OID  21
#define INT4OID  23

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
void pg_note_failure(struct pg_conn *c, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg);
	snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", state ? state : "");
	if (res == NULL && c->broken)
		snprintf(c->err, sizeof(c->err), "no answer from PostgreSQL within %u ms",
		         c->wait_ms);
	else
		snprintf(c->err, sizeof(c->err), "%s", msg && *msg ? msg : "connection lost");
	for (char *p = c->err; *p != '\0'; p++)
		if (*p == '\n' || *p == '"')
			*p = ' '; /* one line, fit for a logfmt value */
	c->failed_conn = c->broken || PQstatus(c->pg) != CONNECTION_OK;
}

enum store_status pg_status(struct store_conn *base)
{
	struct pg_conn *c = conn_of(base);
	return pg_status_of(c->sqlstate, c->failed_conn);
}

static const char *errmsg(struct store_conn *base)
{
	return conn_of(base)->err;
}

/* ---- statements ---- */

/* The answer to what was just sent (sent: PQsend... said it went), within c->wait_ms. */
static PGresult *answer(struct pg_conn *c, int sent)
{
	bool timed_out = false;
	PGresult *res = sent ? pg_await(c->pg, c->wait_ms, &timed_out) : NULL;
	if (timed_out) {
		c->broken = true; /* once per connection: it is replaced */
		log_msg(LOG_WARN,
		        "no answer from PostgreSQL within the deadline: connection dropped",
		        "waited_ms=%u", c->wait_ms);
	}
	return res;
}

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
	PGresult *res = answer(c, PQsendPrepare(c->pg, s->name, sql, s->nparams, NULL));
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_note_failure(c, res);
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
		s->res = answer(c, PQsendQueryPrepared(c->pg, s->name, s->nparams, s->values,
		                                       s->lengths, s->formats, 1));
		ExecStatusType rs = s->res ? PQresultStatus(s->res) : PGRES_FATAL_ERROR;
		if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
			pg_note_failure(c, s->res);
			stmt_clear(s);
			s->executed = true;
			return DB_FAIL;
		}
		s->nrows = PQntuples(s->res);
		const char *tuples = PQcmdTuples(s->res);
		c->changes = tuples && *tuples ? strtoll(tuples, NULL, 10) : 0;
		/* PQcmdTuples counts a SELECT's rows too: only a change is a write. */
		const char *cmd = PQcmdStatus(s->res);
		if (strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd, "UPDATE", 6) == 0 ||
		    strncmp(cmd, "DELETE", 6) == 0)
			c->total_changes += c->changes; /* RETURNING or not */
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

static enum db_type col_type(struct db_stmt *st, int col)
{
	struct pg_stmt *s = stmt_of(st);
	if (col_null(st, col))
		return DB_TYPE_NULL;
	switch (PQftype(s->res, col)) {
	case INT8OID:
	case INT4OID:
	case INT2OID:
	case BOOLOID:
		return DB_TYPE_INT;
	case BYTEAOID:
		return DB_TYPE_BLOB;
	default:
		return DB_TYPE_TEXT;
	}
}

static int64_t changes(struct store_conn *c)
{
	return conn_of(c)->changes;
}

static int64_t total_changes(struct store_conn *c)
{
	return conn_of(c)->total_changes;
}

static struct db_stmt *prepare_once(struct store_conn *c, const char *sql)
{
	struct pg_stmt *s = prepare(conn_of(c), sql);
	if (s != NULL)
		s->row = -1;
	return s ? &s->base : NULL;
}

static void finalize(struct db_stmt *st)
{
	if (st == NULL)
		return;
	struct pg_stmt *s = stmt_of(st);
	struct pg_conn *c = conn_of(st->conn);
	stmt_clear(s);
	char sql[40];
	snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
	PQclear(answer(c, PQsendQuery(c->pg, sql)));
	free(s);
}

static int columns(struct store_conn *base, const char *sql, char names[][64], int max)
{
	struct pg_conn *c = conn_of(base);
	PGresult *res = answer(c, PQsendQuery(c->pg, sql));
	int n = -1;
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK) {
		n = PQnfields(res);
		if (n > max)
			n = -1;
		for (int i = 0; i < n; i++)
			snprintf(names[i], 64, "%s", PQfname(res, i));
	} else {
		pg_note_failure(c, res);
	}
	PQclear(res);
	return n;
}

/* The identity's sequence set after the largest id copied (or to start at 1). */
static enum store_status sync_ids(struct store_conn *base, const char *table, const char *column)
{
	char *sql = errmsg_fmt("SELECT setval(pg_get_serial_sequence('%s', '%s'), "
	                       "coalesce(max(%s), 0) + 1, false) FROM %s",
	                       table, column, column, table);
	if (sql == NULL)
		return STORE_NOMEM;
	enum store_status ret = pg_exec(conn_of(base), sql);
	free(sql);
	return ret;
}

/* ---- transactions ---- */

/* Run a statement without parameters or result rows. */
enum store_status pg_exec(struct pg_conn *c, const char *sql)
{
	PGresult *res = answer(c, PQsendQuery(c->pg, sql));
	ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	enum store_status ret = STORE_OK;
	if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
		pg_note_failure(c, res);
		ret = pg_status(&c->base);
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
		enum store_status ret = pg_exec(c, txn_sql[what]);
		if (ret == STORE_OK && aborted) {
			snprintf(c->err, sizeof(c->err), "the transaction was aborted");
			return STORE_ERROR;
		}
		return ret;
	}
	return pg_exec(c, txn_sql[what]);
}

static bool in_txn(struct store_conn *c)
{
	PGTransactionStatusType t = PQtransactionStatus(conn_of(c)->pg);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

static bool aborted(struct store_conn *c)
{
	return PQtransactionStatus(conn_of(c)->pg) == PQTRANS_INERROR;
}

static const char SQL_LOCK_CHAIN[] = "SELECT pg_advisory_xact_lock($1)";

static enum store_status lock_chain(struct store_conn *c, int64_t org_id)
{
	struct db_stmt *st = stmt(c, SQL_LOCK_CHAIN);
	if (st == NULL)
		return pg_status(c);
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
		return pg_status(c);
	bind_int(st, 1, HOOK_LOCK_BASE - hook_id);
	enum db_rc rc = step(st);
	if (rc == DB_ROW)
		*got = col_int(st, 0) == 1;
	reset(st);
	return rc == DB_ROW ? STORE_OK : pg_status(c);
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
		pg_note_failure(c, prep);
		PQclear(prep);
		return STORE_ERROR;
	}
	PQclear(prep);
	PGresult *res = PQexec(c->pg, "SET plan_cache_mode = force_generic_plan");
	PQclear(res);
	res = PQexecPrepared(c->pg, "tagd_explain", n, values, NULL, NULL, 0);
	size_t len = 0;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_note_failure(c, res);
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
        .open = pg_open_store,
        .connect = pg_open_connection,
        .disconnect = pg_disconnect,
        .healthy = pg_healthy,
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
        .col_type = col_type,
        .changes = changes,
        .total_changes = total_changes,
        .prepare = prepare_once,
        .finalize = finalize,
        .columns = columns,
        .tables_sql = "SELECT table_name::text FROM information_schema.tables "
                      "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        .sync_ids = sync_ids,
        .txn = txn,
        .in_txn = in_txn,
        .aborted = aborted,
        .lock_chain = lock_chain,
        .hook_claim = hook_claim,
        .hook_unclaim = hook_unclaim,
        .explain = explain,
        .status = pg_status,
        .errmsg = errmsg,
        .backup = pg_backup,
        .check = pg_check,
        .closing = pg_closing,
        .read_scopes = false,
        .token_epoch = pg_epoch_now,
        .global_init = global_init,
        .version = version,
};

const struct store_backend *store_pg_backend(void)
{
	return &pg_backend;
}
