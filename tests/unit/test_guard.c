/* Unit tests: guard.c - the per-address authentication failure budget. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "guard.h"
#include "testutil.h"

#define S 1000000LL

static struct sockaddr_in v4(const char *text)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, text, &a.sin_addr), 1);
	return a;
}

static struct sockaddr_in6 v6(const char *text)
{
	struct sockaddr_in6 a;
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, text, &a.sin6_addr), 1);
	return a;
}

#define SA(x) ((const struct sockaddr *)&(x))

/* Charge n failures at time t; returns how many were within the budget. */
static unsigned fail_n(struct guard *g, const struct sockaddr *sa, unsigned n, int64_t t)
{
	unsigned ok = 0;
	bool entered;
	for (unsigned i = 0; i < n; i++)
		ok += guard_fail(g, sa, t, &entered) == 0;
	return ok;
}

START_TEST(burst_then_refused)
{
	struct guard_options o = {.burst = 5, .interval_s = 10};
	struct guard *g = guard_new(&o);
	struct sockaddr_in a = v4("192.0.2.7");
	bool entered = false;
	int64_t t = 1000 * S;

	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(fail_n(g, SA(a), 5, t), 5);
	ck_assert_uint_eq(guard_fail(g, SA(a), t, &entered), 10);
	ck_assert(entered);
	/* Still refused, logged once only; a refusal is not charged. */
	ck_assert_uint_eq(guard_fail(g, SA(a), t + 1 * S, &entered), 9);
	ck_assert(!entered);
	ck_assert_uint_eq(guard_fail(g, SA(a), t + 9 * S + 1, &entered), 1);
	/* One interval later one more failure is allowed, then refused again. */
	ck_assert_uint_eq(guard_fail(g, SA(a), t + 10 * S, &entered), 0);
	ck_assert_uint_eq(guard_fail(g, SA(a), t + 10 * S, &entered), 10);
	ck_assert(entered);
	/* Fully recovered after burst * interval. */
	ck_assert_uint_eq(fail_n(g, SA(a), 5, t + 70 * S), 5);
	guard_free(&g);
	ck_assert_ptr_null(g);
}
END_TEST

START_TEST(addresses_are_separate)
{
	struct guard_options o = {.burst = 3, .interval_s = 60};
	struct guard *g = guard_new(&o);
	struct sockaddr_in a = v4("192.0.2.1"), b = v4("192.0.2.2");
	struct sockaddr_in6 c1 = v6("2001:db8:1:2::1"), c2 = v6("2001:db8:1:2:ffff::9"),
	                    d = v6("2001:db8:1:3::1"), mapped = v6("::ffff:192.0.2.1");
	int64_t t = 5 * S;

	ck_assert_uint_eq(fail_n(g, SA(a), 4, t), 3);
	ck_assert_uint_eq(fail_n(g, SA(b), 3, t), 3);
	/* An IPv4-mapped address is the IPv4 address. */
	ck_assert_uint_eq(fail_n(g, SA(mapped), 1, t), 0);
	/* IPv6 by /64: two hosts of one /64 share a budget, the next /64 has its own. */
	ck_assert_uint_eq(fail_n(g, SA(c1), 2, t), 2);
	ck_assert_uint_eq(fail_n(g, SA(c2), 2, t), 1);
	ck_assert_uint_eq(fail_n(g, SA(d), 3, t), 3);
	/* Unknown addresses are never limited. */
	ck_assert_uint_eq(fail_n(g, NULL, 100, t), 100);
	guard_free(&g);
}
END_TEST

START_TEST(bounded_under_many_addresses)
{
	struct guard_options o = {.burst = 2, .interval_s = 60, .slots = 16};
	struct guard *g = guard_new(&o);
	struct sockaddr_in a = v4("198.51.100.1");
	int64_t t = 100 * S;

	ck_assert_uint_eq(fail_n(g, SA(a), 3, t), 2);
	/* A flood from 100000 other addresses uses the same 16 slots... */
	for (uint32_t i = 0; i < 100000; i++) {
		struct sockaddr_in x;
		memset(&x, 0, sizeof(x));
		x.sin_family = AF_INET;
		x.sin_addr.s_addr = htonl(0x0a000000u + i);
		ck_assert_uint_le(fail_n(g, SA(x), 3, t), 2);
	}
	/* ...each attacker address is still refused past its budget while remembered. */
	struct sockaddr_in last = v4("10.1.134.159"); /* 0x0a000000 + 99999 */
	ck_assert_uint_eq(fail_n(g, SA(last), 1, t), 0);
	guard_free(&g);
}
END_TEST

START_TEST(addr_text)
{
	char buf[64];
	struct sockaddr_in a = v4("192.0.2.9");
	struct sockaddr_in6 b = v6("2001:db8:aa:bb:cc::1"), m = v6("::ffff:10.0.0.1");
	guard_addr_text(SA(a), buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.0.2.9");
	guard_addr_text(SA(b), buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8:aa:bb::/64");
	guard_addr_text(SA(m), buf, sizeof(buf));
	ck_assert_str_eq(buf, "10.0.0.1");
	guard_addr_text(NULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-");
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("guard");
	TCase *tc = tcase_create("budget");
	tcase_add_test(tc, burst_then_refused);
	tcase_add_test(tc, addresses_are_separate);
	tcase_add_test(tc, bounded_under_many_addresses);
	tcase_add_test(tc, addr_text);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(make_suite)
