/*
 * store_vers.c - Vers repositories, tags, commits and legacy commit tags: the
 * write operations (reads are in store_vers_read.c).
 * See store_vers.h.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store_internal.h"
#include "store_vers.h"

void vers_repo_release(struct vers_repo *r)
{
	free(r->name);
	free(r->description);
	free(r->org_name);
	r->name = r->description = r->org_name = NULL;
}

void vers_tag_release(struct vers_tag *t)
{
	free(t->name);
	free(t->description);
	t->name = t->description = NULL;
}

void vers_commit_release(struct vers_commit *c)
{
	free(c->name);
	free(c->description);
	free(c->parent_vm_id);
	free(c->grandparent_commit_id);
	c->name = c->description = c->parent_vm_id = c->grandparent_commit_id = NULL;
}

/* ---- repositories ---- */

static const char SQL_REPO_INSERT[] =
        "INSERT INTO repos(uuid, org_id, name, description, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5)";

static enum store_status repo_create_run(struct store_conn *c, struct store_op *op)
{
	struct vers_repo_create_op *o = (struct vers_repo_create_op *)op;
	sqlite3_stmt *st = store_stmt(c, SQL_REPO_INSERT);
	if (st == NULL)
		return STORE_ERROR;
	store_new_uuid(o->repo_id);
	store_bind_text(st, 1, o->repo_id);
	sqlite3_bind_int64(st, 2, o->org_id);
	store_bind_text(st, 3, o->name);
	store_bind_text(st, 4, o->description);
	sqlite3_bind_int64(st, 5, clock_now_us());
	return store_step_done(st);
}

void vers_repo_create_op_init(struct vers_repo_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = repo_create_run;
}

/* ---- commits ---- */

static const char SQL_COMMIT_INSERT[] =
        "INSERT INTO commits(uuid, org_id, name, description, is_public, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_ORG_UUID[] = "SELECT uuid FROM orgs WHERE id = ?1";

static enum store_status commit_create_run(struct store_conn *c, struct store_op *op)
{
	struct vers_commit_create_op *o = (struct vers_commit_create_op *)op;
	struct vers_commit *out = &o->out;
	bool oom = false;

	if (o->commit_id[0] == '\0')
		store_new_uuid(o->commit_id);
	sqlite3_stmt *st = store_stmt(c, SQL_COMMIT_INSERT);
	if (st == NULL)
		return STORE_ERROR;
	int64_t now = clock_now_us();
	const char *name = o->name ? o->name : o->commit_id;
	store_bind_text(st, 1, o->commit_id);
	sqlite3_bind_int64(st, 2, o->org_id);
	store_bind_text(st, 3, name);
	store_bind_text(st, 4, o->description);
	sqlite3_bind_int(st, 5, o->is_public);
	sqlite3_bind_int64(st, 6, now);
	enum store_status ret = store_step_done(st);
	if (ret != STORE_OK)
		return ret;

	st = store_stmt(c, SQL_ORG_UUID);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, o->org_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return STORE_ORG_NOT_FOUND;
	}
	store_column_copy(st, 0, out->owner_id, sizeof(out->owner_id));
	sqlite3_reset(st);

	memcpy(out->commit_id, o->commit_id, sizeof(out->commit_id));
	out->name = strdup(name);
	out->description = o->description ? strdup(o->description) : NULL;
	oom = out->name == NULL || (o->description && out->description == NULL);
	out->is_public = o->is_public;
	out->created_at = now;
	if (oom) {
		vers_commit_release(out);
		return STORE_NOMEM;
	}
	return STORE_OK;
}

void vers_commit_create_op_init(struct vers_commit_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = commit_create_run;
}

/* ---- repository tags ---- */

static const char SQL_REPO_ID[] = "SELECT id FROM repos WHERE org_id = ?1 AND name = ?2";
static const char SQL_COMMIT_OWNER[] =
        "SELECT id, org_id FROM commits WHERE uuid = ?1 AND deleted_at IS NULL";
static const char SQL_TAG_INSERT[] =
        "INSERT INTO repo_tags(uuid, repo_id, name, commit_id, description, created_at, "
        "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";

/* Row id of repository name in org, on the writer; STORE_REPO_NOT_FOUND when absent. */
static enum store_status repo_row(struct store_conn *c, int64_t org_id, const char *name,
                                  int64_t *id)
{
	sqlite3_stmt *st = store_stmt(c, SQL_REPO_ID);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, org_id);
	store_bind_text(st, 2, name);
	return store_step_id(st, STORE_REPO_NOT_FOUND, id);
}

/*
 * Row id of a live commit that org may tag: STORE_COMMIT_NOT_FOUND when it
 * does not exist or is deleted, STORE_FORBIDDEN when another org owns it.
 */
static enum store_status taggable_commit(struct store_conn *c, int64_t org_id, const char *uuid,
                                         int64_t *id)
{
	sqlite3_stmt *st = store_stmt(c, SQL_COMMIT_OWNER);
	if (st == NULL)
		return STORE_ERROR;
	store_bind_text(st, 1, uuid);
	int rc = sqlite3_step(st);
	enum store_status ret = STORE_COMMIT_NOT_FOUND;
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		ret = sqlite3_column_int64(st, 1) == org_id ? STORE_OK : STORE_FORBIDDEN;
	} else if (rc != SQLITE_DONE) {
		ret = store_conn_error(c);
	}
	sqlite3_reset(st);
	return ret;
}

static enum store_status tag_create_run(struct store_conn *c, struct store_op *op)
{
	struct vers_tag_create_op *o = (struct vers_tag_create_op *)op;
	int64_t repo_id = 0, commit_row = 0;
	enum store_status ret = repo_row(c, o->org_id, o->repo_name, &repo_id);
	if (ret != STORE_OK)
		return ret;
	ret = taggable_commit(c, o->org_id, o->commit_id, &commit_row);
	if (ret != STORE_OK)
		return ret;
	sqlite3_stmt *st = store_stmt(c, SQL_TAG_INSERT);
	if (st == NULL)
		return STORE_ERROR;
	store_new_uuid(o->tag_id);
	store_bind_text(st, 1, o->tag_id);
	sqlite3_bind_int64(st, 2, repo_id);
	store_bind_text(st, 3, o->tag_name);
	sqlite3_bind_int64(st, 4, commit_row);
	store_bind_text(st, 5, o->description);
	sqlite3_bind_int64(st, 6, clock_now_us());
	return store_step_done(st);
}

void vers_tag_create_op_init(struct vers_tag_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = tag_create_run;
}

/* ---- repositories: delete, visibility ---- */

static const char SQL_REPO_DELETE[] = "DELETE FROM repos WHERE org_id = ?1 AND name = ?2";
static const char SQL_REPO_VISIBILITY[] =
        "UPDATE repos SET is_public = ?3 WHERE org_id = ?1 AND name = ?2";

/* Run a statement on (org_id, name) that must change exactly one repository. */
static enum store_status repo_change(struct store_conn *c, const char *sql, int64_t org_id,
                                     const char *name, int extra, bool has_extra)
{
	sqlite3_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, org_id);
	store_bind_text(st, 2, name);
	if (has_extra)
		sqlite3_bind_int(st, 3, extra);
	enum store_status ret = store_step_done(st);
	if (ret == STORE_OK && sqlite3_changes(c->db) == 0)
		ret = STORE_REPO_NOT_FOUND;
	return ret;
}

/* The repository's tags go by ON DELETE CASCADE, inside the same savepoint. */
static enum store_status repo_delete_run(struct store_conn *c, struct store_op *op)
{
	struct vers_repo_delete_op *o = (struct vers_repo_delete_op *)op;
	return repo_change(c, SQL_REPO_DELETE, o->org_id, o->name, 0, false);
}

void vers_repo_delete_op_init(struct vers_repo_delete_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = repo_delete_run;
}

static enum store_status repo_visibility_run(struct store_conn *c, struct store_op *op)
{
	struct vers_repo_visibility_op *o = (struct vers_repo_visibility_op *)op;
	return repo_change(c, SQL_REPO_VISIBILITY, o->org_id, o->name, o->is_public, true);
}

void vers_repo_visibility_op_init(struct vers_repo_visibility_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = repo_visibility_run;
}

/* ---- repository tags: update, delete ---- */

static const char SQL_TAG_ROW[] = "SELECT id FROM repo_tags WHERE repo_id = ?1 AND name = ?2";
static const char SQL_TAG_UPDATE[] =
        "UPDATE repo_tags SET commit_id = CASE WHEN ?2 THEN ?3 ELSE commit_id END, "
        "description = CASE ?4 WHEN 0 THEN description ELSE ?5 END, updated_at = ?6 "
        "WHERE id = ?1";
static const char SQL_TAG_DELETE[] = "DELETE FROM repo_tags WHERE id = ?1";

/* Row id of the first column of a one-row lookup on (id, text); missing gives `absent`. */
static enum store_status row_by_id_text(struct store_conn *c, const char *sql, int64_t key,
                                        const char *text, enum store_status absent, int64_t *id)
{
	sqlite3_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, key);
	store_bind_text(st, 2, text);
	int rc = sqlite3_step(st);
	enum store_status ret = absent;
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		ret = STORE_OK;
	} else if (rc != SQLITE_DONE) {
		ret = store_conn_error(c);
	}
	sqlite3_reset(st);
	return ret;
}

/*
 * Apply a tag update to row tag_id of the table sql updates: the commit
 * checks first (when moving), then the write.
 */
static enum store_status tag_apply(struct store_conn *c, const char *sql, int64_t org_id,
                                   int64_t tag_id, const struct vers_tag_patch *p)
{
	bool move = p->move;
	const char *commit_uuid = p->commit_id, *description = p->description;
	enum vers_desc_change desc = p->desc;
	int64_t commit_row = 0;
	if (move) {
		enum store_status ret = taggable_commit(c, org_id, commit_uuid, &commit_row);
		if (ret != STORE_OK)
			return ret;
	}
	sqlite3_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, tag_id);
	sqlite3_bind_int(st, 2, move);
	sqlite3_bind_int64(st, 3, commit_row);
	sqlite3_bind_int(st, 4, (int)desc);
	store_bind_text(st, 5, desc == VERS_DESC_SET ? description : NULL);
	sqlite3_bind_int64(st, 6, clock_now_us());
	return store_step_done(st);
}

static enum store_status tag_update_run(struct store_conn *c, struct store_op *op)
{
	struct vers_tag_update_op *o = (struct vers_tag_update_op *)op;
	int64_t repo_id = 0, tag_id = 0;
	enum store_status ret = repo_row(c, o->org_id, o->repo_name, &repo_id);
	if (ret == STORE_OK)
		ret = row_by_id_text(c, SQL_TAG_ROW, repo_id, o->tag_name, STORE_TAG_NOT_FOUND,
		                     &tag_id);
	if (ret != STORE_OK)
		return ret;
	return tag_apply(c, SQL_TAG_UPDATE, o->org_id, tag_id, &o->patch);
}

void vers_tag_update_op_init(struct vers_tag_update_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = tag_update_run;
}

static enum store_status tag_delete_run(struct store_conn *c, struct store_op *op)
{
	struct vers_tag_delete_op *o = (struct vers_tag_delete_op *)op;
	int64_t repo_id = 0, tag_id = 0;
	enum store_status ret = repo_row(c, o->org_id, o->repo_name, &repo_id);
	if (ret == STORE_OK)
		ret = row_by_id_text(c, SQL_TAG_ROW, repo_id, o->tag_name, STORE_TAG_NOT_FOUND,
		                     &tag_id);
	if (ret != STORE_OK)
		return ret;
	sqlite3_stmt *st = store_stmt(c, SQL_TAG_DELETE);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, tag_id);
	return store_step_done(st);
}

void vers_tag_delete_op_init(struct vers_tag_delete_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = tag_delete_run;
}

/* ---- commits: update, delete ---- */

static const char SQL_COMMIT_UPDATE[] =
        "UPDATE commits SET is_public = ?2, name = coalesce(?3, name), "
        "description = coalesce(?4, description) WHERE id = ?1";
static const char SQL_COMMIT_READ[] =
        "SELECT c.uuid, o.uuid, c.name, c.description, c.parent_vm_id, "
        "c.grandparent_commit_id, c.is_public, c.created_at "
        "FROM commits c JOIN orgs o ON o.id = c.org_id WHERE c.id = ?1";
static const char SQL_COMMIT_DELETE[] = "UPDATE commits SET deleted_at = ?2 WHERE id = ?1";

/* Read commit row id into *out (owned). */
static enum store_status commit_read(struct store_conn *c, int64_t id, struct vers_commit *out)
{
	bool oom = false;
	sqlite3_stmt *st = store_stmt(c, SQL_COMMIT_READ);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? STORE_COMMIT_NOT_FOUND : store_conn_error(c);
	}
	store_column_copy(st, 0, out->commit_id, sizeof(out->commit_id));
	store_column_copy(st, 1, out->owner_id, sizeof(out->owner_id));
	out->name = store_column_dup(st, 2, &oom);
	out->description = store_column_dup(st, 3, &oom);
	out->parent_vm_id = store_column_dup(st, 4, &oom);
	out->grandparent_commit_id = store_column_dup(st, 5, &oom);
	out->is_public = sqlite3_column_int(st, 6) != 0;
	out->created_at = sqlite3_column_int64(st, 7);
	sqlite3_reset(st);
	if (oom) {
		vers_commit_release(out);
		return STORE_NOMEM;
	}
	return STORE_OK;
}

static enum store_status commit_update_run(struct store_conn *c, struct store_op *op)
{
	struct vers_commit_update_op *o = (struct vers_commit_update_op *)op;
	int64_t row = 0;
	enum store_status ret = taggable_commit(c, o->org_id, o->commit_id, &row);
	if (ret != STORE_OK)
		return ret;
	sqlite3_stmt *st = store_stmt(c, SQL_COMMIT_UPDATE);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, row);
	sqlite3_bind_int(st, 2, o->is_public);
	store_bind_text(st, 3, o->name);
	store_bind_text(st, 4, o->description);
	ret = store_step_done(st);
	if (ret != STORE_OK)
		return ret;
	return commit_read(c, row, &o->out);
}

void vers_commit_update_op_init(struct vers_commit_update_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = commit_update_run;
}

static enum store_status commit_delete_run(struct store_conn *c, struct store_op *op)
{
	struct vers_commit_delete_op *o = (struct vers_commit_delete_op *)op;
	int64_t row = 0;
	enum store_status ret = taggable_commit(c, o->org_id, o->commit_id, &row);
	if (ret != STORE_OK)
		return ret;
	sqlite3_stmt *st = store_stmt(c, SQL_COMMIT_DELETE);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, row);
	sqlite3_bind_int64(st, 2, clock_now_us());
	return store_step_done(st);
}

void vers_commit_delete_op_init(struct vers_commit_delete_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = commit_delete_run;
}

/* ---- legacy commit tags ---- */

static const char SQL_CTAG_INSERT[] =
        "INSERT INTO commit_tags(uuid, org_id, name, commit_id, description, created_at, "
        "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";
static const char SQL_CTAG_ROW[] = "SELECT id FROM commit_tags WHERE org_id = ?1 AND name = ?2";
static const char SQL_CTAG_UPDATE[] =
        "UPDATE commit_tags SET commit_id = CASE WHEN ?2 THEN ?3 ELSE commit_id END, "
        "description = CASE ?4 WHEN 0 THEN description ELSE ?5 END, updated_at = ?6 "
        "WHERE id = ?1";
static const char SQL_CTAG_DELETE[] = "DELETE FROM commit_tags WHERE id = ?1";

static enum store_status commit_tag_create_run(struct store_conn *c, struct store_op *op)
{
	struct vers_commit_tag_create_op *o = (struct vers_commit_tag_create_op *)op;
	int64_t commit_row = 0;
	enum store_status ret = taggable_commit(c, o->org_id, o->commit_id, &commit_row);
	if (ret != STORE_OK)
		return ret;
	sqlite3_stmt *st = store_stmt(c, SQL_CTAG_INSERT);
	if (st == NULL)
		return STORE_ERROR;
	store_new_uuid(o->tag_id);
	store_bind_text(st, 1, o->tag_id);
	sqlite3_bind_int64(st, 2, o->org_id);
	store_bind_text(st, 3, o->tag_name);
	sqlite3_bind_int64(st, 4, commit_row);
	store_bind_text(st, 5, o->description);
	sqlite3_bind_int64(st, 6, clock_now_us());
	return store_step_done(st);
}

void vers_commit_tag_create_op_init(struct vers_commit_tag_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = commit_tag_create_run;
}

static enum store_status commit_tag_update_run(struct store_conn *c, struct store_op *op)
{
	struct vers_commit_tag_update_op *o = (struct vers_commit_tag_update_op *)op;
	int64_t tag_id = 0;
	enum store_status ret = row_by_id_text(c, SQL_CTAG_ROW, o->org_id, o->tag_name,
	                                       STORE_TAG_NOT_FOUND, &tag_id);
	if (ret != STORE_OK)
		return ret;
	return tag_apply(c, SQL_CTAG_UPDATE, o->org_id, tag_id, &o->patch);
}

void vers_commit_tag_update_op_init(struct vers_commit_tag_update_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = commit_tag_update_run;
}

static enum store_status commit_tag_delete_run(struct store_conn *c, struct store_op *op)
{
	struct vers_commit_tag_delete_op *o = (struct vers_commit_tag_delete_op *)op;
	int64_t tag_id = 0;
	enum store_status ret = row_by_id_text(c, SQL_CTAG_ROW, o->org_id, o->tag_name,
	                                       STORE_TAG_NOT_FOUND, &tag_id);
	if (ret != STORE_OK)
		return ret;
	sqlite3_stmt *st = store_stmt(c, SQL_CTAG_DELETE);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, tag_id);
	return store_step_done(st);
}

void vers_commit_tag_delete_op_init(struct vers_commit_tag_delete_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = commit_tag_delete_run;
}
