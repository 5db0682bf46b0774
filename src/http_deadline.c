/*
 * http_deadline.c - the header deadline watchdog.  See http_deadline.h.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "http_deadline.h"
#include "log.h"

#define TICK_MS 200

struct http_watch {
	struct http_watch *prev, *next;
	int fd;
	int64_t since_ms; /* when the current request started; 0: its headers are in */
};

struct http_deadline {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool stopping;
	int64_t limit_ms;
	struct http_watch *list;
	uint64_t cut;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *watchdog_main(void *arg)
{
	struct http_deadline *d = arg;

	pthread_mutex_lock(&d->lock);
	while (!d->stopping) {
		struct timespec until;
		clock_realtime_after_ms(TICK_MS, &until);
		pthread_cond_timedwait(&d->cond, &d->lock, &until);
		int64_t now = now_ms();
		unsigned cut = 0;
		for (struct http_watch *w = d->list; w != NULL; w = w->next) {
			if (w->since_ms == 0 || now - w->since_ms < d->limit_ms)
				continue;
			/* Under the lock: the socket is still this connection's (see unwatch). */
			shutdown(w->fd, SHUT_RDWR);
			w->since_ms = 0;
			cut++;
		}
		d->cut += cut;
		if (cut > 0)
			log_msg(LOG_WARN, "request headers too slow: connections cut", "count=%u",
			        cut);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

struct http_deadline *http_deadline_start(unsigned seconds)
{
	struct http_deadline *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->limit_ms = (int64_t)seconds * 1000;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	if (pthread_create(&d->thread, NULL, watchdog_main, d) != 0) {
		pthread_cond_destroy(&d->cond);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return NULL;
	}
	return d;
}

void http_deadline_set_limit(struct http_deadline *d, unsigned seconds)
{
	pthread_mutex_lock(&d->lock);
	d->limit_ms = (int64_t)seconds * 1000;
	pthread_mutex_unlock(&d->lock);
}

void http_deadline_stop(struct http_deadline **dp)
{
	struct http_deadline *d = *dp;
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	/* Connections libmicrohttpd did not report closed (it always does): free them. */
	while (d->list != NULL) {
		struct http_watch *w = d->list;
		d->list = w->next;
		free(w);
	}
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
	*dp = NULL;
}

struct http_watch *http_deadline_watch(struct http_deadline *d, int fd)
{
	struct http_watch *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->fd = fd;
	pthread_mutex_lock(&d->lock);
	w->since_ms = now_ms();
	w->next = d->list;
	if (d->list != NULL)
		d->list->prev = w;
	d->list = w;
	pthread_mutex_unlock(&d->lock);
	return w;
}

void http_deadline_headers_in(struct http_deadline *d, struct http_watch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	w->since_ms = 0;
	pthread_mutex_unlock(&d->lock);
}

void http_deadline_next(struct http_deadline *d, struct http_watch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	w->since_ms = now_ms();
	pthread_mutex_unlock(&d->lock);
}

void http_deadline_unwatch(struct http_deadline *d, struct http_watch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		d->list = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&d->lock);
	free(w);
}

uint64_t http_deadline_cut(struct http_deadline *d)
{
	pthread_mutex_lock(&d->lock);
	uint64_t n = d->cut;
	pthread_mutex_unlock(&d->lock);
	return n;
}
