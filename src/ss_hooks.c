/*
 * ss_hooks.c - ServiceStage hooks, as the real API has them (CreateHook,
 * ListHooks, DeleteHook): a project's hooks, each {id, type, callback_url}.
 * They deliver GitLab's Tag Push Hook (hook.h).  The secret is taken, never
 * shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "hook.h"
#include "hook_send.h"
#include "ss_internal.h"
#include "ss_reply.h"
#include "store_hooks.h"

/* The one kind of hook tagd has: what it delivers. */
#define SS_HOOK_TYPE "tag_push"

static json_t *hook_json(int64_t id, const char *url)
{
	char text[24];
	snprintf(text, sizeof(text), "%lld", (long long)id);
	return json_pack("{s:s, s:s, s:s}", "id", text, "type", SS_HOOK_TYPE, "callback_url", url);
}

static void hook_store_error(struct call *c, enum store_status st)
{
	ss_store_error(c, st);
	if (st == STORE_NOT_FOUND)
		call_set_reason(c, "namespace not found, or no such hook in the project");
	else if (st == STORE_INVALID)
		call_set_reason(c, "the organization has the most hooks it may have (100)");
}

static struct store_hook_select project_hooks(const struct call *c, const struct ss_where *w)
{
	return (struct store_hook_select){.org_id = c->org_id,
	                                  .dialect = HOOK_SERVICESTAGE,
	                                  .kind = STORE_HOOKS_PROJECT,
	                                  .where = w};
}

/* ---- POST .../hooks ---- */

static void create_finish(struct call *c, struct store_op *op)
{
	struct ss_deferred *d = c->handler_ctx;
	if (op->status == STORE_OK)
		ss_json(c, 200, hook_json(d->u.hook_create.id, d->u.hook_create.url));
	else
		hook_store_error(c, op->status);
	ss_deferred_end(c);
}

void ss_hook_create(struct call *c)
{
	struct body_field f[] = {
	        {.name = "secret", .kind = BODY_STRING, .required = true},
	        {.name = "url", .kind = BODY_STRING, .required = true},
	};
	struct ss_where w;
	char why[192], reason[224];

	if (!ss_repo_where(c, &w, true))
		return;
	json_t *body = ss_read_body(c, f, 2);
	if (body == NULL)
		return;
	bool allow = c->app_opts != NULL && c->app_opts->hook_allow_private;
	if (!hook_url_check(f[1].str, allow, why, sizeof(why)) ||
	    !hook_secret_check(f[0].str, 1, why, sizeof(why))) {
		snprintf(reason, sizeof(reason), "request body: %s", why);
		json_decref(body);
		ss_bad_param(c, reason);
		return;
	}
	struct ss_deferred *d = ss_deferred_new(c, body, NULL);
	if (d == NULL)
		return;
	d->where = w;
	struct store_hook_create_op *o = &d->u.hook_create;
	store_hook_create_op_init(o);
	o->sel = project_hooks(c, &d->where);
	o->url = f[1].str;
	o->secret = f[0].str;
	call_defer(c, &o->op, create_finish);
}

/* ---- GET .../hooks ---- */

void ss_hooks_list(struct call *c)
{
	struct ss_where w;
	struct store_hook *list = NULL;
	size_t n = 0;

	if (!ss_repo_where(c, &w, true))
		return;
	struct store_hook_select sel = project_hooks(c, &w);
	enum store_status st = store_hooks_list(c->store, &sel, &list, &n);
	if (st != STORE_OK) {
		hook_store_error(c, st);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		if (json_array_append_new(arr, hook_json(list[i].id, list[i].url)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	store_hook_list_free(&list, n);
	ss_json(c, 200, arr ? json_pack("{s:o}", "hooks", arr) : NULL);
}

/* ---- DELETE .../hooks/{hook_id} ---- */

static void delete_finish(struct call *c, struct store_op *op)
{
	if (op->status == STORE_OK)
		ss_no_content(c);
	else
		hook_store_error(c, op->status);
}

void ss_hook_delete(struct call *c)
{
	struct ss_where w;

	if (!ss_repo_where(c, &w, true))
		return;
	struct ss_deferred *d = ss_deferred_new(c, NULL, NULL);
	if (d == NULL)
		return;
	d->where = w;
	struct store_hook_delete_op *o = &d->u.hook_delete;
	store_hook_delete_op_init(o);
	o->sel = project_hooks(c, &d->where);
	o->id = call_param(c, SS_P_TAG); /* the hook id stands where a tag name would */
	call_defer(c, &o->op, delete_finish);
}
