/*
 * test_store_vers.c - the Vers store: reads (order, scoping, snapshots,
 * callbacks that stop) and the update/delete operations' statuses.
 */
#include <stdlib.h>
#include <string.h>

#include "store_org.h"
#include "store_vers.h"
#include "testutil.h"

static struct store *s;
static char *path;
static int64_t acme, other;

static void setup(void)
{
	s = tu_store(&path);
	acme = tu_org(s, "acme", NULL, NULL);
	other = tu_org(s, "other", NULL, NULL);
}

static void teardown(void)
{
	tu_store_done(&s, path);
}

static enum store_status tag(int64_t org, const char *repo_name, const char *name,
                             const char *commit)
{
	struct vers_tag_create_op o;
	vers_tag_create_op_init(&o);
	o.org_id = org;
	o.repo_name = repo_name;
	o.tag_name = name;
	strcpy(o.commit_id, commit);
	return store_execute(s, &o.op);
}

static void visibility(int64_t org, const char *name, bool pub)
{
	struct vers_repo_visibility_op o;
	vers_repo_visibility_op_init(&o);
	o.org_id = org;
	o.name = name;
	o.is_public = pub;
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
}

/* Collects names ("org/name" for public repositories) joined by ','. */
struct names {
	char text[1024];
	int n;
	int stop_after; /* 0: never stop */
};

static bool add_name(struct names *x, const char *org, const char *name)
{
	if (x->stop_after && x->n == x->stop_after)
		return false;
	if (x->n++)
		strcat(x->text, ",");
	if (org) {
		strcat(x->text, org);
		strcat(x->text, "/");
	}
	strcat(x->text, name);
	return true;
}

static bool on_repo(void *ctx, const struct vers_repo *r)
{
	return add_name(ctx, r->org_name, r->name);
}

static bool on_tag(void *ctx, const struct vers_tag *t)
{
	return add_name(ctx, NULL, t->name);
}

static bool on_commit(void *ctx, const struct vers_commit *c)
{
	return add_name(ctx, NULL, c->name);
}

START_TEST(repos_sorted_and_scoped)
{
	struct names x = {0};
	tu_repo(s, acme, "b");
	tu_repo(s, acme, "B");
	tu_repo(s, acme, "a/x");
	tu_repo(s, other, "a");
	ck_assert_int_eq(store_vers_repos(s, acme, on_repo, &x), STORE_OK);
	ck_assert_str_eq(x.text, "B,a/x,b");
	memset(&x, 0, sizeof(x));
	x.stop_after = 1;
	ck_assert_int_eq(store_vers_repos(s, acme, on_repo, &x), STORE_NOMEM);
}
END_TEST

START_TEST(public_repos)
{
	struct names x = {0};
	struct vers_repo r;
	tu_repo(s, acme, "z");
	tu_repo(s, acme, "m");
	tu_repo(s, other, "m");
	tu_repo(s, other, "hidden");
	visibility(acme, "z", true);
	visibility(acme, "m", true);
	visibility(other, "m", true);
	ck_assert_int_eq(store_vers_public_repos(s, on_repo, &x), STORE_OK);
	ck_assert_str_eq(x.text, "acme/m,other/m,acme/z");

	struct vers_repo_key pub = {.org_name = "other", .name = "m"};
	ck_assert_int_eq(store_vers_repo_get(s, &pub, &r), STORE_OK);
	ck_assert_str_eq(r.org_name, "other");
	ck_assert(r.is_public);
	vers_repo_release(&r);
	pub.name = "hidden";
	ck_assert_int_eq(store_vers_repo_get(s, &pub, &r), STORE_REPO_NOT_FOUND);
	struct vers_repo_key priv = {.org_id = other, .name = "hidden"};
	ck_assert_int_eq(store_vers_repo_get(s, &priv, &r), STORE_OK);
	ck_assert(!r.is_public);
	ck_assert_ptr_null(r.description);
	vers_repo_release(&r);
	priv.org_id = acme;
	ck_assert_int_eq(store_vers_repo_get(s, &priv, &r), STORE_REPO_NOT_FOUND);
}
END_TEST

START_TEST(repo_tags_and_delete_cascade)
{
	char c1[37];
	struct names x = {0};
	struct vers_tag t;
	struct vers_repo_key key = {.org_id = acme, .name = "app"};

	tu_commit(s, "acme", c1);
	tu_repo(s, acme, "app");
	ck_assert_int_eq(tag(acme, "app", "v2", c1), STORE_OK);
	ck_assert_int_eq(tag(acme, "app", "v1", c1), STORE_OK);
	ck_assert_int_eq(tag(acme, "app", "v1", c1), STORE_CONFLICT);
	ck_assert_int_eq(store_vers_repo_tags(s, &key, on_tag, &x), STORE_OK);
	ck_assert_str_eq(x.text, "v1,v2");
	ck_assert_int_eq(store_vers_repo_tag_get(s, &key, "v1", &t), STORE_OK);
	ck_assert_str_eq(t.commit_id, c1);
	ck_assert_int_eq(t.created_at, t.updated_at);
	vers_tag_release(&t);
	ck_assert_int_eq(store_vers_repo_tag_get(s, &key, "v9", &t), STORE_TAG_NOT_FOUND);

	struct vers_repo_key theirs = {.org_id = other, .name = "app"};
	ck_assert_int_eq(store_vers_repo_tags(s, &theirs, on_tag, &x), STORE_REPO_NOT_FOUND);

	struct vers_repo_delete_op d;
	vers_repo_delete_op_init(&d);
	d.org_id = other;
	d.name = "app";
	ck_assert_int_eq(store_execute(s, &d.op), STORE_REPO_NOT_FOUND);
	d.org_id = acme;
	ck_assert_int_eq(store_execute(s, &d.op), STORE_OK);
	tu_repo(s, acme, "app");
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(store_vers_repo_tags(s, &key, on_tag, &x), STORE_OK);
	ck_assert_str_eq(x.text, "");
}
END_TEST

START_TEST(tag_update_tri_state)
{
	char c1[37], c2[37], theirs[37];
	struct vers_tag t;
	struct vers_repo_key key = {.org_id = acme, .name = "app"};
	struct vers_tag_update_op u;

	tu_commit(s, "acme", c1);
	tu_commit(s, "acme", c2);
	tu_commit(s, "other", theirs);
	tu_repo(s, acme, "app");
	ck_assert_int_eq(tag(acme, "app", "v1", c1), STORE_OK);

	vers_tag_update_op_init(&u);
	u.org_id = acme;
	u.repo_name = "app";
	u.tag_name = "v1";
	u.patch.desc = STORE_DESC_SET;
	u.patch.description = "hello";
	ck_assert_int_eq(store_execute(s, &u.op), STORE_OK);
	ck_assert_int_eq(store_vers_repo_tag_get(s, &key, "v1", &t), STORE_OK);
	ck_assert_str_eq(t.description, "hello");
	ck_assert_int_gt(t.updated_at, t.created_at);
	vers_tag_release(&t);

	u.patch.desc = STORE_DESC_KEEP;
	u.patch.move = true;
	strcpy(u.patch.commit_id, c2);
	ck_assert_int_eq(store_execute(s, &u.op), STORE_OK);
	ck_assert_int_eq(store_vers_repo_tag_get(s, &key, "v1", &t), STORE_OK);
	ck_assert_str_eq(t.description, "hello");
	ck_assert_str_eq(t.commit_id, c2);
	vers_tag_release(&t);

	u.patch.move = false;
	u.patch.desc = STORE_DESC_CLEAR;
	ck_assert_int_eq(store_execute(s, &u.op), STORE_OK);
	ck_assert_int_eq(store_vers_repo_tag_get(s, &key, "v1", &t), STORE_OK);
	ck_assert_ptr_null(t.description);
	vers_tag_release(&t);

	u.patch.move = true;
	strcpy(u.patch.commit_id, theirs);
	ck_assert_int_eq(store_execute(s, &u.op), STORE_FORBIDDEN);
	u.tag_name = "none";
	ck_assert_int_eq(store_execute(s, &u.op), STORE_TAG_NOT_FOUND);
	u.repo_name = "none";
	ck_assert_int_eq(store_execute(s, &u.op), STORE_REPO_NOT_FOUND);
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

START_TEST(commits_paged_newest_first)
{
	char ids[4][37], theirs[37];
	struct names x = {0};
	int64_t total = -1;

	commit_named(acme, "c0", false, ids[0]);
	commit_named(acme, "c1", true, ids[1]);
	commit_named(acme, "c2", false, ids[2]);
	commit_named(acme, "c3", true, ids[3]);
	commit_named(other, "t0", true, theirs);

	ck_assert_int_eq(store_vers_commits(s, acme, false, 50, 0, &total, on_commit, &x),
	                 STORE_OK);
	ck_assert_str_eq(x.text, "c3,c2,c1,c0");
	ck_assert_int_eq(total, 4);
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(store_vers_commits(s, acme, false, 2, 1, &total, on_commit, &x), STORE_OK);
	ck_assert_str_eq(x.text, "c2,c1");
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(store_vers_commits(s, acme, true, 50, 0, &total, on_commit, &x), STORE_OK);
	ck_assert_str_eq(x.text, "t0,c3,c1");
	ck_assert_int_eq(total, 3);

	struct vers_commit_delete_op d;
	vers_commit_delete_op_init(&d);
	d.org_id = other;
	strcpy(d.commit_id, ids[3]);
	ck_assert_int_eq(store_execute(s, &d.op), STORE_FORBIDDEN);
	d.org_id = acme;
	ck_assert_int_eq(store_execute(s, &d.op), STORE_OK);
	ck_assert_int_eq(store_execute(s, &d.op), STORE_COMMIT_NOT_FOUND);
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(store_vers_commits(s, acme, true, 50, 0, &total, on_commit, &x), STORE_OK);
	ck_assert_str_eq(x.text, "t0,c1");
	ck_assert_int_eq(total, 2);
	tu_repo(s, acme, "app");
	ck_assert_int_eq(tag(acme, "app", "v1", ids[3]), STORE_COMMIT_NOT_FOUND);
}
END_TEST

START_TEST(commit_update)
{
	char id[37];
	struct vers_commit_update_op u;

	commit_named(acme, "orig", false, id);
	vers_commit_update_op_init(&u);
	u.org_id = acme;
	strcpy(u.commit_id, id);
	u.is_public = true;
	u.description = "d";
	ck_assert_int_eq(store_execute(s, &u.op), STORE_OK);
	ck_assert_str_eq(u.out.name, "orig");
	ck_assert_str_eq(u.out.description, "d");
	ck_assert(u.out.is_public);
	ck_assert_str_eq(u.out.commit_id, id);
	vers_commit_release(&u.out);
	u.org_id = other;
	ck_assert_int_eq(store_execute(s, &u.op), STORE_FORBIDDEN);
}
END_TEST

/* One commit: the caller's own or a public one; never another's private or a deleted one. */
START_TEST(commit_get)
{
	char mine[37], theirs_public[37], theirs_private[37];
	struct vers_commit cm;

	commit_named(acme, "mine", false, mine);
	commit_named(other, "pub", true, theirs_public);
	commit_named(other, "priv", false, theirs_private);
	ck_assert_int_eq(store_vers_commit_get(s, acme, mine, &cm), STORE_OK);
	ck_assert_str_eq(cm.commit_id, mine);
	ck_assert_str_eq(cm.name, "mine");
	ck_assert_ptr_null(cm.description);
	ck_assert(!cm.is_public);
	vers_commit_release(&cm);
	ck_assert_int_eq(store_vers_commit_get(s, acme, theirs_public, &cm), STORE_OK);
	ck_assert_str_eq(cm.name, "pub");
	vers_commit_release(&cm);
	ck_assert_int_eq(store_vers_commit_get(s, acme, theirs_private, &cm),
	                 STORE_COMMIT_NOT_FOUND);
	ck_assert_ptr_null(cm.name);
	ck_assert_int_eq(store_vers_commit_get(s, other, mine, &cm), STORE_COMMIT_NOT_FOUND);
	ck_assert_int_eq(
	        store_vers_commit_get(s, acme, "00000000-0000-0000-0000-000000000000", &cm),
	        STORE_COMMIT_NOT_FOUND);

	struct vers_commit_delete_op d;
	vers_commit_delete_op_init(&d);
	d.org_id = acme;
	strcpy(d.commit_id, mine);
	ck_assert_int_eq(store_execute(s, &d.op), STORE_OK);
	ck_assert_int_eq(store_vers_commit_get(s, acme, mine, &cm), STORE_COMMIT_NOT_FOUND);
}
END_TEST

START_TEST(commit_tags)
{
	char c1[37];
	struct names x = {0};
	struct vers_tag t;
	struct vers_commit_tag_create_op o;

	tu_commit(s, "acme", c1);
	vers_commit_tag_create_op_init(&o);
	o.org_id = acme;
	strcpy(o.commit_id, c1);
	o.tag_name = "zz";
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
	o.tag_name = "aa";
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
	ck_assert_int_eq(store_execute(s, &o.op), STORE_CONFLICT);
	o.org_id = other;
	ck_assert_int_eq(store_execute(s, &o.op), STORE_FORBIDDEN);

	ck_assert_int_eq(store_vers_commit_tags(s, acme, on_tag, &x), STORE_OK);
	ck_assert_str_eq(x.text, "aa,zz");
	ck_assert_int_eq(store_vers_commit_tag_get(s, acme, "aa", &t), STORE_OK);
	ck_assert_str_eq(t.commit_id, c1);
	vers_tag_release(&t);
	ck_assert_int_eq(store_vers_commit_tag_get(s, other, "aa", &t), STORE_TAG_NOT_FOUND);

	struct vers_commit_tag_delete_op d;
	vers_commit_tag_delete_op_init(&d);
	d.org_id = other;
	d.tag_name = "aa";
	ck_assert_int_eq(store_execute(s, &d.op), STORE_TAG_NOT_FOUND);
	d.org_id = acme;
	ck_assert_int_eq(store_execute(s, &d.op), STORE_OK);
	ck_assert_int_eq(store_vers_commit_tag_get(s, acme, "aa", &t), STORE_TAG_NOT_FOUND);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *suite = suite_create("store_vers");
	TCase *tc = tcase_create("store_vers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, repos_sorted_and_scoped);
	tcase_add_test(tc, public_repos);
	tcase_add_test(tc, repo_tags_and_delete_cascade);
	tcase_add_test(tc, tag_update_tri_state);
	tcase_add_test(tc, commits_paged_newest_first);
	tcase_add_test(tc, commit_update);
	tcase_add_test(tc, commit_get);
	tcase_add_test(tc, commit_tags);
	suite_add_tcase(suite, tc);
	return suite;
}

TU_MAIN(make_suite)
