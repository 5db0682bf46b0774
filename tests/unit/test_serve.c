/* Unit tests: serve.c - the --listen address. */
#include <string.h>

#include "serve.h"
#include "testutil.h"

static void listen_ok(const char *text, const char *host, unsigned port)
{
	char h[64];
	unsigned p = 99999;
	ck_assert_msg(serve_parse_listen(text, h, sizeof(h), &p), "refused %s", text);
	ck_assert_str_eq(h, host);
	ck_assert_uint_eq(p, port);
}

START_TEST(listen_addresses)
{
	listen_ok("127.0.0.1:8080", "127.0.0.1", 8080);
	listen_ok("0.0.0.0:0", "0.0.0.0", 0);
	listen_ok(":9000", "127.0.0.1", 9000);
	listen_ok("[::1]:8080", "::1", 8080);
	listen_ok("[::]:65535", "::", 65535);
	listen_ok("localhost:1", "localhost", 1);

	const char *bad[] = {"",
	                     "8080",
	                     "127.0.0.1",
	                     "127.0.0.1:",
	                     "127.0.0.1:65536",
	                     "127.0.0.1:-1",
	                     "127.0.0.1:+80",
	                     "127.0.0.1: 80",
	                     "127.0.0.1:80x",
	                     "127.0.0.1:0x50",
	                     "[::1]",
	                     "[::1]8080",
	                     "[::1:8080",
	                     "::1:8080:",
	                     "127.0.0.1:99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char h[64];
		unsigned p;
		ck_assert_msg(!serve_parse_listen(bad[i], h, sizeof(h), &p), "accepted '%s'",
		              bad[i]);
	}
	/* A host longer than the buffer is refused, not truncated. */
	char h[8];
	unsigned p;
	ck_assert(!serve_parse_listen("averyveryverylonghost:80", h, sizeof(h), &p));
}
END_TEST

static Suite *serve_suite(void)
{
	Suite *s = suite_create("serve");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, listen_addresses);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(serve_suite)
