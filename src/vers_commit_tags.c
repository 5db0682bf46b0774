/*
 * vers_commit_tags.c - Vers legacy commit tags (/api/v1/commit_tags): tags
 * named 1-64 bytes, unique per organization, pointing at a commit.
 */
#include <string.h>

#include "names.h"
#include "store_vers.h"
#include "vers_handlers.h"
#include "vers_reply.h"

/* ---- POST /api/v1/commit_tags ---- */

static void ctag_create_finish(struct call *c, struct store_op *op)
{
	struct vers_commit_tag_create_op *o = &vers_deferred_of(c)->u.ctag_create;

	if (op->status == STORE_OK) {
		vers_json(c, 201,
		          json_pack("{s:s, s:s, s:s}", "tag_id", o->tag_id, "tag_name", o->tag_name,
		                    "commit_id", o->commit_id));
		vers_etag(c, o->rev);
	} else if (op->status == STORE_CONFLICT)
		vers_error(c, 409, "tag already exists");
	else
		vers_status_error(c, op->status);
	vers_deferred_end(c);
}

void vers_ctag_create(struct call *c)
{
	struct body_field f[] = {
	        {.name = "tag_name", .kind = BODY_STRING, .required = true},
	        {.name = "commit_id", .kind = BODY_UUID, .required = true},
	        {.name = "description", .kind = BODY_STRING, .nullable = true},
	};
	json_t *body = vers_read_body(c, f, 3);
	if (body == NULL)
		return;
	const char *why = names_commit_tag(f[0].str);
	if (why != NULL) {
		json_decref(body);
		vers_invalid(c, "invalid tag name", why);
		return;
	}
	struct vers_deferred *d = vers_deferred_new(c, body);
	if (d == NULL)
		return;
	struct vers_commit_tag_create_op *o = &d->u.ctag_create;
	vers_commit_tag_create_op_init(o);
	o->org_id = c->org_id;
	o->tag_name = f[0].str;
	memcpy(o->commit_id, f[1].uuid, sizeof(o->commit_id));
	o->description = f[2].str;
	vers_actor(c, &o->actor);
	d->refused = &o->refused;
	call_defer(c, &o->op, ctag_create_finish);
}

/* ---- GET /api/v1/commit_tags ---- */

#define CTAG_NAME_MAX 64 /* names_commit_tag: no legacy tag name is longer */

struct ctag_list_ctx {
	struct vers_list list;
	struct vers_paging paging;
};

static bool add_ctag(void *ctx, const struct vers_tag *t)
{
	struct ctag_list_ctx *x = ctx;
	vers_list_value(&x->list, vers_commit_tag_json(t));
	if (x->paging.on && !vers_paging_keep(&x->paging, t->name))
		x->list.failed = true;
	return !x->list.failed;
}

/* Every tag of the organization, or with `limit`/`after` a keyset page as the repository lists. */
void vers_ctag_list(struct call *c)
{
	struct ctag_list_ctx x;
	enum store_status st;

	if (!vers_paging_read(c, CTAG_NAME_MAX, &x.paging))
		return;
	vers_list_init(&x.list);
	vers_list_raw(&x.list, "{\"tags\":[");
	if (x.paging.on)
		st = store_vers_commit_tags_page(c->store, c->org_id, &x.paging.page, add_ctag, &x);
	else
		st = store_vers_commit_tags(c->store, c->org_id, add_ctag, &x);
	if (st != STORE_OK && st != STORE_NOMEM) {
		vers_list_release(&x.list);
		vers_paging_release(&x.paging);
		vers_store_error(c, st);
		return;
	}
	if (st == STORE_NOMEM)
		x.list.failed = true;
	if (x.paging.on) {
		vers_list_raw(&x.list, "]");
		if (!vers_paging_finish(c, &x.paging, &x.list))
			x.list.failed = true;
	} else {
		vers_list_raw(&x.list, "]}");
	}
	vers_paging_release(&x.paging);
	vers_list_respond(c, 200, &x.list);
}

/* ---- GET /api/v1/commit_tags/{tag_name} ---- */

void vers_ctag_get(struct call *c)
{
	struct vers_tag t;
	enum store_status st = store_vers_commit_tag_get(c->store, c->org_id, call_param(c, 0), &t);
	if (st != STORE_OK) {
		vers_status_error(c, st);
		return;
	}
	vers_json(c, 200, vers_commit_tag_json(&t));
	if (c->status == 200)
		vers_etag(c, t.rev);
	vers_tag_release(&t);
}

/* ---- PATCH /api/v1/commit_tags/{tag_name} ---- */

static void ctag_update_finish(struct call *c, struct store_op *op)
{
	vers_no_content_etag_finish(c, op, vers_deferred_of(c)->u.ctag_update.rev);
}

void vers_ctag_update(struct call *c)
{
	struct vers_tag_patch patch;
	json_t *body = vers_tag_patch_read(c, &patch);
	if (body == NULL)
		return;
	struct vers_deferred *d = vers_deferred_new(c, body);
	if (d == NULL)
		return;
	struct vers_commit_tag_update_op *o = &d->u.ctag_update;
	vers_commit_tag_update_op_init(o);
	o->org_id = c->org_id;
	o->tag_name = call_param(c, 0);
	o->patch = patch;
	vers_expect(c, &o->expect);
	vers_actor(c, &o->actor);
	d->refused = &o->refused;
	call_defer(c, &o->op, ctag_update_finish);
}

/* ---- DELETE /api/v1/commit_tags/{tag_name} ---- */

void vers_ctag_delete(struct call *c)
{
	struct vers_deferred *d = vers_deferred_new(c, NULL);
	if (d == NULL)
		return;
	struct vers_commit_tag_delete_op *o = &d->u.ctag_delete;
	vers_commit_tag_delete_op_init(o);
	o->org_id = c->org_id;
	o->tag_name = call_param(c, 0);
	vers_expect(c, &o->expect);
	vers_actor(c, &o->actor);
	d->refused = &o->refused;
	call_defer(c, &o->op, vers_no_content_finish);
}
