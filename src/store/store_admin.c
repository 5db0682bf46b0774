/*
 * store_admin.c - ping and counts on any backend; backups and checks by the
 * backend the path names.  See store_admin.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "store_admin.h"
#include "store_history.h"
#include "store_internal.h"
#include "store_org.h"

static const char SQL_PING[] = "SELECT 1";
static const char SQL_COUNT_ORGS[] = "SELECT count(*) FROM orgs";
static const char SQL_COUNT_REPOS[] = "SELECT count(*) FROM repos";
static const char SQL_COUNT_COMMITS[] = "SELECT count(*) FROM commits WHERE deleted_at IS NULL";
static const char SQL_COUNT_REPO_TAGS[] = "SELECT count(*) FROM repo_tags";
static const char SQL_COUNT_COMMIT_TAGS[] = "SELECT count(*) FROM commit_tags";

static enum store_status one_int(struct store_conn *c, const char *sql, int64_t *out)
{
	struct db_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		return store_conn_error(c);
	enum db_rc rc = db_step(st);
	enum store_status ret = STORE_OK;
	if (rc == DB_ROW)
		*out = db_col_int(st, 0);
	else
		ret = rc == DB_FAIL ? store_conn_error(c) : STORE_ERROR;
	db_reset(st);
	return ret;
}

enum store_status store_ping(struct store *s)
{
	struct store_conn *c = store_reader(s);
	int64_t one = 0;
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status st = one_int(c, SQL_PING, &one);
	store_reader_release(s, c);
	return st;
}

enum store_status store_count_objects(struct store *s, struct store_counts *out)
{
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status st = store_read_begin(c);
	if (st == STORE_OK)
		st = one_int(c, SQL_COUNT_ORGS, &out->orgs);
	if (st == STORE_OK)
		st = one_int(c, SQL_COUNT_REPOS, &out->repositories);
	if (st == STORE_OK)
		st = one_int(c, SQL_COUNT_COMMITS, &out->commits);
	if (st == STORE_OK)
		st = one_int(c, SQL_COUNT_REPO_TAGS, &out->repo_tags);
	if (st == STORE_OK)
		st = one_int(c, SQL_COUNT_COMMIT_TAGS, &out->commit_tags);
	store_reader_release(s, c); /* ends the read transaction */
	return st;
}

bool store_backup(const char *db_path, const char *out_path, char **err)
{
	const struct store_backend *be =
	        store_path_is_uri(db_path) ? store_pg_backend() : &store_sqlite_backend;
	if (be == NULL) {
		*err = errmsg_fmt("this tagd was built without PostgreSQL");
		return false;
	}
	return be->backup(db_path, out_path, err);
}

/* Every organization's history chain, and its tags against it: problems found, -1 on error. */
static long check_history(const char *path, store_check_report_fn report, void *arg, char **err)
{
	struct store_options opts = {.check_only = true};
	struct store *s = store_open(path, &opts, err);
	if (s == NULL)
		return -1;
	if (store_schema_version(s) != store_known_version()) {
		store_close(&s); /* an older backup: its rows were checked, its chains come later */
		return 0;
	}
	struct org_summary *orgs = NULL;
	size_t n = 0;
	enum store_status st = store_org_list(s, &orgs, &n);
	if (st != STORE_OK) {
		*err = errmsg_fmt("cannot list the organizations: %s", store_status_str(st));
		store_close(&s);
		return -1;
	}
	long problems = 0;
	char line[512];
	for (size_t i = 0; i < n; i++) {
		struct history_verify v;
		st = store_history_verify(s, orgs[i].org.id, &v);
		if (st == STORE_OK && v.ok)
			continue;
		snprintf(line, sizeof(line), "history of %s: %s", orgs[i].org.name,
		         st != STORE_OK ? store_status_str(st) : v.problem);
		report(arg, line);
		problems++;
	}
	org_list_free(&orgs, n);
	store_close(&s);
	return problems;
}

long store_check(const char *path, store_check_report_fn report, void *arg, char **err)
{
	const struct store_backend *be =
	        store_path_is_uri(path) ? store_pg_backend() : &store_sqlite_backend;
	if (be == NULL) {
		*err = errmsg_fmt("this tagd was built without PostgreSQL");
		return -1;
	}
	long problems = be->check(path, report, arg, err);
	if (problems != 0)
		return problems; /* the chains of a damaged database say nothing more */
	return check_history(path, report, arg, err);
}
