/*
 * health_api - the operator's endpoints: GET /livez (the process answers),
 * GET /readyz (serving and the database answers; 503 while starting or
 * draining) and GET /metrics (Prometheus text format).  No authentication:
 * they reveal counts, never data; bind tagd where only trusted networks
 * reach it, or filter these paths at the proxy.
 */
#ifndef TAGD_HEALTH_API_H
#define TAGD_HEALTH_API_H

#include <stddef.h>

#include "router.h"

enum health_state { HEALTH_STARTING, HEALTH_READY, HEALTH_DRAINING };

/* The daemon's phase, as /readyz reports it (process-wide; set by serve). */
void health_set_state(enum health_state st);
enum health_state health_get_state(void);

extern const struct route health_routes[];
extern const size_t health_routes_count;

#endif
