/*
 * test_rebalance.c - runtime rebalancing (issue #7) on the simulator: a
 * card that does not fit its slot's windows comes up anyway, moving only
 * what it must, with traffic running on what moves; vetoes, a driver
 * that does not start again and faults at every step roll back cleanly;
 * under the never-move policy nothing running changes address and the
 * refusal says what would have to move.
 *
 * Chassis: four PCIe root ports (slots 1-4) on the root bus, hot-plug
 * reservations of 2 MiB memory and 2 MiB prefetchable (Linux's defaults)
 * with nothing shared out, a 384 MiB prefetchable aperture.  A storage
 * card with a 128 MiB prefetchable BAR0 (the simulator's register file)
 * sits in slot 4, NICs in slots 2 and 3.  A GPU's 256 MiB BAR can only
 * go at the start of the aperture, where the storage card is.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_util.h"

#include "controllers.h"
#include "core_util.h"
#include "hotswap/core.h"
#include "hotswap/slot.h"
#include "hotswap/txn.h"
#include "simcard.h"
#include "topology.h"

static const struct sim_card_spec card_stor = {
	.name = "test-stor128",
	.pcie = true,
	.nfuncs = 1,
	.funcs = { {
		.fn = 0, .vendor = 0x1b36, .device = 0x0010,
		.class_code = 0x010802, .irq_pin = 1, .msi_vectors = 1,
		.bar = { [0] = { SIM_BAR_MEM64, true, 128ull << 20 } },
		.latency_us = 1000,
	} },
};

struct t7 {
	struct tu t;
	struct hs_core *core;
	char alerts[1024];
	unsigned moved, windows;
	hs_bdf_t moved_bdf[8], moved_old[8];
};

static void on_event(void *arg, const struct hs_event *ev)
{
	struct t7 *c = arg;
	size_t n = strlen(c->alerts);

	if (ev->type == HS_EV_SLOT_ALERT && ev->msg)
		snprintf(c->alerts + n, sizeof(c->alerts) - n, "%s\n", ev->msg);
	if (ev->type == HS_EV_DEV_MOVED) {
		if (c->moved < 8) {
			c->moved_bdf[c->moved] = ev->bdf;
			c->moved_old[c->moved] = ev->old_bdf;
		}
		c->moved++;
	}
	if (ev->type == HS_EV_WINDOW_CHANGED)
		c->windows++;
}

static void dbg_log(void *arg, enum hs_log_level l, const char *m)
{
	(void)arg;
	if (getenv("T7_LOG"))
		fprintf(stderr, "[%d] %s\n", (int)l, m);
}

/* Root ports 00:01.0-00:0n.0 with slots 1-n. */
static void add_root_ports(struct sim_bus *root, unsigned n)
{
	int err;

	for (unsigned i = 1; i <= n; i++) {
		struct sim_port_spec ps = {
			.type = SIM_PORT_ROOT, .vendor = 0x8086,
			.device = 0x7c00, .has_slot = true,
			.phys_slot = (uint16_t)i,
		};

		sim_slot_features_default(&ps.slot);
		assert_non_null(sim_add_pcie_port(root, (uint8_t)i, 0, &ps, &err));
	}
}

static const struct sim_card_spec card_stor64 = {
	.name = "test-stor64",
	.pcie = true,
	.nfuncs = 1,
	.funcs = { {
		.fn = 0, .vendor = 0x1b36, .device = 0x0010,
		.class_code = 0x010802, .irq_pin = 1, .msi_vectors = 1,
		.bar = { [0] = { SIM_BAR_MEM64, true, 64ull << 20 } },
		.latency_us = 200000,
	} },
};

static const struct sim_card_spec card_gpu128 = {
	.name = "test-gpu128",
	.pcie = true,
	.nfuncs = 1,
	.funcs = { {
		.fn = 0, .vendor = 0x10de, .device = 0x1eb9,
		.class_code = 0x030200, .irq_pin = 1,
		.bar = { [0] = { SIM_BAR_MEM64, true, 128ull << 20 } },
	} },
};

/* The core on the chassis: the slot machines (or not), both sim drivers,
 * the event log; enumerated, with 50 ms for the links. */
static bool without_rebalance;  /* one test: the rebalancer not linked */

static void core_up(struct t7 *c, const struct hs_core_params *p,
		    bool slot_machine)
{
	simcard_ledger_reset();
	assert_int_equal(hs_core_create(&c->t.plat, p, &c->core), 0);
	if (!without_rebalance)
		hs_core_enable_rebalance(c->core);
	if (slot_machine)
		assert_int_equal(hs_controllers_register(c->core), 0);
	assert_int_equal(hs_driver_register(c->core, &simnet_driver), 0);
	assert_int_equal(hs_driver_register(c->core, &simstor_driver), 0);
	assert_int_equal(hs_core_subscribe(c->core, on_event, c), 0);
	assert_int_equal(hs_core_enumerate(c->core), 0);
	sim_advance(c->t.sim, HS_MSEC(50));
}

/* Variations of the chassis for one test: the prefetchable aperture's
 * size, slots 3 and 4's prefetchable reservations (0: the default), and
 * the cards in slots 2-4. */
static uint64_t pref_aperture = 384ull << 20, slot3_pref, slot4_pref;
static const struct sim_card_spec *const default_cards[5] = {
	NULL, NULL, &tu_card_nic, &tu_card_nic, &card_stor
};
static const struct sim_card_spec *const *slot_cards = default_cards;

static void build(struct t7 *c, int move_policy, bool slot_machine)
{
	struct sim_config cfg;
	struct hs_core_params p;
	struct sim_bus *root;
	struct hs_slot_reserve sr[2];
	unsigned nsr = 0;

	memset(c, 0, sizeof(*c));
	sim_config_defaults(&cfg);
	cfg.pref_base = 0x400000000ull;
	cfg.pref_limit = cfg.pref_base + pref_aperture - 1;
	tu_init(&c->t, &cfg);
	sim_set_log(c->t.sim, dbg_log, NULL);
	root = sim_root_bus(c->t.sim);
	add_root_ports(root, 4);
	for (unsigned i = 2; i <= 4; i++)
		if (slot_cards[i])
			assert_int_equal(sim_coldplug(sim_slot_by_phys(c->t.sim, i),
						      slot_cards[i]), 0);

	hs_core_params_defaults(&p);
	p.hotplug.mem = 2u << 20;
	p.hotplug.pref = 2u << 20;
	p.hotplug.io = 4096;
	p.share_leftover = false;
	p.slot_policy = HS_SLOT_POLICY_PRESENCE;
	p.rebalance.move = move_policy;
	for (unsigned i = 3; i <= 4; i++) {
		uint64_t v = i == 3 ? slot3_pref : slot4_pref;

		if (!v)
			continue;
		sr[nsr].phys_slot = (uint16_t)i;
		sr[nsr].r = p.hotplug;
		sr[nsr].r.pref = v;
		nsr++;
	}
	p.slot_reserve = nsr ? sr : NULL;
	p.nslot_reserve = nsr;
	core_up(c, &p, slot_machine);
}

static void teardown_t7(struct t7 *c)
{
	hs_core_destroy(c->core);
	tu_fini(&c->t);
}

static struct hs_dev *dev_in(struct t7 *c, unsigned slot)
{
	struct hs_dev *br = hs_core_slot_bridge(c->core, (uint16_t)slot);
	unsigned bus;

	assert_non_null(br);
	if (hs_dev_secondary_bus(br, &bus))
		return NULL;
	return hs_dev_find(c->core, HS_BDF(0, bus, 0, 0));
}

static uint64_t bar_at(struct hs_dev *d, int n)
{
	struct hs_resource r;

	assert_int_equal(hs_dev_bar(d, n, &r), 0);
	return r.start;
}

/* The BAR lies inside every window above it, of the right kind. */
static void assert_inside(struct hs_dev *d, int n)
{
	struct hs_resource b, w;

	assert_int_equal(hs_dev_bar(d, n, &b), 0);
	for (struct hs_dev *p = hs_dev_parent(d); p; p = hs_dev_parent(p)) {
		assert_int_equal(hs_dev_window(p, b.kind, &w), 0);
		assert_true(b.start >= w.start);
		assert_true(b.start + b.size <= w.start + w.size);
	}
}

/* Drive the virtual clock until nothing is due within limit. */
static void run(struct t7 *c, hs_time_t limit)
{
	sim_advance(c->t.sim, limit);
}

static void traffic(struct t7 *c, unsigned n)
{
	for (unsigned s = 2; s <= 4; s++)
		assert_int_equal(simcard_submit(dev_in(c, s), n), n);
}

static void assert_no_loss(struct t7 *c)
{
	const struct simcard_ledger *l = simcard_ledger();
	unsigned long inflight = 0;

	for (unsigned s = 2; s <= 4; s++)
		inflight += simcard_in_flight(dev_in(c, s));
	assert_int_equal(l->failed, 0);
	assert_int_equal(l->refused, 0);
	assert_int_equal(l->submitted, l->completed + inflight);
}

static enum hs_slot_state slot_state(struct t7 *c, unsigned phys)
{
	struct hs_slot_info si;

	hs_slot_get_info(hs_slot_by_phys(c->core, (uint16_t)phys), &si);
	return si.state;
}

struct result {
	bool done;
	int rc;
	char msg[320];
};

static void on_done(void *arg, int rc, const char *msg)
{
	struct result *r = arg;

	r->done = true;
	r->rc = rc;
	snprintf(r->msg, sizeof(r->msg), "%s", msg ? msg : "");
}

static void traffic_nic(struct hs_dev *nic)
{
	assert_int_equal(simcard_submit(nic, 5), 5);
}

static void assert_no_loss_nic(struct t7 *c)
{
	const struct simcard_ledger *l = simcard_ledger();

	(void)c;
	assert_int_equal(l->failed, 0);
	assert_int_equal(l->submitted, l->completed);
}

static void traffic_stor(struct t7 *c, struct hs_dev *stor)
{
	(void)c;
	assert_int_equal(simcard_submit(stor, 5), 5);
}

/* ---- the 256 MiB card goes in, moving only the storage card ------------ */

static void gpu_moves_only_what_it_must(void **state)
{
	struct t7 c;
	struct hs_dev *stor, *nic2, *nic3, *gpu;
	uint64_t stor_old, nic2_old, nic3_old;
	struct sim_counters k;

	(void)state;
	build(&c, HS_MOVE_CAPABLE, true);
	stor = dev_in(&c, 4);
	nic2 = dev_in(&c, 2);
	nic3 = dev_in(&c, 3);
	assert_string_equal(hs_dev_driver_name(stor), "simstor");
	stor_old = bar_at(stor, 0);
	nic2_old = bar_at(nic2, 0);
	nic3_old = bar_at(nic3, 0);
	/* It sits where the GPU's BAR has to go. */
	assert_int_equal(stor_old >> 28, 0x400000000ull >> 28);

	/* Requests keep coming on every card while the new one comes up:
	 * in flight when the storage driver is asked to stop, and held
	 * while it is stopped. */
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1), &tu_card_gpu), 0);
	bool saw_stopped = false;

	for (int i = 0; i < 1000 && slot_state(&c, 1) != HS_SLOT_ON; i++) {
		saw_stopped |= simcard_stopped(stor);
		/* Never idle: always requests queued or held. */
		assert_int_equal(simcard_submit(nic2, 1), 1);
		assert_int_equal(simcard_submit(nic3, 1), 1);
		while (simcard_in_flight(stor) < 3)
			assert_int_equal(simcard_submit(stor, 1), 1);
		run(&c, HS_USEC(500));
	}
	assert_true(saw_stopped);
	run(&c, HS_SEC(1));
	if (slot_state(&c, 1) != HS_SLOT_ON)
		fail_msg("slot 1 is %s: %s",
			 hs_slot_state_name(slot_state(&c, 1)), c.alerts);
	gpu = dev_in(&c, 1);
	assert_non_null(gpu);
	assert_inside(gpu, 0);
	assert_inside(gpu, 2);
	assert_int_equal(bar_at(gpu, 2), 0x400000000ull);

	/* Only the storage card moved; the NICs kept their addresses. */
	assert_int_equal(c.moved, 1);
	assert_int_equal(c.moved_bdf[0], hs_dev_bdf(stor));
	assert_true(bar_at(stor, 0) != stor_old);
	assert_inside(stor, 0);
	assert_int_equal(bar_at(nic2, 0), nic2_old);
	assert_int_equal(bar_at(nic3, 0), nic3_old);
	/* The storage driver reads its ID at the new address... */
	assert_int_equal(simcard_id(stor), 0x00101b36);
	assert_true(simcard_ledger()->restarts >= 1);
	assert_true(simcard_ledger()->held >= 2);
	/* ...and its traffic, held ones included, completed there. */
	traffic(&c, 10);
	run(&c, HS_SEC(1));
	assert_no_loss(&c);
	sim_get_counters(c.t.sim, &k);
	assert_int_equal(k.decode_conflicts, 0);
	assert_string_equal(c.alerts, "");
	teardown_t7(&c);
}

/* ---- rebalance now: an empty slot gets its reservation back ------------ */

static void writer_open(void *arg, struct hs_core *core, int rc)
{
	(void)core;
	*(int *)arg = rc;
}

static void rebalance_now_restores_reservations(void **state)
{
	int wrc = 99;
	struct t7 c;
	struct hs_dev *stor, *rp3;
	struct hs_resource w;
	struct result res;

	(void)state;
	build(&c, HS_MOVE_CAPABLE, true);
	stor = dev_in(&c, 4);
	rp3 = hs_core_slot_bridge(c.core, 3);
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1), &tu_card_gpu), 0);
	run(&c, HS_SEC(1));
	assert_int_equal(slot_state(&c, 1), HS_SLOT_ON);
	/* The GPU and the storage card fill the prefetchable aperture: the
	 * NIC slots gave up their (empty) prefetchable room. */
	assert_int_not_equal(hs_dev_window(rp3, HS_RES_PREF, &w), 0);
	assert_int_equal(sim_remove(sim_slot_by_phys(c.t.sim, 3),
				    SIM_REMOVE_SURPRISE), 0);
	run(&c, HS_SEC(1));
	assert_null(dev_in(&c, 3));

	/* Nowhere to put 2 MiB: said so, nothing changed. */
	memset(&res, 0, sizeof(res));
	hs_core_rebalance(c.core, on_done, &res);
	run(&c, HS_MSEC(50));
	assert_true(res.done);
	assert_int_equal(res.rc, 0);
	assert_non_null(strstr(res.msg, "0 slots got their reservation back, 1 did not"));
	assert_int_not_equal(hs_dev_window(rp3, HS_RES_PREF, &w), 0);

	/* The GPU goes: now there is room. */
	assert_int_equal(sim_remove(sim_slot_by_phys(c.t.sim, 1),
				    SIM_REMOVE_SURPRISE), 0);
	run(&c, HS_SEC(1));
	traffic_stor(&c, stor);
	memset(&res, 0, sizeof(res));
	/* A driver's transaction is open: the rebalance waits for it
	 * (seeds/002), then runs. */
	assert_int_equal(hs_core_txn_begin(c.core, "a driver's change",
					   writer_open, &wrc), 0);
	assert_int_equal(wrc, 0);
	assert_int_equal(hs_core_rebalance(c.core, on_done, &res), 0);
	run(&c, HS_MSEC(50));
	assert_false(res.done);
	assert_int_equal(hs_core_txn_commit(c.core), 0);
	run(&c, HS_MSEC(50));
	assert_true(res.done);
	if (!strstr(res.msg, "1 slot got its reservation back, 0 did not"))
		fail_msg("rebalance now: %s", res.msg);
	assert_int_equal(hs_dev_window(rp3, HS_RES_PREF, &w), 0);
	assert_true(w.size >= (2u << 20));
	assert_inside(stor, 0);
	run(&c, HS_SEC(1));
	assert_int_equal(simcard_ledger()->failed, 0);
	assert_int_equal(simcard_ledger()->submitted,
			 simcard_ledger()->completed);
	teardown_t7(&c);
}

/* A refused GPU left everything as it was: the storage card's BAR in
 * place, nothing moved, no request lost, no running device changed
 * (before: the snapshot taken before the insertion; freed here, with
 * the chassis). */
static void refused_unchanged(struct t7 *c, struct hs_dev *stor,
			      uint64_t stor_old, char *before)
{
	char *after;

	assert_int_equal(bar_at(stor, 0), stor_old);
	assert_int_equal(c->moved, 0);
	run(c, HS_SEC(1));
	assert_no_loss(c);
	after = cu_snapshot(c->t.sim, c->core);
	cu_same_except_new(before, after);
	free(before);
	free(after);
	teardown_t7(c);
}

/* ---- never move: the refusal says what would have to --------------------- */

static void never_policy_refuses_and_names(void **state)
{
	struct t7 c;
	struct hs_dev *stor;
	uint64_t stor_old;
	char *before;

	(void)state;
	build(&c, HS_MOVE_NEVER, true);
	stor = dev_in(&c, 4);
	stor_old = bar_at(stor, 0);
	traffic(&c, 5);
	before = cu_snapshot(c.t.sim, c.core);
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1), &tu_card_gpu), 0);
	run(&c, HS_SEC(2));
	assert_int_not_equal(slot_state(&c, 1), HS_SLOT_ON);
	assert_non_null(strstr(c.alerts, "rebalancing would have to move"));
	if (!strstr(c.alerts, "0 (simstor), which the policy forbids"))
		fail_msg("alerts: %s", c.alerts);
	assert_non_null(strstr(c.alerts, "which the policy forbids"));
	refused_unchanged(&c, stor, stor_old, before);
}

/* A core without hs_core_enable_rebalance (a firmware that does not link
 * hs_rebalance.c): the GPU that a rebalance would place is refused with
 * what did not fit, and nothing running moves or changes. */
static void without_rebalancer_refuses(void **state)
{
	struct t7 c;
	struct hs_dev *stor;
	uint64_t stor_old;
	char *before;

	(void)state;
	without_rebalance = true;
	build(&c, HS_MOVE_CAPABLE, true);
	without_rebalance = false;
	stor = dev_in(&c, 4);
	stor_old = bar_at(stor, 0);
	traffic(&c, 5);
	before = cu_snapshot(c.t.sim, c.core);
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1), &tu_card_gpu), 0);
	run(&c, HS_SEC(2));
	assert_int_not_equal(slot_state(&c, 1), HS_SLOT_ON);
	if (!strstr(c.alerts, "need ") || strstr(c.alerts, "rebalanc"))
		fail_msg("alerts: %s", c.alerts);
	refused_unchanged(&c, stor, stor_old, before);
}

/* Pinned by slot or by class: the same refusal, naming the device. */
static void pinned_slot_and_class(void **state)
{
	static const uint16_t slot4[] = { 4 };
	static const struct hs_class_match storage[] = {
		{ 0x010000, 0xff0000 },
	};

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct t7 c;
		struct hs_core_params p;
		uint64_t old;

		build(&c, HS_MOVE_CAPABLE, true);
		/* Rebuild the core with the pin (the chassis stays). */
		hs_core_destroy(c.core);
		hs_core_params_defaults(&p);
		p.hotplug.mem = p.hotplug.pref = 2u << 20;
		p.share_leftover = false;
		p.slot_policy = HS_SLOT_POLICY_PRESENCE;
		if (k == 0) {
			p.rebalance.pinned_slots = slot4;
			p.rebalance.npinned_slots = 1;
		} else {
			p.rebalance.pinned_classes = storage;
			p.rebalance.npinned_classes = 1;
		}
		core_up(&c, &p, true);
		old = bar_at(dev_in(&c, 4), 0);
		assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1),
					    &tu_card_gpu), 0);
		run(&c, HS_SEC(2));
		assert_int_not_equal(slot_state(&c, 1), HS_SLOT_ON);
		if (!strstr(c.alerts, "0 (simstor), which the policy forbids"))
			fail_msg("pin %d: %s", k, c.alerts);
		assert_int_equal(bar_at(dev_in(&c, 4), 0), old);
		teardown_t7(&c);
	}
}

/* Under never-move a window may still grow into free space: a second
 * small GPU-like card in a slot with room around it. */
static void never_policy_still_grows_windows(void **state)
{
	static const struct sim_card_spec big_nic = {
		.name = "test-nic-16m", .pcie = true, .nfuncs = 1,
		.funcs = { { .fn = 0, .vendor = 0x8086, .device = 0x1572,
			     .class_code = 0x020000, .irq_pin = 1,
			     .bar = { [0] = { SIM_BAR_MEM32, false, 16u << 20 } } } },
	};
	struct t7 c;
	struct hs_dev *nic2, *nic;
	uint64_t nic2_old;

	(void)state;
	build(&c, HS_MOVE_NEVER, true);
	nic2 = dev_in(&c, 2);
	nic2_old = bar_at(nic2, 0);
	traffic(&c, 5);
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1), &big_nic), 0);
	run(&c, HS_SEC(2));
	assert_int_equal(slot_state(&c, 1), HS_SLOT_ON);
	nic = dev_in(&c, 1);
	assert_inside(nic, 0);
	assert_int_equal(simcard_id(nic), 0x15728086);
	assert_int_equal(c.moved, 0);
	assert_true(c.windows >= 1);
	assert_int_equal(bar_at(nic2, 0), nic2_old);
	run(&c, HS_SEC(1));
	assert_no_loss(&c);
	teardown_t7(&c);
}

/* ---- bus numbers for a card with a bridge ------------------------------- */

/* nports root ports with slots, hot-plug bridges keeping no spare bus
 * numbers, a NIC in slot nic_slot. */
static struct t7 *bus_chassis_n(struct t7 *c, int move_policy, unsigned nports,
				unsigned nic_slot)
{
	struct sim_config cfg;
	struct hs_core_params p;

	memset(c, 0, sizeof(*c));
	sim_config_defaults(&cfg);
	tu_init(&c->t, &cfg);
	sim_set_log(c->t.sim, dbg_log, NULL);
	add_root_ports(sim_root_bus(c->t.sim), nports);
	assert_int_equal(sim_coldplug(sim_slot_by_phys(c->t.sim, nic_slot),
				      &tu_card_nic), 0);
	hs_core_params_defaults(&p);
	p.hotplug.bus = 0;          /* each slot: its secondary bus only */
	p.slot_policy = HS_SLOT_POLICY_PRESENCE;
	p.rebalance.move = move_policy;
	core_up(c, &p, true);
	return c;
}

static struct t7 *bus_chassis(struct t7 *c, int move_policy)
{
	return bus_chassis_n(c, move_policy, 4, 3);
}

static void bus_range(struct t7 *c, unsigned slot, unsigned *first,
		      unsigned *last)
{
	struct hs_resource r;

	assert_int_equal(hs_dev_window(hs_core_slot_bridge(c->core,
							   (uint16_t)slot),
				       HS_RES_BUS, &r), 0);
	*first = (unsigned)r.start;
	*last = (unsigned)(r.start + r.size - 1);
}

/*
 * A bridge card in slot 1 needs a bus of its own: slot 1 grows, the empty
 * slot 2 is renumbered, slot 3's NIC keeps its address.  Then a NIC goes
 * into the renumbered slot 2.  Returns the slot whose next bus number is
 * now slot 2's (the next bridge card there needs the running NIC in slot
 * 2 renumbered).
 */
static unsigned bus_prepare(struct t7 *c, int move_policy)
{
	unsigned f1, l1, f2, l2, f3, l3, f2b, l2b, f3b, l3b, f, l, victim = 0;
	struct hs_dev *nic3;

	bus_chassis(c, move_policy);
	bus_range(c, 1, &f1, &l1);
	bus_range(c, 2, &f2, &l2);
	bus_range(c, 3, &f3, &l3);
	assert_int_equal(l1, f1);
	assert_int_equal(f2, l1 + 1);   /* slot 2 is in the way */
	nic3 = dev_in(c, 3);
	traffic_nic(nic3);

	assert_int_equal(sim_insert(sim_slot_by_phys(c->t.sim, 1),
				    &tu_card_bridge), 0);
	run(c, HS_SEC(1));
	if (slot_state(c, 1) != HS_SLOT_ON)
		fail_msg("slot 1: %s", c->alerts);
	bus_range(c, 1, &f1, &l1);
	assert_int_equal(l1, f1 + 1);
	bus_range(c, 2, &f2b, &l2b);
	assert_true(f2b > l1 || l2b < f1);
	bus_range(c, 3, &f3b, &l3b);
	assert_int_equal(f3b, f3);
	assert_int_equal(l3b, l3);
	assert_ptr_equal(dev_in(c, 3), nic3);
	/* Both NICs behind the card's bridge answer at their registers. */
	{
		struct hs_dev *cb = dev_in(c, 1), *n;
		unsigned sec, found = 0;

		assert_non_null(cb);
		assert_int_equal(hs_dev_secondary_bus(cb, &sec), 0);
		assert_int_equal(sec, l1);
		for (unsigned d = 0; d < 32; d++)
			if ((n = hs_dev_find(c->core, HS_BDF(0, sec, d, 0)))) {
				assert_string_equal(hs_dev_driver_name(n), "simnet");
				assert_true(simcard_id(n) != 0);
				found++;
			}
		assert_int_equal(found, 2);
	}
	/* The renumbered slot still works at its new bus. */
	assert_int_equal(sim_insert(sim_slot_by_phys(c->t.sim, 2),
				    &tu_card_nic), 0);
	run(c, HS_SEC(1));
	assert_int_equal(slot_state(c, 2), HS_SLOT_ON);
	assert_non_null(dev_in(c, 2));
	assert_true(simcard_id(dev_in(c, 2)) != 0);

	for (unsigned sl = 1; sl <= 4; sl++) {
		bus_range(c, sl, &f, &l);
		if (l + 1 == f2b)
			victim = sl;
	}
	assert_true(victim == 4 || victim == 3);
	if (victim == 3) {
		assert_int_equal(sim_remove(sim_slot_by_phys(c->t.sim, 3),
					    SIM_REMOVE_SURPRISE), 0);
		run(c, HS_SEC(1));
	}
	c->alerts[0] = '\0';
	c->moved = 0;
	return victim;
}

static void assert_hw_matches(struct t7 *c);

/* The ID register of the function at bdf, read the way any config
 * cycle goes: through the bridges' bus numbers. */
static uint32_t id_at(struct t7 *c, hs_bdf_t bdf)
{
	uint32_t v = 0;

	c->t.plat.ops->cfg_read(c->t.plat.ctx, bdf, 0, 4, &v);
	return v;
}

static void bridge_card_gets_bus_numbers(void **state)
{
	struct t7 c;

	(void)state;
	bus_prepare(&c, HS_MOVE_CAPABLE);
	run(&c, HS_SEC(1));
	assert_no_loss_nic(&c);
	teardown_t7(&c);
}

/* The next bridge card needs slot 2's bus, where a NIC runs with
 * requests in flight: the NIC is stopped, renumbered and started again;
 * it is the same device, answering at its new number, nothing lost. */
static void running_device_renumbered(void **state)
{
	struct t7 c;
	struct hs_dev *nic2;
	hs_bdf_t old;
	uint32_t id;
	unsigned victim, f, l, f2, l2;

	(void)state;
	victim = bus_prepare(&c, HS_MOVE_CAPABLE);
	nic2 = dev_in(&c, 2);
	old = hs_dev_bdf(nic2);
	id = id_at(&c, old);
	bus_range(&c, 2, &f2, &l2);
	traffic_nic(nic2);
	assert_true(simcard_in_flight(nic2) > 0);
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, victim),
				    &tu_card_bridge), 0);
	run(&c, HS_SEC(1));
	if (slot_state(&c, victim) != HS_SLOT_ON)
		fail_msg("slot %u: %s", victim, c.alerts);
	/* The victim slot grew into slot 2's old number... */
	bus_range(&c, victim, &f, &l);
	assert_int_equal(l, f2);
	/* ...and slot 2 moved with its NIC. */
	bus_range(&c, 2, &f, &l);
	assert_int_not_equal(f, f2);
	assert_ptr_equal(dev_in(&c, 2), nic2);
	assert_int_equal(HS_BDF_BUS(hs_dev_bdf(nic2)), f);
	assert_int_equal(id_at(&c, hs_dev_bdf(nic2)), id);
	assert_true(simcard_id(nic2) != 0);
	assert_false(simcard_stopped(nic2));
	/* One event says where it was. */
	assert_int_equal(c.moved, 1);
	assert_int_equal(c.moved_bdf[0], hs_dev_bdf(nic2));
	assert_int_equal(c.moved_old[0], old);
	assert_hw_matches(&c);
	/* Its held requests went out; new ones work; it can leave cleanly
	 * from where it is now. */
	traffic_nic(nic2);
	run(&c, HS_SEC(1));
	assert_no_loss_nic(&c);
	assert_int_equal(hs_slot_disable(hs_slot_by_phys(c.core, 2), NULL, NULL), 0);
	run(&c, HS_SEC(2));
	assert_int_equal(slot_state(&c, 2), HS_SLOT_OFF);
	assert_no_loss_nic(&c);
	teardown_t7(&c);
}

/* Under the never-move policy a bus number is an address like any
 * other: the card is refused, naming what is in the way, and nothing
 * changes. */
static void never_policy_keeps_bus_numbers(void **state)
{
	struct t7 c;
	struct hs_dev *nic2;
	hs_bdf_t old;
	unsigned victim, f, l, f2, l2;
	char *before, *after;

	(void)state;
	victim = bus_prepare(&c, HS_MOVE_NEVER);
	nic2 = dev_in(&c, 2);
	old = hs_dev_bdf(nic2);
	bus_range(&c, 2, &f2, &l2);
	before = cu_snapshot(c.t.sim, c.core);
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, victim),
				    &tu_card_bridge), 0);
	run(&c, HS_SEC(1));
	assert_int_not_equal(slot_state(&c, victim), HS_SLOT_ON);
	if (!strstr(c.alerts, "belong to 00:02.0, with devices below it whose "
			      "bus numbers would change, and ") ||
	    !strstr(c.alerts, "may not be renumbered: the policy never moves "
			      "a device"))
		fail_msg("alerts: %s", c.alerts);
	bus_range(&c, 2, &f, &l);
	assert_int_equal(f, f2);
	assert_int_equal(hs_dev_bdf(nic2), old);
	assert_int_equal(c.moved, 0);
	after = cu_snapshot(c.t.sim, c.core);
	cu_same_except_new(before, after);
	free(before);
	free(after);
	assert_true(simcard_id(nic2) != 0);
	run(&c, HS_SEC(1));
	assert_no_loss_nic(&c);
	teardown_t7(&c);
}

/* A card with a bridge behind a bridge: its second bridge is only seen
 * once the first has a number, so the slot's range grows over two scan
 * rounds, and the second round needs a running NIC's bus. */
static const struct sim_card_spec nic_inner = {
	.name = "test-nic-inner", .nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x8086, .device = 0x1229,
		     .class_code = 0x020000, .irq_pin = 1,
		     .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } } } },
};
static const struct sim_child_spec inner_children[] = { { 0, &nic_inner } };
static const struct sim_card_spec inner_bridge = {
	.name = "test-inner-bridge", .nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x8086, .device = 0x244e,
		     .is_bridge = true } },
	.nchildren = 1, .children = inner_children,
};
static const struct sim_child_spec outer_children[] = { { 0, &inner_bridge } };
static const struct sim_card_spec nested_bridge = {
	.name = "test-nested-bridge", .nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x8086, .device = 0x244e,
		     .is_bridge = true } },
	.nchildren = 1, .children = outer_children,
};

/* Slots 1-4, the NIC in slot 3, slot 2 empty: round one renumbers the
 * empty slot 2, round two finds the NIC in the way, which was not in the
 * first plan: it is stopped too, and the card comes up. */
static void nested_card_renumbers_over_rounds(void **state)
{
	struct t7 c;
	struct hs_dev *nic3;
	hs_bdf_t old;
	uint32_t id;

	(void)state;
	bus_chassis(&c, HS_MOVE_CAPABLE);
	nic3 = dev_in(&c, 3);
	old = hs_dev_bdf(nic3);
	id = id_at(&c, old);
	traffic_nic(nic3);
	c.moved = 0;
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1),
				    &nested_bridge), 0);
	run(&c, HS_SEC(2));
	if (slot_state(&c, 1) != HS_SLOT_ON)
		fail_msg("slot 1: %s", c.alerts);
	assert_int_not_equal(hs_dev_bdf(nic3), old);
	assert_int_equal(id_at(&c, hs_dev_bdf(nic3)), id);
	assert_int_equal(c.moved, 1);
	assert_int_equal(c.moved_old[0], old);
	assert_int_equal(c.moved_bdf[0], hs_dev_bdf(nic3));
	assert_hw_matches(&c);
	run(&c, HS_SEC(1));
	assert_no_loss_nic(&c);
	teardown_t7(&c);
}

/* Two slots: the NIC in slot 2 is in the way in both rounds and is
 * renumbered twice in one transaction; one event says where it was and
 * where it is. */
static void renumbered_twice_one_event(void **state)
{
	struct t7 c;
	struct hs_dev *nic2;
	hs_bdf_t old;

	(void)state;
	bus_chassis_n(&c, HS_MOVE_CAPABLE, 2, 2);
	nic2 = dev_in(&c, 2);
	old = hs_dev_bdf(nic2);
	traffic_nic(nic2);
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1),
				    &nested_bridge), 0);
	run(&c, HS_SEC(2));
	if (slot_state(&c, 1) != HS_SLOT_ON)
		fail_msg("slot 1: %s", c.alerts);
	assert_int_equal(HS_BDF_BUS(hs_dev_bdf(nic2)), HS_BDF_BUS(old) + 2);
	assert_int_equal(c.moved, 1);
	assert_int_equal(c.moved_old[0], old);
	assert_int_equal(c.moved_bdf[0], hs_dev_bdf(nic2));
	assert_true(simcard_id(nic2) != 0);
	assert_hw_matches(&c);
	run(&c, HS_SEC(1));
	assert_no_loss_nic(&c);
	teardown_t7(&c);
}

/* The NIC's driver refuses to stop: the operator reads why, and nothing
 * was renumbered. */
static void renumber_veto(void **state)
{
	struct t7 c;
	struct hs_dev *nic2;
	hs_bdf_t old;
	unsigned victim;
	char *before, *after;

	(void)state;
	victim = bus_prepare(&c, HS_MOVE_CAPABLE);
	nic2 = dev_in(&c, 2);
	old = hs_dev_bdf(nic2);
	simcard_set_stop_veto(nic2, "firmware update in progress");
	traffic_nic(nic2);
	before = cu_snapshot(c.t.sim, c.core);
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, victim),
				    &tu_card_bridge), 0);
	run(&c, HS_SEC(1));
	assert_int_not_equal(slot_state(&c, victim), HS_SLOT_ON);
	if (!strstr(c.alerts, "renumbering bus numbers needs") ||
	    !strstr(c.alerts, "refuses to stop: firmware update in progress"))
		fail_msg("alerts: %s", c.alerts);
	assert_int_equal(hs_dev_bdf(nic2), old);
	after = cu_snapshot(c.t.sim, c.core);
	cu_same_except_new(before, after);
	free(before);
	free(after);
	run(&c, HS_SEC(1));
	assert_no_loss_nic(&c);
	teardown_t7(&c);
}

/*
 * A hot-plug controller renumbered with the bridge above it.  On the
 * shpc-bridge example, bridge cards fill the 31-slot SHPC bridge's bus
 * range until the next card needs the number of the plain bridge 00:06.0,
 * behind which a second SHPC bridge (slots 40-43) runs with a board in
 * slot 42.  That controller is idle, so it is renumbered with its board;
 * afterwards its slots still work at their new bus numbers.
 */
/* The function 0 of the board in a slot of any kind, and its slot's
 * controller. */
static struct hs_dev *slot_ctl(struct t7 *c, unsigned phys)
{
	struct hs_slot_info si;

	hs_slot_get_info(hs_slot_by_phys(c->core, (uint16_t)phys), &si);
	return hs_dev_find(c->core, si.bridge);
}

static struct hs_dev *board_in(struct t7 *c, unsigned phys)
{
	struct hs_slot_info si;
	unsigned sec;

	hs_slot_get_info(hs_slot_by_phys(c->core, (uint16_t)phys), &si);
	if (hs_dev_secondary_bus(hs_dev_find(c->core, si.bridge), &sec))
		return NULL;
	return hs_dev_find(c->core, HS_BDF(0, sec, si.devnum, 0));
}

static void shpc_controller_renumbered(void **state)
{
	struct t7 c;
	struct sim_topology *topo;
	struct hs_core_params p;
	struct hs_dev *shpc2, *board;
	hs_bdf_t shpc2_old, board_old;
	uint32_t board_id;
	char err[512];
	unsigned tried = 0, sec;

	(void)state;
	memset(&c, 0, sizeof(c));
	if (sim_topology_load(HOTSWAP_SRCDIR "/examples/shpc-bridge.json", NULL,
			      &topo, err, sizeof(err)))
		fail_msg("%s", err);
	c.t.sim = sim_topology_sim(topo);
	sim_get_platform(c.t.sim, &c.t.plat);
	hs_core_params_defaults(&p);
	p.slot_policy = HS_SLOT_POLICY_PRESENCE;
	core_up(&c, &p, true);

	shpc2 = slot_ctl(&c, 40);
	assert_non_null(shpc2);
	shpc2_old = hs_dev_bdf(shpc2);
	board = board_in(&c, 42);
	assert_non_null(board);
	board_old = hs_dev_bdf(board);
	board_id = id_at(&c, board_old);
	/* Bridge cards into the big bridge's empty slots until one needs
	 * the second controller's numbers. */
	for (unsigned slot = 2; slot <= 31 && hs_dev_bdf(shpc2) == shpc2_old;
	     slot++) {
		if (slot == 3)
			continue;
		c.alerts[0] = '\0';
		assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, slot),
					    &tu_card_bridge), 0);
		run(&c, HS_SEC(2));
		if (slot_state(&c, slot) != HS_SLOT_ON)
			fail_msg("slot %u: %s", slot, c.alerts);
		tried++;
	}
	assert_int_not_equal(hs_dev_bdf(shpc2), shpc2_old);
	assert_ptr_equal(slot_ctl(&c, 40), shpc2);
	/* The board behind it answers at its new number. */
	assert_ptr_equal(board_in(&c, 42), board);
	assert_int_not_equal(hs_dev_bdf(board), board_old);
	assert_int_equal(id_at(&c, hs_dev_bdf(board)), board_id);
	assert_hw_matches(&c);
	/* The renumbered controller still runs its slots. */
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 41),
				    &tu_card_nic), 0);
	run(&c, HS_SEC(2));
	if (slot_state(&c, 41) != HS_SLOT_ON)
		fail_msg("slot 41: %s", c.alerts);
	assert_non_null(board_in(&c, 41));
	assert_true(simcard_id(board_in(&c, 41)) != 0);
	assert_int_equal(hs_dev_secondary_bus(shpc2, &sec), 0);
	assert_int_equal(HS_BDF_BUS(hs_dev_bdf(board_in(&c, 41))), sec);
	traffic_nic(board_in(&c, 41));
	assert_int_equal(hs_slot_disable(hs_slot_by_phys(c.core, 42), NULL,
					 NULL), 0);
	run(&c, HS_SEC(7));
	assert_int_equal(slot_state(&c, 42), HS_SLOT_OFF);
	assert_no_loss_nic(&c);
	printf("shpc renumbering: %u bridge cards, controller %02x:%02x.%u -> "
	       "%02x:%02x.%u\n", tried, HS_BDF_BUS(shpc2_old),
	       HS_BDF_DEV(shpc2_old), HS_BDF_FN(shpc2_old),
	       HS_BDF_BUS(hs_dev_bdf(shpc2)), HS_BDF_DEV(hs_dev_bdf(shpc2)),
	       HS_BDF_FN(hs_dev_bdf(shpc2)));
	hs_core_destroy(c.core);
	sim_topology_free(topo);
}

/* Never-move, but slot 4's window holds 384 MiB of which its storage
 * card uses 128: the only 256 MiB block free of running devices lies
 * half inside that window.  The window gives back what its card does not
 * use (the card stays where it is, serving) and the GPU comes up there;
 * without that the GPU would be refused. */
static void never_policy_trims_occupied_window(void **state)
{
	struct t7 c;
	struct hs_dev *stor, *gpu, *br4;
	struct hs_resource w_before, w_after, g;
	uint64_t stor_old;

	(void)state;
	pref_aperture = 512ull << 20;
	slot4_pref = 384ull << 20;
	build(&c, HS_MOVE_NEVER, true);
	pref_aperture = 384ull << 20;
	slot4_pref = 0;
	stor = dev_in(&c, 4);
	stor_old = bar_at(stor, 0);
	br4 = hs_core_slot_bridge(c.core, 4);
	assert_int_equal(hs_dev_window(br4, HS_RES_PREF, &w_before), 0);
	assert_int_equal(w_before.size, 384ull << 20);
	traffic(&c, 6);
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1), &tu_card_gpu), 0);
	run(&c, HS_SEC(2));
	if (slot_state(&c, 1) != HS_SLOT_ON)
		fail_msg("slot 1: %s", c.alerts);
	gpu = dev_in(&c, 1);
	assert_non_null(gpu);
	assert_int_equal(hs_dev_bar(gpu, 2, &g), 0);
	assert_int_equal(g.start & ((256ull << 20) - 1), 0);
	assert_inside(gpu, 2);
	/* Nothing moved; slot 4's window shrank to its card. */
	assert_int_equal(c.moved, 0);
	assert_int_equal(bar_at(stor, 0), stor_old);
	assert_int_equal(hs_dev_window(br4, HS_RES_PREF, &w_after), 0);
	assert_int_equal(w_after.start, stor_old);
	assert_int_equal(w_after.size, 128ull << 20);
	assert_true(c.windows >= 2);
	assert_hw_matches(&c);
	assert_true(simcard_id(stor) != 0);
	{
		struct sim_counters k;

		sim_get_counters(c.t.sim, &k);
		assert_int_equal(k.decode_conflicts, 0);
	}
	traffic(&c, 4);
	run(&c, HS_SEC(1));
	assert_no_loss(&c);
	teardown_t7(&c);
}

/*
 * As few devices, and then as little traffic, as possible.  Slots 3 and 4
 * each hold a 64 MiB storage card in a 128 MiB window; the 128 MiB GPU
 * fits in either window once its card moves into the other window's
 * unused half.  Moving one card costs as much as moving the other, so the
 * idle one moves, whichever it is; the busy one keeps serving.
 */
static void quieter_one_moves(bool busy3)
{
	static const struct sim_card_spec *const cards[5] = {
		NULL, NULL, &tu_card_nic, &card_stor64, &card_stor64
	};
	struct t7 c;
	struct hs_dev *s3, *s4, *busy, *idle;
	uint64_t busy_old, idle_old;

	pref_aperture = (256ull + 4) << 20;
	slot3_pref = slot4_pref = 128ull << 20;
	slot_cards = cards;
	build(&c, HS_MOVE_CAPABLE, true);
	pref_aperture = 384ull << 20;
	slot3_pref = slot4_pref = 0;
	slot_cards = default_cards;
	s3 = dev_in(&c, 3);
	s4 = dev_in(&c, 4);
	assert_non_null(s3);
	assert_non_null(s4);
	busy = busy3 ? s3 : s4;
	idle = busy3 ? s4 : s3;
	busy_old = bar_at(busy, 0);
	idle_old = bar_at(idle, 0);
	/* 200 ms a request: still in flight when the card is placed. */
	assert_int_equal(simcard_submit(busy, 8), 8);
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1), &card_gpu128),
			 0);
	run(&c, HS_SEC(3));
	if (slot_state(&c, 1) != HS_SLOT_ON)
		fail_msg("slot 1: %s", c.alerts);
	assert_int_equal(c.moved, 1);
	assert_int_equal(bar_at(busy, 0), busy_old);
	assert_int_not_equal(bar_at(idle, 0), idle_old);
	assert_inside(idle, 0);
	assert_inside(dev_in(&c, 1), 0);
	assert_true(simcard_id(idle) != 0 && simcard_id(busy) != 0);
	assert_hw_matches(&c);
	run(&c, HS_SEC(3));
	assert_int_equal(simcard_ledger()->failed, 0);
	assert_int_equal(simcard_ledger()->submitted,
			 simcard_ledger()->completed);
	teardown_t7(&c);
}

static void quieter_one_moves_3(void **state)
{
	(void)state;
	quieter_one_moves(true);
}

static void quieter_one_moves_4(void **state)
{
	(void)state;
	quieter_one_moves(false);
}

/* ---- rollbacks -------------------------------------------------------- */

static void veto_rolls_back(void **state)
{
	struct t7 c;
	struct hs_dev *stor;
	char *before, *after;

	(void)state;
	build(&c, HS_MOVE_CAPABLE, true);
	stor = dev_in(&c, 4);
	simcard_set_stop_veto(stor, "a database is writing its journal");
	traffic(&c, 5);
	before = cu_snapshot(c.t.sim, c.core);
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1), &tu_card_gpu), 0);
	run(&c, HS_SEC(2));
	assert_int_not_equal(slot_state(&c, 1), HS_SLOT_ON);
	assert_non_null(strstr(c.alerts, "refuses to stop: a database is "
				      "writing its journal"));
	assert_false(simcard_stopped(stor));
	after = cu_snapshot(c.t.sim, c.core);
	cu_same_except_new(before, after);
	free(before);
	free(after);
	traffic(&c, 5);
	run(&c, HS_SEC(1));
	assert_no_loss(&c);
	teardown_t7(&c);
}

static void failed_start_rolls_back(void **state)
{
	struct t7 c;
	struct hs_dev *stor;
	uint64_t stor_old;

	(void)state;
	build(&c, HS_MOVE_CAPABLE, true);
	stor = dev_in(&c, 4);
	stor_old = bar_at(stor, 0);
	traffic(&c, 8);
	simcard_fail_next_start(-HS_EIO);
	assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1), &tu_card_gpu), 0);
	run(&c, HS_SEC(2));
	assert_int_not_equal(slot_state(&c, 1), HS_SLOT_ON);
	assert_non_null(strstr(c.alerts, "did not start at its new address"));
	/* Back where it was, serving. */
	assert_int_equal(bar_at(stor, 0), stor_old);
	assert_false(simcard_stopped(stor));
	assert_null(dev_in(&c, 1));
	assert_int_equal(c.moved, 0);
	traffic(&c, 5);
	run(&c, HS_SEC(1));
	assert_no_loss(&c);
	teardown_t7(&c);
}

/* ---- a fault at every step --------------------------------------------------- */

/* Power slot 1 and wait for its link, as the slot machine would. */
static struct hs_dev *power_slot1(struct t7 *c)
{
	const struct hs_platform *p = &c->t.plat;
	struct hs_dev *br = hs_core_slot_bridge(c->core, 1);
	uint16_t px;
	uint32_t ctl;

	assert_int_equal(hs_dev_find_cap(br, 0x10, &px), 0);
	p->ops->cfg_read(p->ctx, hs_dev_bdf(br), px + 0x18, 2, &ctl);
	p->ops->cfg_write(p->ctx, hs_dev_bdf(br), px + 0x18, 2,
			  (ctl & ~0x0700u) | 0x0100u);
	run(c, HS_MSEC(300));
	return br;
}

/* What the silicon holds is what the core's records say: BARs and
 * windows of every device (a write a fault dropped shows here). */
static void assert_hw_matches(struct t7 *c)
{
	const struct hs_platform *p = &c->t.plat;

	for (struct hs_dev *d = hs_dev_next(c->core, NULL); d;
	     d = hs_dev_next(c->core, d)) {
		struct hs_resource r;
		uint32_t lo = 0, hi = 0;

		for (int n = 0; n < 6; n++) {
			if (hs_dev_bar(d, n, &r))
				continue;
			p->ops->cfg_read(p->ctx, hs_dev_bdf(d), 0x10 + 4 * n, 4, &lo);
			if (r.is64)
				p->ops->cfg_read(p->ctx, hs_dev_bdf(d),
						 0x14 + 4 * n, 4, &hi);
			if (((uint64_t)hi << 32 | (lo & ~0xfu)) !=
			    (r.start & (r.is64 ? ~0ull : 0xffffffffull)) &&
			    r.kind != HS_RES_IO)
				fail_msg("%06x BAR%d: hardware %#x:%#x, core %#llx",
					 hs_dev_bdf(d), n, hi, lo,
					 (unsigned long long)r.start);
		}
		if (!hs_dev_is_bridge(d))
			continue;
		if (hs_dev_window(d, HS_RES_PREF, &r) == 0) {
			p->ops->cfg_read(p->ctx, hs_dev_bdf(d), 0x24, 4, &lo);
			p->ops->cfg_read(p->ctx, hs_dev_bdf(d), 0x28, 4, &hi);
			if (((uint64_t)hi << 32 | (uint64_t)(lo & 0xfff0) << 16) !=
			    r.start)
				fail_msg("%06x pref window: hardware base "
					 "%#x:%#x, core %#llx", hs_dev_bdf(d),
					 hi, lo, (unsigned long long)r.start);
		}
		if (hs_dev_window(d, HS_RES_MEM, &r) == 0) {
			p->ops->cfg_read(p->ctx, hs_dev_bdf(d), 0x20, 4, &lo);
			if ((uint64_t)(lo & 0xfff0) << 16 != r.start ||
			    ((uint64_t)(lo >> 16 & 0xfff0) << 16 | 0xfffff) !=
				    r.start + r.size - 1)
				fail_msg("%06x mem window: hardware %#x, core "
					 "%#llx+%#llx", hs_dev_bdf(d), lo,
					 (unsigned long long)r.start,
					 (unsigned long long)r.size);
		}
	}
}

static void fault_sweep(bool alloc)
{
	unsigned long nth, points = 0, rolled_back = 0, absorbed = 0;

	/* A clean run first, to count the injection points. */
	{
		struct t7 c;
		struct hs_dev *br;
		struct result res = { 0 };
		struct sim_counters k0, k1;

		build(&c, HS_MOVE_CAPABLE, false);
		assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1),
					    &tu_card_gpu), 0);
		br = power_slot1(&c);
		sim_get_counters(c.t.sim, &k0);
		hs_core_hot_add_slot_async(c.core, br, 0, on_done, &res);
		for (int i = 0; i < 100 && !res.done; i++)
			run(&c, HS_MSEC(1));
		sim_get_counters(c.t.sim, &k1);
		assert_true(res.done);
		assert_int_equal(res.rc, 0);
		assert_hw_matches(&c);
		points = alloc ? k1.allocs - k0.allocs
			       : k1.cfg_reads + k1.cfg_writes - k0.cfg_reads -
					 k0.cfg_writes;
		teardown_t7(&c);
	}
	assert_true(points > 0);
	for (nth = 1; nth <= points; nth++) {
		struct t7 c;
		struct hs_dev *br, *stor;
		struct result res = { 0 };
		uint64_t stor_old;
		char *before, *after;
		int rc;

		build(&c, HS_MOVE_CAPABLE, false);
		stor = dev_in(&c, 4);
		stor_old = bar_at(stor, 0);
		assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, 1),
					    &tu_card_gpu), 0);
		br = power_slot1(&c);
		traffic(&c, 6);
		before = cu_snapshot(c.t.sim, c.core);
		if (alloc)
			sim_fault_alloc(c.t.sim, nth);
		else
			sim_fault_cfg(c.t.sim, nth);
		rc = hs_core_hot_add_slot_async(c.core, br, 0, on_done, &res);
		for (int i = 0; i < 100 && !res.done; i++)
			run(&c, HS_MSEC(1));
		sim_fault_alloc(c.t.sim, 0);
		sim_fault_cfg(c.t.sim, 0);
		assert_true(res.done);
		if (res.rc == 0) {
			/* The fault hit nothing that mattered, or made the
			 * card look different while it was scanned (a sizing
			 * read of all ones is a BAR that is not there): what
			 * came up must be consistent all the same. */
			assert_int_equal(rc, 0);
			assert_non_null(dev_in(&c, 1));
			for (struct hs_dev *d = hs_dev_next(c.core, NULL); d;
			     d = hs_dev_next(c.core, d))
				for (int n = 0; n < 6; n++) {
					struct hs_resource r;

					if (hs_dev_bar(d, n, &r) == 0)
						assert_inside(d, n);
				}
			assert_hw_matches(&c);
			absorbed++;
		} else {
			run(&c, HS_MSEC(1));
			after = cu_snapshot(c.t.sim, c.core);
			if (cu_same_except_new(before, after) != 0)
				fail_msg("fault %lu: new records after a "
					 "rollback (%s)", nth, res.msg);
			free(after);
			assert_int_equal(bar_at(stor, 0), stor_old);
			assert_false(simcard_stopped(stor));
			assert_hw_matches(&c);
			rolled_back++;
		}
		free(before);
		/* Every request ends, wherever the driver is now. */
		traffic(&c, 4);
		run(&c, HS_SEC(1));
		assert_no_loss(&c);
		teardown_t7(&c);
	}
	assert_true(rolled_back > 0);
	printf("fault sweep (%s): %lu injection points, %lu rolled back, "
	       "%lu absorbed with a correct result\n",
	       alloc ? "allocations" : "config accesses", points, rolled_back,
	       absorbed);
}

/* A fault at every config access of a renumbering (and of the slot
 * bringing the card up around it): either the card came up and the NIC
 * answers where its record says, or nothing changed; never a request
 * lost. */
static void fault_at_every_renumber_access(void **state)
{
	unsigned long points = 0, rolled_back = 0, absorbed = 0;

	(void)state;
	{
		struct t7 c;
		struct sim_counters k0, k1;
		unsigned victim = bus_prepare(&c, HS_MOVE_CAPABLE);

		sim_get_counters(c.t.sim, &k0);
		assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, victim),
					    &tu_card_bridge), 0);
		run(&c, HS_SEC(1));
		sim_get_counters(c.t.sim, &k1);
		assert_int_equal(slot_state(&c, victim), HS_SLOT_ON);
		points = k1.cfg_reads + k1.cfg_writes - k0.cfg_reads -
			 k0.cfg_writes;
		teardown_t7(&c);
	}
	assert_true(points > 0);
	for (unsigned long nth = 1; nth <= points; nth++) {
		struct t7 c;
		unsigned victim = bus_prepare(&c, HS_MOVE_CAPABLE);
		struct hs_dev *nic2 = dev_in(&c, 2);
		hs_bdf_t old = hs_dev_bdf(nic2);
		uint32_t id = id_at(&c, old);
		char *before, *after;

		traffic_nic(nic2);
		before = cu_snapshot(c.t.sim, c.core);
		assert_int_equal(sim_insert(sim_slot_by_phys(c.t.sim, victim),
					    &tu_card_bridge), 0);
		sim_fault_cfg(c.t.sim, nth);
		run(&c, HS_SEC(1));
		sim_fault_cfg(c.t.sim, 0);
		assert_false(simcard_stopped(nic2));
		if (hs_dev_bdf(nic2) != old) {
			/* Renumbered: it answers at its new number. */
			assert_int_equal(slot_state(&c, victim), HS_SLOT_ON);
			assert_int_equal(id_at(&c, hs_dev_bdf(nic2)), id);
			assert_hw_matches(&c);
			absorbed++;
		} else {
			after = cu_snapshot(c.t.sim, c.core);
			if (slot_state(&c, victim) != HS_SLOT_ON)
				cu_same_except_new(before, after);
			free(after);
			assert_int_equal(id_at(&c, old), id);
			rolled_back++;
		}
		free(before);
		assert_true(simcard_id(nic2) != 0);
		traffic_nic(nic2);
		run(&c, HS_SEC(1));
		assert_no_loss_nic(&c);
		teardown_t7(&c);
	}
	printf("fault sweep (renumbering): %lu injection points, %lu left "
	       "the NIC where it was, %lu renumbered it correctly\n", points,
	       rolled_back, absorbed);
}

static void fault_at_every_config_access(void **state)
{
	(void)state;
	fault_sweep(false);
}

static void fault_at_every_allocation(void **state)
{
	(void)state;
	fault_sweep(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gpu_moves_only_what_it_must),
		cmocka_unit_test(rebalance_now_restores_reservations),
		cmocka_unit_test(never_policy_refuses_and_names),
		cmocka_unit_test(without_rebalancer_refuses),
		cmocka_unit_test(never_policy_still_grows_windows),
		cmocka_unit_test(never_policy_trims_occupied_window),
		cmocka_unit_test(quieter_one_moves_3),
		cmocka_unit_test(quieter_one_moves_4),
		cmocka_unit_test(pinned_slot_and_class),
		cmocka_unit_test(bridge_card_gets_bus_numbers),
		cmocka_unit_test(running_device_renumbered),
		cmocka_unit_test(never_policy_keeps_bus_numbers),
		cmocka_unit_test(renumber_veto),
		cmocka_unit_test(nested_card_renumbers_over_rounds),
		cmocka_unit_test(renumbered_twice_one_event),
		cmocka_unit_test(shpc_controller_renumbered),
		cmocka_unit_test(veto_rolls_back),
		cmocka_unit_test(failed_start_rolls_back),
		cmocka_unit_test(fault_at_every_config_access),
		cmocka_unit_test(fault_at_every_renumber_access),
		cmocka_unit_test(fault_at_every_allocation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
