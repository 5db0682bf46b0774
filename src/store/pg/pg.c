/* pg.c - the PostgreSQL backend (being written). */
#include "store_internal.h"

const struct store_backend *store_pg_backend(void)
{
	return NULL;
}
