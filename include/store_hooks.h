/*
 * store_hooks - webhooks in the store: the hooks of an organization, their
 * delivery state and log, and what the dispatcher (hook_dispatch.h) needs
 * to deliver them: the hooks that are due, a claim so that one node at a
 * time works on a hook, and the record of what a round delivered.
 *
 * Deliveries are derived from the history events (store_history.h): a hook
 * keeps delivered_seq, the seq of the last event of its organization it has
 * handled, and the state of its head-of-line delivery (failures in a row,
 * next attempt, last status and error).  The dispatcher reads the events
 * after delivered_seq, delivers those the hook's scope matches in order,
 * and records the new delivered_seq only after they succeeded: at least
 * once, in order per hook.  Nothing is written on the path of a tag change.
 *
 * Result structs own their strings; free them with the matching function.
 * Every function returns STORE_OK or a status; on error nothing is
 * allocated.
 */
#ifndef TAGD_STORE_HOOKS_H
#define TAGD_STORE_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hook.h"
#include "store.h"
#include "store_ss.h"

#define STORE_HOOK_ERROR_MAX 256 /* bytes of an attempt's error kept */

struct store_hook {
	int64_t id;                    /* the ServiceStage hook id (shown in decimal) */
	char uuid[STORE_UUID_LEN + 1]; /* the Vers hook id */
	int64_t org_id;
	enum hook_dialect dialect;
	enum hook_scope scope;
	char *scope_name;   /* the repository, "namespace/project", "" for the organization */
	int64_t project_id; /* ServiceStage hooks: the project's row; 0 otherwise */
	char *url;
	char *secret; /* only from store_hook_load (to sign with); NULL otherwise */
	int64_t created_at;
	int64_t delivered_seq;
	bool disabled;
	char *disabled_reason; /* NULL unless disabled */
	int64_t failures;      /* failed attempts in a row */
	int64_t next_attempt_at;
	int64_t last_attempt_at; /* 0: never attempted */
	int last_status;         /* HTTP status of the last attempt; 0: none received */
	char *last_error;        /* NULL when the last attempt succeeded (or none was made) */
	int64_t epoch;           /* bumped by enable and redeliver (see store_hook_record_op) */
};

void store_hook_release(struct store_hook *h);
void store_hook_list_free(struct store_hook **list, size_t n);

/* Which hooks a call means. */
enum store_hook_kind {
	STORE_HOOKS_ALL,          /* every hook of the organization, both dialects (the CLI) */
	STORE_HOOKS_ORGANIZATION, /* the dialect's organization-wide hooks */
	STORE_HOOKS_REPOSITORY,   /* the hooks of Vers repository repo_name, which must exist */
	STORE_HOOKS_PROJECT, /* the hooks of ServiceStage project where (resolved as ss.h says) */
};

struct store_hook_select {
	int64_t org_id;
	enum hook_dialect dialect; /* not for STORE_HOOKS_ALL */
	enum store_hook_kind kind;
	const char *repo_name;        /* STORE_HOOKS_REPOSITORY */
	const struct ss_where *where; /* STORE_HOOKS_PROJECT */
};

/*
 * The hooks sel means, oldest first.  STORE_REPO_NOT_FOUND when the
 * repository does not exist; for a project the statuses of store_ss.h.
 */
enum store_status store_hooks_list(struct store *s, const struct store_hook_select *sel,
                                   struct store_hook **out, size_t *n);

/*
 * The hook id names among those sel means: a UUID (Vers) or a decimal id
 * (ServiceStage); with STORE_HOOKS_ALL either, and with
 * STORE_HOOKS_ORGANIZATION any Vers hook of the organization (the
 * repositories' too).  STORE_NOT_FOUND when none; the selection's own
 * statuses first.
 */
enum store_status store_hook_get(struct store *s, const struct store_hook_select *sel,
                                 const char *id, struct store_hook *out);

/*
 * Create a hook of sel's dialect and scope (STORE_HOOKS_ORGANIZATION,
 * _REPOSITORY or _PROJECT).  It hears the events that follow it: its
 * delivered_seq is the organization's head when it is made.  STORE_INVALID
 * when the organization has HOOK_MAX_PER_ORG hooks already; the selection's
 * statuses.  Out: the new hook's ids and time.
 */
struct store_hook_create_op {
	struct store_op op;
	struct store_hook_select sel;
	const char *url;
	const char *secret;
	int64_t id;
	char uuid[STORE_UUID_LEN + 1];
	int64_t created_at;
	int64_t delivered_seq; /* the chain's head at creation: the hook hears what follows */
};
void store_hook_create_op_init(struct store_hook_create_op *o);

/* Delete hook id (as store_hook_get finds it) with its delivery log.  STORE_NOT_FOUND. */
struct store_hook_delete_op {
	struct store_op op;
	struct store_hook_select sel;
	const char *id;
};
void store_hook_delete_op_init(struct store_hook_delete_op *o);

/*
 * Enable hook id of org_id (STORE_HOOKS_ALL): active again, failures
 * cleared, its next delivery due now.  STORE_NOT_FOUND.
 */
struct store_hook_enable_op {
	struct store_op op;
	int64_t org_id;
	const char *id;
};
void store_hook_enable_op_init(struct store_hook_enable_op *o);

/*
 * Make hook id's next delivery due now; with from_seq > 0 also deliver
 * again every event of its scope from seq from_seq on (its delivered_seq
 * goes back to from_seq - 1).  STORE_NOT_FOUND; STORE_PRECONDITION when the
 * hook is disabled (enable it); STORE_INVALID when from_seq is after the
 * organization's last event.
 */
struct store_hook_redeliver_op {
	struct store_op op;
	int64_t org_id;
	const char *id;
	int64_t from_seq;
};
void store_hook_redeliver_op_init(struct store_hook_redeliver_op *o);

/* One row of a hook's delivery log: one event it attempted. */
struct store_hook_delivery {
	int64_t seq;
	char event_id[STORE_UUID_LEN + 1];
	int64_t attempts;
	bool delivered;
	int status;  /* of the last attempt; 0: no answer */
	char *error; /* NULL when delivered */
	int64_t first_at, last_at;
};

/* Hook hook_id's delivery log, newest first (at most HOOK_LOG_KEEP). */
enum store_status store_hook_deliveries(struct store *s, int64_t hook_id,
                                        struct store_hook_delivery **out, size_t *n);
void store_hook_delivery_list_free(struct store_hook_delivery **list, size_t n);

/* ---- for the dispatcher ---- */

/*
 * Up to max ids of active hooks whose next attempt is due at now and whose
 * organization has events after their delivered_seq, the most overdue first.
 */
enum store_status store_hooks_due(struct store *s, int64_t now, int64_t *ids, size_t max,
                                  size_t *n);

/* Hook hook_id with its secret.  STORE_NOT_FOUND when it is gone. */
enum store_status store_hook_load(struct store *s, int64_t hook_id, struct store_hook *out);

/*
 * This node's claims on hooks: while a claim is held no other node (nor
 * another tagd on the same SQLite file) works on the hook.  A claim ends
 * with store_hook_unclaim or when the process ends: PostgreSQL session
 * advisory locks on a connection of its own; on SQLite one lock file beside
 * the database (DB-hooklock), which makes one process the deliverer.
 */
struct store_hook_claims;

/* NULL while the database cannot be reached, or when out of memory. */
struct store_hook_claims *store_hook_claims_open(struct store *s);
void store_hook_claims_close(struct store_hook_claims **cp);

/*
 * Claim hook_id: *got says whether this node has it now.  A failure (the
 * connection broke: every claim is lost) is returned as its status; open
 * the claims again.
 */
enum store_status store_hook_claim(struct store_hook_claims *cl, int64_t hook_id, bool *got);
void store_hook_unclaim(struct store_hook_claims *cl, int64_t hook_id);

/* One attempt of a round, for the record. */
struct store_hook_attempt {
	int64_t seq;
	char event_id[STORE_UUID_LEN + 1];
	bool delivered;
	int status;                       /* 0: no answer */
	char error[STORE_HOOK_ERROR_MAX]; /* empty when delivered */
	int64_t at;
};

/*
 * What a round of the dispatcher did to hook_id: its new delivered_seq and,
 * when it attempted anything (n > 0), the head-of-line state and a log row
 * per attempt (the log then keeps the newest HOOK_LOG_KEEP).  Nothing is
 * written (stale set) when the hook is gone, disabled, or its epoch is no
 * longer the one the round loaded (an operator enabled or redelivered it
 * meanwhile: what the round sent is sent again).
 */
struct store_hook_record_op {
	struct store_op op;
	int64_t hook_id;
	int64_t epoch;
	int64_t delivered_seq;
	int64_t failures;
	int64_t next_attempt_at;
	const char *disable_reason; /* non-NULL: disable the hook, saying why */
	const struct store_hook_attempt *attempts;
	size_t n;
	bool stale; /* out */
};
void store_hook_record_op_init(struct store_hook_record_op *o);

#endif
