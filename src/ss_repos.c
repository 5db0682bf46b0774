/*
 * ss_repos.c - ServiceStage namespaces, projects, project-info and the list
 * of repository authorizations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "ss_internal.h"
#include "ss_reply.h"

#define CLONE_URL_MAX 2048

/* ---- GET .../git/repos/namespaces ---- */

void ss_namespaces_list(struct call *c)
{
	struct ss_where w;
	struct ss_named *list;
	size_t n;

	if (!ss_repo_where(c, &w, false))
		return;
	enum store_status st = store_ss_namespaces(c->store, c->org_id, w.auth_id, &list, &n);
	if (st != STORE_OK) {
		ss_store_error(c, st);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		json_t *e = json_pack("{s:s, s:s}", "id", list[i].id, "name", list[i].name);
		if (json_array_append_new(arr, e) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	ss_named_list_free(list, n);
	ss_json(c, 200, arr ? json_pack("{s:o}", "namespaces", arr) : NULL);
}

/* ---- GET .../{namespace}/projects ---- */

static json_t *project_json(const struct call *c, const char *id, const char *name, const char *ns)
{
	json_t *url = ss_clone_url(c, ns, name);
	return url ? json_pack("{s:s, s:s, s:o}", "id", id, "name", name, "clone_url", url) : NULL;
}

void ss_projects_list(struct call *c)
{
	struct ss_where w;
	struct ss_named *list;
	size_t n;
	char ns[SS_NAME_MAX + 1];

	if (!ss_repo_where(c, &w, false))
		return;
	enum store_status st = store_ss_projects(c->store, &w, &list, &n, ns);
	if (st != STORE_OK) {
		ss_store_error(c, st);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		json_t *e = project_json(c, list[i].id, list[i].name, ns);
		if (e == NULL || json_array_append_new(arr, e) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	ss_named_list_free(list, n);
	ss_json(c, 200, arr ? json_pack("{s:o}", "projects", arr) : NULL);
}

/* ---- POST .../{namespace}/projects ---- */

static void project_create_finish(struct call *c, struct store_op *op)
{
	struct ss_project_create_op *o = &((struct ss_deferred *)c->handler_ctx)->u.project_create;

	if (op->status == STORE_OK) {
		ss_json(c, 200, project_json(c, o->id, o->name, o->ns_name));
	} else {
		ss_store_error(c, op->status);
		if (op->status == STORE_CONFLICT)
			call_set_reason(c, "the namespace has a project of that name");
		else if (op->status == STORE_INVALID)
			call_set_reason(c, "the namespace does not exist and its name is not valid "
			                   "for a new one");
	}
	ss_deferred_end(c);
}

void ss_project_create(struct call *c)
{
	struct body_field f[] = {
	        {.name = "name", .kind = BODY_STRING, .required = true},
	};
	struct ss_where w;

	if (!ss_repo_where(c, &w, false))
		return;
	json_t *body = ss_read_body(c, f, 1);
	if (body == NULL)
		return;
	const char *why = names_ss_project(f[0].str);
	if (why != NULL) {
		char reason[160];
		snprintf(reason, sizeof(reason), "request body: name: %s", why);
		json_decref(body);
		ss_bad_param(c, reason);
		return;
	}
	struct ss_deferred *d = ss_deferred_new(c, body, NULL);
	if (d == NULL)
		return;
	struct ss_project_create_op *o = &d->u.project_create;
	ss_project_create_op_init(o);
	o->where = w;
	o->name = f[0].str;
	call_defer(c, &o->op, project_create_finish);
}

/* ---- GET .../git/repos/project-info?clone_url= ---- */

/*
 * Split "<base>/<namespace>/<project>[.git]" into its namespace and project
 * names (written into url, which is modified).  False when url is not such
 * a URL of this tagd.
 */
static bool parse_clone_url(const struct call *c, char *url, char **ns, char **project)
{
	const char *base = ss_clone_base(c);
	size_t blen = strlen(base), len = strlen(url);

	if (len > CLONE_URL_MAX || strncmp(url, base, blen) != 0 || url[blen] != '/')
		return false;
	if (len > 4 && strcmp(url + len - 4, ".git") == 0)
		url[len - 4] = '\0';
	char *p = url + blen + 1;
	char *slash = strchr(p, '/');
	if (slash == NULL)
		return false;
	*slash = '\0';
	*ns = p;
	*project = slash + 1;
	return names_ss_namespace(*ns) == NULL && names_ss_project(*project) == NULL;
}

void ss_project_info(struct call *c)
{
	struct ss_where w;
	struct ss_project_info info;
	bool bad = false;
	char *ns, *project;

	if (!ss_repo_where(c, &w, false))
		return;
	char *url = call_query_take(c, "clone_url", &bad);
	if (url == NULL && !bad) {
		ss_bad_param(c, "query clone_url is missing");
		return;
	}
	if (url == NULL || !parse_clone_url(c, url, &ns, &project)) {
		free(url);
		ss_error(c, 400, SS_E_CLONE_URL,
		         bad ? "query clone_url is not valid percent-encoding"
		             : "clone_url is not <clone base>/<namespace>/<project>[.git] with "
		               "valid "
		               "names");
		return;
	}
	w.namespace = ns;
	w.project = project;
	enum store_status st = store_ss_project_info(c->store, &w, &info);
	free(url);
	if (st != STORE_OK) {
		ss_store_error(c, st);
		return;
	}
	ss_json(c, 200,
	        json_pack("{s:s, s:s, s:s, s:s}", "namespace_id", info.namespace_id, "namespace",
	                  info.namespace, "project_id", info.project_id, "project", info.project));
}

/* ---- GET .../git/auths ---- */

static json_t *auth_json(const struct call *c, const struct ss_auth *a)
{
	const char *base = ss_clone_base(c);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i}", "name", a->name,
	                 "repo_type", a->repo_type, "repo_host", base, "repo_home", base,
	                 "repo_user", c->org_name ? c->org_name : "", "avartar", "", "token_type",
	                 "token", "create_time", (json_int_t)a->created_ms, "update_time",
	                 (json_int_t)a->updated_ms, "status", 0);
}

void ss_auths_list(struct call *c)
{
	struct ss_auth *list;
	size_t n;

	enum store_status st = store_ss_auth_list(c->store, c->org_id, &list, &n);
	if (st != STORE_OK) {
		ss_store_error(c, st);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		json_t *e = auth_json(c, &list[i]);
		if (e == NULL || json_array_append_new(arr, e) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	ss_auth_list_free(list, n);
	ss_json(c, 200,
	        arr ? json_pack("{s:o, s:I}", "authorizations", arr, "count", (json_int_t)n)
	            : NULL);
}
