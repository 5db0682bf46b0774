/*
 * store_ss.c - ServiceStage repository authorizations, and resolving the
 * namespace, project and ref a call names.  See store_ss.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dynbuf.h"
#include "store_org.h"
#include "store_ss_internal.h"

/* ---- freeing results ---- */

void ss_auth_list_free(struct ss_auth *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].repo_type);
		for (size_t j = 0; j < list[i].nnamespaces; j++)
			free(list[i].namespaces[j]);
		free(list[i].namespaces);
	}
	free(list);
}

void ss_named_list_free(struct ss_named *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
}

void ss_commit_release(struct ss_commit *c)
{
	free(c->message);
	c->message = NULL;
}

void ss_commit_list_free(struct ss_commit *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ss_commit_release(&list[i]);
	free(list);
}

void ss_names_release(struct ss_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* ---- authorizations: writes ---- */

static const char SQL_SS_ORG_ID[] = "SELECT id FROM orgs WHERE name = $1";
static const char SQL_AUTH_INSERT[] =
        "INSERT INTO ss_repo_auths(org_id, name, repo_type, all_namespaces, created_ms, "
        "updated_ms) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id";
static const char SQL_AUTH_NS_INSERT[] =
        "INSERT INTO ss_repo_auth_namespaces(auth_id, namespace) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING";
static const char SQL_AUTH_DELETE[] = "DELETE FROM ss_repo_auths WHERE org_id = $1 AND name = $2";

static enum store_status org_row(struct store_conn *c, const char *name, int64_t *id)
{
	struct db_stmt *st = store_stmt(c, SQL_SS_ORG_ID);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_text(st, 1, name);
	return store_step_id(st, STORE_ORG_NOT_FOUND, id);
}

static bool valid_repo_type(const char *t)
{
	static const char *const types[] = {"github", "gitlab", "gitee", "bitbucket", "devcloud"};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i]) == 0)
			return true;
	return false;
}

static enum store_status auth_create_run(struct store_conn *c, struct store_op *op)
{
	struct ss_auth_create_op *o = (struct ss_auth_create_op *)op;
	int64_t org_id = 0;
	const char *type = o->repo_type ? o->repo_type : "devcloud";

	if (!valid_repo_type(type))
		return STORE_INVALID;
	enum store_status ret = org_row(c, o->org_name, &org_id);
	if (ret != STORE_OK)
		return ret;
	struct db_stmt *st = store_stmt(c, SQL_AUTH_INSERT);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	db_bind_text(st, 2, o->name);
	db_bind_text(st, 3, type);
	db_bind_int(st, 4, o->nnamespaces == 0);
	db_bind_int(st, 5, clock_now_us() / 1000);
	int64_t auth_id = 0;
	ret = store_step_id(st, STORE_ERROR, &auth_id);
	if (ret != STORE_OK)
		return ret;
	for (size_t i = 0; i < o->nnamespaces; i++) {
		st = store_stmt(c, SQL_AUTH_NS_INSERT);
		if (st == NULL)
			return store_conn_error(c);
		db_bind_int(st, 1, auth_id);
		db_bind_text(st, 2, o->namespaces[i]);
		ret = store_step_done(st);
		if (ret != STORE_OK)
			return ret;
	}
	return STORE_OK;
}

void ss_auth_create_op_init(struct ss_auth_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = auth_create_run;
}

static enum store_status auth_delete_run(struct store_conn *c, struct store_op *op)
{
	struct ss_auth_delete_op *o = (struct ss_auth_delete_op *)op;
	int64_t org_id = 0;
	enum store_status ret = org_row(c, o->org_name, &org_id);
	if (ret != STORE_OK)
		return ret;
	struct db_stmt *st = store_stmt(c, SQL_AUTH_DELETE);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	db_bind_text(st, 2, o->name);
	ret = store_step_done(st);
	if (ret == STORE_OK && db_changes(c) == 0)
		ret = STORE_NOT_FOUND;
	return ret;
}

void ss_auth_delete_op_init(struct ss_auth_delete_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = auth_delete_run;
}

/* ---- authorizations: reads ---- */

static const char SQL_AUTH_LIST[] =
        "SELECT id, name, repo_type, all_namespaces, created_ms, updated_ms "
        "FROM ss_repo_auths WHERE org_id = $1 ORDER BY id";
static const char SQL_AUTH_NS_LIST[] =
        "SELECT namespace FROM ss_repo_auth_namespaces WHERE auth_id = $1 ORDER BY namespace";
static const char SQL_AUTH_FIND[] = "SELECT id FROM ss_repo_auths WHERE org_id = $1 AND name = $2";

/* Append a copy of each row's column 0 to out; false when out of memory. */
static enum store_status collect_text(struct store_conn *c, struct db_stmt *st, char ***items,
                                      size_t *n)
{
	size_t cap = 0;
	int rc;
	bool oom = false;

	*items = NULL;
	*n = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (dynbuf_array_reserve((void **)items, &cap, *n, sizeof(**items), SIZE_MAX) !=
		    DYNBUF_OK) {
			oom = true;
			break;
		}
		char *v = store_column_dup(st, 0, &oom);
		if (oom)
			break;
		(*items)[(*n)++] = v ? v : strdup("");
		if ((*items)[*n - 1] == NULL) {
			oom = true;
			break;
		}
	}
	enum store_status ret = oom ? STORE_NOMEM : rc == DB_DONE ? STORE_OK : store_conn_error(c);
	db_reset(st);
	if (ret != STORE_OK) {
		for (size_t i = 0; i < *n; i++)
			free((*items)[i]);
		free(*items);
		*items = NULL;
		*n = 0;
	}
	return ret;
}

static enum store_status auth_list_read(struct store_conn *c, int64_t org_id, struct ss_auth **out,
                                        size_t *n)
{
	struct ss_auth *list = NULL;
	int64_t *ids = NULL;
	size_t count = 0, cap = 0, ids_cap = 0;
	bool oom = false;
	int rc;

	struct db_stmt *st = store_stmt(c, SQL_AUTH_LIST);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	while ((rc = db_step(st)) == DB_ROW) {
		if (dynbuf_array_reserve((void **)&list, &cap, count, sizeof(*list), SIZE_MAX) !=
		            DYNBUF_OK ||
		    dynbuf_array_reserve((void **)&ids, &ids_cap, count, sizeof(*ids), SIZE_MAX) !=
		            DYNBUF_OK) {
			oom = true;
			break;
		}
		struct ss_auth *a = &list[count++];
		memset(a, 0, sizeof(*a));
		ids[count - 1] = db_col_int(st, 0);
		a->name = store_column_dup(st, 1, &oom);
		a->repo_type = store_column_dup(st, 2, &oom);
		a->all_namespaces = db_col_int(st, 3) != 0;
		a->created_ms = db_col_int(st, 4);
		a->updated_ms = db_col_int(st, 5);
		if (oom)
			break;
	}
	enum store_status ret = oom ? STORE_NOMEM : rc == DB_DONE ? STORE_OK : store_conn_error(c);
	db_reset(st);
	for (size_t i = 0; ret == STORE_OK && i < count; i++) {
		if (list[i].all_namespaces)
			continue;
		st = store_stmt(c, SQL_AUTH_NS_LIST);
		if (st == NULL) {
			ret = store_conn_error(c);
			break;
		}
		db_bind_int(st, 1, ids[i]);
		ret = collect_text(c, st, &list[i].namespaces, &list[i].nnamespaces);
	}
	free(ids);
	if (ret != STORE_OK) {
		ss_auth_list_free(list, count);
		return ret;
	}
	*out = list;
	*n = count;
	return STORE_OK;
}

enum store_status store_ss_auth_list(struct store *s, int64_t org_id, struct ss_auth **out,
                                     size_t *n)
{
	struct store_conn *c = store_reader(s);
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = store_read_begin(c);
	if (ret == STORE_OK)
		ret = auth_list_read(c, org_id, out, n);
	store_reader_release(s, c);
	return ret;
}

enum store_status store_ss_auth_find(struct store *s, int64_t org_id, const char *name,
                                     int64_t *auth_id)
{
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	struct db_stmt *st = store_stmt(c, SQL_AUTH_FIND);
	enum store_status ret = st != NULL ? STORE_OK : store_conn_error(c);
	if (st != NULL) {
		db_bind_int(st, 1, org_id);
		db_bind_text(st, 2, name);
		int rc = db_step(st);
		if (rc == DB_ROW) {
			*auth_id = db_col_int(st, 0);
			ret = STORE_OK;
		} else {
			ret = rc == DB_DONE ? STORE_NOT_FOUND : store_conn_error(c);
		}
		db_reset(st);
	}
	store_reader_release(s, c);
	return ret;
}

/* ---- resolving a where ---- */

static const char SQL_AUTH_SCOPE[] =
        "SELECT all_namespaces FROM ss_repo_auths WHERE id = $1 AND org_id = $2";
static const char SQL_AUTH_COVERS[] =
        "SELECT 1 FROM ss_repo_auth_namespaces WHERE auth_id = $1 AND namespace = $2";
static const char SQL_NS_FIND[] =
        "SELECT id, name FROM ss_namespaces WHERE org_id = $1 AND (id = $2 OR name = $3) "
        "ORDER BY id = $2 DESC LIMIT 1";
static const char SQL_PROJECT_FIND[] =
        "SELECT id, name, default_branch_id FROM ss_projects WHERE namespace_id = $1 "
        "AND (id = $2 OR name = $3 OR name = $4) "
        "ORDER BY id = $2 DESC, name = $3 DESC LIMIT 1";

/* Bind an all-digits segment as an integer id, anything else as NULL (matches no id). */
static void bind_id(struct db_stmt *st, int idx, const char *seg)
{
	size_t len = strlen(seg);
	if (len == 0 || len > 18 || strspn(seg, "0123456789") != len) {
		db_bind_text(st, idx, NULL);
		return;
	}
	db_bind_int(st, idx, strtoll(seg, NULL, 10));
}

/* Does authorization auth_id of org cover namespace name?  STORE_FORBIDDEN when not. */
static enum store_status auth_covers(struct store_conn *c, int64_t org_id, int64_t auth_id,
                                     const char *name)
{
	struct db_stmt *st = store_stmt(c, SQL_AUTH_SCOPE);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, auth_id);
	db_bind_int(st, 2, org_id);
	int rc = db_step(st);
	bool all = rc == DB_ROW && db_col_int(st, 0) != 0;
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? STORE_FORBIDDEN : store_conn_error(c);
	if (all)
		return STORE_OK;
	st = store_stmt(c, SQL_AUTH_COVERS);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, auth_id);
	db_bind_text(st, 2, name);
	rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW)
		return STORE_OK;
	return rc == DB_DONE ? STORE_FORBIDDEN : store_conn_error(c);
}

static enum store_status find_namespace(struct store_conn *c, const struct ss_where *w,
                                        struct ss_scope *out)
{
	struct db_stmt *st = store_stmt(c, SQL_NS_FIND);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, w->org_id);
	bind_id(st, 2, w->namespace);
	db_bind_text(st, 3, w->namespace);
	int rc = db_step(st);
	enum store_status ret = STORE_OK;
	if (rc == DB_ROW) {
		out->ns_id = db_col_int(st, 0);
		store_column_copy(st, 1, out->ns_name, sizeof(out->ns_name));
	} else if (rc == DB_DONE) {
		out->ns_id = 0;
		if (strlen(w->namespace) < sizeof(out->ns_name))
			memcpy(out->ns_name, w->namespace, strlen(w->namespace) + 1);
		else
			out->ns_name[0] = '\0';
	} else {
		ret = store_conn_error(c);
	}
	db_reset(st);
	return ret;
}

static enum store_status find_project(struct store_conn *c, const struct ss_where *w,
                                      struct ss_scope *out)
{
	size_t nslen = strlen(out->ns_name);
	const char *stripped = NULL;

	if (strncmp(w->project, out->ns_name, nslen) == 0 && w->project[nslen] == '/')
		stripped = w->project + nslen + 1;
	struct db_stmt *st = store_stmt(c, SQL_PROJECT_FIND);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, out->ns_id);
	bind_id(st, 2, w->project);
	db_bind_text(st, 3, w->project);
	db_bind_text(st, 4, stripped);
	int rc = db_step(st);
	enum store_status ret = STORE_REPO_NOT_FOUND;
	if (rc == DB_ROW) {
		out->project_id = db_col_int(st, 0);
		store_column_copy(st, 1, out->project_name, sizeof(out->project_name));
		out->default_branch_id = db_col_int(st, 2);
		ret = STORE_OK;
	} else if (rc != DB_DONE) {
		ret = store_conn_error(c);
	}
	db_reset(st);
	return ret;
}

enum store_status ss_scope_resolve(struct store_conn *c, const struct ss_where *w,
                                   bool need_project, struct ss_scope *out)
{
	memset(out, 0, sizeof(*out));
	enum store_status ret = find_namespace(c, w, out);
	if (ret != STORE_OK)
		return ret;
	if (!w->command_line)
		ret = auth_covers(c, w->org_id, w->auth_id, out->ns_name);
	if (ret != STORE_OK)
		return ret;
	if (out->ns_id == 0)
		return STORE_NOT_FOUND;
	if (!need_project)
		return STORE_OK;
	return find_project(c, w, out);
}

/* ---- resolving a ref ---- */

static const char SQL_REF_BRANCH[] =
        "SELECT id, head_commit_id FROM ss_branches WHERE project_id = $1 AND name = $2";
static const char SQL_REF_TAG[] =
        "SELECT commit_id FROM ss_tags WHERE project_id = $1 AND name = $2";
static const char SQL_REF_SHA[] =
        "SELECT id FROM ss_commits WHERE project_id = $1 AND sha >= $2 AND sha < $2 || 'g' "
        "ORDER BY sha LIMIT 2";

enum store_status ss_ref_resolve(struct store_conn *c, int64_t project_id, const char *ref,
                                 struct ss_ref *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	struct db_stmt *st = store_stmt(c, SQL_REF_BRANCH);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, project_id);
	db_bind_text(st, 2, ref);
	rc = db_step(st);
	if (rc == DB_ROW) {
		out->branch_id = db_col_int(st, 0);
		out->commit_id = db_col_int(st, 1);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return STORE_OK;
	if (rc != DB_DONE)
		return store_conn_error(c);

	st = store_stmt(c, SQL_REF_TAG);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, project_id);
	db_bind_text(st, 2, ref);
	rc = db_step(st);
	if (rc == DB_ROW)
		out->commit_id = db_col_int(st, 0);
	db_reset(st);
	if (rc == DB_ROW)
		return STORE_OK;
	if (rc != DB_DONE)
		return store_conn_error(c);

	/* A full or abbreviated SHA: 7 to 40 hex digits, any case. */
	size_t len = strlen(ref);
	char lower[SS_SHA_LEN + 1];
	if (len < 7 || len > SS_SHA_LEN || strspn(ref, "0123456789abcdefABCDEF") != len)
		return STORE_COMMIT_NOT_FOUND;
	for (size_t i = 0; i <= len; i++)
		lower[i] = (char)(ref[i] >= 'A' && ref[i] <= 'F' ? ref[i] - 'A' + 'a' : ref[i]);
	st = store_stmt(c, SQL_REF_SHA);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, project_id);
	db_bind_text(st, 2, lower);
	size_t found = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		out->commit_id = db_col_int(st, 0);
		found++;
	}
	db_reset(st);
	if (rc != DB_DONE)
		return store_conn_error(c);
	if (found == 0)
		return STORE_COMMIT_NOT_FOUND;
	/* A full SHA matches itself only; a prefix must name one commit. */
	return found == 1 ? STORE_OK : STORE_INVALID;
}
