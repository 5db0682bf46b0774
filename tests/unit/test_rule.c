/*
 * test_rule.c - protection rules without a store: pattern matching over the
 * whole name (table-driven), pattern checks, what each mode lets each scope
 * do, the names of modes and scopes.
 */
#include <string.h>

#include "rule.h"
#include "testutil.h"
#include "token_scope.h"

static const struct {
	const char *pattern, *name;
	bool match;
} cases[] = {
        {"v*", "v1.0", true},
        {"v*", "v", true},
        {"v*", "release-v1", false}, /* the whole name: no implicit leading '*' */
        {"*-stable", "1.2-stable", true},
        {"*-stable", "1.2-stable-rc", false},
        {"*", "", true},
        {"*", "anything/at/all", true}, /* '*' crosses '/' (ServiceStage names have them) */
        {"?", "a", true},
        {"?", "", false},
        {"?", "ab", false},
        {"?", "\xc3\xa9", true},           /* one character, two bytes */
        {"v?.0", "v\xe7\x89\x88.0", true}, /* three bytes */
        {"??", "\xc3\xa9", false},
        {"?", "\xff", true}, /* a byte that starts no sequence is one character */
        {"v1.0", "v1.0", true},
        {"v1.0", "v1.00", false},
        {"v1.0", "V1.0", false}, /* byte for byte, no case folding */
        {"a*b*c", "abc", true},
        {"a*b*c", "aXbYc", true},
        {"a*b*c", "aXbYcZ", false},
        {"a*b*c", "acb", false},
        {"*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false}, /* no blow-up */
        {"**", "", true},
        {"*?", "", false},
        {"*?", "x", true},
        {"rel-*-?", "rel-1.2-a", true},
        {"rel-*-?", "rel-1.2-ab", false},
        {"rel-*-?", "rel-1-2-b", true}, /* '*' takes "1-2" */
        {"\xc3\xa9*", "\xc3\xa9t\xc3\xa9", true},
};

START_TEST(matches_the_whole_name)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = rule_pattern_match(cases[i].pattern, cases[i].name);
		ck_assert_msg(got == cases[i].match, "'%s' vs '%s': got %d", cases[i].pattern,
		              cases[i].name, got);
	}
}
END_TEST

START_TEST(pattern_checks)
{
	char longest[RULE_PATTERN_MAX + 2];
	memset(longest, 'v', sizeof(longest));
	longest[RULE_PATTERN_MAX] = '\0';
	ck_assert_ptr_null(rule_pattern_check(longest));
	longest[RULE_PATTERN_MAX] = 'v';
	longest[RULE_PATTERN_MAX + 1] = '\0';
	ck_assert_str_eq(rule_pattern_check(longest), "longer than 255 bytes");
	ck_assert_str_eq(rule_pattern_check(""), "must not be empty");
	ck_assert_str_eq(rule_pattern_check(NULL), "must not be empty");
	ck_assert_str_eq(rule_pattern_check("v\xff"), "not valid UTF-8");
	ck_assert_str_eq(rule_pattern_check("v\xc3"), "not valid UTF-8");
	ck_assert_str_eq(rule_pattern_check("v\n"), "control characters are not allowed");
	ck_assert_str_eq(rule_pattern_check("v\x7f"), "control characters are not allowed");
	ck_assert_str_eq(rule_pattern_check("v\xc2\x85"), "control characters are not allowed");
	ck_assert_ptr_null(rule_pattern_check("*"));
	ck_assert_ptr_null(rule_pattern_check("v\xe7\x89\x88-*"));
	ck_assert_ptr_null(rule_pattern_check("release/v*"));
}
END_TEST

START_TEST(modes_and_scopes)
{
	/* protected: maintain and admin, for every change. */
	for (int ch = RULE_CHANGE_CREATE; ch <= RULE_CHANGE_DELETE; ch++) {
		for (int s = TOKEN_SCOPE_NONE; s <= TOKEN_SCOPE_ADMIN; s++) {
			bool want = s >= TOKEN_SCOPE_MAINTAIN;
			ck_assert_int_eq(rule_allows(RULE_PROTECTED, ch, s), want);
			/* immutable: created by write and up, never changed nor deleted. */
			want = ch == RULE_CHANGE_CREATE && s >= TOKEN_SCOPE_WRITE;
			ck_assert_int_eq(rule_allows(RULE_IMMUTABLE, ch, s), want);
		}
	}
	enum rule_mode m;
	ck_assert(rule_mode_parse("protected", &m) && m == RULE_PROTECTED);
	ck_assert(rule_mode_parse("immutable", &m) && m == RULE_IMMUTABLE);
	ck_assert(!rule_mode_parse("Immutable", &m));
	ck_assert(!rule_mode_parse(NULL, &m));
	ck_assert_str_eq(rule_mode_name(RULE_IMMUTABLE), "immutable");
	ck_assert_str_eq(rule_mode_name((enum rule_mode)9), "unknown");

	enum token_scope sc;
	const char *names[] = {"read", "write", "maintain", "admin"};
	for (int i = 0; i < 4; i++) {
		ck_assert(token_scope_parse(names[i], &sc));
		ck_assert_int_eq(sc, TOKEN_SCOPE_READ + i);
		ck_assert_str_eq(token_scope_name(sc), names[i]);
	}
	ck_assert(!token_scope_parse("none", &sc)); /* no token is made with no rights */
	ck_assert(!token_scope_parse("Admin", &sc));
	ck_assert(!token_scope_parse(NULL, &sc));
	ck_assert_int_eq(TOKEN_SCOPE_DEFAULT, TOKEN_SCOPE_WRITE);
}
END_TEST

static Suite *rule_suite(void)
{
	Suite *s = suite_create("rule");
	TCase *tc = tcase_create("rule");
	tcase_add_test(tc, matches_the_whole_name);
	tcase_add_test(tc, pattern_checks);
	tcase_add_test(tc, modes_and_scopes);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(rule_suite)
