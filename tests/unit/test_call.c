/*
 * Unit tests: call.c - percent decoding, query lookup, headers, response
 * headers, and the reason of an error answer and its log line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "log.h"
#include "testutil.h"

static void decodes(const char *in, bool plus, const char *want)
{
	char *out = call_percent_decode(in, strlen(in), plus);
	if (want == NULL) {
		ck_assert_msg(out == NULL, "'%s' decoded to '%s'", in, out ? out : "");
		return;
	}
	ck_assert_msg(out != NULL, "'%s' refused", in);
	ck_assert_str_eq(out, want);
	free(out);
}

START_TEST(percent_decode)
{
	decodes("", false, "");
	decodes("abc", false, "abc");
	decodes("a%20b", false, "a b");
	decodes("a%2Fb%2fc", false, "a/b/c");
	decodes("%C3%A9", false, "é");
	decodes("%41%7a", false, "Az");
	decodes("a+b", false, "a+b");
	decodes("a+b", true, "a b");
	decodes("%2B", true, "+");
	decodes("%25", false, "%");
	decodes("%2525", false, "%25");
	decodes("%", false, NULL);
	decodes("%4", false, NULL);
	decodes("a%", false, NULL);
	decodes("%zz", false, NULL);
	decodes("%4g", false, NULL);
	decodes("%g4", false, NULL);
	decodes("%00", false, NULL);
	decodes("a%00", true, NULL);
	decodes("% 1", false, NULL);
	/* Only len bytes are read. */
	char *out = call_percent_decode("abc%2", 3, false);
	ck_assert_str_eq(out, "abc");
	free(out);
	/* A raw NUL inside the given length is refused. */
	ck_assert_ptr_null(call_percent_decode("a\0b", 3, false));
}
END_TEST

START_TEST(query_lookup)
{
	struct call c;
	bool bad = true;
	call_init(&c, NULL, NULL, NULL);
	c.query[0] = (struct call_pair){"q", "a+b%2Bc"};
	c.query[1] = (struct call_pair){"flag", NULL};
	c.query[2] = (struct call_pair){"bad", "x%zz"};
	c.query[3] = (struct call_pair){"nul", "x%00"};
	c.query[4] = (struct call_pair){"q", "second"};
	c.query[5] = (struct call_pair){"Limit", "5"};
	c.nquery = 6;

	char *v = call_query_take(&c, "q", &bad);
	ck_assert_str_eq(v, "a b+c"); /* the first one wins */
	ck_assert(!bad);
	free(v);
	v = call_query_take(&c, "flag", &bad);
	ck_assert_str_eq(v, "");
	ck_assert(!bad);
	free(v);
	ck_assert_ptr_null(call_query_take(&c, "bad", &bad));
	ck_assert(bad);
	ck_assert_ptr_null(call_query_take(&c, "nul", &bad));
	ck_assert(bad);
	ck_assert_ptr_null(call_query_take(&c, "absent", &bad));
	ck_assert(!bad);
	/* Names are case-sensitive. */
	ck_assert_ptr_null(call_query_take(&c, "limit", &bad));
	ck_assert(!bad);
	call_release(&c);
}
END_TEST

START_TEST(headers)
{
	struct call c;
	call_init(&c, NULL, NULL, NULL);
	ck_assert_int_eq(c.org_id, -1);
	c.headers[0] = (struct call_pair){"Content-Type", "application/json"};
	c.headers[1] = (struct call_pair){"authorization", "Bearer x"};
	c.nheaders = 2;
	ck_assert_str_eq(call_header(&c, "content-type"), "application/json");
	ck_assert_str_eq(call_header(&c, "AUTHORIZATION"), "Bearer x");
	ck_assert_ptr_null(call_header(&c, "Accept"));
	call_release(&c);
}
END_TEST

START_TEST(response_headers_bounded)
{
	struct call c;
	char value[32];
	call_init(&c, NULL, NULL, NULL);
	for (int i = 0; i < CALL_MAX_RESP_HDRS; i++) {
		snprintf(value, sizeof(value), "v%d", i);
		ck_assert(call_add_header(&c, "X-Test", value));
	}
	ck_assert(!call_add_header(&c, "X-Test", "over"));
	ck_assert_uint_eq(c.nresp_headers, CALL_MAX_RESP_HDRS);
	/* Values are copies. */
	strcpy(value, "changed");
	ck_assert_str_eq(c.resp_headers[0].value, "v0");
	call_release(&c);
	ck_assert_uint_eq(c.nresp_headers, 0);
	ck_assert(call_add_header(&c, "X-Again", "ok"));
	call_release(&c);
}
END_TEST

START_TEST(respond_replaces)
{
	struct call c;
	call_init(&c, NULL, NULL, NULL);
	call_respond_take(&c, 200, strdup("first"), 5, "text/plain");
	call_respond_take(&c, 404, strdup("second"), 6, "application/json");
	ck_assert_int_eq(c.status, 404);
	ck_assert_uint_eq(c.resp_len, 6);
	ck_assert_str_eq(c.resp_body, "second");
	call_respond_take(&c, 204, NULL, 99, NULL);
	ck_assert_uint_eq(c.resp_len, 0);
	ck_assert_ptr_null(c.resp_body);
	call_release(&c);
}
END_TEST

START_TEST(methods)
{
	const char *names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum call_method m = call_method_parse(names[i]);
		ck_assert_int_ne(m, CALL_OTHER);
		ck_assert_str_eq(call_method_name(m), names[i]);
	}
	ck_assert_int_eq(call_method_parse("get"), CALL_OTHER);
	ck_assert_int_eq(call_method_parse("BREW"), CALL_OTHER);
	ck_assert_int_eq(call_method_parse(""), CALL_OTHER);
	ck_assert_str_eq(call_method_name(CALL_OTHER), "OTHER");
	ck_assert_str_eq(call_method_name((enum call_method)99), "OTHER");
}
END_TEST

START_TEST(reasons)
{
	struct call c;
	call_init(&c, NULL, NULL, NULL);
	ck_assert_ptr_null(call_reason(&c));
	call_set_reason(&c, "first");
	call_set_reasonf(&c, "second: %d", 2);
	ck_assert_str_eq(call_reason(&c), "second: 2");
	call_set_reason(&c, call_reason(&c)); /* itself: kept, not freed */
	ck_assert_str_eq(call_reason(&c), "second: 2");
	call_reset_response(&c); /* another answer, another reason */
	ck_assert_ptr_null(call_reason(&c));
	call_set_reason(&c, "kept until release");
	call_release(&c); /* frees it: the leak checker of the sanitizer build says */
	ck_assert_ptr_null(call_reason(&c));
}
END_TEST

/* The log lines of call_log_outcome for status and reason, at level debug. */
static const char *outcome_line(int status, const char *reason)
{
	static char buf[4096];
	char *path = tu_db_path(), *err = NULL;
	struct call c;

	unsetenv("JOURNAL_STREAM");
	ck_assert(log_open_file(path, &err));
	log_set_level(LOG_DEBUG);
	log_set_format(LOG_FORMAT_LOGFMT);
	call_init(&c, NULL, NULL, NULL);
	c.status = status;
	c.route = "/api/v1/x";
	if (reason != NULL)
		call_set_reason(&c, reason);
	call_log_outcome(&c, "rid-1");
	call_release(&c);
	ck_assert(log_open_file(NULL, &err));
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	free(path);
	return buf;
}

START_TEST(outcome_levels)
{
	ck_assert_str_eq(outcome_line(200, NULL), "");
	ck_assert_str_eq(outcome_line(302, "x"), "");
	const char *l = outcome_line(404, "tag not found");
	ck_assert_ptr_nonnull(strstr(l,
	                             " level=debug msg=\"request refused\" request_id=rid-1 "
	                             "status=404 route=\"/api/v1/x\" reason=\"tag not found\"\n"));
	l = outcome_line(429, "over budget");
	ck_assert_ptr_nonnull(strstr(l, " level=info msg=\"request refused\" request_id=rid-1 "));
	l = outcome_line(507, "store: full");
	ck_assert_ptr_nonnull(strstr(l, " level=info msg=\"request failed\" request_id=rid-1 "
	                                "status=507"));
	/* No reason is a bug, and says so; a quote cannot end the value early. */
	ck_assert_ptr_nonnull(strstr(outcome_line(400, NULL), "reason=\"unspecified\""));
	ck_assert_ptr_nonnull(strstr(outcome_line(400, "a \"q\" b\\"), "reason=\"a 'q' b'\""));
}
END_TEST

static Suite *call_suite(void)
{
	Suite *s = suite_create("call");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, percent_decode);
	tcase_add_test(tc, query_lookup);
	tcase_add_test(tc, headers);
	tcase_add_test(tc, response_headers_bounded);
	tcase_add_test(tc, respond_replaces);
	tcase_add_test(tc, methods);
	tcase_add_test(tc, reasons);
	tcase_add_test(tc, outcome_levels);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(call_suite)
