/*
 * ss_history.c - a ServiceStage tag's history (a tagd extension):
 * GET /v1/{project_id}/git/repos/{namespace}/{project}/tags/{tag_name}/history
 * in the ServiceStage envelope, paged as the Vers history is.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_internal.h"
#include "ss_reply.h"
#include "store_history.h"

/* A decimal query value in [min, max]; absent gives dflt.  False when present and bad. */
static bool query_int(struct call *c, const char *name, int64_t min, int64_t max, int64_t dflt,
                      int64_t *out)
{
	bool bad = false;
	char *text = call_query_take(c, name, &bad);
	*out = dflt;
	if (text == NULL)
		return !bad;
	char *end = NULL;
	long long v = 0;
	bool ok = text[0] >= '0' && text[0] <= '9' && strlen(text) <= 18;
	if (ok)
		v = strtoll(text, &end, 10);
	ok = ok && *end == '\0' && v >= min && v <= max;
	free(text);
	*out = v;
	return ok;
}

void ss_tag_history(struct call *c)
{
	struct ss_where w;
	struct ss_project_info info;
	int64_t limit, before;

	if (!ss_repo_where(c, &w, true))
		return;
	if (!query_int(c, "limit", 1, HISTORY_PAGE_MAX, HISTORY_PAGE_DEFAULT, &limit)) {
		ss_bad_param(c, "limit is not an integer from 1 to 1000");
		return;
	}
	if (!query_int(c, "after", 0, INT64_MAX - 1, 0, &before)) {
		ss_bad_param(c, "after is not a non-negative integer");
		return;
	}
	enum store_status st = store_ss_project_info(c->store, &w, &info);
	if (st != STORE_OK) {
		ss_store_error(c, st);
		return;
	}
	char scope[2 * SS_NAME_MAX + 2];
	snprintf(scope, sizeof(scope), "%s/%s", info.namespace, info.project);
	const char *tag = call_param(c, SS_P_TAG);
	struct history_tag_key key = {.org_id = c->org_id,
	                              .scope = HISTORY_SCOPE_SERVICESTAGE,
	                              .scope_name = scope,
	                              .tag = tag};
	struct history_list l;
	bool any;
	st = store_history_tag(c->store, &key, before, limit, &l, &any);
	if (st == STORE_OK && !any)
		st = store_ss_tag_exists(c->store, &w, tag);
	if (st == STORE_TAG_NOT_FOUND) {
		ss_bad_param(c, "tag not found: it never existed in the project");
		return;
	}
	if (st != STORE_OK) {
		ss_store_error(c, st);
		return;
	}
	int64_t next = l.more && l.n > 0 ? l.items[l.n - 1].seq : -1;
	size_t len;
	char *body = history_page_json(l.items, l.n, next, &len);
	history_list_release(&l);
	char after[24];
	snprintf(after, sizeof(after), "%" PRId64, next);
	if (body == NULL || (next >= 0 && !call_add_link_next(c, limit, after))) {
		free(body);
		ss_internal_error(c, "out of memory building the history page");
		return;
	}
	call_respond_take(c, 200, body, len, SS_JSON_TYPE);
}
