/*
 * names.c - validators for client-chosen names.  See names.h.
 */
#include <string.h>

#include "names.h"
#include "unicode_alnum.h"

#define VERS_TAG_MAX   128
#define COMMIT_TAG_MAX 64
#define VERS_REPO_MAX  128
#define GIT_REF_MAX    255

size_t names_utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
	if (n == 0)
		return 0;
	unsigned c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t len;
	unsigned min;
	if ((c & 0xe0) == 0xc0) {
		len = 2, min = 0x80, c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, min = 0x800, c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

bool names_is_alnum(unsigned cp)
{
	size_t lo = 0, hi = unicode_alnum_count;

	if (cp < 0x80)
		return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
		       (cp >= 'A' && cp <= 'Z');
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < unicode_alnum_ranges[mid].lo)
			hi = mid;
		else if (cp > unicode_alnum_ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/*
 * True when every character of name is a letter, a digit or one of extra.
 * Invalid UTF-8 is never accepted.
 */
static bool all_alnum_or(const char *name, size_t len, const char *extra)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i = 0;

	while (i < len) {
		unsigned cp;
		size_t n = names_utf8_decode(s + i, len - i, &cp);
		if (n == 0)
			return false;
		if (!names_is_alnum(cp) && !(cp < 0x80 && cp != 0 && strchr(extra, (int)cp)))
			return false;
		i += n;
	}
	return true;
}

const char *names_vers_tag(const char *name)
{
	size_t len = strlen(name);
	if (len < 1 || len > VERS_TAG_MAX)
		return "Tag name must be 1-128 characters";
	if (!all_alnum_or(name, len, "-_."))
		return "Tag name can only contain alphanumeric characters, hyphens, underscores, "
		       "and dots";
	return NULL;
}

const char *names_commit_tag(const char *name)
{
	size_t len = strlen(name);
	if (len < 1 || len > COMMIT_TAG_MAX)
		return "Tag name must be 1-64 characters";
	if (!all_alnum_or(name, len, "-_."))
		return "Tag name can only contain alphanumeric characters, hyphens, underscores, "
		       "and dots";
	return NULL;
}

const char *names_vers_repo(const char *name)
{
	size_t len = strlen(name);
	if (len < 1 || len > VERS_REPO_MAX)
		return "Repository name must be 1-128 characters";
	if (!all_alnum_or(name, len, "-_./"))
		return "Repository name can only contain alphanumeric characters, hyphens, "
		       "underscores, dots, and slashes";
	if (name[0] == '/' || name[len - 1] == '/')
		return "Repository name cannot start or end with a slash";
	if (strstr(name, "//") != NULL)
		return "Repository name cannot contain consecutive slashes";
	return NULL;
}

const char *names_git_ref(const char *name)
{
	size_t len = strlen(name);

	if (len < 1 || len > GIT_REF_MAX)
		return "ref name must be 1-255 bytes";
	if (name[0] == '-')
		return "ref name must not start with '-'";
	if (name[0] == '/' || name[len - 1] == '/')
		return "ref name must not start or end with '/'";
	if (name[len - 1] == '.')
		return "ref name must not end with '.'";
	if (strstr(name, "..") != NULL)
		return "ref name must not contain '..'";
	if (strstr(name, "@{") != NULL)
		return "ref name must not contain '@{'";
	if (strstr(name, "//") != NULL)
		return "ref name must not contain an empty component";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f || c == ' ' || strchr("~^:?*[\\", c) != NULL)
			return "ref name must not contain control characters, space, or any of "
			       "~ ^ : ? * [ \\";
	}
	/* Per component: no leading '.', no ".lock" suffix. */
	const char *comp = name;
	while (comp != NULL && *comp != '\0') {
		const char *slash = strchr(comp, '/');
		size_t clen = slash ? (size_t)(slash - comp) : strlen(comp);
		if (comp[0] == '.')
			return "ref name components must not start with '.'";
		if (clen >= 5 && memcmp(comp + clen - 5, ".lock", 5) == 0)
			return "ref name components must not end with '.lock'";
		comp = slash ? slash + 1 : NULL;
	}
	return NULL;
}

#define SS_NAMESPACE_MAX 100
#define SS_PROJECT_MAX   255

/* One namespace-like component of len bytes; NULL when acceptable. */
static const char *ss_component(const char *s, size_t len)
{
	if (len == 0)
		return "name components must not be empty";
	if (s[0] == '.' || s[0] == '-')
		return "name components must not start with '.' or '-'";
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return "names may contain only ASCII letters, digits, '-', '_' and '.'";
	}
	return NULL;
}

const char *names_ss_namespace(const char *name)
{
	size_t len = strlen(name);
	if (len < 1 || len > SS_NAMESPACE_MAX)
		return "namespace name must be 1-100 bytes";
	if (strspn(name, "0123456789") == len)
		return "names must not be all digits";
	return ss_component(name, len);
}

const char *names_ss_project(const char *name)
{
	size_t len = strlen(name);
	if (len < 1 || len > SS_PROJECT_MAX)
		return "project name must be 1-255 bytes";
	if (strspn(name, "0123456789") == len)
		return "names must not be all digits";
	for (const char *comp = name;;) {
		size_t clen = strcspn(comp, "/");
		const char *why = ss_component(comp, clen);
		if (why != NULL)
			return why;
		if (comp[clen] == '\0')
			return NULL;
		comp += clen + 1;
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool names_uuid_normalize(const char *in, char out[37])
{
	static const char digits[] = "0123456789abcdef";
	size_t len = strlen(in);
	const char *p = in;
	bool hyphens;

	if (len == 45 && strncmp(in, "urn:uuid:", 9) == 0) {
		p = in + 9, len = 36;
	} else if (len == 38 && in[0] == '{' && in[37] == '}') {
		p = in + 1, len = 36;
	}
	if (len == 36)
		hyphens = true;
	else if (len == 32)
		hyphens = false;
	else
		return false;

	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (hyphens && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (p[i] != '-')
				return false;
			out[o++] = '-';
			continue;
		}
		int v = hexval((unsigned char)p[i]);
		if (v < 0)
			return false;
		if (!hyphens && (o == 8 || o == 13 || o == 18 || o == 23))
			out[o++] = '-';
		out[o++] = digits[v];
	}
	out[o] = '\0';
	return o == 36;
}
