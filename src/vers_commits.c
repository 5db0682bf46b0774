/*
 * vers_commits.c - Vers commits: register (a tagd extension), list, list
 * public, update, soft delete.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "store_vers.h"
#include "vers_handlers.h"
#include "vers_reply.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX     100

/* ---- POST /api/v1/commits (tagd extension) ---- */

static void commit_create_finish(struct call *c, struct store_op *op)
{
	struct vers_commit_create_op *o = &vers_deferred_of(c)->u.commit_create;

	if (op->status == STORE_OK) {
		vers_json(c, 201, vers_commit_json(&o->out));
		vers_commit_release(&o->out);
	} else if (op->status == STORE_CONFLICT) {
		vers_error(c, 409, "commit already exists");
	} else {
		vers_store_error(c, op->status);
	}
	vers_deferred_end(c);
}

void vers_commit_create(struct call *c)
{
	struct body_field f[] = {
	        {.name = "commit_id", .kind = BODY_UUID, .nullable = true},
	        {.name = "name", .kind = BODY_STRING, .nullable = true},
	        {.name = "description", .kind = BODY_STRING, .nullable = true},
	        {.name = "is_public", .kind = BODY_BOOL, .nullable = true},
	};
	json_t *body = vers_read_body(c, f, 4);
	if (body == NULL)
		return;
	struct vers_deferred *d = vers_deferred_new(c, body);
	if (d == NULL)
		return;
	struct vers_commit_create_op *o = &d->u.commit_create;
	vers_commit_create_op_init(o);
	o->org_id = c->org_id;
	memcpy(o->commit_id, f[0].uuid, sizeof(o->commit_id));
	o->name = f[1].str;
	o->description = f[2].str;
	o->is_public = f[3].boolean;
	call_defer(c, &o->op, commit_create_finish);
}

/* ---- GET /api/v1/commits, GET /api/v1/commits/public ---- */

struct commit_list_ctx {
	struct vers_list list;
	struct vers_paging paging;
};

static bool add_commit(void *ctx, const struct vers_commit *cm)
{
	struct commit_list_ctx *x = ctx;
	vers_list_value(&x->list, vers_commit_json(cm));
	if (x->paging.on && !vers_paging_keep(&x->paging, cm->commit_id))
		x->list.failed = true;
	return !x->list.failed;
}

/*
 * limit and offset as the real service takes them (clamped, never refused
 * when they are integers).  `after`, a tagd extension, is a keyset cursor:
 * the commit_id of the last commit of the previous page.
 */
static void commit_list_answer(struct call *c, bool public_all)
{
	struct vers_query_field f[] = {
	        {.name = "limit", .kind = VERS_QUERY_INT},
	        {.name = "offset", .kind = VERS_QUERY_INT},
	        {.name = "after", .kind = VERS_QUERY_UUID},
	};
	struct commit_list_ctx x = {0};
	int64_t limit, offset, total = 0;
	char tail[128];
	enum store_status st;

	if (!vers_query_read(c, f, 3))
		return;
	vers_query_release(f, 3); /* only numbers and a UUID: nothing is kept */
	if (f[1].present && f[2].present) {
		vers_query_conflict(c, "offset", "after");
		return;
	}
	limit = f[0].present ? f[0].i64 : PAGE_DEFAULT;
	limit = limit < 1 ? 1 : limit > PAGE_MAX ? PAGE_MAX : limit;
	offset = f[1].present && f[1].i64 > 0 ? f[1].i64 : 0;
	x.paging.on = f[2].present;
	x.paging.page.after = f[2].uuid;
	x.paging.page.limit = limit;

	vers_list_init(&x.list);
	vers_list_raw(&x.list, "{\"commits\":[");
	if (x.paging.on)
		st = store_vers_commits_after(c->store, c->org_id, public_all, &x.paging.page,
		                              &total, add_commit, &x);
	else
		st = store_vers_commits(c->store, c->org_id, public_all, limit, offset, &total,
		                        add_commit, &x);
	if (st != STORE_OK && st != STORE_NOMEM) {
		vers_list_release(&x.list);
		vers_paging_release(&x.paging);
		if (st == STORE_INVALID)
			vers_error(c, 400,
			           "`after` is not a commit of this list: it is unknown, deleted, "
			           "or not listed here");
		else
			vers_store_error(c, st);
		return;
	}
	if (st == STORE_NOMEM)
		x.list.failed = true;
	snprintf(tail, sizeof(tail),
	         "],\"total\":%" PRId64 ",\"limit\":%" PRId64 ",\"offset\":%" PRId64 "%s", total,
	         limit, offset, x.paging.on ? "" : "}");
	vers_list_raw(&x.list, tail);
	if (x.paging.on && !vers_paging_finish(c, &x.paging, &x.list))
		x.list.failed = true;
	vers_paging_release(&x.paging);
	vers_list_respond(c, 200, &x.list);
}

void vers_commit_list(struct call *c)
{
	commit_list_answer(c, false);
}

void vers_commit_public_list(struct call *c)
{
	commit_list_answer(c, true);
}

/*
 * The commit id of the path, normalized.  An id that is not a UUID can name
 * no commit: it answers 404 "commit not found", like a lookup that misses.
 */
static bool path_commit_id(struct call *c, char out[STORE_UUID_LEN + 1])
{
	if (names_uuid_normalize(call_param(c, 0), out))
		return true;
	vers_error_reason(c, 404, "commit not found", "the commit id in the path is not a UUID");
	return false;
}

/* ---- GET /api/v1/commits/{commit_id} (tagd extension) ---- */

void vers_commit_get(struct call *c)
{
	char id[STORE_UUID_LEN + 1];
	struct vers_commit cm;

	if (!path_commit_id(c, id))
		return;
	enum store_status st = store_vers_commit_get(c->store, c->org_id, id, &cm);
	if (st != STORE_OK) {
		vers_status_error(c, st);
		return;
	}
	vers_json(c, 200, vers_commit_json(&cm));
	vers_commit_release(&cm);
}

/* ---- PATCH /api/v1/commits/{commit_id} ---- */

static void commit_update_finish(struct call *c, struct store_op *op)
{
	struct vers_commit_update_op *o = &vers_deferred_of(c)->u.commit_update;

	if (op->status == STORE_OK) {
		vers_json(c, 200, vers_commit_json(&o->out));
		vers_commit_release(&o->out);
	} else {
		vers_status_error(c, op->status);
	}
	vers_deferred_end(c);
}

void vers_commit_update(struct call *c)
{
	char id[STORE_UUID_LEN + 1];
	struct body_field f[] = {
	        {.name = "is_public", .kind = BODY_BOOL, .required = true},
	        {.name = "name", .kind = BODY_STRING, .nullable = true},
	        {.name = "description", .kind = BODY_STRING, .nullable = true},
	};
	if (!path_commit_id(c, id))
		return;
	json_t *body = vers_read_body(c, f, 3);
	if (body == NULL)
		return;
	struct vers_deferred *d = vers_deferred_new(c, body);
	if (d == NULL)
		return;
	struct vers_commit_update_op *o = &d->u.commit_update;
	vers_commit_update_op_init(o);
	o->org_id = c->org_id;
	memcpy(o->commit_id, id, sizeof(o->commit_id));
	o->is_public = f[0].boolean;
	o->name = f[1].str;
	o->description = f[2].str;
	call_defer(c, &o->op, commit_update_finish);
}

/* ---- DELETE /api/v1/commits/{commit_id} ---- */

void vers_commit_delete(struct call *c)
{
	char id[STORE_UUID_LEN + 1];
	if (!path_commit_id(c, id))
		return;
	struct vers_deferred *d = vers_deferred_new(c, NULL);
	if (d == NULL)
		return;
	struct vers_commit_delete_op *o = &d->u.commit_delete;
	vers_commit_delete_op_init(o);
	o->org_id = c->org_id;
	memcpy(o->commit_id, id, sizeof(o->commit_id));
	call_defer(c, &o->op, vers_no_content_finish);
}
