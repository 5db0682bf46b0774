/*
 * store.c - the store's life: choosing the backend a path names, opening
 * (the backend readies the database), the readers' pool, closing.  The
 * statement helpers are in store_stmt.c, the writer in store_writer.c, the
 * engines under sqlite/ and pg/.  See store.h and store_internal.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errmsg.h"
#include "log.h"
#include "migrations.h"
#include "store_internal.h"

#define DEFAULT_MAX_BATCH    256
#define DEFAULT_BUSY_TIMEOUT 5000

const char *store_status_str(enum store_status st)
{
	switch (st) {
	case STORE_OK:
		return "ok";
	case STORE_NOT_FOUND:
		return "not found";
	case STORE_REPO_NOT_FOUND:
		return "repository not found";
	case STORE_TAG_NOT_FOUND:
		return "tag not found";
	case STORE_COMMIT_NOT_FOUND:
		return "commit not found";
	case STORE_ORG_NOT_FOUND:
		return "organization not found";
	case STORE_FORBIDDEN:
		return "forbidden";
	case STORE_CONFLICT:
		return "already exists";
	case STORE_INVALID:
		return "invalid";
	case STORE_FULL:
		return "database or disk is full";
	case STORE_READONLY:
		return "database is read-only";
	case STORE_CORRUPT:
		return "database is corrupt";
	case STORE_NOMEM:
		return "out of memory";
	case STORE_PRECONDITION:
		return "precondition failed";
	case STORE_REFUSED:
		return "refused by a protection rule";
	case STORE_UNAVAILABLE:
		return "database unavailable";
	case STORE_RETRY:
		return "conflict between concurrent transactions";
	case STORE_ERROR:
		break;
	}
	return "database error";
}

/* ---- backends ---- */

bool store_path_is_uri(const char *path)
{
	return strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0;
}

/* The backend a database path names: a libpq URI is PostgreSQL, anything else a file. */
static const struct store_backend *backend_of(const char *path)
{
	return store_path_is_uri(path) ? store_pg_backend() : &store_sqlite_backend;
}

/* ---- readers ---- */

/*
 * Each thread keeps the last reader it released for the next request, so the
 * common path takes no lock: a mutex on a shared pool showed up as futex
 * waits in a GET's profile.  A nested borrow (the thread's reader is busy)
 * falls back to the pool.  A read scope (store_read_scope_begin) pins one
 * reader in a read transaction until the scope ends.
 */
static _Thread_local struct {
	uint64_t store_id;
	struct store_conn *conn;
	uint64_t scope_store_id;       /* 0: no scope open */
	struct store_conn *scope_conn; /* the scope's reader once a read took it */
} thread_reader;

static _Atomic uint64_t next_store_id = 1;

/* ---- connecting, and reconnecting after the database went away ---- */

#define BACKOFF_MIN_US (100 * 1000)
#define BACKOFF_MAX_US (2 * 1000 * 1000)

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct store_conn *store_connect(struct store *s, bool writer)
{
	/*
	 * After a failed attempt nobody tries again before the backoff has
	 * passed (it doubles, up to 2 s): while the database is down requests
	 * fail at once instead of each waiting out a connect timeout.
	 */
	uint64_t now = now_us();
	if (now < atomic_load(&s->down_until_us))
		return NULL;
	char *err = NULL;
	struct store_conn *c = s->be->connect(s, writer, &err);
	if (c == NULL) {
		uint64_t backoff = atomic_load(&s->backoff_us);
		backoff = backoff == 0 ? BACKOFF_MIN_US : backoff * 2;
		if (backoff > BACKOFF_MAX_US)
			backoff = BACKOFF_MAX_US;
		atomic_store(&s->backoff_us, backoff);
		atomic_store(&s->down_until_us, now_us() + backoff);
		/* One line per outage, not one per request. */
		if (!atomic_exchange(&s->down, true))
			log_msg(LOG_ERROR, "database unavailable", "error=\"%s\"",
			        err ? err : "out of memory");
		free(err);
		return NULL;
	}
	atomic_store(&s->backoff_us, 0);
	if (atomic_exchange(&s->down, false))
		log_msg(LOG_INFO, "database available again", NULL);
	return c;
}

/* Forget reader c (broken): off the lists, closed. */
static void reader_drop(struct store *s, struct store_conn *c)
{
	pthread_mutex_lock(&s->pool_lock);
	s->nreaders--;
	pthread_cond_signal(&s->pool_cond);
	for (struct store_conn **p = &s->all; *p != NULL; p = &(*p)->next_all) {
		if (*p == c) {
			*p = c->next_all;
			break;
		}
	}
	pthread_mutex_unlock(&s->pool_lock);
	if (thread_reader.store_id == s->id && thread_reader.conn == c)
		thread_reader.conn = NULL;
	s->be->disconnect(c);
}

/*
 * Room for one more reader: true with *c NULL (the caller opens one, counted
 * already) or with *c an idle reader that came back meanwhile; false after
 * db_timeout without either (PostgreSQL's connections are bounded:
 * pool_size, the writer's and the listener's included).  SQLite's are not bounded.
 */
static unsigned reader_cap(const struct store *s)
{
	/* The writer's connection, and the token epoch listener's on PostgreSQL, count too. */
	unsigned others = s->pg_listen != NULL ? 2 : 1;
	return s->opts.pool_size > others ? s->opts.pool_size - others : 1;
}

static bool reader_slot(struct store *s, struct store_conn **c)
{
	unsigned cap = reader_cap(s);
	bool bounded = s->be != &store_sqlite_backend; /* see store_reader_release */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += s->opts.db_timeout_s ? s->opts.db_timeout_s : 5;
	*c = NULL;
	pthread_mutex_lock(&s->pool_lock);
	while (bounded && s->nreaders >= cap && s->pool == NULL)
		if (pthread_cond_timedwait(&s->pool_cond, &s->pool_lock, &until) != 0)
			break;
	bool ok = true;
	if (s->pool != NULL) {
		*c = s->pool;
		s->pool = (*c)->next_free;
	} else if (!bounded || s->nreaders < cap) {
		s->nreaders++;
	} else {
		ok = false;
	}
	pthread_mutex_unlock(&s->pool_lock);
	if (!ok)
		log_msg(LOG_WARN, "no database connection free", "db_pool_size=%u",
		        s->opts.pool_size);
	return ok;
}

struct store_conn *store_connect_own(struct store *s)
{
	bool bounded = s->be != &store_sqlite_backend;
	if (bounded) {
		/*
		 * Requests keep at least one reader: with the smallest pool there is
		 * no room.  Idle readers stay open, so one may have to give way.
		 */
		unsigned cap = reader_cap(s);
		struct store_conn *idle = NULL;
		pthread_mutex_lock(&s->pool_lock);
		bool room = cap >= 2 && s->nreaders < cap;
		if (room) {
			s->nreaders++;
		} else if (cap >= 2 && s->pool != NULL) {
			idle = s->pool;
			s->pool = idle->next_free;
		}
		pthread_mutex_unlock(&s->pool_lock);
		if (idle != NULL) {
			reader_drop(s, idle);
			pthread_mutex_lock(&s->pool_lock);
			room = s->nreaders < cap;
			if (room)
				s->nreaders++;
			pthread_mutex_unlock(&s->pool_lock);
		}
		if (!room)
			return NULL;
	}
	struct store_conn *c = store_connect(s, false);
	if (c == NULL && bounded) {
		pthread_mutex_lock(&s->pool_lock);
		s->nreaders--;
		pthread_cond_signal(&s->pool_cond);
		pthread_mutex_unlock(&s->pool_lock);
	}
	return c;
}

void store_disconnect_own(struct store *s, struct store_conn *c)
{
	if (c == NULL)
		return;
	c->be->disconnect(c);
	if (s->be != &store_sqlite_backend) {
		pthread_mutex_lock(&s->pool_lock);
		s->nreaders--;
		pthread_cond_signal(&s->pool_cond);
		pthread_mutex_unlock(&s->pool_lock);
	}
}

/* A reader no one uses: the thread's own when idle, else one from the pool or a new one. */
static struct store_conn *reader_take(struct store *s)
{
	struct store_conn *c = NULL;

	if (thread_reader.store_id == s->id && thread_reader.conn != NULL &&
	    !thread_reader.conn->in_use) {
		c = thread_reader.conn;
		if (s->be->healthy(c))
			return c;
		reader_drop(s, c);
		c = NULL;
	}
	pthread_mutex_lock(&s->pool_lock);
	c = s->pool;
	if (c != NULL)
		s->pool = c->next_free;
	pthread_mutex_unlock(&s->pool_lock);
	if (c != NULL && !s->be->healthy(c)) {
		reader_drop(s, c);
		c = NULL;
	}
	if (c == NULL && !reader_slot(s, &c))
		return NULL;
	if (c == NULL) {
		c = store_connect(s, false);
		pthread_mutex_lock(&s->pool_lock);
		if (c != NULL) {
			c->next_all = s->all;
			s->all = c;
		} else {
			s->nreaders--;
			pthread_cond_signal(&s->pool_cond);
		}
		pthread_mutex_unlock(&s->pool_lock);
		if (c == NULL)
			return NULL;
	}
	return c;
}

/* Give back a reader with no transaction open: it becomes the thread's, or goes to the pool. */
static void reader_give(struct store *s, struct store_conn *c)
{
	c->in_use = false;
	if (thread_reader.store_id == s->id && thread_reader.conn == c)
		return;
	/*
	 * A thread keeps its SQLite reader for its next request.  PostgreSQL's
	 * connections are few (db_pool_size): an idle thread must not sit on
	 * one while another waits, so they all go back to the pool.
	 */
	bool bounded = s->be != &store_sqlite_backend;
	if (!bounded && (thread_reader.store_id != s->id || thread_reader.conn == NULL)) {
		thread_reader.store_id = s->id;
		thread_reader.conn = c;
		return;
	}
	pthread_mutex_lock(&s->pool_lock);
	c->next_free = s->pool;
	s->pool = c;
	pthread_cond_signal(&s->pool_cond);
	pthread_mutex_unlock(&s->pool_lock);
}

struct store_conn *store_reader(struct store *s)
{
	bool scoped = thread_reader.scope_store_id == s->id;

	if (scoped && thread_reader.scope_conn != NULL) {
		if (!thread_reader.scope_conn->in_use) {
			thread_reader.scope_conn->in_use = true;
			return thread_reader.scope_conn;
		}
		scoped = false; /* a nested read: a snapshot of its own */
	}
	struct store_conn *c = reader_take(s);
	if (c == NULL)
		return NULL;
	c->in_use = true;
	/* The scope's first read opens its transaction; without one, reads still work. */
	if (scoped && store_read_begin(c) == STORE_OK)
		thread_reader.scope_conn = c;
	return c;
}

void store_reader_release(struct store *s, struct store_conn *c)
{
	if (c == NULL)
		return;
	if (c == thread_reader.scope_conn) {
		c->in_use = false; /* the transaction stays open until the scope ends */
		return;
	}
	store_read_end(c);
	reader_give(s, c);
}

void store_read_scope_begin(struct store *s)
{
	if (!s->be->read_scopes)
		return; /* each read on its own (see struct store_backend) */
	thread_reader.scope_store_id = s->id;
	thread_reader.scope_conn = NULL;
}

void store_read_scope_end(struct store *s)
{
	struct store_conn *c = thread_reader.scope_conn;

	thread_reader.scope_store_id = 0;
	thread_reader.scope_conn = NULL;
	if (c == NULL)
		return;
	store_read_end(c);
	reader_give(s, c);
}

/* ---- versions ---- */

int store_known_version(void)
{
	return sqlite_migrations[sqlite_migrations_count - 1].version;
}

int store_schema_version(struct store *s)
{
	return s->schema_version;
}

const char *store_engine(struct store *s)
{
	return s->be->name;
}

const char *store_engine_version(struct store *s)
{
	return s->be->version();
}

/* ---- open and close ---- */

static void store_free(struct store *s)
{
	while (s->all != NULL) {
		struct store_conn *c = s->all;
		s->all = c->next_all;
		s->be->disconnect(c);
	}
	s->pool = NULL;
	if (s->wconn != NULL)
		s->be->disconnect(s->wconn);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_cond_destroy(&s->pool_cond);
	pthread_mutex_destroy(&s->queue_lock);
	pthread_cond_destroy(&s->queue_cond);
	pthread_mutex_destroy(&s->touch_lock);
	free(s->path);
	free(s);
}

static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT, pg_once = PTHREAD_ONCE_INIT;

static void sqlite_init(void)
{
	store_sqlite_backend.global_init();
}

static void pg_init(void)
{
	store_pg_backend()->global_init();
}

struct store *store_open(const char *path, const struct store_options *opts, char **err)
{
	char *dummy = NULL;
	if (err == NULL)
		err = &dummy;
	*err = NULL;

	const struct store_backend *be = backend_of(path);
	if (be == NULL) {
		*err = errmsg_fmt("this tagd was built without PostgreSQL: %s needs it", path);
		return NULL;
	}
	pthread_once(be == &store_sqlite_backend ? &sqlite_once : &pg_once,
	             be == &store_sqlite_backend ? sqlite_init : pg_init);
	struct store *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		*err = errmsg_fmt("out of memory");
		return NULL;
	}
	s->be = be;
	if (opts != NULL)
		s->opts = *opts;
	if (s->opts.max_batch == 0)
		s->opts.max_batch = DEFAULT_MAX_BATCH;
	if (s->opts.busy_timeout_ms == 0)
		s->opts.busy_timeout_ms = DEFAULT_BUSY_TIMEOUT;
	if (s->opts.pool_size == 0)
		s->opts.pool_size = 8;
	if (s->opts.db_timeout_s == 0)
		s->opts.db_timeout_s = 5;
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_cond_init(&s->pool_cond, NULL);
	s->id = atomic_fetch_add(&next_store_id, 1);
	pthread_mutex_init(&s->queue_lock, NULL);
	pthread_cond_init(&s->queue_cond, NULL);
	pthread_mutex_init(&s->touch_lock, NULL);

	if (!be->open(s, err))
		goto fail;
	if (pthread_create(&s->writer, NULL, store_writer_main, s) != 0) {
		*err = errmsg_fmt("cannot start the writer thread: %s", strerror(errno));
		goto fail;
	}
	s->writer_started = true;
	free(dummy);
	return s;

fail:
	if (*err == NULL)
		*err = errmsg_fmt("%s: cannot open database", path);
	if (err == &dummy)
		free(dummy);
	store_free(s);
	return NULL;
}

void store_close(struct store **sp)
{
	struct store *s = *sp;
	if (s == NULL)
		return;
	if (s->writer_started) {
		pthread_mutex_lock(&s->queue_lock);
		s->stopping = true;
		pthread_cond_signal(&s->queue_cond);
		pthread_mutex_unlock(&s->queue_lock);
		pthread_join(s->writer, NULL);
	}
	s->be->closing(s);
	store_free(s);
	*sp = NULL;
}
