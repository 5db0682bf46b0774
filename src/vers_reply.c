/*
 * vers_reply.c - Vers envelopes, body reading and schema JSON.  See vers_reply.h.
 */
#include <stdio.h>
#include <stdlib.h>
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
		call_set_reason(c, "out of memory while writing the answer");
		return;
	}
	call_respond_take(c, status, text, strlen(text), JSON_TYPE);
}

void vers_error_reason(struct call *c, int status, const char *msg, const char *reason)
{
	call_set_reason(c, reason);
	vers_json(c, status, json_pack("{s:b, s:s}", "success", 0, "error", msg));
}

void vers_error(struct call *c, int status, const char *msg)
{
	vers_error_reason(c, status, msg, msg);
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
	case STORE_UNAVAILABLE:
	case STORE_RETRY:
		vers_error(c, 503, "service unavailable: database unavailable");
		call_add_header(c, "Retry-After", "1");
		break;
	default: {
		char reason[96];
		snprintf(reason, sizeof(reason), "store: %s", store_status_str(st));
		vers_error_reason(c, 500, "internal server error", reason);
		break;
	}
	}
}

json_t *vers_read_body(struct call *c, struct body_field *fields, size_t n)
{
	char err[256], msg[400];

	const char *type = call_header(c, "Content-Type");
	if (!body_is_json_type(type)) {
		vers_error_reason(c, 415, "Expected request with `Content-Type: application/json`",
		                  type ? "request body: Content-Type is not JSON"
		                       : "request body: no Content-Type header");
		return NULL;
	}
	json_t *v = body_parse(c->body, c->body_len, err, sizeof(err));
	if (v == NULL) {
		/* The message quotes the body; the log gets only where it went wrong. */
		char reason[96];
		snprintf(reason, sizeof(reason), "request body is not valid JSON%s",
		         body_error_where(err));
		snprintf(msg, sizeof(msg), "Failed to parse the request body as JSON: %s", err);
		vers_error_reason(c, 400, msg, reason);
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

json_t *vers_commit_tag_json(const struct vers_tag *t)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "tag_id", t->tag_id, "tag_name", t->name,
	                 "commit_id", t->commit_id, "description", vers_nullable(t->description),
	                 "created_at", vers_time(t->created_at), "updated_at",
	                 vers_time(t->updated_at));
}

/* ---- list answers ---- */

void vers_list_init(struct vers_list *l)
{
	memset(l, 0, sizeof(*l));
	dynbuf_init(&l->text, VERS_LIST_MAX);
}

static void list_append(struct vers_list *l, const char *text, size_t n)
{
	if (!l->failed && dynbuf_add(&l->text, text, n) != DYNBUF_OK)
		l->failed = true;
}

void vers_list_raw(struct vers_list *l, const char *text)
{
	list_append(l, text, strlen(text));
	l->need_comma = false;
}

static void list_dump(struct vers_list *l, json_t *v)
{
	struct dynbuf *b = &l->text;
	if (v == NULL || l->failed) {
		l->failed = true;
		json_decref(v);
		return;
	}
	size_t room = dynbuf_room(b);
	size_t n = json_dumpb(v, b->buf ? b->buf + b->len : NULL, room,
	                      JSON_COMPACT | JSON_ENCODE_ANY);
	if (n > room) {
		/* It did not fit: make room and dump again. */
		if (dynbuf_reserve(b, n) == DYNBUF_OK)
			n = json_dumpb(v, b->buf + b->len, dynbuf_room(b),
			               JSON_COMPACT | JSON_ENCODE_ANY);
		else
			n = 0;
	}
	if (n == 0)
		l->failed = true;
	else
		dynbuf_commit(b, n);
	json_decref(v);
}

/* The characters of s inside a JSON string, escaped as jansson escapes them. */
static void list_escaped(struct vers_list *l, const char *s)
{
	static const char hex[] = "0123456789ABCDEF"; /* jansson writes \u001F */
	const char *run = s;

	for (const char *p = s;; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch != '\0' && ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		list_append(l, run, (size_t)(p - run));
		run = p + 1;
		if (ch == '\0')
			return;
		char esc[6] = {'\\', (char)ch, 0, 0, 0, 0};
		size_t n = 2;
		switch (ch) {
		case '"':
		case '\\':
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			n = 6;
			break;
		}
		list_append(l, esc, n);
	}
}

/* s as a JSON string; null for NULL. */
static void list_string(struct vers_list *l, const char *s)
{
	if (s == NULL) {
		list_append(l, "null", 4);
		return;
	}
	list_append(l, "\"", 1);
	list_escaped(l, s);
	list_append(l, "\"", 1);
}

static void list_time(struct vers_list *l, int64_t us)
{
	char buf[CLOCK_RFC3339_LEN + 1];
	buf[0] = '"';
	clock_format_rfc3339(us, buf + 1);
	buf[CLOCK_RFC3339_LEN] = '"';
	list_append(l, buf, CLOCK_RFC3339_LEN + 1);
}

static void list_lit(struct vers_list *l, const char *text)
{
	list_append(l, text, strlen(text));
}

/*
 * A RepoTagInfo written straight into the answer: the hottest shape (a GET
 * of one tag, every row of a tag list), where building and dumping a jansson
 * object cost more than the database read.  Same keys, order and escaping as
 * the other schemas' jansson output (tests/unit/test_vers_reply.c checks).
 */
void vers_list_tag(struct vers_list *l, const struct vers_tag *t, const char *repo_name)
{
	if (l->need_comma)
		list_lit(l, ",");
	list_lit(l, "{\"tag_id\":");
	list_string(l, t->tag_id);
	list_lit(l, ",\"tag_name\":");
	list_string(l, t->name);
	list_lit(l, ",\"reference\":\"");
	list_escaped(l, repo_name);
	list_lit(l, ":");
	list_escaped(l, t->name);
	list_lit(l, "\",\"commit_id\":");
	list_string(l, t->commit_id);
	list_lit(l, ",\"description\":");
	list_string(l, t->description);
	list_lit(l, ",\"created_at\":");
	list_time(l, t->created_at);
	list_lit(l, ",\"updated_at\":");
	list_time(l, t->updated_at);
	list_lit(l, "}");
	l->need_comma = true;
}

void vers_list_value(struct vers_list *l, json_t *v)
{
	if (l->need_comma)
		list_append(l, ",", 1);
	list_dump(l, v);
	l->need_comma = true;
}

void vers_list_scalar(struct vers_list *l, json_t *v)
{
	list_dump(l, v);
}

void vers_list_respond(struct call *c, int status, struct vers_list *l)
{
	if (l->failed) {
		vers_list_release(l);
		vers_error_reason(c, 500, "internal server error",
		                  "the list answer is over 1 GiB, or out of memory");
		return;
	}
	size_t len;
	char *text = dynbuf_take(&l->text, &len);
	call_respond_take(c, status, text, len, JSON_TYPE);
	vers_list_release(l);
}

void vers_list_release(struct vers_list *l)
{
	dynbuf_release(&l->text);
	l->failed = false;
	l->need_comma = false;
}
