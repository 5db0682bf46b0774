/*
 * rule_reply - a protection rule as both dialects answer it (an extension):
 *
 *     {"pattern": "v*", "mode": "immutable",
 *      "scope": {"kind": "repository", "repository": "app"},
 *      "created_at": "2026-12-01T09:05:30.230684Z", "seq": 12}
 *
 * scope is as history events say it ({"kind": "organization"}, ...,
 * {"kind": "servicestage", "namespace": ..., "project": ...}); seq is the
 * history event that added the rule.  Also the checks of a rule's fields
 * that every entry point (both dialects, the command line) makes.
 */
#ifndef TAGD_RULE_REPLY_H
#define TAGD_RULE_REPLY_H

#include <jansson.h>
#include <stddef.h>

#include "store_rule.h"

/* The JSON of r; NULL when out of memory. */
json_t *rule_reply_json(const struct store_rule *r);

/* {"protected_tags": [rule...]}; NULL when out of memory. */
json_t *rule_reply_list(const struct store_rule *list, size_t n);

/*
 * Check a rule's pattern and mode (mode may be NULL when only a pattern is
 * given, to remove a rule): NULL and *mode set when they are acceptable,
 * otherwise the reason ("invalid pattern: must not be empty", "invalid
 * mode: ..."), written into buf (cap bytes).
 */
const char *rule_reply_check(const char *pattern, const char *mode_name, enum rule_mode *mode,
                             char *buf, size_t cap);

#endif
