/* The code point ranges that are letters or digits to Rust's char::is_alphanumeric(). */
#ifndef TAGD_UNICODE_ALNUM_H
#define TAGD_UNICODE_ALNUM_H

#include <stddef.h>

struct unicode_range {
	unsigned lo;
	unsigned hi;
};

/* Sorted, disjoint, inclusive ranges. */
extern const struct unicode_range unicode_alnum_ranges[];
extern const size_t unicode_alnum_count;

#endif
