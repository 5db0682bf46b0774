/*
 * vers_query.c - the query parameters of the Vers lists (limit, offset,
 * after) and the Link header that carries a keyset cursor to the next page.
 * See vers_handlers.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "vers_handlers.h"
#include "vers_reply.h"

#define QUERY_PREFIX "Failed to deserialize query string: "

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

static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	unsigned cp;

	while (n > 0) {
		size_t k = names_utf8_decode(p, n, &cp);
		if (k == 0)
			return false;
		p += k;
		n -= k;
	}
	return true;
}

/*
 * Check the decoded value text (NULL: not decodable) of field f and store
 * it.  Returns NULL, or the reason it is refused written into why.
 */
static const char *field_take(struct vers_query_field *f, char *text, char *why, size_t cap)
{
	const char *reason = NULL;

	switch (f->kind) {
	case VERS_QUERY_INT:
		reason = text == NULL ? "invalid digit found in string" : parse_i64(text, &f->i64);
		if (reason == NULL && f->max > 0 && (f->i64 < f->min || f->i64 > f->max)) {
			snprintf(why, cap,
			         "invalid value for `%s`: %" PRId64
			         ", expected an integer from %" PRId64 " to %" PRId64,
			         f->name, f->i64, f->min, f->max);
			reason = why;
		}
		free(text);
		return reason;
	case VERS_QUERY_TEXT:
		if (text == NULL || !valid_utf8(text))
			snprintf(why, cap, "invalid value for `%s`: not percent-encoded UTF-8",
			         f->name);
		else if (strlen(text) > f->max_len)
			snprintf(why, cap, "invalid value for `%s`: longer than %zu bytes", f->name,
			         f->max_len);
		else
			break;
		free(text);
		return why;
	case VERS_QUERY_UUID: {
		bool ok = text != NULL && names_uuid_normalize(text, f->uuid);
		free(text);
		if (ok)
			return NULL;
		snprintf(why, cap, "invalid value for `%s`: not a commit id", f->name);
		return why;
	}
	}
	f->text = text;
	return NULL;
}

bool vers_query_read(struct call *c, struct vers_query_field *f, size_t n)
{
	char why[200], msg[300];
	const char *reason = NULL;

	for (size_t i = 0; i < c->nquery && reason == NULL; i++) {
		const char *raw = c->query[i].name;
		char *name = call_percent_decode(raw, strlen(raw), true);
		struct vers_query_field *hit = NULL;
		for (size_t k = 0; name != NULL && k < n && hit == NULL; k++)
			if (strcmp(name, f[k].name) == 0)
				hit = &f[k];
		free(name);
		if (hit == NULL)
			continue; /* unknown keys are ignored */
		if (hit->present) {
			snprintf(why, sizeof(why), "duplicate field `%s`", hit->name);
			reason = why;
			break;
		}
		hit->present = true;
		const char *v = c->query[i].value ? c->query[i].value : "";
		reason = field_take(hit, call_percent_decode(v, strlen(v), true), why, sizeof(why));
	}
	if (reason == NULL)
		return true;
	vers_query_release(f, n);
	snprintf(msg, sizeof(msg), QUERY_PREFIX "%s", reason);
	vers_error(c, 400, msg);
	return false;
}

void vers_query_release(struct vers_query_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].text);
		f[i].text = NULL;
	}
}

void vers_query_conflict(struct call *c, const char *a, const char *b)
{
	char msg[200];
	snprintf(msg, sizeof(msg), QUERY_PREFIX "`%s` and `%s` cannot be used together", a, b);
	vers_error(c, 400, msg);
}

/* ---- keyset paging of the tag lists and the commit lists ---- */

bool vers_paging_read(struct call *c, size_t max_after, struct vers_paging *p)
{
	struct vers_query_field f[] = {
	        {.name = "limit", .kind = VERS_QUERY_INT, .min = 1, .max = VERS_PAGE_MAX},
	        {.name = "after", .kind = VERS_QUERY_TEXT, .max_len = max_after},
	};

	memset(p, 0, sizeof(*p));
	if (!vers_query_read(c, f, 2))
		return false;
	p->on = f[0].present || f[1].present;
	p->page.limit = f[0].present ? f[0].i64 : VERS_PAGE_DEFAULT;
	p->after = f[1].text; /* taken over */
	p->page.after = p->after;
	return true;
}

bool vers_paging_keep(struct vers_paging *p, const char *name)
{
	size_t n = strlen(name) + 1;
	if (n > p->last_cap) {
		char *b = realloc(p->last, n);
		if (b == NULL)
			return false;
		p->last = b;
		p->last_cap = n;
	}
	memcpy(p->last, name, n);
	return true;
}

bool vers_paging_finish(struct call *c, struct vers_paging *p, struct vers_list *l)
{
	bool next = p->page.more && p->last != NULL;

	vers_list_raw(l, ",\"next_after\":");
	vers_list_scalar(l, next ? json_string(p->last) : json_null());
	vers_list_raw(l, "}");
	if (l->failed)
		return false;
	return !next || call_add_link_next(c, p->page.limit, p->last);
}

void vers_paging_release(struct vers_paging *p)
{
	free(p->after);
	free(p->last);
	memset(p, 0, sizeof(*p));
}
