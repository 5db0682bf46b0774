/*
 * pg_open.c - the PostgreSQL backend's connections (tagd's session settings
 * on each) and its migrations, applied under an advisory lock.  See pg.h.
 *
 * Every connection is made with synchronous_commit = on (a write is answered
 * only once PostgreSQL has flushed its commit) and statement_timeout =
 * db_timeout, so no request waits longer than that on the database.  A
 * connection that breaks (the server restarting, failing over) makes its
 * statements fail with STORE_UNAVAILABLE; the store replaces it (see
 * store.c's readers and the writer) once the server answers again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "log.h"
#include "migrations.h"
#include "pg.h"

/* The advisory lock the migrations run under: org ids (chain locks) are positive. */
#define MIGRATION_LOCK "-7262000001"

void pg_disconnect(struct store_conn *base)
{
	struct pg_conn *c = conn_of(base);
	if (c == NULL)
		return;
	for (size_t i = 0; i < STORE_STMT_SLOTS; i++) {
		if (c->stmt[i] != NULL)
			PQclear(c->stmt[i]->res);
		free(c->stmt[i]);
	}
	PQfinish(c->pg);
	free(c);
}

/* Why a connection could not be made, on one line. */
static char *connect_error(const char *uri, PGconn *pg)
{
	char *why = errmsg_fmt("%s", pg ? PQerrorMessage(pg) : "out of memory");
	for (char *p = why; p != NULL && *p != '\0'; p++)
		if (*p == '\n')
			*p = *(p + 1) != '\0' ? ' ' : '\0';
	char *safe = pg_redact(uri);
	char *msg = errmsg_fmt("%s: cannot connect to PostgreSQL: %s", safe ? safe : "?",
	                       why ? why : "out of memory");
	free(safe);
	free(why);
	return msg;
}

PGconn *pg_connect(struct store *s, char **err)
{
	/* The URI as given, plus what tagd needs of every connection (later keys win). */
	char timeout[16];
	snprintf(timeout, sizeof(timeout), "%u", s->opts.db_timeout_s ? s->opts.db_timeout_s : 5);
	const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char *vals[] = {s->path, timeout, "tagd", NULL};
	PGconn *pg = PQconnectdbParams(keys, vals, 1);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		if (err)
			*err = connect_error(s->path, pg);
		PQfinish(pg);
		return NULL;
	}
	return pg;
}

/* What every session of tagd's runs with (see the top of this file). */
static enum store_status session_setup(struct pg_conn *c)
{
	unsigned t = c->base.store->opts.db_timeout_s ? c->base.store->opts.db_timeout_s : 5;
	char set[256];
	snprintf(set, sizeof(set),
	         "SET synchronous_commit = on; SET statement_timeout = '%us'; "
	         "SET idle_in_transaction_session_timeout = '%us'",
	         t, 4 * t);
	return pg_exec(c, set);
}

struct store_conn *pg_open_connection(struct store *s, bool writer, char **err)
{
	struct pg_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		if (err)
			*err = errmsg_fmt("out of memory");
		return NULL;
	}
	c->base.be = store_pg_backend();
	c->base.store = s;
	c->base.writer = writer;

	c->pg = pg_connect(s, err);
	if (c->pg == NULL) {
		pg_disconnect(&c->base);
		return NULL;
	}
	/* The server's statement_timeout answers first; this is for a server that cannot. */
	c->wait_ms = (s->opts.db_timeout_s ? s->opts.db_timeout_s : 5) * 1000 + 1000;
	if (session_setup(c) != STORE_OK) {
		if (err)
			*err = errmsg_fmt("cannot set up the PostgreSQL session: %s", c->err);
		pg_disconnect(&c->base);
		return NULL;
	}
	return &c->base;
}

bool pg_healthy(struct store_conn *c)
{
	return !conn_of(c)->broken && PQstatus(conn_of(c)->pg) == CONNECTION_OK;
}

/* ---- migrations ---- */

/* A one-value query's answer as an integer; false and *err when it fails. */
static bool one_value(struct pg_conn *c, const char *sql, bool *null, long long *v, char **err)
{
	PGresult *res = PQexec(c->pg, sql);
	bool ok = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	if (ok) {
		*null = PQgetisnull(res, 0, 0);
		*v = *null ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	} else {
		pg_note_failure(c, res);
		*err = errmsg_fmt("cannot read the schema version: %s", c->err);
	}
	PQclear(res);
	return ok;
}

/* max(version) of schema_migrations, 0 when the table does not exist yet. */
static bool current_version(struct pg_conn *c, int *version, char **err)
{
	bool null;
	long long v;
	*version = 0;
	if (!one_value(c, "SELECT to_regclass('schema_migrations')::oid", &null, &v, err))
		return false;
	if (null)
		return true;
	if (!one_value(c, "SELECT max(version) FROM schema_migrations", &null, &v, err))
		return false;
	*version = (int)v;
	return true;
}

/*
 * Apply every migration newer than the database, each in its own
 * transaction, under a session advisory lock: N nodes starting at once on an
 * empty database migrate it once, the others wait and find it done.
 */
static bool migrate(struct store *s, struct pg_conn *c, char **err)
{
	int current = 0, known = store_known_version();
	char *safe = pg_redact(s->path);
	bool ok = false;

	if (pg_migrations_count == 0 || pg_migrations[pg_migrations_count - 1].version != known) {
		*err = errmsg_fmt("this tagd has no PostgreSQL schema for version %d", known);
		goto out;
	}
	if (s->opts.check_only) {
		if (!current_version(c, &current, err))
			goto out;
		s->schema_version = current;
		if (current > known)
			*err = errmsg_fmt(
			        "%s: database schema version %d was written by a newer tagd "
			        "(this one knows up to %d)",
			        safe, current, known);
		ok = current <= known;
		goto out;
	}
	/* A migration may take longer than a request may. */
	unsigned wait_ms = c->wait_ms;
	c->wait_ms = 0;
	pg_exec(c, "SET statement_timeout = 0");
	if (pg_exec(c, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")") != STORE_OK) {
		*err = errmsg_fmt("%s: cannot take the migration lock: %s", safe, c->err);
		goto out;
	}
	if (!current_version(c, &current, err))
		goto unlock;
	if (current > known) {
		*err = errmsg_fmt("%s: database schema version %d was written by a newer tagd "
		                  "(this one knows up to %d); refusing to open it",
		                  safe, current, known);
		goto unlock;
	}
	s->schema_version = current;
	for (size_t i = 0; i < pg_migrations_count; i++) {
		const struct migration *m = &pg_migrations[i];
		if (m->version <= current)
			continue;
		char record[200];
		snprintf(record, sizeof(record),
		         "INSERT INTO schema_migrations(version, name, applied_at) "
		         "VALUES (%d, '%s', extract(epoch FROM now())::bigint)",
		         m->version, m->name);
		if (pg_exec(c, "BEGIN") != STORE_OK || pg_exec(c, m->sql) != STORE_OK ||
		    pg_exec(c, record) != STORE_OK || pg_exec(c, "COMMIT") != STORE_OK) {
			*err = errmsg_fmt("%s: migration %04d_%s failed: %s", safe, m->version,
			                  m->name, c->err);
			pg_exec(c, "ROLLBACK");
			goto unlock;
		}
		s->schema_version = m->version;
	}
	if (s->schema_version != current)
		log_msg(LOG_INFO, "database migrated", "from=%d to=%d", current, s->schema_version);
	ok = true;
unlock:
	pg_exec(c, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")");
	c->wait_ms = wait_ms;
	session_setup(c);
out:
	free(safe);
	return ok;
}

bool pg_open_store(struct store *s, char **err)
{
	if (!s->opts.check_only && !pg_listen_init(s)) {
		*err = errmsg_fmt("out of memory");
		return false;
	}
	s->wconn = pg_open_connection(s, true, err);
	if (s->wconn != NULL && migrate(s, conn_of(s->wconn), err))
		return true;
	pg_listen_stop(s); /* nothing started yet: its memory */
	return false;
}

void pg_closing(struct store *s)
{
	pg_listen_stop(s);
}
