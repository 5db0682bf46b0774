/*
 * errmsg.c - see errmsg.h.
 */
#include <stdarg.h>
#include <stdio.h>

#include "errmsg.h"

char *errmsg_vfmt(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	return s;
}

char *errmsg_fmt(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *s = errmsg_vfmt(fmt, ap);
	va_end(ap);
	return s;
}
