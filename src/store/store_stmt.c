/*
 * store_stmt.c - the small helpers every store module uses around
 * statements, on any backend.  See store_internal.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

#include "log.h"
#include "store_internal.h"

enum store_status store_step_done(struct db_stmt *st)
{
	enum db_rc rc = db_step(st);
	enum store_status ret = rc == DB_FAIL ? store_conn_error(st->conn) : STORE_OK;
	db_reset(st);
	return ret;
}

enum store_status store_step_id(struct db_stmt *st, enum store_status missing, int64_t *id)
{
	enum db_rc rc = db_step(st);
	enum store_status ret = missing;

	if (rc == DB_ROW) {
		*id = db_col_int(st, 0);
		ret = STORE_OK;
	} else if (rc == DB_FAIL) {
		ret = store_conn_error(st->conn);
	}
	db_reset(st);
	return ret;
}

char *store_column_dup(struct db_stmt *st, int col, bool *oom)
{
	const char *t = db_col_text(st, col);
	if (t == NULL)
		return NULL;
	char *copy = strdup(t);
	if (copy == NULL)
		*oom = true;
	return copy;
}

void store_column_copy(struct db_stmt *st, int col, char *buf, size_t cap)
{
	const char *t = db_col_text(st, col);
	buf[0] = '\0';
	if (t != NULL)
		snprintf(buf, cap, "%s", t);
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

enum store_status store_txn(struct store_conn *c, enum db_txn what)
{
	if (what != DB_SAVEPOINT && what != DB_RELEASE)
		memset(&c->chain, 0, sizeof(c->chain));
	return c->be->txn(c, what);
}

enum store_status store_read_begin(struct store_conn *c)
{
	/* Inside a read scope's transaction already: its snapshot is the one to read. */
	if (c->be->in_txn(c))
		return STORE_OK;
	return c->be->txn(c, DB_BEGIN_READ);
}

void store_read_end(struct store_conn *c)
{
	/* A read transaction has nothing to keep: COMMIT of a reader cannot lose data. */
	if (c->be->in_txn(c))
		c->be->txn(c, DB_COMMIT);
	/* A reader must never go back to the pool inside a transaction (a stale snapshot). */
	if (c->be->in_txn(c))
		c->be->txn(c, DB_ROLLBACK);
}
