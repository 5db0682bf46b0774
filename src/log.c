/*
 * log.c - logfmt lines on stderr.  See log.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"
#include "log.h"

static enum log_level min_level = LOG_INFO;

void log_set_level(enum log_level level)
{
	min_level = level;
}

void log_msg(enum log_level level, const char *msg, const char *fmt, ...)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	char ts[CLOCK_RFC3339_LEN];
	char line[2048];

	if (level < min_level)
		return;
	clock_format_rfc3339(clock_now_us(), ts);
	int n = snprintf(line, sizeof(line), "time=%s level=%s msg=\"%s\"", ts, names[level], msg);
	if (n < 0)
		return;
	if (fmt != NULL && (size_t)n < sizeof(line) - 1) {
		va_list ap;
		line[n++] = ' ';
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* One fputs per line so that lines from several threads never interleave. */
	fprintf(stderr, "%s\n", line);
}
