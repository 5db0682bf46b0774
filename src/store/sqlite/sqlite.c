/*
 * sqlite.c - the SQLite backend: one file, WAL, one writer connection and
 * read-only readers, statements cached per connection.  The start-up check
 * and the migrations (under BEGIN IMMEDIATE and PRAGMA user_version) are
 * sqlite_open.c's.  See store_internal.h for the seam it implements and
 * sqlite.h for what its files share.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "errmsg.h"
#include "log.h"
#include "sqlite.h"

#define WAL_RETRY_MS 10
#define MAX_PARAMS   32

struct sqlite_stmt {
	struct db_stmt base;
	sqlite3_stmt *st;
	int index[MAX_PARAMS + 1]; /* $N -> SQLite's parameter index; 0: not in the statement */
};

struct sqlite_conn {
	struct store_conn base;
	sqlite3 *db;
	int sys;      /* the errno the last failing step left */
	int claim_fd; /* the hook lock file, once this connection claimed hooks; -1: none */
	/* Prepared statements keyed by the address of their (static) SQL text. */
	const char *stmt_sql[STORE_STMT_SLOTS];
	struct sqlite_stmt *stmt[STORE_STMT_SLOTS];
};

static struct sqlite_conn *conn_of(struct store_conn *c)
{
	return (struct sqlite_conn *)c;
}

static struct sqlite_stmt *stmt_of(struct db_stmt *st)
{
	return (struct sqlite_stmt *)st;
}

sqlite3 *sqlite_db(struct store_conn *c)
{
	return conn_of(c)->db;
}

/* ---- errors ---- */

enum store_status sqlite_status(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return STORE_OK;
	case SQLITE_CONSTRAINT:
		/* Only a unique key means "already exists"; a broken reference is a bug. */
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return STORE_CONFLICT;
		return STORE_INVALID;
	case SQLITE_FULL:
		return STORE_FULL;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		return STORE_READONLY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STORE_CORRUPT;
	case SQLITE_NOMEM:
		return STORE_NOMEM;
	case SQLITE_IOERR:
		/* A write that fails for want of space surfaces as an I/O error. */
		if (rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC ||
		    rc == SQLITE_IOERR_SHMSIZE || rc == SQLITE_IOERR_TRUNCATE)
			return STORE_FULL;
		return STORE_ERROR;
	default:
		return STORE_ERROR;
	}
}

/*
 * The status of db's last failure, sys the errno its statement left.  An I/O
 * error is refined by that errno: SQLite reports a write to a file system
 * that turned read-only (EROFS) as the same SQLITE_IOERR_WRITE as one to a
 * full disk, and the answers differ (503, not 507); a failing disk (EIO) is
 * neither.  (sqlite3_system_errno() is not set for write errors in 3.40.)
 */
static enum store_status status_of_db(sqlite3 *db, int sys)
{
	int rc = sqlite3_extended_errcode(db);
	if ((rc & 0xff) == SQLITE_IOERR) {
		switch (sys) {
		case EROFS:
			return STORE_READONLY;
		case ENOSPC:
		case EDQUOT:
		case EFBIG:
			return STORE_FULL;
		case EIO:
			return STORE_ERROR;
		default:
			break;
		}
	}
	return sqlite_status(rc);
}

/* ---- statements ---- */

static size_t slot_of(const char *sql)
{
	uintptr_t p = (uintptr_t)sql;
	return (size_t)((p >> 3) ^ (p >> 11)) % STORE_STMT_SLOTS;
}

/*
 * The length of sql without a trailing row-locking clause (" FOR UPDATE",
 * " FOR SHARE"...): with one writer there is nothing to lock against.
 */
static size_t sql_len(const char *sql)
{
	const char *lock = NULL;
	for (const char *p = strstr(sql, " FOR "); p != NULL; p = strstr(p + 1, " FOR "))
		if (strncmp(p, " FOR UPDATE", 11) == 0 || strncmp(p, " FOR SHARE", 10) == 0 ||
		    strncmp(p, " FOR NO KEY UPDATE", 18) == 0 ||
		    strncmp(p, " FOR KEY SHARE", 14) == 0)
			lock = p;
	return lock != NULL ? (size_t)(lock - sql) : strlen(sql);
}

static struct sqlite_stmt *prepare(struct sqlite_conn *c, const char *sql)
{
	struct sqlite_stmt *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->base.conn = &c->base;
	int rc = sqlite3_prepare_v3(c->db, sql, (int)sql_len(sql), SQLITE_PREPARE_PERSISTENT,
	                            &s->st, NULL);
	if (rc != SQLITE_OK) {
		log_msg(LOG_ERROR, "prepare failed", "error=\"%s\"", sqlite3_errmsg(c->db));
		free(s);
		return NULL;
	}
	/* The shared SQL names its parameters $1, $2...: SQLite numbers them as they appear. */
	int n = sqlite3_bind_parameter_count(s->st);
	for (int i = 1; i <= n; i++) {
		const char *name = sqlite3_bind_parameter_name(s->st, i);
		int k = name != NULL && name[0] == '$' ? atoi(name + 1) : 0;
		if (k < 1 || k > MAX_PARAMS) {
			log_msg(LOG_ERROR, "prepare failed", "error=\"parameters are $1..$%d\"",
			        MAX_PARAMS);
			sqlite3_finalize(s->st);
			free(s);
			return NULL;
		}
		s->index[k] = i;
	}
	/* $1..$n without a gap, as PostgreSQL needs to know every parameter's type. */
	for (int k = 1; k <= n; k++) {
		if (s->index[k] == 0) {
			log_msg(LOG_ERROR, "prepare failed",
			        "error=\"parameter $%d is not used\" sql=\"%.60s\"", k, sql);
			sqlite3_finalize(s->st);
			free(s);
			return NULL;
		}
	}
	return s;
}

static struct db_stmt *stmt(struct store_conn *base, const char *sql)
{
	struct sqlite_conn *c = conn_of(base);
	size_t i = slot_of(sql);

	for (size_t probes = 0; probes < STORE_STMT_SLOTS; probes++) {
		if (c->stmt_sql[i] == sql) {
			struct sqlite_stmt *s = c->stmt[i];
			sqlite3_reset(s->st);
			sqlite3_clear_bindings(s->st);
			return &s->base;
		}
		if (c->stmt_sql[i] == NULL) {
			struct sqlite_stmt *s = prepare(c, sql);
			if (s == NULL)
				return NULL;
			c->stmt_sql[i] = sql;
			c->stmt[i] = s;
			return &s->base;
		}
		i = (i + 1) % STORE_STMT_SLOTS;
	}
	log_msg(LOG_ERROR, "statement cache full", NULL);
	return NULL;
}

/* SQLite's index of $idx; 0 (which every bind refuses) when the statement has none. */
static int index_of(struct sqlite_stmt *s, int idx)
{
	return idx >= 1 && idx <= MAX_PARAMS ? s->index[idx] : 0;
}

static void bind_int(struct db_stmt *st, int idx, int64_t v)
{
	struct sqlite_stmt *s = stmt_of(st);
	sqlite3_bind_int64(s->st, index_of(s, idx), v);
}

static void bind_text(struct db_stmt *st, int idx, const char *v)
{
	struct sqlite_stmt *s = stmt_of(st);
	if (v == NULL)
		sqlite3_bind_null(s->st, index_of(s, idx));
	else
		sqlite3_bind_text(s->st, index_of(s, idx), v, -1, SQLITE_STATIC);
}

static void bind_blob(struct db_stmt *st, int idx, const void *v, size_t n)
{
	struct sqlite_stmt *s = stmt_of(st);
	sqlite3_bind_blob(s->st, index_of(s, idx), v, (int)n, SQLITE_STATIC);
}

static enum db_rc step(struct db_stmt *st)
{
	struct sqlite_stmt *s = stmt_of(st);
	errno = 0; /* what is left after the step is its own */
	int rc = sqlite3_step(s->st);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	conn_of(st->conn)->sys = errno;
	return DB_FAIL;
}

static void reset(struct db_stmt *st)
{
	sqlite3_reset(stmt_of(st)->st);
}

static bool col_null(struct db_stmt *st, int col)
{
	return sqlite3_column_type(stmt_of(st)->st, col) == SQLITE_NULL;
}

static int64_t col_int(struct db_stmt *st, int col)
{
	return sqlite3_column_int64(stmt_of(st)->st, col);
}

static const char *col_text(struct db_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(stmt_of(st)->st, col);
}

static size_t col_bytes(struct db_stmt *st, int col)
{
	return (size_t)sqlite3_column_bytes(stmt_of(st)->st, col);
}

static const void *col_blob(struct db_stmt *st, int col)
{
	return sqlite3_column_blob(stmt_of(st)->st, col);
}

static enum db_type col_type(struct db_stmt *st, int col)
{
	switch (sqlite3_column_type(stmt_of(st)->st, col)) {
	case SQLITE_INTEGER:
		return DB_TYPE_INT;
	case SQLITE_TEXT:
		return DB_TYPE_TEXT;
	case SQLITE_BLOB:
		return DB_TYPE_BLOB;
	default:
		return DB_TYPE_NULL; /* tagd's schema has no REAL */
	}
}

static int64_t changes(struct store_conn *c)
{
	return sqlite3_changes(conn_of(c)->db);
}

static int64_t total_changes(struct store_conn *c)
{
	return sqlite3_total_changes64(conn_of(c)->db);
}

static struct db_stmt *prepare_once(struct store_conn *c, const char *sql)
{
	struct sqlite_stmt *s = prepare(conn_of(c), sql);
	return s ? &s->base : NULL;
}

static void finalize(struct db_stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(stmt_of(st)->st);
	free(stmt_of(st));
}

static int columns(struct store_conn *c, const char *sql, char names[][64], int max)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(conn_of(c)->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	int n = sqlite3_column_count(st);
	if (n > max)
		n = -1;
	for (int i = 0; i < n; i++)
		snprintf(names[i], 64, "%s", sqlite3_column_name(st, i));
	sqlite3_finalize(st);
	return n;
}

static enum store_status sync_ids(struct store_conn *c, const char *table, const char *column)
{
	return STORE_OK; /* a rowid follows the largest one by itself */
}

static enum store_status status(struct store_conn *c)
{
	struct sqlite_conn *sc = conn_of(c);
	return status_of_db(sc->db, sc->sys);
}

static const char *errmsg(struct store_conn *c)
{
	return sqlite3_errmsg(conn_of(c)->db);
}

/* ---- transactions ---- */

static const char *const txn_sql[] = {
        [DB_BEGIN_WRITE] = "BEGIN IMMEDIATE",
        [DB_BEGIN_READ] = "BEGIN",
        [DB_COMMIT] = "COMMIT",
        [DB_ROLLBACK] = "ROLLBACK",
        [DB_SAVEPOINT] = "SAVEPOINT op",
        [DB_RELEASE] = "RELEASE op",
        [DB_ROLLBACK_TO] = "ROLLBACK TO op",
};

static enum store_status txn(struct store_conn *c, enum db_txn what)
{
	struct db_stmt *st = stmt(c, txn_sql[what]);
	if (st == NULL)
		return status(c);
	return store_step_done(st);
}

static bool in_txn(struct store_conn *c)
{
	return !sqlite3_get_autocommit(conn_of(c)->db);
}

static bool aborted(struct store_conn *c)
{
	return false; /* a failed statement undoes itself; the transaction goes on */
}

static enum store_status lock_chain(struct store_conn *c, int64_t org_id)
{
	return STORE_OK; /* one writer: the chain is never raced */
}

/*
 * One SQLite file has one deliverer: the process that holds an exclusive
 * flock on DB-hooklock beside it claims every hook (flock, not fcntl: a
 * POSIX lock on a file SQLite uses would be dropped by any close of it).
 * The kernel ends the claim with the process.
 */
static enum store_status hook_claim(struct store_conn *base, int64_t hook_id, bool *got)
{
	struct sqlite_conn *c = conn_of(base);
	*got = false;
	if (c->claim_fd >= 0) {
		*got = true;
		return STORE_OK;
	}
	char *lock = NULL;
	if (asprintf(&lock, "%s-hooklock", base->store->path) < 0)
		return STORE_NOMEM;
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	int sys = errno;
	free(lock);
	if (fd < 0)
		return sys == EROFS || sys == EACCES || sys == EPERM ? STORE_READONLY : STORE_ERROR;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		sys = errno;
		close(fd);
		return sys == EWOULDBLOCK ? STORE_OK : STORE_ERROR;
	}
	c->claim_fd = fd;
	*got = true;
	return STORE_OK;
}

static void hook_unclaim(struct store_conn *c, int64_t hook_id)
{
	/* The file lock stays with the connection: this process remains the deliverer. */
}

/* SQLite's EXPLAIN QUERY PLAN, each step's detail ("SEARCH t USING INDEX ...") on a line. */
static enum store_status explain(struct store_conn *c, const char *query, char *out, size_t cap)
{
	sqlite3 *db = conn_of(c)->db;
	enum store_status ret = STORE_OK;
	size_t len = 0;
	int rc = SQLITE_ERROR;
	char *sql = sqlite3_mprintf("EXPLAIN QUERY PLAN %.*s", (int)sql_len(query), query);
	sqlite3_stmt *st = NULL;
	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		ret = STORE_ERROR;
		goto done;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(st, 3);
		size_t n = detail != NULL ? strlen(detail) : 0;
		if (len + n + 2 > cap) {
			ret = STORE_ERROR;
			break;
		}
		if (n > 0)
			memcpy(out + len, detail, n);
		len += n;
		out[len++] = '\n';
		out[len] = '\0';
	}
	if (ret == STORE_OK && rc != SQLITE_DONE)
		ret = sqlite_status(sqlite3_extended_errcode(db));
done:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return ret;
}

/* ---- connections ---- */

static void disconnect(struct store_conn *base)
{
	struct sqlite_conn *c = conn_of(base);
	if (c == NULL)
		return;
	for (size_t i = 0; i < STORE_STMT_SLOTS; i++) {
		if (c->stmt[i] != NULL)
			sqlite3_finalize(c->stmt[i]->st);
		free(c->stmt[i]);
	}
	sqlite3_close_v2(c->db);
	if (c->claim_fd >= 0)
		close(c->claim_fd);
	free(c);
}

/* Open one connection with tagd's settings.  create: may create the file. */
static struct store_conn *open_conn(struct store *s, bool create, bool writer, char **err)
{
	struct sqlite_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		if (err)
			*err = errmsg_fmt("out of memory");
		return NULL;
	}
	c->base.be = &store_sqlite_backend;
	c->base.store = s;
	c->base.writer = writer;
	c->claim_fd = -1;
	int flags = SQLITE_OPEN_NOMUTEX;
	if (s->opts.check_only)
		flags |= SQLITE_OPEN_READONLY;
	else
		flags |= SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(s->path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		/* SQLite's "unable to open database file" does not say why; errno does. */
		int sys = c->db ? sqlite3_system_errno(c->db) : 0;
		if (err)
			*err = errmsg_fmt("%s: cannot open database: %s%s%s", s->path,
			                  c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc),
			                  sys ? ": " : "", sys ? strerror(sys) : "");
		disconnect(&c->base);
		return NULL;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, (int)s->opts.busy_timeout_ms);

	char pragmas[256];
	snprintf(pragmas, sizeof(pragmas),
	         "PRAGMA foreign_keys=ON; PRAGMA synchronous=%s; PRAGMA temp_store=MEMORY;%s",
	         s->opts.synchronous_normal ? "NORMAL" : "FULL",
	         writer ? "" : " PRAGMA query_only=ON;");
	if (sqlite_exec_simple(c->db, pragmas, err, s->path) != SQLITE_OK) {
		disconnect(&c->base);
		return NULL;
	}
	return &c->base;
}

static struct store_conn *open_connection(struct store *s, bool writer, char **err)
{
	return open_conn(s, writer, writer, err);
}

static bool healthy(struct store_conn *c)
{
	return true;
}

/*
 * The writer's connection and the file made ready for it: WAL, the start-up
 * check, the migrations.
 */
static bool open_store(struct store *s, char **err)
{
	s->wconn = open_conn(s, true, true, err);
	if (s->wconn == NULL)
		goto fail;
	sqlite3 *db = conn_of(s->wconn)->db;
	if (s->opts.check_only) /* as the file is: no WAL switch, no migration */
		return sqlite_startup_check(s, db, err) && sqlite_read_version(s, db, err);

	/*
	 * WAL is a property of the file: set once here, every later connection
	 * uses it.  Switching takes an exclusive lock without waiting on the busy
	 * handler, so when another process opens the same new file at this moment
	 * (tagd serve and the CLI started together) SQLITE_BUSY comes at once:
	 * retry it for as long as the busy timeout.
	 */
	sqlite3_stmt *st = NULL;
	int rc;
	for (unsigned waited = 0;; waited += WAL_RETRY_MS) {
		rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if ((rc & 0xff) != SQLITE_BUSY || waited >= s->opts.busy_timeout_ms)
			break;
		sqlite3_finalize(st);
		st = NULL;
		sqlite3_sleep(WAL_RETRY_MS);
	}
	if (rc != SQLITE_ROW) {
		*err = errmsg_fmt(
		        "%s: cannot use this file as a database (%s): not a tagd database, "
		        "or corrupt",
		        s->path, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		goto fail;
	}
	if (strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		*err = errmsg_fmt("%s: cannot switch the database to WAL mode", s->path);
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	if (!sqlite_startup_check(s, db, err) || !sqlite_migrate(s, db, err))
		goto fail;
	return true;

fail:
	if (*err == NULL)
		*err = errmsg_fmt("%s: cannot open database", s->path);
	sqlite_add_write_hint(s->path, err);
	return false;
}

/* Fold the WAL back into the database so the file stands alone after a clean stop. */
static void closing(struct store *s)
{
	if (s->wconn != NULL)
		sqlite3_wal_checkpoint_v2(conn_of(s->wconn)->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
		                          NULL, NULL);
}

/*
 * Process-wide SQLite settings, made once before any connection: no memory
 * statistics, which SQLite otherwise keeps under a global mutex taken on
 * every allocation of every connection (seen in a GET's profile).
 */
static void global_init(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_initialize();
}

static const char *version(void)
{
	return sqlite3_libversion();
}

const char *store_sqlite_version(void)
{
	return sqlite3_libversion();
}

const struct store_backend store_sqlite_backend = {
        .name = "sqlite",
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
        .col_type = col_type,
        .changes = changes,
        .total_changes = total_changes,
        .prepare = prepare_once,
        .finalize = finalize,
        .columns = columns,
        .tables_sql = "SELECT name FROM sqlite_master "
                      "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        .sync_ids = sync_ids,
        .txn = txn,
        .in_txn = in_txn,
        .aborted = aborted,
        .lock_chain = lock_chain,
        .hook_claim = hook_claim,
        .hook_unclaim = hook_unclaim,
        .explain = explain,
        .status = status,
        .errmsg = errmsg,
        .backup = sqlite_backup,
        .check = sqlite_check,
        .closing = closing,
        .read_scopes = true,
        .global_init = global_init,
        .version = version,
};
