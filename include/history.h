/*
 * history - the record of every tag change: the event, its canonical form
 * and the hash chain that makes a rewrite evident.
 *
 * Each organization's events form a chain: event n stores
 *
 *     hash(n) = SHA-256(hash(n-1) || canonical(n))
 *
 * where hash(0) is 32 zero bytes and canonical(n) is the RFC 8785 (JSON
 * Canonicalization Scheme) serialization of the event as the API shows it,
 * without its "hash" and "previous_hash" members: members sorted by name, no
 * white space, strings with only '"', '\' and U+0000..U+001F escaped
 * (\b \t \n \f \r, otherwise \u00xx in lower case), integers in decimal.
 * Anybody holding the feed can recompute the chain with any JCS library.
 *
 * Each event also names the previous event of the same tag name
 * (previous_seq), so a tag's own history is a chain inside the chain.
 *
 * The chain also records who added and removed which protection rule
 * (rule.h): a rule event has the member "rule" ({"mode", "pattern"}), which
 * no tag event has, and null for everything that names a tag (tag, commits,
 * descriptions, previous_seq).  It takes no part in the tags' links.
 *
 * This module knows no database and no HTTP: the store fills events, the
 * dialects render them.
 */
#ifndef TAGD_HISTORY_H
#define TAGD_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_HASH_LEN 32
#define HISTORY_HEX_LEN  (2 * HISTORY_HASH_LEN)
#define HISTORY_ID_LEN   36

/* Where a tag lives. */
enum history_scope {
	HISTORY_SCOPE_REPOSITORY,   /* a Vers repository's tag; scope_name is the repository */
	HISTORY_SCOPE_COMMIT_TAGS,  /* a Vers legacy commit tag; scope_name is "" */
	HISTORY_SCOPE_SERVICESTAGE, /* a ServiceStage tag; scope_name is "namespace/project" */
	HISTORY_SCOPE_ORGANIZATION, /* rule events only: the whole organization; scope_name "" */
};

enum history_action {
	HISTORY_CREATE,
	HISTORY_MOVE,   /* the commit changed (the description may have too) */
	HISTORY_UPDATE, /* only the description, or nothing but updated_at (a PATCH) */
	HISTORY_DELETE,
	HISTORY_RULE_ADD, /* a protection rule was added: rule_pattern, rule_mode */
	HISTORY_RULE_REMOVE,
};

enum history_dialect {
	HISTORY_VERS,
	HISTORY_SERVICESTAGE,
	HISTORY_CLI, /* the command line (rule events) */
};

/*
 * One event.  Strings are borrowed (from the store's row or the change being
 * made); NULL stands for JSON null.  For ServiceStage tags commit ids are the
 * 40-hex SHAs and the description is the annotation's message.
 */
struct history_event {
	char id[HISTORY_ID_LEN + 1]; /* UUID */
	int64_t seq;                 /* per organization: 1, 2, 3... without gaps */
	int64_t at;                  /* microseconds since the epoch, UTC */
	enum history_dialect dialect;
	enum history_scope scope;
	const char *scope_name;
	const char *tag; /* NULL on rule events */
	enum history_action action;
	int64_t previous_seq;           /* this tag's previous event; 0 (null) for its first */
	const char *commit_id;          /* after; NULL on delete */
	const char *previous_commit_id; /* before; NULL on create */
	bool description_changed;       /* description and previous_description are NULL unless */
	const char *description;
	const char *previous_description;
	const char *token_id;     /* the actor's token id; NULL when no token made the change */
	const char *token_label;  /* NULL when the token has none */
	const char *request_id;   /* the X-Request-Id of the change; NULL when none */
	const char *rule_pattern; /* rule events: the rule; NULL on tag events */
	const char *rule_mode;    /* rule events: "protected" or "immutable" */
	uint8_t previous_hash[HISTORY_HASH_LEN];
	uint8_t hash[HISTORY_HASH_LEN];
};

/* Names as the API and the database spell them ("create", "repository", "vers"...). */
const char *history_action_name(enum history_action a);
const char *history_scope_name(enum history_scope s);
const char *history_dialect_name(enum history_dialect d);

/* Whether a is HISTORY_RULE_ADD or HISTORY_RULE_REMOVE. */
bool history_action_is_rule(enum history_action a);

/* The inverse of the *_name functions; false for an unknown name. */
bool history_action_parse(const char *name, enum history_action *out);
bool history_scope_parse(const char *name, enum history_scope *out);
bool history_dialect_parse(const char *name, enum history_dialect *out);

/*
 * The canonical bytes of ev (see above) as a malloc'd NUL-terminated string,
 * its length in *len.  Bytes of a string that are not valid UTF-8 are written
 * as U+FFFD, as the API shows them.  NULL when out of memory.
 */
char *history_canonical(const struct history_event *ev, size_t *len);

/*
 * Compute ev->hash from ev->previous_hash and the other fields.  False when
 * out of memory (ev->hash is then unchanged).
 */
bool history_seal(struct history_event *ev);

/* Lower-case hex of a hash into out (HISTORY_HEX_LEN + 1 bytes). */
void history_hex(const uint8_t hash[HISTORY_HASH_LEN], char *out);

/* Parse HISTORY_HEX_LEN hex digits (either case); false when text is not that. */
bool history_unhex(const char *text, uint8_t hash[HISTORY_HASH_LEN]);

/*
 * The API's JSON object of ev: the canonical members plus "hash" and
 * "previous_hash" (hex), members in name order.  malloc'd, length in *len;
 * NULL when out of memory.
 */
char *history_event_json(const struct history_event *ev, size_t *len);

/*
 * A page of events as the API answers it:
 *     {"events":[...],"next_after":N}   (next_after null on the last page)
 * next_after < 0 means null.  malloc'd, length in *len; NULL when out of memory.
 */
char *history_page_json(const struct history_event *events, size_t n, int64_t next_after,
                        size_t *len);

#endif
