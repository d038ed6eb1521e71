/*
 * cfgspace.c - the simulator's per-byte configuration register model.
 *
 * Owns: reads, masked writes (read-only, writable, write-1-to-clear bits)
 * and capability list construction.  Every device model (cards, ports,
 * SHPC and CompactPCI bridges) stores its registers here, so a write
 * behaves the same way whichever device it hits.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <string.h>

#include "sim_internal.h"

#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_PTR 0x34

/* A change of data[]: whatever was decoded from it is stale. */
static void bump(struct sim_cfg *c)
{
	if (++c->gen == 0)
		c->gen = 1;
}

void sim_cfg_init(struct sim_cfg *c)
{
	uint32_t gen = c->gen; /* a re-initialised space is a change too */

	memset(c, 0, sizeof(*c));
	c->gen = gen;
	bump(c);
	/* Standard capabilities start after the 64-byte header (PCI 3.0
	 * 6.7); extended ones at 0x100 (PCIe Base 7.6). */
	c->cap_next = 0x40;
	c->ext_next = 0x100;
}

uint32_t sim_cfg_get(const struct sim_cfg *c, uint16_t off, unsigned width)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < width && off + i < HS_CFG_SIZE; i++)
		v |= (uint32_t)c->data[off + i] << (8 * i);
	return v;
}

void sim_cfg_set(struct sim_cfg *c, uint16_t off, unsigned width, uint32_t val)
{
	for (unsigned i = 0; i < width && off + i < HS_CFG_SIZE; i++)
		c->data[off + i] = (uint8_t)(val >> (8 * i));
	bump(c);
}

void sim_cfg_set_wmask(struct sim_cfg *c, uint16_t off, unsigned width,
		       uint32_t mask)
{
	for (unsigned i = 0; i < width && off + i < HS_CFG_SIZE; i++)
		c->wmask[off + i] = (uint8_t)(mask >> (8 * i));
}

void sim_cfg_set_w1c(struct sim_cfg *c, uint16_t off, unsigned width,
		     uint32_t mask)
{
	for (unsigned i = 0; i < width && off + i < HS_CFG_SIZE; i++)
		c->w1cmask[off + i] = (uint8_t)(mask >> (8 * i));
}

void sim_cfg_write(struct sim_cfg *c, uint16_t off, unsigned width,
		   uint32_t val)
{
	for (unsigned i = 0; i < width && off + i < HS_CFG_SIZE; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));
		uint8_t wm = c->wmask[off + i];
		uint8_t w1c = c->w1cmask[off + i];
		uint8_t d = c->data[off + i];

		d = (uint8_t)((d & ~wm) | (b & wm));
		/* Writing 1 clears; writing 0 leaves the bit alone. */
		d = (uint8_t)(d & ~(b & w1c));
		c->data[off + i] = d;
	}
	bump(c);
}

void sim_cfg_setbits(struct sim_cfg *c, uint16_t off, unsigned width,
		     uint32_t bits)
{
	sim_cfg_set(c, off, width, sim_cfg_get(c, off, width) | bits);
}

void sim_cfg_clrbits(struct sim_cfg *c, uint16_t off, unsigned width,
		     uint32_t bits)
{
	sim_cfg_set(c, off, width, sim_cfg_get(c, off, width) & ~bits);
}

uint16_t sim_cfg_add_cap(struct sim_cfg *c, uint8_t id, unsigned size)
{
	/* Capabilities are DWORD aligned and live below 0x100. */
	uint16_t at = (uint16_t)((c->cap_next + 3u) & ~3u);

	if (size < 2 || at + size > 0x100)
		return 0;
	sim_cfg_set(c, at, 1, id);
	sim_cfg_set(c, at + 1, 1, 0);
	if (c->cap_last)
		sim_cfg_set(c, c->cap_last + 1, 1, at);
	else
		sim_cfg_set(c, PCI_CAP_PTR, 1, at);
	sim_cfg_setbits(c, PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
	c->cap_last = at;
	c->cap_next = (uint16_t)(at + size);
	return at;
}

uint16_t sim_cfg_add_ext_cap(struct sim_cfg *c, uint16_t id, uint8_t ver,
			     unsigned size)
{
	uint16_t at = (uint16_t)((c->ext_next + 3u) & ~3u);

	if (size < 4 || at + size > HS_CFG_SIZE)
		return 0;
	/* Header: ID 15:0, version 19:16, next 31:20 (PCIe Base 7.6.3). */
	sim_cfg_set(c, at, 4, (uint32_t)id | ((uint32_t)(ver & 0xf) << 16));
	if (c->ext_last) {
		uint32_t h = sim_cfg_get(c, c->ext_last, 4);

		h = (h & 0x000fffffu) | ((uint32_t)at << 20);
		sim_cfg_set(c, c->ext_last, 4, h);
	}
	c->ext_last = at;
	c->ext_next = (uint16_t)(at + size);
	return at;
}
