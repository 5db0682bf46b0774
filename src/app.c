/*
 * app.c - routing, authentication and the fallback answers of each dialect.
 * See app.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "clock.h"
#include "guard.h"
#include "log.h"
#include "ops_api.h"
#include "health_api.h"
#include "router.h"
#include "ss_api.h"
#include "ss_reply.h"
#include "store.h"
#include "vers_api.h"
#include "vers_reply.h"

struct app {
	struct app_options opts; /* strings owned */
	struct store *store;
	struct router *router;
	struct route *routes;
	struct guard *guard;
};

/* Every dialect's route table; the router sees them as one. */
static const struct {
	const struct route *routes;
	const size_t *count;
} route_tables[] = {
        {vers_routes, &vers_routes_count},
        {ss_routes, &ss_routes_count},
        {ops_routes, &ops_routes_count},
        {health_routes, &health_routes_count},
};

void app_free(struct app **ap)
{
	struct app *a = *ap;
	if (a == NULL)
		return;
	router_free(&a->router);
	guard_free(&a->guard);
	free(a->routes);
	free((char *)a->opts.clone_base_url);
	free(a);
	*ap = NULL;
}

struct app *app_new(struct store *store, const struct app_options *opts)
{
	struct app *a = calloc(1, sizeof(*a));
	size_t n = 0;

	if (a == NULL)
		return NULL;
	a->store = store;
	a->opts.hook_allow_private = opts != NULL && opts->hook_allow_private;
	if (opts != NULL && opts->clone_base_url != NULL) {
		a->opts.clone_base_url = strdup(opts->clone_base_url);
		if (a->opts.clone_base_url == NULL)
			goto fail;
	}
	a->guard = guard_new(opts ? &opts->auth_guard : NULL);
	if (a->guard == NULL)
		goto fail;
	for (size_t i = 0; i < sizeof(route_tables) / sizeof(route_tables[0]); i++)
		n += *route_tables[i].count;
	a->routes = calloc(n, sizeof(*a->routes));
	if (a->routes == NULL)
		goto fail;
	n = 0;
	for (size_t i = 0; i < sizeof(route_tables) / sizeof(route_tables[0]); i++) {
		memcpy(a->routes + n, route_tables[i].routes,
		       *route_tables[i].count * sizeof(*a->routes));
		n += *route_tables[i].count;
	}
	a->router = router_new(a->routes, n);
	if (a->router == NULL)
		goto fail;
	return a;

fail:
	app_free(&a);
	return NULL;
}

struct store *app_store(const struct app *a)
{
	return a->store;
}

/*
 * An authentication failure (401) is charged to the client's address; past
 * its budget the answer becomes 429 with Retry-After, in the dialect's
 * envelope.  The token was checked first, so a valid one never gets here.
 */
static void auth_failed(struct app *a, struct call *c, enum route_auth dialect)
{
	bool entered = false;
	char addr[64], secs[16];

	if (c->status != 401)
		return; /* a store failure is not the client's */
	unsigned wait = guard_fail(a->guard, c->client_addr, clock_now_us(), &entered);
	if (wait == 0)
		return;
	if (entered) {
		guard_addr_text(c->client_addr, addr, sizeof(addr));
		log_msg(LOG_WARN, "authentication failures over budget", "addr=%s retry_after=%u",
		        addr, wait);
	}
	call_reset_response(c);
	if (dialect == ROUTE_AUTH_SS) {
		ss_error(c, 429, "APIGW.0308", "The throttling threshold has been reached",
		         "authentication failures of this address over budget");
	} else {
		vers_error_reason(c, 429, "Too many failed authentication attempts; retry later",
		                  "authentication failures of this address over budget");
	}
	snprintf(secs, sizeof(secs), "%u", wait);
	call_add_header(c, "Retry-After", secs);
}

/* The status and message of each refusal; ServiceStage's code is SVCSTG.REPO.0<status>. */
static const struct {
	int status;
	const char *msg;
} refusals[] = {
        [CALL_REFUSE_NONE] = {500, "internal server error"},
        [CALL_REFUSE_URL_TOO_LONG] = {414, "request URL too long"},
        [CALL_REFUSE_TOO_MANY_QUERY] = {414, "too many query parameters"},
        [CALL_REFUSE_HEADERS_TOO_LARGE] = {431, "request headers too large"},
        [CALL_REFUSE_TOO_MANY_HEADERS] = {431, "too many request headers"},
        [CALL_REFUSE_BODY_TOO_LARGE] = {413, "request body too large"},
        [CALL_REFUSE_BAD_TARGET] = {400, "invalid request target"},
        [CALL_REFUSE_BAD_HEADER] = {400, "invalid request header field"},
        [CALL_REFUSE_BAD_HOST] = {400, "an HTTP/1.1 request needs exactly one valid Host header"},
        [CALL_REFUSE_FRAMING] = {400,
                                 "Content-Length and Transfer-Encoding cannot be used together"},
        [CALL_REFUSE_CONTENT_LENGTH] = {400, "invalid Content-Length"},
        [CALL_REFUSE_TRANSFER_ENCODING] = {400, "invalid Transfer-Encoding"},
        [CALL_REFUSE_CODING_UNSUPPORTED] =
                {501, "transfer coding not implemented: only chunked is supported"},
};

void app_refuse(struct call *c, enum call_refusal why)
{
	if ((size_t)why >= sizeof(refusals) / sizeof(refusals[0]))
		why = CALL_REFUSE_NONE;
	int status = refusals[why].status;
	call_reset_response(c);
	if (router_is_ss(c->path)) {
		/* 4xx: the gateway's "parameter invalid" code; 5xx: the status's own. */
		const char *code = status == 501   ? "SVCSTG.REPO.0501"
		                   : status == 500 ? "SVCSTG.REPO.0500"
		                                   : "SVCSTG.REPO.0400";
		ss_error(c, status, code, refusals[why].msg, refusals[why].msg);
	} else {
		vers_error(c, status, refusals[why].msg);
	}
}

/* Check the caller's credentials for the route; false when the call has been answered. */
static bool authenticate(struct app *a, struct call *c, enum route_auth auth)
{
	bool ok = true;
	switch (auth) {
	case ROUTE_AUTH_NONE:
		break;
	case ROUTE_AUTH_VERS:
		ok = vers_authenticate(c);
		break;
	case ROUTE_AUTH_SS:
		ok = ss_authenticate(c);
		break;
	}
	if (!ok)
		auth_failed(a, c, auth);
	return ok;
}

/*
 * Whether c's token may call route: checked right after authentication,
 * before anything else (a route that names no scope refuses every token).
 * Otherwise answers 403 in the dialect's envelope: ServiceStage as its API
 * gateway answers an IAM user without the right.
 */
static bool scope_allows(const struct route *route, struct call *c)
{
	if (route->scope != TOKEN_SCOPE_NONE && c->token_scope >= route->scope)
		return true;
	char reason[128];
	snprintf(reason, sizeof(reason), "the token's scope is %s; this route takes %s",
	         token_scope_name(c->token_scope), token_scope_name(route->scope));
	if (route->auth == ROUTE_AUTH_SS) {
		ss_error(c, 403, "APIGW.0302", "The IAM user is not authorized to access the API",
		         reason);
	} else {
		char msg[160];
		snprintf(msg, sizeof(msg),
		         "insufficient scope: this request takes a token of scope %s or above, "
		         "this one is %s",
		         token_scope_name(route->scope), token_scope_name(c->token_scope));
		vers_error_reason(c, 403, msg, reason);
	}
	return false;
}

void app_handle(struct app *a, struct call *c)
{
	const struct route *route = NULL;
	char allow[128];

	c->app_opts = &a->opts;
	enum router_result rr = router_match(a->router, c, &route, allow, sizeof(allow));
	if (rr != ROUTER_FOUND && router_is_ss(c->path)) {
		/* As Huawei's API gateway: an API is a method and a path, so a wrong method is 404.
		 */
		if (rr == ROUTER_BAD_PATH)
			ss_api_bad_path(c);
		else if (rr == ROUTER_NOMEM)
			ss_internal_error(c, "out of memory routing the path");
		else
			ss_api_not_found(c);
		if (rr == ROUTER_METHOD_NOT_ALLOWED)
			call_add_header(c, "Allow", allow);
		return;
	}
	switch (rr) {
	case ROUTER_FOUND:
		break;
	case ROUTER_NOT_FOUND:
		vers_error(c, 404, "not found");
		return;
	case ROUTER_METHOD_NOT_ALLOWED:
		vers_error(c, 405, "method not allowed");
		call_add_header(c, "Allow", allow);
		return;
	case ROUTER_BAD_PATH:
		vers_error(c, 400, "invalid percent-encoding in path");
		return;
	case ROUTER_NOMEM:
		vers_error_reason(c, 500, "internal server error",
		                  "out of memory routing the path");
		return;
	}
	/* The token check and the handler's reads: one snapshot, one read transaction. */
	store_read_scope_begin(a->store);
	if (authenticate(a, c, route->auth) &&
	    (route->auth == ROUTE_AUTH_NONE || scope_allows(route, c)))
		route->handler(c);
	store_read_scope_end(a->store);
}
