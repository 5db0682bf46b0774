/* Unit tests: vers_reply.c - the directly written RepoTagInfo against jansson's rendering. */
#include <string.h>

#include "clock.h"
#include "testutil.h"
#include "vers_reply.h"

/* What jansson makes of the same tag: the reference the direct writer must equal. */
static char *expected(const struct vers_tag *t, const char *repo)
{
	char ref[1024], created[CLOCK_RFC3339_LEN], updated[CLOCK_RFC3339_LEN];
	snprintf(ref, sizeof(ref), "%s:%s", repo, t->name);
	clock_format_rfc3339(t->created_at, created);
	clock_format_rfc3339(t->updated_at, updated);
	json_t *o =
	        json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "tag_id", t->tag_id, "tag_name",
	                  t->name, "reference", ref, "commit_id", t->commit_id, "description",
	                  t->description ? json_string(t->description) : json_null(), "created_at",
	                  created, "updated_at", updated);
	ck_assert_ptr_nonnull(o);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

static void check_tag(const char *name, const char *description, const char *repo)
{
	struct vers_tag t = {.tag_id = "6f1c2a9e-8b1d-4a4e-9c55-0d2f7c1e9a10",
	                     .commit_id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
	                     .created_at = 1764000000123456,
	                     .updated_at = 1764000001000000};
	t.name = (char *)name;
	t.description = (char *)description;
	struct vers_list l;
	vers_list_init(&l);
	vers_list_tag(&l, &t, repo);
	ck_assert(!l.failed);
	char *want = expected(&t, repo);
	ck_assert_str_eq(l.text.buf, want);
	free(want);
	vers_list_release(&l);
}

START_TEST(same_bytes_as_jansson)
{
	check_tag("v1.0", NULL, "my-app");
	check_tag("版本", "a \"quoted\" \\ back\nslash\t\x01\x1f/", "team/app");
	check_tag("é", "", "r");
}
END_TEST

START_TEST(rows_are_comma_separated)
{
	struct vers_tag t = {.tag_id = "a", .commit_id = "b", .name = "n"};
	struct vers_list l;
	vers_list_init(&l);
	vers_list_raw(&l, "[");
	vers_list_tag(&l, &t, "r");
	vers_list_tag(&l, &t, "r");
	vers_list_raw(&l, "]");
	json_error_t err;
	json_t *v = json_loads(l.text.buf, 0, &err);
	ck_assert_msg(v != NULL, "not JSON: %s", l.text.buf);
	ck_assert_uint_eq(json_array_size(v), 2);
	json_decref(v);
	vers_list_release(&l);
}
END_TEST

static Suite *vers_reply_suite(void)
{
	Suite *s = suite_create("vers_reply");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, same_bytes_as_jansson);
	tcase_add_test(tc, rows_are_comma_separated);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(vers_reply_suite)
