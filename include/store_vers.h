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
#include <stdint.h>

#include "store.h"

#define STORE_UUID_LEN 36

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

/* --- write operations (run them with store_submit or store_execute) --- */

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
 * name free (STORE_CONFLICT).  Out: tag_id.
 */
struct vers_tag_create_op {
	struct store_op op;
	int64_t org_id;
	const char *repo_name;
	const char *tag_name;
	char commit_id[STORE_UUID_LEN + 1];
	const char *description;
	char tag_id[STORE_UUID_LEN + 1];
};
void vers_tag_create_op_init(struct vers_tag_create_op *o);

#endif
