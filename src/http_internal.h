/*
 * http_internal.h - what the HTTP module's files share, and nothing outside
 * them includes: the server, and the callbacks libmicrohttpd calls for each
 * request (http.c) that the server registers (http_server.c).
 */
#ifndef TAGD_HTTP_INTERNAL_H
#define TAGD_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct http_server {
	struct MHD_Daemon *mhd[HTTP_MAX_LISTEN]; /* one daemon per listening socket */
	int fd[HTTP_MAX_LISTEN];
	uint16_t port[HTTP_MAX_LISTEN];
	size_t nlisten;
	bool listen_shared; /* systemd holds the listening sockets too */
	struct app *app;
	struct store *store;
	atomic_size_t max_body;   /* reloadable */
	atomic_uint timeout_s;    /* reloadable; applied to each new request's connection */
	unsigned start_timeout_s; /* what the daemons were started with */
	atomic_uint in_flight;
	char *tls_cert_file; /* NULL: plain HTTP */
	char *tls_key_file;
	atomic_uint deferred;
	struct http_deadline *deadline; /* headers must arrive within the timeout */
};

/* The access handler: every call libmicrohttpd makes for a request (http.c). */
enum MHD_Result http_on_access(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls);

/* A request has ended, answered or not: account for it and free it. */
void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                       enum MHD_RequestTerminationCode toe);

/* A connection opened or closed: its context (header deadline watch, kept exchange). */
void http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode code);

#endif
