/*
 * rule - protection rules of tag names, without a store: their modes, their
 * patterns, matching a name, and what a rule lets a token do.
 *
 * A pattern is matched against the whole tag name: '*' stands for any run
 * of characters (none included), '?' for exactly one character (a UTF-8
 * sequence; a byte that starts none counts as one), anything else for
 * itself, byte for byte.  No tag name of either dialect holds '*' or '?',
 * so they need no escape.  Matching takes O(pattern x name) steps at worst,
 * never more, whatever the input.
 */
#ifndef TAGD_RULE_H
#define TAGD_RULE_H

#include <stdbool.h>

#include "token_scope.h"

#define RULE_PATTERN_MAX 255 /* bytes: as long as the longest tag name (ServiceStage) */

enum rule_mode {
	RULE_PROTECTED, /* only maintain and admin tokens create, change or delete a match */
	RULE_IMMUTABLE, /* a match may be created (write and up) and never changed or deleted */
};

/* What a change does to a tag. */
enum rule_change {
	RULE_CHANGE_CREATE,
	RULE_CHANGE_SET, /* a move, a description change, a PATCH that changes nothing */
	RULE_CHANGE_DELETE,
};

/* "protected", "immutable" ("unknown" past the end). */
const char *rule_mode_name(enum rule_mode m);

/* The mode named name; false for anything else, NULL included. */
bool rule_mode_parse(const char *name, enum rule_mode *out);

/*
 * NULL when pattern is acceptable: 1..RULE_PATTERN_MAX bytes of UTF-8
 * without control characters.  Otherwise the reason, a static string.
 */
const char *rule_pattern_check(const char *pattern);

/* Whether name matches pattern as a whole (see above).  Any bytes are safe. */
bool rule_pattern_match(const char *pattern, const char *name);

/* Whether a rule of mode lets a token of scope make change to a tag it matches. */
bool rule_allows(enum rule_mode mode, enum rule_change change, enum token_scope scope);

#endif
