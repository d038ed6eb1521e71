/*
 * test_enum.c - the core bus driver on the simulator: enumeration, the
 * exact layout it produces, reachability of every BAR through the
 * simulated bridges, hot-add inside a slot's reservation without touching
 * anything running, rollback of failed hot-adds (no space, faulting card,
 * probe error, the Nth allocation failing), the 1998 picture of
 * seeds/001, malicious cards, removal with traffic in flight, events and
 * port services.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_util.h"

#include "hotswap/cfg.h"

#include "hotswap/core.h"
#include "hotswap/hpc.h"
#include "hotswap/slot.h"
#include "core_util.h"
#include "simcard.h"

static struct tu t;
static struct hs_core *core;
static struct sim_slot *slot1, *slot2, *slot10, *slot11;

/* ---- chassis ---------------------------------------------------------- */

static struct sim_fn *port(struct sim_bus *bus, uint8_t dev,
			   enum sim_port_type type, int phys)
{
	struct sim_port_spec ps = { .type = type, .vendor = 0x8086,
				    .device = 0x7c00 + dev,
				    .has_slot = phys >= 0,
				    .phys_slot = (uint16_t)(phys < 0 ? 0 : phys) };
	struct sim_fn *fn;
	int err = 0;

	sim_slot_features_default(&ps.slot);
	fn = sim_add_pcie_port(bus, dev, 0, &ps, &err);
	assert_non_null(fn);
	return fn;
}

static const struct sim_card_spec vga = {
	.name = "vga", .nfuncs = 1,
	.funcs = { { .vendor = 0x1234, .device = 0x1111,
		     .class_code = 0x030000,
		     .bar = { [0] = { SIM_BAR_MEM32, true, 16 << 20 },
			      [2] = { SIM_BAR_MEM32, false, 4096 } } } },
};

/*
 * The PCIe test chassis:
 *   00:01.0 root port, slot 1 (NIC present)
 *   00:02.0 root port, slot 2 (empty)
 *   00:03.0 root port, no slot -> switch upstream -> downstream 0 slot 10
 *           (GPU present), downstream 1 slot 11 (empty)
 *   00:04.0 soldered VGA (the boot console)
 *   00:05.0 soldered NIC
 */
static void pcie_chassis(const struct hs_core_params *params)
{
	struct sim_fn *rp3, *up;

	tu_init(&t, NULL);
	slot1 = sim_fn_slot(port(sim_root_bus(t.sim), 1, SIM_PORT_ROOT, 1));
	slot2 = sim_fn_slot(port(sim_root_bus(t.sim), 2, SIM_PORT_ROOT, 2));
	rp3 = port(sim_root_bus(t.sim), 3, SIM_PORT_ROOT, -1);
	up = port(sim_fn_secondary(rp3), 0, SIM_PORT_UPSTREAM, -1);
	slot10 = sim_fn_slot(port(sim_fn_secondary(up), 0, SIM_PORT_DOWNSTREAM, 10));
	slot11 = sim_fn_slot(port(sim_fn_secondary(up), 1, SIM_PORT_DOWNSTREAM, 11));
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 4, &vga), 0);
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 5, &tu_card_nic), 0);
	assert_int_equal(sim_coldplug(slot1, &tu_card_nic), 0);
	assert_int_equal(sim_coldplug(slot10, &tu_card_gpu), 0);
	simcard_ledger_reset();
	assert_int_equal(hs_core_create(&t.plat, params, &core), 0);
	hs_core_enable_rebalance(core);
	assert_int_equal(hs_driver_register(core, &simnet_driver), 0);
	assert_int_equal(hs_driver_register(core, &simstor_driver), 0);
}

static void params_exact(struct hs_core_params *p)
{
	hs_core_params_defaults(p);
	p->share_leftover = false;
}

static void done_all(void)
{
	hs_core_destroy(core);
	core = NULL;
	tu_fini(&t);
}

/* ---- snapshots: the whole database and every register ------------------- */

static char *snapshot(void)
{
	return cu_snapshot(t.sim, core);
}

/* ---- helpers --------------------------------------------------------- */

/* Power a PCIe slot on the way the controller will: Slot Control power
 * on, then link training (20 ms) and the spec's 100 ms. */
static void power_pcie_slot(struct hs_dev *br)
{
	uint16_t px = 0;
	uint32_t ctl;

	assert_int_equal(hs_cfg_find_cap(&t.plat, hs_dev_bdf(br), 0x10, &px), 0);
	t.plat.ops->cfg_read(t.plat.ctx, hs_dev_bdf(br), px + 0x18, 2, &ctl);
	t.plat.ops->cfg_write(t.plat.ctx, hs_dev_bdf(br), px + 0x18, 2,
			      (ctl & ~0x0700u) | 0x0100u);
	sim_advance(t.sim, HS_MSEC(120));
}

static struct hs_dev *bridge_of(int phys)
{
	struct hs_dev *br = hs_core_slot_bridge(core, (uint16_t)phys);

	assert_non_null(br);
	return br;
}

static bool inside(const struct hs_resource *r, const struct hs_resource *w)
{
	return r->start >= w->start && r->start + r->size <= w->start + w->size;
}

/* ---- tests ------------------------------------------------------------ */

static int done_rc = 99;
static char done_msg[256];

static void on_done(void *arg, int rc, const char *msg)
{
	(void)arg;
	done_rc = rc;
	snprintf(done_msg, sizeof(done_msg), "%s", msg ? msg : "");
}


static void test_boot_layout_is_exact(void **state)
{
	struct hs_core_params p;
	char *s;

	(void)state;
	params_exact(&p);
	pcie_chassis(&p);
	assert_int_equal(hs_core_enumerate(core), 0);
	s = snapshot();
	/*
	 * The layout is a decision; a change shows up here.  BDFs print as
	 * bus << 8 | devfn.  Buses are numbered depth first and each hot-plug
	 * bridge keeps 4 spare bus numbers (slot 1: 1-5, slot 2: 6-10, the
	 * switch 11-22).  Memory: bridge windows pack up from the base, the
	 * root bus's own BARs (the VGA, the soldered NIC) down from the top
	 * of the aperture, so the room between stays in one piece.  The
	 * switch (16 MiB GPU BAR in slot 10 + 8 MiB reserved for slot 11 =
	 * 24 MiB, 16 MiB aligned) goes first at the base, then slot 1's and
	 * slot 2's 8 MiB; the VGA's 16 MiB BAR ends the aperture.
	 * Prefetchable: the GPU's 256 MiB BAR plus 64 MiB for slot 11 under
	 * the switch, 64 MiB for slots 1 and 2.
	 * The root port without a slot reserves nothing of its own.
	 */
	static const char *const want[] = {
		"000008 8086:7c01 drv=pcieport iso=0 w0=1+5 w1=3000+1000 w2=81800000+800000 w3=414000000+4000000\n",
		"000100 8086:10d3 drv=simnet iso=0 b0=81800000+10000 b2=3000+20 b6=81810000+10000\n",
		"000010 8086:7c02 drv=pcieport iso=0 w0=6+5 w1=4000+1000 w2=82000000+800000 w3=418000000+4000000\n",
		"000018 8086:7c03 drv=pcieport iso=0 w0=b+c w1=1000+2000 w2=80000000+1800000 w3=400000000+14000000\n",
		"000b00 8086:7c00 drv=pcieport iso=0 w0=c+b w1=1000+2000 w2=80000000+1800000 w3=400000000+14000000\n",
		"000c00 8086:7c00 drv=pcieport iso=0 w0=d+5 w1=1000+1000 w2=80000000+1000000 w3=400000000+10000000\n",
		"000d00 10de:1eb8 drv=- iso=0 b0=80000000+1000000 b2=400000000+10000000\n",
		"000c08 8086:7c01 drv=pcieport iso=0 w0=12+5 w1=2000+1000 w2=81000000+800000 w3=410000000+4000000\n",
		"000020 1234:1111 drv=- iso=0 b0=df000000+1000000 b2=defdf000+1000\n",
		"000028 8086:10d3 drv=simnet iso=0 b0=deff0000+10000 b2=ffe0+20 b6=defe0000+10000\n",
	};
	char *line = s;

	/* Skip the hardware part: the database lines start with a BDF. */
	line = strstr(s, "--core--\n");
	assert_non_null(line);
	line += strlen("--core--\n");
	if (getenv("HS_DUMP"))
		fprintf(stderr, "%s", line);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		size_t n = strlen(want[i]);

		if (strncmp(line, want[i], n)) {
			char got[256];
			const char *nl = strchr(line, '\n');

			snprintf(got, sizeof(got), "%.*s", (int)(nl - line), line);
			print_error("line %zu\n want %s got  %s\n", i, want[i], got);
			fail();
		}
		line += n;
	}
	free(s);
	done_all();
}

static void test_every_bar_reachable(void **state)
{
	struct hs_core_params p;
	unsigned bound = 0;

	(void)state;
	hs_core_params_defaults(&p);
	pcie_chassis(&p);
	assert_int_equal(hs_core_enumerate(core), 0);
	for (struct hs_dev *d = hs_dev_next(core, NULL); d;
	     d = hs_dev_next(core, d)) {
		struct hs_resource r;
		uint64_t v;

		if (hs_dev_driver_name(d) && !hs_dev_is_bridge(d)) {
			/* Each driver read its ID register through its BAR. */
			assert_int_equal(simcard_id(d),
					 (uint32_t)hs_dev_device(d) << 16 |
						 hs_dev_vendor(d));
			bound++;
		}
		/* And from the CPU's side: every memory BAR answers at its
		 * first byte (the register file or zeros, never all ones). */
		for (int i = 0; i < 6; i++)
			if (hs_dev_bar(d, i, &r) == 0 && r.kind != HS_RES_IO) {
				t.plat.ops->mem_read(t.plat.ctx, r.start, 4, &v);
				assert_int_not_equal(v, 0xffffffffu);
			}
	}
	assert_int_equal(bound, 2);
	done_all();
}

static void test_hot_add_inside_reservation_nothing_moves(void **state)
{
	struct hs_core_params p;
	struct hs_dev *br, *nd;
	struct hs_resource bar, win;
	char msg[256], *before, *after;

	(void)state;
	hs_core_params_defaults(&p);
	pcie_chassis(&p);
	assert_int_equal(hs_core_enumerate(core), 0);
	before = snapshot();
	br = bridge_of(2);
	assert_int_equal(sim_insert(slot2, &tu_card_nic), 0);
	power_pcie_slot(br);
	assert_int_equal(hs_core_hot_add(core, br, msg, sizeof(msg)), 0);
	nd = hs_dev_find(core, HS_BDF(0, 6, 0, 0));
	assert_non_null(nd);
	assert_string_equal(hs_dev_driver_name(nd), "simnet");
	assert_int_equal(simcard_id(nd), 0x10d38086);
	assert_int_equal(hs_dev_bar(nd, 0, &bar), 0);
	assert_int_equal(hs_dev_window(br, HS_RES_MEM, &win), 0);
	assert_true(inside(&bar, &win));
	assert_int_equal(hs_dev_bar(nd, 2, &bar), 0);
	assert_int_equal(hs_dev_window(br, HS_RES_IO, &win), 0);
	assert_true(inside(&bar, &win));
	/* Every other device: same database records... */
	after = snapshot();
	assert_int_equal(cu_same_except_new(before, after), 1);
	/* ...and the same silicon: one more function, the rest as they were
	 * (the hardware part of the snapshot, line by line). */
	{
		char *hb = before, *ha = after;
		unsigned diff = 0, nb = 0, na = 0;

		*strstr(hb, "--core--") = '\0';
		*strstr(ha, "--core--") = '\0';
		for (char *l = hb; *l; l = strchr(l, '\n') + 1)
			nb++;
		for (char *l = ha; *l; l = strchr(l, '\n') + 1)
			na++;
		assert_int_equal(na, nb + 1);
		/* The new card sits on bus 6 alone: every line that is in
		 * both is unchanged except the slot's root port, whose Slot
		 * Control / Status the test itself wrote to power it. */
		for (char *l = hb; *l; l = strchr(l, '\n') + 1) {
			size_t n = strcspn(l, "\n");
			char line[2048];

			snprintf(line, sizeof(line), "%.*s\n", (int)n, l);
			if (!strstr(ha, line))
				diff++;
		}
		assert_int_equal(diff, 1);
	}
	free(before);
	free(after);
	done_all();
}

static void expect_rollback(const char *before, int rc, const char *msg,
			    const char *must_contain)
{
	char *after = snapshot();

	assert_int_not_equal(rc, 0);
	if (must_contain && !strstr(msg, must_contain)) {
		print_error("message \"%s\" lacks \"%s\"\n", msg, must_contain);
		fail();
	}
	if (strcmp(before, after)) {
		print_error("state changed after a failed hot-add (%s)\n", msg);
		fail();
	}
	free(after);
	assert_false(hs_core_in_transaction(core));
}

static void test_hot_add_no_space_names_resource(void **state)
{
	struct hs_core_params p;
	struct hs_dev *br;
	char msg[256], *before;
	int rc;

	(void)state;
	hs_core_params_defaults(&p);
	p.share_leftover = false;
	p.hotplug.mem = 2 << 20;
	p.hotplug.pref = 2 << 20;
	pcie_chassis(&p);
	assert_int_equal(hs_core_enumerate(core), 0);
	br = bridge_of(11);
	assert_int_equal(sim_insert(slot11, &tu_card_gpu), 0);
	power_pcie_slot(br);
	before = snapshot();
	rc = hs_core_hot_add(core, br, msg, sizeof(msg));
	assert_int_equal(rc, -HS_ENOSPC);
	/* Placement goes by resource kind: the 16 MiB BAR0 fails first. */
	expect_rollback(before, rc, msg, "memory: need 16 MiB");
	assert_non_null(strstr(msg, "has 2 MiB free"));
	free(before);
	done_all();
}

/* A fresh chassis with the multi-function card inserted in slot 2 and
 * powered, ready for a hot-add. */
static struct hs_dev *ready_for_hot_add(const struct sim_card_spec *card)
{
	struct hs_core_params p;
	struct hs_dev *br;

	hs_core_params_defaults(&p);
	pcie_chassis(&p);
	assert_int_equal(hs_core_enumerate(core), 0);
	br = bridge_of(2);
	assert_int_equal(sim_insert(slot2, card), 0);
	power_pcie_slot(br);
	return br;
}

static void test_hot_add_rolls_back_on_every_fault(void **state)
{
	struct sim_counters c0, c1;
	unsigned long accesses, failures = 0, bad = 0;
	struct hs_dev *br;
	char msg[256], *before;
	int rc;

	(void)state;
	/* How many config accesses a clean hot-add makes... (a card with a
	 * bridge and two NICs: bus numbers, windows, BARs, two drivers) */
	br = ready_for_hot_add(&tu_card_bridge);
	sim_get_counters(t.sim, &c0);
	assert_int_equal(hs_core_hot_add(core, br, msg, sizeof(msg)), 0);
	sim_get_counters(t.sim, &c1);
	accesses = (c1.cfg_reads + c1.cfg_writes) - (c0.cfg_reads + c0.cfg_writes);
	done_all();
	assert_true(accesses > 50);
	/* ...then the card faults at each one of them in turn. */
	for (unsigned long n = 1; n <= accesses; n++) {
		br = ready_for_hot_add(&tu_card_bridge);
		before = snapshot();
		sim_fault_cfg(t.sim, n);
		rc = hs_core_hot_add(core, br, msg, sizeof(msg));
		sim_fault_cfg(t.sim, 0);
		if (rc) {
			failures++;
			expect_rollback(before, rc, msg, NULL);
		} else {
			/* A fault that went unnoticed must not have left a
			 * half-configured card: both drivers reached their
			 * registers through the card's bridge. */
			unsigned ok = 0;

			for (struct hs_dev *d = hs_dev_next(core, NULL); d;
			     d = hs_dev_next(core, d))
				if (hs_dev_device(d) == 0x1229 &&
				    simcard_id(d) == 0x12298086)
					ok++;
			if (ok != 2) {
				print_message("fault at access %lu: hot-add "
					      "succeeded with %u of 2 NICs up\n",
					      n, ok);
				for (struct hs_dev *d = hs_dev_next(core, NULL); d;
				     d = hs_dev_next(core, d)) {
					const char *why = "";

					if (hs_dev_device(d) == 0x1229)
						print_message("  %06x drv=%s iso=%d %s id=%x\n",
							      hs_dev_bdf(d),
							      hs_dev_driver_name(d) ? hs_dev_driver_name(d) : "-",
							      hs_dev_isolated(d, &why), why,
							      simcard_id(d));
				}
				bad++;
			}
		}
		free(before);
		done_all();
	}
	/* Some faults go unnoticed (a write dropped whose value was already
	 * there, a read whose answer is not needed); the others all rolled
	 * back cleanly. */
	print_message("config faults: %lu of %lu made the hot-add fail\n",
		      failures, accesses);
	assert_true(failures > 0);
	assert_int_equal(bad, 0);
}

static unsigned count_slots(void)
{
	unsigned n = 0;

	for (struct hs_slot *s = hs_slot_next(core, NULL); s;
	     s = hs_slot_next(core, s))
		n++;
	return n;
}

/* Boot enumeration with the nth allocation failing, for every n until
 * one gets through: it fails as a whole (nothing recorded, every
 * register as it was, no slot half watched: a controller driver that
 * could not start would leave its slots' cards to lose power unseen),
 * and the same call again, with memory, builds what a clean boot
 * builds. */
static void test_boot_fails_whole_on_allocation_failure(void **state)
{
	struct hs_core_params p;
	char *clean, *before, *after;
	unsigned n, slots;
	int rc;

	(void)state;
	params_exact(&p);
	pcie_chassis(&p);
	assert_int_equal(hs_controllers_register(core), 0);
	assert_int_equal(hs_core_enumerate(core), 0);
	clean = snapshot();
	slots = count_slots();
	assert_int_equal(slots, 4);
	done_all();
	for (n = 1;; n++) {
		pcie_chassis(&p);
		assert_int_equal(hs_controllers_register(core), 0);
		before = snapshot();
		sim_fault_alloc(t.sim, n);
		rc = hs_core_enumerate(core);
		sim_fault_alloc(t.sim, 0);
		if (rc == 0) {
			/* Past the last allocation: the whole machine. */
			assert_int_equal(count_slots(), slots);
			free(before);
			done_all();
			break;
		}
		assert_int_equal(rc, -HS_ENOMEM);
		assert_null(hs_dev_next(core, NULL));
		assert_int_equal(count_slots(), 0);
		after = snapshot();
		if (strcmp(before, after)) {
			print_error("boot failed at allocation %u and left "
				    "changes behind\n", n);
			fail();
		}
		free(after);
		assert_int_equal(hs_core_enumerate(core), 0);
		after = snapshot();
		assert_string_equal(after, clean);
		assert_int_equal(count_slots(), slots);
		free(after);
		free(before);
		done_all();
		assert_true(n < 2000);
	}
	free(clean);
	/* Controllers allocate too: their failures were among those. */
	assert_true(n > 10);
}

static void test_hot_add_rolls_back_on_allocation_failure(void **state)
{
	struct hs_dev *br;
	char msg[256], *before;
	unsigned n;
	int rc;

	(void)state;
	/* The nth allocation fails, for every n until one gets through. */
	for (n = 1;; n++) {
		br = ready_for_hot_add(&tu_card_bridge);
		before = snapshot();
		sim_fault_alloc(t.sim, n);
		rc = hs_core_hot_add(core, br, msg, sizeof(msg));
		sim_fault_alloc(t.sim, 0);
		if (rc)
			expect_rollback(before, rc, msg, NULL);
		free(before);
		done_all();
		if (rc == 0)
			break;
		assert_true(n < 500);
	}
	assert_true(n > 3);
}

static void test_hot_add_probe_error_rolls_back(void **state)
{
	struct hs_core_params p;
	struct hs_dev *br;
	char msg[256], *before;
	int rc;

	(void)state;
	hs_core_params_defaults(&p);
	pcie_chassis(&p);
	assert_int_equal(hs_core_enumerate(core), 0);
	br = bridge_of(2);
	assert_int_equal(sim_insert(slot2, &tu_card_nic), 0);
	power_pcie_slot(br);
	before = snapshot();
	simcard_fail_next_probe(-HS_EIO);
	rc = hs_core_hot_add(core, br, msg, sizeof(msg));
	expect_rollback(before, rc, msg, "driver simnet failed to start");
	/* The same card comes up once the driver behaves. */
	assert_int_equal(hs_core_hot_add(core, br, msg, sizeof(msg)), 0);
	free(before);
	done_all();
}

/* seeds/001: bus 0 with bridge A (CompactPCI hot-swap bus 1, packed with
 * two devices at I/O 7C00 and 7C80, an empty slot) and bridge B (bus 2,
 * one device).  A card with its own bridge is inserted into the slot. */
static const struct sim_card_spec io128 = {
	.name = "io128", .nfuncs = 1,
	.funcs = { { .vendor = 0x1234, .device = 0x0128,
		     .class_code = 0x020000, .irq_pin = 1,
		     .bar = { [0] = { SIM_BAR_IO, false, 128 } } } },
};

static void seed001(const struct hs_core_params *params,
		    struct sim_slot **empty)
{
	struct sim_config cfg;
	struct sim_cpci_spec cs = { .vendor = 0x8086, .device = 0xb154,
				    .nslots = 3, .first_dev = 1,
				    .first_phys = 1, .enum_line = 40 };
	struct sim_fn *a, *b;
	int err;

	sim_config_defaults(&cfg);
	/* I/O below 0x7000 belongs to devices not shown (seeds/001). */
	cfg.io_base = 0x7000;
	cfg.io_limit = 0xffff;
	cfg.mem_base = 0x80000000;
	cfg.mem_limit = 0x807fffff; /* 8 MiB: tight */
	cfg.pref_limit = 0;
	tu_init(&t, &cfg);
	a = sim_add_cpci_segment(sim_root_bus(t.sim), 1, 0, &cs, &err);
	assert_non_null(a);
	b = sim_add_pci_bridge(sim_root_bus(t.sim), 2, 0, 0x8086, 0x244e, &err);
	assert_non_null(b);
	assert_int_equal(sim_coldplug(sim_slot_by_phys(t.sim, 1), &io128), 0);
	assert_int_equal(sim_coldplug(sim_slot_by_phys(t.sim, 2), &io128), 0);
	assert_int_equal(sim_add_device(sim_fn_secondary(b), 0, &io128), 0);
	*empty = sim_slot_by_phys(t.sim, 3);
	simcard_ledger_reset();
	assert_int_equal(hs_core_create(&t.plat, params, &core), 0);
	hs_core_enable_rebalance(core);
	assert_int_equal(hs_driver_register(core, &simnet_driver), 0);
	assert_int_equal(hs_core_enumerate(core), 0);
}

static void test_seed001_with_reservations(void **state)
{
	struct hs_core_params p;
	struct sim_slot *empty;
	struct hs_dev *a;
	char msg[256];

	(void)state;
	hs_core_params_defaults(&p);
	p.share_leftover = false;
	p.hotplug.mem = 1 << 20;
	p.hotplug.pref = 0;
	seed001(&p, &empty);
	a = hs_dev_find(core, HS_BDF(0, 0, 1, 0));
	assert_non_null(a);
	assert_true(hs_dev_is_hotplug_bridge(a));
	assert_int_equal(sim_insert(empty, &tu_card_bridge), 0);
	sim_advance(t.sim, HS_MSEC(1));
	if (hs_core_hot_add(core, a, msg, sizeof(msg))) {
		print_error("hot-add: %s\n", msg);
		fail();
	}
	/* The card's bridge got a bus number inside A's range, and both
	 * NICs behind it are bound and reachable. */
	unsigned n = 0;

	for (struct hs_dev *d = hs_dev_next(core, NULL); d;
	     d = hs_dev_next(core, d))
		if (hs_dev_vendor(d) == 0x8086 && hs_dev_device(d) == 0x1229) {
			assert_string_equal(hs_dev_driver_name(d), "simnet");
			assert_int_equal(simcard_id(d), 0x12298086);
			n++;
		}
	assert_int_equal(n, 2);
	done_all();
}

static void test_seed001_without_reservations(void **state)
{
	struct hs_core_params p;
	struct sim_slot *empty;
	struct hs_dev *a;
	char msg[256], *before;
	int rc;

	(void)state;
	hs_core_params_defaults(&p);
	p.share_leftover = false;
	memset(&p.hotplug, 0, sizeof(p.hotplug));
	seed001(&p, &empty);
	a = hs_dev_find(core, HS_BDF(0, 0, 1, 0));
	assert_non_null(a);
	assert_int_equal(sim_insert(empty, &tu_card_bridge), 0);
	sim_advance(t.sim, HS_MSEC(1));
	before = snapshot();
	rc = hs_core_hot_add(core, a, msg, sizeof(msg));
	/* "There are no unassigned numbers adjacent to 1" (seeds/001). */
	expect_rollback(before, rc, msg, "bus numbers: need 1 more");
	free(before);
	done_all();
}

static void test_multislot_bus_removes_one_slot(void **state)
{
	struct hs_core_params p;
	struct sim_slot *empty;
	struct hs_dev *a, *card_br;
	struct hs_resource bus1, bus2;
	char msg[256];

	(void)state;
	hs_core_params_defaults(&p);
	seed001(&p, &empty);
	a = hs_dev_find(core, HS_BDF(0, 0, 1, 0));
	assert_non_null(a);
	/* A bridge card in slot 3 (device 3) takes bus numbers from A's
	 * reserved range. */
	assert_int_equal(sim_insert(empty, &tu_card_bridge), 0);
	sim_advance(t.sim, HS_MSEC(1));
	assert_int_equal(hs_core_hot_add(core, a, msg, sizeof(msg)), 0);
	card_br = hs_dev_find(core, HS_BDF(0, 1, 3, 0));
	assert_non_null(card_br);
	assert_int_equal(hs_dev_window(card_br, HS_RES_BUS, &bus1), 0);
	/* Remove only slot 1's board: slot 2's board and the bridge card
	 * stay, untouched. */
	done_rc = 99;
	assert_int_equal(hs_core_hot_remove(core, a, 1, on_done, NULL), 0);
	sim_advance(t.sim, HS_MSEC(2));
	assert_int_equal(done_rc, 0);
	assert_null(hs_dev_find(core, HS_BDF(0, 1, 1, 0)));
	assert_non_null(hs_dev_find(core, HS_BDF(0, 1, 2, 0)));
	assert_string_equal(hs_dev_driver_name(hs_dev_find(core, HS_BDF(0, 1, 2, 0))),
			    "simnet");
	assert_ptr_equal(hs_dev_find(core, HS_BDF(0, 1, 3, 0)), card_br);
	/* An empty slot has nothing to remove. */
	assert_int_equal(hs_core_hot_remove(core, a, 1, NULL, NULL), -HS_ENOENT);
	/* Pull the bridge card (surprise), put it in slot 1: it gets the
	 * same bus numbers back, the first free run. */
	assert_int_equal(sim_remove(empty, SIM_REMOVE_SURPRISE), 0);
	hs_core_surprise_remove(core, a, 3);
	assert_null(hs_dev_find(core, HS_BDF(0, 1, 3, 0)));
	assert_int_equal(sim_remove(sim_slot_by_phys(t.sim, 1),
				    SIM_REMOVE_ORDERLY), 0);
	assert_int_equal(sim_insert(sim_slot_by_phys(t.sim, 1), &tu_card_bridge), 0);
	sim_advance(t.sim, HS_MSEC(1));
	assert_int_equal(hs_core_hot_add(core, a, msg, sizeof(msg)), 0);
	card_br = hs_dev_find(core, HS_BDF(0, 1, 1, 0));
	assert_non_null(card_br);
	assert_int_equal(hs_dev_window(card_br, HS_RES_BUS, &bus2), 0);
	assert_int_equal(bus2.start, bus1.start);
	done_all();
}

static const struct sim_card_spec liars[] = {
	{ .name = "cap-loop", .nfuncs = 1,
	  .funcs = { { .vendor = 0x1234, .device = 0xbad1,
		       .class_code = 0x020000, .msi_vectors = 1,
		       .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } },
		       .quirks = SIM_QUIRK_CAP_LOOP } } },
	{ .name = "cap-outside", .nfuncs = 1,
	  .funcs = { { .vendor = 0x1234, .device = 0xbad2,
		       .class_code = 0x020000,
		       .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } },
		       .quirks = SIM_QUIRK_CAP_OUTSIDE } } },
	{ .name = "extcap-loop", .nfuncs = 1, .pcie = true,
	  .funcs = { { .vendor = 0x1234, .device = 0xbad3,
		       .class_code = 0x020000,
		       .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } },
		       .quirks = SIM_QUIRK_EXTCAP_LOOP } } },
	{ .name = "bad-bar", .nfuncs = 1,
	  .funcs = { { .vendor = 0x1234, .device = 0xbad4,
		       .class_code = 0x020000,
		       .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } },
		       .quirks = SIM_QUIRK_BAR_BAD_SIZE } } },
	{ .name = "greedy-bridge", .nfuncs = 1,
	  .funcs = { { .vendor = 0x1234, .device = 0xbad5,
		       .is_bridge = true, .quirks = SIM_QUIRK_BUS_GREEDY } } },
	{ .name = "huge-bar", .nfuncs = 1, .pcie = true,
	  .funcs = { { .vendor = 0x1234, .device = 0xbad6,
		       .class_code = 0x020000,
		       .bar = { [0] = { SIM_BAR_MEM64, true, 1ull << 63 } } } } },
};

static void test_malicious_cards_isolated(void **state)
{
	static const char *const reasons[] = {
		"capability list loops",
		"capability pointer outside",
		"capability list loops",
		"not a power of two",
		"bridge claims buses",
		"impossible size",
	};
	struct hs_core_params p;

	(void)state;
	hs_core_params_defaults(&p);
	tu_init(&t, NULL);
	for (int i = 0; i < 6; i++)
		assert_int_equal(sim_add_device(sim_root_bus(t.sim),
						(uint8_t)(10 + i), &liars[i]), 0);
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 20, &tu_card_nic), 0);
	simcard_ledger_reset();
	assert_int_equal(hs_core_create(&t.plat, &p, &core), 0);
	hs_core_enable_rebalance(core);
	assert_int_equal(hs_driver_register(core, &simnet_driver), 0);
	assert_int_equal(hs_core_enumerate(core), 0);
	for (int i = 0; i < 6; i++) {
		struct hs_dev *d = hs_dev_find(core, HS_BDF(0, 0, 10 + i, 0));
		const char *why = NULL;
		uint32_t cmd;

		assert_non_null(d);
		assert_true(hs_dev_isolated(d, &why));
		if (!strstr(why, reasons[i])) {
			print_error("%s: reason \"%s\"\n", liars[i].name, why);
			fail();
		}
		assert_null(hs_dev_driver_name(d));
		t.plat.ops->cfg_read(t.plat.ctx, hs_dev_bdf(d), 0x04, 2, &cmd);
		assert_int_equal(cmd & 7, 0);
	}
	/* The honest card next to them came up. */
	assert_string_equal(hs_dev_driver_name(hs_dev_find(core, HS_BDF(0, 0, 20, 0))),
			    "simnet");
	done_all();
}

static void test_orderly_removal_loses_nothing(void **state)
{
	struct hs_core_params p;
	struct hs_dev *nic1, *other;
	struct simcard_ledger *l = simcard_ledger();

	(void)state;
	hs_core_params_defaults(&p);
	pcie_chassis(&p);
	assert_int_equal(hs_core_enumerate(core), 0);
	nic1 = hs_dev_find(core, HS_BDF(0, 1, 0, 0));
	other = hs_dev_find(core, HS_BDF(0, 0, 5, 0));
	assert_int_equal(simcard_submit(nic1, 20), 20);
	assert_int_equal(simcard_submit(other, 20), 20);
	sim_advance(t.sim, HS_USEC(120)); /* a couple are done */
	/* A veto first: nothing changes. */
	simcard_set_busy(nic1, "interface eth1 carries the management VLAN");
	done_rc = 99;
	assert_int_equal(hs_core_hot_remove(core, bridge_of(1), HS_SLOT_ALL, on_done, NULL),
			 -HS_EBUSY);
	assert_int_equal(done_rc, -HS_EBUSY);
	assert_non_null(strstr(done_msg, "management VLAN"));
	assert_non_null(hs_dev_find(core, HS_BDF(0, 1, 0, 0)));
	simcard_set_busy(nic1, NULL);
	/* Now the removal: quiesce waits for the card to finish. */
	done_rc = 99;
	assert_int_equal(hs_core_hot_remove(core, bridge_of(1), HS_SLOT_ALL, on_done, NULL), 0);
	assert_int_equal(done_rc, 99);       /* still draining */
	/* New requests are refused while quiescing. */
	assert_int_equal(simcard_submit(nic1, 1), 0);
	sim_advance(t.sim, HS_MSEC(5));
	assert_int_equal(done_rc, 0);
	assert_null(hs_dev_find(core, HS_BDF(0, 1, 0, 0)));
	/* Every request ended, and the other NIC kept running meanwhile. */
	sim_advance(t.sim, HS_MSEC(5));
	assert_int_equal(l->submitted, 40);
	assert_int_equal(l->completed + l->failed, l->submitted);
	assert_int_equal(l->completed, 40);
	assert_int_equal(simcard_submit(other, 3), 3);
	sim_advance(t.sim, HS_MSEC(2));
	assert_int_equal(l->completed, 43);
	done_all();
}

static void test_surprise_removal_fails_in_flight(void **state)
{
	struct hs_core_params p;
	struct hs_dev *nic1;
	struct simcard_ledger *l = simcard_ledger();

	(void)state;
	hs_core_params_defaults(&p);
	pcie_chassis(&p);
	assert_int_equal(hs_core_enumerate(core), 0);
	nic1 = hs_dev_find(core, HS_BDF(0, 1, 0, 0));
	assert_int_equal(simcard_submit(nic1, 30), 30);
	sim_advance(t.sim, HS_USEC(500));
	assert_int_equal(sim_remove(slot1, SIM_REMOVE_SURPRISE), 0);
	hs_core_surprise_remove(core, bridge_of(1), 0);
	assert_null(hs_dev_find(core, HS_BDF(0, 1, 0, 0)));
	assert_int_equal(l->submitted, 30);
	assert_int_equal(l->completed + l->failed, 30);
	assert_true(l->failed > 0);
	assert_true(l->completed >= 10);
	done_all();
}

static uint64_t seqs[32];
static enum hs_event_type types[32];
static hs_bdf_t bdfs[32];
static unsigned nev;

static void on_event(void *arg, const struct hs_event *ev)
{
	(void)arg;
	if (nev < 32) {
		seqs[nev] = ev->seq;
		types[nev] = ev->type;
		bdfs[nev] = ev->bdf;
		nev++;
	}
}

static void test_events_child_before_parent(void **state)
{
	struct hs_core_params p;
	struct hs_dev *br;
	char msg[256];

	(void)state;
	hs_core_params_defaults(&p);
	pcie_chassis(&p);
	assert_int_equal(hs_core_enumerate(core), 0);
	br = bridge_of(2);
	assert_int_equal(sim_insert(slot2, &tu_card_bridge), 0);
	power_pcie_slot(br);
	nev = 0;
	assert_int_equal(hs_core_subscribe(core, on_event, NULL), 0);
	assert_int_equal(hs_core_hot_add(core, br, msg, sizeof(msg)), 0);
	/* Adds: the card's bridge, then its two NICs; then two binds. */
	assert_int_equal(nev, 5);
	assert_int_equal(types[0], HS_EV_DEV_ADDED);
	assert_int_equal(bdfs[0], HS_BDF(0, 6, 0, 0));
	for (unsigned i = 1; i < nev; i++)
		assert_true(seqs[i] == seqs[i - 1] + 1);
	nev = 0;
	done_rc = 99;
	assert_int_equal(hs_core_hot_remove(core, br, HS_SLOT_ALL, on_done, NULL), 0);
	sim_advance(t.sim, HS_MSEC(2));
	assert_int_equal(done_rc, 0);
	/* Unbind + remove for each NIC, then the card's bridge last. */
	assert_int_equal(nev, 5);
	assert_int_equal(types[nev - 1], HS_EV_DEV_REMOVED);
	assert_int_equal(bdfs[nev - 1], HS_BDF(0, 6, 0, 0));
	hs_core_unsubscribe(core, on_event, NULL);
	done_all();
}

static int add_rc = 99;

static void on_add(void *arg, int rc, const char *msg)
{
	(void)arg;
	(void)msg;
	add_rc = rc;
}

static void test_add_waits_for_remove_of_same_slot(void **state)
{
	struct hs_core_params p;
	struct hs_dev *br, *nic;
	char msg[256];

	(void)state;
	hs_core_params_defaults(&p);
	pcie_chassis(&p);
	assert_int_equal(hs_core_enumerate(core), 0);
	br = bridge_of(1);
	nic = hs_dev_find(core, HS_BDF(0, 1, 0, 0));
	assert_int_equal(simcard_submit(nic, 10), 10);
	nev = 0;
	assert_int_equal(hs_core_subscribe(core, on_event, NULL), 0);
	done_rc = 99;
	assert_int_equal(hs_core_hot_remove(core, br, HS_SLOT_ALL, on_done, NULL), 0);
	assert_int_equal(done_rc, 99); /* quiescing: requests in flight */
	/* The operator swaps the card meanwhile; the add must wait. */
	assert_int_equal(hs_core_hot_add(core, br, msg, sizeof(msg)), -HS_EBUSY);
	assert_non_null(strstr(msg, "still in progress"));
	add_rc = 99;
	assert_int_equal(hs_core_hot_add_async(core, br, on_add, NULL), 0);
	assert_int_equal(add_rc, 99);
	/* A second removal of the same slot is refused, not interleaved. */
	assert_int_equal(hs_core_hot_remove(core, br, HS_SLOT_ALL, NULL, NULL), -HS_EBUSY);
	sim_advance(t.sim, HS_MSEC(2));
	assert_int_equal(done_rc, 0);
	assert_int_equal(add_rc, 0);
	/* Events: the removal's (unbind, removed) strictly before the
	 * add's (added, bound). */
	assert_int_equal(nev, 4);
	assert_int_equal(types[0], HS_EV_DRIVER_UNBOUND);
	assert_int_equal(types[1], HS_EV_DEV_REMOVED);
	assert_int_equal(types[2], HS_EV_DEV_ADDED);
	assert_int_equal(types[3], HS_EV_DRIVER_BOUND);
	assert_true(seqs[2] > seqs[1]);
	hs_core_unsubscribe(core, on_event, NULL);
	done_all();
}

static const struct sim_card_spec intx_nic = {
	.name = "intx-nic", .pcie = true, .nfuncs = 1,
	.funcs = { { .vendor = 0x8086, .device = 0x10d3, .class_code = 0x020000,
		     .irq_pin = 1,
		     .bar = { [0] = { SIM_BAR_MEM32, false, 64 << 10 } } } },
};

static void noop_irq(void *arg, const struct hs_irq *irq)
{
	(void)arg;
	(void)irq;
}

static void test_shared_intx_survives_removal(void **state)
{
	struct hs_core_params p;
	struct sim_slot *s1;
	struct hs_dev *other;
	struct simcard_ledger *l = simcard_ledger();
	uint32_t line;

	(void)state;
	hs_core_params_defaults(&p);
	tu_init(&t, NULL);
	/* 00:05.0 and the card behind the port at 00:01.0 (swizzled) end
	 * up on the same INTx line; neither has MSI. */
	s1 = sim_fn_slot(port(sim_root_bus(t.sim), 1, SIM_PORT_ROOT, 1));
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 5, &intx_nic), 0);
	assert_int_equal(sim_coldplug(s1, &intx_nic), 0);
	simcard_ledger_reset();
	assert_int_equal(hs_core_create(&t.plat, &p, &core), 0);
	hs_core_enable_rebalance(core);
	assert_int_equal(hs_driver_register(core, &simnet_driver), 0);
	assert_int_equal(hs_core_enumerate(core), 0);
	t.plat.ops->intx_route(t.plat.ctx, HS_BDF(0, 0, 5, 0), 1, &line);
	done_rc = 99;
	assert_int_equal(hs_core_hot_remove(core, bridge_of(1), HS_SLOT_ALL,
					    on_done, NULL), 0);
	sim_advance(t.sim, HS_MSEC(2));
	assert_int_equal(done_rc, 0);
	/* The removed driver's handler must be gone from the line: the
	 * other NIC's interrupts now run (under ASan) without touching
	 * freed memory, and its requests complete. */
	other = hs_dev_find(core, HS_BDF(0, 0, 5, 0));
	assert_int_equal(simcard_submit(other, 4), 4);
	sim_advance(t.sim, HS_MSEC(5));
	assert_int_equal(l->completed, 4);
	/* Outside any transaction, asking for an interrupt just works (it
	 * used to fail for want of an undo log). */
	hs_dev_free_irq(other);
	assert_int_equal(hs_dev_request_irq(other, noop_irq, NULL), 0);
	hs_dev_free_irq(other);
	done_all();
}

static void test_hot_add_refused_on_isolated_bridge(void **state)
{
	struct sim_config cfg;
	struct sim_cpci_spec cs = { .vendor = 0x8086, .device = 0xb154,
				    .nslots = 2, .first_dev = 1,
				    .first_phys = 1, .enum_line = 40 };
	struct sim_counters c0, c1;
	struct hs_dev *b2;
	char msg[256];
	int err;

	(void)state;
	sim_config_defaults(&cfg);
	cfg.bus_last = 1; /* one bus number for two backplanes */
	tu_init(&t, &cfg);
	assert_non_null(sim_add_cpci_segment(sim_root_bus(t.sim), 1, 0, &cs, &err));
	cs.first_phys = 3;
	assert_non_null(sim_add_cpci_segment(sim_root_bus(t.sim), 2, 0, &cs, &err));
	assert_int_equal(hs_core_create(&t.plat, NULL, &core), 0);
	hs_core_enable_rebalance(core);
	assert_int_equal(hs_core_enumerate(core), 0);
	b2 = hs_dev_find(core, HS_BDF(0, 0, 2, 0));
	assert_non_null(b2);
	assert_true(hs_dev_isolated(b2, NULL));
	assert_int_equal(sim_insert(sim_slot_by_phys(t.sim, 3), &io128), 0);
	sim_get_counters(t.sim, &c0);
	assert_int_equal(hs_core_hot_add(core, b2, msg, sizeof(msg)), -HS_ENODEV);
	sim_get_counters(t.sim, &c1);
	/* Refused before a single cycle reached the hardware. */
	assert_int_equal(c1.cfg_writes, c0.cfg_writes);
	assert_non_null(strstr(msg, "isolated"));
	done_all();
}

static int svc_probes;

static int svc_probe(struct hs_dev *port, void **priv)
{
	(void)port;
	*priv = NULL;
	svc_probes++;
	return 0;
}

static const struct hs_port_service hp_svc = { "test-hotplug",
					       HS_PORT_SVC_HOTPLUG, svc_probe,
					       NULL };
static const struct hs_port_service aer_svc = { "test-aer", HS_PORT_SVC_AER,
						svc_probe, NULL };

static void test_port_services_coexist(void **state)
{
	struct hs_core_params p;

	(void)state;
	hs_core_params_defaults(&p);
	pcie_chassis(&p);
	assert_int_equal(hs_port_service_register(core, &hp_svc), 0);
	assert_int_equal(hs_port_service_register(core, &aer_svc), 0);
	assert_int_equal(hs_core_enumerate(core), 0);
	/* A root port with a slot hosts both services at once. */
	assert_int_equal(hs_dev_port_services(bridge_of(1)),
			 HS_PORT_SVC_HOTPLUG | HS_PORT_SVC_AER);
	/* The slotless root port: AER only; a downstream port: hot-plug. */
	assert_int_equal(hs_dev_port_services(hs_dev_find(core, HS_BDF(0, 0, 3, 0))),
			 HS_PORT_SVC_AER);
	assert_int_equal(hs_dev_port_services(bridge_of(10)), HS_PORT_SVC_HOTPLUG);
	assert_string_equal(hs_dev_driver_name(bridge_of(10)), "pcieport");
	done_all();
}

static void test_boot_vga_never_removed(void **state)
{
	struct hs_core_params p;
	struct sim_slot *s;
	struct sim_fn *rp;

	(void)state;
	hs_core_params_defaults(&p);
	tu_init(&t, NULL);
	rp = port(sim_root_bus(t.sim), 1, SIM_PORT_ROOT, 1);
	s = sim_fn_slot(rp);
	assert_int_equal(sim_coldplug(s, &vga), 0);
	assert_int_equal(hs_core_create(&t.plat, &p, &core), 0);
	hs_core_enable_rebalance(core);
	assert_int_equal(hs_core_enumerate(core), 0);
	done_rc = 99;
	assert_int_equal(hs_core_hot_remove(core, bridge_of(1), HS_SLOT_ALL, on_done, NULL),
			 -HS_EPERM);
	assert_non_null(strstr(done_msg, "boot console"));
	done_all();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_layout_is_exact),
		cmocka_unit_test(test_every_bar_reachable),
		cmocka_unit_test(test_hot_add_inside_reservation_nothing_moves),
		cmocka_unit_test(test_hot_add_no_space_names_resource),
		cmocka_unit_test(test_hot_add_rolls_back_on_every_fault),
		cmocka_unit_test(test_hot_add_rolls_back_on_allocation_failure),
		cmocka_unit_test(test_boot_fails_whole_on_allocation_failure),
		cmocka_unit_test(test_hot_add_probe_error_rolls_back),
		cmocka_unit_test(test_seed001_with_reservations),
		cmocka_unit_test(test_seed001_without_reservations),
		cmocka_unit_test(test_multislot_bus_removes_one_slot),
		cmocka_unit_test(test_malicious_cards_isolated),
		cmocka_unit_test(test_orderly_removal_loses_nothing),
		cmocka_unit_test(test_surprise_removal_fails_in_flight),
		cmocka_unit_test(test_events_child_before_parent),
		cmocka_unit_test(test_add_waits_for_remove_of_same_slot),
		cmocka_unit_test(test_shared_intx_survives_removal),
		cmocka_unit_test(test_hot_add_refused_on_isolated_bridge),
		cmocka_unit_test(test_port_services_coexist),
		cmocka_unit_test(test_boot_vga_never_removed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
