/*
 * test_range.c - the core's range engine (core/hs_range.c, issue #18):
 * the one range set and fit search every placement uses.
 *
 * Every expected value is worked out by hand in the comment above it
 * (addresses in hex or MiB).  The allocator is a platform whose realloc
 * can be told to fail, as the core's injected allocator can.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hotswap/range.h"

#define MiB (1024ull * 1024)

/* ---- a platform with only an allocator, which may refuse ------------- */

static int fail_next;  /* the next realloc that grows fails */
static int live;       /* blocks handed out and not given back */

static void *t_realloc(void *ctx, void *ptr, size_t osize, size_t nsize)
{
	(void)ctx;
	(void)osize;
	if (!nsize) {
		if (ptr)
			live--;
		free(ptr);
		return NULL;
	}
	if (fail_next) {
		fail_next = 0;
		return NULL;
	}
	if (!ptr)
		live++;
	return realloc(ptr, nsize);
}

static const struct hs_platform_ops t_ops = { .realloc = t_realloc };
static const struct hs_platform t_plat = { .ops = &t_ops, .name = "test" };

static struct hs_range R(uint64_t base, uint64_t size)
{
	struct hs_range r = { base, size };
	return r;
}

static void expect_set(const struct hs_range_set *s, size_t n,
		       const uint64_t *pairs)
{
	assert_int_equal(s->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s->v[i].base, pairs[2 * i]);
		assert_int_equal(s->v[i].size, pairs[2 * i + 1]);
	}
}

static int setup(void **state)
{
	(void)state;
	fail_next = 0;
	live = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(live, 0); /* every set gave its array back */
	return 0;
}

/* ---- the set ---------------------------------------------------------- */

/* [10,20) and [30,40) stay apart; [20,30) touches both and the three
 * become [10,40); [5,12) overlaps its start: [5,40).  Removing [15,35)
 * leaves [5,15) and [35,40); removing [0,100) leaves nothing. */
static void set_merges_and_splits(void **state)
{
	struct hs_range_set s;

	(void)state;
	hs_range_set_init(&s, &t_plat);
	assert_int_equal(hs_range_add(&s, 10, 10), 0);
	assert_int_equal(hs_range_add(&s, 30, 10), 0);
	expect_set(&s, 2, (const uint64_t[]){ 10, 10, 30, 10 });
	assert_int_equal(hs_range_add(&s, 20, 10), 0);
	expect_set(&s, 1, (const uint64_t[]){ 10, 30 });
	assert_int_equal(hs_range_add(&s, 5, 7), 0);
	expect_set(&s, 1, (const uint64_t[]){ 5, 35 });
	assert_int_equal(hs_range_add(&s, 0, 0), 0); /* empty: nothing */
	expect_set(&s, 1, (const uint64_t[]){ 5, 35 });
	assert_int_equal(hs_range_remove(&s, 15, 20), 0);
	expect_set(&s, 2, (const uint64_t[]){ 5, 10, 35, 5 });
	assert_int_equal(hs_range_remove(&s, 0, 100), 0);
	assert_int_equal(s.n, 0);
	/* A range that would wrap the address space is refused. */
	assert_int_equal(hs_range_add(&s, ~0ull - 1, 4), -HS_EINVAL);
	hs_range_set_fini(&s);
}

/* A new range below, between and above others keeps them sorted:
 * [50,60), [10,20), [30,40), [70,80) read back in address order. */
static void set_stays_sorted(void **state)
{
	struct hs_range_set s;

	(void)state;
	hs_range_set_init(&s, &t_plat);
	assert_int_equal(hs_range_add(&s, 50, 10), 0);
	assert_int_equal(hs_range_add(&s, 10, 10), 0);
	assert_int_equal(hs_range_add(&s, 30, 10), 0);
	assert_int_equal(hs_range_add(&s, 70, 10), 0);
	expect_set(&s, 4, (const uint64_t[]){ 10, 10, 30, 10, 50, 10, 70, 10 });
	/* used inside [15,55): 5 of [10,20) + 10 + 5 of [50,60) = 20 */
	assert_int_equal(hs_range_used(&s, R(15, 40)), 20);
	hs_range_set_fini(&s);
}

/* ---- the fit search ------------------------------------------------------ */

/* Alignment edges, empty set: 4 KiB aligned to 16 KiB in [0x1000,
 * 0x11000) goes to 0x4000; from an aligned base 0x4000 it stays there;
 * from 0x4001 the next boundary is 0x8000. */
static void fit_alignment_edges(void **state)
{
	struct hs_range_set s;
	struct hs_fit f;

	(void)state;
	hs_range_set_init(&s, &t_plat);
	assert_true(hs_range_fit(&s, R(0x1000, 0x10000), 0x1000, 0x4000, 0, &f));
	assert_int_equal(f.at, 0x4000);
	assert_false(f.top);
	assert_true(hs_range_fit(&s, R(0x4000, 0x1000), 0x1000, 0x4000, 0, &f));
	assert_int_equal(f.at, 0x4000);
	assert_true(hs_range_fit(&s, R(0x4001, 0x10000), 0x1000, 0x4000, 0, &f));
	assert_int_equal(f.at, 0x8000);
	/* [0x4001, 0x9000): 0x8000 + 0x1000 ends exactly at its end;
	 * [0x4001, 0x8fff): one byte short. */
	assert_true(hs_range_fit(&s, R(0x4001, 0x4fff), 0x1000, 0x4000, 0, &f));
	assert_int_equal(f.at, 0x8000);
	assert_false(hs_range_fit(&s, R(0x4001, 0x4ffe), 0x1000, 0x4000, 0,
				  &f));
	/* Alignment 0 means 1; size 0 never fits. */
	assert_true(hs_range_fit(&s, R(3, 10), 2, 0, 0, &f));
	assert_int_equal(f.at, 3);
	assert_false(hs_range_fit(&s, R(0, 10), 0, 1, 0, &f));
	hs_range_set_fini(&s);
}

/* End-aligned placement (docs/core.md, test_mirror.c): a 17 MiB window
 * aligned to 16 MiB.
 *   [31,48): base-aligned at 32 ends at 49 > 48; end-aligned: its end
 *            on 48, base 31 -> 31, top
 *   [40,80): base-aligned 48; end-aligned ends at 64, base 47 < 48 -> 47
 *   [32,64): base-aligned 32; end-aligned would be 47 -> 32, not top
 *   [17,34): base-aligned 32 ends at 49; end-aligned ends at 48 > 34;
 *            nothing
 * Without HS_FIT_TOP, [31,48) has no place either. */
static void fit_end_aligned(void **state)
{
	struct hs_range_set s;
	struct hs_fit f;
	uint64_t sz = 17 * MiB, al = 16 * MiB;

	(void)state;
	hs_range_set_init(&s, &t_plat);
	assert_true(hs_range_fit(&s, R(31 * MiB, 17 * MiB), sz, al, HS_FIT_TOP,
				 &f));
	assert_int_equal(f.at, 31 * MiB);
	assert_true(f.top);
	assert_false(hs_range_fit(&s, R(31 * MiB, 17 * MiB), sz, al, 0, &f));
	assert_true(hs_range_fit(&s, R(40 * MiB, 40 * MiB), sz, al, HS_FIT_TOP,
				 &f));
	assert_int_equal(f.at, 47 * MiB);
	assert_true(f.top);
	assert_true(hs_range_fit(&s, R(32 * MiB, 32 * MiB), sz, al, HS_FIT_TOP,
				 &f));
	assert_int_equal(f.at, 32 * MiB);
	assert_false(f.top);
	assert_false(hs_range_fit(&s, R(17 * MiB, 17 * MiB), sz, al,
				  HS_FIT_TOP, &f));
	/* The same around a taken [0,31) MiB in [0,48): the gap [31,48)
	 * is what remains, and the answer is the same 31, top. */
	assert_int_equal(hs_range_add(&s, 0, 31 * MiB), 0);
	assert_true(hs_range_fit(&s, R(0, 48 * MiB), sz, al, HS_FIT_TOP, &f));
	assert_int_equal(f.at, 31 * MiB);
	assert_true(f.top);
	hs_range_set_fini(&s);
}

/* Tightest against lowest: taken [100,106), 10 bytes aligned to 8 in
 * [0,200).  Lowest: 0.  Tightest: below it the highest place is
 * align_down(90, 8) = 88, hull [88,106) = 18; above it 112, hull
 * [100,122) = 22; at 0 the hull is [0,106) = 106 -> 88. */
static void fit_tightest_vs_lowest(void **state)
{
	struct hs_range_set s;
	struct hs_fit f;

	(void)state;
	hs_range_set_init(&s, &t_plat);
	assert_int_equal(hs_range_add(&s, 100, 6), 0);
	assert_true(hs_range_fit(&s, R(0, 200), 10, 8, 0, &f));
	assert_int_equal(f.at, 0);
	assert_true(hs_range_fit(&s, R(0, 200), 10, 8, HS_FIT_TIGHT, &f));
	assert_int_equal(f.at, 88);
	/* Only above it: [100,200) -> 112 either way. */
	assert_true(hs_range_fit(&s, R(100, 100), 10, 8, HS_FIT_TIGHT, &f));
	assert_int_equal(f.at, 112);
	/* A tie: taken [100,108), 8 aligned to 4: 92 (hull [92,108)) and
	 * 108 (hull [100,116)) both make 16; the lower, 92, wins. */
	assert_int_equal(hs_range_add(&s, 106, 2), 0);
	assert_true(hs_range_fit(&s, R(0, 200), 8, 4, HS_FIT_TIGHT, &f));
	assert_int_equal(f.at, 92);
	hs_range_set_fini(&s);
}

/* A full set: [0x1000,0x2000) taken, the same as the aperture: one byte
 * does not fit, no gap, everything used. */
static void fit_full_set(void **state)
{
	struct hs_range_set s;
	struct hs_fit f;
	struct hs_range g;

	(void)state;
	hs_range_set_init(&s, &t_plat);
	assert_int_equal(hs_range_add(&s, 0x1000, 0x1000), 0);
	assert_false(hs_range_fit(&s, R(0x1000, 0x1000), 1, 1, 0, &f));
	assert_false(hs_range_fit(&s, R(0x1000, 0x1000), 1, 1,
				  HS_FIT_TIGHT | HS_FIT_TOP, &f));
	g = hs_range_largest_gap(&s, R(0x1000, 0x1000));
	assert_int_equal(g.size, 0);
	assert_int_equal(hs_range_used(&s, R(0x1000, 0x1000)), 0x1000);
	hs_range_set_fini(&s);
}

/* A gap exactly the size: taken [0,0x1000) and [0x2000,0x3000) in
 * [0,0x3000): 0x1000 aligned to 0x1000 goes to 0x1000; 0x1001 bytes
 * fit nowhere. */
static void fit_gap_exactly_the_size(void **state)
{
	struct hs_range_set s;
	struct hs_fit f;

	(void)state;
	hs_range_set_init(&s, &t_plat);
	assert_int_equal(hs_range_add(&s, 0, 0x1000), 0);
	assert_int_equal(hs_range_add(&s, 0x2000, 0x1000), 0);
	assert_true(hs_range_fit(&s, R(0, 0x3000), 0x1000, 0x1000, 0, &f));
	assert_int_equal(f.at, 0x1000);
	assert_true(hs_range_fit(&s, R(0, 0x3000), 0x1000, 0x1000,
				 HS_FIT_TIGHT, &f));
	assert_int_equal(f.at, 0x1000);
	assert_false(hs_range_fit(&s, R(0, 0x3000), 0x1001, 1, 0, &f));
	/* Once taken, the three are one range [0,0x3000). */
	assert_int_equal(hs_range_add(&s, f.at, 0x1000), 0);
	expect_set(&s, 1, (const uint64_t[]){ 0, 0x3000 });
	hs_range_set_fini(&s);
}

/* Off by one at the aperture's ends: [0x1000,0x2000) holds 0x1000 bytes
 * at 0x1000 and not 0x1001; [0x1001,0x2000) holds none aligned to
 * 0x1000.  At the very top of the address space, [~0 - 0xfff, ~0) holds
 * 0xfff bytes at 0xffff_ffff_ffff_f000; 0x10 aligned to 0x1000 in the last
 * 0x100 bytes does not fit (the boundary would be past the end) and does
 * not wrap to 0.  An item ending exactly at the end of in fits. */
static void fit_aperture_ends(void **state)
{
	struct hs_range_set s;
	struct hs_fit f;

	(void)state;
	hs_range_set_init(&s, &t_plat);
	assert_true(hs_range_fit(&s, R(0x1000, 0x1000), 0x1000, 0x1000, 0, &f));
	assert_int_equal(f.at, 0x1000);
	assert_false(hs_range_fit(&s, R(0x1000, 0x1000), 0x1001, 1, 0, &f));
	assert_false(hs_range_fit(&s, R(0x1001, 0xfff), 0x1000, 0x1000,
				  HS_FIT_TOP, &f));
	assert_true(hs_range_fit(&s, R(~0ull - 0xfff, 0xfff), 0xfff, 1, 0, &f));
	assert_int_equal(f.at, 0xfffffffffffff000ull);
	assert_false(hs_range_fit(&s, R(~0ull - 0xff, 0xff), 0x10, 0x1000,
				  HS_FIT_TOP | HS_FIT_TIGHT, &f));
	assert_int_equal(hs_range_add(&s, 0, 0x2000), 0);
	assert_true(hs_range_fit(&s, R(0, 0x3000), 0x1000, 1, 0, &f));
	assert_int_equal(f.at, 0x2000);
	/* Bus numbers are ranges too: a bridge with 0x10-0x1f, its
	 * secondary 0x10 its own, a child bridge holding 0x11-0x14: the
	 * largest free run is 0x15-0x1f (11 numbers). */
	hs_range_set_clear(&s);
	assert_int_equal(hs_range_add(&s, 0x11, 4), 0);
	struct hs_range g = hs_range_largest_gap(&s, R(0x11, 0xf));
	assert_int_equal(g.base, 0x15);
	assert_int_equal(g.size, 11);
	hs_range_set_fini(&s);
}

/* Gaps: taken [10,20) and [25,27) in [0,40): the gaps are [0,10) (10),
 * [20,25) (5) and [27,40) (13): the largest is [27,40).  The gap around
 * [21,24) is [20,25); around [5,15) there is none (it overlaps). */
static void gaps(void **state)
{
	struct hs_range_set s;
	struct hs_range g;

	(void)state;
	hs_range_set_init(&s, &t_plat);
	assert_int_equal(hs_range_add(&s, 10, 10), 0);
	assert_int_equal(hs_range_add(&s, 25, 2), 0);
	g = hs_range_largest_gap(&s, R(0, 40));
	assert_int_equal(g.base, 27);
	assert_int_equal(g.size, 13);
	/* Equal gaps: the lowest. [0,10) and [20,30) with [10,20) taken. */
	assert_int_equal(hs_range_remove(&s, 25, 2), 0);
	g = hs_range_largest_gap(&s, R(0, 30));
	assert_int_equal(g.base, 0);
	assert_int_equal(g.size, 10);
	assert_int_equal(hs_range_add(&s, 25, 2), 0);
	assert_true(hs_range_gap_around(&s, R(0, 40), R(21, 3), &g));
	assert_int_equal(g.base, 20);
	assert_int_equal(g.size, 5);
	assert_false(hs_range_gap_around(&s, R(0, 40), R(5, 10), &g));
	/* want partly outside in: no gap of in holds it */
	assert_false(hs_range_gap_around(&s, R(30, 10), R(28, 4), &g));
	hs_range_set_fini(&s);
}

/* Allocation failure: the first range needs the array (16 entries):
 * refused with -HS_ENOMEM and the set left empty; once 16 disjoint
 * ranges fill it, a 17th is refused and the 16 are intact, while a range
 * that merges needs no room and succeeds; a removal that splits a range
 * needs one more entry and is refused, leaving the set as it was. */
static void allocation_failure(void **state)
{
	struct hs_range_set s;

	(void)state;
	hs_range_set_init(&s, &t_plat);
	fail_next = 1;
	assert_int_equal(hs_range_add(&s, 0, 10), -HS_ENOMEM);
	assert_int_equal(s.n, 0);
	for (uint64_t i = 0; i < 16; i++)
		assert_int_equal(hs_range_add(&s, i * 100, 10), 0);
	assert_int_equal(s.n, 16);
	fail_next = 1;
	assert_int_equal(hs_range_add(&s, 5000, 10), -HS_ENOMEM);
	assert_int_equal(s.n, 16);
	assert_int_equal(s.v[15].base, 1500);
	fail_next = 1;
	assert_int_equal(hs_range_add(&s, 10, 5), 0); /* [0,15): merges */
	assert_int_equal(s.v[0].size, 15);
	fail_next = 1;
	assert_int_equal(hs_range_remove(&s, 102, 2), -HS_ENOMEM);
	assert_int_equal(s.n, 16);
	assert_int_equal(s.v[1].base, 100);
	assert_int_equal(s.v[1].size, 10);
	fail_next = 0;
	assert_int_equal(hs_range_remove(&s, 102, 2), 0);
	assert_int_equal(s.n, 17);
	hs_range_set_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(set_merges_and_splits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(set_stays_sorted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(fit_alignment_edges, setup,
						teardown),
		cmocka_unit_test_setup_teardown(fit_end_aligned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(fit_tightest_vs_lowest, setup,
						teardown),
		cmocka_unit_test_setup_teardown(fit_full_set, setup, teardown),
		cmocka_unit_test_setup_teardown(fit_gap_exactly_the_size, setup,
						teardown),
		cmocka_unit_test_setup_teardown(fit_aperture_ends, setup,
						teardown),
		cmocka_unit_test_setup_teardown(gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(allocation_failure, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
