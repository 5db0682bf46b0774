/*
 * store_copy - copy a whole database into an empty one, on either backend:
 * the way from one SQLite file to PostgreSQL ("tagd db copy").
 */
#ifndef TAGD_STORE_COPY_H
#define TAGD_STORE_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct store_copy_report {
	int64_t tables;   /* tables copied */
	int64_t rows;     /* rows copied */
	int64_t verified; /* rows compared with the source afterwards */
	int64_t chains;   /* organizations whose history chain verified on the copy */
};

/*
 * Copy every row of every table of from into to, ids and times unchanged
 * (tokens keep working: only digests are stored), in one transaction of to:
 * all of it or nothing.  Every table of to must be empty (to is migrated as
 * it opens).  Then compare both row by row, value by value, and verify every
 * organization's history chain on the copy.  The source should not be
 * written meanwhile (stop tagd).  On failure, false and *err (malloc'd), and
 * nothing was committed when the copy itself failed.
 */
bool store_copy(struct store *from, struct store *to, struct store_copy_report *report, char **err);

#endif
