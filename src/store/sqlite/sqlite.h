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

/* Opening a file (sqlite_open.c). */
int sqlite_exec_simple(sqlite3 *db, const char *sql, char **err, const char *path);
/* Refuse a file SQLite finds damaged: the schema and every table's first page. */
bool sqlite_startup_check(struct store *s, sqlite3 *db, char **err);
/* The schema version into s; a newer one than this tagd's is refused. */
bool sqlite_read_version(struct store *s, sqlite3 *db, char **err);
/* Apply every migration newer than the database, all in one transaction. */
bool sqlite_migrate(struct store *s, sqlite3 *db, char **err);
/* When path or its folder cannot be written, append why to *err. */
void sqlite_add_write_hint(const char *path, char **err);

/* store_backup and store_check of a SQLite file (sqlite_admin.c). */
bool sqlite_backup(const char *db_path, const char *out_path, char **err);
long sqlite_check(const char *path, store_check_report_fn report, void *arg, char **err);

#endif
