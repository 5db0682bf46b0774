/*
 * app - what tagd answers: the route table of both dialects, authentication,
 * and the error envelope of each dialect for what no handler answers (404,
 * 405, 401).
 */
#ifndef TAGD_APP_H
#define TAGD_APP_H

#include "call.h"
#include "guard.h"

struct store;

struct app_options {
	const char *clone_base_url; /* ServiceStage clone URLs; NULL: "https://git.example.com" */
	struct guard_options auth_guard; /* authentication failure budget; zeros: defaults */
	bool hook_allow_private;         /* hook URLs may name private addresses (hook.h) */
};

struct app;

/* NULL when out of memory.  The store must outlive the app. */
struct app *app_new(struct store *store, const struct app_options *opts);
void app_free(struct app **ap);

struct store *app_store(const struct app *a);

/*
 * Handle one call: route, authenticate, run the handler.  An address that
 * keeps failing authentication is answered 429 (see guard.h).  On return the
 * call has a response, or has been deferred (call_is_deferred()).
 */
void app_handle(struct app *a, struct call *c);

/*
 * Answer a request the HTTP layer refuses (see enum call_refusal) with its
 * status in the envelope of the path's dialect.  The call needs only its
 * path (may be NULL: Vers).
 */
void app_refuse(struct call *c, enum call_refusal why);

#endif
