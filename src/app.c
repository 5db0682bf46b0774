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

/* True for paths of the ServiceStage dialect, whose fallbacks use its envelope. */
static bool is_ss_path(const char *path)
{
	return strncmp(path, "/v1/", 4) == 0;
}

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

void app_handle(struct app *a, struct call *c)
{
	const struct route *route = NULL;
	char allow[128];

	c->app_opts = &a->opts;
	enum router_result rr = router_match(a->router, c, &route, allow, sizeof(allow));
	if (rr != ROUTER_FOUND && is_ss_path(c->path)) {
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
	switch (route->auth) {
	case ROUTE_AUTH_NONE:
		break;
	case ROUTE_AUTH_VERS:
		if (!vers_authenticate(c)) {
			auth_failed(a, c, route->auth);
			return;
		}
		break;
	case ROUTE_AUTH_SS:
		if (!ss_authenticate(c)) {
			auth_failed(a, c, route->auth);
			return;
		}
		break;
	}
	route->handler(c);
}
