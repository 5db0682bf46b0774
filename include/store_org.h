/*
 * store_org - organizations and their API tokens.
 *
 * A token is stored only as the SHA-256 digest of its secret, next to a
 * public id that finds the row; see auth.h for the token format.
 */
#ifndef TAGD_STORE_ORG_H
#define TAGD_STORE_ORG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "token_scope.h"

#define STORE_DIGEST_LEN 32

struct org {
	int64_t id;
	char uuid[37];
	char *name;
	char *project_id; /* ServiceStage project id; NULL when not set */
	int64_t created_at;
};
void org_release(struct org *o);

/* Create an organization.  STORE_CONFLICT when the name or project id is taken. */
struct org_create_op {
	struct store_op op;
	const char *name;
	const char *project_id; /* may be NULL */
	int64_t org_id;
	char uuid[37];
};
void org_create_op_init(struct org_create_op *o);

/* Look up an organization by name.  STORE_ORG_NOT_FOUND when there is none. */
enum store_status store_org_by_name(struct store *s, const char *name, struct org *out);

/* Look up an organization by ServiceStage project id. */
enum store_status store_org_by_project(struct store *s, const char *project_id, struct org *out);

/* An organization and how many of its tokens are live (neither revoked nor expired). */
struct org_summary {
	struct org org;
	int64_t live_tokens;
};

/* Every organization, by name.  *out is freed with org_list_free, which NULLs it. */
enum store_status store_org_list(struct store *s, struct org_summary **out, size_t *n);
void org_list_free(struct org_summary **list, size_t n);

/* Number of organizations (the quick start uses it to know a database is new). */
enum store_status store_org_count(struct store *s, int64_t *out);

/* Add a token to an organization.  STORE_ORG_NOT_FOUND, STORE_CONFLICT (public id taken). */
struct token_create_op {
	struct store_op op;
	const char *org_name;
	const char *public_id;
	uint8_t digest[STORE_DIGEST_LEN];
	const char *label;      /* may be NULL */
	int64_t expires_at;     /* 0: never */
	enum token_scope scope; /* what it may do; TOKEN_SCOPE_NONE is refused (STORE_INVALID) */
};
void token_create_op_init(struct token_create_op *o);

/* Revoke a token of org by public id.  STORE_NOT_FOUND when it is not there or already revoked. */
struct token_revoke_op {
	struct store_op op;
	const char *org_name;
	const char *public_id;
};
void token_revoke_op_init(struct token_revoke_op *o);

struct token_info {
	char public_id[33];
	char *label;
	int64_t created_at;
	int64_t expires_at;   /* 0: never */
	int64_t last_used_at; /* 0: never used */
	int64_t revoked_at;   /* 0: live */
	enum token_scope scope;
};

/* List the tokens of an organization, oldest first.  *out is freed with token_list_free. */
enum store_status store_token_list(struct store *s, const char *org_name, struct token_info **out,
                                   size_t *n);
void token_list_free(struct token_info *list, size_t n);

/* Who a verified token is: its organization and the token itself. */
#define STORE_TOKEN_ID_LEN 16

struct token_identity {
	int64_t org_id;
	char *org_name;
	char *project_id; /* ServiceStage project id; NULL when the organization has none */
	char token_id[STORE_TOKEN_ID_LEN + 1]; /* the token's public id */
	char *label;                           /* NULL when the token has none */
	enum token_scope scope;                /* what it may do (never TOKEN_SCOPE_NONE) */
};

/* Free what an identity owns and NULL its pointers. */
void token_identity_release(struct token_identity *id);

/*
 * Find the live token with public_id and compare its digest with digest in
 * constant time.  On a match, STORE_OK and *out is filled (owned: release it
 * with token_identity_release); an unknown, revoked or expired token or a
 * wrong secret gives STORE_NOT_FOUND and leaves nothing allocated.  A scope
 * this build does not know is STORE_CORRUPT: such a token can do nothing.
 *
 * A successful check records the use: when the stored last_used_at is a
 * minute old or more, one write of it is queued to the writer (not waited
 * for), so a busy token costs at most one write a minute, not one a request.
 */
enum store_status store_token_verify(struct store *s, const char *public_id,
                                     const uint8_t digest[STORE_DIGEST_LEN],
                                     struct token_identity *out);

#endif
