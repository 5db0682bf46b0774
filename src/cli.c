/*
 * cli.c - the command line: the command tables, parsing, help, and what
 * each kind of command needs before it runs.  See cli.h and cli_internal.h.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_internal.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "store_org.h"

/* Every module's commands; "tagd help" lists them in this order. */
static const struct {
	const struct cli_command *commands;
	const size_t *count;
} tables[] = {
        {.commands = cli_ops_commands, .count = &cli_ops_count},
        {.commands = cli_admin_commands, .count = &cli_admin_count},
        {.commands = cli_history_commands, .count = &cli_history_count},
        {.commands = cli_protect_commands, .count = &cli_protect_count},
        {.commands = cli_hooks_commands, .count = &cli_hooks_count},
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

/* The flags cli.c adds to a command of each kind (the same text everywhere). */
static const struct cli_flag flag_config = {
        "config", "PATH",
        "the configuration file (default: $TAGD_CONFIG, else " CONFIG_DEFAULT_PATH
        ", which may be missing)",
        0};
static const struct cli_flag flag_db = {
        "db", "PATH",
        "the database (default: $TAGD_DB, else the configuration file's db, else " CONFIG_DEFAULT_DB
        ")",
        0};
static const struct cli_flag flag_help = {"help", NULL, "print this help and exit", 0};

/* getopt values: above every character, so that none is taken for a short option. */
#define OPT_BASE    256
#define OPT_CONFIG  (OPT_BASE + CLI_MAX_FLAGS)
#define OPT_DB      (OPT_CONFIG + 1)
#define OPT_HELP    (OPT_CONFIG + 2)
#define OPT_KEYBASE (OPT_CONFIG + 3)

/* ---- what a body reads ---- */

/* Index of --flag in ctx's command; -1 when the command has no such flag (a bug). */
static int flag_index(const struct cli_ctx *ctx, const char *flag)
{
	for (int i = 0; ctx->cmd->flags != NULL && ctx->cmd->flags[i].name != NULL; i++)
		if (strcmp(ctx->cmd->flags[i].name, flag) == 0)
			return i;
	return -1;
}

const char *cli_value(const struct cli_ctx *ctx, const char *flag)
{
	int i = flag_index(ctx, flag);
	return i >= 0 && ctx->nvalues[i] > 0 ? ctx->values[i][0] : NULL;
}

bool cli_switch(const struct cli_ctx *ctx, const char *flag)
{
	return cli_value(ctx, flag) != NULL;
}

const char *const *cli_values(const struct cli_ctx *ctx, const char *flag, size_t *n)
{
	static const char *const none[] = {NULL};
	int i = flag_index(ctx, flag);
	if (i < 0 || ctx->nvalues[i] == 0) {
		*n = 0;
		return none;
	}
	*n = ctx->nvalues[i];
	return ctx->values[i];
}

int cli_fail(const struct cli_ctx *ctx, int status, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tagd %s: ", ctx->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int cli_org_id(const struct cli_ctx *ctx, int64_t *id)
{
	struct org org;
	enum store_status st = store_org_by_name(ctx->store, cli_value(ctx, "org"), &org);
	if (st == STORE_ORG_NOT_FOUND)
		return cli_fail(ctx, CLI_EXIT_NOT_FOUND, "no such organization");
	if (st != STORE_OK)
		return cli_fail_store(ctx, st);
	*id = org.id;
	org_release(&org);
	return CLI_EXIT_OK;
}

int cli_fail_store(const struct cli_ctx *ctx, enum store_status st)
{
	return cli_fail(ctx, CLI_EXIT_FAIL, "%s", store_status_str(st));
}

int cli_print_json(const struct cli_ctx *ctx, json_t *v)
{
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (text == NULL)
		return cli_fail(ctx, CLI_EXIT_FAIL, "out of memory");
	printf("%s\n", text);
	free(text);
	return CLI_EXIT_OK;
}

json_t *cli_json_time(int64_t us)
{
	char buf[CLOCK_RFC3339_LEN];
	if (us == 0)
		return json_null();
	clock_format_rfc3339(us, buf);
	return json_string(buf);
}

/* ---- help ---- */

static size_t nflags(const struct cli_command *cmd)
{
	size_t n = 0;
	while (cmd->flags != NULL && cmd->flags[n].name != NULL)
		n++;
	return n;
}

/* The synopsis: "tagd NAME ARGS --req V [--opt V] [--list V]... [--switch]". */
static void print_synopsis(FILE *f, const struct cli_command *cmd)
{
	fprintf(f, "tagd %s", cmd->name);
	if (cmd->args != NULL)
		fprintf(f, " %s", cmd->args);
	for (size_t i = 0; i < nflags(cmd); i++) {
		const struct cli_flag *fl = &cmd->flags[i];
		bool req = (fl->opts & CLI_REQUIRED) != 0;
		fprintf(f, " %s--%s%s%s%s%s", req ? "" : "[", fl->name, fl->value ? " " : "",
		        fl->value ? fl->value : "", req ? "" : "]",
		        (fl->opts & CLI_REPEAT) ? "..." : "");
	}
	if (cmd->kind == CLI_KEYS)
		fprintf(f, " [--config PATH] [--KEY VALUE]...");
}

static void print_flag_line(FILE *f, const char *name, const char *value, const char *help)
{
	char left[64];
	snprintf(left, sizeof(left), "--%s%s%s", name, value ? " " : "", value ? value : "");
	fprintf(f, "  %-28s %s\n", left, help);
}

static void print_help(FILE *f, const struct cli_command *cmd)
{
	fprintf(f, "usage: ");
	print_synopsis(f, cmd);
	fprintf(f, "\n%s\n", cmd->summary);
	if (cmd->details != NULL)
		fprintf(f, "%s\n", cmd->details);
	fprintf(f, "\n");
	for (size_t i = 0; i < nflags(cmd); i++)
		print_flag_line(f, cmd->flags[i].name, cmd->flags[i].value, cmd->flags[i].help);
	if (cmd->kind != CLI_STANDALONE)
		print_flag_line(f, flag_config.name, flag_config.value, flag_config.help);
	if (cmd->kind == CLI_STORE || cmd->kind == CLI_DB_PATH)
		print_flag_line(f, flag_db.name, flag_db.value, flag_db.help);
	if (cmd->kind == CLI_KEYS) {
		for (size_t i = 0; i < config_key_count(); i++) {
			const struct config_key *k = config_key_at(i);
			char help[512];
			const char *def = config_key_default(k);
			snprintf(help, sizeof(help), "%s (default: %s)", config_key_help(k),
			         def[0] ? def : "none");
			print_flag_line(f, config_key_flag(k), "VALUE", help);
		}
	}
	print_flag_line(f, flag_help.name, flag_help.value, flag_help.help);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tagd COMMAND [ARGS]\n\n");
	for (size_t t = 0; t < NTABLES; t++) {
		for (size_t i = 0; i < *tables[t].count; i++) {
			const struct cli_command *cmd = &tables[t].commands[i];
			fprintf(f, "  ");
			print_synopsis(f, cmd);
			fprintf(f, "\n      %s\n", cmd->summary);
		}
	}
	fprintf(f,
	        "\n'tagd COMMAND --help' lists a command's flags.  Commands that use the "
	        "database find it as serve does:\n--db PATH, else $TAGD_DB, else the db of the "
	        "configuration file (--config PATH, else\n$TAGD_CONFIG, else %s), else %s.\n",
	        CONFIG_DEFAULT_PATH, CONFIG_DEFAULT_DB);
}

static json_t *flag_json(const struct cli_flag *fl, bool common)
{
	return json_pack("{s:s+, s:o, s:s, s:b, s:b, s:b}", "name", "--", fl->name, "value",
	                 fl->value ? json_string(fl->value) : json_null(), "help", fl->help,
	                 "required", (fl->opts & CLI_REQUIRED) != 0, "repeat",
	                 (fl->opts & CLI_REPEAT) != 0, "common", common);
}

static json_t *command_json(const struct cli_command *cmd)
{
	json_t *flags = json_array();
	for (size_t i = 0; flags != NULL && i < nflags(cmd); i++)
		json_array_append_new(flags, flag_json(&cmd->flags[i], false));
	if (flags != NULL && cmd->kind != CLI_STANDALONE)
		json_array_append_new(flags, flag_json(&flag_config, true));
	if (flags != NULL && (cmd->kind == CLI_STORE || cmd->kind == CLI_DB_PATH))
		json_array_append_new(flags, flag_json(&flag_db, true));
	if (flags != NULL)
		json_array_append_new(flags, flag_json(&flag_help, true));
	return json_pack("{s:s, s:o, s:s, s:b, s:o}", "name", cmd->name, "args",
	                 cmd->args ? json_string(cmd->args) : json_null(), "summary", cmd->summary,
	                 "key_flags", cmd->kind == CLI_KEYS, "flags", flags);
}

/* Everything the binary knows, for scripts and the documentation tests. */
static int help_json(struct cli_ctx *ctx)
{
	json_t *cmds = json_array(), *keys = json_array();
	for (size_t t = 0; cmds != NULL && t < NTABLES; t++)
		for (size_t i = 0; i < *tables[t].count; i++)
			json_array_append_new(cmds, command_json(&tables[t].commands[i]));
	for (size_t i = 0; keys != NULL && i < config_key_count(); i++) {
		const struct config_key *k = config_key_at(i);
		json_array_append_new(
		        keys,
		        json_pack("{s:s, s:s+, s:s, s:b, s:s}", "name", config_key_name(k), "flag",
		                  "--", config_key_flag(k), "default", config_key_default(k),
		                  "reload", config_key_reloadable(k), "help", config_key_help(k)));
	}
	if (cmds == NULL || keys == NULL) {
		json_decref(cmds);
		json_decref(keys);
		return cli_fail(ctx, CLI_EXIT_FAIL, "out of memory");
	}
	return cli_print_json(ctx, json_pack("{s:o, s:o}", "commands", cmds, "keys", keys));
}

/* ---- finding the command ---- */

/* Whether argv[0..] starts with the words of name. */
static size_t name_words(const char *name, int argc, char **argv)
{
	size_t words = 0;
	for (const char *p = name; *p != '\0'; words++) {
		size_t len = strcspn(p, " ");
		if ((int)words >= argc || strlen(argv[words]) != len ||
		    strncmp(argv[words], p, len) != 0)
			return 0;
		p += len + (p[len] == ' ');
	}
	return words;
}

/*
 * The command that argv[0..] names (the one with the longest name that
 * matches), and how many words its name took; NULL when none.
 */
static const struct cli_command *find_command(int argc, char **argv, size_t *words)
{
	const struct cli_command *best = NULL;
	*words = 0;
	for (size_t t = 0; t < NTABLES; t++) {
		for (size_t i = 0; i < *tables[t].count; i++) {
			size_t w = name_words(tables[t].commands[i].name, argc, argv);
			if (w > *words) {
				*words = w;
				best = &tables[t].commands[i];
			}
		}
	}
	return best;
}

/* Print the synopses of the commands whose name starts with group; false when none does. */
static bool group_usage(FILE *f, const char *group)
{
	size_t len = strlen(group);
	bool any = false;
	for (size_t t = 0; t < NTABLES; t++) {
		for (size_t i = 0; i < *tables[t].count; i++) {
			const struct cli_command *cmd = &tables[t].commands[i];
			if (strncmp(cmd->name, group, len) != 0 || cmd->name[len] != ' ')
				continue;
			fprintf(f, "%s", any ? "       " : "usage: ");
			print_synopsis(f, cmd);
			fprintf(f, "\n");
			any = true;
		}
	}
	return any;
}

/* ---- parsing ---- */

/* Whether the argument getopt took for --name was spelled out (no abbreviation). */
static bool spelled_out(const char *arg, const char *name)
{
	size_t len = strlen(name);
	return strncmp(arg, "--", 2) == 0 && strncmp(arg + 2, name, len) == 0 &&
	       (arg[2 + len] == '\0' || arg[2 + len] == '=');
}

static int usage_error(const struct cli_command *cmd, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static int usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tagd %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'tagd %s --help')\n", cmd->name);
	return CLI_EXIT_USAGE;
}

struct parsed {
	const char *config; /* --config */
	const char *db;     /* --db */
	bool help;
	struct config_args keys; /* CLI_KEYS */
};

/*
 * Parse argv[1..argc) (argv[0] is the command's last word) into ctx and p.
 * Returns CLI_EXIT_OK, or CLI_EXIT_USAGE after printing one line.  Flags
 * and arguments may come in any order; "--" ends the flags.
 */
static int parse(const struct cli_command *cmd, int argc, char **argv, struct cli_ctx *ctx,
                 struct parsed *p)
{
	size_t n = nflags(cmd), nkeys = cmd->kind == CLI_KEYS ? config_key_count() : 0;
	struct option *longopts = calloc(n + nkeys + 4, sizeof(*longopts));
	int rc = CLI_EXIT_USAGE, opt;
	size_t k = 0;

	if (longopts == NULL) {
		fprintf(stderr, "tagd %s: out of memory\n", cmd->name);
		return CLI_EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++)
		longopts[k++] = (struct option){
		        cmd->flags[i].name, cmd->flags[i].value ? required_argument : no_argument,
		        NULL, OPT_BASE + (int)i};
	if (cmd->kind != CLI_STANDALONE)
		longopts[k++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
	if (cmd->kind == CLI_STORE || cmd->kind == CLI_DB_PATH)
		longopts[k++] = (struct option){"db", required_argument, NULL, OPT_DB};
	for (size_t i = 0; i < nkeys; i++)
		longopts[k++] = (struct option){config_key_flag(config_key_at(i)),
		                                required_argument, NULL, OPT_KEYBASE + (int)i};
	longopts[k++] = (struct option){"help", no_argument, NULL, OPT_HELP};
	longopts[k] = (struct option){NULL, 0, NULL, 0};

	/* Each value list has room for every argument: no count can overflow it. */
	for (size_t i = 0; i < n; i++) {
		ctx->values[i] = calloc((size_t)argc + 1, sizeof(*ctx->values[i]));
		if (ctx->values[i] == NULL) {
			fprintf(stderr, "tagd %s: out of memory\n", cmd->name);
			rc = CLI_EXIT_FAIL;
			goto out;
		}
	}
	ctx->args = calloc((size_t)argc + 1, sizeof(*ctx->args));
	if (ctx->args == NULL) {
		fprintf(stderr, "tagd %s: out of memory\n", cmd->name);
		rc = CLI_EXIT_FAIL;
		goto out;
	}

	/* "-": arguments come back in order as opt 1, whatever POSIXLY_CORRECT says. */
	optind = 0;
	opterr = 0;
	for (;;) {
		int at = optind == 0 ? 1 : optind;
		opt = getopt_long(argc, argv, "-:", longopts, NULL);
		if (opt == -1)
			break;
		const char *arg = at < argc ? argv[at] : "";
		if (opt == 1) {
			ctx->args[ctx->nargs++] = optarg;
			continue;
		}
		if (opt == '?') {
			rc = usage_error(cmd, "unknown option '%s'", arg);
			goto out;
		}
		if (opt == ':') {
			rc = usage_error(cmd, "option '%s' needs a value", arg);
			goto out;
		}
		const char *name = NULL;
		for (size_t i = 0; i < k && name == NULL; i++)
			if (longopts[i].val == opt)
				name = longopts[i].name;
		if (name == NULL || !spelled_out(arg, name)) {
			rc = usage_error(cmd, "unknown option '%s'", arg);
			goto out;
		}
		if (opt == OPT_HELP) {
			p->help = true;
		} else if (opt == OPT_CONFIG || opt == OPT_DB) {
			const char **slot = opt == OPT_CONFIG ? &p->config : &p->db;
			if (*slot != NULL) {
				rc = usage_error(cmd, "option '--%s' is given twice", name);
				goto out;
			}
			*slot = optarg;
		} else if (opt >= OPT_KEYBASE) {
			char *err = NULL;
			if (!config_args_set(&p->keys, config_key_at((size_t)(opt - OPT_KEYBASE)),
			                     optarg, &err)) {
				rc = usage_error(cmd, "%s", err ? err : "out of memory");
				free(err);
				goto out;
			}
		} else {
			size_t i = (size_t)(opt - OPT_BASE);
			if (ctx->nvalues[i] > 0 && !(cmd->flags[i].opts & CLI_REPEAT)) {
				rc = usage_error(cmd, "option '--%s' is given twice", name);
				goto out;
			}
			ctx->values[i][ctx->nvalues[i]++] = cmd->flags[i].value ? optarg : "";
		}
	}
	for (; optind < argc; optind++) /* after "--" */
		ctx->args[ctx->nargs++] = argv[optind];
	if (p->help) {
		rc = CLI_EXIT_OK;
		goto out;
	}
	if (cmd->nargs != CLI_ANY_ARGS && ctx->nargs != (size_t)cmd->nargs) {
		if (ctx->nargs > (size_t)cmd->nargs)
			rc = usage_error(cmd, "unexpected argument '%s'", ctx->args[cmd->nargs]);
		else
			rc = usage_error(cmd, "%s is missing", cmd->args);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((cmd->flags[i].opts & CLI_REQUIRED) && ctx->nvalues[i] == 0) {
			char what[64];
			snprintf(what, sizeof(what), "--%s %s", cmd->flags[i].name,
			         cmd->flags[i].value ? cmd->flags[i].value : "");
			rc = usage_error(cmd, "%s is required", what);
			goto out;
		}
	}
	rc = CLI_EXIT_OK;
out:
	free(longopts);
	return rc;
}

static void ctx_release(struct cli_ctx *ctx)
{
	for (size_t i = 0; i < CLI_MAX_FLAGS; i++)
		free(ctx->values[i]);
	free(ctx->args);
}

/* ---- running ---- */

/*
 * The database path, as serve finds it: --db, else the configuration (file,
 * then TAGD_* environment).  NULL after printing the configuration's errors.
 */
static char *find_db(const struct cli_ctx *ctx, const struct parsed *p)
{
	struct config_args args = {.config_path = p->config};
	struct config cfg;
	char *err = NULL;

	if (p->db != NULL && !config_args_set(&args, config_key_find("db"), p->db, &err)) {
		cli_fail(ctx, CLI_EXIT_FAIL, "%s", err ? err : "out of memory");
		free(err);
		return NULL;
	}
	if (!config_load(&cfg, &args, &err)) {
		for (const char *line = err; line != NULL && *line != '\0';) {
			size_t len = strcspn(line, "\n");
			cli_fail(ctx, CLI_EXIT_FAIL, "%.*s", (int)len, line);
			line += len + (line[len] == '\n');
		}
		if (err == NULL)
			cli_fail(ctx, CLI_EXIT_FAIL, "out of memory");
		free(err);
		return NULL;
	}
	char *db = strdup(cfg.db);
	config_release(&cfg);
	if (db == NULL)
		cli_fail(ctx, CLI_EXIT_FAIL, "out of memory");
	return db;
}

static int run_command(const struct cli_command *cmd, int argc, char **argv)
{
	struct cli_ctx ctx = {.cmd = cmd};
	struct parsed p = {0};
	char *db = NULL;
	char *err = NULL;

	if (nflags(cmd) > CLI_MAX_FLAGS) {
		fprintf(stderr, "tagd %s: too many flags in its table\n", cmd->name);
		return CLI_EXIT_FAIL;
	}
	int rc = parse(cmd, argc, argv, &ctx, &p);
	if (rc != CLI_EXIT_OK || p.help) {
		if (rc == CLI_EXIT_OK)
			print_help(stdout, cmd);
		goto out;
	}
	switch (cmd->kind) {
	case CLI_STANDALONE:
		rc = cmd->run(&ctx);
		break;
	case CLI_KEYS:
		p.keys.config_path = p.config;
		ctx.config_args = &p.keys;
		rc = cmd->run(&ctx);
		break;
	case CLI_DB_PATH:
	case CLI_STORE:
		db = find_db(&ctx, &p);
		if (db == NULL) {
			rc = CLI_EXIT_FAIL;
			break;
		}
		ctx.db = db;
		if (cmd->kind == CLI_DB_PATH) {
			rc = cmd->run(&ctx);
			break;
		}
		/* stderr is for the one-line error: the store's progress notes are the daemon's. */
		log_set_level(LOG_WARN);
		ctx.store = store_open(db, NULL, &err);
		if (ctx.store == NULL) {
			rc = cli_fail(&ctx, CLI_EXIT_FAIL, "%s", err ? err : "out of memory");
			free(err);
			break;
		}
		rc = cmd->run(&ctx);
		store_close(&ctx.store);
		break;
	}
out:
	free(db);
	ctx_release(&ctx);
	return rc;
}

int cli_help(struct cli_ctx *ctx)
{
	size_t words = 0;

	if (cli_switch(ctx, "json")) {
		if (ctx->nargs > 0)
			return cli_fail(ctx, CLI_EXIT_USAGE,
			                "--json lists every command; name none");
		return help_json(ctx);
	}
	if (ctx->nargs == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	const struct cli_command *cmd = find_command((int)ctx->nargs, ctx->args, &words);
	if (cmd != NULL && words == ctx->nargs) {
		print_help(stdout, cmd);
		return CLI_EXIT_OK;
	}
	if (ctx->nargs == 1 && group_usage(stdout, ctx->args[0]))
		return CLI_EXIT_OK;
	return cli_fail(ctx, CLI_EXIT_USAGE, "no command '%s' (see 'tagd help')", ctx->args[0]);
}

int cli_main(int argc, char **argv)
{
	size_t words = 0;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		argv[1] = "version";
	const struct cli_command *cmd = find_command(argc - 1, argv + 1, &words);
	if (cmd != NULL)
		return run_command(cmd, argc - (int)words, argv + words);
	/* A group alone ("tagd token"), or asking for its help. */
	if (argc == 2 || strcmp(argv[2], "--help") == 0) {
		FILE *f = argc == 2 ? stderr : stdout;
		if (group_usage(f, argv[1]))
			return argc == 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	fprintf(stderr, "tagd: unknown command '%s%s%s' (see 'tagd help')\n", argv[1],
	        argc > 2 ? " " : "", argc > 2 ? argv[2] : "");
	return CLI_EXIT_USAGE;
}
