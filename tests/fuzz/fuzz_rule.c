/*
 * fuzz_rule - the protection rules' pattern matcher (rule.h) against an
 * oracle: every (pattern, name) pair the input makes is matched by
 * rule_pattern_match and by a plain dynamic program over the same
 * definition ('*' any run of characters, '?' one character, anything else
 * itself); they must agree.  Also: rule_pattern_check accepts exactly what
 * its contract says, and a pattern without wildcards matches only itself.
 *
 * The input is "pattern NUL name" (without a NUL, the name is the input
 * reversed, so that both halves vary together).  Halves are cut at 512
 * bytes, twice the longest pattern and name tagd keeps.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "names.h"
#include "rule.h"

#define HALF_MAX 512

/* One character at s (n > 0 bytes left): a UTF-8 sequence, or one byte. */
static size_t char_len(const unsigned char *s, size_t n)
{
	unsigned cp;
	size_t k = names_utf8_decode(s, n, &cp);
	return k > 0 && k <= n ? k : 1;
}

/*
 * ok[i][j]: pattern[i..] matches name[j..], filled from the ends.  The name
 * is walked by characters (a '?' or a '*' step takes one), literals by bytes.
 */
static bool oracle(const char *pattern, const char *name)
{
	const unsigned char *p = (const unsigned char *)pattern, *s = (const unsigned char *)name;
	size_t pn = strlen(pattern), sn = strlen(name);
	bool *ok = calloc((pn + 1) * (sn + 1), sizeof(*ok));
	FU_CHECK(ok != NULL);
#define OK(i, j) ok[(i) * (sn + 1) + (j)]
	OK(pn, sn) = true;
	for (size_t i = pn + 1; i-- > 0;) {
		for (size_t j = sn + 1; j-- > 0;) {
			if (i == pn) {
				OK(i, j) = j == sn;
				continue;
			}
			bool r = false;
			if (p[i] == '*')
				r = OK(i + 1, j) || (j < sn && OK(i, j + char_len(s + j, sn - j)));
			else if (p[i] == '?')
				r = j < sn && OK(i + 1, j + char_len(s + j, sn - j));
			else
				r = j < sn && p[i] == s[j] && OK(i + 1, j + 1);
			OK(i, j) = r;
		}
	}
	bool out = OK(0, 0);
#undef OK
	free(ok);
	return out;
}

static void check_pattern(const char *pattern)
{
	const char *why = rule_pattern_check(pattern);
	size_t n = strlen(pattern);
	if (why != NULL)
		return;
	FU_CHECK(n >= 1 && n <= RULE_PATTERN_MAX);
	for (size_t i = 0; i < n;) {
		unsigned cp = (unsigned char)pattern[i];
		size_t k = 1;
		if (cp >= 0x80) {
			k = names_utf8_decode((const unsigned char *)pattern + i, n - i, &cp);
			FU_CHECK(k > 0);
		}
		FU_CHECK(cp >= 0x20 && !(cp >= 0x7f && cp < 0xa0));
		i += k;
	}
	if (strpbrk(pattern, "*?") == NULL)
		FU_CHECK(rule_pattern_match(pattern, pattern));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t plen = nul ? (size_t)(nul - data) : size;
	size_t nlen = nul ? size - plen - 1 : size;
	plen = plen < HALF_MAX ? plen : HALF_MAX;
	nlen = nlen < HALF_MAX ? nlen : HALF_MAX;
	char *pattern = malloc(plen + 1), *name = malloc(nlen + 1);
	FU_CHECK(pattern != NULL && name != NULL);
	memcpy(pattern, data, plen);
	pattern[plen] = '\0';
	for (size_t i = 0; i < nlen; i++)
		name[i] = (char)(nul ? nul[1 + i] : data[size - 1 - i]);
	name[nlen] = '\0'; /* a NUL inside the name ends it, as in a C string */

	check_pattern(pattern);
	bool got = rule_pattern_match(pattern, name);
	/* The oracle decodes as the matcher does only for patterns tagd accepts (valid UTF-8). */
	if (rule_pattern_check(pattern) == NULL)
		FU_CHECK(got == oracle(pattern, name));
	free(pattern);
	free(name);
	return 0;
}
