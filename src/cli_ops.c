/*
 * cli_ops.c - the daemon and the operator's maintenance commands: serve,
 * config check, backup, db check, and help and version.  See cli_internal.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "config.h"
#include "serve.h"
#include "log.h"
#include "store_admin.h"
#include "store_copy.h"
#include "version.h"

static void print_lines(const char *prefix, const char *text)
{
	while (text != NULL && *text != '\0') {
		size_t n = strcspn(text, "\n");
		fprintf(stderr, "%s%.*s\n", prefix, (int)n, text);
		text += n + (text[n] == '\n');
	}
}

static int serve(struct cli_ctx *ctx)
{
	return serve_run(ctx->config_args);
}

/* tagd config check: the same sources as serve, printed; non-zero when refused. */
static int config_check(struct cli_ctx *ctx)
{
	struct config cfg;
	char *err = NULL;

	if (!config_load(&cfg, ctx->config_args, &err)) {
		print_lines("tagd config check: ", err ? err : "out of memory");
		free(err);
		return CLI_EXIT_FAIL;
	}
	config_print(&cfg, stdout);
	config_release(&cfg);
	return CLI_EXIT_OK;
}

static int backup(struct cli_ctx *ctx)
{
	char *err = NULL;
	const char *out = cli_value(ctx, "out");

	if (!store_backup(ctx->db, out, &err)) {
		cli_fail(ctx, CLI_EXIT_FAIL, "%s", err ? err : "out of memory");
		free(err);
		return CLI_EXIT_FAIL;
	}
	fprintf(stderr, "tagd backup: %s copied to %s\n", ctx->db, out);
	return CLI_EXIT_OK;
}

static void report_problem(void *arg, const char *problem)
{
	printf("%s\n", problem);
}

static int db_check(struct cli_ctx *ctx)
{
	char *err = NULL;
	long problems = store_check(ctx->db, report_problem, NULL, &err);

	if (problems < 0) {
		cli_fail(ctx, CLI_EXIT_FAIL, "%s", err ? err : "out of memory");
		free(err);
		return CLI_EXIT_FAIL;
	}
	if (problems > 0)
		return cli_fail(ctx, CLI_EXIT_FAIL, "%s: %ld problem%s", ctx->db, problems,
		                problems == 1 ? "" : "s");
	printf("ok\n");
	return CLI_EXIT_OK;
}

/* tagd db copy: one database into a new one (SQLite to PostgreSQL), verified. */
static int db_copy(struct cli_ctx *ctx)
{
	const char *from_path = cli_value(ctx, "from"), *to_path = cli_value(ctx, "to");
	if (strcmp(from_path, to_path) == 0)
		return cli_fail(ctx, CLI_EXIT_USAGE, "--from and --to are the same database");

	char *err = NULL;
	int rc = CLI_EXIT_FAIL;
	log_set_level(LOG_WARN);
	struct store *from = store_open(from_path, NULL, &err), *to = NULL;
	if (from == NULL) {
		cli_fail(ctx, rc, "%s: %s", from_path, err ? err : "out of memory");
		goto out;
	}
	to = store_open(to_path, NULL, &err);
	if (to == NULL) {
		cli_fail(ctx, rc, "%s: %s", to_path, err ? err : "out of memory");
		goto out;
	}
	struct store_copy_report r;
	if (!store_copy(from, to, &r, &err)) {
		cli_fail(ctx, rc, "%s", err ? err : "out of memory");
		goto out;
	}
	printf("copied %lld rows of %lld tables; verified %lld rows and %lld history chains\n",
	       (long long)r.rows, (long long)r.tables, (long long)r.verified, (long long)r.chains);
	rc = CLI_EXIT_OK;
out:
	free(err);
	store_close(&to);
	store_close(&from);
	return rc;
}

static int version(struct cli_ctx *ctx)
{
	printf("tagd %s\n", TAGD_VERSION);
	return CLI_EXIT_OK;
}

static const struct cli_flag no_flags[] = {
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag backup_flags[] = {
        {"out", "FILE", "where the copy goes (written to FILE.partial, then renamed)",
         CLI_REQUIRED},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag copy_flags[] = {
        {"from", "DB", "the database to copy: a SQLite file (or a PostgreSQL URI)", CLI_REQUIRED},
        {"to", "DB", "a new, empty database: a PostgreSQL URI (or a SQLite file)", CLI_REQUIRED},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag help_flags[] = {
        {"json", NULL, "every command, flag and configuration key, as one JSON document", 0},
        {NULL, NULL, NULL, 0},
};

const struct cli_command cli_ops_commands[] = {
        {"serve", NULL, 0, "Serve the Vers and ServiceStage tag APIs.",
         "Each key is a flag --KEY VALUE (the key with '-' for '_'), else TAGD_<KEY> in the\n"
         "environment, else the configuration file, else its default.  'tagd config check'\n"
         "prints the result.",
         CLI_KEYS, no_flags, serve},
        {"config check", NULL, 0,
         "Validate the configuration (file, TAGD_* environment, flags) and print the result.",
         "Each line is one key, its value and where the value comes from; any error exits 1.",
         CLI_KEYS, no_flags, config_check},
        {"backup", NULL, 0, "Copy the database online: one consistent snapshot, while tagd serves.",
         NULL, CLI_DB_PATH, backup_flags, backup},
        {"db check", NULL, 0,
         "Check the database's integrity and foreign keys; prints \"ok\", or each problem.", NULL,
         CLI_DB_PATH, no_flags, db_check},
        {"db copy", NULL, 0,
         "Copy a database into a new, empty one (SQLite to PostgreSQL), then verify it.",
         "Every row keeps its id and times, so tokens keep working and the history chain\n"
         "stays intact; all of it is copied in one transaction, or nothing.  Afterwards\n"
         "both are compared row by row and every history chain is verified on the copy.\n"
         "Stop tagd first: rows written to the source meanwhile are not copied.",
         CLI_STANDALONE, copy_flags, db_copy},
        {"help", "[COMMAND]", CLI_ANY_ARGS, "Print the usage, or a command's help.", NULL,
         CLI_STANDALONE, help_flags, cli_help},
        {"version", NULL, 0, "Print tagd's version.", NULL, CLI_STANDALONE, no_flags, version},
};

const size_t cli_ops_count = sizeof(cli_ops_commands) / sizeof(cli_ops_commands[0]);
