/*
 * migrations - the SQL files of migrations/, embedded at build time
 * (cmake/embed_migrations.cmake writes migrations.c), in version order.
 */
#ifndef TAGD_MIGRATIONS_H
#define TAGD_MIGRATIONS_H

#include <stddef.h>

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];
extern const size_t migrations_count;

#endif
