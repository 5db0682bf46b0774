/* Unit tests: auth.c - token format, parsing, digests, Bearer, checks against a store. */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "store_org.h"
#include "testutil.h"

static bool in(const char *set, char c)
{
	return c != '\0' && strchr(set, c) != NULL;
}

START_TEST(generate_format)
{
	static const char hex[] = "0123456789abcdef";
	static const char b64url[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	struct auth_token a, b;
	ck_assert(auth_token_generate(&a));
	ck_assert(auth_token_generate(&b));
	ck_assert_uint_eq(strlen(a.text), AUTH_TOKEN_LEN);
	ck_assert_uint_eq(AUTH_TOKEN_LEN, 5 + 16 + 1 + 43);
	ck_assert(strncmp(a.text, "tagd_", 5) == 0);
	ck_assert_int_eq(a.text[21], '_');
	ck_assert_uint_eq(strlen(a.public_id), AUTH_PUBLIC_ID_LEN);
	ck_assert(memcmp(a.text + 5, a.public_id, 16) == 0);
	for (size_t i = 0; i < 16; i++)
		ck_assert_msg(in(hex, a.public_id[i]), "public id %s", a.public_id);
	for (size_t i = 22; i < AUTH_TOKEN_LEN; i++)
		ck_assert_msg(in(b64url, a.text[i]), "secret char %c", a.text[i]);
	/* Random: two tokens differ in both halves. */
	ck_assert_str_ne(a.text, b.text);
	ck_assert_str_ne(a.public_id, b.public_id);
	ck_assert(memcmp(a.text + 22, b.text + 22, 43) != 0);
	/* The digest is SHA-256 of the whole text. */
	uint8_t d[AUTH_DIGEST_LEN];
	auth_digest(a.text, AUTH_TOKEN_LEN, d);
	ck_assert(memcmp(d, a.digest, sizeof(d)) == 0);
	/* A generated token parses back to itself. */
	struct auth_token p;
	ck_assert(auth_token_parse(a.text, strlen(a.text), &p));
	ck_assert_str_eq(p.text, a.text);
	ck_assert_str_eq(p.public_id, a.public_id);
	ck_assert(memcmp(p.digest, a.digest, sizeof(d)) == 0);
}
END_TEST

START_TEST(parse_rejects_malformed)
{
	struct auth_token t, g;
	char buf[256];
	ck_assert(auth_token_generate(&g));
	const char *good = g.text;

	/* Wrong lengths. */
	ck_assert(!auth_token_parse(good, AUTH_TOKEN_LEN - 1, &t));
	snprintf(buf, sizeof(buf), "%sA", good);
	ck_assert(!auth_token_parse(buf, strlen(buf), &t));
	ck_assert(!auth_token_parse("", 0, &t));
	ck_assert(!auth_token_parse("tagd_", 5, &t));

	/* One byte changed at every place where the shape forbids it. */
	struct {
		size_t pos;
		char ch;
	} muts[] = {
	        {0, 'T'},  {0, 'x'},  {3, 'D'},  {4, '-'},   {5, 'A'},     {5, 'g'},  {12, 'F'},
	        {20, '_'}, {20, ' '}, {21, 'x'}, {21, '-'},  {22, '+'},    {22, '/'}, {40, '='},
	        {64, '='}, {64, ' '}, {30, '.'}, {30, '\0'}, {63, '\xc3'},
	};
	for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		memcpy(buf, good, AUTH_TOKEN_LEN + 1);
		buf[muts[i].pos] = muts[i].ch;
		ck_assert_msg(!auth_token_parse(buf, AUTH_TOKEN_LEN, &t), "accepted %zu=%c",
		              muts[i].pos, muts[i].ch);
	}
	/* Another prefix of the right length. */
	memcpy(buf, good, AUTH_TOKEN_LEN + 1);
	memcpy(buf, "ghp__", 5);
	ck_assert(!auth_token_parse(buf, AUTH_TOKEN_LEN, &t));
	/* The same shape with any base64url secret parses. */
	memcpy(buf, good, AUTH_TOKEN_LEN + 1);
	memset(buf + 22, '-', 43);
	ck_assert(auth_token_parse(buf, AUTH_TOKEN_LEN, &t));
}
END_TEST

START_TEST(digest_sha256)
{
	static const uint8_t abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
	                                0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
	                                0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
	                                0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	static const uint8_t empty[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
	                                  0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
	                                  0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
	                                  0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
	uint8_t d[32];
	auth_digest("abc", 3, d);
	ck_assert(memcmp(d, abc, 32) == 0);
	auth_digest("", 0, d);
	ck_assert(memcmp(d, empty, 32) == 0);
}
END_TEST

START_TEST(digest_equal)
{
	uint8_t a[32], b[32];
	auth_digest("x", 1, a);
	memcpy(b, a, 32);
	ck_assert(auth_digest_equal(a, b));
	for (size_t i = 0; i < 32; i += 31) {
		b[i] ^= 0x01;
		ck_assert(!auth_digest_equal(a, b));
		b[i] ^= 0x01;
	}
	b[17] ^= 0x80;
	ck_assert(!auth_digest_equal(a, b));
}
END_TEST

static void bearer_is(const char *header, const char *want)
{
	size_t len = 99;
	const char *p = auth_bearer(header, &len);
	if (want == NULL) {
		ck_assert_msg(p == NULL, "accepted '%s'", header ? header : "(null)");
		ck_assert_uint_eq(len, 0);
		return;
	}
	ck_assert_msg(p != NULL, "refused '%s'", header);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert(strncmp(p, want, len) == 0);
}

START_TEST(bearer_parsing)
{
	bearer_is("Bearer abc", "abc");
	bearer_is("bearer abc", "abc");
	bearer_is("BEARER abc", "abc");
	bearer_is("BeArEr\tabc", "abc");
	bearer_is("  Bearer    abc  ", "abc");
	bearer_is("Bearer abc\t", "abc");
	bearer_is(NULL, NULL);
	bearer_is("", NULL);
	bearer_is("Bearer", NULL);
	bearer_is("Bearer ", NULL);
	bearer_is("Bearer   \t ", NULL);
	bearer_is("Bearerabc", NULL);
	bearer_is("Basic abc", NULL);
	bearer_is("Token abc", NULL);
	bearer_is("Bear abc", NULL);
	bearer_is("abc", NULL);
}
END_TEST

START_TEST(check_against_store)
{
	char *path;
	struct store *s = tu_store(&path);
	char token[128], other[128];
	int64_t acme = tu_org(s, "acme", NULL, token);
	int64_t oth = tu_org(s, "other", NULL, other);
	struct token_identity who;

	ck_assert_int_eq(auth_check(s, token, strlen(token), &who), AUTH_OK);
	ck_assert_int_eq(who.org_id, acme);
	ck_assert_str_eq(who.org_name, "acme");
	ck_assert_int_eq(strncmp(who.token_id, token + 5, 16), 0);
	ck_assert_int_eq(strlen(who.token_id), 16);
	token_identity_release(&who);
	ck_assert_ptr_null(who.org_name);
	ck_assert_int_eq(auth_check(s, other, strlen(other), &who), AUTH_OK);
	ck_assert_int_eq(who.org_id, oth);
	ck_assert_str_eq(who.org_name, "other");
	token_identity_release(&who);

	/* Unknown public id. */
	struct auth_token fresh;
	ck_assert(auth_token_generate(&fresh));
	ck_assert_int_eq(auth_check(s, fresh.text, AUTH_TOKEN_LEN, &who), AUTH_UNKNOWN);
	/* Known public id, wrong secret. */
	char wrong[128];
	strcpy(wrong, token);
	wrong[30] = wrong[30] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(auth_check(s, wrong, strlen(wrong), &who), AUTH_UNKNOWN);
	/* Another org's public id with this org's secret. */
	memcpy(wrong, token, sizeof(wrong));
	memcpy(wrong + 5, other + 5, 16);
	ck_assert_int_eq(auth_check(s, wrong, strlen(wrong), &who), AUTH_UNKNOWN);
	/* Malformed. */
	ck_assert_int_eq(auth_check(s, "nope", 4, &who), AUTH_UNKNOWN);
	ck_assert_int_eq(auth_check(s, token, strlen(token) - 1, &who), AUTH_UNKNOWN);

	/* Revoked: stops at once; the other org's token is untouched. */
	char pid[17];
	memcpy(pid, token + 5, 16);
	pid[16] = '\0';
	struct token_revoke_op r;
	token_revoke_op_init(&r);
	r.org_name = "other"; /* not its org: nothing revoked */
	r.public_id = pid;
	ck_assert_int_eq(store_execute(s, &r.op), STORE_NOT_FOUND);
	ck_assert_int_eq(auth_check(s, token, strlen(token), &who), AUTH_OK);
	token_identity_release(&who);
	token_revoke_op_init(&r);
	r.org_name = "acme";
	r.public_id = pid;
	ck_assert_int_eq(store_execute(s, &r.op), STORE_OK);
	ck_assert_int_eq(auth_check(s, token, strlen(token), &who), AUTH_UNKNOWN);
	token_revoke_op_init(&r);
	r.org_name = "acme";
	r.public_id = pid;
	ck_assert_int_eq(store_execute(s, &r.op), STORE_NOT_FOUND);
	ck_assert_int_eq(auth_check(s, other, strlen(other), &who), AUTH_OK);
	token_identity_release(&who);

	tu_store_done(&s, path);
}
END_TEST

START_TEST(expired_token)
{
	char *path;
	struct store *s = tu_store(&path);
	tu_org(s, "acme", NULL, NULL);
	struct auth_token t;
	ck_assert(auth_token_generate(&t));
	struct token_create_op o;
	token_create_op_init(&o);
	o.org_name = "acme";
	o.public_id = t.public_id;
	memcpy(o.digest, t.digest, sizeof(o.digest));
	o.expires_at = 1000; /* long past */
	o.scope = TOKEN_SCOPE_READ;
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
	struct token_identity who;
	ck_assert_int_eq(auth_check(s, t.text, AUTH_TOKEN_LEN, &who), AUTH_UNKNOWN);
	/* Unknown org. */
	token_create_op_init(&o);
	o.org_name = "nobody";
	o.public_id = "0123456789abcdef";
	o.scope = TOKEN_SCOPE_READ;
	ck_assert_int_eq(store_execute(s, &o.op), STORE_ORG_NOT_FOUND);
	tu_store_done(&s, path);
}
END_TEST

static Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, generate_format);
	tcase_add_test(tc, parse_rejects_malformed);
	tcase_add_test(tc, digest_sha256);
	tcase_add_test(tc, digest_equal);
	tcase_add_test(tc, bearer_parsing);
	tcase_add_test(tc, check_against_store);
	tcase_add_test(tc, expired_token);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(auth_suite)
