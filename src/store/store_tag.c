/*
 * store_tag.c - the one place a tag changes, and the history events every
 * change appends.  See store_tag.h and history.h.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store_rule_internal.h"
#include "store_tag.h"

/* ---- the three tag tables, one shape ---- */

/*
 * Per scope: find a tag by (key, name) as (id, uuid, commit row, commit ref,
 * description, rev), locking its row; insert ($1 uuid, $2 key, $3 name, $4
 * commit, $5 description, $6 now, $7 rev; ServiceStage tags have no uuid, so
 * theirs start at $1 = key); update commit, description, updated_at and rev
 * by id ($1 id, $2 commit, $3 description, $4 now, $5 rev; ServiceStage: no
 * updated_at, rev is $4); delete by id; a commit's ref by row; names after
 * $2 (for deleting them all in bounded steps).
 */
struct tag_sql {
	const char *find;
	const char *insert;
	const char *update;
	const char *del;
	const char *commit_ref;
	const char *names_after; /* $1 key, $2 after, $3 limit */
};

static const struct tag_sql tag_sql[] = {
        [HISTORY_SCOPE_REPOSITORY] =
                {
                        .find = "SELECT t.id, t.uuid, t.commit_id, c.uuid, t.description, t.rev "
                                "FROM repo_tags t JOIN commits c ON c.id = t.commit_id "
                                "WHERE t.repo_id = $1 AND t.name = $2 FOR UPDATE OF t",
                        .insert = "INSERT INTO repo_tags(uuid, repo_id, name, commit_id, "
                                  "description, created_at, updated_at, rev) "
                                  "VALUES ($1, $2, $3, $4, $5, $6, $6, $7) "
                                  "ON CONFLICT (repo_id, name) DO NOTHING",
                        .update = "UPDATE repo_tags SET commit_id = $2, description = $3, "
                                  "updated_at = $4, rev = $5 WHERE id = $1",
                        .del = "DELETE FROM repo_tags WHERE id = $1",
                        .commit_ref = "SELECT uuid FROM commits WHERE id = $1",
                        .names_after = "SELECT name FROM repo_tags WHERE repo_id = $1 "
                                       "AND name > $2 ORDER BY name LIMIT $3",
                },
        [HISTORY_SCOPE_COMMIT_TAGS] =
                {
                        .find = "SELECT t.id, t.uuid, t.commit_id, c.uuid, t.description, t.rev "
                                "FROM commit_tags t JOIN commits c ON c.id = t.commit_id "
                                "WHERE t.org_id = $1 AND t.name = $2 FOR UPDATE OF t",
                        .insert = "INSERT INTO commit_tags(uuid, org_id, name, commit_id, "
                                  "description, created_at, updated_at, rev) "
                                  "VALUES ($1, $2, $3, $4, $5, $6, $6, $7) "
                                  "ON CONFLICT (org_id, name) DO NOTHING",
                        .update = "UPDATE commit_tags SET commit_id = $2, description = $3, "
                                  "updated_at = $4, rev = $5 WHERE id = $1",
                        .del = "DELETE FROM commit_tags WHERE id = $1",
                        .commit_ref = "SELECT uuid FROM commits WHERE id = $1",
                        .names_after = "SELECT name FROM commit_tags WHERE org_id = $1 "
                                       "AND name > $2 ORDER BY name LIMIT $3",
                },
        /* ServiceStage tags have no UUID and cannot be edited: uuid and update go unused. */
        [HISTORY_SCOPE_SERVICESTAGE] =
                {
                        .find = "SELECT t.id, NULL, t.commit_id, c.sha, t.message, t.rev "
                                "FROM ss_tags t JOIN ss_commits c ON c.id = t.commit_id "
                                "WHERE t.project_id = $1 AND t.name = $2 FOR UPDATE OF t",
                        .insert = "INSERT INTO ss_tags(project_id, name, commit_id, message, "
                                  "created_at, rev) VALUES ($1, $2, $3, coalesce($4, ''), $5, $6) "
                                  "ON CONFLICT (project_id, name) DO NOTHING",
                        .update = "UPDATE ss_tags SET commit_id = $2, "
                                  "message = coalesce($3, ''), rev = $4 WHERE id = $1",
                        .del = "DELETE FROM ss_tags WHERE id = $1",
                        .commit_ref = "SELECT sha FROM ss_commits WHERE id = $1",
                        .names_after = "SELECT name FROM ss_tags WHERE project_id = $1 "
                                       "AND name > $2 ORDER BY name LIMIT $3",
                },
};

/* A tag row as it is before the change. */
struct tag_row {
	int64_t id;
	char uuid[STORE_UUID_LEN + 1];
	struct tag_commit commit;
	char *description; /* owned */
	int64_t rev;
};

/* Find where's tag: STORE_OK with *row, STORE_TAG_NOT_FOUND, or a failure. */
static enum store_status tag_find(struct store_conn *c, const struct tag_where *w,
                                  struct tag_row *row)
{
	struct db_stmt *st = store_stmt(c, tag_sql[w->scope].find);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, w->key);
	db_bind_text(st, 2, w->tag);
	int rc = db_step(st);
	enum store_status ret = STORE_TAG_NOT_FOUND;
	if (rc == DB_ROW) {
		bool oom = false;
		row->id = db_col_int(st, 0);
		store_column_copy(st, 1, row->uuid, sizeof(row->uuid));
		row->commit.row = db_col_int(st, 2);
		store_column_copy(st, 3, row->commit.ref, sizeof(row->commit.ref));
		row->description = store_column_dup(st, 4, &oom);
		row->rev = db_col_int(st, 5);
		ret = oom ? STORE_NOMEM : STORE_OK;
	} else if (rc != DB_DONE) {
		ret = store_conn_error(c);
	}
	db_reset(st);
	return ret;
}

/* Fill commit->ref from its row when the caller left it empty. */
static enum store_status commit_ref(struct store_conn *c, enum history_scope scope,
                                    struct tag_commit *commit)
{
	if (commit->ref[0] != '\0')
		return STORE_OK;
	struct db_stmt *st = store_stmt(c, tag_sql[scope].commit_ref);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, commit->row);
	int rc = db_step(st);
	enum store_status ret = STORE_COMMIT_NOT_FOUND;
	if (rc == DB_ROW) {
		store_column_copy(st, 0, commit->ref, sizeof(commit->ref));
		ret = STORE_OK;
	} else if (rc != DB_DONE) {
		ret = store_conn_error(c);
	}
	db_reset(st);
	return ret;
}

static bool expect_met(const struct store_expect *e, bool exists, int64_t rev)
{
	if (e == NULL)
		return true;
	switch (e->kind) {
	case STORE_EXPECT_NOTHING:
		return true;
	case STORE_EXPECT_ANY:
		return exists;
	case STORE_EXPECT_ABSENT:
		return !exists;
	case STORE_EXPECT_REVS:
		for (size_t i = 0; exists && i < e->n && i < STORE_EXPECT_MAX; i++)
			if (e->revs[i] == rev)
				return true;
		return false;
	}
	return false;
}

static bool same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* ---- the chain ---- */

/*
 * The head is the last event; once retention pruned them all, the
 * checkpoint it left.  One writer holds the chain on SQLite, so reading the
 * head and appending are never raced.
 */
static const char SQL_HEAD[] =
        "SELECT seq, hash FROM events WHERE org_id = $1 ORDER BY seq DESC LIMIT 1";
static const char SQL_FLOOR[] = "SELECT seq, hash FROM event_floors WHERE org_id = $1";
static const char SQL_EVENT_INSERT[] =
        "INSERT INTO events(org_id, seq, uuid, at, dialect, scope_kind, scope, tag, action, "
        "previous_seq, commit_ref, previous_commit_ref, description_changed, description, "
        "previous_description, token_id, token_label, request_id, previous_hash, hash, "
        "rule_pattern, rule_mode) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
        "$18, $19, $20, $21, $22)";
static const char SQL_TOMBSTONE[] = "SELECT seq FROM event_tombstones WHERE org_id = $1 AND "
                                    "scope_kind = $2 AND scope = $3 AND tag = $4";
static const char SQL_TOMBSTONE_SET[] =
        "INSERT INTO event_tombstones(org_id, scope_kind, scope, tag, seq) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (org_id, scope_kind, scope, tag) DO UPDATE SET seq = excluded.seq";
static const char SQL_TOMBSTONE_DROP[] = "DELETE FROM event_tombstones WHERE org_id = $1 AND "
                                         "scope_kind = $2 AND scope = $3 AND tag = $4";

static const uint8_t zero_hash[HISTORY_HASH_LEN];

/* Read a (seq, hash) row of sql keyed by org_id; *found false when there is none. */
static enum store_status seq_hash(struct store_conn *c, const char *sql, int64_t org_id,
                                  int64_t *seq, uint8_t hash[HISTORY_HASH_LEN], bool *found)
{
	struct db_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	int rc = db_step(st);
	enum store_status ret = STORE_OK;
	*found = rc == DB_ROW;
	if (rc == DB_ROW) {
		*seq = db_col_int(st, 0);
		if (db_col_bytes(st, 1) == HISTORY_HASH_LEN)
			memcpy(hash, db_col_blob(st, 1), HISTORY_HASH_LEN);
		else
			ret = STORE_CORRUPT;
	} else if (rc != DB_DONE) {
		ret = store_conn_error(c);
	}
	db_reset(st);
	return ret;
}

/* The chain's head of org_id: the last sequence number and hash (0 and zeros when none). */
static enum store_status head_read(struct store_conn *c, int64_t org_id, int64_t *seq,
                                   uint8_t hash[HISTORY_HASH_LEN])
{
	if (c->chain.org_id == org_id && c->chain.head_known) {
		*seq = c->chain.head_seq;
		memcpy(hash, c->chain.head_hash, HISTORY_HASH_LEN);
		return STORE_OK;
	}
	bool found;
	*seq = 0;
	memcpy(hash, zero_hash, HISTORY_HASH_LEN);
	enum store_status ret = seq_hash(c, SQL_HEAD, org_id, seq, hash, &found);
	if (ret == STORE_OK && !found)
		ret = seq_hash(c, SQL_FLOOR, org_id, seq, hash, &found);
	return ret;
}

/* ev, just written, is org_id's head now: remember it while the chain is held. */
static void head_moved(struct store_conn *c, int64_t org_id, const struct history_event *ev)
{
	if (c->chain.org_id != org_id || !c->chain.locked)
		return;
	c->chain.head_known = true;
	c->chain.head_seq = ev->seq;
	memcpy(c->chain.head_hash, ev->hash, HISTORY_HASH_LEN);
}

/* Write ev, whose seq and previous_hash follow the head just read. */
static enum store_status event_write(struct store_conn *c, int64_t org_id, struct history_event *ev)
{
	store_new_uuid(ev->id);
	if (!history_seal(ev))
		return STORE_NOMEM;

	struct db_stmt *st = store_stmt(c, SQL_EVENT_INSERT);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	db_bind_int(st, 2, ev->seq);
	db_bind_text(st, 3, ev->id);
	db_bind_int(st, 4, ev->at);
	db_bind_text(st, 5, history_dialect_name(ev->dialect));
	db_bind_text(st, 6, history_scope_name(ev->scope));
	db_bind_text(st, 7, ev->scope_name);
	db_bind_text(st, 8, ev->tag != NULL ? ev->tag : ""); /* rule events name no tag */
	db_bind_text(st, 9, history_action_name(ev->action));
	if (ev->previous_seq > 0)
		db_bind_int(st, 10, ev->previous_seq);
	db_bind_text(st, 11, ev->commit_id);
	db_bind_text(st, 12, ev->previous_commit_id);
	db_bind_int(st, 13, ev->description_changed);
	db_bind_text(st, 14, ev->description_changed ? ev->description : NULL);
	db_bind_text(st, 15, ev->description_changed ? ev->previous_description : NULL);
	db_bind_text(st, 16, ev->token_id);
	db_bind_text(st, 17, ev->token_label);
	db_bind_text(st, 18, ev->request_id);
	db_bind_blob(st, 19, ev->previous_hash, HISTORY_HASH_LEN);
	db_bind_blob(st, 20, ev->hash, HISTORY_HASH_LEN);
	db_bind_text(st, 21, ev->rule_pattern);
	db_bind_text(st, 22, ev->rule_mode);
	enum store_status ret = store_step_done(st);
	if (ret == STORE_OK)
		head_moved(c, org_id, ev);
	return ret;
}

enum store_status store_event_append(struct store_conn *c, int64_t org_id, struct history_event *ev)
{
	int64_t seq;
	enum store_status ret = head_read(c, org_id, &seq, ev->previous_hash);
	if (ret != STORE_OK)
		return ret;
	ev->seq = seq + 1;
	return event_write(c, org_id, ev);
}

/*
 * A tag name's tombstone: bind (org, scope kind, scope, tag) to a statement
 * of the three above; with seq > 0 also $5.
 */
static struct db_stmt *tombstone_stmt(struct store_conn *c, const char *sql,
                                      const struct tag_where *w)
{
	struct db_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		return NULL;
	db_bind_int(st, 1, w->org_id);
	db_bind_text(st, 2, history_scope_name(w->scope));
	db_bind_text(st, 3, w->scope_name);
	db_bind_text(st, 4, w->tag);
	return st;
}

/* The seq of the delete that ended where's name last, 0 when it has none. */
static enum store_status tombstone_find(struct store_conn *c, const struct tag_where *w,
                                        int64_t *seq)
{
	struct db_stmt *st = tombstone_stmt(c, SQL_TOMBSTONE, w);
	if (st == NULL)
		return store_conn_error(c);
	int rc = db_step(st);
	*seq = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? STORE_OK : store_conn_error(c);
}

/* A create takes the name's tombstone away; a delete leaves one at its own event. */
static enum store_status tombstone_write(struct store_conn *c, const struct tag_where *w,
                                         enum tag_verb verb, int64_t had, int64_t seq)
{
	struct db_stmt *st;
	if (verb == TAG_DELETE) {
		st = tombstone_stmt(c, SQL_TOMBSTONE_SET, w);
		if (st != NULL)
			db_bind_int(st, 5, seq);
	} else if (verb == TAG_CREATE && had > 0) {
		st = tombstone_stmt(c, SQL_TOMBSTONE_DROP, w);
	} else {
		return STORE_OK;
	}
	return st != NULL ? store_step_done(st) : STORE_ERROR;
}

/* ---- the change ---- */

/* Write the row side of ch: insert, update or delete; the new revision is rev. */
static enum store_status tag_write(struct store_conn *c, const struct tag_change *ch,
                                   enum tag_verb verb, const struct tag_row *old,
                                   const struct tag_commit *commit, const char *description,
                                   int64_t now, int64_t rev)
{
	const struct tag_sql *sql = &tag_sql[ch->where.scope];
	struct db_stmt *st;
	/* ServiceStage tags have no UUID and no updated_at: their parameters come one earlier. */
	bool ss = ch->where.scope == HISTORY_SCOPE_SERVICESTAGE;
	int k = ss ? 0 : 1;
	switch (verb) {
	case TAG_CREATE:
		st = store_stmt(c, sql->insert);
		if (st == NULL)
			return store_conn_error(c);
		if (!ss)
			db_bind_text(st, 1, ch->tag_id);
		db_bind_int(st, k + 1, ch->where.key);
		db_bind_text(st, k + 2, ch->where.tag);
		db_bind_int(st, k + 3, commit->row);
		db_bind_text(st, k + 4, description);
		db_bind_int(st, k + 5, now);
		db_bind_int(st, k + 6, rev);
		/*
		 * A taken name inserts nothing rather than failing: the statement
		 * has not written, so the writer needs no savepoint to undo it
		 * (see store_writer.c) and PostgreSQL's transaction stays usable.
		 */
		enum store_status ret = store_step_done(st);
		if (ret == STORE_OK && db_changes(c) == 0)
			ret = STORE_CONFLICT;
		return ret;
	case TAG_SET:
		st = store_stmt(c, sql->update);
		if (st == NULL)
			return store_conn_error(c);
		db_bind_int(st, 1, old->id);
		db_bind_int(st, 2, commit->row);
		db_bind_text(st, 3, description);
		if (!ss)
			db_bind_int(st, 4, now);
		db_bind_int(st, 4 + k, rev);
		return store_step_done(st);
	case TAG_DELETE:
		st = store_stmt(c, sql->del);
		if (st == NULL)
			return store_conn_error(c);
		db_bind_int(st, 1, old->id);
		return store_step_done(st);
	case TAG_PUT:
		break; /* decided by now: a create or a set */
	}
	return STORE_INVALID;
}

enum store_status store_tag_change(struct store_conn *c, struct tag_change *ch)
{
	const struct tag_where *w = &ch->where;
	struct tag_row old = {0};
	struct tag_commit commit = ch->commit;
	enum tag_verb verb = ch->verb;
	enum store_status ret;

	if ((size_t)w->scope >= sizeof(tag_sql) / sizeof(tag_sql[0]))
		return STORE_INVALID;
	/* A create finds a taken name by the table's unique key, when it inserts (nothing). */
	bool exists = false;
	if (verb != TAG_CREATE) {
		ret = tag_find(c, w, &old);
		exists = ret == STORE_OK;
		if (ret != STORE_OK && ret != STORE_TAG_NOT_FOUND)
			goto done;
	}
	if (verb == TAG_PUT) {
		ch->created = !exists;
		ch->unchanged = false;
		ret = expect_met(ch->expect, exists, old.rev) ? STORE_OK : STORE_PRECONDITION;
		if (ret != STORE_OK)
			goto done;
		const char *want = ch->desc == STORE_DESC_KEEP  ? old.description
		                   : ch->desc == STORE_DESC_SET ? ch->description
		                                                : NULL;
		if (exists && commit.row == old.commit.row && same_text(want, old.description)) {
			ch->unchanged = true; /* nothing to write, nothing to record */
			memcpy(ch->tag_id, old.uuid, sizeof(ch->tag_id));
			ch->rev = old.rev;
			goto done;
		}
		verb = exists ? TAG_SET : TAG_CREATE;
	}
	if (verb == TAG_CREATE) {
		ret = store_rule_enforce(c, w, RULE_CHANGE_CREATE, ch->actor, ch->refused);
	} else {
		ret = exists ? STORE_OK : STORE_TAG_NOT_FOUND;
		if (ret == STORE_OK)
			ret = store_rule_enforce(
			        c, w, verb == TAG_SET ? RULE_CHANGE_SET : RULE_CHANGE_DELETE,
			        ch->actor, ch->refused);
		if (ret == STORE_OK && !expect_met(ch->expect, exists, old.rev))
			ret = STORE_PRECONDITION;
		if (ret == STORE_OK && verb == TAG_SET && ch->verb == TAG_SET) {
			commit = old.commit;
			if (ch->move)
				ret = ch->resolve != NULL ? ch->resolve(c, ch, &commit)
				                          : STORE_INVALID;
		}
	}
	if (ret == STORE_OK && verb != TAG_DELETE)
		ret = commit_ref(c, w->scope, &commit);
	if (ret != STORE_OK)
		goto done;

	/* What the tag becomes. */
	const char *description = old.description;
	if (verb == TAG_CREATE)
		description = ch->desc == STORE_DESC_SET ? ch->description : NULL;
	else if (verb == TAG_SET && ch->desc != STORE_DESC_KEEP)
		description = ch->desc == STORE_DESC_SET ? ch->description : NULL;
	else if (verb == TAG_DELETE)
		description = NULL;

	struct history_event ev = {
	        .at = clock_now_us(),
	        .dialect = ch->actor ? ch->actor->dialect : HISTORY_VERS,
	        .scope = w->scope,
	        .scope_name = w->scope_name,
	        .tag = w->tag,
	        .commit_id = verb == TAG_DELETE ? NULL : commit.ref,
	        .previous_commit_id = exists ? old.commit.ref : NULL,
	        .token_id = ch->actor ? ch->actor->token_id : NULL,
	        .token_label = ch->actor ? ch->actor->token_label : NULL,
	        .request_id = ch->actor ? ch->actor->request_id : NULL,
	};
	switch (verb) {
	case TAG_CREATE:
		ev.action = HISTORY_CREATE;
		ev.description_changed = description != NULL;
		break;
	case TAG_SET:
		ev.action = commit.row != old.commit.row ? HISTORY_MOVE : HISTORY_UPDATE;
		ev.description_changed = !same_text(description, old.description);
		break;
	case TAG_DELETE:
		ev.action = HISTORY_DELETE;
		ev.description_changed = old.description != NULL;
		break;
	case TAG_PUT:
		break; /* decided by now: a create or a set */
	}
	ev.description = description;
	ev.previous_description = old.description;

	if (verb == TAG_CREATE) {
		if (w->scope == HISTORY_SCOPE_SERVICESTAGE)
			ch->tag_id[0] = '\0';
		else
			store_new_uuid(ch->tag_id);
	} else {
		memcpy(ch->tag_id, old.uuid, sizeof(ch->tag_id));
	}
	/* The tag's previous event: its row's revision, or the delete that ended the name. */
	int64_t tomb = 0;
	if (verb == TAG_CREATE)
		ret = tombstone_find(c, w, &tomb);
	ev.previous_seq = verb == TAG_CREATE ? tomb : old.rev;
	/* The row carries the revision of its event, so the head is read first. */
	int64_t head = 0;
	if (ret == STORE_OK)
		ret = head_read(c, w->org_id, &head, ev.previous_hash);
	ev.seq = head + 1;
	if (ret == STORE_OK)
		ret = tag_write(c, ch, verb, &old, &commit, description, ev.at, ev.seq);
	if (ret == STORE_OK)
		ret = tombstone_write(c, w, verb, tomb, ev.seq);
	if (ret == STORE_OK)
		ret = event_write(c, w->org_id, &ev);
	if (ret == STORE_OK) {
		ch->rev = ev.seq;
		ch->action = ev.action;
	}
done:
	free(old.description);
	return ret;
}

enum store_status store_tag_delete_all(struct store_conn *c, const struct tag_where *where,
                                       const struct store_actor *actor,
                                       struct store_refusal *refused)
{
	enum { CHUNK = 256 };
	char *names[CHUNK];
	char *after = strdup("");
	enum store_status ret = after != NULL ? STORE_OK : STORE_NOMEM;

	while (ret == STORE_OK) {
		/* A chunk of names first: the rows are deleted between two reads, never during one.
		 */
		size_t n = 0;
		struct db_stmt *st = store_stmt(c, tag_sql[where->scope].names_after);
		if (st == NULL) {
			ret = store_conn_error(c);
			break;
		}
		db_bind_int(st, 1, where->key);
		db_bind_text(st, 2, after);
		db_bind_int(st, 3, CHUNK);
		int rc = DB_DONE;
		bool oom = false;
		while (n < CHUNK && (rc = db_step(st)) == DB_ROW) {
			names[n] = store_column_dup(st, 0, &oom);
			if (names[n] == NULL)
				oom = true;
			else
				n++;
		}
		if (n < CHUNK && rc != DB_DONE)
			ret = store_conn_error(c);
		db_reset(st);
		if (oom)
			ret = STORE_NOMEM;
		for (size_t i = 0; i < n; i++) {
			if (ret == STORE_OK) {
				struct tag_change ch = {.where = *where,
				                        .verb = TAG_DELETE,
				                        .actor = actor,
				                        .refused = refused};
				ch.where.tag = names[i];
				ret = store_tag_change(c, &ch);
				if (ret == STORE_REFUSED && refused != NULL)
					refused->cascade = true;
			}
			if (i + 1 < n)
				free(names[i]);
		}
		free(after);
		after = n > 0 ? names[n - 1] : NULL;
		if (n < CHUNK)
			break;
	}
	free(after);
	return ret;
}
