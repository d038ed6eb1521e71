/*
 * alloc.c - the service's allocation seam and its test-only fault
 * countdown (alloc.h says what each call promises).
 *
 * Owns: the countdown's state.  Nothing here changes what an allocation
 * does while the countdown is disarmed and not counting.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _POSIX_C_SOURCE 200809L
#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* active: armed or counting, the only flag production code reads. */
static atomic_bool active, counting, persistent, paused;
static atomic_ulong countdown, allocs, injected, failures;

/* Counted whether injected or real: a caller that cannot tell "out of
 * memory" from its library's other errors compares the count. */
static void *counted(void *p)
{
	if (!p)
		atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed);
	return p;
}

unsigned long hsd_alloc_failures(void)
{
	return atomic_load_explicit(&failures, memory_order_relaxed);
}

bool hsd_fault_now(void)
{
	unsigned long left;

	if (!atomic_load_explicit(&active, memory_order_relaxed) ||
	    atomic_load(&paused))
		return false;
	atomic_fetch_add(&allocs, 1);
	left = atomic_load(&countdown);
	if (!left)
		return false;
	if (left == 1) {
		/* Persistent: stays at 1, so every later one fails too. */
		if (!atomic_load(&persistent))
			atomic_store(&countdown, 0);
		atomic_fetch_add(&injected, 1);
		return true;
	}
	atomic_fetch_sub(&countdown, 1);
	return false;
}

void *hsd_malloc(size_t size)
{
	return counted(hsd_fault_now() ? NULL : malloc(size));
}

void *hsd_calloc(size_t n, size_t size)
{
	return counted(hsd_fault_now() ? NULL : calloc(n, size));
}

void *hsd_realloc(void *p, size_t size)
{
	return counted(hsd_fault_now() ? NULL : realloc(p, size));
}

char *hsd_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = hsd_malloc(n);

	return p ? memcpy(p, s, n) : NULL;
}

void hsd_fault_arm(unsigned long nth, bool persist)
{
	atomic_store(&persistent, persist);
	atomic_store(&injected, 0);
	atomic_store(&countdown, nth);
	atomic_store(&active, nth || atomic_load(&counting));
}

unsigned long hsd_fault_disarm(void)
{
	atomic_store(&countdown, 0);
	atomic_store(&active, atomic_load(&counting));
	return atomic_load(&injected);
}

unsigned long hsd_fault_allocs(void)
{
	return atomic_load(&allocs);
}

void hsd_fault_count(bool on)
{
	atomic_store(&counting, on);
	atomic_store(&active, on || atomic_load(&countdown));
}

void hsd_fault_pause(bool on)
{
	atomic_store(&paused, on);
}
