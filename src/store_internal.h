/*
 * Private to the store modules: connections, the statement cache and small
 * helpers around sqlite3_stmt.  Nothing outside src/store*.c includes this.
 */
#ifndef TAGD_STORE_INTERNAL_H
#define TAGD_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define STORE_STMT_SLOTS 128

#define STORE_TOUCH_SLOTS       1024
#define STORE_TOUCH_ID_LEN      32
#define STORE_TOUCH_INTERVAL_US (60LL * 1000000)

struct store_conn {
	sqlite3 *db;
	/* Prepared statements keyed by the address of their (static) SQL text. */
	const char *stmt_sql[STORE_STMT_SLOTS];
	sqlite3_stmt *stmt[STORE_STMT_SLOTS];
	struct store_conn *next_free; /* in the store's pool of idle readers */
	struct store_conn *next_all;  /* every reader the store opened, to close them */
	bool in_use;
};

/* A token whose last use was written recently. */
struct touch_slot {
	char public_id[STORE_TOUCH_ID_LEN + 1];
	int64_t at;
};

struct store {
	char *path;
	struct store_options opts;
	int schema_version;

	/* Readers: a free list of idle connections. */
	pthread_mutex_t pool_lock;
	struct store_conn *pool; /* idle readers not kept by a thread */
	struct store_conn *all;  /* every reader, under pool_lock */
	uint64_t id;             /* unique in the process: tells a thread's reader apart */

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

	/* Last-use writes claimed recently, by token (see store_touch_claim). */
	pthread_mutex_t touch_lock;
	struct touch_slot touch[STORE_TOUCH_SLOTS];
};

/* The status of db's last failure, sys the errno its statement left (see store.c). */
enum store_status store_status_of_db(sqlite3 *db, int sys);

/* Run a cached statement that returns no rows (BEGIN, COMMIT, SAVEPOINT...). */
enum store_status store_exec_cached(struct store_conn *c, const char *sql);

/* The writer thread's body (store_writer.c); arg is the store. */
void *store_writer_main(void *arg);

/*
 * The prepared statement for sql (a static string: its address is the key),
 * reset and with bindings cleared, ready to bind.  NULL when preparing fails;
 * the reason is in sqlite3_errmsg(c->db).
 */
sqlite3_stmt *store_stmt(struct store_conn *c, const char *sql);

/* The status of the last failure on connection c. */
enum store_status store_conn_error(struct store_conn *c);

/*
 * Step st (bound by the caller) for at most one row whose column 0 is an id:
 * STORE_OK and *id set on a row, missing when there is none, the failure's
 * status on an error.  Resets st.
 */
enum store_status store_step_id(sqlite3_stmt *st, enum store_status missing, int64_t *id);

/* Step a statement expected to return no row or to be done; returns a status. */
enum store_status store_step_done(sqlite3_stmt *st);

/* Bind text, or NULL when v is NULL.  Returns the SQLite result code. */
int store_bind_text(sqlite3_stmt *st, int idx, const char *v);

/* Copy of a text column, or NULL for SQL NULL.  *oom is set when allocation fails. */
char *store_column_dup(sqlite3_stmt *st, int col, bool *oom);

/* Copy a text column of at most cap-1 bytes into buf (UUIDs); empty for NULL. */
void store_column_copy(sqlite3_stmt *st, int col, char *buf, size_t cap);

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

/* Fill buf (37 bytes) with a new random lower-case UUID. */
void store_new_uuid(char buf[37]);

#endif
