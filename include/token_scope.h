/*
 * token_scope - what a token may do.  Each token has one scope; each
 * authenticated route declares the least scope it takes (router.h), checked
 * right after authentication; protection rules (rule.h) ask for more on the
 * tags they cover.  Scopes are ordered: each includes the ones below it.
 *
 *   read      every GET
 *   write     also register commits, create tags, change and delete tags no rule protects
 *   maintain  also protected tags; create and delete repositories and projects;
 *             visibility; commit changes
 *   admin     also the protection rules
 */
#ifndef TAGD_TOKEN_SCOPE_H
#define TAGD_TOKEN_SCOPE_H

#include <stdbool.h>

enum token_scope {
	TOKEN_SCOPE_NONE = 0, /* no token (a route without authentication), or none known */
	TOKEN_SCOPE_READ,
	TOKEN_SCOPE_WRITE,
	TOKEN_SCOPE_MAINTAIN,
	TOKEN_SCOPE_ADMIN,
};

/* What a new token gets without --scope. */
#define TOKEN_SCOPE_DEFAULT TOKEN_SCOPE_WRITE

/* "read", "write", "maintain", "admin" ("none" for TOKEN_SCOPE_NONE, "unknown" past the end). */
const char *token_scope_name(enum token_scope s);

/* The scope named name ("none" is not one); false for anything else, NULL included. */
bool token_scope_parse(const char *name, enum token_scope *out);

#endif
