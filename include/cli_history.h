/*
 * cli_history - "tagd history" (an organization's tag changes, oldest
 * first), "tagd history verify" (recompute the hash chain) and "tagd history
 * prune" (retention by hand).  Errors are one line on stderr; exit status 0
 * on success, 1 on failure (a chain that does not verify included), 2 on bad
 * usage.
 */
#ifndef TAGD_CLI_HISTORY_H
#define TAGD_CLI_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Whether word names this command ("history"). */
bool cli_history_handles(const char *word);

/* argv[0] is "history".  Returns the exit status. */
int cli_history_main(int argc, char **argv);

/* The usage lines, for "tagd help". */
void cli_history_usage(FILE *f);

#endif
