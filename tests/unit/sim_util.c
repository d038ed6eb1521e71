/*
 * sim_util.c - helpers for tests that drive the simulator through its
 * platform ops, plus a small test catalog.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "sim_util.h"

#include "hotswap/cfg.h"

void tu_init(struct tu *t, const struct sim_config *cfg)
{
	struct sim_config def;

	if (!cfg) {
		sim_config_defaults(&def);
		cfg = &def;
	}
	t->sim = sim_create(cfg);
	assert_non_null(t->sim);
	sim_get_platform(t->sim, &t->plat);
}

void tu_fini(struct tu *t)
{
	sim_destroy(t->sim);
	t->sim = NULL;
}

static uint32_t rd(struct tu *t, hs_bdf_t bdf, uint16_t off, unsigned w)
{
	uint32_t v = 0;

	assert_int_equal(t->plat.ops->cfg_read(t->plat.ctx, bdf, off, w, &v), 0);
	return v;
}

static void wr(struct tu *t, hs_bdf_t bdf, uint16_t off, unsigned w,
	       uint32_t v)
{
	assert_int_equal(t->plat.ops->cfg_write(t->plat.ctx, bdf, off, w, v), 0);
}

uint8_t tu_rd8(struct tu *t, hs_bdf_t b, uint16_t o) { return (uint8_t)rd(t, b, o, 1); }
uint16_t tu_rd16(struct tu *t, hs_bdf_t b, uint16_t o) { return (uint16_t)rd(t, b, o, 2); }
uint32_t tu_rd32(struct tu *t, hs_bdf_t b, uint16_t o) { return rd(t, b, o, 4); }
void tu_wr8(struct tu *t, hs_bdf_t b, uint16_t o, uint8_t v) { wr(t, b, o, 1, v); }
void tu_wr16(struct tu *t, hs_bdf_t b, uint16_t o, uint16_t v) { wr(t, b, o, 2, v); }
void tu_wr32(struct tu *t, hs_bdf_t b, uint16_t o, uint32_t v) { wr(t, b, o, 4, v); }

uint32_t tu_mem32(struct tu *t, uint64_t addr)
{
	uint64_t v = 0;

	assert_int_equal(t->plat.ops->mem_read(t->plat.ctx, addr, 4, &v), 0);
	return (uint32_t)v;
}

void tu_wmem32(struct tu *t, uint64_t addr, uint32_t v)
{
	assert_int_equal(t->plat.ops->mem_write(t->plat.ctx, addr, 4, v), 0);
}

uint32_t tu_io32(struct tu *t, uint32_t port)
{
	uint32_t v = 0;

	assert_int_equal(t->plat.ops->io_read(t->plat.ctx, port, 4, &v), 0);
	return v;
}

void tu_bridge_bus(struct tu *t, hs_bdf_t br, uint8_t pri, uint8_t sec,
		   uint8_t sub)
{
	tu_wr8(t, br, 0x18, pri);
	tu_wr8(t, br, 0x19, sec);
	tu_wr8(t, br, 0x1a, sub);
}

void tu_bridge_mem(struct tu *t, hs_bdf_t br, uint32_t base, uint32_t limit)
{
	tu_wr16(t, br, 0x20, (uint16_t)((base >> 16) & 0xfff0));
	tu_wr16(t, br, 0x22, (uint16_t)((limit >> 16) & 0xfff0));
}

void tu_bridge_pref(struct tu *t, hs_bdf_t br, uint64_t base, uint64_t limit)
{
	tu_wr16(t, br, 0x24, (uint16_t)((base >> 16) & 0xfff0));
	tu_wr16(t, br, 0x26, (uint16_t)((limit >> 16) & 0xfff0));
	tu_wr32(t, br, 0x28, (uint32_t)(base >> 32));
	tu_wr32(t, br, 0x2c, (uint32_t)(limit >> 32));
}

void tu_bridge_io(struct tu *t, hs_bdf_t br, uint32_t base, uint32_t limit)
{
	tu_wr8(t, br, 0x1c, (uint8_t)((base >> 8) & 0xf0));
	tu_wr8(t, br, 0x1d, (uint8_t)((limit >> 8) & 0xf0));
	tu_wr16(t, br, 0x30, (uint16_t)(base >> 16));
	tu_wr16(t, br, 0x32, (uint16_t)(limit >> 16));
}

void tu_cmd(struct tu *t, hs_bdf_t bdf, uint16_t bits)
{
	tu_wr16(t, bdf, 0x04, (uint16_t)(tu_rd16(t, bdf, 0x04) | bits));
}

uint16_t tu_cap(struct tu *t, hs_bdf_t bdf, uint8_t id)
{
	uint16_t off = 0;

	assert_int_equal(hs_cfg_find_cap(&t->plat, bdf, id, &off), 0);
	return off;
}

const struct sim_card_spec tu_card_nic = {
	.name = "test-nic",
	.pcie = true,
	.nfuncs = 1,
	.funcs = { {
		.fn = 0, .vendor = 0x8086, .device = 0x10d3,
		.subsys_vendor = 0x8086, .subsys = 0xa01f,
		.class_code = 0x020000, .irq_pin = 1,
		.bar = { [0] = { SIM_BAR_MEM32, false, 64 << 10 },
			 [2] = { SIM_BAR_IO, false, 32 } },
		.rom_size = 64 << 10,
		.msi_vectors = 1, .msi_64bit = true,
		.has_serial = true, .serial = 0x0011223344556677ull,
		.latency_us = 50,
	} },
};

const struct sim_card_spec tu_card_gpu = {
	.name = "test-gpu",
	.pcie = true,
	.nfuncs = 1,
	.funcs = { {
		.fn = 0, .vendor = 0x10de, .device = 0x1eb8,
		.class_code = 0x030200, .irq_pin = 1,
		.bar = { [0] = { SIM_BAR_MEM32, false, 16 << 20 },
			 [2] = { SIM_BAR_MEM64, true, 256ull << 20 } },
		.msix_vectors = 4, .msix_bar = 0,
	} },
};

const struct sim_card_spec tu_card_multi = {
	.name = "test-multi",
	.pcie = true,
	.nfuncs = 3,
	.funcs = {
		{ .fn = 0, .vendor = 0x1b36, .device = 0x0005,
		  .class_code = 0x00ff00, .irq_pin = 1,
		  .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } } },
		{ .fn = 1, .vendor = 0x1b36, .device = 0x0005,
		  .class_code = 0x00ff00, .irq_pin = 2,
		  .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } } },
		{ .fn = 3, .vendor = 0x1b36, .device = 0x0005,
		  .class_code = 0x00ff00, .irq_pin = 4,
		  .bar = { [0] = { SIM_BAR_IO, false, 64 } } },
	},
};

static const struct sim_card_spec nic_plain = {
	.name = "test-nic-plain",
	.nfuncs = 1,
	.funcs = { {
		.fn = 0, .vendor = 0x8086, .device = 0x1229,
		.class_code = 0x020000, .irq_pin = 1,
		.bar = { [0] = { SIM_BAR_MEM32, false, 4096 },
			 [1] = { SIM_BAR_IO, false, 64 } },
	} },
};

static const struct sim_child_spec bridge_children[] = {
	{ 4, &nic_plain },
	{ 5, &nic_plain },
};

const struct sim_card_spec tu_card_bridge = {
	.name = "test-bridge-2nic",
	.nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x8086, .device = 0x244e,
		     .is_bridge = true } },
	.nchildren = 2,
	.children = bridge_children,
};

const struct sim_card_spec tu_card_crs = {
	.name = "test-crs",
	.pcie = true,
	.nfuncs = 1,
	.crs_us = 300000,
	.funcs = { {
		.fn = 0, .vendor = 0x1b36, .device = 0x0010,
		.class_code = 0x010802,
		.bar = { [0] = { SIM_BAR_MEM64, false, 16 << 10 } },
	} },
};
