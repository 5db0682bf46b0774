/*
 * Unit tests: the token lifecycle through the app and the store - expiry,
 * the throttled last-use write, the failure budget answering 429, and the
 * cache of verified tokens, which a revocation (by another process too)
 * invalidates at once.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "sqlite.h"
#include "store_internal.h"
#include "store_org.h"
#include "testutil.h"

#define S 1000000LL

/* A token of org expiring at expires_at (0: never); its text goes into text. */
static void make_token(struct store *s, const char *org, int64_t expires_at, char *text)
{
	struct auth_token t;
	struct token_create_op o;
	ck_assert(auth_token_generate(&t));
	token_create_op_init(&o);
	o.org_name = org;
	o.public_id = t.public_id;
	memcpy(o.digest, t.digest, sizeof(o.digest));
	o.expires_at = expires_at;
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
	strcpy(text, t.text);
}

static const struct token_info *find_token(const struct token_info *list, size_t n,
                                           const char *text)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(list[i].public_id, text + 5, AUTH_PUBLIC_ID_LEN) == 0)
			return &list[i];
	ck_abort_msg("token not listed");
	return NULL;
}

/* POST /api/v1/commits with "Authorization: <auth>" (NULL: none). */
static void post_commit(struct app *a, struct call *c, const char *auth)
{
	if (auth != NULL)
		tu_run(a, c, "POST", "/api/v1/commits", "{}", "Content-Type", "application/json",
		       "Authorization", auth, NULL);
	else
		tu_run(a, c, "POST", "/api/v1/commits", "{}", "Content-Type", "application/json",
		       NULL);
}

static const char *header(const struct call *c, const char *name)
{
	for (size_t i = 0; i < c->nresp_headers; i++)
		if (strcmp(c->resp_headers[i].name, name) == 0)
			return c->resp_headers[i].value;
	return NULL;
}

START_TEST(expired_answers_like_unknown)
{
	char *path, live[128], expired[128], unknown[128], bearer[160];
	struct store *s = tu_store(&path);
	struct app *a = app_new(s, NULL);
	struct call c;

	tu_org(s, "acme", NULL, NULL);
	make_token(s, "acme", clock_now_us() + 3600 * S, live);
	make_token(s, "acme", clock_now_us() - S, expired);
	strcpy(unknown, expired);
	unknown[10] = unknown[10] == 'a' ? 'b' : 'a'; /* another public id */

	snprintf(bearer, sizeof(bearer), "Bearer %s", live);
	post_commit(a, &c, bearer);
	ck_assert_int_eq(c.status, 201);
	tu_call_done(&c);

	char bodies[2][256];
	const char *tokens[2] = {expired, unknown};
	for (int i = 0; i < 2; i++) {
		snprintf(bearer, sizeof(bearer), "Bearer %s", tokens[i]);
		post_commit(a, &c, bearer);
		ck_assert_int_eq(c.status, 401);
		ck_assert_str_eq(header(&c, "WWW-Authenticate"), "Bearer");
		snprintf(bodies[i], sizeof(bodies[i]), "%.*s", (int)c.resp_len, c.resp_body);
		/* The presented token is never echoed. */
		ck_assert_ptr_null(strstr(bodies[i], tokens[i] + 5));
		tu_call_done(&c);
	}
	ck_assert_str_eq(bodies[0], bodies[1]);
	ck_assert_str_eq(bodies[0], "{\"success\":false,\"error\":\"Invalid bearer token\"}");
	app_free(&a);
	tu_store_done(&s, path);
}
END_TEST

/* Wait for the writer to have run everything queued before: one more op, executed. */
static void writer_barrier(struct store *s)
{
	struct token_revoke_op o;
	token_revoke_op_init(&o);
	o.org_name = "acme";
	o.public_id = "0000000000000000";
	ck_assert_int_eq(store_execute(s, &o.op), STORE_NOT_FOUND);
}

START_TEST(last_use_written_once_a_minute)
{
	char *path, token[128];
	struct store *s = tu_store(&path);
	struct auth_token t;
	struct token_info *list;
	size_t n;
	uint64_t b0, ops0, b1, ops1;
	int64_t before = clock_now_us();
	struct token_identity who;

	tu_org(s, "acme", NULL, token);
	ck_assert(auth_token_parse(token, strlen(token), &t));
	ck_assert_int_eq(store_token_list(s, "acme", &list, &n), STORE_OK);
	ck_assert_int_eq(find_token(list, n, token)->last_used_at, 0);
	token_list_free(list, n);

	writer_barrier(s);
	store_write_stats(s, &b0, &ops0);
	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(store_token_verify(s, t.public_id, t.digest, &who), STORE_OK);
		token_identity_release(&who);
	}
	writer_barrier(s);
	store_write_stats(s, &b1, &ops1);
	/* Fifty uses, one write (plus the barrier). */
	ck_assert_uint_eq(ops1 - ops0, 2);

	ck_assert_int_eq(store_token_list(s, "acme", &list, &n), STORE_OK);
	int64_t used = find_token(list, n, token)->last_used_at;
	token_list_free(list, n);
	ck_assert_int_ge(used, before);
	ck_assert_int_le(used, clock_now_us());

	/* A failed check records nothing. */
	t.digest[0] ^= 1;
	ck_assert_int_eq(store_token_verify(s, t.public_id, t.digest, &who), STORE_NOT_FOUND);
	writer_barrier(s);
	store_write_stats(s, &b0, &ops0);
	ck_assert_uint_eq(ops0 - ops1, 1);
	tu_store_done(&s, path);
}
END_TEST

START_TEST(touch_claimed_once_per_interval)
{
	char *path;
	struct store *s = tu_store(&path);
	int64_t t = 1000 * S;

	ck_assert(store_touch_claim(s, "00112233445566aa", t));
	ck_assert(!store_touch_claim(s, "00112233445566aa", t + 1));
	ck_assert(!store_touch_claim(s, "00112233445566aa", t + STORE_TOUCH_INTERVAL_US - 1));
	ck_assert(store_touch_claim(s, "00112233445566bb", t + 1));
	ck_assert(store_touch_claim(s, "00112233445566aa", t + STORE_TOUCH_INTERVAL_US));
	/* Ids too long for the table are never claimed (no write at all beats a wrong one). */
	ck_assert(!store_touch_claim(s, "0123456789abcdef0123456789abcdef0", t));
	tu_store_done(&s, path);
}
END_TEST

START_TEST(budget_answers_429_but_never_to_a_valid_token)
{
	char *path, token[128], bearer[160], wrong[160];
	struct store *s = tu_store(&path);
	struct app_options opts = {.auth_guard = {.burst = 4, .interval_s = 30}};
	struct app *a = app_new(s, &opts);
	struct call c;
	struct sockaddr_in attacker, other;

	memset(&attacker, 0, sizeof(attacker));
	attacker.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.66", &attacker.sin_addr);
	other = attacker;
	inet_pton(AF_INET, "192.0.2.67", &other.sin_addr);
	tu_org(s, "acme", NULL, token);
	snprintf(bearer, sizeof(bearer), "Bearer %s", token);
	snprintf(wrong, sizeof(wrong), "Bearer %s", token);
	wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'A' ? 'B' : 'A';

	tu_set_client_addr((const struct sockaddr *)&attacker);
	for (int i = 0; i < 4; i++) {
		post_commit(a, &c, i % 2 ? wrong : NULL);
		ck_assert_int_eq(c.status, 401);
		tu_call_done(&c);
	}
	post_commit(a, &c, wrong);
	ck_assert_int_eq(c.status, 429);
	ck_assert_str_eq(header(&c, "Retry-After"), "30");
	ck_assert_ptr_null(header(&c, "WWW-Authenticate"));
	ck_assert_str_eq(json_string_value(json_object_get(tu_json(&c), "error")),
	                 "Too many failed authentication attempts; retry later");
	tu_call_done(&c);
	post_commit(a, &c, NULL);
	ck_assert_int_eq(c.status, 429);
	tu_call_done(&c);

	/* The valid token, from the same address, goes through. */
	post_commit(a, &c, bearer);
	ck_assert_int_eq(c.status, 201);
	tu_call_done(&c);

	/* Another address has its own budget. */
	tu_set_client_addr((const struct sockaddr *)&other);
	post_commit(a, &c, wrong);
	ck_assert_int_eq(c.status, 401);
	tu_call_done(&c);

	tu_set_client_addr(NULL);
	app_free(&a);
	tu_store_done(&s, path);
}
END_TEST

static enum store_status verify(struct store *s, const struct auth_token *t)
{
	struct token_identity who;
	enum store_status st = store_token_verify(s, t->public_id, t->digest, &who);
	if (st == STORE_OK)
		token_identity_release(&who);
	return st;
}

static int64_t token_epoch(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT epoch FROM token_epoch", -1, &st, NULL),
	                 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t epoch = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return epoch;
}

START_TEST(revocation_by_another_process_is_seen_at_once)
{
	char *path, token[128];
	struct store *s = tu_store(&path);
	struct auth_token t;
	tu_org(s, "acme", NULL, token);
	ck_assert(auth_token_parse(token, strlen(token), &t));
	for (int i = 0; i < 3; i++) /* the second and third from the cache */
		ck_assert_int_eq(verify(s, &t), STORE_OK);

	/* `tagd token revoke` is another process: another store on the same file. */
	char *err = NULL;
	struct store *cli = store_open(path, NULL, &err);
	ck_assert_msg(cli != NULL, "%s", err ? err : "");
	int64_t before = token_epoch(path);
	struct token_revoke_op o;
	token_revoke_op_init(&o);
	o.org_name = "acme";
	o.public_id = t.public_id;

	/* Inside one request (a read scope) the snapshot holds: the request began before. */
	store_read_scope_begin(s);
	ck_assert_int_eq(verify(s, &t), STORE_OK);
	ck_assert_int_eq(store_execute(cli, &o.op), STORE_OK);
	ck_assert_int_eq(verify(s, &t), STORE_OK);
	store_read_scope_end(s);
	ck_assert_int_gt(token_epoch(path), before);

	/* The very next request sees it, from the cache's thread and from any other. */
	ck_assert_int_eq(verify(s, &t), STORE_NOT_FOUND);
	ck_assert_int_eq(verify(s, &t), STORE_NOT_FOUND);
	store_close(&cli);
	tu_store_done(&s, path);
}
END_TEST

START_TEST(cached_token_still_expires)
{
	char *path, text[128];
	struct store *s = tu_store(&path);
	struct auth_token t;
	tu_org(s, "acme", NULL, text);
	int64_t expires = clock_now_us() + 50000;
	make_token(s, "acme", expires, text);
	ck_assert(auth_token_parse(text, strlen(text), &t));
	ck_assert_int_eq(verify(s, &t), STORE_OK);
	ck_assert_int_eq(verify(s, &t), STORE_OK); /* cached */
	/* Expiry is a moment, not a write: no epoch moves.  Wait for the moment itself. */
	while (clock_now_us() <= expires)
		;
	ck_assert_int_eq(verify(s, &t), STORE_NOT_FOUND);
	tu_store_done(&s, path);
}
END_TEST

START_TEST(cache_answers_what_the_database_says)
{
	char *path, token[128];
	struct store *s = tu_store(&path);
	struct auth_token t;
	struct token_identity who;
	tu_org(s, "acme", "proj-1", token);
	ck_assert(auth_token_parse(token, strlen(token), &t));
	ck_assert_int_eq(store_token_verify(s, t.public_id, t.digest, &who), STORE_OK);
	ck_assert_str_eq(who.project_id, "proj-1");
	token_identity_release(&who);

	/* A wrong secret for a cached id is refused, and does not evict the right one. */
	struct auth_token wrong = t;
	wrong.digest[3] ^= 0x10;
	ck_assert_int_eq(verify(s, &wrong), STORE_NOT_FOUND);
	ck_assert_int_eq(verify(s, &t), STORE_OK);

	/* Last-use writes do not move the epoch (nor empty the cache). */
	int64_t epoch = token_epoch(path);
	writer_barrier(s);
	ck_assert_int_eq(token_epoch(path), epoch);

	/* An organization changed behind the daemon's back (another process): seen at once. */
	sqlite3 *db = NULL;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	ck_assert_int_eq(sqlite3_exec(db,
	                              "UPDATE orgs SET project_id = 'proj-2' WHERE name = "
	                              "'acme'",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(store_token_verify(s, t.public_id, t.digest, &who), STORE_OK);
	ck_assert_str_eq(who.project_id, "proj-2");
	ck_assert_str_eq(who.org_name, "acme");
	ck_assert_str_eq(who.token_id, t.public_id);
	token_identity_release(&who);
	tu_store_done(&s, path);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("tokens");
	TCase *tc = tcase_create("lifecycle");
	tcase_add_test(tc, expired_answers_like_unknown);
	tcase_add_test(tc, last_use_written_once_a_minute);
	tcase_add_test(tc, touch_claimed_once_per_interval);
	tcase_add_test(tc, budget_answers_429_but_never_to_a_valid_token);
	tcase_add_test(tc, revocation_by_another_process_is_seen_at_once);
	tcase_add_test(tc, cached_token_still_expires);
	tcase_add_test(tc, cache_answers_what_the_database_says);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(make_suite)
