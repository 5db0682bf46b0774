/*
 * store_vers - the Vers dialect's data: repositories, repository tags,
 * commits and legacy commit tags, scoped by organization.
 *
 * Times are microseconds since the epoch, UTC.  UUIDs are 36-byte lower-case
 * strings.  Result structs own their strings; release them with the matching
 * *_release() function.  Read functions return STORE_OK or a status; on error
 * nothing is allocated.
 */
#ifndef TAGD_STORE_VERS_H
#define TAGD_STORE_VERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct vers_repo {
	char repo_id[STORE_UUID_LEN + 1];
	char *name;
	char *description; /* NULL when not set */
	char *org_name;
	bool is_public;
	int64_t created_at;
};

struct vers_tag {
	char tag_id[STORE_UUID_LEN + 1];
	char *name;
	char commit_id[STORE_UUID_LEN + 1];
	char *description; /* NULL when not set */
	int64_t created_at;
	int64_t updated_at;
	int64_t rev; /* the seq of the event that last changed it (0: none since history began) */
};

struct vers_commit {
	char commit_id[STORE_UUID_LEN + 1];
	char owner_id[STORE_UUID_LEN + 1]; /* the owning organization's UUID */
	char *name;
	char *description;
	char *parent_vm_id;
	char *grandparent_commit_id;
	bool is_public;
	int64_t created_at;
};

void vers_repo_release(struct vers_repo *r);
void vers_tag_release(struct vers_tag *t);
void vers_commit_release(struct vers_commit *c);

/* --- write operations (run them with store_submit or store_execute) ---
 *
 * Every operation that changes tags records each change in the history
 * (history.h) as done by its actor; operations with an `expect` change
 * nothing unless the tag is as expected (STORE_PRECONDITION otherwise,
 * checked after the tag is found and before the commit is).  Each obeys the
 * protection rules (store_rule.h) with its actor's scope: STORE_REFUSED,
 * and `refused` says which tag and rule (checked after the tag is found,
 * before the expectation; for creates after the commit).
 */

/* Create repository name in org.  Out: repo_id.  STORE_CONFLICT when the name is taken. */
struct vers_repo_create_op {
	struct store_op op;
	int64_t org_id;
	const char *name;
	const char *description; /* may be NULL */
	char repo_id[STORE_UUID_LEN + 1];
};
void vers_repo_create_op_init(struct vers_repo_create_op *o);

/*
 * Register a commit owned by org.  commit_id may be empty (a new UUID is made).
 * name NULL means the commit's id is its name.  Out: the whole commit.
 * STORE_CONFLICT when the id exists (in any organization).
 */
struct vers_commit_create_op {
	struct store_op op;
	int64_t org_id;
	char commit_id[STORE_UUID_LEN + 1];
	const char *name;
	const char *description;
	bool is_public;
	struct vers_commit out;
};
void vers_commit_create_op_init(struct vers_commit_create_op *o);

/*
 * Tag a commit in a repository of org.  Checks, in the order the real service
 * makes them: repository (STORE_REPO_NOT_FOUND), commit exists and is not
 * deleted (STORE_COMMIT_NOT_FOUND), commit owned by org (STORE_FORBIDDEN),
 * name free (STORE_CONFLICT).  Out: tag_id and rev.
 */
struct vers_tag_create_op {
	struct store_op op;
	int64_t org_id;
	const char *repo_name;
	const char *tag_name;
	char commit_id[STORE_UUID_LEN + 1];
	const char *description;
	struct store_actor actor;
	struct store_refusal refused; /* out on STORE_REFUSED */
	char tag_id[STORE_UUID_LEN + 1];
	int64_t rev;
};
void vers_tag_create_op_init(struct vers_tag_create_op *o);

/*
 * Create or move a tag in one call (PUT, a tagd extension): a repository tag
 * of repo_name, or with repo_name NULL a legacy commit tag of org.  Checks:
 * repository (STORE_REPO_NOT_FOUND), commit (STORE_COMMIT_NOT_FOUND,
 * STORE_FORBIDDEN), expect (STORE_PRECONDITION: If-Match makes it move-only,
 * If-None-Match: * create-only), then the protection rules (STORE_REFUSED).
 * desc: what becomes of the description (KEEP: on a create, none).  Out:
 * created (the name was free), unchanged (the tag already pointed there with
 * that description: nothing written, no event), tag_id and rev.
 */
struct vers_tag_put_op {
	struct store_op op;
	int64_t org_id;
	const char *repo_name; /* NULL: a legacy commit tag */
	const char *tag_name;
	char commit_id[STORE_UUID_LEN + 1];
	enum store_desc_change desc;
	const char *description; /* STORE_DESC_SET only */
	struct store_expect expect;
	struct store_actor actor;
	struct store_refusal refused; /* out on STORE_REFUSED */
	bool created, unchanged;
	char tag_id[STORE_UUID_LEN + 1];
	int64_t rev;
};
void vers_tag_put_op_init(struct vers_tag_put_op *o);

/* What a PATCH of a tag (repository or legacy) changes. */
struct vers_tag_patch {
	bool move; /* point the tag at commit_id */
	char commit_id[STORE_UUID_LEN + 1];
	enum store_desc_change desc;
	const char *description; /* STORE_DESC_SET only */
};

/*
 * Delete repository name of org, its tags and its protection rules (each
 * tag's delete and each rule's removal is an event).  STORE_REPO_NOT_FOUND;
 * STORE_REFUSED when a rule forbids deleting one of its tags (an immutable
 * one, or a protected one for an actor below maintain): then nothing goes.
 */
struct vers_repo_delete_op {
	struct store_op op;
	int64_t org_id;
	const char *name;
	struct store_actor actor;
	struct store_refusal refused; /* out on STORE_REFUSED */
};
void vers_repo_delete_op_init(struct vers_repo_delete_op *o);

/* Make repository name of org public or private.  STORE_REPO_NOT_FOUND. */
struct vers_repo_visibility_op {
	struct store_op op;
	int64_t org_id;
	const char *name;
	bool is_public;
};
void vers_repo_visibility_op_init(struct vers_repo_visibility_op *o);

/*
 * Change a repository tag: move it to commit_id (when move) and change its
 * description as desc says; updated_at becomes now.  Checks in order:
 * STORE_REPO_NOT_FOUND, STORE_TAG_NOT_FOUND, STORE_PRECONDITION, then (when
 * moving) the commit checks of create: STORE_COMMIT_NOT_FOUND,
 * STORE_FORBIDDEN.  Out: rev.
 */
struct vers_tag_update_op {
	struct store_op op;
	int64_t org_id;
	const char *repo_name;
	const char *tag_name;
	struct vers_tag_patch patch;
	struct store_expect expect;
	struct store_actor actor;
	struct store_refusal refused; /* out on STORE_REFUSED */
	int64_t rev;
};
void vers_tag_update_op_init(struct vers_tag_update_op *o);

/* Delete a repository tag.  STORE_REPO_NOT_FOUND, STORE_TAG_NOT_FOUND, STORE_PRECONDITION. */
struct vers_tag_delete_op {
	struct store_op op;
	int64_t org_id;
	const char *repo_name;
	const char *tag_name;
	struct store_expect expect;
	struct store_actor actor;
	struct store_refusal refused; /* out on STORE_REFUSED */
};
void vers_tag_delete_op_init(struct vers_tag_delete_op *o);

/*
 * Change a commit of org: is_public always, name and description when not
 * NULL.  STORE_COMMIT_NOT_FOUND (absent or deleted), STORE_FORBIDDEN
 * (another org's).  Out: the whole commit after the change (release it).
 */
struct vers_commit_update_op {
	struct store_op op;
	int64_t org_id;
	char commit_id[STORE_UUID_LEN + 1];
	bool is_public;
	const char *name;        /* NULL: unchanged */
	const char *description; /* NULL: unchanged */
	struct vers_commit out;
};
void vers_commit_update_op_init(struct vers_commit_update_op *o);

/*
 * Soft-delete a commit of org: it leaves every list and can no longer be
 * tagged, updated or deleted; tags already naming it keep naming it.
 * STORE_COMMIT_NOT_FOUND (absent or deleted), STORE_FORBIDDEN.
 */
struct vers_commit_delete_op {
	struct store_op op;
	int64_t org_id;
	char commit_id[STORE_UUID_LEN + 1];
};
void vers_commit_delete_op_init(struct vers_commit_delete_op *o);

/*
 * Legacy commit tag (unique per organization): create.  Checks in order:
 * STORE_COMMIT_NOT_FOUND, STORE_FORBIDDEN, STORE_CONFLICT.  Out: tag_id.
 */
struct vers_commit_tag_create_op {
	struct store_op op;
	int64_t org_id;
	const char *tag_name;
	char commit_id[STORE_UUID_LEN + 1];
	const char *description;
	struct store_actor actor;
	struct store_refusal refused; /* out on STORE_REFUSED */
	char tag_id[STORE_UUID_LEN + 1];
	int64_t rev;
};
void vers_commit_tag_create_op_init(struct vers_commit_tag_create_op *o);

/*
 * Legacy commit tag: update, as vers_tag_update_op without the repository.
 * STORE_TAG_NOT_FOUND, STORE_PRECONDITION, then STORE_COMMIT_NOT_FOUND,
 * STORE_FORBIDDEN.  Out: rev.
 */
struct vers_commit_tag_update_op {
	struct store_op op;
	int64_t org_id;
	const char *tag_name;
	struct vers_tag_patch patch;
	struct store_expect expect;
	struct store_actor actor;
	struct store_refusal refused; /* out on STORE_REFUSED */
	int64_t rev;
};
void vers_commit_tag_update_op_init(struct vers_commit_tag_update_op *o);

/* Legacy commit tag: delete.  STORE_TAG_NOT_FOUND, STORE_PRECONDITION. */
struct vers_commit_tag_delete_op {
	struct store_op op;
	int64_t org_id;
	const char *tag_name;
	struct store_expect expect;
	struct store_actor actor;
	struct store_refusal refused; /* out on STORE_REFUSED */
};
void vers_commit_tag_delete_op_init(struct vers_commit_tag_delete_op *o);

/* --- reads (store_vers_read.c) ---
 *
 * A list read calls fn once per row with a view whose strings are borrowed
 * from the database and valid only during that call.  fn returns false to
 * stop (it ran out of memory): the read then returns STORE_NOMEM.  A read of
 * several statements sees one snapshot.
 */
typedef bool (*vers_repo_fn)(void *ctx, const struct vers_repo *r);
typedef bool (*vers_tag_fn)(void *ctx, const struct vers_tag *t);
typedef bool (*vers_commit_fn)(void *ctx, const struct vers_commit *c);

/*
 * Which repository a read means.  org_name NULL: repository name of the
 * organization org_id (private routes).  Otherwise the public repository
 * org_name/name; a private one is STORE_REPO_NOT_FOUND.
 */
struct vers_repo_key {
	int64_t org_id;
	const char *org_name;
	const char *name;
};

/* The repositories of org, by name (byte order).  r->org_name is NULL. */
enum store_status store_vers_repos(struct store *s, int64_t org_id, vers_repo_fn fn, void *ctx);

/* Every public repository, by name and then organization name. */
enum store_status store_vers_public_repos(struct store *s, vers_repo_fn fn, void *ctx);

/* One repository into *out (owned; vers_repo_release).  STORE_REPO_NOT_FOUND. */
enum store_status store_vers_repo_get(struct store *s, const struct vers_repo_key *key,
                                      struct vers_repo *out);

/* The tags of a repository, by tag name.  STORE_REPO_NOT_FOUND. */
enum store_status store_vers_repo_tags(struct store *s, const struct vers_repo_key *key,
                                       vers_tag_fn fn, void *ctx);

/* One tag of a repository into *out (owned).  STORE_REPO_NOT_FOUND, STORE_TAG_NOT_FOUND. */
enum store_status store_vers_repo_tag_get(struct store *s, const struct vers_repo_key *key,
                                          const char *tag_name, struct vers_tag *out);

/*
 * A page of live commits, newest first (created_at, then insertion order):
 * org's own, or with public_all every organization's public ones.  *total is
 * the number of such commits.  limit and offset must be >= 0.
 */
enum store_status store_vers_commits(struct store *s, int64_t org_id, bool public_all,
                                     int64_t limit, int64_t offset, int64_t *total,
                                     vers_commit_fn fn, void *ctx);

/*
 * A keyset page (a tagd extension): at most limit rows that come after the
 * row after names, in the list's order, and whether more remain.
 */
struct vers_page {
	const char *after; /* tags: a name, exclusive, byte order; commits: a commit id;
	                      NULL: from the start */
	int64_t limit;     /* 1 .. INT64_MAX - 1 */
	bool more;         /* out: at least one more row follows this page */
};

/*
 * A page of the tags of a repository, by tag name, read by a range scan of
 * the (repo_id, name) index: its cost does not depend on how many tags or
 * repositories there are before it.  STORE_REPO_NOT_FOUND.
 */
enum store_status store_vers_repo_tags_page(struct store *s, const struct vers_repo_key *key,
                                            struct vers_page *page, vers_tag_fn fn, void *ctx);

/*
 * A page of live commits after the commit page->after (required), in the
 * order of store_vers_commits, read from the commits_org_recent or
 * commits_public_recent index.  *total is as store_vers_commits says.
 * STORE_INVALID when page->after is not a live commit of that list (unknown,
 * deleted, another organization's, or not public on the public list).
 */
enum store_status store_vers_commits_after(struct store *s, int64_t org_id, bool public_all,
                                           struct vers_page *page, int64_t *total,
                                           vers_commit_fn fn, void *ctx);

/*
 * One live commit into *out (owned: vers_commit_release): org's own, or a
 * public one of any organization (what the two commit lists show).
 * STORE_COMMIT_NOT_FOUND for anything else: unknown, deleted, or another
 * organization's private commit.
 */
enum store_status store_vers_commit_get(struct store *s, int64_t org_id, const char *commit_id,
                                        struct vers_commit *out);

/* A page of the legacy commit tags of org, by name, as store_vers_repo_tags_page. */
enum store_status store_vers_commit_tags_page(struct store *s, int64_t org_id,
                                              struct vers_page *page, vers_tag_fn fn, void *ctx);

/* The reads whose query plans store_vers_explain shows. */
enum vers_read {
	VERS_READ_REPO_PRIVATE, /* a repository of the caller's organization, by name */
	VERS_READ_REPO_PUBLIC,  /* a public repository, by organization and name */
	VERS_READ_REPO_TAGS,    /* every tag of a repository */
	VERS_READ_REPO_TAGS_PAGE,
	VERS_READ_COMMIT_TAGS_PAGE,
	VERS_READ_COMMITS_ORG,
	VERS_READ_COMMITS_PUBLIC,
	VERS_READ_COMMITS_ORG_AFTER,
	VERS_READ_COMMITS_PUBLIC_AFTER,
	VERS_READ_COMMIT_CURSOR_ORG,
	VERS_READ_COMMIT_CURSOR_PUBLIC,
	VERS_READ_COMMITS_ORG_COUNT,
	VERS_READ_COMMITS_PUBLIC_COUNT,
	VERS_READ_COMMIT_ONE, /* one commit by id */
};

/*
 * SQLite's EXPLAIN QUERY PLAN of a read, one step per line ("SEARCH t USING
 * INDEX ..."), into out (cap bytes, NUL-terminated).  For tests and
 * diagnostics.  STORE_ERROR when it cannot be prepared or does not fit.
 */
enum store_status store_vers_explain(struct store *s, enum vers_read which, char *out, size_t cap);

/* The legacy commit tags of org, by name. */
enum store_status store_vers_commit_tags(struct store *s, int64_t org_id, vers_tag_fn fn,
                                         void *ctx);

/* One legacy commit tag of org into *out (owned).  STORE_TAG_NOT_FOUND. */
enum store_status store_vers_commit_tag_get(struct store *s, int64_t org_id, const char *name,
                                            struct vers_tag *out);

#endif
