/*
 * health_api.c - /livez, /readyz, /metrics.  See health_api.h.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "health_api.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "store_admin.h"

static atomic_int state = HEALTH_STARTING;

void health_set_state(enum health_state st)
{
	atomic_store(&state, (int)st);
}

enum health_state health_get_state(void)
{
	return (enum health_state)atomic_load(&state);
}

static void reply_text(struct call *c, int status, const char *text)
{
	char *body = strdup(text);
	call_respond_take(c, body ? status : 500, body, body ? strlen(body) : 0,
	                  "text/plain; charset=utf-8");
	call_add_header(c, "Cache-Control", "no-store");
	if (body == NULL)
		call_set_reason(c, "out of memory");
	else if (status >= 400) /* the text without its newline is the reason */
		call_set_reasonf(c, "%.*s", (int)strcspn(text, "\n"), text);
}

static void livez(struct call *c)
{
	reply_text(c, 200, "ok\n");
}

static void readyz(struct call *c)
{
	switch (health_get_state()) {
	case HEALTH_STARTING:
		reply_text(c, 503, "starting\n");
		return;
	case HEALTH_DRAINING:
		reply_text(c, 503, "draining\n");
		return;
	case HEALTH_READY:
		break;
	}
	enum store_status st = store_ping(c->store);
	if (st != STORE_OK) {
		log_msg(LOG_WARN, "readiness: database does not answer", "error=\"%s\"",
		        store_status_str(st));
		reply_text(c, 503, "database unavailable\n");
		return;
	}
	reply_text(c, 200, "ready\n");
}

static void metrics(struct call *c)
{
	struct dynbuf t;
	struct store_stats stats;
	struct store_counts counts;

	dynbuf_init(&t, METRICS_TEXT_MAX);
	metrics_render_http(&t);
	store_stats_get(c->store, &stats);
	bool have_counts = store_count_objects(c->store, &counts) == STORE_OK;
	metrics_render_store(&t, &stats, have_counts ? &counts : NULL);
	if (dynbuf_failed(&t)) {
		dynbuf_release(&t);
		reply_text(c, 500, "out of memory\n");
		return;
	}
	size_t len;
	char *text = dynbuf_take(&t, &len);
	call_respond_take(c, 200, text, len, "text/plain; version=0.0.4; charset=utf-8");
	call_add_header(c, "Cache-Control", "no-store");
}

const struct route health_routes[] = {
        {CALL_GET, "/livez", ROUTE_AUTH_NONE, livez},
        {CALL_GET, "/readyz", ROUTE_AUTH_NONE, readyz},
        {CALL_GET, "/metrics", ROUTE_AUTH_NONE, metrics},
};
const size_t health_routes_count = sizeof(health_routes) / sizeof(health_routes[0]);
