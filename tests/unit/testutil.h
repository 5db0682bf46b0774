/*
 * testutil - shared helpers for the Check unit tests: temporary databases,
 * calls built by hand and run without a socket.
 */
#ifndef TAGD_TESTUTIL_H
#define TAGD_TESTUTIL_H

#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <sys/socket.h>

#include "app.h"
#include "call.h"
#include "store.h"

/* A fresh database file path under $TAGD_TEST_TMP (or /tmp); the caller frees it. */
char *tu_db_path(void);

/* Open a store on a fresh file; fails the test when it cannot. */
struct store *tu_store(char **path);

/* Close the store and remove its files. */
void tu_store_done(struct store **s, char *path);

/*
 * Create an organization with a token of scope admin; the token text goes
 * into token (128 bytes) unless it is NULL.
 */
int64_t tu_org(struct store *s, const char *name, const char *project_id, char *token);

/* Another token of org with that scope; its text goes into token (128 bytes; may be NULL). */
void tu_token(struct store *s, const char *org, enum token_scope scope, char *token);

/* Register a commit for org; its UUID goes into id (37 bytes). */
void tu_commit(struct store *s, const char *org, char *id);

/* Create the Vers repository name in org (an id, as tu_org answers it). */
void tu_repo(struct store *s, int64_t org, const char *name);

/*
 * A call with method and path (query after '?'), an optional header pair
 * list ("Name", "Value", ..., NULL) and body, run through the app with
 * deferred operations run synchronously.  The response is left in *c;
 * call tu_call_done() afterwards.
 */
void tu_run(struct app *a, struct call *c, const char *method, const char *path, const char *body,
            ...);
void tu_call_done(struct call *c);

/* The client address tu_run gives its calls from now on (borrowed); NULL: none. */
void tu_set_client_addr(const struct sockaddr *addr);

/* The response body parsed as JSON (borrowed until tu_call_done); fails the test if not JSON. */
json_t *tu_json(struct call *c);

/* main() for a test file whose suite is built by make_suite(). */
#define TU_MAIN(make_suite)                                                                        \
	int main(void)                                                                             \
	{                                                                                          \
		SRunner *sr = srunner_create(make_suite());                                        \
		srunner_run_all(sr, CK_NORMAL);                                                    \
		int failed = srunner_ntests_failed(sr);                                            \
		srunner_free(sr);                                                                  \
		return failed == 0 ? 0 : 1;                                                        \
	}
#endif
