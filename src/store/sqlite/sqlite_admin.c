/*
 * sqlite_admin.c - the SQLite backend's online backup (SQLite's backup API)
 * and deep check (integrity_check, foreign_key_check).  See store_admin.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "sqlite.h"

/* fsync a file by name (the finished copy, then its folder for the rename). */
static bool sync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

bool sqlite_backup(const char *db_path, const char *out_path, char **err)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b = NULL;
	char *tmp = NULL, *dir = NULL;
	bool ok = false;
	int rc;

	*err = NULL;
	if (asprintf(&tmp, "%s.partial", out_path) < 0) {
		tmp = NULL;
		*err = errmsg_fmt("out of memory");
		goto fail;
	}
	rc = sqlite3_open_v2(db_path, &src, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		*err = errmsg_fmt("%s: cannot open database: %s", db_path,
		                  src ? sqlite3_errmsg(src) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(src, 5000);
	unlink(tmp);
	rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		*err = errmsg_fmt("%s: cannot create: %s", tmp,
		                  dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
		goto fail;
	}
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (b == NULL) {
		*err = errmsg_fmt("cannot start the backup: %s", sqlite3_errmsg(dst));
		goto fail;
	}
	/*
	 * All pages in one step: one read transaction, so the copy is one
	 * snapshot.  In WAL mode it never blocks tagd's writer; commits made
	 * meanwhile are simply not in the copy.
	 */
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	int frc = sqlite3_backup_finish(b);
	b = NULL;
	if (rc != SQLITE_DONE || frc != SQLITE_OK) {
		*err = errmsg_fmt("backup failed: %s",
		                  sqlite3_errstr(rc != SQLITE_DONE ? rc : frc));
		goto fail;
	}
	/* The copy stands alone: no -wal or -shm file to carry along. */
	rc = sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		*err = errmsg_fmt("%s: %s", tmp, sqlite3_errmsg(dst));
		goto fail;
	}
	sqlite3_close_v2(dst);
	dst = NULL;
	if (!sync_path(tmp, O_RDONLY)) {
		*err = errmsg_fmt("%s: cannot sync: %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, out_path) != 0) {
		*err = errmsg_fmt("cannot rename %s to %s: %s", tmp, out_path, strerror(errno));
		goto fail;
	}
	dir = strdup(out_path);
	if (dir != NULL) {
		char *slash = strrchr(dir, '/');
		if (slash == NULL)
			strcpy(dir, ".");
		else if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		sync_path(dir, O_RDONLY | O_DIRECTORY);
	}
	ok = true;
fail:
	if (b != NULL)
		sqlite3_backup_finish(b);
	if (dst != NULL)
		sqlite3_close_v2(dst);
	if (src != NULL)
		sqlite3_close_v2(src);
	if (!ok && tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(dir);
	return ok;
}

long sqlite_check(const char *path, store_check_report_fn report, void *arg, char **err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long problems = -1;
	char line[1024];
	int rc;

	*err = NULL;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		*err = errmsg_fmt("%s: cannot open database: %s", path,
		                  db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto sqlerr;
	problems = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *msg = (const char *)sqlite3_column_text(st, 0);
		if (msg != NULL && strcmp(msg, "ok") == 0)
			continue;
		snprintf(line, sizeof(line), "integrity: %s", msg ? msg : "?");
		report(arg, line);
		problems++;
	}
	if (rc != SQLITE_DONE)
		goto sqlerr;
	sqlite3_finalize(st);
	st = NULL;
	/* Rows: table, rowid, referenced table, foreign key index. */
	rc = sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto sqlerr;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *table = (const char *)sqlite3_column_text(st, 0);
		const char *parent = (const char *)sqlite3_column_text(st, 2);
		snprintf(line, sizeof(line),
		         "foreign key: %s row %lld refers to a missing %s row (constraint %d)",
		         table ? table : "?", (long long)sqlite3_column_int64(st, 1),
		         parent ? parent : "?", sqlite3_column_int(st, 3));
		report(arg, line);
		problems++;
	}
	if (rc != SQLITE_DONE)
		goto sqlerr;
	goto out;
sqlerr:
	*err = errmsg_fmt("%s: %s", path, sqlite3_errmsg(db));
	problems = -1;
out:
	sqlite3_finalize(st);
	if (db != NULL)
		sqlite3_close_v2(db);
	return problems;
}
