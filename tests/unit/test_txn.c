/*
 * test_txn.c - the public transaction API (hotswap/txn.h, issue #18):
 * a second writer waits for the first and then runs (a continuation on
 * the core's timer, not a refusal or a spin), a driver's own records are
 * undone or committed with the core's, read-only transactions tell a
 * reader whether a commit happened under it, and the core's synchronous
 * hot-add, which cannot wait, answers -HS_EBUSY while a public writer
 * holds the database (the asynchronous operations wait: their tests are
 * sc_add_waits_for_writer, sc_remove_waits_for_writer and
 * rebalance_now_restores_reservations).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <string.h>

#include "sim_util.h"

#include "hotswap/txn.h"

static struct tu t;
static struct hs_core *core;
static char trace[128];

static void note(const char *s)
{
	size_t n = strlen(trace);

	snprintf(trace + n, sizeof(trace) - n, "%s", s);
}

static void undo_a(void *arg) { (void)arg; note("undoA "); }
static void undo_b(void *arg) { (void)arg; note("undoB "); }
static void commit_a(void *arg) { (void)arg; note("commitA "); }
static void commit_b(void *arg) { (void)arg; note("commitB "); }

static int setup(void **state)
{
	struct sim_port_spec ps;
	int err = 0;

	(void)state;
	tu_init(&t, NULL);
	memset(&ps, 0, sizeof(ps));
	ps.type = SIM_PORT_ROOT;
	ps.vendor = 0x8086;
	ps.device = 0x7c00;
	ps.has_slot = true;
	ps.phys_slot = 1;
	sim_slot_features_default(&ps.slot);
	assert_non_null(sim_add_pcie_port(sim_root_bus(t.sim), 1, 0, &ps,
					  &err));
	assert_int_equal(hs_core_create(&t.plat, NULL, &core), 0);
	hs_core_enable_rebalance(core);
	assert_int_equal(hs_core_enumerate(core), 0);
	trace[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hs_core_destroy(core);
	core = NULL;
	tu_fini(&t);
	return 0;
}

/* The first writer keeps its transaction open across "asynchronous
 * work"; the second is queued and starts only once the first ends. */
struct writer {
	const char *name;
	int rc;          /* what fn was called with; 99: not yet */
	bool was_open;   /* the transaction was open when fn ran */
};

static void writer_fn(void *arg, struct hs_core *c, int rc)
{
	struct writer *w = arg;

	w->rc = rc;
	w->was_open = hs_core_in_transaction(c);
	note(w->name);
}

static void test_second_writer_waits_then_runs(void **state)
{
	struct writer a = { "A ", 99, false }, b = { "B ", 99, false };

	(void)state;
	assert_int_equal(hs_core_txn_begin(core, "writer A", writer_fn, &a), 0);
	assert_int_equal(a.rc, 0);
	assert_true(a.was_open);
	/* A second writer is queued, not refused and not run. */
	assert_int_equal(hs_core_txn_begin(core, "writer B", writer_fn, &b), 1);
	assert_int_equal(b.rc, 99);
	sim_advance(t.sim, HS_MSEC(5));
	assert_int_equal(b.rc, 99); /* A still holds it */
	assert_int_equal(hs_core_txn_record(core, undo_a, commit_a, NULL), 0);
	assert_int_equal(hs_core_txn_commit(core), 0);
	/* B starts from the core's timer, not inside A's commit. */
	assert_int_equal(b.rc, 99);
	assert_false(hs_core_in_transaction(core));
	sim_advance(t.sim, 0);
	assert_int_equal(b.rc, 0);
	assert_true(b.was_open);
	assert_true(hs_core_in_transaction(core));
	hs_core_txn_abort(core);
	assert_string_equal(trace, "A commitA B ");
}

static void test_records_undone_newest_first_or_committed(void **state)
{
	struct writer a = { "", 99, false };
	hs_bdf_t port = HS_BDF(0, 0, 1, 0);
	struct hs_dev *d = hs_dev_find(core, port);
	uint32_t before, v;

	(void)state;
	assert_non_null(d);
	/* Rolled back: the driver's records newest first, and a config
	 * register it wrote through the core is as it was. */
	assert_int_equal(hs_dev_cfg_read(d, 0x3c, 1, &before), 0);
	assert_int_equal(hs_core_txn_begin(core, "driver", writer_fn, &a), 0);
	assert_int_equal(hs_core_txn_record(core, undo_a, commit_a, NULL), 0);
	assert_int_equal(hs_dev_cfg_write(d, 0x3c, 1, before ^ 0x5a), 0);
	assert_int_equal(hs_core_txn_record(core, undo_b, commit_b, NULL), 0);
	assert_int_equal(hs_dev_cfg_read(d, 0x3c, 1, &v), 0);
	assert_int_equal(v, before ^ 0x5a);
	hs_core_txn_abort(core);
	assert_string_equal(trace, "undoB undoA ");
	assert_int_equal(hs_dev_cfg_read(d, 0x3c, 1, &v), 0);
	assert_int_equal(v, before);
	/* Committed: oldest first, no undo. */
	trace[0] = '\0';
	assert_int_equal(hs_core_txn_begin(core, "driver", writer_fn, &a), 0);
	assert_int_equal(hs_core_txn_record(core, undo_a, commit_a, NULL), 0);
	assert_int_equal(hs_core_txn_record(core, undo_b, commit_b, NULL), 0);
	assert_int_equal(hs_core_txn_commit(core), 0);
	assert_string_equal(trace, "commitA commitB ");
	/* Nothing to record into. */
	assert_int_equal(hs_core_txn_record(core, undo_a, NULL, NULL),
			 -HS_EINVAL);
}

static void test_read_transactions(void **state)
{
	struct writer a = { "", 99, false };
	uint64_t r;

	(void)state;
	r = hs_core_read_begin(core);
	assert_int_equal(hs_core_read_end(core, r), 0);
	/* A rolled-back writer changed nothing a reader saw. */
	r = hs_core_read_begin(core);
	assert_int_equal(hs_core_txn_begin(core, "w", writer_fn, &a), 0);
	hs_core_txn_abort(core);
	assert_int_equal(hs_core_read_end(core, r), 0);
	/* A commit under a reader: read again. */
	r = hs_core_read_begin(core);
	assert_int_equal(hs_core_txn_begin(core, "w", writer_fn, &a), 0);
	assert_int_equal(hs_core_read_end(core, r), 0); /* not yet */
	assert_int_equal(hs_core_txn_commit(core), 0);
	assert_int_equal(hs_core_read_end(core, r), -HS_EAGAIN);
}

static void test_core_operations_busy_under_a_writer(void **state)
{
	struct writer a = { "", 99, false };
	struct hs_dev *br = hs_core_slot_bridge(core, 1);
	char msg[128] = "";

	(void)state;
	assert_non_null(br);
	assert_int_equal(hs_core_txn_begin(core, "w", writer_fn, &a), 0);
	assert_int_equal(hs_core_hot_add(core, br, msg, sizeof(msg)),
			 -HS_EBUSY);
	hs_core_txn_abort(core);
}

static void test_destroy_cancels_queued_writers(void **state)
{
	struct writer a = { "", 99, false }, b = { "", 99, false };

	(void)state;
	assert_int_equal(hs_core_txn_begin(core, "a", writer_fn, &a), 0);
	assert_int_equal(hs_core_txn_begin(core, "b", writer_fn, &b), 1);
	hs_core_destroy(core);
	core = NULL;
	assert_int_equal(b.rc, -HS_ECANCELED);
	assert_false(b.was_open);
	assert_int_equal(hs_core_create(&t.plat, NULL, &core), 0);
	hs_core_enable_rebalance(core);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_second_writer_waits_then_runs,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_records_undone_newest_first_or_committed, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_read_transactions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_core_operations_busy_under_a_writer, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_destroy_cancels_queued_writers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
