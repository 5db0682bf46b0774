/*
 * store_rule.c - protection rules: adding, removing, listing, and the
 * check every tag change makes.  See store_rule.h and store_rule_internal.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store_rule.h"
#include "store_rule_internal.h"
#include "store_ss_internal.h"

/* A scope's name as events say it: the longest is "namespace/project". */
#define SCOPE_NAME_CAP (2 * SS_NAME_MAX + 2)

#define RULE_COLS "scope_kind, scope, pattern, mode, created_at, seq "

static const char SQL_REPO_ROW[] = "SELECT id FROM repos WHERE org_id = $1 AND name = $2";
static const char SQL_RULE_COUNT[] = "SELECT count(*) FROM tag_rules WHERE org_id = $1 "
                                     "AND scope_kind = $2 AND scope_key = $3";
static const char SQL_RULE_INSERT[] =
        "INSERT INTO tag_rules(org_id, scope_kind, scope_key, scope, pattern, mode, "
        "created_at, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char SQL_RULE_FIND[] =
        "SELECT id, mode FROM tag_rules WHERE org_id = $1 AND scope_kind = $2 "
        "AND scope_key = $3 AND pattern = $4 FOR UPDATE";
static const char SQL_RULE_DELETE[] = "DELETE FROM tag_rules WHERE id = $1";
static const char SQL_RULE_SCOPE[] =
        "SELECT id, pattern, mode FROM tag_rules WHERE org_id = $1 AND scope_kind = $2 "
        "AND scope_key = $3 ORDER BY pattern";
static const char SQL_RULE_LIST[] = "SELECT " RULE_COLS "FROM tag_rules WHERE org_id = $1 "
                                    "AND scope_kind = $2 AND scope_key = $3 ORDER BY pattern";
static const char SQL_RULE_ALL[] = "SELECT " RULE_COLS "FROM tag_rules WHERE org_id = $1 "
                                   "ORDER BY scope_kind <> 'organization', scope_kind, scope, "
                                   "pattern";
/* A tag's rules: its organization's, and those of its repository or project. */
static const char SQL_ANY_RULE[] = "SELECT count(*) FROM (SELECT 1 FROM tag_rules "
                                   "WHERE org_id = $1 LIMIT 1) AS one";
static const char SQL_RULES_OF_TAG[] =
        "SELECT pattern, mode, scope_kind FROM tag_rules WHERE org_id = $1 "
        "AND (scope_kind = 'organization' OR (scope_kind = $2 AND scope_key = $3)) "
        "ORDER BY mode, pattern";

void store_rule_release(struct store_rule *r)
{
	free(r->scope_name);
	free(r->pattern);
	r->scope_name = r->pattern = NULL;
}

void store_rule_list_free(struct store_rule **listp, size_t n)
{
	struct store_rule *list = *listp;
	for (size_t i = 0; list != NULL && i < n; i++)
		store_rule_release(&list[i]);
	free(list);
	*listp = NULL;
}

/* ---- what a call names ---- */

/*
 * Resolve w on c into the rule table's key: scope_key (a row id) and the
 * scope's name (cap bytes).
 */
static enum store_status scope_resolve(struct store_conn *c, const struct store_rule_where *w,
                                       int64_t *key, char *name, size_t cap)
{
	struct ss_scope sc;
	enum store_status ret;

	switch (w->scope) {
	case HISTORY_SCOPE_ORGANIZATION:
		*key = w->org_id;
		name[0] = '\0';
		return STORE_OK;
	case HISTORY_SCOPE_REPOSITORY: {
		if (w->repo == NULL || strlen(w->repo) >= cap)
			return STORE_REPO_NOT_FOUND;
		struct db_stmt *st = store_stmt(c, SQL_REPO_ROW);
		if (st == NULL)
			return store_conn_error(c);
		db_bind_int(st, 1, w->org_id);
		db_bind_text(st, 2, w->repo);
		ret = store_step_id(st, STORE_REPO_NOT_FOUND, key);
		if (ret == STORE_OK)
			snprintf(name, cap, "%s", w->repo);
		return ret;
	}
	case HISTORY_SCOPE_SERVICESTAGE:
		ret = ss_scope_resolve(c, &w->ss, true, &sc);
		if (ret == STORE_NOT_FOUND)
			return STORE_REPO_NOT_FOUND; /* no namespace: no such project */
		if (ret != STORE_OK)
			return ret;
		*key = sc.project_id;
		if ((size_t)snprintf(name, cap, "%s/%s", sc.ns_name, sc.project_name) >= cap)
			return STORE_INVALID;
		return STORE_OK;
	case HISTORY_SCOPE_COMMIT_TAGS:
		break;
	}
	return STORE_INVALID;
}

/* Append the event of a rule's addition or removal; *seq and *at get its seq and time. */
static enum store_status rule_event(struct store_conn *c, int64_t org_id,
                                    enum history_action action, enum history_scope scope,
                                    const char *scope_name, const char *pattern,
                                    enum rule_mode mode, const struct store_actor *actor,
                                    int64_t *seq, int64_t *at)
{
	struct history_event ev = {
	        .at = clock_now_us(),
	        .dialect = actor->dialect,
	        .scope = scope,
	        .scope_name = scope_name,
	        .action = action,
	        .token_id = actor->token_id,
	        .token_label = actor->token_label,
	        .request_id = actor->request_id,
	        .rule_pattern = pattern,
	        .rule_mode = rule_mode_name(mode),
	};
	enum store_status ret = store_event_append(c, org_id, &ev);
	if (ret == STORE_OK && seq != NULL)
		*seq = ev.seq;
	if (ret == STORE_OK && at != NULL)
		*at = ev.at;
	return ret;
}

/* Bind (org, scope kind, key) as $1..$3 of a statement of the rule table. */
static void bind_scope(struct db_stmt *st, int64_t org_id, enum history_scope scope, int64_t key)
{
	db_bind_int(st, 1, org_id);
	db_bind_text(st, 2, history_scope_name(scope));
	db_bind_int(st, 3, key);
}

/* ---- add ---- */

static enum store_status rule_count(struct store_conn *c, int64_t org_id, enum history_scope scope,
                                    int64_t key, int64_t *n)
{
	struct db_stmt *st = store_stmt(c, SQL_RULE_COUNT);
	if (st == NULL)
		return store_conn_error(c);
	bind_scope(st, org_id, scope, key);
	return store_step_id(st, STORE_ERROR, n);
}

static enum store_status rule_add_run(struct store_conn *c, struct store_op *op)
{
	struct store_rule_add_op *o = (struct store_rule_add_op *)op;
	const struct store_rule_where *w = &o->where;
	char name[SCOPE_NAME_CAP];
	int64_t key = 0, n = 0;

	store_rule_release(&o->out); /* a batch may be run again after a conflict */
	enum store_status ret = store_tag_lock(c, w->org_id);
	if (ret == STORE_OK)
		ret = scope_resolve(c, w, &key, name, sizeof(name));
	if (ret == STORE_OK)
		ret = rule_count(c, w->org_id, w->scope, key, &n);
	if (ret == STORE_OK && n >= STORE_RULES_MAX)
		ret = STORE_INVALID;
	/* The event first: the rule keeps its seq.  A taken pattern undoes both. */
	struct store_rule *r = &o->out;
	if (ret == STORE_OK)
		ret = rule_event(c, w->org_id, HISTORY_RULE_ADD, w->scope, name, o->pattern,
		                 o->mode, &o->actor, &r->seq, &r->created_at);
	if (ret != STORE_OK)
		return ret;
	c->chain.rules = CHAIN_RULES_UNKNOWN;
	struct db_stmt *st = store_stmt(c, SQL_RULE_INSERT);
	if (st == NULL)
		return store_conn_error(c);
	bind_scope(st, w->org_id, w->scope, key);
	db_bind_text(st, 4, name);
	db_bind_text(st, 5, o->pattern);
	db_bind_text(st, 6, rule_mode_name(o->mode));
	db_bind_int(st, 7, r->created_at);
	db_bind_int(st, 8, r->seq);
	ret = store_step_done(st);
	if (ret != STORE_OK)
		return ret;
	r->scope = w->scope;
	r->mode = o->mode;
	r->scope_name = strdup(name);
	r->pattern = strdup(o->pattern);
	if (r->scope_name == NULL || r->pattern == NULL) {
		store_rule_release(r);
		return STORE_NOMEM;
	}
	return STORE_OK;
}

void store_rule_add_op_init(struct store_rule_add_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = rule_add_run;
}

/* ---- remove ---- */

static enum store_status rule_remove_run(struct store_conn *c, struct store_op *op)
{
	struct store_rule_remove_op *o = (struct store_rule_remove_op *)op;
	const struct store_rule_where *w = &o->where;
	char name[SCOPE_NAME_CAP];
	int64_t key = 0, id = 0;
	enum rule_mode mode = RULE_PROTECTED;

	enum store_status ret = store_tag_lock(c, w->org_id);
	if (ret == STORE_OK)
		ret = scope_resolve(c, w, &key, name, sizeof(name));
	if (ret != STORE_OK)
		return ret;
	struct db_stmt *st = store_stmt(c, SQL_RULE_FIND);
	if (st == NULL)
		return store_conn_error(c);
	bind_scope(st, w->org_id, w->scope, key);
	db_bind_text(st, 4, o->pattern);
	int rc = db_step(st);
	ret = STORE_NOT_FOUND;
	if (rc == DB_ROW) {
		id = db_col_int(st, 0);
		ret = rule_mode_parse(db_col_text(st, 1), &mode) ? STORE_OK : STORE_CORRUPT;
	} else if (rc != DB_DONE) {
		ret = store_conn_error(c);
	}
	db_reset(st);
	if (ret == STORE_OK)
		ret = rule_event(c, w->org_id, HISTORY_RULE_REMOVE, w->scope, name, o->pattern,
		                 mode, &o->actor, NULL, NULL);
	if (ret != STORE_OK)
		return ret;
	c->chain.rules = CHAIN_RULES_UNKNOWN;
	st = store_stmt(c, SQL_RULE_DELETE);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, id);
	return store_step_done(st);
}

void store_rule_remove_op_init(struct store_rule_remove_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.run = rule_remove_run;
}

/* ---- lists ---- */

/* Step a bound RULE_COLS statement into a new list. */
static enum store_status collect(struct store_conn *c, struct db_stmt *st, struct store_rule **out,
                                 size_t *n)
{
	struct store_rule *list = NULL;
	size_t count = 0, cap = 0;
	enum store_status ret = STORE_OK;
	int rc;

	while ((rc = db_step(st)) == DB_ROW) {
		if (count == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			struct store_rule *grown = realloc(list, ncap * sizeof(*list));
			if (grown == NULL) {
				ret = STORE_NOMEM;
				break;
			}
			list = grown, cap = ncap;
		}
		struct store_rule *r = &list[count++];
		bool oom = false;
		memset(r, 0, sizeof(*r));
		r->scope_name = store_column_dup(st, 1, &oom);
		r->pattern = store_column_dup(st, 2, &oom);
		r->created_at = db_col_int(st, 4);
		r->seq = db_col_int(st, 5);
		if (oom) {
			ret = STORE_NOMEM;
			break;
		}
		if (!history_scope_parse(db_col_text(st, 0), &r->scope) ||
		    !rule_mode_parse(db_col_text(st, 3), &r->mode) || r->scope_name == NULL ||
		    r->pattern == NULL) {
			ret = STORE_CORRUPT;
			break;
		}
	}
	if (ret == STORE_OK && rc != DB_DONE)
		ret = store_conn_error(c);
	db_reset(st);
	if (ret != STORE_OK) {
		store_rule_list_free(&list, count);
		count = 0;
	}
	*out = list;
	*n = count;
	return ret;
}

enum store_status store_rule_list(struct store *s, const struct store_rule_where *w,
                                  struct store_rule **out, size_t *n)
{
	char name[SCOPE_NAME_CAP];
	int64_t key = 0;

	*out = NULL;
	*n = 0;
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = store_read_begin(c);
	if (ret == STORE_OK)
		ret = scope_resolve(c, w, &key, name, sizeof(name));
	if (ret == STORE_OK) {
		struct db_stmt *st = store_stmt(c, SQL_RULE_LIST);
		if (st == NULL) {
			ret = store_conn_error(c);
		} else {
			bind_scope(st, w->org_id, w->scope, key);
			ret = collect(c, st, out, n);
		}
	}
	store_reader_release(s, c);
	return ret;
}

enum store_status store_rule_list_all(struct store *s, int64_t org_id, struct store_rule **out,
                                      size_t *n)
{
	*out = NULL;
	*n = 0;
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret;
	struct db_stmt *st = store_stmt(c, SQL_RULE_ALL);
	if (st == NULL) {
		ret = store_conn_error(c);
	} else {
		db_bind_int(st, 1, org_id);
		ret = collect(c, st, out, n);
	}
	store_reader_release(s, c);
	return ret;
}

/* ---- what the tag changes see ---- */

enum store_status store_rule_enforce(struct store_conn *c, const struct tag_where *w,
                                     enum rule_change change, const struct store_actor *actor,
                                     struct store_refusal *refused)
{
	enum token_scope scope = actor != NULL ? actor->scope : TOKEN_SCOPE_NONE;
	/* Under the chain lock, an organization known to have no rule at all passes. */
	bool held = c->chain.org_id == w->org_id && c->chain.locked;
	if (held && c->chain.rules == CHAIN_RULES_UNKNOWN) {
		struct db_stmt *any = store_stmt(c, SQL_ANY_RULE);
		int64_t n = 0;
		if (any != NULL)
			db_bind_int(any, 1, w->org_id);
		enum store_status got =
		        any != NULL ? store_step_id(any, STORE_ERROR, &n) : store_conn_error(c);
		if (got != STORE_OK)
			return got;
		c->chain.rules = n == 0 ? CHAIN_RULES_NONE : CHAIN_RULES_SOME;
	}
	if (held && c->chain.rules == CHAIN_RULES_NONE)
		return STORE_OK;
	struct db_stmt *st = store_stmt(c, SQL_RULES_OF_TAG);
	if (st == NULL)
		return store_conn_error(c);
	bind_scope(st, w->org_id, w->scope, w->key);
	enum store_status ret = STORE_OK;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *pattern = db_col_text(st, 0);
		enum rule_mode mode;
		enum history_scope where;
		if (pattern == NULL || !rule_mode_parse(db_col_text(st, 1), &mode) ||
		    !history_scope_parse(db_col_text(st, 2), &where)) {
			ret = STORE_CORRUPT;
			break;
		}
		if (!rule_pattern_match(pattern, w->tag) || rule_allows(mode, change, scope))
			continue;
		if (refused != NULL) {
			snprintf(refused->tag, sizeof(refused->tag), "%s", w->tag);
			snprintf(refused->pattern, sizeof(refused->pattern), "%s", pattern);
			refused->mode = mode;
			refused->rule_scope = where;
			refused->cascade = false;
		}
		ret = STORE_REFUSED;
		break;
	}
	if (ret == STORE_OK && rc != DB_DONE)
		ret = store_conn_error(c);
	db_reset(st);
	return ret;
}

/* A rule read for removal: its row and what its event says. */
struct doomed {
	int64_t id;
	char *pattern;
	enum rule_mode mode;
};

enum store_status store_rule_drop_all(struct store_conn *c, int64_t org_id,
                                      enum history_scope scope, int64_t key, const char *scope_name,
                                      const struct store_actor *actor)
{
	struct doomed *list = NULL;
	size_t n = 0, cap = 0;
	enum store_status ret = STORE_OK;

	/* All of them first (a scope holds few), then one event and one delete each. */
	struct db_stmt *st = store_stmt(c, SQL_RULE_SCOPE);
	if (st == NULL)
		return store_conn_error(c);
	bind_scope(st, org_id, scope, key);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			struct doomed *grown = realloc(list, ncap * sizeof(*list));
			if (grown == NULL) {
				ret = STORE_NOMEM;
				break;
			}
			list = grown, cap = ncap;
		}
		bool oom = false;
		struct doomed *d = &list[n++];
		d->id = db_col_int(st, 0);
		d->pattern = store_column_dup(st, 1, &oom);
		if (oom || d->pattern == NULL) {
			ret = oom ? STORE_NOMEM : STORE_CORRUPT;
			break;
		}
		if (!rule_mode_parse(db_col_text(st, 2), &d->mode)) {
			ret = STORE_CORRUPT;
			break;
		}
	}
	if (ret == STORE_OK && rc != DB_DONE)
		ret = store_conn_error(c);
	db_reset(st);
	for (size_t i = 0; ret == STORE_OK && i < n; i++) {
		ret = rule_event(c, org_id, HISTORY_RULE_REMOVE, scope, scope_name, list[i].pattern,
		                 list[i].mode, actor, NULL, NULL);
		c->chain.rules = CHAIN_RULES_UNKNOWN;
		st = ret == STORE_OK ? store_stmt(c, SQL_RULE_DELETE) : NULL;
		if (ret == STORE_OK && st == NULL)
			ret = store_conn_error(c);
		if (st != NULL) {
			db_bind_int(st, 1, list[i].id);
			ret = store_step_done(st);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(list[i].pattern);
	free(list);
	return ret;
}

/* ---- what history verify checks ---- */

struct walk_rule {
	enum history_scope scope;
	char *scope_name;
	char *pattern;
	char mode[16];
	int64_t seq;  /* the event that added it */
	bool matched; /* the table has it */
};

struct rule_walk {
	struct walk_rule *items;
	size_t n, cap;
};

static const char SQL_RULE_CHECK[] =
        "SELECT scope_kind, scope, pattern, mode, seq FROM tag_rules WHERE org_id = $1 "
        "ORDER BY seq";

struct rule_walk *rule_walk_new(void)
{
	return calloc(1, sizeof(struct rule_walk));
}

void rule_walk_free(struct rule_walk **wp)
{
	struct rule_walk *w = *wp;
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n; i++) {
		free(w->items[i].scope_name);
		free(w->items[i].pattern);
	}
	free(w->items);
	free(w);
	*wp = NULL;
}

/* The standing rule of (scope, name, pattern), or NULL. */
static struct walk_rule *walk_find(struct rule_walk *w, enum history_scope scope, const char *name,
                                   const char *pattern)
{
	for (size_t i = 0; i < w->n; i++) {
		struct walk_rule *r = &w->items[i];
		if (r->scope == scope && strcmp(r->scope_name, name) == 0 &&
		    strcmp(r->pattern, pattern) == 0)
			return r;
	}
	return NULL;
}

/* "the repository rule 'v*' of 'app'", for messages. */
static void describe(char *buf, size_t cap, enum history_scope scope, const char *name,
                     const char *pattern)
{
	snprintf(buf, cap, "the %s rule '%s'%s%s%s", history_scope_name(scope), pattern,
	         *name ? " of '" : "", name, *name ? "'" : "");
}

enum store_status rule_walk_event(struct rule_walk *w, const struct history_event *ev,
                                  int64_t floor, char *why, size_t cap, bool *ok)
{
	char what[STORE_TAG_NAME_MAX + RULE_PATTERN_MAX + 64];
	struct walk_rule *r = walk_find(w, ev->scope, ev->scope_name, ev->rule_pattern);
	long long seq = (long long)ev->seq;

	*ok = true;
	describe(what, sizeof(what), ev->scope, ev->scope_name, ev->rule_pattern);
	if (ev->action == HISTORY_RULE_REMOVE) {
		if (r != NULL && strcmp(r->mode, ev->rule_mode) != 0) {
			*ok = false;
			snprintf(why, cap,
			         "event %lld removes %s as %s, but event %lld added it %s", seq,
			         what, ev->rule_mode, (long long)r->seq, r->mode);
		} else if (r != NULL) {
			free(r->scope_name);
			free(r->pattern);
			*r = w->items[--w->n];
		} else if (floor == 0) { /* else it may have been added before the checkpoint */
			*ok = false;
			snprintf(why, cap, "event %lld removes %s, which no event added", seq,
			         what);
		}
		return STORE_OK;
	}
	if (r != NULL) {
		*ok = false;
		snprintf(why, cap, "event %lld adds %s, which event %lld added already", seq, what,
		         (long long)r->seq);
		return STORE_OK;
	}
	if (w->n == w->cap) {
		size_t ncap = w->cap ? 2 * w->cap : 16;
		struct walk_rule *grown = realloc(w->items, ncap * sizeof(*grown));
		if (grown == NULL)
			return STORE_NOMEM;
		w->items = grown, w->cap = ncap;
	}
	r = &w->items[w->n];
	*r = (struct walk_rule){.scope = ev->scope, .seq = ev->seq};
	snprintf(r->mode, sizeof(r->mode), "%s", ev->rule_mode);
	r->scope_name = strdup(ev->scope_name);
	r->pattern = strdup(ev->rule_pattern);
	if (r->scope_name == NULL || r->pattern == NULL) {
		free(r->scope_name);
		free(r->pattern);
		return STORE_NOMEM;
	}
	w->n++;
	return STORE_OK;
}

enum store_status rule_walk_check(struct store_conn *c, struct rule_walk *w, int64_t org_id,
                                  int64_t floor, int64_t *seq, char *why, size_t cap, bool *ok)
{
	char what[STORE_TAG_NAME_MAX + RULE_PATTERN_MAX + 64];
	struct db_stmt *st = store_stmt(c, SQL_RULE_CHECK);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, org_id);
	*ok = true;
	int rc;
	while (*ok && (rc = db_step(st)) == DB_ROW) {
		enum history_scope scope;
		const char *name = db_col_text(st, 1), *pattern = db_col_text(st, 2);
		const char *mode = db_col_text(st, 3);
		int64_t added = db_col_int(st, 4);
		if (added <= floor)
			continue; /* its addition was pruned */
		if (!history_scope_parse(db_col_text(st, 0), &scope) || name == NULL ||
		    pattern == NULL || mode == NULL) {
			db_reset(st);
			return STORE_CORRUPT;
		}
		struct walk_rule *r = walk_find(w, scope, name, pattern);
		describe(what, sizeof(what), scope, name, pattern);
		*seq = added;
		if (r == NULL) {
			*ok = false;
			snprintf(why, cap, "%s: no event added it, or a later one removed it",
			         what);
		} else if (r->seq != added || strcmp(r->mode, mode) != 0) {
			*ok = false;
			snprintf(why, cap, "%s is not as event %lld added it", what,
			         (long long)r->seq);
		} else {
			r->matched = true;
		}
	}
	enum store_status ret = *ok && rc != DB_DONE ? store_conn_error(c) : STORE_OK;
	db_reset(st);
	for (size_t i = 0; ret == STORE_OK && *ok && i < w->n; i++) {
		struct walk_rule *r = &w->items[i];
		if (r->matched)
			continue;
		describe(what, sizeof(what), r->scope, r->scope_name, r->pattern);
		*ok = false;
		*seq = r->seq;
		snprintf(why, cap,
		         "event %lld added %s, which is gone without an event removing it "
		         "(removed behind tagd's back)",
		         (long long)r->seq, what);
	}
	return ret;
}
