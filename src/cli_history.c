/*
 * cli_history.c - "tagd history" (an organization's tag changes, oldest
 * first), "tagd history verify" (recompute the hash chain) and "tagd history
 * prune" (retention by hand).  See cli_internal.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "clock.h"
#include "expiry.h"
#include "store_history.h"

/* One event: a JSON line with --json, else one line of words. */
static bool print_event(const struct history_event *ev, bool json)
{
	if (json) {
		size_t len;
		char *text = history_event_json(ev, &len);
		if (text == NULL)
			return false;
		printf("%s\n", text);
		free(text);
		return true;
	}
	char at[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(ev->at, at);
	const char *where =
	        ev->scope == HISTORY_SCOPE_COMMIT_TAGS ? "(commit tags)" : ev->scope_name;
	printf("%" PRId64 " %s %s %s %s %s <- %s by %s%s%s%s request %s\n", ev->seq, at,
	       history_action_name(ev->action), where, ev->tag, ev->commit_id ? ev->commit_id : "-",
	       ev->previous_commit_id ? ev->previous_commit_id : "-",
	       ev->token_id ? ev->token_id : "tagd", ev->token_label ? " (" : "",
	       ev->token_label ? ev->token_label : "", ev->token_label ? ")" : "",
	       ev->request_id ? ev->request_id : "-");
	return true;
}

static bool event_matches(const struct history_event *ev, const struct cli_ctx *ctx)
{
	const char *repo = cli_value(ctx, "repo"), *project = cli_value(ctx, "project");
	const char *tag = cli_value(ctx, "tag");
	if (repo && (ev->scope != HISTORY_SCOPE_REPOSITORY || strcmp(ev->scope_name, repo) != 0))
		return false;
	if (project &&
	    (ev->scope != HISTORY_SCOPE_SERVICESTAGE || strcmp(ev->scope_name, project) != 0))
		return false;
	if (cli_switch(ctx, "commit-tags") && ev->scope != HISTORY_SCOPE_COMMIT_TAGS)
		return false;
	return tag == NULL || strcmp(ev->tag, tag) == 0;
}

/* tagd history: the organization's events in chain order, filtered. */
static int history_list(struct cli_ctx *ctx)
{
	int64_t org_id;
	bool json = cli_switch(ctx, "json");
	int scopes = (cli_value(ctx, "repo") != NULL) + (cli_value(ctx, "project") != NULL) +
	             cli_switch(ctx, "commit-tags");
	if (scopes > 1)
		return cli_fail(ctx, CLI_EXIT_USAGE,
		                "give one of --repo, --commit-tags and --project");
	int rc = cli_org_id(ctx, &org_id);
	if (rc != CLI_EXIT_OK)
		return rc;
	int64_t after = 0;
	for (;;) {
		struct history_list l;
		enum store_status st =
		        store_history_feed(ctx->store, org_id, after, HISTORY_PAGE_MAX, &l);
		if (st != STORE_OK)
			return cli_fail_store(ctx, st);
		bool ok = true;
		for (size_t i = 0; ok && i < l.n; i++)
			if (event_matches(&l.items[i], ctx))
				ok = print_event(&l.items[i], json);
		bool more = l.more && l.n > 0;
		if (l.n > 0)
			after = l.items[l.n - 1].seq;
		history_list_release(&l);
		if (!ok)
			return cli_fail(ctx, CLI_EXIT_FAIL, "out of memory");
		if (!more)
			break;
	}
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* --expect SEQ:HASH into *seq and hash; false when it is not that. */
static bool parse_expect(const char *text, long long *seq, uint8_t hash[HISTORY_HASH_LEN])
{
	const char *colon = strchr(text, ':');
	char *end = NULL;
	if (text[0] < '0' || text[0] > '9')
		return false;
	*seq = strtoll(text, &end, 10);
	return colon != NULL && end == colon && *seq >= 0 && history_unhex(colon + 1, hash);
}

/* tagd history verify: recompute the chain and check the tags against it. */
static int history_verify(struct cli_ctx *ctx)
{
	const char *expect = cli_value(ctx, "expect");
	long long want_seq = 0;
	uint8_t want[HISTORY_HASH_LEN], have[HISTORY_HASH_LEN];
	int64_t org_id;

	if (expect != NULL && !parse_expect(expect, &want_seq, want))
		return cli_fail(ctx, CLI_EXIT_USAGE,
		                "--expect takes SEQ:HASH, the seq and the 64 hex digits of a head");
	int rc = cli_org_id(ctx, &org_id);
	if (rc != CLI_EXIT_OK)
		return rc;
	struct history_verify v;
	enum store_status st = store_history_verify(ctx->store, org_id, &v);
	if (st != STORE_OK)
		return cli_fail_store(ctx, st);
	if (!v.ok)
		return cli_fail(ctx, CLI_EXIT_FAIL, "%s", v.problem);
	if (expect != NULL && want_seq > v.head.seq)
		return cli_fail(
		        ctx, CLI_EXIT_FAIL,
		        "event %lld of the expected head is missing: the chain ends at %lld "
		        "(events were removed)",
		        want_seq, (long long)v.head.seq);
	if (expect != NULL && want_seq > 0 && want_seq < v.head.floor_seq)
		return cli_fail(
		        ctx, CLI_EXIT_FAIL,
		        "event %lld was pruned by retention; verify against a head published "
		        "since seq %lld",
		        want_seq, (long long)v.head.floor_seq);
	if (expect != NULL && want_seq > 0) {
		st = store_history_hash_at(ctx->store, org_id, want_seq, have);
		if (st != STORE_OK && st != STORE_NOT_FOUND)
			return cli_fail_store(ctx, st);
		if (st != STORE_OK || memcmp(have, want, HISTORY_HASH_LEN) != 0)
			return cli_fail(ctx, CLI_EXIT_FAIL,
			                "event %lld does not have the expected hash (the chain was "
			                "rewritten)",
			                want_seq);
	}
	char hex[HISTORY_HEX_LEN + 1];
	history_hex(v.head.hash, hex);
	printf("ok: %" PRId64 " events from seq %" PRId64 ", %" PRId64
	       " tags checked; head %" PRId64 " %s\n",
	       v.events, v.head.floor_seq + 1, v.tags, v.head.seq, hex);
	return CLI_EXIT_OK;
}

/* tagd history prune: retention by hand (serve does it with history_retention). */
static int history_prune(struct cli_ctx *ctx)
{
	int64_t keep;
	if (!expiry_duration(cli_value(ctx, "older-than"), &keep))
		return cli_fail(ctx, CLI_EXIT_USAGE,
		                "--older-than takes a duration such as 90d, 52w or 12h");
	int64_t total = 0, before = clock_now_us() - keep;
	enum store_status st;
	struct history_prune_op op;
	do {
		history_prune_op_init(&op);
		op.before = before;
		st = store_execute(ctx->store, &op.op);
		total += op.pruned;
	} while (st == STORE_OK && op.more);
	if (st != STORE_OK)
		return cli_fail_store(ctx, st);
	printf("pruned %" PRId64 " events\n", total);
	return CLI_EXIT_OK;
}

/* ---- the table ---- */

static const struct cli_flag history_flags[] = {
        {"org", "NAME", "the organization whose history to print", CLI_REQUIRED},
        {"repo", "R", "only the tags of Vers repository R", 0},
        {"commit-tags", NULL, "only the legacy commit tags", 0},
        {"project", "NS/PROJECT", "only the tags of that ServiceStage project (by names)", 0},
        {"tag", "T", "only tags named T", 0},
        {"json", NULL, "print each event as the API shows it, one JSON object per line", 0},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag verify_flags[] = {
        {"org", "NAME", "the organization whose chain to verify", CLI_REQUIRED},
        {"expect", "SEQ:HASH",
         "a head published earlier (GET /api/v1/events/head): the chain must still hold it", 0},
        {NULL, NULL, NULL, 0},
};
static const struct cli_flag prune_flags[] = {
        {"older-than", "DURATION", "prune events older than this (90d, 52w, 12h...)", CLI_REQUIRED},
        {NULL, NULL, NULL, 0},
};

const struct cli_command cli_history_commands[] = {
        {"history", NULL, 0, "Print an organization's tag changes, oldest first.",
         "One line per event: seq, time, action, where, tag, commit <- previous commit,\n"
         "the actor's token id (and label) and the request id.",
         CLI_STORE, history_flags, history_list},
        {"history verify", NULL, 0,
         "Recompute an organization's hash chain and check every tag against it.",
         "From the first event kept, every hash and every link to a tag's previous event;\n"
         "then every tag changed since history began is as its last event left it.  Prints\n"
         "the head; exits 1 naming the first event that does not match.",
         CLI_STORE, verify_flags, history_verify},
        {"history prune", NULL, 0,
         "Delete every organization's events older than DURATION, keeping the chain verifiable.",
         "What serve does with history_retention; a checkpoint hash is kept at the cut.", CLI_STORE,
         prune_flags, history_prune},
};

const size_t cli_history_count = sizeof(cli_history_commands) / sizeof(cli_history_commands[0]);
