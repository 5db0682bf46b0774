/*
 * sdnotify - what tagd tells systemd and takes from it: readiness, stopping,
 * watchdog pings and socket-activated listening sockets.
 *
 * Built with libsystemd (TAGD_HAVE_SYSTEMD) these talk to the service
 * manager when there is one ($NOTIFY_SOCKET, $LISTEN_FDS, $WATCHDOG_USEC)
 * and do nothing otherwise; built without it every function is a no-op, so
 * callers never need an #ifdef.  All are safe to call from any thread.
 */
#ifndef TAGD_SDNOTIFY_H
#define TAGD_SDNOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when built with libsystemd. */
bool sdnotify_supported(void);

/* READY=1 with a STATUS= line (status may be NULL). */
void sdnotify_ready(const char *status);

/* RELOADING=1: a SIGHUP reload begins; sdnotify_ready() ends it. */
void sdnotify_reloading(void);

/* STOPPING=1 with a STATUS= line. */
void sdnotify_stopping(const char *status);

/* WATCHDOG=1. */
void sdnotify_watchdog(void);

/* The watchdog interval systemd expects pings within, in microseconds; 0 when off. */
uint64_t sdnotify_watchdog_usec(void);

/*
 * The listening stream sockets systemd passed (socket activation), at most
 * cap of them, into fds; the caller owns them.  Returns how many (0 when not
 * socket-activated).  The environment variables are unset so that they are
 * not taken twice.
 */
size_t sdnotify_listen_fds(int *fds, size_t cap);

#endif
