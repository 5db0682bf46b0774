/*
 * migrations - the SQL files of migrations/sqlite/ and migrations/pg/,
 * embedded at build time (cmake/embed_migrations.cmake writes one C file per
 * folder), in version order.  Both folders have the same versions: a schema
 * change is one migration per backend.
 */
#ifndef TAGD_MIGRATIONS_H
#define TAGD_MIGRATIONS_H

#include <stddef.h>

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration sqlite_migrations[];
extern const size_t sqlite_migrations_count;
extern const struct migration pg_migrations[];
extern const size_t pg_migrations_count;

#endif
