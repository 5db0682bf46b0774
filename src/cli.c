/*
 * cli.c - the operator's subcommands.  See cli.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cli.h"
#include "cli_history.h"
#include "cli_ops.h"
#include "clock.h"
#include "expiry.h"
#include "log.h"
#include "names.h"
#include "serve.h"
#include "store.h"
#include "store_org.h"
#include "store_ss.h"
#include "store_vers.h"
#include "version.h"

#define ORG_NAME_MAX 64
#define LABEL_MAX    128

const char *cli_db_path(const char *flag)
{
	if (flag != NULL)
		return flag;
	const char *env = getenv("TAGD_DB");
	return env && *env ? env : CLI_DEFAULT_DB;
}

/* One subcommand: its name, its usage text, its options and its body. */
struct command {
	const char *group;
	const char *verb;
	const char *usage;
	int (*run)(struct store *s, int argc, char **argv, const char **opts);
	const char *const *options; /* long option names taking a value */
	const char *const *flags;   /* long option names taking none */
	int nargs;                  /* positional arguments required */
	/*
	 * Long option names that may be given more than once (NULL: none).  A
	 * command with such options has run_lists instead of run: lists[i] is
	 * the NULL-terminated array of the values of lists option i.
	 */
	const char *const *lists;
	int (*run_lists)(struct store *s, int argc, char **argv, const char **opts,
	                 const char *const *const *lists);
};

enum { MAX_OPTS = 8, MAX_LISTS = 4 };

static int fail(const char *cmd, const char *msg)
{
	fprintf(stderr, "tagd %s: %s\n", cmd, msg);
	return 1;
}

static int fail_store(const char *cmd, enum store_status st)
{
	return fail(cmd, store_status_str(st));
}

static bool valid_org_name(const char *name)
{
	size_t len = strlen(name);
	if (len < 1 || len > ORG_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* A token label: shown on one line of 'token list', so bounded and without control bytes. */
static bool valid_label(const char *label)
{
	size_t len = strlen(label);
	if (len < 1 || len > LABEL_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
			return false;
	return true;
}

/* ---- org ---- */

static int org_create(struct store *s, int argc, char **argv, const char **opts)
{
	struct org_create_op o;
	const char *name = argv[0];

	if (!valid_org_name(name))
		return fail("org create", "organization names are 1-64 characters of letters, "
		                          "digits, '-', '_' and '.'");
	if (opts[0] != NULL &&
	    (strlen(opts[0]) < 1 || strlen(opts[0]) > 128 || strchr(opts[0], '/') != NULL))
		return fail("org create", "--project-id takes 1-128 characters without '/'");
	org_create_op_init(&o);
	o.name = name;
	o.project_id = opts[0];
	enum store_status st = store_execute(s, &o.op);
	if (st == STORE_CONFLICT)
		return fail("org create", "an organization with that name or project id exists");
	if (st != STORE_OK)
		return fail_store("org create", st);
	printf("%s\n", o.uuid);
	return 0;
}

/* ---- token ---- */

static int token_create(struct store *s, int argc, char **argv, const char **opts)
{
	struct auth_token t;
	struct token_create_op o;
	int64_t expires_at = 0;

	if (opts[2] != NULL) {
		enum expiry_status es = expiry_parse(opts[2], clock_now_us(), &expires_at);
		if (es != EXPIRY_OK)
			return fail("token create", expiry_status_str(es));
	}
	if (opts[1] != NULL && !valid_label(opts[1]))
		return fail("token create", "--name takes 1-128 bytes without control characters");
	if (!auth_token_generate(&t))
		return fail("token create", "no randomness available from the kernel");
	token_create_op_init(&o);
	o.org_name = opts[0];
	o.public_id = t.public_id;
	memcpy(o.digest, t.digest, sizeof(o.digest));
	o.label = opts[1];
	o.expires_at = expires_at;
	enum store_status st = store_execute(s, &o.op);
	if (st == STORE_ORG_NOT_FOUND)
		return fail("token create", "no such organization");
	if (st != STORE_OK)
		return fail_store("token create", st);
	printf("%s\n", t.text);
	explicit_bzero(&t, sizeof(t));
	if (expires_at != 0) {
		char when[CLOCK_RFC3339_LEN];
		clock_format_rfc3339(expires_at, when);
		fprintf(stderr, "expires %s\n", when);
	}
	return 0;
}

static void print_time(int64_t us)
{
	char buf[CLOCK_RFC3339_LEN];
	if (us == 0) {
		printf("  %-27s", "-");
		return;
	}
	clock_format_rfc3339(us, buf);
	printf("  %-27s", buf);
}

static int token_list(struct store *s, int argc, char **argv, const char **opts)
{
	struct token_info *list;
	size_t n;
	enum store_status st = store_token_list(s, opts[0], &list, &n);

	if (st == STORE_ORG_NOT_FOUND)
		return fail("token list", "no such organization");
	if (st != STORE_OK)
		return fail_store("token list", st);
	printf("%-16s  %-7s  %-27s  %-27s  %-27s  %s\n", "ID", "STATUS", "CREATED", "EXPIRES",
	       "LAST USED", "LABEL");
	int64_t now = clock_now_us();
	for (size_t i = 0; i < n; i++) {
		const struct token_info *t = &list[i];
		const char *status = t->revoked_at                           ? "revoked"
		                     : t->expires_at && t->expires_at <= now ? "expired"
		                                                             : "active";
		printf("%-16s  %-7s", t->public_id, status);
		print_time(t->created_at);
		print_time(t->expires_at);
		print_time(t->last_used_at);
		printf("  %s\n", t->label ? t->label : "");
	}
	token_list_free(list, n);
	return 0;
}

/* True when text is a token's public id: 16 lower-case hex digits. */
static bool is_public_id(const char *text)
{
	if (strlen(text) != AUTH_PUBLIC_ID_LEN)
		return false;
	for (size_t i = 0; i < AUTH_PUBLIC_ID_LEN; i++)
		if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
			return false;
	return true;
}

static int token_revoke(struct store *s, int argc, char **argv, const char **opts)
{
	struct token_revoke_op o;
	struct auth_token t;
	char id[AUTH_PUBLIC_ID_LEN + 1];
	const char *arg = argv[0];

	/*
	 * Take the public id exactly, or a whole token (whose public id is used).
	 * Anything else is refused rather than cut down to 16 characters, which
	 * could name another token.
	 */
	if (auth_token_parse(arg, strlen(arg), &t)) {
		memcpy(id, t.public_id, sizeof(id));
		explicit_bzero(&t, sizeof(t));
	} else if (is_public_id(arg)) {
		memcpy(id, arg, sizeof(id));
	} else {
		return fail("token revoke", "give the token's ID as 'tagd token list' shows it");
	}
	token_revoke_op_init(&o);
	o.org_name = opts[0];
	o.public_id = id;
	enum store_status st = store_execute(s, &o.op);
	if (st == STORE_ORG_NOT_FOUND)
		return fail("token revoke", "no such organization");
	if (st == STORE_NOT_FOUND)
		return fail("token revoke", "no live token with that ID in this organization");
	if (st != STORE_OK)
		return fail_store("token revoke", st);
	fprintf(stderr, "revoked %s\n", id);
	return 0;
}

/* ---- commit ---- */

static int commit_create(struct store *s, int argc, char **argv, const char **opts)
{
	struct vers_commit_create_op o;
	struct org org;

	vers_commit_create_op_init(&o);
	if (opts[1] != NULL && !names_uuid_normalize(opts[1], o.commit_id))
		return fail("commit create", "--id takes a UUID");
	enum store_status st = store_org_by_name(s, opts[0], &org);
	if (st == STORE_ORG_NOT_FOUND)
		return fail("commit create", "no such organization");
	if (st != STORE_OK)
		return fail_store("commit create", st);
	o.org_id = org.id;
	o.name = opts[2];
	o.description = opts[3];
	o.is_public = opts[4] != NULL;
	st = store_execute(s, &o.op);
	org_release(&org);
	if (st == STORE_CONFLICT)
		return fail("commit create", "a commit with that id exists");
	if (st != STORE_OK)
		return fail_store("commit create", st);
	printf("%s\n", o.out.commit_id);
	vers_commit_release(&o.out);
	return 0;
}

/* ---- repo-auth ---- */

static const char *const repo_types[] = {"github", "gitlab", "gitee", "bitbucket", "devcloud"};

static int repo_auth_create(struct store *s, int argc, char **argv, const char **opts,
                            const char *const *const *lists)
{
	struct ss_auth_create_op o;
	const char *const *ns = lists[0];
	size_t n = 0;
	bool known_type = opts[2] == NULL;

	if (opts[1] == NULL || !valid_org_name(opts[1]))
		return fail("repo-auth create", "--name takes 1-64 characters of letters, digits, "
		                                "'-', '_' and '.'");
	for (size_t i = 0; !known_type && i < sizeof(repo_types) / sizeof(repo_types[0]); i++)
		known_type = strcmp(opts[2], repo_types[i]) == 0;
	if (!known_type)
		return fail("repo-auth create",
		            "--repo-type takes github, gitlab, gitee, bitbucket or devcloud");
	for (; ns[n] != NULL; n++) {
		const char *why = names_ss_namespace(ns[n]);
		if (why != NULL) {
			char msg[256];
			snprintf(msg, sizeof(msg), "--namespace %s: %s", ns[n], why);
			return fail("repo-auth create", msg);
		}
	}
	ss_auth_create_op_init(&o);
	o.org_name = opts[0];
	o.name = opts[1];
	o.repo_type = opts[2];
	o.namespaces = ns;
	o.nnamespaces = n;
	enum store_status st = store_execute(s, &o.op);
	if (st == STORE_ORG_NOT_FOUND)
		return fail("repo-auth create", "no such organization");
	if (st == STORE_CONFLICT)
		return fail("repo-auth create",
		            "an authorization with that name exists in the organization");
	if (st != STORE_OK)
		return fail_store("repo-auth create", st);
	printf("%s\n", o.name);
	return 0;
}

static int repo_auth_list(struct store *s, int argc, char **argv, const char **opts)
{
	struct org org;
	struct ss_auth *list;
	size_t n;
	enum store_status st = store_org_by_name(s, opts[0], &org);

	if (st == STORE_ORG_NOT_FOUND)
		return fail("repo-auth list", "no such organization");
	if (st != STORE_OK)
		return fail_store("repo-auth list", st);
	st = store_ss_auth_list(s, org.id, &list, &n);
	org_release(&org);
	if (st != STORE_OK)
		return fail_store("repo-auth list", st);
	printf("%-24s  %-9s  %-27s  %s\n", "NAME", "TYPE", "CREATED", "NAMESPACES");
	for (size_t i = 0; i < n; i++) {
		printf("%-24s  %-9s", list[i].name, list[i].repo_type);
		print_time(list[i].created_ms * 1000);
		printf("  ");
		if (list[i].all_namespaces)
			printf("*");
		for (size_t j = 0; j < list[i].nnamespaces; j++)
			printf("%s%s", j ? "," : "", list[i].namespaces[j]);
		printf("\n");
	}
	ss_auth_list_free(list, n);
	return 0;
}

static int repo_auth_delete(struct store *s, int argc, char **argv, const char **opts)
{
	struct ss_auth_delete_op o;

	if (opts[1] == NULL)
		return fail("repo-auth delete", "--name AUTH is required");
	ss_auth_delete_op_init(&o);
	o.org_name = opts[0];
	o.name = opts[1];
	enum store_status st = store_execute(s, &o.op);
	if (st == STORE_ORG_NOT_FOUND)
		return fail("repo-auth delete", "no such organization");
	if (st == STORE_NOT_FOUND)
		return fail("repo-auth delete", "no authorization with that name");
	if (st != STORE_OK)
		return fail_store("repo-auth delete", st);
	return 0;
}

/* ---- dispatch ---- */

static const char *const no_opts[] = {NULL};
static const char *const org_create_opts[] = {"project-id", NULL};
static const char *const org_opt[] = {"org", NULL};
static const char *const token_create_opts[] = {"org", "name", "expires", NULL};
static const char *const commit_create_opts[] = {"org", "id", "name", "description", NULL};
static const char *const commit_create_flags[] = {"public", NULL};
static const char *const repo_auth_create_opts[] = {"org", "name", "repo-type", NULL};
static const char *const repo_auth_create_lists[] = {"namespace", NULL};
static const char *const repo_auth_opts[] = {"org", "name", NULL};

static const struct command commands[] = {
        {"org", "create",
         "tagd org create NAME [--project-id ID] [--db PATH]\n"
         "Create an organization (ID: its ServiceStage project id). "
         "Prints its UUID.",
         org_create, org_create_opts, no_opts, 1, NULL, NULL},
        {"token", "create",
         "tagd token create --org NAME [--name LABEL] [--expires 90d|DATE] [--db PATH]\n"
         "Create an API token; prints it alone on stdout (it is shown only once).\n"
         "--expires: a duration (90d, 12h, 30m, 2w) or a date (2027-01-31, RFC 3339).",
         token_create, token_create_opts, no_opts, 0, NULL, NULL},
        {"token", "list",
         "tagd token list --org NAME [--db PATH]\n"
         "List an organization's tokens (never their secrets).",
         token_list, org_opt, no_opts, 0, NULL, NULL},
        {"token", "revoke",
         "tagd token revoke --org NAME ID [--db PATH]\n"
         "Revoke a token by the ID 'tagd token list' shows; it stops working at once.",
         token_revoke, org_opt, no_opts, 1, NULL, NULL},
        {"commit", "create",
         "tagd commit create --org NAME [--id UUID] [--name N] "
         "[--description D] [--public] [--db PATH]\n"
         "Register a commit so that it can be tagged; prints its UUID.",
         commit_create, commit_create_opts, commit_create_flags, 0, NULL, NULL},
        {"repo-auth", "create",
         "tagd repo-auth create --org NAME --name AUTH [--repo-type TYPE] "
         "[--namespace NS]... [--db PATH]\n"
         "Create a ServiceStage repository authorization (the X-Repo-Auth value).  TYPE is\n"
         "github, gitlab, gitee, bitbucket or devcloud (default); without --namespace it\n"
         "covers every namespace.",
         NULL, repo_auth_create_opts, no_opts, 0, repo_auth_create_lists, repo_auth_create},
        {"repo-auth", "list",
         "tagd repo-auth list --org NAME [--db PATH]\n"
         "List an organization's repository authorizations ('*': every namespace).",
         repo_auth_list, org_opt, no_opts, 0, NULL, NULL},
        {"repo-auth", "delete",
         "tagd repo-auth delete --org NAME --name AUTH [--db PATH]\n"
         "Delete a repository authorization; calls naming it fail at once.",
         repo_auth_delete, repo_auth_opts, no_opts, 0, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tagd COMMAND [ARGS]\n\n"
	           "  tagd serve [--config PATH] [--KEY VALUE]...   run the daemon\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *u = commands[i].usage;
		fprintf(f, "  %.*s\n", (int)strcspn(u, "\n"), u);
	}
	cli_ops_usage(f);
	cli_history_usage(f);
	fprintf(f,
	        "  tagd version\n\nEach command takes --help.  The database is --db PATH, "
	        "else $TAGD_DB, else %s.\n",
	        CLI_DEFAULT_DB);
}

/* Print the usage lines of every command of group on stdout; false when there are none. */
static bool group_usage(const char *group)
{
	bool any = false;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *u = commands[i].usage;
		if (strcmp(commands[i].group, group) != 0)
			continue;
		printf("%s%.*s\n", any ? "       " : "usage: ", (int)strcspn(u, "\n"), u);
		any = true;
	}
	return any;
}

static size_t count(const char *const *names)
{
	size_t n = 0;
	while (names[n] != NULL)
		n++;
	return n;
}

/* getopt values of flags and lists: above every char, so that none is taken for 'd' or 'h'. */
#define FLAG_BASE 256
#define LIST_BASE 512

static int run_command(const struct command *cmd, int argc, char **argv)
{
	struct option longopts[2 * MAX_OPTS + MAX_LISTS + 3];
	const char *values[MAX_OPTS + 1] = {NULL};
	const char *flagvals[MAX_OPTS + 1] = {NULL};
	const char **lists[MAX_LISTS + 1] = {NULL};
	size_t nlist_vals[MAX_LISTS] = {0};
	size_t nopt = count(cmd->options), nflag = count(cmd->flags), k = 0;
	size_t nlist = cmd->lists ? count(cmd->lists) : 0;
	int rc = 2;
	const char *db_flag = NULL;
	char label[32];
	int opt;

	snprintf(label, sizeof(label), "%s %s", cmd->group, cmd->verb);
	for (size_t i = 0; i < nopt; i++)
		longopts[k++] =
		        (struct option){cmd->options[i], required_argument, NULL, (int)(i + 1)};
	for (size_t i = 0; i < nflag; i++)
		longopts[k++] =
		        (struct option){cmd->flags[i], no_argument, NULL, FLAG_BASE + (int)i};
	for (size_t i = 0; i < nlist; i++) {
		longopts[k++] =
		        (struct option){cmd->lists[i], required_argument, NULL, LIST_BASE + (int)i};
		/* Each list has room for every argument: no count can overflow it. */
		lists[i] = calloc((size_t)argc + 1, sizeof(*lists[i]));
		if (lists[i] == NULL) {
			rc = fail(label, "out of memory");
			goto out;
		}
	}
	longopts[k++] = (struct option){"db", required_argument, NULL, 'd'};
	longopts[k++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[k] = (struct option){NULL, 0, NULL, 0};

	optind = 0;
	opterr = 0; /* getopt's own message plus a usage line would be two lines */
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'h') {
			printf("usage: %s\n", cmd->usage);
			rc = 0;
			goto out;
		} else if (opt >= LIST_BASE && opt < LIST_BASE + (int)nlist) {
			lists[opt - LIST_BASE][nlist_vals[opt - LIST_BASE]++] = optarg;
		} else if (opt == 'd') {
			db_flag = optarg;
		} else if (opt >= 1 && opt <= (int)nopt) {
			values[opt - 1] = optarg;
		} else if (opt >= FLAG_BASE && opt < FLAG_BASE + (int)nflag) {
			flagvals[opt - FLAG_BASE] = "1";
		} else {
			fprintf(stderr, "tagd %s: bad option '%s'; usage: %.*s\n", label,
			        argv[optind - 1], (int)strcspn(cmd->usage, "\n"), cmd->usage);
			goto out;
		}
	}
	if (argc - optind != cmd->nargs) {
		fprintf(stderr, "usage: %.*s\n", (int)strcspn(cmd->usage, "\n"), cmd->usage);
		goto out;
	}
	for (size_t i = 0; i < nopt; i++) {
		if (strcmp(cmd->options[i], "org") == 0 && values[i] == NULL) {
			rc = fail(label, "--org NAME is required");
			goto out;
		}
	}
	/* Flags follow the valued options in the run function's opts array. */
	const char *opts[2 * MAX_OPTS + 2] = {NULL};
	for (size_t i = 0; i < nopt; i++)
		opts[i] = values[i];
	for (size_t i = 0; i < nflag; i++)
		opts[nopt + i] = flagvals[i];

	/* stderr is for the one-line error: the store's progress notes are the daemon's. */
	log_set_level(LOG_WARN);
	const char *db = cli_db_path(db_flag);
	if (*db == '\0')
		return fail(label, "--db takes a path (an empty one is a throwaway database)");
	char *err = NULL;
	struct store *s = store_open(db, NULL, &err);
	if (s == NULL) {
		fprintf(stderr, "tagd %s: %s\n", label, err);
		free(err);
		rc = 1;
		goto out;
	}
	if (cmd->run_lists != NULL)
		rc = cmd->run_lists(s, argc - optind, argv + optind, opts,
		                    (const char *const *const *)lists);
	else
		rc = cmd->run(s, argc - optind, argv + optind, opts);
	store_close(&s);
out:
	for (size_t i = 0; i < nlist; i++)
		free(lists[i]);
	return rc;
}

int cli_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "serve") == 0)
		return serve_main(argc - 1, argv + 1);
	if (cli_ops_handles(argv[1]))
		return cli_ops_main(argc - 1, argv + 1);
	if (cli_history_handles(argv[1]))
		return cli_history_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("tagd %s\n", TAGD_VERSION);
		return 0;
	}
	if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "help") == 0) &&
	    group_usage(argv[1]))
		return 0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *cmd = &commands[i];
		if (strcmp(argv[1], cmd->group) != 0)
			continue;
		if (argc < 3) {
			fprintf(stderr, "tagd %s: which one? (see 'tagd help')\n", cmd->group);
			return 2;
		}
		if (strcmp(argv[2], cmd->verb) == 0)
			return run_command(cmd, argc - 2, argv + 2);
	}
	fprintf(stderr, "tagd: unknown command '%s%s%s' (see 'tagd help')\n", argv[1],
	        argc > 2 ? " " : "", argc > 2 ? argv[2] : "");
	return 2;
}
