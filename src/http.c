/*
 * http.c - the requests: libmicrohttpd's access handler, responses, deferred
 * calls.  Starting and stopping the server is http_server.c's.  See http.h.
 *
 * Life of a request (one "exchange"):
 *  1. First access-handler call: headers are in.  Allocate the exchange and
 *     fill the call's method, path, headers and query in one pass over each.
 *     A head that breaks the framing rules (http_framing.h) is answered at
 *     once with Connection: close; so are too many or too large headers or
 *     query parameters (431/414) and a declared Content-Length over the limit
 *     (413).  Nothing else is answered yet, because answering before the
 *     request is read makes libmicrohttpd close the connection (no
 *     keep-alive).
 *  2. Calls with upload data: append to a bounded buffer; past the limit
 *     (chunked bodies) keep reading but discard, and answer 413 at the end.
 *  3. Final call: build the struct call, let the app handle it.  If the
 *     handler deferred a store operation, the connection is suspended and
 *     resumed by the writer thread once the operation has committed; the
 *     handler's finish function then runs here, on an HTTP thread.
 */
#include <microhttpd.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>

#include "app.h"
#include "call.h"
#include "dynbuf.h"
#include "http.h"
#include "http_deadline.h"
#include "http_framing.h"
#include "http_internal.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

/*
 * Request line and header limits, answered 414 and 431 in the dialect's
 * envelope.  They sit well below libmicrohttpd's per-connection memory pool
 * (CONNECTION_MEMORY): a request too big for the pool is refused by
 * libmicrohttpd itself, with the same statuses but an HTML body.
 */
#define MAX_TARGET_BYTES 4096
#define MAX_HEADER_BYTES 8192
/* A body this far past the limit is not worth reading to the end: drop the connection. */
#define DISCARD_LIMIT (64 * 1024 * 1024)

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
	struct dynbuf body; /* bounded by max_body when the request started */
	size_t discarded;
	bool too_large;
	bool close; /* answer with Connection: close (the framing cannot be trusted) */
	struct store_op *op;
	char request_id[64];
	uint64_t started_us; /* monotonic */
	size_t resp_bytes;
	enum call_method method;
	bool recorded;    /* counted in the metrics and logged */
	struct call call; /* last: call_init zeroes it, the rest is zeroed up to it */
};

/*
 * What a connection keeps across its requests (libmicrohttpd's socket
 * context): its header deadline watch, and the last request's exchange for
 * the next one, so that a keep-alive connection allocates it once.
 */
struct conn_ctx {
	struct http_watch *watch;
	struct exchange *spare;
};

static uint64_t monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- responses ---- */

/*
 * Count the request and write its access line, once: when its answer is
 * queued (so a client that reads the answer and then scrapes /metrics sees
 * it counted), or when it ends unanswered.
 */
static void record(struct exchange *x, bool aborted)
{
	struct call *c = &x->call;
	if (x->recorded)
		return;
	x->recorded = true;
	uint64_t took = monotonic_us() - x->started_us;
	metrics_request_done(c->route, c->path, x->method, c->status, took);
	/*
	 * The route template, never the raw path or query: those are the
	 * client's text (and may carry anything); headers and bodies are never
	 * logged, so tokens cannot reach the log.
	 */
	log_msg(LOG_INFO, "request",
	        "request_id=%s method=%s route=\"%s\" status=%d duration_ms=%llu.%03llu "
	        "bytes=%zu%s",
	        x->request_id, call_method_name(x->method), c->route ? c->route : "unmatched",
	        c->status, (unsigned long long)(took / 1000), (unsigned long long)(took % 1000),
	        x->resp_bytes, aborted ? " aborted=true" : "");
	call_log_outcome(c, x->request_id);
}

static enum MHD_Result queue_call_response(struct exchange *x)
{
	struct call *c = &x->call;
	struct MHD_Response *resp;

	x->state = X_ANSWERED;
	if (c->status == 0) {
		app_refuse(c, CALL_REFUSE_NONE); /* a 500 in the dialect's envelope */
		call_set_reason(c, "the handler gave no answer");
	}
	x->resp_bytes = c->resp_len;
	resp = MHD_create_response_from_buffer(c->resp_len, c->resp_body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		return MHD_NO;
	c->resp_body = NULL; /* libmicrohttpd frees it now */
	c->resp_len = 0;
	record(x, false);
	if (c->resp_type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, c->resp_type);
	MHD_add_response_header(resp, "X-Request-Id", x->request_id);
	for (size_t i = 0; i < c->nresp_headers; i++)
		MHD_add_response_header(resp, c->resp_headers[i].name, c->resp_headers[i].value);
	/* libmicrohttpd closes the connection once this answer is sent. */
	if (x->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(x->conn, (unsigned)c->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Answer a refused request in its dialect's envelope. */
static enum MHD_Result refuse(struct exchange *x, enum call_refusal why)
{
	app_refuse(&x->call, why);
	return queue_call_response(x);
}

/* ---- reading the head ---- */

/* What one pass over the header fields found (see scan_header). */
struct head_scan {
	struct exchange *x;
	struct http_framing framing;
	size_t count;               /* fields, kept or not */
	size_t bytes;               /* their names and values, and a separator's worth each */
	const char *request_id;     /* the first X-Request-Id, NULL when none */
	const char *content_length; /* the first Content-Length, NULL when none */
};

/*
 * Every header field once: kept in the call (the first CALL_MAX_HEADERS),
 * measured and shown to the framing rules.  The sizes come from
 * libmicrohttpd, so a field is judged by what it holds, not by a C string.
 */
static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
	struct head_scan *hs = cls;
	struct call *c = &hs->x->call;

	if (value == NULL)
		value = "", value_size = 0;
	/*
	 * libmicrohttpd 0.9.75 parses the head in place, so a value lies after
	 * its name in memory.  An obs-fold continuation line it appends to the
	 * *name*, which it moves to new memory past the read buffer: a value
	 * before the end of its own name is how a folded field shows.
	 */
	bool folded = (uintptr_t)value < (uintptr_t)key + key_size + 1;
	http_framing_field(&hs->framing, key, key_size, value, value_size, folded);
	hs->bytes += key_size + value_size + 2;
	hs->count++;
	if (c->nheaders < CALL_MAX_HEADERS)
		c->headers[c->nheaders++] = (struct call_pair){key, value};
	if (hs->request_id == NULL && key_size == 12 && strcasecmp(key, "X-Request-Id") == 0)
		hs->request_id = value;
	if (hs->content_length == NULL && key_size == 14 && strcasecmp(key, "Content-Length") == 0)
		hs->content_length = value;
	return MHD_YES;
}

/* The query parameters, once: kept in the call (the first CALL_MAX_QUERY) and measured. */
struct query_scan {
	struct call *call;
	size_t count;
	size_t bytes;
};

static enum MHD_Result scan_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                size_t key_size, const char *value, size_t value_size)
{
	struct query_scan *qs = cls;
	struct call *c = qs->call;

	qs->bytes += key_size + (value ? value_size : 0) + 2;
	qs->count++;
	if (c->nquery < CALL_MAX_QUERY)
		c->query[c->nquery++] = (struct call_pair){key, value};
	return MHD_YES;
}

/*
 * A fresh request id in UUID (version 4) form.  Request ids need to be
 * unique, not secret: a per-thread xorshift128+ seeded once from getrandom
 * makes one in nanoseconds, where libuuid's random UUIDs cost a getrandom
 * call and an srandom/random round each (measured: ~5% of a GET's CPU).
 */
static void request_id_new(char out[37])
{
	static _Thread_local uint64_t s0, s1;
	static const char hex[] = "0123456789abcdef";
	uint8_t b[16];

	if (s0 == 0 && s1 == 0) {
		uint64_t seed[2] = {0, 0};
		if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
			seed[0] = monotonic_us() ^ (uint64_t)(uintptr_t)&seed;
		s0 = seed[0] | 1, s1 = seed[1];
	}
	for (size_t half = 0; half < 2; half++) {
		uint64_t a = s0, z = s1;
		s0 = z;
		a ^= a << 23;
		s1 = a ^ z ^ (a >> 17) ^ (z >> 26);
		uint64_t v = s1 + z;
		memcpy(b + 8 * half, &v, 8);
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	size_t o = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

/* Take the client's X-Request-Id (given) when it is short and plain, else make one. */
static void set_request_id(struct exchange *x, const char *given)
{
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
	request_id_new(x->request_id);
}

static void http_defer(struct call *c, struct store_op *op);
static const struct call_transport http_transport = {.defer = http_defer};

static void on_op_done(struct store_op *op)
{
	struct exchange *x = op->done_arg;
	struct http_server *h = x->srv;
	x->state = X_RESUMED;
	MHD_resume_connection(x->conn);
	/* Only now may the daemon be stopped (see http_stop). */
	atomic_fetch_sub(&h->deferred, 1);
}

static void http_defer(struct call *c, struct store_op *op)
{
	struct exchange *x = c->transport_ctx;
	x->state = X_DEFERRED;
	x->op = op;
	op->done = on_op_done;
	op->done_arg = x;
	atomic_fetch_add(&x->srv->deferred, 1);
	/* Suspend before submitting: the writer may resume as soon as it has the op. */
	MHD_suspend_connection(x->conn);
	store_submit(x->srv->store, op);
}

/* ---- the access handler ---- */

/*
 * Keep n more body bytes.  Past the limit they are counted and dropped, to
 * answer 413 once the body is read; false (drop the connection) when far
 * past it or out of memory.
 */
static bool append_body(struct exchange *x, const char *data, size_t n)
{
	if (!x->too_large) {
		enum dynbuf_status st = dynbuf_add(&x->body, data, n);
		if (st == DYNBUF_OK)
			return true;
		if (st == DYNBUF_NOMEM)
			return false;
		x->too_large = true;
	}
	x->discarded += n;
	return x->discarded <= DISCARD_LIMIT;
}

/* The context of conn (NULL when it could not be made). */
static struct conn_ctx *ctx_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
	        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}

/* The deadline watch of conn (NULL when it could not be made). */
static struct http_watch *watch_of(struct MHD_Connection *conn)
{
	struct conn_ctx *ctx = ctx_of(conn);
	return ctx ? ctx->watch : NULL;
}

void http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
	struct http_server *h = cls;
	struct conn_ctx *ctx = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
		        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		ctx = calloc(1, sizeof(*ctx));
		if (ctx != NULL && info != NULL)
			ctx->watch = http_deadline_watch(h->deadline, info->connect_fd);
		*socket_context = ctx;
	} else if (ctx != NULL) {
		http_deadline_unwatch(h->deadline, ctx->watch);
		free(ctx->spare);
		free(ctx);
		*socket_context = NULL;
	}
}

/*
 * What is wrong with the head, in the order answered: framing first (it
 * decides where the next request would start, so the connection is closed),
 * then sizes and counts, then a declared body over the limit.
 */
static enum call_refusal head_refusal(struct exchange *x, const struct head_scan *hs,
                                      const struct query_scan *qs, const char *url,
                                      const char *version)
{
	size_t max_body = x->body.max;
	enum call_refusal why =
	        http_target_bad(url)
	                ? CALL_REFUSE_BAD_TARGET
	                : http_framing_verdict(&hs->framing,
	                                       strcmp(version, MHD_HTTP_VERSION_1_1) == 0);
	if (why != CALL_REFUSE_NONE) {
		x->close = true;
		return why;
	}
	if (hs->count > CALL_MAX_HEADERS)
		return CALL_REFUSE_TOO_MANY_HEADERS;
	if (hs->bytes > MAX_HEADER_BYTES)
		return CALL_REFUSE_HEADERS_TOO_LARGE;
	if (strlen(url) + qs->bytes > MAX_TARGET_BYTES)
		return CALL_REFUSE_URL_TOO_LONG;
	if (qs->count > CALL_MAX_QUERY)
		return CALL_REFUSE_TOO_MANY_QUERY;
	/* Digits only, at most 19 (http_framing): strtoull cannot fail here. */
	if (hs->content_length != NULL && strtoull(hs->content_length, NULL, 10) > max_body)
		return CALL_REFUSE_BODY_TOO_LARGE;
	return CALL_REFUSE_NONE;
}

/* The first call of a request: its head is in.  Fill the call and judge the head. */
static enum MHD_Result exchange_start(struct http_server *h, struct MHD_Connection *conn,
                                      const char *url, const char *method, const char *version,
                                      void **con_cls)
{
	struct conn_ctx *ctx = ctx_of(conn);
	struct exchange *x = ctx != NULL ? ctx->spare : NULL;
	if (x != NULL)
		ctx->spare = NULL;
	else if ((x = malloc(sizeof(*x))) == NULL)
		return MHD_NO;
	memset(x, 0, offsetof(struct exchange, call)); /* call_init zeroes the call below */
	x->srv = h;
	x->conn = conn;
	x->started_us = monotonic_us();
	x->method = call_method_parse(method);
	dynbuf_init(&x->body, atomic_load_explicit(&h->max_body, memory_order_relaxed));
	*con_cls = x;
	atomic_fetch_add(&h->in_flight, 1);
	metrics_request_started();
	http_deadline_headers_in(h->deadline, watch_of(conn));
	unsigned timeout = atomic_load_explicit(&h->timeout_s, memory_order_relaxed);
	if (timeout != h->start_timeout_s)
		MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, timeout);

	struct call *c = &x->call;
	call_init(c, h->store, &http_transport, x);
	c->method_name = method;
	c->method = x->method;
	c->path = url;
	c->request_id = x->request_id;
	const union MHD_ConnectionInfo *peer =
	        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	c->client_addr = peer ? peer->client_addr : NULL;

	struct head_scan hs = {.x = x};
	http_framing_init(&hs.framing);
	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_header, &hs);
	set_request_id(x, hs.request_id);
	struct query_scan qs = {.call = c};
	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, scan_arg, &qs);

	enum call_refusal why = head_refusal(x, &hs, &qs, url, version);
	if (why != CALL_REFUSE_NONE)
		return refuse(x, why);
	return MHD_YES;
}

enum MHD_Result http_on_access(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
	struct http_server *h = cls;
	struct exchange *x = *con_cls;

	if (x == NULL)
		return exchange_start(h, conn, url, method, version, con_cls);

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
		return refuse(x, CALL_REFUSE_BODY_TOO_LARGE);

	struct call *c = &x->call;
	c->body = x->body.buf ? x->body.buf : "";
	c->body_len = x->body.len;
	app_handle(h->app, c);
	if (call_is_deferred(c))
		return MHD_YES;
	return queue_call_response(x);
}

void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                       enum MHD_RequestTerminationCode toe)
{
	struct http_server *h = cls;
	struct exchange *x = *con_cls;
	http_deadline_next(h->deadline, watch_of(conn));
	if (x == NULL)
		return;
	/*
	 * A client that hung up while its store operation ran: libmicrohttpd
	 * closes the resumed connection without calling the access handler
	 * again, so finish has not run.  Run it now: it releases what the
	 * handler holds (parsed body, the operation's results); the answer is
	 * dropped with the call.
	 */
	if (x->state == X_RESUMED && x->call.finish != NULL) {
		x->call.finish(&x->call, x->op);
		x->call.finish = NULL;
	}
	/* No longer in flight once answered: the access line then means it (tests wait for it). */
	atomic_fetch_sub(&h->in_flight, 1);
	record(x, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK);
	call_release(&x->call);
	dynbuf_release(&x->body);
	/* Kept for the connection's next request (freed when it closes). */
	struct conn_ctx *ctx = ctx_of(conn);
	if (ctx != NULL && ctx->spare == NULL)
		ctx->spare = x;
	else
		free(x);
	*con_cls = NULL;
}
