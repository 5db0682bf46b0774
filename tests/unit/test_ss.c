/*
 * test_ss.c - the ServiceStage dialect without a socket: Content-Type rules,
 * name rules, the store's resolution of namespaces, projects and refs, and
 * calls through the app.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "ss_reply.h"
#include "store_ss.h"
#include "testutil.h"

START_TEST(content_types)
{
	const char *ok[] = {"application/json",
	                    "application/json;charset=utf8",
	                    "application/json;charset=UTF-8",
	                    "application/json; charset=utf-8",
	                    "APPLICATION/JSON;CHARSET=UTF8",
	                    "application/json ; charset = \"utf-8\"",
	                    "application/json;foo=bar;charset=utf8",
	                    "application/merge-patch+json;charset=utf-8"};
	const char *bad[] = {NULL,
	                     "",
	                     "text/plain",
	                     "application/json;charset=latin1",
	                     "application/json;charset=utf16",
	                     "application/json;charset=",
	                     "application/jsonx",
	                     "application/json;foo=bar;charset=ascii"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(ss_content_type_ok(ok[i]), "should accept %s", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!ss_content_type_ok(bad[i]), "should refuse %s",
		              bad[i] ? bad[i] : "(null)");
}
END_TEST

START_TEST(name_rules)
{
	char long_name[300];

	ck_assert_ptr_null(names_ss_namespace("team-a"));
	ck_assert_ptr_null(names_ss_namespace("a1"));
	ck_assert_ptr_nonnull(names_ss_namespace(""));
	ck_assert_ptr_nonnull(names_ss_namespace("123"));
	ck_assert_ptr_nonnull(names_ss_namespace("a/b"));
	ck_assert_ptr_nonnull(names_ss_namespace(".a"));
	ck_assert_ptr_nonnull(names_ss_namespace("-a"));
	ck_assert_ptr_nonnull(names_ss_namespace("a:b"));
	memset(long_name, 'a', 101);
	long_name[101] = '\0';
	ck_assert_ptr_nonnull(names_ss_namespace(long_name));
	long_name[100] = '\0';
	ck_assert_ptr_null(names_ss_namespace(long_name));

	ck_assert_ptr_null(names_ss_project("app"));
	ck_assert_ptr_null(names_ss_project("group/sub/app"));
	ck_assert_ptr_null(names_ss_project("group/2024"));
	ck_assert_ptr_nonnull(names_ss_project("2024"));
	ck_assert_ptr_nonnull(names_ss_project("a:b"));
	ck_assert_ptr_nonnull(names_ss_project("a//b"));
	ck_assert_ptr_nonnull(names_ss_project("a/"));
	ck_assert_ptr_nonnull(names_ss_project("/a"));
	ck_assert_ptr_nonnull(names_ss_project("a/.b"));
	memset(long_name, 'a', 256);
	long_name[256] = '\0';
	ck_assert_ptr_nonnull(names_ss_project(long_name));
}
END_TEST

/* A store with org acme, an all-namespace authorization "all" and one "ns1" only. */
struct fixture {
	struct store *s;
	char *path;
	int64_t org;
	int64_t all, only;
	char token[128];
};

static void fixture_init(struct fixture *f)
{
	static const char *const ns1[] = {"ns1"};
	struct ss_auth_create_op a;

	f->s = tu_store(&f->path);
	f->org = tu_org(f->s, "acme", "proj-acme", f->token);
	ss_auth_create_op_init(&a);
	a.org_name = "acme";
	a.name = "all";
	ck_assert_int_eq(store_execute(f->s, &a.op), STORE_OK);
	ss_auth_create_op_init(&a);
	a.org_name = "acme";
	a.name = "only";
	a.repo_type = "github";
	a.namespaces = ns1;
	a.nnamespaces = 1;
	ck_assert_int_eq(store_execute(f->s, &a.op), STORE_OK);
	ck_assert_int_eq(store_ss_auth_find(f->s, f->org, "all", &f->all), STORE_OK);
	ck_assert_int_eq(store_ss_auth_find(f->s, f->org, "only", &f->only), STORE_OK);
}

static void fixture_done(struct fixture *f)
{
	tu_store_done(&f->s, f->path);
}

static struct ss_where where(const struct fixture *f, int64_t auth, const char *ns,
                             const char *project)
{
	return (struct ss_where){
	        .org_id = f->org, .auth_id = auth, .namespace = ns, .project = project};
}

static void make_project(struct fixture *f, const char *ns, const char *name)
{
	struct ss_project_create_op o;
	ss_project_create_op_init(&o);
	o.where = where(f, f->all, ns, NULL);
	o.name = name;
	ck_assert_int_eq(store_execute(f->s, &o.op), STORE_OK);
}

static enum store_status record(struct fixture *f, const char *ns, const char *project, char fill,
                                const char *branch)
{
	struct ss_commit_create_op o;
	ss_commit_create_op_init(&o);
	o.where = where(f, f->all, ns, project);
	memset(o.sha, fill, SS_SHA_LEN);
	o.message = "m";
	o.authored_at = 1;
	o.branch = branch;
	enum store_status st = store_execute(f->s, &o.op);
	ss_commit_release(&o.out);
	return st;
}

static enum store_status tag(struct fixture *f, const char *ref, const char *name)
{
	struct ss_tag_create_op o;
	ss_tag_create_op_init(&o);
	o.where = where(f, f->all, "ns1", "app");
	o.ref = ref;
	o.name = name;
	o.message = "annotation";
	return store_execute(f->s, &o.op);
}

START_TEST(scope_resolution)
{
	struct fixture f;
	struct ss_names names;
	struct ss_where w;

	fixture_init(&f);
	make_project(&f, "ns1", "app");
	make_project(&f, "ns2", "app");
	w = where(&f, f.all, "ns1", "app");
	ck_assert_int_eq(store_ss_tags(f.s, &w, &names), STORE_OK);
	ck_assert_uint_eq(names.n, 0);
	ss_names_release(&names);
	w = where(&f, f.only, "ns2", "app");
	ck_assert_int_eq(store_ss_tags(f.s, &w, &names), STORE_FORBIDDEN);
	w = where(&f, f.only, "nowhere", "app");
	ck_assert_int_eq(store_ss_tags(f.s, &w, &names), STORE_FORBIDDEN);
	w = where(&f, f.all, "nowhere", "app");
	ck_assert_int_eq(store_ss_tags(f.s, &w, &names), STORE_NOT_FOUND);
	w = where(&f, f.all, "ns1", "nope"); /* the namespace exists, the project does not */
	ck_assert_int_eq(store_ss_tags(f.s, &w, &names), STORE_REPO_NOT_FOUND);
	w = where(&f, f.all, "1", "1"); /* ids: namespace 1 is ns1, project 1 its app */
	ck_assert_int_eq(store_ss_tags(f.s, &w, &names), STORE_OK);
	ss_names_release(&names);
	w = where(&f, f.all, "ns1", "ns1/app"); /* namespace-qualified project */
	ck_assert_int_eq(store_ss_tags(f.s, &w, &names), STORE_OK);
	ss_names_release(&names);
	w = where(&f, 9999, "ns1", "app"); /* a deleted authorization */
	ck_assert_int_eq(store_ss_tags(f.s, &w, &names), STORE_FORBIDDEN);
	fixture_done(&f);
}
END_TEST

START_TEST(refs_and_history)
{
	struct fixture f;
	struct ss_commit *list;
	size_t n;

	fixture_init(&f);
	make_project(&f, "ns1", "app");
	ck_assert_int_eq(record(&f, "ns1", "app", 'a', "main"), STORE_OK);
	ck_assert_int_eq(record(&f, "ns1", "app", 'b', "main"), STORE_OK);
	ck_assert_int_eq(record(&f, "ns1", "app", 'c', NULL), STORE_OK);
	ck_assert_int_eq(record(&f, "ns1", "app", 'c', NULL), STORE_CONFLICT);
	ck_assert_int_eq(record(&f, "ns1", "app", 'b', "main"), STORE_CONFLICT);
	ck_assert_int_eq(record(&f, "ns1", "app", 'a', "dev"), STORE_OK);

	ck_assert_int_eq(tag(&f, "main", "t-main"), STORE_OK);
	ck_assert_int_eq(tag(&f, "t-main", "t-tag"), STORE_OK);
	ck_assert_int_eq(tag(&f, "aaaaaaa", "t-abbr"), STORE_OK);
	ck_assert_int_eq(tag(&f, "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC", "t-full"), STORE_OK);
	ck_assert_int_eq(tag(&f, "aaaaaa", "t-short"), STORE_COMMIT_NOT_FOUND);
	ck_assert_int_eq(tag(&f, "nope", "t-nope"), STORE_COMMIT_NOT_FOUND);
	ck_assert_int_eq(tag(&f, "main", "t-main"), STORE_CONFLICT);

	struct ss_where w = where(&f, f.all, "ns1", "app");
	ck_assert_int_eq(store_ss_commits(f.s, &w, NULL, &list, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(list[0].sha[0], 'b');
	ck_assert_int_eq(list[1].sha[0], 'a');
	ss_commit_list_free(list, n);
	ck_assert_int_eq(store_ss_commits(f.s, &w, "t-abbr", &list, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].sha[0], 'a');
	ss_commit_list_free(list, n);
	ck_assert_int_eq(store_ss_commits(f.s, &w, "t-full", &list, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].sha[0], 'c');
	ss_commit_list_free(list, n);
	ck_assert_int_eq(store_ss_commits(f.s, &w, "t-tag", &list, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ss_commit_list_free(list, n);
	fixture_done(&f);
}
END_TEST

START_TEST(ambiguous_abbreviation)
{
	struct fixture f;
	struct ss_commit_create_op o;
	char full[SS_SHA_LEN + 1];

	fixture_init(&f);
	make_project(&f, "ns1", "app");
	for (int i = 0; i < 2; i++) {
		ss_commit_create_op_init(&o);
		o.where = where(&f, f.all, "ns1", "app");
		memset(o.sha, 'd', SS_SHA_LEN);
		o.sha[SS_SHA_LEN - 1] = (char)('0' + i);
		o.message = "m";
		ck_assert_int_eq(store_execute(f.s, &o.op), STORE_OK);
		ss_commit_release(&o.out);
	}
	ck_assert_int_eq(tag(&f, "ddddddd", "amb"), STORE_INVALID);
	memset(full, 'D', SS_SHA_LEN);
	full[SS_SHA_LEN - 1] = '1';
	full[SS_SHA_LEN] = '\0';
	ck_assert_int_eq(tag(&f, full, "one"), STORE_OK);
	full[20] = '\0';
	ck_assert_int_eq(tag(&f, full, "two"), STORE_INVALID);
	fixture_done(&f);
}
END_TEST

START_TEST(calls_through_app)
{
	struct fixture f;
	struct call c;
	char hdr_token[160];

	fixture_init(&f);
	struct app_options opts = {.clone_base_url = "https://src.test"};
	struct app *a = app_new(f.s, &opts);
	ck_assert_ptr_nonnull(a);
	snprintf(hdr_token, sizeof(hdr_token), "%s", f.token);

	tu_run(a, &c, "POST", "/v1/proj-acme/git/repos/ns1/projects", "{\"name\":\"a/b\"}",
	       "X-Auth-Token", hdr_token, "X-Repo-Auth", "only", "Content-Type",
	       "application/json;charset=utf8", NULL);
	ck_assert_int_eq(c.status, 200);
	ck_assert_str_eq(c.resp_type, SS_JSON_TYPE);
	ck_assert_str_eq(json_string_value(json_object_get(tu_json(&c), "clone_url")),
	                 "https://src.test/ns1/a/b.git");
	tu_call_done(&c);

	tu_run(a, &c, "GET", "/v1/proj-acme/git/repos/ns1/a:b/tags", NULL, "X-Auth-Token",
	       hdr_token, "X-Repo-Auth", "only", NULL);
	ck_assert_int_eq(c.status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(tu_json(&c), "tags")), 0);
	tu_call_done(&c);

	tu_run(a, &c, "GET", "/v1/proj-acme/git/repos/ns1/a:b/tags", NULL, "X-Auth-Token",
	       hdr_token, NULL);
	ck_assert_int_eq(c.status, 400);
	ck_assert_str_eq(json_string_value(json_object_get(tu_json(&c), "error_code")),
	                 "SVCSTG.REPO.0450");
	tu_call_done(&c);

	tu_run(a, &c, "GET", "/v1/proj-other/git/auths", NULL, "X-Auth-Token", hdr_token, NULL);
	ck_assert_int_eq(c.status, 403);
	tu_call_done(&c);

	tu_run(a, &c, "DELETE", "/v1/proj-acme/git/auths", NULL, "X-Auth-Token", hdr_token, NULL);
	ck_assert_int_eq(c.status, 404);
	ck_assert_str_eq(json_string_value(json_object_get(tu_json(&c), "error_code")),
	                 "APIGW.0101");
	tu_call_done(&c);

	app_free(&a);
	fixture_done(&f);
}
END_TEST

static Suite *ss_suite(void)
{
	Suite *s = suite_create("ss");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, content_types);
	tcase_add_test(tc, name_rules);
	tcase_add_test(tc, scope_resolution);
	tcase_add_test(tc, refs_and_history);
	tcase_add_test(tc, ambiguous_abbreviation);
	tcase_add_test(tc, calls_through_app);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(ss_suite)
