/*
 * Private to the history's store files (store_history.c reads and prunes,
 * store_history_verify.c verifies): the event row and the chain head.
 */
#ifndef TAGD_STORE_HISTORY_INTERNAL_H
#define TAGD_STORE_HISTORY_INTERNAL_H

#include "store_history.h"
#include "store_internal.h"

/* The columns of an event, in the order store_event_row reads them. */
#define STORE_EVENT_COLS                                                                           \
	"seq, uuid, at, dialect, scope_kind, scope, tag, action, previous_seq, commit_ref, "       \
	"previous_commit_ref, description_changed, description, previous_description, "            \
	"token_id, token_label, request_id, previous_hash, hash, rule_pattern, rule_mode "

/*
 * The current row of a STORE_EVENT_COLS statement into *ev, its strings
 * into one new block (*block, the caller frees it).  *bytes gets their
 * size.  STORE_CORRUPT for a name this build does not know.
 */
enum store_status store_event_row(struct db_stmt *st, struct history_event *ev, char **block,
                                  size_t *bytes);

/* Event seq of org_id into *ev (its strings in *block); STORE_NOT_FOUND when there is none. */
enum store_status store_event_get(struct store_conn *c, int64_t org_id, int64_t seq,
                                  struct history_event *ev, char **block, size_t *bytes);

/* The head and the checkpoint of org_id on c. */
enum store_status store_history_head_on(struct store_conn *c, int64_t org_id,
                                        struct history_head *out);

#endif
