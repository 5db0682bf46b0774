/*
 * store_history.c - reading and pruning the history of tag changes (its
 * verification: store_history_verify.c).  See store_history.h; the events
 * are written in store_tag.c.
 */
#include <stdlib.h>
#include <string.h>

#include "store_history.h"
#include "store_history_internal.h"
#include "store_internal.h"
#include "store_rule_internal.h"

/* A page stops early once its strings pass this, so an answer stays bounded. */
#define PAGE_BYTES (4u << 20)

static const char SQL_EVENT_ONE[] =
        "SELECT " STORE_EVENT_COLS "FROM events WHERE org_id = $1 AND seq = $2";
static const char SQL_FEED[] =
        "SELECT " STORE_EVENT_COLS "FROM events WHERE org_id = $1 AND seq > $2 "
        "ORDER BY seq LIMIT $3";
static const char SQL_LAST[] =
        "SELECT seq, hash FROM events WHERE org_id = $1 ORDER BY seq DESC LIMIT 1";
static const char SQL_FLOOR[] = "SELECT seq, hash FROM event_floors WHERE org_id = $1";
static const char SQL_TOMBSTONE[] = "SELECT seq FROM event_tombstones WHERE org_id = $1 AND "
                                    "scope_kind = $2 AND scope = $3 AND tag = $4";

/*
 * The revision of a live tag by its names: $1 the organization, then the
 * repository, nothing or the namespace and project, then the tag.
 */
static const char *const SQL_TAG_REV[] = {
        [HISTORY_SCOPE_REPOSITORY] = "SELECT t.rev FROM repo_tags t JOIN repos r "
                                     "ON r.id = t.repo_id WHERE r.org_id = $1 AND r.name = $2 "
                                     "AND t.name = $3",
        [HISTORY_SCOPE_COMMIT_TAGS] = "SELECT rev FROM commit_tags WHERE org_id = $1 AND "
                                      "name = $2",
        [HISTORY_SCOPE_SERVICESTAGE] = "SELECT t.rev FROM ss_tags t JOIN ss_projects p ON "
                                       "p.id = t.project_id JOIN ss_namespaces n ON "
                                       "n.id = p.namespace_id WHERE n.org_id = $1 AND "
                                       "n.name = $2 AND p.name = $3 AND t.name = $4",
};

void history_list_release(struct history_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->blocks[i]);
	free(l->blocks);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Text columns of an event row, in STORE_EVENT_COLS order, and where each goes. */
static const int text_cols[] = {5, 6, 9, 10, 12, 13, 14, 15, 16, 19, 20};

static const char **text_slot(struct history_event *ev, size_t i)
{
	const char **slots[] = {
	        &ev->scope_name,         &ev->tag,         &ev->commit_id,
	        &ev->previous_commit_id, &ev->description, &ev->previous_description,
	        &ev->token_id,           &ev->token_label, &ev->request_id,
	        &ev->rule_pattern,       &ev->rule_mode};
	return slots[i];
}

#define NTEXT (sizeof(text_cols) / sizeof(text_cols[0]))

static void copy_hash(struct db_stmt *st, int col, uint8_t out[HISTORY_HASH_LEN])
{
	memset(out, 0, HISTORY_HASH_LEN);
	if (db_col_bytes(st, col) == HISTORY_HASH_LEN)
		memcpy(out, db_col_blob(st, col), HISTORY_HASH_LEN);
}

/* See store_history_internal.h. */
enum store_status store_event_row(struct db_stmt *st, struct history_event *ev, char **block,
                                  size_t *bytes)
{
	size_t len[NTEXT], total = 0;
	memset(ev, 0, sizeof(*ev));
	for (size_t i = 0; i < NTEXT; i++) {
		len[i] = db_col_null(st, text_cols[i]) ? 0
		                                       : (size_t)db_col_bytes(st, text_cols[i]) + 1;
		total += len[i];
	}
	char *mem = malloc(total ? total : 1);
	if (mem == NULL)
		return STORE_NOMEM;
	char *p = mem;
	for (size_t i = 0; i < NTEXT; i++) {
		if (len[i] == 0)
			continue;
		memcpy(p, db_col_text(st, text_cols[i]), len[i] - 1);
		p[len[i] - 1] = '\0';
		*text_slot(ev, i) = p;
		p += len[i];
	}
	ev->seq = db_col_int(st, 0);
	store_column_copy(st, 1, ev->id, sizeof(ev->id));
	ev->at = db_col_int(st, 2);
	ev->previous_seq = db_col_int(st, 8);
	ev->description_changed = db_col_int(st, 11) != 0;
	copy_hash(st, 17, ev->previous_hash);
	copy_hash(st, 18, ev->hash);
	*block = mem;
	*bytes = total;
	bool known = history_dialect_parse((const char *)db_col_text(st, 3), &ev->dialect) &&
	             history_scope_parse((const char *)db_col_text(st, 4), &ev->scope) &&
	             history_action_parse((const char *)db_col_text(st, 7), &ev->action);
	/* A rule event names a rule, and no tag (its row says ''). */
	bool rule = known && history_action_is_rule(ev->action);
	if (rule)
		ev->tag = NULL;
	if (!known || ev->scope_name == NULL ||
	    (rule ? ev->rule_pattern == NULL || ev->rule_mode == NULL : ev->tag == NULL)) {
		free(mem);
		*block = NULL;
		return STORE_CORRUPT;
	}
	return STORE_OK;
}

/* Room for one more event in out. */
static bool list_grow(struct history_list *out, size_t *cap)
{
	if (out->n < *cap)
		return true;
	size_t ncap = *cap ? 2 * *cap : 16;
	struct history_event *items = realloc(out->items, ncap * sizeof(*items));
	if (items != NULL)
		out->items = items;
	char **blocks = realloc(out->blocks, ncap * sizeof(*blocks));
	if (blocks != NULL)
		out->blocks = blocks;
	if (items == NULL || blocks == NULL)
		return false;
	*cap = ncap;
	return true;
}

/* See store_history_internal.h. */
enum store_status store_event_get(struct store_conn *c, int64_t org_id, int64_t seq,
                                  struct history_event *ev, char **block, size_t *bytes)
{
	struct db_stmt *st = store_stmt(c, SQL_EVENT_ONE);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	db_bind_int(st, 2, seq);
	int rc = db_step(st);
	enum store_status ret = STORE_NOT_FOUND;
	if (rc == DB_ROW)
		ret = store_event_row(st, ev, block, bytes);
	else if (rc != DB_DONE)
		ret = store_conn_error(c);
	db_reset(st);
	return ret;
}

/* Step a bound STORE_EVENT_COLS statement into out: at most limit rows, then whether more remain.
 */
static enum store_status event_rows(struct store_conn *c, struct db_stmt *st, int64_t limit,
                                    struct history_list *out)
{
	enum store_status ret = STORE_OK;
	size_t cap = 0, bytes = 0;
	int rc;

	while ((rc = db_step(st)) == DB_ROW) {
		if ((int64_t)out->n == limit || (out->n > 0 && bytes > PAGE_BYTES)) {
			out->more = true;
			rc = DB_DONE;
			break;
		}
		if (!list_grow(out, &cap)) {
			ret = STORE_NOMEM;
			break;
		}
		size_t n = 0;
		ret = store_event_row(st, &out->items[out->n], &out->blocks[out->n], &n);
		if (ret != STORE_OK)
			break;
		out->n++;
		bytes += n;
	}
	if (ret == STORE_OK && rc != DB_DONE)
		ret = store_conn_error(c);
	db_reset(st);
	if (ret != STORE_OK)
		history_list_release(out);
	return ret;
}

/* A (seq, hash) row of sql for org_id; *found false when there is none. */
static enum store_status seq_hash(struct store_conn *c, const char *sql, int64_t org_id,
                                  int64_t *seq, uint8_t hash[HISTORY_HASH_LEN], bool *found)
{
	struct db_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	int rc = db_step(st);
	*found = rc == DB_ROW;
	if (rc == DB_ROW) {
		*seq = db_col_int(st, 0);
		copy_hash(st, 1, hash);
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? STORE_OK : store_conn_error(c);
}

/* See store_history_internal.h. */
enum store_status store_history_head_on(struct store_conn *c, int64_t org_id,
                                        struct history_head *out)
{
	bool found;
	memset(out, 0, sizeof(*out));
	enum store_status ret =
	        seq_hash(c, SQL_FLOOR, org_id, &out->floor_seq, out->floor_hash, &found);
	if (ret == STORE_OK)
		ret = seq_hash(c, SQL_LAST, org_id, &out->seq, out->hash, &found);
	if (ret == STORE_OK && !found) {
		out->seq = out->floor_seq;
		memcpy(out->hash, out->floor_hash, HISTORY_HASH_LEN);
	}
	return ret;
}

enum store_status store_history_head(struct store *s, int64_t org_id, struct history_head *out)
{
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = store_read_begin(c);
	if (ret == STORE_OK)
		ret = store_history_head_on(c, org_id, out);
	store_reader_release(s, c);
	return ret;
}

enum store_status store_history_hash_at(struct store *s, int64_t org_id, int64_t seq,
                                        uint8_t hash[HISTORY_HASH_LEN])
{
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	struct history_head head;
	struct history_event ev;
	char *block = NULL;
	size_t n;
	enum store_status ret = store_read_begin(c);
	if (ret == STORE_OK)
		ret = store_history_head_on(c, org_id, &head);
	if (ret == STORE_OK && seq > 0 && seq == head.floor_seq)
		memcpy(hash, head.floor_hash, HISTORY_HASH_LEN);
	else if (ret == STORE_OK)
		ret = store_event_get(c, org_id, seq, &ev, &block, &n);
	if (ret == STORE_OK && block != NULL)
		memcpy(hash, ev.hash, HISTORY_HASH_LEN);
	free(block);
	store_reader_release(s, c);
	return ret;
}

/* ---- one tag's history ---- */

/*
 * The newest event of key's tag name: the live tag's revision, else the
 * tombstone its delete left; 0 when neither.
 */
static enum store_status tag_entry(struct store_conn *c, const struct history_tag_key *key,
                                   int64_t *seq)
{
	/* ServiceStage: the namespace is before the first '/', the project after it. */
	char *first = strdup(key->scope_name);
	if (first == NULL)
		return STORE_NOMEM;
	char *rest = NULL;
	if (key->scope == HISTORY_SCOPE_SERVICESTAGE) {
		char *slash = strchr(first, '/');
		if (slash != NULL) {
			*slash = '\0';
			rest = slash + 1;
		}
	}
	*seq = 0;
	struct db_stmt *st = store_stmt(c, SQL_TAG_REV[key->scope]);
	enum store_status ret = st != NULL ? STORE_OK : store_conn_error(c);
	if (st != NULL) {
		int k = 2;
		db_bind_int(st, 1, key->org_id);
		if (key->scope != HISTORY_SCOPE_COMMIT_TAGS)
			db_bind_text(st, k++, first);
		if (key->scope == HISTORY_SCOPE_SERVICESTAGE)
			db_bind_text(st, k++, rest);
		db_bind_text(st, k, key->tag);
		int rc = db_step(st);
		if (rc == DB_ROW)
			*seq = db_col_int(st, 0);
		ret = rc == DB_ROW || rc == DB_DONE ? STORE_OK : store_conn_error(c);
		db_reset(st);
	}
	free(first);
	if (ret != STORE_OK || *seq > 0)
		return ret;
	st = store_stmt(c, SQL_TOMBSTONE);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, key->org_id);
	db_bind_text(st, 2, history_scope_name(key->scope));
	db_bind_text(st, 3, key->scope_name);
	db_bind_text(st, 4, key->tag);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*seq = db_col_int(st, 0);
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? STORE_OK : store_conn_error(c);
}

static bool same_tag(const struct history_event *ev, const struct history_tag_key *key)
{
	return ev->tag != NULL && ev->scope == key->scope &&
	       strcmp(ev->scope_name, key->scope_name) == 0 && strcmp(ev->tag, key->tag) == 0;
}

/* Walk key's events from seq down the previous_seq links into out, as a page. */
static enum store_status tag_walk(struct store_conn *c, const struct history_tag_key *key,
                                  int64_t seq, int64_t before, int64_t floor, int64_t limit,
                                  struct history_list *out)
{
	size_t cap = 0, bytes = 0;
	enum store_status ret = STORE_OK;
	while (seq > floor) {
		if ((int64_t)out->n == limit || (out->n > 0 && bytes > PAGE_BYTES)) {
			out->more = true;
			break;
		}
		if (!list_grow(out, &cap))
			return STORE_NOMEM;
		size_t n = 0;
		ret = store_event_get(c, key->org_id, seq, &out->items[out->n],
		                      &out->blocks[out->n], &n);
		if (ret == STORE_NOT_FOUND)
			return STORE_OK; /* a broken link: what 'history verify' reports */
		if (ret != STORE_OK)
			return ret;
		struct history_event *ev = &out->items[out->n];
		if (!same_tag(ev, key)) {
			free(out->blocks[out->n]);
			return STORE_OK;
		}
		seq = ev->previous_seq;
		if (before > 0 && ev->seq >= before) {
			free(out->blocks[out->n]); /* newer than the page asked for */
			continue;
		}
		out->n++;
		bytes += n;
	}
	return STORE_OK;
}

enum store_status store_history_tag(struct store *s, const struct history_tag_key *key,
                                    int64_t before, int64_t limit, struct history_list *out,
                                    bool *any)
{
	memset(out, 0, sizeof(*out));
	*any = false;
	if (limit < 1 || limit > HISTORY_PAGE_MAX || (size_t)key->scope > 2)
		return STORE_INVALID;
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	struct history_head head;
	int64_t start = 0;
	enum store_status ret = store_read_begin(c);
	if (ret == STORE_OK)
		ret = store_history_head_on(c, key->org_id, &head);
	if (ret == STORE_OK)
		ret = tag_entry(c, key, &start);
	*any = ret == STORE_OK && start > head.floor_seq;
	if (ret == STORE_OK && before > 0 && before <= start) {
		/* The usual cursor is an event of this tag: go on from its link. */
		struct history_event ev;
		char *block = NULL;
		size_t n;
		ret = store_event_get(c, key->org_id, before, &ev, &block, &n);
		if (ret == STORE_OK && same_tag(&ev, key)) {
			start = ev.previous_seq;
			before = 0;
		}
		if (ret == STORE_NOT_FOUND || ret == STORE_OK)
			ret = STORE_OK;
		free(block);
	}
	if (ret == STORE_OK && *any)
		ret = tag_walk(c, key, start, before, head.floor_seq, limit, out);
	if (ret != STORE_OK)
		history_list_release(out);
	store_reader_release(s, c);
	return ret;
}

enum store_status store_history_feed(struct store *s, int64_t org_id, int64_t after, int64_t limit,
                                     struct history_list *out)
{
	memset(out, 0, sizeof(*out));
	if (limit < 1 || limit > HISTORY_PAGE_MAX)
		return STORE_INVALID;
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	struct db_stmt *st = store_stmt(c, SQL_FEED);
	enum store_status ret = st != NULL ? STORE_OK : store_conn_error(c);
	if (st != NULL) {
		db_bind_int(st, 1, org_id);
		db_bind_int(st, 2, after > 0 ? after : 0);
		db_bind_int(st, 3, limit + 1);
		ret = event_rows(c, st, limit, out);
	}
	store_reader_release(s, c);
	return ret;
}

/* ---- retention ---- */

#define PRUNE_DEFAULT 10000

static const char SQL_PRUNE_ORGS[] = "SELECT id FROM orgs WHERE id > $1 ORDER BY id LIMIT $2";
static const char SQL_PRUNE_SCAN[] =
        "SELECT seq, at, hash FROM events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";
static const char SQL_PRUNE_DELETE[] = "DELETE FROM events WHERE org_id = $1 AND seq <= $2";
static const char SQL_PRUNE_TOMBSTONES[] =
        "DELETE FROM event_tombstones WHERE org_id = $1 AND seq <= $2";
static const char SQL_PRUNE_FLOOR[] =
        "INSERT INTO event_floors(org_id, seq, hash) VALUES ($1, $2, $3) "
        "ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash";

/* Run a statement of (org_id, seq) that returns nothing. */
static enum store_status org_seq_exec(struct store_conn *c, const char *sql, int64_t org_id,
                                      int64_t seq)
{
	struct db_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	db_bind_int(st, 2, seq);
	return store_step_done(st);
}

/* Prune org's events older than before, at most budget of them; *n gets how many. */
static enum store_status prune_org(struct store_conn *c, int64_t org_id, int64_t before,
                                   int64_t budget, int64_t *n, bool *more)
{
	int64_t floor = 0, hold = 0;
	uint8_t hash[HISTORY_HASH_LEN];
	bool found, held = false;
	/* Appends to this chain wait while it is cut (the checkpoint moves with it). */
	enum store_status ret = store_tag_lock(c, org_id);
	if (ret == STORE_OK)
		ret = seq_hash(c, SQL_FLOOR, org_id, &floor, hash, &found);
	/* An active hook's undelivered events stay, however old (store_hooks.h). */
	if (ret == STORE_OK)
		ret = store_hooks_hold(c, org_id, &hold, &held);
	if (ret != STORE_OK)
		return ret;
	struct db_stmt *st = store_stmt(c, SQL_PRUNE_SCAN);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	db_bind_int(st, 2, floor);
	db_bind_int(st, 3, budget + 1);
	int64_t last = floor, count = 0;
	int rc;
	*n = 0;
	/* Oldest first, up to the first event that is recent enough to keep. */
	while ((rc = db_step(st)) == DB_ROW) {
		if (db_col_int(st, 1) >= before || (held && db_col_int(st, 0) > hold))
			break;
		if (count == budget) {
			*more = true;
			break;
		}
		last = db_col_int(st, 0);
		copy_hash(st, 2, hash);
		count++;
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return store_conn_error(c);
	if (count == 0)
		return STORE_OK;
	ret = org_seq_exec(c, SQL_PRUNE_DELETE, org_id, last);
	if (ret == STORE_OK)
		ret = org_seq_exec(c, SQL_PRUNE_TOMBSTONES, org_id, last);
	if (ret != STORE_OK)
		return ret;
	st = store_stmt(c, SQL_PRUNE_FLOOR);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	db_bind_int(st, 2, last);
	db_bind_blob(st, 3, hash, HISTORY_HASH_LEN);
	ret = store_step_done(st);
	if (ret == STORE_OK)
		*n = count;
	return ret;
}

static enum store_status prune_run(struct store_conn *c, struct store_op *op)
{
	struct history_prune_op *o = (struct history_prune_op *)op;
	int64_t budget = o->max_events > 0 ? o->max_events : PRUNE_DEFAULT;
	enum { BATCH = 64 };
	int64_t orgs[BATCH], after = 0;
	enum store_status ret = STORE_OK;

	o->pruned = 0;
	o->more = false;
	/* The organizations first (a few at a time), then their events: never both at once. */
	for (;;) {
		size_t n = 0;
		struct db_stmt *st = store_stmt(c, SQL_PRUNE_ORGS);
		if (st == NULL)
			return store_conn_error(c);
		db_bind_int(st, 1, after);
		db_bind_int(st, 2, BATCH);
		int rc = DB_DONE;
		while (n < BATCH && (rc = db_step(st)) == DB_ROW)
			orgs[n++] = db_col_int(st, 0);
		db_reset(st);
		if (rc != DB_ROW && rc != DB_DONE)
			return store_conn_error(c);
		for (size_t i = 0; i < n && ret == STORE_OK && budget > o->pruned; i++) {
			int64_t got = 0;
			ret = prune_org(c, orgs[i], o->before, budget - o->pruned, &got, &o->more);
			o->pruned += got;
			after = orgs[i];
		}
		if (ret != STORE_OK || n < BATCH || budget <= o->pruned) {
			if (budget <= o->pruned)
				o->more = true;
			return ret;
		}
	}
}

void history_prune_op_init(struct history_prune_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = prune_run;
}
