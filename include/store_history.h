/*
 * store_history - reading, verifying and pruning the history of tag changes
 * (the events store_tag.c writes; see history.h for the chain).
 *
 * Reads return owned lists; release them with history_list_release.  Every
 * function returns STORE_OK or a status and allocates nothing on error.
 */
#ifndef TAGD_STORE_HISTORY_H
#define TAGD_STORE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"
#include "store.h"

#define HISTORY_PAGE_DEFAULT 100
#define HISTORY_PAGE_MAX     1000

/* A page of events; each item's strings live in the list. */
struct history_list {
	struct history_event *items;
	char **blocks; /* one allocation per item holding its strings */
	size_t n;
	bool more; /* more events follow this page (it may stop short of its limit: pages are
	              bounded in bytes too) */
};

void history_list_release(struct history_list *l);

/* One tag's history: an organization, a scope and a tag name. */
struct history_tag_key {
	int64_t org_id;
	enum history_scope scope;
	const char *scope_name; /* the repository name, "" or "namespace/project" */
	const char *tag;
};

/*
 * The events of one tag, newest first, with seq < before (before <= 0: from
 * the newest), at most limit (1..HISTORY_PAGE_MAX).  *any tells whether any
 * event ever named this tag (so an empty page past the end can be told from
 * a tag without history).
 */
enum store_status store_history_tag(struct store *s, const struct history_tag_key *key,
                                    int64_t before, int64_t limit, struct history_list *out,
                                    bool *any);

/* The events of an organization, oldest first, with seq > after, at most limit. */
enum store_status store_history_feed(struct store *s, int64_t org_id, int64_t after, int64_t limit,
                                     struct history_list *out);

/*
 * An organization's chain head (seq 0 and a zero hash before any event) and
 * the retention checkpoint: events up to floor_seq were pruned, floor_hash
 * being the hash of event floor_seq.
 */
struct history_head {
	int64_t seq;
	uint8_t hash[HISTORY_HASH_LEN];
	int64_t floor_seq;
	uint8_t floor_hash[HISTORY_HASH_LEN];
};

enum store_status store_history_head(struct store *s, int64_t org_id, struct history_head *out);

/*
 * Recompute org's chain from its checkpoint, each event's link to the
 * previous event of its tag, and check that the tags agree with it: every
 * tag changed since history began is as its last event left it, every name
 * whose last event is a delete has its tombstone, and no tag's last event
 * is left without one or the other.  (Events removed from the end of the
 * chain together with the rows that name them leave nothing to see: that is
 * what a published head is for, see store_history_hash_at.)  out->ok is false on the first problem
 * found: out->seq is the event concerned (0 when the problem is not one event's) and out->problem
 * says what.  STORE_OK means the check ran, not that it passed.
 */
struct history_verify {
	bool ok;
	int64_t events; /* events checked */
	int64_t tags;   /* tags checked against their last event */
	int64_t seq;
	char problem[256];
	struct history_head head;
};

enum store_status store_history_verify(struct store *s, int64_t org_id, struct history_verify *out);

/*
 * The hash of event seq of org_id (the checkpoint's when seq is the
 * checkpoint): with a head published earlier, whether the chain still holds
 * it.  STORE_NOT_FOUND when there is no such event (never, or pruned).
 */
enum store_status store_history_hash_at(struct store *s, int64_t org_id, int64_t seq,
                                        uint8_t hash[HISTORY_HASH_LEN]);

/*
 * Retention: delete the events of every organization older than before (a
 * time in microseconds), at most max_events (0: a default) in one operation,
 * oldest first, moving each organization's checkpoint to its last deleted
 * event so the chain still verifies.  Out: pruned, and more when the limit
 * stopped it.
 */
struct history_prune_op {
	struct store_op op;
	int64_t before;
	int64_t max_events;
	int64_t pruned;
	bool more;
};
void history_prune_op_init(struct history_prune_op *o);

#endif
