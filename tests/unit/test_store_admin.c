/* Unit tests: store_admin.c - counts, backup and check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_admin.h"
#include "testutil.h"

static void count_problem(void *arg, const char *problem)
{
	(*(int *)arg)++;
}

START_TEST(counts_backup_and_check)
{
	char *path, *copy = tu_db_path();
	char commit[37];
	struct store *s = tu_store(&path);
	struct store_counts n;
	char *err = NULL;

	tu_org(s, "acme", "p1", NULL);
	tu_commit(s, "acme", commit);
	ck_assert_int_eq(store_ping(s), STORE_OK);
	ck_assert_int_eq(store_count_objects(s, &n), STORE_OK);
	ck_assert_int_eq(n.orgs, 1);
	ck_assert_int_eq(n.commits, 1);
	ck_assert_int_eq(n.repositories, 0);

	ck_assert_msg(store_backup(path, copy, &err), "%s", err ? err : "");
	int problems = 0;
	ck_assert_int_eq(store_check(copy, count_problem, &problems, &err), 0);
	ck_assert_int_eq(problems, 0);

	struct store *b = store_open(copy, NULL, &err);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(store_count_objects(b, &n), STORE_OK);
	ck_assert_int_eq(n.commits, 1);
	store_close(&b);

	ck_assert(!store_backup("/nonexistent/x.db", copy, &err));
	ck_assert_ptr_nonnull(strstr(err, "cannot open database"));
	free(err);
	ck_assert_int_eq(store_check("/nonexistent/x.db", count_problem, &problems, &err), -1);
	free(err);
	unlink(copy);
	free(copy);
	tu_store_done(&s, path);
}
END_TEST

START_TEST(stats_count_batches)
{
	char *path;
	struct store *s = tu_store(&path);
	struct store_stats st;

	tu_org(s, "acme", NULL, NULL);
	store_stats_get(s, &st);
	ck_assert_uint_eq(st.ops, 2);
	ck_assert_uint_ge(st.batches, 1);
	uint64_t in_buckets = 0, sizes = 0;
	for (size_t i = 0; i <= STORE_LATENCY_BUCKETS; i++)
		in_buckets += st.latency[i];
	for (size_t i = 0; i <= STORE_BATCH_BUCKETS; i++)
		sizes += st.batch_ops[i];
	ck_assert_uint_eq(in_buckets, st.batches);
	ck_assert_uint_eq(sizes, st.batches);
	ck_assert_uint_eq(st.failed_batches, 0);
	tu_store_done(&s, path);
}
END_TEST

static Suite *store_admin_suite(void)
{
	Suite *s = suite_create("store_admin");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, counts_backup_and_check);
	tcase_add_test(tc, stats_count_batches);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(store_admin_suite)
