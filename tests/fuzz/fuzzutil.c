/*
 * fuzzutil.c - see fuzzutil.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "fuzzutil.h"
#include "store_org.h"
#include "store_ss.h"
#include "store_vers.h"

static struct fu_fixture fixture;
static bool made;

_Noreturn void fu_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	abort();
}

static void remove_files(void)
{
	char extra[4200];
	if (!made)
		return;
	app_free(&fixture.app);
	store_close(&fixture.store);
	unlink(fixture.path);
	snprintf(extra, sizeof(extra), "%s-wal", fixture.path);
	unlink(extra);
	snprintf(extra, sizeof(extra), "%s-shm", fixture.path);
	unlink(extra);
}

static int64_t make_org(const char *name, const char *project_id, char *token)
{
	struct org_create_op o;
	org_create_op_init(&o);
	o.name = name;
	o.project_id = project_id;
	FU_CHECK(store_execute(fixture.store, &o.op) == STORE_OK);

	struct auth_token t;
	FU_CHECK(auth_token_generate(&t));
	struct token_create_op to;
	token_create_op_init(&to);
	to.org_name = name;
	to.public_id = t.public_id;
	memcpy(to.digest, t.digest, sizeof(to.digest));
	to.scope = TOKEN_SCOPE_ADMIN; /* the owner: every right */
	FU_CHECK(store_execute(fixture.store, &to.op) == STORE_OK);
	strcpy(token, t.text);
	return o.org_id;
}

static void make_commit(int64_t org_id, const char *id)
{
	struct vers_commit_create_op c;
	vers_commit_create_op_init(&c);
	c.org_id = org_id;
	memcpy(c.commit_id, id, sizeof(c.commit_id));
	FU_CHECK(store_execute(fixture.store, &c.op) == STORE_OK);
	vers_commit_release(&c.out);
}

static void make_repo(int64_t org_id, const char *name)
{
	struct vers_repo_create_op r;
	vers_repo_create_op_init(&r);
	r.org_id = org_id;
	r.name = name;
	FU_CHECK(store_execute(fixture.store, &r.op) == STORE_OK);
}

/* Run a ServiceStage request as acme through the app; it must succeed. */
static void ss_call(const char *path, const char *body)
{
	struct call c;
	call_init(&c, fixture.store, &fu_sync_transport, NULL);
	c.method = CALL_POST;
	c.method_name = "POST";
	c.path = path;
	c.body = body;
	c.body_len = strlen(body);
	c.request_id = "fuzz-setup";
	c.headers[0] = (struct call_pair){"X-Auth-Token", fixture.acme_token};
	c.headers[1] = (struct call_pair){"X-Repo-Auth", FU_SS_AUTH};
	c.headers[2] = (struct call_pair){"Content-Type", "application/json"};
	c.nheaders = 3;
	app_handle(fixture.app, &c);
	if (c.status < 200 || c.status > 299) {
		fprintf(stderr, "fuzz: POST %s: %d %.*s\n", path, c.status, (int)c.resp_len,
		        c.resp_body ? c.resp_body : "");
		abort();
	}
	call_release(&c);
}

static void make_ss_project(void)
{
	struct ss_auth_create_op a;
	ss_auth_create_op_init(&a);
	a.org_name = "acme";
	a.name = FU_SS_AUTH;
	a.repo_type = "devcloud";
	FU_CHECK(store_execute(fixture.store, &a.op) == STORE_OK);
	ss_call("/v1/proj-acme/git/repos/" FU_SS_NS "/projects",
	        "{\"name\":\"" FU_SS_PROJECT "\"}");
	ss_call("/v1/proj-acme/git/repos/" FU_SS_NS "/" FU_SS_PROJECT "/commits",
	        "{\"sha\":\"0123456789abcdef0123456789abcdef01234567\",\"message\":\"m\","
	        "\"branch\":\"" FU_SS_BRANCH "\"}");
}

struct fu_fixture *fu_fixture(void)
{
	if (made)
		return &fixture;
	const char *dir = getenv("TAGD_TEST_TMP");
	if (dir == NULL)
		dir = getenv("TMPDIR");
	if (dir == NULL)
		dir = "/tmp";
	snprintf(fixture.path, sizeof(fixture.path), "%s/fuzz-%ld.db", dir, (long)getpid());
	unlink(fixture.path);

	/* Durability is not what is fuzzed: skip the fsync per commit. */
	struct store_options opts = {.synchronous_normal = true};
	char *err = NULL;
	fixture.store = store_open(fixture.path, &opts, &err);
	if (fixture.store == NULL) {
		fprintf(stderr, "fuzz: store_open %s: %s\n", fixture.path, err ? err : "?");
		abort();
	}
	made = true;
	atexit(remove_files);
	fixture.app = app_new(fixture.store, NULL);
	FU_CHECK(fixture.app != NULL);

	fixture.acme_id = make_org("acme", "proj-acme", fixture.acme_token);
	int64_t other = make_org("other", "proj-other", fixture.other_token);
	make_commit(fixture.acme_id, FU_ACME_COMMIT);
	make_commit(other, FU_OTHER_COMMIT);
	make_repo(fixture.acme_id, FU_REPO);
	make_repo(fixture.acme_id, FU_SLASH_REPO);
	make_ss_project();
	return &fixture;
}

static void sync_defer(struct call *c, struct store_op *op)
{
	op->done = NULL;
	store_execute(c->store, op);
	call_finish_fn finish = c->finish;
	c->finish = NULL;
	finish(c, op);
}

const struct call_transport fu_sync_transport = {.defer = sync_defer};
