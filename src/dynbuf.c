/*
 * dynbuf.c - the bounded growable buffer.  See dynbuf.h.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"

/*
 * The first allocation: a small-bin size for glibc (a one-tag answer fits),
 * where 1 KiB and more made every request pay a malloc_consolidate.
 */
#define FIRST_ALLOC 512

void dynbuf_init(struct dynbuf *b, size_t max)
{
	b->buf = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max < SIZE_MAX ? max : SIZE_MAX - 1; /* room for the NUL */
	b->status = DYNBUF_OK;
}

void dynbuf_release(struct dynbuf *b)
{
	free(b->buf);
	dynbuf_init(b, b->max);
}

/* Set the sticky failure and return it. */
static enum dynbuf_status fail(struct dynbuf *b, enum dynbuf_status st)
{
	b->status = st;
	return st;
}

enum dynbuf_status dynbuf_reserve(struct dynbuf *b, size_t n)
{
	if (b->status != DYNBUF_OK)
		return b->status;
	if (n > b->max - b->len)
		return fail(b, DYNBUF_TOO_LARGE);
	size_t need = b->len + n + 1; /* <= max + 1: cannot overflow */
	if (need <= b->cap)
		return DYNBUF_OK;
	size_t cap = b->cap ? b->cap : FIRST_ALLOC;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	char *grown = realloc(b->buf, cap);
	if (grown == NULL)
		return fail(b, DYNBUF_NOMEM);
	b->buf = grown;
	b->cap = cap;
	return DYNBUF_OK;
}

void dynbuf_commit(struct dynbuf *b, size_t n)
{
	b->len += n;
	b->buf[b->len] = '\0';
}

size_t dynbuf_room(const struct dynbuf *b)
{
	return b->cap > b->len ? b->cap - b->len - 1 : 0;
}

enum dynbuf_status dynbuf_add(struct dynbuf *b, const void *data, size_t n)
{
	enum dynbuf_status st = dynbuf_reserve(b, n);
	if (st != DYNBUF_OK)
		return st;
	memcpy(b->buf + b->len, data, n);
	dynbuf_commit(b, n);
	return DYNBUF_OK;
}

enum dynbuf_status dynbuf_addstr(struct dynbuf *b, const char *s)
{
	return dynbuf_add(b, s, strlen(s));
}

enum dynbuf_status dynbuf_printf(struct dynbuf *b, const char *fmt, ...)
{
	va_list ap;

	if (b->status != DYNBUF_OK)
		return b->status;
	va_start(ap, fmt);
	int n = vsnprintf(b->buf ? b->buf + b->len : NULL, dynbuf_room(b) + (b->buf ? 1 : 0), fmt,
	                  ap);
	va_end(ap);
	if (n < 0)
		return fail(b, DYNBUF_NOMEM);
	if ((size_t)n <= dynbuf_room(b)) {
		b->len += (size_t)n;
		return DYNBUF_OK;
	}
	/* It did not fit: grow and format again (the first attempt may have left a partial
	 * text past len; the NUL at len is put back by the second). */
	enum dynbuf_status st = dynbuf_reserve(b, (size_t)n);
	if (st != DYNBUF_OK) {
		if (b->buf != NULL)
			b->buf[b->len] = '\0';
		return st;
	}
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return DYNBUF_OK;
}

bool dynbuf_failed(const struct dynbuf *b)
{
	return b->status != DYNBUF_OK;
}

char *dynbuf_take(struct dynbuf *b, size_t *len)
{
	char *out = b->buf;
	*len = out ? b->len : 0;
	dynbuf_init(b, b->max);
	return out;
}

enum dynbuf_status dynbuf_array_reserve(void **items, size_t *cap, size_t n, size_t size,
                                        size_t max)
{
	if (n < *cap)
		return DYNBUF_OK;
	if (max > SIZE_MAX / size)
		max = SIZE_MAX / size;
	if (n >= max)
		return DYNBUF_TOO_LARGE;
	size_t ncap = *cap ? *cap : 8;
	while (ncap <= n)
		ncap = ncap > max / 2 ? max : ncap * 2;
	void *grown = realloc(*items, ncap * size);
	if (grown == NULL)
		return DYNBUF_NOMEM;
	*items = grown;
	*cap = ncap;
	return DYNBUF_OK;
}
