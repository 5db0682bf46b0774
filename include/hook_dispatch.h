/*
 * hook_dispatch - the dispatcher: one thread per node that delivers every
 * hook's events, off the request path and off the writer's.
 *
 * It finds the hooks that are due (store_hooks_due: active, next attempt
 * passed, events after their delivered_seq), claims each (one node at a
 * time per hook), and runs a round per hook: the events after the hook's
 * delivered_seq that its scope matches, one request at a time and in order,
 * until one fails, 32 were sent or 2 s passed; then it records the round
 * (store_hook_record_op) and lets the claim go.  Up to HOOK_DISPATCH_SLOTS
 * hooks are worked on at once, so a slow receiver holds up only its own
 * hook; a hook whose round ended is due again at once but behind the hooks
 * that waited longer, so many busy hooks take turns.  A failed attempt is retried on hook.h's
 * schedule; 410 Gone or HOOK_DISABLE_AFTER failures in a row disable the hook.
 *
 * It wakes when the writer committed something (checked every 50 ms) and at
 * least twice a second (other nodes' changes, retries coming due).  Its
 * thread runs at the lowest CPU priority (nice 19): under load the HTTP
 * threads and the writer go first and deliveries fall behind, to catch up
 * when the load falls (tagd.service allows the setpriority this needs).
 */
#ifndef TAGD_HOOK_DISPATCH_H
#define TAGD_HOOK_DISPATCH_H

#include <stdbool.h>

#define HOOK_DISPATCH_SLOTS 8

struct store;
struct hook_dispatcher;

struct hook_dispatch_options {
	bool allow_private;         /* hook_allow_private: lift the address rule */
	const char *clone_base_url; /* ServiceStage bodies' URLs; copied */
};

/*
 * Start the dispatcher on s (which must outlive it).  NULL and *err
 * (malloc'd) when it cannot start.
 */
struct hook_dispatcher *hook_dispatch_start(struct store *s, const struct hook_dispatch_options *o,
                                            char **err);

/*
 * Stop it: requests in flight are dropped (they are sent again later:
 * deliveries are at least once), what its rounds delivered is recorded,
 * claims are let go.  NULLs *dp.
 */
void hook_dispatch_stop(struct hook_dispatcher **dp);

#endif
