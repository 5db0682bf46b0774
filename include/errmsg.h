/*
 * errmsg - the one-line error messages that functions hand back through a
 * `char **err` out parameter throughout tagd (the caller frees them).
 */
#ifndef TAGD_ERRMSG_H
#define TAGD_ERRMSG_H

/* A malloc'd message formatted like printf; NULL when out of memory. */
char *errmsg_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
