/*
 * dynbuf - tagd's one bounded, growable buffer (curl's dynbuf is the model).
 *
 * A buffer has a largest size, fixed when it is made.  An append either fits
 * entirely or fails with a status that says why (too large, or out of
 * memory); it never truncates.  The first failure sticks: later appends do
 * nothing and return it, so a text built in many steps is either whole or
 * known to be broken.  The contents are always NUL-terminated once anything
 * was added.
 *
 * dynbuf_array_reserve grows a plain array the same way, for the lists the
 * store returns.
 */
#ifndef TAGD_DYNBUF_H
#define TAGD_DYNBUF_H

#include <stdbool.h>
#include <stddef.h>

enum dynbuf_status {
	DYNBUF_OK,
	DYNBUF_TOO_LARGE, /* the contents would pass the buffer's largest size */
	DYNBUF_NOMEM,
};

struct dynbuf {
	char *buf;  /* NULL until something is added */
	size_t len; /* bytes held, not counting the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* the largest len allowed */
	enum dynbuf_status status;
};

/* An empty buffer that may hold up to max bytes.  Allocates nothing. */
void dynbuf_init(struct dynbuf *b, size_t max);

/* Free the contents; the buffer is empty again (same largest size), with no failure. */
void dynbuf_release(struct dynbuf *b);

/* Append n bytes.  On failure nothing is added and the status sticks. */
enum dynbuf_status dynbuf_add(struct dynbuf *b, const void *data, size_t n);

/* Append a NUL-terminated string. */
enum dynbuf_status dynbuf_addstr(struct dynbuf *b, const char *s);

/* Append printf-formatted text (all of it, or nothing). */
enum dynbuf_status dynbuf_printf(struct dynbuf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/*
 * Make room for n more bytes (and the NUL) without adding them, for a caller
 * that writes into buf + len itself and then calls dynbuf_commit.
 */
enum dynbuf_status dynbuf_reserve(struct dynbuf *b, size_t n);

/* Count n bytes written at buf + len after dynbuf_reserve(b, n' >= n). */
void dynbuf_commit(struct dynbuf *b, size_t n);

/* Room left before a reserve is needed (0 when nothing is allocated). */
size_t dynbuf_room(const struct dynbuf *b);

/* True once an append failed. */
bool dynbuf_failed(const struct dynbuf *b);

/*
 * Hand the contents to the caller (free() them), and *len their length; the
 * buffer is empty again.  NULL (and *len 0) when nothing was added.
 */
char *dynbuf_take(struct dynbuf *b, size_t *len);

/*
 * Make room in the array *items (*cap elements of size bytes, n of them in
 * use) for one more, doubling its capacity, at most max elements in all.
 * On failure the array is unchanged.
 */
enum dynbuf_status dynbuf_array_reserve(void **items, size_t *cap, size_t n, size_t size,
                                        size_t max);

#endif
