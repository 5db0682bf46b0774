/*
 * Private to the store: how the protection rules reach the one place a tag
 * changes (store_tag.c) and a repository's delete (store_vers.c).  See
 * store_rule.h.
 */
#ifndef TAGD_STORE_RULE_INTERNAL_H
#define TAGD_STORE_RULE_INTERNAL_H

#include "rule.h"
#include "store_internal.h"
#include "store_tag.h"

/*
 * Whether the rules covering w's tag (its organization's, and its
 * repository's or project's) let actor make change to it.  STORE_OK, or
 * STORE_REFUSED with *refused (may be NULL) naming the tag and the first
 * rule that refuses (immutable rules first, then by pattern), or a failure.
 * Called under the organization's chain lock, so no rule changes meanwhile.
 */
enum store_status store_rule_enforce(struct store_conn *c, const struct tag_where *w,
                                     enum rule_change change, const struct store_actor *actor,
                                     struct store_refusal *refused);

/*
 * Remove every rule of one repository or project (scope, its row id key,
 * its name as events say it), each with its removal event by actor: for the
 * delete of the repository, after its tags went.
 */
enum store_status store_rule_drop_all(struct store_conn *c, int64_t org_id,
                                      enum history_scope scope, int64_t key, const char *scope_name,
                                      const struct store_actor *actor);

/*
 * What `history verify` learns of the rules from the chain: the rules its
 * events leave standing, to hold against the rule table.
 */
struct rule_walk;

/* A new, empty walk; NULL when out of memory.  Free it with rule_walk_free (NULLs it). */
struct rule_walk *rule_walk_new(void);
void rule_walk_free(struct rule_walk **wp);

/*
 * Take rule event ev, in chain order (floor: the retention checkpoint).  *ok
 * false, and why (cap bytes) says it, when the event adds a rule that stands
 * or removes one that does not (one added before the checkpoint excepted).
 * STORE_NOMEM when out of memory.
 */
enum store_status rule_walk_event(struct rule_walk *w, const struct history_event *ev,
                                  int64_t floor, char *why, size_t cap, bool *ok);

/*
 * After the whole chain: every rule of org_id's table added after floor
 * stands by the event that added it, and every rule the events leave
 * standing is in the table.  *ok false, *seq the event concerned and why
 * (cap bytes) on the first that is not so.
 */
enum store_status rule_walk_check(struct store_conn *c, struct rule_walk *w, int64_t org_id,
                                  int64_t floor, int64_t *seq, char *why, size_t cap, bool *ok);

#endif
