/*
 * http_framing - the rules a request's head must follow before anything
 * reads its body or routes it, decided over plain header fields (no
 * libmicrohttpd here, so the rules are unit-tested field by field).
 *
 * They exist because a server and a proxy in front of it must agree on where
 * each request ends (RFC 9112 §6): libmicrohttpd 0.9.75 frames a request that
 * has both Content-Length and Transfer-Encoding by the chunked body, takes the
 * first of several Content-Length fields, reads an unknown transfer coding
 * until the connection closes and folds obs-fold continuation lines into the
 * field *name*.  Any of those, and a head a proxy may read otherwise (a field
 * name that is not a token, control bytes such as a bare CR, an HTTP/1.1
 * request without exactly one Host), is refused here, and the HTTP layer
 * closes the connection after the answer, so that nothing after it on the
 * connection is ever taken for a request.
 */
#ifndef TAGD_HTTP_FRAMING_H
#define TAGD_HTTP_FRAMING_H

#include <stdbool.h>
#include <stddef.h>

#include "call.h"

/* What the fields of one request head showed; fill with http_framing_field(). */
struct http_framing {
	bool bad_field;       /* a name that is not a token, a control byte, an obs-fold */
	unsigned hosts;       /* Host fields */
	bool bad_host;        /* a Host value that is no host[:port] */
	unsigned lengths;     /* Content-Length fields */
	bool bad_length;      /* a Content-Length value that is not 1-19 digits */
	unsigned encodings;   /* Transfer-Encoding fields */
	bool te_exact;        /* one field, and exactly "chunked" (any case) */
	bool te_malformed;    /* an element that is not a coding */
	unsigned te_codings;  /* codings listed, over every Transfer-Encoding field */
	unsigned te_chunked;  /* of which "chunked" */
	bool te_last_chunked; /* the last coding listed is "chunked" */
};

void http_framing_init(struct http_framing *f);

/*
 * Account for one header field as received: name and value with their
 * lengths (they may hold NUL bytes).  folded: the HTTP layer saw that the
 * field was continued on a following line (obs-fold).
 */
void http_framing_field(struct http_framing *f, const char *name, size_t name_len,
                        const char *value, size_t value_len, bool folded);

/*
 * The verdict over the whole head: CALL_REFUSE_NONE when the request may be
 * read and answered, else why it is refused (each of these closes the
 * connection).  http11: the request line said HTTP/1.1.
 */
enum call_refusal http_framing_verdict(const struct http_framing *f, bool http11);

/* True when target (the raw path) has whitespace or control bytes: 400, connection closed. */
bool http_target_bad(const char *target);

#endif
