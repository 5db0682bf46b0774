/*
 * fuzz_http - raw bytes through the real HTTP layer: libmicrohttpd, tagd's
 * framing rules, the app and the store, over a loopback connection to a
 * server started once in this process.
 *
 * An input is sent as is on a new connection ("$ACME" and "$OTHER" stand for
 * the fixture's tokens, so requests reach past authentication), the write
 * side is shut (see exchange), and everything the server sends is read until
 * it closes.
 * The server runs on this thread (http_run, external_loop): libmicrohttpd's
 * own epoll threads do not notice a client's half-close until a timeout, and
 * the select loop does, so each input ends as soon as the server is done.
 *
 * Checked for every input, besides what the sanitizers see:
 *  - whatever comes back starts with a well-formed status line;
 *  - no answer is a 500 (tagd's, or libmicrohttpd's "API violation" page);
 *  - an answer of tagd's with Connection: close is the last thing on the
 *    connection: nothing a client sent after a refused head is ever answered.
 *
 * TAGD_FUZZ_VERBOSE=1 prints each input's first answer line and keeps the
 * access log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzzutil.h"
#include "http.h"
#include "log.h"

#define READ_LIMIT  (4 * 1024 * 1024)
#define CALM_ROUNDS 8 /* accepting, reading, resuming and writing take a round each */

static struct http_server *server;

static void stop_server(void)
{
	http_stop(&server);
}

/* The server, started on first use on a free loopback port. */
static struct http_server *the_server(void)
{
	if (server != NULL)
		return server;
	struct fu_fixture *fx = fu_fixture();
	struct http_options opts = {
	        .host = "127.0.0.1",
	        .port = 0,
	        .listen_fd = -1,
	        .timeout_s = 5,
	        .external_loop = true,
	};
	char *err = NULL;
	server = http_start(&opts, fx->app, &err);
	if (server == NULL)
		fprintf(stderr, "fuzz_http: %s\n", err ? err : "out of memory");
	FU_CHECK(server != NULL);
	free(err);
	/*
	 * An access line per input, or libmicrohttpd's warning about each
	 * malformed one, would be most of the time; verbose runs keep them.
	 */
	if (getenv("TAGD_FUZZ_VERBOSE") == NULL)
		log_set_level(LOG_ERROR);
	atexit(stop_server); /* before the fixture's own clean-up: registered later */
	return server;
}

/* data with "$ACME" and "$OTHER" replaced by the fixture's tokens; *len its length. */
static char *with_tokens(const uint8_t *data, size_t size, const struct fu_fixture *fx, size_t *len)
{
	size_t cap = size + 1;
	for (size_t i = 0; i < size; i++)
		if (data[i] == '$')
			cap += sizeof(fx->acme_token);
	char *out = malloc(cap);
	FU_CHECK(out != NULL);
	size_t o = 0;
	for (size_t i = 0; i < size; i++) {
		const char *token = NULL;
		size_t skip = 0;
		if (size - i >= 5 && memcmp(data + i, "$ACME", 5) == 0)
			token = fx->acme_token, skip = 5;
		else if (size - i >= 6 && memcmp(data + i, "$OTHER", 6) == 0)
			token = fx->other_token, skip = 6;
		if (token != NULL) {
			memcpy(out + o, token, strlen(token));
			o += strlen(token);
			i += skip - 1;
		} else {
			out[o++] = (char)data[i];
		}
	}
	*len = o;
	return out;
}

/*
 * Send req on a new connection, read until the server closes, running the
 * server meanwhile.  The write side is shut once everything is sent and, for
 * a few rounds, no request waits on the store's writer (libmicrohttpd drops
 * the answer of a client that hung up while its operation ran).  The server cuts a head
 * that never completes at its 5 s deadline; 10 s without an end is a hang.
 */
static size_t exchange(struct http_server *h, const char *req, size_t len, char *out, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	FU_CHECK(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(http_port(h))};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Loopback: the listen queue takes the connection before the server accepts it. */
	FU_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EINPROGRESS);
	size_t sent = 0, got = 0;
	unsigned calm = 0; /* rounds in a row with every byte sent and nothing deferred */
	for (int rounds = 0; rounds < 2000; rounds++) {
		while (sent < len) {
			ssize_t n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
			if (n > 0) {
				sent += (size_t)n;
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == ENOTCONN))
				break;
			sent = len; /* answered and closed before reading everything */
		}
		if (sent == len && calm < CALM_ROUNDS) {
			calm = http_deferred(h) == 0 ? calm + 1 : 0;
			if (calm == CALM_ROUNDS)
				shutdown(fd, SHUT_WR);
		}
		/* Rounds run at once until the write side is shut, except while a request waits. */
		http_run(h, calm == CALM_ROUNDS ? 10 : calm == 0 ? 1 : 0);
		for (;;) {
			ssize_t n = recv(fd, out + got, cap - got, 0);
			if (n > 0) {
				got += (size_t)n;
				FU_CHECK(got < cap); /* no answer to one input is this large */
				continue;
			}
			if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(fd);
				return got; /* closed by the server (or reset): the end */
			}
			break;
		}
	}
	FU_CHECK(!"the server neither answered nor closed the connection in time");
	return got;
}

/* The value of header name in the head text[0..head_len), or NULL. */
static const char *header_in(const char *text, size_t head_len, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	for (const char *p = text; p < text + head_len;) {
		const char *eol = memchr(p, '\n', (size_t)(text + head_len - p));
		const char *end = eol ? eol : text + head_len;
		if ((size_t)(end - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
			const char *v = p + nlen + 1;
			while (v < end && *v == ' ')
				v++;
			*vlen = (size_t)(end - v) - (end > v && end[-1] == '\r');
			return v;
		}
		p = end + 1;
	}
	return NULL;
}

static void check_answers(const char *text, size_t len)
{
	/* Interim answers (100 Continue) come first and have no body. */
	while (len >= 12 && memcmp(text, "HTTP/1.1 1", 10) == 0) {
		const char *end = memmem(text, len, "\r\n\r\n", 4);
		FU_CHECK(end != NULL);
		len -= (size_t)(end + 4 - text);
		text = end + 4;
	}
	if (len == 0)
		return; /* an incomplete request cut by the close: no answer */
	FU_CHECK(len >= 12 &&
	         (memcmp(text, "HTTP/1.1 ", 9) == 0 || memcmp(text, "HTTP/1.0 ", 9) == 0));
	for (int i = 9; i < 12; i++)
		FU_CHECK(text[i] >= '0' && text[i] <= '9');
	FU_CHECK(memcmp(text + 9, "500", 3) != 0);
	if (getenv("TAGD_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "%.12s\n", text);

	const char *end = memmem(text, len, "\r\n\r\n", 4);
	if (end == NULL)
		return;
	size_t head_len = (size_t)(end - text);
	size_t vlen = 0;
	/*
	 * libmicrohttpd's own refusals (no X-Request-Id) are its business: it
	 * sends some heads twice.  tagd's answers carry X-Request-Id.
	 */
	if (header_in(text, head_len, "X-Request-Id", &vlen) == NULL)
		return;
	const char *conn = header_in(text, head_len, "Connection", &vlen);
	if (conn == NULL || vlen != 5 || strncasecmp(conn, "close", 5) != 0)
		return;
	/* The last answer: no more than its own body may follow (less for a HEAD). */
	const char *cl = header_in(text, head_len, "Content-Length", &vlen);
	size_t body = cl ? strtoul(cl, NULL, 10) : 0;
	FU_CHECK(len <= head_len + 4 + body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *out;
	struct fu_fixture *fx = fu_fixture();
	struct http_server *h = the_server();
	size_t len;

	if (out == NULL) {
		out = malloc(READ_LIMIT);
		FU_CHECK(out != NULL);
	}
	char *req = with_tokens(data, size, fx, &len);
	size_t got = exchange(h, req, len, out, READ_LIMIT);
	check_answers(out, got);
	free(req);
	return 0;
}
