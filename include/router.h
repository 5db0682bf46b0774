/*
 * router - maps a method and a raw path to a route.
 *
 * Templates are written "/api/v1/repositories/{repo_name}/tags"; a "{...}"
 * segment matches exactly one non-empty path segment, which is
 * percent-decoded into the call's params (so "%2F" can carry a '/').  Static
 * segments win over parameters at the first place two templates differ, as in
 * axum, so "/repositories/fork" is never taken for a repository named "fork".
 * A path matched by a template but not for this method gives 405 with the
 * methods that would have matched.
 */
#ifndef TAGD_ROUTER_H
#define TAGD_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "call.h"

enum route_auth {
	ROUTE_AUTH_NONE,
	ROUTE_AUTH_VERS, /* Authorization: Bearer */
	ROUTE_AUTH_SS,   /* X-Auth-Token (and the project id in the path) */
};

typedef void (*route_handler_fn)(struct call *c);

struct route {
	enum call_method method;
	const char *template;
	enum route_auth auth;
	route_handler_fn handler;
};

/*
 * The dialect a raw path belongs to, decided here and nowhere else: it picks
 * the error envelope of what no handler answers (HTTP-level refusals, 404,
 * 405) and the "dialect" label of the metrics.
 */
enum router_dialect {
	ROUTER_DIALECT_VERS,  /* /api/... */
	ROUTER_DIALECT_SS,    /* /v1/... (ServiceStage) */
	ROUTER_DIALECT_OTHER, /* anything else: tagd's own paths and unknown ones */
};

/* The dialect of path (a raw path or a route template); NULL is OTHER. */
enum router_dialect router_dialect(const char *path);

/* True when errors for path are answered in the ServiceStage envelope (else Vers's). */
bool router_is_ss(const char *path);

enum router_result {
	ROUTER_FOUND,
	ROUTER_NOT_FOUND,
	ROUTER_METHOD_NOT_ALLOWED,
	ROUTER_BAD_PATH, /* a parameter is not valid percent-encoding */
	ROUTER_NOMEM,
};

struct router;

/* Build a router over routes[0..n) (the array must outlive it).  NULL when out of memory. */
struct router *router_new(const struct route *routes, size_t n);
void router_free(struct router **rp);

/*
 * Match c->method and c->path.  On ROUTER_FOUND sets *out and stores the
 * decoded parameters in c->params and the template in c->route.  On
 * ROUTER_METHOD_NOT_ALLOWED writes the allowed methods ("GET, HEAD, POST")
 * into allow (allow_len bytes).  HEAD is served by GET routes.
 */
enum router_result router_match(const struct router *r, struct call *c, const struct route **out,
                                char *allow, size_t allow_len);

#endif
