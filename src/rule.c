/*
 * rule.c - protection rules: modes, patterns, matching, the policy.  See rule.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "names.h"
#include "rule.h"

static const char *const mode_names[] = {
        [RULE_PROTECTED] = "protected",
        [RULE_IMMUTABLE] = "immutable",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *rule_mode_name(enum rule_mode m)
{
	return (size_t)m < COUNT(mode_names) ? mode_names[m] : "unknown";
}

bool rule_mode_parse(const char *name, enum rule_mode *out)
{
	for (size_t i = 0; name != NULL && i < COUNT(mode_names); i++) {
		if (strcmp(mode_names[i], name) == 0) {
			*out = (enum rule_mode)i;
			return true;
		}
	}
	return false;
}

const char *rule_pattern_check(const char *pattern)
{
	size_t n = pattern ? strlen(pattern) : 0;
	if (n == 0)
		return "must not be empty";
	if (n > RULE_PATTERN_MAX)
		return "longer than 255 bytes";
	const unsigned char *p = (const unsigned char *)pattern;
	for (size_t i = 0; i < n;) {
		unsigned cp = p[i];
		size_t step = 1;
		if (p[i] >= 0x80) {
			step = names_utf8_decode(p + i, n - i, &cp);
			if (step == 0)
				return "not valid UTF-8";
		}
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return "control characters are not allowed";
		i += step;
	}
	return NULL;
}

/* The length of the character at s (n bytes left, n > 0): a UTF-8 sequence, or one byte. */
static size_t char_len(const unsigned char *s, size_t n)
{
	unsigned cp;
	size_t k = s[0] < 0x80 ? 1 : names_utf8_decode(s, n, &cp);
	return k > 0 ? k : 1;
}

/*
 * Left to right, remembering only the last '*': when the rest fails, that
 * star takes one more character and the rest is tried again.  An earlier
 * star never needs to take more, because the last one can take anything it
 * would have, so the work is bounded by pattern x name.
 */
bool rule_pattern_match(const char *pattern, const char *name)
{
	const unsigned char *p = (const unsigned char *)pattern, *s = (const unsigned char *)name;
	size_t pn = strlen(pattern), sn = strlen(name);
	size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = ++pi;
			mark = si;
		} else if (pi < pn && p[pi] == '?') {
			pi++;
			si += char_len(s + si, sn - si);
		} else if (pi < pn && p[pi] == s[si]) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			pi = star;
			mark += char_len(s + mark, sn - mark);
			si = mark;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

bool rule_allows(enum rule_mode mode, enum rule_change change, enum token_scope scope)
{
	if (mode == RULE_IMMUTABLE)
		return change == RULE_CHANGE_CREATE && scope >= TOKEN_SCOPE_WRITE;
	return scope >= TOKEN_SCOPE_MAINTAIN;
}
