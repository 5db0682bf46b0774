/*
 * expiry.c - token expiry as the operator writes it.  See expiry.h.
 */
#include <stdbool.h>
#include <string.h>

#include "clock.h"
#include "expiry.h"

#define US_PER_S 1000000LL

/* "<digits><unit>" with unit s, m, h, d or w; false when not that shape. */
static bool parse_duration(const char *text, int64_t *us, bool *too_far)
{
	int64_t n = 0, unit;
	size_t i = 0;

	*too_far = false;
	while (text[i] >= '0' && text[i] <= '9') {
		if (n > EXPIRY_MAX_US / US_PER_S) {
			*too_far = true;
		} else {
			n = n * 10 + (text[i] - '0');
		}
		i++;
	}
	if (i == 0 || text[i] == '\0' || text[i + 1] != '\0')
		return false;
	switch (text[i]) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 24 * 3600;
		break;
	case 'w':
		unit = 7 * 24 * 3600;
		break;
	default:
		return false;
	}
	if (*too_far || n > EXPIRY_MAX_US / US_PER_S / unit) {
		*too_far = true;
		return true;
	}
	*us = n * unit * US_PER_S;
	return true;
}

bool expiry_duration(const char *text, int64_t *us)
{
	bool too_far;
	int64_t span = 0;
	if (!parse_duration(text, &span, &too_far) || too_far || span == 0)
		return false;
	*us = span;
	return true;
}

enum expiry_status expiry_parse(const char *text, int64_t now_us, int64_t *at_us)
{
	int64_t at, span;
	bool too_far;

	if (parse_duration(text, &span, &too_far)) {
		if (too_far)
			return EXPIRY_TOO_FAR;
		if (span == 0)
			return EXPIRY_PAST;
		*at_us = now_us + span;
		return EXPIRY_OK;
	}
	if (strlen(text) == 10) {
		/* A date alone: the start of that day, UTC. */
		char full[32];
		memcpy(full, text, 10);
		memcpy(full + 10, "T00:00:00Z", 11);
		if (!clock_parse_rfc3339(full, &at))
			return EXPIRY_BAD;
	} else if (!clock_parse_rfc3339(text, &at)) {
		return EXPIRY_BAD;
	}
	if (at <= now_us)
		return EXPIRY_PAST;
	if (at - now_us > EXPIRY_MAX_US)
		return EXPIRY_TOO_FAR;
	*at_us = at;
	return EXPIRY_OK;
}

const char *expiry_status_str(enum expiry_status st)
{
	switch (st) {
	case EXPIRY_OK:
		return "ok";
	case EXPIRY_BAD:
		return "--expires takes a duration (90d, 12h, 30m, 2w, 45s) or a date "
		       "(2027-01-31 or RFC 3339 like 2027-01-31T12:00:00Z)";
	case EXPIRY_PAST:
		return "--expires must be in the future";
	case EXPIRY_TOO_FAR:
		return "--expires is more than 100 years away";
	}
	return "?";
}
