/*
 * test_authorize.c - the authorization hook: a blocked card is
 * enumerated and visible but decodes nothing, cannot bus-master (every
 * DMA attempt it makes is stopped at its own Command register) and gets
 * no driver, on every controller kind; hs_dev_authorize lets it in, or
 * leaves it exactly as blocked when that fails.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <string.h>

#include "slot_rig.h"
#include "simcard.h"

#define CMD_IO 1u
#define CMD_MEM 2u
#define CMD_MASTER 4u

struct hook {
	bool block_inserted, block_present;
	unsigned asked, asked_at_boot;
};

static bool decide(void *arg, struct hs_dev *dev, bool at_boot)
{
	struct hook *h = arg;

	(void)dev;
	if (at_boot)
		h->asked_at_boot++;
	else
		h->asked++;
	return !(at_boot ? h->block_present : h->block_inserted);
}

static uint16_t command(struct rig *r, struct hs_dev *d)
{
	return tu_rd16(&r->t, hs_dev_bdf(d), 0x04);
}

static uint64_t ram(struct rig *r)
{
	return sim_get_config(r->t.sim)->ram_base + 0x8000;
}

/* A rogue DMA burst from the card: how many of count got through. */
static int rogue(struct rig *r, unsigned count, struct sim_counters *c)
{
	int through;

	sim_reset_counters(r->t.sim);
	through = sim_card_dma(r->slot, 0, ram(r), 16, count);
	sim_get_counters(r->t.sim, c);
	return through;
}

static void blocked_card_is_inert(void **state)
{
	(void)state;
	for (int k = 0; k < RIG_KINDS; k++) {
		struct hook h = { .block_inserted = true };
		struct rig_opts o = { .authorize = decide, .authorize_arg = &h };
		struct evlog log = { .at = 0 };
		struct sim_counters c;
		struct hs_resource bar;
		struct rig r;
		struct hs_dev *d;
		uint32_t v = 0;
		char msg[128];

		rig_init(&r, (enum rig_kind)k, &o);
		assert_int_equal(hs_core_subscribe(r.core, evlog_event, &log), 0);
		rig_bring_up(&r, &tu_card_nic);
		assert_int_equal(h.asked, 1);

		/* Visible, addressed, but inert. */
		d = rig_dev(&r);
		assert_non_null(d);
		assert_true(hs_dev_blocked(d));
		assert_null(hs_dev_driver_name(d));
		assert_int_equal(hs_dev_bar(d, 0, &bar), 0);
		assert_int_equal(command(&r, d) & (CMD_IO | CMD_MEM | CMD_MASTER), 0);
		assert_int_equal(hs_dev_read32(d, 0, 0, &v), 0);
		assert_int_equal(v, 0xffffffffu);   /* master abort */
		assert_int_equal(hs_dev_set_master(d, true), -HS_EPERM);
		assert_int_equal(command(&r, d) & CMD_MASTER, 0);
		assert_true(evlog_has(&log, "blocked"));
		assert_false(evlog_has(&log, "bound"));

		/* Every DMA attempt it makes on its own is stopped. */
		assert_int_equal(rogue(&r, 64, &c), 0);
		assert_int_equal(c.dma_attempts, 64);
		assert_int_equal(c.dma_blocked, 64);

		/* Let it in: decode, driver, and its own DMA works. */
		assert_int_equal(hs_dev_authorize(d, msg, sizeof(msg)), 0);
		assert_false(hs_dev_blocked(d));
		assert_string_equal(hs_dev_driver_name(d), "simnet");
		assert_int_equal(simcard_id(d), 0x10d38086u);
		assert_true(command(&r, d) & CMD_MEM);
		assert_true(command(&r, d) & CMD_MASTER);  /* the driver's */
		EVLOG_EXPECT(&log, "blocked", "authorized", "bound");
		assert_int_equal(simcard_submit(d, 4), 4);
		rig_run(&r, HS_MSEC(20));
		assert_int_equal(simcard_ledger()->completed, 4);
		assert_int_equal(rogue(&r, 8, &c), 8);
		/* Authorizing twice is harmless. */
		assert_int_equal(hs_dev_authorize(d, msg, sizeof(msg)), 0);

		assert_int_equal(rig_disable(&r), 0);
		assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(10)));
		rig_assert_clean(&r);
		rig_fini(&r);
	}
}

/* Cards present at start have their own default. */
static void present_at_start(void **state)
{
	struct hook h = { .block_present = true };
	struct rig_opts o = { .authorize = decide, .authorize_arg = &h };
	struct rig r;
	struct hs_dev *d;

	(void)state;
	simcard_ledger_reset();
	rig_build(&r, RIG_PCIE, &o);
	assert_int_equal(sim_coldplug(r.slot, &tu_card_nic), 0);
	rig_start(&r, &o);
	assert_int_equal(h.asked_at_boot, 1);
	assert_int_equal(h.asked, 0);
	d = rig_dev(&r);
	assert_non_null(d);
	assert_true(hs_dev_blocked(d));
	assert_null(hs_dev_driver_name(d));
	rig_fini(&r);

	/* Block only what is inserted: the card present at boot is let in. */
	h = (struct hook){ .block_inserted = true };
	rig_build(&r, RIG_PCIE, &o);
	assert_int_equal(sim_coldplug(r.slot, &tu_card_nic), 0);
	rig_start(&r, &o);
	d = rig_dev(&r);
	assert_non_null(d);
	assert_false(hs_dev_blocked(d));
	assert_string_equal(hs_dev_driver_name(d), "simnet");
	rig_fini(&r);
}

/* A driver that fails to start leaves the card exactly as blocked. */
static void failed_authorize_rolls_back(void **state)
{
	struct hook h = { .block_inserted = true };
	struct rig_opts o = { .authorize = decide, .authorize_arg = &h };
	struct rig r;
	struct hs_dev *d;
	struct sim_counters c;
	char msg[128];

	(void)state;
	rig_init(&r, RIG_PCIE, &o);
	rig_bring_up(&r, &tu_card_nic);
	d = rig_dev(&r);
	simcard_fail_next_probe(-HS_EIO);
	assert_int_equal(hs_dev_authorize(d, msg, sizeof(msg)), -HS_EIO);
	assert_non_null(strstr(msg, "simnet"));
	assert_true(hs_dev_blocked(d));
	assert_null(hs_dev_driver_name(d));
	assert_int_equal(command(&r, d) & (CMD_IO | CMD_MEM | CMD_MASTER), 0);
	assert_int_equal(rogue(&r, 16, &c), 0);
	assert_int_equal(c.dma_blocked, 16);
	/* And the next attempt works. */
	assert_int_equal(hs_dev_authorize(d, msg, sizeof(msg)), 0);
	assert_string_equal(hs_dev_driver_name(d), "simnet");
	rig_fini(&r);
}

/* A card with its own bridge: the functions behind it cannot be let in
 * while the bridge in front of them is blocked. */
/* The slot the hook is told at boot: on a bus with several slots (SHPC,
 * CompactPCI) the card's own, not the bus's first (a policy keyed by
 * slot would otherwise judge a card by its neighbour's rule). */
struct seen {
	unsigned n;
	hs_bdf_t bdf[8];
	int slot[8];
};

static bool remember(void *arg, struct hs_dev *dev, bool at_boot)
{
	struct seen *s = arg;

	if (at_boot && s->n < 8) {
		s->bdf[s->n] = hs_dev_bdf(dev);
		s->slot[s->n++] = hs_dev_slot(dev);
	}
	return true;
}

static void boot_slot_numbers(void **state)
{
	static const enum rig_kind kinds[] = { RIG_SHPC, RIG_CPCI };

	(void)state;
	for (unsigned k = 0; k < 2; k++) {
		struct seen s = { 0 };
		struct rig_opts o = { .authorize = remember,
				      .authorize_arg = &s };
		struct sim_slot_info i1, i2;
		struct rig r;
		unsigned checked = 0;

		rig_build(&r, kinds[k], &o);
		assert_non_null(r.slot2);
		assert_int_equal(sim_coldplug(r.slot, &tu_card_nic), 0);
		assert_int_equal(sim_coldplug(r.slot2, &tu_card_nic), 0);
		sim_slot_get_info(r.slot, &i1);
		sim_slot_get_info(r.slot2, &i2);
		assert_int_not_equal(i1.phys, i2.phys);
		rig_start(&r, &o);
		assert_int_equal(s.n, 2);
		for (unsigned i = 0; i < s.n; i++) {
			unsigned dev = HS_BDF_DEV(s.bdf[i]);
			int want = dev == i1.dev ? (int)i1.phys
					       : dev == i2.dev ? (int)i2.phys : -1;

			assert_int_not_equal(want, -1);
			if (s.slot[i] != want)
				print_error("%s: %06x asked with slot %d, it is "
					    "in slot %d\n", rig_kind_name[kinds[k]],
					    (unsigned)s.bdf[i], s.slot[i], want);
			assert_int_equal(s.slot[i], want);
			checked++;
		}
		assert_int_equal(checked, 2);
		rig_fini(&r);
	}
}

static void bridge_first(void **state)
{
	struct hook h = { .block_inserted = true };
	struct rig_opts o = { .authorize = decide, .authorize_arg = &h };
	struct rig r;
	struct hs_dev *br, *child = NULL;
	char msg[160];

	(void)state;
	rig_init(&r, RIG_PCIE, &o);
	rig_bring_up(&r, &tu_card_bridge);
	br = rig_dev(&r);
	assert_true(hs_dev_is_bridge(br));
	for (struct hs_dev *d = hs_dev_next(r.core, NULL); d;
	     d = hs_dev_next(r.core, d))
		if (hs_dev_parent(d) == br)
			child = d;
	assert_non_null(child);
	assert_int_equal(h.asked, 3);   /* the bridge and both NICs */
	assert_true(hs_dev_blocked(child));
	assert_int_equal(hs_dev_authorize(child, msg, sizeof(msg)), -HS_EPERM);
	assert_non_null(strstr(msg, "authorize it first"));
	assert_int_equal(hs_dev_authorize(br, msg, sizeof(msg)), 0);
	assert_int_equal(hs_dev_authorize(child, msg, sizeof(msg)), 0);
	assert_string_equal(hs_dev_driver_name(child), "simnet");
	assert_int_equal(simcard_id(child) & 0xffff, 0x8086);
	rig_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blocked_card_is_inert),
		cmocka_unit_test(present_at_start),
		cmocka_unit_test(failed_authorize_rolls_back),
		cmocka_unit_test(bridge_first),
		cmocka_unit_test(boot_slot_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
