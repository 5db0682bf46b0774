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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct app;

struct http_options {
	const char *host;      /* numeric address to bind; default "127.0.0.1" */
	uint16_t port;         /* 0: any free port (see http_port) */
	int listen_fd;         /* >= 0: an already listening socket to use instead */
	unsigned threads;      /* 0: one per core */
	size_t max_body;       /* 0: 1 MiB */
	unsigned timeout_s;    /* idle connection timeout; 0: 30 s */
	unsigned conn_limit;   /* 0: 1024 */
	unsigned per_ip_limit; /* 0: none */
	/* HTTPS when both files are given (PEM; the key unencrypted); plain HTTP otherwise. */
	const char *tls_cert_file;
	const char *tls_key_file;
	const char *tls_priorities; /* GnuTLS priority string; NULL: TLS_DEFAULT_PRIORITIES */
};

struct http_server;

/*
 * Bind (or take listen_fd) and start serving app.  On error, NULL is returned,
 * nothing is left running and *err is set to a malloc'd message.
 */
struct http_server *http_start(const struct http_options *opts, struct app *app, char **err);

/* True when the server speaks HTTPS. */
bool http_is_tls(const struct http_server *h);

/*
 * Re-read the TLS certificate and key files given at start and use them for
 * every new handshake; open connections and the listening socket are kept.
 * On error (the files are checked as at start) returns false, sets *err to a
 * malloc'd message and keeps serving the previous certificate.  Without TLS,
 * returns true and does nothing.
 */
bool http_reload_tls(struct http_server *h, char **err);

/* The port the server listens on. */
uint16_t http_port(const struct http_server *h);

/* Stop accepting new connections; requests in flight go on. */
void http_quiesce(struct http_server *h);

/* Number of requests being handled now (accepted, not yet answered). */
unsigned http_in_flight(const struct http_server *h);

/* Stop the server and free it; NULLs *hp.  Deferred calls must have finished. */
void http_stop(struct http_server **hp);

#endif
