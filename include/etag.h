/*
 * etag - the entity tags of tags (RFC 9110 section 8.8.3) and the If-Match
 * and If-None-Match fields that name them.
 *
 * A tag's ETag is its revision in quotes, "12": the sequence number of the
 * history event that last changed it, so it changes with every move or
 * update and is never reused.  It is strong: equal ETags mean equal tags.
 */
#ifndef TAGD_ETAG_H
#define TAGD_ETAG_H

#include <stdint.h>

#include "store.h"

#define ETAG_MAX 24 /* "\"" + 20 digits + "\"" + NUL, rounded up */

/* Format rev's ETag into out. */
void etag_format(int64_t rev, char out[ETAG_MAX]);

/*
 * Read an If-Match field value (NULL: absent) into *out: absent is
 * STORE_EXPECT_NOTHING, "*" STORE_EXPECT_ANY, a list of entity tags
 * STORE_EXPECT_REVS with the revisions of the strong tags tagd could have
 * made.  Weak tags (W/"...") never match (RFC 9110 uses the strong
 * comparison for If-Match); a value that is not a list of entity tags, or
 * names more than STORE_EXPECT_MAX of them, gives STORE_EXPECT_REVS with
 * n == 0, which nothing matches (412).
 */
void etag_if_match(const char *value, struct store_expect *out);

/*
 * Read an If-None-Match field value for a change: "*" is STORE_EXPECT_ABSENT
 * (create only); absent is STORE_EXPECT_NOTHING.  Returns false for any
 * other value (tagd only honours "*" on changes).
 */
bool etag_if_none_match(const char *value, struct store_expect *out);

#endif
