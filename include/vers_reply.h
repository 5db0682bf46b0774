/*
 * vers_reply - the Vers dialect's wire shapes: its error envelope
 * {"success": false, "error": "..."}, request body reading with the real
 * server's statuses (415, 400), and the JSON of its schemas (RepositoryInfo,
 * RepoTagInfo, CommitInfo...), with optional fields present as null.
 */
#ifndef TAGD_VERS_REPLY_H
#define TAGD_VERS_REPLY_H

#include <jansson.h>
#include <stdbool.h>

#include "body.h"
#include "call.h"
#include "dynbuf.h"
#include "store.h"
#include "store_vers.h"

/* Answer status with the Vers error envelope; msg is also the reason logged (call.h). */
void vers_error(struct call *c, int status, const char *msg);

/* The same with another reason for the log (when msg quotes the client's input). */
void vers_error_reason(struct call *c, int status, const char *msg, const char *reason);

/* Answer status with obj as the body; steals the reference.  NULL obj answers 500. */
void vers_json(struct call *c, int status, json_t *obj);

/* Answer with no body (204). */
void vers_no_content(struct call *c);

/*
 * Answer a store failure that is not part of an operation's contract: full
 * disk (507), read-only database (503), anything else (500).
 */
void vers_store_error(struct call *c, enum store_status st);

/*
 * Read the request body as JSON into fields.  On success returns the parsed
 * value (the caller json_decref()s it once done with the fields' strings).
 * On failure answers 415 or 400 and returns NULL.
 */
json_t *vers_read_body(struct call *c, struct body_field *fields, size_t n);

/* JSON of the spec's schemas.  NULL when out of memory. */
json_t *vers_commit_json(const struct vers_commit *cm);
json_t *vers_repo_json(const struct vers_repo *r);
json_t *vers_public_repo_json(const struct vers_repo *r);

/* JSON of a legacy commit tag (TagInfo). */
json_t *vers_commit_tag_json(const struct vers_tag *t);

/*
 * A list answer built as text, one element at a time, so that a list of a
 * million rows never exists as a tree of JSON values.  Start with
 * vers_list_init(), append raw text and values, then vers_list_respond() or
 * vers_list_release().  Errors stick: after one, appends do nothing and
 * vers_list_respond() answers 500.  The text is bounded by VERS_LIST_MAX.
 */
#define VERS_LIST_MAX ((size_t)1 << 30)

struct vers_list {
	struct dynbuf text;
	bool failed;     /* the text failed, or a caller gave up on the list */
	bool need_comma; /* an element was added since the last vers_list_raw() */
};

void vers_list_init(struct vers_list *l);

/* Append raw JSON text (punctuation, keys); the next value starts a new array. */
void vers_list_raw(struct vers_list *l, const char *text);

/* Append v (stolen) as an array element, with a comma when not the first. */
void vers_list_value(struct vers_list *l, json_t *v);

/* Append v (stolen) as a JSON value after a raw key: no comma. */
void vers_list_scalar(struct vers_list *l, json_t *v);

/* Answer status with the text (taken over), or 500 after an error. */
void vers_list_respond(struct call *c, int status, struct vers_list *l);

void vers_list_release(struct vers_list *l);

/* Append a RepoTagInfo, written directly (no jansson object on this hot path). */
void vers_list_tag(struct vers_list *l, const struct vers_tag *t, const char *repo_name);

/* A nullable string as JSON: null for NULL. */
json_t *vers_nullable(const char *s);

/* An RFC 3339 time as a JSON string. */
json_t *vers_time(int64_t us);

#endif
