/*
 * http - the HTTP server: the only module that knows libmicrohttpd.
 *
 * It reads each request completely into a bounded buffer (413 past the
 * limit, chunked bodies included), turns it into a struct call, hands it to
 * the app and sends back the response.  Deferred calls suspend their
 * connection until the store's writer has finished, so an HTTP thread never
 * waits on the disk.
 *
 * Every request ends with one access-log line (request id, method, route
 * template, status, duration, bytes; never headers, bodies or the raw path)
 * and is counted in the metrics registry.
 */
#ifndef TAGD_HTTP_H
#define TAGD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct addrinfo;
struct app;

#define HTTP_MAX_LISTEN 8

struct http_options {
	const char *host;      /* numeric address to bind; default "127.0.0.1" */
	uint16_t port;         /* 0: any free port (see http_port) */
	int listen_fd;         /* >= 0: an already listening socket to use instead */
	const int *listen_fds; /* when nlisten_fds > 0: listening sockets to serve on (several
	                          addresses, or systemd's); these win over host/port/listen_fd */
	size_t nlisten_fds;    /* at most HTTP_MAX_LISTEN */
	bool listen_shared;    /* the sockets are systemd's too (socket activation): see
	                          http_quiesce */
	/* With several sockets, threads and conn_limit are shared out between them. */
	unsigned threads;      /* 0: one per core */
	size_t max_body;       /* 0: 1 MiB */
	unsigned timeout_s;    /* idle connection timeout, and the time a request's headers
	                          may take to arrive (slowloris); 0: 30 s */
	unsigned conn_limit;   /* 0: 1024 */
	unsigned per_ip_limit; /* 0: none */
	/* HTTPS when both files are given (PEM; the key unencrypted); plain HTTP otherwise. */
	const char *tls_cert_file;
	const char *tls_key_file;
	const char *tls_priorities; /* GnuTLS priority string; NULL: TLS_DEFAULT_PRIORITIES */
	/*
	 * For tests (the HTTP fuzz target): no thread of the server's own; the
	 * caller drives it with http_run().  One listening socket only.
	 */
	bool external_loop;
};

struct http_server;

/*
 * A listening TCP socket on host (numeric) and port, close-on-exec; -1 on
 * error with *err set to a malloc'd message.
 */
int http_listen(const char *host, uint16_t port, char **err);

/*
 * Listening sockets on every address of host at port: host is an IP address
 * or a name, resolved now (the name's addresses, each once, IPv4 and IPv6).
 * They are written to fds[0..*n), at most cap.  On error (the name does not
 * resolve, more than cap addresses, an address that cannot be bound) false
 * is returned, no socket is left open and *err is a malloc'd message.
 */
bool http_listen_host(const char *host, uint16_t port, int *fds, size_t cap, size_t *n, char **err);

/* The same for addresses already resolved (list, named host in messages); for tests. */
bool http_listen_addrinfo(const struct addrinfo *list, const char *host, uint16_t port, int *fds,
                          size_t cap, size_t *n, char **err);

/* The local port of a listening socket (0 when it cannot be read). */
uint16_t http_socket_port(int fd);

/* Close fds[0..n) that are >= 0. */
void http_close_fds(const int *fds, size_t n);

/*
 * Bind (or take listen_fd / listen_fds) and start serving app.  The server
 * owns the sockets it is given from then on, even when it fails to start.  On error, NULL is
 * returned, nothing is left running and *err is set to a malloc'd message.
 */
struct http_server *http_start(const struct http_options *opts, struct app *app, char **err);

/*
 * Serve what is ready, waiting at most max_wait_ms for something to happen;
 * only for a server started with external_loop.
 */
void http_run(struct http_server *h, unsigned max_wait_ms);

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
/* The port the server listens on (the first socket's). */
uint16_t http_port(const struct http_server *h);

/* Number of listening sockets, and the port of the i-th. */
size_t http_listen_count(const struct http_server *h);
uint16_t http_port_at(const struct http_server *h, size_t i);

/*
 * Change the limits that may change at run time (SIGHUP): the largest body
 * and the idle timeout of connections opened from now on.  0 keeps a value.
 */
void http_set_limits(struct http_server *h, size_t max_body, unsigned timeout_s);

/*
 * Stop accepting new connections; requests in flight go on.  The listening
 * sockets are closed (new connections are refused), or, when they are
 * shared with systemd, left to systemd (new connections wait for the next
 * start).
 */
void http_quiesce(struct http_server *h);

/* Number of requests being handled now (accepted, not yet answered). */
unsigned http_in_flight(const struct http_server *h);

/* Number of requests whose connection is suspended waiting on the store's writer. */
unsigned http_deferred(const struct http_server *h);

/*
 * Stop the server and free it; NULLs *hp.  Requests still in flight are cut
 * off.  No connection may be suspended (http_deferred() == 0): the store's
 * writer would resume a connection that no longer exists.
 */
void http_stop(struct http_server **hp);

#endif
