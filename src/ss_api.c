/*
 * ss_api.c - ServiceStage authentication, the helpers every handler shares,
 * the tag handlers and the route table.
 *
 * Every handler checks, in this order: the token and project id (app.c,
 * through ss_authenticate: 401/403), X-Repo-Auth (0450), its query and body
 * (0400), then the store resolves namespace coverage (0451), namespace,
 * project and ref (0400) and name clashes (0403).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "names.h"
#include "ss_api.h"
#include "ss_internal.h"
#include "ss_reply.h"

#define DEFAULT_CLONE_BASE "https://git.example.com"

/* ---- authentication ---- */

bool ss_authenticate(struct call *c)
{
	const char *token = call_header(c, "X-Auth-Token");
	size_t len = 0;

	if (token != NULL) {
		while (*token == ' ' || *token == '\t')
			token++;
		len = strlen(token);
		while (len > 0 && (token[len - 1] == ' ' || token[len - 1] == '\t'))
			len--;
	}
	if (len == 0) {
		ss_error(c, 401, "APIGW.0301",
		         "Incorrect IAM authentication information: x-auth-token not found",
		         "no X-Auth-Token header, or an empty one");
		return false;
	}
	struct token_identity who;
	enum auth_result r = auth_check(c->store, token, len, &who);
	if (r == AUTH_UNAVAILABLE) {
		ss_store_error(c, STORE_UNAVAILABLE);
		return false;
	}
	if (r == AUTH_ERROR) {
		ss_internal_error(c, "store failure while checking the token");
		return false;
	}
	if (r != AUTH_OK) {
		ss_error(c, 401, "APIGW.0301",
		         "Incorrect IAM authentication information: decrypt token fail",
		         "X-Auth-Token is no live token (unknown, revoked or expired)");
		return false;
	}
	/* The token's organization and its project id come from one read. */
	c->org_id = who.org_id;
	c->org_name = who.org_name;
	c->token_label = who.label;
	c->token_scope = who.scope;
	memcpy(c->token_id, who.token_id, sizeof(c->token_id));
	const char *want = call_param(c, SS_P_PROJECT_ID);
	bool mine = who.project_id != NULL && want != NULL && strcmp(who.project_id, want) == 0;
	free(who.project_id);
	if (!mine) {
		/* Another tenant's project id, or none at all: never say which. */
		ss_error(c, 403, "APIGW.0302", "The IAM user is not authorized to access the API",
		         "{project_id} is not the project id of the token's organization");
		return false;
	}
	return true;
}

void ss_api_not_found(struct call *c)
{
	ss_error(c, 404, "APIGW.0101",
	         "The API does not exist or has not been published in the environment",
	         "no such path, or not with this method");
}

void ss_api_bad_path(struct call *c)
{
	ss_bad_param(c, "invalid percent-encoding in the path");
}

/* ---- shared helpers ---- */

void ss_actor(const struct call *c, struct store_actor *out)
{
	*out = (struct store_actor){
	        .dialect = HISTORY_SERVICESTAGE,
	        .token_id = c->token_id[0] != '\0' ? c->token_id : NULL,
	        .token_label = c->token_label,
	        .request_id = c->request_id,
	        .scope = c->token_scope,
	};
}

bool ss_repo_where(struct call *c, struct ss_where *w, bool with_project)
{
	const char *name = call_header(c, "X-Repo-Auth");

	memset(w, 0, sizeof(*w));
	if (name == NULL || *name == '\0') {
		ss_error(c, 400, SS_E_NO_AUTH, "no X-Repo-Auth header, or an empty one");
		return false;
	}
	enum store_status st = store_ss_auth_find(c->store, c->org_id, name, &w->auth_id);
	if (st == STORE_NOT_FOUND) {
		ss_error(c, 400, SS_E_NO_AUTH,
		         "X-Repo-Auth names no repository authorization of the organization");
		return false;
	}
	if (st != STORE_OK) {
		ss_store_error(c, st);
		return false;
	}
	w->org_id = c->org_id;
	w->namespace = call_param(c, SS_P_NAMESPACE);
	if (with_project) {
		/* A '/' in a project name is written ':' in the path. */
		char *p = c->params[SS_P_PROJECT];
		for (char *q = p; *q != '\0'; q++)
			if (*q == ':')
				*q = '/';
		w->project = p;
	}
	return true;
}

const char *ss_clone_base(const struct call *c)
{
	const struct app_options *o = c->app_opts;
	return o != NULL && o->clone_base_url != NULL ? o->clone_base_url : DEFAULT_CLONE_BASE;
}

json_t *ss_clone_url(const struct call *c, const char *ns, const char *project)
{
	char *url = NULL;
	if (asprintf(&url, "%s/%s/%s.git", ss_clone_base(c), ns, project) < 0)
		return NULL;
	json_t *v = json_string(url);
	free(url);
	return v;
}

json_t *ss_string_array(char *const *items, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a != NULL && i < n; i++) {
		if (json_array_append_new(a, json_string(items[i])) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

struct ss_deferred *ss_deferred_new(struct call *c, json_t *body, char *query)
{
	struct ss_deferred *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		json_decref(body);
		free(query);
		ss_internal_error(c, "out of memory");
		return NULL;
	}
	d->body = body;
	d->query = query;
	c->handler_ctx = d;
	return d;
}

void ss_deferred_end(struct call *c)
{
	struct ss_deferred *d = c->handler_ctx;
	json_decref(d->body);
	d->body = NULL;
	free(d->query);
	d->query = NULL;
}

/* ---- POST .../tags?ref= ---- */

static void tag_create_finish(struct call *c, struct store_op *op)
{
	struct ss_tag_create_op *o = &((struct ss_deferred *)c->handler_ctx)->u.tag_create;

	if (op->status == STORE_OK) {
		ss_json(c, 200, json_pack("{s:s}", "name", o->name));
	} else if (op->status == STORE_REFUSED) {
		ss_refused(c, &o->refused);
	} else {
		ss_store_error(c, op->status);
		if (op->status == STORE_CONFLICT)
			call_set_reason(c, "the project has a tag of that name");
		else if (op->status == STORE_INVALID)
			call_set_reason(c, "ref is an abbreviated SHA that names several commits");
	}
	ss_deferred_end(c);
}

static void tag_create(struct call *c)
{
	struct body_field f[] = {
	        {.name = "name", .kind = BODY_STRING, .required = true},
	        {.name = "description", .kind = BODY_STRING, .required = true},
	};
	struct ss_where w;
	bool bad = false;

	if (!ss_repo_where(c, &w, true))
		return;
	char *ref = call_query_take(c, "ref", &bad);
	const char *why = ref != NULL ? names_git_ref(ref) : NULL;
	if (ref == NULL || why != NULL) {
		char reason[160];
		snprintf(reason, sizeof(reason), "query ref: %s",
		         bad   ? "not valid percent-encoding"
		         : why ? why
		               : "missing");
		free(ref);
		ss_bad_param(c, reason);
		return;
	}
	json_t *body = ss_read_body(c, f, 2);
	if (body == NULL) {
		free(ref);
		return;
	}
	why = names_git_ref(f[0].str);
	if (why != NULL) {
		char reason[160];
		snprintf(reason, sizeof(reason), "invalid tag name: %s", why);
		free(ref);
		json_decref(body);
		ss_bad_param(c, reason);
		return;
	}
	struct ss_deferred *d = ss_deferred_new(c, body, ref);
	if (d == NULL)
		return;
	struct ss_tag_create_op *o = &d->u.tag_create;
	ss_tag_create_op_init(o);
	o->where = w;
	o->ref = ref;
	o->name = f[0].str;
	o->message = f[1].str;
	ss_actor(c, &o->actor);
	call_defer(c, &o->op, tag_create_finish);
}

/* ---- GET .../tags ---- */

static void tags_list(struct call *c)
{
	struct ss_where w;
	struct ss_names names;

	if (!ss_repo_where(c, &w, true))
		return;
	enum store_status st = store_ss_tags(c->store, &w, &names);
	if (st != STORE_OK) {
		ss_store_error(c, st);
		return;
	}
	json_t *arr = ss_string_array(names.items, names.n);
	ss_names_release(&names);
	ss_json(c, 200, arr ? json_pack("{s:o}", "tags", arr) : NULL);
}

/* ---- DELETE .../tags/{tag_name} ---- */

static void tag_delete_finish(struct call *c, struct store_op *op)
{
	struct ss_tag_delete_op *o = &((struct ss_deferred *)c->handler_ctx)->u.tag_delete;

	if (op->status == STORE_OK)
		ss_no_content(c);
	else if (op->status == STORE_REFUSED)
		ss_refused(c, &o->refused);
	else
		ss_store_error(c, op->status);
	ss_deferred_end(c);
}

static void tag_delete(struct call *c)
{
	struct ss_where w;

	if (!ss_repo_where(c, &w, true))
		return;
	struct ss_deferred *d = ss_deferred_new(c, NULL, NULL);
	if (d == NULL)
		return;
	struct ss_tag_delete_op *o = &d->u.tag_delete;
	ss_tag_delete_op_init(o);
	o->where = w;
	o->name = call_param(c, SS_P_TAG);
	ss_actor(c, &o->actor);
	call_defer(c, &o->op, tag_delete_finish);
}

/* ---- the routes ---- */

/*
 * Every route and the least scope it takes: reads are read; commits and tag
 * changes write (the rules may ask for more, store_rule.h); projects
 * maintain; protection rules admin; hooks maintain, reading them too (a
 * receiver's URL can carry a credential).
 */
const struct route ss_routes[] = {
        {CALL_POST, "/v1/{project_id}/git/repos/{namespace}/{project}/tags", ROUTE_AUTH_SS,
         TOKEN_SCOPE_WRITE, tag_create},
        {CALL_GET, "/v1/{project_id}/git/repos/{namespace}/{project}/tags", ROUTE_AUTH_SS,
         TOKEN_SCOPE_READ, tags_list},
        {CALL_DELETE, "/v1/{project_id}/git/repos/{namespace}/{project}/tags/{tag_name}",
         ROUTE_AUTH_SS, TOKEN_SCOPE_WRITE, tag_delete},
        {CALL_GET, "/v1/{project_id}/git/repos/{namespace}/{project}/tags/{tag_name}/history",
         ROUTE_AUTH_SS, TOKEN_SCOPE_READ, ss_tag_history},
        {CALL_GET, "/v1/{project_id}/git/repos/{namespace}/{project}/branches", ROUTE_AUTH_SS,
         TOKEN_SCOPE_READ, ss_branches_list},
        {CALL_GET, "/v1/{project_id}/git/repos/{namespace}/{project}/commits", ROUTE_AUTH_SS,
         TOKEN_SCOPE_READ, ss_commits_list},
        {CALL_POST, "/v1/{project_id}/git/repos/{namespace}/{project}/commits", ROUTE_AUTH_SS,
         TOKEN_SCOPE_WRITE, ss_commit_create},
        {CALL_GET, "/v1/{project_id}/git/repos/namespaces", ROUTE_AUTH_SS, TOKEN_SCOPE_READ,
         ss_namespaces_list},
        {CALL_GET, "/v1/{project_id}/git/repos/{namespace}/projects", ROUTE_AUTH_SS,
         TOKEN_SCOPE_READ, ss_projects_list},
        {CALL_POST, "/v1/{project_id}/git/repos/{namespace}/projects", ROUTE_AUTH_SS,
         TOKEN_SCOPE_MAINTAIN, ss_project_create},
        {CALL_GET, "/v1/{project_id}/git/repos/project-info", ROUTE_AUTH_SS, TOKEN_SCOPE_READ,
         ss_project_info},
        {CALL_GET, "/v1/{project_id}/git/auths", ROUTE_AUTH_SS, TOKEN_SCOPE_READ, ss_auths_list},
        {CALL_GET, "/v1/{project_id}/git/repos/{namespace}/{project}/protected_tags", ROUTE_AUTH_SS,
         TOKEN_SCOPE_READ, ss_rules_list},
        {CALL_POST, "/v1/{project_id}/git/repos/{namespace}/{project}/protected_tags",
         ROUTE_AUTH_SS, TOKEN_SCOPE_ADMIN, ss_rule_add},
        {CALL_DELETE, "/v1/{project_id}/git/repos/{namespace}/{project}/protected_tags/{pattern}",
         ROUTE_AUTH_SS, TOKEN_SCOPE_ADMIN, ss_rule_remove},
        {CALL_POST, "/v1/{project_id}/git/repos/{namespace}/{project}/hooks", ROUTE_AUTH_SS,
         TOKEN_SCOPE_MAINTAIN, ss_hook_create},
        {CALL_GET, "/v1/{project_id}/git/repos/{namespace}/{project}/hooks", ROUTE_AUTH_SS,
         TOKEN_SCOPE_MAINTAIN, ss_hooks_list},
        {CALL_DELETE, "/v1/{project_id}/git/repos/{namespace}/{project}/hooks/{hook_id}",
         ROUTE_AUTH_SS, TOKEN_SCOPE_MAINTAIN, ss_hook_delete},
};

const size_t ss_routes_count = sizeof(ss_routes) / sizeof(ss_routes[0]);
