/*
 * test_store_hooks.c - hooks in the store (SQLite; the integration suite
 * runs the same operations on PostgreSQL): create and its limits, lists and
 * ids in each dialect's form, what is due, the record of a round and its
 * log, the epoch that makes a round in flight stale, enable and redeliver,
 * retention's hold, and the one-deliverer claim on a SQLite file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store_history.h"
#include "store_hooks.h"
#include "store_ss.h"
#include "store_vers.h"
#include "testutil.h"

static struct store *s;
static char *path;
static int64_t acme;
static char c1[37];
static int ntags;

static void setup(void)
{
	s = tu_store(&path);
	acme = tu_org(s, "acme", "proj-acme", NULL);
	tu_commit(s, "acme", c1);
	tu_repo(s, acme, "app");
	ntags = 0;
}

static void teardown(void)
{
	tu_store_done(&s, path);
}

/* A new tag of "app": one more event. */
static int64_t change(void)
{
	char name[32];
	struct vers_tag_create_op o;
	vers_tag_create_op_init(&o);
	snprintf(name, sizeof(name), "t%d", ntags++);
	o.org_id = acme;
	o.repo_name = "app";
	o.tag_name = name;
	strcpy(o.commit_id, c1);
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
	return o.rev;
}

static struct store_hook_select vers_sel(enum store_hook_kind kind, const char *repo)
{
	return (struct store_hook_select){
	        .org_id = acme, .dialect = HOOK_VERS, .kind = kind, .repo_name = repo};
}

static enum store_status create(struct store_hook_select sel, struct store_hook_create_op *o)
{
	store_hook_create_op_init(o);
	o->sel = sel;
	o->url = "http://hooks.example.com/x";
	o->secret = "0123456789abcdef";
	return store_execute(s, &o->op);
}

static struct store_hook load(int64_t id)
{
	struct store_hook h;
	ck_assert_int_eq(store_hook_load(s, id, &h), STORE_OK);
	return h;
}

START_TEST(create_list_get_delete)
{
	struct store_hook_create_op org, repo, missing;
	int64_t head = change();
	ck_assert_int_eq(create(vers_sel(STORE_HOOKS_ORGANIZATION, NULL), &org), STORE_OK);
	ck_assert_int_eq(create(vers_sel(STORE_HOOKS_REPOSITORY, "app"), &repo), STORE_OK);
	ck_assert_int_eq(create(vers_sel(STORE_HOOKS_REPOSITORY, "nope"), &missing),
	                 STORE_REPO_NOT_FOUND);
	ck_assert_int_gt(repo.id, org.id);

	/* It hears what follows it: delivered_seq is the head when it was made. */
	struct store_hook h = load(org.id);
	ck_assert_int_eq(h.delivered_seq, head);
	ck_assert_str_eq(h.secret, "0123456789abcdef");
	ck_assert_str_eq(h.uuid, org.uuid);
	ck_assert(!h.disabled);
	store_hook_release(&h);

	struct store_hook *list;
	size_t n;
	struct store_hook_select sel = vers_sel(STORE_HOOKS_ORGANIZATION, NULL);
	ck_assert_int_eq(store_hooks_list(s, &sel, &list, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].uuid, org.uuid);
	ck_assert_ptr_null(list[0].secret); /* lists never carry it */
	store_hook_list_free(&list, n);
	ck_assert_ptr_null(list);
	sel = vers_sel(STORE_HOOKS_REPOSITORY, "app");
	ck_assert_int_eq(store_hooks_list(s, &sel, &list, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].scope, HOOK_SCOPE_REPOSITORY);
	ck_assert_str_eq(list[0].scope_name, "app");
	store_hook_list_free(&list, n);
	sel = (struct store_hook_select){.org_id = acme, .kind = STORE_HOOKS_ALL};
	ck_assert_int_eq(store_hooks_list(s, &sel, &list, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	store_hook_list_free(&list, n);

	/* Ids in each dialect's form: Vers by UUID; the organization's route finds both. */
	char num[24];
	snprintf(num, sizeof(num), "%lld", (long long)repo.id);
	sel = vers_sel(STORE_HOOKS_ORGANIZATION, NULL);
	ck_assert_int_eq(store_hook_get(s, &sel, repo.uuid, &h), STORE_OK);
	store_hook_release(&h);
	ck_assert_int_eq(store_hook_get(s, &sel, num, &h), STORE_NOT_FOUND);
	sel = vers_sel(STORE_HOOKS_REPOSITORY, "app");
	ck_assert_int_eq(store_hook_get(s, &sel, org.uuid, &h), STORE_NOT_FOUND);
	sel = (struct store_hook_select){.org_id = acme, .kind = STORE_HOOKS_ALL};
	ck_assert_int_eq(store_hook_get(s, &sel, num, &h), STORE_OK);
	ck_assert_str_eq(h.uuid, repo.uuid);
	store_hook_release(&h);
	sel.org_id = acme + 1000; /* nobody's hook from another organization */
	ck_assert_int_eq(store_hook_get(s, &sel, num, &h), STORE_NOT_FOUND);

	struct store_hook_delete_op d;
	store_hook_delete_op_init(&d);
	d.sel = vers_sel(STORE_HOOKS_REPOSITORY, "app");
	d.id = org.uuid;
	ck_assert_int_eq(store_execute(s, &d.op), STORE_NOT_FOUND);
	d.id = repo.uuid;
	ck_assert_int_eq(store_execute(s, &d.op), STORE_OK);
	ck_assert_int_eq(store_execute(s, &d.op), STORE_NOT_FOUND);
}
END_TEST

START_TEST(servicestage_hooks_resolve_their_project)
{
	struct ss_auth_create_op a;
	ss_auth_create_op_init(&a);
	a.org_name = "acme";
	a.name = "all";
	ck_assert_int_eq(store_execute(s, &a.op), STORE_OK);
	int64_t auth_id;
	ck_assert_int_eq(store_ss_auth_find(s, acme, "all", &auth_id), STORE_OK);
	struct ss_where w = {.org_id = acme, .auth_id = auth_id, .namespace = "team"};
	struct ss_project_create_op p;
	ss_project_create_op_init(&p);
	p.where = w;
	p.name = "app";
	ck_assert_int_eq(store_execute(s, &p.op), STORE_OK);
	w.project = "app";
	struct store_hook_select sel = {.org_id = acme,
	                                .dialect = HOOK_SERVICESTAGE,
	                                .kind = STORE_HOOKS_PROJECT,
	                                .where = &w};
	struct store_hook_create_op o;
	ck_assert_int_eq(create(sel, &o), STORE_OK);
	struct store_hook h = load(o.id);
	ck_assert_int_eq(h.scope, HOOK_SCOPE_SERVICESTAGE);
	ck_assert_str_eq(h.scope_name, "team/app");
	ck_assert_int_eq(h.project_id, strtoll(p.id, NULL, 10));
	store_hook_release(&h);
	char num[24];
	snprintf(num, sizeof(num), "%lld", (long long)o.id);
	ck_assert_int_eq(store_hook_get(s, &sel, num, &h), STORE_OK);
	store_hook_release(&h);
	ck_assert_int_eq(store_hook_get(s, &sel, o.uuid, &h), STORE_NOT_FOUND);
	struct ss_where nope = w;
	nope.project = "other";
	sel.where = &nope;
	ck_assert_int_eq(create(sel, &o), STORE_REPO_NOT_FOUND);
}
END_TEST

START_TEST(at_most_100_per_organization)
{
	struct store_hook_create_op o;
	for (int i = 0; i < HOOK_MAX_PER_ORG; i++)
		ck_assert_int_eq(create(vers_sel(STORE_HOOKS_ORGANIZATION, NULL), &o), STORE_OK);
	ck_assert_int_eq(create(vers_sel(STORE_HOOKS_ORGANIZATION, NULL), &o), STORE_INVALID);
}
END_TEST

static size_t due(int64_t now, int64_t *ids)
{
	size_t n;
	ck_assert_int_eq(store_hooks_due(s, now, ids, 8, &n), STORE_OK);
	return n;
}

static void record(int64_t id, int64_t epoch, int64_t seq, bool ok, int64_t failures,
                   const char *disable, bool *stale)
{
	struct store_hook_attempt a = {
	        .seq = seq, .delivered = ok, .status = ok ? 200 : 503, .at = clock_now_us()};
	snprintf(a.event_id, sizeof(a.event_id), "00000000-0000-4000-8000-%012lld", (long long)seq);
	if (!ok)
		snprintf(a.error, sizeof(a.error), "HTTP 503");
	struct store_hook_record_op r;
	store_hook_record_op_init(&r);
	r.hook_id = id;
	r.epoch = epoch;
	r.delivered_seq = ok ? seq : seq - 1;
	r.failures = failures;
	r.next_attempt_at = ok ? 0 : clock_now_us() + 5000000;
	r.disable_reason = disable;
	r.attempts = &a;
	r.n = 1;
	ck_assert_int_eq(store_execute(s, &r.op), STORE_OK);
	*stale = r.stale;
}

START_TEST(due_record_and_log)
{
	struct store_hook_create_op o;
	int64_t ids[8];
	bool stale;
	ck_assert_int_eq(create(vers_sel(STORE_HOOKS_ORGANIZATION, NULL), &o), STORE_OK);
	int64_t now = clock_now_us();
	ck_assert_uint_eq(due(now, ids), 0); /* nothing after its cursor */
	int64_t seq = change();
	ck_assert_uint_eq(due(now, ids), 1);
	ck_assert_int_eq(ids[0], o.id);

	/* A failed attempt: not due until its next attempt; the log has it pending. */
	record(o.id, 0, seq, false, 1, NULL, &stale);
	ck_assert(!stale);
	ck_assert_uint_eq(due(clock_now_us(), ids), 0);
	ck_assert_uint_eq(due(clock_now_us() + 6000000, ids), 1);
	struct store_hook h = load(o.id);
	ck_assert_int_eq(h.failures, 1);
	ck_assert_int_eq(h.last_status, 503);
	ck_assert_str_eq(h.last_error, "HTTP 503");
	store_hook_release(&h);
	record(o.id, 0, seq, true, 0, NULL, &stale);
	h = load(o.id);
	ck_assert_int_eq(h.delivered_seq, seq);
	ck_assert_ptr_null(h.last_error);
	store_hook_release(&h);
	struct store_hook_delivery *log;
	size_t n;
	ck_assert_int_eq(store_hook_deliveries(s, o.id, &log, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert(log[0].delivered);
	ck_assert_int_eq(log[0].attempts, 2);
	ck_assert_int_eq(log[0].status, 200);
	ck_assert_ptr_null(log[0].error);
	store_hook_delivery_list_free(&log, n);
	ck_assert_uint_eq(due(clock_now_us(), ids), 0);

	/* The log keeps the newest HOOK_LOG_KEEP. */
	for (int i = 0; i < HOOK_LOG_KEEP + 5; i++)
		record(o.id, 0, change(), true, 0, NULL, &stale);
	ck_assert_int_eq(store_hook_deliveries(s, o.id, &log, &n), STORE_OK);
	ck_assert_uint_eq(n, HOOK_LOG_KEEP);
	ck_assert_int_gt(log[0].seq, log[n - 1].seq);
	store_hook_delivery_list_free(&log, n);

	/* Disabled: never due, until enabled. */
	seq = change();
	record(o.id, 0, seq, false, 40, "40 failed attempts in a row", &stale);
	h = load(o.id);
	ck_assert(h.disabled);
	ck_assert_str_eq(h.disabled_reason, "40 failed attempts in a row");
	store_hook_release(&h);
	ck_assert_uint_eq(due(clock_now_us() + 100000000000LL, ids), 0);
	struct store_hook_redeliver_op r;
	store_hook_redeliver_op_init(&r);
	r.org_id = acme;
	r.id = o.uuid;
	ck_assert_int_eq(store_execute(s, &r.op), STORE_PRECONDITION);
	struct store_hook_enable_op e;
	store_hook_enable_op_init(&e);
	e.org_id = acme;
	e.id = o.uuid;
	ck_assert_int_eq(store_execute(s, &e.op), STORE_OK);
	h = load(o.id);
	ck_assert(!h.disabled);
	ck_assert_int_eq(h.failures, 0);
	ck_assert_int_eq(h.epoch, 1);
	store_hook_release(&h);
	ck_assert_uint_eq(due(clock_now_us(), ids), 1);
}
END_TEST

START_TEST(an_operator_makes_a_round_in_flight_stale)
{
	struct store_hook_create_op o;
	bool stale;
	ck_assert_int_eq(create(vers_sel(STORE_HOOKS_ORGANIZATION, NULL), &o), STORE_OK);
	int64_t first = change(), second = change();
	/* A round loaded epoch 0; meanwhile an operator sends again from the first event. */
	record(o.id, 0, first, true, 0, NULL, &stale);
	struct store_hook_redeliver_op r;
	store_hook_redeliver_op_init(&r);
	r.org_id = acme;
	r.id = o.uuid;
	r.from_seq = first;
	ck_assert_int_eq(store_execute(s, &r.op), STORE_OK);
	record(o.id, 0, second, true, 0, NULL, &stale);
	ck_assert(stale);
	struct store_hook h = load(o.id);
	ck_assert_int_eq(h.delivered_seq, first - 1);
	ck_assert_int_eq(h.epoch, 1);
	store_hook_release(&h);
	r.from_seq = second + 1;
	ck_assert_int_eq(store_execute(s, &r.op), STORE_INVALID);
	r.id = "00000000-0000-4000-8000-000000000000";
	ck_assert_int_eq(store_execute(s, &r.op), STORE_NOT_FOUND);
}
END_TEST

START_TEST(retention_keeps_what_an_active_hook_owes)
{
	struct store_hook_create_op o;
	bool stale;
	change();
	ck_assert_int_eq(create(vers_sel(STORE_HOOKS_ORGANIZATION, NULL), &o), STORE_OK);
	int64_t owed = change();
	change();
	struct history_prune_op p;
	history_prune_op_init(&p);
	p.before = clock_now_us() + 1000000; /* every event is old enough */
	ck_assert_int_eq(store_execute(s, &p.op), STORE_OK);
	ck_assert_int_eq(p.pruned, owed - 1);
	ck_assert(!p.more);
	record(o.id, 0, owed, true, 0, NULL, &stale);
	history_prune_op_init(&p);
	p.before = clock_now_us() + 1000000;
	ck_assert_int_eq(store_execute(s, &p.op), STORE_OK);
	ck_assert_int_eq(p.pruned, 1);
	record(o.id, 0, owed + 1, false, 40, "gone", &stale);
	history_prune_op_init(&p);
	p.before = clock_now_us() + 1000000;
	ck_assert_int_eq(store_execute(s, &p.op), STORE_OK);
	ck_assert_int_eq(p.pruned, 1); /* a disabled hook holds nothing back */
}
END_TEST

START_TEST(one_deliverer_per_sqlite_file)
{
	struct store *other = store_open(path, NULL, NULL);
	ck_assert_ptr_nonnull(other);
	struct store_hook_claims *mine = store_hook_claims_open(s);
	struct store_hook_claims *theirs = store_hook_claims_open(other);
	ck_assert_ptr_nonnull(mine);
	ck_assert_ptr_nonnull(theirs);
	bool got = false;
	ck_assert_int_eq(store_hook_claim(mine, 1, &got), STORE_OK);
	ck_assert(got);
	ck_assert_int_eq(store_hook_claim(mine, 2, &got), STORE_OK);
	ck_assert(got);
	ck_assert_int_eq(store_hook_claim(theirs, 1, &got), STORE_OK);
	ck_assert(!got);
	store_hook_unclaim(mine, 1); /* the process stays the deliverer */
	ck_assert_int_eq(store_hook_claim(theirs, 1, &got), STORE_OK);
	ck_assert(!got);
	store_hook_claims_close(&mine);
	ck_assert_ptr_null(mine);
	ck_assert_int_eq(store_hook_claim(theirs, 1, &got), STORE_OK);
	ck_assert(got);
	store_hook_claims_close(&theirs);
	store_close(&other);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *su = suite_create("store_hooks");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, create_list_get_delete);
	tcase_add_test(tc, servicestage_hooks_resolve_their_project);
	tcase_add_test(tc, at_most_100_per_organization);
	tcase_add_test(tc, due_record_and_log);
	tcase_add_test(tc, an_operator_makes_a_round_in_flight_stale);
	tcase_add_test(tc, retention_keeps_what_an_active_hook_owes);
	tcase_add_test(tc, one_deliverer_per_sqlite_file);
	suite_add_tcase(su, tc);
	return su;
}

TU_MAIN(make_suite)
