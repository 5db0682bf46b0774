/*
 * vers_tag_put.c - create or move a tag in one call (a tagd extension):
 * PUT /api/v1/repositories/{repo_name}/tags/{tag_name} and
 * PUT /api/v1/commit_tags/{tag_name}, with {"commit_id", "description"?}.
 *
 * 201 when the name was free, 200 when the tag was moved or its description
 * changed, 200 with no event when it already was that; the body is the one
 * POST answers, with the tag's ETag.  If-None-Match: * makes it create-only,
 * If-Match move-only (412 otherwise).  A pipeline's "point latest at this
 * build" is one idempotent call instead of POST, 409, PATCH.
 */
#include <string.h>

#include "etag.h"
#include "names.h"
#include "store_vers.h"
#include "vers_handlers.h"
#include "vers_reply.h"

static void put_finish(struct call *c, struct store_op *op)
{
	struct vers_tag_put_op *o = &vers_deferred_of(c)->u.tag_put;

	if (op->status == STORE_OK) {
		json_t *body;
		if (o->repo_name != NULL) {
			char ref[512];
			snprintf(ref, sizeof(ref), "%s:%s", o->repo_name, o->tag_name);
			body = json_pack("{s:s, s:s, s:s}", "tag_id", o->tag_id, "reference", ref,
			                 "commit_id", o->commit_id);
		} else {
			body = json_pack("{s:s, s:s, s:s}", "tag_id", o->tag_id, "tag_name",
			                 o->tag_name, "commit_id", o->commit_id);
		}
		vers_json(c, o->created ? 201 : 200, body);
		vers_etag(c, o->rev);
	} else if (op->status == STORE_PRECONDITION && o->expect.kind == STORE_EXPECT_ABSENT) {
		vers_error(c, 412, "precondition failed: If-None-Match: * and the tag exists");
	} else {
		vers_status_error(c, op->status);
	}
	vers_deferred_end(c);
}

/* The expectation of If-Match or If-None-Match: *; false when c has been answered 400. */
static bool put_expect(struct call *c, struct store_expect *out)
{
	const char *if_none_match = call_header(c, "If-None-Match");
	if (if_none_match != NULL && call_header(c, "If-Match") != NULL) {
		vers_error(c, 400, "If-Match and If-None-Match cannot be used together");
		return false;
	}
	if (if_none_match == NULL) {
		vers_expect(c, out);
		return true;
	}
	if (!etag_if_none_match(if_none_match, out)) {
		vers_error(c, 400, "If-None-Match: only * is supported on PUT");
		return false;
	}
	return true;
}

/* A PUT of tag (named as check says) in repo, or a legacy commit tag with repo NULL. */
static void put(struct call *c, const char *repo, const char *tag,
                const char *(*check)(const char *name))
{
	struct body_field f[] = {
	        {.name = "commit_id", .kind = BODY_UUID, .required = true},
	        {.name = "description", .kind = BODY_STRING, .nullable = true},
	};
	json_t *body = vers_read_body(c, f, 2);
	if (body == NULL)
		return;
	const char *why = check(tag);
	if (why != NULL) {
		json_decref(body);
		vers_invalid(c, "invalid tag name", why);
		return;
	}
	struct store_expect expect;
	if (!put_expect(c, &expect)) {
		json_decref(body);
		return;
	}
	struct vers_deferred *d = vers_deferred_new(c, body);
	if (d == NULL)
		return;
	struct vers_tag_put_op *o = &d->u.tag_put;
	vers_tag_put_op_init(o);
	o->org_id = c->org_id;
	o->repo_name = repo;
	o->tag_name = tag;
	memcpy(o->commit_id, f[0].uuid, sizeof(o->commit_id));
	o->desc = !f[1].present  ? STORE_DESC_KEEP
	          : f[1].is_null ? STORE_DESC_CLEAR
	                         : STORE_DESC_SET;
	o->description = f[1].str;
	o->expect = expect;
	vers_actor(c, &o->actor);
	d->refused = &o->refused;
	call_defer(c, &o->op, put_finish);
}

void vers_tag_put(struct call *c)
{
	put(c, call_param(c, 0), call_param(c, 1), names_vers_tag);
}

void vers_ctag_put(struct call *c)
{
	put(c, NULL, call_param(c, 0), names_commit_tag);
}
