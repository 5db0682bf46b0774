/*
 * router.c - template matching with static-over-parameter priority.  See router.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

#define MAX_SEGMENTS 16

struct segment {
	const char *text; /* static text, or NULL for a parameter */
	size_t len;
};

struct compiled {
	const struct route *route;
	struct segment seg[MAX_SEGMENTS];
	size_t nseg;
	size_t nparams;
};

struct router {
	struct compiled *routes;
	size_t n;
};

enum router_dialect router_dialect(const char *path)
{
	if (path == NULL)
		return ROUTER_DIALECT_OTHER;
	if (strncmp(path, "/api/", 5) == 0)
		return ROUTER_DIALECT_VERS;
	if (strncmp(path, "/v1/", 4) == 0)
		return ROUTER_DIALECT_SS;
	return ROUTER_DIALECT_OTHER;
}

bool router_is_ss(const char *path)
{
	return router_dialect(path) == ROUTER_DIALECT_SS;
}

static bool compile(const struct route *r, struct compiled *out)
{
	const char *p = r->template;

	out->route = r;
	out->nseg = 0;
	out->nparams = 0;
	if (*p != '/')
		return false;
	while (*p == '/') {
		p++;
		size_t len = strcspn(p, "/");
		if (out->nseg == MAX_SEGMENTS || len == 0)
			return false;
		struct segment *s = &out->seg[out->nseg++];
		if (p[0] == '{' && p[len - 1] == '}') {
			s->text = NULL;
			if (++out->nparams > CALL_MAX_PARAMS)
				return false;
		} else {
			s->text = p;
		}
		s->len = len;
		p += len;
	}
	return *p == '\0';
}

struct router *router_new(const struct route *routes, size_t n)
{
	struct router *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->routes = calloc(n, sizeof(*r->routes));
	if (r->routes == NULL) {
		free(r);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!compile(&routes[i], &r->routes[r->n])) {
			fprintf(stderr, "router: bad template %s\n", routes[i].template);
			abort(); /* a programming error in a static table */
		}
		r->n++;
	}
	return r;
}

void router_free(struct router **rp)
{
	if (*rp == NULL)
		return;
	free((*rp)->routes);
	free(*rp);
	*rp = NULL;
}

/* Split a raw path into segments; false when it has too many. */
static bool split(const char *path, struct segment *seg, size_t *nseg)
{
	*nseg = 0;
	if (path[0] != '/')
		return false;
	const char *p = path;
	while (*p == '/') {
		p++;
		if (*nseg == MAX_SEGMENTS)
			return false;
		size_t len = strcspn(p, "/");
		seg[*nseg].text = p;
		seg[*nseg].len = len;
		(*nseg)++;
		p += len;
	}
	return true;
}

/* 0 when no match; otherwise a key where earlier static segments weigh more. */
static uint32_t match_key(const struct compiled *c, const struct segment *seg, size_t nseg)
{
	uint32_t key = 1;

	if (c->nseg != nseg)
		return 0;
	for (size_t i = 0; i < nseg; i++) {
		const struct segment *t = &c->seg[i];
		if (t->text == NULL) {
			if (seg[i].len == 0)
				return 0;
			continue;
		}
		if (t->len != seg[i].len || memcmp(t->text, seg[i].text, t->len) != 0)
			return 0;
		key |= UINT32_C(1) << (31 - i);
	}
	return key;
}

static void append_method(char *allow, size_t allow_len, const char *name)
{
	size_t used = strlen(allow);
	if (strstr(allow, name) != NULL)
		return;
	snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", name);
}

enum router_result router_match(const struct router *r, struct call *c, const struct route **out,
                                char *allow, size_t allow_len)
{
	struct segment seg[MAX_SEGMENTS];
	size_t nseg;
	uint32_t best = 0;
	const struct compiled *found = NULL;
	enum call_method want = c->method == CALL_HEAD ? CALL_GET : c->method;

	if (allow_len > 0)
		allow[0] = '\0';
	if (!split(c->path, seg, &nseg))
		return ROUTER_NOT_FOUND;
	for (size_t i = 0; i < r->n; i++) {
		uint32_t key = match_key(&r->routes[i], seg, nseg);
		if (key > best)
			best = key;
	}
	if (best == 0)
		return ROUTER_NOT_FOUND;
	for (size_t i = 0; i < r->n; i++) {
		const struct compiled *cr = &r->routes[i];
		if (match_key(cr, seg, nseg) != best)
			continue;
		if (cr->route->method == want) {
			found = cr;
			break;
		}
	}
	if (found == NULL) {
		for (size_t i = 0; i < r->n; i++) {
			const struct compiled *cr = &r->routes[i];
			if (match_key(cr, seg, nseg) != best)
				continue;
			append_method(allow, allow_len, call_method_name(cr->route->method));
			if (cr->route->method == CALL_GET)
				append_method(allow, allow_len, "HEAD");
		}
		return ROUTER_METHOD_NOT_ALLOWED;
	}

	for (size_t i = 0; i < nseg; i++) {
		if (found->seg[i].text != NULL)
			continue;
		char *v = call_percent_decode(seg[i].text, seg[i].len, false);
		if (v == NULL) {
			/* Tell bad encoding from a failed allocation by decoding nothing. */
			char *probe = call_percent_decode("", 0, false);
			free(probe);
			return probe ? ROUTER_BAD_PATH : ROUTER_NOMEM;
		}
		c->params[c->nparams++] = v;
	}
	c->route = found->route->template;
	*out = found->route;
	return ROUTER_FOUND;
}
