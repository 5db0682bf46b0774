/*
 * hook_send - sending webhook deliveries: the only module that knows
 * libcurl.  A sender runs up to a fixed number of requests at once (one per
 * slot) on the thread that calls hook_sender_run, with tagd's safety rules
 * on every one:
 *  - http and https only, no proxy (the environment's is ignored), no
 *    redirect followed (a 3xx is a failed attempt);
 *  - the address rule (hook.h) checked on each address a connection is
 *    about to be made to, after name resolution, so a DNS answer that
 *    changed since the hook was registered cannot reach a refused address
 *    (unless allow_private);
 *  - 10 s for the whole request, connection included; at most 64 KiB of the
 *    answer read.
 */
#ifndef TAGD_HOOK_SEND_H
#define TAGD_HOOK_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOOK_SEND_ERROR_MAX 256

struct hook_sender;

/* One request: POST body to url with extra header lines ("Name: value"). */
struct hook_request {
	const char *url;
	const char *body; /* borrowed until the request is done or cancelled */
	size_t len;
	const char *const *headers; /* NULL-terminated; copied */
};

/* What became of a request. */
struct hook_result {
	bool ok;                         /* a 2xx answer */
	int status;                      /* the HTTP status; 0 when none was received */
	int64_t retry_after_s;           /* the answer's Retry-After in seconds; -1: none */
	char error[HOOK_SEND_ERROR_MAX]; /* why it failed; empty when ok */
};

/*
 * A sender with slots request slots.  NULL and *err (malloc'd) when libcurl
 * cannot be set up.
 */
struct hook_sender *hook_sender_new(size_t slots, bool allow_private, char **err);
void hook_sender_free(struct hook_sender **sp);

/* Start rq in slot (which must be idle).  False when it cannot start (out of memory). */
bool hook_sender_start(struct hook_sender *s, size_t slot, const struct hook_request *rq);

/* Drop the request of slot, finished or not; the slot is idle again. */
void hook_sender_cancel(struct hook_sender *s, size_t slot);

typedef void (*hook_sender_done_fn)(void *arg, size_t slot, const struct hook_result *r);

/*
 * Make progress on every started request for at most timeout_ms (less when
 * one finishes or hook_sender_wake is called), calling done for each that
 * finished (its slot is idle again when done is called).
 */
void hook_sender_run(struct hook_sender *s, int timeout_ms, hook_sender_done_fn done, void *arg);

/* Make a hook_sender_run in progress return soon; safe from any thread. */
void hook_sender_wake(struct hook_sender *s);

/*
 * Whether url may be a hook's: an absolute http or https URL of at most
 * HOOK_URL_MAX bytes with a host, no user information (a password there
 * would be shown by every GET), no blanks or control characters; an IP
 * literal host must pass the address rule unless allow_private.  On false,
 * why (cap bytes) says what is wrong, without the URL.
 */
bool hook_url_check(const char *url, bool allow_private, char *why, size_t cap);

#endif
