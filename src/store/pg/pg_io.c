/*
 * pg_io.c - every round trip to PostgreSQL bounded in time.  See pg.h.
 *
 * statement_timeout makes the server give up on a slow statement; it cannot
 * help when the server does not answer at all (a host that froze, a network
 * that drops packets, a TCP peer gone without a reset), where a blocking
 * libpq call would wait for as long as the kernel keeps the connection.  So
 * a statement is sent without blocking and its answer awaited with poll()
 * until a deadline; past it the connection is shut down (its state is
 * unknown: it must not be used again) and the statement fails as the
 * database being unavailable.
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "pg.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until the socket is ready for events; false at the deadline or on an error. */
static bool ready(PGconn *pg, short events, int64_t deadline)
{
	for (;;) {
		int left = deadline ? (int)(deadline - now_ms()) : -1;
		if (deadline && left <= 0)
			return false;
		struct pollfd p = {.fd = PQsocket(pg), .events = events};
		int n = poll(&p, 1, left);
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
}

static bool failed(const PGresult *res)
{
	ExecStatusType rs = PQresultStatus(res);
	return rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK;
}

PGresult *pg_await(PGconn *pg, unsigned timeout_ms, bool *timed_out)
{
	int64_t deadline = timeout_ms ? now_ms() + timeout_ms : 0;
	PGresult *kept = NULL;
	*timed_out = false;

	/* The statement out: PQflush is 1 while libpq still holds some of it. */
	int f;
	while ((f = PQflush(pg)) == 1)
		if (!ready(pg, POLLIN | POLLOUT, deadline) || PQconsumeInput(pg) == 0)
			goto timeout;
	if (f < 0)
		return NULL;

	/* Every result of it: the first that failed, else the last. */
	for (;;) {
		while (PQisBusy(pg)) {
			if (!ready(pg, POLLIN, deadline))
				goto timeout;
			if (PQconsumeInput(pg) == 0) {
				PQclear(kept);
				return NULL; /* the connection failed: PQstatus tells */
			}
		}
		PGresult *res = PQgetResult(pg);
		if (res == NULL)
			return kept;
		if (kept != NULL && failed(kept)) {
			PQclear(res);
		} else {
			PQclear(kept);
			kept = res;
		}
	}

timeout:
	/* Whatever the server did, this connection is done: nobody may read its next answer. */
	PQclear(kept);
	shutdown(PQsocket(pg), SHUT_RDWR);
	*timed_out = true;
	return NULL;
}
