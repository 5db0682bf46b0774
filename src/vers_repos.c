/*
 * vers_repos.c - Vers repositories: create, list, get, delete, visibility,
 * fork (501), and the public repository list and get.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "store_vers.h"
#include "vers_handlers.h"
#include "vers_reply.h"

/* ---- POST /api/v1/repositories ---- */

static void repo_create_finish(struct call *c, struct store_op *op)
{
	struct vers_repo_create_op *o = &vers_deferred_of(c)->u.repo_create;

	if (op->status == STORE_OK)
		vers_json(c, 201, json_pack("{s:s, s:s}", "repo_id", o->repo_id, "name", o->name));
	else if (op->status == STORE_CONFLICT)
		vers_error(c, 409, "repository already exists");
	else
		vers_store_error(c, op->status);
	vers_deferred_end(c);
}

void vers_repo_create(struct call *c)
{
	struct body_field f[] = {
	        {.name = "name", .kind = BODY_STRING, .required = true},
	        {.name = "description", .kind = BODY_STRING, .nullable = true},
	};
	json_t *body = vers_read_body(c, f, 2);
	if (body == NULL)
		return;
	const char *why = names_vers_repo(f[0].str);
	if (why != NULL) {
		json_decref(body);
		vers_invalid(c, "invalid repository name", why);
		return;
	}
	struct vers_deferred *d = vers_deferred_new(c, body);
	if (d == NULL)
		return;
	struct vers_repo_create_op *o = &d->u.repo_create;
	vers_repo_create_op_init(o);
	o->org_id = c->org_id;
	o->name = f[0].str;
	o->description = f[1].str;
	call_defer(c, &o->op, repo_create_finish);
}

/* ---- GET /api/v1/repositories, GET /api/v1/public/repositories ---- */

static bool add_repo(void *ctx, const struct vers_repo *r)
{
	struct vers_list *l = ctx;
	vers_list_value(l, vers_repo_json(r));
	return !l->failed;
}

static bool add_public_repo(void *ctx, const struct vers_repo *r)
{
	struct vers_list *l = ctx;
	vers_list_value(l, vers_public_repo_json(r));
	return !l->failed;
}

/* Answer a repository list read by read (private or public). */
static void repo_list_answer(struct call *c, bool public)
{
	struct vers_list l;
	vers_list_init(&l);
	vers_list_raw(&l, "{\"repositories\":[");
	enum store_status st = public ? store_vers_public_repos(c->store, add_public_repo, &l)
	                              : store_vers_repos(c->store, c->org_id, add_repo, &l);
	if (st != STORE_OK && st != STORE_NOMEM) {
		vers_list_release(&l);
		vers_store_error(c, st);
		return;
	}
	if (st == STORE_NOMEM)
		l.failed = true;
	vers_list_raw(&l, "]}");
	vers_list_respond(c, 200, &l);
}

void vers_repo_list(struct call *c)
{
	repo_list_answer(c, false);
}

void vers_public_repo_list(struct call *c)
{
	repo_list_answer(c, true);
}

/* ---- GET /api/v1/repositories/{repo_name}, GET /api/v1/public/... ---- */

static void repo_get_answer(struct call *c, const struct vers_repo_key *key)
{
	struct vers_repo r;
	enum store_status st = store_vers_repo_get(c->store, key, &r);
	if (st != STORE_OK) {
		vers_status_error(c, st);
		return;
	}
	vers_json(c, 200, key->org_name ? vers_public_repo_json(&r) : vers_repo_json(&r));
	vers_repo_release(&r);
}

void vers_repo_get(struct call *c)
{
	struct vers_repo_key key = {.org_id = c->org_id, .name = call_param(c, 0)};
	repo_get_answer(c, &key);
}

void vers_public_repo_get(struct call *c)
{
	struct vers_repo_key key = {.org_name = call_param(c, 0), .name = call_param(c, 1)};
	repo_get_answer(c, &key);
}

/* ---- DELETE /api/v1/repositories/{repo_name} ---- */

void vers_repo_delete(struct call *c)
{
	struct vers_deferred *d = vers_deferred_new(c, NULL);
	if (d == NULL)
		return;
	struct vers_repo_delete_op *o = &d->u.repo_delete;
	vers_repo_delete_op_init(o);
	o->org_id = c->org_id;
	o->name = call_param(c, 0);
	vers_actor(c, &o->actor);
	d->refused = &o->refused;
	call_defer(c, &o->op, vers_no_content_finish);
}

/* ---- PATCH /api/v1/repositories/{repo_name}/visibility ---- */

void vers_repo_visibility(struct call *c)
{
	struct body_field f[] = {
	        {.name = "is_public", .kind = BODY_BOOL, .required = true},
	};
	json_t *body = vers_read_body(c, f, 1);
	if (body == NULL)
		return;
	struct vers_deferred *d = vers_deferred_new(c, body);
	if (d == NULL)
		return;
	struct vers_repo_visibility_op *o = &d->u.repo_visibility;
	vers_repo_visibility_op_init(o);
	o->org_id = c->org_id;
	o->name = call_param(c, 0);
	o->is_public = f[0].boolean;
	call_defer(c, &o->op, vers_no_content_finish);
}

/* ---- POST /api/v1/repositories/fork ---- */

/*
 * The real service forks by booting a VM from the source commit and
 * snapshotting it into a new commit; a tag registry has no VM to boot.
 */
void vers_repo_fork(struct call *c)
{
	vers_error(c, 501,
	           "repository fork is not supported by tagd: it needs a VM runtime to "
	           "snapshot the source commit");
}
