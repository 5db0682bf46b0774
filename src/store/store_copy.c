/*
 * store_copy.c - a whole database copied into an empty one of either
 * backend (SQLite to PostgreSQL when a deployment outgrows one machine), in
 * one transaction, then compared row by row.  See store_copy.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "store_copy.h"
#include "store_history.h"
#include "store_internal.h"
#include "store_org.h"

/*
 * Every table, parents before children, with its key for a stable order.
 * ss_projects.default_branch_id points forward at ss_branches: the projects
 * go in without it and get it once the branches are there.
 */
static const struct copy_table {
	const char *name;
	const char *key;
	bool identity; /* an id the backend generates: its sequence must follow the copy */
} tables[] = {
        {"orgs", "id", true},
        {"tokens", "id", true},
        {"repos", "id", true},
        {"commits", "id", true},
        {"repo_tags", "id", true},
        {"commit_tags", "id", true},
        {"ss_repo_auths", "id", true},
        {"ss_repo_auth_namespaces", "auth_id, namespace", false},
        {"ss_namespaces", "id", true},
        {"ss_projects", "id", true},
        {"ss_commits", "id", true},
        {"ss_branches", "id", true},
        {"ss_branch_commits", "id", true},
        {"ss_tags", "id", true},
        {"tag_rules", "id", true},
        {"events", "org_id, seq", false},
        {"event_tombstones", "org_id, scope_kind, scope, tag", false},
        {"event_floors", "org_id", false},
        {"hooks", "id", true},
        {"hook_deliveries", "hook_id, seq", false},
};

#define NTABLES  (sizeof(tables) / sizeof(tables[0]))
#define MAX_COLS 32

static const char SQL_DEFAULT_BRANCHES[] =
        "UPDATE ss_projects SET default_branch_id = $2 WHERE id = $1";

/* The SQL of one table, made from the source's columns. */
struct table_sql {
	char *select; /* every column, in key order */
	char *insert; /* $1..$n, one per column */
	char *count;
	int ncols;
	int default_branch; /* ss_projects: the column inserted as NULL, then set; else -1 */
};

struct copy {
	struct store_op op;
	struct store *from;
	struct table_sql sql[NTABLES];
	struct store_copy_report *report;
	char *err;
};

/* The column names of table on c, from a query that returns no row. */
static int column_names(struct store_conn *c, const char *table, char names[][64], char **err)
{
	char *sql = errmsg_fmt("SELECT * FROM %s LIMIT 0", table);
	if (sql == NULL)
		return -1;
	int n = c->be->columns(c, sql, names, MAX_COLS);
	if (n < 0)
		*err = errmsg_fmt("%s: cannot read its columns: %s", table, c->be->errmsg(c));
	free(sql);
	return n;
}

/* Keep the first error: it is the cause. */
static void set_err(struct copy *cp, char *err)
{
	if (cp->err == NULL)
		cp->err = err;
	else
		free(err);
}

/*
 * Every table of the source must be one of tables[] (or the migrations'
 * own): a table added by a migration and forgotten here would otherwise be
 * left behind without a word.
 */
static bool known_tables(struct copy *cp, struct store_conn *src)
{
	struct db_stmt *st = src->be->prepare(src, src->be->tables_sql);
	if (st == NULL)
		return false;
	enum db_rc rc;
	bool ok = true;
	while (ok && (rc = db_step(st)) == DB_ROW) {
		const char *name = db_col_text(st, 0);
		/* The destination's own: its migrations, and its token epoch (moved by its
		 * triggers as the tokens go in). */
		bool known = name != NULL && (strcmp(name, "schema_migrations") == 0 ||
		                              strcmp(name, "token_epoch") == 0);
		for (size_t t = 0; !known && name != NULL && t < NTABLES; t++)
			known = strcmp(name, tables[t].name) == 0;
		if (!known) {
			set_err(cp, errmsg_fmt("the source has a table the copy does not know: %s",
			                       name ? name : "(null)"));
			ok = false;
		}
	}
	if (ok && rc == DB_FAIL)
		ok = false;
	src->be->finalize(st);
	return ok;
}

/* Build the statements of every table from the source's columns. */
static bool build_sql(struct copy *cp, struct store_conn *src)
{
	for (size_t t = 0; t < NTABLES; t++) {
		char names[MAX_COLS][64];
		int n = column_names(src, tables[t].name, names, &cp->err);
		if (n <= 0) {
			if (cp->err == NULL)
				set_err(cp, errmsg_fmt("%s: no columns", tables[t].name));
			return false;
		}
		struct table_sql *q = &cp->sql[t];
		q->ncols = n;
		q->default_branch = -1;
		size_t cap = 64 * (size_t)n + 256;
		char *cols = calloc(1, cap), *params = calloc(1, cap);
		if (cols == NULL || params == NULL) {
			free(cols);
			free(params);
			return false;
		}
		for (int i = 0; i < n; i++) {
			size_t lc = strlen(cols), lp = strlen(params);
			snprintf(cols + lc, cap - lc, "%s%s", i ? ", " : "", names[i]);
			snprintf(params + lp, cap - lp, "%s$%d", i ? ", " : "", i + 1);
			if (strcmp(tables[t].name, "ss_projects") == 0 &&
			    strcmp(names[i], "default_branch_id") == 0)
				q->default_branch = i;
		}
		q->select = errmsg_fmt("SELECT %s FROM %s ORDER BY %s", cols, tables[t].name,
		                       tables[t].key);
		q->insert =
		        errmsg_fmt("INSERT INTO %s(%s) VALUES (%s)", tables[t].name, cols, params);
		q->count = errmsg_fmt("SELECT count(*) FROM %s", tables[t].name);
		free(cols);
		free(params);
		if (q->select == NULL || q->insert == NULL || q->count == NULL)
			return false;
	}
	return true;
}

/* Bind column i of the source's row as parameter i+1 of the insert. */
static void bind_column(struct db_stmt *in, struct db_stmt *row, int i)
{
	switch (row->conn->be->col_type(row, i)) {
	case DB_TYPE_NULL:
		db_bind_text(in, i + 1, NULL);
		break;
	case DB_TYPE_INT:
		db_bind_int(in, i + 1, db_col_int(row, i));
		break;
	case DB_TYPE_TEXT:
		db_bind_text(in, i + 1, db_col_text(row, i));
		break;
	case DB_TYPE_BLOB:
		db_bind_blob(in, i + 1, db_col_blob(row, i), db_col_bytes(row, i));
		break;
	}
}

/* The answer of a one-number query on c into *n. */
static enum store_status count_rows(struct store_conn *c, const char *sql, int64_t *n)
{
	struct db_stmt *st = c->be->prepare(c, sql);
	if (st == NULL)
		return store_conn_error(c);
	int64_t v = 0;
	enum store_status ret = store_step_id(st, STORE_ERROR, &v);
	c->be->finalize(st);
	*n = v;
	return ret;
}

/* Copy table t: every row of the source inserted into dst, in key order. */
static enum store_status copy_table(struct copy *cp, struct store_conn *src, struct store_conn *dst,
                                    size_t t)
{
	struct table_sql *q = &cp->sql[t];
	int64_t existing = 0;
	enum store_status ret = count_rows(dst, q->count, &existing);
	if (ret == STORE_OK && existing > 0) {
		set_err(cp, errmsg_fmt("%s is not empty in the destination (%" PRId64
		                       " rows): copy only "
		                       "into a new database",
		                       tables[t].name, existing));
		return STORE_CONFLICT;
	}
	if (ret != STORE_OK)
		return ret;
	struct db_stmt *rows = src->be->prepare(src, q->select);
	struct db_stmt *in = dst->be->prepare(dst, q->insert);
	if (rows == NULL || in == NULL) {
		ret = rows == NULL ? store_conn_error(src) : store_conn_error(dst);
		src->be->finalize(rows);
		dst->be->finalize(in);
		return ret;
	}
	enum db_rc rc = DB_DONE;
	int64_t n = 0;
	while (ret == STORE_OK && (rc = db_step(rows)) == DB_ROW) {
		for (int i = 0; i < q->ncols; i++) {
			if (i == q->default_branch)
				db_bind_text(in, i + 1, NULL);
			else
				bind_column(in, rows, i);
		}
		ret = store_step_done(in);
		n++;
	}
	if (ret == STORE_OK && rc == DB_FAIL)
		ret = store_conn_error(src);
	src->be->finalize(rows);
	dst->be->finalize(in);
	if (ret != STORE_OK && cp->err == NULL)
		set_err(cp, errmsg_fmt("%s: row %" PRId64 ": %s", tables[t].name, n + 1,
		                       dst->be->errmsg(dst)));
	cp->report->rows += n;
	cp->report->tables++;
	return ret;
}

/* The projects' default branches, now that the branches exist. */
static enum store_status copy_default_branches(struct copy *cp, struct store_conn *src,
                                               struct store_conn *dst)
{
	static const char sql[] = "SELECT id, default_branch_id FROM ss_projects "
	                          "WHERE default_branch_id IS NOT NULL ORDER BY id";
	struct db_stmt *rows = src->be->prepare(src, sql);
	if (rows == NULL)
		return store_conn_error(src);
	enum store_status ret = STORE_OK;
	enum db_rc rc = DB_DONE;
	while (ret == STORE_OK && (rc = db_step(rows)) == DB_ROW) {
		struct db_stmt *up = store_stmt(dst, SQL_DEFAULT_BRANCHES);
		if (up == NULL) {
			ret = store_conn_error(dst);
			break;
		}
		db_bind_int(up, 1, db_col_int(rows, 0));
		db_bind_int(up, 2, db_col_int(rows, 1));
		ret = store_step_done(up);
	}
	if (ret == STORE_OK && rc == DB_FAIL)
		ret = store_conn_error(src);
	src->be->finalize(rows);
	if (ret != STORE_OK && cp->err == NULL)
		set_err(cp, errmsg_fmt("ss_projects: default branches: %s", dst->be->errmsg(dst)));
	return ret;
}

/* The copy, one operation on the destination's writer: all of it or nothing. */
static enum store_status copy_run(struct store_conn *dst, struct store_op *op)
{
	struct copy *cp = (struct copy *)op;
	struct store_conn *src = store_reader(cp->from);
	if (src == NULL) {
		set_err(cp, errmsg_fmt("cannot read the source"));
		return STORE_UNAVAILABLE;
	}
	/* The writer runs an operation again after a conflict: count afresh. */
	cp->report->tables = cp->report->rows = 0;
	enum store_status ret = store_read_begin(src);
	for (size_t t = 0; ret == STORE_OK && t < NTABLES; t++)
		ret = copy_table(cp, src, dst, t);
	if (ret == STORE_OK)
		ret = copy_default_branches(cp, src, dst);
	/* Ids the destination generates next must come after the copied ones. */
	for (size_t t = 0; ret == STORE_OK && t < NTABLES; t++)
		if (tables[t].identity)
			ret = dst->be->sync_ids(dst, tables[t].name, "id");
	if (ret != STORE_OK && cp->err == NULL)
		set_err(cp, errmsg_fmt("%s", dst->be->errmsg(dst)));
	store_reader_release(cp->from, src);
	return ret;
}

/* The source's statements, and a refusal of any table the copy does not know. */
static bool prepare_copy(struct copy *cp)
{
	struct store_conn *src = store_reader(cp->from);
	if (src == NULL) {
		set_err(cp, errmsg_fmt("cannot read the source"));
		return false;
	}
	bool ok = store_read_begin(src) == STORE_OK && known_tables(cp, src) && build_sql(cp, src);
	if (!ok && cp->err == NULL)
		set_err(cp, errmsg_fmt("cannot read the source: %s", src->be->errmsg(src)));
	store_reader_release(cp->from, src);
	return ok;
}

/* ---- verify: the same rows, value by value ---- */

/* Whether two current rows hold the same values (integers compare across 0/1 and booleans). */
static bool same_row(struct db_stmt *a, struct db_stmt *b, int n, int *col)
{
	for (int i = 0; i < n; i++) {
		*col = i;
		bool na = db_col_null(a, i), nb = db_col_null(b, i);
		if (na || nb) {
			if (na != nb)
				return false;
			continue;
		}
		enum db_type ta = a->conn->be->col_type(a, i), tb = b->conn->be->col_type(b, i);
		if (ta == DB_TYPE_INT || tb == DB_TYPE_INT) {
			if (ta != tb || db_col_int(a, i) != db_col_int(b, i))
				return false;
			continue;
		}
		size_t la = db_col_bytes(a, i), lb = db_col_bytes(b, i);
		const void *va = ta == DB_TYPE_BLOB ? db_col_blob(a, i) : db_col_text(a, i);
		const void *vb = tb == DB_TYPE_BLOB ? db_col_blob(b, i) : db_col_text(b, i);
		if (la != lb || (la > 0 && memcmp(va, vb, la) != 0))
			return false;
	}
	return true;
}

static bool verify_table(struct copy *cp, struct store_conn *src, struct store_conn *dst, size_t t)
{
	struct table_sql *q = &cp->sql[t];
	struct db_stmt *a = src->be->prepare(src, q->select), *b = dst->be->prepare(dst, q->select);
	if (a == NULL || b == NULL) {
		set_err(cp, errmsg_fmt("%s: cannot read it back", tables[t].name));
		src->be->finalize(a);
		dst->be->finalize(b);
		return false;
	}
	int64_t row = 0;
	bool ok = true;
	for (;;) {
		enum db_rc ra = db_step(a), rb = db_step(b);
		if (ra == DB_FAIL || rb == DB_FAIL) {
			set_err(cp, errmsg_fmt("%s: cannot read it back", tables[t].name));
			ok = false;
			break;
		}
		if (ra != rb) {
			set_err(cp, errmsg_fmt("%s: the copy has %s rows than the source",
			                       tables[t].name, ra == DB_ROW ? "fewer" : "more"));
			ok = false;
			break;
		}
		if (ra == DB_DONE)
			break;
		row++;
		int col = 0;
		if (!same_row(a, b, q->ncols, &col)) {
			set_err(cp, errmsg_fmt("%s: row %" PRId64
			                       " differs from the source (column %d)",
			                       tables[t].name, row, col + 1));
			ok = false;
			break;
		}
		cp->report->verified++;
	}
	src->be->finalize(a);
	dst->be->finalize(b);
	return ok;
}

/* Every table compared row by row, and every organization's chain verified on the copy. */
static bool verify_copy(struct copy *cp, struct store *to)
{
	struct store_conn *src = store_reader(cp->from), *dst = store_reader(to);
	bool ok = src != NULL && dst != NULL && store_read_begin(src) == STORE_OK &&
	          store_read_begin(dst) == STORE_OK;
	if (!ok && cp->err == NULL)
		set_err(cp, errmsg_fmt("cannot read the databases back"));
	for (size_t t = 0; ok && t < NTABLES; t++)
		ok = verify_table(cp, src, dst, t);
	store_reader_release(cp->from, src);
	store_reader_release(to, dst);
	if (!ok)
		return false;

	struct org_summary *orgs = NULL;
	size_t n = 0;
	if (store_org_list(to, &orgs, &n) != STORE_OK) {
		set_err(cp, errmsg_fmt("cannot list the copy's organizations"));
		return false;
	}
	for (size_t i = 0; ok && i < n; i++) {
		struct history_verify v;
		enum store_status st = store_history_verify(to, orgs[i].org.id, &v);
		if (st != STORE_OK || !v.ok) {
			set_err(cp, errmsg_fmt("history of %s on the copy: %s", orgs[i].org.name,
			                       st != STORE_OK ? store_status_str(st) : v.problem));
			ok = false;
		}
		cp->report->chains++;
	}
	org_list_free(&orgs, n);
	return ok;
}

bool store_copy(struct store *from, struct store *to, struct store_copy_report *report, char **err)
{
	struct copy cp = {.from = from, .report = report};
	memset(report, 0, sizeof(*report));
	cp.op.run = copy_run;
	enum store_status st = STORE_ERROR;
	bool ok = prepare_copy(&cp) && (st = store_execute(to, &cp.op)) == STORE_OK &&
	          verify_copy(&cp, to);
	if (!ok)
		*err = cp.err != NULL ? cp.err
		                      : errmsg_fmt("the copy failed: %s", store_status_str(st));
	else
		free(cp.err);
	for (size_t t = 0; t < NTABLES; t++) {
		free(cp.sql[t].select);
		free(cp.sql[t].insert);
		free(cp.sql[t].count);
	}
	return ok;
}
