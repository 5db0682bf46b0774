/*
 * store_stmt.c - the statement cache and the small helpers every store
 * module uses around sqlite3_stmt.  See store_internal.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

#include "log.h"
#include "store_internal.h"

static size_t slot_of(const char *sql)
{
	uintptr_t p = (uintptr_t)sql;
	return (size_t)((p >> 3) ^ (p >> 11)) % STORE_STMT_SLOTS;
}

sqlite3_stmt *store_stmt(struct store_conn *c, const char *sql)
{
	size_t i = slot_of(sql);

	for (size_t probes = 0; probes < STORE_STMT_SLOTS; probes++) {
		if (c->stmt_sql[i] == sql) {
			sqlite3_stmt *st = c->stmt[i];
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
		if (c->stmt_sql[i] == NULL) {
			sqlite3_stmt *st = NULL;
			int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
			                            NULL);
			if (rc != SQLITE_OK) {
				log_msg(LOG_ERROR, "prepare failed", "error=\"%s\"",
				        sqlite3_errmsg(c->db));
				return NULL;
			}
			c->stmt_sql[i] = sql;
			c->stmt[i] = st;
			return st;
		}
		i = (i + 1) % STORE_STMT_SLOTS;
	}
	log_msg(LOG_ERROR, "statement cache full", NULL);
	return NULL;
}

enum store_status store_step_done(sqlite3_stmt *st)
{
	errno = 0; /* what is left after the step is its own */
	int rc = sqlite3_step(st);
	int sys = errno;
	enum store_status ret = STORE_OK;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = store_status_of_db(sqlite3_db_handle(st), sys);
	sqlite3_reset(st);
	return ret;
}

enum store_status store_conn_error(struct store_conn *c)
{
	return store_status_from_sqlite(sqlite3_extended_errcode(c->db));
}

enum store_status store_step_id(sqlite3_stmt *st, enum store_status missing, int64_t *id)
{
	int rc = sqlite3_step(st);
	enum store_status ret = missing;

	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		ret = STORE_OK;
	} else if (rc != SQLITE_DONE) {
		ret = store_status_from_sqlite(sqlite3_extended_errcode(sqlite3_db_handle(st)));
	}
	sqlite3_reset(st);
	return ret;
}

int store_bind_text(sqlite3_stmt *st, int idx, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
}

char *store_column_dup(sqlite3_stmt *st, int col, bool *oom)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	if (t == NULL)
		return NULL;
	char *copy = strdup((const char *)t);
	if (copy == NULL)
		*oom = true;
	return copy;
}

void store_column_copy(sqlite3_stmt *st, int col, char *buf, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	buf[0] = '\0';
	if (t != NULL)
		snprintf(buf, cap, "%s", (const char *)t);
}

/*
 * Random (version 4) UUIDs from kernel randomness, drawn 4 KiB at a time:
 * libuuid's uuid_generate_random() makes a getrandom call and reseeds
 * random() for every id (1.5-2% of a create's CPU in a profile).
 */
void store_new_uuid(char buf[37])
{
	static _Thread_local uint8_t pool[4096];
	static _Thread_local size_t used = sizeof(pool);
	uuid_t u;

	if (used + sizeof(u) > sizeof(pool)) {
		size_t got = 0;
		while (got < sizeof(pool)) {
			ssize_t n = getrandom(pool + got, sizeof(pool) - got, 0);
			if (n <= 0) {
				/* No kernel randomness (cannot happen after boot): libuuid's way.
				 */
				uuid_generate_random(u);
				uuid_unparse_lower(u, buf);
				return;
			}
			got += (size_t)n;
		}
		used = 0;
	}
	memcpy(u, pool + used, sizeof(u));
	explicit_bzero(pool + used, sizeof(u));
	used += sizeof(u);
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	uuid_unparse_lower(u, buf);
}

static const char SQL_BEGIN[] = "BEGIN";
static const char SQL_COMMIT[] = "COMMIT";

enum store_status store_exec_cached(struct store_conn *c, const char *sql)
{
	sqlite3_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		return store_conn_error(c);
	return store_step_done(st);
}

static const char SQL_ROLLBACK[] = "ROLLBACK";

enum store_status store_read_begin(struct store_conn *c)
{
	/* Inside a read scope's transaction already: its snapshot is the one to read. */
	if (!sqlite3_get_autocommit(c->db))
		return STORE_OK;
	return store_exec_cached(c, SQL_BEGIN);
}

void store_read_end(struct store_conn *c)
{
	/* A read transaction has nothing to keep: COMMIT of a reader cannot lose data. */
	if (!sqlite3_get_autocommit(c->db))
		store_exec_cached(c, SQL_COMMIT);
	/* A reader must never go back to the pool inside a transaction (a stale snapshot). */
	if (!sqlite3_get_autocommit(c->db))
		store_exec_cached(c, SQL_ROLLBACK);
}
