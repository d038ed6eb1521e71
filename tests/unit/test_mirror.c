/*
 * test_mirror.c - end-aligned ("mirrored") windows (issue #7): a card's
 * bridge whose window is not a multiple of its alignment (17 MiB holding
 * a 16 MiB BAR) may sit with its end, not its base, on the aligned
 * boundary, its contents laid out reflected.  In a slot window where only
 * that fits, the card comes up and its functions answer through both
 * bridges; where neither layout fits, the hot-add is refused.
 *
 * Chassis: two root ports; slot 1's prefetchable reservation S1 MiB
 * comes first, slot 2's (S2 MiB) after it, nothing shared out.
 *
 * Expected addresses, worked out by hand, in MiB above the prefetchable
 * aperture's base P (sim.h: 0x4_0000_0000, 1 MiB aligned): slot 2's
 * window is [P + S1, P + S1 + S2).  The card's bridge window is 17 MiB
 * (16 + 1), aligned to 16 MiB: it starts on a 16 MiB boundary ("aligned")
 * or ends on one ("mirrored", the 1 MiB BAR below the 16 MiB one),
 * whichever lies lower and fits:
 *   31/17: window [31, 48): aligned at 32 ends at 49 > 48; mirrored ends
 *          at 48: bridge 31, BAR2 (1M) 31, BAR0 (16M) 32
 *   40/40: window [40, 80): aligned at 48; mirrored ends at 64, starts
 *          at 47 < 48: bridge 47, BAR2 47, BAR0 48
 *   32/32: window [32, 64): aligned at 32 (mirrored would start at 47):
 *          bridge 32, BAR0 32, BAR2 48
 *   17/17: window [17, 34): aligned at 32 ends at 49, mirrored ends at
 *          48: neither fits, refused
 *   nested 30/18: the outer card bridge (17 MiB bridge + 1 MiB NIC) takes
 *          the whole window [30, 48); inside it the 17 MiB bridge is
 *          mirrored at 31 (BAR2 31, BAR0 32), the NIC at 30
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim_util.h"
#include "hotswap/cfg.h"
#include "hotswap/core.h"
#include "core_util.h"
#include "simcard.h"

static struct tu t;
static struct hs_core *core;

static struct sim_fn *port(struct sim_bus *bus, uint8_t dev, int phys)
{
	struct sim_port_spec ps = { .type = SIM_PORT_ROOT, .vendor = 0x8086,
				    .device = 0x7c00 + dev, .has_slot = true,
				    .phys_slot = (uint16_t)phys };
	int err = 0;
	struct sim_fn *fn;

	sim_slot_features_default(&ps.slot);
	fn = sim_add_pcie_port(bus, dev, 0, &ps, &err);
	assert_non_null(fn);
	return fn;
}

static const struct sim_card_spec gpuish = {
	.name = "gpuish", .nfuncs = 1,
	.funcs = { { .vendor = 0x10de, .device = 0x1234, .class_code = 0x030200,
		     .bar = { [0] = { SIM_BAR_MEM64, true, 16 << 20 },
			      [2] = { SIM_BAR_MEM64, true, 1 << 20 } } } },
};
static const struct sim_child_spec kids[] = { { 0, &gpuish } };
static const struct sim_card_spec bcard = {
	.name = "bridge-gpuish", .nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x8086, .device = 0x244e,
		     .is_bridge = true } },
	.nchildren = 1, .children = kids,
};

static const struct sim_card_spec nic1m = {
	.name = "nic1m", .nfuncs = 1,
	.funcs = { { .vendor = 0x8086, .device = 0x1229, .class_code = 0x020000,
		     .bar = { [0] = { SIM_BAR_MEM64, true, 1 << 20 } } } },
};
static const struct sim_child_spec kids2[] = { { 0, &bcard }, { 1, &nic1m } };
static const struct sim_card_spec ncard = {
	.name = "nested", .nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x8086, .device = 0x244f,
		     .is_bridge = true } },
	.nchildren = 2, .children = kids2,
};
static const struct sim_card_spec *card = &bcard;

static void power(struct hs_dev *br)
{
	uint16_t px = 0;
	uint32_t ctl;

	assert_int_equal(hs_cfg_find_cap(&t.plat, hs_dev_bdf(br), 0x10, &px), 0);
	t.plat.ops->cfg_read(t.plat.ctx, hs_dev_bdf(br), px + 0x18, 2, &ctl);
	t.plat.ops->cfg_write(t.plat.ctx, hs_dev_bdf(br), px + 0x18, 2,
			      (ctl & ~0x0700u) | 0x0100u);
	sim_advance(t.sim, HS_MSEC(120));
}

#define MIB(x) (0x400000000ull + ((uint64_t)(x) << 20))

/* Where things must be, in MiB above P (see the header). */
struct want {
	unsigned bridge, bar0, bar2;   /* the 17 MiB bridge and its GPU */
	unsigned outer, nic;           /* nested card only */
};

static void run(unsigned s1, unsigned s2, const struct want *want)
{
	bool expect_ok = want != NULL;
	unsigned seen_gpu = 0, seen_bridge = 0, seen_outer = 0, seen_nic = 0;
	struct hs_core_params p;
	struct hs_slot_reserve sr[2];
	struct sim_slot *slot2;
	struct hs_dev *br;
	struct hs_resource w, b0, b2, cw;
	char msg[256] = "";
	int rc;

	tu_init(&t, NULL);
	(void)sim_fn_slot(port(sim_root_bus(t.sim), 1, 1));
	slot2 = sim_fn_slot(port(sim_root_bus(t.sim), 2, 2));
	hs_core_params_defaults(&p);
	p.share_leftover = false;
	memset(sr, 0, sizeof(sr));
	sr[0].phys_slot = 1; sr[0].r = p.hotplug; sr[0].r.pref = (uint64_t)s1 << 20;
	sr[1].phys_slot = 2; sr[1].r = p.hotplug; sr[1].r.pref = (uint64_t)s2 << 20;
	p.slot_reserve = sr;
	p.nslot_reserve = 2;
	assert_int_equal(hs_core_create(&t.plat, &p, &core), 0);
	hs_core_enable_rebalance(core);
	assert_int_equal(hs_core_enumerate(core), 0);
	br = hs_core_slot_bridge(core, 2);
	assert_non_null(br);
	assert_int_equal(sim_insert(slot2, card), 0);
	power(br);
	/* Slot 2's window, as worked out. */
	assert_int_equal(hs_dev_window(br, HS_RES_PREF, &w), 0);
	assert_int_equal(w.start, MIB(s1));
	assert_int_equal(w.size, (uint64_t)s2 << 20);
	rc = hs_core_hot_add(core, br, msg, sizeof(msg));
	if (expect_ok && rc)
		fail_msg("slot 2 window %#llx+%#llx: %s",
			 (unsigned long long)w.start,
			 (unsigned long long)w.size, msg);
	if (!expect_ok) {
		assert_int_equal(rc, -HS_ENOSPC);
		assert_non_null(strstr(msg, "prefetchable memory: need"));
	}
	if (!rc) {
		for (struct hs_dev *d = hs_dev_next(core, NULL); d; d = hs_dev_next(core, d)) {
			if (hs_dev_device(d) == 0x244f) {
				/* The second card's bridge: its window inside
				 * the slot's. */
				struct hs_resource x;

				assert_int_equal(hs_dev_window(d, HS_RES_PREF, &x), 0);
				assert_int_equal(x.start, MIB(want->outer));
				assert_int_equal(x.size, (uint64_t)18 << 20);
				seen_outer++;
				assert_true(x.size > 0);
				assert_true(x.start >= w.start &&
					    x.start + x.size <= w.start + w.size);
			}
			if (hs_dev_device(d) == 0x1229) {
				/* Its NIC: BAR0 aligned, inside the card
				 * bridge's window, answering through it. */
				struct hs_resource x, pw;

				assert_int_equal(hs_dev_bar(d, 0, &x), 0);
				assert_int_equal(x.start, MIB(want->nic));
				seen_nic++;
				assert_int_equal(hs_dev_window(hs_dev_parent(d),
							       HS_RES_PREF, &pw), 0);
				assert_int_equal(x.start & (x.size - 1), 0);
				assert_true(x.start >= pw.start &&
					    x.start + x.size <= pw.start + pw.size);
				assert_int_equal(tu_mem32(&t, x.start), 0x12298086);
			}
			if (hs_dev_device(d) == 0x244e) {
				assert_int_equal(hs_dev_window(d, HS_RES_PREF, &cw), 0);
				assert_int_equal(cw.start, MIB(want->bridge));
				assert_int_equal(cw.size, (uint64_t)17 << 20);
				seen_bridge++;
				/* And the registers say the same. */
				uint32_t lo = tu_rd32(&t, hs_dev_bdf(d), 0x24);
				uint32_t bu = tu_rd32(&t, hs_dev_bdf(d), 0x28);
				uint64_t base = (uint64_t)(lo & 0xfff0) << 16 | (uint64_t)bu << 32;
				assert_int_equal(base, cw.start);
			}
			if (hs_dev_device(d) == 0x1234) {
				assert_int_equal(hs_dev_bar(d, 0, &b0), 0);
				assert_int_equal(hs_dev_bar(d, 2, &b2), 0);
				assert_int_equal(b0.start, MIB(want->bar0));
				assert_int_equal(b2.start, MIB(want->bar2));
				seen_gpu++;
				assert_int_equal(b0.start & (b0.size - 1), 0);
				assert_int_equal(b2.start & (b2.size - 1), 0);
				assert_true(b0.start >= cw.start && b0.start + b0.size <= cw.start + cw.size);
				assert_true(b2.start >= cw.start && b2.start + b2.size <= cw.start + cw.size);
				assert_true(cw.start >= w.start && cw.start + cw.size <= w.start + w.size);
				/* Reachable through both bridges: BAR0's ID register. */
				assert_int_equal(tu_mem32(&t, b0.start), 0x123410de);
			}
		}
	}
	/* Every function of the card was there and checked. */
	if (!rc) {
		assert_int_equal(seen_gpu, 1);
		assert_int_equal(seen_bridge, 1);
		assert_int_equal(seen_outer, card == &ncard);
		assert_int_equal(seen_nic, card == &ncard);
	}
	hs_core_destroy(core);
	core = NULL;
	tu_fini(&t);
}

static void only_mirrored_fits(void **s)
{
	(void)s;
	run(31, 17, &(struct want){ .bridge = 31, .bar2 = 31, .bar0 = 32 });
}

static void mirrored_lower(void **s)
{
	(void)s;
	run(40, 40, &(struct want){ .bridge = 47, .bar2 = 47, .bar0 = 48 });
}

static void aligned_window(void **s)
{
	(void)s;
	run(32, 32, &(struct want){ .bridge = 32, .bar0 = 32, .bar2 = 48 });
}

static void neither_fits(void **s)
{
	(void)s;
	run(17, 17, NULL);
}

static void nested(void **s)
{
	(void)s;
	card = &ncard;
	run(30, 18, &(struct want){ .outer = 30, .nic = 30, .bridge = 31,
				    .bar2 = 31, .bar0 = 32 });
	card = &bcard;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(only_mirrored_fits),
		cmocka_unit_test(mirrored_lower),
		cmocka_unit_test(aligned_window),
		cmocka_unit_test(neither_fits),
		cmocka_unit_test(nested),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
