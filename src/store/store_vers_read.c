/*
 * store_vers_read.c - Vers reads: repositories, repository tags, commits and
 * legacy commit tags.  See store_vers.h.
 *
 * Every list walks an index in the order it answers (see 0001_initial.sql),
 * so a list never sorts in memory, and rows reach the caller's callback as
 * views of SQLite's own buffers: no copy per row.  Reads of more than one
 * statement run in one read transaction, so they see one snapshot.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "store_vers.h"

/* Status of a step that did not give a row. */
static enum store_status step_status(struct store_conn *c, int rc, enum store_status done)
{
	if (rc == DB_DONE)
		return done;
	return store_conn_error(c);
}

/* A text column as a borrowed string (NULL for SQL NULL). */
static char *col_text(struct db_stmt *st, int col)
{
	return (char *)db_col_text(st, col);
}

/* ---- repositories ---- */

#define REPO_COLS "r.id, r.uuid, r.name, r.description, r.is_public, r.created_at, o.name "

static const char SQL_REPOS[] = "SELECT " REPO_COLS "FROM repos r JOIN orgs o ON o.id = r.org_id "
                                "WHERE r.org_id = $1 ORDER BY r.name";
static const char SQL_PUBLIC_REPOS[] =
        "SELECT " REPO_COLS "FROM repos r JOIN orgs o ON o.id = r.org_id "
        "WHERE r.is_public ORDER BY r.name, o.name";
static const char SQL_REPO_PRIVATE[] =
        "SELECT " REPO_COLS "FROM repos r JOIN orgs o ON o.id = r.org_id "
        "WHERE r.org_id = $1 AND r.name = $2";
static const char SQL_REPO_PUBLIC[] =
        "SELECT " REPO_COLS "FROM orgs o JOIN repos r ON r.org_id = o.id "
        "WHERE o.name = $1 AND r.name = $2 AND r.is_public";

/* A borrowed view of the current row of a REPO_COLS statement; returns the row id. */
static int64_t repo_view(struct db_stmt *st, struct vers_repo *r, bool with_org)
{
	store_column_copy(st, 1, r->repo_id, sizeof(r->repo_id));
	r->name = col_text(st, 2);
	r->description = col_text(st, 3);
	r->is_public = db_col_int(st, 4) != 0;
	r->created_at = db_col_int(st, 5);
	r->org_name = with_org ? col_text(st, 6) : NULL;
	return db_col_int(st, 0);
}

/* Run a repository list statement (already bound) through fn. */
static enum store_status repo_walk(struct store_conn *c, struct db_stmt *st, bool with_org,
                                   vers_repo_fn fn, void *ctx)
{
	enum store_status ret = STORE_OK;
	int rc;

	while ((rc = db_step(st)) == DB_ROW) {
		struct vers_repo r;
		repo_view(st, &r, with_org);
		if (r.name == NULL || !fn(ctx, &r)) {
			ret = STORE_NOMEM;
			break;
		}
	}
	if (ret == STORE_OK)
		ret = step_status(c, rc, STORE_OK);
	db_reset(st);
	return ret;
}

enum store_status store_vers_repos(struct store *s, int64_t org_id, vers_repo_fn fn, void *ctx)
{
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	struct db_stmt *st = store_stmt(c, SQL_REPOS);
	enum store_status ret = st != NULL ? STORE_OK : store_conn_error(c);
	if (st != NULL) {
		db_bind_int(st, 1, org_id);
		ret = repo_walk(c, st, false, fn, ctx);
	}
	store_reader_release(s, c);
	return ret;
}

enum store_status store_vers_public_repos(struct store *s, vers_repo_fn fn, void *ctx)
{
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	struct db_stmt *st = store_stmt(c, SQL_PUBLIC_REPOS);
	enum store_status ret = st != NULL ? STORE_OK : store_conn_error(c);
	if (st != NULL)
		ret = repo_walk(c, st, true, fn, ctx);
	store_reader_release(s, c);
	return ret;
}

/*
 * Find the repository key names on c.  With out, copy it there (owned).
 * *row gets its row id.  STORE_REPO_NOT_FOUND when there is none.
 */
static enum store_status repo_find(struct store_conn *c, const struct vers_repo_key *key,
                                   int64_t *row, struct vers_repo *out)
{
	bool public = key->org_name != NULL;
	struct db_stmt *st = store_stmt(c, public ? SQL_REPO_PUBLIC : SQL_REPO_PRIVATE);
	if (st == NULL)
		return store_conn_error(c);
	if (public)
		db_bind_text(st, 1, key->org_name);
	else
		db_bind_int(st, 1, key->org_id);
	db_bind_text(st, 2, key->name);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		enum store_status ret = step_status(c, rc, STORE_REPO_NOT_FOUND);
		db_reset(st);
		return ret;
	}
	struct vers_repo view;
	*row = repo_view(st, &view, true);
	enum store_status ret = STORE_OK;
	if (out != NULL) {
		bool oom = false;
		*out = view;
		out->name = store_column_dup(st, 2, &oom);
		out->description = store_column_dup(st, 3, &oom);
		out->org_name = store_column_dup(st, 6, &oom);
		if (oom) {
			vers_repo_release(out);
			ret = STORE_NOMEM;
		}
	}
	db_reset(st);
	return ret;
}

enum store_status store_vers_repo_get(struct store *s, const struct vers_repo_key *key,
                                      struct vers_repo *out)
{
	struct store_conn *c = store_reader(s);
	int64_t row = 0;

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = repo_find(c, key, &row, out);
	store_reader_release(s, c);
	return ret;
}

/* ---- tags (repository tags and legacy commit tags share one shape) ---- */

#define TAG_COLS "t.uuid, t.name, c.uuid, t.description, t.created_at, t.updated_at, t.rev "

static const char SQL_REPO_TAGS[] =
        "SELECT " TAG_COLS "FROM repo_tags t JOIN commits c ON c.id = t.commit_id "
        "WHERE t.repo_id = $1 ORDER BY t.name";
/*
 * One tag with its repository in one statement (a single statement sees one
 * snapshot: no read transaction, one round trip on PostgreSQL): no row, no
 * repository; a row of NULLs, no tag of that name in it.
 */
#define REPO_TAG_JOIN                                                                              \
	"LEFT JOIN repo_tags t ON t.repo_id = r.id AND t.name = $3 "                               \
	"LEFT JOIN commits c ON c.id = t.commit_id "
static const char SQL_REPO_TAG_PRIVATE[] =
        "SELECT " TAG_COLS "FROM repos r " REPO_TAG_JOIN "WHERE r.org_id = $1 AND r.name = $2";
static const char SQL_REPO_TAG_PUBLIC[] =
        "SELECT " TAG_COLS
        "FROM orgs o JOIN repos r ON r.org_id = o.id AND r.is_public " REPO_TAG_JOIN
        "WHERE o.name = $1 AND r.name = $2";
static const char SQL_COMMIT_TAGS[] =
        "SELECT " TAG_COLS "FROM commit_tags t JOIN commits c ON c.id = t.commit_id "
        "WHERE t.org_id = $1 ORDER BY t.name";
static const char SQL_COMMIT_TAG[] =
        "SELECT " TAG_COLS "FROM commit_tags t JOIN commits c ON c.id = t.commit_id "
        "WHERE t.org_id = $1 AND t.name = $2";

/* Pages: $2 is the exclusive lower bound ('' from the start: no name is empty), $3 the limit. */
static const char SQL_REPO_TAGS_PAGE[] =
        "SELECT " TAG_COLS "FROM repo_tags t JOIN commits c ON c.id = t.commit_id "
        "WHERE t.repo_id = $1 AND t.name > $2 ORDER BY t.name LIMIT $3";
static const char SQL_COMMIT_TAGS_PAGE[] =
        "SELECT " TAG_COLS "FROM commit_tags t JOIN commits c ON c.id = t.commit_id "
        "WHERE t.org_id = $1 AND t.name > $2 ORDER BY t.name LIMIT $3";

static void tag_view(struct db_stmt *st, struct vers_tag *t)
{
	store_column_copy(st, 0, t->tag_id, sizeof(t->tag_id));
	t->name = col_text(st, 1);
	store_column_copy(st, 2, t->commit_id, sizeof(t->commit_id));
	t->description = col_text(st, 3);
	t->created_at = db_col_int(st, 4);
	t->updated_at = db_col_int(st, 5);
	t->rev = db_col_int(st, 6);
}

/*
 * Run a tag list statement keyed by $1 = key through fn.  With a page, the
 * statement also takes $2 = the name to start after and $3 = a row limit:
 * page->limit rows are passed on, and one more is read to learn whether
 * more remain.  Without one, every row is.
 */
static enum store_status tag_rows(struct store_conn *c, const char *sql, int64_t key,
                                  struct vers_page *page, vers_tag_fn fn, void *ctx)
{
	struct db_stmt *st = store_stmt(c, sql);
	enum store_status ret = STORE_OK;
	int64_t n = 0;
	int rc;

	if (page != NULL)
		page->more = false;
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, key);
	if (page != NULL) {
		if (page->limit < 1 || page->limit == INT64_MAX)
			return STORE_INVALID;
		db_bind_text(st, 2, page->after != NULL ? page->after : "");
		db_bind_int(st, 3, page->limit + 1);
	}
	while ((rc = db_step(st)) == DB_ROW) {
		if (page != NULL && n++ == page->limit) {
			page->more = true;
			rc = DB_DONE;
			break;
		}
		struct vers_tag t;
		tag_view(st, &t);
		if (t.name == NULL || !fn(ctx, &t)) {
			ret = STORE_NOMEM;
			break;
		}
	}
	if (ret == STORE_OK)
		ret = step_status(c, rc, STORE_OK);
	db_reset(st);
	return ret;
}

/* One tag row of sql keyed by ($1 = key, $2 = name) into *out (owned). */
/* The current row of a TAG_COLS statement into *out (owned). */
static enum store_status tag_copy(struct db_stmt *st, struct vers_tag *out)
{
	bool oom = false;
	tag_view(st, out);
	out->name = store_column_dup(st, 1, &oom);
	out->description = store_column_dup(st, 3, &oom);
	if (oom) {
		vers_tag_release(out);
		return STORE_NOMEM;
	}
	return STORE_OK;
}

static enum store_status tag_one(struct store_conn *c, const char *sql, int64_t key,
                                 const char *name, struct vers_tag *out)
{
	struct db_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_int(st, 1, key);
	db_bind_text(st, 2, name);
	int rc = db_step(st);
	enum store_status ret = STORE_OK;
	if (rc == DB_ROW)
		ret = tag_copy(st, out);
	else
		ret = step_status(c, rc, STORE_TAG_NOT_FOUND);
	db_reset(st);
	return ret;
}

enum store_status store_vers_repo_tags(struct store *s, const struct vers_repo_key *key,
                                       vers_tag_fn fn, void *ctx)
{
	struct store_conn *c = store_reader(s);
	int64_t row = 0;

	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = store_read_begin(c);
	if (ret == STORE_OK)
		ret = repo_find(c, key, &row, NULL);
	if (ret == STORE_OK)
		ret = tag_rows(c, SQL_REPO_TAGS, row, NULL, fn, ctx);
	store_reader_release(s, c); /* ends the read transaction */
	return ret;
}

enum store_status store_vers_repo_tags_page(struct store *s, const struct vers_repo_key *key,
                                            struct vers_page *page, vers_tag_fn fn, void *ctx)
{
	struct store_conn *c = store_reader(s);
	int64_t row = 0;

	page->more = false;
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = store_read_begin(c);
	if (ret == STORE_OK)
		ret = repo_find(c, key, &row, NULL);
	if (ret == STORE_OK)
		ret = tag_rows(c, SQL_REPO_TAGS_PAGE, row, page, fn, ctx);
	store_reader_release(s, c); /* ends the read transaction */
	return ret;
}

enum store_status store_vers_repo_tag_get(struct store *s, const struct vers_repo_key *key,
                                          const char *tag_name, struct vers_tag *out)
{
	struct store_conn *c = store_reader(s);

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return STORE_UNAVAILABLE;
	bool public = key->org_name != NULL;
	struct db_stmt *st = store_stmt(c, public ? SQL_REPO_TAG_PUBLIC : SQL_REPO_TAG_PRIVATE);
	if (st == NULL) {
		enum store_status ret = store_conn_error(c);
		store_reader_release(s, c);
		return ret;
	}
	if (public)
		db_bind_text(st, 1, key->org_name);
	else
		db_bind_int(st, 1, key->org_id);
	db_bind_text(st, 2, key->name);
	db_bind_text(st, 3, tag_name);
	int rc = db_step(st);
	enum store_status ret = STORE_OK;
	if (rc != DB_ROW)
		ret = step_status(c, rc, STORE_REPO_NOT_FOUND);
	else if (db_col_null(st, 0))
		ret = STORE_TAG_NOT_FOUND;
	else
		ret = tag_copy(st, out);
	db_reset(st);
	store_reader_release(s, c);
	return ret;
}

enum store_status store_vers_commit_tags(struct store *s, int64_t org_id, vers_tag_fn fn, void *ctx)
{
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = tag_rows(c, SQL_COMMIT_TAGS, org_id, NULL, fn, ctx);
	store_reader_release(s, c);
	return ret;
}

enum store_status store_vers_commit_tags_page(struct store *s, int64_t org_id,
                                              struct vers_page *page, vers_tag_fn fn, void *ctx)
{
	struct store_conn *c = store_reader(s);
	page->more = false;
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = tag_rows(c, SQL_COMMIT_TAGS_PAGE, org_id, page, fn, ctx);
	store_reader_release(s, c);
	return ret;
}

enum store_status store_vers_commit_tag_get(struct store *s, int64_t org_id, const char *name,
                                            struct vers_tag *out)
{
	struct store_conn *c = store_reader(s);
	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = tag_one(c, SQL_COMMIT_TAG, org_id, name, out);
	store_reader_release(s, c);
	return ret;
}

/* ---- commits ---- */

#define COMMIT_COLS                                                                                \
	"c.uuid, o.uuid, c.name, c.description, c.parent_vm_id, c.grandparent_commit_id, "         \
	"c.is_public, c.created_at "

/* The WHERE clauses repeat the partial indexes' conditions so that the planner uses them. */
static const char SQL_COMMITS_ORG[] =
        "SELECT " COMMIT_COLS "FROM commits c JOIN orgs o ON o.id = c.org_id "
        "WHERE c.org_id = $1 AND c.deleted_at IS NULL "
        "ORDER BY c.created_at DESC, c.id DESC LIMIT $2 OFFSET $3";
static const char SQL_COMMITS_PUBLIC[] =
        "SELECT " COMMIT_COLS "FROM commits c JOIN orgs o ON o.id = c.org_id "
        "WHERE c.deleted_at IS NULL AND c.is_public "
        "ORDER BY c.created_at DESC, c.id DESC LIMIT $1 OFFSET $2";
static const char SQL_COMMITS_ORG_COUNT[] =
        "SELECT count(*) FROM commits WHERE org_id = $1 AND deleted_at IS NULL";
static const char SQL_COMMITS_PUBLIC_COUNT[] =
        "SELECT count(*) FROM commits WHERE deleted_at IS NULL AND is_public";

/*
 * Keyset pages: the rows strictly after the cursor (its created_at and id,
 * after the limit) in (created_at DESC, id DESC) order, as a range of the
 * same partial indexes.
 */
static const char SQL_COMMITS_ORG_AFTER[] =
        "SELECT " COMMIT_COLS "FROM commits c JOIN orgs o ON o.id = c.org_id "
        "WHERE c.org_id = $1 AND c.deleted_at IS NULL AND (c.created_at, c.id) < ($3, $4) "
        "ORDER BY c.created_at DESC, c.id DESC LIMIT $2";
static const char SQL_COMMITS_PUBLIC_AFTER[] =
        "SELECT " COMMIT_COLS "FROM commits c JOIN orgs o ON o.id = c.org_id "
        "WHERE c.deleted_at IS NULL AND c.is_public AND (c.created_at, c.id) < ($2, $3) "
        "ORDER BY c.created_at DESC, c.id DESC LIMIT $1";

/* Where a cursor stands: a live commit of the list, by its UUID ($1). */
static const char SQL_COMMIT_CURSOR_ORG[] =
        "SELECT created_at, id FROM commits WHERE uuid = $1 AND org_id = $2 "
        "AND deleted_at IS NULL";
static const char SQL_COMMIT_CURSOR_PUBLIC[] =
        "SELECT created_at, id FROM commits WHERE uuid = $1 AND is_public "
        "AND deleted_at IS NULL";

static enum store_status commit_count(struct store_conn *c, const char *sql, int64_t org_id,
                                      bool bind_org, int64_t *total)
{
	struct db_stmt *st = store_stmt(c, sql);
	if (st == NULL)
		return store_conn_error(c);
	if (bind_org)
		db_bind_int(st, 1, org_id);
	int rc = db_step(st);
	enum store_status ret = STORE_OK;
	if (rc == DB_ROW)
		*total = db_col_int(st, 0);
	else
		ret = step_status(c, rc, STORE_ERROR);
	db_reset(st);
	return ret;
}

/*
 * Run a bound commit list statement through fn.  With page, stop after
 * page->limit rows and set page->more when the statement had another one.
 */
static enum store_status commit_walk(struct store_conn *c, struct db_stmt *st,
                                     struct vers_page *page, vers_commit_fn fn, void *ctx)
{
	enum store_status ret = STORE_OK;
	int64_t n = 0;
	int rc;

	while ((rc = db_step(st)) == DB_ROW) {
		if (page != NULL && n++ == page->limit) {
			page->more = true;
			rc = DB_DONE;
			break;
		}
		struct vers_commit cm;
		store_column_copy(st, 0, cm.commit_id, sizeof(cm.commit_id));
		store_column_copy(st, 1, cm.owner_id, sizeof(cm.owner_id));
		cm.name = col_text(st, 2);
		cm.description = col_text(st, 3);
		cm.parent_vm_id = col_text(st, 4);
		cm.grandparent_commit_id = col_text(st, 5);
		cm.is_public = db_col_int(st, 6) != 0;
		cm.created_at = db_col_int(st, 7);
		if (cm.name == NULL || !fn(ctx, &cm)) {
			ret = STORE_NOMEM;
			break;
		}
	}
	if (ret == STORE_OK)
		ret = step_status(c, rc, STORE_OK);
	db_reset(st);
	return ret;
}

enum store_status store_vers_commits(struct store *s, int64_t org_id, bool public_all,
                                     int64_t limit, int64_t offset, int64_t *total,
                                     vers_commit_fn fn, void *ctx)
{
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = store_read_begin(c);
	if (ret == STORE_OK)
		ret = commit_count(c, public_all ? SQL_COMMITS_PUBLIC_COUNT : SQL_COMMITS_ORG_COUNT,
		                   org_id, !public_all, total);
	if (ret == STORE_OK) {
		struct db_stmt *st =
		        store_stmt(c, public_all ? SQL_COMMITS_PUBLIC : SQL_COMMITS_ORG);
		if (st == NULL) {
			ret = store_conn_error(c);
		} else {
			/* The public list is every organization's: no $1 = org. */
			int k = public_all ? 0 : 1;
			if (!public_all)
				db_bind_int(st, 1, org_id);
			db_bind_int(st, k + 1, limit);
			db_bind_int(st, k + 2, offset);
			ret = commit_walk(c, st, NULL, fn, ctx);
		}
	}
	store_reader_release(s, c);
	return ret;
}

/* The (created_at, id) of the cursor commit; STORE_INVALID when it is not in the list. */
static enum store_status commit_cursor(struct store_conn *c, int64_t org_id, bool public_all,
                                       const char *uuid, int64_t *created_at, int64_t *id)
{
	struct db_stmt *st =
	        store_stmt(c, public_all ? SQL_COMMIT_CURSOR_PUBLIC : SQL_COMMIT_CURSOR_ORG);
	if (st == NULL)
		return store_conn_error(c);
	db_bind_text(st, 1, uuid);
	if (!public_all)
		db_bind_int(st, 2, org_id);
	int rc = db_step(st);
	enum store_status ret = STORE_OK;
	if (rc == DB_ROW) {
		*created_at = db_col_int(st, 0);
		*id = db_col_int(st, 1);
	} else {
		ret = step_status(c, rc, STORE_INVALID);
	}
	db_reset(st);
	return ret;
}

enum store_status store_vers_commits_after(struct store *s, int64_t org_id, bool public_all,
                                           struct vers_page *page, int64_t *total,
                                           vers_commit_fn fn, void *ctx)
{
	int64_t created_at = 0, id = 0;

	page->more = false;
	if (page->after == NULL || page->limit < 1 || page->limit == INT64_MAX)
		return STORE_INVALID;
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = store_read_begin(c);
	if (ret == STORE_OK)
		ret = commit_cursor(c, org_id, public_all, page->after, &created_at, &id);
	if (ret == STORE_OK)
		ret = commit_count(c, public_all ? SQL_COMMITS_PUBLIC_COUNT : SQL_COMMITS_ORG_COUNT,
		                   org_id, !public_all, total);
	if (ret == STORE_OK) {
		struct db_stmt *st = store_stmt(c, public_all ? SQL_COMMITS_PUBLIC_AFTER
		                                              : SQL_COMMITS_ORG_AFTER);
		if (st == NULL) {
			ret = store_conn_error(c);
		} else {
			int k = public_all ? 0 : 1;
			if (!public_all)
				db_bind_int(st, 1, org_id);
			db_bind_int(st, k + 1, page->limit + 1);
			db_bind_int(st, k + 2, created_at);
			db_bind_int(st, k + 3, id);
			ret = commit_walk(c, st, page, fn, ctx);
		}
	}
	store_reader_release(s, c);
	return ret;
}

/* ---- one commit ---- */

/* A live commit by UUID ($1) that org $2 may see: its own, or a public one. */
static const char SQL_COMMIT_VISIBLE[] =
        "SELECT " COMMIT_COLS "FROM commits c JOIN orgs o ON o.id = c.org_id "
        "WHERE c.uuid = $1 AND c.deleted_at IS NULL AND (c.org_id = $2 OR c.is_public)";

/* Copy the borrowed view cm into the vers_commit at ctx; false when out of memory. */
static bool commit_copy(void *ctx, const struct vers_commit *cm)
{
	struct vers_commit *out = ctx;
	bool oom = false;

	*out = *cm;
	out->name = strdup(cm->name);
	oom = out->name == NULL;
	out->description = cm->description ? strdup(cm->description) : NULL;
	oom = oom || (cm->description && !out->description);
	out->parent_vm_id = cm->parent_vm_id ? strdup(cm->parent_vm_id) : NULL;
	oom = oom || (cm->parent_vm_id && !out->parent_vm_id);
	out->grandparent_commit_id =
	        cm->grandparent_commit_id ? strdup(cm->grandparent_commit_id) : NULL;
	oom = oom || (cm->grandparent_commit_id && !out->grandparent_commit_id);
	if (oom)
		vers_commit_release(out);
	return !oom;
}

enum store_status store_vers_commit_get(struct store *s, int64_t org_id, const char *commit_id,
                                        struct vers_commit *out)
{
	memset(out, 0, sizeof(*out));
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	struct db_stmt *st = store_stmt(c, SQL_COMMIT_VISIBLE);
	enum store_status ret = st != NULL ? STORE_OK : store_conn_error(c);
	if (st != NULL) {
		db_bind_text(st, 1, commit_id);
		db_bind_int(st, 2, org_id);
		ret = commit_walk(c, st, NULL, commit_copy, out);
		if (ret == STORE_OK && out->name == NULL)
			ret = STORE_COMMIT_NOT_FOUND;
	}
	store_reader_release(s, c);
	return ret;
}

/* ---- query plans ---- */

static const char *const read_sql[] = {
        [VERS_READ_REPO_PRIVATE] = SQL_REPO_PRIVATE,
        [VERS_READ_REPO_PUBLIC] = SQL_REPO_PUBLIC,
        [VERS_READ_REPO_TAGS] = SQL_REPO_TAGS,
        [VERS_READ_REPO_TAGS_PAGE] = SQL_REPO_TAGS_PAGE,
        [VERS_READ_COMMIT_TAGS_PAGE] = SQL_COMMIT_TAGS_PAGE,
        [VERS_READ_COMMITS_ORG] = SQL_COMMITS_ORG,
        [VERS_READ_COMMITS_PUBLIC] = SQL_COMMITS_PUBLIC,
        [VERS_READ_COMMITS_ORG_AFTER] = SQL_COMMITS_ORG_AFTER,
        [VERS_READ_COMMITS_PUBLIC_AFTER] = SQL_COMMITS_PUBLIC_AFTER,
        [VERS_READ_COMMIT_CURSOR_ORG] = SQL_COMMIT_CURSOR_ORG,
        [VERS_READ_COMMIT_CURSOR_PUBLIC] = SQL_COMMIT_CURSOR_PUBLIC,
        [VERS_READ_COMMITS_ORG_COUNT] = SQL_COMMITS_ORG_COUNT,
        [VERS_READ_COMMITS_PUBLIC_COUNT] = SQL_COMMITS_PUBLIC_COUNT,
        [VERS_READ_COMMIT_ONE] = SQL_COMMIT_VISIBLE,
};

enum store_status store_vers_explain(struct store *s, enum vers_read which, char *out, size_t cap)
{
	if (cap == 0 || (size_t)which >= sizeof(read_sql) / sizeof(read_sql[0]))
		return STORE_ERROR;
	out[0] = '\0';
	struct store_conn *c = store_reader(s);
	if (c == NULL)
		return STORE_UNAVAILABLE;
	enum store_status ret = c->be->explain(c, read_sql[which], out, cap);
	store_reader_release(s, c);
	return ret;
}
