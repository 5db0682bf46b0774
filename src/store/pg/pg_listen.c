/*
 * pg_listen.c - the token epoch as PostgreSQL tells it (see
 * migrations/pg/0004_token_epoch.sql): one connection per node LISTENs on
 * tagd_token_epoch, which the epoch's trigger NOTIFYs with each new value at
 * commit, and reads the epoch itself every LISTEN_PERIOD_MS.  A node then
 * checks a cached token without asking the database at all, as long as the
 * epoch it holds was read less than EPOCH_BOUND_MS ago: a change of a token
 * or an organization on any node is seen at once when the notification
 * arrives (milliseconds), and within EPOCH_BOUND_MS in any case.  When the
 * connection fails or answers late, the epoch goes stale and every request
 * reads it from the database again (store_org.c) until this connection is
 * back.  The thread starts with the first token check, so the CLI never
 * opens this connection.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errmsg.h"
#include "log.h"
#include "pg.h"

#define LISTEN_PERIOD_MS 250
#define EPOCH_BOUND_MS   1000
#define RETRY_MS         1000

struct pg_listen {
	pthread_t thread;
	atomic_bool started, running, stop;
	atomic_llong epoch;
	atomic_ullong fresh_until_us; /* monotonic: the epoch holds until then (0: never) */
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* One query on pg, bounded like every other round trip: its one value, or false. */
static bool read_epoch(PGconn *pg, unsigned wait_ms, long long *epoch)
{
	bool timed_out = false;
	PGresult *res = PQsendQuery(pg, "SELECT epoch FROM token_epoch")
	                        ? pg_await(pg, wait_ms, &timed_out)
	                        : NULL;
	bool ok = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	if (ok)
		*epoch = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return ok;
}

static bool listen_on(PGconn *pg, unsigned wait_ms)
{
	bool timed_out = false;
	PGresult *res = PQsendQuery(pg, "LISTEN tagd_token_epoch")
	                        ? pg_await(pg, wait_ms, &timed_out)
	                        : NULL;
	bool ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	return ok;
}

/* Raise the epoch held to e (never lower: notifications may cross a read). */
static void raise_epoch(struct pg_listen *l, long long e)
{
	long long cur = atomic_load(&l->epoch);
	while (e > cur && !atomic_compare_exchange_weak(&l->epoch, &cur, e))
		;
}

/* Listen on one connection until it fails or the store closes. */
static void follow(struct pg_listen *l, PGconn *pg, unsigned wait_ms)
{
	if (!listen_on(pg, wait_ms))
		return;
	while (!atomic_load(&l->stop)) {
		/* Freshness counts from before the read: what it returns is at least that new. */
		uint64_t asked = now_us();
		long long e;
		if (!read_epoch(pg, wait_ms, &e))
			return;
		raise_epoch(l, e);
		atomic_store(&l->fresh_until_us, asked + (uint64_t)EPOCH_BOUND_MS * 1000);

		/* Notifications until the next read. */
		uint64_t next = asked + (uint64_t)LISTEN_PERIOD_MS * 1000;
		for (uint64_t t = now_us(); t < next && !atomic_load(&l->stop); t = now_us()) {
			struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
			int n = poll(&p, 1, (int)((next - t) / 1000) + 1);
			if (n < 0 && errno != EINTR)
				return;
			if (n > 0 && PQconsumeInput(pg) == 0)
				return;
			PGnotify *msg;
			while ((msg = PQnotifies(pg)) != NULL) {
				raise_epoch(l, strtoll(msg->extra, NULL, 10));
				PQfreemem(msg);
			}
		}
	}
}

static void *listen_main(void *arg)
{
	struct store *s = arg;
	struct pg_listen *l = s->pg_listen;
	unsigned wait_ms = (s->opts.db_timeout_s ? s->opts.db_timeout_s : 5) * 1000 + 1000;

	while (!atomic_load(&l->stop)) {
		char *err = NULL;
		PGconn *pg = pg_connect(s, &err);
		if (pg != NULL)
			follow(l, pg, wait_ms);
		free(err); /* the readers and the writer say when the database is away */
		PQfinish(pg);
		atomic_store(&l->fresh_until_us, 0);
		for (int i = 0; i < RETRY_MS / 50 && !atomic_load(&l->stop); i++) {
			struct timespec ts = {.tv_nsec = 50 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

bool pg_listen_init(struct store *s)
{
	s->pg_listen = calloc(1, sizeof(*s->pg_listen));
	return s->pg_listen != NULL;
}

bool pg_epoch_now(struct store *s, int64_t *epoch)
{
	struct pg_listen *l = s->pg_listen;
	if (l == NULL)
		return false;
	if (!atomic_load(&l->started) && !atomic_exchange(&l->started, true)) {
		if (pthread_create(&l->thread, NULL, listen_main, s) == 0)
			atomic_store(&l->running, true);
		else /* started stays set: every check reads the epoch itself */
			log_msg(LOG_WARN, "cannot start the token epoch listener", NULL);
	}
	if (now_us() >= atomic_load(&l->fresh_until_us))
		return false;
	*epoch = atomic_load(&l->epoch);
	return true;
}

void pg_listen_stop(struct store *s)
{
	struct pg_listen *l = s->pg_listen;
	if (l == NULL)
		return;
	atomic_store(&l->stop, true);
	if (atomic_load(&l->running))
		pthread_join(l->thread, NULL);
	free(l);
	s->pg_listen = NULL;
}
