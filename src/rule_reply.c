/*
 * rule_reply.c - the JSON of a protection rule, and the checks of its
 * fields.  See rule_reply.h.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "rule_reply.h"

/* The scope object, as history.c writes it for events. */
static json_t *scope_json(const struct store_rule *r)
{
	const char *kind = history_scope_name(r->scope);
	if (r->scope == HISTORY_SCOPE_REPOSITORY)
		return json_pack("{s:s, s:s}", "kind", kind, "repository", r->scope_name);
	if (r->scope != HISTORY_SCOPE_SERVICESTAGE)
		return json_pack("{s:s}", "kind", kind);
	/* "namespace/project": namespaces have no '/', projects may. */
	const char *slash = strchr(r->scope_name, '/');
	int nslen = slash ? (int)(slash - r->scope_name) : (int)strlen(r->scope_name);
	return json_pack("{s:s, s:s%, s:s}", "kind", kind, "namespace", r->scope_name,
	                 (size_t)nslen, "project", slash ? slash + 1 : "");
}

json_t *rule_reply_json(const struct store_rule *r)
{
	char at[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(r->created_at, at);
	return json_pack("{s:s, s:s, s:o, s:s, s:I}", "pattern", r->pattern, "mode",
	                 rule_mode_name(r->mode), "scope", scope_json(r), "created_at", at, "seq",
	                 (json_int_t)r->seq);
}

json_t *rule_reply_list(const struct store_rule *list, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		if (json_array_append_new(arr, rule_reply_json(&list[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr ? json_pack("{s:o}", "protected_tags", arr) : NULL;
}

const char *rule_reply_check(const char *pattern, const char *mode_name, enum rule_mode *mode,
                             char *buf, size_t cap)
{
	const char *why = rule_pattern_check(pattern);
	if (why != NULL) {
		snprintf(buf, cap, "invalid pattern: %s", why);
		return buf;
	}
	if (mode_name != NULL && !rule_mode_parse(mode_name, mode)) {
		snprintf(buf, cap, "invalid mode: it is protected or immutable");
		return buf;
	}
	return NULL;
}
