/*
 * vers_handlers - private to the Vers dialect's handler files
 * (src/vers_*.c): the handlers vers_routes[] names and the helpers they
 * share.  Every handler answers in the Vers envelope.
 */
#ifndef TAGD_VERS_HANDLERS_H
#define TAGD_VERS_HANDLERS_H

#include <jansson.h>

#include "call.h"
#include "store_vers.h"

/*
 * State kept between a handler and its finish function: the operation and
 * the parsed request body whose strings the operation borrows.
 */
struct vers_deferred {
	json_t *body;
	union {
		struct store_op op;
		struct vers_repo_create_op repo_create;
		struct vers_repo_delete_op repo_delete;
		struct vers_repo_visibility_op repo_visibility;
		struct vers_tag_create_op tag_create;
		struct vers_tag_update_op tag_update;
		struct vers_tag_delete_op tag_delete;
		struct vers_commit_create_op commit_create;
		struct vers_commit_update_op commit_update;
		struct vers_commit_delete_op commit_delete;
		struct vers_commit_tag_create_op ctag_create;
		struct vers_commit_tag_update_op ctag_update;
		struct vers_commit_tag_delete_op ctag_delete;
	} u;
};

/*
 * New deferred state for c, owning body (may be NULL).  On failure answers
 * 500, releases body and returns NULL.
 */
struct vers_deferred *vers_deferred_new(struct call *c, json_t *body);

/* The deferred state of c (set by vers_deferred_new). */
struct vers_deferred *vers_deferred_of(struct call *c);

/* Let go of the parsed body: the last thing a finish function does. */
void vers_deferred_end(struct call *c);

/*
 * Answer the statuses every operation shares: a missing repository, tag or
 * commit (404), another organization's commit (403), store failures.
 */
void vers_status_error(struct call *c, enum store_status st);

/* Finish of every operation that answers 204 on success, vers_status_error otherwise. */
void vers_no_content_finish(struct call *c, struct store_op *op);

/* Answer 400 "<what>: <why>" (invalid tag or repository names). */
void vers_invalid(struct call *c, const char *what, const char *why);

/*
 * Read a tag PATCH body {commit_id?, description?} (repository and legacy
 * tags alike): tri-state description, 400 "no updates provided" when there
 * is nothing to change.  On success returns the body (the caller keeps it
 * while description is in use) and fills the out parameters; on failure
 * has answered and returns NULL.
 */
json_t *vers_tag_patch_read(struct call *c, bool *move, char commit_id[STORE_UUID_LEN + 1],
                            enum vers_desc_change *desc, const char **description);

/* Repositories (vers_repos.c). */
void vers_repo_create(struct call *c);
void vers_repo_list(struct call *c);
void vers_repo_get(struct call *c);
void vers_repo_delete(struct call *c);
void vers_repo_visibility(struct call *c);
void vers_repo_fork(struct call *c);
void vers_public_repo_list(struct call *c);
void vers_public_repo_get(struct call *c);

/* Repository tags, private and public (vers_tags.c). */
void vers_tag_create(struct call *c);
void vers_tag_list(struct call *c);
void vers_tag_get(struct call *c);
void vers_tag_update(struct call *c);
void vers_tag_delete(struct call *c);
void vers_public_tag_list(struct call *c);
void vers_public_tag_get(struct call *c);

/* Commits (vers_commits.c). */
void vers_commit_create(struct call *c);
void vers_commit_list(struct call *c);
void vers_commit_public_list(struct call *c);
void vers_commit_update(struct call *c);
void vers_commit_delete(struct call *c);

/* Legacy commit tags (vers_commit_tags.c). */
void vers_ctag_create(struct call *c);
void vers_ctag_list(struct call *c);
void vers_ctag_get(struct call *c);
void vers_ctag_update(struct call *c);
void vers_ctag_delete(struct call *c);

#endif
