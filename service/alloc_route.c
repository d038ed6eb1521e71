/*
 * alloc_route.c - the test-only routing of jansson's, libuv's and
 * SQLite's allocators through the service's fault countdown (alloc.h).
 * Apart from alloc.c so that programs linking only the seam (hotswap-linux
 * with policy.c) need none of the three libraries.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include "alloc.h"

#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <uv.h>

static sqlite3_mem_methods sqlite_own;

static void *sqlite_malloc(int size)
{
	return hsd_fault_now() ? NULL : sqlite_own.xMalloc(size);
}

static void *sqlite_realloc(void *p, int size)
{
	return hsd_fault_now() ? NULL : sqlite_own.xRealloc(p, size);
}

int hsd_fault_route_libraries(void)
{
	sqlite3_mem_methods m;

	/* SQLite takes a new allocator only before its first use; its own
	 * stays underneath (sizes, rounding, initialisation). */
	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sqlite_own) != SQLITE_OK)
		return -EBUSY;
	m = sqlite_own;
	m.xMalloc = sqlite_malloc;
	m.xRealloc = sqlite_realloc;
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &m) != SQLITE_OK)
		return -EBUSY;
	json_set_alloc_funcs(hsd_malloc, free);
	/* libuv frees with free(): what hsd_* return is malloc's. */
	if (uv_replace_allocator(hsd_malloc, hsd_realloc, hsd_calloc, free))
		return -EBUSY;
	return 0;
}
