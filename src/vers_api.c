/*
 * vers_api.c - the Vers dialect's route table, authentication and the
 * helpers its handlers share.  The handlers live by concern in
 * vers_repos.c, vers_tags.c, vers_commits.c and vers_commit_tags.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "etag.h"
#include "vers_api.h"
#include "vers_handlers.h"
#include "vers_reply.h"

bool vers_authenticate(struct call *c)
{
	size_t len;
	const char *token = auth_bearer(call_header(c, "Authorization"), &len);
	enum auth_result r = AUTH_UNKNOWN;

	if (token == NULL) {
		vers_error(c, 401, "Missing or invalid Authorization header");
		call_add_header(c, "WWW-Authenticate", "Bearer");
		return false;
	}
	struct token_identity who;
	r = auth_check(c->store, token, len, &who);
	if (r == AUTH_OK) {
		c->org_id = who.org_id;
		c->org_name = who.org_name;
		c->token_label = who.label;
		c->token_scope = who.scope;
		memcpy(c->token_id, who.token_id, sizeof(c->token_id));
		free(who.project_id);
		return true;
	}
	if (r == AUTH_UNAVAILABLE) {
		vers_store_error(c, STORE_UNAVAILABLE);
		return false;
	}
	if (r == AUTH_ERROR) {
		vers_error_reason(c, 500, "internal server error",
		                  "store failure while checking the token");
		return false;
	}
	vers_error(c, 401, "Invalid bearer token");
	call_add_header(c, "WWW-Authenticate", "Bearer");
	return false;
}

struct vers_deferred *vers_deferred_new(struct call *c, json_t *body)
{
	struct vers_deferred *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		json_decref(body);
		vers_error_reason(c, 500, "internal server error", "out of memory");
		return NULL;
	}
	d->body = body;
	c->handler_ctx = d;
	return d;
}

struct vers_deferred *vers_deferred_of(struct call *c)
{
	return c->handler_ctx;
}

void vers_deferred_end(struct call *c)
{
	struct vers_deferred *d = c->handler_ctx;
	json_decref(d->body);
	d->body = NULL;
}

/* 403 naming the tag and the rule that refused its change. */
static void vers_refused(struct call *c)
{
	const struct vers_deferred *d = c->handler_ctx;
	const struct store_refusal *r = d != NULL ? d->refused : NULL;
	char msg[STORE_TAG_NAME_MAX + RULE_PATTERN_MAX + 160];

	if (r == NULL) {
		vers_error_reason(c, 403, "refused by a protection rule",
		                  "a protection rule refused the change (no details kept)");
		return;
	}
	bool org = r->rule_scope == HISTORY_SCOPE_ORGANIZATION;
	snprintf(msg, sizeof(msg), "%stag '%s' is %s (%srule '%s')%s",
	         r->cascade ? "cannot delete the repository: " : "", r->tag,
	         rule_mode_name(r->mode), org ? "organization " : "", r->pattern,
	         r->mode == RULE_PROTECTED ? ": it takes a token of scope maintain or above" : "");
	/* The message quotes names; the log says only what happened. */
	vers_error_reason(c, 403, msg,
	                  r->mode == RULE_IMMUTABLE
	                          ? "an immutable rule covers the tag"
	                          : "a protected rule covers the tag; the token is below maintain");
}

void vers_status_error(struct call *c, enum store_status st)
{
	switch (st) {
	case STORE_REPO_NOT_FOUND:
		vers_error(c, 404, "repository not found");
		break;
	case STORE_TAG_NOT_FOUND:
		vers_error(c, 404, "tag not found");
		break;
	case STORE_COMMIT_NOT_FOUND:
		vers_error(c, 404, "commit not found");
		break;
	case STORE_FORBIDDEN:
		vers_error(c, 403, "forbidden");
		break;
	case STORE_PRECONDITION:
		vers_error(c, 412, "precondition failed: If-Match does not match the tag's ETag");
		break;
	case STORE_REFUSED:
		vers_refused(c);
		break;
	default:
		vers_store_error(c, st);
		break;
	}
}

void vers_no_content_finish(struct call *c, struct store_op *op)
{
	if (op->status == STORE_OK)
		vers_no_content(c);
	else
		vers_status_error(c, op->status);
	vers_deferred_end(c);
}

void vers_no_content_etag_finish(struct call *c, struct store_op *op, int64_t rev)
{
	if (op->status == STORE_OK) {
		vers_no_content(c);
		vers_etag(c, rev);
	} else {
		vers_status_error(c, op->status);
	}
	vers_deferred_end(c);
}

void vers_etag(struct call *c, int64_t rev)
{
	char etag[ETAG_MAX];
	etag_format(rev, etag);
	call_add_header(c, "ETag", etag);
}

void vers_actor(const struct call *c, struct store_actor *out)
{
	*out = (struct store_actor){
	        .dialect = HISTORY_VERS,
	        .token_id = c->token_id[0] != '\0' ? c->token_id : NULL,
	        .token_label = c->token_label,
	        .request_id = c->request_id,
	        .scope = c->token_scope,
	};
}

void vers_expect(const struct call *c, struct store_expect *out)
{
	etag_if_match(call_header(c, "If-Match"), out);
}

void vers_invalid(struct call *c, const char *what, const char *why)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%s: %s", what, why);
	vers_error(c, 400, msg);
}

/*
 * Every route and the least scope it takes: reads are read; commits and tag
 * changes write (the rules may ask for more, store_rule.h); repositories,
 * visibility and changes of commits maintain; protection rules admin.
 */
const struct route vers_routes[] = {
        /* repositories */
        {CALL_GET, "/api/v1/repositories", ROUTE_AUTH_VERS, TOKEN_SCOPE_READ, vers_repo_list},
        {CALL_POST, "/api/v1/repositories", ROUTE_AUTH_VERS, TOKEN_SCOPE_MAINTAIN,
         vers_repo_create},
        {CALL_POST, "/api/v1/repositories/fork", ROUTE_AUTH_VERS, TOKEN_SCOPE_MAINTAIN,
         vers_repo_fork},
        {CALL_GET, "/api/v1/repositories/{repo_name}", ROUTE_AUTH_VERS, TOKEN_SCOPE_READ,
         vers_repo_get},
        {CALL_DELETE, "/api/v1/repositories/{repo_name}", ROUTE_AUTH_VERS, TOKEN_SCOPE_MAINTAIN,
         vers_repo_delete},
        {CALL_PATCH, "/api/v1/repositories/{repo_name}/visibility", ROUTE_AUTH_VERS,
         TOKEN_SCOPE_MAINTAIN, vers_repo_visibility},
        /* repository tags */
        {CALL_GET, "/api/v1/repositories/{repo_name}/tags", ROUTE_AUTH_VERS, TOKEN_SCOPE_READ,
         vers_tag_list},
        {CALL_POST, "/api/v1/repositories/{repo_name}/tags", ROUTE_AUTH_VERS, TOKEN_SCOPE_WRITE,
         vers_tag_create},
        {CALL_GET, "/api/v1/repositories/{repo_name}/tags/{tag_name}", ROUTE_AUTH_VERS,
         TOKEN_SCOPE_READ, vers_tag_get},
        {CALL_PATCH, "/api/v1/repositories/{repo_name}/tags/{tag_name}", ROUTE_AUTH_VERS,
         TOKEN_SCOPE_WRITE, vers_tag_update},
        {CALL_DELETE, "/api/v1/repositories/{repo_name}/tags/{tag_name}", ROUTE_AUTH_VERS,
         TOKEN_SCOPE_WRITE, vers_tag_delete},
        {CALL_GET, "/api/v1/repositories/{repo_name}/tags/{tag_name}/history", ROUTE_AUTH_VERS,
         TOKEN_SCOPE_READ, vers_tag_history},
        /* public repositories: no key */
        {CALL_GET, "/api/v1/public/repositories", ROUTE_AUTH_NONE, TOKEN_SCOPE_NONE,
         vers_public_repo_list},
        {CALL_GET, "/api/v1/public/repositories/{org_name}/{repo_name}", ROUTE_AUTH_NONE,
         TOKEN_SCOPE_NONE, vers_public_repo_get},
        {CALL_GET, "/api/v1/public/repositories/{org_name}/{repo_name}/tags", ROUTE_AUTH_NONE,
         TOKEN_SCOPE_NONE, vers_public_tag_list},
        {CALL_GET, "/api/v1/public/repositories/{org_name}/{repo_name}/tags/{tag_name}",
         ROUTE_AUTH_NONE, TOKEN_SCOPE_NONE, vers_public_tag_get},
        /* commits */
        {CALL_GET, "/api/v1/commits", ROUTE_AUTH_VERS, TOKEN_SCOPE_READ, vers_commit_list},
        {CALL_POST, "/api/v1/commits", ROUTE_AUTH_VERS, TOKEN_SCOPE_WRITE, vers_commit_create},
        {CALL_GET, "/api/v1/commits/public", ROUTE_AUTH_VERS, TOKEN_SCOPE_READ,
         vers_commit_public_list},
        {CALL_GET, "/api/v1/commits/{commit_id}", ROUTE_AUTH_VERS, TOKEN_SCOPE_READ,
         vers_commit_get},
        {CALL_PATCH, "/api/v1/commits/{commit_id}", ROUTE_AUTH_VERS, TOKEN_SCOPE_MAINTAIN,
         vers_commit_update},
        {CALL_DELETE, "/api/v1/commits/{commit_id}", ROUTE_AUTH_VERS, TOKEN_SCOPE_MAINTAIN,
         vers_commit_delete},
        /* legacy commit tags */
        {CALL_GET, "/api/v1/commit_tags", ROUTE_AUTH_VERS, TOKEN_SCOPE_READ, vers_ctag_list},
        {CALL_POST, "/api/v1/commit_tags", ROUTE_AUTH_VERS, TOKEN_SCOPE_WRITE, vers_ctag_create},
        {CALL_GET, "/api/v1/commit_tags/{tag_name}", ROUTE_AUTH_VERS, TOKEN_SCOPE_READ,
         vers_ctag_get},
        {CALL_PATCH, "/api/v1/commit_tags/{tag_name}", ROUTE_AUTH_VERS, TOKEN_SCOPE_WRITE,
         vers_ctag_update},
        {CALL_DELETE, "/api/v1/commit_tags/{tag_name}", ROUTE_AUTH_VERS, TOKEN_SCOPE_WRITE,
         vers_ctag_delete},
        {CALL_GET, "/api/v1/commit_tags/{tag_name}/history", ROUTE_AUTH_VERS, TOKEN_SCOPE_READ,
         vers_ctag_history},
        /* the history of tag changes (extensions) */
        {CALL_GET, "/api/v1/events", ROUTE_AUTH_VERS, TOKEN_SCOPE_READ, vers_events},
        {CALL_GET, "/api/v1/events/head", ROUTE_AUTH_VERS, TOKEN_SCOPE_READ, vers_events_head},
        /* protection rules (extensions) */
        {CALL_GET, "/api/v1/protected_tags", ROUTE_AUTH_VERS, TOKEN_SCOPE_READ, vers_rule_org_list},
        {CALL_POST, "/api/v1/protected_tags", ROUTE_AUTH_VERS, TOKEN_SCOPE_ADMIN,
         vers_rule_org_add},
        {CALL_DELETE, "/api/v1/protected_tags/{pattern}", ROUTE_AUTH_VERS, TOKEN_SCOPE_ADMIN,
         vers_rule_org_remove},
        {CALL_GET, "/api/v1/repositories/{repo_name}/protected_tags", ROUTE_AUTH_VERS,
         TOKEN_SCOPE_READ, vers_rule_repo_list},
        {CALL_POST, "/api/v1/repositories/{repo_name}/protected_tags", ROUTE_AUTH_VERS,
         TOKEN_SCOPE_ADMIN, vers_rule_repo_add},
        {CALL_DELETE, "/api/v1/repositories/{repo_name}/protected_tags/{pattern}", ROUTE_AUTH_VERS,
         TOKEN_SCOPE_ADMIN, vers_rule_repo_remove},
        /* create or move in one call (extensions; last, so that fuzz_body's seeds keep their
           routes) */
        {CALL_PUT, "/api/v1/repositories/{repo_name}/tags/{tag_name}", ROUTE_AUTH_VERS,
         TOKEN_SCOPE_WRITE, vers_tag_put},
        {CALL_PUT, "/api/v1/commit_tags/{tag_name}", ROUTE_AUTH_VERS, TOKEN_SCOPE_WRITE,
         vers_ctag_put},
        /* webhooks (extensions; maintain, reading too: a receiver's URL can carry a
           credential) */
        {CALL_GET, "/api/v1/hooks", ROUTE_AUTH_VERS, TOKEN_SCOPE_MAINTAIN, vers_hooks_list},
        {CALL_POST, "/api/v1/hooks", ROUTE_AUTH_VERS, TOKEN_SCOPE_MAINTAIN, vers_hook_create},
        {CALL_DELETE, "/api/v1/hooks/{hook_id}", ROUTE_AUTH_VERS, TOKEN_SCOPE_MAINTAIN,
         vers_hook_delete},
        {CALL_GET, "/api/v1/hooks/{hook_id}/deliveries", ROUTE_AUTH_VERS, TOKEN_SCOPE_MAINTAIN,
         vers_hook_deliveries},
        {CALL_GET, "/api/v1/repositories/{repo_name}/hooks", ROUTE_AUTH_VERS, TOKEN_SCOPE_MAINTAIN,
         vers_repo_hooks_list},
        {CALL_POST, "/api/v1/repositories/{repo_name}/hooks", ROUTE_AUTH_VERS, TOKEN_SCOPE_MAINTAIN,
         vers_repo_hook_create},
        {CALL_DELETE, "/api/v1/repositories/{repo_name}/hooks/{hook_id}", ROUTE_AUTH_VERS,
         TOKEN_SCOPE_MAINTAIN, vers_repo_hook_delete},
};

const size_t vers_routes_count = sizeof(vers_routes) / sizeof(vers_routes[0]);
