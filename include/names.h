/*
 * names - validation of the names clients choose: Vers repository, tag and
 * commit-tag names, and git ref names for the ServiceStage dialect.
 *
 * Each validator returns NULL when the name is acceptable, or the reason it
 * is not: a static string in the words the real service uses.
 */
#ifndef TAGD_NAMES_H
#define TAGD_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Vers repository tag: 1-128 bytes of Unicode letters, digits, '-', '_', '.'. */
const char *names_vers_tag(const char *name);

/* Vers legacy commit tag: the same alphabet, 1-64 bytes. */
const char *names_commit_tag(const char *name);

/*
 * Vers repository: 1-128 bytes of Unicode letters, digits, '-', '_', '.',
 * '/'; no leading or trailing '/', no "//".
 */
const char *names_vers_repo(const char *name);

/*
 * A git tag or branch name as `git check-ref-format refs/tags/NAME` accepts
 * it, and not starting with '-' (git hosts refuse that).
 */
const char *names_git_ref(const char *name);

/*
 * A ServiceStage namespace name: 1-100 bytes of ASCII letters, digits, '-',
 * '_' and '.', not starting with '.' or '-', not all digits (a segment of
 * digits is taken as an ID).
 */
const char *names_ss_namespace(const char *name);

/*
 * A ServiceStage project name: 1-255 bytes of '/'-separated components, each
 * as a namespace name (so no ':', which stands for '/' in paths).
 */
const char *names_ss_project(const char *name);

/*
 * Decode one UTF-8 sequence at s (at most n bytes).  Returns its length and
 * sets *cp, or 0 for an invalid, overlong or surrogate sequence.
 */
size_t names_utf8_decode(const unsigned char *s, size_t n, unsigned *cp);

/* True when cp is a letter or digit as Rust's char::is_alphanumeric() says. */
bool names_is_alnum(unsigned cp);

/*
 * Parse a UUID in any form the uuid crate accepts (hyphenated, 32 hex
 * digits, braced, urn:uuid:) into its 36-byte lower-case hyphenated form.
 */
bool names_uuid_normalize(const char *in, char out[37]);

#endif
