/*
 * store_ss_read.c - ServiceStage reads: namespaces, projects, tags, branches,
 * commit history.  Each runs in one read transaction so that resolving the
 * where and listing see the same snapshot.  See store_ss.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"
#include "store_ss_internal.h"

/* A reader in a read transaction; NULL when none can be had. */
/* A reader inside a read transaction; NULL with *why when there is none. */
static struct store_conn *begin(struct store *s, enum store_status *why)
{
	struct store_conn *c = store_reader(s);
	*why = c != NULL ? store_read_begin(c) : STORE_UNAVAILABLE;
	if (c != NULL && *why != STORE_OK) {
		store_reader_release(s, c);
		return NULL;
	}
	return c;
}

/* Collect (id, name) rows of st into a list; *out NULL and *n 0 on error. */
static enum store_status collect_named(struct store_conn *c, struct db_stmt *st,
                                       struct ss_named **out, size_t *n)
{
	struct ss_named *list = NULL;
	size_t count = 0, cap = 0;
	bool oom = false;
	int rc;

	while ((rc = db_step(st)) == DB_ROW) {
		if (dynbuf_array_reserve((void **)&list, &cap, count, sizeof(*list), SIZE_MAX) !=
		    DYNBUF_OK) {
			oom = true;
			break;
		}
		struct ss_named *e = &list[count++];
		snprintf(e->id, sizeof(e->id), "%lld", (long long)db_col_int(st, 0));
		e->name = store_column_dup(st, 1, &oom);
		if (oom)
			break;
	}
	enum store_status ret = oom ? STORE_NOMEM : rc == DB_DONE ? STORE_OK : store_conn_error(c);
	db_reset(st);
	if (ret != STORE_OK) {
		ss_named_list_free(list, count);
		list = NULL, count = 0;
	}
	*out = list;
	*n = count;
	return ret;
}

/* Collect column 0 of st's rows into names. */
static enum store_status collect_names(struct store_conn *c, struct db_stmt *st,
                                       struct ss_names *out)
{
	struct ss_named *list;
	size_t n;
	/* Reuse the (id, name) collector shape: column 0 is an id placeholder. */
	enum store_status ret = collect_named(c, st, &list, &n);
	if (ret != STORE_OK)
		return ret;
	out->items = NULL;
	out->n = 0;
	if (n > 0) {
		out->items = calloc(n, sizeof(*out->items));
		if (out->items == NULL) {
			ss_named_list_free(list, n);
			return STORE_NOMEM;
		}
	}
	for (size_t i = 0; i < n; i++)
		out->items[i] = list[i].name;
	out->n = n;
	free(list);
	return STORE_OK;
}

static const char SQL_NAMESPACES[] =
        "SELECT n.id, n.name FROM ss_namespaces n JOIN ss_repo_auths a "
        "ON a.id = $2 AND a.org_id = n.org_id WHERE n.org_id = $1 AND (a.all_namespaces "
        "OR EXISTS (SELECT 1 FROM ss_repo_auth_namespaces x WHERE x.auth_id = a.id "
        "AND x.namespace = n.name)) ORDER BY n.name";

enum store_status store_ss_namespaces(struct store *s, int64_t org_id, int64_t auth_id,
                                      struct ss_named **out, size_t *n)
{
	enum store_status why;
	struct store_conn *c = begin(s, &why);

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return why;
	struct db_stmt *st = store_stmt(c, SQL_NAMESPACES);
	enum store_status ret = st != NULL ? STORE_OK : store_conn_error(c);
	if (st != NULL) {
		db_bind_int(st, 1, org_id);
		db_bind_int(st, 2, auth_id);
		ret = collect_named(c, st, out, n);
	}
	store_reader_release(s, c);
	return ret;
}

static const char SQL_PROJECTS[] =
        "SELECT id, name FROM ss_projects WHERE namespace_id = $1 ORDER BY name";

enum store_status store_ss_projects(struct store *s, const struct ss_where *w,
                                    struct ss_named **out, size_t *n, char *ns_name)
{
	enum store_status why;
	struct store_conn *c = begin(s, &why);
	struct ss_scope sc;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return why;
	enum store_status ret = ss_scope_resolve(c, w, false, &sc);
	if (ret == STORE_OK) {
		struct db_stmt *st = store_stmt(c, SQL_PROJECTS);
		ret = st != NULL ? STORE_OK : store_conn_error(c);
		if (st != NULL) {
			db_bind_int(st, 1, sc.ns_id);
			ret = collect_named(c, st, out, n);
		}
		memcpy(ns_name, sc.ns_name, sizeof(sc.ns_name));
	}
	store_reader_release(s, c);
	return ret;
}

enum store_status store_ss_project_info(struct store *s, const struct ss_where *w,
                                        struct ss_project_info *out)
{
	enum store_status why;
	struct store_conn *c = begin(s, &why);
	struct ss_scope sc;

	if (c == NULL)
		return why;
	enum store_status ret = ss_scope_resolve(c, w, true, &sc);
	if (ret == STORE_OK) {
		snprintf(out->namespace_id, sizeof(out->namespace_id), "%lld", (long long)sc.ns_id);
		memcpy(out->namespace, sc.ns_name, sizeof(out->namespace));
		snprintf(out->project_id, sizeof(out->project_id), "%lld",
		         (long long)sc.project_id);
		memcpy(out->project, sc.project_name, sizeof(out->project));
	}
	store_reader_release(s, c);
	return ret;
}

static const char SQL_TAG_NAMES[] =
        "SELECT id, name FROM ss_tags WHERE project_id = $1 ORDER BY name";
static const char SQL_BRANCH_NAMES[] =
        "SELECT id, name FROM ss_branches WHERE project_id = $1 ORDER BY name";

/* Names from sql (bound to the project of w). */
static enum store_status project_names(struct store *s, const struct ss_where *w, const char *sql,
                                       struct ss_names *out)
{
	enum store_status why;
	struct store_conn *c = begin(s, &why);
	struct ss_scope sc;

	out->items = NULL;
	out->n = 0;
	if (c == NULL)
		return why;
	enum store_status ret = ss_scope_resolve(c, w, true, &sc);
	if (ret == STORE_OK) {
		struct db_stmt *st = store_stmt(c, sql);
		ret = st != NULL ? STORE_OK : store_conn_error(c);
		if (st != NULL) {
			db_bind_int(st, 1, sc.project_id);
			ret = collect_names(c, st, out);
		}
	}
	store_reader_release(s, c);
	return ret;
}

enum store_status store_ss_tags(struct store *s, const struct ss_where *w, struct ss_names *out)
{
	return project_names(s, w, SQL_TAG_NAMES, out);
}

enum store_status store_ss_branches(struct store *s, const struct ss_where *w, struct ss_names *out)
{
	return project_names(s, w, SQL_BRANCH_NAMES, out);
}

static const char SQL_TAG_EXISTS[] = "SELECT 1 FROM ss_tags WHERE project_id = $1 AND name = $2";

enum store_status store_ss_tag_exists(struct store *s, const struct ss_where *w, const char *name)
{
	enum store_status why;
	struct store_conn *c = begin(s, &why);
	struct ss_scope sc;

	if (c == NULL)
		return why;
	enum store_status ret = ss_scope_resolve(c, w, true, &sc);
	if (ret == STORE_OK) {
		struct db_stmt *st = store_stmt(c, SQL_TAG_EXISTS);
		ret = st != NULL ? STORE_OK : store_conn_error(c);
		if (st != NULL) {
			db_bind_int(st, 1, sc.project_id);
			db_bind_text(st, 2, name);
			int rc = db_step(st);
			ret = rc == DB_ROW    ? STORE_OK
			      : rc == DB_DONE ? STORE_TAG_NOT_FOUND
			                      : store_conn_error(c);
			db_reset(st);
		}
	}
	store_reader_release(s, c);
	return ret;
}

static const char SQL_HISTORY[] =
        "SELECT c.sha, c.message, c.authored_at FROM ss_branch_commits h "
        "JOIN ss_commits c ON c.id = h.commit_id WHERE h.branch_id = $1 AND h.id <= $2 "
        "ORDER BY h.id DESC LIMIT $3";
static const char SQL_FIRST_RECORDED[] =
        "SELECT branch_id, id FROM ss_branch_commits WHERE commit_id = $1 ORDER BY id LIMIT 1";
static const char SQL_ONE_COMMIT[] =
        "SELECT sha, message, authored_at FROM ss_commits WHERE id = $1";

static enum store_status collect_commits(struct store_conn *c, struct db_stmt *st,
                                         struct ss_commit **out, size_t *n)
{
	struct ss_commit *list = calloc(SS_COMMITS_SHOWN, sizeof(*list));
	size_t count = 0;
	bool oom = false;
	int rc = DB_DONE;

	if (list == NULL)
		return STORE_NOMEM;
	while (count < SS_COMMITS_SHOWN && (rc = db_step(st)) == DB_ROW) {
		struct ss_commit *e = &list[count++];
		store_column_copy(st, 0, e->sha, sizeof(e->sha));
		e->message = store_column_dup(st, 1, &oom);
		e->authored_at = db_col_int(st, 2);
		if (oom)
			break;
	}
	if (count == SS_COMMITS_SHOWN)
		rc = DB_DONE;
	enum store_status ret = oom ? STORE_NOMEM : rc == DB_DONE ? STORE_OK : store_conn_error(c);
	db_reset(st);
	if (ret != STORE_OK) {
		ss_commit_list_free(list, count);
		return ret;
	}
	*out = list;
	*n = count;
	return STORE_OK;
}

/* Where to list from: a branch and the last history row to show, or one commit. */
static enum store_status history_anchor(struct store_conn *c, const struct ss_scope *sc,
                                        const char *ref, int64_t *branch_id, int64_t *upto,
                                        int64_t *commit_id)
{
	struct ss_ref r;

	*branch_id = 0, *upto = INT64_MAX, *commit_id = 0;
	if (ref == NULL) {
		*branch_id = sc->default_branch_id;
		return STORE_OK;
	}
	enum store_status ret = ss_ref_resolve(c, sc->project_id, ref, &r);
	if (ret != STORE_OK)
		return ret;
	if (r.branch_id != 0) {
		*branch_id = r.branch_id;
		return STORE_OK;
	}
	*commit_id = r.commit_id;
	struct db_stmt *st = store_stmt(c, SQL_FIRST_RECORDED);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, r.commit_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*branch_id = db_col_int(st, 0);
		*upto = db_col_int(st, 1);
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? STORE_OK : store_conn_error(c);
}

enum store_status store_ss_commits(struct store *s, const struct ss_where *w, const char *ref,
                                   struct ss_commit **out, size_t *n)
{
	enum store_status why;
	struct store_conn *c = begin(s, &why);
	struct ss_scope sc;
	int64_t branch_id, upto, commit_id;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return why;
	enum store_status ret = ss_scope_resolve(c, w, true, &sc);
	if (ret == STORE_OK)
		ret = history_anchor(c, &sc, ref, &branch_id, &upto, &commit_id);
	if (ret == STORE_OK && (branch_id != 0 || commit_id != 0)) {
		struct db_stmt *st = store_stmt(c, branch_id != 0 ? SQL_HISTORY : SQL_ONE_COMMIT);
		ret = st != NULL ? STORE_OK : store_conn_error(c);
		if (st != NULL) {
			if (branch_id != 0) {
				db_bind_int(st, 1, branch_id);
				db_bind_int(st, 2, upto);
				db_bind_int(st, 3, SS_COMMITS_SHOWN);
			} else {
				db_bind_int(st, 1, commit_id);
			}
			ret = collect_commits(c, st, out, n);
		}
	}
	store_reader_release(s, c);
	return ret;
}
