/*
 * Unit tests: http_listen.c - a host name's every address bound, each once;
 * nothing left open on failure.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "testutil.h"

/* Open file descriptors of this process. */
static size_t open_fds(void)
{
	size_t n = 0;
	DIR *d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* A chain of IPv4 loopback addresses at port 0, as getaddrinfo would give them. */
struct chain {
	struct addrinfo ai[4];
	struct sockaddr_in sin[4];
};

static struct addrinfo *chain_of(struct chain *c, const char *const *addrs, size_t n)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		c->sin[i].sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, addrs[i], &c->sin[i].sin_addr), 1);
		c->ai[i].ai_family = AF_INET;
		c->ai[i].ai_socktype = SOCK_STREAM;
		c->ai[i].ai_addr = (struct sockaddr *)&c->sin[i];
		c->ai[i].ai_addrlen = sizeof(c->sin[i]);
		c->ai[i].ai_next = i + 1 < n ? &c->ai[i + 1] : NULL;
	}
	return &c->ai[0];
}

static void bound_to(int fd, const char *addr)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char text[INET_ADDRSTRLEN];
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_str_eq(inet_ntop(AF_INET, &sin.sin_addr, text, sizeof(text)), addr);
	ck_assert_uint_ne(http_socket_port(fd), 0);
}

START_TEST(every_address_once)
{
	static const char *const addrs[] = {"127.0.0.1", "127.0.0.2", "127.0.0.1"};
	struct chain c;
	int fds[4];
	size_t n = 0;
	char *err = NULL;

	ck_assert(http_listen_addrinfo(chain_of(&c, addrs, 3), "two.example", 0, fds, 4, &n, &err));
	ck_assert_uint_eq(n, 2); /* the repeated address is bound once */
	bound_to(fds[0], "127.0.0.1");
	bound_to(fds[1], "127.0.0.2");
	http_close_fds(fds, n);
}
END_TEST

START_TEST(failures_leave_nothing_open)
{
	static const char *const addrs[] = {"127.0.0.1", "127.0.0.2", "127.0.0.3"};
	struct chain c;
	int fds[4];
	size_t n = 0, before = open_fds();
	char *err = NULL;

	/* More addresses than room. */
	ck_assert(!http_listen_addrinfo(chain_of(&c, addrs, 3), "three.example", 0, fds, 2, &n,
	                                &err));
	ck_assert_str_eq(err, "listen address three.example: more than 2 addresses to listen on");
	free(err);
	ck_assert_uint_eq(open_fds(), before);

	/* An address that cannot be bound (not this host's): the first one is closed again. */
	static const char *const foreign[] = {"127.0.0.1", "192.0.2.1"};
	err = NULL;
	ck_assert(!http_listen_addrinfo(chain_of(&c, foreign, 2), "mixed.example", 0, fds, 4, &n,
	                                &err));
	ck_assert_ptr_nonnull(strstr(err, "cannot listen on mixed.example (192.0.2.1) port 0"));
	free(err);
	ck_assert_uint_eq(open_fds(), before);
}
END_TEST

START_TEST(names_and_numbers)
{
	int fds[8];
	size_t n = 0;
	char *err = NULL;

	ck_assert_msg(http_listen_host("localhost", 0, fds, 8, &n, &err), "%s", err ? err : "");
	ck_assert_uint_ge(n, 1);
	http_close_fds(fds, n);
	ck_assert(http_listen_host("127.0.0.1", 0, fds, 8, &n, &err));
	ck_assert_uint_eq(n, 1);
	bound_to(fds[0], "127.0.0.1");
	http_close_fds(fds, n);
	ck_assert(!http_listen_host("no-such-host.invalid", 0, fds, 8, &n, &err));
	ck_assert_ptr_nonnull(
	        strstr(err, "listen address no-such-host.invalid: cannot resolve it"));
	ck_assert_uint_eq(n, 0);
	free(err);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("http_listen");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, every_address_once);
	tcase_add_test(tc, failures_leave_nothing_open);
	tcase_add_test(tc, names_and_numbers);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(make_suite)
