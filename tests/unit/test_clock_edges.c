/*
 * test_clock_edges - RFC 3339 times at the edges of four-digit years (found
 * by fuzz_names: year 0001 with a positive offset printed as "0-12-31...",
 * with the fraction written past the text's end).
 */
#include <string.h>

#include "clock.h"
#include "testutil.h"

START_TEST(offset_before_year_one_is_refused)
{
	int64_t us;
	ck_assert(!clock_parse_rfc3339("0001-01-01T00:00:00+23:59", &us));
	ck_assert(!clock_parse_rfc3339("9999-12-31T23:59:59-00:01", &us));
}
END_TEST

START_TEST(edges_round_trip)
{
	static const char *const texts[] = {
	        "0001-01-01T00:00:00.000000Z",
	        "0999-06-15T12:30:45.123456Z",
	        "9999-12-31T23:59:59.999999Z",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		int64_t us;
		char buf[CLOCK_RFC3339_LEN];
		ck_assert(clock_parse_rfc3339(texts[i], &us));
		clock_format_rfc3339(us, buf);
		ck_assert_str_eq(buf, texts[i]);
	}
}
END_TEST

START_TEST(out_of_range_is_clamped)
{
	char buf[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(INT64_MIN / 2, buf);
	ck_assert_str_eq(buf, "0001-01-01T00:00:00.000000Z");
	clock_format_rfc3339(INT64_MAX / 2, buf);
	ck_assert_str_eq(buf, "9999-12-31T23:59:59.999999Z");
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("clock_edges");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, offset_before_year_one_is_refused);
	tcase_add_test(tc, edges_round_trip);
	tcase_add_test(tc, out_of_range_is_clamped);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(make_suite)
