/*
 * clock - wall-clock time as tagd stores and prints it: microseconds since
 * the epoch, RFC 3339 UTC text.
 */
#ifndef TAGD_CLOCK_H
#define TAGD_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLOCK_RFC3339_LEN 28 /* "2006-01-02T15:04:05.000000Z" + NUL */

struct timespec;

/* The CLOCK_REALTIME moment ms milliseconds from now, as pthread_cond_timedwait takes it. */
void clock_realtime_after_ms(unsigned ms, struct timespec *out);

/* Now, in microseconds since the epoch. */
int64_t clock_now_us(void);

/*
 * Format us as "YYYY-MM-DDTHH:MM:SS.ffffffZ" into buf (at least CLOCK_RFC3339_LEN bytes).
 * Times before year 1 or after 9999 are clamped to those years' ends.
 */
void clock_format_rfc3339(int64_t us, char *buf);

/*
 * Parse an RFC 3339 date-time ("2024-05-01T12:00:00Z", fraction and numeric
 * offsets allowed) into microseconds since the epoch.  Returns false when the
 * text is not one, or names a UTC time outside years 0001-9999.
 */
bool clock_parse_rfc3339(const char *text, int64_t *us);

#endif
