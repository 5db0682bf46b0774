/*
 * Private to the PostgreSQL backend (src/store/pg/): what its files share.
 */
#ifndef TAGD_STORE_PG_H
#define TAGD_STORE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "store_admin.h"
#include "store_internal.h"

/* The libpq handle of a connection of this backend. */
PGconn *pg_handle(struct store_conn *c);

/* The status of an error with sqlstate ("" when none); conn_bad: the connection failed. */
enum store_status pg_status_of(const char *sqlstate, bool conn_bad);

/* A copy of a connection URI with its password replaced by "***" (malloc'd; NULL: no memory). */
char *pg_redact(const char *uri);

/* store_backup and store_check of a PostgreSQL database (pg_admin.c). */
bool pg_backup(const char *uri, const char *out_path, char **err);
long pg_check(const char *uri, store_check_report_fn report, void *arg, char **err);

#endif
