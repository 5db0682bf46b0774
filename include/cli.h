/*
 * cli - tagd's command line: every subcommand ("serve", "token create",
 * "config check", ...) is a row of a declarative table (src/cli_internal.h)
 * from which the parsing, every --help and "tagd help --json" come.  Every
 * command takes --help; those that use the database find it as serve does
 * (--db, else $TAGD_DB, else the db of the configuration file: --config
 * PATH, else $TAGD_CONFIG, else /etc/tagd/tagd.conf).  An error is one line on
 * stderr and a non-zero exit status (cli_internal.h, enum cli_exit).
 */
#ifndef TAGD_CLI_H
#define TAGD_CLI_H

/* Run tagd with its arguments; returns the exit status. */
int cli_main(int argc, char **argv);

#endif
