/*
 * vers_hooks.c - webhooks in the Vers dialect (tagd extensions): an
 * organization's hooks (/api/v1/hooks) and a repository's
 * (/api/v1/repositories/{repo_name}/hooks), their delivery logs.  A hook's
 * secret is taken, never shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "hook.h"
#include "hook_send.h"
#include "store_hooks.h"
#include "vers_handlers.h"
#include "vers_reply.h"

/* ---- the JSON of a hook and of its log ---- */

static json_t *status_json(int status)
{
	return status > 0 ? json_integer(status) : json_null();
}

static json_t *hook_json(const struct store_hook *h)
{
	bool retrying = !h->disabled && h->failures > 0;
	return json_pack(
	        "{s:s, s:s, s:o, s:o, s:s, s:o, s:I, s:o, s:o, s:o, s:o, s:I}", "id", h->uuid,
	        "url", h->url, "repository",
	        h->scope == HOOK_SCOPE_REPOSITORY ? json_string(h->scope_name) : json_null(),
	        "created_at", vers_time(h->created_at), "state",
	        hook_state_name(h->disabled, h->failures), "disabled_reason",
	        vers_nullable(h->disabled_reason), "failures", (json_int_t)h->failures,
	        "next_attempt_at", retrying ? vers_time(h->next_attempt_at) : json_null(),
	        "last_attempt_at", h->last_attempt_at ? vers_time(h->last_attempt_at) : json_null(),
	        "last_status", status_json(h->last_status), "last_error",
	        vers_nullable(h->last_error), "delivered_seq", (json_int_t)h->delivered_seq);
}

static json_t *delivery_json(const struct store_hook *h, const struct store_hook_delivery *d)
{
	char id[HOOK_WEBHOOK_ID_LEN + 1];
	hook_webhook_id(h->uuid, d->event_id, id);
	bool waiting = !d->delivered && !h->disabled && d->seq > h->delivered_seq;
	return json_pack("{s:s, s:I, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "webhook_id", id,
	                 "seq", (json_int_t)d->seq, "event_id", d->event_id, "state",
	                 d->delivered ? "delivered" : "pending", "attempts",
	                 (json_int_t)d->attempts, "last_status", status_json(d->status),
	                 "last_error", vers_nullable(d->error), "first_attempt_at",
	                 vers_time(d->first_at), "last_attempt_at", vers_time(d->last_at),
	                 "next_attempt_at", waiting ? vers_time(h->next_attempt_at) : json_null());
}

/* ---- shared steps ---- */

static void hook_status_error(struct call *c, enum store_status st)
{
	if (st == STORE_NOT_FOUND)
		vers_error(c, 404, "hook not found");
	else
		vers_status_error(c, st);
}

static void list_answer(struct call *c, const struct store_hook_select *sel)
{
	struct store_hook *list = NULL;
	size_t n = 0;
	enum store_status st = store_hooks_list(c->store, sel, &list, &n);
	if (st != STORE_OK) {
		hook_status_error(c, st);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		if (json_array_append_new(arr, hook_json(&list[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	store_hook_list_free(&list, n);
	vers_json(c, 200, arr ? json_pack("{s:o}", "hooks", arr) : NULL);
}

static void create_finish(struct call *c, struct store_op *op)
{
	struct vers_deferred *d = c->handler_ctx;
	struct store_hook_create_op *o = &d->u.hook_create;
	if (op->status == STORE_OK) {
		struct store_hook h = {
		        .id = o->id,
		        .org_id = o->sel.org_id,
		        .dialect = HOOK_VERS,
		        .scope = o->sel.kind == STORE_HOOKS_REPOSITORY ? HOOK_SCOPE_REPOSITORY
		                                                       : HOOK_SCOPE_ORGANIZATION,
		        .scope_name = (char *)(o->sel.repo_name ? o->sel.repo_name : ""),
		        .url = (char *)o->url,
		        .created_at = o->created_at,
		        .delivered_seq = o->delivered_seq};
		memcpy(h.uuid, o->uuid, sizeof(h.uuid));
		vers_json(c, 201, hook_json(&h));
	} else if (op->status == STORE_INVALID) {
		vers_error(c, 409, "too many hooks: an organization has at most 100");
	} else {
		hook_status_error(c, op->status);
	}
	vers_deferred_end(c);
}

/* POST a hook of sel's scope: {url, secret}. */
static void create_defer(struct call *c, const struct store_hook_select *sel)
{
	struct body_field f[] = {
	        {.name = "url", .kind = BODY_STRING, .required = true},
	        {.name = "secret", .kind = BODY_STRING, .required = true},
	};
	char why[192];
	json_t *body = vers_read_body(c, f, 2);
	if (body == NULL)
		return;
	bool allow = c->app_opts != NULL && c->app_opts->hook_allow_private;
	if (!hook_url_check(f[0].str, allow, why, sizeof(why)) ||
	    !hook_secret_check(f[1].str, HOOK_SECRET_MIN_VERS, why, sizeof(why))) {
		json_decref(body);
		vers_invalid(c, "invalid hook", why);
		return;
	}
	struct vers_deferred *d = vers_deferred_new(c, body);
	if (d == NULL)
		return;
	struct store_hook_create_op *o = &d->u.hook_create;
	store_hook_create_op_init(o);
	o->sel = *sel;
	o->url = f[0].str;
	o->secret = f[1].str;
	call_defer(c, &o->op, create_finish);
}

static void delete_finish(struct call *c, struct store_op *op)
{
	if (op->status == STORE_OK)
		vers_no_content(c);
	else
		hook_status_error(c, op->status);
}

static void delete_defer(struct call *c, const struct store_hook_select *sel, const char *id)
{
	struct vers_deferred *d = vers_deferred_new(c, NULL);
	if (d == NULL)
		return;
	struct store_hook_delete_op *o = &d->u.hook_delete;
	store_hook_delete_op_init(o);
	o->sel = *sel;
	o->id = id;
	call_defer(c, &o->op, delete_finish);
}

/* ---- the organization's hooks ---- */

static struct store_hook_select org_hooks(const struct call *c)
{
	return (struct store_hook_select){
	        .org_id = c->org_id, .dialect = HOOK_VERS, .kind = STORE_HOOKS_ORGANIZATION};
}

void vers_hooks_list(struct call *c)
{
	struct store_hook_select sel = org_hooks(c);
	list_answer(c, &sel);
}

void vers_hook_create(struct call *c)
{
	struct store_hook_select sel = org_hooks(c);
	create_defer(c, &sel);
}

void vers_hook_delete(struct call *c)
{
	struct store_hook_select sel = org_hooks(c);
	delete_defer(c, &sel, call_param(c, 0));
}

void vers_hook_deliveries(struct call *c)
{
	struct store_hook_select sel = org_hooks(c);
	struct store_hook h;
	struct store_hook_delivery *list = NULL;
	size_t n = 0;
	enum store_status st = store_hook_get(c->store, &sel, call_param(c, 0), &h);
	if (st == STORE_OK) {
		st = store_hook_deliveries(c->store, h.id, &list, &n);
		if (st != STORE_OK)
			store_hook_release(&h);
	}
	if (st != STORE_OK) {
		hook_status_error(c, st);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		if (json_array_append_new(arr, delivery_json(&h, &list[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	json_t *doc =
	        arr ? json_pack("{s:o, s:o}", "hook", hook_json(&h), "deliveries", arr) : NULL;
	store_hook_delivery_list_free(&list, n);
	store_hook_release(&h);
	vers_json(c, 200, doc);
}

/* ---- a repository's hooks ---- */

static struct store_hook_select repo_hooks(const struct call *c)
{
	return (struct store_hook_select){.org_id = c->org_id,
	                                  .dialect = HOOK_VERS,
	                                  .kind = STORE_HOOKS_REPOSITORY,
	                                  .repo_name = call_param(c, 0)};
}

void vers_repo_hooks_list(struct call *c)
{
	struct store_hook_select sel = repo_hooks(c);
	list_answer(c, &sel);
}

void vers_repo_hook_create(struct call *c)
{
	struct store_hook_select sel = repo_hooks(c);
	create_defer(c, &sel);
}

void vers_repo_hook_delete(struct call *c)
{
	struct store_hook_select sel = repo_hooks(c);
	delete_defer(c, &sel, call_param(c, 1));
}
