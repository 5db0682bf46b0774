/*
 * test_vers_api.c - Vers handlers run through the app without a socket, and
 * the list writer they stream answers with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vers_reply.h"
#include "testutil.h"

static struct store *s;
static char *path;
static struct app *app;
static char token[128], auth[160];

static void setup(void)
{
	s = tu_store(&path);
	tu_org(s, "acme", NULL, token);
	snprintf(auth, sizeof(auth), "Bearer %s", token);
	app = app_new(s, NULL);
	ck_assert_ptr_nonnull(app);
}

static void teardown(void)
{
	app_free(&app);
	tu_store_done(&s, path);
}

static const char *error_of(struct call *c)
{
	json_t *doc = tu_json(c);
	ck_assert(json_is_false(json_object_get(doc, "success")));
	return json_string_value(json_object_get(doc, "error"));
}

START_TEST(list_writer_grows_and_stays_valid)
{
	struct vers_list l;
	vers_list_init(&l);
	vers_list_raw(&l, "{\"name\":");
	vers_list_scalar(&l, json_string("x\"y"));
	vers_list_raw(&l, ",\"items\":[");
	for (int i = 0; i < 5000; i++)
		vers_list_value(&l, json_pack("{s:i, s:s}", "i", i, "pad", "0123456789abcdef"));
	vers_list_raw(&l, "]}");
	ck_assert(!l.failed);

	json_error_t err;
	json_t *doc = json_loadb(l.text.buf, l.text.len, 0, &err);
	ck_assert_msg(doc != NULL, "%s", err.text);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "name")), "x\"y");
	json_t *items = json_object_get(doc, "items");
	ck_assert_uint_eq(json_array_size(items), 5000);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(items, 4999), "i")),
	                 4999);
	json_decref(doc);

	/* A failed element sticks: the answer becomes a 500, never a truncated list. */
	vers_list_value(&l, NULL);
	ck_assert(l.failed);
	vers_list_release(&l);
	ck_assert_ptr_null(l.text.buf);
}
END_TEST

START_TEST(commit_list_query)
{
	struct call c;
	tu_run(app, &c, "GET", "/api/v1/commits?limit=abc", NULL, "Authorization", auth, NULL);
	ck_assert_int_eq(c.status, 400);
	ck_assert_str_eq(error_of(&c),
	                 "Failed to deserialize query string: invalid digit found in string");
	tu_call_done(&c);

	tu_run(app, &c, "GET", "/api/v1/commits?offset=-9223372036854775809", NULL, "Authorization",
	       auth, NULL);
	ck_assert_int_eq(c.status, 400);
	ck_assert_str_eq(
	        error_of(&c),
	        "Failed to deserialize query string: number too small to fit in target type");
	tu_call_done(&c);

	tu_run(app, &c, "GET", "/api/v1/commits?limit=0&offset=-1", NULL, "Authorization", auth,
	       NULL);
	ck_assert_int_eq(c.status, 200);
	json_t *doc = tu_json(&c);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "limit")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "offset")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "total")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "commits")), 0);
	tu_call_done(&c);

	tu_run(app, &c, "GET", "/api/v1/commits?offset=-9223372036854775808", NULL, "Authorization",
	       auth, NULL);
	ck_assert_int_eq(c.status, 200);
	tu_call_done(&c);
}
END_TEST

START_TEST(tag_patch_without_updates)
{
	struct call c;
	tu_run(app, &c, "PATCH", "/api/v1/repositories/none/tags/v1", "{\"commit_id\":null}",
	       "Authorization", auth, "Content-Type", "application/json", NULL);
	ck_assert_int_eq(c.status, 400);
	ck_assert_str_eq(error_of(&c), "no updates provided");
	tu_call_done(&c);

	tu_run(app, &c, "PATCH", "/api/v1/repositories/none/tags/v1", "{\"description\":null}",
	       "Authorization", auth, "Content-Type", "application/json", NULL);
	ck_assert_int_eq(c.status, 404);
	ck_assert_str_eq(error_of(&c), "repository not found");
	tu_call_done(&c);
}
END_TEST

START_TEST(commit_path_ids)
{
	struct call c;
	tu_run(app, &c, "DELETE", "/api/v1/commits/not-a-uuid", NULL, "Authorization", auth, NULL);
	ck_assert_int_eq(c.status, 404);
	ck_assert_str_eq(error_of(&c), "commit not found");
	tu_call_done(&c);

	char id[37];
	tu_commit(s, "acme", id);
	char p[128];
	snprintf(p, sizeof(p), "/api/v1/commits/{%s}", id); /* braced, as the uuid crate allows */
	tu_run(app, &c, "DELETE", p, NULL, "Authorization", auth, NULL);
	ck_assert_int_eq(c.status, 204);
	ck_assert_ptr_null(c.resp_body);
	tu_call_done(&c);
}
END_TEST

START_TEST(fork_is_501)
{
	struct call c;
	tu_run(app, &c, "POST", "/api/v1/repositories/fork", "{}", "Authorization", auth,
	       "Content-Type", "application/json", NULL);
	ck_assert_int_eq(c.status, 501);
	ck_assert_ptr_nonnull(strstr(error_of(&c), "VM runtime"));
	tu_call_done(&c);
}
END_TEST

static const char *header_of(struct call *c, const char *name)
{
	for (size_t i = 0; i < c->nresp_headers; i++)
		if (strcmp(c->resp_headers[i].name, name) == 0)
			return c->resp_headers[i].value;
	return NULL;
}

START_TEST(tag_list_pages_link_next)
{
	char commit[37], body[128];
	struct call c;
	static const char *const tags[] = {"v1.\xc3\xa9", "v1", "v2"};

	tu_commit(s, "acme", commit);
	tu_run(app, &c, "POST", "/api/v1/repositories", "{\"name\":\"team/app\"}", "Authorization",
	       auth, "Content-Type", "application/json", NULL);
	ck_assert_int_eq(c.status, 201);
	tu_call_done(&c);
	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "{\"tag_name\":\"%s\",\"commit_id\":\"%s\"}", tags[i],
		         commit);
		tu_run(app, &c, "POST", "/api/v1/repositories/team%2Fapp/tags", body,
		       "Authorization", auth, "Content-Type", "application/json", NULL);
		ck_assert_int_eq(c.status, 201);
		tu_call_done(&c);
	}

	tu_run(app, &c, "GET", "/api/v1/repositories/team%2Fapp/tags?limit=2", NULL,
	       "Authorization", auth, NULL);
	ck_assert_int_eq(c.status, 200);
	ck_assert_pstr_eq(
	        header_of(&c, "Link"),
	        "</api/v1/repositories/team%2Fapp/tags?limit=2&after=v1.%C3%A9>; rel=\"next\"");
	json_t *doc = tu_json(&c);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "next_after")), "v1.\xc3\xa9");
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "tags")), 2);
	tu_call_done(&c);

	tu_run(app, &c, "GET", "/api/v1/repositories/team%2Fapp/tags?after=v1.%C3%A9&limit=2", NULL,
	       "Authorization", auth, NULL);
	ck_assert_int_eq(c.status, 200);
	ck_assert_ptr_null(header_of(&c, "Link"));
	doc = tu_json(&c);
	ck_assert(json_is_null(json_object_get(doc, "next_after")));
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_array_get(json_object_get(doc, "tags"), 0), "tag_name")),
	                 "v2");
	tu_call_done(&c);

	/* Without the extension's parameters: every tag, no Link, no next_after. */
	tu_run(app, &c, "GET", "/api/v1/repositories/team%2Fapp/tags", NULL, "Authorization", auth,
	       NULL);
	ck_assert_ptr_null(header_of(&c, "Link"));
	doc = tu_json(&c);
	ck_assert_uint_eq(json_object_size(doc), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "tags")), 3);
	tu_call_done(&c);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *suite = suite_create("vers_api");
	TCase *tc = tcase_create("vers_api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, list_writer_grows_and_stays_valid);
	tcase_add_test(tc, commit_list_query);
	tcase_add_test(tc, tag_patch_without_updates);
	tcase_add_test(tc, commit_path_ids);
	tcase_add_test(tc, fork_is_501);
	tcase_add_test(tc, tag_list_pages_link_next);
	suite_add_tcase(suite, tc);
	return suite;
}

TU_MAIN(make_suite)
