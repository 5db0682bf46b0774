/* Unit tests: the foundation's Vers create handlers (repositories, commits, tags) through tu_run.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "store_org.h"
#include "testutil.h"

static struct store *s;
static char *path;
static struct app *app;
static char token[128], other_token[128], bearer[160], other_bearer[160];

static void setup(void)
{
	s = tu_store(&path);
	tu_org(s, "acme", NULL, token);
	tu_org(s, "other", NULL, other_token);
	snprintf(bearer, sizeof(bearer), "Bearer %s", token);
	snprintf(other_bearer, sizeof(other_bearer), "Bearer %s", other_token);
	app = app_new(s, NULL);
	ck_assert_ptr_nonnull(app);
}

static void teardown(void)
{
	app_free(&app);
	tu_store_done(&s, path);
}

#define JSON_CT "Content-Type", "application/json"

/* POST body to path as acme (or with auth = the Authorization value). */
static void post(struct call *c, const char *path_, const char *body, const char *auth)
{
	tu_run(app, c, "POST", path_, body, JSON_CT, "Authorization", auth ? auth : bearer, NULL);
}

static void expect_error(struct call *c, int status, const char *msg)
{
	ck_assert_msg(c->status == status, "status %d, want %d: %.*s", c->status, status,
	              (int)c->resp_len, c->resp_body);
	ck_assert_str_eq(c->resp_type, "application/json");
	json_t *doc = tu_json(c);
	ck_assert_uint_eq(json_object_size(doc), 2);
	ck_assert(json_is_false(json_object_get(doc, "success")));
	json_t *err = json_object_get(doc, "error");
	ck_assert(json_is_string(err));
	if (msg != NULL)
		ck_assert_str_eq(json_string_value(err), msg);
}

static const char *header(struct call *c, const char *name)
{
	for (size_t i = 0; i < c->nresp_headers; i++)
		if (strcasecmp(c->resp_headers[i].name, name) == 0)
			return c->resp_headers[i].value;
	return NULL;
}

static void make_repo(const char *name)
{
	struct call c;
	char body[512];
	snprintf(body, sizeof(body), "{\"name\": \"%s\"}", name);
	post(&c, "/api/v1/repositories", body, NULL);
	ck_assert_int_eq(c.status, 201);
	tu_call_done(&c);
}

START_TEST(repo_create_statuses)
{
	struct call c;
	post(&c, "/api/v1/repositories", "{\"name\": \"app\", \"description\": \"d\"}", NULL);
	ck_assert_int_eq(c.status, 201);
	json_t *doc = tu_json(&c);
	ck_assert_uint_eq(json_object_size(doc), 2);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "name")), "app");
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(doc, "repo_id"))), 36);
	tu_call_done(&c);

	post(&c, "/api/v1/repositories", "{\"name\": \"app\"}", NULL);
	expect_error(&c, 409, "repository already exists");
	tu_call_done(&c);
	/* Same name, other organization: fine. */
	post(&c, "/api/v1/repositories", "{\"name\": \"app\", \"description\": null}",
	     other_bearer);
	ck_assert_int_eq(c.status, 201);
	tu_call_done(&c);
	post(&c, "/api/v1/repositories", "{\"name\": \"team/app\"}", NULL);
	ck_assert_int_eq(c.status, 201);
	tu_call_done(&c);

	static const struct {
		const char *body;
		const char *msg;
	} bad[] = {
	        {"{\"name\": \"\"}",
	         "invalid repository name: Repository name must be 1-128 characters"},
	        {"{\"name\": \"a b\"}",
	         "invalid repository name: Repository name can only contain alphanumeric "
	         "characters, hyphens, underscores, dots, and slashes"},
	        {"{\"name\": \"/a\"}",
	         "invalid repository name: Repository name cannot start or end with a slash"},
	        {"{\"name\": \"a/\"}",
	         "invalid repository name: Repository name cannot start or end with a slash"},
	        {"{\"name\": \"a//b\"}",
	         "invalid repository name: Repository name cannot contain consecutive slashes"},
	        {"{}", NULL},
	        {"{\"name\": 5}", NULL},
	        {"{\"name\": null}", NULL},
	        {"{\"name\": \"x\", \"description\": 5}", NULL},
	        {"[\"name\"]", NULL},
	        {"{\"name\": \"x\"", NULL},
	        {"", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		post(&c, "/api/v1/repositories", bad[i].body, NULL);
		expect_error(&c, 400, bad[i].msg);
		tu_call_done(&c);
	}
	/* 129 bytes. */
	char body[256], name[130];
	memset(name, 'n', 129);
	name[129] = '\0';
	snprintf(body, sizeof(body), "{\"name\": \"%s\"}", name);
	post(&c, "/api/v1/repositories", body, NULL);
	expect_error(&c, 400, "invalid repository name: Repository name must be 1-128 characters");
	tu_call_done(&c);
	name[128] = '\0';
	snprintf(body, sizeof(body), "{\"name\": \"%s\"}", name);
	post(&c, "/api/v1/repositories", body, NULL);
	ck_assert_int_eq(c.status, 201);
	tu_call_done(&c);

	/* Wrong content type. */
	tu_run(app, &c, "POST", "/api/v1/repositories", "{\"name\": \"ct\"}", "Content-Type",
	       "text/plain", "Authorization", bearer, NULL);
	expect_error(&c, 415, "Expected request with `Content-Type: application/json`");
	tu_call_done(&c);
	tu_run(app, &c, "POST", "/api/v1/repositories", "{\"name\": \"ct\"}", "Authorization",
	       bearer, NULL);
	expect_error(&c, 415, NULL);
	tu_call_done(&c);
}
END_TEST

START_TEST(auth_failures)
{
	struct call c;
	const char *missing = "Missing or invalid Authorization header";
	const char *invalid = "Invalid bearer token";
	const char *paths[] = {"/api/v1/repositories", "/api/v1/commits",
	                       "/api/v1/repositories/app/tags"};
	for (size_t i = 0; i < 3; i++) {
		tu_run(app, &c, "POST", paths[i], "{}", JSON_CT, NULL);
		expect_error(&c, 401, missing);
		ck_assert_str_eq(header(&c, "WWW-Authenticate"), "Bearer");
		tu_call_done(&c);
		tu_run(app, &c, "POST", paths[i], "{}", JSON_CT, "Authorization", "Basic eDp5",
		       NULL);
		expect_error(&c, 401, missing);
		tu_call_done(&c);
		tu_run(app, &c, "POST", paths[i], "{}", JSON_CT, "Authorization", "Bearer ", NULL);
		expect_error(&c, 401, missing);
		tu_call_done(&c);
		tu_run(app, &c, "POST", paths[i], "{}", JSON_CT, "Authorization", "Bearer nope",
		       NULL);
		expect_error(&c, 401, invalid);
		ck_assert_str_eq(header(&c, "WWW-Authenticate"), "Bearer");
		tu_call_done(&c);
		char wrong[160];
		snprintf(wrong, sizeof(wrong), "Bearer %s", token);
		wrong[40] = wrong[40] == 'A' ? 'B' : 'A';
		tu_run(app, &c, "POST", paths[i], "{}", JSON_CT, "Authorization", wrong, NULL);
		expect_error(&c, 401, invalid);
		tu_call_done(&c);
	}
	/* Authentication comes before the body is looked at. */
	tu_run(app, &c, "POST", "/api/v1/repositories", "not json", "Content-Type", "text/plain",
	       NULL);
	expect_error(&c, 401, missing);
	tu_call_done(&c);
	/* Lower-case scheme is accepted. */
	char lower[160];
	snprintf(lower, sizeof(lower), "bearer %s", token);
	post(&c, "/api/v1/repositories", "{\"name\": \"lower\"}", lower);
	ck_assert_int_eq(c.status, 201);
	tu_call_done(&c);
}
END_TEST

START_TEST(commit_create_statuses)
{
	struct call c;
	post(&c, "/api/v1/commits", "{}", NULL);
	ck_assert_int_eq(c.status, 201);
	json_t *doc = tu_json(&c);
	const char *keys[] = {"commit_id",   "owner_id",     "name",
	                      "description", "parent_vm_id", "grandparent_commit_id",
	                      "is_public",   "created_at"};
	ck_assert_uint_eq(json_object_size(doc), 8);
	for (size_t i = 0; i < 8; i++)
		ck_assert_msg(json_object_get(doc, keys[i]) != NULL, "no %s", keys[i]);
	const char *id = json_string_value(json_object_get(doc, "commit_id"));
	ck_assert_uint_eq(strlen(id), 36);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "name")), id);
	ck_assert(json_is_null(json_object_get(doc, "description")));
	ck_assert(json_is_null(json_object_get(doc, "parent_vm_id")));
	ck_assert(json_is_null(json_object_get(doc, "grandparent_commit_id")));
	ck_assert(json_is_false(json_object_get(doc, "is_public")));
	struct org acme;
	ck_assert_int_eq(store_org_by_name(s, "acme", &acme), STORE_OK);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "owner_id")), acme.uuid);
	org_release(&acme);
	tu_call_done(&c);

	const char *given = "{\"commit_id\": \"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE\", "
	                    "\"name\": \"build-1\", \"description\": \"d\", \"is_public\": true}";
	post(&c, "/api/v1/commits", given, NULL);
	ck_assert_int_eq(c.status, 201);
	doc = tu_json(&c);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "commit_id")),
	                 "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "name")), "build-1");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "description")), "d");
	ck_assert(json_is_true(json_object_get(doc, "is_public")));
	tu_call_done(&c);

	post(&c, "/api/v1/commits", given, NULL);
	expect_error(&c, 409, "commit already exists");
	tu_call_done(&c);
	/* An id is global: another organization cannot take it either. */
	post(&c, "/api/v1/commits", "{\"commit_id\": \"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\"}",
	     other_bearer);
	expect_error(&c, 409, "commit already exists");
	tu_call_done(&c);

	const char *bad[] = {"{\"commit_id\": \"nope\"}",
	                     "{\"commit_id\": 5}",
	                     "{\"name\": 5}",
	                     "{\"description\": true}",
	                     "{\"is_public\": \"yes\"}",
	                     "{\"is_public\": 1}",
	                     "[]",
	                     "{"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		post(&c, "/api/v1/commits", bad[i], NULL);
		expect_error(&c, 400, NULL);
		tu_call_done(&c);
	}
	/* Nulls are as good as absent. */
	post(&c, "/api/v1/commits",
	     "{\"commit_id\": null, \"name\": null, \"description\": null, \"is_public\": null}",
	     NULL);
	ck_assert_int_eq(c.status, 201);
	tu_call_done(&c);
}
END_TEST

static void tag(struct call *c, const char *repo_path, const char *tag_name, const char *commit,
                const char *auth)
{
	char p[512], body[512];
	snprintf(p, sizeof(p), "/api/v1/repositories/%s/tags", repo_path);
	snprintf(body, sizeof(body), "{\"tag_name\": \"%s\", \"commit_id\": \"%s\"}", tag_name,
	         commit);
	post(c, p, body, auth);
}

START_TEST(tag_create_statuses)
{
	struct call c;
	char commit[37], theirs[37];
	tu_commit(s, "acme", commit);
	tu_commit(s, "other", theirs);
	make_repo("app");
	make_repo("team/web");

	tag(&c, "app", "v1.0", commit, NULL);
	ck_assert_int_eq(c.status, 201);
	json_t *doc = tu_json(&c);
	ck_assert_uint_eq(json_object_size(doc), 3);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "reference")), "app:v1.0");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "commit_id")), commit);
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(doc, "tag_id"))), 36);
	tu_call_done(&c);

	tag(&c, "app", "v1.0", commit, NULL);
	expect_error(&c, 409, "tag already exists in repository");
	tu_call_done(&c);
	/* Same tag in another repository is fine. */
	tag(&c, "team%2Fweb", "v1.0", commit, NULL);
	ck_assert_int_eq(c.status, 201);
	ck_assert_str_eq(json_string_value(json_object_get(tu_json(&c), "reference")),
	                 "team/web:v1.0");
	tu_call_done(&c);

	tag(&c, "nope", "v1", commit, NULL);
	expect_error(&c, 404, "repository not found");
	tu_call_done(&c);
	/* Another org's repository is invisible. */
	tag(&c, "app", "v2", theirs, other_bearer);
	expect_error(&c, 404, "repository not found");
	tu_call_done(&c);
	tag(&c, "app", "v1", "00000000-0000-4000-8000-000000000000", NULL);
	expect_error(&c, 404, "commit not found");
	tu_call_done(&c);
	tag(&c, "app", "v1", theirs, NULL);
	expect_error(&c, 403, "forbidden");
	tu_call_done(&c);
	/* Repository before commit; name before both. */
	tag(&c, "nope", "v1", "00000000-0000-4000-8000-000000000000", NULL);
	expect_error(&c, 404, "repository not found");
	tu_call_done(&c);
	tag(&c, "nope", "bad name", "00000000-0000-4000-8000-000000000000", NULL);
	expect_error(
	        &c, 400,
	        "invalid tag name: Tag name can only contain alphanumeric characters, hyphens, "
	        "underscores, and dots");
	tu_call_done(&c);
	tag(&c, "app", "", commit, NULL);
	expect_error(&c, 400, "invalid tag name: Tag name must be 1-128 characters");
	tu_call_done(&c);
	/* Wrong shapes. */
	post(&c, "/api/v1/repositories/app/tags", "{\"tag_name\": \"x\"}", NULL);
	expect_error(&c, 400, NULL);
	tu_call_done(&c);
	post(&c, "/api/v1/repositories/app/tags", "{\"tag_name\": \"x\", \"commit_id\": \"z\"}",
	     NULL);
	expect_error(&c, 400, NULL);
	tu_call_done(&c);
	/* A bad percent-encoding in the path. */
	tag(&c, "a%zz", "v1", commit, NULL);
	expect_error(&c, 400, NULL);
	tu_call_done(&c);
	/* Description kept as given; null accepted. */
	post(&c, "/api/v1/repositories/app/tags",
	     "{\"tag_name\": \"d\", \"commit_id\": \"00000000-0000-4000-8000-000000000000\", "
	     "\"description\": 5}",
	     NULL);
	expect_error(&c, 400, NULL);
	tu_call_done(&c);
}
END_TEST

START_TEST(fallbacks)
{
	struct call c;
	tu_run(app, &c, "GET", "/api/v1/nothing", NULL, NULL);
	expect_error(&c, 404, NULL);
	tu_call_done(&c);
	tu_run(app, &c, "PUT", "/api/v1/commits", NULL, NULL);
	expect_error(&c, 405, NULL);
	ck_assert_str_eq(header(&c, "Allow"), "GET, HEAD, POST");
	tu_call_done(&c);
}
END_TEST

static Suite *vers_api_suite(void)
{
	Suite *su = suite_create("vers_api");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, repo_create_statuses);
	tcase_add_test(tc, auth_failures);
	tcase_add_test(tc, commit_create_statuses);
	tcase_add_test(tc, tag_create_statuses);
	tcase_add_test(tc, fallbacks);
	suite_add_tcase(su, tc);
	return su;
}

TU_MAIN(vers_api_suite)
