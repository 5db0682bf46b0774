/*
 * call.c - the plain request/response.  See call.h.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "call.h"
#include "errmsg.h"
#include "log.h"

/* What a reason becomes when it cannot be copied; never freed. */
static char reason_lost[] = "(reason lost: out of memory)";

static void reason_free(struct call *c)
{
	if (c->reason != reason_lost)
		free(c->reason);
	c->reason = NULL;
}

void call_init(struct call *c, struct store *store, const struct call_transport *transport,
               void *transport_ctx)
{
	memset(c, 0, sizeof(*c));
	c->store = store;
	c->transport = transport;
	c->transport_ctx = transport_ctx;
	c->org_id = -1;
}

void call_release(struct call *c)
{
	for (size_t i = 0; i < c->nparams; i++)
		free(c->params[i]);
	c->nparams = 0;
	for (size_t i = 0; i < c->nresp_headers; i++)
		free((char *)c->resp_headers[i].value);
	c->nresp_headers = 0;
	free(c->resp_body);
	c->resp_body = NULL;
	free(c->org_name);
	c->org_name = NULL;
	free(c->token_label);
	c->token_label = NULL;
	reason_free(c);
	free(c->handler_ctx);
	c->handler_ctx = NULL;
}

static const char *const method_names[] = {
        [CALL_GET] = "GET",         [CALL_HEAD] = "HEAD",   [CALL_POST] = "POST",
        [CALL_PUT] = "PUT",         [CALL_PATCH] = "PATCH", [CALL_DELETE] = "DELETE",
        [CALL_OPTIONS] = "OPTIONS", [CALL_OTHER] = "OTHER",
};

enum call_method call_method_parse(const char *name)
{
	for (size_t i = 0; i < CALL_OTHER; i++)
		if (strcmp(name, method_names[i]) == 0)
			return (enum call_method)i;
	return CALL_OTHER;
}

const char *call_method_name(enum call_method m)
{
	return method_names[m <= CALL_OTHER ? m : CALL_OTHER];
}

const char *call_header(const struct call *c, const char *name)
{
	for (size_t i = 0; i < c->nheaders; i++)
		if (strcasecmp(c->headers[i].name, name) == 0)
			return c->headers[i].value;
	return NULL;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

char *call_percent_decode(const char *src, size_t len, bool plus_is_space)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char ch = src[i];
		if (ch == '%') {
			if (len - i < 3) {
				free(out);
				return NULL;
			}
			int hi = hexval((unsigned char)src[i + 1]);
			int lo = hexval((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (ch == '+' && plus_is_space) {
			out[o++] = ' ';
		} else if (ch == '\0') {
			free(out);
			return NULL;
		} else {
			out[o++] = ch;
		}
	}
	out[o] = '\0';
	return out;
}

char *call_query_take(const struct call *c, const char *name, bool *bad)
{
	*bad = false;
	for (size_t i = 0; i < c->nquery; i++) {
		if (strcmp(c->query[i].name, name) != 0)
			continue;
		const char *v = c->query[i].value ? c->query[i].value : "";
		char *out = call_percent_decode(v, strlen(v), true);
		if (out == NULL)
			*bad = true;
		return out;
	}
	return NULL;
}

const char *call_param(const struct call *c, size_t i)
{
	return i < c->nparams ? c->params[i] : NULL;
}

void call_respond_take(struct call *c, int status, char *body, size_t len, const char *type)
{
	free(c->resp_body);
	c->status = status;
	c->resp_body = body;
	c->resp_len = body ? len : 0;
	c->resp_type = type;
}

bool call_add_header(struct call *c, const char *name, const char *value)
{
	if (c->nresp_headers >= CALL_MAX_RESP_HDRS)
		return false;
	char *copy = strdup(value);
	if (copy == NULL)
		return false;
	c->resp_headers[c->nresp_headers].name = name;
	c->resp_headers[c->nresp_headers].value = copy;
	c->nresp_headers++;
	return true;
}

void call_reset_response(struct call *c)
{
	for (size_t i = 0; i < c->nresp_headers; i++)
		free((char *)c->resp_headers[i].value);
	c->nresp_headers = 0;
	free(c->resp_body);
	c->resp_body = NULL;
	c->resp_len = 0;
	c->resp_type = NULL;
	c->status = 0;
	reason_free(c);
}

void call_defer(struct call *c, struct store_op *op, call_finish_fn finish)
{
	c->finish = finish;
	c->transport->defer(c, op);
}

bool call_is_deferred(const struct call *c)
{
	return c->finish != NULL;
}

/* ---- Link: <...>; rel="next" (RFC 8288) ---- */

static bool unreserved(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* Append s to out, percent-encoding every byte that RFC 3986 does not call unreserved. */
static char *encode_into(char *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (unreserved(*p)) {
			*out++ = (char)*p;
		} else {
			*out++ = '%';
			*out++ = hex[*p >> 4];
			*out++ = hex[*p & 15];
		}
	}
	return out;
}

bool call_add_link_next(struct call *c, int64_t limit, const char *after)
{
	const char *t = c->route;
	size_t k = 0;

	if (t == NULL)
		return false;
	/* '<', the route, "?limit=" and 20 digits, "&after=", ">; rel=\"next\"", NUL */
	size_t need = strlen(t) + 3 * strlen(after) + 64;
	for (size_t i = 0; i < c->nparams; i++)
		need += 3 * strlen(c->params[i]);
	char *buf = malloc(need);
	if (buf == NULL)
		return false;
	char *p = buf;
	*p++ = '<';
	/* The matched route with each {param} replaced by its value, encoded again. */
	while (*t != '\0') {
		if (*t != '{') {
			*p++ = *t++;
			continue;
		}
		const char *close = strchr(t, '}');
		if (close == NULL || k >= c->nparams) {
			free(buf);
			return false;
		}
		p = encode_into(p, c->params[k++]);
		t = close + 1;
	}
	p += sprintf(p, "?limit=%" PRId64 "&after=", limit);
	p = encode_into(p, after);
	strcpy(p, ">; rel=\"next\"");
	bool ok = call_add_header(c, "Link", buf);
	free(buf);
	return ok;
}

void call_set_reason(struct call *c, const char *reason)
{
	if (reason == c->reason && reason != NULL)
		return;
	reason_free(c);
	if (reason != NULL) {
		c->reason = strdup(reason);
		if (c->reason == NULL)
			c->reason = reason_lost;
	}
}

void call_set_reasonf(struct call *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *text = errmsg_vfmt(fmt, ap);
	va_end(ap);
	reason_free(c);
	c->reason = text ? text : reason_lost;
}

const char *call_reason(const struct call *c)
{
	return c->reason;
}

void call_log_outcome(const struct call *c, const char *request_id)
{
	char reason[256];

	if (c->status < 400)
		return;
	/* A quote would end the logfmt value early: reasons say `x`, but be sure. */
	snprintf(reason, sizeof(reason), "%s", c->reason ? c->reason : "unspecified");
	for (char *p = reason; *p != '\0'; p++)
		if (*p == '"' || *p == '\\')
			*p = '\'';
	bool server = c->status >= 500;
	enum log_level level = server || c->status == 429 ? LOG_INFO : LOG_DEBUG;
	log_msg(level, server ? "request failed" : "request refused",
	        "request_id=%s status=%d route=\"%s\" reason=\"%s\"", request_id, c->status,
	        c->route ? c->route : "unmatched", reason);
}
