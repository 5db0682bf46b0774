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

/*
 * Parse text as Rust's i64::from_str does (optional sign, decimal digits);
 * on failure returns the reason in its words.
 */
static const char *parse_i64(const char *text, int64_t *out)
{
	const char *p = text;
	bool neg = false;
	uint64_t v = 0, limit;

	if (*p == '\0')
		return "cannot parse integer from empty string";
	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
		if (*p == '\0')
			return "invalid digit found in string";
	}
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return "invalid digit found in string";
		unsigned d = (unsigned)(*p - '0');
		if (v > (limit - d) / 10)
			return neg ? "number too small to fit in target type"
			           : "number too large to fit in target type";
		v = v * 10 + d;
	}
	*out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return NULL;
}

/*
 * Read the page parameters of the query into *limit and *offset (left as
 * they are when absent).  Pairs are taken in the order of the query string,
 * as serde_urlencoded does, so the first bad one is the one reported; a
 * repeated key is an error, unknown keys are ignored.  On an error answers
 * 400 in the words of axum's Query extractor and returns false.
 */
static bool query_page(struct call *c, int64_t *limit, int64_t *offset)
{
	bool seen_limit = false, seen_offset = false;
	char msg[256];
	const char *why = NULL;

	for (size_t i = 0; i < c->nquery && why == NULL; i++) {
		const char *raw = c->query[i].name;
		char *name = call_percent_decode(raw, strlen(raw), true);
		bool is_limit = name != NULL && strcmp(name, "limit") == 0;
		bool is_offset = name != NULL && strcmp(name, "offset") == 0;
		free(name);
		if (!is_limit && !is_offset)
			continue;
		bool *seen = is_limit ? &seen_limit : &seen_offset;
		if (*seen) {
			why = is_limit ? "duplicate field `limit`" : "duplicate field `offset`";
			break;
		}
		*seen = true;
		const char *v = c->query[i].value ? c->query[i].value : "";
		char *text = call_percent_decode(v, strlen(v), true);
		why = text == NULL ? "invalid digit found in string"
		                   : parse_i64(text, is_limit ? limit : offset);
		free(text);
	}
	if (why == NULL)
		return true;
	snprintf(msg, sizeof(msg), "Failed to deserialize query string: %s", why);
	vers_error(c, 400, msg);
	return false;
}

static bool add_commit(void *ctx, const struct vers_commit *cm)
{
	struct vers_list *l = ctx;
	vers_list_value(l, vers_commit_json(cm));
	return !l->failed;
}

static void commit_list_answer(struct call *c, bool public_all)
{
	int64_t limit = PAGE_DEFAULT, offset = 0, total = 0;
	char tail[128];
	struct vers_list l;

	if (!query_page(c, &limit, &offset))
		return;
	limit = limit < 1 ? 1 : limit > PAGE_MAX ? PAGE_MAX : limit;
	offset = offset < 0 ? 0 : offset;
	vers_list_init(&l);
	vers_list_raw(&l, "{\"commits\":[");
	enum store_status st = store_vers_commits(c->store, c->org_id, public_all, limit, offset,
	                                          &total, add_commit, &l);
	if (st != STORE_OK && st != STORE_NOMEM) {
		vers_list_release(&l);
		vers_store_error(c, st);
		return;
	}
	if (st == STORE_NOMEM)
		l.failed = true;
	snprintf(tail, sizeof(tail),
	         "],\"total\":%" PRId64 ",\"limit\":%" PRId64 ",\"offset\":%" PRId64 "}", total,
	         limit, offset);
	vers_list_raw(&l, tail);
	vers_list_respond(c, 200, &l);
}

void vers_commit_list(struct call *c)
{
	commit_list_answer(c, false);
}

void vers_commit_public_list(struct call *c)
{
	commit_list_answer(c, true);
}

/* ---- PATCH /api/v1/commits/{commit_id} ---- */

/*
 * The commit id of the path, normalized.  An id that is not a UUID can name
 * no commit: it answers 404 "commit not found", like a lookup that misses.
 */
static bool path_commit_id(struct call *c, char out[STORE_UUID_LEN + 1])
{
	if (names_uuid_normalize(call_param(c, 0), out))
		return true;
	vers_error(c, 404, "commit not found");
	return false;
}

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
