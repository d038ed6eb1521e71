/*
 * test_card.c - the card model: the BAR0 register file (doorbell, ring,
 * completion, overflow, abort, ring size), MSI-X through the table in a
 * BAR, and what power loss does to requests in flight.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "sim_util.h"

#define RP HS_BDF(0, 0, 1, 0)
#define CARD HS_BDF(0, 1, 0, 0)
#define BAR 0x80000000u

static struct tu t;
static struct sim_slot *slot;

static void up(const struct sim_card_spec *card)
{
	struct sim_port_spec ps = { .type = SIM_PORT_ROOT, .vendor = 0x8086,
				    .device = 0x7c00, .has_slot = true,
				    .phys_slot = 1 };
	struct sim_fn *fn;
	int err;

	tu_init(&t, NULL);
	sim_slot_features_default(&ps.slot);
	fn = sim_add_pcie_port(sim_root_bus(t.sim), 1, 0, &ps, &err);
	assert_non_null(fn);
	slot = sim_fn_slot(fn);
	assert_int_equal(sim_coldplug(slot, card), 0);
	tu_bridge_bus(&t, RP, 0, 1, 1);
	tu_bridge_mem(&t, RP, 0x80000000, 0x81ffffff);
	tu_cmd(&t, RP, 6);
	tu_wr32(&t, CARD, 0x10, BAR);
	tu_cmd(&t, CARD, 6);
}

static uint32_t *ring(uint64_t *bus)
{
	uint32_t *r = t.plat.ops->dma_alloc(t.plat.ctx, 4096, bus);

	assert_non_null(r);
	tu_wmem32(&t, BAR + 0x10, (uint32_t)*bus);
	tu_wmem32(&t, BAR + 0x14, (uint32_t)(*bus >> 32));
	return r;
}

static void test_requests_complete_in_order(void **state)
{
	uint64_t bus;
	uint32_t *r;

	(void)state;
	up(&tu_card_nic);
	r = ring(&bus);
	tu_wmem32(&t, BAR + 0x2c, 4);  /* 4-entry ring */
	for (uint32_t tag = 1; tag <= 6; tag++)
		tu_wmem32(&t, BAR + 0x08, tag);
	assert_int_equal(tu_mem32(&t, BAR + 0x24), 6);
	assert_int_equal(tu_mem32(&t, BAR + 0x18) & 1, 1);  /* BUSY */
	/* One at a time, 50 us each. */
	sim_advance(t.sim, HS_USEC(100));
	assert_int_equal(tu_mem32(&t, BAR + 0x0c), 2);
	sim_advance(t.sim, HS_USEC(200));
	assert_int_equal(tu_mem32(&t, BAR + 0x0c), 6);
	assert_int_equal(tu_mem32(&t, BAR + 0x18) & 1, 0);
	/* The ring wrapped: entries 0,1 hold tags 5,6; 2,3 hold 3,4. */
	assert_int_equal(r[0], 5);
	assert_int_equal(r[2], 6);
	assert_int_equal(r[4], 3);
	assert_int_equal(r[6], 4);
	/* Bad ring sizes are ignored. */
	tu_wmem32(&t, BAR + 0x2c, 3);
	assert_int_equal(tu_mem32(&t, BAR + 0x2c), 4);
	t.plat.ops->dma_free(t.plat.ctx, r, 4096);
	tu_fini(&t);
}

static void test_overflow_and_abort(void **state)
{
	uint64_t bus;
	uint32_t *r;

	(void)state;
	up(&tu_card_nic);
	r = ring(&bus);
	for (uint32_t tag = 0; tag < 65; tag++)
		tu_wmem32(&t, BAR + 0x08, tag);
	assert_int_equal(tu_mem32(&t, BAR + 0x24), 64);
	assert_int_equal(tu_mem32(&t, BAR + 0x18) & 4, 4);  /* OVERFLOW */
	tu_wmem32(&t, BAR + 0x18, 4);
	assert_int_equal(tu_mem32(&t, BAR + 0x18) & 4, 0);
	tu_wmem32(&t, BAR + 0x28, 1);                        /* ABORT */
	assert_int_equal(tu_mem32(&t, BAR + 0x24), 0);
	sim_advance(t.sim, HS_MSEC(10));
	assert_int_equal(tu_mem32(&t, BAR + 0x0c), 0);
	t.plat.ops->dma_free(t.plat.ctx, r, 4096);
	tu_fini(&t);
}

static void test_power_loss_drops_requests(void **state)
{
	uint64_t bus;
	uint32_t *r;

	(void)state;
	up(&tu_card_nic);
	r = ring(&bus);
	tu_wmem32(&t, BAR + 0x08, 9);
	tu_wmem32(&t, BAR + 0x08, 10);
	/* The operator pulls the card mid-request. */
	assert_int_equal(sim_remove(slot, SIM_REMOVE_SURPRISE), 0);
	sim_advance(t.sim, HS_MSEC(1));
	assert_int_equal(r[0], 0);
	assert_int_equal(tu_mem32(&t, BAR + 0x0c), 0xffffffff);
	t.plat.ops->dma_free(t.plat.ctx, r, 4096);
	tu_fini(&t);
}

static int irqs;
static uint32_t last_vec;

static void on_irq(void *arg, const struct hs_irq *irq)
{
	(void)arg;
	irqs++;
	last_vec = irq->number;
}

static void test_msix_table_in_bar(void **state)
{
	struct hs_irq irq = { HS_IRQ_MSI, 0 };
	struct hs_msi_msg msg;
	uint16_t cap;
	uint32_t tbl, pba;
	uint64_t bus;
	uint32_t *r;

	(void)state;
	up(&tu_card_gpu); /* 16 MiB BAR0, 4 MSI-X vectors in BAR0 */
	r = ring(&bus);
	cap = tu_cap(&t, CARD, 0x11);
	assert_int_equal(tu_rd16(&t, CARD, cap + 2) & 0x7ff, 3);
	tbl = tu_rd32(&t, CARD, cap + 4);
	pba = tu_rd32(&t, CARD, cap + 8);
	assert_int_equal(tbl & 7, 0);
	assert_int_equal(tbl, 8u << 20);          /* upper half of 16 MiB */
	assert_int_equal(pba, (8u << 20) + 64);
	assert_int_equal(t.plat.ops->msi_alloc(t.plat.ctx, 1, &irq.number), 0);
	t.plat.ops->msi_message(t.plat.ctx, CARD, irq.number, &msg);
	assert_int_equal(t.plat.ops->irq_attach(t.plat.ctx, &irq, on_irq, NULL), 0);
	/* Vector 0's entry: address, data, control (masked out of reset). */
	assert_int_equal(tu_mem32(&t, BAR + tbl + 12), 1);
	tu_wmem32(&t, BAR + tbl + 0, (uint32_t)msg.address);
	tu_wmem32(&t, BAR + tbl + 4, 0);
	tu_wmem32(&t, BAR + tbl + 8, msg.data);
	tu_wr16(&t, CARD, cap + 2, 0x8000);       /* MSI-X Enable */
	tu_wmem32(&t, BAR + 0x20, 1);
	irqs = 0;
	/* Still masked: the pending bit is set instead. */
	tu_wmem32(&t, BAR + 0x08, 1);
	sim_advance(t.sim, HS_USEC(10));
	assert_int_equal(irqs, 0);
	assert_int_equal(tu_mem32(&t, BAR + pba) & 1, 1);
	tu_wmem32(&t, BAR + tbl + 12, 0);         /* unmask */
	tu_wmem32(&t, BAR + 0x08, 2);
	sim_advance(t.sim, HS_USEC(10));
	assert_int_equal(irqs, 1);
	assert_int_equal(last_vec, irq.number);
	/* Function Mask holds every vector. */
	tu_wr16(&t, CARD, cap + 2, 0xc000);
	tu_wmem32(&t, BAR + 0x08, 3);
	sim_advance(t.sim, HS_USEC(10));
	assert_int_equal(irqs, 1);
	t.plat.ops->msi_free(t.plat.ctx, irq.number, 1);
	t.plat.ops->dma_free(t.plat.ctx, r, 4096);
	tu_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_complete_in_order),
		cmocka_unit_test(test_overflow_and_abort),
		cmocka_unit_test(test_power_loss_drops_requests),
		cmocka_unit_test(test_msix_table_in_bar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
