/*
 * log - tagd's diagnostic log, one logfmt line per event on stderr.
 */
#ifndef TAGD_LOG_H
#define TAGD_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);

/* Log msg (a fixed text) with logfmt key=value pairs formatted from fmt (may be NULL). */
void log_msg(enum log_level level, const char *msg, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
