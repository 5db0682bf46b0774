/*
 * Unit tests: router.c - priority, 404/405 and Allow, parameter decoding, the
 * dialect of a path; and app_refuse, which answers in that dialect.
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "router.h"
#include "testutil.h"

static void h_fork(struct call *c)
{
	(void)c;
}
static void h_repo_get(struct call *c)
{
	(void)c;
}
static void h_repo_delete(struct call *c)
{
	(void)c;
}
static void h_tags_post(struct call *c)
{
	(void)c;
}
static void h_tags_get(struct call *c)
{
	(void)c;
}
static void h_tag_get(struct call *c)
{
	(void)c;
}
static void h_root(struct call *c)
{
	(void)c;
}

static const struct route routes[] = {
        {CALL_GET, "/repos", ROUTE_AUTH_NONE, h_root},
        {CALL_GET, "/repositories/{repo_name}", ROUTE_AUTH_VERS, h_repo_get},
        {CALL_DELETE, "/repositories/{repo_name}", ROUTE_AUTH_VERS, h_repo_delete},
        {CALL_POST, "/repositories/fork", ROUTE_AUTH_VERS, h_fork},
        {CALL_POST, "/repositories/{repo_name}/tags", ROUTE_AUTH_VERS, h_tags_post},
        {CALL_GET, "/repositories/{repo_name}/tags", ROUTE_AUTH_VERS, h_tags_get},
        {CALL_GET, "/repositories/{repo_name}/tags/{tag_name}", ROUTE_AUTH_VERS, h_tag_get},
};

struct match {
	enum router_result res;
	const struct route *route;
	char allow[128];
	struct call call;
};

static void run_match(struct match *m, const char *method, const char *path)
{
	struct router *r = router_new(routes, sizeof(routes) / sizeof(routes[0]));
	ck_assert_ptr_nonnull(r);
	call_init(&m->call, NULL, NULL, NULL);
	m->call.method = call_method_parse(method);
	m->call.method_name = method;
	m->call.path = path;
	m->route = NULL;
	m->res = router_match(r, &m->call, &m->route, m->allow, sizeof(m->allow));
	router_free(&r);
	ck_assert_ptr_null(r);
}

static void done(struct match *m)
{
	call_release(&m->call);
}

START_TEST(static_beats_param)
{
	struct match m;
	run_match(&m, "POST", "/repositories/fork");
	ck_assert_int_eq(m.res, ROUTER_FOUND);
	ck_assert_ptr_eq(m.route->handler, h_fork);
	ck_assert_uint_eq(m.call.nparams, 0);
	ck_assert_str_eq(m.call.route, "/repositories/fork");
	done(&m);

	/* Any other name is a parameter. */
	run_match(&m, "GET", "/repositories/forks");
	ck_assert_int_eq(m.res, ROUTER_FOUND);
	ck_assert_ptr_eq(m.route->handler, h_repo_get);
	ck_assert_str_eq(call_param(&m.call, 0), "forks");
	ck_assert_ptr_null(call_param(&m.call, 1));
	done(&m);

	/* As in axum: the static segment wins, so GET on it is 405, not the param route. */
	run_match(&m, "GET", "/repositories/fork");
	ck_assert_int_eq(m.res, ROUTER_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(m.allow, "POST");
	done(&m);

	/* Deeper paths under "fork" are parameters again. */
	run_match(&m, "GET", "/repositories/fork/tags");
	ck_assert_int_eq(m.res, ROUTER_FOUND);
	ck_assert_ptr_eq(m.route->handler, h_tags_get);
	ck_assert_str_eq(call_param(&m.call, 0), "fork");
	done(&m);
}
END_TEST

START_TEST(two_params)
{
	struct match m;
	run_match(&m, "GET", "/repositories/app/tags/v1.0");
	ck_assert_int_eq(m.res, ROUTER_FOUND);
	ck_assert_ptr_eq(m.route->handler, h_tag_get);
	ck_assert_uint_eq(m.call.nparams, 2);
	ck_assert_str_eq(call_param(&m.call, 0), "app");
	ck_assert_str_eq(call_param(&m.call, 1), "v1.0");
	done(&m);
}
END_TEST

START_TEST(not_found_vs_method)
{
	struct match m;
	run_match(&m, "GET", "/nowhere");
	ck_assert_int_eq(m.res, ROUTER_NOT_FOUND);
	done(&m);
	run_match(&m, "GET", "/repositories/app/tags/v1/extra");
	ck_assert_int_eq(m.res, ROUTER_NOT_FOUND);
	done(&m);
	run_match(&m, "GET", "/");
	ck_assert_int_eq(m.res, ROUTER_NOT_FOUND);
	done(&m);
	run_match(&m, "GET", "");
	ck_assert_int_eq(m.res, ROUTER_NOT_FOUND);
	done(&m);

	/* Known path, wrong method: Allow lists every method, GET implies HEAD. */
	run_match(&m, "PUT", "/repositories/app");
	ck_assert_int_eq(m.res, ROUTER_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(m.allow, "GET, HEAD, DELETE");
	ck_assert_uint_eq(m.call.nparams, 0);
	done(&m);
	run_match(&m, "DELETE", "/repositories/app/tags");
	ck_assert_int_eq(m.res, ROUTER_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(m.allow, "POST, GET, HEAD");
	done(&m);
	run_match(&m, "BREW", "/repos");
	ck_assert_int_eq(m.res, ROUTER_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(m.allow, "GET, HEAD");
	done(&m);
	run_match(&m, "POST", "/repos");
	ck_assert_int_eq(m.res, ROUTER_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(m.allow, "GET, HEAD");
	done(&m);
}
END_TEST

START_TEST(head_served_by_get)
{
	struct match m;
	run_match(&m, "HEAD", "/repositories/app");
	ck_assert_int_eq(m.res, ROUTER_FOUND);
	ck_assert_ptr_eq(m.route->handler, h_repo_get);
	done(&m);
	/* HEAD on a path without GET: 405. */
	run_match(&m, "HEAD", "/repositories/fork");
	ck_assert_int_eq(m.res, ROUTER_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(m.allow, "POST");
	done(&m);
}
END_TEST

START_TEST(percent_decoding)
{
	struct match m;
	run_match(&m, "GET", "/repositories/team%2Fapp/tags");
	ck_assert_int_eq(m.res, ROUTER_FOUND);
	ck_assert_ptr_eq(m.route->handler, h_tags_get);
	ck_assert_str_eq(call_param(&m.call, 0), "team/app");
	done(&m);
	run_match(&m, "GET", "/repositories/team%2fapp%2Fweb");
	ck_assert_int_eq(m.res, ROUTER_FOUND);
	ck_assert_str_eq(call_param(&m.call, 0), "team/app/web");
	done(&m);
	run_match(&m, "GET", "/repositories/%C3%A9t%C3%A9+x");
	ck_assert_int_eq(m.res, ROUTER_FOUND);
	/* '+' is a plus in a path, not a space. */
	ck_assert_str_eq(call_param(&m.call, 0), "été+x");
	done(&m);

	const char *bad[] = {"/repositories/a%2",   "/repositories/a%",  "/repositories/a%zz",
	                     "/repositories/a%00b", "/repositories/%g1", "/repositories/a%2/tags"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_match(&m, "GET", bad[i]);
		ck_assert_msg(m.res == ROUTER_BAD_PATH, "%s gave %d", bad[i], m.res);
		done(&m);
	}
	/* A static segment is compared raw: an encoded static name is not the route. */
	run_match(&m, "GET", "/%72epos");
	ck_assert_int_eq(m.res, ROUTER_NOT_FOUND);
	done(&m);
}
END_TEST

START_TEST(trailing_and_empty_segments)
{
	struct match m;
	run_match(&m, "GET", "/repos/");
	ck_assert_int_eq(m.res, ROUTER_NOT_FOUND);
	done(&m);
	run_match(&m, "GET", "/repositories/app/");
	ck_assert_int_eq(m.res, ROUTER_NOT_FOUND);
	done(&m);
	/* An empty segment never matches a parameter. */
	run_match(&m, "GET", "/repositories//tags");
	ck_assert_int_eq(m.res, ROUTER_NOT_FOUND);
	done(&m);
	run_match(&m, "GET", "/repositories/");
	ck_assert_int_eq(m.res, ROUTER_NOT_FOUND);
	done(&m);
	run_match(&m, "GET", "//repos");
	ck_assert_int_eq(m.res, ROUTER_NOT_FOUND);
	done(&m);
	/* Too many segments is simply not found. */
	run_match(&m, "GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t");
	ck_assert_int_eq(m.res, ROUTER_NOT_FOUND);
	done(&m);
}
END_TEST

START_TEST(allow_buffer_bounded)
{
	struct router *r = router_new(routes, sizeof(routes) / sizeof(routes[0]));
	struct call c;
	const struct route *out = NULL;
	char allow[8];
	call_init(&c, NULL, NULL, NULL);
	c.method = CALL_PUT;
	c.path = "/repositories/app";
	ck_assert_int_eq(router_match(r, &c, &out, allow, sizeof(allow)),
	                 ROUTER_METHOD_NOT_ALLOWED);
	ck_assert_uint_lt(strlen(allow), sizeof(allow));
	call_release(&c);
	router_free(&r);
}
END_TEST

START_TEST(dialect_of_paths)
{
	ck_assert_int_eq(router_dialect("/api/v1/repositories"), ROUTER_DIALECT_VERS);
	ck_assert_int_eq(router_dialect("/api/anything"), ROUTER_DIALECT_VERS);
	ck_assert_int_eq(router_dialect("/v1/p/git/repos"), ROUTER_DIALECT_SS);
	ck_assert_int_eq(router_dialect("/v1"), ROUTER_DIALECT_OTHER);
	ck_assert_int_eq(router_dialect("/api"), ROUTER_DIALECT_OTHER);
	ck_assert_int_eq(router_dialect("/livez"), ROUTER_DIALECT_OTHER);
	ck_assert_int_eq(router_dialect(NULL), ROUTER_DIALECT_OTHER);
	ck_assert(router_is_ss("/v1/x"));
	ck_assert(!router_is_ss("/api/v1/x"));
}
END_TEST

/* A refusal of the HTTP layer, in the envelope of the path's dialect. */
static json_t *refused(const char *path, enum call_refusal why, int *status)
{
	struct call c;
	call_init(&c, NULL, NULL, NULL);
	c.path = path;
	app_refuse(&c, why);
	*status = c.status;
	json_error_t err;
	json_t *doc = json_loadb(c.resp_body, c.resp_len, 0, &err);
	ck_assert_msg(doc != NULL, "not JSON: %s", err.text);
	ck_assert_str_eq(c.resp_type, strncmp(path ? path : "", "/v1/", 4) == 0
	                                      ? "application/json;charset=utf8"
	                                      : "application/json");
	call_release(&c);
	return doc;
}

START_TEST(refusals_in_each_envelope)
{
	int status;
	json_t *v = refused("/api/v1/commits", CALL_REFUSE_TOO_MANY_QUERY, &status);
	ck_assert_int_eq(status, 414);
	ck_assert(json_is_false(json_object_get(v, "success")));
	ck_assert_str_eq(json_string_value(json_object_get(v, "error")),
	                 "too many query parameters");
	json_decref(v);

	v = refused("/v1/p/git/repos", CALL_REFUSE_FRAMING, &status);
	ck_assert_int_eq(status, 400);
	ck_assert_str_eq(json_string_value(json_object_get(v, "error_code")), "SVCSTG.REPO.0400");
	ck_assert_str_eq(json_string_value(json_object_get(v, "error_msg")),
	                 "Content-Length and Transfer-Encoding cannot be used together");
	json_decref(v);

	v = refused("/v1/p/git/repos", CALL_REFUSE_CODING_UNSUPPORTED, &status);
	ck_assert_int_eq(status, 501);
	ck_assert_str_eq(json_string_value(json_object_get(v, "error_code")), "SVCSTG.REPO.0501");
	json_decref(v);

	/* No path (or tagd's own): the Vers envelope. */
	v = refused(NULL, CALL_REFUSE_BAD_HOST, &status);
	ck_assert_int_eq(status, 400);
	ck_assert_ptr_nonnull(json_object_get(v, "error"));
	json_decref(v);
	v = refused("/livez", CALL_REFUSE_TOO_MANY_HEADERS, &status);
	ck_assert_int_eq(status, 431);
	json_decref(v);
	/* Every refusal has an answer. */
	for (int why = CALL_REFUSE_NONE; why <= CALL_REFUSE_CODING_UNSUPPORTED; why++) {
		v = refused("/api/v1/x", (enum call_refusal)why, &status);
		ck_assert_int_ge(status, 400);
		json_decref(v);
	}
}
END_TEST

static Suite *router_suite(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, static_beats_param);
	tcase_add_test(tc, two_params);
	tcase_add_test(tc, not_found_vs_method);
	tcase_add_test(tc, head_served_by_get);
	tcase_add_test(tc, percent_decoding);
	tcase_add_test(tc, trailing_and_empty_segments);
	tcase_add_test(tc, allow_buffer_bounded);
	tcase_add_test(tc, dialect_of_paths);
	tcase_add_test(tc, refusals_in_each_envelope);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(router_suite)
