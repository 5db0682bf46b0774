/*
 * pg_admin.c - the PostgreSQL backend's backup (pg_dump, wrapped) and check
 * (the schema version, the constraints).  See store_admin.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errmsg.h"
#include "pg.h"

extern char **environ;

char *pg_redact(const char *uri)
{
	char *copy = strdup(uri);
	if (copy == NULL)
		return NULL;
	/* scheme://user:password@host... : the password is between the first ':' and the '@'. */
	char *scheme = strstr(copy, "://");
	char *auth = scheme ? scheme + 3 : NULL;
	char *at = auth ? strchr(auth, '@') : NULL;
	char *slash = auth ? strchr(auth, '/') : NULL;
	if (at != NULL && (slash == NULL || at < slash)) {
		char *colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon != NULL) {
			char *out = errmsg_fmt("%.*s***%s", (int)(colon + 1 - copy), copy, at);
			free(copy);
			copy = out;
		}
	}
	/* password=... in the query part too. */
	char *pw = copy ? strstr(copy, "password=") : NULL;
	if (pw != NULL) {
		char *end = pw + 9 + strcspn(pw + 9, "&");
		char *out = errmsg_fmt("%.*s***%s", (int)(pw + 9 - copy), copy, end);
		free(copy);
		copy = out;
	}
	return copy;
}

/* fsync a file by name (the finished dump, then its folder for the rename). */
static bool sync_path(const char *path, int flags)
{
	int fd = open(path, flags);
	if (fd < 0)
		return false;
	bool ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

/*
 * pg_dump --format=custom into OUT.partial, synced and renamed to OUT:
 * one consistent snapshot (pg_dump takes it in one transaction) that
 * pg_restore puts back.
 */
bool pg_backup(const char *uri, const char *out_path, char **err)
{
	char *tmp = errmsg_fmt("%s.partial", out_path);
	if (tmp == NULL) {
		*err = errmsg_fmt("out of memory");
		return false;
	}
	char *const argv[] = {"pg_dump", "--format=custom", "--no-owner", "--file",
	                      tmp,       "--dbname",        (char *)uri,  NULL};
	pid_t pid;
	int rc = posix_spawnp(&pid, "pg_dump", NULL, NULL, argv, environ);
	if (rc != 0) {
		*err = errmsg_fmt("cannot run pg_dump (%s): install PostgreSQL's client (Debian: "
		                  "postgresql-client) or run pg_dump --format=custom yourself",
		                  strerror(rc));
		free(tmp);
		return false;
	}
	int wst = 0;
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0) {
		*err = errmsg_fmt("pg_dump failed (exit status %d); its message is above",
		                  WIFEXITED(wst) ? WEXITSTATUS(wst) : -1);
		unlink(tmp);
		free(tmp);
		return false;
	}
	char *dir = strdup(out_path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (slash != NULL)
		*slash = '\0';
	bool ok = sync_path(tmp, O_RDONLY) && rename(tmp, out_path) == 0 &&
	          (dir == NULL || sync_path(slash ? dir : ".", O_RDONLY | O_DIRECTORY));
	if (!ok) {
		*err = errmsg_fmt("%s: %s", out_path, strerror(errno));
		unlink(tmp);
	}
	free(dir);
	free(tmp);
	return ok;
}

/* Constraints PostgreSQL does not enforce yet (NOT VALID), by table. */
static const char SQL_UNVALIDATED[] =
        "SELECT conrelid::regclass::text, conname FROM pg_constraint "
        "WHERE NOT convalidated AND connamespace = 'public'::regnamespace";

long pg_check(const char *uri, store_check_report_fn report, void *arg, char **err)
{
	struct store_options opts = {.check_only = true};
	struct store *s = store_open(uri, &opts, err);
	if (s == NULL)
		return -1;
	long problems = 0;
	char line[512];
	if (store_schema_version(s) != store_known_version()) {
		char *safe = pg_redact(uri);
		*err = errmsg_fmt("%s: database schema version %d, this tagd knows %d (any other "
		                  "command migrates it)",
		                  safe ? safe : "the database", store_schema_version(s),
		                  store_known_version());
		free(safe);
		store_close(&s);
		return -1;
	}

	/* What PostgreSQL leaves unenforced. */
	PGconn *pg = pg_handle(s->wconn);
	PGresult *res = PQexec(pg, SQL_UNVALIDATED);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		*err = errmsg_fmt("cannot read the constraints: %s", PQerrorMessage(pg));
		PQclear(res);
		store_close(&s);
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		snprintf(line, sizeof(line), "constraint %s of %s is not validated",
		         PQgetvalue(res, i, 1), PQgetvalue(res, i, 0));
		report(arg, line);
		problems++;
	}
	PQclear(res);

	store_close(&s);
	return problems;
}
