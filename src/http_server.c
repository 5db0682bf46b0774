/*
 * http_server.c - starting, reloading and stopping the libmicrohttpd daemons
 * (one per listening socket), and HTTPS.  The requests themselves are
 * http.c's.  See http.h.
 */
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "errmsg.h"
#include "http.h"
#include "http_deadline.h"
#include "http_internal.h"
#include "log.h"
#include "tls.h"

#define DEFAULT_MAX_BODY   (1024 * 1024)
#define DEFAULT_TIMEOUT_S  30
#define DEFAULT_CONN_LIMIT 1024
/*
 * Each connection's memory pool (request line, headers, read and write
 * buffers): libmicrohttpd's 32 KiB default made 1,000 idle keep-alive
 * connections cost ~32 MiB.  16 KiB still holds 8 KiB of headers (more is
 * answered 431) and the largest non-list answers.
 */
#define CONNECTION_MEMORY (16 * 1024)

/* Keep the path percent-encoded: the router decodes each segment itself. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

/* libmicrohttpd's fatal errors: say where in the log before aborting, as it would. */
static void mhd_panic(void *cls, const char *file, unsigned int line, const char *reason)
{
	log_msg(LOG_ERROR, "libmicrohttpd panic", "file=%s line=%u reason=\"%.200s\"",
	        file ? file : "?", line, reason ? reason : "?"); /* an error: written out at once */
	abort();
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\r\n")] = '\0';
	/* A client going away is routine; a flood of them must not flood the log. */
	bool routine = strncmp(buf, "Connection socket is closed", 27) == 0;
	log_msg(routine ? LOG_DEBUG : LOG_WARN, "libmicrohttpd", "detail=\"%s\"", buf);
}

/* ---- start and stop ---- */

/* Free the server struct and, when it served TLS, the installed credentials. */
static void free_server(struct http_server *h)
{
	http_deadline_stop(&h->deadline);
	if (h->tls_cert_file != NULL)
		tls_uninstall();
	free(h->tls_cert_file);
	free(h->tls_key_file);
	free(h);
}

/* Install checked credentials; the expiry goes to the log, for whoever renews them. */
static void install_tls(const struct http_server *h, struct tls_creds *creds)
{
	char when[32];
	time_t expires = (time_t)tls_creds_expiry(creds);
	struct tm tm;
	gmtime_r(&expires, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	tls_install(creds);
	log_msg(LOG_INFO, "TLS certificate loaded", "cert=\"%s\" expires=%s", h->tls_cert_file,
	        when);
}

/* Check and install the certificate before anything listens: a bad one refuses to start. */
static bool start_tls(struct http_server *h, const struct http_options *opts, char **err)
{
	if (opts->tls_cert_file == NULL && opts->tls_key_file == NULL)
		return true;
	if (opts->tls_cert_file == NULL || opts->tls_key_file == NULL) {
		*err = errmsg_fmt("HTTPS needs both a certificate and a key file");
		return false;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES ||
	    MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK) != MHD_YES) {
		*err = errmsg_fmt("this libmicrohttpd was built without HTTPS support");
		return false;
	}
	const char *prio = opts->tls_priorities ? opts->tls_priorities : TLS_DEFAULT_PRIORITIES;
	if (!tls_priorities_check(prio, err))
		return false;
	h->tls_cert_file = strdup(opts->tls_cert_file);
	h->tls_key_file = strdup(opts->tls_key_file);
	if (h->tls_cert_file == NULL || h->tls_key_file == NULL) {
		*err = errmsg_fmt("out of memory");
		return false;
	}
	struct tls_creds *creds = tls_creds_load(h->tls_cert_file, h->tls_key_file, err);
	if (creds == NULL)
		return false;
	install_tls(h, creds);
	return true;
}

/* The options of the daemon on socket i, ending with MHD_OPTION_END. */
static void daemon_options(const struct http_server *h, const struct http_options *opts, size_t i,
                           unsigned threads, unsigned conn_limit, struct MHD_OptionItem o[12])
{
	size_t n = 0;
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, h->fd[i], NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, h->start_timeout_s, NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, conn_limit, NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, opts->per_ip_limit,
	                                 NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY,
	                                 NULL};
	/* A pool of one is no pool: libmicrohttpd warns; leave it out. */
	if (threads > 1 && !opts->external_loop)
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
	if (h->tls_cert_file != NULL) {
		const char *prio =
		        opts->tls_priorities ? opts->tls_priorities : TLS_DEFAULT_PRIORITIES;
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
		                                 tls_cert_callback()};
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)prio};
	}
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
}

struct http_server *http_start(const struct http_options *opts, struct app *app, char **err)
{
	int fds[HTTP_MAX_LISTEN];
	const int *owned = fds; /* sockets still ours to close on failure */
	size_t nowned = 0;
	struct http_server *h = NULL;

	*err = NULL;
	if (opts->nlisten_fds > HTTP_MAX_LISTEN) {
		owned = opts->listen_fds;
		nowned = opts->nlisten_fds;
		*err = errmsg_fmt("at most %d listening sockets", HTTP_MAX_LISTEN);
		goto fail;
	}
	if (opts->nlisten_fds > 0) {
		memcpy(fds, opts->listen_fds, opts->nlisten_fds * sizeof(int));
		nowned = opts->nlisten_fds;
	} else {
		fds[0] = opts->listen_fd >= 0 ? opts->listen_fd
		                              : http_listen(opts->host ? opts->host : "127.0.0.1",
		                                            opts->port, err);
		if (fds[0] < 0)
			goto fail;
		nowned = 1;
	}
	size_t nfds = nowned;
	if (opts->external_loop && nfds != 1) {
		*err = errmsg_fmt("an external loop serves one listening socket");
		goto fail;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		goto fail;
	h->app = app;
	h->store = app_store(app);
	h->listen_shared = opts->listen_shared;
	h->start_timeout_s = opts->timeout_s ? opts->timeout_s : DEFAULT_TIMEOUT_S;
	atomic_init(&h->max_body, opts->max_body ? opts->max_body : DEFAULT_MAX_BODY);
	atomic_init(&h->timeout_s, h->start_timeout_s);
	atomic_init(&h->in_flight, 0);
	atomic_init(&h->deferred, 0);
	if (!start_tls(h, opts, err))
		goto fail;

	MHD_set_panic_func(mhd_panic, NULL);
	h->deadline = http_deadline_start(h->start_timeout_s);
	if (h->deadline == NULL) {
		*err = errmsg_fmt("cannot start the header deadline watchdog");
		goto fail;
	}

	/* Threads and the connection limit are shared out between the sockets. */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = opts->threads ? opts->threads : (cores > 0 ? (unsigned)cores : 1);
	unsigned conn_limit = opts->conn_limit ? opts->conn_limit : DEFAULT_CONN_LIMIT;
	threads = threads / (unsigned)nfds ? threads / (unsigned)nfds : 1;
	conn_limit = conn_limit / (unsigned)nfds ? conn_limit / (unsigned)nfds : 1;
	unsigned flags = MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (!opts->external_loop)
		flags |= MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
	if (h->tls_cert_file != NULL)
		flags |= MHD_USE_TLS;
	for (size_t i = 0; i < nfds; i++) {
		h->fd[i] = fds[i];
		h->port[i] = http_socket_port(fds[i]);
	}
	for (size_t i = 0; i < nfds; i++) {
		struct MHD_OptionItem options[12];
		daemon_options(h, opts, i, threads, conn_limit, options);
		h->mhd[i] = MHD_start_daemon(
		        flags, 0, NULL, NULL, http_on_access, h, MHD_OPTION_EXTERNAL_LOGGER,
		        mhd_logger, NULL, MHD_OPTION_ARRAY, options, MHD_OPTION_NOTIFY_COMPLETED,
		        http_on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, http_on_connection, h,
		        MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL, MHD_OPTION_END);
		if (h->mhd[i] == NULL) {
			*err = errmsg_fmt("cannot start the HTTP server on port %u", h->port[i]);
			goto fail;
		}
		/* The daemon owns its socket from now on (closes it when stopped). */
		h->nlisten = i + 1;
		owned = fds + i + 1;
		nowned = nfds - i - 1;
	}
	return h;

fail:
	if (*err == NULL)
		*err = errmsg_fmt("out of memory");
	if (h != NULL) {
		for (size_t i = 0; i < h->nlisten; i++)
			MHD_stop_daemon(h->mhd[i]);
		free_server(h);
	}
	http_close_fds(owned, nowned);
	return NULL;
}

void http_run(struct http_server *h, unsigned max_wait_ms)
{
	MHD_run_wait(h->mhd[0], (int32_t)max_wait_ms);
}

bool http_is_tls(const struct http_server *h)
{
	return h->tls_cert_file != NULL;
}

bool http_reload_tls(struct http_server *h, char **err)
{
	*err = NULL;
	if (h->tls_cert_file == NULL)
		return true;
	struct tls_creds *creds = tls_creds_load(h->tls_cert_file, h->tls_key_file, err);
	if (creds == NULL)
		return false;
	install_tls(h, creds);
	return true;
}

uint16_t http_port(const struct http_server *h)
{
	return h->port[0];
}

size_t http_listen_count(const struct http_server *h)
{
	return h->nlisten;
}

uint16_t http_port_at(const struct http_server *h, size_t i)
{
	return i < h->nlisten ? h->port[i] : 0;
}

void http_set_limits(struct http_server *h, size_t max_body, unsigned timeout_s)
{
	if (max_body != 0)
		atomic_store(&h->max_body, max_body);
	if (timeout_s != 0) {
		atomic_store(&h->timeout_s, timeout_s);
		http_deadline_set_limit(h->deadline, timeout_s);
	}
}

/*
 * Close listening socket fd under libmicrohttpd's feet: a fresh socket that
 * never listened takes its descriptor number.  The listening socket's last
 * reference is gone, so the kernel refuses new connections and drops it
 * from every epoll set; the daemon never learns, and later closes the
 * placeholder as if it were its socket.  False when no placeholder can be
 * made.
 */
static bool listen_close_in_place(int fd)
{
	int placeholder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (placeholder < 0)
		return false;
	bool ok = dup3(placeholder, fd, O_CLOEXEC) == fd;
	close(placeholder);
	return ok;
}

/*
 * MHD_quiesce_daemon in 0.9.75 races with the daemon's own epoll threads:
 * it marks the daemon quiesced and removes the listening socket from each
 * worker's epoll set, while a worker that sees the mark removes it too, and
 * whichever loses gets ENOENT and panics (an open upstream defect; it
 * aborted tagd at SIGTERM now and then).  So the sockets tagd alone holds
 * are closed in place instead, and libmicrohttpd's quiesce is left to
 * systemd's shared ones, where closing our descriptor would not remove the
 * socket from the epoll sets and the workers would spin on its queue.
 */
void http_quiesce(struct http_server *h)
{
	for (size_t i = 0; i < h->nlisten; i++) {
		if (h->fd[i] < 0)
			continue;
		if (h->listen_shared || !listen_close_in_place(h->fd[i])) {
			MHD_socket fd = MHD_quiesce_daemon(h->mhd[i]);
			if (fd != MHD_INVALID_SOCKET)
				close(fd);
		}
		h->fd[i] = -1;
	}
}

unsigned http_in_flight(const struct http_server *h)
{
	return atomic_load(&h->in_flight);
}

unsigned http_deferred(const struct http_server *h)
{
	return atomic_load(&h->deferred);
}

void http_stop(struct http_server **hp)
{
	struct http_server *h = *hp;
	if (h == NULL)
		return;
	/*
	 * libmicrohttpd closes its listening socket (or the placeholder http_quiesce
	 * put in its place) unless quiesce handed it back already.
	 */
	for (size_t i = 0; i < h->nlisten; i++)
		MHD_stop_daemon(h->mhd[i]);
	free_server(h);
	*hp = NULL;
}
