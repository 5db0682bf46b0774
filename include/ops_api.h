/*
 * ops_api - tagd's own operational routes, outside both dialects and
 * without authentication: GET /openapi.json (the embedded OpenAPI document).
 */
#ifndef TAGD_OPS_API_H
#define TAGD_OPS_API_H

#include <stddef.h>

#include "router.h"

extern const struct route ops_routes[];
extern const size_t ops_routes_count;

#endif
