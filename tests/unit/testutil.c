/*
 * testutil.c - see testutil.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "store_org.h"
#include "store_vers.h"
#include "testutil.h"

char *tu_db_path(void)
{
	const char *dir = getenv("TAGD_TEST_TMP");
	char *path = NULL;
	static unsigned counter;
	if (dir == NULL)
		dir = "/tmp";
	ck_assert_int_ge(asprintf(&path, "%s/unit-%ld-%u.db", dir, (long)getpid(), counter++), 0);
	unlink(path);
	return path;
}

struct store *tu_store(char **path)
{
	char *err = NULL;
	*path = tu_db_path();
	struct store *s = store_open(*path, NULL, &err);
	ck_assert_msg(s != NULL, "store_open: %s", err ? err : "?");
	return s;
}

void tu_store_done(struct store **s, char *path)
{
	char extra[4096];
	store_close(s);
	unlink(path);
	snprintf(extra, sizeof(extra), "%s-wal", path);
	unlink(extra);
	snprintf(extra, sizeof(extra), "%s-shm", path);
	unlink(extra);
	snprintf(extra, sizeof(extra), "%s-hooklock", path);
	unlink(extra);
	free(path);
}

int64_t tu_org(struct store *s, const char *name, const char *project_id, char *token)
{
	struct org_create_op o;
	org_create_op_init(&o);
	o.name = name;
	o.project_id = project_id;
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
	tu_token(s, name, TOKEN_SCOPE_ADMIN, token); /* the owner's: every right */
	return o.org_id;
}

void tu_token(struct store *s, const char *org, enum token_scope scope, char *token)
{
	struct auth_token t;
	ck_assert(auth_token_generate(&t));
	struct token_create_op to;
	token_create_op_init(&to);
	to.org_name = org;
	to.public_id = t.public_id;
	memcpy(to.digest, t.digest, sizeof(to.digest));
	to.scope = scope;
	ck_assert_int_eq(store_execute(s, &to.op), STORE_OK);
	if (token != NULL)
		strcpy(token, t.text);
}

void tu_commit(struct store *s, const char *org, char *id)
{
	struct org o;
	ck_assert_int_eq(store_org_by_name(s, org, &o), STORE_OK);
	struct vers_commit_create_op c;
	vers_commit_create_op_init(&c);
	c.org_id = o.id;
	ck_assert_int_eq(store_execute(s, &c.op), STORE_OK);
	strcpy(id, c.out.commit_id);
	vers_commit_release(&c.out);
	org_release(&o);
}

void tu_repo(struct store *s, int64_t org, const char *name)
{
	struct vers_repo_create_op o;
	vers_repo_create_op_init(&o);
	o.org_id = org;
	o.name = name;
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
}

/* Run deferred operations at once, on this thread. */
static void sync_defer(struct call *c, struct store_op *op)
{
	op->done = NULL;
	store_execute(c->store, op);
	call_finish_fn finish = c->finish;
	c->finish = NULL;
	finish(c, op);
}

static const struct call_transport sync_transport = {.defer = sync_defer};

struct tu_storage {
	char path[1024];
	char query[1024];
	json_t *json;
};

static const struct sockaddr *client_addr;

void tu_set_client_addr(const struct sockaddr *addr)
{
	client_addr = addr;
}

void tu_run(struct app *a, struct call *c, const char *method, const char *path, const char *body,
            ...)
{
	struct tu_storage *st = calloc(1, sizeof(*st));
	va_list ap;

	ck_assert_ptr_nonnull(st);
	call_init(c, app_store(a), &sync_transport, st);
	c->method_name = method;
	c->method = call_method_parse(method);
	snprintf(st->path, sizeof(st->path), "%s", path);
	char *q = strchr(st->path, '?');
	if (q != NULL) {
		*q = '\0';
		snprintf(st->query, sizeof(st->query), "%s", q + 1);
		/* "a=b&c=d" -> pairs, raw */
		char *save = NULL;
		for (char *kv = strtok_r(st->query, "&", &save); kv && c->nquery < CALL_MAX_QUERY;
		     kv = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(kv, '=');
			if (eq != NULL)
				*eq = '\0';
			c->query[c->nquery].name = kv;
			c->query[c->nquery].value = eq ? eq + 1 : NULL;
			c->nquery++;
		}
	}
	c->path = st->path;
	c->body = body ? body : "";
	c->body_len = strlen(c->body);
	c->request_id = "test";
	c->client_addr = client_addr;
	va_start(ap, body);
	for (;;) {
		const char *name = va_arg(ap, const char *);
		if (name == NULL)
			break;
		c->headers[c->nheaders].name = name;
		c->headers[c->nheaders].value = va_arg(ap, const char *);
		c->nheaders++;
	}
	va_end(ap);
	app_handle(a, c);
	ck_assert_msg(!call_is_deferred(c), "call still deferred");
	ck_assert_int_ne(c->status, 0);
}

void tu_call_done(struct call *c)
{
	struct tu_storage *st = c->transport_ctx;
	call_release(c);
	if (st != NULL) {
		json_decref(st->json);
		free(st);
	}
}

json_t *tu_json(struct call *c)
{
	struct tu_storage *st = c->transport_ctx;
	json_error_t err;
	ck_assert_ptr_nonnull(c->resp_body);
	json_decref(st->json);
	st->json = json_loadb(c->resp_body, c->resp_len, 0, &err);
	ck_assert_msg(st->json != NULL, "response is not JSON: %.*s", (int)c->resp_len,
	              c->resp_body);
	return st->json;
}
