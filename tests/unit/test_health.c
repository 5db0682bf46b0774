/* Unit tests: health_api.c and metrics.c - readiness states and the exposition. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "health_api.h"
#include "metrics.h"
#include "store_admin.h"
#include "testutil.h"

static void get(struct app *a, const char *path, int want_status, const char *want_body)
{
	struct call c;
	tu_run(a, &c, "GET", path, NULL, NULL);
	ck_assert_int_eq(c.status, want_status);
	if (want_body != NULL) {
		ck_assert_uint_eq(c.resp_len, strlen(want_body));
		ck_assert(memcmp(c.resp_body, want_body, c.resp_len) == 0);
	}
	tu_call_done(&c);
}

START_TEST(readiness_follows_the_state)
{
	char *path;
	struct store *s = tu_store(&path);
	struct app *a = app_new(s, NULL);

	health_set_state(HEALTH_STARTING);
	get(a, "/readyz", 503, "starting\n");
	get(a, "/livez", 200, "ok\n");
	health_set_state(HEALTH_READY);
	get(a, "/readyz", 200, "ready\n");
	health_set_state(HEALTH_DRAINING);
	get(a, "/readyz", 503, "draining\n");
	get(a, "/livez", 200, "ok\n");
	app_free(&a);
	tu_store_done(&s, path);
}
END_TEST

START_TEST(metrics_text)
{
	char *path;
	char token[128];
	struct store *s = tu_store(&path);
	struct app *a = app_new(s, NULL);
	tu_org(s, "acme", NULL, token);

	struct call c;
	tu_run(a, &c, "GET", "/metrics", NULL, NULL);
	ck_assert_int_eq(c.status, 200);
	ck_assert_str_eq(c.resp_type, "text/plain; version=0.0.4; charset=utf-8");
	char *text = strndup(c.resp_body, c.resp_len);
	ck_assert_ptr_nonnull(strstr(text, "# TYPE tagd_db_write_duration_seconds histogram\n"));
	ck_assert_ptr_nonnull(strstr(text, "tagd_db_write_operations_total 2\n")); /* org, token */
	ck_assert_ptr_nonnull(strstr(text, "tagd_organizations 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "tagd_db_write_batch_operations_bucket{le=\"+Inf\"} "));
	ck_assert_ptr_null(strstr(text, token));
	free(text);
	tu_call_done(&c);
	app_free(&a);
	tu_store_done(&s, path);
}
END_TEST

static const char ROUTE_A[] = "/api/v1/unit-a";

static void *hammer(void *arg)
{
	for (int i = 0; i < 20000; i++) {
		metrics_request_started();
		metrics_request_done(ROUTE_A, ROUTE_A, CALL_POST, 201, (uint64_t)(i % 3000));
	}
	return NULL;
}

START_TEST(counters_are_exact_under_contention)
{
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	metrics_request_started();
	metrics_request_done(NULL, "/api/v1/nowhere", CALL_GET, 404, 10);

	struct dynbuf t;
	dynbuf_init(&t, METRICS_TEXT_MAX);
	metrics_render_http(&t);
	ck_assert(!dynbuf_failed(&t));
	char *text = t.buf;
	ck_assert_ptr_nonnull(strstr(text,
	                             "tagd_http_requests_total{dialect=\"vers\",route=\""
	                             "/api/v1/unit-a\",method=\"POST\",status=\"201\"} 80000\n"));
	ck_assert_ptr_nonnull(strstr(text,
	                             "tagd_http_request_duration_seconds_count{dialect=\"vers\","
	                             "route=\"/api/v1/unit-a\",method=\"POST\",status=\"201\"} "
	                             "80000\n"));
	ck_assert_ptr_nonnull(
	        strstr(text, "route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "tagd_http_requests_in_flight 0\n"));
	dynbuf_release(&t);
}
END_TEST

static Suite *health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, readiness_follows_the_state);
	tcase_add_test(tc, metrics_text);
	tcase_add_test(tc, counters_are_exact_under_contention);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(health_suite)
