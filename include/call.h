/*
 * call - one HTTP request and its response, as plain data.
 *
 * The HTTP module (the only one that knows libmicrohttpd) fills a call from the
 * wire and sends back what a handler put in it.  Handlers see nothing else, so
 * unit tests build a call by hand, run a handler against a real store, and read
 * the response without a socket.
 *
 * A handler that must write waits for the store's single writer.  Instead of
 * blocking an HTTP thread it "defers": it hands a store operation to the call's
 * transport and names a finish function; the transport runs the operation
 * (asynchronously over HTTP, synchronously in tests) and then calls finish,
 * which fills the response.
 */
#ifndef TAGD_CALL_H
#define TAGD_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct app_options;
struct sockaddr;
struct store;
struct store_op;

enum call_method {
	CALL_GET,
	CALL_HEAD,
	CALL_POST,
	CALL_PUT,
	CALL_PATCH,
	CALL_DELETE,
	CALL_OPTIONS,
	CALL_OTHER,
};

/* A request with more header fields or query parameters is refused (431 / 414), never cut. */
#define CALL_MAX_HEADERS   64
#define CALL_MAX_QUERY     32
#define CALL_MAX_PARAMS    4
#define CALL_MAX_RESP_HDRS 6

/*
 * Why the HTTP layer refuses a request before any handler sees it.  The app
 * answers each in the envelope of the path's dialect (app_refuse), so the
 * HTTP layer knows no envelope.
 */
enum call_refusal {
	CALL_REFUSE_NONE,
	CALL_REFUSE_URL_TOO_LONG,       /* 414: path and query over the limit */
	CALL_REFUSE_TOO_MANY_QUERY,     /* 414: more than CALL_MAX_QUERY parameters */
	CALL_REFUSE_HEADERS_TOO_LARGE,  /* 431: header bytes over the limit */
	CALL_REFUSE_TOO_MANY_HEADERS,   /* 431: more than CALL_MAX_HEADERS fields */
	CALL_REFUSE_BODY_TOO_LARGE,     /* 413 */
	CALL_REFUSE_BAD_TARGET,         /* 400: whitespace or control bytes in the path */
	CALL_REFUSE_BAD_HEADER,         /* 400: a field that is not name ":" value on one line */
	CALL_REFUSE_BAD_HOST,           /* 400: HTTP/1.1 without Host, several, or a bad one */
	CALL_REFUSE_FRAMING,            /* 400: Content-Length and Transfer-Encoding together */
	CALL_REFUSE_CONTENT_LENGTH,     /* 400: several Content-Length fields, or not digits */
	CALL_REFUSE_TRANSFER_ENCODING,  /* 400: not a list that ends in one chunked */
	CALL_REFUSE_CODING_UNSUPPORTED, /* 501: codings before chunked (tagd decodes none) */
};

struct call_pair {
	const char *name;
	const char *value;
};

struct call;

/* How a deferred store operation is run; set by whoever owns the call. */
struct call_transport {
	/*
	 * Run op on the store's writer; when it has committed or failed, call
	 * call->finish(call, op) on a thread where responding is allowed.
	 */
	void (*defer)(struct call *call, struct store_op *op);
};

typedef void (*call_finish_fn)(struct call *call, struct store_op *op);

struct call {
	/* Request: all strings are borrowed from the transport and live as long as the call. */
	enum call_method method;
	const char *method_name;
	const char *path; /* raw, still percent-encoded, without the query */
	struct call_pair headers[CALL_MAX_HEADERS];
	size_t nheaders;
	struct call_pair query[CALL_MAX_QUERY]; /* raw, still percent-encoded */
	size_t nquery;
	const char *body;
	size_t body_len;
	const char *request_id;
	const struct sockaddr *client_addr; /* the peer's address; NULL when unknown */

	/* Filled by the router: decoded path parameters, owned by the call. */
	char *params[CALL_MAX_PARAMS];
	size_t nparams;
	const char *route; /* the matched route template, for logs and metrics */

	/* Set by app_handle: the daemon's options (borrowed; outlive the call). */
	const struct app_options *app_opts;

	/* Filled by authentication: the caller's organization and token (never its secret). */
	int64_t org_id;
	char *org_name;
	char token_id[17]; /* the token's public id; empty when unauthenticated */
	char *token_label; /* the token's label; NULL when it has none */

	/* Response: body is owned by the call until the transport takes it. */
	int status;
	char *resp_body;
	size_t resp_len;
	const char *resp_type;                             /* Content-Type; static string */
	struct call_pair resp_headers[CALL_MAX_RESP_HDRS]; /* values owned by the call */
	size_t nresp_headers;
	/*
	 * Why an error was answered, for the log only (the wire keeps the
	 * dialect's message); owned.  Never the client's headers, body or raw
	 * path: tokens must not reach the log.
	 */
	char *reason;

	/* Deferred work. */
	struct store *store;
	const struct call_transport *transport;
	void *transport_ctx;
	call_finish_fn finish;
	void *handler_ctx; /* handler's state between start and finish; freed with free() */
};

/* Zero a call and set its store and transport. */
void call_init(struct call *c, struct store *store, const struct call_transport *transport,
               void *transport_ctx);

/* Free what the call owns (params, response body and headers, handler state). */
void call_release(struct call *c);

/* Map a method name to its enum; unknown names give CALL_OTHER. */
enum call_method call_method_parse(const char *name);
const char *call_method_name(enum call_method m);

/* Case-insensitive header lookup; NULL when absent. */
const char *call_header(const struct call *c, const char *name);

/*
 * Decoded value of query parameter name ('+' is a space, %XX decoded), as a
 * new string the caller frees; NULL when absent.  *bad is set when the value
 * is present but not valid percent-encoding or contains a NUL byte.
 */
char *call_query_take(const struct call *c, const char *name, bool *bad);

/* Path parameter i, decoded; NULL when out of range. */
const char *call_param(const struct call *c, size_t i);

/*
 * Set the response: status, body taken over (may be NULL for none) and a
 * static content type.  Replaces an earlier body.
 */
void call_respond_take(struct call *c, int status, char *body, size_t len, const char *type);

/*
 * Say why the response is an error (see struct call's reason); replaces an
 * earlier reason.  Out of memory leaves a fixed "(reason lost: out of
 * memory)".
 */
void call_set_reason(struct call *c, const char *reason);
void call_set_reasonf(struct call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The reason set for the response; NULL when none was. */
const char *call_reason(const struct call *c);

/*
 * Log why a call was answered 4xx or 5xx, with its request id: at info for
 * 5xx and 429 (the authentication failure budget), at debug for the other
 * 4xx.  Nothing for other statuses.  A missing reason is logged as
 * "unspecified" (a bug: every error path sets one).
 */
void call_log_outcome(const struct call *c, const char *request_id);

/* Drop the response (status, body, headers and reason) so that another can be set. */
void call_reset_response(struct call *c);

/* Add a response header; value is copied.  Returns false when full or out of memory. */
bool call_add_header(struct call *c, const char *name, const char *value);

/*
 * Defer op to the store writer; finish is called once it completes.  The
 * caller must not touch the response until finish runs.
 */
void call_defer(struct call *c, struct store_op *op, call_finish_fn finish);

/* True when a handler has deferred and finish has not run yet. */
bool call_is_deferred(const struct call *c);

/*
 * Add `Link: <PATH?limit=LIMIT&after=AFTER>; rel="next"` (RFC 8288) to c's
 * response, PATH being the matched route with its parameters and AFTER
 * percent-encoded.  Returns false when out of memory or out of header slots:
 * the caller must then not answer as if this were the last page.
 */
bool call_add_link_next(struct call *c, int64_t limit, const char *after);

/*
 * Percent-decode src[0..len) into a new string.  Returns NULL on bad
 * encoding, on an encoded NUL byte, or when out of memory.  plus_is_space
 * decodes '+' as ' ' (query strings).
 */
char *call_percent_decode(const char *src, size_t len, bool plus_is_space);

#endif
