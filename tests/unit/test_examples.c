/*
 * test_examples.c - every example chassis, every empty slot: a card is
 * inserted, its slot powered the way each controller kind does it (PCIe
 * Slot Control, an SHPC slot command through BAR0, CompactPCI backplane
 * power), and hot-added.  It must get resources inside its slot's
 * windows, its driver must reach its registers, and no other device's
 * BARs, windows, bus numbers or driver may change.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_util.h"

#include "core_util.h"
#include "hotswap/cfg.h"
#include "hotswap/core.h"
#include "simcard.h"
#include "topology.h"

struct ctx {
	struct sim_topology *topo;
	struct sim *sim;
	struct hs_platform plat;
	struct hs_core *core;
};

static void up(struct ctx *c, const char *path)
{
	char err[512];

	if (sim_topology_load(path, NULL, &c->topo, err, sizeof(err))) {
		print_error("%s\n", err);
		fail();
	}
	c->sim = sim_topology_sim(c->topo);
	sim_get_platform(c->sim, &c->plat);
	simcard_ledger_reset();
	assert_int_equal(hs_core_create(&c->plat, NULL, &c->core), 0);
	hs_core_enable_rebalance(c->core);
	assert_int_equal(hs_driver_register(c->core, &simnet_driver), 0);
	assert_int_equal(hs_driver_register(c->core, &simstor_driver), 0);
	assert_int_equal(hs_core_enumerate(c->core), 0);
}

static void down(struct ctx *c)
{
	hs_core_destroy(c->core);
	sim_topology_free(c->topo);
}

struct find {
	const struct sim_fn *fn;
	hs_bdf_t where;
};

static int find_fn(void *arg, const struct sim_walk_node *n)
{
	struct find *f = arg;

	if (n->fn != f->fn)
		return 0;
	f->where = n->where;
	return 1;
}

/* The core's record of the port / bridge controlling a slot. */
static struct hs_dev *controller(struct ctx *c, struct sim_slot *s)
{
	struct find f = { sim_slot_controller(s), 0 };

	assert_int_equal(sim_walk(c->sim, find_fn, &f), 1);
	return hs_dev_find(c->core, f.where);
}

static void power_slot(struct ctx *c, struct sim_slot *s, struct hs_dev *br)
{
	const struct hs_platform *p = &c->plat;
	struct sim_slot_info si;
	struct hs_resource bar0;
	uint64_t v;

	sim_slot_get_info(s, &si);
	switch (si.kind) {
	case SIM_SLOT_PCIE: {
		uint16_t px;
		uint32_t ctl;

		assert_int_equal(hs_cfg_find_cap(p, hs_dev_bdf(br), 0x10, &px), 0);
		p->ops->cfg_read(p->ctx, hs_dev_bdf(br), px + 0x18, 2, &ctl);
		/* Power on, power indicator on (PCIe Base 7.5.3.10). */
		p->ops->cfg_write(p->ctx, hs_dev_bdf(br), px + 0x18, 2,
				  (ctl & ~0x0700u) | 0x0100u);
		break;
	}
	case SIM_SLOT_SHPC: {
		unsigned first_dev;

		assert_int_equal(hs_dev_bar(br, 0, &bar0), 0);
		p->ops->mem_read(p->ctx, bar0.start + 0x0c, 4, &v);
		first_dev = (v >> 8) & 0x1f;
		/* Slot operation: enabled, power indicator on, attention
		 * off (0x36) for logical slot dev - first_dev + 1. */
		p->ops->mem_write(p->ctx, bar0.start + 0x14, 4,
				  0x36u | ((si.dev - first_dev + 1u) << 8));
		break;
	}
	case SIM_SLOT_CPCI:
		/* High-availability backplanes switch slot power through
		 * the bridge's BAR0 register block; others power the board
		 * as it seats. */
		if (hs_dev_bar(br, 0, &bar0) == 0) {
			p->ops->mem_read(p->ctx, bar0.start, 4, &v);
			unsigned first_dev = (v >> 8) & 0x1f;

			p->ops->mem_write(p->ctx,
					  bar0.start + 0x10 + 4 * (si.dev - first_dev),
					  4, 1);
		}
		break;
	}
	/* Link training, command completion, then the spec's 100 ms. */
	sim_advance(c->sim, HS_MSEC(200));
}

static const char *card_for(enum sim_slot_kind k)
{
	return k == SIM_SLOT_PCIE ? "nvme" : k == SIM_SLOT_SHPC ? "nic-82559"
								: "cpci-io";
}

static unsigned try_every_empty_slot(const char *path)
{
	struct ctx c;
	unsigned done = 0, nslots = 0;

	up(&c, path);
	for (struct sim_slot *s = sim_slot_next(c.sim, NULL); s;
	     s = sim_slot_next(c.sim, s))
		nslots++;
	down(&c);
	/* A fresh chassis for each slot: each hot-add starts from boot. */
	for (unsigned i = 0; i < nslots; i++) {
		struct sim_slot_info si;
		struct sim_slot *s;
		struct hs_dev *br;
		char *before, *after, msg[256];
		const struct sim_card_spec *card;
		unsigned k = 0;

		up(&c, path);
		for (s = sim_slot_next(c.sim, NULL); k < i;
		     s = sim_slot_next(c.sim, s))
			k++;
		sim_slot_get_info(s, &si);
		if (si.present) {
			down(&c);
			continue;
		}
		br = controller(&c, s);
		assert_non_null(br);
		if (!hs_dev_is_hotplug_bridge(br)) {
			print_error("%s: slot %s: its bridge is not hot-plug\n",
				    path, si.name);
			fail();
		}
		card = sim_topology_card(c.topo, card_for(si.kind));
		assert_non_null(card);
		before = cu_snapshot(c.sim, c.core);
		assert_int_equal(sim_insert(s, card), 0);
		power_slot(&c, s, br);
		if (hs_core_hot_add(c.core, br, msg, sizeof(msg))) {
			print_error("%s: slot %s: %s\n", path, si.name, msg);
			fail();
		}
		after = cu_snapshot(c.sim, c.core);
		assert_int_equal(cu_same_except_new(before, after),
				 card->nfuncs);
		/* The new functions: below br, inside its windows, bound,
		 * and their drivers read the ID register through the BAR. */
		for (struct hs_dev *d = hs_dev_next(c.core, NULL); d;
		     d = hs_dev_next(c.core, d)) {
			struct hs_resource r, w;
			size_t len;

			if (cu_record(before, hs_dev_bdf(d), &len))
				continue;
			assert_ptr_equal(hs_dev_parent(d), br);
			for (int b = 0; b < 7; b++)
				if (hs_dev_bar(d, b, &r) == 0) {
					assert_int_equal(hs_dev_window(br, r.kind, &w), 0);
					assert_true(r.start >= w.start &&
						    r.start + r.size <= w.start + w.size);
				}
			if (hs_dev_driver_name(d))
				assert_int_equal(simcard_id(d),
						 (uint32_t)hs_dev_device(d) << 16 |
							 hs_dev_vendor(d));
		}
		free(before);
		free(after);
		down(&c);
		done++;
	}
	return done;
}

static void test_hot_add_in_every_example(void **state)
{
	char dirpath[512];
	struct dirent *e;
	unsigned files = 0, slots = 0;
	DIR *dir;

	(void)state;
	snprintf(dirpath, sizeof(dirpath), "%s/examples", HOTSWAP_SRCDIR);
	dir = opendir(dirpath);
	assert_non_null(dir);
	while ((e = readdir(dir))) {
		char path[1024];
		size_t n = strlen(e->d_name);

		if (n < 6 || strcmp(e->d_name + n - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirpath, e->d_name);
		slots += try_every_empty_slot(path);
		files++;
	}
	closedir(dir);
	print_message("hot-added into %u empty slots of %u example chassis\n",
		      slots, files);
	assert_true(files >= 6);
	assert_true(slots >= 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hot_add_in_every_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
