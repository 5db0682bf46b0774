/*
 * app.c - routing, authentication and the fallback answers of each dialect.
 * See app.h.
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "health_api.h"
#include "router.h"
#include "vers_api.h"
#include "vers_reply.h"

struct app {
	struct store *store;
	struct router *router;
	struct route *routes;
};

/* Every dialect's route table; the router sees them as one. */
static const struct {
	const struct route *routes;
	const size_t *count;
} route_tables[] = {
        {vers_routes, &vers_routes_count},
        {health_routes, &health_routes_count},
};

struct app *app_new(struct store *store, const struct app_options *opts)
{
	struct app *a = calloc(1, sizeof(*a));
	size_t n = 0;

	if (a == NULL)
		return NULL;
	a->store = store;
	for (size_t i = 0; i < sizeof(route_tables) / sizeof(route_tables[0]); i++)
		n += *route_tables[i].count;
	a->routes = calloc(n, sizeof(*a->routes));
	if (a->routes == NULL) {
		free(a);
		return NULL;
	}
	n = 0;
	for (size_t i = 0; i < sizeof(route_tables) / sizeof(route_tables[0]); i++) {
		memcpy(a->routes + n, route_tables[i].routes,
		       *route_tables[i].count * sizeof(*a->routes));
		n += *route_tables[i].count;
	}
	a->router = router_new(a->routes, n);
	if (a->router == NULL) {
		free(a->routes);
		free(a);
		return NULL;
	}
	return a;
}

void app_free(struct app **ap)
{
	struct app *a = *ap;
	if (a == NULL)
		return;
	router_free(&a->router);
	free(a->routes);
	free(a);
	*ap = NULL;
}

struct store *app_store(const struct app *a)
{
	return a->store;
}

void app_handle(struct app *a, struct call *c)
{
	const struct route *route = NULL;
	char allow[128];

	switch (router_match(a->router, c, &route, allow, sizeof(allow))) {
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
		vers_error(c, 500, "internal server error");
		return;
	}
	switch (route->auth) {
	case ROUTE_AUTH_NONE:
		break;
	case ROUTE_AUTH_VERS:
		if (!vers_authenticate(c))
			return;
		break;
	case ROUTE_AUTH_SS:
		break;
	}
	route->handler(c);
}
