/*
 * store_history.c - reading, verifying and pruning the history of tag
 * changes.  See store_history.h; the events are written in store_tag.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_history.h"
#include "store_internal.h"

/* A page stops early once its strings pass this, so an answer stays bounded. */
#define PAGE_BYTES (4u << 20)

#define EVENT_COLS                                                                                 \
	"seq, uuid, at, dialect, scope_kind, scope, tag, action, commit_ref, "                     \
	"previous_commit_ref, description_changed, description, previous_description, "            \
	"token_id, token_label, request_id, previous_hash, hash "

static const char SQL_TAG_EVENTS[] =
        "SELECT " EVENT_COLS "FROM events WHERE org_id = ?1 AND scope_kind = ?2 AND scope = ?3 "
        "AND tag = ?4 AND seq < ?5 ORDER BY seq DESC LIMIT ?6";
static const char SQL_TAG_ANY[] = "SELECT 1 FROM events WHERE org_id = ?1 AND scope_kind = ?2 "
                                  "AND scope = ?3 AND tag = ?4 LIMIT 1";
static const char SQL_FEED[] = "SELECT " EVENT_COLS "FROM events WHERE org_id = ?1 AND seq > ?2 "
                               "ORDER BY seq LIMIT ?3";
static const char SQL_HEAD[] =
        "SELECT seq, hash, floor_seq, floor_hash FROM event_heads WHERE org_id = ?1";

void history_list_release(struct history_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->blocks[i]);
	free(l->blocks);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Text columns of an event row, in EVENT_COLS order, and where each goes. */
static const int text_cols[] = {5, 6, 8, 9, 11, 12, 13, 14, 15};

static const char **text_slot(struct history_event *ev, size_t i)
{
	const char **slots[] = {
	        &ev->scope_name,         &ev->tag,         &ev->commit_id,
	        &ev->previous_commit_id, &ev->description, &ev->previous_description,
	        &ev->token_id,           &ev->token_label, &ev->request_id};
	return slots[i];
}

#define NTEXT (sizeof(text_cols) / sizeof(text_cols[0]))

static void copy_hash(sqlite3_stmt *st, int col, uint8_t out[HISTORY_HASH_LEN])
{
	memset(out, 0, HISTORY_HASH_LEN);
	if (sqlite3_column_bytes(st, col) == HISTORY_HASH_LEN)
		memcpy(out, sqlite3_column_blob(st, col), HISTORY_HASH_LEN);
}

/*
 * The current row of an EVENT_COLS statement into *ev, its strings into one
 * new block (*block, the caller frees it).  *bytes gets their size.
 * STORE_CORRUPT for a name this build does not know.
 */
static enum store_status event_row(sqlite3_stmt *st, struct history_event *ev, char **block,
                                   size_t *bytes)
{
	size_t len[NTEXT], total = 0;
	memset(ev, 0, sizeof(*ev));
	for (size_t i = 0; i < NTEXT; i++) {
		len[i] = sqlite3_column_type(st, text_cols[i]) == SQLITE_NULL
		                 ? 0
		                 : (size_t)sqlite3_column_bytes(st, text_cols[i]) + 1;
		total += len[i];
	}
	char *mem = malloc(total ? total : 1);
	if (mem == NULL)
		return STORE_NOMEM;
	char *p = mem;
	for (size_t i = 0; i < NTEXT; i++) {
		if (len[i] == 0)
			continue;
		memcpy(p, sqlite3_column_text(st, text_cols[i]), len[i] - 1);
		p[len[i] - 1] = '\0';
		*text_slot(ev, i) = p;
		p += len[i];
	}
	ev->seq = sqlite3_column_int64(st, 0);
	store_column_copy(st, 1, ev->id, sizeof(ev->id));
	ev->at = sqlite3_column_int64(st, 2);
	ev->description_changed = sqlite3_column_int(st, 10) != 0;
	copy_hash(st, 16, ev->previous_hash);
	copy_hash(st, 17, ev->hash);
	*block = mem;
	*bytes = total;
	if (!history_dialect_parse((const char *)sqlite3_column_text(st, 3), &ev->dialect) ||
	    !history_scope_parse((const char *)sqlite3_column_text(st, 4), &ev->scope) ||
	    !history_action_parse((const char *)sqlite3_column_text(st, 7), &ev->action) ||
	    ev->scope_name == NULL || ev->tag == NULL) {
		free(mem);
		*block = NULL;
		return STORE_CORRUPT;
	}
	return STORE_OK;
}

/* Step a bound EVENT_COLS statement into out: at most limit rows, then whether more remain. */
static enum store_status event_rows(struct store_conn *c, sqlite3_stmt *st, int64_t limit,
                                    struct history_list *out)
{
	enum store_status ret = STORE_OK;
	size_t cap = 0, bytes = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((int64_t)out->n == limit || (out->n > 0 && bytes > PAGE_BYTES)) {
			out->more = true;
			rc = SQLITE_DONE;
			break;
		}
		if (out->n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct history_event *items = realloc(out->items, ncap * sizeof(*items));
			if (items != NULL)
				out->items = items;
			char **blocks = realloc(out->blocks, ncap * sizeof(*blocks));
			if (blocks != NULL)
				out->blocks = blocks;
			if (items == NULL || blocks == NULL) {
				ret = STORE_NOMEM;
				break;
			}
			cap = ncap;
		}
		size_t n = 0;
		ret = event_row(st, &out->items[out->n], &out->blocks[out->n], &n);
		if (ret != STORE_OK)
			break;
		out->n++;
		bytes += n;
	}
	if (ret == STORE_OK && rc != SQLITE_DONE)
		ret = store_conn_error(c);
	sqlite3_reset(st);
	if (ret != STORE_OK)
		history_list_release(out);
	return ret;
}

enum store_status store_history_tag(struct store *s, const struct history_tag_key *key,
                                    int64_t before, int64_t limit, struct history_list *out,
                                    bool *any)
{
	memset(out, 0, sizeof(*out));
	*any = false;
	if (limit < 1 || limit > HISTORY_PAGE_MAX)
		return STORE_INVALID;
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_ERROR;
	enum store_status ret = store_read_begin(c);
	sqlite3_stmt *st = ret == STORE_OK ? store_stmt(c, SQL_TAG_EVENTS) : NULL;
	if (st == NULL) {
		store_reader_release(s, c);
		return ret == STORE_OK ? STORE_ERROR : ret;
	}
	sqlite3_bind_int64(st, 1, key->org_id);
	store_bind_text(st, 2, history_scope_name(key->scope));
	store_bind_text(st, 3, key->scope_name);
	store_bind_text(st, 4, key->tag);
	sqlite3_bind_int64(st, 5, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int64(st, 6, limit + 1);
	ret = event_rows(c, st, limit, out);
	if (ret == STORE_OK && out->n > 0) {
		*any = true;
	} else if (ret == STORE_OK) {
		st = store_stmt(c, SQL_TAG_ANY);
		if (st == NULL) {
			ret = STORE_ERROR;
		} else {
			sqlite3_bind_int64(st, 1, key->org_id);
			store_bind_text(st, 2, history_scope_name(key->scope));
			store_bind_text(st, 3, key->scope_name);
			store_bind_text(st, 4, key->tag);
			int rc = sqlite3_step(st);
			*any = rc == SQLITE_ROW;
			if (rc != SQLITE_ROW && rc != SQLITE_DONE)
				ret = store_conn_error(c);
			sqlite3_reset(st);
		}
	}
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
		return STORE_ERROR;
	sqlite3_stmt *st = store_stmt(c, SQL_FEED);
	enum store_status ret = STORE_ERROR;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, org_id);
		sqlite3_bind_int64(st, 2, after > 0 ? after : 0);
		sqlite3_bind_int64(st, 3, limit + 1);
		ret = event_rows(c, st, limit, out);
	}
	store_reader_release(s, c);
	return ret;
}

/* The head of org_id on c; a missing row reads as the empty chain. */
static enum store_status head_on(struct store_conn *c, int64_t org_id, struct history_head *out)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = store_stmt(c, SQL_HEAD);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, org_id);
	int rc = sqlite3_step(st);
	enum store_status ret = STORE_OK;
	if (rc == SQLITE_ROW) {
		out->seq = sqlite3_column_int64(st, 0);
		copy_hash(st, 1, out->hash);
		out->floor_seq = sqlite3_column_int64(st, 2);
		copy_hash(st, 3, out->floor_hash);
	} else if (rc != SQLITE_DONE) {
		ret = store_conn_error(c);
	}
	sqlite3_reset(st);
	return ret;
}

enum store_status store_history_head(struct store *s, int64_t org_id, struct history_head *out)
{
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_ERROR;
	enum store_status ret = head_on(c, org_id, out);
	store_reader_release(s, c);
	return ret;
}

/* ---- verify ---- */

static const char SQL_ALL_EVENTS[] =
        "SELECT " EVENT_COLS "FROM events WHERE org_id = ?1 ORDER BY seq";

/*
 * Tags changed since history began, each with the event its rev names and
 * the newest event of its name: (name, commit, description, rev,
 * event seq, scope_kind, scope, tag, action, commit_ref,
 * description_changed, description, newest seq).  ?1 org, ?2 floor.
 */
#define TAG_CHECK_COLS                                                                             \
	"t.rev, e.seq, e.scope_kind, e.scope, e.tag, e.action, e.commit_ref, "                     \
	"e.description_changed, e.description, "                                                   \
	"(SELECT max(x.seq) FROM events x WHERE x.org_id = e.org_id AND "                          \
	"x.scope_kind = e.scope_kind AND x.scope = e.scope AND x.tag = e.tag) "

static const char *const SQL_TAG_CHECKS[] = {
        [HISTORY_SCOPE_REPOSITORY] = "SELECT r.name, t.name, c.uuid, t.description, " TAG_CHECK_COLS
                                     "FROM repo_tags t JOIN repos r ON r.id = t.repo_id "
                                     "JOIN commits c ON c.id = t.commit_id "
                                     "LEFT JOIN events e ON e.org_id = r.org_id AND e.seq = t.rev "
                                     "WHERE r.org_id = ?1 AND t.rev > ?2",
        [HISTORY_SCOPE_COMMIT_TAGS] = "SELECT '', t.name, c.uuid, t.description, " TAG_CHECK_COLS
                                      "FROM commit_tags t JOIN commits c ON c.id = t.commit_id "
                                      "LEFT JOIN events e ON e.org_id = t.org_id AND e.seq = t.rev "
                                      "WHERE t.org_id = ?1 AND t.rev > ?2",
        [HISTORY_SCOPE_SERVICESTAGE] =
                "SELECT n.name || '/' || p.name, t.name, c.sha, t.message, " TAG_CHECK_COLS
                "FROM ss_tags t JOIN ss_projects p ON p.id = t.project_id "
                "JOIN ss_namespaces n ON n.id = p.namespace_id "
                "JOIN ss_commits c ON c.id = t.commit_id "
                "LEFT JOIN events e ON e.org_id = n.org_id AND e.seq = t.rev "
                "WHERE n.org_id = ?1 AND t.rev > ?2",
};

/* The newest event of each tag name that is not a delete: the tag must exist at that rev. */
static const char SQL_LIVE_EVENTS[] =
        "SELECT e.seq, e.scope_kind, e.scope, e.tag FROM events e "
        "WHERE e.org_id = ?1 AND e.action <> 'delete' AND e.seq = (SELECT max(x.seq) "
        "FROM events x WHERE x.org_id = e.org_id AND x.scope_kind = e.scope_kind "
        "AND x.scope = e.scope AND x.tag = e.tag)";
static const char *const SQL_TAG_REV[] = {
        [HISTORY_SCOPE_REPOSITORY] = "SELECT t.rev FROM repo_tags t JOIN repos r "
                                     "ON r.id = t.repo_id WHERE r.org_id = ?1 AND r.name = ?2 "
                                     "AND t.name = ?4",
        [HISTORY_SCOPE_COMMIT_TAGS] = "SELECT rev FROM commit_tags WHERE org_id = ?1 AND "
                                      "name = ?4",
        [HISTORY_SCOPE_SERVICESTAGE] = "SELECT t.rev FROM ss_tags t JOIN ss_projects p ON "
                                       "p.id = t.project_id JOIN ss_namespaces n ON "
                                       "n.id = p.namespace_id WHERE n.org_id = ?1 AND "
                                       "n.name = ?2 AND p.name = ?3 AND t.name = ?4",
};

/* Record the first problem: the event concerned and what is wrong. */
static void problem(struct history_verify *v, int64_t seq, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void problem(struct history_verify *v, int64_t seq, const char *fmt, ...)
{
	va_list ap;
	v->ok = false;
	v->seq = seq;
	va_start(ap, fmt);
	vsnprintf(v->problem, sizeof(v->problem), fmt, ap);
	va_end(ap);
}

/* Walk the chain from the checkpoint; false (with v filled) at the first break. */
static enum store_status verify_chain(struct store_conn *c, int64_t org_id,
                                      struct history_verify *v)
{
	uint8_t running[HISTORY_HASH_LEN];
	int64_t expect = v->head.floor_seq + 1;
	memcpy(running, v->head.floor_hash, HISTORY_HASH_LEN);

	sqlite3_stmt *st = store_stmt(c, SQL_ALL_EVENTS);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, org_id);
	enum store_status ret = STORE_OK;
	int rc = SQLITE_DONE;
	while (v->ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct history_event ev;
		char *block = NULL;
		size_t bytes;
		ret = event_row(st, &ev, &block, &bytes);
		if (ret == STORE_CORRUPT) {
			int64_t seq = sqlite3_column_int64(st, 0);
			problem(v, seq, "event %lld: unknown dialect, scope or action",
			        (long long)seq);
			ret = STORE_OK;
			break;
		}
		if (ret != STORE_OK)
			break;
		uint8_t stored[HISTORY_HASH_LEN];
		memcpy(stored, ev.hash, HISTORY_HASH_LEN);
		if (ev.seq != expect) {
			problem(v, expect, "event %lld is missing (the next event is %lld)",
			        (long long)expect, (long long)ev.seq);
		} else if (memcmp(ev.previous_hash, running, HISTORY_HASH_LEN) != 0) {
			problem(v, ev.seq,
			        "event %lld: previous_hash is not the hash of the event before it",
			        (long long)ev.seq);
		} else if (!history_seal(&ev)) {
			ret = STORE_NOMEM;
		} else if (memcmp(ev.hash, stored, HISTORY_HASH_LEN) != 0) {
			problem(v, ev.seq,
			        "event %lld: its hash does not match its content (the row was "
			        "changed)",
			        (long long)ev.seq);
		} else {
			memcpy(running, ev.hash, HISTORY_HASH_LEN);
			expect++;
			v->events++;
		}
		free(block);
		if (ret != STORE_OK)
			break;
	}
	sqlite3_reset(st);
	if (ret != STORE_OK || !v->ok)
		return ret;
	if (rc != SQLITE_DONE)
		return store_conn_error(c);
	if (expect - 1 != v->head.seq)
		problem(v, expect - 1 < v->head.seq ? expect : v->head.seq,
		        "the chain ends at event %lld but its head says %lld (events were removed)",
		        (long long)(expect - 1), (long long)v->head.seq);
	else if (memcmp(running, v->head.hash, HISTORY_HASH_LEN) != 0)
		problem(v, v->head.seq, "the head's hash is not the hash of the last event");
	return STORE_OK;
}

static bool same_text(const unsigned char *a, const unsigned char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp((const char *)a, (const char *)b) == 0;
}

/* Every tag changed since history began is as its last event says. */
static enum store_status verify_tags(struct store_conn *c, int64_t org_id, struct history_verify *v)
{
	for (int scope = 0; v->ok && scope < 3; scope++) {
		sqlite3_stmt *st = store_stmt(c, SQL_TAG_CHECKS[scope]);
		if (st == NULL)
			return STORE_ERROR;
		sqlite3_bind_int64(st, 1, org_id);
		sqlite3_bind_int64(st, 2, v->head.floor_seq);
		int rc = SQLITE_DONE;
		while (v->ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			const unsigned char *scope_name = sqlite3_column_text(st, 0);
			const unsigned char *tag = sqlite3_column_text(st, 1);
			int64_t rev = sqlite3_column_int64(st, 4);
			char what[600];
			snprintf(what, sizeof(what), "%s tag '%s%s%s'",
			         history_scope_name((enum history_scope)scope),
			         scope_name && *scope_name ? (const char *)scope_name : "",
			         scope_name && *scope_name ? ":" : "", (const char *)tag);
			v->tags++;
			if (sqlite3_column_type(st, 5) == SQLITE_NULL) {
				problem(v, rev, "%s: the event of its revision does not exist",
				        what);
				break;
			}
			const unsigned char *action = sqlite3_column_text(st, 9);
			bool desc_known = sqlite3_column_int(st, 11) != 0 ||
			                  same_text(action, (const unsigned char *)"create");
			if (!same_text(sqlite3_column_text(st, 6),
			               (const unsigned char *)history_scope_name(
			                       (enum history_scope)scope)) ||
			    !same_text(sqlite3_column_text(st, 7), scope_name) ||
			    !same_text(sqlite3_column_text(st, 8), tag))
				problem(v, rev, "%s: the event of its revision is another tag's",
				        what);
			else if (same_text(action, (const unsigned char *)"delete"))
				problem(v, rev, "%s: exists, but its last event deleted it", what);
			else if (sqlite3_column_int64(st, 13) != rev)
				problem(v, sqlite3_column_int64(st, 13),
				        "%s: a later event changed it, the tag does not show it",
				        what);
			else if (!same_text(sqlite3_column_text(st, 10),
			                    sqlite3_column_text(st, 2)))
				problem(v, rev, "%s: its commit is not the one its last event set",
				        what);
			else if (desc_known && !same_text(sqlite3_column_text(st, 12),
			                                  sqlite3_column_text(st, 3)))
				problem(v, rev,
				        "%s: its description is not the one its last event set",
				        what);
		}
		if (v->ok && rc != SQLITE_DONE) {
			sqlite3_reset(st);
			return store_conn_error(c);
		}
		sqlite3_reset(st);
	}
	return STORE_OK;
}

/* Every tag name whose last event is not a delete exists, at that event's revision. */
static enum store_status verify_live(struct store_conn *c, int64_t org_id, struct history_verify *v)
{
	sqlite3_stmt *st = store_stmt(c, SQL_LIVE_EVENTS);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, org_id);
	enum store_status ret = STORE_OK;
	int rc = SQLITE_DONE;
	while (v->ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		enum history_scope scope;
		const char *scope_name = (const char *)sqlite3_column_text(st, 2);
		const char *tag = (const char *)sqlite3_column_text(st, 3);
		if (!history_scope_parse((const char *)sqlite3_column_text(st, 1), &scope) ||
		    scope_name == NULL || tag == NULL) {
			problem(v, seq, "event %lld: unknown scope", (long long)seq);
			break;
		}
		/* ServiceStage: the namespace is before the first '/', the project after it. */
		char *first = strdup(scope_name);
		if (first == NULL) {
			ret = STORE_NOMEM;
			break;
		}
		char *rest = NULL;
		if (scope == HISTORY_SCOPE_SERVICESTAGE) {
			char *slash = strchr(first, '/');
			if (slash != NULL) {
				*slash = '\0';
				rest = slash + 1;
			}
		}
		sqlite3_stmt *q = store_stmt(c, SQL_TAG_REV[scope]);
		if (q == NULL) {
			free(first);
			ret = STORE_ERROR;
			break;
		}
		sqlite3_bind_int64(q, 1, org_id);
		store_bind_text(q, 2, first);
		store_bind_text(q, 3, rest);
		store_bind_text(q, 4, tag);
		int qrc = sqlite3_step(q);
		int64_t rev = qrc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
		sqlite3_reset(q);
		free(first);
		if (qrc != SQLITE_ROW && qrc != SQLITE_DONE) {
			ret = store_conn_error(c);
			break;
		}
		if (rev < 0)
			problem(v, seq,
			        "event %lld: the tag it leaves in place ('%s') does not exist",
			        (long long)seq, tag);
		else if (rev != seq)
			problem(v, seq,
			        "event %lld: the tag it leaves in place ('%s') has revision %lld",
			        (long long)seq, tag, (long long)rev);
	}
	if (ret == STORE_OK && v->ok && rc != SQLITE_DONE)
		ret = store_conn_error(c);
	sqlite3_reset(st);
	return ret;
}

enum store_status store_history_verify(struct store *s, int64_t org_id, struct history_verify *out)
{
	memset(out, 0, sizeof(*out));
	out->ok = true;
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_ERROR;
	enum store_status ret = store_read_begin(c);
	if (ret == STORE_OK)
		ret = head_on(c, org_id, &out->head);
	if (ret == STORE_OK)
		ret = verify_chain(c, org_id, out);
	if (ret == STORE_OK && out->ok)
		ret = verify_tags(c, org_id, out);
	if (ret == STORE_OK && out->ok)
		ret = verify_live(c, org_id, out);
	store_reader_release(s, c);
	return ret;
}

/* ---- retention ---- */

#define PRUNE_DEFAULT 10000

static const char SQL_PRUNE_ORGS[] =
        "SELECT org_id, floor_seq FROM event_heads WHERE org_id > ?1 ORDER BY org_id LIMIT ?2";
static const char SQL_PRUNE_SCAN[] =
        "SELECT seq, at, hash FROM events WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";
static const char SQL_PRUNE_DELETE[] = "DELETE FROM events WHERE org_id = ?1 AND seq <= ?2";
static const char SQL_PRUNE_FLOOR[] =
        "UPDATE event_heads SET floor_seq = ?2, floor_hash = ?3 WHERE org_id = ?1";

/* Prune org's events older than before, at most budget of them; *n gets how many. */
static enum store_status prune_org(struct store_conn *c, int64_t org_id, int64_t floor,
                                   int64_t before, int64_t budget, int64_t *n, bool *more)
{
	sqlite3_stmt *st = store_stmt(c, SQL_PRUNE_SCAN);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, org_id);
	sqlite3_bind_int64(st, 2, floor);
	sqlite3_bind_int64(st, 3, budget + 1);
	int64_t last = floor, count = 0;
	uint8_t hash[HISTORY_HASH_LEN];
	int rc;
	*n = 0;
	/* Oldest first, up to the first event that is recent enough to keep. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 1) >= before)
			break;
		if (count == budget) {
			*more = true;
			break;
		}
		last = sqlite3_column_int64(st, 0);
		copy_hash(st, 2, hash);
		count++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_conn_error(c);
	if (count == 0)
		return STORE_OK;
	st = store_stmt(c, SQL_PRUNE_DELETE);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, org_id);
	sqlite3_bind_int64(st, 2, last);
	enum store_status ret = store_step_done(st);
	if (ret != STORE_OK)
		return ret;
	st = store_stmt(c, SQL_PRUNE_FLOOR);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, org_id);
	sqlite3_bind_int64(st, 2, last);
	sqlite3_bind_blob(st, 3, hash, HISTORY_HASH_LEN, SQLITE_TRANSIENT);
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
	int64_t orgs[BATCH], floors[BATCH], after = 0;
	enum store_status ret = STORE_OK;

	o->pruned = 0;
	o->more = false;
	/* The organizations first (a few at a time), then their events: never both at once. */
	for (;;) {
		size_t n = 0;
		sqlite3_stmt *st = store_stmt(c, SQL_PRUNE_ORGS);
		if (st == NULL)
			return STORE_ERROR;
		sqlite3_bind_int64(st, 1, after);
		sqlite3_bind_int(st, 2, BATCH);
		int rc;
		while (n < BATCH && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			orgs[n] = sqlite3_column_int64(st, 0);
			floors[n] = sqlite3_column_int64(st, 1);
			n++;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return store_conn_error(c);
		for (size_t i = 0; i < n && ret == STORE_OK && budget > o->pruned; i++) {
			int64_t got = 0;
			ret = prune_org(c, orgs[i], floors[i], o->before, budget - o->pruned, &got,
			                &o->more);
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
