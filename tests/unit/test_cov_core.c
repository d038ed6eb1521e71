/*
 * test_cov_core.c - the core's public API at its edges: what a caller
 * gets back for bad arguments, a full registry, a platform without host
 * bridges or without memory, requests on the wrong kind of device, and
 * what becomes of requests still waiting when the core is destroyed.
 * (Issue #17 item 6: these paths had no test; each case asserts the
 * error or the callback a caller of the API would see.)
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slot_rig.h"
#include "simcard.h"
#include "hotswap/cfg.h"
#include "hotswap/hpc.h"
#include "hotswap/txn.h"
#include "hotswap/util.h"

static const struct rig_opts on_presence = {
	.policy = HS_SLOT_POLICY_PRESENCE
};

/* ---- creating the core ------------------------------------------------ */

static struct hs_platform_ops plain_ops;

static int no_host_bridge(void *ctx, unsigned index, struct hs_host_bridge *out)
{
	(void)ctx;
	(void)index;
	(void)out;
	return -HS_ENOENT;
}

static void test_create_refuses_unusable_platform(void **state)
{
	struct hs_core_params p;
	struct hs_platform plat;
	struct hs_core *core = (struct hs_core *)&p; /* must stay as it is */
	struct sim_counters c;
	struct tu t;

	(void)state;
	tu_init(&t, NULL);
	hs_core_params_defaults(&p);
	/* No platform, no operations, none to allocate or read config. */
	assert_int_equal(hs_core_create(NULL, &p, &core), -HS_EINVAL);
	plat = t.plat;
	plat.ops = NULL;
	assert_int_equal(hs_core_create(&plat, &p, &core), -HS_EINVAL);
	plain_ops = *t.plat.ops;
	plain_ops.cfg_read = NULL;
	plat.ops = &plain_ops;
	assert_int_equal(hs_core_create(&plat, &p, &core), -HS_EINVAL);
	plain_ops = *t.plat.ops;
	plain_ops.realloc = NULL;
	assert_int_equal(hs_core_create(&plat, &p, &core), -HS_EINVAL);
	/* A platform that reports no host bridge has nothing to manage,
	 * and what the attempt allocated is returned. */
	plain_ops = *t.plat.ops;
	plain_ops.host_bridge = no_host_bridge;
	assert_int_equal(hs_core_create(&plat, &p, &core), -HS_ENODEV);
	/* Without memory for the core itself. */
	sim_fault_alloc(t.sim, 1);
	assert_int_equal(hs_core_create(&t.plat, &p, &core), -HS_ENOMEM);
	sim_fault_alloc(t.sim, 0);
	sim_get_counters(t.sim, &c);
	assert_int_equal(c.alloc_failures_injected, 1);
	assert_ptr_equal(core, (struct hs_core *)&p);
	/* Destroying nothing is harmless (error paths of callers do it). */
	hs_core_destroy(NULL);
	tu_fini(&t);
}

/* ---- registries ------------------------------------------------------- */

static const struct hs_device_id no_ids[] = { { 0 } };

static int never_probe(struct hs_dev *dev, void **priv)
{
	(void)dev;
	(void)priv;
	return -HS_ENODEV;
}

static int never_svc_probe(struct hs_dev *port, void **priv)
{
	(void)port;
	(void)priv;
	return -HS_ENODEV;
}

static void test_registries_check_and_bound(void **state)
{
	static struct hs_driver drv[80];
	static struct hs_port_service svc[80];
	static char names[80][16];
	struct hs_driver bad;
	struct hs_port_service bad_svc;
	struct hs_core_params p;
	struct hs_core *core;
	struct tu t;
	int rc = 0;
	unsigned n;

	(void)state;
	tu_init(&t, NULL);
	hs_core_params_defaults(&p);
	assert_int_equal(hs_core_create(&t.plat, &p, &core), 0);
	hs_core_enable_rebalance(core);

	/* A driver needs a name, an ID table and a probe. */
	assert_int_equal(hs_driver_register(core, NULL), -HS_EINVAL);
	memset(&bad, 0, sizeof(bad));
	bad.name = "bad";
	bad.ids = no_ids;
	assert_int_equal(hs_driver_register(core, &bad), -HS_EINVAL);
	bad.probe = never_probe;
	bad.name = NULL;
	assert_int_equal(hs_driver_register(core, &bad), -HS_EINVAL);
	/* Once only. */
	assert_int_equal(hs_driver_register(core, &simnet_driver), 0);
	assert_int_equal(hs_driver_register(core, &simnet_driver), -HS_EEXIST);
	/* The table is bounded and says so when full. */
	for (n = 0; n < 80; n++) {
		snprintf(names[n], sizeof(names[n]), "drv%u", n);
		drv[n].name = names[n];
		drv[n].ids = no_ids;
		drv[n].probe = never_probe;
		if ((rc = hs_driver_register(core, &drv[n])))
			break;
	}
	assert_int_equal(rc, -HS_ENOSPC);
	assert_true(n >= 8);

	/* A port service needs a name, a probe and exactly one type. */
	memset(&bad_svc, 0, sizeof(bad_svc));
	bad_svc.name = "bad";
	bad_svc.probe = never_svc_probe;
	assert_int_equal(hs_port_service_register(core, &bad_svc), -HS_EINVAL);
	bad_svc.type = HS_PORT_SVC_HOTPLUG | (HS_PORT_SVC_HOTPLUG << 1);
	assert_int_equal(hs_port_service_register(core, &bad_svc), -HS_EINVAL);
	assert_int_equal(hs_port_service_register(core, NULL), -HS_EINVAL);
	for (n = 0; n < 80; n++) {
		svc[n].name = names[n];
		svc[n].type = HS_PORT_SVC_HOTPLUG;
		svc[n].probe = never_svc_probe;
		if ((rc = hs_port_service_register(core, &svc[n])))
			break;
	}
	assert_int_equal(rc, -HS_ENOSPC);
	/* With both tables full the controllers cannot register, and the
	 * caller hears why. */
	assert_int_equal(hs_controllers_register(core), -HS_ENOSPC);
	hs_core_destroy(core);
	tu_fini(&t);
}

static void count_ev(void *arg, const struct hs_event *ev)
{
	(void)ev;
	(*(unsigned *)arg)++;
}

static void test_subscribers_bounded(void **state)
{
	static unsigned seen[64];
	struct hs_core_params p;
	struct hs_core *core;
	struct tu t;
	unsigned n;
	int rc = 0;

	(void)state;
	tu_init(&t, NULL);
	hs_core_params_defaults(&p);
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 5, &tu_card_nic), 0);
	assert_int_equal(hs_core_create(&t.plat, &p, &core), 0);
	hs_core_enable_rebalance(core);
	for (n = 0; n < 64; n++)
		if ((rc = hs_core_subscribe(core, count_ev, &seen[n])))
			break;
	assert_int_equal(rc, -HS_ENOSPC);
	assert_true(n >= 4);
	/* Unsubscribing one that never subscribed changes nothing... */
	hs_core_unsubscribe(core, count_ev, &seen[63]);
	assert_int_equal(hs_core_subscribe(core, count_ev, &seen[63]),
			 -HS_ENOSPC);
	/* ...a real one makes room. */
	hs_core_unsubscribe(core, count_ev, &seen[0]);
	assert_int_equal(hs_core_subscribe(core, count_ev, &seen[63]), 0);
	/* Every subscriber but the removed one hears the boot. */
	assert_int_equal(hs_core_enumerate(core), 0);
	assert_int_equal(seen[0], 0);
	assert_true(seen[1] > 0);
	assert_int_equal(seen[1], seen[63]);
	hs_core_destroy(core);
	tu_fini(&t);
}

/* ---- the formatter ---------------------------------------------------- */

/* Not a literal, so the compiler's format check lets it through. */
static const char *volatile odd_fmt = "%q %";
static const char *volatile no_string;

static void test_format_rare_conversions(void **state)
{
	char b[64], want[64];
	int x;

	(void)state;
	hs_snprintf(b, sizeof(b), "[%-5d][%05d][%-4x]", 42, -42, 0xau);
	assert_string_equal(b, "[42   ][-0042][a   ]");
	hs_snprintf(b, sizeof(b), "[%s][%5s]", no_string, "ab");
	assert_string_equal(b, "[(null)][   ab]");
	/* An unknown conversion is printed as written; a lone % at the
	 * end is dropped rather than read past. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	hs_snprintf(b, sizeof(b), odd_fmt, 0);
#pragma GCC diagnostic pop
	assert_string_equal(b, "%q ");
	hs_snprintf(b, sizeof(b), "%p", (void *)&x);
	snprintf(want, sizeof(want), "0x%llx",
		 (unsigned long long)(uintptr_t)&x);
	assert_string_equal(b, want);
	/* hs_log without a platform log goes nowhere, quietly. */
	hs_log(NULL, HS_LOG_ERR, "%s", "dropped");
}

/* ---- configuration space helpers -------------------------------------- */

static void test_cfg_helpers(void **state)
{
	const hs_bdf_t nic = HS_BDF(0, 0, 5, 0);
	uint16_t off;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	struct tu t;

	(void)state;
	tu_init(&t, NULL);
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 5, &tu_card_nic), 0);
	assert_true(hs_cfg_present(&t.plat, nic));
	assert_false(hs_cfg_present(&t.plat, HS_BDF(0, 0, 6, 0)));
	/* Each width reaches the register: Interrupt Line (8 bits, RW),
	 * Command (16), BAR0 (32: all ones reads back the size mask). */
	assert_int_equal(hs_cfg_write8(&t.plat, nic, 0x3c, 0x5a), 0);
	assert_int_equal(hs_cfg_read8(&t.plat, nic, 0x3c, &v8), 0);
	assert_int_equal(v8, 0x5a);
	assert_int_equal(hs_cfg_write16(&t.plat, nic, 0x04, 0x0002), 0);
	assert_int_equal(hs_cfg_read16(&t.plat, nic, 0x04, &v16), 0);
	assert_int_equal(v16 & 0x0007, 0x0002);
	assert_int_equal(hs_cfg_write32(&t.plat, nic, 0x10, 0xffffffffu), 0);
	assert_int_equal(hs_cfg_read32(&t.plat, nic, 0x10, &v32), 0);
	assert_int_equal(v32 & 0xfffffff0u, 0xffff0000u); /* 64 KiB */
	/* Capability ID 0 is not a capability. */
	assert_int_equal(hs_cfg_find_cap(&t.plat, nic, 0, &off), -HS_EINVAL);
	assert_int_equal(hs_cfg_find_ext_cap(&t.plat, nic, 0, &off), -HS_EINVAL);
	assert_int_equal(hs_cfg_find_cap(&t.plat, nic, 0x05, &off), 0); /* MSI */
	tu_fini(&t);
}

/* ---- transactions ----------------------------------------------------- */

static int began;

static void keep_open(void *arg, struct hs_core *core, int rc)
{
	(void)arg;
	(void)core;
	if (rc == 0)
		began++;
}

static void test_txn_misuse(void **state)
{
	struct rig r;

	(void)state;
	rig_init(&r, RIG_PCIE, &on_presence);
	began = 0;
	/* Nothing open: nothing to commit or record into; abort is a
	 * no-op. */
	assert_int_equal(hs_core_txn_commit(r.core), -HS_EINVAL);
	assert_int_equal(hs_core_txn_record(r.core, NULL, NULL, NULL),
			 -HS_EINVAL);
	hs_core_txn_abort(r.core);
	assert_int_equal(hs_core_txn_begin(r.core, "x", NULL, NULL),
			 -HS_EINVAL);
	assert_int_equal(hs_core_txn_begin(r.core, "first", keep_open, NULL), 0);
	assert_int_equal(began, 1);
	/* A second writer queues, unless there is no memory to queue it. */
	sim_fault_alloc(r.t.sim, 1);
	assert_int_equal(hs_core_txn_begin(r.core, "second", keep_open, NULL),
			 -HS_ENOMEM);
	sim_fault_alloc(r.t.sim, 0);
	assert_int_equal(hs_core_txn_begin(r.core, "third", keep_open, NULL), 1);
	assert_int_equal(hs_core_txn_commit(r.core), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(began, 2);
	assert_int_equal(hs_core_txn_commit(r.core), 0);
	rig_fini(&r);
}

/* ---- devices ---------------------------------------------------------- */

static void test_device_accessors_refuse_bad_arguments(void **state)
{
	struct hs_resource res;
	struct hs_dev *card, *port;
	unsigned bus;
	uint32_t v = 0x1234;
	uint16_t off;
	struct rig r;

	(void)state;
	rig_init(&r, RIG_PCIE, &on_presence);
	rig_bring_up(&r, &tu_card_nic);
	card = rig_dev(&r);
	assert_non_null(card);
	port = hs_dev_parent(card);
	/* BARs 0-5 only, inside what was assigned. */
	assert_int_equal(hs_dev_read32(card, 6, 0, &v), -HS_EINVAL);
	assert_int_equal(hs_dev_read32(card, -1, 0, &v), -HS_EINVAL);
	assert_int_equal(hs_dev_write32(card, 6, 0, 0), -HS_EINVAL);
	assert_int_equal(hs_dev_write32(card, 0, 0x10000, 0), -HS_EINVAL);
	assert_int_equal(hs_dev_write32(card, 1, 0, 0), -HS_EINVAL); /* none */
	assert_int_equal(hs_dev_bar(card, 7, &res), -HS_EINVAL);
	/* An endpoint has no secondary bus, no windows, no slot. */
	assert_int_equal(hs_dev_secondary_bus(card, &bus), -HS_ENOENT);
	assert_int_equal(hs_dev_window(card, HS_RES_MEM, &res), -HS_EINVAL);
	assert_int_equal(hs_dev_secondary_bus(port, &bus), 0);
	assert_int_equal(bus, 1);
	/* Extended capabilities: the card has a serial number, no AER. */
	assert_int_equal(hs_dev_find_ext_cap(card, 0x0003, &off), 0);
	assert_true(off >= 0x100);
	assert_int_equal(hs_dev_find_ext_cap(card, 0x0001, &off), -HS_ENOENT);
	/* A capability the core does not keep is walked for. */
	assert_int_equal(hs_dev_find_cap(card, 0x0d, &off), -HS_ENOENT);
	rig_fini(&r);
}

/* ---- removal requests ------------------------------------------------- */

struct outcome {
	int calls, rc;
	char msg[200];
};

static void record(void *arg, int rc, const char *msg)
{
	struct outcome *o = arg;

	o->calls++;
	o->rc = rc;
	snprintf(o->msg, sizeof(o->msg), "%s", msg ? msg : "");
}

static void test_removal_requests_refused_with_reason(void **state)
{
	struct outcome o = { 0 };
	struct hs_dev *br, *card;
	char msg[128];
	struct rig r;

	(void)state;
	rig_init(&r, RIG_PCIE, &on_presence);
	br = hs_core_slot_bridge(r.core, 1);
	assert_non_null(br);
	/* An endpoint has no slots below it. */
	rig_bring_up(&r, &tu_card_nic);
	card = rig_dev(&r);
	assert_false(hs_dev_is_hotplug_bridge(card));
	assert_int_equal(hs_core_hot_remove(r.core, card, 0, record, &o),
			 -HS_EINVAL);
	assert_int_equal(o.calls, 1);
	assert_string_equal(o.msg, "not a hot-plug bridge");
	assert_int_equal(hs_core_surprise_remove(r.core, card, 0), -HS_EINVAL);
	/* An empty slot (the card's slot has no device 3). */
	o.calls = 1;
	assert_int_equal(hs_core_hot_remove(r.core, br, 3, record, &o),
			 -HS_ENOENT);
	assert_int_equal(o.calls, 2);
	assert_string_equal(o.msg, "no card in that slot");
	assert_int_equal(hs_core_surprise_remove(r.core, br, 3), -HS_ENOENT);
	/* Without a callback the code alone says it. */
	assert_int_equal(hs_core_hot_remove(r.core, br, 3, NULL, NULL),
			 -HS_ENOENT);
	/* While a writer holds the core, a removal waits for it (seeds/002)
	 * and runs when it commits; the synchronous hot-add cannot wait
	 * and says so. */
	began = 0;
	assert_int_equal(hs_core_txn_begin(r.core, "w", keep_open, NULL), 0);
	assert_int_equal(hs_core_hot_remove(r.core, br, 0, record, &o), 0);
	assert_int_equal(o.calls, 2);
	assert_int_equal(hs_core_hot_add(r.core, br, msg, sizeof(msg)),
			 -HS_EBUSY);
	rig_run(&r, HS_MSEC(100));
	assert_int_equal(o.calls, 2);
	assert_non_null(rig_dev(&r));
	assert_int_equal(hs_core_txn_commit(r.core), 0);
	rig_run(&r, HS_MSEC(100));
	assert_int_equal(o.calls, 3);
	assert_int_equal(o.rc, 0);
	assert_null(rig_dev(&r));
	rig_fini(&r);
}

/* A removal waiting for its driver to drain, and an add waiting for that
 * removal: destroying the core ends both, each told why, once. */
static void test_destroy_ends_waiting_requests(void **state)
{
	struct outcome rm = { 0 }, add = { 0 };
	struct hs_dev *br;
	struct rig r;

	(void)state;
	simcard_ledger_reset();
	rig_init(&r, RIG_PCIE, &on_presence);
	rig_bring_up(&r, &tu_card_nic);
	br = hs_core_slot_bridge(r.core, 1);
	/* Requests in flight: quiescing waits for them. */
	assert_true(simcard_submit(rig_dev(&r), 8) > 0);
	assert_int_equal(hs_core_hot_remove(r.core, br, 0, record, &rm), 0);
	assert_int_equal(rm.calls, 0);
	assert_int_equal(hs_core_hot_add_async(r.core, br, record, &add), 0);
	assert_int_equal(add.calls, 0);
	rig_stop(&r);
	assert_int_equal(rm.calls, 1);
	assert_int_equal(rm.rc, -HS_ECANCELED);
	assert_string_equal(rm.msg, "the core is shutting down");
	assert_int_equal(add.calls, 1);
	assert_int_equal(add.rc, -HS_ECANCELED);
	assert_string_equal(add.msg, "the core is shutting down");
	rig_fini(&r);
}

/* ---- blocking and authorizing a device ------------------------------ */

static void test_block_and_authorize_refusals(void **state)
{
	struct hs_dev *card;
	char msg[160];
	unsigned n;
	struct rig r;
	int rc;

	(void)state;
	simcard_ledger_reset();
	rig_init(&r, RIG_PCIE, &on_presence);
	rig_bring_up(&r, &tu_card_nic);
	card = rig_dev(&r);
	/* Authorizing what is not blocked changes nothing. */
	assert_int_equal(hs_dev_authorize(card, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
	/* The bridge in front cannot be blocked: its functions can. */
	assert_int_equal(hs_dev_deauthorize(hs_dev_parent(card), msg,
					    sizeof(msg)), -HS_EINVAL);
	assert_non_null(strstr(msg, "block those instead"));
	/* The driver may refuse, and says why. */
	simcard_set_busy(card, "a volume is mounted");
	assert_int_equal(hs_dev_deauthorize(card, msg, sizeof(msg)), -HS_EBUSY);
	assert_string_equal(msg, "driver simnet refuses: a volume is mounted");
	assert_false(hs_dev_blocked(card));
	simcard_set_busy(card, NULL);
	/* Not while another writer holds the core. */
	began = 0;
	assert_int_equal(hs_core_txn_begin(r.core, "w", keep_open, NULL), 0);
	assert_true(hs_dev_deauthorize(card, msg, sizeof(msg)) < 0);
	assert_string_equal(msg, "another change is in progress");
	assert_int_equal(hs_core_txn_commit(r.core), 0);
	/* Blocked: unbound, and blocking again is a no-op. */
	assert_int_equal(hs_dev_deauthorize(card, msg, sizeof(msg)), 0);
	assert_true(hs_dev_blocked(card));
	assert_null(hs_dev_driver_name(card));
	assert_int_equal(hs_dev_deauthorize(card, NULL, 0), 0);
	assert_int_equal(hs_core_txn_begin(r.core, "w", keep_open, NULL), 0);
	assert_true(hs_dev_authorize(card, msg, sizeof(msg)) < 0);
	assert_string_equal(msg, "another change is in progress");
	assert_int_equal(hs_core_txn_commit(r.core), 0);
	/* Authorizing without memory fails whole: still blocked, no
	 * driver; with memory it binds. */
	for (n = 1;; n++) {
		sim_fault_alloc(r.t.sim, n);
		rc = hs_dev_authorize(card, msg, sizeof(msg));
		sim_fault_alloc(r.t.sim, 0);
		if (rc == 0)
			break;
		assert_true(msg[0] != '\0');
		assert_true(hs_dev_blocked(card));
		assert_null(hs_dev_driver_name(card));
		assert_true(n < 100);
	}
	assert_false(hs_dev_blocked(card));
	assert_string_equal(hs_dev_driver_name(card), "simnet");
	rig_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_refuses_unusable_platform),
		cmocka_unit_test(test_registries_check_and_bound),
		cmocka_unit_test(test_subscribers_bounded),
		cmocka_unit_test(test_format_rare_conversions),
		cmocka_unit_test(test_cfg_helpers),
		cmocka_unit_test(test_txn_misuse),
		cmocka_unit_test(test_device_accessors_refuse_bad_arguments),
		cmocka_unit_test(test_removal_requests_refused_with_reason),
		cmocka_unit_test(test_destroy_ends_waiting_requests),
		cmocka_unit_test(test_block_and_authorize_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
