/*
 * vers_reply.c - Vers envelopes, body reading and schema JSON.  See vers_reply.h.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "vers_reply.h"

#define JSON_TYPE "application/json"

void vers_json(struct call *c, int status, json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	if (text == NULL) {
		static const char oom[] = "{\"success\":false,\"error\":\"internal server error\"}";
		char *copy = strdup(oom);
		call_respond_take(c, 500, copy, copy ? strlen(copy) : 0, JSON_TYPE);
		return;
	}
	call_respond_take(c, status, text, strlen(text), JSON_TYPE);
}

void vers_error(struct call *c, int status, const char *msg)
{
	vers_json(c, status, json_pack("{s:b, s:s}", "success", 0, "error", msg));
}

void vers_no_content(struct call *c)
{
	call_respond_take(c, 204, NULL, 0, NULL);
}

void vers_store_error(struct call *c, enum store_status st)
{
	switch (st) {
	case STORE_FULL:
		vers_error(c, 507, "insufficient storage: database or disk is full");
		break;
	case STORE_READONLY:
		vers_error(c, 503, "service unavailable: database is read-only");
		break;
	default:
		vers_error(c, 500, "internal server error");
		break;
	}
}

json_t *vers_read_body(struct call *c, struct body_field *fields, size_t n)
{
	char err[256], msg[400];

	if (!body_is_json_type(call_header(c, "Content-Type"))) {
		vers_error(c, 415, "Expected request with `Content-Type: application/json`");
		return NULL;
	}
	json_t *v = body_parse(c->body, c->body_len, err, sizeof(err));
	if (v == NULL) {
		snprintf(msg, sizeof(msg), "Failed to parse the request body as JSON: %s", err);
		vers_error(c, 400, msg);
		return NULL;
	}
	if (!body_decode(v, fields, n, err, sizeof(err))) {
		snprintf(msg, sizeof(msg),
		         "Failed to deserialize the JSON body into the target type: %s", err);
		vers_error(c, 400, msg);
		json_decref(v);
		return NULL;
	}
	return v;
}

json_t *vers_nullable(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *vers_time(int64_t us)
{
	char buf[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(us, buf);
	return json_string(buf);
}

json_t *vers_commit_json(const struct vers_commit *cm)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:o}", "commit_id", cm->commit_id,
	                 "owner_id", cm->owner_id, "name", cm->name, "description",
	                 vers_nullable(cm->description), "parent_vm_id",
	                 vers_nullable(cm->parent_vm_id), "grandparent_commit_id",
	                 vers_nullable(cm->grandparent_commit_id), "is_public", cm->is_public,
	                 "created_at", vers_time(cm->created_at));
}

json_t *vers_repo_json(const struct vers_repo *r)
{
	return json_pack("{s:s, s:s, s:o, s:b, s:o}", "repo_id", r->repo_id, "name", r->name,
	                 "description", vers_nullable(r->description), "is_public", r->is_public,
	                 "created_at", vers_time(r->created_at));
}

json_t *vers_public_repo_json(const struct vers_repo *r)
{
	char full[512];
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", r->org_name, r->name) >= sizeof(full))
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "repo_id", r->repo_id, "org_name",
	                 r->org_name, "name", r->name, "full_name", full, "description",
	                 vers_nullable(r->description), "created_at", vers_time(r->created_at));
}

json_t *vers_repo_tag_json(const struct vers_tag *t, const char *repo_name)
{
	char ref[512];
	if ((size_t)snprintf(ref, sizeof(ref), "%s:%s", repo_name, t->name) >= sizeof(ref))
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "tag_id", t->tag_id, "tag_name",
	                 t->name, "reference", ref, "commit_id", t->commit_id, "description",
	                 vers_nullable(t->description), "created_at", vers_time(t->created_at),
	                 "updated_at", vers_time(t->updated_at));
}
