/*
 * cli_hooks.c - "tagd hook list|deliveries|redeliver|enable": an
 * organization's webhooks of both dialects, their delivery logs, sending
 * again and re-enabling.  Secrets are never printed.  See cli_internal.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "clock.h"
#include "hook.h"
#include "store_hooks.h"

static const char JSON_HELP[] = "print one JSON document instead of a table";

/* A hook's id as its dialect shows it: the UUID (Vers) or the number (ServiceStage). */
static const char *shown_id(const struct store_hook *h, char buf[24])
{
	if (h->dialect == HOOK_VERS)
		return h->uuid;
	snprintf(buf, 24, "%" PRId64, h->id);
	return buf;
}

static json_t *nullable(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *hook_json(const struct store_hook *h)
{
	char buf[24];
	bool retrying = !h->disabled && h->failures > 0;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o}",
	                 "id", shown_id(h, buf), "dialect", hook_dialect_name(h->dialect), "scope",
	                 hook_scope_name(h->scope), "scope_name", h->scope_name, "url", h->url,
	                 "state", hook_state_name(h->disabled, h->failures), "disabled_reason",
	                 nullable(h->disabled_reason), "failures", (json_int_t)h->failures,
	                 "delivered_seq", (json_int_t)h->delivered_seq, "created_at",
	                 cli_json_time(h->created_at), "last_attempt_at",
	                 cli_json_time(h->last_attempt_at), "next_attempt_at",
	                 retrying ? cli_json_time(h->next_attempt_at) : json_null(), "last_status",
	                 h->last_status > 0 ? json_integer(h->last_status) : json_null(),
	                 "last_error", nullable(h->last_error));
}

/* tagd hook list */
static int hook_list(struct cli_ctx *ctx)
{
	int64_t org_id = 0;
	int rc = cli_org_id(ctx, &org_id);
	if (rc != CLI_EXIT_OK)
		return rc;
	struct store_hook_select sel = {.org_id = org_id, .kind = STORE_HOOKS_ALL};
	struct store_hook *list = NULL;
	size_t n = 0;
	enum store_status st = store_hooks_list(ctx->store, &sel, &list, &n);
	if (st != STORE_OK)
		return cli_fail_store(ctx, st);
	if (cli_switch(ctx, "json")) {
		json_t *arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++) {
			if (json_array_append_new(arr, hook_json(&list[i])) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		}
		store_hook_list_free(&list, n);
		return cli_print_json(ctx, arr ? json_pack("{s:o}", "hooks", arr) : NULL);
	}
	printf("%-36s  %-12s  %-24s  %-20s  %8s  %10s  %s\n", "ID", "DIALECT", "SCOPE", "STATE",
	       "FAILURES", "DELIVERED", "URL");
	for (size_t i = 0; i < n; i++) {
		const struct store_hook *h = &list[i];
		char buf[24];
		printf("%-36s  %-12s  %-24s  %-20s  %8" PRId64 "  %10" PRId64 "  %s\n",
		       shown_id(h, buf), hook_dialect_name(h->dialect),
		       h->scope == HOOK_SCOPE_ORGANIZATION ? "(organization)" : h->scope_name,
		       hook_state_name(h->disabled, h->failures), h->failures, h->delivered_seq,
		       h->url);
	}
	store_hook_list_free(&list, n);
	return CLI_EXIT_OK;
}

/* The hook the first argument names; on failure has printed and returns the exit status. */
static int hook_of(const struct cli_ctx *ctx, int64_t org_id, struct store_hook *h)
{
	struct store_hook_select sel = {.org_id = org_id, .kind = STORE_HOOKS_ALL};
	enum store_status st = store_hook_get(ctx->store, &sel, ctx->args[0], h);
	if (st == STORE_NOT_FOUND)
		return cli_fail(ctx, CLI_EXIT_NOT_FOUND, "no such hook in the organization");
	return st == STORE_OK ? CLI_EXIT_OK : cli_fail_store(ctx, st);
}

/* tagd hook deliveries HOOK */
static int hook_deliveries(struct cli_ctx *ctx)
{
	int64_t org_id = 0;
	struct store_hook h;
	int rc = cli_org_id(ctx, &org_id);
	if (rc == CLI_EXIT_OK)
		rc = hook_of(ctx, org_id, &h);
	if (rc != CLI_EXIT_OK)
		return rc;
	struct store_hook_delivery *list = NULL;
	size_t n = 0;
	enum store_status st = store_hook_deliveries(ctx->store, h.id, &list, &n);
	if (st != STORE_OK) {
		store_hook_release(&h);
		return cli_fail_store(ctx, st);
	}
	bool json = cli_switch(ctx, "json");
	json_t *arr = json ? json_array() : NULL;
	if (!json)
		printf("%-10s  %-36s  %-9s  %8s  %6s  %-27s  %-27s  %s\n", "SEQ", "WEBHOOK ID",
		       "STATE", "ATTEMPTS", "STATUS", "LAST ATTEMPT", "NEXT ATTEMPT", "LAST ERROR");
	for (size_t i = 0; i < n; i++) {
		const struct store_hook_delivery *d = &list[i];
		char id[HOOK_WEBHOOK_ID_LEN + 1], last[CLOCK_RFC3339_LEN], next[CLOCK_RFC3339_LEN];
		hook_webhook_id(h.uuid, d->event_id, id);
		bool waiting = !d->delivered && !h.disabled && d->seq > h.delivered_seq;
		clock_format_rfc3339(d->last_at, last);
		if (waiting)
			clock_format_rfc3339(h.next_attempt_at, next);
		if (json) {
			json_t *e = json_pack(
			        "{s:I, s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "seq",
			        (json_int_t)d->seq, "webhook_id", id, "event_id", d->event_id,
			        "state", d->delivered ? "delivered" : "pending", "attempts",
			        (json_int_t)d->attempts, "last_status",
			        d->status > 0 ? json_integer(d->status) : json_null(), "last_error",
			        nullable(d->error), "first_attempt_at", cli_json_time(d->first_at),
			        "last_attempt_at", cli_json_time(d->last_at), "next_attempt_at",
			        waiting ? json_string(next) : json_null());
			if (arr != NULL && json_array_append_new(arr, e) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		} else {
			char status[8];
			snprintf(status, sizeof(status), "%d", d->status);
			printf("%-10" PRId64 "  %-36s  %-9s  %8" PRId64 "  %6s  %-27s  %-27s  %s\n",
			       d->seq, id, d->delivered ? "delivered" : "pending", d->attempts,
			       d->status > 0 ? status : "-", last, waiting ? next : "-",
			       d->error ? d->error : "-");
		}
	}
	store_hook_delivery_list_free(&list, n);
	store_hook_release(&h);
	if (json)
		return cli_print_json(ctx, arr ? json_pack("{s:o}", "deliveries", arr) : NULL);
	return CLI_EXIT_OK;
}

/* tagd hook redeliver HOOK [--from SEQ] */
static int hook_redeliver(struct cli_ctx *ctx)
{
	const char *from = cli_value(ctx, "from");
	long long seq = 0;
	if (from != NULL) {
		char *end = NULL;
		seq = strtoll(from, &end, 10);
		if (from[0] < '0' || from[0] > '9' || *end != '\0' || seq < 1)
			return cli_fail(ctx, CLI_EXIT_USAGE,
			                "--from takes an event's seq (1 or more)");
	}
	int64_t org_id = 0;
	int rc = cli_org_id(ctx, &org_id);
	if (rc != CLI_EXIT_OK)
		return rc;
	struct store_hook_redeliver_op o;
	store_hook_redeliver_op_init(&o);
	o.org_id = org_id;
	o.id = ctx->args[0];
	o.from_seq = seq;
	enum store_status st = store_execute(ctx->store, &o.op);
	if (st == STORE_NOT_FOUND)
		return cli_fail(ctx, CLI_EXIT_NOT_FOUND, "no such hook in the organization");
	if (st == STORE_PRECONDITION)
		return cli_fail(ctx, CLI_EXIT_FAIL,
		                "the hook is disabled: tagd hook enable it first");
	if (st == STORE_INVALID)
		return cli_fail(ctx, CLI_EXIT_FAIL,
		                "--from is after the organization's last event");
	if (st != STORE_OK)
		return cli_fail_store(ctx, st);
	printf("%s\n", seq > 0 ? "events from that seq will be delivered again"
	                       : "the next delivery is due now");
	return CLI_EXIT_OK;
}

/* tagd hook enable HOOK */
static int hook_enable(struct cli_ctx *ctx)
{
	int64_t org_id = 0;
	int rc = cli_org_id(ctx, &org_id);
	if (rc != CLI_EXIT_OK)
		return rc;
	struct store_hook_enable_op o;
	store_hook_enable_op_init(&o);
	o.org_id = org_id;
	o.id = ctx->args[0];
	enum store_status st = store_execute(ctx->store, &o.op);
	if (st == STORE_NOT_FOUND)
		return cli_fail(ctx, CLI_EXIT_NOT_FOUND, "no such hook in the organization");
	if (st != STORE_OK)
		return cli_fail_store(ctx, st);
	printf("enabled\n");
	return CLI_EXIT_OK;
}

/* ---- the table ---- */

static const struct cli_flag list_flags[] = {
        {"org", "NAME", "the organization whose hooks to list", CLI_REQUIRED},
        {"json", NULL, JSON_HELP, 0},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag deliveries_flags[] = {
        {"org", "NAME", "the hook's organization", CLI_REQUIRED},
        {"json", NULL, JSON_HELP, 0},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag redeliver_flags[] = {
        {"org", "NAME", "the hook's organization", CLI_REQUIRED},
        {"from", "SEQ", "deliver again every event of the hook's scope from this seq on", 0},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag enable_flags[] = {
        {"org", "NAME", "the hook's organization", CLI_REQUIRED},
        {NULL, NULL, NULL, 0},
};

const struct cli_command cli_hooks_commands[] = {
        {"hook list", NULL, 0, "List an organization's webhooks, both dialects.",
         "ID is the UUID of a Vers hook or the number of a ServiceStage hook; STATE is\n"
         "active, temporarily_disabled (4 failures in a row: retried on the schedule) or\n"
         "disabled (410 Gone, or 40 failures in a row: until enabled).  No secret is shown.",
         CLI_STORE, list_flags, hook_list},
        {"hook deliveries", "HOOK", 1, "Print a hook's delivery log, newest first.",
         "One line per event it attempted (the newest 50): seq, webhook-id, state, attempts,\n"
         "the last HTTP status, when, the next attempt of a pending one, the last error.",
         CLI_STORE, deliveries_flags, hook_deliveries},
        {"hook redeliver", "HOOK", 1, "Retry a hook's pending delivery now, or from an event on.",
         "With --from SEQ every event of the hook's scope from that seq on is delivered\n"
         "again, in order, with the same webhook-id as before.",
         CLI_STORE, redeliver_flags, hook_redeliver},
        {"hook enable", "HOOK", 1, "Enable a disabled hook again; its failures are cleared.",
         "Its deliveries resume where they stopped (events retention pruned meanwhile are\n"
         "not delivered).",
         CLI_STORE, enable_flags, hook_enable},
};

const size_t cli_hooks_count = sizeof(cli_hooks_commands) / sizeof(cli_hooks_commands[0]);
