/*
 * sqlite_open.c - what the SQLite backend does to a file before serving
 * from it: the start-up check, the schema version, the migrations, and the
 * hint that says why a file cannot be written.  See sqlite.h.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "log.h"
#include "migrations.h"
#include "sqlite.h"

/* Run sql (no rows); on failure *err says why, naming path. */
int sqlite_exec_simple(sqlite3 *db, const char *sql, char **err, const char *path)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK && err != NULL && *err == NULL) {
		const char *why = msg ? msg : sqlite3_errstr(rc);
		if (sqlite_status(rc) == STORE_CORRUPT)
			*err = errmsg_fmt(
			        "%s: database is corrupt or unreadable (%s); restore it from "
			        "a backup",
			        path, why);
		else
			*err = errmsg_fmt("%s: %s", path, why);
	}
	sqlite3_free(msg);
	return rc;
}

static int read_user_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*version = sqlite3_column_int(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Refuse a database SQLite finds damaged before serving from it: without
 * this a file whose header is intact but whose pages are not opens fine and
 * fails request by request.  The check is shallow on purpose: it reads the
 * schema and the first page of every table.  A full quick_check reads every
 * page (3 s for a million tags, measured), which would make start-up and
 * every CLI call that slow; "tagd db check" is the deep check.
 */
bool sqlite_startup_check(struct store *s, sqlite3 *db, char **err)
{
	sqlite3_stmt *tables = NULL;
	const char *why = NULL;
	int rc = sqlite3_prepare_v2(db,
	                            "SELECT name FROM sqlite_schema WHERE type = 'table' "
	                            "AND name NOT LIKE 'sqlite_%'",
	                            -1, &tables, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(tables)) == SQLITE_ROW) {
		char sql[256];
		sqlite3_stmt *probe = NULL;
		snprintf(sql, sizeof(sql), "SELECT 1 FROM \"%s\" LIMIT 1",
		         (const char *)sqlite3_column_text(tables, 0));
		rc = sqlite3_prepare_v2(db, sql, -1, &probe, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(probe);
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			rc = SQLITE_OK;
		else
			why = sqlite3_errmsg(db);
		sqlite3_finalize(probe);
	}
	if (rc != SQLITE_DONE && why == NULL)
		why = sqlite3_errmsg(db);
	if (why != NULL) {
		*err = errmsg_fmt("%s: database is corrupt or unreadable (%s); restore it from a "
		                  "backup",
		                  s->path, why);
		for (char *p = *err; p != NULL && *p != '\0'; p++)
			if (*p == '\n')
				*p = ' '; /* the message is one line */
	}
	sqlite3_finalize(tables);
	return why == NULL;
}

/* The schema version into s; a newer one than this tagd's is refused. */
bool sqlite_read_version(struct store *s, sqlite3 *db, char **err)
{
	int current = 0;
	int rc = read_user_version(db, &current);
	if (rc != SQLITE_OK) {
		*err = errmsg_fmt("%s: cannot read schema version: %s", s->path,
		                  sqlite3_errstr(rc));
		return false;
	}
	if (current > store_known_version()) {
		*err = errmsg_fmt("%s: database schema version %d was written by a newer tagd "
		                  "(this one knows up to %d); refusing to open it",
		                  s->path, current, store_known_version());
		return false;
	}
	s->schema_version = current;
	return true;
}

/* Apply every migration newer than the database, all in one transaction. */
bool sqlite_migrate(struct store *s, sqlite3 *db, char **err)
{
	if (!sqlite_read_version(s, db, err))
		return false;
	int current = s->schema_version, rc;
	if (current == store_known_version())
		return true;

	if (sqlite_exec_simple(db, "BEGIN IMMEDIATE", err, s->path) != SQLITE_OK)
		return false;
	/*
	 * Another process (tagd serve and the CLI started together on a new file)
	 * may have migrated between the first look and the write lock: look again
	 * under the lock.
	 */
	if (!sqlite_read_version(s, db, err)) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return false;
	}
	current = s->schema_version;
	if (current == store_known_version()) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return true;
	}
	for (size_t i = 0; i < sqlite_migrations_count; i++) {
		const struct migration *m = &sqlite_migrations[i];
		if (m->version <= current)
			continue;
		char *msg = NULL;
		rc = sqlite3_exec(db, m->sql, NULL, NULL, &msg);
		if (rc != SQLITE_OK) {
			*err = errmsg_fmt("%s: migration %04d_%s failed: %s", s->path, m->version,
			                  m->name, msg ? msg : sqlite3_errstr(rc));
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return false;
		}
		char record[160];
		snprintf(record, sizeof(record),
		         "INSERT INTO schema_migrations(version, name, applied_at) "
		         "VALUES (%d, '%s', strftime('%%s','now')); PRAGMA user_version=%d;",
		         m->version, m->name, m->version);
		if (sqlite_exec_simple(db, record, err, s->path) != SQLITE_OK) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return false;
		}
		s->schema_version = m->version;
	}
	if (sqlite_exec_simple(db, "COMMIT", err, s->path) != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		s->schema_version = current;
		return false;
	}
	log_msg(LOG_INFO, "database migrated", "from=%d to=%d", current, s->schema_version);
	return true;
}

/*
 * SQLite says "unable to open database file" or "readonly database" without
 * the cause; when the file or its folder (where the -wal and -shm files go)
 * cannot be written, append why.
 */
void sqlite_add_write_hint(const char *path, char **err)
{
	char dir[4096];
	const char *what = path;
	int why = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (access(path, W_OK) != 0 && errno != ENOENT)
		why = errno;
	else if (access(dir, W_OK) != 0)
		why = errno, what = dir;
	if (why == 0 || *err == NULL)
		return;
	char *longer =
	        errmsg_fmt("%s (%s: %s; tagd writes the database and its -wal and -shm files)",
	                   *err, what, strerror(why));
	if (longer != NULL) {
		free(*err);
		*err = longer;
	}
}
