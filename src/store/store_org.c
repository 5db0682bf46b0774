/*
 * store_org.c - organizations and tokens.  See store_org.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "store_internal.h"
#include "store_org.h"

void org_release(struct org *o)
{
	free(o->name);
	free(o->project_id);
	o->name = o->project_id = NULL;
}

static const char SQL_ORG_INSERT[] =
        "INSERT INTO orgs(uuid, name, project_id, created_at) VALUES ($1, $2, $3, $4) "
        "RETURNING id";

static enum store_status org_create_run(struct store_conn *c, struct store_op *op)
{
	struct org_create_op *o = (struct org_create_op *)op;
	struct db_stmt *st = store_stmt(c, SQL_ORG_INSERT);
	if (st == NULL)
		return store_conn_error(c);
	store_new_uuid(o->uuid);
	db_bind_text(st, 1, o->uuid);
	db_bind_text(st, 2, o->name);
	db_bind_text(st, 3, o->project_id);
	db_bind_int(st, 4, clock_now_us());
	return store_step_id(st, STORE_ERROR, &o->org_id);
}

void org_create_op_init(struct org_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = org_create_run;
}

static const char SQL_ORG_BY_NAME[] =
        "SELECT id, uuid, name, project_id, created_at FROM orgs WHERE name = $1";
static const char SQL_ORG_BY_PROJECT[] =
        "SELECT id, uuid, name, project_id, created_at FROM orgs WHERE project_id = $1";

static enum store_status org_lookup(struct store *s, const char *sql, const char *key,
                                    struct org *out)
{
	struct store_conn *c = store_reader(s);
	enum store_status ret = STORE_ERROR;
	bool oom = false;

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return STORE_UNAVAILABLE;
	struct db_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		goto out;
	db_bind_text(st, 1, key);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		out->id = db_col_int(st, 0);
		store_column_copy(st, 1, out->uuid, sizeof(out->uuid));
		out->name = store_column_dup(st, 2, &oom);
		out->project_id = store_column_dup(st, 3, &oom);
		out->created_at = db_col_int(st, 4);
		ret = oom ? STORE_NOMEM : STORE_OK;
		if (oom)
			org_release(out);
	} else if (rc == DB_DONE) {
		ret = STORE_ORG_NOT_FOUND;
	} else {
		ret = store_conn_error(c);
	}
	db_reset(st);
out:
	store_reader_release(s, c);
	return ret;
}

enum store_status store_org_by_name(struct store *s, const char *name, struct org *out)
{
	return org_lookup(s, SQL_ORG_BY_NAME, name, out);
}

enum store_status store_org_by_project(struct store *s, const char *project_id, struct org *out)
{
	return org_lookup(s, SQL_ORG_BY_PROJECT, project_id, out);
}

static const char SQL_ORG_COUNT[] = "SELECT count(*) FROM orgs";

enum store_status store_org_count(struct store *s, int64_t *out)
{
	struct store_conn *c = store_reader(s);
	enum store_status ret = STORE_ERROR;

	if (c == NULL)
		return STORE_UNAVAILABLE;
	struct db_stmt *st = store_stmt(c, SQL_ORG_COUNT);
	if (st != NULL) {
		if (db_step(st) == DB_ROW) {
			*out = db_col_int(st, 0);
			ret = STORE_OK;
		} else {
			ret = store_conn_error(c);
		}
		db_reset(st);
	}
	store_reader_release(s, c);
	return ret;
}

static const char SQL_ORG_ID[] = "SELECT id FROM orgs WHERE name = $1";

/* The id of org name on the writer's connection; STORE_ORG_NOT_FOUND when absent. */
static enum store_status org_id_of(struct store_conn *c, const char *name, int64_t *id)
{
	struct db_stmt *st = store_stmt(c, SQL_ORG_ID);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_text(st, 1, name);
	return store_step_id(st, STORE_ORG_NOT_FOUND, id);
}

static const char SQL_TOKEN_INSERT[] =
        "INSERT INTO tokens(org_id, public_id, digest, label, created_at, expires_at, scope) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)";

static enum store_status token_create_run(struct store_conn *c, struct store_op *op)
{
	struct token_create_op *o = (struct token_create_op *)op;
	int64_t org_id = 0;
	if (o->scope == TOKEN_SCOPE_NONE)
		return STORE_INVALID;
	enum store_status ret = org_id_of(c, o->org_name, &org_id);
	if (ret != STORE_OK)
		return ret;
	struct db_stmt *st = store_stmt(c, SQL_TOKEN_INSERT);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	db_bind_text(st, 2, o->public_id);
	db_bind_blob(st, 3, o->digest, STORE_DIGEST_LEN);
	db_bind_text(st, 4, o->label);
	db_bind_int(st, 5, clock_now_us());
	if (o->expires_at > 0)
		db_bind_int(st, 6, o->expires_at);
	db_bind_text(st, 7, token_scope_name(o->scope));
	return store_step_done(st);
}

void token_create_op_init(struct token_create_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = token_create_run;
}

static const char SQL_TOKEN_REVOKE[] =
        "UPDATE tokens SET revoked_at = $3 WHERE public_id = $2 AND revoked_at IS NULL "
        "AND org_id = $1";

static enum store_status token_revoke_run(struct store_conn *c, struct store_op *op)
{
	struct token_revoke_op *o = (struct token_revoke_op *)op;
	int64_t org_id = 0;
	enum store_status ret = org_id_of(c, o->org_name, &org_id);
	if (ret != STORE_OK)
		return ret;
	struct db_stmt *st = store_stmt(c, SQL_TOKEN_REVOKE);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	db_bind_text(st, 2, o->public_id);
	db_bind_int(st, 3, clock_now_us());
	ret = store_step_done(st);
	if (ret == STORE_OK && db_changes(c) == 0)
		ret = STORE_NOT_FOUND;
	return ret;
}

void token_revoke_op_init(struct token_revoke_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = token_revoke_run;
}

static const char SQL_TOKEN_LIST[] =
        "SELECT t.public_id, t.label, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, "
        "t.scope FROM tokens t JOIN orgs o ON o.id = t.org_id WHERE o.name = $1 ORDER BY t.id";

void token_list_free(struct token_info *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i].label);
	free(list);
}

enum store_status store_token_list(struct store *s, const char *org_name, struct token_info **out,
                                   size_t *n)
{
	struct org org;
	enum store_status ret = store_org_by_name(s, org_name, &org);
	if (ret != STORE_OK)
		return ret;
	org_release(&org);

	struct store_conn *c = store_reader(s);
	struct token_info *list = NULL;
	size_t count = 0, cap = 0;
	bool oom = false;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	struct db_stmt *st = store_stmt(c, SQL_TOKEN_LIST);
	if (st == NULL) {
		store_reader_release(s, c);
		return STORE_ERROR;
	}
	db_bind_text(st, 1, org_name);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct token_info *grown = realloc(list, ncap * sizeof(*list));
			if (grown == NULL) {
				oom = true;
				break;
			}
			list = grown, cap = ncap;
		}
		struct token_info *t = &list[count++];
		memset(t, 0, sizeof(*t));
		store_column_copy(st, 0, t->public_id, sizeof(t->public_id));
		t->label = store_column_dup(st, 1, &oom);
		t->created_at = db_col_int(st, 2);
		t->expires_at = db_col_int(st, 3);
		t->last_used_at = db_col_int(st, 4);
		t->revoked_at = db_col_int(st, 5);
		if (!token_scope_parse(db_col_text(st, 6), &t->scope))
			t->scope = TOKEN_SCOPE_NONE; /* shown as "none": it can do nothing */
	}
	if (!oom && rc != DB_DONE)
		ret = store_conn_error(c);
	db_reset(st);
	store_reader_release(s, c);
	if (oom)
		ret = STORE_NOMEM;
	if (ret != STORE_OK) {
		token_list_free(list, count);
		return ret;
	}
	*out = list;
	*n = count;
	return STORE_OK;
}

static const char SQL_TOKEN_TOUCH[] = "UPDATE tokens SET last_used_at = $2 WHERE public_id = $1 "
                                      "AND (last_used_at IS NULL OR last_used_at < $2)";

/* Writes a token's last use; submitted without waiting and freed when done. */
struct token_touch_op {
	struct store_op op;
	char public_id[AUTH_PUBLIC_ID_LEN + 1];
	int64_t at;
};

static enum store_status token_touch_run(struct store_conn *c, struct store_op *op)
{
	struct token_touch_op *o = (struct token_touch_op *)op;
	struct db_stmt *st = store_stmt(c, SQL_TOKEN_TOUCH);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_text(st, 1, o->public_id);
	db_bind_int(st, 2, o->at);
	return store_step_done(st);
}

static void token_touch_done(struct store_op *op)
{
	free(op);
}

/*
 * Record a use of public_id at now, if its stored last use is older than the
 * throttle interval and no other request claimed the write already.  A lost
 * write (no memory) only leaves last_used_at a little older.
 */
static void token_touch(struct store *s, const char *public_id, int64_t last_used, int64_t now)
{
	if (now - last_used < STORE_TOUCH_INTERVAL_US || strlen(public_id) > AUTH_PUBLIC_ID_LEN ||
	    !store_touch_claim(s, public_id, now))
		return;
	struct token_touch_op *o = calloc(1, sizeof(*o));
	if (o == NULL)
		return;
	o->op.run = token_touch_run;
	o->op.done = token_touch_done;
	strcpy(o->public_id, public_id);
	o->at = now;
	store_submit(s, &o->op);
}

void token_identity_release(struct token_identity *id)
{
	free(id->org_name);
	free(id->project_id);
	free(id->label);
	id->org_name = id->project_id = id->label = NULL;
}

static const char SQL_TOKEN_VERIFY[] =
        "SELECT t.digest, t.org_id, o.name, t.expires_at, t.last_used_at, o.project_id, "
        "t.label, t.scope "
        "FROM tokens t "
        "JOIN orgs o ON o.id = t.org_id WHERE t.public_id = $1 AND t.revoked_at IS NULL";

enum store_status store_token_verify(struct store *s, const char *public_id,
                                     const uint8_t digest[STORE_DIGEST_LEN],
                                     struct token_identity *out)
{
	struct store_conn *c = store_reader(s);
	enum store_status ret = STORE_NOT_FOUND;
	bool oom = false;
	int64_t now = clock_now_us(), last_used = 0;

	if (c == NULL)
		return STORE_UNAVAILABLE;
	struct db_stmt *st = store_stmt(c, SQL_TOKEN_VERIFY);
	if (st == NULL) {
		store_reader_release(s, c);
		return STORE_ERROR;
	}
	db_bind_text(st, 1, public_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const void *stored = db_col_blob(st, 0);
		int64_t expires = db_col_int(st, 3);
		bool live = expires == 0 || expires > now;
		last_used = db_col_int(st, 4);
		if (stored != NULL && db_col_bytes(st, 0) == STORE_DIGEST_LEN &&
		    auth_digest_equal(stored, digest) && live) {
			memset(out, 0, sizeof(*out));
			out->org_id = db_col_int(st, 1);
			out->org_name = store_column_dup(st, 2, &oom);
			out->project_id = store_column_dup(st, 5, &oom);
			out->label = store_column_dup(st, 6, &oom);
			snprintf(out->token_id, sizeof(out->token_id), "%s", public_id);
			bool known = token_scope_parse(db_col_text(st, 7), &out->scope);
			ret = oom ? STORE_NOMEM : known ? STORE_OK : STORE_CORRUPT;
			if (ret != STORE_OK)
				token_identity_release(out);
		}
	} else if (rc != DB_DONE) {
		ret = store_conn_error(c);
	}
	db_reset(st);
	store_reader_release(s, c);
	if (ret == STORE_OK)
		token_touch(s, public_id, last_used, now);
	return ret;
}

/* ---- the list of organizations ---- */

static const char SQL_ORG_LIST[] =
        "SELECT o.id, o.uuid, o.name, o.project_id, o.created_at, "
        "(SELECT count(*) FROM tokens t WHERE t.org_id = o.id AND t.revoked_at IS NULL "
        "AND (t.expires_at IS NULL OR t.expires_at > $1)) "
        "FROM orgs o ORDER BY o.name";

void org_list_free(struct org_summary **listp, size_t n)
{
	struct org_summary *list = *listp;
	for (size_t i = 0; list != NULL && i < n; i++)
		org_release(&list[i].org);
	free(list);
	*listp = NULL;
}

enum store_status store_org_list(struct store *s, struct org_summary **out, size_t *n)
{
	struct store_conn *c = store_reader(s);
	struct org_summary *list = NULL;
	size_t count = 0, cap = 0;
	bool oom = false;
	enum store_status ret = STORE_OK;
	int rc;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	struct db_stmt *st = store_stmt(c, SQL_ORG_LIST);
	if (st == NULL) {
		store_reader_release(s, c);
		return STORE_ERROR;
	}
	db_bind_int(st, 1, clock_now_us());
	while ((rc = db_step(st)) == DB_ROW) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct org_summary *grown = realloc(list, ncap * sizeof(*list));
			if (grown == NULL) {
				oom = true;
				break;
			}
			list = grown, cap = ncap;
		}
		struct org_summary *e = &list[count++];
		memset(e, 0, sizeof(*e));
		e->org.id = db_col_int(st, 0);
		store_column_copy(st, 1, e->org.uuid, sizeof(e->org.uuid));
		e->org.name = store_column_dup(st, 2, &oom);
		e->org.project_id = store_column_dup(st, 3, &oom);
		e->org.created_at = db_col_int(st, 4);
		e->live_tokens = db_col_int(st, 5);
		if (oom)
			break;
	}
	if (oom)
		ret = STORE_NOMEM;
	else if (rc != DB_DONE)
		ret = store_conn_error(c);
	db_reset(st);
	store_reader_release(s, c);
	if (ret != STORE_OK) {
		org_list_free(&list, count);
		return ret;
	}
	*out = list;
	*n = count;
	return STORE_OK;
}
