/*
 * store.c - opening and closing the database, migrations, the start-up
 * check, connections and the readers' pool.  The statement helpers are in
 * store_stmt.c, the writer in store_writer.c.  See store.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "errmsg.h"
#include "log.h"
#include "migrations.h"
#include "store_internal.h"

#define DEFAULT_MAX_BATCH    256
#define DEFAULT_BUSY_TIMEOUT 5000
#define WAL_RETRY_MS         10

const char *store_status_str(enum store_status st)
{
	switch (st) {
	case STORE_OK:
		return "ok";
	case STORE_NOT_FOUND:
		return "not found";
	case STORE_REPO_NOT_FOUND:
		return "repository not found";
	case STORE_TAG_NOT_FOUND:
		return "tag not found";
	case STORE_COMMIT_NOT_FOUND:
		return "commit not found";
	case STORE_ORG_NOT_FOUND:
		return "organization not found";
	case STORE_FORBIDDEN:
		return "forbidden";
	case STORE_CONFLICT:
		return "already exists";
	case STORE_INVALID:
		return "invalid";
	case STORE_FULL:
		return "database or disk is full";
	case STORE_READONLY:
		return "database is read-only";
	case STORE_CORRUPT:
		return "database is corrupt";
	case STORE_NOMEM:
		return "out of memory";
	case STORE_ERROR:
		break;
	}
	return "database error";
}

enum store_status store_status_from_sqlite(int rc)
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
enum store_status store_status_of_db(sqlite3 *db, int sys)
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
	return store_status_from_sqlite(rc);
}

/* ---- connections ---- */

static void conn_close(struct store_conn *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < STORE_STMT_SLOTS; i++)
		sqlite3_finalize(c->stmt[i]);
	sqlite3_close_v2(c->db);
	free(c);
}

static int exec_simple(sqlite3 *db, const char *sql, char **err, const char *path)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK && err != NULL && *err == NULL) {
		const char *why = msg ? msg : sqlite3_errstr(rc);
		if (store_status_from_sqlite(rc) == STORE_CORRUPT)
			*err = errmsg_fmt(
			        "%s: database is corrupt or unreadable (%s); restore it from "
			        "a backup",
			        path, why);
		else
			*err = errmsg_fmt("%s: %s", path, why);
	}
	sqlite3_free(msg);
	return rc;
}

/* Open one connection with tagd's settings.  create: may create the file. */
static struct store_conn *conn_open(struct store *s, bool create, bool writer, char **err)
{
	struct store_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		if (err)
			*err = errmsg_fmt("out of memory");
		return NULL;
	}
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	int rc = sqlite3_open_v2(s->path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		/* SQLite's "unable to open database file" does not say why; errno does. */
		int sys = c->db ? sqlite3_system_errno(c->db) : 0;
		if (err)
			*err = errmsg_fmt("%s: cannot open database: %s%s%s", s->path,
			                  c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc),
			                  sys ? ": " : "", sys ? strerror(sys) : "");
		conn_close(c);
		return NULL;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, (int)s->opts.busy_timeout_ms);

	char pragmas[256];
	snprintf(pragmas, sizeof(pragmas),
	         "PRAGMA foreign_keys=ON; PRAGMA synchronous=%s; PRAGMA temp_store=MEMORY;%s",
	         s->opts.synchronous_normal ? "NORMAL" : "FULL",
	         writer ? "" : " PRAGMA query_only=ON;");
	if (exec_simple(c->db, pragmas, err, s->path) != SQLITE_OK) {
		conn_close(c);
		return NULL;
	}
	return c;
}

/*
 * Each thread keeps the last reader it released for the next request, so the
 * common path takes no lock: a mutex on a shared pool showed up as futex
 * waits in a GET's profile.  A nested borrow (the thread's reader is busy)
 * falls back to the pool.  A read scope (store_read_scope_begin) pins one
 * reader in a read transaction until the scope ends.
 */
static _Thread_local struct {
	uint64_t store_id;
	struct store_conn *conn;
	uint64_t scope_store_id;       /* 0: no scope open */
	struct store_conn *scope_conn; /* the scope's reader once a read took it */
} thread_reader;

static _Atomic uint64_t next_store_id = 1;

/* A reader no thread uses: the thread's own when idle, else one from the pool or a new one. */
static struct store_conn *reader_take(struct store *s)
{
	struct store_conn *c = NULL;

	if (thread_reader.store_id == s->id && thread_reader.conn != NULL &&
	    !thread_reader.conn->in_use)
		return thread_reader.conn;
	pthread_mutex_lock(&s->pool_lock);
	c = s->pool;
	if (c != NULL)
		s->pool = c->next_free;
	pthread_mutex_unlock(&s->pool_lock);
	if (c == NULL) {
		char *err = NULL;
		c = conn_open(s, false, false, &err);
		if (c == NULL) {
			log_msg(LOG_ERROR, "cannot open read connection", "error=\"%s\"",
			        err ? err : "out of memory");
			free(err);
			return NULL;
		}
		pthread_mutex_lock(&s->pool_lock);
		c->next_all = s->all;
		s->all = c;
		pthread_mutex_unlock(&s->pool_lock);
	}
	return c;
}

/* Give back a reader with no transaction open: it becomes the thread's, or goes to the pool. */
static void reader_give(struct store *s, struct store_conn *c)
{
	c->in_use = false;
	if (thread_reader.store_id == s->id && thread_reader.conn == c)
		return;
	if (thread_reader.store_id != s->id || thread_reader.conn == NULL) {
		thread_reader.store_id = s->id;
		thread_reader.conn = c;
		return;
	}
	pthread_mutex_lock(&s->pool_lock);
	c->next_free = s->pool;
	s->pool = c;
	pthread_mutex_unlock(&s->pool_lock);
}

struct store_conn *store_reader(struct store *s)
{
	bool scoped = thread_reader.scope_store_id == s->id;

	if (scoped && thread_reader.scope_conn != NULL) {
		if (!thread_reader.scope_conn->in_use) {
			thread_reader.scope_conn->in_use = true;
			return thread_reader.scope_conn;
		}
		scoped = false; /* a nested read: a snapshot of its own */
	}
	struct store_conn *c = reader_take(s);
	if (c == NULL)
		return NULL;
	c->in_use = true;
	/* The scope's first read opens its transaction; without one, reads still work. */
	if (scoped && store_read_begin(c) == STORE_OK)
		thread_reader.scope_conn = c;
	return c;
}

void store_reader_release(struct store *s, struct store_conn *c)
{
	if (c == NULL)
		return;
	if (c == thread_reader.scope_conn) {
		c->in_use = false; /* the transaction stays open until the scope ends */
		return;
	}
	store_read_end(c);
	reader_give(s, c);
}

void store_read_scope_begin(struct store *s)
{
	thread_reader.scope_store_id = s->id;
	thread_reader.scope_conn = NULL;
}

void store_read_scope_end(struct store *s)
{
	struct store_conn *c = thread_reader.scope_conn;

	thread_reader.scope_store_id = 0;
	thread_reader.scope_conn = NULL;
	if (c == NULL)
		return;
	store_read_end(c);
	reader_give(s, c);
}

/* ---- migrations ---- */

int store_known_version(void)
{
	return migrations[migrations_count - 1].version;
}

const char *store_sqlite_version(void)
{
	return sqlite3_libversion();
}

int store_schema_version(struct store *s)
{
	return s->schema_version;
}

static int read_user_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*version = sqlite3_column_int(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Refuse a database SQLite finds damaged before serving from it: without
 * this a file whose header is intact but whose pages are not opens fine and
 * fails request by request.  The check is shallow on purpose: it reads the
 * schema and the first page of every table.  A full quick_check reads every
 * page (3 s for a million tags, measured), which would make start-up and
 * every CLI call that slow; "tagd db check" is the deep check.
 */
static bool startup_check(struct store *s, sqlite3 *db, char **err)
{
	sqlite3_stmt *tables = NULL;
	const char *why = NULL;
	int rc = sqlite3_prepare_v2(db,
	                            "SELECT name FROM sqlite_schema WHERE type = 'table' "
	                            "AND name NOT LIKE 'sqlite_%'",
	                            -1, &tables, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(tables)) == SQLITE_ROW) {
		char sql[256];
		sqlite3_stmt *probe = NULL;
		snprintf(sql, sizeof(sql), "SELECT 1 FROM \"%s\" LIMIT 1",
		         (const char *)sqlite3_column_text(tables, 0));
		rc = sqlite3_prepare_v2(db, sql, -1, &probe, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(probe);
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			rc = SQLITE_OK;
		else
			why = sqlite3_errmsg(db);
		sqlite3_finalize(probe);
	}
	if (rc != SQLITE_DONE && why == NULL)
		why = sqlite3_errmsg(db);
	if (why != NULL) {
		*err = errmsg_fmt("%s: database is corrupt or unreadable (%s); restore it from a "
		                  "backup",
		                  s->path, why);
		for (char *p = *err; p != NULL && *p != '\0'; p++)
			if (*p == '\n')
				*p = ' '; /* the message is one line */
	}
	sqlite3_finalize(tables);
	return why == NULL;
}

/* Apply every migration newer than the database, all in one transaction. */
static bool migrate(struct store *s, sqlite3 *db, char **err)
{
	int current = 0;
	int rc = read_user_version(db, &current);

	if (rc != SQLITE_OK) {
		*err = errmsg_fmt("%s: cannot read schema version: %s", s->path,
		                  sqlite3_errstr(rc));
		return false;
	}
	if (current > store_known_version()) {
		*err = errmsg_fmt("%s: database schema version %d was written by a newer tagd "
		                  "(this one knows up to %d); refusing to open it",
		                  s->path, current, store_known_version());
		return false;
	}
	s->schema_version = current;
	if (current == store_known_version())
		return true;

	if (exec_simple(db, "BEGIN IMMEDIATE", err, s->path) != SQLITE_OK)
		return false;
	/*
	 * Another process (tagd serve and the CLI started together on a new file)
	 * may have migrated between the first look and the write lock: look again
	 * under the lock.
	 */
	rc = read_user_version(db, &current);
	if (rc != SQLITE_OK || current > store_known_version()) {
		*err = rc != SQLITE_OK
		               ? errmsg_fmt("%s: cannot read schema version: %s", s->path,
		                            sqlite3_errstr(rc))
		               : errmsg_fmt("%s: database schema version %d was written by a "
		                            "newer tagd (this one knows up to %d); refusing "
		                            "to open it",
		                            s->path, current, store_known_version());
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return false;
	}
	s->schema_version = current;
	if (current == store_known_version()) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return true;
	}
	for (size_t i = 0; i < migrations_count; i++) {
		const struct migration *m = &migrations[i];
		if (m->version <= current)
			continue;
		char *msg = NULL;
		rc = sqlite3_exec(db, m->sql, NULL, NULL, &msg);
		if (rc != SQLITE_OK) {
			*err = errmsg_fmt("%s: migration %04d_%s failed: %s", s->path, m->version,
			                  m->name, msg ? msg : sqlite3_errstr(rc));
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return false;
		}
		char record[160];
		snprintf(record, sizeof(record),
		         "INSERT INTO schema_migrations(version, name, applied_at) "
		         "VALUES (%d, '%s', strftime('%%s','now')); PRAGMA user_version=%d;",
		         m->version, m->name, m->version);
		if (exec_simple(db, record, err, s->path) != SQLITE_OK) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return false;
		}
		s->schema_version = m->version;
	}
	if (exec_simple(db, "COMMIT", err, s->path) != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		s->schema_version = current;
		return false;
	}
	log_msg(LOG_INFO, "database migrated", "from=%d to=%d", current, s->schema_version);
	return true;
}

/* ---- open and close ---- */

static void store_free(struct store *s)
{
	while (s->all != NULL) {
		struct store_conn *c = s->all;
		s->all = c->next_all;
		conn_close(c);
	}
	s->pool = NULL;
	conn_close(s->wconn);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_mutex_destroy(&s->queue_lock);
	pthread_cond_destroy(&s->queue_cond);
	pthread_mutex_destroy(&s->touch_lock);
	free(s->path);
	free(s);
}

/*
 * Process-wide SQLite settings, made once before any connection: no memory
 * statistics, which SQLite otherwise keeps under a global mutex taken on
 * every allocation of every connection (seen in a GET's profile).
 */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_initialize();
}

/*
 * SQLite says "unable to open database file" or "readonly database" without
 * the cause; when the file or its folder (where the -wal and -shm files go)
 * cannot be written, append why.
 */
static void add_write_hint(const char *path, char **err)
{
	char dir[4096];
	const char *what = path;
	int why = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (access(path, W_OK) != 0 && errno != ENOENT)
		why = errno;
	else if (access(dir, W_OK) != 0)
		why = errno, what = dir;
	if (why == 0 || *err == NULL)
		return;
	char *longer =
	        errmsg_fmt("%s (%s: %s; tagd writes the database and its -wal and -shm files)",
	                   *err, what, strerror(why));
	if (longer != NULL) {
		free(*err);
		*err = longer;
	}
}

struct store *store_open(const char *path, const struct store_options *opts, char **err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_setup);
	char *dummy = NULL;
	if (err == NULL)
		err = &dummy;
	*err = NULL;

	struct store *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		*err = errmsg_fmt("out of memory");
		return NULL;
	}
	if (opts != NULL)
		s->opts = *opts;
	if (s->opts.max_batch == 0)
		s->opts.max_batch = DEFAULT_MAX_BATCH;
	if (s->opts.busy_timeout_ms == 0)
		s->opts.busy_timeout_ms = DEFAULT_BUSY_TIMEOUT;
	pthread_mutex_init(&s->pool_lock, NULL);
	s->id = atomic_fetch_add(&next_store_id, 1);
	pthread_mutex_init(&s->queue_lock, NULL);
	pthread_cond_init(&s->queue_cond, NULL);
	pthread_mutex_init(&s->touch_lock, NULL);

	s->wconn = conn_open(s, true, true, err);
	if (s->wconn == NULL)
		goto fail;

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
		rc = sqlite3_prepare_v2(s->wconn->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
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
		        path, sqlite3_errmsg(s->wconn->db));
		sqlite3_finalize(st);
		goto fail;
	}
	if (strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		*err = errmsg_fmt("%s: cannot switch the database to WAL mode", path);
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);

	if (!startup_check(s, s->wconn->db, err) || !migrate(s, s->wconn->db, err))
		goto fail;

	if (pthread_create(&s->writer, NULL, store_writer_main, s) != 0) {
		*err = errmsg_fmt("cannot start the writer thread: %s", strerror(errno));
		goto fail;
	}
	s->writer_started = true;
	free(dummy);
	return s;

fail:
	if (*err == NULL)
		*err = errmsg_fmt("%s: cannot open database", path);
	add_write_hint(path, err);
	if (err == &dummy)
		free(dummy);
	store_free(s);
	return NULL;
}

void store_close(struct store **sp)
{
	struct store *s = *sp;
	if (s == NULL)
		return;
	if (s->writer_started) {
		pthread_mutex_lock(&s->queue_lock);
		s->stopping = true;
		pthread_cond_signal(&s->queue_cond);
		pthread_mutex_unlock(&s->queue_lock);
		pthread_join(s->writer, NULL);
	}
	/* Fold the WAL back into the database so the file stands alone after a clean stop. */
	if (s->wconn != NULL)
		sqlite3_wal_checkpoint_v2(s->wconn->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
		                          NULL);
	store_free(s);
	*sp = NULL;
}
