/*
 * ss_reply.c - ServiceStage envelopes, status mapping and body reading.
 * See ss_reply.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "ss_reply.h"

void ss_json(struct call *c, int status, json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	if (text == NULL) {
		static const char oom[] = "{\"error_code\":\"SVCSTG.REPO.0500\",\"error_msg\":"
		                          "\"internal server error\"}";
		char *copy = strdup(oom);
		call_respond_take(c, 500, copy, copy ? strlen(copy) : 0, SS_JSON_TYPE);
		call_set_reason(c, "out of memory while writing the answer");
		return;
	}
	call_respond_take(c, status, text, strlen(text), SS_JSON_TYPE);
}

void ss_error(struct call *c, int status, const char *code, const char *msg, const char *reason)
{
	call_set_reason(c, reason);
	ss_json(c, status, json_pack("{s:s, s:s}", "error_code", code, "error_msg", msg));
}

void ss_bad_param(struct call *c, const char *reason)
{
	ss_error(c, 400, SS_E_PARAM, reason);
}

void ss_no_content(struct call *c)
{
	call_respond_take(c, 204, NULL, 0, NULL);
}

void ss_refused(struct call *c, const struct store_refusal *r)
{
	if (r->mode == RULE_IMMUTABLE)
		ss_error(c, 400, SS_E_IMMUTABLE, "an immutable rule covers the tag");
	else
		ss_error(c, 400, SS_E_PROTECTED,
		         "a protected rule covers the tag; the token is below maintain");
}

void ss_internal_error(struct call *c, const char *reason)
{
	ss_error(c, 500, "SVCSTG.REPO.0500", "internal server error", reason);
}

void ss_store_error(struct call *c, enum store_status st)
{
	char reason[96];

	switch (st) {
	case STORE_FORBIDDEN:
		ss_error(c, 400, SS_E_AUTH_INVALID,
		         "the repository authorization does not cover this namespace");
		break;
	case STORE_CONFLICT:
		ss_error(c, 400, SS_E_EXISTS, "the name is taken");
		break;
	case STORE_NOT_FOUND:
		ss_bad_param(c, "namespace not found");
		break;
	case STORE_REPO_NOT_FOUND:
		ss_bad_param(c, "project not found in the namespace");
		break;
	case STORE_TAG_NOT_FOUND:
		ss_bad_param(c, "tag not found");
		break;
	case STORE_COMMIT_NOT_FOUND:
		ss_bad_param(c, "ref names no branch, tag or commit of the project");
		break;
	case STORE_ORG_NOT_FOUND:
		ss_bad_param(c, "organization not found");
		break;
	case STORE_INVALID:
		ss_bad_param(c, "invalid input: a bad namespace name, or an abbreviated SHA that "
		                "names several commits");
		break;
	case STORE_FULL:
		ss_error(c, 507, "SVCSTG.REPO.0507",
		         "insufficient storage: database or disk is full",
		         "store: database or disk is full");
		break;
	case STORE_READONLY:
		ss_error(c, 503, "SVCSTG.REPO.0503", "service unavailable: database is read-only",
		         "store: database is read-only");
		break;
	case STORE_UNAVAILABLE:
	case STORE_RETRY:
		ss_error(c, 503, "SVCSTG.REPO.0503", "service unavailable: database unavailable",
		         "store: database unavailable");
		call_add_header(c, "Retry-After", "1");
		break;
	default:
		log_msg(LOG_ERROR, "store failure", "route=\"%s\" status=\"%s\"",
		        c->route ? c->route : "", store_status_str(st));
		snprintf(reason, sizeof(reason), "store: %s", store_status_str(st));
		ss_internal_error(c, reason);
		break;
	}
}

/* Skip blanks. */
static const char *blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

bool ss_content_type_ok(const char *ct)
{
	if (!body_is_json_type(ct))
		return false;
	const char *p = strchr(ct, ';');
	while (p != NULL) {
		p = blanks(p + 1);
		size_t len = strcspn(p, ";");
		const char *eq = memchr(p, '=', len);
		size_t nlen = eq ? (size_t)(eq - p) : len;
		while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
			nlen--;
		if (eq != NULL && nlen == 7 && strncasecmp(p, "charset", 7) == 0) {
			const char *v = blanks(eq + 1);
			size_t vlen = len - (size_t)(v - p);
			while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
				v++, vlen -= 2;
			if (!((vlen == 5 && strncasecmp(v, "utf-8", 5) == 0) ||
			      (vlen == 4 && strncasecmp(v, "utf8", 4) == 0)))
				return false;
		}
		p = strchr(p, ';');
	}
	return true;
}

json_t *ss_read_body(struct call *c, struct body_field *fields, size_t n)
{
	char err[256], reason[320];
	const char *type = call_header(c, "Content-Type");

	if (!ss_content_type_ok(type)) {
		ss_bad_param(c, type ? "request body: Content-Type is not JSON in UTF-8"
		                     : "request body: no Content-Type header");
		return NULL;
	}
	json_t *v = body_parse(c->body, c->body_len, err, sizeof(err));
	if (v == NULL) {
		/* The parser's message quotes the body: only where it went wrong is logged. */
		snprintf(reason, sizeof(reason), "request body is not valid JSON%s",
		         body_error_where(err));
		ss_bad_param(c, reason);
		return NULL;
	}
	if (!body_decode(v, fields, n, err, sizeof(err))) {
		snprintf(reason, sizeof(reason), "request body: %s", err);
		ss_bad_param(c, reason);
		json_decref(v);
		return NULL;
	}
	return v;
}
