/* Unit tests: clock.c - RFC 3339 formatting and parsing, timed-wait deadlines. */
#include <string.h>
#include <time.h>

#include "clock.h"
#include "testutil.h"

static int64_t parsed(const char *text)
{
	int64_t us = -1;
	ck_assert_msg(clock_parse_rfc3339(text, &us), "refused %s", text);
	return us;
}

START_TEST(format_known)
{
	char buf[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(0, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000000Z");
	clock_format_rfc3339(1714564800123456, buf);
	ck_assert_str_eq(buf, "2024-05-01T12:00:00.123456Z");
	/* Leap day. */
	clock_format_rfc3339(1709164800000000 + 1, buf);
	ck_assert_str_eq(buf, "2024-02-29T00:00:00.000001Z");
	/* Before the epoch the fraction still counts up. */
	clock_format_rfc3339(-1, buf);
	ck_assert_str_eq(buf, "1969-12-31T23:59:59.999999Z");
	clock_format_rfc3339(-1000000, buf);
	ck_assert_str_eq(buf, "1969-12-31T23:59:59.000000Z");
	ck_assert_uint_eq(strlen(buf), CLOCK_RFC3339_LEN - 1);
}
END_TEST

START_TEST(round_trip)
{
	char buf[CLOCK_RFC3339_LEN];
	const int64_t values[] = {0,
	                          1,
	                          999999,
	                          1000000,
	                          1714564800123456,
	                          951782400000000 /* 2000-02-29 */,
	                          4107542399999999 /* 2100-02-28T23:59:59.999999 */,
	                          -1,
	                          -86400000001,
	                          253402300799999999 /* 9999-12-31T23:59:59.999999 */};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		clock_format_rfc3339(values[i], buf);
		ck_assert_msg(parsed(buf) == values[i], "%s", buf);
	}
	int64_t now = clock_now_us();
	clock_format_rfc3339(now, buf);
	ck_assert_int_eq(parsed(buf), now);
	ck_assert_int_gt(now, 1700000000000000);
}
END_TEST

START_TEST(parse_variants)
{
	ck_assert_int_eq(parsed("1970-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(parsed("1970-01-01t00:00:00z"), 0);
	ck_assert_int_eq(parsed("2024-05-01T12:00:00Z"), 1714564800000000);
	ck_assert_int_eq(parsed("2024-05-01T12:00:00.5Z"), 1714564800500000);
	ck_assert_int_eq(parsed("2024-05-01T12:00:00.123Z"), 1714564800123000);
	/* Digits past microseconds are dropped, not rounded into the seconds. */
	ck_assert_int_eq(parsed("2024-05-01T12:00:00.1234569999Z"), 1714564800123456);
	/* Offsets. */
	ck_assert_int_eq(parsed("2024-05-01T14:00:00+02:00"), 1714564800000000);
	ck_assert_int_eq(parsed("2024-05-01T07:30:00-04:30"), 1714564800000000);
	ck_assert_int_eq(parsed("2024-05-01T12:00:00+00:00"), 1714564800000000);
	ck_assert_int_eq(parsed("2024-05-01T12:00:00-00:00"), 1714564800000000);
	ck_assert_int_eq(parsed("2024-05-02T00:59:00.25+12:59"), 1714564800250000);
	/* Leap days. */
	ck_assert_int_eq(parsed("2024-02-29T00:00:00Z"), 1709164800000000);
	ck_assert_int_eq(parsed("2000-02-29T00:00:00Z"), 951782400000000);
	/* A leap second is taken as the second before it. */
	ck_assert_int_eq(parsed("2016-12-31T23:59:60Z"), parsed("2016-12-31T23:59:59Z"));
}
END_TEST

START_TEST(parse_invalid)
{
	const char *bad[] = {
	        "",
	        "2024",
	        "2024-05-01",
	        "2024-05-01T12:00:00",      /* no zone */
	        "2024-05-01 12:00:00Z",     /* space */
	        "2024-05-01T12:00Z",        /* no seconds */
	        "2024-5-01T12:00:00Z",      /* short month */
	        "2024-13-01T12:00:00Z",     /* month */
	        "2024-00-01T12:00:00Z",     /* month */
	        "2024-04-31T12:00:00Z",     /* day */
	        "2024-05-00T12:00:00Z",     /* day */
	        "2023-02-29T12:00:00Z",     /* not a leap year */
	        "1900-02-29T12:00:00Z",     /* century, not a leap year */
	        "2100-02-29T00:00:00Z",     /* century */
	        "2024-05-01T24:00:00Z",     /* hour */
	        "2024-05-01T12:60:00Z",     /* minute */
	        "2024-05-01T12:00:61Z",     /* second */
	        "2024-05-01T12:00:00.Z",    /* empty fraction */
	        "2024-05-01T12:00:00ZZ",    /* trailing */
	        "2024-05-01T12:00:00Z ",    /* trailing blank */
	        "2024-05-01T12:00:00+2:00", /* short offset */
	        "2024-05-01T12:00:00+0200", /* no colon */
	        "2024-05-01T12:00:00+24:00",
	        "2024-05-01T12:00:00+01:60",
	        "2024-05-01T12:00:00+",
	        "2024-05-01T12:00:00+01:00:00",
	        "2024-05-01X12:00:00Z",
	        "2024/05/01T12:00:00Z",
	        "+024-05-01T12:00:00Z",
	        "2024-05-01T12:00:00.12a3Z",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t us = 42;
		ck_assert_msg(!clock_parse_rfc3339(bad[i], &us), "accepted '%s'", bad[i]);
		ck_assert_int_eq(us, 42);
	}
}
END_TEST

START_TEST(realtime_deadlines)
{
	for (unsigned ms = 0; ms <= 2500; ms += 499) {
		struct timespec before, at;
		clock_gettime(CLOCK_REALTIME, &before);
		clock_realtime_after_ms(ms, &at);
		ck_assert_int_ge(at.tv_nsec, 0);
		ck_assert_int_lt(at.tv_nsec, 1000000000L);
		int64_t diff_us = ((int64_t)at.tv_sec - before.tv_sec) * 1000000 +
		                  (at.tv_nsec - before.tv_nsec) / 1000;
		ck_assert_int_ge(diff_us, (int64_t)ms * 1000);
		ck_assert_int_lt(diff_us, (int64_t)ms * 1000 + 1000000); /* within a second */
	}
}
END_TEST

static Suite *clock_suite(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, format_known);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, parse_variants);
	tcase_add_test(tc, parse_invalid);
	tcase_add_test(tc, realtime_deadlines);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(clock_suite)
