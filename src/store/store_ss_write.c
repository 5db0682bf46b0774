/*
 * store_ss_write.c - ServiceStage write operations: projects (and their
 * namespaces), commits and branches, tags.  See store_ss.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "names.h"
#include "store_ss_internal.h"
#include "store_tag.h"

/* ---- projects ---- */

static const char SQL_NS_INSERT[] =
        "INSERT INTO ss_namespaces(org_id, name, created_at) VALUES ($1, $2, $3) RETURNING id";
static const char SQL_PROJECT_INSERT[] =
        "INSERT INTO ss_projects(namespace_id, name, created_at) VALUES ($1, $2, $3) "
        "RETURNING id";

static enum store_status project_create_run(struct store_conn *c, struct store_op *op)
{
	struct ss_project_create_op *o = (struct ss_project_create_op *)op;
	struct ss_scope sc;
	struct db_stmt *st;
	int64_t now = clock_now_us();

	enum store_status ret = ss_scope_resolve(c, &o->where, false, &sc);
	if (ret == STORE_NOT_FOUND && sc.ns_id == 0) {
		/* The namespace comes into being with its first project. */
		if (names_ss_namespace(o->where.namespace) != NULL)
			return STORE_INVALID;
		st = store_stmt(c, SQL_NS_INSERT);
		if (st == NULL)
			return store_conn_error(c);
		db_bind_int(st, 1, o->where.org_id);
		db_bind_text(st, 2, o->where.namespace);
		db_bind_int(st, 3, now);
		ret = store_step_id(st, STORE_ERROR, &sc.ns_id);
		if (ret != STORE_OK)
			return ret;
	}
	if (ret != STORE_OK)
		return ret;
	st = store_stmt(c, SQL_PROJECT_INSERT);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, sc.ns_id);
	db_bind_text(st, 2, o->name);
	db_bind_int(st, 3, now);
	int64_t id = 0;
	ret = store_step_id(st, STORE_ERROR, &id);
	if (ret != STORE_OK)
		return ret;
	snprintf(o->id, sizeof(o->id), "%lld", (long long)id);
	memcpy(o->ns_name, sc.ns_name, sizeof(o->ns_name));
	return STORE_OK;
}

void ss_project_create_op_init(struct ss_project_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = project_create_run;
}

/* ---- commits and branches ---- */

static const char SQL_COMMIT_FIND[] =
        "SELECT id, message, authored_at FROM ss_commits WHERE project_id = $1 AND sha = $2";
static const char SQL_COMMIT_INSERT[] =
        "INSERT INTO ss_commits(project_id, sha, message, authored_at, created_at) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id";
static const char SQL_BRANCH_FIND[] =
        "SELECT id, head_commit_id FROM ss_branches WHERE project_id = $1 AND name = $2";
static const char SQL_BRANCH_INSERT[] =
        "INSERT INTO ss_branches(project_id, name, head_commit_id, created_at) "
        "VALUES ($1, $2, $3, $4) RETURNING id";
static const char SQL_BRANCH_MOVE[] = "UPDATE ss_branches SET head_commit_id = $2 WHERE id = $1";
static const char SQL_HISTORY_APPEND[] =
        "INSERT INTO ss_branch_commits(branch_id, commit_id) VALUES ($1, $2)";
static const char SQL_DEFAULT_BRANCH[] =
        "UPDATE ss_projects SET default_branch_id = $2 WHERE id = $1 "
        "AND default_branch_id IS NULL";

/*
 * Find sha in the project; on a hit fill out from the stored row.  *id is 0
 * when the project does not know it.
 */
static enum store_status commit_find(struct store_conn *c, int64_t project_id, const char *sha,
                                     int64_t *id, struct ss_commit *out)
{
	bool oom = false;
	struct db_stmt *st = store_stmt(c, SQL_COMMIT_FIND);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, project_id);
	db_bind_text(st, 2, sha);
	int rc = db_step(st);
	enum store_status ret = STORE_OK;
	*id = 0;
	if (rc == DB_ROW) {
		*id = db_col_int(st, 0);
		out->message = store_column_dup(st, 1, &oom);
		out->authored_at = db_col_int(st, 2);
		if (oom)
			ret = STORE_NOMEM;
	} else if (rc != DB_DONE) {
		ret = store_conn_error(c);
	}
	db_reset(st);
	return ret;
}

/* Record commit_id on branch name of the project, making it the head. */
static enum store_status record_on_branch(struct store_conn *c, const struct ss_scope *sc,
                                          const char *name, int64_t commit_id, bool known)
{
	int64_t branch_id = 0, head = 0;
	struct db_stmt *st = store_stmt(c, SQL_BRANCH_FIND);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, sc->project_id);
	db_bind_text(st, 2, name);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		branch_id = db_col_int(st, 0);
		head = db_col_int(st, 1);
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return store_conn_error(c);

	enum store_status ret;
	if (branch_id != 0) {
		if (known && head == commit_id)
			return STORE_CONFLICT;
		st = store_stmt(c, SQL_BRANCH_MOVE);
		if (st == NULL)
			return store_conn_error(c);
		db_bind_int(st, 1, branch_id);
		db_bind_int(st, 2, commit_id);
		ret = store_step_done(st);
	} else {
		st = store_stmt(c, SQL_BRANCH_INSERT);
		if (st == NULL)
			return store_conn_error(c);
		db_bind_int(st, 1, sc->project_id);
		db_bind_text(st, 2, name);
		db_bind_int(st, 3, commit_id);
		db_bind_int(st, 4, clock_now_us());
		ret = store_step_id(st, STORE_ERROR, &branch_id);
		if (ret == STORE_OK && sc->default_branch_id == 0) {
			st = store_stmt(c, SQL_DEFAULT_BRANCH);
			if (st == NULL)
				return store_conn_error(c);
			db_bind_int(st, 1, sc->project_id);
			db_bind_int(st, 2, branch_id);
			ret = store_step_done(st);
		}
	}
	if (ret != STORE_OK)
		return ret;
	st = store_stmt(c, SQL_HISTORY_APPEND);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, branch_id);
	db_bind_int(st, 2, commit_id);
	return store_step_done(st);
}

static enum store_status commit_create_run(struct store_conn *c, struct store_op *op)
{
	struct ss_commit_create_op *o = (struct ss_commit_create_op *)op;
	struct ss_scope sc;
	int64_t commit_id = 0;

	enum store_status ret = ss_scope_resolve(c, &o->where, true, &sc);
	if (ret != STORE_OK)
		return ret;
	ss_commit_release(&o->out);
	memcpy(o->out.sha, o->sha, sizeof(o->out.sha));
	ret = commit_find(c, sc.project_id, o->sha, &commit_id, &o->out);
	if (ret != STORE_OK)
		return ret;
	bool known = commit_id != 0;
	if (known && o->branch == NULL)
		ret = STORE_CONFLICT;
	if (!known) {
		struct db_stmt *st = store_stmt(c, SQL_COMMIT_INSERT);
		if (st == NULL)
			return store_conn_error(c);
		db_bind_int(st, 1, sc.project_id);
		db_bind_text(st, 2, o->sha);
		db_bind_text(st, 3, o->message);
		db_bind_int(st, 4, o->authored_at);
		db_bind_int(st, 5, clock_now_us());
		ret = store_step_id(st, STORE_ERROR, &commit_id);
		if (ret == STORE_OK) {
			o->out.message = strdup(o->message);
			o->out.authored_at = o->authored_at;
			if (o->out.message == NULL)
				ret = STORE_NOMEM;
		}
	}
	if (ret == STORE_OK && o->branch != NULL)
		ret = record_on_branch(c, &sc, o->branch, commit_id, known);
	if (ret != STORE_OK)
		ss_commit_release(&o->out);
	return ret;
}

void ss_commit_create_op_init(struct ss_commit_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = commit_create_run;
}

/* ---- tags ---- */

/* The where of tag name in w's project, once resolved into sc. */
static enum store_status ss_tag_where(const struct ss_where *w, const struct ss_scope *sc,
                                      const char *name, char *scope_name, size_t cap,
                                      struct tag_where *out)
{
	if ((size_t)snprintf(scope_name, cap, "%s/%s", sc->ns_name, sc->project_name) >= cap)
		return STORE_INVALID;
	*out = (struct tag_where){.scope = HISTORY_SCOPE_SERVICESTAGE,
	                          .org_id = w->org_id,
	                          .key = sc->project_id,
	                          .scope_name = scope_name,
	                          .tag = name};
	return STORE_OK;
}

static enum store_status tag_create_run(struct store_conn *c, struct store_op *op)
{
	struct ss_tag_create_op *o = (struct ss_tag_create_op *)op;
	struct ss_scope sc;
	struct ss_ref ref;
	struct tag_where tw;
	char scope_name[2 * SS_NAME_MAX + 2];

	enum store_status locked = store_tag_lock(c, o->where.org_id);
	if (locked != STORE_OK)
		return locked;

	enum store_status ret = ss_scope_resolve(c, &o->where, true, &sc);
	if (ret != STORE_OK)
		return ret;
	ret = ss_ref_resolve(c, sc.project_id, o->ref, &ref);
	if (ret == STORE_OK)
		ret = ss_tag_where(&o->where, &sc, o->name, scope_name, sizeof(scope_name), &tw);
	if (ret != STORE_OK)
		return ret;
	struct tag_change ch = {.where = tw,
	                        .verb = TAG_CREATE,
	                        .commit = {.row = ref.commit_id},
	                        .desc = STORE_DESC_SET,
	                        .description = o->message,
	                        .actor = &o->actor,
	                        .refused = &o->refused};
	return store_tag_change(c, &ch);
}

void ss_tag_create_op_init(struct ss_tag_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = tag_create_run;
}

static enum store_status tag_delete_run(struct store_conn *c, struct store_op *op)
{
	struct ss_tag_delete_op *o = (struct ss_tag_delete_op *)op;
	struct ss_scope sc;
	struct tag_where tw;
	char scope_name[2 * SS_NAME_MAX + 2];

	enum store_status locked = store_tag_lock(c, o->where.org_id);
	if (locked != STORE_OK)
		return locked;

	enum store_status ret = ss_scope_resolve(c, &o->where, true, &sc);
	if (ret == STORE_OK)
		ret = ss_tag_where(&o->where, &sc, o->name, scope_name, sizeof(scope_name), &tw);
	if (ret != STORE_OK)
		return ret;
	struct tag_change ch = {
	        .where = tw, .verb = TAG_DELETE, .actor = &o->actor, .refused = &o->refused};
	return store_tag_change(c, &ch);
}

void ss_tag_delete_op_init(struct ss_tag_delete_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = tag_delete_run;
}
