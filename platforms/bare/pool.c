/*
 * pool.c - power-of-two block allocator over a static arena (pool.h).
 *
 * A request of n bytes takes a block of the smallest class 2^k >= n
 * (k >= 4).  Blocks are carved from the arena aligned to their own size
 * up to 4 KiB, so DMA buffers of a page or more are page aligned; freed
 * blocks go on their class's list.  The caller passes the old size back
 * (the Lua allocator contract), so blocks need no header.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "pool.h"

#include "libc.h"

#define ARENA_SIZE (24u << 20)
#define MIN_SHIFT 4u
#define MAX_SHIFT 24u   /* 16 MiB: larger requests fail */

struct free_block {
	struct free_block *next;
};

static unsigned char arena[ARENA_SIZE] __attribute__((aligned(4096)));
static size_t carved;
static struct free_block *free_list[MAX_SHIFT + 1];
static struct hsq_pool_stats st;

void hsq_pool_init(void)
{
	carved = 0;
	memset(free_list, 0, sizeof(free_list));
	memset(&st, 0, sizeof(st));
	st.arena = ARENA_SIZE;
}

static unsigned class_of(size_t n)
{
	unsigned k = MIN_SHIFT;

	while (k <= MAX_SHIFT && ((size_t)1 << k) < n)
		k++;
	return k;
}

static void *take(unsigned k)
{
	size_t size = (size_t)1 << k, align = size < 4096 ? size : 4096;
	struct free_block *b = free_list[k];

	if (b) {
		free_list[k] = b->next;
	} else {
		size_t at = (carved + align - 1) & ~(align - 1);

		if (at > ARENA_SIZE || size > ARENA_SIZE - at)
			return NULL;
		b = (struct free_block *)(void *)(arena + at);
		carved = at + size;
		st.carved = carved;
	}
	st.in_use += size;
	if (st.in_use > st.peak)
		st.peak = st.in_use;
	st.allocs++;
	return b;
}

static void give(void *p, unsigned k)
{
	struct free_block *b = p;

	b->next = free_list[k];
	free_list[k] = b;
	st.in_use -= (size_t)1 << k;
	st.frees++;
}

void *hsq_pool_realloc(void *ptr, size_t osize, size_t nsize)
{
	unsigned ok = ptr ? class_of(osize) : 0, nk;
	void *n;

	if (!nsize) {
		if (ptr)
			give(ptr, ok);
		return NULL;
	}
	nk = class_of(nsize);
	if (nk > MAX_SHIFT) {
		st.failures++;
		return NULL;
	}
	if (ptr && nk == ok)
		return ptr;
	n = take(nk);
	if (!n) {
		st.failures++;
		return NULL;
	}
	if (ptr) {
		memcpy(n, ptr, osize < nsize ? osize : nsize);
		give(ptr, ok);
	}
	return n;
}

void hsq_pool_stats(struct hsq_pool_stats *out)
{
	*out = st;
}
