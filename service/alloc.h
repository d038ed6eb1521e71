/*
 * alloc.h - the service's one allocation seam, and its test-only fault
 * hook (in the spirit of SQLite's fault simulator).
 *
 * Owns: every heap allocation service/ makes itself (hsd_malloc,
 * hsd_calloc, hsd_realloc, hsd_strdup; memory from them is released
 * with free()), and a countdown that makes the Nth allocation from the
 * moment a test arms it return NULL.  A test may also route jansson's,
 * libuv's and SQLite's allocations through the same countdown
 * (hsd_fault_route_libraries), so that "the Nth allocation" counts
 * everything the daemon allocates while it serves a request.
 *
 * Production: nothing arms the countdown; each allocation costs one
 * relaxed atomic load more than malloc's.  Atomic because libuv's thread
 * pool and libmicrohttpd's thread may allocate through jansson while the
 * loop's thread arms the hook.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SERVICE_ALLOC_H
#define HOTSWAP_SERVICE_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

void *hsd_malloc(size_t size);
void *hsd_calloc(size_t n, size_t size);
/* realloc's contract: NULL on failure with p untouched. */
void *hsd_realloc(void *p, size_t size);
char *hsd_strdup(const char *s);
/* How many allocations through the seam have failed so far: jansson
 * (which hotswapd points at hsd_malloc) reports running out of memory
 * while parsing as a syntax error; a caller compares the count. */
unsigned long hsd_alloc_failures(void);

/* ---- test-only: the fault hook -------------------------------------- */

/* The nth allocation from now (1 = the next) fails; with persistent,
 * every one after it fails too, until disarmed.  0 disarms. */
void hsd_fault_arm(unsigned long nth, bool persistent);
/* Disarms; returns how many allocations were made to fail since armed. */
unsigned long hsd_fault_disarm(void);
/* Allocations seen through the seam since the process started (counted
 * only while armed or counting: see hsd_fault_count). */
unsigned long hsd_fault_allocs(void);
/* Count allocations without failing any (the sweep's first pass). */
void hsd_fault_count(bool on);
/* While paused, allocations neither count nor fail (a test's own work
 * in the same process, such as parsing the daemon's replies). */
void hsd_fault_pause(bool on);
/* True when the allocation being made now must fail (a back-end's own
 * allocator asks this before it allocates). */
bool hsd_fault_now(void);
/* Routes jansson (json_set_alloc_funcs), libuv (uv_replace_allocator)
 * and SQLite (SQLITE_CONFIG_MALLOC around its own allocator) through the
 * countdown.  Must come before SQLite is first used; 0 or -EBUSY. */
int hsd_fault_route_libraries(void);

#endif
