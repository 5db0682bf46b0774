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
#define MAX_BODY_LIMIT   (1024 * 1024 * 1024)

/*
 * A decimal number of digits only (strtoul alone also takes blanks, signs
 * and wraps "-1" around) no larger than max.
 */
static bool parse_count(const char *text, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;

	if (*text == '\0')
		return false;
	for (const char *p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned)(*p - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

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
	unsigned long long p;
	if (!parse_count(colon + 1, 65535, &p))
		return false;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	*port = (unsigned)p;
	return true;
}

#define CLONE_BASE_MAX 512

/*
 * Check a clone base URL (http or https, no query, fragment or blank) and
 * copy it into out (CLONE_BASE_MAX + 1 bytes) without trailing '/'.
 */
static bool clone_base_normalize(const char *url, char *out)
{
	size_t len = strlen(url);
	size_t scheme = strncmp(url, "https://", 8) == 0  ? 8
	                : strncmp(url, "http://", 7) == 0 ? 7
	                                                  : 0;

	while (len > scheme && url[len - 1] == '/')
		len--;
	if (scheme == 0 || len <= scheme || len > CLONE_BASE_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)url[i];
		if (ch <= ' ' || ch >= 0x7f || ch == '?' || ch == '#')
			return false;
	}
	memcpy(out, url, len);
	out[len] = '\0';
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tagd serve [--listen HOST:PORT] [--db PATH] [--threads N]\n"
	        "                  [--max-body BYTES] [--clone-base-url URL]\n"
	        "                  [--tls-cert PATH --tls-key PATH]\n"
	        "Serve the Vers and ServiceStage tag APIs.\n"
	        "  --listen HOST:PORT  address to listen on (default 127.0.0.1:8080; port 0: any)\n"
	        "  --db PATH           SQLite database (default $TAGD_DB, else %s)\n"
	        "  --threads N         HTTP threads (default: one per core)\n"
	        "  --max-body BYTES    largest request body accepted (default 1048576)\n"
	        "  --clone-base-url URL  base of ServiceStage clone URLs\n"
	        "                      (default https://git.example.com)\n"
	        "  --tls-cert PATH     serve HTTPS with this PEM certificate (chain)\n"
	        "  --tls-key PATH      ... and this PEM private key; both re-read on SIGHUP\n"
	        "  --tls-priorities S  GnuTLS priority string (default: TLS 1.2+, AEAD ciphers)\n",
	        CLI_DEFAULT_DB);
}

/* Wait for in-flight requests to finish, at most deadline seconds. */
static void drain(struct http_server *h, unsigned deadline)
{
	struct timespec step = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
	for (unsigned i = 0; i < deadline * 100 && http_in_flight(h) > 0; i++)
		nanosleep(&step, NULL);
}

/* SIGHUP: new certificate files take effect for the next handshakes; a bad one is not taken. */
static void reload_tls(struct http_server *http)
{
	char *err = NULL;
	if (!http_is_tls(http)) {
		log_msg(LOG_INFO, "SIGHUP: nothing to reload (no TLS)", NULL);
		return;
	}
	if (http_reload_tls(http, &err))
		log_msg(LOG_INFO, "TLS certificate reloaded", NULL);
	else
		log_msg(LOG_ERROR, "TLS certificate not reloaded, keeping the old one",
		        "error=\"%s\"", err ? err : "out of memory");
	free(err);
}

int serve_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"listen", required_argument, NULL, 'l'},
	        {"db", required_argument, NULL, 'd'},
	        {"threads", required_argument, NULL, 't'},
	        {"max-body", required_argument, NULL, 'b'},
	        {"clone-base-url", required_argument, NULL, 'u'},
	        {"tls-cert", required_argument, NULL, 'C'},
	        {"tls-key", required_argument, NULL, 'K'},
	        {"tls-priorities", required_argument, NULL, 'P'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *listen_text = "127.0.0.1:8080", *db_flag = NULL;
	struct http_options hopts = {.listen_fd = -1};
	struct app_options aopts = {0};
	char clone_base[CLONE_BASE_MAX + 1];
	char host[256];
	unsigned port;
	int opt;

	optind = 0;
	opterr = 0; /* one line of our own on a bad option, not getopt's plus the usage */
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		unsigned long long n;
		switch (opt) {
		case 'l':
			listen_text = optarg;
			break;
		case 'd':
			db_flag = optarg;
			break;
		case 't':
			if (!parse_count(optarg, 256, &n) || n == 0) {
				fprintf(stderr, "tagd serve: --threads takes 1 to 256\n");
				return 2;
			}
			hopts.threads = (unsigned)n;
			break;
		case 'b':
			/* Bounded: the body buffer's size arithmetic must not wrap. */
			if (!parse_count(optarg, MAX_BODY_LIMIT, &n) || n == 0) {
				fprintf(stderr, "tagd serve: --max-body takes 1 to %d bytes\n",
				        MAX_BODY_LIMIT);
				return 2;
			}
			hopts.max_body = (size_t)n;
			break;
		case 'u':
			if (!clone_base_normalize(optarg, clone_base)) {
				fprintf(stderr, "tagd serve: --clone-base-url takes an http:// or "
				                "https:// URL without query or fragment\n");
				return 2;
			}
			aopts.clone_base_url = clone_base;
			break;
		case 'C':
			hopts.tls_cert_file = optarg;
			break;
		case 'K':
			hopts.tls_key_file = optarg;
			break;
		case 'P':
			hopts.tls_priorities = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "tagd serve: bad option '%s' (see tagd serve --help)\n",
			        argv[optind - 1]);
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
	if (*db == '\0') {
		fprintf(stderr, "tagd serve: --db takes a path\n");
		return 2;
	}
	char *err = NULL;
	struct store *store = store_open(db, NULL, &err);
	if (store == NULL) {
		fprintf(stderr, "tagd serve: %s\n", err);
		free(err);
		return 1;
	}
	struct app *app = app_new(store, &aopts);
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
			reload_tls(http);
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
