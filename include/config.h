/*
 * config - tagd's settings: one declarative table of keys (name, type,
 * default, validation, reloadable or not), filled from defaults, then the
 * config file, then TAGD_<KEY> environment variables, then command-line
 * flags (--<key-with-dashes> VALUE): the later source wins.
 *
 * The file is "key = value" lines; '#' starts a comment (at the start of a
 * line or after white space); a value may be double-quoted.  Unknown keys,
 * keys set twice and bad values are refused with "FILE:LINE: reason".
 *
 * A config is a plain value: serve builds one at start and a fresh one on
 * SIGHUP, then applies the keys that may change at run time.  No globals.
 */
#ifndef TAGD_CONFIG_H
#define TAGD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

#define CONFIG_DEFAULT_PATH "/etc/tagd/tagd.conf"
#define CONFIG_DEFAULT_DB   "/var/lib/tagd/tagd.db"
#define CONFIG_MAX_LISTEN   8
#define CONFIG_MAX_KEYS     32
#define CONFIG_MAX_FLAGS    32

struct config_listen {
	char host[254]; /* an IP address (IPv6 without brackets) or a host name */
	uint16_t port;
};

enum config_sync { CONFIG_SYNC_FULL, CONFIG_SYNC_NORMAL };

struct config {
	struct config_listen listen[CONFIG_MAX_LISTEN];
	size_t nlisten;
	char *db;
	unsigned db_pool_size; /* PostgreSQL connections at most */
	unsigned db_timeout;   /* seconds */
	unsigned threads;      /* 0: one per core */
	unsigned max_connections;
	unsigned max_connections_per_ip; /* 0: no limit */
	unsigned connection_timeout;     /* seconds */
	size_t max_body;                 /* bytes */
	unsigned synchronous;            /* enum config_sync */
	char *clone_base_url;
	unsigned log_level;        /* enum log_level */
	unsigned log_format;       /* enum log_format */
	char *log_file;            /* "": stderr */
	unsigned shutdown_timeout; /* seconds */
	char *tls_cert;            /* "": plain HTTP */
	char *tls_key;
	char *tls_priorities;      /* "": tls.h's default */
	unsigned write_batch;      /* writes per group commit at most; 0: the store's default */
	int64_t history_retention; /* microseconds of history kept; 0: forever */
	bool hook_allow_private;   /* webhooks may go to private addresses (hook.h) */

	/* Per key (index in the table): the value as text and where it came from. */
	char *text[CONFIG_MAX_KEYS];
	char *origin[CONFIG_MAX_KEYS];
};

struct config_key;

/* The key table, and its size. */
const struct config_key *config_key_at(size_t i);
size_t config_key_count(void);
const char *config_key_name(const struct config_key *k);
bool config_key_reloadable(const struct config_key *k);
/* Its command-line spelling without "--" ("max-body"), default text and one-line help. */
const char *config_key_flag(const struct config_key *k);
const char *config_key_default(const struct config_key *k);
const char *config_key_help(const struct config_key *k);
/* The key named name ("max_body") or flagged --flag ("max-body"); NULL when unknown. */
const struct config_key *config_key_find(const char *name);

/* What the command line asked for: --config and any --<key> VALUE (see cli.c). */
struct config_args {
	const char *config_path; /* NULL: $TAGD_CONFIG, else CONFIG_DEFAULT_PATH (may be missing) */
	struct {
		const struct config_key *key;
		const char *value; /* borrowed from argv */
	} set[CONFIG_MAX_FLAGS];
	size_t nset;
};

/*
 * Add --<key> value to args (value is borrowed).  Returns false and sets
 * *err (malloc'd) when the key is set already or args is full.
 */
bool config_args_set(struct config_args *args, const struct config_key *k, const char *value,
                     char **err);

/*
 * Build the effective configuration from defaults, the file, the
 * environment and args.  On error, false is returned, cfg is released and
 * *err is a malloc'd message, one "WHERE: reason" line per problem.
 */
bool config_load(struct config *cfg, const struct config_args *args, char **err);

/* Free what a loaded config owns; zeroes it.  Safe on a zeroed config. */
void config_release(struct config *cfg);

/*
 * Print the effective configuration as a config file, with origins (secrets
 * hidden; URLs never hold credentials: set_url refuses them).
 */
void config_print(const struct config *cfg, FILE *f);

/* Whether key i differs between a and b. */
bool config_key_changed(const struct config *a, const struct config *b, size_t i);

#endif
