/*
 * etag.c - entity tags and the conditional request fields.  See etag.h.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "etag.h"

void etag_format(int64_t rev, char out[ETAG_MAX])
{
	snprintf(out, ETAG_MAX, "\"%lld\"", (long long)rev);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* etagc (RFC 9110): %x21 / %x23-7E / obs-text. */
static bool is_etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80;
}

/*
 * Read one entity-tag at *p: on success *p is past it, *strong and the
 * opaque text (without quotes) at *tag, *len are set.
 */
static bool entity_tag(const char **p, bool *strong, const char **tag, size_t *len)
{
	const char *s = *p;
	*strong = true;
	if (s[0] == 'W' && s[1] == '/') {
		*strong = false;
		s += 2;
	}
	if (*s != '"')
		return false;
	const char *start = ++s;
	while (is_etagc((unsigned char)*s))
		s++;
	if (*s != '"')
		return false;
	*tag = start;
	*len = (size_t)(s - start);
	*p = s + 1;
	return true;
}

/* The revision an opaque tag of ours names: 1 to 18 digits, no leading zero unless "0". */
static bool tag_rev(const char *tag, size_t len, int64_t *rev)
{
	if (len == 0 || len > 18 || (len > 1 && tag[0] == '0'))
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (tag[i] < '0' || tag[i] > '9')
			return false;
		v = v * 10 + (tag[i] - '0');
	}
	*rev = v;
	return true;
}

void etag_if_match(const char *value, struct store_expect *out)
{
	memset(out, 0, sizeof(*out));
	if (value == NULL) {
		out->kind = STORE_EXPECT_NOTHING;
		return;
	}
	out->kind = STORE_EXPECT_REVS;
	const char *p = value;
	while (is_ows(*p))
		p++;
	if (*p == '*') {
		p++;
		while (is_ows(*p))
			p++;
		if (*p == '\0')
			out->kind = STORE_EXPECT_ANY;
		return;
	}
	/* #entity-tag: elements separated by commas, empty elements allowed. */
	size_t seen = 0, n = 0;
	int64_t revs[STORE_EXPECT_MAX];
	for (;;) {
		while (is_ows(*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		bool strong;
		const char *tag;
		size_t len;
		int64_t rev;
		if (!entity_tag(&p, &strong, &tag, &len) || ++seen > STORE_EXPECT_MAX)
			return; /* malformed, or too many: n stays 0 */
		if (strong && tag_rev(tag, len, &rev))
			revs[n++] = rev;
		while (is_ows(*p))
			p++;
		if (*p != ',' && *p != '\0')
			return;
	}
	if (seen == 0)
		return;
	memcpy(out->revs, revs, n * sizeof(revs[0]));
	out->n = n;
}

bool etag_if_none_match(const char *value, struct store_expect *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = STORE_EXPECT_NOTHING;
	if (value == NULL)
		return true;
	const char *p = value;
	while (is_ows(*p))
		p++;
	if (*p != '*')
		return false;
	p++;
	while (is_ows(*p))
		p++;
	if (*p != '\0')
		return false;
	out->kind = STORE_EXPECT_ABSENT;
	return true;
}
