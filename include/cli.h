/*
 * cli - tagd's command line: the subcommands an operator runs (org, token,
 * commit, repo-auth) and the dispatch to "serve".  Every subcommand takes --db PATH
 * (falling back to $TAGD_DB, then /var/lib/tagd/tagd.db) and --help, and on
 * error prints one line on stderr and returns non-zero.
 */
#ifndef TAGD_CLI_H
#define TAGD_CLI_H

#define CLI_DEFAULT_DB "/var/lib/tagd/tagd.db"

/* Run tagd with its arguments; returns the exit status. */
int cli_main(int argc, char **argv);

/* The database path: the --db value if given, else $TAGD_DB, else the default. */
const char *cli_db_path(const char *flag);

#endif
