/*
 * http_framing.c - request head rules (RFC 9110 §5, RFC 9112 §3.2 and §6).
 * See http_framing.h.
 */
#include <string.h>
#include <strings.h>

#include "http_framing.h"

#define MAX_LENGTH_DIGITS 19 /* fits an unsigned 64-bit integer */

void http_framing_init(struct http_framing *f)
{
	memset(f, 0, sizeof(*f));
}

/* tchar of RFC 9110 §5.6.2: the bytes of a field name or a transfer coding. */
static bool is_tchar(unsigned char ch)
{
	if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
		return true;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static bool is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

/* A field value may hold visible bytes, obs-text, space and tab; no other control byte. */
static bool value_ok(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

/* uri-host [":" port]: reg-name, IPv4 or an IP literal in brackets (RFC 3986), no blanks. */
static bool host_ok(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];
		bool unreserved = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		                  (ch >= 'A' && ch <= 'Z') || strchr("-._~", ch) != NULL;
		if (!unreserved && (ch == '\0' || strchr("!$&'()*+,;=:[]%", ch) == NULL))
			return false;
	}
	return true;
}

static bool is_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * Account for the transfer codings of one Transfer-Encoding value: a list of
 * `token *( OWS ";" OWS parameter )`, empty elements allowed (RFC 9110 §5.6.1).
 */
static void te_value(struct http_framing *f, const char *v, size_t n)
{
	size_t i = 0;
	while (i <= n) {
		size_t end = i;
		while (end < n && v[end] != ',')
			end++;
		size_t a = i, b = end;
		while (a < b && is_ows(v[a]))
			a++;
		while (b > a && is_ows(v[b - 1]))
			b--;
		if (a < b) {
			size_t t = a;
			while (t < b && is_tchar((unsigned char)v[t]))
				t++;
			bool params = false;
			if (t < b) {
				size_t p = t;
				while (p < b && is_ows(v[p]))
					p++;
				if (p == b || v[p] != ';')
					f->te_malformed = true;
				params = true;
			}
			if (t == a)
				f->te_malformed = true;
			bool chunked = !params && name_is(v + a, t - a, "chunked");
			f->te_codings++;
			f->te_chunked += chunked ? 1 : 0;
			f->te_last_chunked = chunked;
		}
		i = end + 1;
	}
}

void http_framing_field(struct http_framing *f, const char *name, size_t name_len,
                        const char *value, size_t value_len, bool folded)
{
	if (folded || !is_token(name, name_len) || !value_ok(value, value_len))
		f->bad_field = true;
	if (name_is(name, name_len, "Host")) {
		f->hosts++;
		if (!host_ok(value, value_len))
			f->bad_host = true;
	} else if (name_is(name, name_len, "Content-Length")) {
		f->lengths++;
		bool digits = value_len > 0 && value_len <= MAX_LENGTH_DIGITS;
		for (size_t i = 0; digits && i < value_len; i++)
			digits = value[i] >= '0' && value[i] <= '9';
		if (!digits)
			f->bad_length = true;
	} else if (name_is(name, name_len, "Transfer-Encoding")) {
		/* libmicrohttpd decodes chunked only for one field spelled exactly so. */
		f->encodings++;
		f->te_exact = f->encodings == 1 && name_is(value, value_len, "chunked");
		te_value(f, value, value_len);
	}
}

enum call_refusal http_framing_verdict(const struct http_framing *f, bool http11)
{
	if (f->bad_field)
		return CALL_REFUSE_BAD_HEADER;
	if ((http11 && f->hosts == 0) || f->hosts > 1 || f->bad_host)
		return CALL_REFUSE_BAD_HOST;
	if (f->lengths > 0 && f->encodings > 0)
		return CALL_REFUSE_FRAMING;
	if (f->lengths > 1 || f->bad_length)
		return CALL_REFUSE_CONTENT_LENGTH;
	if (f->encodings == 0 || (f->te_exact && http11))
		return CALL_REFUSE_NONE;
	/*
	 * Anything else is refused.  HTTP/1.0 has no transfer codings (RFC 9112
	 * §6.1: the framing is faulty); a list whose last coding is not one
	 * chunked cannot be delimited (400); a lone chunked written otherwise
	 * than libmicrohttpd reads it would be framed differently by us and by a
	 * proxy (400); codings before chunked are valid but not decoded by tagd
	 * (501).
	 */
	if (!http11 || f->te_malformed || f->te_codings == 0 || !f->te_last_chunked ||
	    f->te_chunked > 1 || f->te_codings == 1)
		return CALL_REFUSE_TRANSFER_ENCODING;
	return CALL_REFUSE_CODING_UNSUPPORTED;
}

bool http_target_bad(const char *target)
{
	for (const char *p = target; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
			return true;
	return false;
}
