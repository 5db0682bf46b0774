/*
 * cli_protect.c - "tagd protect add|list|remove": the protection rules of
 * an organization, a Vers repository (--repo) or a ServiceStage project
 * (--project NS/PROJECT), as the API's protected_tags routes change them,
 * with the history events to show it (dialect "cli", no token).  See
 * cli_internal.h and store_rule.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "clock.h"
#include "rule_reply.h"
#include "store_rule.h"

/*
 * The rules the flags name, into *w (its strings borrow from ctx and from
 * project, a buffer of cap bytes).  On failure has printed and returns the
 * exit status.
 */
static int rule_where(const struct cli_ctx *ctx, struct store_rule_where *w, char *project,
                      size_t cap)
{
	const char *repo = cli_value(ctx, "repo"), *proj = cli_value(ctx, "project");
	int64_t org_id = 0;

	if (repo != NULL && proj != NULL)
		return cli_fail(ctx, CLI_EXIT_USAGE, "give --repo or --project, not both");
	int rc = cli_org_id(ctx, &org_id);
	if (rc != CLI_EXIT_OK)
		return rc;
	*w = (struct store_rule_where){.scope = HISTORY_SCOPE_ORGANIZATION, .org_id = org_id};
	if (repo != NULL) {
		w->scope = HISTORY_SCOPE_REPOSITORY;
		w->repo = repo;
	} else if (proj != NULL) {
		char *slash = NULL;
		if (strlen(proj) < cap) {
			strcpy(project, proj);
			slash = strchr(project, '/');
		}
		if (slash == NULL || slash == project || slash[1] == '\0')
			return cli_fail(ctx, CLI_EXIT_FAIL, "--project takes NAMESPACE/PROJECT");
		*slash = '\0';
		w->scope = HISTORY_SCOPE_SERVICESTAGE;
		w->ss = (struct ss_where){.org_id = w->org_id,
		                          .namespace = project,
		                          .project = slash + 1,
		                          .command_line = true};
	}
	return CLI_EXIT_OK;
}

/* The answer to a failed rule operation. */
static int rule_fail(const struct cli_ctx *ctx, const struct store_rule_where *w,
                     enum store_status st)
{
	switch (st) {
	case STORE_REPO_NOT_FOUND:
		return cli_fail(ctx, CLI_EXIT_NOT_FOUND, "no such %s",
		                w->scope == HISTORY_SCOPE_REPOSITORY ? "repository" : "project");
	case STORE_NOT_FOUND:
		return cli_fail(ctx, CLI_EXIT_NOT_FOUND, "no rule of that pattern there");
	case STORE_CONFLICT:
		return cli_fail(ctx, CLI_EXIT_EXISTS, "a rule of that pattern is there already");
	case STORE_INVALID:
		return cli_fail(ctx, CLI_EXIT_FAIL, "too many rules: %d is the most there",
		                STORE_RULES_MAX);
	default:
		return cli_fail_store(ctx, st);
	}
}

/* The command line's actor: no token, and every right. */
static const struct store_actor cli_actor = {.dialect = HISTORY_CLI, .scope = TOKEN_SCOPE_ADMIN};

static int protect_add(struct cli_ctx *ctx)
{
	struct store_rule_add_op o;
	char project[2 * SS_NAME_MAX + 2], why[96];
	enum rule_mode mode;

	if (rule_reply_check(ctx->args[0], cli_value(ctx, "mode"), &mode, why, sizeof(why)) != NULL)
		return cli_fail(ctx, CLI_EXIT_FAIL, "%s", why);
	store_rule_add_op_init(&o);
	int rc = rule_where(ctx, &o.where, project, sizeof(project));
	if (rc != CLI_EXIT_OK)
		return rc;
	o.pattern = ctx->args[0];
	o.mode = mode;
	o.actor = cli_actor;
	enum store_status st = store_execute(ctx->store, &o.op);
	if (st != STORE_OK)
		return rule_fail(ctx, &o.where, st);
	fprintf(stderr, "added %s rule '%s' (event %lld)\n", rule_mode_name(o.out.mode),
	        o.out.pattern, (long long)o.out.seq);
	store_rule_release(&o.out);
	return CLI_EXIT_OK;
}

static int protect_remove(struct cli_ctx *ctx)
{
	struct store_rule_remove_op o;
	char project[2 * SS_NAME_MAX + 2], why[96];

	if (rule_reply_check(ctx->args[0], NULL, NULL, why, sizeof(why)) != NULL)
		return cli_fail(ctx, CLI_EXIT_FAIL, "%s", why);
	store_rule_remove_op_init(&o);
	int rc = rule_where(ctx, &o.where, project, sizeof(project));
	if (rc != CLI_EXIT_OK)
		return rc;
	o.pattern = ctx->args[0];
	o.actor = cli_actor;
	enum store_status st = store_execute(ctx->store, &o.op);
	if (st != STORE_OK)
		return rule_fail(ctx, &o.where, st);
	fprintf(stderr, "removed rule '%s'\n", o.pattern);
	return CLI_EXIT_OK;
}

static int protect_list(struct cli_ctx *ctx)
{
	struct store_rule_where w;
	struct store_rule *list;
	size_t n;
	char project[2 * SS_NAME_MAX + 2];

	int rc = rule_where(ctx, &w, project, sizeof(project));
	if (rc != CLI_EXIT_OK)
		return rc;
	/* Without --repo or --project: every rule of the organization, whatever its scope. */
	enum store_status st = w.scope == HISTORY_SCOPE_ORGANIZATION
	                               ? store_rule_list_all(ctx->store, w.org_id, &list, &n)
	                               : store_rule_list(ctx->store, &w, &list, &n);
	if (st != STORE_OK)
		return rule_fail(ctx, &w, st);
	if (cli_switch(ctx, "json")) {
		json_t *doc = rule_reply_list(list, n);
		store_rule_list_free(&list, n);
		return cli_print_json(ctx, doc);
	}
	printf("%-40s  %-9s  %-27s  %-8s  %s\n", "SCOPE", "MODE", "CREATED", "EVENT", "PATTERN");
	for (size_t i = 0; i < n; i++) {
		const struct store_rule *r = &list[i];
		char scope[2 * SS_NAME_MAX + 32], at[CLOCK_RFC3339_LEN];
		snprintf(scope, sizeof(scope), "%s%s%s", history_scope_name(r->scope),
		         *r->scope_name ? ":" : "", r->scope_name);
		clock_format_rfc3339(r->created_at, at);
		printf("%-40s  %-9s  %-27s  %-8lld  %s\n", scope, rule_mode_name(r->mode), at,
		       (long long)r->seq, r->pattern);
	}
	store_rule_list_free(&list, n);
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* ---- the table ---- */

#define WHERE_FLAGS                                                                                \
	{"org", "NAME", "the organization", CLI_REQUIRED},                                         \
	        {"repo", "REPO", "a repository's rules (default: the organization's)", 0},         \
	{                                                                                          \
		"project", "NS/PROJECT", "a ServiceStage project's rules", 0                       \
	}

static const struct cli_flag add_flags[] = {
        WHERE_FLAGS,
        {"mode", "MODE", "protected (maintain and admin tokens only) or immutable", CLI_REQUIRED},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag list_flags[] = {
        WHERE_FLAGS,
        {"json", NULL, "print one JSON document instead of a table", 0},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag remove_flags[] = {
        WHERE_FLAGS,
        {NULL, NULL, NULL, 0},
};

const struct cli_command cli_protect_commands[] = {
        {"protect add", "PATTERN", 1,
         "Protect the tags whose names match PATTERN ('*' any run, '?' one character).",
         "protected: only maintain and admin tokens create, move, update or delete them;\n"
         "immutable: they may be created, and never moved, updated or deleted, nor their\n"
         "repository deleted.  Without --repo or --project the rule covers every tag of the\n"
         "organization.  The addition is an event of the history (dialect cli).",
         CLI_STORE, add_flags, protect_add},
        {"protect list", NULL, 0,
         "List protection rules: scope, mode, created, the event that added it, pattern.",
         "Without --repo or --project: every rule of the organization, of every scope.", CLI_STORE,
         list_flags, protect_list},
        {"protect remove", "PATTERN", 1,
         "Remove the protection rule of PATTERN (from the organization, --repo or --project).",
         NULL, CLI_STORE, remove_flags, protect_remove},
};

const size_t cli_protect_count = sizeof(cli_protect_commands) / sizeof(cli_protect_commands[0]);
