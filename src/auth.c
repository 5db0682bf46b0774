/*
 * auth.c - token generation, parsing and checking.  See auth.h.
 */
#include <ctype.h>
#include <errno.h>
#include <nettle/base64.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "auth.h"
#include "store_org.h"

_Static_assert(AUTH_DIGEST_LEN == SHA256_DIGEST_SIZE, "digest size");
_Static_assert(AUTH_DIGEST_LEN == STORE_DIGEST_LEN, "digest size");
_Static_assert(AUTH_PUBLIC_ID_LEN == STORE_TOKEN_ID_LEN, "token id length");

static bool fill_random(uint8_t *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		got += (size_t)n;
	}
	return true;
}

void auth_digest(const void *data, size_t len, uint8_t out[AUTH_DIGEST_LEN])
{
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, AUTH_DIGEST_LEN, out);
}

bool auth_digest_equal(const uint8_t a[AUTH_DIGEST_LEN], const uint8_t b[AUTH_DIGEST_LEN])
{
	return memeql_sec(a, b, AUTH_DIGEST_LEN) != 0;
}

bool auth_token_generate(struct auth_token *t)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t id[AUTH_PUBLIC_ID_LEN / 2];
	uint8_t secret[32];
	char b64[BASE64_ENCODE_LENGTH(32) + BASE64_ENCODE_FINAL_LENGTH + 1];
	struct base64_encode_ctx ctx;

	if (!fill_random(id, sizeof(id)) || !fill_random(secret, sizeof(secret)))
		return false;
	for (size_t i = 0; i < sizeof(id); i++) {
		t->public_id[2 * i] = hex[id[i] >> 4];
		t->public_id[2 * i + 1] = hex[id[i] & 15];
	}
	t->public_id[AUTH_PUBLIC_ID_LEN] = '\0';

	base64url_encode_init(&ctx);
	size_t n = base64_encode_update(&ctx, b64, sizeof(secret), secret);
	n += base64_encode_final(&ctx, b64 + n);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	b64[n] = '\0';
	explicit_bzero(secret, sizeof(secret));

	memcpy(t->text, AUTH_PREFIX, 5);
	memcpy(t->text + 5, t->public_id, AUTH_PUBLIC_ID_LEN);
	t->text[5 + AUTH_PUBLIC_ID_LEN] = '_';
	memcpy(t->text + 6 + AUTH_PUBLIC_ID_LEN, b64, AUTH_SECRET_LEN);
	t->text[AUTH_TOKEN_LEN] = '\0';
	explicit_bzero(b64, sizeof(b64));
	auth_digest(t->text, AUTH_TOKEN_LEN, t->digest);
	return n == AUTH_SECRET_LEN;
}

bool auth_token_parse(const char *text, size_t len, struct auth_token *t)
{
	if (len != AUTH_TOKEN_LEN || memcmp(text, AUTH_PREFIX, 5) != 0 ||
	    text[5 + AUTH_PUBLIC_ID_LEN] != '_')
		return false;
	for (size_t i = 0; i < AUTH_PUBLIC_ID_LEN; i++) {
		char c = text[5 + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	for (size_t i = 6 + AUTH_PUBLIC_ID_LEN; i < AUTH_TOKEN_LEN; i++) {
		char c = text[i];
		if (!(isalnum((unsigned char)c) || c == '-' || c == '_'))
			return false;
	}
	memcpy(t->text, text, AUTH_TOKEN_LEN);
	t->text[AUTH_TOKEN_LEN] = '\0';
	memcpy(t->public_id, text + 5, AUTH_PUBLIC_ID_LEN);
	t->public_id[AUTH_PUBLIC_ID_LEN] = '\0';
	auth_digest(text, AUTH_TOKEN_LEN, t->digest);
	return true;
}

const char *auth_bearer(const char *header, size_t *len)
{
	*len = 0;
	if (header == NULL)
		return NULL;
	while (*header == ' ' || *header == '\t')
		header++;
	if (strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t'))
		return NULL;
	const char *p = header + 6;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0)
		return NULL;
	*len = n;
	return p;
}

enum auth_result auth_check(struct store *s, const char *text, size_t len,
                            struct token_identity *who)
{
	struct auth_token t;

	if (!auth_token_parse(text, len, &t))
		return AUTH_UNKNOWN;
	enum store_status st = store_token_verify(s, t.public_id, t.digest, who);
	explicit_bzero(&t, sizeof(t));
	switch (st) {
	case STORE_OK:
		return AUTH_OK;
	case STORE_NOT_FOUND:
		return AUTH_UNKNOWN;
	case STORE_UNAVAILABLE:
	case STORE_RETRY:
		return AUTH_UNAVAILABLE;
	default:
		return AUTH_ERROR;
	}
}
