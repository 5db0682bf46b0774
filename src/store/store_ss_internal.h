/*
 * Private to the store (store_ss*.c, store_hooks.c): resolving what a
 * ServiceStage call names, on any connection (a reader inside
 * store_read_begin, or the writer).
 */
#ifndef TAGD_STORE_SS_INTERNAL_H
#define TAGD_STORE_SS_INTERNAL_H

#include "store_internal.h"
#include "store_ss.h"

struct ss_scope {
	int64_t ns_id; /* 0 when the namespace does not exist */
	char ns_name[SS_NAME_MAX + 1];
	int64_t project_id;
	char project_name[SS_NAME_MAX + 1];
	int64_t default_branch_id; /* 0 when the project has no branch yet */
};

/*
 * Resolve w (see store_ss.h for the order).  need_project false stops after
 * the namespace.  STORE_NOT_FOUND (ns_id left 0, its name w->namespace if
 * it fits) when the namespace is missing, STORE_REPO_NOT_FOUND when the
 * project is.
 */
enum store_status ss_scope_resolve(struct store_conn *c, const struct ss_where *w,
                                   bool need_project, struct ss_scope *out);

/* What a ref names: a branch (branch_id set) or a commit only. */
struct ss_ref {
	int64_t commit_id;
	int64_t branch_id; /* 0 unless the ref is a branch name */
};

/*
 * Resolve ref in project: branch, tag, full SHA, abbreviated SHA (>= 7 hex).
 * STORE_COMMIT_NOT_FOUND, STORE_INVALID (ambiguous abbreviation).
 */
enum store_status ss_ref_resolve(struct store_conn *c, int64_t project_id, const char *ref,
                                 struct ss_ref *out);

#endif
