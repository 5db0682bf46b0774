/*
 * hook_dispatch.c - the dispatcher thread: due hooks, claims, rounds of
 * deliveries in order, their record.  See hook_dispatch.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "errmsg.h"
#include "hook.h"
#include "hook_dispatch.h"
#include "hook_send.h"
#include "log.h"
#include "store.h"
#include "store_history.h"
#include "store_hooks.h"
#include "version.h"

#define ROUND_MAX   32              /* events of one hook per round at most */
#define ROUND_US    (2 * 1000000LL) /* no new attempt in a round after this */
#define TICK_MS     50              /* how often the writer's commits are looked at */
#define POLL_US     500000LL        /* the database is looked at least this often */
#define NICE        19
#define MAX_HEADERS 12

/* One hook being worked on: a round. */
struct job {
	bool busy;
	struct store_hook hook;     /* with its secret */
	struct history_list window; /* the events after from_seq, all scopes */
	size_t next;                /* the window's event being sent, or the next to look at */
	int64_t from_seq;           /* delivered_seq when the round began */
	int64_t cursor;             /* the last event handled so far */
	int64_t failures;
	int64_t next_attempt_at;
	const char *disable_reason;
	struct store_hook_attempt attempts[ROUND_MAX];
	size_t nattempts;
	uint64_t started_us;
	char *body;
	char header_text[MAX_HEADERS][HOOK_SECRET_MAX + 64];
	const char *headers[MAX_HEADERS + 1];
};

struct hook_dispatcher {
	struct store *store;
	bool allow_private;
	char *clone_base;
	struct hook_sender *sender;
	struct store_hook_claims *claims;
	struct job jobs[HOOK_DISPATCH_SLOTS];
	pthread_t thread;
	_Atomic bool stopping;
	bool poll_now;
	bool claims_refused; /* another process delivers (logged once) */
	bool failing;        /* a store failure was logged: no more until a round works */
};

static uint64_t monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- a round ---- */

/* A store failure of the dispatcher: logged once, not on every poll of an outage. */
static void store_failed(struct hook_dispatcher *d, const char *msg, enum store_status st)
{
	if (!d->failing)
		log_msg(LOG_ERROR, msg, "error=\"%s\"", store_status_str(st));
	d->failing = true;
}

static void job_release(struct hook_dispatcher *d, struct job *j)
{
	if (d->claims != NULL)
		store_hook_unclaim(d->claims, j->hook.id);
	store_hook_release(&j->hook);
	history_list_release(&j->window);
	free(j->body);
	j->body = NULL;
	explicit_bzero(j->header_text, sizeof(j->header_text)); /* X-Gitlab-Token */
	j->busy = false;
}

/* Record what the round did, then let the hook go. */
static void job_finish(struct hook_dispatcher *d, struct job *j)
{
	if (j->nattempts > 0 || j->cursor != j->from_seq) {
		struct store_hook_record_op op;
		store_hook_record_op_init(&op);
		op.hook_id = j->hook.id;
		op.epoch = j->hook.epoch;
		op.delivered_seq = j->cursor;
		op.failures = j->failures;
		op.next_attempt_at = j->next_attempt_at;
		op.disable_reason = j->disable_reason;
		op.attempts = j->attempts;
		op.n = j->nattempts;
		enum store_status st = store_execute(d->store, &op.op);
		if (st != STORE_OK)
			store_failed(d, "hook deliveries not recorded; they will be sent again",
			             st);
		else
			d->failing = false;
		if (st == STORE_OK && j->disable_reason != NULL && !op.stale)
			log_msg(LOG_WARN, "hook disabled", "hook=%s reason=\"%s\"", j->hook.uuid,
			        j->disable_reason);
		if (st == STORE_OK)
			log_msg(LOG_DEBUG, "hook round recorded",
			        "hook=%s delivered_seq=%lld failures=%lld attempts=%zu stale=%s",
			        j->hook.uuid, (long long)j->cursor, (long long)j->failures,
			        j->nattempts, op.stale ? "yes" : "no");
	}
	job_release(d, j);
}

static void header(struct job *j, size_t *n, const char *name, const char *value)
{
	if (*n == MAX_HEADERS)
		return;
	snprintf(j->header_text[*n], sizeof(j->header_text[*n]), "%s: %s", name, value);
	j->headers[*n] = j->header_text[*n];
	(*n)++;
	j->headers[*n] = NULL;
}

/* Build the request for event ev of j and start it; false when it could not be. */
static bool send_event(struct hook_dispatcher *d, struct job *j, size_t slot,
                       const struct history_event *ev)
{
	size_t len = 0, n = 0;
	free(j->body);
	if (j->hook.dialect == HOOK_SERVICESTAGE) {
		struct hook_project p = {.id = j->hook.project_id, .clone_base = d->clone_base};
		j->body = hook_gitlab_body(ev, &p, &len);
	} else {
		j->body = hook_vers_body(ev, &len);
	}
	if (j->body == NULL)
		return false;
	char id[HOOK_WEBHOOK_ID_LEN + 1], ts[24], sig[HOOK_SIGNATURE_LEN + 1];
	char hub[HOOK_HUB_SIGNATURE_LEN + 1];
	int64_t now_s = clock_now_us() / 1000000;
	hook_webhook_id(j->hook.uuid, ev->id, id);
	snprintf(ts, sizeof(ts), "%lld", (long long)now_s);
	hook_signature(j->hook.secret, id, now_s, j->body, len, sig);
	hook_hub_signature(j->hook.secret, j->body, len, hub);
	j->headers[0] = NULL;
	header(j, &n, "Content-Type", "application/json");
	header(j, &n, "User-Agent", "tagd/" TAGD_VERSION);
	header(j, &n, "webhook-id", id);
	header(j, &n, "webhook-timestamp", ts);
	header(j, &n, "webhook-signature", sig);
	header(j, &n, "X-Hub-Signature-256", hub);
	if (j->hook.dialect == HOOK_SERVICESTAGE) {
		header(j, &n, "X-Gitlab-Event", "Tag Push Hook");
		header(j, &n, "X-Gitlab-Event-UUID", id);
		header(j, &n, "X-Gitlab-Token", j->hook.secret);
	}
	struct hook_request rq = {
	        .url = j->hook.url, .body = j->body, .len = len, .headers = j->headers};
	return hook_sender_start(d->sender, slot, &rq);
}

static void attempt_failed(struct job *j, const struct history_event *ev,
                           const struct hook_result *r);

/*
 * Send the next event of the window the hook's scope matches; with none
 * left, the whole window is handled.  Finishes the round when there is
 * nothing to send.
 */
static void job_advance(struct hook_dispatcher *d, struct job *j, size_t slot)
{
	for (; j->next < j->window.n; j->next++) {
		const struct history_event *ev = &j->window.items[j->next];
		if (!hook_matches(j->hook.scope, j->hook.scope_name, ev))
			continue;
		if (send_event(d, j, slot, ev))
			return;
		struct hook_result r = {.retry_after_s = -1};
		snprintf(r.error, sizeof(r.error), "cannot build the request: out of memory");
		attempt_failed(j, ev, &r);
		job_finish(d, j);
		return;
	}
	if (j->window.n > 0)
		j->cursor = j->window.items[j->window.n - 1].seq;
	if (j->window.more)
		d->poll_now = true;
	job_finish(d, j);
}

static struct store_hook_attempt *attempt_add(struct job *j, const struct history_event *ev,
                                              const struct hook_result *r)
{
	struct store_hook_attempt *a = &j->attempts[j->nattempts++];
	memset(a, 0, sizeof(*a));
	a->seq = ev->seq;
	snprintf(a->event_id, sizeof(a->event_id), "%s", ev->id);
	a->delivered = r->ok;
	a->status = r->status;
	snprintf(a->error, sizeof(a->error), "%s", r->ok ? "" : r->error);
	a->at = clock_now_us();
	return a;
}

static void attempt_failed(struct job *j, const struct history_event *ev,
                           const struct hook_result *r)
{
	attempt_add(j, ev, r);
	j->failures++;
	j->next_attempt_at = clock_now_us() + hook_retry_delay_us(j->failures, r->retry_after_s);
	if (r->status == 410)
		j->disable_reason = "the receiver answered 410 Gone";
	else if (j->failures >= HOOK_DISABLE_AFTER)
		j->disable_reason = "40 failed attempts in a row";
	log_msg(LOG_INFO, "hook delivery failed",
	        "hook=%s seq=%lld attempt=%lld status=%d error=\"%s\"", j->hook.uuid,
	        (long long)ev->seq, (long long)j->failures, r->status, r->error);
}

/* A request finished: the next event, or the end of the round. */
static void on_done(void *arg, size_t slot, const struct hook_result *r)
{
	struct hook_dispatcher *d = arg;
	struct job *j = &d->jobs[slot];
	if (!j->busy)
		return;
	const struct history_event *ev = &j->window.items[j->next];
	if (!r->ok) {
		attempt_failed(j, ev, r);
		job_finish(d, j);
		return;
	}
	attempt_add(j, ev, r);
	log_msg(LOG_DEBUG, "hook delivered", "hook=%s seq=%lld status=%d", j->hook.uuid,
	        (long long)ev->seq, r->status);
	j->cursor = ev->seq;
	j->failures = 0;
	/* Due at once, but after the hooks served before it: the most overdue go first. */
	j->next_attempt_at = clock_now_us();
	j->next++;
	if (j->nattempts == ROUND_MAX || monotonic_us() - j->started_us > ROUND_US) {
		d->poll_now = true; /* more may wait: another round soon, after the others' */
		job_finish(d, j);
		return;
	}
	job_advance(d, j, slot);
}

/* Begin a round of hook_id in slot; nothing when another node has it or it is not due. */
static void job_start(struct hook_dispatcher *d, size_t slot, int64_t hook_id)
{
	struct job *j = &d->jobs[slot];
	bool got = false;
	enum store_status st = store_hook_claim(d->claims, hook_id, &got);
	if (st != STORE_OK) {
		store_failed(d, "cannot claim a hook's deliveries", st);
		store_hook_claims_close(&d->claims);
		return;
	}
	if (!got) {
		if (!d->claims_refused)
			log_msg(LOG_INFO, "another tagd delivers these hooks", "hook_id=%lld",
			        (long long)hook_id);
		d->claims_refused = true;
		return;
	}
	d->claims_refused = false;
	memset(&j->hook, 0, sizeof(j->hook));
	memset(&j->window, 0, sizeof(j->window));
	j->busy = true;
	/* Read after the claim: the last holder recorded its round before letting go. */
	st = store_hook_load(d->store, hook_id, &j->hook);
	if (st == STORE_OK && (j->hook.disabled || j->hook.next_attempt_at > clock_now_us()))
		st = STORE_NOT_FOUND;
	if (st == STORE_OK)
		st = store_history_feed(d->store, j->hook.org_id, j->hook.delivered_seq, ROUND_MAX,
		                        &j->window);
	if (st != STORE_OK) {
		if (st != STORE_NOT_FOUND)
			store_failed(d, "cannot read a hook's events", st);
		j->hook.id = hook_id;
		job_release(d, j);
		return;
	}
	j->next = 0;
	j->from_seq = j->cursor = j->hook.delivered_seq;
	j->failures = j->hook.failures;
	j->next_attempt_at = j->hook.next_attempt_at;
	j->disable_reason = NULL;
	j->nattempts = 0;
	j->started_us = monotonic_us();
	job_advance(d, j, slot);
}

/* Start rounds of the due hooks in the idle slots. */
static void poll_due(struct hook_dispatcher *d)
{
	int64_t ids[2 * HOOK_DISPATCH_SLOTS];
	size_t n = 0, idle = 0;
	for (size_t i = 0; i < HOOK_DISPATCH_SLOTS; i++)
		idle += !d->jobs[i].busy;
	if (idle == 0)
		return;
	if (store_hooks_due(d->store, clock_now_us(), ids, sizeof(ids) / sizeof(ids[0]), &n) !=
	            STORE_OK ||
	    n == 0)
		return;
	if (d->claims == NULL) {
		d->claims = store_hook_claims_open(d->store);
		if (d->claims == NULL) {
			/* PostgreSQL with db_pool_size 3, all taken, or down: another poll. */
			store_failed(d, "no database connection for the hook claims",
			             STORE_UNAVAILABLE);
			return;
		}
	}
	for (size_t k = 0; k < n && d->claims != NULL; k++) {
		bool taken = false;
		size_t free_slot = HOOK_DISPATCH_SLOTS;
		for (size_t i = 0; i < HOOK_DISPATCH_SLOTS; i++) {
			if (d->jobs[i].busy && d->jobs[i].hook.id == ids[k])
				taken = true;
			else if (!d->jobs[i].busy && free_slot == HOOK_DISPATCH_SLOTS)
				free_slot = i;
		}
		if (taken)
			continue;
		if (free_slot == HOOK_DISPATCH_SLOTS)
			break;
		job_start(d, free_slot, ids[k]);
	}
}

static void *dispatch_main(void *arg)
{
	struct hook_dispatcher *d = arg;
	uint64_t seen = UINT64_MAX, next_poll = 0;

	/* Background work: under load the HTTP threads go first (best effort). */
	errno = 0;
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), NICE) != 0)
		log_msg(LOG_DEBUG, "dispatcher keeps its CPU priority", "error=\"%s\"",
		        strerror(errno));
	while (!atomic_load(&d->stopping)) {
		uint64_t batches, ops, now = monotonic_us();
		store_write_stats(d->store, &batches, &ops);
		if (d->poll_now || batches != seen || now >= next_poll) {
			d->poll_now = false;
			seen = batches;
			next_poll = now + POLL_US;
			poll_due(d);
		}
		hook_sender_run(d->sender, TICK_MS, on_done, d);
	}
	/* What was delivered is recorded; what is in flight is sent again later. */
	for (size_t i = 0; i < HOOK_DISPATCH_SLOTS; i++) {
		if (!d->jobs[i].busy)
			continue;
		hook_sender_cancel(d->sender, i);
		job_finish(d, &d->jobs[i]);
	}
	return NULL;
}

/* ---- start and stop ---- */

static void dispatcher_free(struct hook_dispatcher *d)
{
	hook_sender_free(&d->sender);
	store_hook_claims_close(&d->claims);
	free(d->clone_base);
	free(d);
}

struct hook_dispatcher *hook_dispatch_start(struct store *s, const struct hook_dispatch_options *o,
                                            char **err)
{
	struct hook_dispatcher *d = calloc(1, sizeof(*d));
	*err = NULL;
	if (d == NULL) {
		*err = errmsg_fmt("out of memory");
		return NULL;
	}
	d->store = s;
	d->allow_private = o->allow_private;
	d->clone_base = strdup(o->clone_base_url ? o->clone_base_url : "https://git.example.com");
	if (d->clone_base == NULL) {
		*err = errmsg_fmt("out of memory");
		goto fail;
	}
	d->sender = hook_sender_new(HOOK_DISPATCH_SLOTS, o->allow_private, err);
	if (d->sender == NULL)
		goto fail;
	int rc = pthread_create(&d->thread, NULL, dispatch_main, d);
	if (rc != 0) {
		*err = errmsg_fmt("cannot start the hook dispatcher: %s", strerror(rc));
		goto fail;
	}
	return d;
fail:
	dispatcher_free(d);
	return NULL;
}

void hook_dispatch_stop(struct hook_dispatcher **dp)
{
	struct hook_dispatcher *d = *dp;
	if (d == NULL)
		return;
	atomic_store(&d->stopping, true);
	hook_sender_wake(d->sender);
	pthread_join(d->thread, NULL);
	dispatcher_free(d);
	*dp = NULL;
}
