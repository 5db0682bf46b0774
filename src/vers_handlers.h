/*
 * vers_handlers - private to the Vers dialect's handler files
 * (src/vers_*.c): the handlers vers_routes[] names and the helpers they
 * share.  Every handler answers in the Vers envelope.
 */
#ifndef TAGD_VERS_HANDLERS_H
#define TAGD_VERS_HANDLERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call.h"
#include "store_hooks.h"
#include "store_rule.h"
#include "store_vers.h"

struct vers_list;

/*
 * State kept between a handler and its finish function: the operation and
 * the parsed request body whose strings the operation borrows.
 */
struct vers_deferred {
	json_t *body;
	const struct store_refusal *refused; /* the op's, when it changes tags */
	union {
		struct store_op op;
		struct vers_repo_create_op repo_create;
		struct vers_repo_delete_op repo_delete;
		struct vers_repo_visibility_op repo_visibility;
		struct vers_tag_create_op tag_create;
		struct vers_tag_update_op tag_update;
		struct vers_tag_delete_op tag_delete;
		struct vers_tag_put_op tag_put;
		struct vers_commit_create_op commit_create;
		struct vers_commit_update_op commit_update;
		struct vers_commit_delete_op commit_delete;
		struct vers_commit_tag_create_op ctag_create;
		struct vers_commit_tag_update_op ctag_update;
		struct vers_commit_tag_delete_op ctag_delete;
		struct store_rule_add_op rule_add;
		struct store_rule_remove_op rule_remove;
		struct store_hook_create_op hook_create;
		struct store_hook_delete_op hook_delete;
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
 * commit (404), another organization's commit (403), a protection rule's
 * refusal (403 naming the tag and the rule, from the deferred state's
 * refused), store failures.
 */
void vers_status_error(struct call *c, enum store_status st);

/* Finish of every operation that answers 204 on success, vers_status_error otherwise. */
void vers_no_content_finish(struct call *c, struct store_op *op);

/* As vers_no_content_finish, with the changed tag's ETag (revision rev) on success. */
void vers_no_content_etag_finish(struct call *c, struct store_op *op, int64_t rev);

/* Add `ETag: "<rev>"` to c's response (see etag.h). */
void vers_etag(struct call *c, int64_t rev);

/* The actor of c's changes for the history: its token and request id (borrowed from c). */
void vers_actor(const struct call *c, struct store_actor *out);

/* What c's If-Match asks of the tag it changes (STORE_EXPECT_NOTHING without one). */
void vers_expect(const struct call *c, struct store_expect *out);

/* Answer 400 "<what>: <why>" (invalid tag or repository names). */
void vers_invalid(struct call *c, const char *what, const char *why);

/*
 * Read a tag PATCH body {commit_id?, description?} (repository and legacy
 * tags alike): tri-state description, 400 "no updates provided" when there
 * is nothing to change.  On success returns the body (the caller keeps it
 * while patch->description is in use) and fills *patch; on failure has
 * answered and returns NULL.
 */
json_t *vers_tag_patch_read(struct call *c, struct vers_tag_patch *patch);

/* ---- list query parameters and paging links (vers_query.c) ---- */

enum vers_query_kind {
	VERS_QUERY_INT,  /* an i64 as Rust parses it; checked against [min, max] when max > 0 */
	VERS_QUERY_TEXT, /* UTF-8 text of at most max_len bytes, into text */
	VERS_QUERY_UUID, /* a UUID in any form the uuid crate parses, normalized into uuid */
};

/* One query parameter a list accepts: set name, kind and bounds; the rest is output. */
struct vers_query_field {
	const char *name;
	enum vers_query_kind kind;
	int64_t min, max;
	size_t max_len;
	bool present;
	int64_t i64;
	char *text; /* owned: vers_query_release() */
	char uuid[STORE_UUID_LEN + 1];
};

/*
 * Read the fields of c's query string.  Pairs are taken in the order of the
 * query string, as serde_urlencoded does, so the first bad one is the one
 * reported; a repeated key is an error; unknown keys are ignored.  On an
 * error answers 400 "Failed to deserialize query string: <reason>" (Rust's
 * integer-parse words, or "invalid value for `NAME`: ..."), releases the
 * fields and returns false.
 */
bool vers_query_read(struct call *c, struct vers_query_field *f, size_t n);

/* Free the fields' texts. */
void vers_query_release(struct vers_query_field *f, size_t n);

/* Answer 400 "Failed to deserialize query string: `a` and `b` cannot be used together". */
void vers_query_conflict(struct call *c, const char *a, const char *b);

/*
 * Keyset paging (a tagd extension) of a list in progress: what the query
 * asked for and the last row listed so far, whose key is the next page's
 * cursor.
 */
#define VERS_PAGE_DEFAULT 100  /* tag lists: page size when only `after` is given */
#define VERS_PAGE_MAX     1000 /* tag lists: largest `limit` */

struct vers_paging {
	bool on;               /* the query asked for a page */
	struct vers_page page; /* page.after borrows after */
	char *after;           /* owned */
	char *last;            /* owned: the key of the last row listed */
	size_t last_cap;
};

/*
 * Read a tag list's `limit` (1..VERS_PAGE_MAX) and `after` (UTF-8, at most
 * max_after bytes) into *p (release it with vers_paging_release).  p->on is
 * false when neither is given.  On a bad value answers 400 and returns false.
 */
bool vers_paging_read(struct call *c, size_t max_after, struct vers_paging *p);

/* Remember name (copied) as the last row's key.  False when out of memory. */
bool vers_paging_keep(struct vers_paging *p, const char *name);

/*
 * Close the list object l with `,"next_after":<key or null>}`; when more
 * rows remain also add the Link rel="next" header.  False on failure (l may
 * be failed): answer 500 rather than a page that looks like the last.
 */
bool vers_paging_finish(struct call *c, struct vers_paging *p, struct vers_list *l);

void vers_paging_release(struct vers_paging *p);

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
void vers_tag_put(struct call *c);  /* vers_tag_put.c */
void vers_ctag_put(struct call *c); /* vers_tag_put.c */
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
void vers_commit_get(struct call *c);
void vers_commit_update(struct call *c);
void vers_commit_delete(struct call *c);

/* Legacy commit tags (vers_commit_tags.c). */
void vers_ctag_create(struct call *c);
void vers_ctag_list(struct call *c);
void vers_ctag_get(struct call *c);
void vers_ctag_update(struct call *c);
void vers_ctag_delete(struct call *c);

/* Protection rules (vers_rules.c): the organization's and a repository's. */
void vers_rule_org_list(struct call *c);
void vers_rule_org_add(struct call *c);
void vers_rule_org_remove(struct call *c);
void vers_rule_repo_list(struct call *c);
void vers_rule_repo_add(struct call *c);
void vers_rule_repo_remove(struct call *c);

/* The history of tag changes (vers_history.c). */
void vers_tag_history(struct call *c);
void vers_ctag_history(struct call *c);
void vers_events(struct call *c);
void vers_events_head(struct call *c);

/* Webhooks (vers_hooks.c). */
void vers_hooks_list(struct call *c);
void vers_hook_create(struct call *c);
void vers_hook_delete(struct call *c);
void vers_hook_deliveries(struct call *c);
void vers_repo_hooks_list(struct call *c);
void vers_repo_hook_create(struct call *c);
void vers_repo_hook_delete(struct call *c);

#endif
