/*
 * errmsg.c - see errmsg.h.
 */
#include <stdarg.h>
#include <stdio.h>

#include "errmsg.h"

char *errmsg_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}
