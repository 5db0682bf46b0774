/*
 * Private to ss_*.c: the handlers of each file and the helpers they share.
 */
#ifndef TAGD_SS_INTERNAL_H
#define TAGD_SS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "call.h"
#include "store_hooks.h"
#include "store_rule.h"
#include "store_ss.h"

/* Path parameter positions shared by every /git/repos/... route. */
enum { SS_P_PROJECT_ID, SS_P_NAMESPACE, SS_P_PROJECT, SS_P_TAG };

/*
 * Check X-Repo-Auth (400 0450 when missing or unknown in the caller's
 * organization) and fill w from the path: the namespace, and with
 * with_project the project (its ':' turned into '/').  On failure answers
 * and returns false.
 */
bool ss_repo_where(struct call *c, struct ss_where *w, bool with_project);

/*
 * The clone URL of a project: "<base>/<namespace>/<project>.git".  NULL when
 * out of memory.
 */
json_t *ss_clone_url(const struct call *c, const char *ns, const char *project);

/* The clone base URL in force (no trailing '/'). */
const char *ss_clone_base(const struct call *c);

/* A JSON array of strings[0..n); NULL when out of memory. */
json_t *ss_string_array(char *const *items, size_t n);

/*
 * State kept between a handler and its finish function: the operation, the
 * parsed body whose strings it borrows, a query value it borrows, and the
 * repository an operation may point at (hooks' selections do).
 */
struct ss_deferred {
	json_t *body;
	char *query;
	struct ss_where where;
	union {
		struct store_op op;
		struct ss_project_create_op project_create;
		struct ss_commit_create_op commit_create;
		struct ss_tag_create_op tag_create;
		struct ss_tag_delete_op tag_delete;
		struct store_rule_add_op rule_add;
		struct store_rule_remove_op rule_remove;
		struct store_hook_create_op hook_create;
		struct store_hook_delete_op hook_delete;
	} u;
};

/*
 * New deferred state for c, taking body and query (either may be NULL).  On
 * failure frees them, answers 500 and returns NULL.
 */
struct ss_deferred *ss_deferred_new(struct call *c, json_t *body, char *query);

/* Let go of the body and query: the last thing a finish function does. */
void ss_deferred_end(struct call *c);

/* The actor of c's changes for the history: its token and request id (borrowed from c). */
void ss_actor(const struct call *c, struct store_actor *out);

/* Handlers, by file. */
void ss_tag_history(struct call *c);   /* ss_history.c */
void ss_branches_list(struct call *c); /* ss_git.c */
void ss_commits_list(struct call *c);
void ss_commit_create(struct call *c);
void ss_namespaces_list(struct call *c); /* ss_repos.c */
void ss_projects_list(struct call *c);
void ss_project_create(struct call *c);
void ss_project_info(struct call *c);
void ss_auths_list(struct call *c);
void ss_rules_list(struct call *c); /* ss_rules.c */
void ss_rule_add(struct call *c);
void ss_rule_remove(struct call *c);
void ss_hook_create(struct call *c); /* ss_hooks.c */
void ss_hooks_list(struct call *c);
void ss_hook_delete(struct call *c);

#endif
