/*
 * token_scope.c - scope names.  See token_scope.h.
 */
#include <string.h>

#include "token_scope.h"

static const char *const names[] = {
        [TOKEN_SCOPE_NONE] = "none",   [TOKEN_SCOPE_READ] = "read",
        [TOKEN_SCOPE_WRITE] = "write", [TOKEN_SCOPE_MAINTAIN] = "maintain",
        [TOKEN_SCOPE_ADMIN] = "admin",
};

#define COUNT (sizeof(names) / sizeof(names[0]))

const char *token_scope_name(enum token_scope s)
{
	return (size_t)s < COUNT ? names[s] : "unknown";
}

bool token_scope_parse(const char *name, enum token_scope *out)
{
	for (size_t i = TOKEN_SCOPE_READ; name != NULL && i < COUNT; i++) {
		if (strcmp(names[i], name) == 0) {
			*out = (enum token_scope)i;
			return true;
		}
	}
	return false;
}
