/*
 * Private to store_hooks*.c: a hook's row and what a selection resolves to.
 */
#ifndef TAGD_STORE_HOOKS_INTERNAL_H
#define TAGD_STORE_HOOKS_INTERNAL_H

#include "store_hooks.h"
#include "store_internal.h"

/* The columns store_hook_row reads, in its order; the secret last. */
#define STORE_HOOK_COLS                                                                            \
	"id, uuid, org_id, dialect, scope_kind, scope, project_id, url, created_at, "              \
	"delivered_seq, state, disabled_reason, failures, next_attempt_at, last_attempt_at, "      \
	"last_status, last_error, epoch "
#define STORE_HOOK_COLS_SECRET STORE_HOOK_COLS ", secret "

/*
 * The current row of a STORE_HOOK_COLS statement (with_secret: of
 * STORE_HOOK_COLS_SECRET) into *h.  STORE_NOMEM, or STORE_CORRUPT for a
 * name this build does not know; *h is then empty.
 */
enum store_status store_hook_row(struct db_stmt *st, struct store_hook *h, bool with_secret);

/* What a selection names: the scope a hook of it has. */
struct store_hook_scope {
	enum hook_scope scope;
	char name[2 * SS_NAME_MAX + 2]; /* scope_name: "", a repository, "namespace/project" */
	int64_t project_id;             /* HOOK_SCOPE_SERVICESTAGE */
};

/* Resolve sel on c (its repository or project must exist), as store_hooks.h says. */
enum store_status store_hook_scope_resolve(struct store_conn *c,
                                           const struct store_hook_select *sel,
                                           struct store_hook_scope *out);

#endif
