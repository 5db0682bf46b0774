/*
 * Private to cli*.c: the declarative command table and what a command's
 * body gets.
 *
 * A command is one row of a table: its name ("token create"), positional
 * arguments, one-line summary, what it needs (the database, its path, the
 * configuration keys) and its flags, each with a one-line help.  From the
 * rows, cli.c parses the command line (an unknown or repeated flag is an
 * error), prints every --help and the usage, and lists everything for
 * "tagd help --json", which the documentation tests read: a command or flag
 * added here must be documented in README.md and packaging/tagd.8.
 *
 * A module with commands exports one table (cli_admin.c, cli_ops.c,
 * cli_history.c, cli_protect.c, cli_hooks.c); cli.c
 * lists the tables.
 */
#ifndef TAGD_CLI_INTERNAL_H
#define TAGD_CLI_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "store.h"

/* Exit statuses (README "Exit status", tagd(8) EXIT STATUS). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,      /* refused or failed: bad value, configuration, database */
	CLI_EXIT_USAGE = 2,     /* the command line is wrong: unknown command or flag, ... */
	CLI_EXIT_EXISTS = 3,    /* what should be created exists already */
	CLI_EXIT_NOT_FOUND = 4, /* the organization, token or authorization named is not there */
};

/* Flag options. */
#define CLI_REQUIRED 1u /* must be given */
#define CLI_REPEAT   2u /* may be given more than once (cli_values) */

struct cli_flag {
	const char *name;  /* without the leading "--"; NULL ends a table */
	const char *value; /* the value's placeholder ("NAME"); NULL: a switch, no value */
	const char *help;  /* one line */
	unsigned opts;
};

/* What a command needs before its body runs. */
enum cli_kind {
	/*
	 * The database, opened: the path is --db, else $TAGD_DB, else the db of
	 * the configuration file (--config PATH, else $TAGD_CONFIG, else
	 * /etc/tagd/tagd.conf), as serve finds it.  Takes --config and --db.
	 */
	CLI_STORE,
	CLI_DB_PATH, /* the same path, not opened (backup, db check) */
	CLI_KEYS, /* --config and --KEY VALUE for every configuration key (serve, config check) */
	CLI_STANDALONE, /* only its own flags */
};

/* Positional arguments: exactly nargs, or any number. */
#define CLI_ANY_ARGS (-1)

struct cli_ctx;

struct cli_command {
	const char *name;    /* one or two words: "serve", "token create" */
	const char *args;    /* the positional arguments in the synopsis ("NAME"); NULL: none */
	int nargs;           /* how many, or CLI_ANY_ARGS */
	const char *summary; /* one line */
	const char *details; /* further lines for --help; NULL: none */
	enum cli_kind kind;
	const struct cli_flag *flags; /* its own flags (not --config, --db, --help) */
	int (*run)(struct cli_ctx *ctx);
};

#define CLI_MAX_FLAGS 16

/* What a command's body gets.  Everything is borrowed and lives until it returns. */
struct cli_ctx {
	const struct cli_command *cmd;
	char **args; /* the positional arguments */
	size_t nargs;
	struct store *store;                   /* CLI_STORE */
	const char *db;                        /* CLI_STORE, CLI_DB_PATH */
	const struct config_args *config_args; /* CLI_KEYS */

	/* The flags given, by index in cmd->flags; read them with the functions below. */
	const char **values[CLI_MAX_FLAGS]; /* NULL-terminated, one entry unless CLI_REPEAT */
	size_t nvalues[CLI_MAX_FLAGS];
};

/* The value of --flag; NULL when it was not given.  For a switch, "" when given. */
const char *cli_value(const struct cli_ctx *ctx, const char *flag);

/* Whether the switch --flag was given. */
bool cli_switch(const struct cli_ctx *ctx, const char *flag);

/* Every value of a CLI_REPEAT flag, in order, NULL-terminated; *n of them. */
const char *const *cli_values(const struct cli_ctx *ctx, const char *flag, size_t *n);

/* Print "tagd COMMAND: message" on stderr (one line); returns status. */
int cli_fail(const struct cli_ctx *ctx, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/*
 * The id of the organization --org names into *id; CLI_EXIT_OK, or the
 * exit status after printing why (CLI_EXIT_NOT_FOUND when there is none).
 */
int cli_org_id(const struct cli_ctx *ctx, int64_t *id);

/* cli_fail with a store status's text, status CLI_EXIT_FAIL. */
int cli_fail_store(const struct cli_ctx *ctx, enum store_status st);

/* Print v (stolen) as one line of JSON on stdout; CLI_EXIT_FAIL when out of memory. */
int cli_print_json(const struct cli_ctx *ctx, json_t *v);

/* An RFC 3339 time as JSON, null for 0. */
json_t *cli_json_time(int64_t us);

/* The tables, and their sizes. */
extern const struct cli_command cli_admin_commands[];
extern const size_t cli_admin_count;
extern const struct cli_command cli_ops_commands[];
extern const size_t cli_ops_count;
extern const struct cli_command cli_history_commands[];
extern const size_t cli_history_count;
extern const struct cli_command cli_protect_commands[];
extern const size_t cli_protect_count;
extern const struct cli_command cli_hooks_commands[];
extern const size_t cli_hooks_count;

/* "tagd help [--json] [COMMAND...]" (cli.c). */
int cli_help(struct cli_ctx *ctx);

#endif
