/*
 * log - tagd's diagnostic and access log: one line per event on stderr (or a
 * file that stderr is redirected to), logfmt by default or JSON.
 *
 * Level and format are process-wide and may be changed at any time (SIGHUP);
 * lines from several threads never interleave.  By default each line is one
 * write(2); the daemon starts an asynchronous sink instead (log_async_start),
 * which keeps the write off the request path and loses no line.  Under systemd (JOURNAL_STREAM
 * names our stderr) each line starts with a "<N>" priority prefix that journald turns into the
 * level.
 *
 * Callers never pass request headers or bodies: tokens must not reach a log.
 */
#ifndef TAGD_LOG_H
#define TAGD_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_LOGFMT, LOG_FORMAT_JSON };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_format(enum log_format format);

/* Parse "debug", "info", "warn", "error" / "logfmt", "json".  false when unknown. */
bool log_level_parse(const char *text, enum log_level *out);
bool log_format_parse(const char *text, enum log_format *out);

/*
 * Send the log to path (appending, created 0640) by redirecting stderr to
 * it; called again with the same path it reopens the file (after logrotate
 * moved it).  An empty path or NULL goes back to the original stderr.  On
 * error, false is returned, the log stays where it was and *err is a
 * malloc'd message.
 */
bool log_open_file(const char *path, char **err);

/*
 * Write lines from now on through a buffer that one thread writes out,
 * batched (an info line waits at most 50 ms; warn and error lines are written
 * out before log_msg returns).  Block signals first: the thread inherits the
 * mask.  false when the thread cannot start (lines stay direct writes).
 */
bool log_async_start(void);

/* Write out everything buffered, stop the sink's thread; direct writes again. */
void log_async_stop(void);

/* Write out everything buffered now (before _exit or abort). */
void log_flush(void);

/*
 * Log msg (a fixed text) with logfmt key=value pairs formatted from fmt (may
 * be NULL).  Quote string values (key="%s"); in JSON format every pair
 * becomes a member, numbers stay numbers.
 */
void log_msg(enum log_level level, const char *msg, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
