/*
 * test_store_io_faults - disk failures while the server runs, without root:
 * a SQLite VFS wrapped around the default one fails writes and syncs on
 * demand with a chosen errno, as a file system turning read-only (EROFS),
 * filling up (ENOSPC) or failing (EIO) would.  Each write is answered in the
 * envelope (503, 507, 500), the server goes on, nothing half-written stays,
 * and service returns when the fault clears.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "store_vers.h"
#include "testutil.h"

static sqlite3_vfs *base_vfs;
static sqlite3_vfs faulty_vfs;
static atomic_int fault_errno; /* 0: no fault */

struct faulty_file {
	sqlite3_file file;  /* must be first: SQLite sees this */
	sqlite3_file *real; /* the base VFS's file, right after this struct */
};

static sqlite3_file *real_of(sqlite3_file *f)
{
	return ((struct faulty_file *)f)->real;
}

/* The failing system call's answer: errno set, and the code the unix VFS gives. */
static int fault_code(int io_code)
{
	int e = atomic_load(&fault_errno);
	if (e == 0)
		return SQLITE_OK;
	errno = e;
	return e == ENOSPC ? SQLITE_FULL : io_code;
}

static int f_close(sqlite3_file *f)
{
	return real_of(f)->pMethods->xClose(real_of(f));
}
static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}
static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	int rc = fault_code(SQLITE_IOERR_WRITE);
	return rc ? rc : real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = fault_code(SQLITE_IOERR_TRUNCATE);
	return rc ? rc : real_of(f)->pMethods->xTruncate(real_of(f), size);
}
static int f_sync(sqlite3_file *f, int flags)
{
	int rc = fault_code(SQLITE_IOERR_FSYNC);
	return rc ? rc : real_of(f)->pMethods->xSync(real_of(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
static int f_lock(sqlite3_file *f, int l)
{
	return real_of(f)->pMethods->xLock(real_of(f), l);
}
static int f_unlock(sqlite3_file *f, int l)
{
	return real_of(f)->pMethods->xUnlock(real_of(f), l);
}
static int f_check_reserved(sqlite3_file *f, int *out)
{
	return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
static int f_control(sqlite3_file *f, int op, void *arg)
{
	return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
static int f_sector(sqlite3_file *f)
{
	return real_of(f)->pMethods->xSectorSize(real_of(f));
}
static int f_device(sqlite3_file *f)
{
	return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
static int f_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return real_of(f)->pMethods->xShmMap(real_of(f), pg, pgsz, extend, pp);
}
static int f_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
static void f_shm_barrier(sqlite3_file *f)
{
	real_of(f)->pMethods->xShmBarrier(real_of(f));
}
static int f_shm_unmap(sqlite3_file *f, int del)
{
	return real_of(f)->pMethods->xShmUnmap(real_of(f), del);
}

/* Version 2: no memory-mapped I/O, whose writes would bypass xWrite. */
static const sqlite3_io_methods faulty_methods = {
        .iVersion = 2,
        .xClose = f_close,
        .xRead = f_read,
        .xWrite = f_write,
        .xTruncate = f_truncate,
        .xSync = f_sync,
        .xFileSize = f_size,
        .xLock = f_lock,
        .xUnlock = f_unlock,
        .xCheckReservedLock = f_check_reserved,
        .xFileControl = f_control,
        .xSectorSize = f_sector,
        .xDeviceCharacteristics = f_device,
        .xShmMap = f_shm_map,
        .xShmLock = f_shm_lock,
        .xShmBarrier = f_shm_barrier,
        .xShmUnmap = f_shm_unmap,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
	struct faulty_file *ff = (struct faulty_file *)f;
	ff->real = (sqlite3_file *)(ff + 1);
	int rc = base_vfs->xOpen(base_vfs, name, ff->real, flags, out_flags);
	/* SQLite calls xClose only when pMethods is set: set it only on success. */
	f->pMethods = rc == SQLITE_OK ? &faulty_methods : NULL;
	return rc;
}

/* What sqlite3_system_errno() reports after an I/O error. */
static int v_last_error(sqlite3_vfs *vfs, int n, char *buf)
{
	int e = atomic_load(&fault_errno);
	return e ? e : base_vfs->xGetLastError(base_vfs, n, buf);
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
	return base_vfs->xDelete(base_vfs, name, sync);
}
static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return base_vfs->xAccess(base_vfs, name, flags, out);
}
static int v_full_path(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return base_vfs->xFullPathname(base_vfs, name, n, out);
}
static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	return base_vfs->xRandomness(base_vfs, n, out);
}
static int v_sleep(sqlite3_vfs *vfs, int us)
{
	return base_vfs->xSleep(base_vfs, us);
}
static int v_time(sqlite3_vfs *vfs, double *out)
{
	return base_vfs->xCurrentTime(base_vfs, out);
}
static int v_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

/* Make the faulty VFS the default, so store_open uses it. */
static void install_faulty_vfs(void)
{
	base_vfs = sqlite3_vfs_find(NULL);
	ck_assert_ptr_nonnull(base_vfs);
	faulty_vfs = (sqlite3_vfs){
	        .iVersion = 2,
	        .szOsFile = (int)sizeof(struct faulty_file) + base_vfs->szOsFile,
	        .mxPathname = base_vfs->mxPathname,
	        .zName = "tagd-faulty",
	        .xOpen = v_open,
	        .xDelete = v_delete,
	        .xAccess = v_access,
	        .xFullPathname = v_full_path,
	        .xRandomness = v_randomness,
	        .xSleep = v_sleep,
	        .xCurrentTime = v_time,
	        .xGetLastError = v_last_error,
	        .xCurrentTimeInt64 = v_time64,
	};
	ck_assert_int_eq(sqlite3_vfs_register(&faulty_vfs, 1), SQLITE_OK);
	atomic_store(&fault_errno, 0);
}

struct fixture {
	char *path;
	struct store *store;
	struct app *app;
	char auth[160];
};

static void fixture_open(struct fixture *fx)
{
	char token[128];
	install_faulty_vfs();
	fx->store = tu_store(&fx->path);
	tu_org(fx->store, "acme", NULL, token);
	snprintf(fx->auth, sizeof(fx->auth), "Bearer %s", token);
	fx->app = app_new(fx->store, NULL);
	ck_assert_ptr_nonnull(fx->app);
}

static void fixture_close(struct fixture *fx)
{
	app_free(&fx->app);
	tu_store_done(&fx->store, fx->path);
}

/* POST a repository; returns the status, and checks the envelope of an error. */
static int create_repo(struct fixture *fx, const char *name, const char *want_error)
{
	char body[128];
	struct call c;
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
	tu_run(fx->app, &c, "POST", "/api/v1/repositories", body, "Authorization", fx->auth,
	       "Content-Type", "application/json", NULL);
	int status = c.status;
	json_t *doc = tu_json(&c);
	if (want_error != NULL) {
		ck_assert(json_is_false(json_object_get(doc, "success")));
		ck_assert_str_eq(json_string_value(json_object_get(doc, "error")), want_error);
	}
	tu_call_done(&c);
	return status;
}

static void check_fault(int err, int want_status, const char *want_error)
{
	struct fixture fx;
	fixture_open(&fx);
	ck_assert_int_eq(create_repo(&fx, "before", NULL), 201);

	atomic_store(&fault_errno, err);
	for (int i = 0; i < 3; i++) { /* the writer goes on answering */
		char name[32];
		snprintf(name, sizeof(name), "during%d", i);
		ck_assert_int_eq(create_repo(&fx, name, want_error), want_status);
	}
	atomic_store(&fault_errno, 0);

	/* Service is back, and nothing of the failed writes was kept. */
	ck_assert_int_eq(create_repo(&fx, "after", NULL), 201);
	ck_assert_int_eq(create_repo(&fx, "during0", NULL), 201);
	ck_assert_int_eq(create_repo(&fx, "before", "repository already exists"), 409);
	fixture_close(&fx);
}

START_TEST(read_only_file_system_is_503)
{
	check_fault(EROFS, 503, "service unavailable: database is read-only");
}
END_TEST

START_TEST(full_file_system_is_507)
{
	check_fault(ENOSPC, 507, "insufficient storage: database or disk is full");
}
END_TEST

START_TEST(disk_error_is_500)
{
	check_fault(EIO, 500, "internal server error");
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("store_io_faults");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, read_only_file_system_is_503);
	tcase_add_test(tc, full_file_system_is_507);
	tcase_add_test(tc, disk_error_is_500);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(make_suite)
