/*
 * hook.c - webhook bodies, signatures, the retry schedule and the address
 * rule.  See hook.h.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hook.h"

static const char *const dialect_names[] = {
        [HOOK_VERS] = "vers", [HOOK_SERVICESTAGE] = "servicestage"};
static const char *const scope_names[] = {[HOOK_SCOPE_ORGANIZATION] = "organization",
                                          [HOOK_SCOPE_REPOSITORY] = "repository",
                                          [HOOK_SCOPE_SERVICESTAGE] = "servicestage"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *hook_dialect_name(enum hook_dialect d)
{
	return (size_t)d < NELEM(dialect_names) ? dialect_names[d] : "?";
}

const char *hook_scope_name(enum hook_scope s)
{
	return (size_t)s < NELEM(scope_names) ? scope_names[s] : "?";
}

bool hook_dialect_parse(const char *name, enum hook_dialect *out)
{
	for (size_t i = 0; name != NULL && i < NELEM(dialect_names); i++) {
		if (strcmp(name, dialect_names[i]) == 0) {
			*out = (enum hook_dialect)i;
			return true;
		}
	}
	return false;
}

bool hook_scope_parse(const char *name, enum hook_scope *out)
{
	for (size_t i = 0; name != NULL && i < NELEM(scope_names); i++) {
		if (strcmp(name, scope_names[i]) == 0) {
			*out = (enum hook_scope)i;
			return true;
		}
	}
	return false;
}

const char *hook_state_name(bool disabled, int64_t failures)
{
	if (disabled)
		return "disabled";
	return failures >= HOOK_TEMP_DISABLE_AFTER ? "temporarily_disabled" : "active";
}

bool hook_secret_check(const char *secret, size_t min_len, char *why, size_t cap)
{
	size_t len = strlen(secret);
	if (len < min_len || len > HOOK_SECRET_MAX) {
		snprintf(why, cap, "secret must be %zu-%d bytes", min_len, HOOK_SECRET_MAX);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)secret[i];
		if (ch < 0x20 || ch == 0x7f) {
			snprintf(why, cap, "secret must not contain control characters");
			return false;
		}
	}
	return true;
}

bool hook_matches(enum hook_scope scope, const char *scope_name, const struct history_event *ev)
{
	if (history_action_is_rule(ev->action))
		return false; /* a protection rule's event: no tag changed */
	switch (scope) {
	case HOOK_SCOPE_ORGANIZATION:
		return true;
	case HOOK_SCOPE_REPOSITORY:
		return ev->scope == HISTORY_SCOPE_REPOSITORY && ev->scope_name != NULL &&
		       strcmp(ev->scope_name, scope_name) == 0;
	case HOOK_SCOPE_SERVICESTAGE:
		return ev->scope == HISTORY_SCOPE_SERVICESTAGE && ev->scope_name != NULL &&
		       strcmp(ev->scope_name, scope_name) == 0;
	}
	return false;
}

/* ---- the schedule ---- */

#define SEC  1000000LL
#define HOUR (3600 * SEC)

/* After the 1st, 2nd... failure in a row; the last step repeats. */
static const int64_t schedule_us[] = {
        5 * SEC,   300 * SEC, 1800 * SEC, 2 * HOUR,  5 * HOUR,
        10 * HOUR, 14 * HOUR, 20 * HOUR,  24 * HOUR,
};

int64_t hook_retry_delay_us(int64_t failures, int64_t retry_after_s)
{
	size_t i = failures < 1 ? 0 : (size_t)(failures - 1);
	if (i >= NELEM(schedule_us))
		i = NELEM(schedule_us) - 1;
	int64_t delay = schedule_us[i];
	if (retry_after_s > 0) {
		int64_t asked = retry_after_s > 24 * 3600 ? 24 * HOUR : retry_after_s * SEC;
		if (asked > delay)
			delay = asked;
	}
	return delay;
}

/* ---- ids and signatures ---- */

static const char hexdig[] = "0123456789abcdef";

static void hex_of(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[b[i] >> 4];
		out[2 * i + 1] = hexdig[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void hook_webhook_id(const char *hook_uuid, const char *event_id, char out[HOOK_WEBHOOK_ID_LEN + 1])
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, strlen(hook_uuid), (const uint8_t *)hook_uuid);
	sha256_update(&ctx, 1, (const uint8_t *)":");
	sha256_update(&ctx, strlen(event_id), (const uint8_t *)event_id);
	sha256_digest(&ctx, sizeof(digest), digest);
	memcpy(out, "msg_", 4);
	hex_of(digest, 16, out + 4);
}

void hook_signature(const char *secret, const char *webhook_id, int64_t timestamp, const char *body,
                    size_t len, char out[HOOK_SIGNATURE_LEN + 1])
{
	struct hmac_sha256_ctx ctx;
	uint8_t mac[SHA256_DIGEST_SIZE];
	char ts[24];
	int n = snprintf(ts, sizeof(ts), "%lld", (long long)timestamp);

	hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
	hmac_sha256_update(&ctx, strlen(webhook_id), (const uint8_t *)webhook_id);
	hmac_sha256_update(&ctx, 1, (const uint8_t *)".");
	hmac_sha256_update(&ctx, (size_t)n, (const uint8_t *)ts);
	hmac_sha256_update(&ctx, 1, (const uint8_t *)".");
	hmac_sha256_update(&ctx, len, (const uint8_t *)body);
	hmac_sha256_digest(&ctx, sizeof(mac), mac);
	memcpy(out, "v1,", 3);
	base64_encode_raw(out + 3, sizeof(mac), mac);
	out[3 + BASE64_ENCODE_RAW_LENGTH(sizeof(mac))] = '\0';
	explicit_bzero(&ctx, sizeof(ctx));
}

void hook_hub_signature(const char *secret, const char *body, size_t len,
                        char out[HOOK_HUB_SIGNATURE_LEN + 1])
{
	struct hmac_sha256_ctx ctx;
	uint8_t mac[SHA256_DIGEST_SIZE];

	hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
	hmac_sha256_update(&ctx, len, (const uint8_t *)body);
	hmac_sha256_digest(&ctx, sizeof(mac), mac);
	memcpy(out, "sha256=", 7);
	hex_of(mac, sizeof(mac), out + 7);
	explicit_bzero(&ctx, sizeof(ctx));
}

/* ---- bodies ---- */

char *hook_vers_body(const struct history_event *ev, size_t *len)
{
	size_t elen;
	char *event = history_event_json(ev, &elen);
	if (event == NULL)
		return NULL;
	json_t *name = ev->scope == HISTORY_SCOPE_COMMIT_TAGS || ev->scope_name == NULL
	                       ? json_null()
	                       : json_string(ev->scope_name);
	char *repo = name ? json_dumps(name, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	json_decref(name);
	char *out = NULL;
	/* The event's members stay as the API shows them; "repository" goes first. */
	if (repo != NULL && elen >= 2 && event[0] == '{') {
		const char *rest = event + 1;
		int n = asprintf(&out, "{\"repository\":%s%s%s", repo, *rest == '}' ? "" : ",",
		                 rest);
		if (n < 0)
			out = NULL;
		else
			*len = (size_t)n;
	}
	free(repo);
	free(event);
	return out;
}

static const char zero_sha[] = "0000000000000000000000000000000000000000";

/* A malloc'd "BASE/PATH" + suffix, or NULL. */
static char *url_of(const char *base, const char *path, const char *suffix)
{
	char *u = NULL;
	return asprintf(&u, "%s/%s%s", base, path, suffix) < 0 ? NULL : u;
}

/* A string or null; *bad is set when s is not valid UTF-8 (or out of memory). */
static json_t *str_or_null(const char *s, bool *bad)
{
	if (s == NULL)
		return json_null();
	json_t *v = json_string(s);
	if (v == NULL)
		*bad = true;
	return v;
}

char *hook_gitlab_body(const struct history_event *ev, const struct hook_project *p, size_t *len)
{
	const char *path = ev->scope_name ? ev->scope_name : "";
	/* GitLab's namespace is the path up to the project's own name. */
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	char *ns = strndup(path, slash ? (size_t)(slash - path) : 0);
	char *web = url_of(p->clone_base, path, "");
	char *git = url_of(p->clone_base, path, ".git");
	char *ref = NULL;
	if (asprintf(&ref, "refs/tags/%s", ev->tag) < 0)
		ref = NULL;
	char *out = NULL;
	bool bad = ns == NULL || web == NULL || git == NULL || ref == NULL;
	if (bad)
		goto done;

	const char *before = ev->previous_commit_id ? ev->previous_commit_id : zero_sha;
	const char *after = ev->commit_id ? ev->commit_id : zero_sha;
	const char *message = ev->action == HISTORY_DELETE ? NULL
	                      : ev->description_changed    ? ev->description
	                                                   : NULL;
	const char *user = ev->token_label ? ev->token_label : ev->token_id ? ev->token_id : "tagd";
	json_t *project = json_pack(
	        "{s:I, s:o, s:s, s:s, s:n, s:n, s:s, s:o, s:i, s:o, s:n, s:s, s:s, s:n, s:s}", "id",
	        (json_int_t)p->id, "name", str_or_null(name, &bad), "description", "", "web_url",
	        web, "avatar_url", "git_ssh_url", "git_http_url", git, "namespace",
	        str_or_null(ns, &bad), "visibility_level", 0, "path_with_namespace",
	        str_or_null(path, &bad), "default_branch", "homepage", web, "url", git, "ssh_url",
	        "http_url", git);
	json_t *repository =
	        json_pack("{s:o, s:s, s:s, s:s, s:s, s:n, s:i}", "name", str_or_null(name, &bad),
	                  "url", git, "description", "", "homepage", web, "git_http_url", git,
	                  "git_ssh_url", "visibility_level", 0);
	json_t *doc = json_pack(
	        "{s:s, s:s, s:s, s:s, s:o, s:b, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:[], s:i}",
	        "object_kind", "tag_push", "event_name", "tag_push", "before", before, "after",
	        after, "ref", str_or_null(ref, &bad), "ref_protected", 0, "checkout_sha",
	        str_or_null(ev->commit_id, &bad), "message", str_or_null(message, &bad),
	        "user_name", str_or_null(user, &bad), "user_username",
	        str_or_null(ev->token_id ? ev->token_id : "tagd", &bad), "project_id",
	        (json_int_t)p->id, "project", project ? project : json_null(), "repository",
	        repository ? repository : json_null(), "commits", "total_commits_count", 0);
	if (doc != NULL && !bad && project != NULL && repository != NULL) {
		out = json_dumps(doc, JSON_COMPACT);
		if (out != NULL)
			*len = strlen(out);
	}
	json_decref(doc);
done:
	free(ns);
	free(web);
	free(git);
	free(ref);
	return out;
}

/* ---- the address rule ---- */

/* Why IPv4 address a (host order) is refused, or NULL. */
static const char *v4_refused(uint32_t a)
{
	uint8_t b0 = (uint8_t)(a >> 24), b1 = (uint8_t)(a >> 16), b2 = (uint8_t)(a >> 8);
	if (b0 == 127)
		return "loopback";
	if (b0 == 0)
		return "unspecified";
	if (b0 == 10 || (b0 == 172 && (b1 & 0xf0) == 16) || (b0 == 192 && b1 == 168))
		return "private";
	if (b0 == 100 && (b1 & 0xc0) == 64)
		return "private (shared address space)";
	if (b0 == 169 && b1 == 254)
		return "link-local";
	if (b0 >= 224 && b0 <= 239)
		return "multicast";
	if (b0 >= 240)
		return "reserved";
	if (b0 == 192 && b1 == 0 && b2 == 0)
		return "reserved";
	if (b0 == 198 && (b1 & 0xfe) == 18)
		return "reserved (benchmarking)";
	return NULL;
}

static uint32_t v4_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *v6_refused(const uint8_t *a)
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
	if (memcmp(a, zero, 15) == 0 && a[15] <= 1)
		return a[15] == 1 ? "loopback" : "unspecified";
	/* IPv4 inside IPv6: judged as the IPv4 address. */
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return v4_refused(v4_at(a + 12));
	if (a[0] == 0x20 && a[1] == 0x02)
		return v4_refused(v4_at(a + 2));
	if ((a[0] & 0xfe) == 0xfc)
		return "private (unique local)";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "link-local";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return "private (site-local)";
	if (a[0] == 0xff)
		return "multicast";
	return NULL;
}

bool hook_addr_refused(const struct sockaddr *sa, const char **why)
{
	const char *r = "not an IP address";
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		r = v4_refused(ntohl(in->sin_addr.s_addr));
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		r = v6_refused(in6->sin6_addr.s6_addr);
	}
	if (why != NULL)
		*why = r;
	return r != NULL;
}

/* ---- Retry-After ---- */

bool hook_retry_after_parse(const char *value, int64_t now_s, int64_t *seconds)
{
	while (*value == ' ' || *value == '\t')
		value++;
	size_t len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t' ||
	                   value[len - 1] == '\r' || value[len - 1] == '\n'))
		len--;
	if (len == 0 || len > 64)
		return false;
	char buf[65];
	memcpy(buf, value, len);
	buf[len] = '\0';
	if (strspn(buf, "0123456789") == len) {
		/* Anything past a day is a day (the schedule's longest step). */
		*seconds = len > 6 ? 86400 : strtoll(buf, NULL, 10);
		return true;
	}
	/* IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (the one form senders must use). */
	struct tm tm = {0};
	const char *end = strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return false;
	int64_t at = (int64_t)timegm(&tm);
	*seconds = at > now_s ? at - now_s : 0;
	return true;
}
