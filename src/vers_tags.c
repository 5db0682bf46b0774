/*
 * vers_tags.c - Vers repository tags: create, list, get, update, delete,
 * and their public list and get.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "store_vers.h"
#include "vers_handlers.h"
#include "vers_reply.h"

/* ---- POST /api/v1/repositories/{repo_name}/tags ---- */

static void tag_create_finish(struct call *c, struct store_op *op)
{
	struct vers_tag_create_op *o = &vers_deferred_of(c)->u.tag_create;
	char ref[512];

	if (op->status == STORE_OK) {
		snprintf(ref, sizeof(ref), "%s:%s", o->repo_name, o->tag_name);
		vers_json(c, 201,
		          json_pack("{s:s, s:s, s:s}", "tag_id", o->tag_id, "reference", ref,
		                    "commit_id", o->commit_id));
		vers_etag(c, o->rev);
	} else if (op->status == STORE_CONFLICT) {
		vers_error(c, 409, "tag already exists in repository");
	} else {
		vers_status_error(c, op->status);
	}
	vers_deferred_end(c);
}

void vers_tag_create(struct call *c)
{
	struct body_field f[] = {
	        {.name = "tag_name", .kind = BODY_STRING, .required = true},
	        {.name = "commit_id", .kind = BODY_UUID, .required = true},
	        {.name = "description", .kind = BODY_STRING, .nullable = true},
	};
	json_t *body = vers_read_body(c, f, 3);
	if (body == NULL)
		return;
	const char *why = names_vers_tag(f[0].str);
	if (why != NULL) {
		json_decref(body);
		vers_invalid(c, "invalid tag name", why);
		return;
	}
	struct vers_deferred *d = vers_deferred_new(c, body);
	if (d == NULL)
		return;
	struct vers_tag_create_op *o = &d->u.tag_create;
	vers_tag_create_op_init(o);
	o->org_id = c->org_id;
	o->repo_name = call_param(c, 0);
	o->tag_name = f[0].str;
	memcpy(o->commit_id, f[1].uuid, sizeof(o->commit_id));
	o->description = f[2].str;
	vers_actor(c, &o->actor);
	d->refused = &o->refused;
	call_defer(c, &o->op, tag_create_finish);
}

/* ---- GET .../tags (private and public) ---- */

#define TAG_NAME_MAX 128 /* names_vers_tag: no tag name is longer, so no cursor either */

struct tag_list_ctx {
	struct vers_list list;
	const char *repo_name; /* the bare name: references are always repo:tag */
	struct vers_paging paging;
};

static bool add_tag(void *ctx, const struct vers_tag *t)
{
	struct tag_list_ctx *x = ctx;
	vers_list_tag(&x->list, t, x->repo_name);
	if (x->paging.on && !vers_paging_keep(&x->paging, t->name))
		x->list.failed = true;
	return !x->list.failed;
}

/*
 * Without `limit` and `after` every tag, exactly as the real service
 * answers; with them a keyset page (a tagd extension) with "next_after"
 * and, when more remain, a Link rel="next" header.
 */
static void tag_list_answer(struct call *c, const struct vers_repo_key *key)
{
	struct tag_list_ctx x = {.repo_name = key->name};
	char full[512];
	const char *shown = key->name;
	enum store_status st;

	if (!vers_paging_read(c, TAG_NAME_MAX, &x.paging))
		return;
	/* Public lists name the repository org/repo; private ones by its bare name. */
	if (key->org_name != NULL) {
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", key->org_name, key->name) >=
		    sizeof(full)) {
			vers_paging_release(&x.paging);
			vers_error(c, 404, "repository not found");
			return;
		}
		shown = full;
	}
	vers_list_init(&x.list);
	vers_list_raw(&x.list, "{\"repository\":");
	vers_list_scalar(&x.list, json_string(shown));
	vers_list_raw(&x.list, ",\"tags\":[");
	if (x.paging.on)
		st = store_vers_repo_tags_page(c->store, key, &x.paging.page, add_tag, &x);
	else
		st = store_vers_repo_tags(c->store, key, add_tag, &x);
	if (st != STORE_OK && st != STORE_NOMEM) {
		vers_list_release(&x.list);
		vers_paging_release(&x.paging);
		vers_status_error(c, st);
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

void vers_tag_list(struct call *c)
{
	struct vers_repo_key key = {.org_id = c->org_id, .name = call_param(c, 0)};
	tag_list_answer(c, &key);
}

void vers_public_tag_list(struct call *c)
{
	struct vers_repo_key key = {.org_name = call_param(c, 0), .name = call_param(c, 1)};
	tag_list_answer(c, &key);
}

/* ---- GET .../tags/{tag_name} (private and public) ---- */

static void tag_get_answer(struct call *c, const struct vers_repo_key *key, const char *tag)
{
	struct vers_tag t;
	enum store_status st = store_vers_repo_tag_get(c->store, key, tag, &t);
	if (st != STORE_OK) {
		vers_status_error(c, st);
		return;
	}
	struct vers_list out;
	vers_list_init(&out);
	vers_list_tag(&out, &t, key->name);
	int64_t rev = t.rev;
	vers_tag_release(&t);
	vers_list_respond(c, 200, &out);
	if (c->status == 200)
		vers_etag(c, rev);
}

void vers_tag_get(struct call *c)
{
	struct vers_repo_key key = {.org_id = c->org_id, .name = call_param(c, 0)};
	tag_get_answer(c, &key, call_param(c, 1));
}

void vers_public_tag_get(struct call *c)
{
	struct vers_repo_key key = {.org_name = call_param(c, 0), .name = call_param(c, 1)};
	tag_get_answer(c, &key, call_param(c, 2));
}

/* ---- PATCH .../tags/{tag_name} ---- */

json_t *vers_tag_patch_read(struct call *c, struct vers_tag_patch *patch)
{
	struct body_field f[] = {
	        {.name = "commit_id", .kind = BODY_UUID, .nullable = true},
	        {.name = "description", .kind = BODY_STRING, .nullable = true},
	};
	json_t *body = vers_read_body(c, f, 2);
	if (body == NULL)
		return NULL;
	patch->move = !f[0].is_null;
	memcpy(patch->commit_id, f[0].uuid, sizeof(patch->commit_id));
	patch->desc = !f[1].present  ? STORE_DESC_KEEP
	              : f[1].is_null ? STORE_DESC_CLEAR
	                             : STORE_DESC_SET;
	patch->description = f[1].str;
	if (!patch->move && patch->desc == STORE_DESC_KEEP) {
		json_decref(body);
		vers_error(c, 400, "no updates provided");
		return NULL;
	}
	return body;
}

static void tag_update_finish(struct call *c, struct store_op *op)
{
	vers_no_content_etag_finish(c, op, vers_deferred_of(c)->u.tag_update.rev);
}

void vers_tag_update(struct call *c)
{
	struct vers_tag_patch patch;
	json_t *body = vers_tag_patch_read(c, &patch);
	if (body == NULL)
		return;
	struct vers_deferred *d = vers_deferred_new(c, body);
	if (d == NULL)
		return;
	struct vers_tag_update_op *o = &d->u.tag_update;
	vers_tag_update_op_init(o);
	o->org_id = c->org_id;
	o->repo_name = call_param(c, 0);
	o->tag_name = call_param(c, 1);
	o->patch = patch;
	vers_expect(c, &o->expect);
	vers_actor(c, &o->actor);
	d->refused = &o->refused;
	call_defer(c, &o->op, tag_update_finish);
}

/* ---- DELETE .../tags/{tag_name} ---- */

void vers_tag_delete(struct call *c)
{
	struct vers_deferred *d = vers_deferred_new(c, NULL);
	if (d == NULL)
		return;
	struct vers_tag_delete_op *o = &d->u.tag_delete;
	vers_tag_delete_op_init(o);
	o->org_id = c->org_id;
	o->repo_name = call_param(c, 0);
	o->tag_name = call_param(c, 1);
	vers_expect(c, &o->expect);
	vers_actor(c, &o->actor);
	d->refused = &o->refused;
	call_defer(c, &o->op, vers_no_content_finish);
}
