/*
 * hotswap/range.h - the core's one range engine (core/hs_range.c): one
 * range type and one sorted range set with a fit search, used by every
 * placement in the core (boot sizing and placement, hot-add, the
 * rebalance planner, bus numbers) and for the host's apertures.
 *
 * Owns: struct hs_range and struct hs_range_set.  A range is a base and
 * a size, [base, base + size): size 0 is the empty range, and a bridge's
 * window (struct hs_range in the device record) is the same type.  A set
 * holds disjoint, non-adjacent ranges sorted by base: adding a range
 * merges it with every range it overlaps or touches, so the gaps of a set
 * are exactly its free space.  Its array grows through the platform's
 * realloc (the core's injected allocator); no fixed-size tables.  Public
 * like util.h and timer.h (it is the util layer's, docs/core.md), so that
 * tests/unit/test_range.c can check it by hand-worked cases.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_RANGE_H
#define HOTSWAP_RANGE_H

#include "hotswap/platform.h"

/* C linkage for C++ programs (tests/cli/install.sh builds one). */
#ifdef __cplusplus
extern "C" {
#endif

struct hs_range {
	uint64_t base, size;  /* [base, base + size); size 0: empty */
};

struct hs_range_set {
	const struct hs_platform *plat;  /* whose realloc grows v */
	struct hs_range *v;
	size_t n, cap;
};

/* v rounded up to a multiple of a (a power of two; 0: v itself),
 * saturating at ~0: a place past the end of the address space never
 * fits, and must not look small by wrapping. */
uint64_t hs_align_up(uint64_t v, uint64_t a);

/* An array v of n elements of elem bytes, its capacity *cap, with room
 * for one more: v itself when it has room, else grown through plat's
 * realloc (doubled, 16 at first; *cap follows); NULL when it cannot
 * grow (v is then as it was). */
void *hs_grow(const struct hs_platform *plat, void *v, size_t *cap,
	      size_t n, size_t elem);

void hs_range_set_init(struct hs_range_set *s, const struct hs_platform *plat);
/* Gives the array back; the set is empty and may be used again. */
void hs_range_set_fini(struct hs_range_set *s);
/* Empty, keeping the array for reuse. */
void hs_range_set_clear(struct hs_range_set *s);
/* Reserve [base, base + size) (merged with what it overlaps or touches;
 * size 0 adds nothing).  -HS_ENOMEM when the array cannot grow (the set
 * is then unchanged); -HS_EINVAL when base + size wraps. */
int hs_range_add(struct hs_range_set *s, uint64_t base, uint64_t size);
/* Free [base, base + size) again (whatever part of it is in the set).
 * -HS_ENOMEM when it splits a range and the array cannot grow. */
int hs_range_remove(struct hs_range_set *s, uint64_t base, uint64_t size);

/* How the fit search chooses among the places an item fits. */
enum hs_fit_flags {
	/* End-aligned placement allowed too: the item's end (not its base)
	 * on an aligned boundary (a bridge window whose size is not a
	 * multiple of its alignment, docs/core.md "Hot-add"). */
	HS_FIT_TOP = 1u << 0,
	/* Tightest: where the hull of the set and the item grows least
	 * (the lowest address on a tie); otherwise the lowest address. */
	HS_FIT_TIGHT = 1u << 1,
};

struct hs_fit {
	uint64_t at;   /* the item's base */
	bool top;      /* placed end-aligned (only with HS_FIT_TOP) */
};

/*
 * Find room for size bytes aligned to align (a power of two; 0 means 1)
 * in the gaps the set leaves inside in.  Base-aligned, and with
 * HS_FIT_TOP also end-aligned, candidates of every gap are compared by
 * address or (HS_FIT_TIGHT) by the hull they make.  Nothing is added to
 * the set.  False when nothing fits (size 0 never does).
 */
bool hs_range_fit(const struct hs_range_set *s, struct hs_range in,
		  uint64_t size, uint64_t align, unsigned flags,
		  struct hs_fit *out);
/* Bytes of in that the set covers. */
uint64_t hs_range_used(const struct hs_range_set *s, struct hs_range in);
/* The largest gap inside in (the lowest of equals); size 0 when none. */
struct hs_range hs_range_largest_gap(const struct hs_range_set *s,
				     struct hs_range in);
/* The gap inside in that holds all of want; false when the set overlaps
 * want. */
bool hs_range_gap_around(const struct hs_range_set *s, struct hs_range in,
			 struct hs_range want, struct hs_range *gap);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_RANGE_H */
