/*
 * Unit tests: log.c - line formats, levels, the log file and journald prefixes,
 * and the asynchronous sink: every line out, in order, at stop and across a reopen.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"

/* Send the log to a fresh file; returns its path (caller frees). */
static char *log_to_file(void)
{
	char *path = tu_db_path();
	char *err = NULL;
	ck_assert_msg(log_open_file(path, &err), "%s", err ? err : "");
	return path;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(logfmt_lines)
{
	unsetenv("JOURNAL_STREAM");
	char *path = log_to_file();
	log_set_level(LOG_INFO);
	log_set_format(LOG_FORMAT_LOGFMT);
	log_msg(LOG_DEBUG, "hidden", NULL);
	log_msg(LOG_INFO, "hello", "n=%d who=\"%s\"", 3, "a\nb");
	const char *text = slurp(path);
	ck_assert_ptr_null(strstr(text, "hidden"));
	ck_assert_ptr_nonnull(strstr(text, " level=info msg=\"hello\" n=3 who=\"a b\"\n"));
	ck_assert_int_eq(strncmp(text, "time=", 5), 0);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(json_lines)
{
	unsetenv("JOURNAL_STREAM");
	char *path = log_to_file();
	json_error_t jerr;
	log_set_format(LOG_FORMAT_JSON);
	log_msg(LOG_WARN, "a \"quoted\" msg", "error=\"%s\" n=%d ms=%.3f id=%s zero=0 lead=007",
	        "near \"x\" = y", -12, 1.5, "abc-1");
	json_t *doc = json_loads(slurp(path), 0, &jerr);
	ck_assert_msg(doc != NULL, "%s: %s", jerr.text, slurp(path));
	ck_assert_str_eq(json_string_value(json_object_get(doc, "level")), "warn");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "msg")), "a \"quoted\" msg");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "error")), "near \"x\" = y");
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "n")), -12);
	ck_assert(json_is_real(json_object_get(doc, "ms")));
	ck_assert_str_eq(json_string_value(json_object_get(doc, "id")), "abc-1");
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "zero")), 0);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "lead")), "007");
	json_decref(doc);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(journald_prefix_and_reopen)
{
	char *path = tu_db_path();
	char *moved = NULL;
	char *err = NULL;
	struct stat st;
	char js[64];

	/* Create the file first so JOURNAL_STREAM can name it, as journald names its socket. */
	ck_assert(log_open_file(path, &err));
	ck_assert_int_eq(stat(path, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	ck_assert(log_open_file(path, &err));
	log_set_format(LOG_FORMAT_LOGFMT);
	log_set_level(LOG_DEBUG);
	log_msg(LOG_ERROR, "bad", NULL);
	log_msg(LOG_DEBUG, "detail", NULL);
	const char *text = slurp(path);
	ck_assert_int_eq(strncmp(text, "<3>time=", 8), 0);
	ck_assert_ptr_nonnull(strstr(text, "\n<7>time="));

	/* Rotation: move the file away, reopen, the next line goes to a new file. */
	ck_assert_int_ge(asprintf(&moved, "%s.1", path), 0);
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert(log_open_file(path, &err));
	log_msg(LOG_INFO, "after", NULL);
	text = slurp(path);
	ck_assert_int_eq(strncmp(text, "time=", 5), 0); /* a new inode: no longer journald's */
	ck_assert_ptr_null(strstr(slurp(moved), "after"));
	ck_assert(!log_open_file("/nonexistent/dir/x.log", &err));
	ck_assert_ptr_nonnull(strstr(err, "cannot open log file"));
	free(err);
	unlink(moved);
	unlink(path);
	free(moved);
	free(path);
}
END_TEST

#define SINK_THREADS 4
#define SINK_LINES   20000 /* per thread: several buffers' worth, so appenders flush too */

static void *log_lines(void *arg)
{
	int t = (int)(intptr_t)arg;
	for (int i = 0; i < SINK_LINES; i++)
		log_msg(LOG_INFO, "line", "t=%d i=%d", t, i);
	return NULL;
}

/* Every line of log_lines in text, once, each thread's in order. */
static void all_lines_in_order(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int next[SINK_THREADS] = {0};
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *p = strstr(line, "msg=\"line\" t=");
		int t, i;
		if (p == NULL || sscanf(p, "msg=\"line\" t=%d i=%d", &t, &i) != 2)
			continue;
		ck_assert_int_lt(t, SINK_THREADS);
		ck_assert_msg(i == next[t], "thread %d: line %d after %d", t, i, next[t] - 1);
		next[t]++;
	}
	fclose(f);
	for (int t = 0; t < SINK_THREADS; t++)
		ck_assert_int_eq(next[t], SINK_LINES);
}

START_TEST(async_sink_loses_nothing)
{
	unsetenv("JOURNAL_STREAM");
	log_set_level(LOG_INFO);
	log_set_format(LOG_FORMAT_LOGFMT);
	char *path = log_to_file();
	ck_assert(log_async_start());
	pthread_t th[SINK_THREADS];
	for (int t = 0; t < SINK_THREADS; t++)
		ck_assert_int_eq(pthread_create(&th[t], NULL, log_lines, (void *)(intptr_t)t), 0);
	for (int t = 0; t < SINK_THREADS; t++)
		pthread_join(th[t], NULL);
	log_async_stop();
	all_lines_in_order(path);
	unlink(path);
	free(path);
	/* Direct writes again after the stop. */
	path = log_to_file();
	log_msg(LOG_INFO, "after", NULL);
	ck_assert_ptr_nonnull(strstr(slurp(path), "msg=\"after\""));
	unlink(path);
	free(path);
}
END_TEST

START_TEST(async_sink_reopen_writes_out_first)
{
	unsetenv("JOURNAL_STREAM");
	log_set_level(LOG_INFO);
	char *path = log_to_file();
	char *moved = tu_db_path();
	char *err = NULL;
	ck_assert(log_async_start());
	log_msg(LOG_INFO, "before the move", NULL); /* buffered: info lines wait */
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert(log_open_file(path, &err));
	log_msg(LOG_INFO, "after the move", NULL);
	log_flush();
	ck_assert_ptr_nonnull(strstr(slurp(moved), "before the move"));
	ck_assert_ptr_null(strstr(slurp(moved), "after the move"));
	ck_assert_ptr_nonnull(strstr(slurp(path), "after the move"));
	ck_assert_ptr_null(strstr(slurp(path), "before the move"));
	/* A warning is out before log_msg returns. */
	log_msg(LOG_WARN, "at once", NULL);
	ck_assert_ptr_nonnull(strstr(slurp(path), "at once"));
	log_async_stop();
	unlink(path);
	unlink(moved);
	free(path);
	free(moved);
}
END_TEST

START_TEST(parse_names)
{
	enum log_level l;
	enum log_format f;
	ck_assert(log_level_parse("warn", &l) && l == LOG_WARN);
	ck_assert(!log_level_parse("WARN", &l));
	ck_assert(log_format_parse("json", &f) && f == LOG_FORMAT_JSON);
	ck_assert(!log_format_parse("xml", &f));
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, logfmt_lines);
	tcase_add_test(tc, json_lines);
	tcase_add_test(tc, journald_prefix_and_reopen);
	tcase_add_test(tc, parse_names);
	tcase_add_test(tc, async_sink_loses_nothing);
	tcase_add_test(tc, async_sink_reopen_writes_out_first);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(log_suite)
