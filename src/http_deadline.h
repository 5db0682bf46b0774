/*
 * http_deadline - the slowloris guard of the HTTP module: a request's
 * headers must all arrive within a deadline of its start, however steadily
 * they trickle in.  libmicrohttpd's own timeout only closes connections that
 * are idle, so a client sending a byte a second would hold a connection
 * forever.  A watchdog thread shuts down the socket of every connection past
 * its deadline; libmicrohttpd then sees the end of the stream and closes it.
 *
 * Knows sockets, not libmicrohttpd: http.c tells it when a connection opens,
 * when a request's headers are in, when the next request may start and when
 * the connection closes.  All functions are thread-safe.
 */
#ifndef TAGD_HTTP_DEADLINE_H
#define TAGD_HTTP_DEADLINE_H

#include <stdint.h>

struct http_deadline;
struct http_watch;

/* Start the watchdog; NULL when out of memory or no thread can be made. */
struct http_deadline *http_deadline_start(unsigned seconds);

/* Stop the watchdog and free it; NULLs *dp.  Every watch must be gone. */
/* Change the deadline (SIGHUP reloads connection_timeout); applies from the next tick. */
void http_deadline_set_limit(struct http_deadline *d, unsigned seconds);

void http_deadline_stop(struct http_deadline **dp);

/* Watch the connection on socket fd, whose first request starts now.  NULL when out of memory. */
struct http_watch *http_deadline_watch(struct http_deadline *d, int fd);

/* The current request's headers are in: its clock stops.  w may be NULL. */
void http_deadline_headers_in(struct http_deadline *d, struct http_watch *w);

/* The current request is done; the next one on the connection starts now.  w may be NULL. */
void http_deadline_next(struct http_deadline *d, struct http_watch *w);

/* The connection is closing: forget it (before its socket is closed).  w may be NULL. */
void http_deadline_unwatch(struct http_deadline *d, struct http_watch *w);

/* Connections cut so far. */
uint64_t http_deadline_cut(struct http_deadline *d);

#endif
