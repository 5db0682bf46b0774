/*
 * fuzz_body - JSON request bodies against every request schema.
 *
 * The first byte picks a schema, the rest is the body.  The schemas are the
 * handlers' own body_field tables: each route of each dialect (Vers,
 * ServiceStage) that takes a body (POST, PUT, PATCH) is called directly with
 * the body, as an authenticated caller (ServiceStage: with acme's repository
 * authorization, on the fixture's project, ?ref= its branch), so
 * body_parse() and body_decode() run with exactly the table the handler
 * declares, followed by the handler's own checks and its write, run at once
 * on the fixture's store (so every status is one the handler really
 * answers, and a 500 is a bug).  One more pick is a
 * synthetic table with every kind of field, required, optional and
 * nullable, whose results are checked against the schema.
 *
 * Checked: the handler answers 2xx-4xx (or 501, fork's answer by design),
 * never 500; body_decode's results obey
 * the schema.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "fuzzutil.h"
#include "names.h"
#include "router.h"
#include "ss_api.h"
#include "vers_api.h"

/* Every dialect's route table; add a line for each new one. */
static const struct {
	const struct route *routes;
	const size_t *count;
} tables[] = {
        {vers_routes, &vers_routes_count},
        {ss_routes, &ss_routes_count},
};

#define MAX_BODY_ROUTES 128
static const struct route *body_routes[MAX_BODY_ROUTES];
static size_t nbody_routes;

static void collect_routes(void)
{
	if (nbody_routes > 0)
		return;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (size_t i = 0; i < *tables[t].count; i++) {
			const struct route *r = &tables[t].routes[i];
			if (r->method != CALL_POST && r->method != CALL_PUT &&
			    r->method != CALL_PATCH)
				continue;
			FU_CHECK(nbody_routes < MAX_BODY_ROUTES);
			body_routes[nbody_routes++] = r;
		}
	}
	FU_CHECK(nbody_routes > 0);
}

/* The fixture's object for the path parameter at p ("{name}..."). */
static const char *param_value(const char *p)
{
	if (strncmp(p, "{project_id}", 12) == 0)
		return "proj-acme";
	if (strncmp(p, "{namespace}", 11) == 0)
		return FU_SS_NS;
	if (strncmp(p, "{project}", 9) == 0)
		return FU_SS_PROJECT;
	return FU_REPO;
}

static void run_handler(const struct route *r, const char *body, size_t len)
{
	struct fu_fixture *fx = fu_fixture();
	struct call c;

	call_init(&c, fx->store, &fu_sync_transport, NULL);
	c.method = r->method;
	c.method_name = call_method_name(r->method);
	c.path = r->template;
	c.route = r->template;
	c.body = body;
	c.body_len = len;
	c.request_id = "fuzz";
	c.headers[0].name = "Content-Type";
	c.headers[0].value = "application/json";
	c.nheaders = 1;
	c.org_id = fx->acme_id;
	c.org_name = strdup("acme");
	FU_CHECK(c.org_name != NULL);
	/* ServiceStage: acme's authorization, and a ref for a tag to point at. */
	if (strncmp(r->template, "/v1/", 4) == 0) {
		c.headers[1].name = "X-Repo-Auth";
		c.headers[1].value = FU_SS_AUTH;
		c.nheaders = 2;
		c.query[0].name = "ref";
		c.query[0].value = FU_SS_BRANCH;
		c.nquery = 1;
	}
	/* Every path parameter names one of the fixture's objects. */
	for (const char *p = strchr(r->template, '{'); p != NULL; p = strchr(p + 1, '{')) {
		FU_CHECK(c.nparams < CALL_MAX_PARAMS);
		c.params[c.nparams] = strdup(param_value(p));
		FU_CHECK(c.params[c.nparams] != NULL);
		c.nparams++;
	}
	r->handler(&c);
	if (getenv("TAGD_FUZZ_VERBOSE") != NULL) /* to see what seeds reach */
		fprintf(stderr, "%s %s -> %d %.*s\n", c.method_name, r->template, c.status,
		        (int)c.resp_len, c.resp_body ? c.resp_body : "");
	FU_CHECK(!call_is_deferred(&c));
	/* Never a server error; 501 is the fork route's designed answer. */
	FU_CHECK((c.status >= 200 && c.status <= 499) || c.status == 501);
	call_release(&c);
}

/* A table with every kind, required or not, nullable or not. */
static void run_synthetic(const char *body, size_t len)
{
	struct body_field f[] = {
	        {.name = "s", .kind = BODY_STRING},
	        {.name = "sr", .kind = BODY_STRING, .required = true},
	        {.name = "sn", .kind = BODY_STRING, .nullable = true},
	        {.name = "srn", .kind = BODY_STRING, .required = true, .nullable = true},
	        {.name = "u", .kind = BODY_UUID},
	        {.name = "un", .kind = BODY_UUID, .nullable = true},
	        {.name = "b", .kind = BODY_BOOL},
	        {.name = "bn", .kind = BODY_BOOL, .nullable = true},
	};
	size_t n = sizeof(f) / sizeof(f[0]);
	char err[256];

	json_t *v = body_parse(body, len, err, sizeof(err));
	if (v == NULL) {
		/* The reason goes into a JSON envelope: it must be UTF-8. */
		size_t elen = strlen(err), i = 0;
		unsigned cp;
		while (i < elen) {
			size_t step =
			        names_utf8_decode((const unsigned char *)err + i, elen - i, &cp);
			FU_CHECK(step > 0);
			i += step;
		}
		return;
	}
	if (body_decode(v, f, n, err, sizeof(err))) {
		FU_CHECK(json_is_object(v));
		for (size_t i = 0; i < n; i++) {
			FU_CHECK(!f[i].required || f[i].present);
			FU_CHECK(!f[i].is_null || !f[i].present || f[i].nullable);
			if (f[i].is_null)
				continue;
			if (f[i].kind == BODY_STRING)
				FU_CHECK(f[i].str != NULL && strlen(f[i].str) <= BODY_MAX_STRING);
			if (f[i].kind == BODY_UUID) {
				char again[37];
				FU_CHECK(strlen(f[i].uuid) == 36);
				FU_CHECK(names_uuid_normalize(f[i].uuid, again));
				FU_CHECK(strcmp(again, f[i].uuid) == 0);
			}
		}
		FU_CHECK(body_field(f, n, "sr") == &f[1]);
	}
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	collect_routes();
	size_t pick = data[0] % (nbody_routes + 1);
	/* An exact-size copy: ASan sees any read past the body's end. */
	size_t len = size - 1;
	char *body = malloc(len ? len : 1);
	if (body == NULL)
		return 0;
	memcpy(body, data + 1, len);
	if (pick == nbody_routes)
		run_synthetic(body, len);
	else
		run_handler(body_routes[pick], body, len);
	free(body);
	return 0;
}
