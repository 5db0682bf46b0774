/*
 * test_store_vers_page.c - keyset pages of the Vers store: repository tags,
 * legacy commit tags and commits walked page by page, cursors that are not
 * in the list, and the query plans that keep a page's cost independent of
 * how much is stored.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_org.h"
#include "store_vers.h"
#include "testutil.h"

static struct store *s;
static char *path;
static int64_t acme, other;
static char commit_id[37];

static void setup(void)
{
	s = tu_store(&path);
	acme = tu_org(s, "acme", NULL, NULL);
	other = tu_org(s, "other", NULL, NULL);
	tu_commit(s, "acme", commit_id);
}

static void teardown(void)
{
	tu_store_done(&s, path);
}

static void tag_on(int64_t org, const char *repo_name, const char *name, const char *commit)
{
	struct vers_tag_create_op o;
	vers_tag_create_op_init(&o);
	o.org_id = org;
	o.repo_name = repo_name;
	o.tag_name = name;
	strcpy(o.commit_id, commit);
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
}

static void tag(int64_t org, const char *repo_name, const char *name)
{
	tag_on(org, repo_name, name, commit_id);
}

static void ctag(int64_t org, const char *name, const char *commit)
{
	struct vers_commit_tag_create_op o;
	vers_commit_tag_create_op_init(&o);
	o.org_id = org;
	o.tag_name = name;
	strcpy(o.commit_id, commit);
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
}

/* Collects names joined by ','; stops (returns false) after stop_after when set. */
struct names {
	char text[2048];
	char last[200];
	int n;
	int stop_after;
};

static bool add_name(struct names *x, const char *name)
{
	if (x->stop_after && x->n == x->stop_after)
		return false;
	if (x->n++)
		strcat(x->text, ",");
	strcat(x->text, name);
	snprintf(x->last, sizeof(x->last), "%s", name);
	return true;
}

static bool on_tag(void *ctx, const struct vers_tag *t)
{
	return add_name(ctx, t->name);
}

static bool on_commit(void *ctx, const struct vers_commit *c)
{
	return add_name(ctx, c->name);
}

/* One page of app's tags after `after` (NULL: the first); the names go into x. */
static enum store_status tags_page(const char *after, int64_t limit, struct names *x, bool *more)
{
	struct vers_repo_key key = {.org_id = acme, .name = "app"};
	char cursor[200];
	/* after may be x->last, which is cleared below: page from a copy. */
	snprintf(cursor, sizeof(cursor), "%s", after != NULL ? after : "");
	struct vers_page page = {.after = after != NULL ? cursor : NULL, .limit = limit};
	page.more = true; /* the read must reset it */
	memset(x, 0, sizeof(*x));
	enum store_status st = store_vers_repo_tags_page(s, &key, &page, on_tag, x);
	*more = page.more;
	return st;
}

START_TEST(repo_tags_walk)
{
	/* Byte order: upper case before lower case, '.' before digits, é after z. */
	static const char *const names[] = {"v1", "v10", "v1.2", "B", "é", "z", "v2"};
	struct names x;
	bool more = false;
	char theirs[37];

	tu_commit(s, "other", theirs);
	tu_repo(s, acme, "app");
	tu_repo(s, acme, "empty");
	tu_repo(s, other, "app");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		tag(acme, "app", names[i]);
	tag_on(other, "app", "zz-theirs", theirs);

	ck_assert_int_eq(tags_page(NULL, 3, &x, &more), STORE_OK);
	ck_assert_str_eq(x.text, "B,v1,v1.2");
	ck_assert(more);
	ck_assert_int_eq(tags_page(x.last, 3, &x, &more), STORE_OK);
	ck_assert_str_eq(x.text, "v10,v2,z");
	ck_assert(more);
	ck_assert_int_eq(tags_page(x.last, 3, &x, &more), STORE_OK);
	ck_assert_str_eq(x.text, "é");
	ck_assert(!more);

	/* A page that ends exactly at the last tag has nothing more. */
	ck_assert_int_eq(tags_page(NULL, 7, &x, &more), STORE_OK);
	ck_assert_int_eq(x.n, 7);
	ck_assert(!more);
	ck_assert_int_eq(tags_page(NULL, 6, &x, &more), STORE_OK);
	ck_assert(more);

	/* The cursor need not be a tag: it is a position in byte order. */
	ck_assert_int_eq(tags_page("v1.", 2, &x, &more), STORE_OK);
	ck_assert_str_eq(x.text, "v1.2,v10");
	ck_assert_int_eq(tags_page("", 1, &x, &more), STORE_OK);
	ck_assert_str_eq(x.text, "B");
	ck_assert_int_eq(tags_page("\xff", 5, &x, &more), STORE_OK);
	ck_assert_str_eq(x.text, "");
	ck_assert(!more);

	/* Other repositories' tags never leak in; an empty repository is an empty page. */
	struct vers_repo_key empty = {.org_id = acme, .name = "empty"};
	struct vers_page page = {.limit = 10};
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(store_vers_repo_tags_page(s, &empty, &page, on_tag, &x), STORE_OK);
	ck_assert_int_eq(x.n, 0);
	ck_assert(!page.more);
}
END_TEST

START_TEST(repo_tags_page_errors)
{
	struct names x = {0};
	struct vers_repo_key key = {.org_id = acme, .name = "app"};
	struct vers_page page = {.limit = 2};

	ck_assert_int_eq(store_vers_repo_tags_page(s, &key, &page, on_tag, &x),
	                 STORE_REPO_NOT_FOUND);
	tu_repo(s, acme, "app");
	tag(acme, "app", "a");
	tag(acme, "app", "b");
	tag(acme, "app", "c");
	page.limit = 0;
	ck_assert_int_eq(store_vers_repo_tags_page(s, &key, &page, on_tag, &x), STORE_INVALID);
	page.limit = INT64_MAX;
	ck_assert_int_eq(store_vers_repo_tags_page(s, &key, &page, on_tag, &x), STORE_INVALID);
	page.limit = 3;
	x.stop_after = 1;
	ck_assert_int_eq(store_vers_repo_tags_page(s, &key, &page, on_tag, &x), STORE_NOMEM);

	/* Public keys see the repository only once it is public. */
	struct vers_repo_key pub = {.org_name = "acme", .name = "app"};
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(store_vers_repo_tags_page(s, &pub, &page, on_tag, &x),
	                 STORE_REPO_NOT_FOUND);
	struct vers_repo_visibility_op v;
	vers_repo_visibility_op_init(&v);
	v.org_id = acme;
	v.name = "app";
	v.is_public = true;
	ck_assert_int_eq(store_execute(s, &v.op), STORE_OK);
	page.limit = 2;
	page.after = "a";
	ck_assert_int_eq(store_vers_repo_tags_page(s, &pub, &page, on_tag, &x), STORE_OK);
	ck_assert_str_eq(x.text, "b,c");
	ck_assert(!page.more);
}
END_TEST

START_TEST(commit_tags_walk)
{
	char theirs[37];
	struct names x = {0};
	struct vers_page page = {.limit = 2};

	tu_commit(s, "other", theirs);
	ctag(acme, "r3", commit_id);
	ctag(acme, "r1", commit_id);
	ctag(acme, "r2", commit_id);
	ctag(other, "r0", theirs);
	ck_assert_int_eq(store_vers_commit_tags_page(s, acme, &page, on_tag, &x), STORE_OK);
	ck_assert_str_eq(x.text, "r1,r2");
	ck_assert(page.more);
	page.after = "r2";
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(store_vers_commit_tags_page(s, acme, &page, on_tag, &x), STORE_OK);
	ck_assert_str_eq(x.text, "r3");
	ck_assert(!page.more);
	page.limit = 0;
	ck_assert_int_eq(store_vers_commit_tags_page(s, acme, &page, on_tag, &x), STORE_INVALID);
}
END_TEST

static void commit_named(int64_t org, const char *name, bool pub, char *id)
{
	struct vers_commit_create_op o;
	vers_commit_create_op_init(&o);
	o.org_id = org;
	o.name = name;
	o.is_public = pub;
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
	strcpy(id, o.out.commit_id);
	vers_commit_release(&o.out);
}

/*
 * Set the created_at of the commits named in names (an SQL list) to us, as
 * commits made in one microsecond would share it: the order must then fall
 * back to id DESC.  The store has no operation for this, so the test writes
 * the rows itself.
 */
static void set_time(const char *names, int64_t us)
{
	sqlite3 *db = NULL;
	char *sql = sqlite3_mprintf("UPDATE commits SET created_at = %lld WHERE name IN (%s)",
	                            (long long)us, names);
	ck_assert_ptr_nonnull(sql);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	sqlite3_free(sql);
}

/* One page of commits after the commit id `after`; the names go into x. */
static enum store_status commits_page(int64_t org, bool pub, const char *after, int64_t limit,
                                      struct names *x, bool *more, int64_t *total)
{
	struct vers_page page = {.after = after, .limit = limit};
	memset(x, 0, sizeof(*x));
	enum store_status st = store_vers_commits_after(s, org, pub, &page, total, on_commit, x);
	*more = page.more;
	return st;
}

START_TEST(commits_walk_with_ties)
{
	char ids[6][37], theirs[37];
	const char *names[] = {"c0", "c1", "c2", "c3", "c4", "c5"};
	int64_t third = tu_org(s, "third", NULL, NULL);
	struct names x;
	bool more;
	int64_t total = -1;

	for (int i = 0; i < 6; i++)
		commit_named(third, names[i], i % 2 == 1, ids[i]);
	commit_named(other, "t0", true, theirs);
	/* Newest first: t0 and c5 keep their real times; c4..c1 share one instant (so by id); c0.
	 */
	set_time("'c1','c2','c3','c4'", 2000000);
	set_time("'c0'", 1000000);

	ck_assert_int_eq(commits_page(third, false, ids[5], 2, &x, &more, &total), STORE_OK);
	ck_assert_str_eq(x.text, "c4,c3");
	ck_assert(more);
	ck_assert_int_eq(total, 6);
	ck_assert_int_eq(commits_page(third, false, ids[3], 2, &x, &more, &total), STORE_OK);
	ck_assert_str_eq(x.text, "c2,c1");
	ck_assert(more);
	ck_assert_int_eq(commits_page(third, false, ids[1], 5, &x, &more, &total), STORE_OK);
	ck_assert_str_eq(x.text, "c0");
	ck_assert(!more);
	ck_assert_int_eq(commits_page(third, false, ids[0], 5, &x, &more, &total), STORE_OK);
	ck_assert_str_eq(x.text, "");
	ck_assert(!more);

	/* The same order as the offset list gives. */
	struct names all = {0};
	ck_assert_int_eq(store_vers_commits(s, third, false, 50, 0, &total, on_commit, &all),
	                 STORE_OK);
	ck_assert_str_eq(all.text, "c5,c4,c3,c2,c1,c0");

	/* Public list: every organization's public commits. */
	ck_assert_int_eq(commits_page(acme, true, theirs, 10, &x, &more, &total), STORE_OK);
	ck_assert_str_eq(x.text, "c5,c3,c1");
	ck_assert_int_eq(total, 4);
	ck_assert(!more);
	ck_assert_int_eq(commits_page(other, true, ids[3], 10, &x, &more, &total), STORE_OK);
	ck_assert_str_eq(x.text, "c1");
}
END_TEST

START_TEST(commit_cursor_not_in_list)
{
	char mine[37], pub[37], theirs[37];
	struct names x;
	bool more;
	int64_t total;

	commit_named(acme, "mine", false, mine);
	commit_named(acme, "pub", true, pub);
	commit_named(other, "theirs", false, theirs);

	ck_assert_int_eq(commits_page(acme, false, "00000000-0000-4000-8000-000000000000", 5, &x,
	                              &more, &total),
	                 STORE_INVALID);
	ck_assert_int_eq(commits_page(acme, false, theirs, 5, &x, &more, &total), STORE_INVALID);
	ck_assert_int_eq(commits_page(acme, true, mine, 5, &x, &more, &total), STORE_INVALID);
	ck_assert_int_eq(commits_page(other, true, pub, 5, &x, &more, &total), STORE_OK);
	ck_assert_int_eq(commits_page(acme, false, NULL, 5, &x, &more, &total), STORE_INVALID);
	ck_assert_int_eq(commits_page(acme, false, mine, 0, &x, &more, &total), STORE_INVALID);

	struct vers_commit_delete_op d;
	vers_commit_delete_op_init(&d);
	d.org_id = acme;
	strcpy(d.commit_id, pub);
	ck_assert_int_eq(store_execute(s, &d.op), STORE_OK);
	ck_assert_int_eq(commits_page(acme, false, pub, 5, &x, &more, &total), STORE_INVALID);
	ck_assert_int_eq(commits_page(acme, true, pub, 5, &x, &more, &total), STORE_INVALID);
	/* The deleted commit leaves the pages too. */
	ck_assert_int_eq(commits_page(acme, false, mine, 5, &x, &more, &total), STORE_OK);
	ck_assert_int_eq(x.n, 1); /* setup's commit */
	ck_assert_int_eq(total, 2);
}
END_TEST

/* The plan of which, with every step checked against must (NULL-ended) and "SCAN"/"TEMP". */
static void plan_is(enum vers_read which, bool scan_ok, const char *const *must)
{
	char plan[2048];
	ck_assert_int_eq(store_vers_explain(s, which, plan, sizeof(plan)), STORE_OK);
	for (; *must != NULL; must++)
		ck_assert_msg(strstr(plan, *must) != NULL, "plan %d lacks \"%s\":\n%s", which,
		              *must, plan);
	ck_assert_msg(strstr(plan, "TEMP B-TREE") == NULL, "plan %d sorts:\n%s", which, plan);
	if (!scan_ok)
		ck_assert_msg(strstr(plan, "SCAN") == NULL, "plan %d scans:\n%s", which, plan);
}

/*
 * Why a page's cost does not grow with the data: each step of each read is
 * an index SEARCH (a B-tree descent) followed by at most a page of rows, and
 * no read sorts.  Only the whole public commit list may scan its own index.
 */
START_TEST(plans_are_index_searches)
{
	plan_is(VERS_READ_REPO_PRIVATE, false,
	        (const char *const[]){"sqlite_autoindex_repos_2 (org_id=? AND name=?)",
	                              "SEARCH o USING INTEGER PRIMARY KEY", NULL});
	plan_is(VERS_READ_REPO_PUBLIC, false,
	        (const char *const[]){"sqlite_autoindex_orgs_2 (name=?)",
	                              "sqlite_autoindex_repos_2 (org_id=? AND name=?)", NULL});
	plan_is(VERS_READ_REPO_TAGS, false,
	        (const char *const[]){
	                "SEARCH t USING INDEX sqlite_autoindex_repo_tags_2 (repo_id=?)", NULL});
	plan_is(VERS_READ_REPO_TAGS_PAGE, false,
	        (const char *const[]){
	                "SEARCH t USING INDEX sqlite_autoindex_repo_tags_2 (repo_id=? AND name>?)",
	                "SEARCH c USING INTEGER PRIMARY KEY", NULL});
	plan_is(VERS_READ_COMMIT_TAGS_PAGE, false,
	        (const char *const[]){
	                "SEARCH t USING INDEX sqlite_autoindex_commit_tags_2 (org_id=? AND name>?)",
	                "SEARCH c USING INTEGER PRIMARY KEY", NULL});
	plan_is(VERS_READ_COMMITS_ORG, false,
	        (const char *const[]){"SEARCH c USING INDEX commits_org_recent (org_id=?)", NULL});
	plan_is(VERS_READ_COMMITS_PUBLIC, true,
	        (const char *const[]){"c USING INDEX commits_public_recent", NULL});
	plan_is(VERS_READ_COMMITS_ORG_AFTER, false,
	        (const char *const[]){
	                "SEARCH c USING INDEX commits_org_recent (org_id=? AND created_at<?)",
	                NULL});
	plan_is(VERS_READ_COMMITS_PUBLIC_AFTER, false,
	        (const char *const[]){"SEARCH c USING INDEX commits_public_recent (created_at<?)",
	                              "SEARCH o USING INTEGER PRIMARY KEY", NULL});
	plan_is(VERS_READ_COMMIT_CURSOR_ORG, false,
	        (const char *const[]){
	                "SEARCH commits USING INDEX sqlite_autoindex_commits_1 (uuid=?)", NULL});
	plan_is(VERS_READ_COMMIT_CURSOR_PUBLIC, false,
	        (const char *const[]){
	                "SEARCH commits USING INDEX sqlite_autoindex_commits_1 (uuid=?)", NULL});
	plan_is(VERS_READ_COMMITS_ORG_COUNT, false,
	        (const char *const[]){"commits_org_recent (org_id=?)", NULL});
	plan_is(VERS_READ_COMMITS_PUBLIC_COUNT, true,
	        (const char *const[]){"commits_public_recent", NULL});
	plan_is(VERS_READ_COMMIT_ONE, false,
	        (const char *const[]){"SEARCH c USING INDEX sqlite_autoindex_commits_1 (uuid=?)",
	                              "SEARCH o USING INTEGER PRIMARY KEY", NULL});

	char small[8];
	ck_assert_int_eq(store_vers_explain(s, VERS_READ_REPO_TAGS_PAGE, small, sizeof(small)),
	                 STORE_ERROR);
	ck_assert_int_eq(store_vers_explain(s, (enum vers_read)999, small, sizeof(small)),
	                 STORE_ERROR);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *suite = suite_create("store_vers_page");
	TCase *tc = tcase_create("page");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, repo_tags_walk);
	tcase_add_test(tc, repo_tags_page_errors);
	tcase_add_test(tc, commit_tags_walk);
	tcase_add_test(tc, commits_walk_with_ties);
	tcase_add_test(tc, commit_cursor_not_in_list);
	tcase_add_test(tc, plans_are_index_searches);
	suite_add_tcase(suite, tc);
	return suite;
}

TU_MAIN(make_suite)
