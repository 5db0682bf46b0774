/*
 * vers_history.c - the history of tag changes in the Vers dialect (tagd
 * extensions): a tag's events, a legacy commit tag's events, the
 * organization's feed and the chain head.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_history.h"
#include "vers_handlers.h"
#include "vers_reply.h"

#define JSON_TYPE "application/json"

/* `limit` and `after` of a history list; false when answered 400. */
static bool history_query(struct call *c, int64_t *limit, int64_t *after)
{
	struct vers_query_field f[] = {
	        {.name = "limit", .kind = VERS_QUERY_INT, .min = 1, .max = HISTORY_PAGE_MAX},
	        {.name = "after", .kind = VERS_QUERY_INT, .min = 0, .max = INT64_MAX - 1},
	};
	if (!vers_query_read(c, f, 2))
		return false;
	*limit = f[0].present ? f[0].i64 : HISTORY_PAGE_DEFAULT;
	*after = f[1].present ? f[1].i64 : 0;
	vers_query_release(f, 2);
	return true;
}

/*
 * Answer a page of events; when more follow, next_after is the seq of the
 * last one and a Link header names the next page.
 */
static void page_answer(struct call *c, struct history_list *l, int64_t limit)
{
	int64_t next = l->more && l->n > 0 ? l->items[l->n - 1].seq : -1;
	size_t len;
	char *body = history_page_json(l->items, l->n, next, &len);
	history_list_release(l);
	if (body == NULL) {
		vers_error(c, 500, "internal server error");
		return;
	}
	if (next >= 0) {
		char after[24];
		snprintf(after, sizeof(after), "%" PRId64, next);
		if (!call_add_link_next(c, limit, after)) {
			free(body);
			vers_error(c, 500, "internal server error");
			return;
		}
	}
	call_respond_take(c, 200, body, len, JSON_TYPE);
}

/*
 * A tag's history.  With no event for the name, exists says whether the
 * tag is there now (a tag from before history began has none yet).
 */
static void tag_history_answer(struct call *c, const struct history_tag_key *key,
                               enum store_status (*exists)(struct call *c))
{
	int64_t limit, after;
	struct history_list l;
	bool any;

	if (!history_query(c, &limit, &after))
		return;
	enum store_status st = store_history_tag(c->store, key, after, limit, &l, &any);
	if (st == STORE_OK && !any)
		st = exists(c);
	if (st != STORE_OK) {
		vers_status_error(c, st);
		return;
	}
	page_answer(c, &l, limit);
}

/* ---- GET /api/v1/repositories/{repo_name}/tags/{tag_name}/history ---- */

static enum store_status repo_tag_exists(struct call *c)
{
	struct vers_repo_key key = {.org_id = c->org_id, .name = call_param(c, 0)};
	struct vers_tag t;
	enum store_status st = store_vers_repo_tag_get(c->store, &key, call_param(c, 1), &t);
	if (st == STORE_OK)
		vers_tag_release(&t);
	return st;
}

void vers_tag_history(struct call *c)
{
	struct history_tag_key key = {.org_id = c->org_id,
	                              .scope = HISTORY_SCOPE_REPOSITORY,
	                              .scope_name = call_param(c, 0),
	                              .tag = call_param(c, 1)};
	tag_history_answer(c, &key, repo_tag_exists);
}

/* ---- GET /api/v1/commit_tags/{tag_name}/history ---- */

static enum store_status commit_tag_exists(struct call *c)
{
	struct vers_tag t;
	enum store_status st = store_vers_commit_tag_get(c->store, c->org_id, call_param(c, 0), &t);
	if (st == STORE_OK)
		vers_tag_release(&t);
	return st;
}

void vers_ctag_history(struct call *c)
{
	struct history_tag_key key = {.org_id = c->org_id,
	                              .scope = HISTORY_SCOPE_COMMIT_TAGS,
	                              .scope_name = "",
	                              .tag = call_param(c, 0)};
	tag_history_answer(c, &key, commit_tag_exists);
}

/* ---- GET /api/v1/events ---- */

void vers_events(struct call *c)
{
	int64_t limit, after;
	struct history_list l;

	if (!history_query(c, &limit, &after))
		return;
	enum store_status st = store_history_feed(c->store, c->org_id, after, limit, &l);
	if (st != STORE_OK) {
		vers_store_error(c, st);
		return;
	}
	page_answer(c, &l, limit);
}

/* ---- GET /api/v1/events/head ---- */

void vers_events_head(struct call *c)
{
	struct history_head h;
	enum store_status st = store_history_head(c->store, c->org_id, &h);
	if (st != STORE_OK) {
		vers_store_error(c, st);
		return;
	}
	char hex[HISTORY_HEX_LEN + 1];
	history_hex(h.hash, hex);
	vers_json(c, 200, json_pack("{s:I, s:s}", "seq", (json_int_t)h.seq, "hash", hex));
}
