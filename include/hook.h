/*
 * hook - what a webhook delivery is, apart from sending it: the bodies of
 * both dialects, the signatures, the retry schedule and the address rule.
 * It knows no database and no HTTP library (the store keeps hooks,
 * hook_send.c sends, hook_dispatch.c decides what and when).
 *
 * Every delivery carries the Standard Webhooks headers -- webhook-id (the
 * same on every attempt of one event to one hook), webhook-timestamp (Unix
 * seconds of the attempt) and webhook-signature "v1,<base64 HMAC-SHA256 of
 * "{id}.{timestamp}.{body}">" keyed by the hook's secret as given -- and
 * X-Hub-Signature-256 "sha256=<hex HMAC-SHA256 of the body>" for receivers
 * written for GitHub.  Vers hooks deliver the history event (history.h) with
 * one more member, "repository"; ServiceStage hooks deliver GitLab's "Tag
 * Push Hook" body with X-Gitlab-Event and X-Gitlab-Token.
 */
#ifndef TAGD_HOOK_H
#define TAGD_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "history.h"

/* Whose wire a hook speaks: its body and headers. */
enum hook_dialect {
	HOOK_VERS,
	HOOK_SERVICESTAGE,
};

/* What a hook hears: every event of its organization, or of one repository or project. */
enum hook_scope {
	HOOK_SCOPE_ORGANIZATION,
	HOOK_SCOPE_REPOSITORY,
	HOOK_SCOPE_SERVICESTAGE,
};

#define HOOK_URL_MAX            2048
#define HOOK_SECRET_MIN_VERS    16   /* bytes, for Vers hooks */
#define HOOK_SECRET_MAX         1024 /* bytes */
#define HOOK_MAX_PER_ORG        100
#define HOOK_TIMEOUT_MS         10000
#define HOOK_RESPONSE_MAX       (64 * 1024) /* bytes of a receiver's answer read at most */
#define HOOK_LOG_KEEP           50          /* delivery log rows kept per hook */
#define HOOK_TEMP_DISABLE_AFTER 4           /* failures in a row: "temporarily disabled" */
#define HOOK_DISABLE_AFTER      40          /* failures in a row: disabled until enabled */
#define HOOK_WEBHOOK_ID_LEN     36          /* "msg_" and 32 hex digits */
#define HOOK_SIGNATURE_LEN      48          /* "v1," and 44 base64 characters */
#define HOOK_HUB_SIGNATURE_LEN  71          /* "sha256=" and 64 hex digits */

/* Names as the database and the CLI spell them ("vers", "repository"...). */
const char *hook_dialect_name(enum hook_dialect d);
const char *hook_scope_name(enum hook_scope s);
bool hook_dialect_parse(const char *name, enum hook_dialect *out);
bool hook_scope_parse(const char *name, enum hook_scope *out);

/*
 * A hook's state as the API and the CLI show it: "disabled", else
 * "temporarily_disabled" from HOOK_TEMP_DISABLE_AFTER failures in a row on
 * (it is still retried on the schedule), else "active".
 */
const char *hook_state_name(bool disabled, int64_t failures);

/*
 * Whether secret may be a hook's: min_len..HOOK_SECRET_MAX bytes without
 * control characters (it is sent as X-Gitlab-Token).  On false, why (cap
 * bytes) says what is wrong, without the secret.
 */
bool hook_secret_check(const char *secret, size_t min_len, char *why, size_t cap);

/*
 * Whether ev concerns a hook of scope (with scope_name: a repository name
 * or "namespace/project"; ignored for the organization).  Hooks hear tag
 * changes only: a protection rule's event (rule_add, rule_remove) is in the
 * history and concerns no hook.
 */
bool hook_matches(enum hook_scope scope, const char *scope_name, const struct history_event *ev);

/*
 * The wait before the next attempt after the failures-th failed attempt in
 * a row (failures >= 1), in microseconds: the Standard Webhooks schedule
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, then 24 h each
 * time.  retry_after_s (a receiver's Retry-After; < 0: none) makes it
 * longer, never shorter, and at most 24 h.
 */
int64_t hook_retry_delay_us(int64_t failures, int64_t retry_after_s);

/*
 * The webhook-id of event_id (a UUID) delivered to hook_uuid: "msg_" and
 * the first 16 bytes of SHA-256("<hook_uuid>:<event_id>") in hex, so every
 * attempt, restart and node gives the same.
 */
void hook_webhook_id(const char *hook_uuid, const char *event_id,
                     char out[HOOK_WEBHOOK_ID_LEN + 1]);

/* The Standard Webhooks signature "v1,<base64>" of (id, timestamp, body) with secret. */
void hook_signature(const char *secret, const char *webhook_id, int64_t timestamp, const char *body,
                    size_t len, char out[HOOK_SIGNATURE_LEN + 1]);

/* X-Hub-Signature-256's value "sha256=<hex>" of body with secret. */
void hook_hub_signature(const char *secret, const char *body, size_t len,
                        char out[HOOK_HUB_SIGNATURE_LEN + 1]);

/*
 * A Vers hook's body: ev as the API shows it (history_event_json) with
 * "repository" first: the repository's name, "namespace/project" for a
 * ServiceStage tag, null for a legacy commit tag.  malloc'd, length in
 * *len; NULL when out of memory.
 */
char *hook_vers_body(const struct history_event *ev, size_t *len);

/* The ServiceStage project a GitLab body describes. */
struct hook_project {
	int64_t id;             /* the project's id (ss_projects.id) */
	const char *clone_base; /* clone_base_url: URLs are BASE/NAMESPACE/PROJECT(.git) */
};

/*
 * A ServiceStage hook's body: GitLab's Tag Push Hook for ev (a ServiceStage
 * event): object_kind "tag_push", ref "refs/tags/NAME", before and after
 * the commits (40 zeros for a create / a delete), checkout_sha (null on
 * delete), message (the annotation), the project and repository objects.
 * malloc'd, length in *len; NULL when out of memory.
 */
char *hook_gitlab_body(const struct history_event *ev, const struct hook_project *p, size_t *len);

/*
 * Whether sa is an address tagd refuses to deliver to unless
 * hook_allow_private is set: loopback, private (RFC 1918, unique local,
 * shared 100.64/10), link-local, multicast, unspecified, reserved and
 * benchmarking ranges, IPv4 inside IPv6 (mapped, compatible, NAT64, 6to4)
 * judged as the IPv4 address.  *why names the range ("loopback"...).
 * Addresses of other families are refused too.
 */
bool hook_addr_refused(const struct sockaddr *sa, const char **why);

/*
 * A Retry-After value (delta seconds, or an HTTP date, RFC 9110) as seconds
 * from now_s; false when it is neither.  Past dates are 0.
 */
bool hook_retry_after_parse(const char *value, int64_t now_s, int64_t *seconds);

#endif
