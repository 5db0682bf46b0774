/*
 * Private to the PostgreSQL backend (src/store/pg/): what its files share.
 */
#ifndef TAGD_STORE_PG_H
#define TAGD_STORE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "store_admin.h"
#include "store_internal.h"

#define MAX_PARAMS 32

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
	int64_t total_changes;
	char sqlstate[6];
	char err[256];
	bool failed_conn; /* the last failure was the connection, not the statement */
	bool broken;      /* no answer came in time: shut down, never used again */
	unsigned wait_ms; /* how long an answer may take (0: no limit, migrations) */
	const char *stmt_sql[STORE_STMT_SLOTS];
	struct pg_stmt *stmt[STORE_STMT_SLOTS];
};

static inline struct pg_conn *conn_of(struct store_conn *c)
{
	return (struct pg_conn *)c;
}

static inline struct pg_stmt *stmt_of(struct db_stmt *st)
{
	return (struct pg_stmt *)st;
}

/* The libpq handle of a connection of this backend. */
PGconn *pg_handle(struct store_conn *c);

/* The status of an error with sqlstate ("" when none); conn_bad: the connection failed. */
enum store_status pg_status_of(const char *sqlstate, bool conn_bad);

/*
 * The answer to the statement just sent (PQsend...) on pg: the first result
 * that failed, else the last; NULL when the connection failed, or when none
 * came within timeout_ms (0: no limit), *timed_out then set and the
 * connection shut down (pg_io.c).
 */
PGresult *pg_await(PGconn *pg, unsigned timeout_ms, bool *timed_out);

/* Remember the failure of res (or of the connection when res is NULL) on c (pg.c). */
void pg_note_failure(struct pg_conn *c, const PGresult *res);
/* Run a statement without parameters or result rows on c (pg.c). */
enum store_status pg_exec(struct pg_conn *c, const char *sql);
/* The status of c's last failure (pg.c). */
enum store_status pg_status(struct store_conn *c);

/* Connections, their health, opening and migrating, closing (pg_open.c). */
struct store_conn *pg_open_connection(struct store *s, bool writer, char **err);
void pg_disconnect(struct store_conn *c);
bool pg_healthy(struct store_conn *c);
bool pg_open_store(struct store *s, char **err);
void pg_closing(struct store *s);

/* A new connection to s's database with tagd's parameters; NULL and *err when it fails. */
PGconn *pg_connect(struct store *s, char **err);

/*
 * The token epoch as the listening connection holds it (pg_listen.c): true
 * and *epoch while it was read less than a second ago; false (read it) when
 * not.  init at open (check_only stores have none), stop at close.
 */
bool pg_listen_init(struct store *s);
bool pg_epoch_now(struct store *s, int64_t *epoch);
void pg_listen_stop(struct store *s);

/* A copy of a connection URI with its password replaced by "***" (malloc'd; NULL: no memory). */
char *pg_redact(const char *uri);

/* store_backup and store_check of a PostgreSQL database (pg_admin.c). */
bool pg_backup(const char *uri, const char *out_path, char **err);
long pg_check(const char *uri, store_check_report_fn report, void *arg, char **err);

#endif
