/*
 * metrics - tagd's Prometheus metrics: a process-wide registry of request
 * counters and latency histograms, and the text exposition format.
 *
 * Recording is on every request's path, so it takes no lock and allocates
 * nothing: series live in a fixed table of atomic counters, keyed by
 * (dialect, route template, method, status).  Route templates are the
 * router's static strings, identified by address.  When the table is full
 * further series are counted in tagd_http_requests_dropped_series_total.
 */
#ifndef TAGD_METRICS_H
#define TAGD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call.h"
#include "dynbuf.h"

struct store_stats;
struct store_counts;

/* A request has started (in-flight gauge). */
void metrics_request_started(void);

/*
 * A request has ended.  route is the matched template (a static string) or
 * NULL; path (the raw path) only picks the dialect of unmatched requests.
 */
void metrics_request_done(const char *route, const char *path, enum call_method method, int status,
                          uint64_t duration_us);

/*
 * The largest exposition: far above what MAX_SERIES series print, so a text
 * past it means a bug, answered 500 rather than cut.
 */
#define METRICS_TEXT_MAX (16 * 1024 * 1024)

/* Append the HTTP series, the in-flight gauge and build information to t. */
void metrics_render_http(struct dynbuf *t);

/* Append the database series: write latency and batch sizes, object counts (may be NULL). */
void metrics_render_store(struct dynbuf *t, const struct store_stats *st,
                          const struct store_counts *counts);

#endif
