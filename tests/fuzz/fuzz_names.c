/*
 * fuzz_names - the validators and small parsers that see client text: Vers
 * repository, tag and commit-tag names, git ref names, UUIDs, UTF-8
 * decoding, percent-decoding, bearer tokens and RFC 3339 times.
 *
 * Every input goes through all of them (they are cheap).  Besides "no crash,
 * no sanitizer report", each acceptance is checked against the rule it
 * claims: an accepted name has the allowed length and alphabet, a normalized
 * UUID normalizes to itself, a parsed time prints and parses back to itself.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "call.h"
#include "clock.h"
#include "fuzzutil.h"
#include "names.h"

/* Each character is a letter, a digit or in extra, as UTF-8 that decodes. */
static bool valid_alphabet(const char *s, const char *extra)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0;
	while (i < len) {
		unsigned cp;
		size_t n = names_utf8_decode(p + i, len - i, &cp);
		if (n == 0 || n > len - i)
			return false;
		if (!names_is_alnum(cp) && !(cp < 0x80 && strchr(extra, (int)cp) != NULL))
			return false;
		i += n;
	}
	return true;
}

static void check_names(const char *s)
{
	size_t len = strlen(s);

	if (names_vers_tag(s) == NULL) {
		FU_CHECK(len >= 1 && len <= 128);
		FU_CHECK(valid_alphabet(s, "-_."));
	}
	if (names_commit_tag(s) == NULL) {
		FU_CHECK(len >= 1 && len <= 64);
		FU_CHECK(names_vers_tag(s) == NULL);
	}
	if (names_vers_repo(s) == NULL) {
		FU_CHECK(len >= 1 && len <= 128);
		FU_CHECK(valid_alphabet(s, "-_./"));
		FU_CHECK(s[0] != '/' && s[len - 1] != '/' && strstr(s, "//") == NULL);
	}
	if (names_git_ref(s) == NULL) {
		FU_CHECK(len >= 1 && len <= 255 && s[0] != '-');
		FU_CHECK(strstr(s, "..") == NULL && strstr(s, "@{") == NULL);
		FU_CHECK(strpbrk(s, " ~^:?*[\\") == NULL);
	}
}

static void check_uuid(const char *s)
{
	char out[37], again[37];
	if (!names_uuid_normalize(s, out))
		return;
	FU_CHECK(strlen(out) == 36);
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			FU_CHECK(out[i] == '-');
		else
			FU_CHECK(strchr("0123456789abcdef", out[i]) != NULL);
	}
	FU_CHECK(names_uuid_normalize(out, again) && strcmp(out, again) == 0);
}

static void check_utf8(const uint8_t *data, size_t size)
{
	size_t i = 0;
	while (i < size) {
		unsigned cp = 0;
		size_t n = names_utf8_decode(data + i, size - i, &cp);
		if (n == 0) {
			i++;
			continue;
		}
		FU_CHECK(n <= 4 && n <= size - i);
		FU_CHECK(cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff));
		i += n;
	}
}

static void check_decode(const char *raw, size_t len)
{
	for (int plus = 0; plus < 2; plus++) {
		char *out = call_percent_decode(raw, len, plus);
		if (out == NULL)
			continue;
		FU_CHECK(strlen(out) <= len);
		FU_CHECK(memchr(raw, '\0', len) == NULL);
		free(out);
	}
}

static void check_token(const char *s)
{
	size_t len;
	const char *tok = auth_bearer(s, &len);
	if (tok == NULL)
		return;
	FU_CHECK(len > 0 && len <= strlen(tok));
	struct auth_token t;
	if (auth_token_parse(tok, len, &t)) {
		FU_CHECK(len == AUTH_TOKEN_LEN);
		FU_CHECK(strlen(t.public_id) == AUTH_PUBLIC_ID_LEN);
	}
}

static void check_time(const char *s)
{
	int64_t us, again;
	char buf[CLOCK_RFC3339_LEN];
	if (!clock_parse_rfc3339(s, &us))
		return;
	clock_format_rfc3339(us, buf);
	FU_CHECK(strlen(buf) == CLOCK_RFC3339_LEN - 1);
	FU_CHECK(clock_parse_rfc3339(buf, &again));
	FU_CHECK(again == us);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	check_names(s);
	check_uuid(s);
	check_utf8(data, size);
	check_decode(s, size);
	check_token(s);
	check_time(s);
	free(s);
	return 0;
}
