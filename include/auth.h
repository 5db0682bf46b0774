/*
 * auth - API tokens: making them, recognising them, checking them.
 *
 * A token reads "tagd_" + 16 hex digits (its public id, which finds the row)
 * + "_" + 43 base64url characters (32 random bytes from getrandom).  The
 * prefix lets secret scanners find a leaked token.  Only the SHA-256 digest
 * of the whole token is stored; digests are compared in constant time.
 */
#ifndef TAGD_AUTH_H
#define TAGD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_org.h"

#define AUTH_PREFIX        "tagd_"
#define AUTH_PUBLIC_ID_LEN 16
#define AUTH_SECRET_LEN    43
#define AUTH_TOKEN_LEN     (5 + AUTH_PUBLIC_ID_LEN + 1 + AUTH_SECRET_LEN)
#define AUTH_DIGEST_LEN    32

struct auth_token {
	char text[AUTH_TOKEN_LEN + 1];
	char public_id[AUTH_PUBLIC_ID_LEN + 1];
	uint8_t digest[AUTH_DIGEST_LEN];
};

/* Make a new random token.  Returns false when the kernel gives no randomness. */
bool auth_token_generate(struct auth_token *t);

/*
 * Split and digest a token presented by a client.  Returns false when text
 * does not have the token's shape (then it cannot be a known token).
 */
bool auth_token_parse(const char *text, size_t len, struct auth_token *t);

/* SHA-256 of data. */
void auth_digest(const void *data, size_t len, uint8_t out[AUTH_DIGEST_LEN]);

/* Constant-time equality of two digests. */
bool auth_digest_equal(const uint8_t a[AUTH_DIGEST_LEN], const uint8_t b[AUTH_DIGEST_LEN]);

/*
 * The credentials of an "Authorization: Bearer <token>" header value: the
 * scheme is matched case-insensitively, surrounding blanks are skipped.
 * Returns NULL (and *len 0) when the header is NULL, has another scheme, or
 * carries an empty token.
 */
const char *auth_bearer(const char *header, size_t *len);

enum auth_result {
	AUTH_OK,
	AUTH_UNKNOWN,     /* not a live token of any organization */
	AUTH_UNAVAILABLE, /* the database cannot be reached now: 503, try again */
	AUTH_ERROR,       /* the store failed */
};

/*
 * Check token text against the store; on AUTH_OK fills *who (owned: release
 * it with token_identity_release).  Otherwise nothing is allocated.
 */
enum auth_result auth_check(struct store *s, const char *text, size_t len,
                            struct token_identity *who);

#endif
