/*
 * serve.c - the daemon's main loop.  See serve.h.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "http.h"
#include "log.h"
#include "serve.h"
#include "store.h"

#define DRAIN_DEADLINE_S 10

bool serve_parse_listen(const char *text, char *host, size_t cap, unsigned *port)
{
	const char *colon;
	size_t hlen;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || close[1] != ':')
			return false;
		colon = close + 1;
		text++;
		hlen = (size_t)(close - text);
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL)
			return false;
		hlen = (size_t)(colon - text);
	}
	if (hlen == 0) {
		text = "127.0.0.1";
		hlen = strlen(text);
	}
	if (hlen >= cap)
		return false;
	char *end;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p > 65535)
		return false;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	*port = (unsigned)p;
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tagd serve [--listen HOST:PORT] [--db PATH] [--threads N]\n"
	        "                  [--max-body BYTES] [--timeout SECONDS]\n"
	        "Serve the Vers and ServiceStage tag APIs.\n"
	        "  --listen HOST:PORT  address to listen on (default 127.0.0.1:8080; port 0: any)\n"
	        "  --db PATH           SQLite database (default $TAGD_DB, else %s)\n"
	        "  --threads N         HTTP threads (default: one per core)\n"
	        "  --max-body BYTES    largest request body accepted (default 1048576)\n"
	        "  --timeout SECONDS   close a connection idle this long (default 30)\n",
	        CLI_DEFAULT_DB);
}

/* Wait for in-flight requests to finish, at most deadline seconds. */
static void drain(struct http_server *h, unsigned deadline)
{
	struct timespec step = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
	for (unsigned i = 0; i < deadline * 100 && http_in_flight(h) > 0; i++)
		nanosleep(&step, NULL);
}

int serve_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"listen", required_argument, NULL, 'l'},
	        {"db", required_argument, NULL, 'd'},
	        {"threads", required_argument, NULL, 't'},
	        {"max-body", required_argument, NULL, 'b'},
	        {"timeout", required_argument, NULL, 'T'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *listen_text = "127.0.0.1:8080", *db_flag = NULL;
	struct http_options hopts = {.listen_fd = -1};
	char host[256];
	unsigned port;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'l':
			listen_text = optarg;
			break;
		case 'd':
			db_flag = optarg;
			break;
		case 't':
			hopts.threads = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || hopts.threads == 0 || hopts.threads > 256) {
				fprintf(stderr, "tagd serve: --threads takes 1 to 256\n");
				return 2;
			}
			break;
		case 'b':
			hopts.max_body = strtoul(optarg, &end, 10);
			if (*end != '\0' || hopts.max_body == 0) {
				fprintf(stderr,
				        "tagd serve: --max-body takes a positive byte count\n");
				return 2;
			}
			break;
		case 'T':
			hopts.timeout_s = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || hopts.timeout_s == 0 || hopts.timeout_s > 3600) {
				fprintf(stderr, "tagd serve: --timeout takes 1 to 3600 seconds\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tagd serve: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!serve_parse_listen(listen_text, host, sizeof(host), &port)) {
		fprintf(stderr, "tagd serve: --listen takes HOST:PORT, got '%s'\n", listen_text);
		return 2;
	}
	hopts.host = host;
	hopts.port = (uint16_t)port;

	/* Signals are taken synchronously by this thread; block them before any thread starts. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	const char *db = cli_db_path(db_flag);
	char *err = NULL;
	struct store *store = store_open(db, NULL, &err);
	if (store == NULL) {
		fprintf(stderr, "tagd serve: %s\n", err);
		free(err);
		return 1;
	}
	struct app *app = app_new(store, NULL);
	struct http_server *http = app ? http_start(&hopts, app, &err) : NULL;
	if (http == NULL) {
		fprintf(stderr, "tagd serve: %s\n", err ? err : "out of memory");
		free(err);
		app_free(&app);
		store_close(&store);
		return 1;
	}
	log_msg(LOG_INFO, "listening", "addr=%s%s%s:%u db=\"%s\" schema=%d",
	        strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", http_port(http),
	        db, store_schema_version(store));

	for (;;) {
		int sig = 0;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_msg(LOG_INFO, "SIGHUP: nothing to reload yet", NULL);
			continue;
		}
		log_msg(LOG_INFO, "shutting down", "signal=%s", sig == SIGTERM ? "TERM" : "INT");
		break;
	}
	http_quiesce(http);
	drain(http, DRAIN_DEADLINE_S);
	http_stop(&http);
	app_free(&app);
	store_close(&store);
	log_msg(LOG_INFO, "stopped", NULL);
	return 0;
}
