/*
 * core_util.h - test helpers around the core: snapshots of the whole
 * state (every function's registers as the silicon holds them, and the
 * core's committed records) to prove that a change touched nothing else.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_TEST_CORE_UTIL_H
#define HOTSWAP_TEST_CORE_UTIL_H

#include "hotswap/core.h"
#include "sim.h"

/* Hardware lines, then "--core--", then one line a committed device
 * (keyed by "%06x " BDF).  Free with free(). */
char *cu_snapshot(struct sim *sim, struct hs_core *core);
/* The core record line of bdf in a snapshot, or NULL. */
const char *cu_record(const char *snap, hs_bdf_t bdf, size_t *len);
/* Every device of after that is also in before has the same record;
 * fails the test naming the first that differs.  Returns how many
 * records after has that before does not. */
unsigned cu_same_except_new(const char *before, const char *after);

#endif
