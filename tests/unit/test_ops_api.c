/* Unit tests: ops_api.c - GET /openapi.json serves the embedded document. */
#include <string.h>

#include "openapi_doc.h"
#include "testutil.h"

static struct store *store;
static char *db_path;
static struct app *app;

static void setup(void)
{
	store = tu_store(&db_path);
	app = app_new(store, &(struct app_options){0});
	ck_assert_ptr_nonnull(app);
}

static void teardown(void)
{
	app_free(&app);
	tu_store_done(&store, db_path);
}

START_TEST(embedded_document_is_openapi_3_1)
{
	json_error_t err;
	json_t *doc = json_loadb((const char *)openapi_doc, openapi_doc_len, 0, &err);

	ck_assert_msg(doc != NULL, "embedded document is not JSON: %s", err.text);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	ck_assert_ptr_nonnull(json_object_get(json_object_get(doc, "paths"), "/openapi.json"));
	json_decref(doc);
}
END_TEST

START_TEST(get_serves_the_bytes_without_auth)
{
	struct call c;

	tu_run(app, &c, "GET", "/openapi.json", NULL, NULL);
	ck_assert_int_eq(c.status, 200);
	ck_assert_str_eq(c.resp_type, "application/json");
	ck_assert_uint_eq(c.resp_len, openapi_doc_len);
	ck_assert(memcmp(c.resp_body, openapi_doc, openapi_doc_len) == 0);
	tu_call_done(&c);
}
END_TEST

START_TEST(other_methods_are_405)
{
	struct call c;

	tu_run(app, &c, "POST", "/openapi.json", "{}", "Content-Type", "application/json", NULL);
	ck_assert_int_eq(c.status, 405);
	ck_assert_str_eq(json_string_value(json_object_get(tu_json(&c), "error")),
	                 "method not allowed");
	tu_call_done(&c);
}
END_TEST

static Suite *ops_api_suite(void)
{
	Suite *s = suite_create("ops_api");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, embedded_document_is_openapi_3_1);
	tcase_add_test(tc, get_serves_the_bytes_without_auth);
	tcase_add_test(tc, other_methods_are_405);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(ops_api_suite)
