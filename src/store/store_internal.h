/*
 * Private to the store (src/store/): the seam between the shared store code
 * and the database backends, the store itself, and small helpers.
 *
 * The shared code (store_*.c here) holds every business rule once and speaks
 * SQL that both backends run: parameters are $1, $2...; "INSERT ... ON
 * CONFLICT", "RETURNING" and row values are used, nothing of one engine
 * alone.  A statement that must lock what it reads on a multi-writer backend
 * ends in " FOR UPDATE", which SQLite (one writer) drops.  Each backend
 * (sqlite/, pg/) implements struct store_backend: connections, statements,
 * transactions, migrations, backup, check, query plans.  This is the only
 * header that knows a backend exists; nothing outside src/store/ includes it.
 */
#ifndef TAGD_STORE_INTERNAL_H
#define TAGD_STORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_admin.h"

#define STORE_STMT_SLOTS 128

#define STORE_TOUCH_SLOTS       1024
#define STORE_TOUCH_ID_LEN      32
#define STORE_TOUCH_INTERVAL_US (60LL * 1000000)

struct store_backend;
struct db_stmt;

/*
 * A connection: what every backend's connection begins with (each backend
 * embeds it as its first member and keeps its engine state after it).
 */
/*
 * What the writer knows of one organization's history chain in its open
 * transaction, so that a batch of that organization's changes takes its lock
 * and reads its head once, not once per change.  Valid until the
 * transaction ends or rolls back to a savepoint (store_txn forgets it then):
 * the lock and every event appended meanwhile are the transaction's own, and
 * no other writer can append while the lock is held.  Whether the
 * organization has protection rules at all is remembered the same way (rules
 * change under that lock too), so that an organization without any pays
 * one query per batch for them rather than one per change.
 */
struct chain_memo {
	int64_t org_id; /* 0: nothing known */
	bool locked;    /* lock_chain was taken in this transaction */
	bool head_known;
	enum { CHAIN_RULES_UNKNOWN, CHAIN_RULES_NONE, CHAIN_RULES_SOME } rules; /* of the org */
	int64_t head_seq;
	uint8_t head_hash[HISTORY_HASH_LEN];
};

struct store_conn {
	const struct store_backend *be;
	struct store *store;
	struct store_conn *next_free; /* in the store's pool of idle readers */
	struct store_conn *next_all;  /* every reader the store opened, to close them */
	bool in_use;
	bool writer; /* opened for writing (else read-only) */
	struct chain_memo chain;
};

/* What every backend's statement begins with. */
struct db_stmt {
	struct store_conn *conn;
};

/* What a column of the current row holds. */
enum db_type {
	DB_TYPE_NULL,
	DB_TYPE_INT, /* integers and flags */
	DB_TYPE_TEXT,
	DB_TYPE_BLOB,
};

/* What a step gives. */
enum db_rc {
	DB_FAIL = -1, /* see store_conn_error() */
	DB_DONE = 0,
	DB_ROW = 1,
};

/* Transactions of the writer and the readers, as a backend runs them. */
enum db_txn {
	DB_BEGIN_WRITE, /* a write transaction (SQLite: BEGIN IMMEDIATE) */
	DB_BEGIN_READ,  /* a read transaction: one snapshot for several statements */
	DB_COMMIT,
	DB_ROLLBACK,
	DB_SAVEPOINT, /* the savepoint around each operation of a batch */
	DB_RELEASE,
	DB_ROLLBACK_TO,
};

/* A backend: one file in src/store/<name>/ fills one of these. */
struct store_backend {
	const char *name; /* "sqlite", "postgresql" */

	/* Open a connection (the writer's, or a reader's); NULL and *err (malloc'd) on failure. */
	struct store_conn *(*connect)(struct store *s, bool writer, char **err);
	void (*disconnect)(struct store_conn *c);
	/* Whether c can still be used (a PostgreSQL connection breaks when the server goes). */
	bool (*healthy)(struct store_conn *c);

	/*
	 * The prepared statement for sql (a static string: its address is the
	 * key), reset and with its bindings cleared.  NULL when preparing
	 * failed: store_conn_error() tells why.
	 */
	struct db_stmt *(*stmt)(struct store_conn *c, const char *sql);
	/* Bind parameter $idx (from 1).  Text and blobs are borrowed until the statement is reset.
	 */
	void (*bind_int)(struct db_stmt *st, int idx, int64_t v);
	void (*bind_text)(struct db_stmt *st, int idx, const char *v); /* NULL binds NULL */
	void (*bind_blob)(struct db_stmt *st, int idx, const void *v, size_t n);
	enum db_rc (*step)(struct db_stmt *st);
	void (*reset)(struct db_stmt *st);
	/* Columns of the current row, from 0.  Text and blobs live until the next step or reset. */
	bool (*col_null)(struct db_stmt *st, int col);
	int64_t (*col_int)(struct db_stmt *st, int col);
	const char *(*col_text)(struct db_stmt *st, int col); /* NULL for NULL */
	size_t (*col_bytes)(struct db_stmt *st, int col);
	const void *(*col_blob)(struct db_stmt *st, int col);
	enum db_type (*col_type)(struct db_stmt *st, int col);
	/* Rows changed by the last statement that ran on c. */
	int64_t (*changes)(struct store_conn *c);
	/* Rows inserted, updated or deleted on c since it opened (cascades too). */
	int64_t (*total_changes)(struct store_conn *c);

	/*
	 * A statement of SQL made at run time (a copy's, table by table): not
	 * cached, finalized by the caller.  NULL when it cannot be prepared.
	 */
	struct db_stmt *(*prepare)(struct store_conn *c, const char *sql);
	void (*finalize)(struct db_stmt *st);
	/* The names of the columns of sql's result (each < 64 bytes): their number, -1 on error. */
	int (*columns)(struct store_conn *c, const char *sql, char names[][64], int max);
	/*
	 * Whether a request's reads share one read transaction (a read scope:
	 * store_read_scope_begin).  SQLite: yes, a transaction is nearly free
	 * and saves its locks.  PostgreSQL: no, BEGIN and COMMIT would be two
	 * more round trips for reads that are single statements.
	 */
	bool read_scopes;
	/*
	 * The token epoch without a query, when the backend is told of its
	 * changes (PostgreSQL's LISTEN): true and *epoch while it is current
	 * within a second; false, or NULL: read it (store_org.c).
	 */
	bool (*token_epoch)(struct store *s, int64_t *epoch);

	/* One column: the name of every table of the database (the copy's check). */
	const char *tables_sql;
	/* After rows were inserted with their ids: the ids table generates next follow them. */
	enum store_status (*sync_ids)(struct store_conn *c, const char *table, const char *column);

	/* Run a transaction statement. */
	enum store_status (*txn)(struct store_conn *c, enum db_txn what);
	/*
	 * Whether c is inside a transaction: false once the engine ended it by
	 * itself (SQLite after some errors, PostgreSQL when the connection is
	 * lost).  A PostgreSQL transaction a failed statement aborted is still
	 * one (ROLLBACK [TO] ends it), but runs nothing else: aborted says so.
	 */
	bool (*in_txn)(struct store_conn *c);
	bool (*aborted)(struct store_conn *c);
	/*
	 * Serialize the history chain of org_id until the transaction ends (a
	 * lock every node takes before appending; nothing on a single-writer
	 * backend).
	 */
	enum store_status (*lock_chain)(struct store_conn *c, int64_t org_id);
	/*
	 * Claim hook_id's deliveries for this process on c (store_hooks.h): *got
	 * false when another process holds the claim.  Held until unclaimed or
	 * until c is closed (the process ends).
	 */
	enum store_status (*hook_claim)(struct store_conn *c, int64_t hook_id, bool *got);
	void (*hook_unclaim)(struct store_conn *c, int64_t hook_id);

	/* The status and the engine's words for the last failure on c. */
	enum store_status (*status)(struct store_conn *c);
	const char *(*errmsg)(struct store_conn *c);

	/*
	 * Open s->wconn and make the database ready: refuse a damaged one,
	 * apply pending migrations (under the backend's lock), set
	 * s->schema_version.  False and *err (malloc'd) on failure.
	 */
	bool (*open)(struct store *s, char **err);
	/*
	 * The query plan of sql, one step per line, into out (cap bytes,
	 * NUL-terminated); STORE_ERROR when it cannot be had or does not fit.
	 */
	enum store_status (*explain)(struct store_conn *c, const char *sql, char *out, size_t cap);
	/* store_backup and store_check (store_admin.h) of the database at path. */
	bool (*backup)(const char *path, const char *out_path, char **err);
	long (*check)(const char *path, store_check_report_fn report, void *arg, char **err);
	/* At close: what the backend does after the writer stopped (SQLite: checkpoint). */
	void (*closing)(struct store *s);
	/* Process-wide setup, once. */
	void (*global_init)(void);
	/* The engine's version text. */
	const char *(*version)(void);
};

extern const struct store_backend store_sqlite_backend;

/* The PostgreSQL backend (pg/pg.c). */
const struct store_backend *store_pg_backend(void);

/* ---- the seam, as the shared code calls it ---- */

static inline struct db_stmt *store_stmt(struct store_conn *c, const char *sql)
{
	return c->be->stmt(c, sql);
}
static inline void db_bind_int(struct db_stmt *st, int idx, int64_t v)
{
	st->conn->be->bind_int(st, idx, v);
}
static inline void db_bind_text(struct db_stmt *st, int idx, const char *v)
{
	st->conn->be->bind_text(st, idx, v);
}
static inline void db_bind_blob(struct db_stmt *st, int idx, const void *v, size_t n)
{
	st->conn->be->bind_blob(st, idx, v, n);
}
static inline enum db_rc db_step(struct db_stmt *st)
{
	return st->conn->be->step(st);
}
static inline void db_reset(struct db_stmt *st)
{
	st->conn->be->reset(st);
}
static inline bool db_col_null(struct db_stmt *st, int col)
{
	return st->conn->be->col_null(st, col);
}
static inline int64_t db_col_int(struct db_stmt *st, int col)
{
	return st->conn->be->col_int(st, col);
}
static inline const char *db_col_text(struct db_stmt *st, int col)
{
	return st->conn->be->col_text(st, col);
}
static inline size_t db_col_bytes(struct db_stmt *st, int col)
{
	return st->conn->be->col_bytes(st, col);
}
static inline const void *db_col_blob(struct db_stmt *st, int col)
{
	return st->conn->be->col_blob(st, col);
}
static inline int64_t db_changes(struct store_conn *c)
{
	return c->be->changes(c);
}

/* The status of the last failure on connection c. */
static inline enum store_status store_conn_error(struct store_conn *c)
{
	return c->be->status(c);
}

/* ---- the store ---- */

/* A token whose last use was written recently. */
struct touch_slot {
	char public_id[STORE_TOUCH_ID_LEN + 1];
	int64_t at;
};

struct pg_listen;

struct store {
	const struct store_backend *be;
	char *path; /* a file path (SQLite) or a connection URI (PostgreSQL) */
	struct store_options opts;
	int schema_version;
	struct pg_listen *pg_listen; /* PostgreSQL: the token epoch's listener (pg_listen.c) */

	/* Readers: a free list of idle connections. */
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond; /* a reader came back, or room for one */
	unsigned nreaders;        /* readers open, under pool_lock */
	struct store_conn *pool;  /* idle readers not kept by a thread */
	struct store_conn *all;   /* every reader, under pool_lock */
	uint64_t id;              /* unique in the process: tells a thread's reader apart */

	/* The writer: its connection, its queue and its thread. */
	struct store_conn *wconn;
	pthread_t writer;
	bool writer_started;
	pthread_mutex_t queue_lock;
	pthread_cond_t queue_cond;
	struct store_op *queue_head;
	struct store_op *queue_tail;
	bool stopping;

	struct store_stats stats; /* under queue_lock */

	/* The database's availability, for reconnecting (store_connect). */
	_Atomic uint64_t down_until_us; /* no new connection attempt before this (monotonic) */
	_Atomic uint64_t backoff_us;
	_Atomic bool down;

	/* Last-use writes claimed recently, by token (see store_touch_claim). */
	pthread_mutex_t touch_lock;
	struct touch_slot touch[STORE_TOUCH_SLOTS];
};

/*
 * A new connection, or NULL while the database is unavailable (then at
 * most one attempt is made per backoff period, 100 ms doubling to 2 s, and
 * the outage is logged once).
 */
struct store_conn *store_connect(struct store *s, bool writer);

/*
 * A read connection of the caller's own, outside the pool (the hook claims'
 * of store_hooks.h), counted in db_pool_size as a reader is (an idle reader
 * is closed to make room), and never the readers' last one; NULL when there
 * is no room (db_pool_size 3 has none) or the database cannot be reached.
 * Close it with store_disconnect_own.
 */
struct store_conn *store_connect_own(struct store *s);
void store_disconnect_own(struct store *s, struct store_conn *c);

/* The writer thread's body (store_writer.c); arg is the store. */
void *store_writer_main(void *arg);

/* ---- helpers of the shared code (store_stmt.c) ---- */

/*
 * Step st (bound by the caller) for at most one row whose column 0 is an id:
 * STORE_OK and *id set on a row, missing when there is none, the failure's
 * status on an error.  Resets st.
 */
enum store_status store_step_id(struct db_stmt *st, enum store_status missing, int64_t *id);

/* Step a statement expected to return no row or to be done; returns a status.  Resets st. */
enum store_status store_step_done(struct db_stmt *st);

/* Copy of a text column, or NULL for SQL NULL.  *oom is set when allocation fails. */
char *store_column_dup(struct db_stmt *st, int col, bool *oom);

/* Copy a text column of at most cap-1 bytes into buf (UUIDs); empty for NULL. */
void store_column_copy(struct db_stmt *st, int col, char *buf, size_t cap);

/* Run a transaction statement on c, forgetting c->chain when it ends or rolls back. */
enum store_status store_txn(struct store_conn *c, enum db_txn what);

/*
 * Start and end a read transaction, so that several statements see one
 * snapshot.  Inside a read scope's transaction, begin does nothing (the
 * scope's snapshot is the one) and end is left to the scope.
 */
enum store_status store_read_begin(struct store_conn *c);
void store_read_end(struct store_conn *c);

/*
 * Claim the right to write public_id's last use now: true unless a write for
 * the same token was claimed less than STORE_TOUCH_INTERVAL_US ago.  A small
 * fixed table (tokens hashing to one slot displace each other, which costs at
 * most an extra write), so memory stays bounded whatever the number of tokens.
 */
bool store_touch_claim(struct store *s, const char *public_id, int64_t now_us);

/*
 * The oldest delivered_seq of org_id's active hooks (store_hooks_dispatch.c), on c:
 * retention keeps every event after it.  *any false when there is none.
 */
enum store_status store_hooks_hold(struct store_conn *c, int64_t org_id, int64_t *hold, bool *any);

/* Fill buf (37 bytes) with a new random lower-case UUID. */
void store_new_uuid(char buf[37]);

#endif
