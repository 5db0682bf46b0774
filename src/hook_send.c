/*
 * hook_send.c - webhook requests on libcurl's multi interface, with the
 * address rule on the address each connection is made to.  See hook_send.h.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "errmsg.h"
#include "hook.h"
#include "hook_send.h"

struct slot {
	struct hook_sender *sender;
	CURL *easy;
	struct curl_slist *headers;
	bool busy;
	size_t received;                   /* bytes of the answer's body read */
	bool capped;                       /* stopped reading at HOOK_RESPONSE_MAX */
	char refused[HOOK_SEND_ERROR_MAX]; /* the address rule refused a connection */
	int64_t retry_after_s;
	char errbuf[CURL_ERROR_SIZE];
};

struct hook_sender {
	CURLM *multi;
	struct slot *slots;
	size_t nslots;
	bool allow_private;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- callbacks ---- */

/* Every connection, on its address: refused ones never get a socket. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct slot *sl = clientp;
	const char *why = NULL;
	if (!sl->sender->allow_private && hook_addr_refused(&a->addr, &why)) {
		char host[INET6_ADDRSTRLEN] = "?";
		if (a->family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&a->addr)->sin_addr, host,
			          sizeof(host));
		else if (a->family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&a->addr)->sin6_addr, host,
			          sizeof(host));
		snprintf(sl->refused, sizeof(sl->refused),
		         "refused to connect to %s: a %s address (hook_allow_private is off)", host,
		         why);
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* The answer's body: counted, never kept, read at most HOOK_RESPONSE_MAX bytes. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct slot *sl = arg;
	size_t len = size * n;
	if (sl->received + len > HOOK_RESPONSE_MAX) {
		sl->capped = true;
		return 0; /* stop reading: the status is what counts */
	}
	sl->received += len;
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct slot *sl = arg;
	size_t len = size * n;
	/* A new status line (after a 1xx): its headers replace the earlier ones. */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
		sl->retry_after_s = -1;
	static const char name[] = "retry-after:";
	if (len > sizeof(name) - 1 && len < 128 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		char value[128];
		memcpy(value, data + sizeof(name) - 1, len - (sizeof(name) - 1));
		value[len - (sizeof(name) - 1)] = '\0';
		int64_t secs;
		if (hook_retry_after_parse(value, (int64_t)time(NULL), &secs))
			sl->retry_after_s = secs;
	}
	return len;
}

/* ---- the sender ---- */

void hook_sender_free(struct hook_sender **sp)
{
	struct hook_sender *s = *sp;
	if (s == NULL)
		return;
	for (size_t i = 0; s->slots != NULL && i < s->nslots; i++) {
		hook_sender_cancel(s, i);
		if (s->slots[i].easy != NULL)
			curl_easy_cleanup(s->slots[i].easy);
	}
	free(s->slots);
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	free(s);
	*sp = NULL;
}

struct hook_sender *hook_sender_new(size_t slots, bool allow_private, char **err)
{
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		*err = errmsg_fmt("cannot initialize libcurl: %s",
		                  curl_easy_strerror(curl_init_rc));
		return NULL;
	}
	struct hook_sender *s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto oom;
	s->allow_private = allow_private;
	s->nslots = slots;
	s->slots = calloc(slots, sizeof(*s->slots));
	s->multi = curl_multi_init();
	if (s->slots == NULL || s->multi == NULL)
		goto oom;
	for (size_t i = 0; i < slots; i++) {
		s->slots[i].sender = s;
		s->slots[i].easy = curl_easy_init();
		if (s->slots[i].easy == NULL)
			goto oom;
	}
	return s;
oom:
	hook_sender_free(&s);
	*err = errmsg_fmt("out of memory");
	return NULL;
}

bool hook_sender_start(struct hook_sender *s, size_t slot, const struct hook_request *rq)
{
	struct slot *sl = &s->slots[slot];
	CURL *e = sl->easy;

	hook_sender_cancel(s, slot);
	curl_easy_reset(e);
	sl->received = 0;
	sl->capped = false;
	sl->refused[0] = '\0';
	sl->retry_after_s = -1;
	sl->errbuf[0] = '\0';
	struct curl_slist *h = NULL;
	for (size_t i = 0; rq->headers[i] != NULL; i++) {
		struct curl_slist *next = curl_slist_append(h, rq->headers[i]);
		if (next == NULL) {
			curl_slist_free_all(h);
			return false;
		}
		h = next;
	}
	/* No "Expect: 100-continue" round trip before the body. */
	struct curl_slist *next = curl_slist_append(h, "Expect:");
	if (next == NULL) {
		curl_slist_free_all(h);
		return false;
	}
	sl->headers = next;

	bool ok =
	        curl_easy_setopt(e, CURLOPT_URL, rq->url) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)HOOK_TIMEOUT_MS) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)HOOK_TIMEOUT_MS) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_POST, 1L) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl->headers) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, sl) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_WRITEDATA, sl) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_HEADERDATA, sl) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, sl->errbuf) == CURLE_OK &&
	        curl_easy_setopt(e, CURLOPT_PRIVATE, sl) == CURLE_OK &&
	        curl_multi_add_handle(s->multi, e) == CURLM_OK;
	if (!ok) {
		curl_slist_free_all(sl->headers);
		sl->headers = NULL;
		return false;
	}
	sl->busy = true;
	return true;
}

void hook_sender_cancel(struct hook_sender *s, size_t slot)
{
	struct slot *sl = &s->slots[slot];
	if (sl->busy)
		curl_multi_remove_handle(s->multi, sl->easy);
	sl->busy = false;
	curl_slist_free_all(sl->headers);
	sl->headers = NULL;
}

/* What a finished transfer of sl came to. */
static void result_of(struct slot *sl, CURLcode rc, struct hook_result *r)
{
	long code = 0;
	curl_easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &code);
	r->status = (int)code;
	r->retry_after_s = sl->retry_after_s;
	r->error[0] = '\0';
	/* A 2xx is delivered even when the answer was cut at its cap. */
	bool complete = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && sl->capped);
	r->ok = complete && code >= 200 && code < 300;
	if (r->ok)
		return;
	if (sl->refused[0] != '\0')
		snprintf(r->error, sizeof(r->error), "%s", sl->refused);
	else if (!complete)
		snprintf(r->error, sizeof(r->error), "%s",
		         sl->errbuf[0] ? sl->errbuf : curl_easy_strerror(rc));
	else if (code == 410)
		snprintf(r->error, sizeof(r->error),
		         "HTTP 410: the receiver says the hook is gone");
	else if (code >= 300 && code < 400)
		snprintf(r->error, sizeof(r->error), "HTTP %ld: redirects are not followed", code);
	else
		snprintf(r->error, sizeof(r->error), "HTTP %ld", code);
}

/* Keep an error fit for a log value and a JSON string: no quotes, backslashes, controls. */
static void scrub(char *text)
{
	for (char *p = text; *p != '\0'; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '\'';
}

void hook_sender_run(struct hook_sender *s, int timeout_ms, hook_sender_done_fn done, void *arg)
{
	int running = 0, left = 0;
	curl_multi_perform(s->multi, &running);
	curl_multi_poll(s->multi, NULL, 0, timeout_ms, NULL);
	curl_multi_perform(s->multi, &running);
	CURLMsg *m;
	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct slot *sl = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
		if (sl == NULL)
			continue;
		struct hook_result r;
		result_of(sl, m->data.result, &r);
		scrub(r.error);
		size_t slot = (size_t)(sl - s->slots);
		hook_sender_cancel(s, slot);
		done(arg, slot, &r);
	}
}

void hook_sender_wake(struct hook_sender *s)
{
	curl_multi_wakeup(s->multi);
}

/* ---- URLs ---- */

bool hook_url_check(const char *url, bool allow_private, char *why, size_t cap)
{
	size_t len = strlen(url);
	if (len == 0 || len > HOOK_URL_MAX) {
		snprintf(why, cap, "url must be 1-%d bytes", HOOK_URL_MAX);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)url[i];
		if (ch <= 0x20 || ch == 0x7f) {
			snprintf(why, cap, "url must not contain blanks or control characters");
			return false;
		}
	}
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
	bool ok = false;
	if (u == NULL) {
		snprintf(why, cap, "out of memory");
		return false;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(why, cap, "url is not an absolute http:// or https:// URL");
		goto done;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		snprintf(why, cap, "url must be http:// or https://");
		goto done;
	}
	size_t slen = strlen(scheme);
	if (strncasecmp(url, scheme, slen) != 0 || strncmp(url + slen, "://", 3) != 0 ||
	    url[slen + 3] == '/' || host[0] == '\0') {
		/* curl guesses a scheme for "host/path" and a host for "http:///x": a hook says
		 * both. */
		snprintf(why, cap, "url is not an absolute http:// or https:// URL");
		goto done;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
		snprintf(why, cap,
		         "url must not contain user information (user:password@): hooks are "
		         "listed to every token of the organization");
		goto done;
	}
	/* An address written in the URL is judged now; a name when it is resolved. */
	char literal[64];
	size_t hlen = strlen(host);
	const char *h = host;
	if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']') {
		h = host + 1;
		hlen -= 2;
	}
	if (!allow_private && hlen < sizeof(literal)) {
		memcpy(literal, h, hlen);
		literal[hlen] = '\0';
		struct sockaddr_in in4 = {.sin_family = AF_INET};
		struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
		const struct sockaddr *sa = NULL;
		if (inet_pton(AF_INET, literal, &in4.sin_addr) == 1)
			sa = (const struct sockaddr *)&in4;
		else if (inet_pton(AF_INET6, literal, &in6.sin6_addr) == 1)
			sa = (const struct sockaddr *)&in6;
		const char *reason = NULL;
		if (sa != NULL && hook_addr_refused(sa, &reason)) {
			snprintf(why, cap,
			         "url names a %s address: tagd delivers there only with "
			         "hook_allow_private",
			         reason);
			goto done;
		}
	}
	ok = true;
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(password);
	curl_url_cleanup(u);
	return ok;
}
