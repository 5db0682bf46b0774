/*
 * body - decoding a JSON request body against a small declarative schema.
 *
 * Both dialects describe each request body as an array of struct body_field
 * and call body_decode(); the same table drives the fuzz target for request
 * schemas.  Unknown fields are ignored, as the real services do.
 */
#ifndef TAGD_BODY_H
#define TAGD_BODY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum body_kind {
	BODY_STRING, /* a JSON string */
	BODY_UUID,   /* a string holding a UUID; normalized into uuid[] */
	BODY_BOOL,
};

struct body_field {
	/* schema */
	const char *name;
	enum body_kind kind;
	bool required; /* absent (or null when !nullable) is an error */
	bool nullable; /* null is accepted and reported in is_null */
	/* result */
	bool present; /* the key is in the object (even when null) */
	bool is_null;
	const char *str; /* BODY_STRING: borrowed from the JSON value */
	char uuid[37];   /* BODY_UUID */
	bool boolean;    /* BODY_BOOL */
};

/* Maximum bytes of any string field; longer is refused, never truncated. */
#define BODY_MAX_STRING 65536

/*
 * Parse body[0..len) as JSON.  Returns the value (caller json_decref()s it),
 * or NULL with a reason in err (always valid UTF-8).  Duplicate keys, invalid
 * UTF-8, NUL escapes and nesting deeper than jansson's limit are refused.
 */
json_t *body_parse(const char *body, size_t len, char *err, size_t errlen);

/*
 * The end of a body_parse() message that says where the body went wrong
 * (" at line L column C"), without the part that quotes the body: what a log
 * may carry.  "" when err has none.
 */
const char *body_error_where(const char *err);

/*
 * Decode obj into fields[0..n).  Returns false with a reason in err (naming
 * the field) when obj is not an object, a required field is missing, or a
 * field has the wrong type.
 */
bool body_decode(json_t *obj, struct body_field *fields, size_t n, char *err, size_t errlen);

/* The field named name in fields[0..n); NULL when there is none. */
struct body_field *body_field(struct body_field *fields, size_t n, const char *name);

/*
 * True when a Content-Type header value names JSON: "application/json" or
 * "application/<subtype>+json", any case, with parameters allowed.
 */
bool body_is_json_type(const char *content_type);

#endif
