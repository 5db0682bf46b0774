/*
 * ss_rules.c - protection rules of a ServiceStage project (extensions):
 * GET, POST .../{namespace}/{project}/protected_tags and DELETE
 * .../protected_tags/{pattern}, in the ServiceStage envelope.  Checks in the
 * dialect's order: token, project id and scope (app.c), X-Repo-Auth (0450),
 * body, pattern and mode (0400), namespace coverage (0451), namespace and
 * project (0400), a taken pattern (0403), a missing rule (0400).
 */
#include <stdio.h>

#include "rule_reply.h"
#include "ss_internal.h"
#include "ss_reply.h"

/* The rules of the project c names, once X-Repo-Auth is checked (answered when false). */
static bool rule_where(struct call *c, struct store_rule_where *out)
{
	*out = (struct store_rule_where){.scope = HISTORY_SCOPE_SERVICESTAGE, .org_id = c->org_id};
	return ss_repo_where(c, &out->ss, true);
}

static void rule_status_error(struct call *c, enum store_status st)
{
	if (st == STORE_NOT_FOUND)
		ss_bad_param(c, "no rule of that pattern in the project");
	else if (st == STORE_INVALID)
		ss_bad_param(c, "too many rules: the project has the most it may");
	else
		ss_store_error(c, st);
}

void ss_rules_list(struct call *c)
{
	struct store_rule_where w;
	struct store_rule *list;
	size_t n;

	if (!rule_where(c, &w))
		return;
	enum store_status st = store_rule_list(c->store, &w, &list, &n);
	if (st != STORE_OK) {
		rule_status_error(c, st);
		return;
	}
	ss_json(c, 200, rule_reply_list(list, n));
	store_rule_list_free(&list, n);
}

static void rule_add_finish(struct call *c, struct store_op *op)
{
	struct store_rule_add_op *o = &((struct ss_deferred *)c->handler_ctx)->u.rule_add;
	if (op->status == STORE_OK)
		ss_json(c, 200, rule_reply_json(&o->out));
	else
		rule_status_error(c, op->status);
	store_rule_release(&o->out);
	ss_deferred_end(c);
}

void ss_rule_add(struct call *c)
{
	struct body_field f[] = {
	        {.name = "pattern", .kind = BODY_STRING, .required = true},
	        {.name = "mode", .kind = BODY_STRING, .required = true},
	};
	struct store_rule_where w;
	enum rule_mode mode;
	char why[96];

	if (!rule_where(c, &w))
		return;
	json_t *body = ss_read_body(c, f, 2);
	if (body == NULL)
		return;
	if (rule_reply_check(f[0].str, f[1].str, &mode, why, sizeof(why)) != NULL) {
		json_decref(body);
		ss_bad_param(c, why);
		return;
	}
	struct ss_deferred *d = ss_deferred_new(c, body, NULL);
	if (d == NULL)
		return;
	struct store_rule_add_op *o = &d->u.rule_add;
	store_rule_add_op_init(o);
	o->where = w;
	o->pattern = f[0].str;
	o->mode = mode;
	ss_actor(c, &o->actor);
	call_defer(c, &o->op, rule_add_finish);
}

static void rule_remove_finish(struct call *c, struct store_op *op)
{
	if (op->status == STORE_OK)
		ss_no_content(c);
	else
		rule_status_error(c, op->status);
	ss_deferred_end(c);
}

void ss_rule_remove(struct call *c)
{
	struct store_rule_where w;
	char why[96];

	if (!rule_where(c, &w))
		return;
	const char *pattern = call_param(c, SS_P_TAG);
	if (rule_reply_check(pattern, NULL, NULL, why, sizeof(why)) != NULL) {
		ss_bad_param(c, why);
		return;
	}
	struct ss_deferred *d = ss_deferred_new(c, NULL, NULL);
	if (d == NULL)
		return;
	struct store_rule_remove_op *o = &d->u.rule_remove;
	store_rule_remove_op_init(o);
	o->where = w;
	o->pattern = pattern;
	ss_actor(c, &o->actor);
	call_defer(c, &o->op, rule_remove_finish);
}
