/*
 * Private to the SQLite backend (src/store/sqlite/): what its files share.
 */
#ifndef TAGD_STORE_SQLITE_H
#define TAGD_STORE_SQLITE_H

#include <sqlite3.h>

#include "store_admin.h"
#include "store_internal.h"

/* The engine handle of a connection of this backend. */
sqlite3 *sqlite_db(struct store_conn *c);

/* Map a SQLite result code to a status. */
enum store_status sqlite_status(int rc);

/* store_backup and store_check of a SQLite file (sqlite_admin.c). */
bool sqlite_backup(const char *db_path, const char *out_path, char **err);
long sqlite_check(const char *path, store_check_report_fn report, void *arg, char **err);

#endif
