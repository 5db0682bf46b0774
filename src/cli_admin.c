/*
 * cli_admin.c - the commands that administer the database's content:
 * organizations, tokens, commits and ServiceStage repository
 * authorizations.  See cli_internal.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cli_internal.h"
#include "clock.h"
#include "expiry.h"
#include "names.h"
#include "store_org.h"
#include "store_ss.h"
#include "store_vers.h"

#define ORG_NAME_MAX 64
#define LABEL_MAX    128

static const char JSON_HELP[] = "print one JSON document instead of a table";

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

/* The answer to a store status that names the organization. */
static int fail_org(const struct cli_ctx *ctx, enum store_status st)
{
	if (st == STORE_ORG_NOT_FOUND)
		return cli_fail(ctx, CLI_EXIT_NOT_FOUND, "no such organization");
	return cli_fail_store(ctx, st);
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

static json_t *nullable(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* ---- org ---- */

static int org_create(struct cli_ctx *ctx)
{
	struct org_create_op o;
	const char *name = ctx->args[0];
	const char *project = cli_value(ctx, "project-id");

	if (!valid_org_name(name))
		return cli_fail(ctx, CLI_EXIT_FAIL,
		                "organization names are 1-64 characters of letters, digits, '-', "
		                "'_' and '.'");
	if (project != NULL &&
	    (strlen(project) < 1 || strlen(project) > 128 || strchr(project, '/') != NULL))
		return cli_fail(ctx, CLI_EXIT_FAIL,
		                "--project-id takes 1-128 characters without '/'");
	org_create_op_init(&o);
	o.name = name;
	o.project_id = project;
	enum store_status st = store_execute(ctx->store, &o.op);
	if (st == STORE_CONFLICT)
		return cli_fail(ctx, CLI_EXIT_EXISTS,
		                "an organization with that name or project id exists");
	if (st != STORE_OK)
		return cli_fail_store(ctx, st);
	printf("%s\n", o.uuid);
	return CLI_EXIT_OK;
}

static int org_list(struct cli_ctx *ctx)
{
	struct org_summary *list;
	size_t n;
	enum store_status st = store_org_list(ctx->store, &list, &n);

	if (st != STORE_OK)
		return cli_fail_store(ctx, st);
	if (cli_switch(ctx, "json")) {
		json_t *arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++) {
			json_t *e = json_pack("{s:s, s:s, s:o, s:o, s:I}", "name", list[i].org.name,
			                      "id", list[i].org.uuid, "project_id",
			                      nullable(list[i].org.project_id), "created_at",
			                      cli_json_time(list[i].org.created_at), "live_tokens",
			                      (json_int_t)list[i].live_tokens);
			if (e == NULL || json_array_append_new(arr, e) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		}
		org_list_free(&list, n);
		return cli_print_json(ctx, arr ? json_pack("{s:o}", "organizations", arr) : NULL);
	}
	printf("%-24s  %-36s  %-24s  %-27s  %s\n", "NAME", "ID", "PROJECT ID", "CREATED",
	       "LIVE TOKENS");
	for (size_t i = 0; i < n; i++) {
		const struct org *o = &list[i].org;
		printf("%-24s  %-36s  %-24s", o->name, o->uuid,
		       o->project_id ? o->project_id : "-");
		print_time(o->created_at);
		printf("  %lld\n", (long long)list[i].live_tokens);
	}
	org_list_free(&list, n);
	return CLI_EXIT_OK;
}

/* ---- token ---- */

static int token_create(struct cli_ctx *ctx)
{
	struct auth_token t;
	struct token_create_op o;
	int64_t expires_at = 0;
	const char *expires = cli_value(ctx, "expires"), *label = cli_value(ctx, "name");
	const char *scope_name = cli_value(ctx, "scope");
	enum token_scope scope = TOKEN_SCOPE_DEFAULT;

	if (scope_name != NULL && !token_scope_parse(scope_name, &scope))
		return cli_fail(ctx, CLI_EXIT_FAIL, "--scope takes read, write, maintain or admin");
	if (expires != NULL) {
		enum expiry_status es = expiry_parse(expires, clock_now_us(), &expires_at);
		if (es != EXPIRY_OK)
			return cli_fail(ctx, CLI_EXIT_FAIL, "%s", expiry_status_str(es));
	}
	if (label != NULL && !valid_label(label))
		return cli_fail(ctx, CLI_EXIT_FAIL,
		                "--name takes 1-128 bytes without control characters");
	if (!auth_token_generate(&t))
		return cli_fail(ctx, CLI_EXIT_FAIL, "no randomness available from the kernel");
	token_create_op_init(&o);
	o.org_name = cli_value(ctx, "org");
	o.public_id = t.public_id;
	memcpy(o.digest, t.digest, sizeof(o.digest));
	o.label = label;
	o.expires_at = expires_at;
	o.scope = scope;
	enum store_status st = store_execute(ctx->store, &o.op);
	if (st != STORE_OK) {
		explicit_bzero(&t, sizeof(t));
		return fail_org(ctx, st);
	}
	printf("%s\n", t.text);
	explicit_bzero(&t, sizeof(t));
	if (expires_at != 0) {
		char when[CLOCK_RFC3339_LEN];
		clock_format_rfc3339(expires_at, when);
		fprintf(stderr, "expires %s\n", when);
	}
	return CLI_EXIT_OK;
}

static const char *token_status(const struct token_info *t, int64_t now)
{
	if (t->revoked_at)
		return "revoked";
	return t->expires_at && t->expires_at <= now ? "expired" : "active";
}

static int token_list(struct cli_ctx *ctx)
{
	struct token_info *list;
	size_t n;
	enum store_status st = store_token_list(ctx->store, cli_value(ctx, "org"), &list, &n);
	int64_t now = clock_now_us();

	if (st != STORE_OK)
		return fail_org(ctx, st);
	if (cli_switch(ctx, "json")) {
		json_t *arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++) {
			const struct token_info *t = &list[i];
			json_t *e = json_pack(
			        "{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", t->public_id,
			        "status", token_status(t, now), "scope", token_scope_name(t->scope),
			        "created_at", cli_json_time(t->created_at), "expires_at",
			        cli_json_time(t->expires_at), "last_used_at",
			        cli_json_time(t->last_used_at), "revoked_at",
			        cli_json_time(t->revoked_at), "label", nullable(t->label));
			if (e == NULL || json_array_append_new(arr, e) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		}
		token_list_free(list, n);
		return cli_print_json(ctx, arr ? json_pack("{s:o}", "tokens", arr) : NULL);
	}
	printf("%-16s  %-7s  %-8s  %-27s  %-27s  %-27s  %s\n", "ID", "STATUS", "SCOPE", "CREATED",
	       "EXPIRES", "LAST USED", "LABEL");
	for (size_t i = 0; i < n; i++) {
		const struct token_info *t = &list[i];
		printf("%-16s  %-7s  %-8s", t->public_id, token_status(t, now),
		       token_scope_name(t->scope));
		print_time(t->created_at);
		print_time(t->expires_at);
		print_time(t->last_used_at);
		printf("  %s\n", t->label ? t->label : "");
	}
	token_list_free(list, n);
	return CLI_EXIT_OK;
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

static int token_revoke(struct cli_ctx *ctx)
{
	struct token_revoke_op o;
	struct auth_token t;
	char id[AUTH_PUBLIC_ID_LEN + 1];
	const char *arg = ctx->args[0];

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
		return cli_fail(ctx, CLI_EXIT_FAIL,
		                "give the token's ID (the 16 hex digits after 'tagd_') as 'tagd "
		                "token list' shows it, or the whole token");
	}
	token_revoke_op_init(&o);
	o.org_name = cli_value(ctx, "org");
	o.public_id = id;
	enum store_status st = store_execute(ctx->store, &o.op);
	if (st == STORE_NOT_FOUND)
		return cli_fail(ctx, CLI_EXIT_NOT_FOUND,
		                "no live token with that ID in this organization");
	if (st != STORE_OK)
		return fail_org(ctx, st);
	fprintf(stderr, "revoked %s\n", id);
	return CLI_EXIT_OK;
}

/* ---- commit ---- */

static int commit_create(struct cli_ctx *ctx)
{
	struct vers_commit_create_op o;
	struct org org;
	const char *id = cli_value(ctx, "id");

	vers_commit_create_op_init(&o);
	if (id != NULL && !names_uuid_normalize(id, o.commit_id))
		return cli_fail(ctx, CLI_EXIT_FAIL, "--id takes a UUID");
	enum store_status st = store_org_by_name(ctx->store, cli_value(ctx, "org"), &org);
	if (st != STORE_OK)
		return fail_org(ctx, st);
	o.org_id = org.id;
	o.name = cli_value(ctx, "name");
	o.description = cli_value(ctx, "description");
	o.is_public = cli_switch(ctx, "public");
	st = store_execute(ctx->store, &o.op);
	org_release(&org);
	if (st == STORE_CONFLICT)
		return cli_fail(ctx, CLI_EXIT_EXISTS, "a commit with that id exists");
	if (st != STORE_OK)
		return cli_fail_store(ctx, st);
	printf("%s\n", o.out.commit_id);
	vers_commit_release(&o.out);
	return CLI_EXIT_OK;
}

/* ---- repo-auth ---- */

static const char *const repo_types[] = {"github", "gitlab", "gitee", "bitbucket", "devcloud"};

static int repo_auth_create(struct cli_ctx *ctx)
{
	struct ss_auth_create_op o;
	size_t n = 0;
	const char *const *ns = cli_values(ctx, "namespace", &n);
	const char *name = cli_value(ctx, "name"), *type = cli_value(ctx, "repo-type");
	bool known_type = type == NULL;

	if (!valid_org_name(name))
		return cli_fail(
		        ctx, CLI_EXIT_FAIL,
		        "--name takes 1-64 characters of letters, digits, '-', '_' and '.'");
	for (size_t i = 0; !known_type && i < sizeof(repo_types) / sizeof(repo_types[0]); i++)
		known_type = strcmp(type, repo_types[i]) == 0;
	if (!known_type)
		return cli_fail(ctx, CLI_EXIT_FAIL,
		                "--repo-type takes github, gitlab, gitee, bitbucket or devcloud");
	for (size_t i = 0; i < n; i++) {
		const char *why = names_ss_namespace(ns[i]);
		if (why != NULL)
			return cli_fail(ctx, CLI_EXIT_FAIL, "--namespace %s: %s", ns[i], why);
	}
	ss_auth_create_op_init(&o);
	o.org_name = cli_value(ctx, "org");
	o.name = name;
	o.repo_type = type;
	o.namespaces = ns;
	o.nnamespaces = n;
	enum store_status st = store_execute(ctx->store, &o.op);
	if (st == STORE_CONFLICT)
		return cli_fail(ctx, CLI_EXIT_EXISTS,
		                "an authorization with that name exists in the organization");
	if (st != STORE_OK)
		return fail_org(ctx, st);
	printf("%s\n", o.name);
	return CLI_EXIT_OK;
}

static json_t *auth_json(const struct ss_auth *a)
{
	json_t *ns = a->all_namespaces ? json_null() : json_array();
	for (size_t j = 0; !a->all_namespaces && ns != NULL && j < a->nnamespaces; j++)
		if (json_array_append_new(ns, json_string(a->namespaces[j])) != 0) {
			json_decref(ns);
			ns = NULL;
		}
	return ns ? json_pack("{s:s, s:s, s:o, s:b, s:o}", "name", a->name, "repo_type",
	                      a->repo_type, "created_at", cli_json_time(a->created_ms * 1000),
	                      "all_namespaces", a->all_namespaces, "namespaces", ns)
	          : NULL;
}

static int repo_auth_list(struct cli_ctx *ctx)
{
	struct org org;
	struct ss_auth *list;
	size_t n;
	enum store_status st = store_org_by_name(ctx->store, cli_value(ctx, "org"), &org);

	if (st != STORE_OK)
		return fail_org(ctx, st);
	st = store_ss_auth_list(ctx->store, org.id, &list, &n);
	org_release(&org);
	if (st != STORE_OK)
		return cli_fail_store(ctx, st);
	if (cli_switch(ctx, "json")) {
		json_t *arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++) {
			json_t *e = auth_json(&list[i]);
			if (e == NULL || json_array_append_new(arr, e) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		}
		ss_auth_list_free(list, n);
		return cli_print_json(ctx, arr ? json_pack("{s:o}", "authorizations", arr) : NULL);
	}
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
	return CLI_EXIT_OK;
}

static int repo_auth_delete(struct cli_ctx *ctx)
{
	struct ss_auth_delete_op o;

	ss_auth_delete_op_init(&o);
	o.org_name = cli_value(ctx, "org");
	o.name = cli_value(ctx, "name");
	enum store_status st = store_execute(ctx->store, &o.op);
	if (st == STORE_NOT_FOUND)
		return cli_fail(ctx, CLI_EXIT_NOT_FOUND, "no authorization with that name");
	if (st != STORE_OK)
		return fail_org(ctx, st);
	return CLI_EXIT_OK;
}

/* ---- the table ---- */

#define ORG_FLAG(what)                                                                             \
	{                                                                                          \
		"org", "NAME", "the organization " what, CLI_REQUIRED                              \
	}

static const struct cli_flag org_create_flags[] = {
        {"project-id", "ID", "its ServiceStage project id: the {project_id} of its paths", 0},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag json_flags[] = {
        {"json", NULL, JSON_HELP, 0},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag token_create_flags[] = {
        ORG_FLAG("the token acts for"),
        {"name", "LABEL", "a label for 'token list' (1-128 bytes)", 0},
        {"expires", "WHEN", "a duration (90d, 12h, 30m, 2w) or a date (2027-01-31, RFC 3339)", 0},
        {"scope", "SCOPE", "what it may do: read, write (default), maintain or admin", 0},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag token_list_flags[] = {
        ORG_FLAG("whose tokens to list"),
        {"json", NULL, JSON_HELP, 0},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag token_revoke_flags[] = {
        ORG_FLAG("the token belongs to"),
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag commit_create_flags[] = {
        ORG_FLAG("that owns the commit"),
        {"id", "UUID", "the commit's id (default: a new random UUID)", 0},
        {"name", "N", "its name (default: its id)", 0},
        {"description", "D", "its description", 0},
        {"public", NULL, "list it in GET /api/v1/commits/public", 0},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag repo_auth_create_flags[] = {
        ORG_FLAG("the authorization belongs to"),
        {"name", "AUTH", "its name, the X-Repo-Auth value (1-64 letters, digits, -_.)",
         CLI_REQUIRED},
        {"repo-type", "TYPE", "github, gitlab, gitee, bitbucket or devcloud (default)", 0},
        {"namespace", "NS", "a namespace it covers (default: every namespace)", CLI_REPEAT},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag repo_auth_list_flags[] = {
        ORG_FLAG("whose authorizations to list"),
        {"json", NULL, JSON_HELP, 0},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag repo_auth_delete_flags[] = {
        ORG_FLAG("the authorization belongs to"),
        {"name", "AUTH", "the authorization to delete", CLI_REQUIRED},
        {NULL, NULL, NULL, 0},
};

const struct cli_command cli_admin_commands[] = {
        {"org create", "NAME", 1, "Create an organization; prints its UUID.", NULL, CLI_STORE,
         org_create_flags, org_create},
        {"org list", NULL, 0,
         "List the organizations: name, UUID, ServiceStage project id, creation, live tokens.",
         NULL, CLI_STORE, json_flags, org_list},
        {"token create", NULL, 0,
         "Create an API token; prints it alone on stdout (it is shown only this once).",
         "A token is tagd_<ID>_<SECRET>: ID, 16 hex digits, is what 'token list' shows and\n"
         "'token revoke' takes; only a digest of the whole token is stored.\n"
         "Scopes: read (every GET), write (also commits, and tags no rule protects),\n"
         "maintain (also protected tags, repositories, projects, visibility), admin (also\n"
         "the protection rules).",
         CLI_STORE, token_create_flags, token_create},
        {"token list", NULL, 0,
         "List an organization's tokens: ID, status, scope, created, expires, last used, label.",
         "Secrets are never shown: ID is the 16 hex digits after 'tagd_' in the token.", CLI_STORE,
         token_list_flags, token_list},
        {"token revoke", "ID", 1,
         "Revoke a token by its ID (the 16 hex digits after 'tagd_'); it stops working at "
         "once.",
         "ID may also be the whole token.", CLI_STORE, token_revoke_flags, token_revoke},
        {"commit create", NULL, 0, "Register a commit so that it can be tagged; prints its UUID.",
         NULL, CLI_STORE, commit_create_flags, commit_create},
        {"repo-auth create", NULL, 0,
         "Create a ServiceStage repository authorization (the X-Repo-Auth value).", NULL, CLI_STORE,
         repo_auth_create_flags, repo_auth_create},
        {"repo-auth list", NULL, 0,
         "List an organization's repository authorizations ('*': every namespace).", NULL,
         CLI_STORE, repo_auth_list_flags, repo_auth_list},
        {"repo-auth delete", NULL, 0,
         "Delete a repository authorization; calls naming it fail at once.", NULL, CLI_STORE,
         repo_auth_delete_flags, repo_auth_delete},
};

const size_t cli_admin_count = sizeof(cli_admin_commands) / sizeof(cli_admin_commands[0]);
