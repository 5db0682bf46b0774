/* Unit tests: config.c - the key table, the file parser and precedence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

/* Write text to a fresh file; returns its path (caller frees). */
static char *write_conf(const char *text)
{
	char *path = tu_db_path();
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void clear_env(void)
{
	unsetenv("TAGD_CONFIG");
	for (size_t i = 0; i < config_key_count(); i++) {
		char name[64] = "TAGD_";
		const char *k = config_key_name(config_key_at(i));
		for (size_t j = 0; k[j] != '\0'; j++)
			name[5 + j] = (char)(k[j] >= 'a' && k[j] <= 'z' ? k[j] - 'a' + 'A' : k[j]);
		unsetenv(name);
	}
}

/* Load the file holding text; returns the error (caller frees) or NULL when accepted. */
static char *load_text(const char *text, struct config *cfg)
{
	char *path = write_conf(text);
	struct config_args args = {.config_path = path};
	char *err = NULL;
	clear_env();
	bool ok = config_load(cfg, &args, &err);
	unlink(path);
	free(path);
	ck_assert(ok == (err == NULL));
	return err;
}

/* Data-driven: a file, and the error it must give ("" when it is accepted). */
static const struct {
	const char *text;
	const char *error;
} file_cases[] = {
        {"", ""},
        {"# only a comment\n\n   \n", ""},
        {"threads = 4\n", ""},
        {"threads=4   # trailing comment\n", ""},
        {"clone_base_url = \"https://h.example/#frag\"\n", ""},
        {"max_body = 64K\n", ""},
        {"connection_timeout = 15s\n", ""},
        {"listen = [::1]:0, 127.0.0.1:9\n", ""},
        {"listen = :8080\n", ""},
        {"listen = localhost:8080\n", ""},
        {"listen = tagd-1.example.com:80, [::1]:0\n", ""},
        {"listen = 10.0.0.1:80\n", ""},
        {"clone_base_url = https://h.example/a@b\n", ""},
        {"listen = -bad.example:80\n", ":1: listen takes HOST:PORT"},
        {"listen = bad-.example:80\n", ":1: listen takes HOST:PORT"},
        {"listen = a..b:80\n", ":1: listen takes HOST:PORT"},
        {"listen = host_x:80\n", ":1: listen takes HOST:PORT"},
        {"listen = 1.2.3:80\n", ":1: listen takes HOST:PORT"},
        {"listen = 256.1.1.1:80\n", ":1: listen takes HOST:PORT"},
        {"listen = [nothex]:80\n", ":1: listen takes HOST:PORT"},
        {"listen = [127.0.0.1]:80\n", ":1: listen takes HOST:PORT"},
        {"clone_base_url = https://robot:pw@h.example\n",
         ":1: clone_base_url must not contain user information"},
        {"clone_base_url = http://robot@h.example:8080/git\n",
         ":1: clone_base_url must not contain user information"},
        {"nope = 1\n", ":1: unknown key 'nope'"},
        {"\nthreads\n", ":2: expected 'key = value'"},
        {"threads = 257\n", ":1: threads takes a whole number from 0 to 256, not '257'"},
        {"threads = 4x\n", ":1: threads takes a whole number"},
        {"threads = -1\n", ":1: threads takes a whole number"},
        {"threads = 99999999999999999999999\n", ":1: threads takes a whole number"},
        {"max_body = 2G\n", ":1: max_body takes a byte count"},
        {"max_body = 0\n", ":1: max_body takes a byte count"},
        {"synchronous = off\n", ":1: synchronous takes one of full, normal; not 'off'"},
        {"log_level = verbose\n", ":1: log_level takes one of debug, info, warn, error"},
        {"listen = localhost\n", ":1: listen takes HOST:PORT"},
        {"listen = 8080\n", ":1: listen takes HOST:PORT"},
        {"listen = 127.0.0.1\n", ":1: listen takes HOST:PORT"},
        {"listen = 127.0.0.1:\n", ":1: listen takes HOST:PORT"},
        {"listen = 127.0.0.1:65536\n", ":1: listen takes HOST:PORT"},
        {"listen = 127.0.0.1:-1\n", ":1: listen takes HOST:PORT"},
        {"listen = 127.0.0.1:+80\n", ":1: listen takes HOST:PORT"},
        {"listen = 127.0.0.1:80x\n", ":1: listen takes HOST:PORT"},
        {"listen = 127.0.0.1:0x50\n", ":1: listen takes HOST:PORT"},
        {"listen = [::1]\n", ":1: listen takes HOST:PORT"},
        {"listen = [::1]8080\n", ":1: listen takes HOST:PORT"},
        {"listen = [::1:8080\n", ":1: listen takes HOST:PORT"},
        {"listen = ::1:8080:\n", ":1: listen takes HOST:PORT"},
        {"listen = 127.0.0.1:99999999999999999999\n", ":1: listen takes HOST:PORT"},
        {"listen = "
         "averyveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryvery"
         "veryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryv"
         "eryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryverylonghost:80\n",
         ":1: listen takes HOST:PORT"},
        {"listen = 1:2:3\n", ":1: listen takes HOST:PORT"},
        {"listen = 127.0.0.1:0,,127.0.0.1:1\n", ":1: listen takes HOST:PORT"},
        {"listen = 127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,127.0.0.1:5,127.0.0.1:6,"
         "127.0.0.1:7,127.0.0.1:8,127.0.0.1:9\n",
         ":1: listen takes at most 8 addresses"},
        {"db = \n", ":1: db must not be empty"},
        {"db = \"unterminated\n", ":1: unterminated quoted value"},
        {"db = \"a\" b\n", ":1: text after the quoted value"},
        {"clone_base_url = git.example.com\n", ":1: clone_base_url takes an http:// or https://"},
        {"threads = 1\nthreads = 2\n", ":2: 'threads' is set twice (first on line 1)"},
};

START_TEST(file_cases_table)
{
	struct config cfg;
	char *err = load_text(file_cases[_i].text, &cfg);
	if (file_cases[_i].error[0] == '\0') {
		ck_assert_msg(err == NULL, "case %d: %s", _i, err);
		config_release(&cfg);
	} else {
		ck_assert_msg(err != NULL && strstr(err, file_cases[_i].error) != NULL,
		              "case %d: want '%s', got '%s'", _i, file_cases[_i].error,
		              err ? err : "(accepted)");
		free(err);
	}
}
END_TEST

START_TEST(every_error_is_reported)
{
	struct config cfg;
	char *err = load_text("a = 1\nthreads = x\nb = 2\n", &cfg);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err, ":1: unknown key 'a'"));
	ck_assert_ptr_nonnull(strstr(err, ":2: threads"));
	ck_assert_ptr_nonnull(strstr(err, ":3: unknown key 'b'"));
	free(err);
}
END_TEST

START_TEST(values_are_typed)
{
	struct config cfg;
	char *err = load_text("listen = [::1]:0, :9\nmax_body = 64K\nsynchronous = normal\n"
	                      "log_format = json\nclone_base_url = https://h.example//\n",
	                      &cfg);
	ck_assert_ptr_null(err);
	ck_assert_uint_eq(cfg.nlisten, 2);
	ck_assert_str_eq(cfg.listen[0].host, "::1");
	ck_assert_uint_eq(cfg.listen[1].port, 9);
	ck_assert_str_eq(cfg.listen[1].host, "127.0.0.1");
	ck_assert_uint_eq(cfg.max_body, 65536);
	ck_assert_uint_eq(cfg.synchronous, CONFIG_SYNC_NORMAL);
	ck_assert_uint_eq(cfg.log_format, LOG_FORMAT_JSON);
	ck_assert_str_eq(cfg.clone_base_url, "https://h.example");
	ck_assert_uint_eq(cfg.connection_timeout, 30); /* default */
	ck_assert_str_eq(cfg.db, "/var/lib/tagd/tagd.db");
	config_release(&cfg);
}
END_TEST

START_TEST(precedence)
{
	char *path = write_conf("threads = 2\nmax_body = 100\nlog_level = warn\n");
	struct config_args args = {.config_path = path};
	struct config cfg;
	char *err = NULL;

	clear_env();
	setenv("TAGD_THREADS", "3", 1);
	setenv("TAGD_MAX_BODY", "200", 1);
	ck_assert(config_args_set(&args, config_key_find("threads"), "4", &err));
	ck_assert(config_load(&cfg, &args, &err));
	ck_assert_uint_eq(cfg.threads, 4);           /* flag */
	ck_assert_uint_eq(cfg.max_body, 200);        /* environment */
	ck_assert_uint_eq(cfg.log_level, LOG_WARN);  /* file */
	ck_assert_uint_eq(cfg.shutdown_timeout, 10); /* default */
	config_release(&cfg);
	unlink(path);
	free(path);
}
END_TEST

/* A credential in clone_base_url is refused without being echoed. */
START_TEST(url_credentials_not_echoed)
{
	struct config cfg;
	char *err = load_text("clone_base_url = https://robot:s3cr3t@git.example\n", &cfg);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_null(strstr(err, "s3cr3t"));
	ck_assert_ptr_null(strstr(err, "robot"));
	free(err);
}
END_TEST

START_TEST(missing_files)
{
	struct config_args args = {.config_path = "/nonexistent/tagd.conf"};
	struct config cfg;
	char *err = NULL;

	clear_env();
	ck_assert(!config_load(&cfg, &args, &err));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/tagd.conf: cannot read"));
	free(err);
	/* The same file named by TAGD_CONFIG is just as explicit. */
	args.config_path = NULL;
	setenv("TAGD_CONFIG", "/nonexistent/tagd.conf", 1);
	ck_assert(!config_load(&cfg, &args, &err));
	free(err);
}
END_TEST

START_TEST(args)
{
	struct config_args a = {0};
	char *err = NULL;
	ck_assert(config_args_set(&a, config_key_find("max-connections-per-ip"), "5", &err));
	ck_assert_uint_eq(a.nset, 1);
	ck_assert_str_eq(config_key_name(a.set[0].key), "max_connections_per_ip");
	ck_assert_str_eq(a.set[0].value, "5");
	/* A flag given twice is refused, whatever the values. */
	ck_assert(!config_args_set(&a, config_key_find("max_connections_per_ip"), "5", &err));
	ck_assert_str_eq(err, "option '--max-connections-per-ip' is given twice");
	free(err);
	ck_assert_uint_eq(a.nset, 1);
}
END_TEST

START_TEST(reload_diff)
{
	struct config a, b;
	char *err = load_text("max_body = 100\n", &a);
	ck_assert_ptr_null(err);
	err = load_text("max_body = 200\n", &b);
	ck_assert_ptr_null(err);
	size_t changed = 0;
	for (size_t i = 0; i < config_key_count(); i++) {
		if (config_key_changed(&a, &b, i)) {
			changed++;
			ck_assert_str_eq(config_key_name(config_key_at(i)), "max_body");
			ck_assert(config_key_reloadable(config_key_at(i)));
		}
	}
	ck_assert_uint_eq(changed, 1);
	ck_assert(!config_key_reloadable(config_key_find("listen")));
	ck_assert_ptr_eq(config_key_find("max-body"), config_key_find("max_body"));
	ck_assert_ptr_null(config_key_find("nope"));
	config_release(&a);
	config_release(&b);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, file_cases_table, 0,
	                    (int)(sizeof(file_cases) / sizeof(file_cases[0])));
	tcase_add_test(tc, every_error_is_reported);
	tcase_add_test(tc, values_are_typed);
	tcase_add_test(tc, precedence);
	tcase_add_test(tc, url_credentials_not_echoed);
	tcase_add_test(tc, missing_files);
	tcase_add_test(tc, args);
	tcase_add_test(tc, reload_diff);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(config_suite)
