/*
 * test_store_history.c - the one tag-change path and the chain under the
 * group-committing writer: failures in a batch leave no gap, reads page and
 * bound, verify and prune.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_history.h"
#include "store_org.h"
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

/* Submitted at once, waited for together: the writer batches them. */
struct pending {
	struct vers_tag_create_op op;
	char name[16];
	pthread_mutex_t *lock;
	pthread_cond_t *cond;
	int *left;
};

static void pending_done(struct store_op *op)
{
	struct pending *p = (struct pending *)op;
	pthread_mutex_lock(p->lock);
	(*p->left)--;
	pthread_cond_signal(p->cond);
	pthread_mutex_unlock(p->lock);
}

static void verify_ok(int64_t events)
{
	struct history_verify v;
	ck_assert_int_eq(store_history_verify(s, acme, &v), STORE_OK);
	ck_assert_msg(v.ok, "%s", v.problem);
	ck_assert_int_eq(v.events, events);
}

START_TEST(failures_in_a_batch_leave_no_gap)
{
	enum { N = 60 };
	static struct pending p[N];
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	int left = N;

	for (int i = 0; i < N; i++) {
		vers_tag_create_op_init(&p[i].op);
		/* Every third name repeats the one before it: those fail with CONFLICT. */
		snprintf(p[i].name, sizeof(p[i].name), "t%d", i % 3 == 2 ? i - 1 : i);
		p[i].op.org_id = acme;
		p[i].op.repo_name = i % 7 == 6 ? "nope" : "app";
		p[i].op.tag_name = p[i].name;
		strcpy(p[i].op.commit_id, c1);
		p[i].lock = &lock;
		p[i].cond = &cond;
		p[i].left = &left;
		p[i].op.op.done = pending_done;
		store_submit(s, &p[i].op.op);
	}
	pthread_mutex_lock(&lock);
	while (left > 0)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);

	int64_t ok = 0, max_rev = 0;
	for (int i = 0; i < N; i++) {
		if (p[i].op.op.status == STORE_OK) {
			ok++;
			max_rev = p[i].op.rev > max_rev ? p[i].op.rev : max_rev;
		} else {
			ck_assert(p[i].op.op.status == STORE_CONFLICT ||
			          p[i].op.op.status == STORE_REPO_NOT_FOUND);
		}
	}
	ck_assert_int_gt(ok, N / 2);
	ck_assert_int_lt(ok, N);
	ck_assert_int_eq(max_rev, ok);

	struct history_head h;
	ck_assert_int_eq(store_history_head(s, acme, &h), STORE_OK);
	ck_assert_int_eq(h.seq, ok);
	struct history_list l;
	ck_assert_int_eq(store_history_feed(s, acme, 0, HISTORY_PAGE_MAX, &l), STORE_OK);
	ck_assert_uint_eq(l.n, (size_t)ok);
	for (size_t i = 0; i < l.n; i++)
		ck_assert_int_eq(l.items[i].seq, (int64_t)i + 1);
	ck_assert(!l.more);
	history_list_release(&l);
	verify_ok(ok);

	uint64_t batches, ops;
	store_write_stats(s, &batches, &ops);
	ck_assert_uint_lt(batches, ops); /* they did share transactions */
}
END_TEST

START_TEST(pages_of_one_tag)
{
	struct vers_tag_create_op o;
	vers_tag_create_op_init(&o);
	o.org_id = acme;
	o.repo_name = "app";
	o.tag_name = "v";
	strcpy(o.commit_id, c1);
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
	for (int i = 0; i < 9; i++) {
		struct vers_tag_update_op u;
		vers_tag_update_op_init(&u);
		u.org_id = acme;
		u.repo_name = "app";
		u.tag_name = "v";
		u.patch.move = true;
		strcpy(u.patch.commit_id, i % 2 ? c1 : c2);
		ck_assert_int_eq(store_execute(s, &u.op), STORE_OK);
		ck_assert_int_eq(u.rev, i + 2);
	}
	struct history_tag_key key = {
	        .org_id = acme, .scope = HISTORY_SCOPE_REPOSITORY, .scope_name = "app", .tag = "v"};
	struct history_list l;
	bool any;
	ck_assert_int_eq(store_history_tag(s, &key, 0, 4, &l, &any), STORE_OK);
	ck_assert(any && l.more);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_int_eq(l.items[0].seq, 10);
	ck_assert_int_eq(l.items[3].seq, 7);
	ck_assert_str_eq(l.items[0].commit_id, c2);
	ck_assert_str_eq(l.items[0].previous_commit_id, c1);
	history_list_release(&l);
	ck_assert_int_eq(store_history_tag(s, &key, 2, 4, &l, &any), STORE_OK);
	ck_assert(any && !l.more);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(l.items[0].action, HISTORY_CREATE);
	history_list_release(&l);
	ck_assert_int_eq(store_history_tag(s, &key, 1, 4, &l, &any), STORE_OK);
	ck_assert(any);
	ck_assert_uint_eq(l.n, 0);
	key.tag = "w";
	ck_assert_int_eq(store_history_tag(s, &key, 0, 4, &l, &any), STORE_OK);
	ck_assert(!any);
	ck_assert_int_eq(store_history_tag(s, &key, 0, 0, &l, &any), STORE_INVALID);
	ck_assert_int_eq(store_history_tag(s, &key, 0, HISTORY_PAGE_MAX + 1, &l, &any),
	                 STORE_INVALID);
	verify_ok(10);
}
END_TEST

START_TEST(prune_moves_the_checkpoint)
{
	for (int i = 0; i < 5; i++) {
		char name[8];
		snprintf(name, sizeof(name), "p%d", i);
		struct vers_tag_create_op o;
		vers_tag_create_op_init(&o);
		o.org_id = acme;
		o.repo_name = "app";
		o.tag_name = name;
		strcpy(o.commit_id, c1);
		ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
	}
	struct history_head before;
	ck_assert_int_eq(store_history_head(s, acme, &before), STORE_OK);
	struct history_prune_op p;
	history_prune_op_init(&p);
	p.before = INT64_MAX; /* everything is older than that */
	p.max_events = 3;
	ck_assert_int_eq(store_execute(s, &p.op), STORE_OK);
	ck_assert_int_eq(p.pruned, 3);
	ck_assert(p.more);
	struct history_head h;
	ck_assert_int_eq(store_history_head(s, acme, &h), STORE_OK);
	ck_assert_int_eq(h.floor_seq, 3);
	ck_assert_int_eq(h.seq, before.seq);
	ck_assert_mem_eq(h.hash, before.hash, HISTORY_HASH_LEN);
	verify_ok(2);
	history_prune_op_init(&p);
	p.before = INT64_MAX;
	ck_assert_int_eq(store_execute(s, &p.op), STORE_OK);
	ck_assert_int_eq(p.pruned, 2);
	ck_assert(!p.more);
	ck_assert_int_eq(store_history_head(s, acme, &h), STORE_OK);
	ck_assert_int_eq(h.floor_seq, 5);
	ck_assert_mem_eq(h.floor_hash, before.hash, HISTORY_HASH_LEN);
	verify_ok(0);
	/* The chain goes on from the checkpoint. */
	struct vers_tag_delete_op d;
	vers_tag_delete_op_init(&d);
	d.org_id = acme;
	d.repo_name = "app";
	d.tag_name = "p0";
	ck_assert_int_eq(store_execute(s, &d.op), STORE_OK);
	verify_ok(1);
	/* Nothing older than the beginning of time. */
	history_prune_op_init(&p);
	p.before = 0;
	ck_assert_int_eq(store_execute(s, &p.op), STORE_OK);
	ck_assert_int_eq(p.pruned, 0);
}
END_TEST

START_TEST(expectations)
{
	struct vers_tag_create_op o;
	vers_tag_create_op_init(&o);
	o.org_id = acme;
	o.repo_name = "app";
	o.tag_name = "v";
	strcpy(o.commit_id, c1);
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);

	struct vers_tag_delete_op d;
	vers_tag_delete_op_init(&d);
	d.org_id = acme;
	d.repo_name = "app";
	d.tag_name = "v";
	d.expect.kind = STORE_EXPECT_REVS;
	d.expect.n = 2;
	d.expect.revs[0] = o.rev + 1;
	d.expect.revs[1] = 0;
	ck_assert_int_eq(store_execute(s, &d.op), STORE_PRECONDITION);
	d.expect.kind = STORE_EXPECT_ABSENT;
	ck_assert_int_eq(store_execute(s, &d.op), STORE_PRECONDITION);
	d.tag_name = "zz";
	d.expect.kind = STORE_EXPECT_ANY;
	ck_assert_int_eq(store_execute(s, &d.op), STORE_TAG_NOT_FOUND);
	d.tag_name = "v";
	d.expect.kind = STORE_EXPECT_REVS;
	d.expect.revs[1] = o.rev;
	ck_assert_int_eq(store_execute(s, &d.op), STORE_OK);
	verify_ok(2);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *suite = suite_create("store_history");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, failures_in_a_batch_leave_no_gap);
	tcase_add_test(tc, pages_of_one_tag);
	tcase_add_test(tc, prune_moves_the_checkpoint);
	tcase_add_test(tc, expectations);
	suite_add_tcase(suite, tc);
	return suite;
}

TU_MAIN(make_suite)
