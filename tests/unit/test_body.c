/* Unit tests: body.c - parsing and decoding request bodies, Content-Type. */
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "testutil.h"

static json_t *parse(const char *text, char *err)
{
	return body_parse(text, strlen(text), err, 256);
}

/* The last decoded value: the fields borrow its strings until the next decode. */
static json_t *last;

/* Decode text against a small schema; returns true on success, err has the reason. */
static bool decode(const char *text, struct body_field *f, size_t n, char *err)
{
	json_decref(last);
	last = parse(text, err);
	ck_assert_msg(last != NULL, "parse %s: %s", text, err);
	return body_decode(last, f, n, err, 256);
}

#define SCHEMA                                                                                     \
	{                                                                                          \
		{.name = "name", .kind = BODY_STRING, .required = true},                           \
		        {.name = "id", .kind = BODY_UUID, .required = true},                       \
		        {.name = "description", .kind = BODY_STRING, .nullable = true},            \
		        {.name = "flag", .kind = BODY_BOOL},                                       \
		        {.name = "maybe", .kind = BODY_BOOL, .required = true, .nullable = true},  \
	}

static const char ID[] = "\"id\": \"0F0E0D0C-0B0A-4908-8706-050403020100\"";

START_TEST(decode_ok)
{
	struct body_field f[] = SCHEMA;
	char err[256], text[512];
	snprintf(text, sizeof(text),
	         "{\"name\": \"x\", %s, \"description\": null, \"flag\": true, \"maybe\": null,"
	         " \"unknown\": [1, 2]}",
	         ID);
	ck_assert_msg(decode(text, f, 5, err), "%s", err);
	ck_assert_str_eq(f[0].str, "x");
	ck_assert(f[0].present && !f[0].is_null);
	ck_assert_str_eq(f[1].uuid, "0f0e0d0c-0b0a-4908-8706-050403020100");
	ck_assert(f[2].present && f[2].is_null);
	ck_assert_ptr_null(f[2].str);
	ck_assert(f[3].present && f[3].boolean);
	ck_assert(f[4].present && f[4].is_null);
	ck_assert_ptr_eq(body_field(f, 5, "flag"), &f[3]);
	ck_assert_ptr_null(body_field(f, 5, "nope"));

	/* Optional fields absent. */
	snprintf(text, sizeof(text), "{\"name\": \"\", %s, \"maybe\": false}", ID);
	ck_assert_msg(decode(text, f, 5, err), "%s", err);
	ck_assert_str_eq(f[0].str, "");
	ck_assert(!f[2].present && f[2].is_null);
	ck_assert(!f[3].present && !f[3].boolean);
	ck_assert(f[4].present && !f[4].is_null && !f[4].boolean);
}
END_TEST

START_TEST(decode_errors)
{
	struct body_field f[] = SCHEMA;
	char err[256], text[512];
	static const struct {
		const char *fields; /* with ID appended unless it has "id" */
		const char *want;
	} cases[] = {
	        {"\"maybe\": null", "missing field `name`"},
	        {"\"name\": null, \"maybe\": null", "name: invalid type: null, expected a string"},
	        {"\"name\": 5, \"maybe\": null", "name: invalid type: integer, expected a string"},
	        {"\"name\": 1.5, \"maybe\": null",
	         "name: invalid type: floating point, expected a string"},
	        {"\"name\": true, \"maybe\": null",
	         "name: invalid type: boolean, expected a string"},
	        {"\"name\": [], \"maybe\": null",
	         "name: invalid type: sequence, expected a string"},
	        {"\"name\": {}, \"maybe\": null", "name: invalid type: map, expected a string"},
	        {"\"name\": \"x\"", "missing field `maybe`"},
	        {"\"name\": \"x\", \"maybe\": \"yes\"",
	         "maybe: invalid type: string, expected a boolean"},
	        {"\"name\": \"x\", \"maybe\": 1",
	         "maybe: invalid type: integer, expected a boolean"},
	        {"\"name\": \"x\", \"maybe\": null, \"flag\": null",
	         "flag: invalid type: null, expected a boolean"},
	        {"\"name\": \"x\", \"maybe\": null, \"flag\": \"true\"",
	         "flag: invalid type: string, expected a boolean"},
	        {"\"name\": \"x\", \"maybe\": null, \"description\": 3",
	         "description: invalid type: integer, expected a string"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "{%s, %s}", cases[i].fields, ID);
		ck_assert_msg(!decode(text, f, 5, err), "accepted %s", text);
		ck_assert_str_eq(err, cases[i].want);
	}

	/* The UUID field: missing, null, wrong type, malformed. */
	ck_assert(!decode("{\"name\": \"x\", \"maybe\": null}", f, 5, err));
	ck_assert_str_eq(err, "missing field `id`");
	ck_assert(!decode("{\"name\": \"x\", \"maybe\": null, \"id\": null}", f, 5, err));
	ck_assert_str_eq(err, "id: invalid type: null, expected a UUID string");
	ck_assert(!decode("{\"name\": \"x\", \"maybe\": null, \"id\": 7}", f, 5, err));
	ck_assert_str_eq(err, "id: invalid type: integer, expected a UUID string");
	const char *bad_ids[] = {"nope",
	                         "",
	                         "0f0e0d0c-0b0a-4908-8706-05040302010",
	                         "0f0e0d0c-0b0a-4908-8706-0504030201000",
	                         "0f0e0d0c+0b0a-4908-8706-050403020100",
	                         "gf0e0d0c-0b0a-4908-8706-050403020100"};
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		snprintf(text, sizeof(text), "{\"name\": \"x\", \"maybe\": null, \"id\": \"%s\"}",
		         bad_ids[i]);
		ck_assert_msg(!decode(text, f, 5, err), "accepted %s", bad_ids[i]);
		ck_assert_str_eq(err, "id: invalid UUID");
	}
	/* Other UUID spellings are accepted and normalized. */
	const char *ok_ids[] = {"0f0e0d0c0b0a49088706050403020100",
	                        "{0f0e0d0c-0b0a-4908-8706-050403020100}",
	                        "urn:uuid:0F0E0D0C-0B0A-4908-8706-050403020100"};
	for (size_t i = 0; i < sizeof(ok_ids) / sizeof(ok_ids[0]); i++) {
		snprintf(text, sizeof(text), "{\"name\": \"x\", \"maybe\": null, \"id\": \"%s\"}",
		         ok_ids[i]);
		ck_assert_msg(decode(text, f, 5, err), "%s: %s", ok_ids[i], err);
		ck_assert_str_eq(f[1].uuid, "0f0e0d0c-0b0a-4908-8706-050403020100");
	}
}
END_TEST

START_TEST(not_an_object)
{
	struct body_field f[] = SCHEMA;
	char err[256];
	const char *texts[] = {"[]", "\"x\"", "5", "null", "true", "1.5"};
	const char *want[] = {"sequence", "string", "integer", "null", "boolean", "floating point"};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ck_assert(!decode(texts[i], f, 5, err));
		char expect[128];
		snprintf(expect, sizeof(expect), "invalid type: %s, expected a JSON object",
		         want[i]);
		ck_assert_str_eq(err, expect);
	}
}
END_TEST

START_TEST(string_bound)
{
	struct body_field f[] = {{.name = "s", .kind = BODY_STRING, .required = true}};
	char err[256];
	size_t n = BODY_MAX_STRING + 1;
	char *text = malloc(n + 16);
	ck_assert_ptr_nonnull(text);
	/* Exactly the limit passes... */
	strcpy(text, "{\"s\": \"");
	memset(text + 7, 'a', BODY_MAX_STRING);
	strcpy(text + 7 + BODY_MAX_STRING, "\"}");
	ck_assert_msg(decode(text, f, 1, err), "%s", err);
	ck_assert_uint_eq(strlen(f[0].str), BODY_MAX_STRING);
	/* ...one byte more is refused, never truncated. */
	memset(text + 7, 'a', n);
	strcpy(text + 7 + n, "\"}");
	ck_assert(!decode(text, f, 1, err));
	ck_assert_str_eq(err, "s: longer than 65536 bytes");
	free(text);
}
END_TEST

START_TEST(parse_refusals)
{
	char err[256];
	json_t *v;
	/* Duplicate keys. */
	ck_assert_ptr_null(parse("{\"a\": 1, \"a\": 2}", err));
	ck_assert_ptr_nonnull(strstr(err, "duplicate"));
	/* Invalid UTF-8, raw and as a lone surrogate escape. */
	ck_assert_ptr_null(parse("{\"a\": \"\xff\"}", err));
	ck_assert_ptr_null(parse("{\"a\": \"\xc3\"}", err));
	ck_assert_ptr_null(parse("{\"a\": \"\xed\xa0\x80\"}", err));
	ck_assert_ptr_null(parse("{\"a\": \"\\ud800\"}", err));
	/* NUL escapes would cut C strings short. */
	ck_assert_ptr_null(parse("{\"a\": \"x\\u0000y\"}", err));
	/* Malformed and empty. */
	ck_assert_ptr_null(parse("{", err));
	ck_assert_ptr_nonnull(strstr(err, "line 1"));
	ck_assert_ptr_null(parse("", err));
	ck_assert_ptr_null(parse("{} x", err));
	/* Deep nesting is refused, not a stack overflow. */
	char deep[4096];
	memset(deep, '[', 3000);
	deep[3000] = '\0';
	ck_assert_ptr_null(parse(deep, err));
	/* Any JSON value parses; decode then judges it. */
	v = parse("5", err);
	ck_assert_ptr_nonnull(v);
	json_decref(v);
	v = parse("{\"a\": \"\\u00e9\"}", err);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(json_string_value(json_object_get(v, "a")), "é");
	json_decref(v);
	/* Body bytes after an embedded NUL are not ignored. */
	ck_assert_ptr_null(body_parse("{}\0{", 4, err, sizeof(err)));
}
END_TEST

START_TEST(json_types)
{
	const char *yes[] = {"application/json",        "application/json; charset=utf-8",
	                     "Application/JSON",        "application/json;charset=UTF-8",
	                     "  application/json  ",    "application/json ; charset=utf-8",
	                     "application/vnd.x+json",  "application/problem+json; charset=utf-8",
	                     "APPLICATION/VND.API+JSON"};
	const char *no[] = {NULL,
	                    "",
	                    "text/json",
	                    "application/jsonx",
	                    "application/json5",
	                    "application/+json",
	                    "application/xml",
	                    "text/plain",
	                    "application/x/y+json",
	                    "application",
	                    "json",
	                    "multipart/form-data; boundary=application/json",
	                    "text/plain; type=application/json"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(body_is_json_type(yes[i]), "refused %s", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(!body_is_json_type(no[i]), "accepted %s", no[i] ? no[i] : "NULL");
}
END_TEST

static Suite *body_suite(void)
{
	Suite *s = suite_create("body");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, decode_ok);
	tcase_add_test(tc, decode_errors);
	tcase_add_test(tc, not_an_object);
	tcase_add_test(tc, string_bound);
	tcase_add_test(tc, parse_refusals);
	tcase_add_test(tc, json_types);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(body_suite)
