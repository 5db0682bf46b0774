/*
 * store_hooks_dispatch.c - what the dispatcher asks of the store: the hooks
 * that are due, a hook with its secret, claims on hooks, the record of a
 * round, and the hold hooks put on retention.  See store_hooks.h.
 */
#include <stdlib.h>
#include <string.h>

#include "store_hooks.h"
#include "store_hooks_internal.h"
#include "store_internal.h"

static const char SQL_DUE[] =
        "SELECT h.id FROM hooks h WHERE h.state = 'active' AND h.next_attempt_at <= $1 "
        "AND EXISTS (SELECT 1 FROM events e WHERE e.org_id = h.org_id "
        "AND e.seq > h.delivered_seq) ORDER BY h.next_attempt_at, h.id LIMIT $2";
static const char SQL_LOAD[] = "SELECT " STORE_HOOK_COLS_SECRET "FROM hooks WHERE id = $1";
static const char SQL_HOLD[] =
        "SELECT min(delivered_seq) FROM hooks WHERE org_id = $1 AND state = 'active'";

enum store_status store_hooks_due(struct store *s, int64_t now, int64_t *ids, size_t max, size_t *n)
{
	*n = 0;
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = STORE_OK;
	struct db_stmt *st = store_stmt(c, SQL_DUE);
	if (st == NULL) {
		ret = store_conn_error(c);
	} else {
		db_bind_int(st, 1, now);
		db_bind_int(st, 2, (int64_t)max);
		int rc = DB_DONE;
		while (*n < max && (rc = db_step(st)) == DB_ROW)
			ids[(*n)++] = db_col_int(st, 0);
		if (*n < max && rc != DB_DONE)
			ret = store_conn_error(c);
		db_reset(st);
	}
	store_reader_release(s, c);
	return ret;
}

enum store_status store_hook_load(struct store *s, int64_t hook_id, struct store_hook *out)
{
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = STORE_NOT_FOUND;
	struct db_stmt *st = store_stmt(c, SQL_LOAD);
	if (st == NULL) {
		ret = store_conn_error(c);
	} else {
		db_bind_int(st, 1, hook_id);
		int rc = db_step(st);
		if (rc == DB_ROW)
			ret = store_hook_row(st, out, true);
		else if (rc != DB_DONE)
			ret = store_conn_error(c);
		db_reset(st);
	}
	store_reader_release(s, c);
	return ret;
}

enum store_status store_hooks_hold(struct store_conn *c, int64_t org_id, int64_t *hold, bool *any)
{
	struct db_stmt *st = store_stmt(c, SQL_HOLD);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	int rc = db_step(st);
	*any = rc == DB_ROW && !db_col_null(st, 0);
	*hold = *any ? db_col_int(st, 0) : 0;
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? STORE_OK : store_conn_error(c);
}

/* ---- claims ---- */

struct store_hook_claims {
	struct store *store;
	struct store_conn *conn; /* of its own (one of db_pool_size): its claims end with it */
};

struct store_hook_claims *store_hook_claims_open(struct store *s)
{
	struct store_hook_claims *cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return NULL;
	cl->store = s;
	cl->conn = store_connect_own(s);
	if (cl->conn == NULL) {
		free(cl);
		return NULL;
	}
	return cl;
}

void store_hook_claims_close(struct store_hook_claims **cp)
{
	struct store_hook_claims *cl = *cp;
	if (cl == NULL)
		return;
	store_disconnect_own(cl->store, cl->conn);
	free(cl);
	*cp = NULL;
}

enum store_status store_hook_claim(struct store_hook_claims *cl, int64_t hook_id, bool *got)
{
	*got = false;
	if (!cl->conn->be->healthy(cl->conn))
		return STORE_UNAVAILABLE;
	return cl->conn->be->hook_claim(cl->conn, hook_id, got);
}

void store_hook_unclaim(struct store_hook_claims *cl, int64_t hook_id)
{
	cl->conn->be->hook_unclaim(cl->conn, hook_id);
}

/* ---- the record of a round ---- */

static const char SQL_ADVANCE[] = "UPDATE hooks SET delivered_seq = $2 WHERE id = $1 "
                                  "AND epoch = $3 AND state = 'active'";
static const char SQL_RECORD[] =
        "UPDATE hooks SET delivered_seq = $2, failures = $3, next_attempt_at = $4, state = $5, "
        "disabled_reason = $6, last_attempt_at = $7, last_status = $8, last_error = $9 "
        "WHERE id = $1 AND epoch = $10 AND state = 'active'";
static const char SQL_LOG[] =
        "INSERT INTO hook_deliveries(hook_id, seq, event_id, attempts, state, status, error, "
        "first_at, last_at) VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $7) "
        "ON CONFLICT (hook_id, seq) DO UPDATE SET attempts = hook_deliveries.attempts + 1, "
        "state = excluded.state, status = excluded.status, error = excluded.error, "
        "last_at = excluded.last_at";
static const char SQL_LOG_TRIM[] =
        "DELETE FROM hook_deliveries WHERE hook_id = $1 AND seq <= (SELECT seq FROM "
        "hook_deliveries WHERE hook_id = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)";

/* Bind an HTTP status, NULL for none. */
static void bind_status(struct db_stmt *st, int idx, int status)
{
	if (status > 0)
		db_bind_int(st, idx, status);
	else
		db_bind_text(st, idx, NULL);
}

static enum store_status log_attempt(struct store_conn *c, int64_t hook_id,
                                     const struct store_hook_attempt *a)
{
	struct db_stmt *st = store_stmt(c, SQL_LOG);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, hook_id);
	db_bind_int(st, 2, a->seq);
	db_bind_text(st, 3, a->event_id);
	db_bind_text(st, 4, a->delivered ? "delivered" : "pending");
	bind_status(st, 5, a->status);
	db_bind_text(st, 6, a->delivered ? NULL : a->error);
	db_bind_int(st, 7, a->at);
	return store_step_done(st);
}

static enum store_status record_run(struct store_conn *c, struct store_op *op)
{
	struct store_hook_record_op *o = (struct store_hook_record_op *)op;
	struct db_stmt *st = store_stmt(c, o->n > 0 ? SQL_RECORD : SQL_ADVANCE);
	if (st == NULL)
		return store_conn_error(c);
	o->stale = false;
	db_bind_int(st, 1, o->hook_id);
	db_bind_int(st, 2, o->delivered_seq);
	if (o->n == 0) {
		db_bind_int(st, 3, o->epoch);
	} else {
		const struct store_hook_attempt *last = &o->attempts[o->n - 1];
		db_bind_int(st, 3, o->failures);
		db_bind_int(st, 4, o->next_attempt_at);
		db_bind_text(st, 5, o->disable_reason != NULL ? "disabled" : "active");
		db_bind_text(st, 6, o->disable_reason);
		db_bind_int(st, 7, last->at);
		bind_status(st, 8, last->status);
		db_bind_text(st, 9, last->delivered ? NULL : last->error);
		db_bind_int(st, 10, o->epoch);
	}
	enum store_status ret = store_step_done(st);
	if (ret != STORE_OK)
		return ret;
	if (db_changes(c) == 0) {
		o->stale = true;
		return STORE_OK;
	}
	for (size_t i = 0; ret == STORE_OK && i < o->n; i++)
		ret = log_attempt(c, o->hook_id, &o->attempts[i]);
	if (ret != STORE_OK || o->n == 0)
		return ret;
	st = store_stmt(c, SQL_LOG_TRIM);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, o->hook_id);
	db_bind_int(st, 2, HOOK_LOG_KEEP);
	return store_step_done(st);
}

void store_hook_record_op_init(struct store_hook_record_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = record_run;
}
