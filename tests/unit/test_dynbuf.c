/* Unit tests: dynbuf.c - bounded growth, sticky failures, printf, arrays. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"
#include "testutil.h"

START_TEST(appends_and_takes)
{
	struct dynbuf b;
	dynbuf_init(&b, 1 << 20);
	ck_assert_ptr_null(b.buf);
	ck_assert_int_eq(dynbuf_addstr(&b, "abc"), DYNBUF_OK);
	ck_assert_int_eq(dynbuf_add(&b, "\0def", 4), DYNBUF_OK);
	ck_assert_uint_eq(b.len, 7);
	ck_assert_int_eq(memcmp(b.buf, "abc\0def", 8), 0); /* NUL-terminated */
	for (int i = 0; i < 10000; i++)
		ck_assert_int_eq(dynbuf_printf(&b, "%05d,", i), DYNBUF_OK);
	ck_assert_uint_eq(b.len, 7 + 60000);
	ck_assert_int_eq(memcmp(b.buf + 7, "00000,00001,", 12), 0);
	ck_assert_int_eq(memcmp(b.buf + b.len - 6, "09999,", 7), 0);
	size_t len = 0;
	char *text = dynbuf_take(&b, &len);
	ck_assert_uint_eq(len, 60007);
	ck_assert_ptr_null(b.buf);
	ck_assert_uint_eq(b.len, 0);
	free(text);
	ck_assert_ptr_null(dynbuf_take(&b, &len));
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(refuses_past_max_and_sticks)
{
	struct dynbuf b;
	dynbuf_init(&b, 10);
	ck_assert_int_eq(dynbuf_addstr(&b, "0123456789"), DYNBUF_OK); /* exactly max */
	ck_assert_uint_eq(b.cap, 11);
	dynbuf_release(&b);
	ck_assert_int_eq(dynbuf_addstr(&b, "01234"), DYNBUF_OK);
	/* All or nothing: never cut to what fits. */
	ck_assert_int_eq(dynbuf_addstr(&b, "567890"), DYNBUF_TOO_LARGE);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_str_eq(b.buf, "01234");
	ck_assert(dynbuf_failed(&b));
	/* The failure sticks, even for what would fit. */
	ck_assert_int_eq(dynbuf_addstr(&b, "5"), DYNBUF_TOO_LARGE);
	ck_assert_int_eq(dynbuf_printf(&b, "%d", 5), DYNBUF_TOO_LARGE);
	ck_assert_str_eq(b.buf, "01234");
	/* printf past the limit leaves the text as it was. */
	dynbuf_release(&b);
	ck_assert(!dynbuf_failed(&b));
	ck_assert_int_eq(dynbuf_printf(&b, "%s", "abcdefgh"), DYNBUF_OK);
	ck_assert_int_eq(dynbuf_printf(&b, "%s", "ijk"), DYNBUF_TOO_LARGE);
	ck_assert_str_eq(b.buf, "abcdefgh");
	dynbuf_release(&b);
}
END_TEST

START_TEST(printf_grows_across_allocations)
{
	struct dynbuf b;
	char big[5000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dynbuf_init(&b, SIZE_MAX);
	ck_assert_int_eq(dynbuf_addstr(&b, "head:"), DYNBUF_OK);
	ck_assert_int_eq(dynbuf_printf(&b, "%s|%d", big, 42), DYNBUF_OK);
	ck_assert_uint_eq(b.len, 5 + 4999 + 3);
	ck_assert_int_eq(strncmp(b.buf, "head:xxx", 8), 0);
	ck_assert_str_eq(b.buf + 5 + 4999, "|42");
	dynbuf_release(&b);
}
END_TEST

START_TEST(reserve_and_commit)
{
	struct dynbuf b;
	dynbuf_init(&b, 100);
	ck_assert_uint_eq(dynbuf_room(&b), 0);
	ck_assert_int_eq(dynbuf_reserve(&b, 50), DYNBUF_OK);
	ck_assert_uint_ge(dynbuf_room(&b), 50);
	memcpy(b.buf, "hello", 5);
	dynbuf_commit(&b, 5);
	ck_assert_str_eq(b.buf, "hello");
	ck_assert_int_eq(dynbuf_reserve(&b, 96), DYNBUF_TOO_LARGE);
	dynbuf_release(&b);
}
END_TEST

START_TEST(arrays_double_up_to_max)
{
	int *items = NULL;
	size_t cap = 0;
	for (size_t n = 0; n < 1000; n++) {
		ck_assert_int_eq(
		        dynbuf_array_reserve((void **)&items, &cap, n, sizeof(*items), 1000),
		        DYNBUF_OK);
		ck_assert_uint_gt(cap, n);
		items[n] = (int)n;
	}
	ck_assert_uint_le(cap, 1000);
	ck_assert_int_eq(dynbuf_array_reserve((void **)&items, &cap, 1000, sizeof(*items), 1000),
	                 DYNBUF_TOO_LARGE);
	ck_assert_int_eq(items[999], 999);
	free(items);
	/* A count that cannot be allocated is refused, not wrapped around. */
	char *none = NULL;
	size_t ncap = 0;
	ck_assert_int_eq(dynbuf_array_reserve((void **)&none, &ncap, SIZE_MAX / 2, 4, SIZE_MAX),
	                 DYNBUF_TOO_LARGE);
	ck_assert_ptr_null(none);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("dynbuf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, appends_and_takes);
	tcase_add_test(tc, refuses_past_max_and_sticks);
	tcase_add_test(tc, printf_grows_across_allocations);
	tcase_add_test(tc, reserve_and_commit);
	tcase_add_test(tc, arrays_double_up_to_max);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(make_suite)
