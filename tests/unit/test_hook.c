/*
 * test_hook.c - what a delivery is: signatures (vectors computed with
 * Python's hmac), webhook ids, the retry schedule, the address rule,
 * Retry-After, both bodies, and the URL and secret checks.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"
#include "hook_send.h"
#include "testutil.h"

#define SEC  1000000LL
#define HOUR (3600 * SEC)

START_TEST(signatures_match_python)
{
	char sig[HOOK_SIGNATURE_LEN + 1], hub[HOOK_HUB_SIGNATURE_LEN + 1];
	const char *body = "{\"a\":1}";
	hook_signature("s3cret-0123456789", "msg_x", 1700000000, body, strlen(body), sig);
	ck_assert_str_eq(sig, "v1,7wpvzKielHGhmTt/wfvsL92SyckW4qHPyCtoVozXJNk=");
	hook_hub_signature("s3cret-0123456789", body, strlen(body), hub);
	ck_assert_str_eq(hub,
	                 "sha256=da235dd5a56734be5a64c05de2aba484dc3c78a515d90e0df6bff0cf17c962ba");
}
END_TEST

START_TEST(webhook_id_is_the_same_for_one_event_and_hook)
{
	char a[HOOK_WEBHOOK_ID_LEN + 1], b[HOOK_WEBHOOK_ID_LEN + 1];
	const char *hook = "11111111-1111-4111-8111-111111111111";
	const char *ev = "22222222-2222-4222-8222-222222222222";
	hook_webhook_id(hook, ev, a);
	ck_assert_str_eq(a, "msg_90b3f6e0fe9888c051f30305c43f6b8a");
	hook_webhook_id(hook, ev, b);
	ck_assert_str_eq(a, b);
	hook_webhook_id(ev, hook, b);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(schedule)
{
	const int64_t want[] = {5 * SEC,   300 * SEC, 1800 * SEC, 2 * HOUR,  5 * HOUR,
	                        10 * HOUR, 14 * HOUR, 20 * HOUR,  24 * HOUR, 24 * HOUR};
	for (int64_t n = 1; n <= 10; n++)
		ck_assert_int_eq(hook_retry_delay_us(n, -1), want[n - 1]);
	ck_assert_int_eq(hook_retry_delay_us(40, -1), 24 * HOUR);
	/* Retry-After: longer, never shorter, at most a day. */
	ck_assert_int_eq(hook_retry_delay_us(1, 600), 600 * SEC);
	ck_assert_int_eq(hook_retry_delay_us(2, 1), 300 * SEC);
	ck_assert_int_eq(hook_retry_delay_us(1, 10000000), 24 * HOUR);
	ck_assert_int_eq(hook_retry_delay_us(1, 0), 5 * SEC);
}
END_TEST

static bool refused(const char *text)
{
	struct sockaddr_in in4 = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	const char *why = NULL;
	if (inet_pton(AF_INET, text, &in4.sin_addr) == 1)
		return hook_addr_refused((struct sockaddr *)&in4, &why);
	ck_assert_msg(inet_pton(AF_INET6, text, &in6.sin6_addr) == 1, "%s", text);
	bool r = hook_addr_refused((struct sockaddr *)&in6, &why);
	ck_assert(r == (why != NULL));
	return r;
}

START_TEST(address_rule)
{
	const char *no[] = {"127.0.0.1",
	                    "127.255.0.9",
	                    "10.1.2.3",
	                    "172.16.0.1",
	                    "172.31.255.1",
	                    "192.168.7.7",
	                    "100.64.0.1",
	                    "169.254.169.254",
	                    "224.0.0.1",
	                    "239.1.1.1",
	                    "240.0.0.1",
	                    "255.255.255.255",
	                    "0.0.0.0",
	                    "198.18.0.1",
	                    "192.0.0.8",
	                    "::1",
	                    "::",
	                    "fe80::1",
	                    "fc00::1",
	                    "fd12:3456::1",
	                    "ff02::1",
	                    "::ffff:127.0.0.1",
	                    "::ffff:10.0.0.1",
	                    "64:ff9b::a00:1",
	                    "2002:7f00:1::",
	                    "fec0::1",
	                    "::127.0.0.1"};
	const char *yes[] = {"8.8.8.8",        "93.184.216.34",  "172.32.0.1",
	                     "100.128.0.1",    "11.0.0.1",       "2001:4860:4860::8888",
	                     "::ffff:8.8.8.8", "2002:808:808::", "64:ff9b::808:808"};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(refused(no[i]), "%s should be refused", no[i]);
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(!refused(yes[i]), "%s should be allowed", yes[i]);
	const char *why = NULL;
	struct sockaddr unix_like = {.sa_family = AF_UNIX};
	ck_assert(hook_addr_refused(&unix_like, &why));
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	ck_assert(hook_addr_refused((struct sockaddr *)&lo, &why));
	ck_assert_str_eq(why, "loopback");
}
END_TEST

START_TEST(retry_after)
{
	int64_t s = -1;
	ck_assert(hook_retry_after_parse("120", 0, &s));
	ck_assert_int_eq(s, 120);
	ck_assert(hook_retry_after_parse(" 5 \r\n", 0, &s));
	ck_assert_int_eq(s, 5);
	ck_assert(hook_retry_after_parse("99999999", 0, &s));
	ck_assert_int_eq(s, 86400);
	ck_assert(hook_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 - 30, &s));
	ck_assert_int_eq(s, 30);
	ck_assert(hook_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 + 30, &s));
	ck_assert_int_eq(s, 0);
	ck_assert(!hook_retry_after_parse("", 0, &s));
	ck_assert(!hook_retry_after_parse("soon", 0, &s));
	ck_assert(!hook_retry_after_parse("-5", 0, &s));
	ck_assert(!hook_retry_after_parse("Wed, 21 Oct 2015 07:28:00 PST", 0, &s));
}
END_TEST

static struct history_event event(enum history_scope scope, const char *where)
{
	struct history_event ev = {
	        .seq = 7,
	        .at = 1700000000000000LL,
	        .scope = scope,
	        .scope_name = where,
	        .tag = "v1.0",
	        .action = HISTORY_CREATE,
	        .commit_id = "3b18e512dba79e4c8300dd08aeb37f8e728b8dad",
	        .description_changed = true,
	        .description = "release",
	        .token_id = "0123456789abcdef",
	        .token_label = "ci",
	};
	strcpy(ev.id, "22222222-2222-4222-8222-222222222222");
	return ev;
}

START_TEST(vers_body_is_the_event_and_its_repository)
{
	struct history_event ev = event(HISTORY_SCOPE_REPOSITORY, "app");
	size_t len, elen;
	char *body = hook_vers_body(&ev, &len);
	ck_assert_ptr_nonnull(body);
	ck_assert_uint_eq(len, strlen(body));
	ck_assert(strncmp(body, "{\"repository\":\"app\",", 20) == 0);
	char *plain = history_event_json(&ev, &elen);
	json_t *a = json_loads(body, 0, NULL), *b = json_loads(plain, 0, NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(json_string_value(json_object_get(a, "repository")), "app");
	json_object_del(a, "repository");
	ck_assert(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	free(plain);
	free(body);
	ev = event(HISTORY_SCOPE_COMMIT_TAGS, "");
	body = hook_vers_body(&ev, &len);
	ck_assert(strncmp(body, "{\"repository\":null,", 19) == 0);
	free(body);
}
END_TEST

START_TEST(gitlab_body)
{
	struct history_event ev = event(HISTORY_SCOPE_SERVICESTAGE, "team/group/app");
	struct hook_project p = {.id = 42, .clone_base = "https://git.example.com"};
	size_t len;
	char *body = hook_gitlab_body(&ev, &p, &len);
	ck_assert_ptr_nonnull(body);
	json_t *doc = json_loads(body, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "object_kind")), "tag_push");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "ref")), "refs/tags/v1.0");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "before")),
	                 "0000000000000000000000000000000000000000");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "after")), ev.commit_id);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "checkout_sha")), ev.commit_id);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "message")), "release");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "user_name")), "ci");
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "project_id")), 42);
	json_t *proj = json_object_get(doc, "project");
	ck_assert_str_eq(json_string_value(json_object_get(proj, "name")), "app");
	ck_assert_str_eq(json_string_value(json_object_get(proj, "namespace")), "team/group");
	ck_assert_str_eq(json_string_value(json_object_get(proj, "git_http_url")),
	                 "https://git.example.com/team/group/app.git");
	json_decref(doc);
	free(body);
	/* A delete: after is forty zeros, no checkout_sha, no message. */
	ev.action = HISTORY_DELETE;
	ev.previous_commit_id = ev.commit_id;
	ev.commit_id = NULL;
	body = hook_gitlab_body(&ev, &p, &len);
	doc = json_loads(body, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "after")),
	                 "0000000000000000000000000000000000000000");
	ck_assert(json_is_null(json_object_get(doc, "checkout_sha")));
	ck_assert(json_is_null(json_object_get(doc, "message")));
	json_decref(doc);
	free(body);
}
END_TEST

START_TEST(matches)
{
	struct history_event ev = event(HISTORY_SCOPE_REPOSITORY, "app");
	ck_assert(hook_matches(HOOK_SCOPE_ORGANIZATION, "", &ev));
	ck_assert(hook_matches(HOOK_SCOPE_REPOSITORY, "app", &ev));
	ck_assert(!hook_matches(HOOK_SCOPE_REPOSITORY, "app2", &ev));
	ck_assert(!hook_matches(HOOK_SCOPE_SERVICESTAGE, "app", &ev));
	ev = event(HISTORY_SCOPE_SERVICESTAGE, "ns/app");
	ck_assert(hook_matches(HOOK_SCOPE_SERVICESTAGE, "ns/app", &ev));
	ck_assert(!hook_matches(HOOK_SCOPE_REPOSITORY, "ns/app", &ev));
	/* A protection rule's event changes no tag: no hook hears it, of any scope. */
	ev.action = HISTORY_RULE_ADD;
	ck_assert(!hook_matches(HOOK_SCOPE_SERVICESTAGE, "ns/app", &ev));
	ck_assert(!hook_matches(HOOK_SCOPE_ORGANIZATION, "", &ev));
	ev = event(HISTORY_SCOPE_ORGANIZATION, "");
	ev.action = HISTORY_RULE_REMOVE;
	ck_assert(!hook_matches(HOOK_SCOPE_ORGANIZATION, "", &ev));
}
END_TEST

START_TEST(urls_and_secrets)
{
	char why[192];
	const char *good[] = {"http://hooks.example.com/x", "https://hooks.example.com:8443/a?b=c",
	                      "https://[2001:db8::1]/x", "http://8.8.8.8/"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(hook_url_check(good[i], false, why, sizeof(why)), "%s: %s", good[i],
		              why);
	const char *bad[] = {"",
	                     "hooks.example.com/x",
	                     "ftp://hooks.example.com/",
	                     "file:///etc/passwd",
	                     "http://user:pw@hooks.example.com/",
	                     "http://user@hooks.example.com/",
	                     "http://hooks.example.com/a b",
	                     "http://hooks.example.com/\x01",
	                     "http://127.0.0.1:9000/",
	                     "http://[::1]/",
	                     "http://10.0.0.1/",
	                     "http:///path"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!hook_url_check(bad[i], false, why, sizeof(why)), "%s", bad[i]);
	ck_assert(!hook_url_check("http://127.0.0.1:9000/", false, why, sizeof(why)));
	ck_assert(strstr(why, "loopback") != NULL && strstr(why, "hook_allow_private") != NULL);
	ck_assert(hook_url_check("http://127.0.0.1:9000/", true, why, sizeof(why)));
	char *longer = malloc(HOOK_URL_MAX + 2);
	memset(longer, 'a', HOOK_URL_MAX + 1);
	memcpy(longer, "http://h/", 9);
	longer[HOOK_URL_MAX + 1] = '\0';
	ck_assert(!hook_url_check(longer, true, why, sizeof(why)));
	free(longer);

	ck_assert(hook_secret_check("0123456789abcdef", HOOK_SECRET_MIN_VERS, why, sizeof(why)));
	ck_assert(!hook_secret_check("0123456789abcde", HOOK_SECRET_MIN_VERS, why, sizeof(why)));
	ck_assert(hook_secret_check("x", 1, why, sizeof(why)));
	ck_assert(!hook_secret_check("", 1, why, sizeof(why)));
	ck_assert(!hook_secret_check("0123456789abcdef\r\nX-Evil: 1", 1, why, sizeof(why)));
	ck_assert(strstr(why, "0123") == NULL); /* never echoed */
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("hook");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, signatures_match_python);
	tcase_add_test(tc, webhook_id_is_the_same_for_one_event_and_hook);
	tcase_add_test(tc, schedule);
	tcase_add_test(tc, address_rule);
	tcase_add_test(tc, retry_after);
	tcase_add_test(tc, vers_body_is_the_event_and_its_repository);
	tcase_add_test(tc, gitlab_body);
	tcase_add_test(tc, matches);
	tcase_add_test(tc, urls_and_secrets);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(make_suite)
