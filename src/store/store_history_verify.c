/*
 * store_history_verify.c - recomputing an organization's chain from its
 * checkpoint and checking the tags, tombstones and rules against it
 * (`tagd history verify`).  See store_history.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_history.h"
#include "store_history_internal.h"
#include "store_internal.h"
#include "store_rule_internal.h"

static const char SQL_ALL_EVENTS[] =
        "SELECT " STORE_EVENT_COLS "FROM events WHERE org_id = $1 ORDER BY seq";

/*
 * Tags changed since history began (rev above the checkpoint), each with
 * the event its rev names: (scope name, tag, commit, description, rev,
 * event seq, scope_kind, scope, tag, action, commit_ref,
 * description_changed, description).  $1 org, $2 checkpoint.
 */
#define TAG_CHECK_COLS                                                                             \
	"t.rev, e.seq, e.scope_kind, e.scope, e.tag, e.action, e.commit_ref, "                     \
	"e.description_changed, e.description "

static const char *const SQL_TAG_CHECKS[] = {
        [HISTORY_SCOPE_REPOSITORY] = "SELECT r.name, t.name, c.uuid, t.description, " TAG_CHECK_COLS
                                     "FROM repo_tags t JOIN repos r ON r.id = t.repo_id "
                                     "JOIN commits c ON c.id = t.commit_id "
                                     "LEFT JOIN events e ON e.org_id = r.org_id AND e.seq = t.rev "
                                     "WHERE r.org_id = $1 AND t.rev > $2",
        [HISTORY_SCOPE_COMMIT_TAGS] = "SELECT '', t.name, c.uuid, t.description, " TAG_CHECK_COLS
                                      "FROM commit_tags t JOIN commits c ON c.id = t.commit_id "
                                      "LEFT JOIN events e ON e.org_id = t.org_id AND e.seq = t.rev "
                                      "WHERE t.org_id = $1 AND t.rev > $2",
        [HISTORY_SCOPE_SERVICESTAGE] =
                "SELECT n.name || '/' || p.name, t.name, c.sha, t.message, " TAG_CHECK_COLS
                "FROM ss_tags t JOIN ss_projects p ON p.id = t.project_id "
                "JOIN ss_namespaces n ON n.id = p.namespace_id "
                "JOIN ss_commits c ON c.id = t.commit_id "
                "LEFT JOIN events e ON e.org_id = n.org_id AND e.seq = t.rev "
                "WHERE n.org_id = $1 AND t.rev > $2",
};

/* Tombstones above the checkpoint with the event each names. */
static const char SQL_TOMBSTONE_CHECKS[] =
        "SELECT b.scope_kind, b.scope, b.tag, b.seq, e.scope_kind, e.scope, e.tag, e.action "
        "FROM event_tombstones b LEFT JOIN events e ON e.org_id = b.org_id AND e.seq = b.seq "
        "WHERE b.org_id = $1 AND b.seq > $2";

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

/*
 * What the walk of the chain learns: which events a later event of the same
 * tag continues (one bit per event above the checkpoint).  The others are
 * the heads of their tags' histories.
 */
struct walk {
	uint8_t *continued; /* a later event of the same tag names it */
	uint8_t *shown;     /* a live tag's rev or a tombstone names it (or it is a rule's) */
	int64_t floor, n;
	struct rule_walk *rules; /* the rules the events leave standing */
};

/* Set seq's bit in bits; false when it was set already.  Pruned events are not tracked. */
static bool bit_set(const struct walk *w, uint8_t *bits, int64_t seq)
{
	int64_t i = seq - w->floor - 1;
	if (i < 0 || i >= w->n)
		return true;
	uint8_t bit = (uint8_t)(1u << (i & 7));
	if (bits[i >> 3] & bit)
		return false;
	bits[i >> 3] |= bit;
	return true;
}

static bool bit_get(const struct walk *w, const uint8_t *bits, int64_t seq)
{
	int64_t i = seq - w->floor - 1;
	return i >= 0 && i < w->n && (bits[i >> 3] & (1u << (i & 7)));
}

static bool walk_mark(struct walk *w, int64_t seq)
{
	return bit_set(w, w->continued, seq);
}

static bool walk_continued(const struct walk *w, int64_t seq)
{
	return bit_get(w, w->continued, seq);
}

static bool same_ref(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * A rule event names no tag, commit or earlier event, and adds a rule that
 * does not stand or removes one that does.  It heads no tag's history.
 */
static enum store_status verify_rule_event(const struct history_event *ev, struct walk *w,
                                           struct history_verify *v)
{
	char why[sizeof(v->problem)];
	bool ok = true;
	bit_set(w, w->shown, ev->seq);
	if (ev->commit_id != NULL || ev->previous_commit_id != NULL || ev->previous_seq > 0 ||
	    ev->description_changed) {
		problem(v, ev->seq, "event %lld: a rule event that names a tag's change",
		        (long long)ev->seq);
		return STORE_OK;
	}
	enum store_status ret = rule_walk_event(w->rules, ev, w->floor, why, sizeof(why), &ok);
	if (ret == STORE_OK && !ok)
		problem(v, ev->seq, "%s", why);
	return ret;
}

/* The actions' own rules, and the link to the tag's previous event. */
static enum store_status verify_link(struct store_conn *c, int64_t org_id,
                                     const struct history_event *ev, struct walk *w,
                                     struct history_verify *v)
{
	long long seq = (long long)ev->seq, prev = (long long)ev->previous_seq;
	if (history_action_is_rule(ev->action))
		return verify_rule_event(ev, w, v);
	bool moved = !same_ref(ev->commit_id, ev->previous_commit_id);
	if ((ev->action == HISTORY_CREATE && ev->previous_commit_id != NULL) ||
	    (ev->action != HISTORY_CREATE && ev->previous_commit_id == NULL) ||
	    (ev->action == HISTORY_DELETE) != (ev->commit_id == NULL) ||
	    (ev->action == HISTORY_MOVE && !moved) || (ev->action == HISTORY_UPDATE && moved)) {
		problem(v, ev->seq, "event %lld: its action does not fit its commits", seq);
		return STORE_OK;
	}
	if (ev->previous_seq <= 0)
		return STORE_OK; /* the name's first event, or its tag predates history */
	if (ev->previous_seq >= ev->seq) {
		problem(v, ev->seq, "event %lld: previous_seq %lld is not earlier", seq, prev);
		return STORE_OK;
	}
	if (!walk_mark(w, ev->previous_seq)) {
		problem(v, ev->seq, "event %lld: event %lld is continued twice", seq, prev);
		return STORE_OK;
	}
	if (ev->previous_seq <= w->floor)
		return STORE_OK;
	struct history_event p;
	char *block = NULL;
	size_t n;
	enum store_status ret = store_event_get(c, org_id, ev->previous_seq, &p, &block, &n);
	if (ret == STORE_NOT_FOUND) {
		problem(v, ev->seq, "event %lld: its previous event %lld is missing", seq, prev);
		return STORE_OK;
	}
	if (ret != STORE_OK)
		return ret;
	if (p.tag == NULL || p.scope != ev->scope || strcmp(p.scope_name, ev->scope_name) != 0 ||
	    strcmp(p.tag, ev->tag) != 0)
		problem(v, ev->seq, "event %lld: previous_seq %lld is another tag's event", seq,
		        prev);
	else if ((p.action == HISTORY_DELETE) != (ev->action == HISTORY_CREATE) ||
	         (p.action != HISTORY_DELETE && !same_ref(p.commit_id, ev->previous_commit_id)))
		problem(v, ev->seq, "event %lld does not continue from event %lld (commits differ)",
		        seq, prev);
	free(block);
	return STORE_OK;
}

/* Walk the chain from the checkpoint; v->ok false at the first break. */
static enum store_status verify_chain(struct store_conn *c, int64_t org_id, struct walk *w,
                                      struct history_verify *v)
{
	uint8_t running[HISTORY_HASH_LEN];
	int64_t expect = v->head.floor_seq + 1;
	memcpy(running, v->head.floor_hash, HISTORY_HASH_LEN);

	struct db_stmt *st = store_stmt(c, SQL_ALL_EVENTS);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	enum store_status ret = STORE_OK;
	int rc = DB_DONE;
	while (v->ok && (rc = db_step(st)) == DB_ROW) {
		struct history_event ev;
		char *block = NULL;
		size_t bytes;
		ret = store_event_row(st, &ev, &block, &bytes);
		if (ret == STORE_CORRUPT) {
			int64_t seq = db_col_int(st, 0);
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
			ret = verify_link(c, org_id, &ev, w, v);
		}
		free(block);
		if (ret != STORE_OK)
			break;
	}
	db_reset(st);
	if (ret == STORE_OK && v->ok && rc != DB_DONE)
		ret = store_conn_error(c);
	return ret;
}

static bool same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp((const char *)a, (const char *)b) == 0;
}

/* Every tag changed since history began is as its last event (a head) left it. */
static enum store_status verify_tags(struct store_conn *c, int64_t org_id, struct walk *w,
                                     struct history_verify *v)
{
	for (int scope = 0; v->ok && scope < 3; scope++) {
		struct db_stmt *st = store_stmt(c, SQL_TAG_CHECKS[scope]);
		if (st == NULL)
			return store_conn_error(c);
		db_bind_int(st, 1, org_id);
		db_bind_int(st, 2, v->head.floor_seq);
		int rc = DB_DONE;
		while (v->ok && (rc = db_step(st)) == DB_ROW) {
			const char *scope_name = db_col_text(st, 0);
			const char *tag = db_col_text(st, 1);
			int64_t rev = db_col_int(st, 4);
			char what[600];
			snprintf(what, sizeof(what), "%s tag '%s%s%s'",
			         history_scope_name((enum history_scope)scope),
			         scope_name && *scope_name ? (const char *)scope_name : "",
			         scope_name && *scope_name ? ":" : "", (const char *)tag);
			v->tags++;
			const char *action = db_col_text(st, 9);
			bool desc_known = db_col_int(st, 11) != 0 ||
			                  same_text(action, (const char *)"create");
			if (db_col_null(st, 5))
				problem(v, rev, "%s: the event of its revision does not exist",
				        what);
			else if (!same_text(db_col_text(st, 6),
			                    (const char *)history_scope_name(
			                            (enum history_scope)scope)) ||
			         !same_text(db_col_text(st, 7), scope_name) ||
			         !same_text(db_col_text(st, 8), tag))
				problem(v, rev, "%s: the event of its revision is another tag's",
				        what);
			else if (same_text(action, (const char *)"delete"))
				problem(v, rev, "%s: exists, but its last event deleted it", what);
			else if (walk_continued(w, rev))
				problem(v, rev,
				        "%s: a later event changed it, the tag does not show it",
				        what);
			else if (!same_text(db_col_text(st, 10), db_col_text(st, 2)))
				problem(v, rev, "%s: its commit is not the one its last event set",
				        what);
			else if (desc_known && !same_text(db_col_text(st, 12), db_col_text(st, 3)))
				problem(v, rev,
				        "%s: its description is not the one its last event set",
				        what);
			else
				bit_set(w, w->shown, rev);
		}
		if (v->ok && rc != DB_DONE) {
			db_reset(st);
			return store_conn_error(c);
		}
		db_reset(st);
	}
	return STORE_OK;
}

/* Every tombstone names a delete of its name that nothing continued. */
static enum store_status verify_tombstones(struct store_conn *c, int64_t org_id, struct walk *w,
                                           struct history_verify *v)
{
	struct db_stmt *st = store_stmt(c, SQL_TOMBSTONE_CHECKS);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	db_bind_int(st, 2, v->head.floor_seq);
	int rc = DB_DONE;
	while (v->ok && (rc = db_step(st)) == DB_ROW) {
		const char *tag = db_col_text(st, 2);
		int64_t seq = db_col_int(st, 3);
		if (!same_text(db_col_text(st, 0), db_col_text(st, 4)) ||
		    !same_text(db_col_text(st, 1), db_col_text(st, 5)) ||
		    !same_text(tag, db_col_text(st, 6)) ||
		    !same_text(db_col_text(st, 7), (const char *)"delete"))
			problem(v, seq,
			        "the deleted tag '%s' names event %lld, which is not its delete",
			        (const char *)tag, (long long)seq);
		else if (walk_continued(w, seq))
			problem(v, seq,
			        "the deleted tag '%s' was created again, yet its tombstone stays",
			        (const char *)tag);
		else
			bit_set(w, w->shown, seq);
	}
	enum store_status ret = v->ok && rc != DB_DONE ? store_conn_error(c) : STORE_OK;
	db_reset(st);
	return ret;
}

/*
 * Each event nothing continued is a tag's newest: a live tag at that
 * revision or a tombstone must show it.  One that neither shows changed a
 * tag that is not as it says, or was removed behind tagd's back.
 */
static enum store_status verify_heads(struct store_conn *c, int64_t org_id, const struct walk *w,
                                      struct history_verify *v)
{
	for (int64_t seq = w->floor + 1; seq <= w->floor + w->n; seq++) {
		if (bit_get(w, w->continued, seq) || bit_get(w, w->shown, seq))
			continue;
		struct history_event ev;
		char *block = NULL;
		size_t n;
		enum store_status ret = store_event_get(c, org_id, seq, &ev, &block, &n);
		if (ret != STORE_OK)
			return ret;
		problem(v, seq, "event %lld: the %s of %s tag '%s%s%s' is its last event, but %s",
		        (long long)seq, history_action_name(ev.action),
		        history_scope_name(ev.scope), ev.scope_name, *ev.scope_name ? ":" : "",
		        ev.tag ? ev.tag : "",
		        ev.action == HISTORY_DELETE
		                ? "the name has no tombstone"
		                : "no such tag exists (removed behind tagd's back)");
		free(block);
		return STORE_OK;
	}
	return STORE_OK;
}

enum store_status store_history_verify(struct store *s, int64_t org_id, struct history_verify *out)
{
	memset(out, 0, sizeof(*out));
	out->ok = true;
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	struct walk w = {0};
	enum store_status ret = store_read_begin(c);
	if (ret == STORE_OK)
		ret = store_history_head_on(c, org_id, &out->head);
	if (ret == STORE_OK) {
		w.floor = out->head.floor_seq;
		w.n = out->head.seq - w.floor;
		w.continued = calloc((size_t)(w.n / 8 + 1), 1);
		w.shown = calloc((size_t)(w.n / 8 + 1), 1);
		w.rules = rule_walk_new();
		if (w.continued == NULL || w.shown == NULL || w.rules == NULL)
			ret = STORE_NOMEM;
	}
	if (ret == STORE_OK)
		ret = verify_chain(c, org_id, &w, out);
	if (ret == STORE_OK && out->ok)
		ret = verify_tags(c, org_id, &w, out);
	if (ret == STORE_OK && out->ok)
		ret = verify_tombstones(c, org_id, &w, out);
	if (ret == STORE_OK && out->ok)
		ret = verify_heads(c, org_id, &w, out);
	if (ret == STORE_OK && out->ok) {
		char why[sizeof(out->problem)];
		int64_t seq = 0;
		bool ok = true;
		ret = rule_walk_check(c, w.rules, org_id, w.floor, &seq, why, sizeof(why), &ok);
		if (ret == STORE_OK && !ok)
			problem(out, seq, "%s", why);
	}
	rule_walk_free(&w.rules);
	free(w.continued);
	free(w.shown);
	store_reader_release(s, c);
	return ret;
}
