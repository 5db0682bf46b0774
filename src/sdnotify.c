/*
 * sdnotify.c - libsystemd calls, or nothing.  See sdnotify.h.
 *
 * The only file that knows whether tagd was built with libsystemd.
 */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sdnotify.h"

#ifdef TAGD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

bool sdnotify_supported(void)
{
	return true;
}

static void notify_with_status(const char *state, const char *status)
{
	if (status != NULL)
		sd_notifyf(0, "%s\nSTATUS=%s", state, status);
	else
		sd_notify(0, state);
}

void sdnotify_ready(const char *status)
{
	notify_with_status("READY=1", status);
}

void sdnotify_reloading(void)
{
	sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
}

void sdnotify_stopping(const char *status)
{
	notify_with_status("STOPPING=1", status);
}

void sdnotify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

uint64_t sdnotify_watchdog_usec(void)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}

size_t sdnotify_listen_fds(int *fds, size_t cap)
{
	int n = sd_listen_fds(1);
	size_t taken = 0;

	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		if (taken < cap && sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0)
			fds[taken++] = fd;
		else
			close(fd); /* not something tagd can serve on */
	}
	return taken;
}

#else

bool sdnotify_supported(void)
{
	return false;
}

void sdnotify_ready(const char *status)
{
}

void sdnotify_reloading(void)
{
}

void sdnotify_stopping(const char *status)
{
}

void sdnotify_watchdog(void)
{
}

uint64_t sdnotify_watchdog_usec(void)
{
	return 0;
}

size_t sdnotify_listen_fds(int *fds, size_t cap)
{
	return 0;
}

#endif
