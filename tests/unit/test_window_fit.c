/*
 * test_window_fit.c - where a hot-added card's BARs go in its slot
 * bridge's window, at the edges, against addresses worked out by hand:
 * a BAR ending exactly on the window's last byte, a card one BAR
 * granule (16 bytes, PCI Local Bus 3.0 6.2.5.1: the smallest memory BAR)
 * over what is left, and a BAR whose alignment pushes it past the first
 * free byte to the next boundary.
 *
 * Chassis: a CompactPCI backplane without the high-availability block
 * behind 00:03.0 (boards are powered as they seat; no controller driver,
 * the test calls the core's hot-add itself).  Its memory window is sized
 * at boot as the boards present plus the reservation (docs/core.md): one
 * board with a 256 KiB BAR plus a 768 KiB reservation, so exactly 1 MiB,
 * [W, W + 1 MiB), the board at W.
 *
 * Placement (core/hs_resource.c fit_new): the new card's BARs largest
 * first, each at the lowest address aligned to its size in a gap left
 * by the devices already there.  By hand, with A = [W, W + 256K) in use:
 *
 *   card {512K, 256K}: 512K cannot start at W + 256K (not 512K-aligned),
 *     goes to W + 512K and ends at W + 1M, the window's end; 256K goes to
 *     W + 256K.  The window is then full.
 *   card {512K, 256K, 16}: the 16 bytes find no room: refused, nothing
 *     changed, the message names the 16 bytes and "0 bytes free".
 *   card {16} then card {256K}: the 16 bytes at W + 256K; the 256K
 *     cannot start at W + 256K + 16, goes to W + 512K.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_util.h"
#include "hotswap/core.h"
#include "core_util.h"

#define K 1024ull
#define BR HS_BDF(0, 0, 3, 0)

#define CARD(nm, id, ...)                                                    \
	static const struct sim_card_spec nm = {                             \
		.name = #nm, .nfuncs = 1,                                    \
		.funcs = { { .vendor = 0x1234, .device = id,                 \
			     .class_code = 0x118000,                         \
			     .bar = { __VA_ARGS__ } } },                     \
	}

CARD(card_a, 0x000a, [0] = { SIM_BAR_MEM32, false, 256 * K });
CARD(card_b, 0x000b, [0] = { SIM_BAR_MEM32, false, 256 * K },
     [1] = { SIM_BAR_MEM32, false, 512 * K });
CARD(card_c, 0x000c, [0] = { SIM_BAR_MEM32, false, 256 * K },
     [1] = { SIM_BAR_MEM32, false, 512 * K },
     [2] = { SIM_BAR_MEM32, false, 16 });
CARD(card_e, 0x000e, [0] = { SIM_BAR_MEM32, false, 16 });
CARD(card_f, 0x000f, [0] = { SIM_BAR_MEM32, false, 256 * K });

static struct tu t;
static struct hs_core *core;
static struct sim_slot *slot[4];
static uint64_t W;

static void start(void)
{
	struct sim_cpci_spec cs;
	struct hs_core_params p;
	struct hs_resource w, a;
	int err = 0;

	tu_init(&t, NULL);
	memset(&cs, 0, sizeof(cs));
	cs.vendor = 0x8086;
	cs.device = 0xb154;
	cs.nslots = 4;
	cs.first_dev = 1;
	cs.first_phys = 1;
	cs.power_control = false;
	assert_non_null(sim_add_cpci_segment(sim_root_bus(t.sim), 3, 0, &cs,
					     &err));
	for (unsigned i = 0; i < 4; i++)
		assert_non_null(slot[i] = sim_slot_by_phys(t.sim, 1 + i));
	assert_int_equal(sim_coldplug(slot[0], &card_a), 0);
	hs_core_params_defaults(&p);
	p.share_leftover = false;
	p.hotplug.io = 0;
	p.hotplug.pref = 0;
	p.hotplug.mem = 768 * K;
	assert_int_equal(hs_core_create(&t.plat, &p, &core), 0);
	hs_core_enable_rebalance(core);
	assert_int_equal(hs_core_enumerate(core), 0);
	/* The window as worked out: 256K present + 768K reserved. */
	assert_int_equal(hs_dev_window(hs_dev_find(core, BR), HS_RES_MEM, &w),
			 0);
	assert_int_equal(w.size, 1024 * K);
	W = w.start;
	assert_int_equal(W & (1024 * K - 1), 0);
	assert_int_equal(hs_dev_bar(hs_dev_find(core, HS_BDF(0, 1, 1, 0)), 0,
				    &a), 0);
	assert_int_equal(a.start, W);
}

static void stop(void)
{
	hs_core_destroy(core);
	core = NULL;
	tu_fini(&t);
}

static int add(unsigned i, const struct sim_card_spec *c, char *msg,
	       size_t len)
{
	assert_int_equal(sim_insert(slot[i], c), 0);
	sim_advance(t.sim, HS_MSEC(10));
	msg[0] = '\0';
	return hs_core_hot_add(core, hs_dev_find(core, BR), msg, len);
}

/* BAR n of the card in slot i: where the core says and where the
 * register says, which must agree; and the card answers there. */
static uint64_t bar_at(unsigned i, int n)
{
	hs_bdf_t bdf = HS_BDF(0, 1, 1 + i, 0);
	struct hs_dev *d = hs_dev_find(core, bdf);
	struct hs_resource r;

	assert_non_null(d);
	assert_int_equal(hs_dev_bar(d, n, &r), 0);
	assert_int_equal(tu_rd32(&t, bdf, (uint16_t)(0x10 + 4 * n)) & ~0xfu,
			 r.start);
	return r.start;
}

static void test_exact_fit_at_window_end(void **state)
{
	char msg[256];

	(void)state;
	start();
	if (add(1, &card_b, msg, sizeof(msg)))
		fail_msg("hot-add refused: %s", msg);
	/* 512K pushed from W+256K to the next 512K boundary, its last
	 * byte the window's last byte. */
	assert_int_equal(bar_at(1, 1), W + 512 * K);
	assert_int_equal(bar_at(1, 1) + 512 * K - 1, W + 1024 * K - 1);
	assert_int_equal(bar_at(1, 0), W + 256 * K);
	/* Reachable through the bridge: BAR0's ID register. */
	assert_int_equal(tu_mem32(&t, W + 256 * K), 0x000b1234);
	stop();
}

static void test_one_granule_over_is_refused(void **state)
{
	char msg[256], *before, *after;
	int rc;

	(void)state;
	start();
	before = cu_snapshot(t.sim, core);
	rc = add(1, &card_c, msg, sizeof(msg));
	assert_int_equal(rc, -HS_ENOSPC);
	if (!strstr(msg, "memory: need 16 bytes") ||
	    !strstr(msg, "has 0 bytes free"))
		fail_msg("message: %s", msg);
	/* Nothing of the card was kept, nothing else moved. */
	assert_null(hs_dev_find(core, HS_BDF(0, 1, 2, 0)));
	after = cu_snapshot(t.sim, core);
	{
		size_t n = 0;

		assert_non_null(cu_record(after, HS_BDF(0, 1, 1, 0), &n));
	}
	assert_int_equal(cu_same_except_new(before, after), 0);
	free(before);
	free(after);
	stop();
}

static void test_alignment_skips_to_next_boundary(void **state)
{
	char msg[256];

	(void)state;
	start();
	if (add(1, &card_e, msg, sizeof(msg)))
		fail_msg("hot-add of the 16-byte card refused: %s", msg);
	assert_int_equal(bar_at(1, 0), W + 256 * K);
	if (add(2, &card_f, msg, sizeof(msg)))
		fail_msg("hot-add of the 256K card refused: %s", msg);
	assert_int_equal(bar_at(2, 0), W + 512 * K);
	assert_int_equal(tu_mem32(&t, W + 512 * K), 0x000f1234);
	stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_fit_at_window_end),
		cmocka_unit_test(test_one_granule_over_is_refused),
		cmocka_unit_test(test_alignment_skips_to_next_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
