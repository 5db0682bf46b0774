/*
 * body.c - JSON request bodies against a declarative schema.  See body.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "body.h"
#include "names.h"

/*
 * Replace every byte of err that is not part of valid UTF-8 with '?'.
 * jansson quotes the offending input in its messages, and a message that is
 * not UTF-8 cannot go into a JSON error envelope (it made the answer a 500).
 */
static void make_utf8(char *err)
{
	size_t len = strlen(err), i = 0;
	while (i < len) {
		unsigned cp;
		size_t n = names_utf8_decode((const unsigned char *)err + i, len - i, &cp);
		if (n == 0) {
			err[i++] = '?';
			continue;
		}
		i += n;
	}
}

json_t *body_parse(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);

	if (v == NULL && errlen > 0) {
		snprintf(err, errlen, "%s at line %d column %d", jerr.text, jerr.line, jerr.column);
		make_utf8(err);
	}
	return v;
}

const char *body_error_where(const char *err)
{
	const char *at = NULL;
	for (const char *p = strstr(err, " at line "); p != NULL; p = strstr(p + 1, " at line "))
		at = p;
	return at ? at : "";
}

static const char *type_phrase(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "map";
	case JSON_ARRAY:
		return "sequence";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "floating point";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "value";
}

static const char *kind_phrase(enum body_kind k)
{
	switch (k) {
	case BODY_STRING:
		return "a string";
	case BODY_UUID:
		return "a UUID string";
	case BODY_BOOL:
		return "a boolean";
	}
	return "a value";
}

bool body_decode(json_t *obj, struct body_field *fields, size_t n, char *err, size_t errlen)
{
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "invalid type: %s, expected a JSON object", type_phrase(obj));
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct body_field *f = &fields[i];
		json_t *v = json_object_get(obj, f->name);

		f->present = v != NULL;
		f->is_null = v == NULL || json_is_null(v);
		f->str = NULL;
		f->uuid[0] = '\0';
		f->boolean = false;
		if (f->is_null) {
			if (f->required && !(v != NULL && f->nullable)) {
				if (v == NULL)
					snprintf(err, errlen, "missing field `%s`", f->name);
				else
					snprintf(err, errlen, "%s: invalid type: null, expected %s",
					         f->name, kind_phrase(f->kind));
				return false;
			}
			if (v != NULL && !f->nullable) {
				snprintf(err, errlen, "%s: invalid type: null, expected %s",
				         f->name, kind_phrase(f->kind));
				return false;
			}
			continue;
		}
		switch (f->kind) {
		case BODY_STRING:
		case BODY_UUID:
			if (!json_is_string(v))
				goto wrong_type;
			if (json_string_length(v) > BODY_MAX_STRING) {
				snprintf(err, errlen, "%s: longer than %d bytes", f->name,
				         BODY_MAX_STRING);
				return false;
			}
			f->str = json_string_value(v);
			if (f->kind == BODY_UUID && !names_uuid_normalize(f->str, f->uuid)) {
				snprintf(err, errlen, "%s: invalid UUID", f->name);
				return false;
			}
			break;
		case BODY_BOOL:
			if (!json_is_boolean(v))
				goto wrong_type;
			f->boolean = json_is_true(v);
			break;
		}
		continue;
	wrong_type:
		snprintf(err, errlen, "%s: invalid type: %s, expected %s", f->name, type_phrase(v),
		         kind_phrase(f->kind));
		return false;
	}
	return true;
}

struct body_field *body_field(struct body_field *fields, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

bool body_is_json_type(const char *ct)
{
	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t len = strcspn(ct, ";");
	while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
		len--;
	if (len == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return true;
	/* application/<anything>+json */
	if (len > 17 && strncasecmp(ct, "application/", 12) == 0 &&
	    strncasecmp(ct + len - 5, "+json", 5) == 0)
		return memchr(ct + 12, '/', len - 12) == NULL;
	return false;
}
