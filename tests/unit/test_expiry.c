/* Unit tests: expiry.c - how an operator writes a token's expiry. */
#include "clock.h"
#include "expiry.h"
#include "testutil.h"

#define S      1000000LL
#define NOW_US (1700000000LL * S) /* 2023-11-14T22:13:20Z */

START_TEST(durations)
{
	static const struct {
		const char *text;
		int64_t seconds;
	} cases[] = {
	        {"45s", 45},        {"30m", 1800}, {"12h", 12 * 3600}, {"90d", 90 * 86400},
	        {"2w", 14 * 86400}, {"1d", 86400}, {"007h", 7 * 3600}, {"36500d", 36500 * 86400LL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t at = 0;
		ck_assert_int_eq(expiry_parse(cases[i].text, NOW_US, &at), EXPIRY_OK);
		ck_assert_int_eq(at, NOW_US + cases[i].seconds * S);
	}
}
END_TEST

START_TEST(dates)
{
	int64_t at = 0, want = 0;
	ck_assert_int_eq(expiry_parse("2024-01-31", NOW_US, &at), EXPIRY_OK);
	ck_assert(clock_parse_rfc3339("2024-01-31T00:00:00Z", &want));
	ck_assert_int_eq(at, want);
	ck_assert_int_eq(expiry_parse("2024-01-31T12:00:00+02:00", NOW_US, &at), EXPIRY_OK);
	ck_assert(clock_parse_rfc3339("2024-01-31T10:00:00Z", &want));
	ck_assert_int_eq(at, want);
	ck_assert_int_eq(expiry_parse("2023-11-14T22:13:21Z", NOW_US, &at), EXPIRY_OK);
	ck_assert_int_eq(at, NOW_US + S);
}
END_TEST

START_TEST(refused)
{
	static const struct {
		const char *text;
		enum expiry_status st;
	} cases[] = {
	        {"", EXPIRY_BAD},
	        {"90", EXPIRY_BAD},
	        {"d", EXPIRY_BAD},
	        {"-5d", EXPIRY_BAD},
	        {"5 d", EXPIRY_BAD},
	        {"5dd", EXPIRY_BAD},
	        {"5y", EXPIRY_BAD},
	        {"1.5h", EXPIRY_BAD},
	        {"2024-02-30", EXPIRY_BAD},
	        {"2024-1-3", EXPIRY_BAD},
	        {"tomorrow", EXPIRY_BAD},
	        {"2024-01-31T12:00:00", EXPIRY_BAD}, /* no zone */
	        {"0d", EXPIRY_PAST},
	        {"2023-11-14", EXPIRY_PAST},
	        {"2023-11-14T22:13:20Z", EXPIRY_PAST}, /* now is already over */
	        {"1999-01-01", EXPIRY_PAST},
	        {"36700d", EXPIRY_TOO_FAR},
	        {"99999999999999999999999h", EXPIRY_TOO_FAR},
	        {"2200-01-01", EXPIRY_TOO_FAR},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t at = 42;
		ck_assert_msg(expiry_parse(cases[i].text, NOW_US, &at) == cases[i].st,
		              "'%s' should give %d", cases[i].text, cases[i].st);
		ck_assert_int_eq(at, 42);
	}
	ck_assert_str_eq(expiry_status_str(EXPIRY_PAST), "--expires must be in the future");
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("expiry");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, durations);
	tcase_add_test(tc, dates);
	tcase_add_test(tc, refused);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(make_suite)
