/*
 * clock.c - wall-clock time in microseconds and RFC 3339.  See clock.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <time.h>

#include "clock.h"

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what four-digit years can say. */
#define CLOCK_MIN_S (-62135596800LL)
#define CLOCK_MAX_S (253402300799LL)

void clock_realtime_after_ms(unsigned ms, struct timespec *out)
{
	clock_gettime(CLOCK_REALTIME, out);
	out->tv_sec += (time_t)(ms / 1000);
	out->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (out->tv_nsec >= 1000000000L) {
		out->tv_sec++;
		out->tv_nsec -= 1000000000L;
	}
}

int64_t clock_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Write v as exactly width decimal digits. */
static void put_digits(char *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

void clock_format_rfc3339(int64_t us, char *buf)
{
	int64_t secs = us / 1000000;
	int64_t frac = us % 1000000;

	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	/* Four-digit years only: clamp to 0001-01-01 .. 9999-12-31. */
	if (secs < CLOCK_MIN_S)
		secs = CLOCK_MIN_S, frac = 0;
	if (secs > CLOCK_MAX_S)
		secs = CLOCK_MAX_S, frac = 999999;
	/*
	 * Civil date from days since the epoch (proleptic Gregorian), by
	 * arithmetic: gmtime_r and strftime cost more than the rest of a tag's
	 * JSON, and lists format two times per row.
	 */
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0)
		rem += 86400, days--;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned day = doy - (153 * mp + 2) / 5 + 1;
	unsigned month = mp < 10 ? mp + 3 : mp - 9;
	unsigned year = (unsigned)(yoe + era * 400 + (month <= 2));

	put_digits(buf, year, 4);
	buf[4] = '-';
	put_digits(buf + 5, month, 2);
	buf[7] = '-';
	put_digits(buf + 8, day, 2);
	buf[10] = 'T';
	put_digits(buf + 11, (unsigned)(rem / 3600), 2);
	buf[13] = ':';
	put_digits(buf + 14, (unsigned)(rem / 60 % 60), 2);
	buf[16] = ':';
	put_digits(buf + 17, (unsigned)(rem % 60), 2);
	buf[19] = '.';
	put_digits(buf + 20, (unsigned)frac, 6);
	buf[26] = 'Z';
	buf[27] = '\0';
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool clock_parse_rfc3339(const char *t, int64_t *us)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, s;

	if (strlen(t) < 20 || !digits(t, 4, &y) || t[4] != '-' || !digits(t + 5, 2, &mo) ||
	    t[7] != '-' || !digits(t + 8, 2, &d) || (t[10] != 'T' && t[10] != 't') ||
	    !digits(t + 11, 2, &h) || t[13] != ':' || !digits(t + 14, 2, &mi) || t[16] != ':' ||
	    !digits(t + 17, 2, &s))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60)
		return false;
	if (d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
		return false;
	const char *p = t + 19;
	long frac = 0;
	if (*p == '.') {
		int n = 0;
		p++;
		while (*p >= '0' && *p <= '9') {
			if (n < 6)
				frac = frac * 10 + (*p - '0');
			n++, p++;
		}
		if (n == 0)
			return false;
		for (; n < 6; n++)
			frac *= 10;
	}
	long offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return false;
		offset = (oh * 60L + om) * 60L * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	/* Days from the civil date (proleptic Gregorian), without timegm's locale baggage. */
	int yy = y - (mo <= 2);
	long era = (yy >= 0 ? yy : yy - 399) / 400;
	long yoe = yy - era * 400;
	long doy = (153L * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	long days = era * 146097 + doe - 719468;
	int64_t secs = (int64_t)days * 86400 + h * 3600 + mi * 60 + (s == 60 ? 59 : s) - offset;
	/* An offset can carry year 0001 or 9999 out of the range four digits print. */
	if (secs < CLOCK_MIN_S || secs > CLOCK_MAX_S)
		return false;
	*us = secs * 1000000 + frac;
	return true;
}
