/*
 * http.c - libmicrohttpd plumbing.  See http.h.
 *
 * Life of a request (one "exchange"):
 *  1. First access-handler call: headers are in.  Allocate the exchange.  A
 *     declared Content-Length over the limit is answered 413 at once; nothing
 *     else is answered yet, because answering before the request is read
 *     makes libmicrohttpd close the connection (no keep-alive).
 *  2. Calls with upload data: append to a bounded buffer; past the limit
 *     (chunked bodies) keep reading but discard, and answer 413 at the end.
 *  3. Final call: build the struct call, let the app handle it.  If the
 *     handler deferred a store operation, the connection is suspended and
 *     resumed by the writer thread once the operation has committed; the
 *     handler's finish function then runs here, on an HTTP thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "app.h"
#include "call.h"
#include "http.h"
#include "http_deadline.h"
#include "log.h"
#include "store.h"

#define DEFAULT_MAX_BODY   (1024 * 1024)
#define DEFAULT_TIMEOUT_S  30
#define DEFAULT_CONN_LIMIT 1024
/*
 * Request line and header limits, answered 414 and 431 in the dialect's
 * envelope.  They sit well below libmicrohttpd's per-connection memory pool
 * (32 KiB by default): a request too big for the pool is refused by
 * libmicrohttpd itself, with the same statuses but an HTML body.
 */
#define MAX_TARGET_BYTES 8192
#define MAX_HEADER_BYTES 16384
/* A body this far past the limit is not worth reading to the end: drop the connection. */
#define DISCARD_LIMIT (64 * 1024 * 1024)

struct http_server {
	struct MHD_Daemon *mhd;
	struct app *app;
	struct store *store;
	int fd;
	uint16_t port;
	size_t max_body;
	atomic_uint in_flight;
	struct http_deadline *deadline; /* headers must arrive within the timeout */
};

enum exchange_state {
	X_READING,
	X_DEFERRED, /* suspended, waiting for the store */
	X_RESUMED,  /* the store is done; finish on the next call */
	X_ANSWERED,
};

struct exchange {
	struct http_server *srv;
	struct MHD_Connection *conn;
	enum exchange_state state;
	char *body;
	size_t len;
	size_t cap;
	size_t discarded;
	bool too_large;
	bool too_many_headers;
	struct store_op *op;
	struct call call;
	char request_id[64];
};

static char *fmt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmt_err(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Keep the path percent-encoded: the router decodes each segment itself. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
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

/* ---- responses ---- */

static enum MHD_Result queue_call_response(struct exchange *x)
{
	struct call *c = &x->call;
	struct MHD_Response *resp;

	x->state = X_ANSWERED;
	if (c->status == 0) {
		static const char body[] =
		        "{\"success\":false,\"error\":\"internal server error\"}";
		char *copy = strdup(body);
		call_respond_take(c, 500, copy, copy ? sizeof(body) - 1 : 0, "application/json");
	}
	resp = MHD_create_response_from_buffer(c->resp_len, c->resp_body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		return MHD_NO;
	c->resp_body = NULL; /* libmicrohttpd frees it now */
	c->resp_len = 0;
	if (c->resp_type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, c->resp_type);
	MHD_add_response_header(resp, "X-Request-Id", x->request_id);
	for (size_t i = 0; i < c->nresp_headers; i++)
		MHD_add_response_header(resp, c->resp_headers[i].name, c->resp_headers[i].value);
	enum MHD_Result ret = MHD_queue_response(x->conn, (unsigned)c->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* An error answered by the HTTP layer itself, in the dialect of the path. */
static enum MHD_Result queue_plain_error(struct exchange *x, const char *url, int status,
                                         const char *vers_msg, const char *ss_code,
                                         const char *ss_msg)
{
	char *body;
	if (strncmp(url, "/v1/", 4) == 0)
		body = fmt_err("{\"error_code\":\"%s\",\"error_msg\":\"%s\"}", ss_code, ss_msg);
	else
		body = fmt_err("{\"success\":false,\"error\":\"%s\"}", vers_msg);
	call_respond_take(&x->call, status, body, body ? strlen(body) : 0, "application/json");
	return queue_call_response(x);
}

/* ---- building the call ---- */

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
	struct exchange *x = cls;
	struct call *c = &x->call;
	if (c->nheaders == CALL_MAX_HEADERS) {
		x->too_many_headers = true;
		return MHD_NO;
	}
	c->headers[c->nheaders].name = key;
	c->headers[c->nheaders].value = value ? value : "";
	c->nheaders++;
	return MHD_YES;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	struct call *c = cls;
	if (c->nquery == CALL_MAX_QUERY)
		return MHD_NO;
	c->query[c->nquery].name = key;
	c->query[c->nquery].value = value;
	c->nquery++;
	return MHD_YES;
}

static enum MHD_Result add_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
	size_t *total = cls;
	*total += strlen(key) + (value ? strlen(value) : 0) + 2;
	return MHD_YES;
}

/* Bytes of the values of kind on conn, with a separator's worth for each. */
static size_t values_size(struct MHD_Connection *conn, enum MHD_ValueKind kind)
{
	size_t total = 0;
	MHD_get_connection_values(conn, kind, add_size, &total);
	return total;
}

/* Take the client's X-Request-Id when it is short and plain, else make one. */
static void set_request_id(struct exchange *x)
{
	const char *given = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "X-Request-Id");
	if (given != NULL) {
		size_t len = strlen(given);
		bool plain = len > 0 && len < sizeof(x->request_id);
		for (size_t i = 0; plain && i < len; i++) {
			char ch = given[i];
			plain = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
			        (ch >= 'A' && ch <= 'Z') || strchr("-_.:", ch) != NULL;
		}
		if (plain) {
			memcpy(x->request_id, given, len + 1);
			return;
		}
	}
	uuid_t u;
	uuid_generate_random(u);
	uuid_unparse_lower(u, x->request_id);
}

static void http_defer(struct call *c, struct store_op *op);
static const struct call_transport http_transport = {.defer = http_defer};

static void on_op_done(struct store_op *op)
{
	struct exchange *x = op->done_arg;
	x->state = X_RESUMED;
	MHD_resume_connection(x->conn);
}

static void http_defer(struct call *c, struct store_op *op)
{
	struct exchange *x = c->transport_ctx;
	x->state = X_DEFERRED;
	x->op = op;
	op->done = on_op_done;
	op->done_arg = x;
	/* Suspend before submitting: the writer may resume as soon as it has the op. */
	MHD_suspend_connection(x->conn);
	store_submit(x->srv->store, op);
}

/* ---- the access handler ---- */

static bool append_body(struct exchange *x, const char *data, size_t n)
{
	size_t max = x->srv->max_body;
	if (x->too_large || n > max - x->len) {
		x->too_large = true;
		x->discarded += n;
		return x->discarded <= DISCARD_LIMIT;
	}
	if (x->len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 1024;
		while (cap < x->len + n + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		char *grown = realloc(x->body, cap);
		if (grown == NULL)
			return false;
		x->body = grown;
		x->cap = cap;
	}
	memcpy(x->body + x->len, data, n);
	x->len += n;
	x->body[x->len] = '\0';
	return true;
}

/* The deadline watch of conn (NULL when it could not be made). */
static struct http_watch *watch_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
	        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct http_server *h = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
		        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = info ? http_deadline_watch(h->deadline, info->connect_fd) : NULL;
	} else {
		http_deadline_unwatch(h->deadline, *socket_context);
		*socket_context = NULL;
	}
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
	struct http_server *h = cls;
	struct exchange *x = *con_cls;

	if (x == NULL) {
		x = calloc(1, sizeof(*x));
		if (x == NULL)
			return MHD_NO;
		x->srv = h;
		x->conn = conn;
		call_init(&x->call, h->store, &http_transport, x);
		*con_cls = x;
		atomic_fetch_add(&h->in_flight, 1);
		http_deadline_headers_in(h->deadline, watch_of(conn));
		set_request_id(x);
		if (strlen(url) + values_size(conn, MHD_GET_ARGUMENT_KIND) > MAX_TARGET_BYTES)
			return queue_plain_error(x, url, 414, "request URL too long",
			                         "SVCSTG.REPO.0400", "request URL too long");
		if (values_size(conn, MHD_HEADER_KIND) > MAX_HEADER_BYTES)
			return queue_plain_error(x, url, 431, "request headers too large",
			                         "SVCSTG.REPO.0400", "request headers too large");
		const char *cl =
		        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl != NULL) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(cl, &end, 10);
			if (errno != 0 || n > h->max_body)
				return queue_plain_error(x, url, 413, "request body too large",
				                         "SVCSTG.REPO.0400",
				                         "request body too large");
		}
		return MHD_YES;
	}

	switch (x->state) {
	case X_READING:
		break;
	case X_DEFERRED:
		/* Resumed before on_op_done set the state: cannot happen, but stay put. */
		return MHD_YES;
	case X_RESUMED:
		x->call.finish(&x->call, x->op);
		x->call.finish = NULL;
		return queue_call_response(x);
	case X_ANSWERED:
		/* Rest of a body we answered early (413): drop it. */
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (*upload_data_size != 0) {
		bool ok = append_body(x, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return ok ? MHD_YES : MHD_NO;
	}
	if (x->too_large)
		return queue_plain_error(x, url, 413, "request body too large", "SVCSTG.REPO.0400",
		                         "request body too large");

	struct call *c = &x->call;
	c->method_name = method;
	c->method = call_method_parse(method);
	c->path = url;
	c->body = x->body ? x->body : "";
	c->body_len = x->len;
	c->request_id = x->request_id;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, x);
	if (x->too_many_headers)
		return queue_plain_error(x, url, 431, "too many request headers",
		                         "SVCSTG.REPO.0400", "too many request headers");
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, c);

	app_handle(h->app, c);
	if (call_is_deferred(c))
		return MHD_YES;
	return queue_call_response(x);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_server *h = cls;
	struct exchange *x = *con_cls;
	http_deadline_next(h->deadline, watch_of(conn));
	if (x == NULL)
		return;
	call_release(&x->call);
	free(x->body);
	free(x);
	*con_cls = NULL;
	atomic_fetch_sub(&h->in_flight, 1);
}

/* ---- start and stop ---- */

static int listen_on(const char *host, uint16_t port, char **err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *res = NULL;
	char portstr[8];
	int fd = -1;

	snprintf(portstr, sizeof(portstr), "%u", port);
	int rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		*err = fmt_err("listen address %s: %s (give a numeric IP address)", host,
		               gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = fmt_err("socket: %s", strerror(errno));
		goto out;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		*err = fmt_err("cannot listen on %s port %u: %s", host, port, strerror(errno));
		close(fd);
		fd = -1;
	}
out:
	freeaddrinfo(res);
	return fd;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

struct http_server *http_start(const struct http_options *opts, struct app *app, char **err)
{
	struct http_server *h = calloc(1, sizeof(*h));
	*err = NULL;
	if (h == NULL) {
		*err = fmt_err("out of memory");
		return NULL;
	}
	h->app = app;
	h->store = app_store(app);
	h->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
	atomic_init(&h->in_flight, 0);

	h->fd = opts->listen_fd >= 0
	                ? opts->listen_fd
	                : listen_on(opts->host ? opts->host : "127.0.0.1", opts->port, err);
	if (h->fd < 0) {
		free(h);
		return NULL;
	}
	h->port = port_of(h->fd);

	unsigned timeout_s = opts->timeout_s ? opts->timeout_s : DEFAULT_TIMEOUT_S;
	h->deadline = http_deadline_start(timeout_s);
	if (h->deadline == NULL) {
		*err = fmt_err("cannot start the header deadline watchdog");
		if (opts->listen_fd < 0)
			close(h->fd);
		free(h);
		return NULL;
	}

	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = opts->threads ? opts->threads : (cores > 0 ? (unsigned)cores : 1);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem options[] = {
	        {MHD_OPTION_LISTEN_SOCKET, h->fd, NULL},
	        {MHD_OPTION_THREAD_POOL_SIZE, threads, NULL},
	        {MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, NULL},
	        {MHD_OPTION_CONNECTION_LIMIT,
	         opts->conn_limit ? opts->conn_limit : DEFAULT_CONN_LIMIT, NULL},
	        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, opts->per_ip_limit, NULL},
	        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
	        {MHD_OPTION_END, 0, NULL},
	};
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_access, h, MHD_OPTION_EXTERNAL_LOGGER,
	                          mhd_logger, NULL, MHD_OPTION_ARRAY, options,
	                          MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	                          MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	                          MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL, MHD_OPTION_END);
	if (h->mhd == NULL) {
		*err = fmt_err("cannot start the HTTP server");
		http_deadline_stop(&h->deadline);
		if (opts->listen_fd < 0)
			close(h->fd);
		free(h);
		return NULL;
	}
	return h;
}

uint16_t http_port(const struct http_server *h)
{
	return h->port;
}

void http_quiesce(struct http_server *h)
{
	MHD_socket fd = MHD_quiesce_daemon(h->mhd);
	if (fd != MHD_INVALID_SOCKET) {
		close(fd);
		h->fd = -1;
	}
}

unsigned http_in_flight(const struct http_server *h)
{
	return atomic_load(&h->in_flight);
}

void http_stop(struct http_server **hp)
{
	struct http_server *h = *hp;
	if (h == NULL)
		return;
	/* libmicrohttpd closes the listening socket unless quiesce handed it back already. */
	MHD_stop_daemon(h->mhd);
	http_deadline_stop(&h->deadline);
	free(h);
	*hp = NULL;
}
