/*
 * store_hooks.c - hooks as the API and the CLI manage them: list, get,
 * create, delete, enable, redeliver, and the delivery log.  What the
 * dispatcher needs is in store_hooks_dispatch.c.  See store_hooks.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store_hooks.h"
#include "store_hooks_internal.h"
#include "store_internal.h"
#include "store_ss_internal.h"
#include "store_tag.h"

void store_hook_release(struct store_hook *h)
{
	free(h->scope_name);
	free(h->url);
	if (h->secret != NULL)
		explicit_bzero(h->secret, strlen(h->secret));
	free(h->secret);
	free(h->disabled_reason);
	free(h->last_error);
	memset(h, 0, sizeof(*h));
}

void store_hook_list_free(struct store_hook **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_hook_release(&(*list)[i]);
	free(*list);
	*list = NULL;
}

void store_hook_delivery_list_free(struct store_hook_delivery **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*list)[i].error);
	free(*list);
	*list = NULL;
}

/* ---- rows ---- */

enum store_status store_hook_row(struct db_stmt *st, struct store_hook *h, bool with_secret)
{
	bool oom = false;
	memset(h, 0, sizeof(*h));
	h->id = db_col_int(st, 0);
	store_column_copy(st, 1, h->uuid, sizeof(h->uuid));
	h->org_id = db_col_int(st, 2);
	bool known = hook_dialect_parse(db_col_text(st, 3), &h->dialect) &&
	             hook_scope_parse(db_col_text(st, 4), &h->scope);
	h->scope_name = store_column_dup(st, 5, &oom);
	h->project_id = db_col_int(st, 6);
	h->url = store_column_dup(st, 7, &oom);
	h->created_at = db_col_int(st, 8);
	h->delivered_seq = db_col_int(st, 9);
	const char *state = db_col_text(st, 10);
	h->disabled = state != NULL && strcmp(state, "disabled") == 0;
	h->disabled_reason = store_column_dup(st, 11, &oom);
	h->failures = db_col_int(st, 12);
	h->next_attempt_at = db_col_int(st, 13);
	h->last_attempt_at = db_col_int(st, 14);
	h->last_status = (int)db_col_int(st, 15);
	h->last_error = store_column_dup(st, 16, &oom);
	h->epoch = db_col_int(st, 17);
	if (with_secret)
		h->secret = store_column_dup(st, 18, &oom);
	if (oom || h->scope_name == NULL || h->url == NULL || (with_secret && h->secret == NULL)) {
		bool missing = !oom;
		store_hook_release(h);
		return missing ? STORE_CORRUPT : STORE_NOMEM;
	}
	if (!known) {
		store_hook_release(h);
		return STORE_CORRUPT;
	}
	return STORE_OK;
}

/* ---- what a selection means ---- */

static const char SQL_REPO_EXISTS[] = "SELECT id FROM repos WHERE org_id = $1 AND name = $2";

enum store_status store_hook_scope_resolve(struct store_conn *c,
                                           const struct store_hook_select *sel,
                                           struct store_hook_scope *out)
{
	memset(out, 0, sizeof(*out));
	switch (sel->kind) {
	case STORE_HOOKS_ALL:
	case STORE_HOOKS_ORGANIZATION:
		out->scope = HOOK_SCOPE_ORGANIZATION;
		return STORE_OK;
	case STORE_HOOKS_REPOSITORY: {
		int64_t id;
		if (sel->repo_name == NULL || (size_t)snprintf(out->name, sizeof(out->name), "%s",
		                                               sel->repo_name) >= sizeof(out->name))
			return STORE_REPO_NOT_FOUND;
		struct db_stmt *st = store_stmt(c, SQL_REPO_EXISTS);
		if (st == NULL)
			return store_conn_error(c);
		db_bind_int(st, 1, sel->org_id);
		db_bind_text(st, 2, sel->repo_name);
		out->scope = HOOK_SCOPE_REPOSITORY;
		return store_step_id(st, STORE_REPO_NOT_FOUND, &id);
	}
	case STORE_HOOKS_PROJECT: {
		struct ss_scope sc;
		enum store_status ret = ss_scope_resolve(c, sel->where, true, &sc);
		if (ret != STORE_OK)
			return ret;
		if ((size_t)snprintf(out->name, sizeof(out->name), "%s/%s", sc.ns_name,
		                     sc.project_name) >= sizeof(out->name))
			return STORE_INVALID;
		out->scope = HOOK_SCOPE_SERVICESTAGE;
		out->project_id = sc.project_id;
		return STORE_OK;
	}
	}
	return STORE_INVALID;
}

/* Whether h is one of the hooks sel (resolved into sc) means, for get and delete. */
static bool selected(const struct store_hook_select *sel, const struct store_hook_scope *sc,
                     const struct store_hook *h)
{
	if (sel->kind == STORE_HOOKS_ALL)
		return true;
	if (h->dialect != sel->dialect)
		return false;
	if (sel->kind == STORE_HOOKS_ORGANIZATION)
		return true; /* by id, any hook of the dialect */
	return h->scope == sc->scope && strcmp(h->scope_name, sc->name) == 0;
}

/* ---- reads ---- */

static const char SQL_LIST_ALL[] =
        "SELECT " STORE_HOOK_COLS "FROM hooks WHERE org_id = $1 ORDER BY id";
static const char SQL_LIST_SCOPE[] =
        "SELECT " STORE_HOOK_COLS "FROM hooks WHERE org_id = $1 AND dialect = $2 AND "
        "scope_kind = $3 AND scope = $4 ORDER BY id";
static const char SQL_GET_ID[] =
        "SELECT " STORE_HOOK_COLS "FROM hooks WHERE org_id = $1 AND id = $2";
static const char SQL_GET_UUID[] =
        "SELECT " STORE_HOOK_COLS "FROM hooks WHERE org_id = $1 AND uuid = $2";

enum store_status store_hooks_list(struct store *s, const struct store_hook_select *sel,
                                   struct store_hook **out, size_t *n)
{
	struct store_hook_scope sc;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = store_read_begin(c);
	if (ret == STORE_OK)
		ret = store_hook_scope_resolve(c, sel, &sc);
	struct db_stmt *st = NULL;
	if (ret == STORE_OK) {
		st = store_stmt(c, sel->kind == STORE_HOOKS_ALL ? SQL_LIST_ALL : SQL_LIST_SCOPE);
		if (st == NULL)
			ret = store_conn_error(c);
	}
	if (ret == STORE_OK) {
		db_bind_int(st, 1, sel->org_id);
		if (sel->kind != STORE_HOOKS_ALL) {
			db_bind_text(st, 2, hook_dialect_name(sel->dialect));
			db_bind_text(st, 3, hook_scope_name(sc.scope));
			db_bind_text(st, 4, sc.name);
		}
		int rc = DB_DONE;
		while (ret == STORE_OK && (rc = db_step(st)) == DB_ROW) {
			if (*n == cap) {
				size_t ncap = cap ? 2 * cap : 8;
				struct store_hook *grown = realloc(*out, ncap * sizeof(**out));
				if (grown == NULL) {
					ret = STORE_NOMEM;
					break;
				}
				*out = grown;
				cap = ncap;
			}
			ret = store_hook_row(st, &(*out)[*n], false);
			if (ret == STORE_OK)
				(*n)++;
		}
		if (ret == STORE_OK && rc != DB_DONE)
			ret = store_conn_error(c);
		db_reset(st);
	}
	store_reader_release(s, c);
	if (ret != STORE_OK)
		store_hook_list_free(out, *n);
	if (ret != STORE_OK)
		*n = 0;
	return ret;
}

/* A hook id as the dialects show it: all digits (ServiceStage) or a UUID (Vers). */
static bool id_is_number(const char *id, int64_t *num)
{
	size_t len = strlen(id);
	if (len == 0 || len > 18 || strspn(id, "0123456789") != len)
		return false;
	*num = strtoll(id, NULL, 10);
	return true;
}

/* Find id among sel's hooks on c (a reader in a transaction, or the writer). */
static enum store_status hook_find(struct store_conn *c, const struct store_hook_select *sel,
                                   const char *id, struct store_hook *out)
{
	struct store_hook_scope sc;
	int64_t num = 0;
	enum store_status ret = store_hook_scope_resolve(c, sel, &sc);
	if (ret != STORE_OK)
		return ret;
	bool by_num = id_is_number(id, &num);
	struct db_stmt *st = store_stmt(c, by_num ? SQL_GET_ID : SQL_GET_UUID);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, sel->org_id);
	if (by_num)
		db_bind_int(st, 2, num);
	else
		db_bind_text(st, 2, id);
	int rc = db_step(st);
	ret = STORE_NOT_FOUND;
	if (rc == DB_ROW)
		ret = store_hook_row(st, out, false);
	else if (rc != DB_DONE)
		ret = store_conn_error(c);
	db_reset(st);
	if (ret == STORE_OK && sel->kind != STORE_HOOKS_ALL) {
		/* Each dialect names its hooks its own way: Vers by UUID, ServiceStage by number.
		 */
		bool form = by_num == (sel->dialect == HOOK_SERVICESTAGE);
		if (!form || !selected(sel, &sc, out)) {
			store_hook_release(out);
			ret = STORE_NOT_FOUND;
		}
	}
	return ret;
}

enum store_status store_hook_get(struct store *s, const struct store_hook_select *sel,
                                 const char *id, struct store_hook *out)
{
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = store_read_begin(c);
	if (ret == STORE_OK)
		ret = hook_find(c, sel, id, out);
	store_reader_release(s, c);
	return ret;
}

static const char SQL_DELIVERIES[] =
        "SELECT seq, event_id, attempts, state, status, error, first_at, last_at "
        "FROM hook_deliveries WHERE hook_id = $1 ORDER BY seq DESC LIMIT $2";

enum store_status store_hook_deliveries(struct store *s, int64_t hook_id,
                                        struct store_hook_delivery **out, size_t *n)
{
	*n = 0;
	*out = calloc(HOOK_LOG_KEEP, sizeof(**out));
	if (*out == NULL)
		return STORE_NOMEM;
	struct store_conn *c = store_reader(s);
	if (c == NULL) {
		free(*out);
		*out = NULL;
		return STORE_UNAVAILABLE;
	}
	enum store_status ret = STORE_OK;
	struct db_stmt *st = store_stmt(c, SQL_DELIVERIES);
	if (st == NULL)
		ret = store_conn_error(c);
	if (ret == STORE_OK) {
		db_bind_int(st, 1, hook_id);
		db_bind_int(st, 2, HOOK_LOG_KEEP);
		int rc = DB_DONE;
		bool oom = false;
		while (*n < HOOK_LOG_KEEP && (rc = db_step(st)) == DB_ROW) {
			struct store_hook_delivery *d = &(*out)[*n];
			d->seq = db_col_int(st, 0);
			store_column_copy(st, 1, d->event_id, sizeof(d->event_id));
			d->attempts = db_col_int(st, 2);
			const char *state = db_col_text(st, 3);
			d->delivered = state != NULL && strcmp(state, "delivered") == 0;
			d->status = (int)db_col_int(st, 4);
			d->error = store_column_dup(st, 5, &oom);
			d->first_at = db_col_int(st, 6);
			d->last_at = db_col_int(st, 7);
			(*n)++;
		}
		if (oom)
			ret = STORE_NOMEM;
		else if (*n < HOOK_LOG_KEEP && rc != DB_DONE)
			ret = store_conn_error(c);
		db_reset(st);
	}
	store_reader_release(s, c);
	if (ret != STORE_OK) {
		store_hook_delivery_list_free(out, *n);
		*n = 0;
	}
	return ret;
}

/* ---- writes ---- */

static const char SQL_COUNT[] = "SELECT count(*) FROM hooks WHERE org_id = $1";
static const char SQL_HEAD[] = "SELECT coalesce((SELECT max(seq) FROM events WHERE org_id = $1), "
                               "(SELECT seq FROM event_floors WHERE org_id = $1), 0)";
static const char SQL_INSERT[] =
        "INSERT INTO hooks(uuid, org_id, dialect, scope_kind, scope, project_id, url, secret, "
        "created_at, delivered_seq, state, failures, next_attempt_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', 0, 0) RETURNING id";

/* One integer of sql bound to org_id. */
static enum store_status org_int(struct store_conn *c, const char *sql, int64_t org_id, int64_t *v)
{
	struct db_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	return store_step_id(st, STORE_ERROR, v);
}

static enum store_status create_run(struct store_conn *c, struct store_op *op)
{
	struct store_hook_create_op *o = (struct store_hook_create_op *)op;
	struct store_hook_scope sc;
	int64_t count = 0, head = 0;

	/* Under the chain lock the head read here is the last event the hook will not hear. */
	enum store_status ret = store_tag_lock(c, o->sel.org_id);
	if (ret == STORE_OK)
		ret = store_hook_scope_resolve(c, &o->sel, &sc);
	if (ret == STORE_OK)
		ret = org_int(c, SQL_COUNT, o->sel.org_id, &count);
	if (ret == STORE_OK && count >= HOOK_MAX_PER_ORG)
		ret = STORE_INVALID;
	if (ret == STORE_OK)
		ret = org_int(c, SQL_HEAD, o->sel.org_id, &head);
	if (ret != STORE_OK)
		return ret;
	struct db_stmt *st = store_stmt(c, SQL_INSERT);
	if (st == NULL)
		return store_conn_error(c);
	store_new_uuid(o->uuid);
	o->created_at = clock_now_us();
	db_bind_text(st, 1, o->uuid);
	db_bind_int(st, 2, o->sel.org_id);
	db_bind_text(st, 3, hook_dialect_name(o->sel.dialect));
	db_bind_text(st, 4, hook_scope_name(sc.scope));
	db_bind_text(st, 5, sc.name);
	if (sc.project_id > 0)
		db_bind_int(st, 6, sc.project_id);
	else
		db_bind_text(st, 6, NULL);
	db_bind_text(st, 7, o->url);
	db_bind_text(st, 8, o->secret);
	db_bind_int(st, 9, o->created_at);
	db_bind_int(st, 10, head);
	o->delivered_seq = head;
	return store_step_id(st, STORE_ERROR, &o->id);
}

void store_hook_create_op_init(struct store_hook_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = create_run;
}

static const char SQL_DELETE[] = "DELETE FROM hooks WHERE id = $1";

static enum store_status delete_run(struct store_conn *c, struct store_op *op)
{
	struct store_hook_delete_op *o = (struct store_hook_delete_op *)op;
	struct store_hook h;
	enum store_status ret = hook_find(c, &o->sel, o->id, &h);
	if (ret != STORE_OK)
		return ret;
	struct db_stmt *st = store_stmt(c, SQL_DELETE);
	int64_t id = h.id;
	store_hook_release(&h);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, id);
	return store_step_done(st);
}

void store_hook_delete_op_init(struct store_hook_delete_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = delete_run;
}

static const char SQL_ENABLE[] =
        "UPDATE hooks SET state = 'active', disabled_reason = NULL, failures = 0, "
        "next_attempt_at = $2, epoch = epoch + 1 WHERE id = $1";

static enum store_status enable_run(struct store_conn *c, struct store_op *op)
{
	struct store_hook_enable_op *o = (struct store_hook_enable_op *)op;
	struct store_hook_select sel = {.org_id = o->org_id, .kind = STORE_HOOKS_ALL};
	struct store_hook h;
	enum store_status ret = hook_find(c, &sel, o->id, &h);
	if (ret != STORE_OK)
		return ret;
	int64_t id = h.id;
	store_hook_release(&h);
	struct db_stmt *st = store_stmt(c, SQL_ENABLE);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, clock_now_us());
	return store_step_done(st);
}

void store_hook_enable_op_init(struct store_hook_enable_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = enable_run;
}

static const char SQL_REDELIVER[] =
        "UPDATE hooks SET next_attempt_at = $2, epoch = epoch + 1 WHERE id = $1";
static const char SQL_REWIND[] = "UPDATE hooks SET next_attempt_at = $2, delivered_seq = $3, "
                                 "epoch = epoch + 1 WHERE id = $1";

static enum store_status redeliver_run(struct store_conn *c, struct store_op *op)
{
	struct store_hook_redeliver_op *o = (struct store_hook_redeliver_op *)op;
	struct store_hook_select sel = {.org_id = o->org_id, .kind = STORE_HOOKS_ALL};
	struct store_hook h;
	int64_t head = 0;
	enum store_status ret = store_tag_lock(c, o->org_id);
	if (ret == STORE_OK)
		ret = hook_find(c, &sel, o->id, &h);
	if (ret != STORE_OK)
		return ret;
	int64_t id = h.id;
	bool disabled = h.disabled;
	store_hook_release(&h);
	if (disabled)
		return STORE_PRECONDITION;
	if (o->from_seq > 0) {
		ret = org_int(c, SQL_HEAD, o->org_id, &head);
		if (ret == STORE_OK && o->from_seq > head)
			ret = STORE_INVALID;
		if (ret != STORE_OK)
			return ret;
	}
	struct db_stmt *st = store_stmt(c, o->from_seq > 0 ? SQL_REWIND : SQL_REDELIVER);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, clock_now_us());
	if (o->from_seq > 0)
		db_bind_int(st, 3, o->from_seq - 1);
	return store_step_done(st);
}

void store_hook_redeliver_op_init(struct store_hook_redeliver_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = redeliver_run;
}
