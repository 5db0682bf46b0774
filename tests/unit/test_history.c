/*
 * test_history.c - events: the canonical form (RFC 8785) byte for byte, the
 * chain hash, hex, names; the entity tags and If-Match parsing (etag.c).
 */
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>

#include "etag.h"
#include "history.h"
#include "testutil.h"

static struct history_event sample(void)
{
	struct history_event ev = {
	        .id = "0b7c3a3e-8f2f-4c39-9b52-0d6c1e4d3a11",
	        .seq = 7,
	        .at = 1764578616123456, /* 2025-12-01T08:43:36.123456Z */
	        .dialect = HISTORY_VERS,
	        .scope = HISTORY_SCOPE_REPOSITORY,
	        .scope_name = "team/app",
	        .tag = "v1.0",
	        .action = HISTORY_MOVE,
	        .previous_seq = 3,
	        .commit_id = "11111111-1111-4111-8111-111111111111",
	        .previous_commit_id = "22222222-2222-4222-8222-222222222222",
	        .description_changed = true,
	        .description = "line\n\"two\"\t\\ \x01 \x7f \xc3\xa9",
	        .previous_description = NULL,
	        .token_id = "0123456789abcdef",
	        .token_label = "ci",
	        .request_id = "req-1",
	};
	return ev;
}

START_TEST(canonical_bytes)
{
	struct history_event ev = sample();
	size_t len;
	char *c = history_canonical(&ev, &len);
	ck_assert_ptr_nonnull(c);
	const char *want =
	        "{\"action\":\"move\",\"actor\":{\"label\":\"ci\",\"token_id\":"
	        "\"0123456789abcdef\"},"
	        "\"at\":\"2025-12-01T08:43:36.123456Z\","
	        "\"commit_id\":\"11111111-1111-4111-8111-111111111111\","
	        "\"description\":\"line\\n\\\"two\\\"\\t\\\\ \\u0001 \x7f \xc3\xa9\","
	        "\"description_changed\":true,\"dialect\":\"vers\","
	        "\"id\":\"0b7c3a3e-8f2f-4c39-9b52-0d6c1e4d3a11\","
	        "\"previous_commit_id\":\"22222222-2222-4222-8222-222222222222\","
	        "\"previous_description\":null,\"previous_seq\":3,\"request_id\":\"req-1\","
	        "\"scope\":{\"kind\":\"repository\",\"repository\":\"team/app\"},\"seq\":7,"
	        "\"tag\":\"v1.0\"}";
	ck_assert_str_eq(c, want);
	ck_assert_uint_eq(len, strlen(want));
	free(c);

	/* Unchanged descriptions are null whatever the fields hold; no token: actor null. */
	ev.description_changed = false;
	ev.token_id = NULL;
	ev.previous_seq = 0;
	ev.scope = HISTORY_SCOPE_SERVICESTAGE;
	ev.scope_name = "ns/group/proj";
	c = history_canonical(&ev, &len);
	ck_assert_ptr_nonnull(strstr(c, "\"actor\":null,"));
	ck_assert_ptr_nonnull(strstr(c, "\"previous_seq\":null,"));
	ck_assert_ptr_nonnull(strstr(c, "\"description\":null,\"description_changed\":false"));
	ck_assert_ptr_nonnull(strstr(c, "\"scope\":{\"kind\":\"servicestage\",\"namespace\":\"ns\","
	                                "\"project\":\"group/proj\"}"));
	free(c);
	ev.scope = HISTORY_SCOPE_COMMIT_TAGS;
	ev.scope_name = "";
	c = history_canonical(&ev, &len);
	ck_assert_ptr_nonnull(strstr(c, "\"scope\":{\"kind\":\"commit_tags\"}"));
	free(c);
}
END_TEST

/*
 * A rule event: "rule" and null for what names a tag.  A tag event has no
 * "rule" whatever its rule fields hold: its canonical form is what it was
 * before rules existed (canonical_bytes above is that form, unchanged).
 */
START_TEST(rule_events)
{
	struct history_event ev = {
	        .id = "0b7c3a3e-8f2f-4c39-9b52-0d6c1e4d3a11",
	        .seq = 8,
	        .at = 1764578616123456,
	        .dialect = HISTORY_CLI,
	        .scope = HISTORY_SCOPE_ORGANIZATION,
	        .scope_name = "",
	        .action = HISTORY_RULE_ADD,
	        .rule_pattern = "v*",
	        .rule_mode = "immutable",
	};
	size_t len;
	char *c = history_canonical(&ev, &len);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c,
	                 "{\"action\":\"rule_add\",\"actor\":null,"
	                 "\"at\":\"2025-12-01T08:43:36.123456Z\",\"commit_id\":null,"
	                 "\"description\":null,\"description_changed\":false,\"dialect\":\"cli\","
	                 "\"id\":\"0b7c3a3e-8f2f-4c39-9b52-0d6c1e4d3a11\","
	                 "\"previous_commit_id\":null,\"previous_description\":null,"
	                 "\"previous_seq\":null,\"request_id\":null,"
	                 "\"rule\":{\"mode\":\"immutable\",\"pattern\":\"v*\"},"
	                 "\"scope\":{\"kind\":\"organization\"},\"seq\":8,\"tag\":null}");
	free(c);
	ev.action = HISTORY_RULE_REMOVE;
	ev.scope = HISTORY_SCOPE_REPOSITORY;
	ev.scope_name = "app";
	c = history_canonical(&ev, &len);
	ck_assert_ptr_nonnull(strstr(c, "\"action\":\"rule_remove\""));
	ck_assert_ptr_nonnull(
	        strstr(c, "\"scope\":{\"kind\":\"repository\",\"repository\":\"app\"}"));
	free(c);

	struct history_event tag = sample();
	tag.rule_pattern = "v*";
	tag.rule_mode = "immutable";
	c = history_canonical(&tag, &len);
	ck_assert_ptr_null(strstr(c, "rule"));
	free(c);
	ck_assert(history_action_is_rule(HISTORY_RULE_ADD));
	ck_assert(!history_action_is_rule(HISTORY_DELETE));
	enum history_action a;
	ck_assert(history_action_parse("rule_remove", &a) && a == HISTORY_RULE_REMOVE);
	enum history_scope sc;
	ck_assert(history_scope_parse("organization", &sc) && sc == HISTORY_SCOPE_ORGANIZATION);
	enum history_dialect d;
	ck_assert(history_dialect_parse("cli", &d) && d == HISTORY_CLI);
}
END_TEST

START_TEST(invalid_utf8_is_replaced)
{
	struct history_event ev = sample();
	ev.token_label = "a\xff"
	                 "b\xc3";
	size_t len;
	char *c = history_canonical(&ev, &len);
	ck_assert_ptr_nonnull(strstr(c, "\"label\":\"a\xef\xbf\xbd"
	                                "b\xef\xbf\xbd\""));
	free(c);
}
END_TEST

START_TEST(seal_chains)
{
	struct history_event ev = sample();
	memset(ev.previous_hash, 0xab, sizeof(ev.previous_hash));
	ck_assert(history_seal(&ev));

	size_t len;
	char *c = history_canonical(&ev, &len);
	uint8_t want[HISTORY_HASH_LEN];
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, HISTORY_HASH_LEN, ev.previous_hash);
	sha256_update(&ctx, len, (const uint8_t *)c);
	sha256_digest(&ctx, HISTORY_HASH_LEN, want);
	free(c);
	ck_assert_mem_eq(ev.hash, want, HISTORY_HASH_LEN);

	/* Any field, and the previous hash, changes the hash. */
	struct history_event b = ev;
	b.seq = 8;
	ck_assert(history_seal(&b));
	ck_assert(memcmp(b.hash, ev.hash, HISTORY_HASH_LEN) != 0);
	b = ev;
	b.previous_hash[31] ^= 1;
	ck_assert(history_seal(&b));
	ck_assert(memcmp(b.hash, ev.hash, HISTORY_HASH_LEN) != 0);
}
END_TEST

START_TEST(api_json_adds_hashes)
{
	struct history_event ev = sample();
	ck_assert(history_seal(&ev));
	size_t len;
	char *j = history_event_json(&ev, &len);
	json_error_t err;
	json_t *v = json_loads(j, 0, &err);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(json_object_size(v), 17);
	char hex[HISTORY_HEX_LEN + 1];
	history_hex(ev.hash, hex);
	ck_assert_str_eq(json_string_value(json_object_get(v, "hash")), hex);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "seq")), 7);
	json_decref(v);
	free(j);

	j = history_page_json(&ev, 1, 7, &len);
	ck_assert_ptr_nonnull(strstr(j, "],\"next_after\":7}"));
	free(j);
	j = history_page_json(NULL, 0, -1, &len);
	ck_assert_str_eq(j, "{\"events\":[],\"next_after\":null}");
	free(j);
}
END_TEST

START_TEST(hex_and_names)
{
	uint8_t h[HISTORY_HASH_LEN], back[HISTORY_HASH_LEN];
	char hex[HISTORY_HEX_LEN + 1];
	for (size_t i = 0; i < sizeof(h); i++)
		h[i] = (uint8_t)(i * 37);
	history_hex(h, hex);
	ck_assert_uint_eq(strlen(hex), 64);
	ck_assert(history_unhex(hex, back));
	ck_assert_mem_eq(h, back, sizeof(h));
	ck_assert(!history_unhex("abc", back));
	hex[5] = 'g';
	ck_assert(!history_unhex(hex, back));

	enum history_action a;
	enum history_scope sc;
	enum history_dialect d;
	ck_assert(history_action_parse("delete", &a) && a == HISTORY_DELETE);
	ck_assert(!history_action_parse("Delete", &a));
	ck_assert(history_scope_parse("commit_tags", &sc) && sc == HISTORY_SCOPE_COMMIT_TAGS);
	ck_assert(history_dialect_parse("servicestage", &d) && d == HISTORY_SERVICESTAGE);
	ck_assert(!history_dialect_parse(NULL, &d));
	ck_assert_str_eq(history_action_name(HISTORY_UPDATE), "update");
}
END_TEST

/* ---- etag.c ---- */

START_TEST(if_match_parsing)
{
	struct store_expect e;
	char buf[ETAG_MAX];
	etag_format(42, buf);
	ck_assert_str_eq(buf, "\"42\"");

	etag_if_match(NULL, &e);
	ck_assert_int_eq(e.kind, STORE_EXPECT_NOTHING);
	etag_if_match(" * ", &e);
	ck_assert_int_eq(e.kind, STORE_EXPECT_ANY);
	etag_if_match("\"12\"", &e);
	ck_assert_int_eq(e.kind, STORE_EXPECT_REVS);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_int_eq(e.revs[0], 12);
	etag_if_match(" \"1\" ,, W/\"2\", \"xyz\",\"0\" ", &e);
	ck_assert_uint_eq(e.n, 2); /* weak and foreign tags never match */
	ck_assert_int_eq(e.revs[0], 1);
	ck_assert_int_eq(e.revs[1], 0);

	const char *never[] = {"",
	                       "12",
	                       "\"12",
	                       "*, \"1\"",
	                       "\"1\" \"2\"",
	                       "\"01\"",
	                       "\"9999999999999999999\"",
	                       "W/12",
	                       "\"a\"b\"",
	                       "\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\""};
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		etag_if_match(never[i], &e);
		ck_assert_msg(e.kind == STORE_EXPECT_REVS && e.n == 0, "'%s' matches something",
		              never[i]);
	}
	ck_assert(etag_if_none_match(NULL, &e) && e.kind == STORE_EXPECT_NOTHING);
	ck_assert(etag_if_none_match("*", &e) && e.kind == STORE_EXPECT_ABSENT);
	ck_assert(!etag_if_none_match("\"3\"", &e));
}
END_TEST

static Suite *make_suite(void)
{
	Suite *suite = suite_create("history");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, canonical_bytes);
	tcase_add_test(tc, rule_events);
	tcase_add_test(tc, invalid_utf8_is_replaced);
	tcase_add_test(tc, seal_chains);
	tcase_add_test(tc, api_json_adds_hashes);
	tcase_add_test(tc, hex_and_names);
	tcase_add_test(tc, if_match_parsing);
	suite_add_tcase(suite, tc);
	return suite;
}

TU_MAIN(make_suite)
