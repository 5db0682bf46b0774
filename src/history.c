/*
 * history.c - events: names, the canonical form (RFC 8785), the chain hash
 * and the API's JSON.  See history.h.
 */
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "history.h"
#include "names.h"

_Static_assert(HISTORY_HASH_LEN == SHA256_DIGEST_SIZE, "hash size");

/* Past this an answer is refused rather than built: the store keeps pages well below it. */
#define HISTORY_JSON_MAX (256u << 20)

static const char *const action_names[] = {
        [HISTORY_CREATE] = "create",     [HISTORY_MOVE] = "move",
        [HISTORY_UPDATE] = "update",     [HISTORY_DELETE] = "delete",
        [HISTORY_RULE_ADD] = "rule_add", [HISTORY_RULE_REMOVE] = "rule_remove",
};
static const char *const scope_names[] = {
        [HISTORY_SCOPE_REPOSITORY] = "repository",
        [HISTORY_SCOPE_COMMIT_TAGS] = "commit_tags",
        [HISTORY_SCOPE_SERVICESTAGE] = "servicestage",
        [HISTORY_SCOPE_ORGANIZATION] = "organization",
};
static const char *const dialect_names[] = {
        [HISTORY_VERS] = "vers",
        [HISTORY_SERVICESTAGE] = "servicestage",
        [HISTORY_CLI] = "cli",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *history_action_name(enum history_action a)
{
	return (size_t)a < COUNT(action_names) ? action_names[a] : "unknown";
}

const char *history_scope_name(enum history_scope s)
{
	return (size_t)s < COUNT(scope_names) ? scope_names[s] : "unknown";
}

const char *history_dialect_name(enum history_dialect d)
{
	return (size_t)d < COUNT(dialect_names) ? dialect_names[d] : "unknown";
}

bool history_action_is_rule(enum history_action a)
{
	return a == HISTORY_RULE_ADD || a == HISTORY_RULE_REMOVE;
}

static bool parse_name(const char *const *names, size_t n, const char *name, int *out)
{
	for (size_t i = 0; name != NULL && i < n; i++) {
		if (strcmp(names[i], name) == 0) {
			*out = (int)i;
			return true;
		}
	}
	return false;
}

bool history_action_parse(const char *name, enum history_action *out)
{
	int v;
	if (!parse_name(action_names, COUNT(action_names), name, &v))
		return false;
	*out = (enum history_action)v;
	return true;
}

bool history_scope_parse(const char *name, enum history_scope *out)
{
	int v;
	if (!parse_name(scope_names, COUNT(scope_names), name, &v))
		return false;
	*out = (enum history_scope)v;
	return true;
}

bool history_dialect_parse(const char *name, enum history_dialect *out)
{
	int v;
	if (!parse_name(dialect_names, COUNT(dialect_names), name, &v))
		return false;
	*out = (enum history_dialect)v;
	return true;
}

void history_hex(const uint8_t hash[HISTORY_HASH_LEN], char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < HISTORY_HASH_LEN; i++) {
		out[2 * i] = hex[hash[i] >> 4];
		out[2 * i + 1] = hex[hash[i] & 15];
	}
	out[HISTORY_HEX_LEN] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool history_unhex(const char *text, uint8_t hash[HISTORY_HASH_LEN])
{
	if (text == NULL || strlen(text) != HISTORY_HEX_LEN)
		return false;
	for (size_t i = 0; i < HISTORY_HASH_LEN; i++) {
		int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		hash[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* ---- a bounded text buffer for the JSON this module writes ---- */

struct out {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void out_add(struct out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (n > HISTORY_JSON_MAX - o->len - 1) {
		o->failed = true;
		return;
	}
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 512;
		while (cap < o->len + n + 1)
			cap = cap > HISTORY_JSON_MAX / 2 ? HISTORY_JSON_MAX : cap * 2;
		char *b = realloc(o->buf, cap);
		if (b == NULL) {
			o->failed = true;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void out_lit(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

/* Hand the text over (NULL when anything failed). */
static char *out_take(struct out *o, size_t *len)
{
	if (o->failed || o->buf == NULL) {
		free(o->buf);
		*len = 0;
		return NULL;
	}
	*len = o->len;
	return o->buf;
}

/* A JSON string as RFC 8785 writes it; invalid UTF-8 becomes U+FFFD; NULL is null. */
static void out_string(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (s == NULL) {
		out_lit(o, "null");
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), run = 0;
	out_lit(o, "\"");
	for (size_t i = 0; i < n;) {
		unsigned char ch = p[i];
		const char *esc = NULL;
		char u[7];
		size_t step = 1;
		if (ch == '"')
			esc = "\\\"";
		else if (ch == '\\')
			esc = "\\\\";
		else if (ch == '\b')
			esc = "\\b";
		else if (ch == '\t')
			esc = "\\t";
		else if (ch == '\n')
			esc = "\\n";
		else if (ch == '\f')
			esc = "\\f";
		else if (ch == '\r')
			esc = "\\r";
		else if (ch < 0x20) {
			snprintf(u, sizeof(u), "\\u00%c%c", hex[ch >> 4], hex[ch & 15]);
			esc = u;
		} else if (ch >= 0x80) {
			unsigned cp;
			step = names_utf8_decode(p + i, n - i, &cp);
			if (step == 0) {
				esc = "\xef\xbf\xbd"; /* U+FFFD */
				step = 1;
			}
		}
		if (esc == NULL) {
			i += step;
			continue;
		}
		out_add(o, s + run, i - run);
		out_lit(o, esc);
		i += step;
		run = i;
	}
	out_add(o, s + run, n - run);
	out_lit(o, "\"");
}

static void out_key(struct out *o, const char *key, bool *first)
{
	out_lit(o, *first ? "\"" : ",\"");
	out_lit(o, key);
	out_lit(o, "\":");
	*first = false;
}

static void out_int(struct out *o, int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	out_lit(o, buf);
}

static void out_hash(struct out *o, const uint8_t hash[HISTORY_HASH_LEN])
{
	char hex[HISTORY_HEX_LEN + 3];
	hex[0] = '"';
	history_hex(hash, hex + 1);
	hex[HISTORY_HEX_LEN + 1] = '"';
	hex[HISTORY_HEX_LEN + 2] = '\0';
	out_lit(o, hex);
}

/* The scope object: {"kind":...} and the names that say where. */
static void out_scope(struct out *o, const struct history_event *ev)
{
	out_lit(o, "{\"kind\":");
	out_string(o, history_scope_name(ev->scope));
	switch (ev->scope) {
	case HISTORY_SCOPE_REPOSITORY:
		out_lit(o, ",\"repository\":");
		out_string(o, ev->scope_name);
		break;
	case HISTORY_SCOPE_SERVICESTAGE: {
		/* "namespace/project": namespaces have no '/', projects may. */
		const char *name = ev->scope_name ? ev->scope_name : "";
		const char *slash = strchr(name, '/');
		size_t nslen = slash ? (size_t)(slash - name) : strlen(name);
		char *ns = strndup(name, nslen);
		if (ns == NULL) {
			o->failed = true;
			return;
		}
		out_lit(o, ",\"namespace\":");
		out_string(o, ns);
		out_lit(o, ",\"project\":");
		out_string(o, slash ? slash + 1 : "");
		free(ns);
		break;
	}
	case HISTORY_SCOPE_COMMIT_TAGS:
	case HISTORY_SCOPE_ORGANIZATION:
		break;
	}
	out_lit(o, "}");
}

/*
 * Every member of ev in name order (RFC 8785 sorts by UTF-16 code units;
 * the names are ASCII, so that is byte order), with the two hashes only when
 * with_hashes.  "rule" only on rule events: the canonical form of a tag
 * event is what it was before rules existed.
 */
static void out_event(struct out *o, const struct history_event *ev, bool with_hashes)
{
	char at[CLOCK_RFC3339_LEN];
	bool first = true;

	clock_format_rfc3339(ev->at, at);
	out_lit(o, "{");
	out_key(o, "action", &first);
	out_string(o, history_action_name(ev->action));
	out_key(o, "actor", &first);
	if (ev->token_id == NULL) {
		out_lit(o, "null");
	} else {
		out_lit(o, "{\"label\":");
		out_string(o, ev->token_label);
		out_lit(o, ",\"token_id\":");
		out_string(o, ev->token_id);
		out_lit(o, "}");
	}
	out_key(o, "at", &first);
	out_string(o, at);
	out_key(o, "commit_id", &first);
	out_string(o, ev->commit_id);
	out_key(o, "description", &first);
	out_string(o, ev->description_changed ? ev->description : NULL);
	out_key(o, "description_changed", &first);
	out_lit(o, ev->description_changed ? "true" : "false");
	out_key(o, "dialect", &first);
	out_string(o, history_dialect_name(ev->dialect));
	if (with_hashes) {
		out_key(o, "hash", &first);
		out_hash(o, ev->hash);
	}
	out_key(o, "id", &first);
	out_string(o, ev->id);
	out_key(o, "previous_commit_id", &first);
	out_string(o, ev->previous_commit_id);
	out_key(o, "previous_description", &first);
	out_string(o, ev->description_changed ? ev->previous_description : NULL);
	if (with_hashes) {
		out_key(o, "previous_hash", &first);
		out_hash(o, ev->previous_hash);
	}
	out_key(o, "previous_seq", &first);
	if (ev->previous_seq > 0)
		out_int(o, ev->previous_seq);
	else
		out_lit(o, "null");
	out_key(o, "request_id", &first);
	out_string(o, ev->request_id);
	if (history_action_is_rule(ev->action)) {
		out_key(o, "rule", &first);
		out_lit(o, "{\"mode\":");
		out_string(o, ev->rule_mode);
		out_lit(o, ",\"pattern\":");
		out_string(o, ev->rule_pattern);
		out_lit(o, "}");
	}
	out_key(o, "scope", &first);
	out_scope(o, ev);
	out_key(o, "seq", &first);
	out_int(o, ev->seq);
	out_key(o, "tag", &first);
	out_string(o, ev->tag);
	out_lit(o, "}");
}

char *history_canonical(const struct history_event *ev, size_t *len)
{
	struct out o = {0};
	out_event(&o, ev, false);
	return out_take(&o, len);
}

bool history_seal(struct history_event *ev)
{
	size_t len;
	char *canon = history_canonical(ev, &len);
	if (canon == NULL)
		return false;
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, HISTORY_HASH_LEN, ev->previous_hash);
	sha256_update(&ctx, len, (const uint8_t *)canon);
	sha256_digest(&ctx, HISTORY_HASH_LEN, ev->hash);
	free(canon);
	return true;
}

char *history_event_json(const struct history_event *ev, size_t *len)
{
	struct out o = {0};
	out_event(&o, ev, true);
	return out_take(&o, len);
}

char *history_page_json(const struct history_event *events, size_t n, int64_t next_after,
                        size_t *len)
{
	struct out o = {0};
	out_lit(&o, "{\"events\":[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			out_lit(&o, ",");
		out_event(&o, &events[i], true);
	}
	out_lit(&o, "],\"next_after\":");
	if (next_after < 0)
		out_lit(&o, "null");
	else
		out_int(&o, next_after);
	out_lit(&o, "}");
	return out_take(&o, len);
}
