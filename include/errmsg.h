/*
 * errmsg - the one-line error messages that functions hand back through a
 * `char **err` out parameter throughout tagd (the caller frees them).
 */
#ifndef TAGD_ERRMSG_H
#define TAGD_ERRMSG_H

#include <stdarg.h>

/* A malloc'd message formatted like printf; NULL when out of memory. */
char *errmsg_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same with a va_list (the caller va_end()s it). */
char *errmsg_vfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
