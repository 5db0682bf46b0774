/*
 * store - tagd's SQLite database: opening, migrations, connections and the
 * single writer.  Only the store modules (store*.c) know SQL.
 *
 * Concurrency model:
 *  - Reads run on the calling thread with a connection borrowed from a pool;
 *    no connection is ever used by two threads at once.
 *  - Writes are store operations (struct store_op) queued to one writer thread.
 *    The writer takes every queued operation (up to a batch limit), runs them
 *    in one BEGIN IMMEDIATE transaction, each inside its own SAVEPOINT, and
 *    commits once: group commit.  An operation that fails is rolled back to
 *    its savepoint without touching the others in its batch.  Only after the
 *    COMMIT has reached the disk (synchronous=FULL) is each operation's done
 *    callback called; if the COMMIT itself fails, every operation of the
 *    batch fails and nothing of it remains.
 *  - With one writer there is no SQLITE_BUSY between writers; readers never
 *    block it in WAL mode.
 */
#ifndef TAGD_STORE_H
#define TAGD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_conn;

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
	STORE_ERROR, /* any other SQLite failure */
};

/* A short English phrase for a status, for logs and CLI messages. */
const char *store_status_str(enum store_status st);

struct store_options {
	unsigned max_batch; /* operations per group commit; 1 turns batching off; 0: default */
	unsigned busy_timeout_ms; /* 0: default (5000) */
	bool synchronous_normal;  /* synchronous=NORMAL instead of FULL (not durable on power loss)
	                           */
};

/*
 * Open (creating if needed) the database at path, apply pending migrations in
 * one transaction and start the writer thread.  opts may be NULL.  On error,
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

/* Map a SQLite result code to a status. */
enum store_status store_status_from_sqlite(int rc);

#endif
