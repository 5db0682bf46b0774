/*
 * ss_api - the ServiceStage dialect's routes and handlers
 * (/v1/{project_id}/git/...).
 */
#ifndef TAGD_SS_API_H
#define TAGD_SS_API_H

#include <stdbool.h>
#include <stddef.h>

#include "router.h"

extern const struct route ss_routes[];
extern const size_t ss_routes_count;

/*
 * Authenticate c from its X-Auth-Token header and check that the token's
 * organization owns the {project_id} path parameter (the first parameter of
 * every ServiceStage route), setting c->org_id and c->org_name.  On failure
 * answers 401 APIGW.0301 (missing or unknown token), 403 APIGW.0302 (another
 * organization's project id, known or not) or 500, and returns false.
 */
bool ss_authenticate(struct call *c);

/* Answers for what no ServiceStage handler answers (paths under /v1/). */
void ss_api_not_found(struct call *c); /* 404 APIGW.0101; also for a wrong method */
void ss_api_bad_path(struct call *c);  /* 400 SVCSTG.REPO.0400 */

#endif
