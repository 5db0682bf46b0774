/*
 * clock.c - wall-clock time in microseconds and RFC 3339.  See clock.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what four-digit years can say. */
#define CLOCK_MIN_S (-62135596800LL)
#define CLOCK_MAX_S (253402300799LL)

int64_t clock_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void clock_format_rfc3339(int64_t us, char *buf)
{
	time_t secs = (time_t)(us / 1000000);
	long frac = (long)(us % 1000000);
	struct tm tm;

	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	/*
	 * Four-digit years only: strftime's %Y prints year 999 as "999", which
	 * left the fraction written past the end of a shorter text.
	 */
	if (secs < CLOCK_MIN_S || gmtime_r(&secs, &tm) == NULL)
		secs = CLOCK_MIN_S, frac = 0;
	if (secs > CLOCK_MAX_S)
		secs = CLOCK_MAX_S, frac = 999999;
	gmtime_r(&secs, &tm);
	/* The fields are in range already; the moduli let the compiler see each width. */
	snprintf(buf, CLOCK_RFC3339_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%06luZ",
	         (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
	         (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
	         (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u,
	         (unsigned long)frac % 1000000u);
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
