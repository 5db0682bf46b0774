/*
 * vers_api.c - Vers handlers: repositories, repository tags, commits.
 *
 * Each handler reads and validates its input in the order the real server
 * does, then either answers from a read or defers a store operation and
 * answers in its finish function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "names.h"
#include "store_vers.h"
#include "vers_api.h"
#include "vers_reply.h"

bool vers_authenticate(struct call *c)
{
	size_t len;
	const char *token = auth_bearer(call_header(c, "Authorization"), &len);
	enum auth_result r = AUTH_UNKNOWN;

	if (token == NULL) {
		vers_error(c, 401, "Missing or invalid Authorization header");
		call_add_header(c, "WWW-Authenticate", "Bearer");
		return false;
	}
	r = auth_check(c->store, token, len, &c->org_id, &c->org_name);
	if (r == AUTH_OK)
		return true;
	if (r == AUTH_ERROR) {
		vers_error(c, 500, "internal server error");
		return false;
	}
	vers_error(c, 401, "Invalid bearer token");
	call_add_header(c, "WWW-Authenticate", "Bearer");
	return false;
}

/*
 * State kept between a handler and its finish function: the operation and
 * the parsed body whose strings it borrows.
 */
struct deferred {
	json_t *body;
	union {
		struct store_op op;
		struct vers_repo_create_op repo_create;
		struct vers_commit_create_op commit_create;
		struct vers_tag_create_op tag_create;
	} u;
};

static struct deferred *deferred_new(struct call *c, json_t *body)
{
	struct deferred *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		json_decref(body);
		vers_error(c, 500, "internal server error");
		return NULL;
	}
	d->body = body;
	c->handler_ctx = d;
	return d;
}

/* The deferred state of c. */
static struct deferred *deferred_of(struct call *c)
{
	return c->handler_ctx;
}

/* Let go of the parsed body: the last thing a finish function does. */
static void deferred_end(struct call *c)
{
	struct deferred *d = c->handler_ctx;
	json_decref(d->body);
	d->body = NULL;
}

/* ---- POST /api/v1/repositories ---- */

static void repo_create_finish(struct call *c, struct store_op *op)
{
	struct vers_repo_create_op *o = &deferred_of(c)->u.repo_create;

	switch (op->status) {
	case STORE_OK:
		vers_json(c, 201, json_pack("{s:s, s:s}", "repo_id", o->repo_id, "name", o->name));
		break;
	case STORE_CONFLICT:
		vers_error(c, 409, "repository already exists");
		break;
	default:
		vers_store_error(c, op->status);
		break;
	}
	deferred_end(c);
}

static void repo_create(struct call *c)
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
		char msg[256];
		snprintf(msg, sizeof(msg), "invalid repository name: %s", why);
		json_decref(body);
		vers_error(c, 400, msg);
		return;
	}
	struct deferred *d = deferred_new(c, body);
	if (d == NULL)
		return;
	struct vers_repo_create_op *o = &d->u.repo_create;
	vers_repo_create_op_init(o);
	o->org_id = c->org_id;
	o->name = f[0].str;
	o->description = f[1].str;
	call_defer(c, &o->op, repo_create_finish);
}

/* ---- POST /api/v1/commits (tagd extension) ---- */

static void commit_create_finish(struct call *c, struct store_op *op)
{
	struct vers_commit_create_op *o = &deferred_of(c)->u.commit_create;

	switch (op->status) {
	case STORE_OK:
		vers_json(c, 201, vers_commit_json(&o->out));
		vers_commit_release(&o->out);
		break;
	case STORE_CONFLICT:
		vers_error(c, 409, "commit already exists");
		break;
	default:
		vers_store_error(c, op->status);
		break;
	}
	deferred_end(c);
}

static void commit_create(struct call *c)
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
	struct deferred *d = deferred_new(c, body);
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

/* ---- POST /api/v1/repositories/{repo_name}/tags ---- */

static void tag_create_finish(struct call *c, struct store_op *op)
{
	struct vers_tag_create_op *o = &deferred_of(c)->u.tag_create;
	char ref[512];

	switch (op->status) {
	case STORE_OK:
		snprintf(ref, sizeof(ref), "%s:%s", o->repo_name, o->tag_name);
		vers_json(c, 201,
		          json_pack("{s:s, s:s, s:s}", "tag_id", o->tag_id, "reference", ref,
		                    "commit_id", o->commit_id));
		break;
	case STORE_REPO_NOT_FOUND:
		vers_error(c, 404, "repository not found");
		break;
	case STORE_COMMIT_NOT_FOUND:
		vers_error(c, 404, "commit not found");
		break;
	case STORE_FORBIDDEN:
		vers_error(c, 403, "forbidden");
		break;
	case STORE_CONFLICT:
		vers_error(c, 409, "tag already exists in repository");
		break;
	default:
		vers_store_error(c, op->status);
		break;
	}
	deferred_end(c);
}

static void tag_create(struct call *c)
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
		char msg[256];
		snprintf(msg, sizeof(msg), "invalid tag name: %s", why);
		json_decref(body);
		vers_error(c, 400, msg);
		return;
	}
	struct deferred *d = deferred_new(c, body);
	if (d == NULL)
		return;
	struct vers_tag_create_op *o = &d->u.tag_create;
	vers_tag_create_op_init(o);
	o->org_id = c->org_id;
	o->repo_name = call_param(c, 0);
	o->tag_name = f[0].str;
	memcpy(o->commit_id, f[1].uuid, sizeof(o->commit_id));
	o->description = f[2].str;
	call_defer(c, &o->op, tag_create_finish);
}

const struct route vers_routes[] = {
        {CALL_POST, "/api/v1/repositories", ROUTE_AUTH_VERS, repo_create},
        {CALL_POST, "/api/v1/commits", ROUTE_AUTH_VERS, commit_create},
        {CALL_POST, "/api/v1/repositories/{repo_name}/tags", ROUTE_AUTH_VERS, tag_create},
};

const size_t vers_routes_count = sizeof(vers_routes) / sizeof(vers_routes[0]);
