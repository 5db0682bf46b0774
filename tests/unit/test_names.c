/* Unit tests: names.c - the validators at their edges. */
#include <string.h>

#include "names.h"
#include "testutil.h"

static char *repeat(char *buf, const char *unit, size_t times)
{
	buf[0] = '\0';
	for (size_t i = 0; i < times; i++)
		strcat(buf, unit);
	return buf;
}

START_TEST(vers_tag_lengths)
{
	char buf[1024];
	ck_assert_ptr_null(names_vers_tag(repeat(buf, "a", 1)));
	ck_assert_ptr_null(names_vers_tag(repeat(buf, "a", 128)));
	ck_assert_str_eq(names_vers_tag(repeat(buf, "a", 129)),
	                 "Tag name must be 1-128 characters");
	ck_assert_str_eq(names_vers_tag(""), "Tag name must be 1-128 characters");
	/* Bytes, not characters: 64 two-byte letters fit, 65 do not. */
	ck_assert_ptr_null(names_vers_tag(repeat(buf, "é", 64)));
	ck_assert_str_eq(names_vers_tag(repeat(buf, "é", 65)), "Tag name must be 1-128 characters");
	/* 42 three-byte CJK characters = 126 bytes; 43 = 129 bytes. */
	ck_assert_ptr_null(names_vers_tag(repeat(buf, "版", 42)));
	ck_assert_ptr_nonnull(names_vers_tag(repeat(buf, "版", 43)));
}
END_TEST

START_TEST(vers_tag_alphabet)
{
	const char *ok[] = {"latest",  "v1.0", "v1.0-rc_2", "é",   "版本",
	                    "Ünïcödé", "٣",    "Ⅻ",         "...", "-"};
	const char *bad[] = {"a b",  "a/b",  "a:b",  "a@b", "tag!", "\xf0\x9f\x98\x80",
	                     "a\tb", "\xff", "\xc3", "a+b"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(names_vers_tag(ok[i]) == NULL, "should accept %s", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_str_eq(names_vers_tag(bad[i]),
		                 "Tag name can only contain alphanumeric characters, hyphens, "
		                 "underscores, and dots");
}
END_TEST

START_TEST(commit_tag_lengths)
{
	char buf[256];
	ck_assert_ptr_null(names_commit_tag(repeat(buf, "x", 64)));
	ck_assert_str_eq(names_commit_tag(repeat(buf, "x", 65)),
	                 "Tag name must be 1-64 characters");
}
END_TEST

START_TEST(repo_names)
{
	char buf[512];
	ck_assert_ptr_null(names_vers_repo("my-app"));
	ck_assert_ptr_null(names_vers_repo("team/app.v2"));
	ck_assert_ptr_null(names_vers_repo(repeat(buf, "r", 128)));
	ck_assert_ptr_nonnull(names_vers_repo(repeat(buf, "r", 129)));
	ck_assert_ptr_nonnull(names_vers_repo(""));
	ck_assert_ptr_nonnull(names_vers_repo("/app"));
	ck_assert_ptr_nonnull(names_vers_repo("app/"));
	ck_assert_ptr_nonnull(names_vers_repo("a//b"));
	ck_assert_ptr_nonnull(names_vers_repo("a b"));
}
END_TEST

START_TEST(git_refs)
{
	const char *ok[] = {"v1.0", "release/2024.1", "feature/a-b_c", "@", "a@b", "版本", "x.y.z"};
	const char *bad[] = {"",       "-rc",          "a..b", "a b",  "a~1",   "a^",      "a:b",
	                     "a?",     "a*",           "a[",   "a\\b", "a@{1}", ".hidden", "dir/.x",
	                     "x.lock", "dir/x.lock/y", "a/",   "/a",   "a//b",  "a.",      "a\x01"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(names_git_ref(ok[i]) == NULL, "should accept %s", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(names_git_ref(bad[i]) != NULL, "should refuse %s", bad[i]);
}
END_TEST

START_TEST(uuids)
{
	char out[37];
	ck_assert(names_uuid_normalize("67E55044-10B1-426F-9247-BB680E5FE0C8", out));
	ck_assert_str_eq(out, "67e55044-10b1-426f-9247-bb680e5fe0c8");
	ck_assert(names_uuid_normalize("67e5504410b1426f9247bb680e5fe0c8", out));
	ck_assert_str_eq(out, "67e55044-10b1-426f-9247-bb680e5fe0c8");
	ck_assert(names_uuid_normalize("{67e55044-10b1-426f-9247-bb680e5fe0c8}", out));
	ck_assert(names_uuid_normalize("urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8", out));
	ck_assert(!names_uuid_normalize("67e55044-10b1-426f-9247-bb680e5fe0c", out));
	ck_assert(!names_uuid_normalize("67e55044x10b1-426f-9247-bb680e5fe0c8", out));
	ck_assert(!names_uuid_normalize("g7e55044-10b1-426f-9247-bb680e5fe0c8", out));
	ck_assert(!names_uuid_normalize("", out));
}
END_TEST

START_TEST(utf8_decoder)
{
	unsigned cp;
	ck_assert_uint_eq(names_utf8_decode((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
	ck_assert_uint_eq(cp, 0xe9);
	ck_assert_uint_eq(names_utf8_decode((const unsigned char *)"\xc0\xaf", 2, &cp), 0);
	ck_assert_uint_eq(names_utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp), 0);
	ck_assert_uint_eq(names_utf8_decode((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp), 0);
	ck_assert(names_is_alnum(0x7248));   /* 版 */
	ck_assert(!names_is_alnum(0x1f600)); /* emoji */
	ck_assert(!names_is_alnum('-'));
}
END_TEST

static Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, vers_tag_lengths);
	tcase_add_test(tc, vers_tag_alphabet);
	tcase_add_test(tc, commit_tag_lengths);
	tcase_add_test(tc, repo_names);
	tcase_add_test(tc, git_refs);
	tcase_add_test(tc, uuids);
	tcase_add_test(tc, utf8_decoder);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(names_suite)
