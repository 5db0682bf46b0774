/*
 * store_org.c - organizations and tokens.  See store_org.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "dynbuf.h"
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
	if (st == NULL) {
		ret = store_conn_error(c);
		goto out;
	}
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
	if (st == NULL) {
		ret = store_conn_error(c);
	} else {
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
		return STORE_UNAVAILABLE;
	struct db_stmt *st = store_stmt(c, SQL_TOKEN_LIST);
	if (st == NULL) {
		enum store_status why = store_conn_error(c);
		store_reader_release(s, c);
		return why;
	}
	db_bind_text(st, 1, org_name);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (dynbuf_array_reserve((void **)&list, &cap, count, sizeof(*list), SIZE_MAX) !=
		    DYNBUF_OK) {
			oom = true;
			break;
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

/*
 * Verified tokens, kept per thread (no lock on the request path).  An entry
 * is the token row and its organization as read at some token epoch (the
 * 0004_token_epoch migration of each backend); it is used only while the
 * epoch read in the request's own transaction is the same, so a revocation,
 * a change of expiry or label, or a change of the organization made by
 * anyone (another process, another node) is seen by the very next request.
 * The epoch is read before the row, so a row is never older than the epoch
 * it is kept under (also where each statement sees its own snapshot).
 * Expiry is checked against the clock on every use.  Names, project ids and
 * labels too long for an entry are simply not cached.  Direct-mapped by
 * public id: a collision costs a read, never a wrong answer (the id and
 * digest are compared).
 */
#define TOKEN_CACHE_SLOTS 32
#define TOKEN_CACHE_TEXT  160 /* project ids and labels are at most 128 bytes (cli.c) */

struct token_cache_entry {
	bool valid;
	int64_t epoch;
	char public_id[AUTH_PUBLIC_ID_LEN + 1];
	uint8_t digest[STORE_DIGEST_LEN]; /* the stored digest */
	int64_t org_id;
	int64_t expires_at; /* 0: never */
	int64_t last_used_at;
	enum token_scope scope; /* never changes after creation */
	bool has_project, has_label;
	char org_name[TOKEN_CACHE_TEXT];
	char project_id[TOKEN_CACHE_TEXT];
	char label[TOKEN_CACHE_TEXT];
};

static _Thread_local struct {
	uint64_t store_id; /* the store the entries are of */
	struct token_cache_entry slot[TOKEN_CACHE_SLOTS];
} token_cache;

/* The slot for public_id in this thread's cache of store s. */
static struct token_cache_entry *cache_slot(const struct store *s, const char *public_id)
{
	if (token_cache.store_id != s->id) {
		memset(&token_cache, 0, sizeof(token_cache));
		token_cache.store_id = s->id;
	}
	uint32_t h = 2166136261u; /* FNV-1a; the id is random already */
	for (const char *p = public_id; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return &token_cache.slot[h % TOKEN_CACHE_SLOTS];
}

/* Copy text (may be NULL) into an entry's field; false when it does not fit. */
static bool cache_text(char *field, bool *has, const char *text)
{
	size_t n = text ? strlen(text) : 0;
	if (n >= TOKEN_CACHE_TEXT)
		return false;
	if (has != NULL)
		*has = text != NULL;
	memcpy(field, text ? text : "", n + 1);
	return true;
}

/* A token row as the backend holds it (views, valid until the statement moves). */
struct token_row {
	const void *digest; /* STORE_DIGEST_LEN bytes, or NULL when the row has another size */
	int64_t org_id;
	int64_t expires_at;
	int64_t last_used_at;
	const char *org_name;
	const char *project_id;
	const char *label;
	enum token_scope scope;
	bool scope_known; /* false: a scope this tagd does not know */
};

/* Fill entry e from a row read at epoch; false (e invalid) when its texts do not fit. */
static bool cache_fill(struct token_cache_entry *e, const struct token_row *r,
                       const char *public_id, int64_t epoch)
{
	e->valid = strlen(public_id) <= AUTH_PUBLIC_ID_LEN && r->org_name != NULL &&
	           cache_text(e->org_name, NULL, r->org_name) &&
	           cache_text(e->project_id, &e->has_project, r->project_id) &&
	           cache_text(e->label, &e->has_label, r->label);
	if (!e->valid)
		return false;
	memcpy(e->digest, r->digest, STORE_DIGEST_LEN);
	e->org_id = r->org_id;
	e->expires_at = r->expires_at;
	e->last_used_at = r->last_used_at;
	e->scope = r->scope;
	snprintf(e->public_id, sizeof(e->public_id), "%s", public_id);
	e->epoch = epoch;
	return true;
}

/* True when a token with this stored digest and expiry lets digest in now. */
static bool token_lets_in(const void *stored, int64_t expires_at, const uint8_t *digest,
                          int64_t now)
{
	return stored != NULL && auth_digest_equal(stored, digest) &&
	       (expires_at == 0 || expires_at > now);
}

/* An identity of owned copies of the texts. */
static enum store_status identity_make(struct token_identity *out, const char *public_id,
                                       int64_t org_id, const char *org_name, const char *project_id,
                                       const char *label, enum token_scope scope)
{
	memset(out, 0, sizeof(*out));
	out->org_id = org_id;
	out->scope = scope;
	out->org_name = strdup(org_name ? org_name : "");
	out->project_id = project_id ? strdup(project_id) : NULL;
	out->label = label ? strdup(label) : NULL;
	snprintf(out->token_id, sizeof(out->token_id), "%s", public_id);
	if (out->org_name == NULL || (project_id && out->project_id == NULL) ||
	    (label && out->label == NULL)) {
		token_identity_release(out);
		return STORE_NOMEM;
	}
	return STORE_OK;
}

static const char SQL_TOKEN_EPOCH[] = "SELECT epoch FROM token_epoch"; /* one row */

static const char SQL_TOKEN_VERIFY[] =
        "SELECT t.digest, t.org_id, o.name, t.expires_at, t.last_used_at, o.project_id, "
        "t.label, t.scope "
        "FROM tokens t "
        "JOIN orgs o ON o.id = t.org_id WHERE t.public_id = $1 AND t.revoked_at IS NULL";

static void token_row_view(struct db_stmt *st, struct token_row *r)
{
	r->digest = db_col_bytes(st, 0) == STORE_DIGEST_LEN ? db_col_blob(st, 0) : NULL;
	r->org_id = db_col_int(st, 1);
	r->org_name = db_col_text(st, 2);
	r->expires_at = db_col_int(st, 3);
	r->last_used_at = db_col_int(st, 4);
	r->project_id = db_col_text(st, 5);
	r->label = db_col_text(st, 6);
	r->scope_known = token_scope_parse(db_col_text(st, 7), &r->scope);
}

/*
 * The token row of public_id on c into entry e, read at epoch.  On a row
 * whose texts do not fit an entry, the check is made from the row itself
 * (*answered set, *ret its result).
 */
static enum store_status token_read(struct store_conn *c, const char *public_id, int64_t epoch,
                                    const uint8_t *digest, int64_t now, struct token_cache_entry *e,
                                    struct token_identity *out, bool *answered, int64_t *last_used)
{
	enum store_status ret = STORE_NOT_FOUND;

	e->valid = false;
	*answered = false;
	struct db_stmt *st = store_stmt(c, SQL_TOKEN_VERIFY);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_text(st, 1, public_id);
	enum db_rc rc = db_step(st);
	if (rc == DB_ROW) {
		struct token_row r;
		token_row_view(st, &r);
		*last_used = r.last_used_at;
		if (!r.scope_known) {
			ret = STORE_CORRUPT; /* a scope this tagd does not know: never let it in */
		} else if (r.digest != NULL && cache_fill(e, &r, public_id, epoch)) {
			ret = STORE_OK;
		} else {
			*answered = true; /* too long to cache: answered from the row itself */
			ret = token_lets_in(r.digest, r.expires_at, digest, now)
			              ? identity_make(out, public_id, r.org_id, r.org_name,
			                              r.project_id, r.label, r.scope)
			              : STORE_NOT_FOUND;
		}
	} else if (rc != DB_DONE) {
		ret = store_conn_error(c);
	}
	db_reset(st);
	return ret;
}

/* The token epoch, read on c in the request's transaction (its read scope, on SQLite). */
static enum store_status epoch_read(struct store *s, struct store_conn *c, int64_t *epoch)
{
	enum store_status ret = s->be->read_scopes ? store_read_begin(c) : STORE_OK;
	struct db_stmt *st = ret == STORE_OK ? store_stmt(c, SQL_TOKEN_EPOCH) : NULL;
	if (st != NULL)
		ret = store_step_id(st, STORE_ERROR, epoch);
	else if (ret == STORE_OK)
		ret = store_conn_error(c);
	return ret;
}

enum store_status store_token_verify(struct store *s, const char *public_id,
                                     const uint8_t digest[STORE_DIGEST_LEN],
                                     struct token_identity *out)
{
	int64_t now = clock_now_us(), epoch = 0, last_used = 0;
	bool answered = false;
	enum store_status ret = STORE_OK;

	/*
	 * The epoch first: told by the database (PostgreSQL's listener; then a
	 * cached token needs no query at all), else read; then the row if the
	 * cache has no entry of this epoch.
	 */
	bool told = s->be->token_epoch != NULL && s->be->token_epoch(s, &epoch);
	struct store_conn *c = NULL;
	if (!told) {
		c = store_reader(s);
		if (c == NULL)
			return STORE_UNAVAILABLE;
		ret = epoch_read(s, c, &epoch);
	}
	struct token_cache_entry *e = cache_slot(s, public_id);
	bool hit = ret == STORE_OK && e->valid && e->epoch == epoch &&
	           strcmp(e->public_id, public_id) == 0;
	if (ret == STORE_OK && !hit) {
		if (c == NULL && (c = store_reader(s)) == NULL)
			return STORE_UNAVAILABLE;
		ret = token_read(c, public_id, epoch, digest, now, e, out, &answered, &last_used);
		hit = ret == STORE_OK && !answered;
	}
	if (hit) {
		ret = token_lets_in(e->digest, e->expires_at, digest, now)
		              ? identity_make(out, public_id, e->org_id, e->org_name,
		                              e->has_project ? e->project_id : NULL,
		                              e->has_label ? e->label : NULL, e->scope)
		              : STORE_NOT_FOUND;
		last_used = e->last_used_at;
	}
	store_reader_release(s, c);
	if (ret == STORE_OK) {
		token_touch(s, public_id, last_used, now);
		/* A write is queued, or was claimed this minute: no need to try again before. */
		if (hit && now - e->last_used_at >= STORE_TOUCH_INTERVAL_US)
			e->last_used_at = now;
	}
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
		return STORE_UNAVAILABLE;
	struct db_stmt *st = store_stmt(c, SQL_ORG_LIST);
	if (st == NULL) {
		enum store_status why = store_conn_error(c);
		store_reader_release(s, c);
		return why;
	}
	db_bind_int(st, 1, clock_now_us());
	while ((rc = db_step(st)) == DB_ROW) {
		if (dynbuf_array_reserve((void **)&list, &cap, count, sizeof(*list), SIZE_MAX) !=
		    DYNBUF_OK) {
			oom = true;
			break;
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
