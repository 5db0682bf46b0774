/*
 * cli_history.c - "tagd history": list, verify and prune the history of tag
 * changes.  See cli_history.h.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_history.h"
#include "clock.h"
#include "expiry.h"
#include "log.h"
#include "store_history.h"
#include "store_org.h"

static const char USAGE_LIST[] =
        "tagd history --org NAME [--repo R | --commit-tags | --project NS/PROJECT] [--tag T] "
        "[--json] [--db PATH]";
static const char USAGE_VERIFY[] = "tagd history verify --org NAME [--expect SEQ:HASH] [--db PATH]";
static const char USAGE_PRUNE[] = "tagd history prune --older-than DURATION [--db PATH]";

bool cli_history_handles(const char *word)
{
	return strcmp(word, "history") == 0;
}

void cli_history_usage(FILE *f)
{
	fprintf(f, "  %s\n", USAGE_LIST);
	fprintf(f, "  %s\n", USAGE_VERIFY);
	fprintf(f, "  %s\n", USAGE_PRUNE);
}

/* The options of every history command; each may be given once. */
struct history_opts {
	const char *org, *repo, *project, *tag, *older_than, *expect, *db;
	bool commit_tags, json, help;
};

enum {
	OPT_ORG = 1,
	OPT_REPO,
	OPT_PROJECT,
	OPT_TAG,
	OPT_OLDER,
	OPT_EXPECT,
	OPT_DB,
	OPT_CTAGS,
	OPT_JSON
};

static bool parse_opts(const char *label, const char *usage, int argc, char **argv,
                       unsigned allowed, struct history_opts *o)
{
	static const struct option longopts[] = {
	        {"org", required_argument, NULL, OPT_ORG},
	        {"repo", required_argument, NULL, OPT_REPO},
	        {"project", required_argument, NULL, OPT_PROJECT},
	        {"tag", required_argument, NULL, OPT_TAG},
	        {"older-than", required_argument, NULL, OPT_OLDER},
	        {"expect", required_argument, NULL, OPT_EXPECT},
	        {"db", required_argument, NULL, OPT_DB},
	        {"commit-tags", no_argument, NULL, OPT_CTAGS},
	        {"json", no_argument, NULL, OPT_JSON},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	unsigned seen = 0;
	int opt;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'h') {
			o->help = true;
			return true;
		}
		if (opt < OPT_ORG || opt > OPT_JSON || !(allowed & (1u << opt))) {
			fprintf(stderr, "tagd %s: bad option '%s'; usage: %s\n", label,
			        argv[optind - 1], usage);
			return false;
		}
		if (seen & (1u << opt)) {
			fprintf(stderr, "tagd %s: '%s' given twice; usage: %s\n", label,
			        argv[optind - 1], usage);
			return false;
		}
		seen |= 1u << opt;
		const char **slot[] = {[OPT_ORG] = &o->org,
		                       [OPT_REPO] = &o->repo,
		                       [OPT_PROJECT] = &o->project,
		                       [OPT_TAG] = &o->tag,
		                       [OPT_OLDER] = &o->older_than,
		                       [OPT_EXPECT] = &o->expect,
		                       [OPT_DB] = &o->db};
		if (opt == OPT_CTAGS)
			o->commit_tags = true;
		else if (opt == OPT_JSON)
			o->json = true;
		else
			*slot[opt] = optarg;
	}
	if (optind != argc) {
		fprintf(stderr, "tagd %s: unexpected '%s'; usage: %s\n", label, argv[optind],
		        usage);
		return false;
	}
	return true;
}

static struct store *open_store(const char *label, const char *db_flag)
{
	log_set_level(LOG_WARN);
	const char *db = cli_db_path(db_flag);
	char *err = NULL;
	struct store *s = store_open(db, NULL, &err);
	if (s == NULL) {
		fprintf(stderr, "tagd %s: %s\n", label, err ? err : "cannot open database");
		free(err);
	}
	return s;
}

/* The id of organization name; prints and returns false when there is none. */
static bool org_id_of(struct store *s, const char *label, const char *name, int64_t *id)
{
	struct org org;
	enum store_status st = store_org_by_name(s, name, &org);
	if (st != STORE_OK) {
		fprintf(stderr, "tagd %s: %s\n", label,
		        st == STORE_ORG_NOT_FOUND ? "no such organization" : store_status_str(st));
		return false;
	}
	*id = org.id;
	org_release(&org);
	return true;
}

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

static bool event_matches(const struct history_event *ev, const struct history_opts *o)
{
	if (o->repo && (ev->scope != HISTORY_SCOPE_REPOSITORY || strcmp(ev->scope_name, o->repo)))
		return false;
	if (o->project &&
	    (ev->scope != HISTORY_SCOPE_SERVICESTAGE || strcmp(ev->scope_name, o->project)))
		return false;
	if (o->commit_tags && ev->scope != HISTORY_SCOPE_COMMIT_TAGS)
		return false;
	return o->tag == NULL || strcmp(ev->tag, o->tag) == 0;
}

/* tagd history: the organization's events in chain order, filtered. */
static int history_list(int argc, char **argv)
{
	struct history_opts o;
	unsigned allowed = 1u << OPT_ORG | 1u << OPT_REPO | 1u << OPT_PROJECT | 1u << OPT_TAG |
	                   1u << OPT_DB | 1u << OPT_CTAGS | 1u << OPT_JSON;
	if (!parse_opts("history", USAGE_LIST, argc, argv, allowed, &o))
		return 2;
	if (o.help) {
		printf("usage: %s\nPrint an organization's tag changes, oldest first: seq, time, "
		       "action,\nwhere, tag, commit <- previous commit, actor, request id.  "
		       "--json prints\neach event as the API shows it, one per line.\n",
		       USAGE_LIST);
		return 0;
	}
	if (o.org == NULL) {
		fprintf(stderr, "tagd history: --org NAME is required\n");
		return 2;
	}
	if ((o.repo != NULL) + (o.project != NULL) + o.commit_tags > 1) {
		fprintf(stderr, "tagd history: give one of --repo, --commit-tags, --project\n");
		return 2;
	}
	struct store *s = open_store("history", o.db);
	if (s == NULL)
		return 1;
	int64_t org_id;
	int rc = 1;
	if (!org_id_of(s, "history", o.org, &org_id))
		goto done;
	int64_t after = 0;
	for (;;) {
		struct history_list l;
		enum store_status st = store_history_feed(s, org_id, after, HISTORY_PAGE_MAX, &l);
		if (st != STORE_OK) {
			fprintf(stderr, "tagd history: %s\n", store_status_str(st));
			goto done;
		}
		bool ok = true;
		for (size_t i = 0; ok && i < l.n; i++)
			if (event_matches(&l.items[i], &o))
				ok = print_event(&l.items[i], o.json);
		bool more = l.more && l.n > 0;
		if (l.n > 0)
			after = l.items[l.n - 1].seq;
		history_list_release(&l);
		if (!ok) {
			fprintf(stderr, "tagd history: out of memory\n");
			goto done;
		}
		if (!more)
			break;
	}
	rc = fflush(stdout) == 0 ? 0 : 1;
done:
	store_close(&s);
	return rc;
}

/* tagd history verify: recompute the chain and check the tags against it. */
static int history_verify(int argc, char **argv)
{
	struct history_opts o;
	if (!parse_opts("history verify", USAGE_VERIFY, argc, argv,
	                1u << OPT_ORG | 1u << OPT_EXPECT | 1u << OPT_DB, &o))
		return 2;
	if (o.help) {
		printf("usage: %s\nRecompute the organization's hash chain from its first kept "
		       "event and\ncheck every tag against its last event.  Prints the head; exits "
		       "1 naming\nthe first event that does not match.  --expect SEQ:HASH (a head "
		       "published\nearlier, as GET /api/v1/events/head gave it) also requires that "
		       "the chain\nstill holds that event with that hash.\n",
		       USAGE_VERIFY);
		return 0;
	}
	if (o.org == NULL) {
		fprintf(stderr, "tagd history verify: --org NAME is required\n");
		return 2;
	}
	long long want_seq = 0;
	uint8_t want[HISTORY_HASH_LEN];
	if (o.expect != NULL) {
		const char *colon = strchr(o.expect, ':');
		char *end = NULL;
		want_seq = strtoll(o.expect, &end, 10);
		if (colon == NULL || end != colon || want_seq < 0 || o.expect[0] == '-' ||
		    !history_unhex(colon + 1, want)) {
			fprintf(stderr,
			        "tagd history verify: --expect takes SEQ:HASH, the seq and the "
			        "64 hex digits of a head\n");
			return 2;
		}
	}
	struct store *s = open_store("history verify", o.db);
	if (s == NULL)
		return 1;
	int64_t org_id;
	int rc = 1;
	if (org_id_of(s, "history verify", o.org, &org_id)) {
		struct history_verify v;
		enum store_status st = store_history_verify(s, org_id, &v);
		char hex[HISTORY_HEX_LEN + 1];
		history_hex(v.head.hash, hex);
		uint8_t have[HISTORY_HASH_LEN];
		if (st != STORE_OK) {
			fprintf(stderr, "tagd history verify: %s\n", store_status_str(st));
		} else if (!v.ok) {
			fprintf(stderr, "tagd history verify: %s\n", v.problem);
		} else if (o.expect != NULL && want_seq > v.head.seq) {
			fprintf(stderr,
			        "tagd history verify: event %lld of the expected head is missing: "
			        "the chain ends at %lld (events were removed)\n",
			        want_seq, (long long)v.head.seq);
		} else if (o.expect != NULL && want_seq > 0 && want_seq < v.head.floor_seq) {
			fprintf(stderr,
			        "tagd history verify: event %lld was pruned by retention; verify "
			        "against a head published since seq %lld\n",
			        want_seq, (long long)v.head.floor_seq);
		} else if (o.expect != NULL && want_seq > 0 &&
		           ((st = store_history_hash_at(s, org_id, want_seq, have)) != STORE_OK ||
		            memcmp(have, want, HISTORY_HASH_LEN) != 0)) {
			fprintf(stderr,
			        "tagd history verify: event %lld does not have the expected hash "
			        "(the chain was rewritten)%s%s\n",
			        want_seq, st != STORE_OK ? ": " : "",
			        st != STORE_OK ? store_status_str(st) : "");
		} else {
			printf("ok: %" PRId64 " events from seq %" PRId64 ", %" PRId64
			       " tags checked; head %" PRId64 " %s\n",
			       v.events, v.head.floor_seq + 1, v.tags, v.head.seq, hex);
			rc = 0;
		}
	}
	store_close(&s);
	return rc;
}

/* tagd history prune: retention by hand (serve does it with history_retention). */
static int history_prune(int argc, char **argv)
{
	struct history_opts o;
	if (!parse_opts("history prune", USAGE_PRUNE, argc, argv, 1u << OPT_OLDER | 1u << OPT_DB,
	                &o))
		return 2;
	if (o.help) {
		printf("usage: %s\nDelete every organization's events older than DURATION (90d, "
		       "52w...),\nkeeping a checkpoint so that 'history verify' still passes.\n",
		       USAGE_PRUNE);
		return 0;
	}
	int64_t keep;
	if (o.older_than == NULL || !expiry_duration(o.older_than, &keep)) {
		fprintf(stderr,
		        "tagd history prune: --older-than takes a duration such as 90d, 52w "
		        "or 12h\n");
		return 2;
	}
	struct store *s = open_store("history prune", o.db);
	if (s == NULL)
		return 1;
	int64_t total = 0;
	enum store_status st;
	struct history_prune_op op;
	int64_t before = clock_now_us() - keep;
	do {
		history_prune_op_init(&op);
		op.before = before;
		st = store_execute(s, &op.op);
		total += op.pruned;
	} while (st == STORE_OK && op.more);
	store_close(&s);
	if (st != STORE_OK) {
		fprintf(stderr, "tagd history prune: %s\n", store_status_str(st));
		return 1;
	}
	printf("pruned %" PRId64 " events\n", total);
	return 0;
}

int cli_history_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return history_verify(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "prune") == 0)
		return history_prune(argc - 1, argv + 1);
	return history_list(argc, argv);
}
