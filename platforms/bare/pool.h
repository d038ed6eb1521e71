/*
 * pool.h - the bare-metal image's memory: a fixed arena carved into
 * power-of-two blocks with one free list per size, instead of malloc.
 *
 * Owns: every byte the core, the controllers and the drivers allocate in
 * the image.  Deterministic and O(1); a freed block is reused by the next
 * request of its size class, so a hot-plug loop does not grow the arena.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HSQ_POOL_H
#define HSQ_POOL_H

#include <stddef.h>
#include <stdint.h>

struct hsq_pool_stats {
	size_t arena, carved, in_use, peak;
	unsigned long allocs, frees, failures;
};

void hsq_pool_init(void);
/* Lua-style: nsize 0 frees; NULL on failure (ptr untouched). */
void *hsq_pool_realloc(void *ptr, size_t osize, size_t nsize);
void hsq_pool_stats(struct hsq_pool_stats *out);

#endif
