/*
 * http_listen.c - the listening sockets tagd opens itself (as opposed to
 * the ones systemd hands over): IPv4 or IPv6 addresses, or host names
 * resolved once, at start, every address of the name bound.  See http.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errmsg.h"
#include "http.h"

/* A listening socket on one resolved address; -1 with *err set on error. */
static int listen_on(const struct addrinfo *ai, const char *host, uint16_t port, char **err)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = errmsg_fmt("socket: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		char addr[INET6_ADDRSTRLEN] = "?";
		int e = errno;
		getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0,
		            NI_NUMERICHOST);
		if (strcmp(addr, host) == 0)
			*err = errmsg_fmt("cannot listen on %s port %u: %s", host, port,
			                  strerror(e));
		else
			*err = errmsg_fmt("cannot listen on %s (%s) port %u: %s", host, addr, port,
			                  strerror(e));
		close(fd);
		return -1;
	}
	return fd;
}

int http_listen(const char *host, uint16_t port, char **err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *res = NULL;
	char portstr[8];

	snprintf(portstr, sizeof(portstr), "%u", port);
	int rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		*err = errmsg_fmt("listen address %s: %s (give a numeric IP address)", host,
		                  gai_strerror(rc));
		return -1;
	}
	int fd = listen_on(res, host, port, err);
	freeaddrinfo(res);
	return fd;
}

/* True when a and b are the same address (and port). */
static bool same_addr(const struct addrinfo *a, const struct addrinfo *b)
{
	return a->ai_family == b->ai_family && a->ai_addrlen == b->ai_addrlen &&
	       memcmp(a->ai_addr, b->ai_addr, a->ai_addrlen) == 0;
}

bool http_listen_addrinfo(const struct addrinfo *list, const char *host, uint16_t port, int *fds,
                          size_t cap, size_t *n, char **err)
{
	size_t got = 0;

	for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
		bool seen = false;
		for (const struct addrinfo *prev = list; prev != ai && !seen; prev = prev->ai_next)
			seen = same_addr(prev, ai);
		if (seen || (ai->ai_family != AF_INET && ai->ai_family != AF_INET6))
			continue;
		if (got == cap) {
			*err = errmsg_fmt("listen address %s: more than %zu addresses to listen on",
			                  host, cap);
			goto fail;
		}
		fds[got] = listen_on(ai, host, port, err);
		if (fds[got] < 0)
			goto fail;
		got++;
	}
	if (got == 0) {
		*err = errmsg_fmt("listen address %s: no IPv4 or IPv6 address", host);
		return false;
	}
	*n = got;
	return true;

fail:
	http_close_fds(fds, got);
	return false;
}

bool http_listen_host(const char *host, uint16_t port, int *fds, size_t cap, size_t *n, char **err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *res = NULL;
	char portstr[8];

	*n = 0;
	snprintf(portstr, sizeof(portstr), "%u", port);
	int rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		*err = errmsg_fmt("listen address %s: cannot resolve it: %s", host,
		                  rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return false;
	}
	bool ok = http_listen_addrinfo(res, host, port, fds, cap, n, err);
	freeaddrinfo(res);
	return ok;
}

uint16_t http_socket_port(int fd)
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

void http_close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}
