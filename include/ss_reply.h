/*
 * ss_reply - the ServiceStage dialect's wire shapes: the error envelope
 * {"error_code": "...", "error_msg": "..."}, the mapping of store statuses to
 * it (one place), and request body reading with ServiceStage's rules.
 */
#ifndef TAGD_SS_REPLY_H
#define TAGD_SS_REPLY_H

#include <jansson.h>
#include <stdbool.h>

#include "body.h"
#include "call.h"
#include "store.h"

/* The Content-Type of every ServiceStage answer. */
#define SS_JSON_TYPE "application/json;charset=utf8"

/* The documented codes and messages. */
#define SS_E_PARAM        "SVCSTG.REPO.0400", "parameter invalid"
#define SS_E_EXISTS       "SVCSTG.REPO.0403", "resource already exist"
#define SS_E_NO_AUTH      "SVCSTG.REPO.0450", "no repository authorization"
#define SS_E_AUTH_INVALID "SVCSTG.REPO.0451", "repository authorization invalid"
#define SS_E_CLONE_URL    "SVCSTG.REPO.0452", "clone url invalid"
/* tagd's own codes (documented in openapi/tagd.json and README). */
#define SS_E_PROTECTED "SVCSTG.REPO.0453", "tag protected"
#define SS_E_IMMUTABLE "SVCSTG.REPO.0454", "tag immutable"

/*
 * Answer status with the envelope.  reason is what the log says (call.h):
 * the documented messages are the same for many mistakes, so each answer
 * says which one it was.
 */
void ss_error(struct call *c, int status, const char *code, const char *msg, const char *reason);

/* 400 SVCSTG.REPO.0400: a bad path, query or body parameter, or an unknown resource. */
void ss_bad_param(struct call *c, const char *reason);

/* Answer status with obj as the body; steals the reference.  NULL obj answers 500. */
void ss_json(struct call *c, int status, json_t *obj);

/* Answer 204 with no body. */
void ss_no_content(struct call *c);

/*
 * Answer a failed store status: STORE_FORBIDDEN is 400 0451 (the
 * authorization does not cover the namespace), STORE_CONFLICT 400 0403, the
 * not-found statuses and STORE_INVALID 400 0400; full disk 507, read-only
 * database 503, anything else 500.  The reason logged names the resource
 * that was not found, or what was wrong.
 */
void ss_store_error(struct call *c, enum store_status st);

/*
 * A protection rule's refusal: 400 SVCSTG.REPO.0453 (a protected tag and a
 * token below maintain) or 0454 (an immutable tag).
 */
void ss_refused(struct call *c, const struct store_refusal *r);

/* 500 in the envelope. */
void ss_internal_error(struct call *c, const char *reason);

/*
 * True when a Content-Type names JSON (as body_is_json_type) and its charset
 * parameter, if any, is utf-8 or utf8 in any case.
 */
bool ss_content_type_ok(const char *content_type);

/*
 * Read the request body as JSON into fields.  On success returns the parsed
 * value (the caller json_decref()s it once done with the fields' strings).
 * A wrong Content-Type, bad JSON or a field missing or of the wrong type
 * answers 400 SVCSTG.REPO.0400 (the reason saying which) and returns NULL.
 */
json_t *ss_read_body(struct call *c, struct body_field *fields, size_t n);

#endif
