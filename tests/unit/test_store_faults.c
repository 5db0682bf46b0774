/*
 * test_store_faults - storage faults answered in the envelope, never a crash:
 * a database that turns read-only under the server gives 503 (the writer's
 * connection is switched to query_only, which SQLite refuses writes on with
 * SQLITE_READONLY, as it does for a read-only file); a damaged database is
 * refused at open with a message that says so.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sqlite.h"
#include "store_internal.h"
#include "testutil.h"

static enum store_status set_query_only(struct store_conn *c, struct store_op *op)
{
	return sqlite3_exec(sqlite_db(c), "PRAGMA query_only=1", NULL, NULL, NULL) == SQLITE_OK
	               ? STORE_OK
	               : STORE_ERROR;
}

START_TEST(read_only_database_is_503)
{
	char *path;
	struct store *s = tu_store(&path);
	char token[128], auth[160];
	tu_org(s, "acme", NULL, token);
	snprintf(auth, sizeof(auth), "Bearer %s", token);
	struct app *a = app_new(s, NULL);

	struct store_op ro = {.run = set_query_only};
	ck_assert_int_eq(store_execute(s, &ro), STORE_OK);

	for (int i = 0; i < 3; i++) { /* and again: the writer goes on answering */
		struct call c;
		tu_run(a, &c, "POST", "/api/v1/repositories", "{\"name\":\"r\"}", "Authorization",
		       auth, "Content-Type", "application/json", NULL);
		ck_assert_int_eq(c.status, 503);
		json_t *doc = tu_json(&c);
		ck_assert(json_is_false(json_object_get(doc, "success")));
		ck_assert_str_eq(json_string_value(json_object_get(doc, "error")),
		                 "service unavailable: database is read-only");
		tu_call_done(&c);
	}
	app_free(&a);
	tu_store_done(&s, path);
}
END_TEST

START_TEST(damaged_pages_are_refused_at_open)
{
	char *path;
	struct store *s = tu_store(&path);
	char token[128];
	/* Enough rows for several pages, then damage every page but the first. */
	for (int i = 0; i < 40; i++) {
		char name[32];
		snprintf(name, sizeof(name), "org%d", i);
		tu_org(s, name, NULL, token);
	}
	store_close(&s);
	FILE *f = fopen(path, "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	long size = ftell(f);
	ck_assert_int_gt(size, 4 * 4096);
	char junk[4096];
	memset(junk, 0xa5, sizeof(junk));
	for (long off = 4096; off < size; off += 4096) {
		ck_assert_int_eq(fseek(f, off, SEEK_SET), 0);
		ck_assert_int_eq(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	}
	fclose(f);

	char *err = NULL;
	s = store_open(path, NULL, &err);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "corrupt") != NULL && strstr(err, path) != NULL, "%s", err);
	ck_assert_msg(strchr(err, '\n') == NULL, "not one line: %s", err);
	free(err);
	tu_store_done(&s, path);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("store_faults");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, read_only_database_is_503);
	tcase_add_test(tc, damaged_pages_are_refused_at_open);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(make_suite)
