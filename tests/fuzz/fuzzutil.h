/*
 * fuzzutil - what the libFuzzer targets share: one store on a temporary file
 * with two organizations ("acme", "other"), fixed commits and repositories,
 * a ServiceStage authorization and project of acme's, an app over it, and
 * a transport that runs deferred operations at once.
 *
 * Nothing here uses Check: a failed setup prints a line and aborts, which
 * libFuzzer reports as a crash.
 */
#ifndef TAGD_FUZZUTIL_H
#define TAGD_FUZZUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "call.h"
#include "store.h"

/* Commits the fixture registers: acme owns the first, other the second. */
#define FU_ACME_COMMIT  "11111111-1111-4111-8111-111111111111"
#define FU_OTHER_COMMIT "22222222-2222-4222-8222-222222222222"
/* Repositories of acme. */
#define FU_REPO       "app"
#define FU_SLASH_REPO "team/app"
/* ServiceStage: acme's repository authorization (every namespace), and a
 * project in a namespace with one commit on branch FU_SS_BRANCH. */
#define FU_SS_AUTH    "all"
#define FU_SS_NS      "fuzzns"
#define FU_SS_PROJECT "fuzzproj"
#define FU_SS_BRANCH  "main"

struct fu_fixture {
	struct store *store;
	struct app *app;
	int64_t acme_id;
	char acme_token[128];
	char other_token[128];
	char path[4096];
};

/*
 * The process-wide fixture, made on first use (under $TAGD_TEST_TMP, else
 * $TMPDIR, else /tmp) and removed at exit.  Never NULL: setup failures abort.
 */
struct fu_fixture *fu_fixture(void);

/* A transport that runs a deferred operation on the store and finishes the call at once. */
extern const struct call_transport fu_sync_transport;

/* Abort with a message when cond is false: libFuzzer reports it as a crash. */
#define FU_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fu_fail(__FILE__, __LINE__, #cond);                                        \
	} while (0)

_Noreturn void fu_fail(const char *file, int line, const char *what);

#endif
