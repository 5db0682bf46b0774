/*
 * store_vers.c - Vers repositories, tags, commits and legacy commit tags: the
 * write operations (reads are in store_vers_read.c).
 * See store_vers.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store_internal.h"
#include "store_tag.h"
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
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, name) DO NOTHING";

/*
 * A statement of an INSERT ... ON CONFLICT DO NOTHING: a taken key is
 * STORE_CONFLICT having written nothing, which keeps the writer's batch
 * going without a savepoint (see store_writer.c).
 */
static enum store_status insert_new(struct db_stmt *st)
{
	enum store_status ret = store_step_done(st);
	if (ret == STORE_OK && db_changes(st->conn) == 0)
		ret = STORE_CONFLICT;
	return ret;
}

static enum store_status repo_create_run(struct store_conn *c, struct store_op *op)
{
	struct vers_repo_create_op *o = (struct vers_repo_create_op *)op;
	struct db_stmt *st = store_stmt(c, SQL_REPO_INSERT);
	if (st == NULL)
		return store_conn_error(c);
	store_new_uuid(o->repo_id);
	db_bind_text(st, 1, o->repo_id);
	db_bind_int(st, 2, o->org_id);
	db_bind_text(st, 3, o->name);
	db_bind_text(st, 4, o->description);
	db_bind_int(st, 5, clock_now_us());
	return insert_new(st);
}

void vers_repo_create_op_init(struct vers_repo_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = repo_create_run;
}

/* ---- commits ---- */

static const char SQL_COMMIT_INSERT[] =
        "INSERT INTO commits(uuid, org_id, name, description, is_public, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (uuid) DO NOTHING";
static const char SQL_ORG_UUID[] = "SELECT uuid FROM orgs WHERE id = $1";

static enum store_status commit_create_run(struct store_conn *c, struct store_op *op)
{
	struct vers_commit_create_op *o = (struct vers_commit_create_op *)op;
	struct vers_commit *out = &o->out;
	bool oom = false;

	vers_commit_release(out); /* a batch may be run again after a conflict */
	if (o->commit_id[0] == '\0')
		store_new_uuid(o->commit_id);
	struct db_stmt *st = store_stmt(c, SQL_COMMIT_INSERT);
	if (st == NULL)
		return store_conn_error(c);
	int64_t now = clock_now_us();
	const char *name = o->name ? o->name : o->commit_id;
	db_bind_text(st, 1, o->commit_id);
	db_bind_int(st, 2, o->org_id);
	db_bind_text(st, 3, name);
	db_bind_text(st, 4, o->description);
	db_bind_int(st, 5, o->is_public);
	db_bind_int(st, 6, now);
	enum store_status ret = insert_new(st);
	if (ret != STORE_OK)
		return ret;

	st = store_stmt(c, SQL_ORG_UUID);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, o->org_id);
	if (db_step(st) != DB_ROW) {
		db_reset(st);
		return STORE_ORG_NOT_FOUND;
	}
	store_column_copy(st, 0, out->owner_id, sizeof(out->owner_id));
	db_reset(st);

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

static const char SQL_REPO_ID[] = "SELECT id FROM repos WHERE org_id = $1 AND name = $2";
static const char SQL_COMMIT_OWNER[] =
        "SELECT id, org_id FROM commits WHERE uuid = $1 AND deleted_at IS NULL";
/* Row id of repository name in org, on the writer; STORE_REPO_NOT_FOUND when absent. */
static enum store_status repo_row(struct store_conn *c, int64_t org_id, const char *name,
                                  int64_t *id)
{
	struct db_stmt *st = store_stmt(c, SQL_REPO_ID);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	db_bind_text(st, 2, name);
	return store_step_id(st, STORE_REPO_NOT_FOUND, id);
}

/*
 * Row id of a live commit that org may tag: STORE_COMMIT_NOT_FOUND when it
 * does not exist or is deleted, STORE_FORBIDDEN when another org owns it.
 */
static enum store_status taggable_commit(struct store_conn *c, int64_t org_id, const char *uuid,
                                         int64_t *id)
{
	struct db_stmt *st = store_stmt(c, SQL_COMMIT_OWNER);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_text(st, 1, uuid);
	int rc = db_step(st);
	enum store_status ret = STORE_COMMIT_NOT_FOUND;
	if (rc == DB_ROW) {
		*id = db_col_int(st, 0);
		ret = db_col_int(st, 1) == org_id ? STORE_OK : STORE_FORBIDDEN;
	} else if (rc != DB_DONE) {
		ret = store_conn_error(c);
	}
	db_reset(st);
	return ret;
}

/* The where of repository tag tag_name, once repository name of org is found. */
static enum store_status repo_tag_where(struct store_conn *c, int64_t org_id, const char *repo,
                                        const char *tag, struct tag_where *w)
{
	*w = (struct tag_where){.scope = HISTORY_SCOPE_REPOSITORY,
	                        .org_id = org_id,
	                        .scope_name = repo,
	                        .tag = tag};
	return repo_row(c, org_id, repo, &w->key);
}

/* The where of legacy commit tag tag_name of org. */
static struct tag_where commit_tag_where(int64_t org_id, const char *tag)
{
	return (struct tag_where){.scope = HISTORY_SCOPE_COMMIT_TAGS,
	                          .org_id = org_id,
	                          .key = org_id,
	                          .scope_name = "",
	                          .tag = tag};
}

/* A TAG_CREATE of a Vers tag on commit uuid, which org must be allowed to tag. */
static enum store_status vers_tag_insert(struct store_conn *c, const struct tag_where *w,
                                         const char *commit_uuid, const char *description,
                                         const struct store_actor *actor, char *tag_id,
                                         int64_t *rev)
{
	struct tag_change ch = {.where = *w,
	                        .verb = TAG_CREATE,
	                        .desc = description ? STORE_DESC_SET : STORE_DESC_CLEAR,
	                        .description = description,
	                        .actor = actor};
	enum store_status ret = taggable_commit(c, w->org_id, commit_uuid, &ch.commit.row);
	if (ret != STORE_OK)
		return ret;
	snprintf(ch.commit.ref, sizeof(ch.commit.ref), "%s", commit_uuid);
	ret = store_tag_change(c, &ch);
	if (ret == STORE_OK) {
		memcpy(tag_id, ch.tag_id, STORE_UUID_LEN + 1);
		*rev = ch.rev;
	}
	return ret;
}

static enum store_status tag_create_run(struct store_conn *c, struct store_op *op)
{
	struct vers_tag_create_op *o = (struct vers_tag_create_op *)op;
	enum store_status locked = store_tag_lock(c, o->org_id);
	if (locked != STORE_OK)
		return locked;
	struct tag_where w;
	enum store_status ret = repo_tag_where(c, o->org_id, o->repo_name, o->tag_name, &w);
	if (ret != STORE_OK)
		return ret;
	return vers_tag_insert(c, &w, o->commit_id, o->description, &o->actor, o->tag_id, &o->rev);
}

void vers_tag_create_op_init(struct vers_tag_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = tag_create_run;
}

/* ---- repositories: delete, visibility ---- */

static const char SQL_REPO_DELETE[] = "DELETE FROM repos WHERE org_id = $1 AND name = $2";
static const char SQL_REPO_VISIBILITY[] =
        "UPDATE repos SET is_public = $3 WHERE org_id = $1 AND name = $2";

/* Run a statement on (org_id, name) that must change exactly one repository. */
static enum store_status repo_change(struct store_conn *c, const char *sql, int64_t org_id,
                                     const char *name, int extra, bool has_extra)
{
	struct db_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	db_bind_text(st, 2, name);
	if (has_extra)
		db_bind_int(st, 3, extra);
	enum store_status ret = store_step_done(st);
	if (ret == STORE_OK && db_changes(c) == 0)
		ret = STORE_REPO_NOT_FOUND;
	return ret;
}

/*
 * Each tag goes through the one path first, so each has its delete event;
 * the repository row goes last (ON DELETE CASCADE then finds nothing).
 */
static enum store_status repo_delete_run(struct store_conn *c, struct store_op *op)
{
	struct vers_repo_delete_op *o = (struct vers_repo_delete_op *)op;
	enum store_status locked = store_tag_lock(c, o->org_id);
	if (locked != STORE_OK)
		return locked;
	struct tag_where w;
	enum store_status ret = repo_tag_where(c, o->org_id, o->name, NULL, &w);
	if (ret == STORE_OK)
		ret = store_tag_delete_all(c, &w, &o->actor);
	if (ret != STORE_OK)
		return ret;
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

/* Where a TAG_SET moves a tag: the patch's commit, if org may tag it. */
static enum store_status patch_commit(struct store_conn *c, const struct tag_change *ch,
                                      struct tag_commit *out)
{
	const struct vers_tag_patch *p = ch->resolve_arg;
	enum store_status ret = taggable_commit(c, ch->where.org_id, p->commit_id, &out->row);
	if (ret == STORE_OK)
		snprintf(out->ref, sizeof(out->ref), "%s", p->commit_id);
	return ret;
}

/* A TAG_SET of where's tag as patch says. */
static enum store_status vers_tag_set(struct store_conn *c, const struct tag_where *w,
                                      const struct vers_tag_patch *patch,
                                      const struct store_expect *expect,
                                      const struct store_actor *actor, int64_t *rev)
{
	struct tag_change ch = {.where = *w,
	                        .verb = TAG_SET,
	                        .move = patch->move,
	                        .resolve = patch_commit,
	                        .resolve_arg = patch,
	                        .desc = patch->desc,
	                        .description = patch->description,
	                        .expect = expect,
	                        .actor = actor};
	enum store_status ret = store_tag_change(c, &ch);
	if (ret == STORE_OK)
		*rev = ch.rev;
	return ret;
}

static enum store_status vers_tag_remove(struct store_conn *c, const struct tag_where *w,
                                         const struct store_expect *expect,
                                         const struct store_actor *actor)
{
	struct tag_change ch = {.where = *w, .verb = TAG_DELETE, .expect = expect, .actor = actor};
	return store_tag_change(c, &ch);
}

static enum store_status tag_update_run(struct store_conn *c, struct store_op *op)
{
	struct vers_tag_update_op *o = (struct vers_tag_update_op *)op;
	enum store_status locked = store_tag_lock(c, o->org_id);
	if (locked != STORE_OK)
		return locked;
	struct tag_where w;
	enum store_status ret = repo_tag_where(c, o->org_id, o->repo_name, o->tag_name, &w);
	if (ret != STORE_OK)
		return ret;
	return vers_tag_set(c, &w, &o->patch, &o->expect, &o->actor, &o->rev);
}

void vers_tag_update_op_init(struct vers_tag_update_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = tag_update_run;
}

static enum store_status tag_delete_run(struct store_conn *c, struct store_op *op)
{
	struct vers_tag_delete_op *o = (struct vers_tag_delete_op *)op;
	enum store_status locked = store_tag_lock(c, o->org_id);
	if (locked != STORE_OK)
		return locked;
	struct tag_where w;
	enum store_status ret = repo_tag_where(c, o->org_id, o->repo_name, o->tag_name, &w);
	if (ret != STORE_OK)
		return ret;
	return vers_tag_remove(c, &w, &o->expect, &o->actor);
}

void vers_tag_delete_op_init(struct vers_tag_delete_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = tag_delete_run;
}

/* ---- commits: update, delete ---- */

static const char SQL_COMMIT_UPDATE[] =
        "UPDATE commits SET is_public = $2, name = coalesce($3, name), "
        "description = coalesce($4, description) WHERE id = $1";
static const char SQL_COMMIT_READ[] =
        "SELECT c.uuid, o.uuid, c.name, c.description, c.parent_vm_id, "
        "c.grandparent_commit_id, c.is_public, c.created_at "
        "FROM commits c JOIN orgs o ON o.id = c.org_id WHERE c.id = $1";
static const char SQL_COMMIT_DELETE[] = "UPDATE commits SET deleted_at = $2 WHERE id = $1";

/* Read commit row id into *out (owned). */
static enum store_status commit_read(struct store_conn *c, int64_t id, struct vers_commit *out)
{
	bool oom = false;
	struct db_stmt *st = store_stmt(c, SQL_COMMIT_READ);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? STORE_COMMIT_NOT_FOUND : store_conn_error(c);
	}
	store_column_copy(st, 0, out->commit_id, sizeof(out->commit_id));
	store_column_copy(st, 1, out->owner_id, sizeof(out->owner_id));
	out->name = store_column_dup(st, 2, &oom);
	out->description = store_column_dup(st, 3, &oom);
	out->parent_vm_id = store_column_dup(st, 4, &oom);
	out->grandparent_commit_id = store_column_dup(st, 5, &oom);
	out->is_public = db_col_int(st, 6) != 0;
	out->created_at = db_col_int(st, 7);
	db_reset(st);
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

	vers_commit_release(&o->out); /* a batch may be run again after a conflict */
	enum store_status ret = taggable_commit(c, o->org_id, o->commit_id, &row);
	if (ret != STORE_OK)
		return ret;
	struct db_stmt *st = store_stmt(c, SQL_COMMIT_UPDATE);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, row);
	db_bind_int(st, 2, o->is_public);
	db_bind_text(st, 3, o->name);
	db_bind_text(st, 4, o->description);
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
	struct db_stmt *st = store_stmt(c, SQL_COMMIT_DELETE);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, row);
	db_bind_int(st, 2, clock_now_us());
	return store_step_done(st);
}

void vers_commit_delete_op_init(struct vers_commit_delete_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = commit_delete_run;
}

/* ---- legacy commit tags ---- */

static enum store_status commit_tag_create_run(struct store_conn *c, struct store_op *op)
{
	struct vers_commit_tag_create_op *o = (struct vers_commit_tag_create_op *)op;
	enum store_status locked = store_tag_lock(c, o->org_id);
	if (locked != STORE_OK)
		return locked;
	struct tag_where w = commit_tag_where(o->org_id, o->tag_name);
	return vers_tag_insert(c, &w, o->commit_id, o->description, &o->actor, o->tag_id, &o->rev);
}

void vers_commit_tag_create_op_init(struct vers_commit_tag_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = commit_tag_create_run;
}

static enum store_status commit_tag_update_run(struct store_conn *c, struct store_op *op)
{
	struct vers_commit_tag_update_op *o = (struct vers_commit_tag_update_op *)op;
	enum store_status locked = store_tag_lock(c, o->org_id);
	if (locked != STORE_OK)
		return locked;
	struct tag_where w = commit_tag_where(o->org_id, o->tag_name);
	return vers_tag_set(c, &w, &o->patch, &o->expect, &o->actor, &o->rev);
}

void vers_commit_tag_update_op_init(struct vers_commit_tag_update_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = commit_tag_update_run;
}

static enum store_status commit_tag_delete_run(struct store_conn *c, struct store_op *op)
{
	struct vers_commit_tag_delete_op *o = (struct vers_commit_tag_delete_op *)op;
	enum store_status locked = store_tag_lock(c, o->org_id);
	if (locked != STORE_OK)
		return locked;
	struct tag_where w = commit_tag_where(o->org_id, o->tag_name);
	return vers_tag_remove(c, &w, &o->expect, &o->actor);
}

void vers_commit_tag_delete_op_init(struct vers_commit_tag_delete_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = commit_tag_delete_run;
}
