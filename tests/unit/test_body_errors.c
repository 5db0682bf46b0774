/*
 * test_body_errors - a JSON parse error quoting invalid UTF-8 from the body
 * is still answered 400 in the Vers envelope (found by fuzz_body: jansson
 * quotes the offending bytes, and the envelope could not hold them, so the
 * answer was a 500).
 */
#include <string.h>

#include "body.h"
#include "testutil.h"

static const char body[] = "{\"name\":\"]0000a\\u000\xcf\x9d\xdd\x78";

START_TEST(parse_error_is_utf8)
{
	char err[256];
	json_t *v = body_parse(body, sizeof(body) - 1, err, sizeof(err));
	ck_assert_ptr_null(v);
	json_t *s = json_string(err);
	ck_assert_msg(s != NULL, "not UTF-8: %s", err);
	json_decref(s);
}
END_TEST

START_TEST(handler_answers_400)
{
	char *path;
	struct store *s = tu_store(&path);
	char token[128], auth[160];
	tu_org(s, "acme", NULL, token);
	snprintf(auth, sizeof(auth), "Bearer %s", token);
	struct app *a = app_new(s, NULL);
	struct call c;
	tu_run(a, &c, "POST", "/api/v1/repositories", body, "Authorization", auth, "Content-Type",
	       "application/json", NULL);
	ck_assert_int_eq(c.status, 400);
	json_t *doc = tu_json(&c);
	ck_assert(json_is_false(json_object_get(doc, "success")));
	tu_call_done(&c);
	app_free(&a);
	tu_store_done(&s, path);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("body_errors");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, parse_error_is_utf8);
	tcase_add_test(tc, handler_answers_400);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(make_suite)
