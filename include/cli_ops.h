/*
 * cli_ops - the operator's maintenance commands: "tagd config check",
 * "tagd backup" and "tagd db check".  Each prints one line per error on
 * stderr and returns non-zero on failure.
 */
#ifndef TAGD_CLI_OPS_H
#define TAGD_CLI_OPS_H

#include <stdbool.h>
#include <stdio.h>

/* Whether word ("config", "backup", "db") names one of these commands. */
bool cli_ops_handles(const char *word);

/* argv[0] is the command word.  Returns the exit status. */
int cli_ops_main(int argc, char **argv);

/* One usage line per command, for "tagd help". */
void cli_ops_usage(FILE *f);

#endif
