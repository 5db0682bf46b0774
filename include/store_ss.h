/*
 * store_ss - the ServiceStage dialect's data: repository authorizations and
 * the git hosting tagd stands in for (namespaces, projects, branches,
 * commits, annotated tags), scoped by organization.
 *
 * Every repository call names an authorization (X-Repo-Auth) and a namespace
 * (and usually a project) by path segment; struct ss_where carries them.
 * Resolving a where, in this order:
 *  - the authorization must still exist and cover the namespace, by name
 *    (STORE_FORBIDDEN otherwise: "authorization invalid");
 *  - the namespace segment is an ID (all digits) or a name, ID first;
 *  - the project segment is an ID or a name, ID first; a name that starts
 *    with "<namespace>/" is also tried without that prefix;
 *  - an unknown namespace is STORE_NOT_FOUND, an unknown project STORE_REPO_NOT_FOUND.
 * Other statuses of the repository calls: STORE_COMMIT_NOT_FOUND (a ref that
 * resolves to nothing), STORE_TAG_NOT_FOUND, STORE_CONFLICT (a name taken),
 * STORE_INVALID (an abbreviated SHA that is ambiguous, a bad namespace name).
 *
 * Result structs own their strings; free them with the matching function.
 * Read functions return STORE_OK or a status; on error nothing is allocated.
 * Public IDs are row ids, never reused, shown as decimal strings.
 */
#ifndef TAGD_STORE_SS_H
#define TAGD_STORE_SS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define SS_NAME_MAX      255 /* namespace and project names, bytes */
#define SS_SHA_LEN       40
#define SS_COMMITS_SHOWN 10 /* GET .../commits answers the latest 10 */

/* ---- repository authorizations ---- */

struct ss_auth {
	char *name;
	char *repo_type;
	bool all_namespaces;
	char **namespaces; /* the covered namespace names when !all_namespaces */
	size_t nnamespaces;
	int64_t created_ms;
	int64_t updated_ms;
};

/*
 * Create authorization name in org_name.  namespaces[0..n) are the covered
 * namespace names (duplicates ignored); n == 0 covers every namespace.
 * STORE_ORG_NOT_FOUND, STORE_CONFLICT (name taken in the organization),
 * STORE_INVALID (repo_type is not one of github, gitlab, gitee, bitbucket,
 * devcloud).
 */
struct ss_auth_create_op {
	struct store_op op;
	const char *org_name;
	const char *name;
	const char *repo_type;
	const char *const *namespaces;
	size_t nnamespaces;
};
void ss_auth_create_op_init(struct ss_auth_create_op *o);

/* Delete authorization name of org_name.  STORE_ORG_NOT_FOUND, STORE_NOT_FOUND. */
struct ss_auth_delete_op {
	struct store_op op;
	const char *org_name;
	const char *name;
};
void ss_auth_delete_op_init(struct ss_auth_delete_op *o);

/* The authorizations of an organization, oldest first.  Free with ss_auth_list_free. */
enum store_status store_ss_auth_list(struct store *s, int64_t org_id, struct ss_auth **out,
                                     size_t *n);
void ss_auth_list_free(struct ss_auth *list, size_t n);

/* The row id of authorization name in org; STORE_NOT_FOUND when there is none. */
enum store_status store_ss_auth_find(struct store *s, int64_t org_id, const char *name,
                                     int64_t *auth_id);

/* ---- what a repository call names ---- */

struct ss_where {
	int64_t org_id;
	int64_t auth_id;       /* from store_ss_auth_find */
	const char *namespace; /* path segment: ID or name */
	const char *project;   /* path segment with ':' already turned into '/' */
	bool command_line;     /* tagd protect: no authorization to check */
};

/* A namespace or project as the lists show it. */
struct ss_named {
	char id[24];
	char *name;
};

struct ss_commit {
	char sha[SS_SHA_LEN + 1];
	char *message;
	int64_t authored_at; /* microseconds */
};

/* A list of names. */
struct ss_names {
	char **items;
	size_t n;
};

void ss_named_list_free(struct ss_named *list, size_t n);
void ss_commit_release(struct ss_commit *c);
void ss_commit_list_free(struct ss_commit *list, size_t n);
void ss_names_release(struct ss_names *l);

/* ---- reads ---- */

/* The namespaces of org the authorization covers, by name. */
enum store_status store_ss_namespaces(struct store *s, int64_t org_id, int64_t auth_id,
                                      struct ss_named **out, size_t *n);

/*
 * The projects of w's namespace, by name, and the namespace's name (copied
 * into ns_name, SS_NAME_MAX + 1 bytes) for their clone URLs.
 */
enum store_status store_ss_projects(struct store *s, const struct ss_where *w,
                                    struct ss_named **out, size_t *n, char *ns_name);

/* IDs and names of w's namespace and project (project-info). */
struct ss_project_info {
	char namespace_id[24];
	char namespace[SS_NAME_MAX + 1];
	char project_id[24];
	char project[SS_NAME_MAX + 1];
};
enum store_status store_ss_project_info(struct store *s, const struct ss_where *w,
                                        struct ss_project_info *out);

/* Tag names of w's project, by name (byte order). */
enum store_status store_ss_tags(struct store *s, const struct ss_where *w, struct ss_names *out);

/* STORE_OK when w's project has tag name now, STORE_TAG_NOT_FOUND when not. */
enum store_status store_ss_tag_exists(struct store *s, const struct ss_where *w, const char *name);

/* Branch names of w's project, by name (byte order). */
enum store_status store_ss_branches(struct store *s, const struct ss_where *w,
                                    struct ss_names *out);

/*
 * The latest SS_COMMITS_SHOWN commits of ref (NULL: the default branch; none
 * yet gives an empty list), newest first in the order they were recorded on
 * the branch.  A tag or SHA ref lists the history of the branch the commit
 * was first recorded on, up to and including it (or the commit alone).
 */
enum store_status store_ss_commits(struct store *s, const struct ss_where *w, const char *ref,
                                   struct ss_commit **out, size_t *n);

/* ---- writes ---- */

/*
 * Create project name in w's namespace, creating the namespace (w->namespace
 * taken as its name) when it does not exist.  Out: the project's id and the
 * namespace's name.  STORE_CONFLICT when the name is taken.
 */
struct ss_project_create_op {
	struct store_op op;
	struct ss_where where;
	const char *name;
	char id[24];
	char ns_name[SS_NAME_MAX + 1];
};
void ss_project_create_op_init(struct ss_project_create_op *o);

/*
 * Record a commit (sha: 40 lower-case hex) in w's project; with branch, also
 * on that branch, which becomes its head (a new branch is created, the
 * project's first is its default branch).  A SHA the project knows keeps its
 * first message and date.  STORE_CONFLICT when nothing new would be
 * recorded (a known SHA without branch, or already that branch's head).
 * Out: the stored commit.
 */
struct ss_commit_create_op {
	struct store_op op;
	struct ss_where where;
	char sha[SS_SHA_LEN + 1];
	const char *message;
	int64_t authored_at;
	const char *branch; /* may be NULL */
	struct ss_commit out;
};
void ss_commit_create_op_init(struct ss_commit_create_op *o);

/*
 * Tag the commit ref resolves to (a branch, then a tag, then a full SHA,
 * then an unambiguous abbreviated SHA of at least 7 hex digits) with name;
 * the message is the annotation.  STORE_COMMIT_NOT_FOUND, STORE_INVALID
 * (ambiguous SHA), STORE_REFUSED (a protection rule: see refused),
 * STORE_CONFLICT (name taken).
 */
struct ss_tag_create_op {
	struct store_op op;
	struct ss_where where;
	const char *ref;
	const char *name;
	const char *message;
	struct store_actor actor;
	struct store_refusal refused; /* out on STORE_REFUSED */
};
void ss_tag_create_op_init(struct ss_tag_create_op *o);

/*
 * Delete tag name of w's project (an event, as a create is).
 * STORE_TAG_NOT_FOUND, STORE_REFUSED (a protection rule: see refused).
 */
struct ss_tag_delete_op {
	struct store_op op;
	struct ss_where where;
	const char *name;
	struct store_actor actor;
	struct store_refusal refused; /* out on STORE_REFUSED */
};
void ss_tag_delete_op_init(struct ss_tag_delete_op *o);

#endif
