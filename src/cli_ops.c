/*
 * cli_ops.c - config check, backup, db check.  See cli_ops.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_ops.h"
#include "config.h"
#include "store_admin.h"

static const char USAGE_CONFIG[] = "tagd config check [--config PATH] [--KEY VALUE]...";
static const char USAGE_BACKUP[] = "tagd backup --out FILE [--db PATH]";
static const char USAGE_DB_CHECK[] = "tagd db check [--db PATH]";

bool cli_ops_handles(const char *word)
{
	return strcmp(word, "config") == 0 || strcmp(word, "backup") == 0 ||
	       strcmp(word, "db") == 0;
}

void cli_ops_usage(FILE *f)
{
	fprintf(f, "  %s   print the effective configuration\n", USAGE_CONFIG);
	fprintf(f, "  %s   online, consistent copy of the database\n", USAGE_BACKUP);
	fprintf(f, "  %s   integrity and foreign-key check\n", USAGE_DB_CHECK);
}

static void print_lines(const char *prefix, const char *text)
{
	while (text != NULL && *text != '\0') {
		size_t n = strcspn(text, "\n");
		fprintf(stderr, "%s%.*s\n", prefix, (int)n, text);
		text += n + (text[n] == '\n');
	}
}

/* tagd config check: the same sources as serve, printed; non-zero when refused. */
static int config_check(int argc, char **argv)
{
	struct config_args args;
	struct config cfg;
	char *err = NULL;

	if (!config_parse_args(argc, argv, &args, &err)) {
		fprintf(stderr, "tagd config check: %s\nusage: %s\n", err ? err : "out of memory",
		        USAGE_CONFIG);
		free(err);
		return 2;
	}
	if (args.help) {
		printf("usage: %s\nValidate the configuration (file, TAGD_* environment, flags) "
		       "and print the result.\n",
		       USAGE_CONFIG);
		return 0;
	}
	if (!config_load(&cfg, &args, &err)) {
		print_lines("tagd config check: ", err ? err : "out of memory");
		free(err);
		return 1;
	}
	config_print(&cfg, stdout);
	config_release(&cfg);
	return 0;
}

/* Options --db and, for backup, --out; returns false (after printing) on bad usage. */
static bool db_options(int argc, char **argv, const char *usage, bool want_out, const char **db,
                       const char **out, bool *help)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"out", required_argument, NULL, 'o'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *db_flag = NULL;
	int opt;

	*out = NULL;
	*help = false;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'd') {
			db_flag = optarg;
		} else if (opt == 'o' && want_out) {
			*out = optarg;
		} else if (opt == 'h') {
			*help = true;
			printf("usage: %s\n", usage);
			return true;
		} else {
			fprintf(stderr, "usage: %s\n", usage);
			return false;
		}
	}
	if (optind != argc || (want_out && *out == NULL)) {
		fprintf(stderr, "usage: %s\n", usage);
		return false;
	}
	*db = cli_db_path(db_flag);
	return true;
}

static int backup(int argc, char **argv)
{
	const char *db, *out;
	bool help;
	char *err = NULL;

	if (!db_options(argc, argv, USAGE_BACKUP, true, &db, &out, &help))
		return 2;
	if (help)
		return 0;
	if (!store_backup(db, out, &err)) {
		fprintf(stderr, "tagd backup: %s\n", err ? err : "out of memory");
		free(err);
		return 1;
	}
	fprintf(stderr, "tagd backup: %s copied to %s\n", db, out);
	return 0;
}

static void report_problem(void *arg, const char *problem)
{
	printf("%s\n", problem);
}

static int db_check(int argc, char **argv)
{
	const char *db, *out;
	bool help;
	char *err = NULL;

	if (argc < 2 || strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "usage: %s\n", USAGE_DB_CHECK);
		return 2;
	}
	if (!db_options(argc - 1, argv + 1, USAGE_DB_CHECK, false, &db, &out, &help))
		return 2;
	if (help)
		return 0;
	long problems = store_check(db, report_problem, NULL, &err);
	if (problems < 0) {
		fprintf(stderr, "tagd db check: %s\n", err ? err : "out of memory");
		free(err);
		return 1;
	}
	if (problems > 0) {
		fprintf(stderr, "tagd db check: %s: %ld problem%s\n", db, problems,
		        problems == 1 ? "" : "s");
		return 1;
	}
	printf("ok\n");
	return 0;
}

int cli_ops_main(int argc, char **argv)
{
	if (strcmp(argv[0], "backup") == 0)
		return backup(argc, argv);
	if (strcmp(argv[0], "db") == 0)
		return db_check(argc, argv);
	if (argc < 2 || strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "usage: %s\n", USAGE_CONFIG);
		return 2;
	}
	return config_check(argc - 1, argv + 1);
}
