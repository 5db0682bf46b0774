/*
 * Unit tests: http_framing.c - the head rules, one case per line: header
 * fields as received, the HTTP version, and the verdict.
 */
#include <string.h>

#include "http_framing.h"
#include "testutil.h"

#define END NULL

struct head_case {
	const char *what;
	bool http11;
	enum call_refusal want;
	const char *fields[12]; /* name, value, name, value, ..., END */
};

static const struct head_case cases[] = {
        {"plain GET", true, CALL_REFUSE_NONE, {"Host", "example.com", END}},
        {"host with port", true, CALL_REFUSE_NONE, {"Host", "127.0.0.1:8080", END}},
        {"IPv6 host", true, CALL_REFUSE_NONE, {"Host", "[::1]:8080", END}},
        {"empty host", true, CALL_REFUSE_NONE, {"Host", "", END}},
        {"HTTP/1.0 needs no Host", false, CALL_REFUSE_NONE, {"Accept", "*/*", END}},
        {"body by length", true, CALL_REFUSE_NONE, {"Host", "x", "Content-Length", "12", END}},
        {"chunked", true, CALL_REFUSE_NONE, {"Host", "x", "Transfer-Encoding", "chunked", END}},
        {"chunked in capitals",
         true,
         CALL_REFUSE_NONE,
         {"Host", "x", "transfer-encoding", "CHUNKED", END}},
        {"tab and obs-text in a value",
         true,
         CALL_REFUSE_NONE,
         {"Host", "x", "X-Note", "a\tb \xc3\xa9", END}},

        /* Host (RFC 9112 §3.2) */
        {"HTTP/1.1 without Host", true, CALL_REFUSE_BAD_HOST, {"Accept", "*/*", END}},
        {"two Host", true, CALL_REFUSE_BAD_HOST, {"Host", "a", "Host", "b", END}},
        {"two Host in HTTP/1.0", false, CALL_REFUSE_BAD_HOST, {"Host", "a", "host", "a", END}},
        {"Host with a blank", true, CALL_REFUSE_BAD_HOST, {"Host", "a b", END}},
        {"Host with a path", true, CALL_REFUSE_BAD_HOST, {"Host", "a/b", END}},

        /* field syntax */
        {"space in a name", true, CALL_REFUSE_BAD_HEADER, {"Host", "x", "X A", "1", END}},
        {"space before the colon",
         true,
         CALL_REFUSE_BAD_HEADER,
         {"Host", "x", "Transfer-Encoding ", "chunked", END}},
        {"name after a fold at the start",
         true,
         CALL_REFUSE_BAD_HEADER,
         {" X-A", "1", "Host", "x", END}},
        {"empty name", true, CALL_REFUSE_BAD_HEADER, {"Host", "x", "", "1", END}},
        {"bare CR in a value",
         true,
         CALL_REFUSE_BAD_HEADER,
         {"Host", "x", "X-A", "a\rX-B: b", END}},
        {"LF in a value", true, CALL_REFUSE_BAD_HEADER, {"Host", "x", "X-A", "a\nb", END}},
        {"control byte in a value",
         true,
         CALL_REFUSE_BAD_HEADER,
         {"Host", "x", "X-A", "a\x01", END}},
        {"DEL in a value", true, CALL_REFUSE_BAD_HEADER, {"Host", "x", "X-A", "a\x7f", END}},
        {"field syntax comes before Host", true, CALL_REFUSE_BAD_HEADER, {"X:A", "1", END}},

        /* Content-Length (RFC 9112 §6.3) */
        {"two equal lengths",
         true,
         CALL_REFUSE_CONTENT_LENGTH,
         {"Host", "x", "Content-Length", "2", "Content-Length", "2", END}},
        {"two lengths",
         true,
         CALL_REFUSE_CONTENT_LENGTH,
         {"Host", "x", "Content-Length", "2", "content-length", "5", END}},
        {"signed length",
         true,
         CALL_REFUSE_CONTENT_LENGTH,
         {"Host", "x", "Content-Length", "+2", END}},
        {"list as a length",
         true,
         CALL_REFUSE_CONTENT_LENGTH,
         {"Host", "x", "Content-Length", "2, 2", END}},
        {"empty length",
         true,
         CALL_REFUSE_CONTENT_LENGTH,
         {"Host", "x", "Content-Length", "", END}},
        {"20 digits",
         true,
         CALL_REFUSE_CONTENT_LENGTH,
         {"Host", "x", "Content-Length", "12345678901234567890", END}},

        /* both (RFC 9112 §6.1: smuggling) */
        {"CL.TE",
         true,
         CALL_REFUSE_FRAMING,
         {"Host", "x", "Content-Length", "4", "Transfer-Encoding", "chunked", END}},
        {"TE.CL",
         true,
         CALL_REFUSE_FRAMING,
         {"Host", "x", "Transfer-Encoding", "chunked", "Content-Length", "0", END}},
        {"TE.CL with a bad length",
         true,
         CALL_REFUSE_FRAMING,
         {"Host", "x", "Transfer-Encoding", "chunked", "Content-Length", "x", END}},

        /* Transfer-Encoding (RFC 9112 §6.1) */
        {"unknown coding",
         true,
         CALL_REFUSE_TRANSFER_ENCODING,
         {"Host", "x", "Transfer-Encoding", "xchunked", END}},
        {"chunked then identity",
         true,
         CALL_REFUSE_TRANSFER_ENCODING,
         {"Host", "x", "Transfer-Encoding", "chunked, identity", END}},
        {"TE.TE: a second field",
         true,
         CALL_REFUSE_TRANSFER_ENCODING,
         {"Host", "x", "Transfer-Encoding", "chunked", "Transfer-Encoding", "x", END}},
        {"chunked twice",
         true,
         CALL_REFUSE_TRANSFER_ENCODING,
         {"Host", "x", "Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked", END}},
        {"chunked with a trailing tab",
         true,
         CALL_REFUSE_TRANSFER_ENCODING,
         {"Host", "x", "Transfer-Encoding", "chunked\t", END}},
        {"chunked with a parameter",
         true,
         CALL_REFUSE_TRANSFER_ENCODING,
         {"Host", "x", "Transfer-Encoding", "chunked;q=1", END}},
        {"chunked and an empty element",
         true,
         CALL_REFUSE_TRANSFER_ENCODING,
         {"Host", "x", "Transfer-Encoding", "chunked,", END}},
        {"empty coding",
         true,
         CALL_REFUSE_TRANSFER_ENCODING,
         {"Host", "x", "Transfer-Encoding", "", END}},
        {"quoted coding",
         true,
         CALL_REFUSE_TRANSFER_ENCODING,
         {"Host", "x", "Transfer-Encoding", "\"chunked\"", END}},
        {"two words",
         true,
         CALL_REFUSE_TRANSFER_ENCODING,
         {"Host", "x", "Transfer-Encoding", "x chunked", END}},
        {"chunked in HTTP/1.0",
         false,
         CALL_REFUSE_TRANSFER_ENCODING,
         {"Transfer-Encoding", "chunked", END}},
        {"a coding before chunked",
         true,
         CALL_REFUSE_CODING_UNSUPPORTED,
         {"Host", "x", "Transfer-Encoding", "gzip, chunked", END}},
        {"codings over two fields",
         true,
         CALL_REFUSE_CODING_UNSUPPORTED,
         {"Host", "x", "Transfer-Encoding", "gzip;level=1", "Transfer-Encoding", "chunked", END}},
};

START_TEST(head_rules)
{
	const struct head_case *tc = &cases[_i];
	struct http_framing f;
	http_framing_init(&f);
	for (size_t i = 0; tc->fields[i] != NULL; i += 2)
		http_framing_field(&f, tc->fields[i], strlen(tc->fields[i]), tc->fields[i + 1],
		                   strlen(tc->fields[i + 1]), false);
	ck_assert_msg(http_framing_verdict(&f, tc->http11) == tc->want, "%s: got %d, want %d",
	              tc->what, http_framing_verdict(&f, tc->http11), tc->want);
}
END_TEST

START_TEST(folds_and_nul_bytes)
{
	struct http_framing f;
	/* The HTTP layer saw the field continued on the next line. */
	http_framing_init(&f);
	http_framing_field(&f, "Host", 4, "x", 1, false);
	http_framing_field(&f, "X-Ab", 4, "a", 1, true);
	ck_assert_int_eq(http_framing_verdict(&f, true), CALL_REFUSE_BAD_HEADER);
	/* Lengths, not C strings: a NUL inside a name or value is seen. */
	http_framing_init(&f);
	http_framing_field(&f, "Host", 4, "x", 1, false);
	http_framing_field(&f, "X-A", 3, "a\0b", 3, false);
	ck_assert_int_eq(http_framing_verdict(&f, true), CALL_REFUSE_BAD_HEADER);
	http_framing_init(&f);
	http_framing_field(&f, "Host\0", 5, "x", 1, false);
	ck_assert_int_eq(http_framing_verdict(&f, true), CALL_REFUSE_BAD_HEADER);
}
END_TEST

START_TEST(request_targets)
{
	ck_assert(!http_target_bad("/api/v1/repositories/a%20b/tags"));
	ck_assert(!http_target_bad("/v1/p/git/repos/ns:proj"));
	ck_assert(!http_target_bad("/\xc3\xa9"));
	ck_assert(http_target_bad("/a b"));
	ck_assert(http_target_bad("/a\tb"));
	ck_assert(http_target_bad("/a\rb"));
	ck_assert(http_target_bad("/a\x7f"));
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("http_framing");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, head_rules, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, folds_and_nul_bytes);
	tcase_add_test(tc, request_targets);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(make_suite)
