/* Unit tests: store.c - migrations, refusals, the group-committing writer. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrations.h"
#include "store.h"
#include "sqlite.h"
#include "store_internal.h"
#include "store_org.h"
#include "store_vers.h"
#include "testutil.h"

/* ---- helpers ---- */

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int64_t count_repos(const char *path, const char *name)
{
	sqlite3 *db = raw_open(path);
	sqlite3_stmt *st = NULL;
	ck_assert_int_eq(
	        sqlite3_prepare_v2(db, "SELECT count(*) FROM repos WHERE name = ?1", -1, &st, NULL),
	        SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* ---- migrations ---- */

START_TEST(migrations_recorded)
{
	char *path;
	struct store *s = tu_store(&path);
	ck_assert_uint_gt(sqlite_migrations_count, 0);
	ck_assert_int_eq(store_known_version(),
	                 sqlite_migrations[sqlite_migrations_count - 1].version);
	ck_assert_int_eq(store_schema_version(s), store_known_version());
	store_close(&s);
	ck_assert_ptr_null(s);

	sqlite3 *db = raw_open(path);
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), store_known_version());
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM schema_migrations"),
	                 (int64_t)sqlite_migrations_count);
	for (size_t i = 0; i < sqlite_migrations_count; i++) {
		char sql[128];
		snprintf(
		        sql, sizeof(sql),
		        "SELECT count(*) FROM schema_migrations WHERE version = %d AND name = '%s' "
		        "AND applied_at > 1700000000",
		        sqlite_migrations[i].version, sqlite_migrations[i].name);
		ck_assert_msg(raw_int(db, sql) == 1, "migration %d not recorded",
		              sqlite_migrations[i].version);
	}
	/* Versions are strictly increasing. */
	for (size_t i = 1; i < sqlite_migrations_count; i++)
		ck_assert_int_gt(sqlite_migrations[i].version, sqlite_migrations[i - 1].version);
	int64_t applied = raw_int(db, "SELECT sum(applied_at) FROM schema_migrations");
	/* WAL mode is a property of the file. */
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);

	/* Reopening applies nothing. */
	char *err = NULL;
	s = store_open(path, NULL, &err);
	ck_assert_msg(s != NULL, "%s", err ? err : "");
	ck_assert_int_eq(store_schema_version(s), store_known_version());
	store_close(&s);
	db = raw_open(path);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM schema_migrations"),
	                 (int64_t)sqlite_migrations_count);
	ck_assert_int_eq(raw_int(db, "SELECT sum(applied_at) FROM schema_migrations"), applied);
	sqlite3_close(db);

	s = store_open(path, NULL, NULL);
	tu_store_done(&s, path);
}
END_TEST

START_TEST(newer_database_refused)
{
	char *path = tu_db_path();
	sqlite3 *db = raw_open(path);
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", store_known_version() + 1);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	char *err = NULL;
	struct store *s = store_open(path, NULL, &err);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(err);
	char want[64];
	snprintf(want, sizeof(want), "version %d", store_known_version() + 1);
	ck_assert_msg(strstr(err, "newer tagd") != NULL, "%s", err);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	ck_assert_msg(strstr(err, path) != NULL, "%s", err);
	ck_assert_ptr_null(strchr(err, '\n'));
	free(err);
	/* Nothing was applied to it. */
	db = raw_open(path);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM sqlite_master"), 0);
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), store_known_version() + 1);
	sqlite3_close(db);
	/* err may be NULL. */
	ck_assert_ptr_null(store_open(path, NULL, NULL));
	unlink(path);
	free(path);
}
END_TEST

START_TEST(not_a_database_refused)
{
	char *path = tu_db_path();
	char text[8192];
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "hello, this is not a database\n", 30);
	write_file(path, text);

	char *err = NULL;
	struct store *s = store_open(path, NULL, &err);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, path) != NULL, "%s", err);
	ck_assert_msg(strstr(err, "not a database") != NULL, "%s", err);
	free(err);
	/* The file is untouched. */
	FILE *f = fopen(path, "r");
	char back[8192];
	ck_assert_uint_eq(fread(back, 1, sizeof(back), f), sizeof(text) - 1);
	fclose(f);
	ck_assert(memcmp(back, text, sizeof(text) - 1) == 0);
	unlink(path);
	free(path);

	/* A missing directory is refused too. */
	s = store_open("/nonexistent-tagd-dir/x.db", NULL, &err);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent-tagd-dir/x.db"));
	free(err);
}
END_TEST

struct opener {
	const char *path;
	pthread_barrier_t *barrier;
	struct store *s;
	char *err;
};

static void *open_thread(void *arg)
{
	struct opener *o = arg;
	pthread_barrier_wait(o->barrier);
	o->s = store_open(o->path, NULL, &o->err);
	return NULL;
}

/* Two processes starting on a new file at once (tagd serve and the CLI) must both succeed. */
START_TEST(concurrent_first_open)
{
	enum { N = 4 };
	for (int round = 0; round < 5; round++) {
		char *path = tu_db_path();
		pthread_barrier_t barrier;
		pthread_t th[N];
		struct opener o[N];
		pthread_barrier_init(&barrier, NULL, N);
		for (int i = 0; i < N; i++) {
			o[i] = (struct opener){.path = path, .barrier = &barrier};
			pthread_create(&th[i], NULL, open_thread, &o[i]);
		}
		for (int i = 0; i < N; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&barrier);
		for (int i = 0; i < N; i++) {
			ck_assert_msg(o[i].s != NULL, "open %d failed: %s", i,
			              o[i].err ? o[i].err : "?");
			ck_assert_int_eq(store_schema_version(o[i].s), store_known_version());
		}
		for (int i = 1; i < N; i++)
			store_close(&o[i].s);
		sqlite3 *db = raw_open(path);
		ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM schema_migrations"),
		                 (int64_t)sqlite_migrations_count);
		sqlite3_close(db);
		tu_store_done(&o[0].s, path);
	}
}
END_TEST

START_TEST(status_mapping)
{
	ck_assert_int_eq(sqlite_status(SQLITE_OK), STORE_OK);
	ck_assert_int_eq(sqlite_status(SQLITE_DONE), STORE_OK);
	ck_assert_int_eq(sqlite_status(SQLITE_CONSTRAINT_UNIQUE), STORE_CONFLICT);
	ck_assert_int_eq(sqlite_status(SQLITE_CONSTRAINT_PRIMARYKEY), STORE_CONFLICT);
	/* A broken reference or a NULL is not "already exists". */
	ck_assert_int_ne(sqlite_status(SQLITE_CONSTRAINT_FOREIGNKEY), STORE_CONFLICT);
	ck_assert_int_ne(sqlite_status(SQLITE_CONSTRAINT_NOTNULL), STORE_CONFLICT);
	ck_assert_int_eq(sqlite_status(SQLITE_FULL), STORE_FULL);
	ck_assert_int_eq(sqlite_status(SQLITE_READONLY), STORE_READONLY);
	ck_assert_int_eq(sqlite_status(SQLITE_NOTADB), STORE_CORRUPT);
	ck_assert_int_eq(sqlite_status(SQLITE_NOMEM), STORE_NOMEM);
	ck_assert_int_eq(sqlite_status(SQLITE_IOERR_WRITE), STORE_FULL);
	ck_assert_int_eq(sqlite_status(SQLITE_MISUSE), STORE_ERROR);
	for (int st = STORE_OK; st <= STORE_ERROR; st++)
		ck_assert_ptr_nonnull(store_status_str((enum store_status)st));
}
END_TEST

/* ---- the writer ---- */

/*
 * A gate: an operation whose run() blocks the writer until opened, so that
 * everything submitted meanwhile is queued and lands in one batch.
 */
struct gate {
	struct store_op op;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool entered;
	bool open;
};

static enum store_status gate_run(struct store_conn *c, struct store_op *op)
{
	struct gate *g = (struct gate *)op;
	pthread_mutex_lock(&g->lock);
	g->entered = true;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
	return STORE_OK;
}

/* Collects done() calls. */
struct tally {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned done;
};

static struct tally tally = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void count_done(struct store_op *op)
{
	pthread_mutex_lock(&tally.lock);
	tally.done++;
	pthread_cond_broadcast(&tally.cond);
	pthread_mutex_unlock(&tally.lock);
}

static void wait_done(unsigned n)
{
	pthread_mutex_lock(&tally.lock);
	while (tally.done < n)
		pthread_cond_wait(&tally.cond, &tally.lock);
	pthread_mutex_unlock(&tally.lock);
}

static void gate_close(struct store *s, struct gate *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->op.run = gate_run;
	g->op.done = count_done;
	store_submit(s, &g->op);
	pthread_mutex_lock(&g->lock);
	while (!g->entered)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

enum { THREADS = 4, PER_THREAD = 25 };

struct submitter {
	struct store *s;
	int64_t org_id;
	int index;
	char names[PER_THREAD][32];
	struct vers_repo_create_op ops[PER_THREAD];
};

static void *submit_thread(void *arg)
{
	struct submitter *t = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		/* Op 0 of every thread uses the same name; op 1 of thread 1 and 2 share another. */
		if (i == 0)
			snprintf(t->names[i], sizeof(t->names[i]), "shared");
		else if (i == 1 && (t->index == 1 || t->index == 2))
			snprintf(t->names[i], sizeof(t->names[i]), "pair");
		else
			snprintf(t->names[i], sizeof(t->names[i]), "t%d-r%d", t->index, i);
		vers_repo_create_op_init(&t->ops[i]);
		t->ops[i].org_id = t->org_id;
		t->ops[i].name = t->names[i];
		t->ops[i].op.done = count_done;
		store_submit(t->s, &t->ops[i].op);
	}
	return NULL;
}

START_TEST(group_commit)
{
	char *path;
	struct store *s = tu_store(&path);
	int64_t org = tu_org(s, "acme", NULL, NULL);
	uint64_t b0, o0, b1, o1;
	store_write_stats(s, &b0, &o0);
	tally.done = 0;

	struct gate g;
	gate_close(s, &g);
	static struct submitter subs[THREADS];
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		subs[i] = (struct submitter){.s = s, .org_id = org, .index = i};
		pthread_create(&th[i], NULL, submit_thread, &subs[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	gate_open(&g);
	wait_done(1 + THREADS * PER_THREAD);

	store_write_stats(s, &b1, &o1);
	ck_assert_uint_eq(o1 - o0, 1 + THREADS * PER_THREAD);
	/* The gate's batch, then everything queued behind it in one. */
	ck_assert_uint_eq(b1 - b0, 2);
	ck_assert_int_eq(g.op.status, STORE_OK);

	int shared_ok = 0, pair_ok = 0;
	for (int t = 0; t < THREADS; t++) {
		for (int i = 0; i < PER_THREAD; i++) {
			struct vers_repo_create_op *op = &subs[t].ops[i];
			const char *name = subs[t].names[i];
			if (strcmp(name, "shared") == 0) {
				ck_assert(op->op.status == STORE_OK ||
				          op->op.status == STORE_CONFLICT);
				shared_ok += op->op.status == STORE_OK;
			} else if (strcmp(name, "pair") == 0) {
				ck_assert(op->op.status == STORE_OK ||
				          op->op.status == STORE_CONFLICT);
				pair_ok += op->op.status == STORE_OK;
			} else {
				ck_assert_msg(op->op.status == STORE_OK, "%s: %s", name,
				              store_status_str(op->op.status));
				ck_assert_int_eq(count_repos(path, name), 1);
			}
		}
	}
	ck_assert_int_eq(shared_ok, 1);
	ck_assert_int_eq(pair_ok, 1);
	ck_assert_int_eq(count_repos(path, "shared"), 1);
	ck_assert_int_eq(count_repos(path, "pair"), 1);
	sqlite3 *db = raw_open(path);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM repos"),
	                 THREADS * PER_THREAD - (THREADS - 1) - 1);
	sqlite3_close(db);
	tu_store_done(&s, path);
}
END_TEST

START_TEST(max_batch_one)
{
	char *path = tu_db_path();
	char *err = NULL;
	struct store_options opts = {.max_batch = 1};
	struct store *s = store_open(path, &opts, &err);
	ck_assert_msg(s != NULL, "%s", err ? err : "");
	int64_t org = tu_org(s, "acme", NULL, NULL);
	uint64_t b0, o0, b1, o1;
	store_write_stats(s, &b0, &o0);
	tally.done = 0;

	struct gate g;
	gate_close(s, &g);
	enum { N = 10 };
	struct vers_repo_create_op ops[N];
	char names[N][16];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "r%d", i);
		vers_repo_create_op_init(&ops[i]);
		ops[i].org_id = org;
		ops[i].name = names[i];
		ops[i].op.done = count_done;
		store_submit(s, &ops[i].op);
	}
	gate_open(&g);
	wait_done(N + 1);
	store_write_stats(s, &b1, &o1);
	ck_assert_uint_eq(o1 - o0, N + 1);
	ck_assert_uint_eq(b1 - b0, N + 1);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(ops[i].op.status, STORE_OK);
	tu_store_done(&s, path);
}
END_TEST

/* An op that does its writes and then fails. */
struct failing {
	struct vers_repo_create_op inner;
	enum store_status (*inner_run)(struct store_conn *, struct store_op *);
	enum store_status inner_status;
	enum store_status fail_with;
	bool kill_transaction; /* end the whole transaction as SQLITE_FULL can */
};

static enum store_status failing_run(struct store_conn *c, struct store_op *op)
{
	struct failing *f = (struct failing *)op;
	f->inner_status = f->inner_run(c, op);
	if (f->kill_transaction)
		sqlite3_exec(sqlite_db(c), "ROLLBACK", NULL, NULL, NULL);
	return f->fail_with;
}

static void failing_init(struct failing *f, int64_t org, const char *name,
                         enum store_status fail_with)
{
	memset(f, 0, sizeof(*f));
	vers_repo_create_op_init(&f->inner);
	f->inner_run = f->inner.op.run;
	f->inner.op.run = failing_run;
	f->inner.op.done = count_done;
	f->inner.org_id = org;
	f->inner.name = name;
	f->fail_with = fail_with;
}

static void repo_op(struct vers_repo_create_op *o, int64_t org, const char *name)
{
	vers_repo_create_op_init(o);
	o->org_id = org;
	o->name = name;
	o->op.done = count_done;
}

START_TEST(failed_op_leaves_no_trace)
{
	char *path;
	struct store *s = tu_store(&path);
	int64_t org = tu_org(s, "acme", NULL, NULL);
	tally.done = 0;

	struct gate g;
	struct vers_repo_create_op before, after;
	struct failing f;
	gate_close(s, &g);
	repo_op(&before, org, "before");
	failing_init(&f, org, "failing", STORE_INVALID);
	repo_op(&after, org, "after");
	store_submit(s, &before.op);
	store_submit(s, &f.inner.op);
	store_submit(s, &after.op);
	gate_open(&g);
	wait_done(4);

	ck_assert_int_eq(f.inner_status, STORE_OK); /* it did write... */
	ck_assert_int_eq(f.inner.op.status, STORE_INVALID);
	ck_assert_int_eq(count_repos(path, "failing"), 0); /* ...and nothing remains */
	ck_assert_int_eq(before.op.status, STORE_OK);
	ck_assert_int_eq(after.op.status, STORE_OK);
	ck_assert_int_eq(count_repos(path, "before"), 1);
	ck_assert_int_eq(count_repos(path, "after"), 1);

	/* The failed name is free again. */
	repo_op(&before, org, "failing");
	before.op.done = NULL;
	ck_assert_int_eq(store_execute(s, &before.op), STORE_OK);
	tu_store_done(&s, path);
}
END_TEST

/*
 * SQLite may roll back the whole transaction on SQLITE_FULL or an I/O error.
 * Every op must then report what really happened to its writes.
 */
START_TEST(lost_transaction_reported)
{
	char *path;
	struct store *s = tu_store(&path);
	int64_t org = tu_org(s, "acme", NULL, NULL);
	tally.done = 0;

	struct gate g;
	struct vers_repo_create_op before, after;
	struct failing f;
	gate_close(s, &g);
	repo_op(&before, org, "before");
	failing_init(&f, org, "failing", STORE_FULL);
	f.kill_transaction = true;
	repo_op(&after, org, "after");
	store_submit(s, &before.op);
	store_submit(s, &f.inner.op);
	store_submit(s, &after.op);
	gate_open(&g);
	wait_done(4);

	ck_assert_int_eq(f.inner.op.status, STORE_FULL);
	ck_assert_int_eq(count_repos(path, "failing"), 0);
	/* Each op's status says whether its row exists. */
	ck_assert_int_eq(before.op.status == STORE_OK, count_repos(path, "before") == 1);
	ck_assert_int_eq(after.op.status == STORE_OK, count_repos(path, "after") == 1);
	/* An op after the failure gets its own chance. */
	ck_assert_int_eq(after.op.status, STORE_OK);
	ck_assert_int_ne(before.op.status, STORE_OK);

	/* The writer still works. */
	repo_op(&before, org, "later");
	before.op.done = NULL;
	ck_assert_int_eq(store_execute(s, &before.op), STORE_OK);
	ck_assert_int_eq(count_repos(path, "later"), 1);
	tu_store_done(&s, path);
}
END_TEST

START_TEST(close_runs_queued_ops)
{
	char *path;
	struct store *s = tu_store(&path);
	int64_t org = tu_org(s, "acme", NULL, NULL);
	tally.done = 0;
	struct gate g;
	gate_close(s, &g);
	enum { N = 8 };
	struct vers_repo_create_op ops[N];
	char names[N][16];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "q%d", i);
		repo_op(&ops[i], org, names[i]);
		store_submit(s, &ops[i].op);
	}
	gate_open(&g);
	char *keep = strdup(path);
	store_close(&s); /* must run every queued op before stopping */
	ck_assert_ptr_null(s);
	ck_assert_uint_eq(tally.done, N + 1);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(ops[i].op.status, STORE_OK);
		ck_assert_int_eq(count_repos(keep, names[i]), 1);
	}
	/* A clean stop folds the WAL back: the database file stands alone. */
	char wal[4200];
	snprintf(wal, sizeof(wal), "%s-wal", keep);
	FILE *f = fopen(wal, "r");
	if (f != NULL) {
		fseek(f, 0, SEEK_END);
		ck_assert_int_eq(ftell(f), 0);
		fclose(f);
	}
	free(keep);
	s = store_open(path, NULL, NULL);
	tu_store_done(&s, path);
}
END_TEST

START_TEST(readers)
{
	char *path;
	struct store *s = tu_store(&path);
	struct store_conn *a = store_reader(s);
	struct store_conn *b = store_reader(s);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	/* Readers cannot write. */
	ck_assert_int_ne(sqlite3_exec(sqlite_db(a),
	                              "INSERT INTO orgs(uuid, name, created_at) "
	                              "VALUES ('u', 'n', 1)",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	/* A read transaction is ended when the connection goes back. */
	ck_assert_int_eq(store_read_begin(a), STORE_OK);
	ck_assert(!sqlite3_get_autocommit(sqlite_db(a)));
	store_reader_release(s, a);
	ck_assert(sqlite3_get_autocommit(sqlite_db(a)));
	struct store_conn *again = store_reader(s);
	ck_assert_ptr_eq(again, a);
	store_reader_release(s, again);
	store_reader_release(s, b);
	/* Foreign keys are on. */
	struct vers_repo_create_op o;
	vers_repo_create_op_init(&o);
	o.org_id = 12345;
	o.name = "orphan";
	ck_assert_int_ne(store_execute(s, &o.op), STORE_OK);
	ck_assert_int_ne(o.op.status, STORE_CONFLICT);
	tu_store_done(&s, path);
}
END_TEST

/* Create organization name on s through the writer. */
static void add_org(struct store *s, const char *name)
{
	struct org_create_op o;
	org_create_op_init(&o);
	o.name = name;
	ck_assert_int_eq(store_execute(s, &o.op), STORE_OK);
}

static int64_t orgs(struct store *s)
{
	int64_t n = -1;
	ck_assert_int_eq(store_org_count(s, &n), STORE_OK);
	return n;
}

START_TEST(read_scope_is_one_snapshot)
{
	char *path;
	struct store *s = tu_store(&path);

	/* A scope with no read costs nothing and leaves nothing open. */
	store_read_scope_begin(s);
	store_read_scope_end(s);

	store_read_scope_begin(s);
	ck_assert_int_eq(orgs(s), 0);
	struct store_conn *c = store_reader(s);
	ck_assert(!sqlite3_get_autocommit(sqlite_db(c))); /* the scope's transaction */
	/* A read while the scope's connection is busy: a connection and snapshot of its own. */
	add_org(s, "first");
	ck_assert_int_eq(orgs(s), 1);
	store_reader_release(s, c);
	ck_assert(!sqlite3_get_autocommit(sqlite_db(c))); /* still open: the scope holds it */
	/* Every later read of the scope: the snapshot it began with. */
	ck_assert_int_eq(orgs(s), 0);
	store_read_scope_end(s);
	ck_assert(sqlite3_get_autocommit(sqlite_db(c)));
	ck_assert_int_eq(orgs(s), 1);

	/* The scope belongs to its store: another store's reads are not in it. */
	char *other_path;
	struct store *other = tu_store(&other_path);
	store_read_scope_begin(s);
	ck_assert_int_eq(orgs(s), 1);
	add_org(other, "elsewhere");
	ck_assert_int_eq(orgs(other), 1);
	add_org(s, "second");
	ck_assert_int_eq(orgs(s), 1);
	store_read_scope_end(s);
	ck_assert_int_eq(orgs(s), 2);
	tu_store_done(&other, other_path);
	tu_store_done(&s, path);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, migrations_recorded);
	tcase_add_test(tc, newer_database_refused);
	tcase_add_test(tc, not_a_database_refused);
	tcase_add_test(tc, concurrent_first_open);
	tcase_add_test(tc, status_mapping);
	tcase_add_test(tc, group_commit);
	tcase_add_test(tc, max_batch_one);
	tcase_add_test(tc, failed_op_leaves_no_trace);
	tcase_add_test(tc, lost_transaction_reported);
	tcase_add_test(tc, close_runs_queued_ops);
	tcase_add_test(tc, readers);
	tcase_add_test(tc, read_scope_is_one_snapshot);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(store_suite)
