/*
 * metrics.c - lock-free request counters and the Prometheus text format.
 * See metrics.h.
 *
 * A series is claimed once by compare-and-swap of its key into an empty
 * slot of an open-addressing table; from then on recording is a few relaxed
 * atomic additions.  Route templates get a small id the same way.  Nothing
 * is ever removed, so a reader needs no lock either.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"
#include "router.h"
#include "sdnotify.h"
#include "store.h"
#include "store_admin.h"
#include "version.h"

#define MAX_ROUTES 255 /* ids 1..255; 0 means "no route matched" */
#define MAX_SERIES 1024
#define NBUCKETS   14

enum dialect { D_VERS, D_SERVICESTAGE, D_OPS, D_NONE };
static const char *const dialect_names[] = {"vers", "servicestage", "ops", "none"};

/* Request latency bounds, microseconds (the exposition prints seconds). */
static const uint64_t bounds_us[NBUCKETS] = {
        500,    1000,   2500,   5000,    10000,   25000,   50000,
        100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

struct series {
	_Atomic uint32_t key; /* 0: free */
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us;
	atomic_uint_fast64_t buckets[NBUCKETS + 1]; /* per bucket; last: +Inf */
};

static _Atomic(const char *) routes[MAX_ROUTES];
static struct series table[MAX_SERIES];
static atomic_int_fast64_t in_flight;
static atomic_uint_fast64_t dropped;

void metrics_request_started(void)
{
	atomic_fetch_add_explicit(&in_flight, 1, memory_order_relaxed);
}

/* The route's id, claiming one on first sight; 0 for none or when all are taken. */
static unsigned route_id(const char *route)
{
	if (route == NULL)
		return 0;
	uintptr_t p = (uintptr_t)route;
	size_t start = (size_t)((p >> 4) ^ (p >> 12)) % MAX_ROUTES;
	for (size_t probe = 0; probe < MAX_ROUTES; probe++) {
		size_t i = (start + probe) % MAX_ROUTES;
		const char *cur = atomic_load_explicit(&routes[i], memory_order_acquire);
		if (cur == route)
			return (unsigned)i + 1;
		if (cur == NULL) {
			const char *expected = NULL;
			if (atomic_compare_exchange_strong(&routes[i], &expected, route) ||
			    expected == route)
				return (unsigned)i + 1;
		}
	}
	return 0;
}

/* The template's dialect, else the path's; tagd's own routes are "ops", unknown paths "none". */
static enum dialect dialect_of(const char *route, const char *path)
{
	switch (router_dialect(route ? route : path)) {
	case ROUTER_DIALECT_VERS:
		return D_VERS;
	case ROUTER_DIALECT_SS:
		return D_SERVICESTAGE;
	case ROUTER_DIALECT_OTHER:
		break;
	}
	return route ? D_OPS : D_NONE;
}

static struct series *series_for(uint32_t key)
{
	size_t start = (size_t)((key * 2654435761u) >> 8) % MAX_SERIES;
	for (size_t probe = 0; probe < MAX_SERIES; probe++) {
		struct series *s = &table[(start + probe) % MAX_SERIES];
		uint32_t cur = atomic_load_explicit(&s->key, memory_order_acquire);
		if (cur == key)
			return s;
		if (cur == 0) {
			uint32_t expected = 0;
			if (atomic_compare_exchange_strong(&s->key, &expected, key) ||
			    expected == key)
				return s;
		}
	}
	return NULL;
}

void metrics_request_done(const char *route, const char *path, enum call_method method, int status,
                          uint64_t duration_us)
{
	atomic_fetch_sub_explicit(&in_flight, 1, memory_order_relaxed);
	if (status < 0 || status > 999)
		status = 0;
	uint32_t key = (1u << 31) | (route_id(route) << 16) | ((uint32_t)method << 12) |
	               ((uint32_t)dialect_of(route, path) << 10) | (uint32_t)status;
	struct series *s = series_for(key);
	if (s == NULL) {
		atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
		return;
	}
	size_t b = 0;
	while (b < NBUCKETS && duration_us > bounds_us[b])
		b++;
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_us, duration_us, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
}

/* ---- exposition ---- */

/* Route templates are tagd's own text: no quote or backslash needs escaping. */
static const char *route_label(unsigned id)
{
	const char *r = id ? atomic_load(&routes[id - 1]) : NULL;
	return r ? r : "unmatched";
}

void metrics_render_http(struct dynbuf *t)
{
	dynbuf_printf(t,
	              "# HELP tagd_build_info tagd's version and libraries.\n"
	              "# TYPE tagd_build_info gauge\n"
	              "tagd_build_info{version=\"%s\",sqlite=\"%s\",systemd=\"%s\"} 1\n",
	              TAGD_VERSION, store_sqlite_version(), sdnotify_supported() ? "yes" : "no");
	dynbuf_printf(t,
	              "# HELP tagd_http_requests_in_flight Requests being handled now.\n"
	              "# TYPE tagd_http_requests_in_flight gauge\n"
	              "tagd_http_requests_in_flight %lld\n",
	              (long long)atomic_load(&in_flight));
	dynbuf_printf(t, "# HELP tagd_http_requests_total Requests answered, by dialect, "
	                 "route template, method and status.\n"
	                 "# TYPE tagd_http_requests_total counter\n");
	for (size_t i = 0; i < MAX_SERIES; i++) {
		uint32_t key = atomic_load(&table[i].key);
		if (key == 0)
			continue;
		dynbuf_printf(t,
		              "tagd_http_requests_total{dialect=\"%s\",route=\"%s\",method=\"%s\","
		              "status=\"%u\"} %llu\n",
		              dialect_names[(key >> 10) & 3], route_label((key >> 16) & 0xff),
		              call_method_name((enum call_method)((key >> 12) & 7)), key & 0x3ff,
		              (unsigned long long)atomic_load(&table[i].count));
	}
	dynbuf_printf(t, "# HELP tagd_http_request_duration_seconds Time from the request's "
	                 "headers to its completion.\n"
	                 "# TYPE tagd_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < MAX_SERIES; i++) {
		struct series *s = &table[i];
		uint32_t key = atomic_load(&s->key);
		if (key == 0)
			continue;
		char labels[512];
		snprintf(labels, sizeof(labels),
		         "dialect=\"%s\",route=\"%s\",method=\"%s\",status=\"%u\"",
		         dialect_names[(key >> 10) & 3], route_label((key >> 16) & 0xff),
		         call_method_name((enum call_method)((key >> 12) & 7)), key & 0x3ff);
		/* Read the buckets first: the count printed is their sum, so +Inf == count. */
		uint64_t cum = 0;
		for (size_t b = 0; b <= NBUCKETS; b++) {
			cum += atomic_load(&s->buckets[b]);
			if (b < NBUCKETS)
				dynbuf_printf(t,
				              "tagd_http_request_duration_seconds_bucket{%s,"
				              "le=\"%g\"} %llu\n",
				              labels, (double)bounds_us[b] / 1e6,
				              (unsigned long long)cum);
			else
				dynbuf_printf(t,
				              "tagd_http_request_duration_seconds_bucket{%s,"
				              "le=\"+Inf\"} %llu\n",
				              labels, (unsigned long long)cum);
		}
		dynbuf_printf(t, "tagd_http_request_duration_seconds_sum{%s} %.6f\n", labels,
		              (double)atomic_load(&s->sum_us) / 1e6);
		dynbuf_printf(t, "tagd_http_request_duration_seconds_count{%s} %llu\n", labels,
		              (unsigned long long)cum);
	}
	dynbuf_printf(t,
	              "# HELP tagd_http_requests_dropped_series_total Requests not counted "
	              "by series because the series table is full.\n"
	              "# TYPE tagd_http_requests_dropped_series_total counter\n"
	              "tagd_http_requests_dropped_series_total %llu\n",
	              (unsigned long long)atomic_load(&dropped));
}

void metrics_render_store(struct dynbuf *t, const struct store_stats *st,
                          const struct store_counts *counts)
{
	uint64_t cum = 0;

	dynbuf_printf(t,
	              "# HELP tagd_db_write_transactions_total Write transactions (group "
	              "commits) run by the store's writer.\n"
	              "# TYPE tagd_db_write_transactions_total counter\n"
	              "tagd_db_write_transactions_total %llu\n"
	              "# HELP tagd_db_write_transactions_failed_total Write transactions "
	              "that could not begin or commit.\n"
	              "# TYPE tagd_db_write_transactions_failed_total counter\n"
	              "tagd_db_write_transactions_failed_total %llu\n"
	              "# HELP tagd_db_write_operations_total Write operations carried by "
	              "those transactions.\n"
	              "# TYPE tagd_db_write_operations_total counter\n"
	              "tagd_db_write_operations_total %llu\n",
	              (unsigned long long)st->batches, (unsigned long long)st->failed_batches,
	              (unsigned long long)st->ops);
	dynbuf_printf(t, "# HELP tagd_db_write_duration_seconds Time of one write "
	                 "transaction, BEGIN to durable COMMIT.\n"
	                 "# TYPE tagd_db_write_duration_seconds histogram\n");
	for (size_t b = 0; b <= STORE_LATENCY_BUCKETS; b++) {
		cum += st->latency[b];
		if (b < STORE_LATENCY_BUCKETS)
			dynbuf_printf(t, "tagd_db_write_duration_seconds_bucket{le=\"%g\"} %llu\n",
			              (double)store_latency_bounds_us[b] / 1e6,
			              (unsigned long long)cum);
		else
			dynbuf_printf(t,
			              "tagd_db_write_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
			              (unsigned long long)cum);
	}
	dynbuf_printf(t,
	              "tagd_db_write_duration_seconds_sum %.6f\n"
	              "tagd_db_write_duration_seconds_count %llu\n",
	              (double)st->latency_sum_us / 1e6, (unsigned long long)cum);
	cum = 0;
	dynbuf_printf(t, "# HELP tagd_db_write_batch_operations Operations per write "
	                 "transaction.\n"
	                 "# TYPE tagd_db_write_batch_operations histogram\n");
	for (size_t b = 0; b <= STORE_BATCH_BUCKETS; b++) {
		cum += st->batch_ops[b];
		if (b < STORE_BATCH_BUCKETS)
			dynbuf_printf(t, "tagd_db_write_batch_operations_bucket{le=\"%u\"} %llu\n",
			              store_batch_bounds[b], (unsigned long long)cum);
		else
			dynbuf_printf(t,
			              "tagd_db_write_batch_operations_bucket{le=\"+Inf\"} %llu\n",
			              (unsigned long long)cum);
	}
	dynbuf_printf(t,
	              "tagd_db_write_batch_operations_sum %llu\n"
	              "tagd_db_write_batch_operations_count %llu\n",
	              (unsigned long long)st->ops, (unsigned long long)cum);
	if (counts == NULL)
		return;
	dynbuf_printf(t,
	              "# HELP tagd_tags Tags stored, by kind.\n"
	              "# TYPE tagd_tags gauge\n"
	              "tagd_tags{kind=\"repository\"} %lld\n"
	              "tagd_tags{kind=\"commit\"} %lld\n"
	              "# HELP tagd_repositories Repositories stored.\n"
	              "# TYPE tagd_repositories gauge\n"
	              "tagd_repositories %lld\n"
	              "# HELP tagd_commits Commits stored (not deleted).\n"
	              "# TYPE tagd_commits gauge\n"
	              "tagd_commits %lld\n"
	              "# HELP tagd_organizations Organizations stored.\n"
	              "# TYPE tagd_organizations gauge\n"
	              "tagd_organizations %lld\n",
	              (long long)counts->repo_tags, (long long)counts->commit_tags,
	              (long long)counts->repositories, (long long)counts->commits,
	              (long long)counts->orgs);
}
