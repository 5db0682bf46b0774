/*
 * vers_api - the Vers dialect's routes and handlers (/api/v1/...).
 */
#ifndef TAGD_VERS_API_H
#define TAGD_VERS_API_H

#include <stddef.h>

#include "router.h"

extern const struct route vers_routes[];
extern const size_t vers_routes_count;

/*
 * Authenticate c from its "Authorization: Bearer" header, setting c->org_id
 * and c->org_name.  On failure answers 401 (or 500) in the Vers envelope and
 * returns false.
 */
bool vers_authenticate(struct call *c);

#endif
