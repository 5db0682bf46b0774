/*
 * http - the HTTP server: the only module that knows libmicrohttpd.
 *
 * It reads each request completely into a bounded buffer (413 past the
 * limit, chunked bodies included), turns it into a struct call, hands it to
 * the app and sends back the response.  Deferred calls suspend their
 * connection until the store's writer has finished, so an HTTP thread never
 * waits on the disk.
 */
#ifndef TAGD_HTTP_H
#define TAGD_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct app;

struct http_options {
	const char *host;      /* numeric address to bind; default "127.0.0.1" */
	uint16_t port;         /* 0: any free port (see http_port) */
	int listen_fd;         /* >= 0: an already listening socket to use instead */
	unsigned threads;      /* 0: one per core */
	size_t max_body;       /* 0: 1 MiB */
	unsigned timeout_s;    /* idle connection timeout, and the time a request's headers
	                          may take to arrive (slowloris); 0: 30 s */
	unsigned conn_limit;   /* 0: 1024 */
	unsigned per_ip_limit; /* 0: none */
};

struct http_server;

/*
 * Bind (or take listen_fd) and start serving app.  On error, NULL is returned,
 * nothing is left running and *err is set to a malloc'd message.
 */
struct http_server *http_start(const struct http_options *opts, struct app *app, char **err);

/* The port the server listens on. */
uint16_t http_port(const struct http_server *h);

/* Stop accepting new connections; requests in flight go on. */
void http_quiesce(struct http_server *h);

/* Number of requests being handled now (accepted, not yet answered). */
unsigned http_in_flight(const struct http_server *h);

/* Stop the server and free it; NULLs *hp.  Deferred calls must have finished. */
void http_stop(struct http_server **hp);

#endif
