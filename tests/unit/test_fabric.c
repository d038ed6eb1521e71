/*
 * test_fabric.c - how cycles travel: BAR sizing, type 1 routing by bus
 * number, window decode (the edge bytes of each window), master abort,
 * DMA through Bus Master Enable, INTx swizzle and MSI, fault injection
 * and counters.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <string.h>

#include "sim_util.h"

#define RP1 HS_BDF(0, 0, 1, 0)
#define DEV1 HS_BDF(0, 1, 0, 0)
#define CMD_IO 1
#define CMD_MEM 2
#define CMD_BM 4

static struct tu t;

static const struct sim_card_spec pref_card = {
	.name = "pref64",
	.pcie = true,
	.nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x1234, .device = 0x0001,
		     .class_code = 0x058000,
		     .bar = { [0] = { SIM_BAR_MEM64, true, 1 << 20 } } } },
};

static const struct sim_card_spec io_card = {
	.name = "io-only",
	.nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x1234, .device = 0x0002,
		     .class_code = 0x078000,
		     .bar = { [0] = { SIM_BAR_IO, false, 256 } } } },
};

static const struct sim_card_spec bad_bar_card = {
	.name = "bad-bar",
	.nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x1234, .device = 0x0003,
		     .class_code = 0xff0000,
		     .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } },
		     .quirks = SIM_QUIRK_BAR_BAD_SIZE } },
};

/* A root port at 00:01.0 with slot 1 holding card (powered, linked). */
static void one_port(const struct sim_card_spec *card)
{
	struct sim_port_spec ps = { .type = SIM_PORT_ROOT, .vendor = 0x8086,
				    .device = 0x7c00, .has_slot = true,
				    .phys_slot = 1 };
	struct sim_fn *rp;
	int err = 0;

	tu_init(&t, NULL);
	sim_slot_features_default(&ps.slot);
	rp = sim_add_pcie_port(sim_root_bus(t.sim), 1, 0, &ps, &err);
	assert_non_null(rp);
	if (card)
		assert_int_equal(sim_coldplug(sim_fn_slot(rp), card), 0);
}

static int teardown(void **state)
{
	(void)state;
	tu_fini(&t);
	return 0;
}

static void test_bar_sizing_each_type(void **state)
{
	hs_bdf_t nic = HS_BDF(0, 0, 5, 0), gpu = HS_BDF(0, 0, 6, 0);
	hs_bdf_t bad = HS_BDF(0, 0, 7, 0);

	(void)state;
	tu_init(&t, NULL);
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 5, &tu_card_nic), 0);
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 6, &tu_card_gpu), 0);
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 7, &bad_bar_card), 0);

	/* 64 KiB 32-bit memory: type bits read 0 before and after. */
	assert_int_equal(tu_rd32(&t, nic, 0x10), 0x00000000);
	tu_wr32(&t, nic, 0x10, 0xffffffff);
	assert_int_equal(tu_rd32(&t, nic, 0x10), 0xffff0000);
	/* No BAR1: hardwired zero. */
	tu_wr32(&t, nic, 0x14, 0xffffffff);
	assert_int_equal(tu_rd32(&t, nic, 0x14), 0);
	/* 32 bytes of I/O: bit 0 reads 1. */
	tu_wr32(&t, nic, 0x18, 0xffffffff);
	assert_int_equal(tu_rd32(&t, nic, 0x18), 0xffffffe1);
	/* Expansion ROM, 64 KiB, enable bit writable. */
	tu_wr32(&t, nic, 0x30, 0xffffffff);
	assert_int_equal(tu_rd32(&t, nic, 0x30), 0xffff0001);
	tu_wr32(&t, nic, 0x30, 0xfffff800);
	assert_int_equal(tu_rd32(&t, nic, 0x30), 0xffff0000);

	/* 256 MiB 64-bit prefetchable: low half 0xf000000c, high all ones. */
	assert_int_equal(tu_rd32(&t, gpu, 0x18), 0x0000000c);
	tu_wr32(&t, gpu, 0x18, 0xffffffff);
	tu_wr32(&t, gpu, 0x1c, 0xffffffff);
	assert_int_equal(tu_rd32(&t, gpu, 0x18), 0xf000000c);
	assert_int_equal(tu_rd32(&t, gpu, 0x1c), 0xffffffff);
	/* Restoring an address: the size bits stay zero. */
	tu_wr32(&t, gpu, 0x18, 0x12345678);
	tu_wr32(&t, gpu, 0x1c, 0x4);
	assert_int_equal(tu_rd32(&t, gpu, 0x18), 0x1000000c);
	assert_int_equal(tu_rd32(&t, gpu, 0x1c), 0x4);

	/* A card lying about its size: the mask has a hole. */
	tu_wr32(&t, bad, 0x10, 0xffffffff);
	assert_int_equal(tu_rd32(&t, bad, 0x10), 0xfff0f000);
}

static void test_endpoint_decode_needs_command(void **state)
{
	hs_bdf_t nic = HS_BDF(0, 0, 5, 0);
	struct sim_counters cnt;

	(void)state;
	tu_init(&t, NULL);
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 5, &tu_card_nic), 0);
	tu_wr32(&t, nic, 0x10, 0x80000000);
	tu_wr32(&t, nic, 0x18, 0x2000);
	/* Memory Space Enable still clear: nobody claims the cycle. */
	assert_int_equal(tu_mem32(&t, 0x80000000), 0xffffffff);
	tu_cmd(&t, nic, CMD_MEM);
	assert_int_equal(tu_mem32(&t, 0x80000000), 0x10d38086);
	tu_wmem32(&t, 0x80000004, 0x12345678);
	assert_int_equal(tu_mem32(&t, 0x80000004), 0xedcba987);
	/* Last DWORD of the BAR is claimed, the next byte is not. */
	sim_reset_counters(t.sim);
	(void)tu_mem32(&t, 0x8000fffc);
	sim_get_counters(t.sim, &cnt);
	assert_int_equal(cnt.mem_master_aborts, 0);
	assert_int_equal(tu_mem32(&t, 0x80010000), 0xffffffff);
	sim_get_counters(t.sim, &cnt);
	assert_int_equal(cnt.mem_master_aborts, 1);
	/* I/O needs I/O Space Enable. */
	assert_int_equal(tu_io32(&t, 0x2000), 0xffffffff);
	tu_cmd(&t, nic, CMD_IO);
	assert_int_not_equal(tu_io32(&t, 0x2000), 0xffffffff);
	assert_int_equal(tu_io32(&t, 0x2020), 0xffffffff);
	/* Two devices claiming the same range: counted as a conflict. */
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 6, &tu_card_nic), 0);
	tu_wr32(&t, HS_BDF(0, 0, 6, 0), 0x10, 0x80000000);
	tu_cmd(&t, HS_BDF(0, 0, 6, 0), CMD_MEM);
	sim_reset_counters(t.sim);
	(void)tu_mem32(&t, 0x80000000);
	sim_get_counters(t.sim, &cnt);
	assert_int_equal(cnt.decode_conflicts, 1);
}

static void test_type1_routing(void **state)
{
	struct sim_counters cnt;

	(void)state;
	one_port(&tu_card_nic);
	/* Bus numbers not programmed: bus 1 is nowhere. */
	assert_int_equal(tu_rd16(&t, DEV1, 0), 0xffff);
	tu_bridge_bus(&t, RP1, 0, 1, 1);
	sim_reset_counters(t.sim);
	assert_int_equal(tu_rd16(&t, DEV1, 0), 0x8086);
	sim_get_counters(t.sim, &cnt);
	assert_int_equal(cnt.cfg_type1, 1);
	assert_int_equal(cnt.cfg_type0, 1);
	/* Below a PCIe port only device 0 exists... */
	assert_int_equal(tu_rd16(&t, HS_BDF(0, 1, 1, 0), 0), 0xffff);
	/* ...unless ARI Forwarding is enabled, then device numbers are
	 * function number bits and reach the same link. */
	uint16_t px = tu_cap(&t, RP1, 0x10);

	tu_wr16(&t, RP1, px + 0x28, 0x20);
	assert_int_equal(tu_rd16(&t, HS_BDF(0, 1, 1, 0), 0), 0xffff);
	/* Bus 2 is outside secondary..subordinate. */
	assert_int_equal(tu_rd16(&t, HS_BDF(0, 2, 0, 0), 0), 0xffff);
	/* Another segment does not exist. */
	assert_int_equal(tu_rd16(&t, HS_BDF(1, 1, 0, 0), 0), 0xffff);
	tu_fini(&t);
}

static void test_switch_routing(void **state)
{
	struct sim_port_spec rp = { .type = SIM_PORT_ROOT, .vendor = 0x8086,
				    .device = 0x7c01 };
	struct sim_port_spec up = { .type = SIM_PORT_UPSTREAM,
				    .vendor = 0x10b5, .device = 0x8724 };
	struct sim_port_spec dp = { .type = SIM_PORT_DOWNSTREAM,
				    .vendor = 0x10b5, .device = 0x8724,
				    .has_slot = true };
	struct sim_fn *r, *u, *d0, *d1;
	int err = 0;

	(void)state;
	tu_init(&t, NULL);
	sim_slot_features_default(&dp.slot);
	r = sim_add_pcie_port(sim_root_bus(t.sim), 2, 0, &rp, &err);
	assert_non_null(r);
	u = sim_add_pcie_port(sim_fn_secondary(r), 0, 0, &up, &err);
	assert_non_null(u);
	/* An upstream port can't be put at device 1 below a link. */
	assert_null(sim_add_pcie_port(sim_fn_secondary(r), 1, 0, &up, &err));
	assert_int_equal(err, -HS_EINVAL);
	dp.phys_slot = 10;
	d0 = sim_add_pcie_port(sim_fn_secondary(u), 0, 0, &dp, &err);
	dp.phys_slot = 11;
	d1 = sim_add_pcie_port(sim_fn_secondary(u), 1, 0, &dp, &err);
	assert_non_null(d0);
	assert_non_null(d1);
	assert_int_equal(sim_coldplug(sim_fn_slot(d0), &tu_card_nic), 0);
	assert_int_equal(sim_coldplug(sim_fn_slot(d1), &tu_card_gpu), 0);

	tu_bridge_bus(&t, HS_BDF(0, 0, 2, 0), 0, 2, 5);
	tu_bridge_bus(&t, HS_BDF(0, 2, 0, 0), 2, 3, 5);
	tu_bridge_bus(&t, HS_BDF(0, 3, 0, 0), 3, 4, 4);
	tu_bridge_bus(&t, HS_BDF(0, 3, 1, 0), 3, 5, 5);
	assert_int_equal(tu_rd32(&t, HS_BDF(0, 4, 0, 0), 0), 0x10d38086);
	assert_int_equal(tu_rd32(&t, HS_BDF(0, 5, 0, 0), 0), 0x1eb810de);
	/* Shrink the upstream port's range: bus 5 falls off. */
	tu_wr8(&t, HS_BDF(0, 2, 0, 0), 0x1a, 4);
	assert_int_equal(tu_rd32(&t, HS_BDF(0, 5, 0, 0), 0), 0xffffffff);
	assert_int_equal(tu_rd32(&t, HS_BDF(0, 4, 0, 0), 0), 0x10d38086);
	tu_fini(&t);
}

static void setup_reachable_nic(uint32_t bar)
{
	one_port(&tu_card_nic);
	tu_bridge_bus(&t, RP1, 0, 1, 1);
	tu_wr32(&t, DEV1, 0x10, bar);
	tu_cmd(&t, DEV1, CMD_MEM);
	tu_cmd(&t, RP1, CMD_MEM);
}

static void test_window_must_cover_bar(void **state)
{
	(void)state;
	setup_reachable_nic(0x80000000);
	/* Window 0x80100000-0x801fffff: the BAR is outside it. */
	tu_bridge_mem(&t, RP1, 0x80100000, 0x801fffff);
	assert_int_equal(tu_mem32(&t, 0x80000000), 0xffffffff);
	/* The moment the window covers the BAR the card answers. */
	tu_bridge_mem(&t, RP1, 0x80000000, 0x800fffff);
	assert_int_equal(tu_mem32(&t, 0x80000000), 0x10d38086);
	/* Bridge Memory Space Enable off: nothing is forwarded. */
	tu_wr16(&t, RP1, 0x04, 0);
	assert_int_equal(tu_mem32(&t, 0x80000000), 0xffffffff);
	tu_fini(&t);
}

static void test_window_edge_bytes(void **state)
{
	uint64_t v;

	(void)state;
	/* BAR at the very top of the 1 MiB window. */
	setup_reachable_nic(0x800f0000);
	tu_bridge_mem(&t, RP1, 0x80000000, 0x800fffff);
	assert_int_equal(tu_mem32(&t, 0x800f0000), 0x10d38086);
	/* The last byte of the window is forwarded (the card answers 0). */
	assert_int_equal(t.plat.ops->mem_read(t.plat.ctx, 0x800fffff, 1, &v), 0);
	assert_int_equal(v, 0);
	/* One byte past the limit: master abort. */
	assert_int_equal(t.plat.ops->mem_read(t.plat.ctx, 0x80100000, 1, &v), 0);
	assert_int_equal(v, 0xff);
	/* A BAR starting on the first byte past the limit: a bridge that
	 * forwarded one byte too many would let the card answer. */
	tu_wr32(&t, DEV1, 0x10, 0x80100000);
	assert_int_equal(tu_mem32(&t, 0x80100000), 0xffffffff);
	/* A BAR ending on the byte just below the base: same, other edge. */
	tu_wr32(&t, DEV1, 0x10, 0x800f0000);
	tu_bridge_mem(&t, RP1, 0x80100000, 0x801fffff);
	assert_int_equal(tu_mem32(&t, 0x800ffffc), 0xffffffff);
	assert_int_equal(t.plat.ops->mem_read(t.plat.ctx, 0x800fffff, 1, &v), 0);
	assert_int_equal(v, 0xff);
	assert_int_equal(tu_mem32(&t, 0x800f0000), 0xffffffff);
	/* Move the base one granule up: the BAR's first byte is now
	 * outside, even though the limit still covers its end. */
	tu_wr32(&t, DEV1, 0x10, 0x80000000);
	tu_bridge_mem(&t, RP1, 0x80100000, 0x801fffff);
	assert_int_equal(tu_mem32(&t, 0x80000000), 0xffffffff);
	/* Base above limit: the window is closed. */
	tu_bridge_mem(&t, RP1, 0x80200000, 0x80000000);
	assert_int_equal(tu_mem32(&t, 0x80000000), 0xffffffff);
	tu_fini(&t);
}

static void test_prefetchable_window_64bit(void **state)
{
	(void)state;
	one_port(&pref_card);
	tu_bridge_bus(&t, RP1, 0, 1, 1);
	tu_wr32(&t, DEV1, 0x10, 0x0000000c);
	tu_wr32(&t, DEV1, 0x14, 0x4);       /* 0x4_0000_0000 */
	tu_cmd(&t, DEV1, CMD_MEM);
	tu_cmd(&t, RP1, CMD_MEM);
	/* Prefetchable window type bits say 64-bit. */
	assert_int_equal(tu_rd16(&t, RP1, 0x24) & 0xf, 1);
	tu_bridge_mem(&t, RP1, 0x80000000, 0x800fffff);
	assert_int_equal(tu_mem32(&t, 0x400000000ull), 0xffffffff);
	tu_bridge_pref(&t, RP1, 0x400000000ull, 0x4000fffffull);
	assert_int_equal(tu_mem32(&t, 0x400000000ull), 0x00011234);
	/* Only the upper half differs: 0x3_xxxx is not forwarded. */
	tu_wr32(&t, DEV1, 0x14, 0x3);
	assert_int_equal(tu_mem32(&t, 0x300000000ull), 0xffffffff);
	/* Upper limit below upper base: window closed. */
	tu_wr32(&t, DEV1, 0x14, 0x4);
	tu_wr32(&t, RP1, 0x2c, 0x3);
	assert_int_equal(tu_mem32(&t, 0x400000000ull), 0xffffffff);
	tu_fini(&t);
}

static void test_io_window(void **state)
{
	(void)state;
	one_port(&io_card);
	tu_bridge_bus(&t, RP1, 0, 1, 1);
	tu_wr32(&t, DEV1, 0x10, 0x2f00);
	tu_cmd(&t, DEV1, CMD_IO);
	/* I/O window type bits say 32-bit. */
	assert_int_equal(tu_rd8(&t, RP1, 0x1c) & 0xf, 1);
	tu_bridge_io(&t, RP1, 0x2000, 0x2fff);
	assert_int_equal(tu_io32(&t, 0x2f00), 0xffffffff); /* I/O off */
	tu_cmd(&t, RP1, CMD_IO);
	assert_int_not_equal(tu_io32(&t, 0x2ffc), 0xffffffff);
	assert_int_equal(tu_io32(&t, 0x3000), 0xffffffff);
	tu_bridge_io(&t, RP1, 0x3000, 0x3fff);
	assert_int_equal(tu_io32(&t, 0x2f00), 0xffffffff);
	tu_fini(&t);
}

static void test_master_abort_and_host_ram(void **state)
{
	uint64_t bus = 0;
	uint32_t *cpu;

	(void)state;
	tu_init(&t, NULL);
	assert_int_equal(tu_mem32(&t, 0xe0000000), 0xffffffff);
	cpu = t.plat.ops->dma_alloc(t.plat.ctx, 4096, &bus);
	assert_non_null(cpu);
	*cpu = 0xcafef00d;
	assert_int_equal(tu_mem32(&t, bus), 0xcafef00d);
	t.plat.ops->dma_free(t.plat.ctx, cpu, 4096);
	tu_fini(&t);
}

/* Submit one request and let the card finish it. */
static uint32_t *ring_setup(uint64_t *bus)
{
	uint32_t *ring = t.plat.ops->dma_alloc(t.plat.ctx, 4096, bus);

	assert_non_null(ring);
	tu_wmem32(&t, 0x80000010, (uint32_t)*bus);
	tu_wmem32(&t, 0x80000014, (uint32_t)(*bus >> 32));
	return ring;
}

static void test_dma_needs_bus_master_all_the_way(void **state)
{
	struct sim_counters cnt;
	uint64_t bus;
	uint32_t *ring;

	(void)state;
	setup_reachable_nic(0x80000000);
	tu_bridge_mem(&t, RP1, 0x80000000, 0x800fffff);
	ring = ring_setup(&bus);

	/* Neither the card nor the port is a bus master: blocked. */
	tu_wmem32(&t, 0x80000008, 0x101);
	sim_advance(t.sim, HS_USEC(100));
	assert_int_equal(tu_mem32(&t, 0x8000000c), 1);   /* COMPLETED */
	assert_int_equal(tu_mem32(&t, 0x80000018) & 2, 2); /* DMA_ERROR */
	assert_int_equal(ring[0], 0);
	/* Card is a master, the port is not: still blocked upstream. */
	tu_wmem32(&t, 0x80000018, 2);
	tu_cmd(&t, DEV1, CMD_BM);
	tu_wmem32(&t, 0x80000008, 0x102);
	sim_advance(t.sim, HS_USEC(100));
	assert_int_equal(tu_mem32(&t, 0x80000018) & 2, 2);
	sim_get_counters(t.sim, &cnt);
	assert_int_equal(cnt.dma_blocked, 2);
	/* Both: the completion record lands in host memory. */
	tu_wmem32(&t, 0x80000018, 2);
	tu_cmd(&t, RP1, CMD_BM);
	tu_wmem32(&t, 0x80000008, 0x103);
	/* Not before the card's latency (50 us) has passed. */
	sim_advance(t.sim, HS_USEC(49));
	assert_int_equal(tu_mem32(&t, 0x80000024), 1);   /* OUTSTANDING */
	sim_advance(t.sim, HS_USEC(1));
	assert_int_equal(tu_mem32(&t, 0x80000024), 0);
	assert_int_equal(ring[4], 0x103);  /* third record: index 2 */
	assert_int_equal(ring[5], 0);
	assert_int_equal(tu_mem32(&t, 0x80000018) & 2, 0);
	t.plat.ops->dma_free(t.plat.ctx, ring, 4096);
	tu_fini(&t);
}

static int irq_count;
static struct hs_irq last_irq;

static void count_irq(void *arg, const struct hs_irq *irq)
{
	(void)arg;
	irq_count++;
	last_irq = *irq;
}

static void test_intx_swizzle_and_disable(void **state)
{
	struct hs_irq line = { HS_IRQ_INTX, 0 };
	uint64_t bus;
	uint32_t *ring;

	(void)state;
	setup_reachable_nic(0x80000000);
	tu_bridge_mem(&t, RP1, 0x80000000, 0x800fffff);
	ring = ring_setup(&bus);
	tu_cmd(&t, DEV1, CMD_BM);
	tu_cmd(&t, RP1, CMD_BM);
	/* INTA# of device 0 behind the port at device 1 arrives as the
	 * port's INTA# swizzled once more at the root: line 16 + 1. */
	assert_int_equal(t.plat.ops->intx_route(t.plat.ctx, RP1, 1, &line.number), 0);
	assert_int_equal(line.number, 17);
	irq_count = 0;
	assert_int_equal(t.plat.ops->irq_attach(t.plat.ctx, &line, count_irq, NULL), 0);
	tu_wmem32(&t, 0x80000020, 1);   /* IRQ_MASK */
	tu_wmem32(&t, 0x80000008, 7);
	sim_advance(t.sim, HS_USEC(50));
	assert_int_equal(irq_count, 1);
	assert_int_equal(last_irq.number, 17);
	assert_true(tu_rd16(&t, DEV1, 0x06) & 0x08);  /* Interrupt Status */
	tu_wmem32(&t, 0x8000001c, 1);   /* acknowledge: the level drops */
	assert_false(tu_rd16(&t, DEV1, 0x06) & 0x08);
	/* With Interrupt Disable the pin stays quiet; status still shows. */
	tu_cmd(&t, DEV1, 0x400);
	tu_wmem32(&t, 0x80000008, 8);
	sim_advance(t.sim, HS_USEC(50));
	assert_int_equal(irq_count, 1);
	assert_true(tu_rd16(&t, DEV1, 0x06) & 0x08);
	t.plat.ops->irq_detach(t.plat.ctx, &line);
	t.plat.ops->dma_free(t.plat.ctx, ring, 4096);
	tu_fini(&t);
}

/* The NIC at DEV1 sends msg as its MSI: the capability's address and data,
 * MSI Enable, and the card's completion interrupt unmasked. */
static void nic_msi_on(const struct hs_msi_msg *m)
{
	uint16_t msi = tu_cap(&t, DEV1, 0x05);

	tu_wr32(&t, DEV1, msi + 4, (uint32_t)m->address);
	tu_wr32(&t, DEV1, msi + 8, (uint32_t)(m->address >> 32));
	tu_wr16(&t, DEV1, msi + 12, (uint16_t)m->data);
	tu_wr16(&t, DEV1, msi + 2, 1);
	tu_wmem32(&t, 0x80000020, 1);
}

static void test_msi_delivery_needs_bus_master(void **state)
{
	struct hs_msi_msg msg;
	struct hs_irq irq = { HS_IRQ_MSI, 0 };
	uint64_t bus;
	uint32_t *ring;

	(void)state;
	setup_reachable_nic(0x80000000);
	tu_bridge_mem(&t, RP1, 0x80000000, 0x800fffff);
	ring = ring_setup(&bus);
	assert_int_equal(t.plat.ops->msi_alloc(t.plat.ctx, 1, &irq.number), 0);
	assert_int_equal(t.plat.ops->msi_message(t.plat.ctx, DEV1, irq.number,
						 &msg), 0);
	irq_count = 0;
	assert_int_equal(t.plat.ops->irq_attach(t.plat.ctx, &irq, count_irq, NULL), 0);
	nic_msi_on(&msg);
	/* An MSI is a memory write: without Bus Master it never leaves. */
	tu_wmem32(&t, 0x80000008, 1);
	sim_advance(t.sim, HS_USEC(50));
	assert_int_equal(irq_count, 0);
	tu_cmd(&t, DEV1, CMD_BM);
	tu_cmd(&t, RP1, CMD_BM);
	tu_wmem32(&t, 0x80000008, 2);
	sim_advance(t.sim, HS_USEC(50));
	assert_int_equal(irq_count, 1);
	assert_int_equal(last_irq.kind, HS_IRQ_MSI);
	assert_int_equal(last_irq.number, irq.number);
	t.plat.ops->msi_free(t.plat.ctx, irq.number, 1);
	t.plat.ops->dma_free(t.plat.ctx, ring, 4096);
	tu_fini(&t);
}

/* The vector is the platform's for the requester msi_message was given
 * (a GICv3 ITS maps DeviceID and EventID): the same message written by
 * another function is dropped, and after msi_free by anyone. */
static void test_msi_only_from_its_requester(void **state)
{
	struct sim_counters cnt;
	struct hs_msi_msg msg;
	struct hs_irq irq = { HS_IRQ_MSI, 0 };
	uint64_t bus;
	uint32_t *ring;

	(void)state;
	setup_reachable_nic(0x80000000);
	tu_bridge_mem(&t, RP1, 0x80000000, 0x800fffff);
	ring = ring_setup(&bus);
	tu_cmd(&t, DEV1, CMD_BM);
	tu_cmd(&t, RP1, CMD_BM);
	assert_int_equal(t.plat.ops->msi_alloc(t.plat.ctx, 1, &irq.number), 0);
	/* Mapped for the root port, written by the NIC below it. */
	assert_int_equal(t.plat.ops->msi_message(t.plat.ctx, RP1, irq.number,
						 &msg), 0);
	irq_count = 0;
	assert_int_equal(t.plat.ops->irq_attach(t.plat.ctx, &irq, count_irq, NULL), 0);
	nic_msi_on(&msg);
	sim_reset_counters(t.sim);
	tu_wmem32(&t, 0x80000008, 1);
	sim_advance(t.sim, HS_USEC(50));
	sim_get_counters(t.sim, &cnt);
	assert_int_equal(cnt.msi_sent, 1);
	assert_int_equal(cnt.msi_wrong_requester, 1);
	assert_int_equal(irq_count, 0);
	/* Mapped for the NIC: delivered. */
	assert_int_equal(t.plat.ops->msi_message(t.plat.ctx, DEV1, irq.number,
						 &msg), 0);
	tu_wmem32(&t, 0x80000008, 2);
	sim_advance(t.sim, HS_USEC(50));
	assert_int_equal(irq_count, 1);
	/* Freed and allocated again without a message: nobody's. */
	t.plat.ops->msi_free(t.plat.ctx, irq.number, 1);
	assert_int_equal(t.plat.ops->msi_alloc(t.plat.ctx, 1, &irq.number), 0);
	assert_int_equal(t.plat.ops->irq_attach(t.plat.ctx, &irq, count_irq, NULL), 0);
	tu_wmem32(&t, 0x80000008, 3);
	sim_advance(t.sim, HS_USEC(50));
	assert_int_equal(irq_count, 1);
	sim_get_counters(t.sim, &cnt);
	assert_int_equal(cnt.msi_wrong_requester, 2);
	t.plat.ops->msi_free(t.plat.ctx, irq.number, 1);
	t.plat.ops->dma_free(t.plat.ctx, ring, 4096);
	tu_fini(&t);
}

static void test_fault_injection_and_counters(void **state)
{
	struct sim_counters cnt;
	hs_bdf_t nic = HS_BDF(0, 0, 5, 0);
	void *p;

	(void)state;
	tu_init(&t, NULL);
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 5, &tu_card_nic), 0);
	sim_reset_counters(t.sim);
	sim_fault_cfg(t.sim, 2);
	assert_int_equal(tu_rd16(&t, nic, 0), 0x8086);
	assert_int_equal(tu_rd16(&t, nic, 0), 0xffff);  /* the 2nd fails */
	assert_int_equal(tu_rd16(&t, nic, 0), 0x8086);
	/* A failed write is dropped. */
	sim_fault_cfg(t.sim, 1);
	tu_wr8(&t, nic, 0x3c, 0x55);
	assert_int_equal(tu_rd8(&t, nic, 0x3c), 0);
	sim_get_counters(t.sim, &cnt);
	assert_int_equal(cnt.cfg_reads, 4);
	assert_int_equal(cnt.cfg_writes, 1);
	/* Allocation failure, the nth one from now. */
	sim_fault_alloc(t.sim, 2);
	p = t.plat.ops->realloc(t.plat.ctx, NULL, 0, 16);
	assert_non_null(p);
	assert_null(t.plat.ops->realloc(t.plat.ctx, NULL, 0, 16));
	t.plat.ops->realloc(t.plat.ctx, p, 16, 0);
	sim_get_counters(t.sim, &cnt);
	assert_int_equal(cnt.alloc_failures_injected, 1);
	/* Bad widths and offsets are errors of the access itself. */
	uint32_t v;

	assert_int_equal(t.plat.ops->cfg_read(t.plat.ctx, nic, 0x1001, 1, &v),
			 -HS_EINVAL);
	assert_int_equal(t.plat.ops->cfg_read(t.plat.ctx, nic, 0x02, 4, &v),
			 -HS_EINVAL);
	assert_int_equal(t.plat.ops->cfg_read(t.plat.ctx, nic, 0x00, 3, &v),
			 -HS_EINVAL);
	tu_fini(&t);
}

static void test_multifunction_and_bridge_card(void **state)
{
	hs_bdf_t cardbr = DEV1;

	(void)state;
	one_port(&tu_card_multi);
	tu_bridge_bus(&t, RP1, 0, 1, 1);
	assert_true(tu_rd8(&t, HS_BDF(0, 1, 0, 0), 0x0e) & 0x80);
	assert_int_equal(tu_rd16(&t, HS_BDF(0, 1, 0, 1), 0), 0x1b36);
	assert_int_equal(tu_rd16(&t, HS_BDF(0, 1, 0, 2), 0), 0xffff);
	assert_int_equal(tu_rd16(&t, HS_BDF(0, 1, 0, 3), 0), 0x1b36);
	assert_int_equal(tu_rd8(&t, HS_BDF(0, 1, 0, 3), 0x3d), 4);
	tu_fini(&t);

	one_port(&tu_card_bridge);
	tu_bridge_bus(&t, RP1, 0, 1, 2);
	assert_int_equal(tu_rd8(&t, cardbr, 0x0e) & 0x7f, 1);
	assert_int_equal(tu_rd32(&t, cardbr, 0x08) >> 8, 0x060400);
	assert_int_equal(tu_rd16(&t, HS_BDF(0, 2, 4, 0), 0), 0xffff);
	tu_bridge_bus(&t, cardbr, 1, 2, 2);
	assert_int_equal(tu_rd16(&t, HS_BDF(0, 2, 4, 0), 0), 0x8086);
	assert_int_equal(tu_rd16(&t, HS_BDF(0, 2, 5, 0), 0), 0x8086);
	assert_int_equal(tu_rd16(&t, HS_BDF(0, 2, 6, 0), 0), 0xffff);
	tu_fini(&t);
}

static int fired;

static void fire_cb(void *arg)
{
	(void)arg;
	fired++;
}

static bool stop_after_fire(void *arg)
{
	(void)arg;
	return fired > 0;
}

static void test_realtime_mode_runs_events(void **state)
{
	hs_time_t t0;

	(void)state;
	tu_init(&t, NULL);
	fired = 0;
	t0 = sim_now(t.sim);
	/* The platform's one-shot timer, 2 ms out, run 100x faster than
	 * real time: it fires, and the virtual clock covers the duration. */
	t.plat.ops->timer_set(t.plat.ctx, t0 + HS_MSEC(2), fire_cb, NULL);
	assert_int_equal(sim_run_realtime(t.sim, HS_MSEC(5), 100, NULL, NULL), 0);
	assert_int_equal(fired, 1);
	assert_int_equal(sim_now(t.sim), t0 + HS_MSEC(5));
	/* stop() ends the run early. */
	fired = 0;
	t.plat.ops->timer_set(t.plat.ctx, sim_now(t.sim) + HS_MSEC(1), fire_cb, NULL);
	assert_int_equal(sim_run_realtime(t.sim, HS_SEC(3600), 100,
					  stop_after_fire, NULL), 1);
	assert_true(sim_now(t.sim) < t0 + HS_SEC(1));
	assert_int_equal(sim_run_realtime(t.sim, HS_MSEC(1), 0, NULL, NULL),
			 -HS_EINVAL);
	tu_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bar_sizing_each_type, teardown),
		cmocka_unit_test_teardown(test_endpoint_decode_needs_command, teardown),
		cmocka_unit_test(test_type1_routing),
		cmocka_unit_test(test_switch_routing),
		cmocka_unit_test(test_window_must_cover_bar),
		cmocka_unit_test(test_window_edge_bytes),
		cmocka_unit_test(test_prefetchable_window_64bit),
		cmocka_unit_test(test_io_window),
		cmocka_unit_test(test_master_abort_and_host_ram),
		cmocka_unit_test(test_dma_needs_bus_master_all_the_way),
		cmocka_unit_test(test_intx_swizzle_and_disable),
		cmocka_unit_test(test_msi_delivery_needs_bus_master),
		cmocka_unit_test(test_msi_only_from_its_requester),
		cmocka_unit_test(test_fault_injection_and_counters),
		cmocka_unit_test(test_multifunction_and_bridge_card),
		cmocka_unit_test(test_realtime_mode_runs_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
