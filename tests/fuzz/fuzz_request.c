/*
 * fuzz_request - arbitrary requests through the router, authentication and
 * the handlers, against a real store on a temporary file.
 *
 * An input reads like an HTTP/1.1 head without the version:
 *
 *   METHOD TARGET\n
 *   Name: value\n        (any number of header lines)
 *   \n
 *   body (any bytes)
 *
 * TARGET is split at '?' into the raw path and the query, as the HTTP module
 * does.  In header values "$ACME" and "$OTHER" stand for the tokens of the
 * fixture's organizations, so the fuzzer reaches past authentication.
 *
 * TAGD_FUZZ_VERBOSE=1 prints each request's status and answer.
 *
 * Checked for every input: the call is answered (not left deferred), with a
 * status in 200-599 that is not 500, and any body is JSON but the text of
 * the health and metrics routes.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"

struct request {
	char *head; /* a NUL-free copy of the head, cut into strings */
	char *body;
	char *values[CALL_MAX_HEADERS]; /* header values after token substitution */
	size_t nvalues;
};

/* value with "$ACME"/"$OTHER" replaced by the tokens; a new string. */
static char *substitute(const char *value, const struct fu_fixture *fx)
{
	const char *mark = strchr(value, '$');
	const char *token = NULL;
	size_t mlen = 0;

	if (mark != NULL && strncmp(mark, "$ACME", 5) == 0)
		token = fx->acme_token, mlen = 5;
	else if (mark != NULL && strncmp(mark, "$OTHER", 6) == 0)
		token = fx->other_token, mlen = 6;
	if (token == NULL)
		return strdup(value);
	size_t pre = (size_t)(mark - value), tlen = strlen(token), post = strlen(mark + mlen);
	char *out = malloc(pre + tlen + post + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, value, pre);
	memcpy(out + pre, token, tlen);
	memcpy(out + pre + tlen, mark + mlen, post + 1);
	return out;
}

static void parse_query(struct call *c, char *query)
{
	char *save = NULL;
	for (char *kv = strtok_r(query, "&", &save); kv != NULL && c->nquery < CALL_MAX_QUERY;
	     kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (eq != NULL)
			*eq = '\0';
		c->query[c->nquery].name = kv;
		c->query[c->nquery].value = eq ? eq + 1 : NULL;
		c->nquery++;
	}
}

/* Fill c from data; false when out of memory. */
static bool build(struct call *c, struct request *rq, const uint8_t *data, size_t size,
                  const struct fu_fixture *fx)
{
	const uint8_t *split = NULL;
	for (size_t i = 0; i + 1 < size; i++) {
		if (data[i] == '\n' && data[i + 1] == '\n') {
			split = data + i;
			break;
		}
	}
	size_t head_len = split ? (size_t)(split - data) : size;
	size_t body_off = split ? head_len + 2 : size;

	rq->head = malloc(head_len + 1);
	rq->body = malloc(size - body_off + 1);
	if (rq->head == NULL || rq->body == NULL)
		return false;
	/* libmicrohttpd hands over C strings: no NUL inside the head. */
	for (size_t i = 0; i < head_len; i++)
		rq->head[i] = data[i] ? (char)data[i] : ' ';
	rq->head[head_len] = '\0';
	memcpy(rq->body, data + body_off, size - body_off);
	rq->body[size - body_off] = '\0'; /* the HTTP module terminates bodies too */

	char *save = NULL;
	char *line = strtok_r(rq->head, "\n", &save);
	if (line == NULL)
		line = rq->head; /* empty head: empty method */
	char *sp = strchr(line, ' ');
	char *target = "/";
	if (sp != NULL) {
		*sp = '\0';
		target = sp + 1;
	}
	char *q = strchr(target, '?');
	if (q != NULL) {
		*q = '\0';
		parse_query(c, q + 1);
	}
	c->method_name = line;
	c->method = call_method_parse(line);
	c->path = target;
	c->body = rq->body;
	c->body_len = size - body_off;
	c->request_id = "fuzz";

	for (char *h = strtok_r(NULL, "\n", &save); h != NULL; h = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(h, ':');
		if (colon == NULL || colon == h)
			continue;
		if (c->nheaders == CALL_MAX_HEADERS)
			break; /* the HTTP module answers 431 itself */
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		char *value = substitute(v, fx);
		if (value == NULL)
			return false;
		rq->values[rq->nvalues++] = value;
		c->headers[c->nheaders].name = h;
		c->headers[c->nheaders].value = value;
		c->nheaders++;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fu_fixture *fx = fu_fixture();
	struct request rq = {0};
	struct call c;

	call_init(&c, fx->store, &fu_sync_transport, &rq);
	if (build(&c, &rq, data, size, fx)) {
		app_handle(fx->app, &c);
		if (getenv("TAGD_FUZZ_VERBOSE") != NULL) /* to see what seeds reach */
			fprintf(stderr, "%s %s -> %d %.*s\n", c.method_name, c.path, c.status,
			        (int)c.resp_len, c.resp_body ? c.resp_body : "");
		FU_CHECK(!call_is_deferred(&c));
		FU_CHECK(c.status >= 200 && c.status <= 599);
		FU_CHECK(c.status != 500);
		/* /livez, /readyz and /metrics answer text; everything else JSON. */
		if (c.resp_body != NULL && c.resp_type != NULL &&
		    strncmp(c.resp_type, "text/", 5) == 0)
			FU_CHECK(c.route != NULL && (strcmp(c.route, "/livez") == 0 ||
			                             strcmp(c.route, "/readyz") == 0 ||
			                             strcmp(c.route, "/metrics") == 0));
		else if (c.resp_body != NULL) {
			json_error_t err;
			json_t *doc = json_loadb(c.resp_body, c.resp_len, 0, &err);
			FU_CHECK(doc != NULL);
			json_decref(doc);
		}
	}
	call_release(&c);
	for (size_t i = 0; i < rq.nvalues; i++)
		free(rq.values[i]);
	free(rq.head);
	free(rq.body);
	return 0;
}
