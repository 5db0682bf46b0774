/*
 * store_tag - private to the store: the one place a tag changes.
 *
 * Every tag change of both dialects -- create, move, description update,
 * delete, and each tag a repository delete takes with it -- is applied by
 * store_tag_change() on the writer, which writes the change's history event
 * (history.h) in the same savepoint: the change and its event are committed
 * together or not at all.
 *
 * The three kinds of tag keep their own tables (repo_tags, commit_tags,
 * ss_tags): they are keyed by different things (a repository, an
 * organization, a project) and point at different commits (Vers commits,
 * ServiceStage SHAs), and their reads are the hot path.  What they share is
 * this function and one shape of row.
 */
#ifndef TAGD_STORE_TAG_H
#define TAGD_STORE_TAG_H

#include <stdbool.h>
#include <stdint.h>

#include "history.h"
#include <string.h>

#include "store_internal.h"

#define STORE_TAG_REF_MAX 40 /* a commit's id as the API shows it: a UUID or a SHA */

/* The tag a change means: the scope resolved by the caller, and a name. */
struct tag_where {
	enum history_scope scope;
	int64_t org_id;
	int64_t key;            /* repos.id, orgs.id or ss_projects.id, as scope says */
	const char *scope_name; /* the repository name, "" or "namespace/project" */
	const char *tag;
};

/* A commit as a tag row holds it: its row id and the id the API shows. */
struct tag_commit {
	int64_t row;
	char ref[STORE_TAG_REF_MAX + 1]; /* empty: looked up from row */
};

enum tag_verb {
	TAG_CREATE, /* the name must be free: STORE_CONFLICT otherwise */
	TAG_SET,    /* move and/or change the description of an existing tag */
	TAG_DELETE,
};

struct tag_change;

/*
 * Find the commit a TAG_SET moves to, called after the tag and the
 * precondition have been checked (so a missing tag is reported before a
 * missing commit).  Returns STORE_OK or the status to fail with.
 */
typedef enum store_status (*tag_resolve_fn)(struct store_conn *c, const struct tag_change *ch,
                                            struct tag_commit *out);

struct tag_change {
	struct tag_where where;
	enum tag_verb verb;
	struct tag_commit commit; /* TAG_CREATE: the commit, resolved by the caller */
	bool move;                /* TAG_SET: call resolve and point the tag at its commit */
	tag_resolve_fn resolve;   /* TAG_SET with move */
	const void *resolve_arg;  /* for resolve */
	enum store_desc_change desc;
	const char *description;           /* STORE_DESC_SET */
	const struct store_expect *expect; /* NULL: unconditional */
	const struct store_actor *actor;

	/* Out, on STORE_OK. */
	char tag_id[STORE_UUID_LEN + 1]; /* the tag's UUID (empty for ServiceStage tags) */
	int64_t rev;                     /* the tag's revision now (its event's seq) */
	enum history_action action;
};

/*
 * Take org_id's history chain for the rest of the transaction: every
 * operation that changes tags calls it before it reads anything, so that on
 * a backend with several writers (PostgreSQL, several nodes) the tag changes
 * of one organization are serialized: the chain stays linear, and what an
 * operation read (a repository, a tag) cannot change under it.
 */
static inline enum store_status store_tag_lock(struct store_conn *c, int64_t org_id)
{
	if (c->chain.org_id == org_id && c->chain.locked)
		return STORE_OK; /* taken earlier in this transaction (see struct chain_memo) */
	enum store_status st = c->be->lock_chain(c, org_id);
	if (st == STORE_OK) {
		memset(&c->chain, 0, sizeof(c->chain));
		c->chain.org_id = org_id;
		c->chain.locked = true;
	}
	return st;
}

/*
 * Apply ch on c (the writer, inside the operation's savepoint) and append
 * its event to the organization's chain.  Checks, in order: for TAG_CREATE
 * the name is free (STORE_CONFLICT); for TAG_SET and TAG_DELETE the tag
 * exists (STORE_TAG_NOT_FOUND), ch->expect holds (STORE_PRECONDITION), then
 * resolve (its status).  On any failure nothing is written by this call (the
 * caller's savepoint undoes what the engine may have begun).
 */
enum store_status store_tag_change(struct store_conn *c, struct tag_change *ch);

/*
 * Append ev to the chain of org_id: give it its id, sequence number,
 * previous hash and hash, and write it.  The caller fills everything else
 * (ev->at included).  For the changes that are not tag changes but belong to
 * the history all the same.
 */
enum store_status store_event_append(struct store_conn *c, int64_t org_id,
                                     struct history_event *ev);

/*
 * Delete every tag of where's scope (where->tag is ignored), each through
 * store_tag_change, so each gets its delete event.  For repository deletes.
 */
enum store_status store_tag_delete_all(struct store_conn *c, const struct tag_where *where,
                                       const struct store_actor *actor);

#endif
