/*
 * fabric.c - how cycles travel through the simulated chassis.
 *
 * Owns: functions and buses, the type 0 / type 1 headers, BAR definition
 * and decode, bridge routing of configuration cycles by bus number
 * (PCI-to-PCI Bridge 3.2, 3.1.2), forwarding of memory and I/O cycles only
 * inside enabled windows (3.2.5), master abort (all ones), upstream DMA
 * through Bus Master Enable, MSI / MSI-X / INTx delivery with the standard
 * swizzle (PCI 2.3, 9.1), and the platform's config / memory / I/O entry
 * points that the core calls.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Header offsets (PCI Local Bus 3.0, 6.1; PCI-to-PCI Bridge 3.2, 3.2). */
#define CFG_VENDOR      0x00
#define CFG_COMMAND     0x04
#define CFG_STATUS      0x06
#define CFG_CLASS_REV   0x08
#define CFG_CACHELINE   0x0c
#define CFG_LATENCY     0x0d
#define CFG_HDRTYPE     0x0e
#define CFG_BAR0        0x10
#define CFG_PRIMARY     0x18
#define CFG_SECONDARY   0x19
#define CFG_SUBORDINATE 0x1a
#define CFG_SEC_LATENCY 0x1b
#define CFG_IO_BASE     0x1c
#define CFG_IO_LIMIT    0x1d
#define CFG_SEC_STATUS  0x1e
#define CFG_MEM_BASE    0x20
#define CFG_MEM_LIMIT   0x22
#define CFG_PREF_BASE   0x24
#define CFG_PREF_LIMIT  0x26
#define CFG_PREF_BASE_UPPER  0x28
#define CFG_PREF_LIMIT_UPPER 0x2c
#define CFG_IO_BASE_UPPER    0x30
#define CFG_IO_LIMIT_UPPER   0x32
#define CFG_ROM0        0x30
#define CFG_ROM1        0x38
#define CFG_INT_LINE    0x3c
#define CFG_INT_PIN     0x3d
#define CFG_BRIDGE_CTL  0x3e

#define CMD_IO        0x0001
#define CMD_MEM       0x0002
#define CMD_MASTER    0x0004
#define CMD_INTX_DIS  0x0400
#define STATUS_INT    0x0008

#define MSI_ADDR_BASE  0xfee00000ull
#define MSI_ADDR_LIMIT 0xfeefffffull

/* ---- objects --------------------------------------------------------- */

struct sim_bus *sim_bus_new(struct sim *sim, struct sim_fn *bridge)
{
	struct sim_bus *bus = sim_zalloc(sizeof(*bus));

	if (!bus)
		return NULL;
	bus->sim = sim;
	bus->bridge = bridge;
	bus->depth = bridge ? bridge->bus->depth + 1 : 0;
	if (bridge)
		bridge->dec.gen = 0; /* now a bridge: decode its windows */
	return bus;
}

void sim_bus_free(struct sim_bus *bus)
{
	if (!bus)
		return;
	for (int i = 0; i < 256; i++)
		if (bus->fn[i])
			sim_fn_free(bus->fn[i]);
	free(bus);
}

struct sim_fn *sim_fn_new(struct sim_bus *bus, uint8_t devfn,
			  enum sim_fn_kind kind, int *err)
{
	struct sim_fn *fn;

	if (bus->fn[devfn]) {
		*err = -HS_EEXIST;
		return NULL;
	}
	fn = sim_zalloc(sizeof(*fn));
	if (!fn) {
		*err = -HS_ENOMEM;
		return NULL;
	}
	fn->sim = bus->sim;
	fn->bus = bus;
	fn->devfn = devfn;
	fn->kind = kind;
	sim_cfg_init(&fn->cfg);
	bus->fn[devfn] = fn;
	{
		unsigned at = bus->npresent;

		while (at && bus->present[at - 1] > devfn) {
			bus->present[at] = bus->present[at - 1];
			at--;
		}
		bus->present[at] = devfn;
		bus->npresent++;
	}
	/* Function 0 of a device with more functions says so (PCI 3.0
	 * 6.2.1, Header Type bit 7). */
	if (devfn & 7) {
		struct sim_fn *f0 = bus->fn[devfn & ~7];

		if (f0)
			sim_cfg_setbits(&f0->cfg, CFG_HDRTYPE, 1, 0x80);
	} else {
		for (int f = 1; f < 8; f++)
			if (bus->fn[devfn + f]) {
				sim_cfg_setbits(&fn->cfg, CFG_HDRTYPE, 1, 0x80);
				break;
			}
	}
	return fn;
}

void sim_fn_free(struct sim_fn *fn)
{
	if (!fn)
		return;
	sim_cancel_arg(fn->sim, fn);
	if (fn->intx_level)
		sim_fn_intx(fn, false);
	if (fn->model && fn->model->destroy)
		fn->model->destroy(fn);
	if (fn->secondary)
		sim_bus_free(fn->secondary);
	if (fn->bus && fn->bus->fn[fn->devfn] == fn) {
		struct sim_bus *bus = fn->bus;
		unsigned j = 0;

		bus->fn[fn->devfn] = NULL;
		for (unsigned i = 0; i < bus->npresent; i++)
			if (bus->present[i] != fn->devfn)
				bus->present[j++] = bus->present[i];
		bus->npresent = j;
	}
	free(fn->msix_table);
	free(fn);
}

/* ---- headers --------------------------------------------------------- */

void sim_fn_fix_multifunction(struct sim_fn *fn)
{
	struct sim_bus *bus = fn->bus;
	uint8_t d0 = fn->devfn & ~7u;
	bool mf = false;

	for (int f = 1; f < 8; f++)
		mf |= bus->fn[d0 + f] != NULL;
	if (bus->fn[d0]) {
		if (mf)
			sim_cfg_setbits(&bus->fn[d0]->cfg, CFG_HDRTYPE, 1, 0x80);
		else
			sim_cfg_clrbits(&bus->fn[d0]->cfg, CFG_HDRTYPE, 1, 0x80);
	}
}

void sim_fn_header_init(struct sim_fn *fn, uint16_t vendor, uint16_t device,
			uint32_t class_rev)
{
	struct sim_cfg *c = &fn->cfg;
	bool mf = sim_cfg_get(c, CFG_HDRTYPE, 1) & 0x80;

	sim_cfg_set(c, CFG_VENDOR, 2, vendor);
	sim_cfg_set(c, CFG_VENDOR + 2, 2, device);
	sim_cfg_set(c, CFG_CLASS_REV, 4, class_rev);
	sim_cfg_set_wmask(c, CFG_COMMAND, 2, 0x0547);
	/* Error bits of Status are write-1-to-clear (PCI 3.0 6.2.3). */
	sim_cfg_set_w1c(c, CFG_STATUS, 2, 0xf900);
	sim_cfg_set_wmask(c, CFG_CACHELINE, 1, 0xff);
	sim_cfg_set_wmask(c, CFG_LATENCY, 1, 0xff);
	sim_cfg_set_wmask(c, CFG_INT_LINE, 1, 0xff);
	if (mf)
		sim_cfg_setbits(c, CFG_HDRTYPE, 1, 0x80);
}

void sim_bridge_header_init(struct sim_fn *fn, uint16_t vendor,
			    uint16_t device, bool io32, bool pref64)
{
	struct sim_cfg *c = &fn->cfg;

	sim_fn_header_init(fn, vendor, device, 0x06040000);
	sim_cfg_set(c, CFG_HDRTYPE, 1,
		    (sim_cfg_get(c, CFG_HDRTYPE, 1) & 0x80) | 0x01);
	sim_cfg_set_wmask(c, CFG_PRIMARY, 4, 0xffffffff);
	sim_cfg_set(c, CFG_IO_BASE, 1, io32 ? 0x01 : 0x00);
	sim_cfg_set(c, CFG_IO_LIMIT, 1, io32 ? 0x01 : 0x00);
	sim_cfg_set_wmask(c, CFG_IO_BASE, 2, 0xf0f0);
	sim_cfg_set_w1c(c, CFG_SEC_STATUS, 2, 0xf900);
	sim_cfg_set_wmask(c, CFG_MEM_BASE, 4, 0xfff0fff0);
	sim_cfg_set(c, CFG_PREF_BASE, 2, pref64 ? 0x01 : 0x00);
	sim_cfg_set(c, CFG_PREF_LIMIT, 2, pref64 ? 0x01 : 0x00);
	sim_cfg_set_wmask(c, CFG_PREF_BASE, 4, 0xfff0fff0);
	if (pref64) {
		sim_cfg_set_wmask(c, CFG_PREF_BASE_UPPER, 4, 0xffffffff);
		sim_cfg_set_wmask(c, CFG_PREF_LIMIT_UPPER, 4, 0xffffffff);
	}
	if (io32)
		sim_cfg_set_wmask(c, CFG_IO_BASE_UPPER, 4, 0xffffffff);
	/* Parity, SERR, ISA, VGA, VGA16, Master Abort Mode, Secondary Bus
	 * Reset. */
	sim_cfg_set_wmask(c, CFG_BRIDGE_CTL, 2, 0x007f);
}

void sim_fn_define_bar(struct sim_fn *fn, int n, enum sim_bar_type type,
		       bool prefetch, uint64_t size)
{
	struct sim_cfg *c = &fn->cfg;
	uint16_t off = (uint16_t)(CFG_BAR0 + 4 * n);
	uint64_t mask = ~(size - 1);

	fn->bar[n].type = type;
	fn->bar[n].prefetch = prefetch;
	fn->bar[n].size = size;
	switch (type) {
	case SIM_BAR_IO:
		/* Bit 0 reads 1; bits 1:0 are not address bits. */
		sim_cfg_set(c, off, 4, 0x1);
		sim_cfg_set_wmask(c, off, 4, (uint32_t)mask & 0xfffffffcu);
		break;
	case SIM_BAR_MEM32:
		sim_cfg_set(c, off, 4, prefetch ? 0x8 : 0x0);
		sim_cfg_set_wmask(c, off, 4, (uint32_t)mask & 0xfffffff0u);
		break;
	case SIM_BAR_MEM64:
		/* Type 10b: 64-bit, the next BAR holds the upper half. */
		sim_cfg_set(c, off, 4, 0x4 | (prefetch ? 0x8 : 0x0));
		sim_cfg_set_wmask(c, off, 4, (uint32_t)mask & 0xfffffff0u);
		sim_cfg_set(c, off + 4, 4, 0);
		sim_cfg_set_wmask(c, off + 4, 4, (uint32_t)(mask >> 32));
		fn->bar[n + 1].type = SIM_BAR_NONE;
		break;
	case SIM_BAR_NONE:
		sim_cfg_set(c, off, 4, 0);
		sim_cfg_set_wmask(c, off, 4, 0);
		break;
	}
}

void sim_fn_define_rom(struct sim_fn *fn, uint32_t size)
{
	uint16_t off = fn->kind == SIM_FN_ENDPOINT ? CFG_ROM0 : CFG_ROM1;

	fn->rom_size = size;
	fn->dec.gen = 0; /* a ROM to decode now */
	sim_cfg_set_wmask(&fn->cfg, off, 4, (~(size - 1) & 0xfffff800u) | 1u);
}

uint64_t sim_fn_bar_addr(const struct sim_fn *fn, int n)
{
	const struct sim_cfg *c = &fn->cfg;
	uint16_t off = (uint16_t)(CFG_BAR0 + 4 * n);
	uint32_t lo = sim_cfg_get(c, off, 4);

	switch (fn->bar[n].type) {
	case SIM_BAR_IO:
		return lo & 0xfffffffcu;
	case SIM_BAR_MEM32:
		return lo & 0xfffffff0u;
	case SIM_BAR_MEM64:
		return (lo & 0xfffffff0u) |
		       ((uint64_t)sim_cfg_get(c, off + 4, 4) << 32);
	default:
		return 0;
	}
}

/* ---- reachability ---------------------------------------------------- */

bool sim_fn_alive(const struct sim_fn *fn)
{
	if (fn->dead)
		return false;
	return !fn->card || sim_card_reachable(fn->card);
}

static uint16_t command(const struct sim_fn *fn)
{
	return (uint16_t)sim_cfg_get(&fn->cfg, CFG_COMMAND, 2);
}

/* ---- bridge windows (PCI-to-PCI Bridge 3.2, 3.2.5.6 to 3.2.5.9) ------- */

static bool mem_window(const struct sim_fn *br, uint64_t *base, uint64_t *limit)
{
	const struct sim_cfg *c = &br->cfg;

	*base = (uint64_t)(sim_cfg_get(c, CFG_MEM_BASE, 2) & 0xfff0) << 16;
	*limit = ((uint64_t)(sim_cfg_get(c, CFG_MEM_LIMIT, 2) & 0xfff0) << 16) |
		 0xfffff;
	return *base <= *limit;
}

static bool pref_window(const struct sim_fn *br, uint64_t *base,
			uint64_t *limit)
{
	const struct sim_cfg *c = &br->cfg;
	uint32_t b = sim_cfg_get(c, CFG_PREF_BASE, 2);
	uint32_t l = sim_cfg_get(c, CFG_PREF_LIMIT, 2);

	*base = (uint64_t)(b & 0xfff0) << 16;
	*limit = ((uint64_t)(l & 0xfff0) << 16) | 0xfffff;
	if ((b & 0xf) == 1) {
		*base |= (uint64_t)sim_cfg_get(c, CFG_PREF_BASE_UPPER, 4) << 32;
		*limit |= (uint64_t)sim_cfg_get(c, CFG_PREF_LIMIT_UPPER, 4)
			  << 32;
	}
	return *base <= *limit;
}

static bool io_window(const struct sim_fn *br, uint32_t *base, uint32_t *limit)
{
	const struct sim_cfg *c = &br->cfg;
	uint32_t b = sim_cfg_get(c, CFG_IO_BASE, 1);
	uint32_t l = sim_cfg_get(c, CFG_IO_LIMIT, 1);

	*base = (b & 0xf0) << 8;
	*limit = ((l & 0xf0) << 8) | 0xfff;
	if ((b & 0xf) == 1) {
		*base |= sim_cfg_get(c, CFG_IO_BASE_UPPER, 2) << 16;
		*limit |= sim_cfg_get(c, CFG_IO_LIMIT_UPPER, 2) << 16;
	}
	return *base <= *limit;
}

/* ---- the decode cache ------------------------------------------------- */

/* The routing registers of fn, decoded again only when its config space
 * changed since (cfg.gen): a memory cycle walks every function on every
 * bus on its way, and decoding each register byte by byte on every cycle
 * was most of what the allocation benchmark measured (issue #18). */
static const struct sim_decode *dec_of(struct sim_fn *fn)
{
	struct sim_decode *d = &fn->dec;

	if (d->gen == fn->cfg.gen)
		return d;
	d->cmd = command(fn);
	d->nmem = d->nio = 0;
	for (int n = 0; n < (fn->secondary ? 2 : 6); n++) {
		const struct sim_bar *b = &fn->bar[n];
		struct sim_dec_range *r;

		if (b->type == SIM_BAR_NONE)
			continue;
		r = b->type == SIM_BAR_IO ? &d->io[d->nio++]
					  : &d->mem[d->nmem++];
		r->base = sim_fn_bar_addr(fn, n);
		r->size = b->size;
		r->bar = n;
	}
	if (fn->rom_size) {
		uint32_t rom = sim_cfg_get(&fn->cfg, fn->secondary ? CFG_ROM1
								  : CFG_ROM0, 4);

		if (rom & 1) /* ROM Enable (PCI 3.0 6.2.5.2) */
			d->mem[d->nmem++] = (struct sim_dec_range){
				rom & 0xfffff800u, fn->rom_size, 6 };
	}
	if (fn->secondary) {
		d->mem_ok = mem_window(fn, &d->mem_b, &d->mem_l);
		d->pref_ok = pref_window(fn, &d->pref_b, &d->pref_l);
		d->io_ok = io_window(fn, &d->io_b, &d->io_l);
	} else {
		d->mem_ok = d->pref_ok = d->io_ok = false;
	}
	d->gen = fn->cfg.gen;
	return d;
}

bool sim_bridge_forwards_mem(struct sim_fn *br, uint64_t addr)
{
	const struct sim_decode *d = dec_of(br);

	if (!(d->cmd & CMD_MEM))
		return false;
	if (d->mem_ok && addr >= d->mem_b && addr <= d->mem_l)
		return true;
	return d->pref_ok && addr >= d->pref_b && addr <= d->pref_l;
}

bool sim_bridge_forwards_io(struct sim_fn *br, uint32_t port)
{
	const struct sim_decode *d = dec_of(br);

	if (!(d->cmd & CMD_IO))
		return false;
	return d->io_ok && port >= d->io_b && port <= d->io_l;
}

/* ---- configuration cycles -------------------------------------------- */

static bool ari_forwarding(const struct sim_fn *port)
{
	/* Device Control 2 bit 5: ARI Forwarding Enable (PCIe Base 7.5.3.16). */
	return port && port->pcie_cap &&
	       (sim_cfg_get(&port->cfg, port->pcie_cap + 0x28, 2) & 0x20);
}

static bool crs_visible(const struct sim_fn *root_port)
{
	/* Root Control bit 4: CRS Software Visibility Enable. */
	return root_port && root_port->pcie_cap &&
	       (sim_cfg_get(&root_port->cfg, root_port->pcie_cap + 0x1c, 2) &
		0x10);
}

enum cfg_result { CFG_OK, CFG_ABORT, CFG_RETRY };

/*
 * Walk from the host bridge to the function a config cycle addresses.
 * Buses are numbered only by what software wrote into bridges: a bridge
 * passes a type 1 cycle on when secondary <= bus <= subordinate, and turns
 * it into type 0 when bus == secondary.
 */
static enum cfg_result route_cfg(struct sim *sim, hs_bdf_t bdf,
				 struct sim_fn **out, struct sim_fn **root_port,
				 struct sim_counters *cnt)
{
	const struct sim_config *sc = sim_get_config(sim);
	struct sim_bus *bus = sim_root_bus(sim);
	unsigned busno = sc->bus_first;
	unsigned target = HS_BDF_BUS(bdf);
	struct sim_fn *fn;

	*root_port = NULL;
	if (HS_BDF_SEG(bdf) != sc->segment || target < sc->bus_first ||
	    target > sc->bus_last)
		return CFG_ABORT;
	while (target != busno) {
		struct sim_fn *next = NULL;

		for (int i = 0; i < 256 && !next; i++) {
			struct sim_fn *b = bus->fn[i];
			unsigned sec, sub;

			if (!b || !b->secondary || !sim_fn_alive(b))
				continue;
			sec = sim_cfg_get(&b->cfg, CFG_SECONDARY, 1);
			sub = sim_cfg_get(&b->cfg, CFG_SUBORDINATE, 1);
			if (b->quirks & SIM_QUIRK_BUS_GREEDY)
				sub = 255;
			if (sec > busno && sec <= target && target <= sub)
				next = b;
		}
		if (!next)
			return CFG_ABORT;
		if (cnt)
			cnt->cfg_type1++;
		if (next->kind == SIM_FN_PCIE_PORT && !*root_port &&
		    next->pcie_cap &&
		    ((sim_cfg_get(&next->cfg, next->pcie_cap + 2, 2) >> 4) &
		     0xf) == SIM_PORT_ROOT)
			*root_port = next;
		bus = next->secondary;
		busno = sim_cfg_get(&next->cfg, CFG_SECONDARY, 1);
	}
	if (cnt)
		cnt->cfg_type0++;
	if (bus->link_below_port && HS_BDF_DEV(bdf) != 0 &&
	    !ari_forwarding(bus->bridge))
		return CFG_ABORT;
	fn = bus->fn[HS_BDF_DEVFN(bdf)];
	if (!fn || !sim_fn_alive(fn))
		return CFG_ABORT;
	if (cnt && fn->card && fn->card->slot && !fn->card->cold &&
	    fn->card->slot->kind == SIM_SLOT_PCIE &&
	    !fn->card->spec->funcs[0].immediate_readiness) {
		/* PCIe Base 6.6.1: 100 ms after link training completes on a
		 * port that reports it (required above 5 GT/s); 100 ms after
		 * the reset exit (power-on) on one of at most 5 GT/s that
		 * cannot. */
		const struct sim_card *cd = fn->card;
		hs_time_t ref = cd->slot->feat.dll_active_reporting ?
				cd->linked_at : cd->powered_at;

		if (sim_now(sim) < ref + HS_MSEC(100))
			cnt->cfg_early++;
	}
	if (fn->card && fn->card->ready_at > sim_now(sim))
		return CFG_RETRY;
	*out = fn;
	return CFG_OK;
}

struct sim_fn *sim_fn_lookup(struct sim *sim, hs_bdf_t bdf)
{
	struct sim_fn *fn = NULL, *rp;

	/* Routed as a config cycle would be, counting nothing. */
	return route_cfg(sim, bdf, &fn, &rp, NULL) == CFG_OK ? fn : NULL;
}

static bool fault_hit(struct sim *sim);

static int cfg_check(uint16_t off, unsigned width)
{
	if (width != 1 && width != 2 && width != 4)
		return -HS_EINVAL;
	if (off >= HS_CFG_SIZE || (off & (width - 1)))
		return -HS_EINVAL;
	return 0;
}


int sim_plat_cfg_read(void *ctx, hs_bdf_t bdf, uint16_t off, unsigned width,
		      uint32_t *val)
{
	struct sim *sim = ctx;
	struct sim_counters *cnt = sim_counters_mut(sim);
	uint32_t ones = width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
	struct sim_fn *fn = NULL, *rp;
	int rc = cfg_check(off, width);

	if (rc)
		return rc;
	cnt->cfg_reads++;
	if (fault_hit(sim)) {
		*val = ones;
		return 0;
	}
	switch (route_cfg(sim, bdf, &fn, &rp, cnt)) {
	case CFG_ABORT:
		cnt->cfg_master_aborts++;
		*val = ones;
		return 0;
	case CFG_RETRY:
		cnt->cfg_crs++;
		/*
		 * With CRS Software Visibility, a read of the Vendor ID
		 * completes as 0001h (PCIe Base 2.3.2); anything else is
		 * retried by the root complex until it gives up: all ones.
		 */
		if (crs_visible(rp) && off == 0 && width >= 2)
			*val = width == 4 ? 0xffff0001u : 0x0001u;
		else
			*val = ones;
		return 0;
	case CFG_OK:
		break;
	}
	*val = sim_cfg_get(&fn->cfg, off, width);
	return 0;
}

int sim_plat_cfg_write(void *ctx, hs_bdf_t bdf, uint16_t off, unsigned width,
		       uint32_t val)
{
	struct sim *sim = ctx;
	struct sim_fn *fn = NULL, *rp;
	uint32_t old;
	int rc = cfg_check(off, width);

	if (rc)
		return rc;
	sim_counters_mut(sim)->cfg_writes++;
	if (fault_hit(sim))
		return 0;
	if (route_cfg(sim, bdf, &fn, &rp, sim_counters_mut(sim)) != CFG_OK)
		return 0; /* a write to nobody is dropped */
	if ((fn->quirks & SIM_QUIRK_BUS_GREEDY) && off <= CFG_SUBORDINATE &&
	    off + width > CFG_SUBORDINATE) {
		/* The greedy bridge keeps claiming every bus below it. */
		uint32_t keep = sim_cfg_get(&fn->cfg, CFG_SUBORDINATE, 1);

		old = sim_cfg_get(&fn->cfg, off, width);
		sim_cfg_write(&fn->cfg, off, width, val);
		sim_cfg_set(&fn->cfg, CFG_SUBORDINATE, 1, keep ? keep : 0xff);
	} else {
		old = sim_cfg_get(&fn->cfg, off, width);
		sim_cfg_write(&fn->cfg, off, width, val);
	}
	if (fn->model && fn->model->cfg_written)
		fn->model->cfg_written(fn, off, width, old, val);
	return 0;
}

static bool fault_hit(struct sim *sim)
{
	return sim_fault_cfg_hit(sim);
}

/* ---- memory and I/O cycles ------------------------------------------- */

struct claim {
	struct sim_fn *fn;
	int bar;           /* 0..5, 6 = expansion ROM */
	uint64_t off;
};


/* Positive decode on one bus: every agent whose BAR or window covers the
 * address claims it; two claims is a conflict (counted, first wins). */
static bool decode(struct sim *sim, struct sim_bus *bus, bool io,
		   uint64_t addr, struct claim *out)
{
	bool found = false;

	for (unsigned i = 0; i < bus->npresent; i++) {
		struct sim_fn *fn = bus->fn[bus->present[i]];
		struct claim c = { fn, -1, 0 };
		const struct sim_decode *d = dec_of(fn);
		const struct sim_dec_range *r = io ? d->io : d->mem;
		unsigned nr = io ? d->nio : d->nmem;
		bool hit = false;

		/* Decode enabled first: the cheaper test (cached). */
		if (!(d->cmd & (io ? CMD_IO : CMD_MEM)) || !sim_fn_alive(fn))
			continue;
		/* BARs in register order, then the ROM (as built). */
		for (unsigned k = 0; k < nr && !hit; k++)
			if (addr >= r[k].base && addr - r[k].base < r[k].size) {
				hit = true;
				c.bar = r[k].bar;
				c.off = addr - r[k].base;
			}
		if (!hit && fn->secondary) {
			hit = io ? sim_bridge_forwards_io(fn, (uint32_t)addr)
				 : sim_bridge_forwards_mem(fn, addr);
			if (hit) {
				struct claim below;

				if (!decode(sim, fn->secondary, io, addr,
					    &below)) {
					/* The bridge took the cycle but nobody
					 * below answered: master abort on the
					 * secondary side. */
					c.fn = NULL;
				} else {
					c = below;
				}
			}
		}
		if (!hit)
			continue;
		if (found) {
			sim_counters_mut(sim)->decode_conflicts++;
			continue;
		}
		found = true;
		*out = c;
	}
	return found && out->fn;
}

static bool host_claims_mem(const struct sim_config *sc, uint64_t addr)
{
	if (addr >= sc->mem_base && addr <= sc->mem_limit)
		return true;
	return sc->pref_limit && addr >= sc->pref_base &&
	       addr <= sc->pref_limit;
}

static uint64_t msix_access(struct sim_fn *fn, int bar, uint64_t off,
			    unsigned width, bool write, uint64_t val,
			    bool *handled);

static uint64_t fn_bar_read(struct sim_fn *fn, int bar, uint64_t off,
			    unsigned width)
{
	bool handled = false;
	uint64_t v = msix_access(fn, bar, off, width, false, 0, &handled);

	if (handled)
		return v;
	if (bar == 6)
		return 0; /* ROM image: zeros except the signature */
	if (fn->model && fn->model->bar_read)
		return fn->model->bar_read(fn, bar, off, width);
	return 0;
}

static void fn_bar_write(struct sim_fn *fn, int bar, uint64_t off,
			 unsigned width, uint64_t val)
{
	bool handled = false;

	msix_access(fn, bar, off, width, true, val, &handled);
	if (handled || bar == 6)
		return;
	if (fn->model && fn->model->bar_write)
		fn->model->bar_write(fn, bar, off, width, val);
}

static uint64_t ones_of(unsigned width)
{
	return width >= 8 ? ~0ull : (1ull << (8 * width)) - 1;
}


int sim_plat_mem_read(void *ctx, uint64_t addr, unsigned width, uint64_t *val)
{
	struct sim *sim = ctx;
	struct sim_counters *cnt = sim_counters_mut(sim);
	struct claim c;

	if (width != 1 && width != 2 && width != 4 && width != 8)
		return -HS_EINVAL;
	cnt->mem_reads++;
	if (host_claims_mem(sim_get_config(sim), addr) &&
	    decode(sim, sim_root_bus(sim), false, addr, &c)) {
		*val = fn_bar_read(c.fn, c.bar, c.off, width) & ones_of(width);
		return 0;
	}
	void *ram = sim_host_ram(sim, addr, width);
	if (ram) {
		uint64_t v = 0;

		memcpy(&v, ram, width);
		*val = v;
		return 0;
	}
	cnt->mem_master_aborts++;
	*val = ones_of(width);
	return 0;
}

int sim_plat_mem_write(void *ctx, uint64_t addr, unsigned width, uint64_t val)
{
	struct sim *sim = ctx;
	struct claim c;

	if (width != 1 && width != 2 && width != 4 && width != 8)
		return -HS_EINVAL;
	sim_counters_mut(sim)->mem_writes++;
	if (host_claims_mem(sim_get_config(sim), addr) &&
	    decode(sim, sim_root_bus(sim), false, addr, &c)) {
		fn_bar_write(c.fn, c.bar, c.off, width, val);
		return 0;
	}
	void *ram = sim_host_ram(sim, addr, width);
	if (ram) {
		memcpy(ram, &val, width);
		return 0;
	}
	sim_counters_mut(sim)->mem_master_aborts++;
	return 0;
}

static bool host_claims_io(const struct sim_config *sc, uint32_t port)
{
	return port >= sc->io_base && port <= sc->io_limit;
}

int sim_plat_io_read(void *ctx, uint32_t port, unsigned width, uint32_t *val)
{
	struct sim *sim = ctx;
	struct claim c;

	if (width != 1 && width != 2 && width != 4)
		return -HS_EINVAL;
	sim_counters_mut(sim)->io_reads++;
	if (host_claims_io(sim_get_config(sim), port) &&
	    decode(sim, sim_root_bus(sim), true, port, &c)) {
		*val = (uint32_t)(fn_bar_read(c.fn, c.bar, c.off, width) &
				  ones_of(width));
		return 0;
	}
	sim_counters_mut(sim)->io_master_aborts++;
	*val = (uint32_t)ones_of(width);
	return 0;
}

int sim_plat_io_write(void *ctx, uint32_t port, unsigned width, uint32_t val)
{
	struct sim *sim = ctx;
	struct claim c;

	if (width != 1 && width != 2 && width != 4)
		return -HS_EINVAL;
	sim_counters_mut(sim)->io_writes++;
	if (host_claims_io(sim_get_config(sim), port) &&
	    decode(sim, sim_root_bus(sim), true, port, &c)) {
		fn_bar_write(c.fn, c.bar, c.off, width, val);
		return 0;
	}
	sim_counters_mut(sim)->io_master_aborts++;
	return 0;
}

/* ---- MSI-X table, kept with the function ------------------------------ */

/*
 * The MSI-X table (16 bytes a vector) and the PBA live in a BAR (PCI 3.0,
 * 6.8.2).  The card model places them; this code answers their cycles so
 * that every device model gets the same MSI-X behaviour.
 */
static uint64_t msix_access(struct sim_fn *fn, int bar, uint64_t off,
			    unsigned width, bool write, uint64_t val,
			    bool *handled)
{
	uint32_t tbl, pba, n;
	uint64_t tbl_off, pba_off;

	*handled = false;
	if (!fn->msix_cap || !fn->msix_table)
		return 0;
	n = (sim_cfg_get(&fn->cfg, fn->msix_cap + 2, 2) & 0x7ff) + 1;
	tbl = sim_cfg_get(&fn->cfg, fn->msix_cap + 4, 4);
	pba = sim_cfg_get(&fn->cfg, fn->msix_cap + 8, 4);
	tbl_off = tbl & ~7u;
	pba_off = pba & ~7u;
	if ((int)(tbl & 7) == bar && off >= tbl_off && off < tbl_off + 16 * n) {
		uint64_t rel = off - tbl_off;
		uint8_t *p = (uint8_t *)fn->msix_table + rel;

		*handled = true;
		if (rel + width > 16 * n)
			return 0;
		if (write) {
			memcpy(p, &val, width);
			return 0;
		}
		uint64_t v = 0;

		memcpy(&v, p, width);
		return v;
	}
	if ((int)(pba & 7) == bar && off >= pba_off &&
	    off < pba_off + 8 * ((n + 63) / 64)) {
		*handled = true;
		return write ? 0 : fn->msix_pending &
					   ones_of(width);
	}
	return 0;
}

/* ---- DMA and interrupts ------------------------------------------------ */

/* Upstream path from a function to the host bridge: every bridge on the
 * way must have Bus Master Enable set to forward the transaction upstream
 * (PCI-to-PCI Bridge 3.2, 3.2.2), and the address must not fall inside
 * its windows (those are decoded downstream: peer traffic, not modelled). */
static bool upstream_ok(struct sim_fn *fn, uint64_t addr)
{
	if (!sim_fn_alive(fn) || !(dec_of(fn)->cmd & CMD_MASTER))
		return false;
	for (const struct sim_bus *bus = fn->bus; bus->bridge;
	     bus = bus->bridge->bus) {
		struct sim_fn *br = bus->bridge;

		if (!sim_fn_alive(br) || !(dec_of(br)->cmd & CMD_MASTER))
			return false;
		if (sim_bridge_forwards_mem(br, addr))
			return false;
	}
	return true;
}


/* The Requester ID the function puts in its requests: the bus number it
 * captured from the type 0 configuration writes that reached it (its bus's
 * secondary number), its device and function (PCIe Base 2.2.6.2). */
static hs_bdf_t own_id(const struct sim_fn *fn)
{
	const struct sim_config *sc = sim_get_config(fn->sim);
	const struct sim_fn *br = fn->bus->bridge;
	unsigned bus = br ? sim_cfg_get(&br->cfg, CFG_SECONDARY, 1)
			  : sc->bus_first;

	return HS_BDF(sc->segment, bus, fn->devfn >> 3, fn->devfn & 7);
}

/* The Requester ID its writes carry at the host bridge: a PCIe-to-PCI
 * bridge forwards them as its secondary bus, device 0, function 0
 * (PCIe-to-PCI/PCI-X Bridge 1.0, 2.3), a conventional PCI bridge as
 * itself (PCI has no requester ID; the PCIe side sees the bridge). */
static hs_bdf_t requester_id(const struct sim_fn *fn)
{
	hs_bdf_t rid = own_id(fn);

	for (const struct sim_fn *cur = fn, *b = fn->bus->bridge; b;
	     cur = b, b = b->bus->bridge) {
		if (!b->pcie_cap)
			rid = own_id(b);
		else if ((sim_cfg_get(&b->cfg, b->pcie_cap + 2, 2) >> 4 &
			  0xf) == 0x7)
			rid = own_id(cur) & ~0xFFu;
	}
	return rid;
}

int sim_fn_dma_write(struct sim_fn *fn, uint64_t addr, const void *buf,
		     size_t len)
{
	struct sim *sim = fn->sim;
	struct sim_counters *cnt = sim_counters_mut(sim);
	void *ram;

	cnt->dma_attempts++;
	if (!upstream_ok(fn, addr))
		goto blocked;
	if (addr >= MSI_ADDR_BASE && addr <= MSI_ADDR_LIMIT && len == 4) {
		uint32_t data;

		memcpy(&data, buf, 4);
		sim_msi_deliver(sim, requester_id(fn), data);
		return 0;
	}
	ram = sim_host_ram(sim, addr, len);
	if (!ram)
		goto blocked;
	memcpy(ram, buf, len);
	return 0;
blocked:
	cnt->dma_blocked++;
	return -HS_EIO;
}

int sim_fn_dma_read(struct sim_fn *fn, uint64_t addr, void *buf, size_t len)
{
	struct sim_counters *cnt = sim_counters_mut(fn->sim);
	void *ram;

	cnt->dma_attempts++;
	if (!upstream_ok(fn, addr) || !(ram = sim_host_ram(fn->sim, addr, len))) {
		cnt->dma_blocked++;
		memset(buf, 0xff, len);
		return -HS_EIO;
	}
	memcpy(buf, ram, len);
	return 0;
}

static bool msi_send(struct sim_fn *fn, unsigned vector)
{
	struct sim_cfg *c = &fn->cfg;
	uint16_t cap = fn->msi_cap;
	uint16_t ctl;
	uint64_t addr;
	uint32_t data;
	unsigned mme;

	if (!cap)
		return false;
	ctl = (uint16_t)sim_cfg_get(c, cap + 2, 2);
	if (!(ctl & 1))
		return false;
	addr = sim_cfg_get(c, cap + 4, 4);
	if (ctl & 0x80) {
		addr |= (uint64_t)sim_cfg_get(c, cap + 8, 4) << 32;
		data = sim_cfg_get(c, cap + 12, 2);
	} else {
		data = sim_cfg_get(c, cap + 8, 2);
	}
	/* Multiple Message Enable: the function may modify the low
	 * log2(n) bits of the data (PCI 3.0, 6.8.1.3). */
	mme = (ctl >> 4) & 7;
	data = (data & ~((1u << mme) - 1)) | (vector & ((1u << mme) - 1));
	sim_counters_mut(fn->sim)->msi_sent++;
	sim_fn_dma_write(fn, addr, &data, 4);
	return true;
}

static bool msix_send(struct sim_fn *fn, unsigned vector)
{
	uint16_t ctl;
	uint32_t n, *e;
	uint64_t addr;

	if (!fn->msix_cap || !fn->msix_table)
		return false;
	ctl = (uint16_t)sim_cfg_get(&fn->cfg, fn->msix_cap + 2, 2);
	if (!(ctl & 0x8000))
		return false;
	n = (ctl & 0x7ff) + 1u;
	if (vector >= n)
		return true; /* no such vector: nothing is sent */
	e = &fn->msix_table[4 * vector];
	/* Function Mask (bit 14) or the vector's own mask: pending bit. */
	if ((ctl & 0x4000) || (e[3] & 1)) {
		if (vector < 64)
			fn->msix_pending |= 1ull << vector;
		return true;
	}
	addr = e[0] | ((uint64_t)e[1] << 32);
	sim_counters_mut(fn->sim)->msi_sent++;
	sim_fn_dma_write(fn, addr, &e[2], 4);
	return true;
}

void sim_fn_interrupt(struct sim_fn *fn, unsigned vector)
{
	if (!sim_fn_alive(fn))
		return;
	if (msix_send(fn, vector) || msi_send(fn, vector))
		return;
	/* INTx is a level: a pulse here means "assert until the model
	 * deasserts"; models that want level semantics call sim_fn_intx. */
	sim_fn_intx(fn, true);
}


void sim_fn_intx(struct sim_fn *fn, bool level)
{
	const struct sim_config *sc = sim_get_config(fn->sim);
	unsigned pin = sim_cfg_get(&fn->cfg, CFG_INT_PIN, 1);
	const struct sim_fn *at = fn;
	bool was = fn->intx_level;

	if (level)
		sim_cfg_setbits(&fn->cfg, CFG_STATUS, 2, STATUS_INT);
	else
		sim_cfg_clrbits(&fn->cfg, CFG_STATUS, 2, STATUS_INT);
	/* Interrupt Disable masks the pin, not the status bit. */
	if (level && ((command(fn) & CMD_INTX_DIS) || !sim_fn_alive(fn)))
		level = false;
	if (pin < 1 || pin > 4 || level == was)
		return;
	fn->intx_level = level;
	if (level)
		sim_counters_mut(fn->sim)->intx_asserted++;
	/* Swizzle through every bridge to the root bus (PCI-to-PCI Bridge
	 * 3.2, 9.1): pin' = ((device + pin - 1) mod 4) + 1. */
	while (at->bus->bridge) {
		pin = ((unsigned)(at->devfn >> 3) + pin - 1) % 4 + 1;
		at = at->bus->bridge;
	}
	sim_intx_line(fn->sim,
		      sc->intx_base + ((unsigned)(at->devfn >> 3) + pin - 1) % 4,
		      level);
}

bool sim_multislot_args_ok(const struct sim_bus *bus, uint8_t dev,
			   uint8_t fn, unsigned nslots, unsigned max_slots,
			   uint8_t first_dev)
{
	/* Below a PCIe port only device 0 exists (PCIe Base 7.3.1). */
	return dev <= 31 && fn <= 7 && nslots >= 1 && nslots <= max_slots &&
	       (unsigned)first_dev + nslots <= 32 &&
	       !(bus->link_below_port && dev != 0);
}

/* ---- a plain PCI-to-PCI bridge of the chassis -------------------------- */

static const struct sim_fn_model pci_bridge_model = {
	.kind = "pci-bridge",
};

struct sim_fn *sim_add_pci_bridge(struct sim_bus *bus, uint8_t dev,
				  uint8_t fnum, uint16_t vendor,
				  uint16_t device, int *err)
{
	struct sim_fn *fn;
	uint16_t ss;

	if (dev > 31 || fnum > 7 || (bus->link_below_port && dev != 0)) {
		*err = -HS_EINVAL;
		return NULL;
	}
	fn = sim_fn_new(bus, (uint8_t)(dev << 3 | fnum), SIM_FN_PCI_BRIDGE, err);
	if (!fn)
		return NULL;
	fn->model = &pci_bridge_model;
	sim_bridge_header_init(fn, vendor, device, true, true);
	ss = sim_cfg_add_cap(&fn->cfg, 0x0d, 8); /* Bridge Subsystem VID */
	if (ss)
		sim_cfg_set(&fn->cfg, ss + 4, 4,
			    vendor | (uint32_t)device << 16);
	fn->secondary = sim_bus_new(bus->sim, fn);
	if (!fn->secondary) {
		sim_fn_free(fn);
		*err = -HS_ENOMEM;
		return NULL;
	}
	return fn;
}
