/*
 * store_vers.c - Vers repositories, tags and commits: the write operations.
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
	int rc = sqlite3_step(st);
	enum store_status ret = STORE_REPO_NOT_FOUND;
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		ret = STORE_OK;
	} else if (rc != SQLITE_DONE) {
		ret = store_status_from_sqlite(sqlite3_extended_errcode(c->db));
	}
	sqlite3_reset(st);
	return ret;
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
		ret = store_status_from_sqlite(sqlite3_extended_errcode(c->db));
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
