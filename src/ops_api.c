/*
 * ops_api.c - operational routes.  See ops_api.h.
 */
#include <stdlib.h>
#include <string.h>

#include "openapi_doc.h"
#include "ops_api.h"
#include "vers_reply.h"

/* GET /openapi.json: the document exactly as built into the binary. */
static void openapi_get(struct call *c)
{
	char *copy = malloc(openapi_doc_len);

	if (copy == NULL) {
		vers_error_reason(c, 500, "internal server error",
		                  "out of memory copying the OpenAPI document");
		return;
	}
	memcpy(copy, openapi_doc, openapi_doc_len);
	call_respond_take(c, 200, copy, openapi_doc_len, "application/json");
}

const struct route ops_routes[] = {
        {CALL_GET, "/openapi.json", ROUTE_AUTH_NONE, TOKEN_SCOPE_NONE, openapi_get},
};

const size_t ops_routes_count = sizeof(ops_routes) / sizeof(ops_routes[0]);
