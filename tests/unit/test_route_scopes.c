/*
 * test_route_scopes.c - every route of every table names the scope it
 * takes, so that a new route cannot forget one: authenticated routes a real
 * scope (reads read, anything else write or more, the protection rules
 * admin, hooks maintain), unauthenticated ones none.  And app.c checks it before the
 * handler: a token below the route's scope is answered 403 in the dialect's
 * envelope, the handler never runs.
 */
#include <string.h>

#include "app.h"
#include "health_api.h"
#include "ops_api.h"
#include "ss_api.h"
#include "testutil.h"
#include "vers_api.h"

struct table {
	const struct route *routes;
	const size_t *n;
};

static const struct table tables[] = {
        {vers_routes, &vers_routes_count},
        {ss_routes, &ss_routes_count},
        {ops_routes, &ops_routes_count},
        {health_routes, &health_routes_count},
};

START_TEST(every_route_names_its_scope)
{
	size_t authenticated = 0, rules = 0, hooks = 0;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (size_t i = 0; i < *tables[t].n; i++) {
			const struct route *r = &tables[t].routes[i];
			const char *what = r->template;
			if (r->auth == ROUTE_AUTH_NONE) {
				ck_assert_msg(r->scope == TOKEN_SCOPE_NONE,
				              "%s: no token, no scope", what);
				continue;
			}
			authenticated++;
			ck_assert_msg(r->scope >= TOKEN_SCOPE_READ && r->scope <= TOKEN_SCOPE_ADMIN,
			              "%s names no scope", what);
			if (strstr(what, "/hooks") != NULL) {
				/* Reads too: a receiver's URL can carry a credential. */
				ck_assert_msg(r->scope == TOKEN_SCOPE_MAINTAIN,
				              "%s: hooks are maintain's", what);
				hooks++;
			} else if (r->method == CALL_GET)
				ck_assert_msg(r->scope == TOKEN_SCOPE_READ, "%s: a read is read",
				              what);
			else
				ck_assert_msg(r->scope >= TOKEN_SCOPE_WRITE,
				              "%s: a write is write+", what);
			if (strstr(what, "/protected_tags") != NULL && r->method != CALL_GET) {
				ck_assert_msg(r->scope == TOKEN_SCOPE_ADMIN,
				              "%s: rules are admin's", what);
				rules++;
			}
		}
	}
	ck_assert_uint_ge(authenticated, 40);
	ck_assert_uint_eq(rules, 6); /* add and remove: organization, repository, project */
	ck_assert_uint_eq(hooks,
	                  10); /* Vers: 4 of the organization's, 3 of a repository's; SS: 3 */
}
END_TEST

/* Answer of a Vers POST with a body that is not JSON, as token. */
static int vers_post(struct app *a, const char *path, const char *token, json_t **doc)
{
	struct call c;
	char auth[160];
	snprintf(auth, sizeof(auth), "Bearer %s", token);
	tu_run(a, &c, "POST", path, "{", "Authorization", auth, "Content-Type", "application/json",
	       NULL);
	int status = c.status;
	*doc = json_deep_copy(tu_json(&c));
	tu_call_done(&c);
	return status;
}

START_TEST(a_token_below_the_scope_is_refused_first)
{
	char *path;
	char admin[128], read[128], write[128];
	struct store *s = tu_store(&path);
	tu_org(s, "acme", "proj-acme", admin);
	tu_token(s, "acme", TOKEN_SCOPE_READ, read);
	tu_token(s, "acme", TOKEN_SCOPE_WRITE, write);
	struct app *a = app_new(s, NULL);
	ck_assert_ptr_nonnull(a);
	json_t *doc;

	/* Below the route's scope: 403 before the body is looked at. */
	ck_assert_int_eq(vers_post(a, "/api/v1/repositories", write, &doc), 403);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "error")),
	                 "insufficient scope: this request takes a token of scope maintain or "
	                 "above, this one is write");
	json_decref(doc);
	ck_assert_int_eq(vers_post(a, "/api/v1/commits", read, &doc), 403);
	json_decref(doc);
	/* At or above it: the handler runs, and refuses the body (400). */
	ck_assert_int_eq(vers_post(a, "/api/v1/commits", write, &doc), 400);
	json_decref(doc);
	ck_assert_int_eq(vers_post(a, "/api/v1/repositories", admin, &doc), 400);
	json_decref(doc);

	/* ServiceStage: 403 APIGW.0302 before X-Repo-Auth (0450 otherwise). */
	struct call c;
	tu_run(a, &c, "DELETE", "/v1/proj-acme/git/repos/ns/p/tags/v1", NULL, "X-Auth-Token", read,
	       NULL);
	ck_assert_int_eq(c.status, 403);
	ck_assert_str_eq(json_string_value(json_object_get(tu_json(&c), "error_code")),
	                 "APIGW.0302");
	tu_call_done(&c);
	tu_run(a, &c, "DELETE", "/v1/proj-acme/git/repos/ns/p/tags/v1", NULL, "X-Auth-Token", write,
	       NULL);
	ck_assert_int_eq(c.status, 400);
	ck_assert_str_eq(json_string_value(json_object_get(tu_json(&c), "error_code")),
	                 "SVCSTG.REPO.0450");
	tu_call_done(&c);
	app_free(&a);
	tu_store_done(&s, path);
}
END_TEST

static Suite *route_scopes_suite(void)
{
	Suite *s = suite_create("route_scopes");
	TCase *tc = tcase_create("route_scopes");
	tcase_add_test(tc, every_route_names_its_scope);
	tcase_add_test(tc, a_token_below_the_scope_is_refused_first);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(route_scopes_suite)
