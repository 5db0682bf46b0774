/*
 * expiry - when a token stops working, as an operator writes it on the
 * command line: a duration from now ("90d", "12h", "30m", "2w", "45s") or a
 * moment ("2027-01-31", midnight UTC at its start, or an RFC 3339 date-time
 * such as "2027-01-31T12:00:00+02:00").
 */
#ifndef TAGD_EXPIRY_H
#define TAGD_EXPIRY_H

#include <stdint.h>

/* Longest expiry accepted: 100 years. */
#define EXPIRY_MAX_US (100LL * 366 * 24 * 3600 * 1000000)

enum expiry_status {
	EXPIRY_OK,
	EXPIRY_BAD,     /* neither a duration nor a date */
	EXPIRY_PAST,    /* the moment is now or already over (or a zero duration) */
	EXPIRY_TOO_FAR, /* more than EXPIRY_MAX_US from now */
};

/*
 * Parse text relative to now_us (microseconds since the epoch) into the
 * moment of expiry *at_us.  *at_us is set only on EXPIRY_OK.
 */
enum expiry_status expiry_parse(const char *text, int64_t now_us, int64_t *at_us);

/*
 * Parse a duration alone ("90d", "52w", "12h", "30m", "45s"; not zero, at
 * most EXPIRY_MAX_US) into *us.  False when text is not one.
 */
bool expiry_duration(const char *text, int64_t *us);

/* A one-line English explanation of a status, for the command line. */
const char *expiry_status_str(enum expiry_status st);

#endif
