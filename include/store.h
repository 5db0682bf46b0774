/*
 * store - tagd's database, on SQLite (a file: the default) or PostgreSQL (a
 * libpq URI): opening, migrations, connections and the writer.  Only the
 * store (src/store/) knows SQL and the engines.
 *
 * Concurrency model:
 *  - Reads run on the calling thread with a connection borrowed from a pool;
 *    no connection is ever used by two threads at once.  A read of more than
 *    one statement runs in one read transaction (one snapshot).  SQLite's
 *    readers are kept per thread; PostgreSQL's are at most db_pool_size - 2
 *    and a read waits at most db_timeout for one (then STORE_UNAVAILABLE).
 *  - Writes are store operations (struct store_op) queued to one writer thread
 *    with one connection.  The writer takes every queued operation (up to a
 *    batch limit) and runs them in one transaction, then commits once: group
 *    commit.  An operation that fails without writing (a name taken, a tag
 *    not found) costs the others nothing; one that fails after writing makes
 *    the batch run again with a SAVEPOINT per operation, so that it alone is
 *    rolled back.  Only after the COMMIT is durable (SQLite synchronous=FULL,
 *    PostgreSQL synchronous_commit=on) is each operation's done callback
 *    called; if the COMMIT itself fails, every operation of the batch fails
 *    and nothing of it remains.
 *  - SQLite: one writer, so no SQLITE_BUSY between writers; readers never
 *    block it in WAL mode.  PostgreSQL: the writers of several nodes meet in
 *    the database: every tag change takes its organization's chain lock
 *    first (store_tag.h), constraints decide uniqueness, and a deadlock or
 *    serialization failure (STORE_RETRY) makes the writer run the batch again.
 *    The database away: STORE_UNAVAILABLE, and the store reconnects by itself.
 */
#ifndef TAGD_STORE_H
#define TAGD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"

struct store;
struct store_conn;

#define STORE_UUID_LEN 36 /* lower-case hyphenated text */

enum store_status {
	STORE_OK = 0,
	STORE_NOT_FOUND, /* the main object of the operation does not exist */
	STORE_REPO_NOT_FOUND,
	STORE_TAG_NOT_FOUND,
	STORE_COMMIT_NOT_FOUND,
	STORE_ORG_NOT_FOUND,
	STORE_FORBIDDEN, /* exists, but belongs to another organization */
	STORE_CONFLICT,  /* a unique name or id is taken */
	STORE_INVALID,   /* the operation's input is not acceptable */
	STORE_FULL,      /* disk or database full */
	STORE_READONLY,  /* database or file system is read-only */
	STORE_CORRUPT,   /* database image is malformed */
	STORE_NOMEM,
	STORE_PRECONDITION, /* the object is not in the state the request expects (If-Match) */
	STORE_UNAVAILABLE,  /* the database cannot be reached now (PostgreSQL down, a timeout) */
	STORE_RETRY,        /* a conflict between concurrent transactions: run it again */
	STORE_ERROR,        /* any other database failure */
};

/* A short English phrase for a status, for logs and CLI messages. */
const char *store_status_str(enum store_status st);

struct store_options {
	unsigned max_batch; /* operations per group commit; 1 turns batching off; 0: default */
	unsigned busy_timeout_ms; /* 0: default (5000) */
	bool synchronous_normal;  /* SQLite: synchronous=NORMAL instead of FULL (not durable on
	                             power loss) */
	unsigned db_timeout_s;    /* PostgreSQL: connect and statement timeout; 0: default (5) */
	unsigned pool_size; /* PostgreSQL: connections at most (readers, writer, listener); 0: 8 */
	bool check_only;    /* change nothing: never migrate (store_schema_version tells how old the
	                       schema is; a newer one is still refused), SQLite read-only */
};

/*
 * Open (creating if needed) the database at path (a file, or a PostgreSQL
 * URI), apply pending migrations and start the writer thread.  opts may be NULL.  On error,
 * NULL is returned, nothing is left running and *err (if err is not NULL) is
 * set to a malloc'd one-line message the caller frees.
 */
struct store *store_open(const char *path, const struct store_options *opts, char **err);

/* Stop the writer after it has run every queued operation, close all connections, NULL *sp. */
void store_close(struct store **sp);

/* Schema version of the open database (the highest migration applied). */
int store_schema_version(struct store *s);

/* Highest migration this build knows. */
int store_known_version(void);

/* The version of the SQLite library in use (for build information). */
const char *store_sqlite_version(void);

/* Whether path is a PostgreSQL connection URI (postgresql:// or postgres://), not a file. */
bool store_path_is_uri(const char *path);

/* The backend of an open store ("sqlite", "postgresql") and its engine's version. */
const char *store_engine(struct store *s);
const char *store_engine_version(struct store *s);

/*
 * A write operation.  Embed it as the first member of a specific operation
 * struct; run() is called on the writer thread inside a transaction and must
 * leave its results in the enclosing struct.  done() is called on the writer
 * thread after the batch committed (status OK) or was rolled back.
 */
struct store_op {
	enum store_status (*run)(struct store_conn *conn, struct store_op *op);
	void (*done)(struct store_op *op);
	void *done_arg;
	enum store_status status;
	struct store_op *next; /* queue link; private to the store */
};

/*
 * Who asks for a change, for the history (see history.h).  Strings are
 * borrowed and must live until the operation is done.
 */
struct store_actor {
	enum history_dialect dialect;
	const char *token_id;    /* NULL: no token (tagd itself) */
	const char *token_label; /* NULL when the token has none */
	const char *request_id;  /* NULL when none */
};

/*
 * What a conditional change expects of the object it changes (RFC 9110
 * If-Match / If-None-Match), checked inside the change's transaction.  An
 * unmet expectation is STORE_PRECONDITION and changes nothing.  Revisions are
 * those the object's ETag shows.
 */
#define STORE_EXPECT_MAX 8

enum store_expect_kind {
	STORE_EXPECT_NOTHING, /* unconditional */
	STORE_EXPECT_ANY,     /* If-Match: * -- it exists */
	STORE_EXPECT_REVS,    /* If-Match: one of revs[0..n); n == 0 never matches */
	STORE_EXPECT_ABSENT,  /* If-None-Match: * -- it does not exist */
};

struct store_expect {
	enum store_expect_kind kind;
	size_t n;
	int64_t revs[STORE_EXPECT_MAX];
};

/* How a change treats an optional description. */
enum store_desc_change {
	STORE_DESC_KEEP,  /* unchanged */
	STORE_DESC_CLEAR, /* cleared (null) */
	STORE_DESC_SET,   /* set to the given string */
};

/* Queue op for the writer; op->done is called when it has completed.  Never fails. */
void store_submit(struct store *s, struct store_op *op);

/* Queue op and wait for it; returns op->status.  op->done must be NULL. */
enum store_status store_execute(struct store *s, struct store_op *op);

/* Number of write transactions committed and operations they carried (for metrics/tests). */
void store_write_stats(struct store *s, uint64_t *batches, uint64_t *ops);

/*
 * The writer's record, for metrics: write transactions (batches), the
 * operations they carried, how long each took from BEGIN to COMMIT and how
 * many operations it held.  Histogram counts are per bucket (not
 * cumulative); the last bucket is everything above the last bound.
 */
#define STORE_LATENCY_BUCKETS 12
#define STORE_BATCH_BUCKETS   9

struct store_stats {
	uint64_t batches;
	uint64_t ops;
	uint64_t failed_batches; /* BEGIN or COMMIT failed */
	uint64_t latency_sum_us;
	uint64_t latency[STORE_LATENCY_BUCKETS + 1];
	uint64_t batch_ops[STORE_BATCH_BUCKETS + 1];
};

extern const uint64_t store_latency_bounds_us[STORE_LATENCY_BUCKETS];
extern const unsigned store_batch_bounds[STORE_BATCH_BUCKETS];

/* A consistent copy of the writer's record. */
void store_stats_get(struct store *s, struct store_stats *out);

/* Borrow a read connection from the pool; NULL when out of memory or the database fails. */
struct store_conn *store_reader(struct store *s);

/* Return a connection taken with store_reader(). */
void store_reader_release(struct store *s, struct store_conn *c);

/*
 * One snapshot per request.  Between store_read_scope_begin and
 * store_read_scope_end, the reads this thread makes on s (the token check,
 * then the handler's reads) share one read transaction on one connection:
 * they see one snapshot, and pay for one transaction's locks instead of one
 * each.  A read made while the scope's connection is busy (a read inside
 * another read's callback) gets a connection and snapshot of its own, as
 * without a scope.  Scopes do not nest; writes are not affected.
 */
void store_read_scope_begin(struct store *s);
void store_read_scope_end(struct store *s);

#endif
