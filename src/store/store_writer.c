/*
 * store_writer.c - the single writer: a queue of store operations, run in
 * batches, each batch one transaction (an operation that fails after writing
 * gets it run again with a savepoint per operation), one durable commit per
 * batch (group commit).  See store.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_internal.h"

const uint64_t store_latency_bounds_us[STORE_LATENCY_BUCKETS] = {
        250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
};
const unsigned store_batch_bounds[STORE_BATCH_BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 128, 256};

static uint64_t monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Mark every op from first up to (not including) end that succeeded as failed with st. */
static void fail_ops(struct store_op *first, const struct store_op *end, enum store_status st)
{
	for (struct store_op *op = first; op != end; op = op->next)
		if (op->status == STORE_OK)
			op->status = st;
}

/* How an attempt at a batch ended. */
enum attempt_end {
	ATTEMPT_DONE,  /* committed, or failed for good: every op has its status */
	ATTEMPT_RETRY, /* a conflict with another node's transaction: all rolled back, run again */
	ATTEMPT_SAVEPOINTS, /* an op failed after writing: all rolled back, run again with them */
};

/*
 * One attempt at the batch in one transaction.
 *
 * Without savepoints (the first attempt): each op runs straight in the
 * transaction.  An op that fails without having written anything (a name
 * taken, a tag not found, a precondition: what failures are) leaves nothing
 * to undo, so two statements per op are saved.  An op that fails after
 * writing, or that made the database abort the transaction, rolls it all
 * back: ATTEMPT_SAVEPOINTS, and the batch runs again with a savepoint per op,
 * where a failing op is rolled back to its savepoint without touching the
 * others.
 *
 * Either way an op or the commit that meets a conflict with another node's
 * transaction (a deadlock, a serialization failure) rolls everything back so
 * that the other one can go on: ATTEMPT_RETRY.
 */
static enum attempt_end attempt(struct store *s, struct store_op *batch, bool savepoints, size_t *n,
                                bool *failed)
{
	struct store_conn *c = s->wconn;
	struct store_op *txn_first = batch; /* first op of the open transaction */
	const struct store_backend *be = c->be;
	enum store_status begin = store_txn(c, DB_BEGIN_WRITE);

	*n = 0;
	*failed = begin != STORE_OK;
	if (begin != STORE_OK)
		log_msg(LOG_ERROR, "cannot begin write transaction", "error=\"%s\"", be->errmsg(c));
	for (struct store_op *op = batch; op != NULL; op = op->next) {
		(*n)++;
		if (begin != STORE_OK) {
			op->status = begin;
			continue;
		}
		enum store_status st;
		if (!savepoints) {
			int64_t before = be->total_changes(c);
			st = op->run(c, op);
			op->status = st;
			if (st == STORE_RETRY ||
			    (st != STORE_OK && be->total_changes(c) != before) || !be->in_txn(c) ||
			    be->aborted(c)) {
				if (be->in_txn(c))
					store_txn(c, DB_ROLLBACK);
				return st == STORE_RETRY ? ATTEMPT_RETRY : ATTEMPT_SAVEPOINTS;
			}
			continue;
		}
		st = store_txn(c, DB_SAVEPOINT);
		if (st == STORE_OK) {
			st = op->run(c, op);
			if (st != STORE_OK)
				store_txn(c, DB_ROLLBACK_TO);
			enum store_status rel = store_txn(c, DB_RELEASE);
			if (st == STORE_OK)
				st = rel;
		}
		op->status = st;
		if (st == STORE_RETRY && be->in_txn(c)) {
			store_txn(c, DB_ROLLBACK);
			return ATTEMPT_RETRY;
		}
		if (!be->in_txn(c)) {
			/*
			 * The engine rolled back the whole transaction (SQLite may on
			 * SQLITE_FULL, an I/O error or out of memory; PostgreSQL when the
			 * connection is lost): the ops before this one lost their
			 * writes and must not report success.  The rest of the batch gets a
			 * transaction of its own.
			 */
			enum store_status lost = st != STORE_OK ? st : STORE_ERROR;
			log_msg(LOG_ERROR, "write transaction rolled back by the database",
			        "error=\"%s\"", store_status_str(lost));
			fail_ops(txn_first, op->next, lost);
			*failed = true;
			txn_first = op->next;
			if (txn_first != NULL)
				begin = store_txn(c, DB_BEGIN_WRITE);
		}
	}

	if (begin == STORE_OK && txn_first != NULL) {
		enum store_status commit = store_txn(c, DB_COMMIT);
		if (commit == STORE_RETRY) {
			if (be->in_txn(c))
				store_txn(c, DB_ROLLBACK);
			return ATTEMPT_RETRY;
		}
		if (commit != STORE_OK) {
			*failed = true;
			log_msg(LOG_ERROR, "commit failed", "ops=%zu error=\"%s\"", *n,
			        be->errmsg(c));
			if (be->in_txn(c))
				store_txn(c, DB_ROLLBACK);
			fail_ops(txn_first, NULL, commit);
		}
	}
	return ATTEMPT_DONE;
}

#define MAX_ATTEMPTS 8

/*
 * The writer's connection, replaced when it broke (PostgreSQL restarted or
 * failed over); false while no new one can be had.
 */
static bool writer_ready(struct store *s)
{
	if (s->wconn != NULL && s->be->healthy(s->wconn))
		return true;
	struct store_conn *c = store_connect(s, true);
	if (c == NULL)
		return false;
	if (s->wconn != NULL)
		s->be->disconnect(s->wconn);
	s->wconn = c;
	return true;
}

static void run_batch(struct store *s, struct store_op *batch)
{
	uint64_t started = monotonic_us();
	size_t n = 0;
	bool failed = false;

	bool savepoints = false;
	for (int tries = 1;; tries++) {
		if (!writer_ready(s)) {
			for (struct store_op *op = batch; op != NULL; op = op->next, n++)
				op->status = STORE_UNAVAILABLE;
			failed = true;
			break;
		}
		enum attempt_end end = attempt(s, batch, savepoints, &n, &failed);
		if (end == ATTEMPT_DONE)
			break;
		if (end == ATTEMPT_SAVEPOINTS) {
			savepoints = true; /* at once: no other transaction to wait for */
			tries--;
			continue;
		}
		if (tries == MAX_ATTEMPTS) {
			for (struct store_op *op = batch; op != NULL; op = op->next)
				op->status = STORE_UNAVAILABLE;
			failed = true;
			log_msg(LOG_ERROR, "write transaction kept conflicting; giving up",
			        "ops=%zu attempts=%d", n, tries);
			break;
		}
		/* The other transaction goes first: wait a little, more each time. */
		struct timespec ts = {.tv_nsec = (long)(1000000L << (tries < 6 ? tries : 6))};
		nanosleep(&ts, NULL);
	}

	uint64_t took = monotonic_us() - started;
	size_t lb = 0, bb = 0;
	while (lb < STORE_LATENCY_BUCKETS && took > store_latency_bounds_us[lb])
		lb++;
	while (bb < STORE_BATCH_BUCKETS && n > store_batch_bounds[bb])
		bb++;
	pthread_mutex_lock(&s->queue_lock);
	s->stats.batches++;
	s->stats.ops += n;
	s->stats.failed_batches += failed ? 1 : 0;
	s->stats.latency_sum_us += took;
	s->stats.latency[lb]++;
	s->stats.batch_ops[bb]++;
	pthread_mutex_unlock(&s->queue_lock);

	for (struct store_op *op = batch, *next; op != NULL; op = next) {
		next = op->next; /* done() may free op */
		op->next = NULL;
		op->done(op);
	}
}

void *store_writer_main(void *arg)
{
	struct store *s = arg;

	pthread_mutex_lock(&s->queue_lock);
	for (;;) {
		while (s->queue_head == NULL && !s->stopping)
			pthread_cond_wait(&s->queue_cond, &s->queue_lock);
		if (s->queue_head == NULL && s->stopping)
			break;
		/* Take up to max_batch operations off the queue. */
		struct store_op *batch = s->queue_head, *last = batch;
		unsigned n = 1;
		while (last->next != NULL && n < s->opts.max_batch) {
			last = last->next;
			n++;
		}
		s->queue_head = last->next;
		if (s->queue_head == NULL)
			s->queue_tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&s->queue_lock);
		run_batch(s, batch);
		pthread_mutex_lock(&s->queue_lock);
	}
	pthread_mutex_unlock(&s->queue_lock);
	return NULL;
}

void store_submit(struct store *s, struct store_op *op)
{
	op->next = NULL;
	op->status = STORE_ERROR;
	pthread_mutex_lock(&s->queue_lock);
	if (s->queue_tail != NULL)
		s->queue_tail->next = op;
	else
		s->queue_head = op;
	s->queue_tail = op;
	pthread_cond_signal(&s->queue_cond);
	pthread_mutex_unlock(&s->queue_lock);
}

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void waiter_done(struct store_op *op)
{
	struct waiter *w = op->done_arg;
	pthread_mutex_lock(&w->lock);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

enum store_status store_execute(struct store *s, struct store_op *op)
{
	struct waiter w = {.done = false};

	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	op->done = waiter_done;
	op->done_arg = &w;
	store_submit(s, op);
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	op->done = NULL;
	return op->status;
}

void store_write_stats(struct store *s, uint64_t *batches, uint64_t *ops)
{
	pthread_mutex_lock(&s->queue_lock);
	*batches = s->stats.batches;
	*ops = s->stats.ops;
	pthread_mutex_unlock(&s->queue_lock);
}

void store_stats_get(struct store *s, struct store_stats *out)
{
	pthread_mutex_lock(&s->queue_lock);
	*out = s->stats;
	pthread_mutex_unlock(&s->queue_lock);
}

/* ---- last-use throttle ---- */

bool store_touch_claim(struct store *s, const char *public_id, int64_t now_us)
{
	/* FNV-1a: the public id is random already, any mixing will do. */
	uint32_t h = 2166136261u;
	size_t len = strlen(public_id);
	if (len > STORE_TOUCH_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)public_id[i]) * 16777619u;
	bool claimed = false;
	pthread_mutex_lock(&s->touch_lock);
	struct touch_slot *slot = &s->touch[h % STORE_TOUCH_SLOTS];
	if (strcmp(slot->public_id, public_id) != 0 ||
	    now_us - slot->at >= STORE_TOUCH_INTERVAL_US) {
		memcpy(slot->public_id, public_id, len + 1);
		slot->at = now_us;
		claimed = true;
	}
	pthread_mutex_unlock(&s->touch_lock);
	return claimed;
}
