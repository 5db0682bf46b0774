/*
 * store_admin - the database seen by an operator: liveness, object counts
 * for metrics, online backups and consistency checks.  Like every store
 * module it is the only place that knows its SQL.
 */
#ifndef TAGD_STORE_ADMIN_H
#define TAGD_STORE_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* Whether a read connection answers a trivial query. */
enum store_status store_ping(struct store *s);

struct store_counts {
	int64_t orgs;
	int64_t repositories;
	int64_t commits;
	int64_t repo_tags;   /* Vers repository tags */
	int64_t commit_tags; /* ServiceStage project tags */
};

/* Count the objects (cheap COUNT(*) queries in one read transaction). */
enum store_status store_count_objects(struct store *s, struct store_counts *out);

/*
 * Copy the database at db_path into out_path with SQLite's online backup:
 * one consistent snapshot, taken while tagd keeps serving (readers never
 * block the writer in WAL mode).  The copy is written next to out_path and
 * renamed over it once complete and synced, so out_path is never a partial
 * file.  On error, false is returned, nothing is left at out_path and *err
 * is a malloc'd message.
 */
bool store_backup(const char *db_path, const char *out_path, char **err);

/* One problem found by store_check(), as a line of text. */
typedef void (*store_check_report_fn)(void *arg, const char *problem);

/*
 * Run integrity_check and foreign_key_check on the database at path
 * (opened read-only; never created).  Each problem is passed to report.
 * Returns the number of problems, or -1 when the database cannot be
 * checked (then *err is a malloc'd message).
 */
long store_check(const char *path, store_check_report_fn report, void *arg, char **err);

#endif
