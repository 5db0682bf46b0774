/*
 * test_store_rule.c - protection rules in the store (SQLite; the
 * integration suite runs the same through both backends): adding, listing,
 * removing, the bounds, what each actor's scope may do to the tags the rules
 * cover, a repository delete refused whole or taking its rules with it, and
 * the events and history verify of it all.
 */
#include <string.h>

#include "store_history.h"
#include "store_org.h"
#include "store_rule.h"
#include "store_vers.h"
#include "testutil.h"

static struct store *s;
static char *path;
static int64_t acme;
static char c1[37], c2[37];

static void setup(void)
{
	s = tu_store(&path);
	acme = tu_org(s, "acme", NULL, NULL);
	tu_commit(s, "acme", c1);
	tu_commit(s, "acme", c2);
	tu_repo(s, acme, "app");
}

static void teardown(void)
{
	tu_store_done(&s, path);
}

static struct store_actor actor(enum token_scope scope)
{
	return (struct store_actor){
	        .dialect = HISTORY_VERS, .token_id = "0123456789abcdef", .scope = scope};
}

static struct store_rule_where repo_where(const char *repo)
{
	return (struct store_rule_where){.scope = repo ? HISTORY_SCOPE_REPOSITORY
	                                               : HISTORY_SCOPE_ORGANIZATION,
	                                 .org_id = acme,
	                                 .repo = repo};
}

static enum store_status add(const char *repo, const char *pattern, enum rule_mode mode,
                             int64_t *seq)
{
	struct store_rule_add_op o;
	store_rule_add_op_init(&o);
	o.where = repo_where(repo);
	o.pattern = pattern;
	o.mode = mode;
	o.actor = actor(TOKEN_SCOPE_ADMIN);
	enum store_status st = store_execute(s, &o.op);
	if (st == STORE_OK) {
		ck_assert_str_eq(o.out.pattern, pattern);
		ck_assert_str_eq(o.out.scope_name, repo ? repo : "");
		if (seq != NULL)
			*seq = o.out.seq;
	}
	store_rule_release(&o.out);
	return st;
}

static enum store_status remove_rule(const char *repo, const char *pattern)
{
	struct store_rule_remove_op o;
	store_rule_remove_op_init(&o);
	o.where = repo_where(repo);
	o.pattern = pattern;
	o.actor = actor(TOKEN_SCOPE_ADMIN);
	return store_execute(s, &o.op);
}

static enum store_status create(const char *tag, enum token_scope scope,
                                struct store_refusal *refused)
{
	struct vers_tag_create_op o;
	vers_tag_create_op_init(&o);
	o.org_id = acme;
	o.repo_name = "app";
	o.tag_name = tag;
	memcpy(o.commit_id, c1, sizeof(o.commit_id));
	o.actor = actor(scope);
	enum store_status st = store_execute(s, &o.op);
	if (refused != NULL)
		*refused = o.refused;
	return st;
}

static enum store_status move(const char *tag, enum token_scope scope,
                              struct store_refusal *refused)
{
	struct vers_tag_update_op o;
	vers_tag_update_op_init(&o);
	o.org_id = acme;
	o.repo_name = "app";
	o.tag_name = tag;
	o.patch.move = true;
	memcpy(o.patch.commit_id, c2, sizeof(o.patch.commit_id));
	o.patch.desc = STORE_DESC_KEEP;
	o.actor = actor(scope);
	enum store_status st = store_execute(s, &o.op);
	if (refused != NULL)
		*refused = o.refused;
	return st;
}

static int64_t head(void)
{
	struct history_head h;
	ck_assert_int_eq(store_history_head(s, acme, &h), STORE_OK);
	return h.seq;
}

static void verify_ok(void)
{
	struct history_verify v;
	ck_assert_int_eq(store_history_verify(s, acme, &v), STORE_OK);
	ck_assert_msg(v.ok, "verify: %s", v.problem);
}

START_TEST(add_list_remove)
{
	int64_t seq = 0;
	ck_assert_int_eq(add("app", "v*", RULE_IMMUTABLE, &seq), STORE_OK);
	ck_assert_int_eq(seq, head());
	ck_assert_int_eq(add("app", "v*", RULE_PROTECTED, NULL), STORE_CONFLICT);
	ck_assert_int_eq(add("app", "a?", RULE_PROTECTED, NULL), STORE_OK);
	ck_assert_int_eq(add(NULL, "v*", RULE_PROTECTED, NULL), STORE_OK); /* another scope */
	ck_assert_int_eq(add("nope", "v*", RULE_PROTECTED, NULL), STORE_REPO_NOT_FOUND);
	ck_assert_int_eq(head(), seq + 2); /* refusals wrote nothing */

	struct store_rule *list;
	size_t n;
	struct store_rule_where w = repo_where("app");
	ck_assert_int_eq(store_rule_list(s, &w, &list, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].pattern, "a?");
	ck_assert_str_eq(list[1].pattern, "v*");
	ck_assert_int_eq(list[1].mode, RULE_IMMUTABLE);
	ck_assert_int_eq(list[1].seq, seq);
	store_rule_list_free(&list, n);
	ck_assert_ptr_null(list);
	ck_assert_int_eq(store_rule_list_all(s, acme, &list, &n), STORE_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(list[0].scope, HISTORY_SCOPE_ORGANIZATION); /* the organization's first */
	ck_assert_int_eq(list[1].scope, HISTORY_SCOPE_REPOSITORY);
	store_rule_list_free(&list, n);
	w = repo_where("nope");
	ck_assert_int_eq(store_rule_list(s, &w, &list, &n), STORE_REPO_NOT_FOUND);

	ck_assert_int_eq(remove_rule("app", "v?"), STORE_NOT_FOUND);
	ck_assert_int_eq(remove_rule("app", "v*"), STORE_OK);
	ck_assert_int_eq(remove_rule("app", "v*"), STORE_NOT_FOUND);
	ck_assert_int_eq(head(), seq + 3);

	struct history_list feed;
	ck_assert_int_eq(store_history_feed(s, acme, 0, 100, &feed), STORE_OK);
	ck_assert_uint_eq(feed.n, 4);
	const struct history_event *ev = &feed.items[3];
	ck_assert_int_eq(ev->action, HISTORY_RULE_REMOVE);
	ck_assert_ptr_null(ev->tag);
	ck_assert_str_eq(ev->rule_pattern, "v*");
	ck_assert_str_eq(ev->rule_mode, "immutable"); /* the removal says what went */
	ck_assert_str_eq(ev->scope_name, "app");
	history_list_release(&feed);
	verify_ok();
}
END_TEST

START_TEST(at_most_100_a_scope)
{
	char pattern[16];
	for (int i = 0; i < STORE_RULES_MAX; i++) {
		snprintf(pattern, sizeof(pattern), "p%03d*", i);
		ck_assert_int_eq(add("app", pattern, RULE_PROTECTED, NULL), STORE_OK);
	}
	ck_assert_int_eq(add("app", "one-more", RULE_PROTECTED, NULL), STORE_INVALID);
	ck_assert_int_eq(add(NULL, "one-more", RULE_PROTECTED, NULL), STORE_OK);
}
END_TEST

START_TEST(scopes_against_rules)
{
	struct store_refusal r;
	ck_assert_int_eq(add("app", "p-*", RULE_PROTECTED, NULL), STORE_OK);
	ck_assert_int_eq(add(NULL, "i-*", RULE_IMMUTABLE, NULL), STORE_OK);
	/* protected: maintain and up */
	ck_assert_int_eq(create("p-1", TOKEN_SCOPE_WRITE, &r), STORE_REFUSED);
	ck_assert_str_eq(r.tag, "p-1");
	ck_assert_str_eq(r.pattern, "p-*");
	ck_assert_int_eq(r.mode, RULE_PROTECTED);
	ck_assert_int_eq(r.rule_scope, HISTORY_SCOPE_REPOSITORY);
	ck_assert(!r.cascade);
	ck_assert_int_eq(create("p-1", TOKEN_SCOPE_MAINTAIN, NULL), STORE_OK);
	ck_assert_int_eq(move("p-1", TOKEN_SCOPE_WRITE, NULL), STORE_REFUSED);
	ck_assert_int_eq(move("p-1", TOKEN_SCOPE_ADMIN, NULL), STORE_OK);
	/* immutable (the organization's): created by write, changed by nobody */
	ck_assert_int_eq(create("i-1", TOKEN_SCOPE_WRITE, NULL), STORE_OK);
	int64_t before = head();
	ck_assert_int_eq(move("i-1", TOKEN_SCOPE_ADMIN, &r), STORE_REFUSED);
	ck_assert_int_eq(r.mode, RULE_IMMUTABLE);
	ck_assert_int_eq(r.rule_scope, HISTORY_SCOPE_ORGANIZATION);
	ck_assert_int_eq(head(), before);
	/* no actor's scope: no rule passes */
	ck_assert_int_eq(create("p-2", TOKEN_SCOPE_NONE, NULL), STORE_REFUSED);
	/* a missing tag is not found before any rule */
	ck_assert_int_eq(move("i-9", TOKEN_SCOPE_ADMIN, NULL), STORE_TAG_NOT_FOUND);
	/* names the patterns do not match are free */
	ck_assert_int_eq(create("x-p-1", TOKEN_SCOPE_WRITE, NULL), STORE_OK);
	ck_assert_int_eq(move("x-p-1", TOKEN_SCOPE_WRITE, NULL), STORE_OK);
	verify_ok();
}
END_TEST

START_TEST(repository_delete)
{
	ck_assert_int_eq(create("a", TOKEN_SCOPE_WRITE, NULL), STORE_OK);
	ck_assert_int_eq(create("v1", TOKEN_SCOPE_WRITE, NULL), STORE_OK);
	ck_assert_int_eq(add("app", "v*", RULE_IMMUTABLE, NULL), STORE_OK);
	ck_assert_int_eq(add("app", "a", RULE_PROTECTED, NULL), STORE_OK);
	int64_t before = head();
	struct vers_repo_delete_op o;
	vers_repo_delete_op_init(&o);
	o.org_id = acme;
	o.name = "app";
	o.actor = actor(TOKEN_SCOPE_ADMIN);
	ck_assert_int_eq(store_execute(s, &o.op), STORE_REFUSED);
	ck_assert(o.refused.cascade);
	ck_assert_str_eq(o.refused.tag, "v1");
	ck_assert_int_eq(head(), before); /* "a" went back too */
	struct vers_tag t;
	struct vers_repo_key key = {.org_id = acme, .name = "app"};
	ck_assert_int_eq(store_vers_repo_tag_get(s, &key, "a", &t), STORE_OK);
	vers_tag_release(&t);

	ck_assert_int_eq(remove_rule("app", "v*"), STORE_OK);
	vers_repo_delete_op_init(&o);
	o.org_id = acme;
	o.name = "app";
	o.actor = actor(TOKEN_SCOPE_MAINTAIN); /* the protected "a" is a maintainer's */
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
	struct history_list feed;
	ck_assert_int_eq(store_history_feed(s, acme, before + 1, 100, &feed), STORE_OK);
	ck_assert_uint_eq(feed.n, 3); /* two tag deletes, then the rule's removal */
	ck_assert_int_eq(feed.items[0].action, HISTORY_DELETE);
	ck_assert_int_eq(feed.items[1].action, HISTORY_DELETE);
	ck_assert_int_eq(feed.items[2].action, HISTORY_RULE_REMOVE);
	ck_assert_str_eq(feed.items[2].rule_pattern, "a");
	history_list_release(&feed);
	struct store_rule *list;
	size_t n;
	ck_assert_int_eq(store_rule_list_all(s, acme, &list, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	store_rule_list_free(&list, n);
	verify_ok();
}
END_TEST

static Suite *store_rule_suite(void)
{
	Suite *su = suite_create("store_rule");
	TCase *tc = tcase_create("store_rule");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, add_list_remove);
	tcase_add_test(tc, at_most_100_a_scope);
	tcase_add_test(tc, scopes_against_rules);
	tcase_add_test(tc, repository_delete);
	suite_add_tcase(su, tc);
	return su;
}

TU_MAIN(store_rule_suite)
