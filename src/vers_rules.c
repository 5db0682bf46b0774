/*
 * vers_rules.c - protection rules in the Vers dialect (extensions): the
 * organization's (/api/v1/protected_tags) and a repository's
 * (/api/v1/repositories/{repo_name}/protected_tags): list, add, remove.
 * Order of checks: scope (403, app.c), body (400), pattern and mode (400),
 * repository (404), the rule (409 taken, 404 missing).
 */
#include <stdio.h>
#include <string.h>

#include "rule_reply.h"
#include "store_rule.h"
#include "vers_handlers.h"
#include "vers_reply.h"

/* The rules c means: the organization's, or those of the repository in its first parameter. */
static struct store_rule_where rule_where(const struct call *c, bool repo)
{
	return (struct store_rule_where){
	        .scope = repo ? HISTORY_SCOPE_REPOSITORY : HISTORY_SCOPE_ORGANIZATION,
	        .org_id = c->org_id,
	        .repo = repo ? call_param(c, 0) : NULL,
	};
}

/* The actor of a rule change, with the token's rights. */
static struct store_actor rule_actor(const struct call *c)
{
	struct store_actor a;
	vers_actor(c, &a);
	return a;
}

static void rule_status_error(struct call *c, enum store_status st, bool repo)
{
	char msg[96];
	switch (st) {
	case STORE_CONFLICT:
		vers_error(c, 409, "rule already exists");
		break;
	case STORE_NOT_FOUND:
		vers_error(c, 404, "rule not found");
		break;
	case STORE_INVALID:
		snprintf(msg, sizeof(msg), "too many rules: %s has %d at most",
		         repo ? "a repository" : "an organization", STORE_RULES_MAX);
		vers_error(c, 400, msg);
		break;
	default:
		vers_status_error(c, st);
		break;
	}
}

/* ---- GET ---- */

static void rule_list(struct call *c, bool repo)
{
	struct store_rule_where w = rule_where(c, repo);
	struct store_rule *list;
	size_t n;
	enum store_status st = store_rule_list(c->store, &w, &list, &n);
	if (st != STORE_OK) {
		rule_status_error(c, st, repo);
		return;
	}
	vers_json(c, 200, rule_reply_list(list, n));
	store_rule_list_free(&list, n);
}

void vers_rule_org_list(struct call *c)
{
	rule_list(c, false);
}

void vers_rule_repo_list(struct call *c)
{
	rule_list(c, true);
}

/* ---- POST ---- */

static void rule_add_finish(struct call *c, struct store_op *op)
{
	struct store_rule_add_op *o = &vers_deferred_of(c)->u.rule_add;
	if (op->status == STORE_OK)
		vers_json(c, 201, rule_reply_json(&o->out));
	else
		rule_status_error(c, op->status, o->where.scope == HISTORY_SCOPE_REPOSITORY);
	store_rule_release(&o->out);
	vers_deferred_end(c);
}

static void rule_add(struct call *c, bool repo)
{
	struct body_field f[] = {
	        {.name = "pattern", .kind = BODY_STRING, .required = true},
	        {.name = "mode", .kind = BODY_STRING, .required = true},
	};
	char why[96];
	enum rule_mode mode;

	json_t *body = vers_read_body(c, f, 2);
	if (body == NULL)
		return;
	if (rule_reply_check(f[0].str, f[1].str, &mode, why, sizeof(why)) != NULL) {
		json_decref(body);
		vers_error(c, 400, why);
		return;
	}
	struct vers_deferred *d = vers_deferred_new(c, body);
	if (d == NULL)
		return;
	struct store_rule_add_op *o = &d->u.rule_add;
	store_rule_add_op_init(o);
	o->where = rule_where(c, repo);
	o->pattern = f[0].str;
	o->mode = mode;
	o->actor = rule_actor(c);
	call_defer(c, &o->op, rule_add_finish);
}

void vers_rule_org_add(struct call *c)
{
	rule_add(c, false);
}

void vers_rule_repo_add(struct call *c)
{
	rule_add(c, true);
}

/* ---- DELETE .../protected_tags/{pattern} ---- */

static void rule_remove_finish(struct call *c, struct store_op *op)
{
	struct store_rule_remove_op *o = &vers_deferred_of(c)->u.rule_remove;
	if (op->status == STORE_OK)
		vers_no_content(c);
	else
		rule_status_error(c, op->status, o->where.scope == HISTORY_SCOPE_REPOSITORY);
	vers_deferred_end(c);
}

static void rule_remove(struct call *c, bool repo)
{
	const char *pattern = call_param(c, repo ? 1 : 0);
	char why[96];
	if (rule_reply_check(pattern, NULL, NULL, why, sizeof(why)) != NULL) {
		vers_error(c, 400, why);
		return;
	}
	struct vers_deferred *d = vers_deferred_new(c, NULL);
	if (d == NULL)
		return;
	struct store_rule_remove_op *o = &d->u.rule_remove;
	store_rule_remove_op_init(o);
	o->where = rule_where(c, repo);
	o->pattern = pattern;
	o->actor = rule_actor(c);
	call_defer(c, &o->op, rule_remove_finish);
}

void vers_rule_org_remove(struct call *c)
{
	rule_remove(c, false);
}

void vers_rule_repo_remove(struct call *c)
{
	rule_remove(c, true);
}
