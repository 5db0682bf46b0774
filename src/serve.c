/*
 * serve.c - the daemon's life: configuration, start, signals, reload,
 * drain and stop.  See serve.h.
 *
 * Start: load the configuration, open the log, open the store, take the
 * listening sockets (from systemd when socket-activated, else bind the
 * configured addresses), start HTTP, then report ready (/readyz and
 * READY=1).  The main thread then only waits for signals, which every
 * thread has blocked:
 *  - SIGHUP reloads what may change at run time and reopens the log file;
 *    connections are untouched.
 *  - SIGTERM/SIGINT: /readyz turns 503, STOPPING=1, the listening sockets
 *    close, requests in flight get shutdown_timeout seconds to finish, then
 *    HTTP stops (never while a connection waits on the store's writer), the
 *    store checkpoints the WAL and closes, and tagd exits 0.  A second
 *    SIGTERM/SIGINT during the drain exits at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "config.h"
#include "health_api.h"
#include "hook_dispatch.h"
#include "http.h"
#include "log.h"
#include "sdnotify.h"
#include "serve.h"
#include "store.h"
#include "store_admin.h"
#include "store_history.h"

#define POLL_US 10000 /* how often the drain looks at requests in flight */
/* With history_retention set, old events are pruned this often, a bounded step each time. */
#define PRUNE_EVERY_US (60ULL * 1000000)

static uint64_t monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Wait for one of sigs at most timeout_us (0: forever); returns it, or 0 on timeout. */
static int wait_signal(const sigset_t *sigs, uint64_t timeout_us)
{
	for (;;) {
		int sig;
		if (timeout_us == 0) {
			if (sigwait(sigs, &sig) == 0)
				return sig;
			continue;
		}
		struct timespec ts = {.tv_sec = (time_t)(timeout_us / 1000000),
		                      .tv_nsec = (long)(timeout_us % 1000000) * 1000};
		sig = sigtimedwait(sigs, NULL, &ts);
		if (sig > 0)
			return sig;
		if (errno == EAGAIN)
			return 0;
		/* EINTR: wait again */
	}
}

/* Apply the logging settings; on error the log stays where it was. */
static void apply_logging(const struct config *cfg)
{
	char *err = NULL;
	if (!log_open_file(cfg->log_file, &err)) {
		log_msg(LOG_ERROR, "cannot open the log file", "error=\"%s\"",
		        err ? err : "out of memory");
		free(err);
	}
	log_set_level((enum log_level)cfg->log_level);
	log_set_format((enum log_format)cfg->log_format);
}

/* Log each line of a multi-line error message. */
static void log_lines(enum log_level level, const char *msg, const char *text)
{
	while (text != NULL && *text != '\0') {
		size_t n = strcspn(text, "\n");
		log_msg(level, msg, "error=\"%.*s\"", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

/* Re-read the TLS certificate and key (renewed in place); a bad pair keeps the old one. */
static void reload_tls(struct http_server *http)
{
	char *err = NULL;

	if (!http_is_tls(http))
		return;
	if (http_reload_tls(http, &err))
		log_msg(LOG_INFO, "TLS certificate reloaded", NULL);
	else
		log_msg(LOG_ERROR, "TLS certificate not reloaded, keeping the old one",
		        "error=\"%s\"", err ? err : "out of memory");
	free(err);
}

/*
 * Retention: one bounded prune step (store_history.h) when history_retention
 * is set.  It waits for the writer, which runs it between requests' writes.
 * Returns true when more is left to prune.
 */
static bool prune_history(struct store *store, const struct config *cfg)
{
	if (cfg->history_retention <= 0)
		return false;
	struct history_prune_op op;
	history_prune_op_init(&op);
	op.before = clock_now_us() - cfg->history_retention;
	enum store_status st = store_execute(store, &op.op);
	if (st != STORE_OK)
		log_msg(LOG_ERROR, "history retention: pruning failed", "error=\"%s\"",
		        store_status_str(st));
	else if (op.pruned > 0)
		log_msg(LOG_INFO, "history retention: events pruned", "events=%lld more=%s",
		        (long long)op.pruned, op.more ? "yes" : "no");
	return st == STORE_OK && op.more;
}

/* SIGHUP: build the configuration afresh and apply what may change at run time. */
static void reload(struct config *cur, const struct config_args *args, struct http_server *http)
{
	struct config next;
	char *err = NULL;
	unsigned changed = 0;

	sdnotify_reloading();
	if (!config_load(&next, args, &err)) {
		log_lines(LOG_ERROR, "reload refused; the running configuration stays", err);
		free(err);
		sdnotify_ready("serving");
		return;
	}
	/* Always reopen the log file: logrotate may have moved it. */
	apply_logging(&next);
	http_set_limits(http, next.max_body, next.connection_timeout);
	reload_tls(http);
	for (size_t i = 0; i < config_key_count(); i++) {
		const struct config_key *k = config_key_at(i);
		if (!config_key_changed(cur, &next, i))
			continue;
		changed++;
		if (!config_key_reloadable(k))
			log_msg(LOG_WARN, "setting changed; it takes effect at the next restart",
			        "key=%s", config_key_name(k));
	}
	config_release(cur);
	*cur = next;
	log_msg(LOG_INFO, "configuration reloaded", "changed=%u", changed);
	sdnotify_ready("serving");
}

/* "HOST:PORT" (IPv6 in brackets) of a listening socket. */
static void sock_name(int fd, char *buf, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
			port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
			port = ntohs(in6->sin6_port);
			snprintf(buf, cap, "[%s]:%u", host, port);
			return;
		}
	}
	snprintf(buf, cap, "%s:%u", host, port);
}

/*
 * The listening sockets: systemd's when socket-activated, else the
 * configured addresses, host names resolved now and each of their addresses
 * bound.
 */
static bool open_listeners(const struct config *cfg, int *fds, size_t *n, bool *activated)
{
	*n = sdnotify_listen_fds(fds, HTTP_MAX_LISTEN);
	*activated = *n > 0;
	if (*activated)
		return true;
	for (size_t i = 0; i < cfg->nlisten; i++) {
		char *err = NULL;
		size_t got = 0;
		if (!http_listen_host(cfg->listen[i].host, cfg->listen[i].port, fds + *n,
		                      HTTP_MAX_LISTEN - *n, &got, &err)) {
			fprintf(stderr, "tagd serve: %s\n", err ? err : "out of memory");
			free(err);
			http_close_fds(fds, *n);
			*n = 0;
			return false;
		}
		*n += got;
	}
	return true;
}

/*
 * Let requests in flight finish, at most deadline_s seconds, then wait for
 * every connection suspended on the store's writer to be resumed (the writer
 * always finishes).  Returns false when a second SIGTERM/SIGINT came.
 */
static bool drain(struct http_server *h, const sigset_t *sigs, unsigned deadline_s,
                  uint64_t watchdog_us)
{
	uint64_t start = monotonic_us(), last_ping = start;
	uint64_t end = start + (uint64_t)deadline_s * 1000000;

	for (;;) {
		uint64_t now = monotonic_us();
		bool in_flight = http_in_flight(h) > 0 && now < end;
		if (!in_flight && http_deferred(h) == 0)
			break;
		int sig = wait_signal(sigs, POLL_US);
		if (sig == SIGTERM || sig == SIGINT)
			return false;
		if (watchdog_us != 0 && now - last_ping >= watchdog_us / 2) {
			sdnotify_watchdog();
			last_ping = now;
		}
	}
	unsigned left = http_in_flight(h);
	if (left > 0)
		log_msg(LOG_WARN, "shutdown deadline passed; cutting off requests",
		        "in_flight=%u shutdown_timeout=%u", left, deadline_s);
	return true;
}

int serve_run(const struct config_args *args)
{
	struct config cfg = {0}; /* config_release is safe on it */
	struct store *store = NULL;
	struct app *app = NULL;
	struct http_server *http = NULL;
	struct hook_dispatcher *hooks = NULL;
	int fds[HTTP_MAX_LISTEN];
	size_t nfds = 0;
	bool activated = false;
	bool served = false; /* came up; "stopped" is logged on the way out */
	char *err = NULL;
	int rc = 1;

	if (!config_load(&cfg, args, &err)) {
		for (const char *p = err; p != NULL && *p != '\0';) {
			size_t n = strcspn(p, "\n");
			fprintf(stderr, "tagd serve: %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
		goto out;
	}
	health_set_state(HEALTH_STARTING);
	apply_logging(&cfg);

	/* Signals are taken synchronously by this thread; block them before any thread starts. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct store_options sopts = {.synchronous_normal = cfg.synchronous == CONFIG_SYNC_NORMAL,
	                              .max_batch = cfg.write_batch,
	                              .db_timeout_s = cfg.db_timeout,
	                              .pool_size = cfg.db_pool_size};
	store = store_open(cfg.db, &sopts, &err);
	if (store == NULL) {
		/* One line, for the operator and the journal alike. */
		fprintf(stderr, "tagd serve: %s\n", err ? err : "out of memory");
		goto out;
	}
	struct app_options aopts = {.clone_base_url = cfg.clone_base_url,
	                            .hook_allow_private = cfg.hook_allow_private};
	app = app_new(store, &aopts);
	if (app == NULL) {
		fprintf(stderr, "tagd serve: out of memory\n");
		goto out;
	}
	if (!open_listeners(&cfg, fds, &nfds, &activated))
		goto out;
	struct http_options hopts = {
	        .listen_fd = -1,
	        .listen_fds = fds,
	        .nlisten_fds = nfds,
	        .listen_shared = activated,
	        .threads = cfg.threads,
	        .max_body = cfg.max_body,
	        .timeout_s = cfg.connection_timeout,
	        .conn_limit = cfg.max_connections,
	        .per_ip_limit = cfg.max_connections_per_ip,
	        .tls_cert_file = cfg.tls_cert[0] ? cfg.tls_cert : NULL,
	        .tls_key_file = cfg.tls_key[0] ? cfg.tls_key : NULL,
	        .tls_priorities = cfg.tls_priorities[0] ? cfg.tls_priorities : NULL,
	};
	http = http_start(&hopts, app, &err);
	if (http == NULL) {
		fprintf(stderr, "tagd serve: %s\n", err ? err : "out of memory");
		goto out;
	}
	served = true;
	/* From here on access lines leave through a buffer, off the request path. */
	if (!log_async_start())
		log_msg(LOG_WARN, "log written line by line: cannot start its writer thread", NULL);
	for (size_t i = 0; i < nfds; i++) {
		char name[80];
		sock_name(fds[i], name, sizeof(name));
		log_msg(LOG_INFO, "listening", "addr=%s db=\"%s\" schema=%d%s", name, cfg.db,
		        store_schema_version(store), activated ? " socket=systemd" : "");
	}
	/* Deliveries come from the history: a dispatcher started late misses nothing. */
	struct hook_dispatch_options dopts = {.allow_private = cfg.hook_allow_private,
	                                      .clone_base_url = cfg.clone_base_url};
	hooks = hook_dispatch_start(store, &dopts, &err);
	if (hooks == NULL) {
		fprintf(stderr, "tagd serve: %s\n", err ? err : "out of memory");
		goto out;
	}
	health_set_state(HEALTH_READY);
	sdnotify_ready("serving");

	uint64_t watchdog_us = sdnotify_watchdog_usec();
	uint64_t next_prune = 0; /* at once, then every PRUNE_EVERY_US */
	for (;;) {
		uint64_t wait = watchdog_us / 2;
		if (cfg.history_retention > 0) {
			uint64_t now = monotonic_us();
			if (now >= next_prune) {
				bool more = prune_history(store, &cfg);
				/* A backlog goes a step a second, leaving the writer to requests.
				 */
				next_prune = now + (more ? 1000000 : PRUNE_EVERY_US);
			}
			uint64_t until = next_prune > now ? next_prune - now : 1;
			if (wait == 0 || until < wait)
				wait = until;
		}
		int sig = wait_signal(&sigs, wait);
		if (sig == 0 && watchdog_us == 0)
			continue; /* woken for the next prune step */
		if (sig == 0) {
			/* Pet the watchdog only while the database answers: a wedged tagd gets
			 * restarted. */
			enum store_status st = store_ping(store);
			if (st == STORE_OK)
				sdnotify_watchdog();
			else
				log_msg(LOG_ERROR, "watchdog: the database does not answer",
				        "error=\"%s\"", store_status_str(st));
			continue;
		}
		if (sig == SIGHUP) {
			reload(&cfg, args, http);
			continue;
		}
		/* Not ready and not accepting before saying so: the log line marks the drain. */
		health_set_state(HEALTH_DRAINING);
		sdnotify_stopping("draining requests in flight");
		http_quiesce(http);
		log_msg(LOG_INFO, "shutting down", "signal=%s in_flight=%u",
		        sig == SIGTERM ? "TERM" : "INT", http_in_flight(http));
		break;
	}
	if (!drain(http, &sigs, cfg.shutdown_timeout, watchdog_us)) {
		log_msg(LOG_WARN, "second signal: exiting at once", "in_flight=%u",
		        http_in_flight(http));
		/*
		 * The operator asked for an immediate stop: no cleanup, as after a
		 * crash.  SQLite's WAL keeps every committed write; the next start
		 * recovers.  The log is written out: it is what says why.
		 */
		log_flush();
		_exit(EXIT_FAILURE);
	}
	rc = 0;
out:
	http_stop(&http);
	hook_dispatch_stop(&hooks);
	app_free(&app);
	store_close(&store);
	if (served && rc == 0)
		log_msg(LOG_INFO, "stopped", NULL);
	log_async_stop(); /* every buffered line is out before exit */
	free(err);
	config_release(&cfg);
	return rc;
}
