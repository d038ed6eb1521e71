/*
 * hs_scan.c - enumeration: finding functions, sizing their BARs, reading
 * their capabilities, numbering buses, and spotting hot-plug bridges.
 *
 * Owns: the recursive scan used at boot and at hot-add.  Every register it
 * writes goes through the open transaction, so a failed hot-add leaves the
 * hardware as it found it.  A function that lies (a capability list that
 * loops or leaves the capability area, a BAR mask no power of two explains,
 * a bridge that claims bus numbers it was not given) is isolated: kept in
 * the tree with its reason, decode disabled, never followed, never bound.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_txn.h"
#include "hs_busnr.h"
#include "hs_scan.h"
#include "hotswap/pcie_regs.h"

/* Devices that need special handling (vendor, device, flags). */
enum quirk_flags {
	QUIRK_HOTPLUG_BRIDGE = 1u << 0, /* CompactPCI backplane bridge */
	QUIRK_NO_REMOVE = 1u << 1,      /* never remove (critical) */
	QUIRK_NO_MSI = 1u << 2,
};

static const struct {
	uint16_t vendor, device;
	unsigned flags;
} quirks[] = {
	/* Intel/DEC 21154 and 21150: the bridges CompactPCI system boards
	 * put in front of the backplane (PICMG 2.1 systems). */
	{ 0x8086, 0xb154, QUIRK_HOTPLUG_BRIDGE },
	{ 0x1011, 0x0026, QUIRK_HOTPLUG_BRIDGE },
	{ 0x1011, 0x0022, QUIRK_HOTPLUG_BRIDGE },
	/* Host bridges and LPC/ISA bridges: removing them kills the box. */
	{ 0x8086, 0x29c0, QUIRK_NO_REMOVE },
	{ 0x8086, 0x2918, QUIRK_NO_REMOVE },
};

static unsigned quirk_flags_of(uint16_t vendor, uint16_t device)
{
	for (size_t i = 0; i < sizeof(quirks) / sizeof(quirks[0]); i++)
		if (quirks[i].vendor == vendor && quirks[i].device == device)
			return quirks[i].flags;
	return 0;
}

/* Config accesses of the function being scanned: through the open
 * transaction (writes), one call shorter than the core-wide ones. */
HS_NOINLINE static int rd(const struct hs_dev *d, uint16_t off, unsigned w,
			  uint32_t *v)
{
	return hs_rd(d->core, d->bdf, off, w, v);
}

HS_NOINLINE static int wr(const struct hs_dev *d, uint16_t off, unsigned w,
			  uint32_t v)
{
	return hs_txn_cfg_write(d->core, d->bdf, off, w, v);
}

/* A read of a register no answering function reads as all ones (an ID,
 * a BAR, a capability's header): all ones means the function stopped
 * answering, or the cycle failed, not a value to act on. */
HS_NOINLINE static int rd_live(const struct hs_dev *d, uint16_t off,
			       unsigned w, uint32_t *v)
{
	int rc = rd(d, off, w, v);

	if (!rc && *v == 0xffffffffu >> (32 - 8 * w))
		return -HS_EIO;
	return rc;
}

/* A write whose register value the scan has just read or written. */
static int wr_old(const struct hs_dev *d, uint16_t off, unsigned w,
		  uint32_t old, uint32_t v)
{
	return hs_txn_cfg_write_old(d->core, d->bdf, off, w, old, v);
}

/*
 * Size one BAR register: the original, all ones, the read-back, and the
 * original again unless the read-back says no bit took (a hardwired-zero
 * register holds what it held).  The undo log takes the values just read
 * (no read before each write).  An all-ones original cannot be a BAR
 * (the type bits would be reserved) or a ROM BAR (bits 10:1 read 0):
 * the function stopped answering.
 */
static int size_reg(const struct hs_dev *d, uint16_t off, uint32_t ones,
		    uint32_t *orig, uint32_t *mask)
{
	int rc;

	if ((rc = rd_live(d, off, 4, orig)) ||
	    (rc = wr_old(d, off, 4, *orig, ones)) ||
	    (rc = rd(d, off, 4, mask)))
		return rc;
	if (*mask == 0)
		return 0;
	return wr_old(d, off, 4, *mask, *orig);
}

/* ---- BARs ------------------------------------------------------------- */

static bool mask_is_pow2(uint64_t mask, uint64_t addr_bits)
{
	uint64_t size = ~mask + 1;

	/* The writable bits must be exactly the address bits above the
	 * size: ~(size - 1) within the register (PCI 3.0 6.2.5.1). */
	return size && !(size & (size - 1)) &&
	       ((mask | (size - 1)) & addr_bits) == addr_bits;
}

static int size_bars(struct hs_dev *d)
{
	unsigned nbars = d->bridge ? 2 : 6;
	uint32_t cmd = d->cmd_reg, orig, mask, orig_hi, mask_hi;
	unsigned long long m64;
	const char *why;
	unsigned i;
	int rc;

	/* Decode off while BARs hold all ones (PCI 3.0 6.2.5.1). */
	if (cmd & (CMD_IO | CMD_MEM)) {
		rc = wr_old(d, PCI_COMMAND, 2, cmd,
			    cmd & ~(CMD_IO | CMD_MEM));
		if (rc)
			return rc;
		cmd &= ~(CMD_IO | CMD_MEM);
	}
	d->cmd_reg = (uint16_t)cmd;
	for (i = 0; i < nbars; i++) {
		uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
		struct hs_bar_info *b = &d->bar[i];

		if ((rc = size_reg(d, off, 0xffffffffu, &orig,
				   &mask)))
			return rc;
		d->bar_reg[i] = orig;
		if (mask == 0 || mask == 0xffffffffu) {
			/* Not implemented (or the function vanished: an
			 * all-ones read can't be a BAR, bit 0 and the type
			 * bits would say I/O with reserved bits set). */
			if (mask == 0xffffffffu)
				return -HS_EIO;
			continue;
		}
		m64 = mask; /* what a message about it shows */
		if (mask & 1) {
			uint32_t m = mask & ~3u;

			/* 16-bit decoders leave the upper half zero. */
			if (!(m & 0xffff0000u))
				m |= 0xffff0000u;
			b->kind = BAR_IO;
			b->size = (uint64_t)(uint32_t)(~m + 1);
			why = "I/O size is not a power of two";
			if (!b->size || b->size > 0x10000 ||
			    !mask_is_pow2(0xffffffff00000000ull | m,
					  0xfffffffffffffffcull))
				goto isolate;
			continue;
		}
		b->pref = mask & 8;
		if (((mask >> 1) & 3) == 2) {
			why = "a 64-bit BAR in the last BAR register";
			if (i + 1 >= nbars)
				goto isolate;
			if ((rc = size_reg(d, off + 4, 0xffffffffu,
					   &orig_hi, &mask_hi)))
				return rc;
			d->bar_reg[i + 1] = orig_hi;
			m64 = ((uint64_t)mask_hi << 32) | (mask & ~0xfu);
			b->kind = BAR_MEM64;
			b->size = ~m64 + 1;
			/* 2^48 bytes is more than any host decodes today; a
			 * card asking for more is not telling the truth. */
			why = "claims an impossible size";
			if (b->size > (1ull << 48) || (!b->size && m64))
				goto isolate;
			why = "size is not a power of two";
			if (!b->size || !mask_is_pow2(m64, ~0xfull))
				goto isolate;
			i++; /* the upper half */
		} else {
			uint64_t m = 0xffffffff00000000ull | (mask & ~0xfu);

			b->kind = BAR_MEM32;
			b->size = (uint32_t)(~(mask & ~0xfu) + 1);
			why = "no address bits";
			if (!b->size)
				goto isolate;
			why = "size is not a power of two";
			if (!mask_is_pow2(m, ~0xfull))
				goto isolate;
		}
	}
	/* Expansion ROM: address bits 31:11, enable bit 0 (PCI 3.0 6.2.5.2). */
	{
		uint16_t off = d->bridge ? PCI_ROM_BRIDGE : PCI_ROM;

		if ((rc = size_reg(d, off, 0xfffff800u, &orig,
				   &mask)))
			return rc;
		d->bar_reg[6] = orig;
		d->regs_known = true;
		mask &= 0xfffff800u;
		if (mask && mask_is_pow2(0xffffffff00000000ull | mask,
					 0xfffffffffffff800ull)) {
			d->bar[6].kind = BAR_MEM32;
			d->bar[6].size = (uint32_t)(~mask + 1);
		}
	}
	return 0;
isolate:
	hs_dev_isolate(d, "BAR%u: %s (size mask %#llx)", i, why, m64);
	return 0;
}

/* ---- capabilities -------------------------------------------------------- */

/*
 * Walk d's standard capability list (recording each in offs[]) or, offs
 * NULL, its extended one.  One walk finds every capability and proves the
 * list sound.  A list that looks broken is walked again, from the
 * registers, before the card is blamed: a lying card lies twice, a lost
 * cycle does not repeat.  A list that lies isolates d (0 returned).
 */
static int walk_caps(struct hs_dev *d, int status, uint16_t *offs)
{
	const struct hs_platform *p = d->core->plat;
	uint16_t off;
	int rc = 0;

	for (int n = 0; n < 2; n++) {
		int r = offs ? hs_cfg_scan_caps(p, d->bdf, d->hdr,
						n ? -1 : status, offs)
			     : hs_cfg_find_ext_cap(p, d->bdf, 0xffff, &off);

		if (n && r != rc)
			return -HS_EIO;
		rc = r;
		if (rc != -HS_ELOOP && rc != -HS_EFAULT && rc != -HS_ENODEV)
			break;
	}
	if (rc == -HS_ELOOP) {
		hs_dev_isolate(d, "capability list loops");
		return 0;
	}
	if (rc == -HS_EFAULT) {
		hs_dev_isolate(d, "capability pointer outside the capability "
			       "area");
		return 0;
	}
	if (rc == -HS_ENODEV)
		return -HS_EIO; /* stopped answering mid-scan */
	return rc == -HS_ENOENT ? 0 : rc;
}

static int read_caps(struct hs_dev *d, int status)
{
	uint16_t offs[256];
	uint32_t v;
	int rc;

	rc = walk_caps(d, status, offs);
	if (rc || (d->flags & DEV_ISOLATED))
		return rc;
	d->cap_pcie = offs[0x10];
	d->cap_msi = offs[0x05];
	d->cap_msix = offs[0x11];
	d->cap_hs = offs[0x06];
	d->cap_shpc = offs[0x0c];
	d->cap_vndr = offs[0x09];
	if (d->cap_pcie) {
		if ((rc = rd_live(d, d->cap_pcie + 2, 2, &v)))
			return rc;
		d->pcie_type = (v >> 4) & 0xf;
		/* The extended list exists on PCI Express functions only. */
		return walk_caps(d, -1, NULL);
	}
	return 0;
}

/* ---- hot-plug bridges and their reservations ------------------------------ */


static void set_reservation(struct hs_core *core, struct hs_dev *d)
{
	const struct hs_core_params *pp = &core->params;
	uint32_t v;

	d->resv = pp->hotplug;
	/* QEMU's resource reservation capability (Red Hat vendor-specific
	 * type 1 on 1b36 bridges): all ones in a field means "no hint". */
	if (d->cap_vndr && d->vendor == 0x1b36 &&
	    rd(d, d->cap_vndr + 3, 1, &v) == 0 && v == 1) {
		/* I/O (64-bit), prefetchable (64-bit), bus, memory,
		 * prefetchable (32-bit), in the order they are read. */
		static const uint8_t at[7] = { 8, 12, 24, 28, 4, 16, 20 };
		uint32_t f[7] = { 0 };

		for (unsigned i = 0; i < 7; i++)
			rd(d, d->cap_vndr + at[i], 4, &f[i]);
		uint64_t io = ((uint64_t)f[1] << 32) | f[0];
		uint64_t p64 = ((uint64_t)f[3] << 32) | f[2];
		uint32_t bus = f[4], mem = f[5], p32 = f[6];

		if (bus != 0xffffffffu)
			d->resv.bus = bus;
		if (io != ~0ull)
			d->resv.io = io;
		if (mem != 0xffffffffu)
			d->resv.mem = mem;
		if (p64 != ~0ull)
			d->resv.pref = p64;
		else if (p32 != 0xffffffffu)
			d->resv.pref = p32;
	}
	for (unsigned i = 0; i < pp->nslot_reserve; i++)
		if (d->slot_phys >= 0 &&
		    pp->slot_reserve[i].phys_slot == (uint16_t)d->slot_phys)
			d->resv = pp->slot_reserve[i].r;
	if (d->resv.bus > core->max_bus_resv)
		core->max_bus_resv = d->resv.bus;
}

static void detect_hotplug(struct hs_core *core, struct hs_dev *d)
{
	uint32_t v;

	d->slot_phys = -1;
	if (!d->bridge)
		return;
	if (d->cap_pcie && rd(d, d->cap_pcie + 2, 2, &v) == 0 &&
	    (v & 0x100) &&
	    rd(d, d->cap_pcie + 0x14, 4, &v) == 0 && (v & 0x40)) {
		/* Slot Implemented and Hot-Plug Capable (PCIe Base 7.5.3.9). */
		d->flags |= DEV_HOTPLUG;
		d->slot_phys = (int)(v >> 19);
	} else if (d->cap_shpc) {
		/* SHPC Slot Configuration is DWORD 3 of the register set,
		 * read through the capability's select / data window. */
		d->flags |= DEV_HOTPLUG;
		if (wr(d, d->cap_shpc + 2, 1, 3) == 0 &&
		    rd(d, d->cap_shpc + 4, 4, &v) == 0)
			d->slot_phys = (int)((v >> 16) & 0x7ff);
	} else if (quirk_flags_of(d->vendor, d->device) &
		   QUIRK_HOTPLUG_BRIDGE) {
		/* The same bridge chip sits on CompactPCI cards (two NICs
		 * behind a 21154): only the system board's one, not itself
		 * in a hot-plug slot, fronts a backplane. */
		bool below_hotplug = false;

		for (const struct hs_dev *u = d->parent; u; u = u->parent)
			below_hotplug |= (u->flags & DEV_HOTPLUG) != 0;
		if (!below_hotplug)
			d->flags |= DEV_HOTPLUG;
	}
	if (d->flags & DEV_HOTPLUG)
		set_reservation(core, d);
}

/* ---- functions and buses ------------------------------------------------- */

static struct hs_dev *existing(struct hs_core *core, struct hs_dev *parent,
			       hs_bdf_t bdf)
{
	for (struct hs_dev *d = parent ? parent->child : core->roots; d;
	     d = d->sibling)
		if (d->bdf == bdf)
			return d;
	return NULL;
}

/* Subordinate Bus Number written and read back: a bridge that does not
 * take it is not listening (-HS_EIO). */
static int set_subordinate(struct hs_dev *d, unsigned sub)
{
	uint32_t v;
	int rc;

	if ((rc = wr(d, PCI_SUBORDINATE, 1, sub)) ||
	    (rc = rd(d, PCI_SUBORDINATE, 1, &v)))
		return rc;
	return v == sub ? 0 : -HS_EIO;
}

static int scan_bridge(struct hs_core *core, const struct hs_host_bridge *h,
		       struct hs_dev *d, unsigned busno, struct hs_busnr *ba)
{
	uint32_t v, pb;
	unsigned sec, sub, last;
	int rc;

	/* Which prefetchable window the bridge has (3.2.5.10): low nibble
	 * 1 = 64-bit; a window that does not take writes is absent. */
	if ((rc = rd(d, PCI_PREF_BASE, 2, &pb)))
		return rc;
	if ((pb & 0xf) == 1) {
		d->flags |= DEV_PREF64;
	} else {
		if ((rc = wr(d, PCI_PREF_BASE, 2, 0xfff0)) ||
		    (rc = rd(d, PCI_PREF_BASE, 2, &v)) ||
		    (rc = wr(d, PCI_PREF_BASE, 2, pb)))
			return rc;
		if (!(v & 0xfff0))
			d->flags |= DEV_NO_PREF;
	}
	if (hs_busnr_next(ba, &sec, &last)) {
		if (ba->short_by == 1)
			hs_log(core->plat, HS_LOG_WARN,
			       "%pB: no bus number left for this "
			       "bridge", &d->bdf);
		hs_dev_isolate(d, "no bus number left below its parent");
		/* Routes nothing (subordinate, secondary, primary 0),
		 * decodes nothing, masters nothing (the caller). */
		for (uint16_t off = PCI_SUBORDINATE; off >= PCI_PRIMARY; off--)
			if ((rc = wr(d, off, 1, 0)))
				return rc;
		return 1;
	}
	/* The lowest free number; it is taken once the bridge holds it. */
	/* Try the bus numbers first with subordinate == secondary: a bridge
	 * that will not take its subordinate would capture cycles meant for
	 * others, so it is caught before anything is routed through it. */
	for (uint16_t off = PCI_PRIMARY; off <= PCI_SUBORDINATE; off++)
		if ((rc = wr(d, off, 1,
			     off == PCI_PRIMARY ? busno : sec)))
			return rc;
	if ((rc = rd(d, PCI_PRIMARY, 4, &v)))
		return rc;
	/* Primary and secondary must have taken; if not, the bridge is not
	 * listening and nothing behind it can be trusted. */
	if ((v & 0xff) != busno || ((v >> 8) & 0xff) != sec)
		return -HS_EIO;
	v = (v >> 16) & 0xff;
	if (v < sec)
		return -HS_EIO;
	if (v != sec) {
		hs_dev_isolate(d, "bridge claims buses %u-%u but was given "
			       "%u-%u", sec, v, sec, sec);
		/* Secondary 0 routes nothing (bus 0 is the root's); the
		 * caller turns decode off. */
		return (rc = wr(d, PCI_SECONDARY, 1, 0)) ? rc : 1;
	}
	if ((rc = set_subordinate(d, last)))
		return rc;
	hs_busnr_take(ba, sec, last);
	rc = hs_scan_bus(core, h, d, sec, ba);
	if (rc)
		return rc;
	sub = hs_busnr_close(core, d, ba, sec, last);
	if ((rc = set_subordinate(d, sub)))
		return rc;
	hs_busnr_set(d, sec, sub);
	return 0;
}

/* hdr: the Header Type register when the caller read it (function 0,
 * whose multi-function bit it needed), or -1. */
static int scan_fn(struct hs_core *core, const struct hs_host_bridge *h,
		   struct hs_dev *parent, hs_bdf_t bdf, uint32_t id, int hdr,
		   struct hs_busnr *ba)
{
	struct hs_dev *d;
	uint32_t v;
	unsigned q;
	int rc;

	d = hs_zalloc(core, sizeof(*d));
	if (!d)
		return -HS_ENOMEM;
	d->core = core;
	d->bdf = bdf;
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	d->slot_phys = -1;
	rc = hs_txn_dev_added(core, d);
	if (rc) {
		hs_free(core, d, sizeof(*d));
		return rc;
	}
	hs_dev_link(parent, &core->roots, d);
	/* The function answered its Vendor ID a moment ago: an all-ones
	 * field now means it stopped answering (or a cycle failed), not a
	 * value to act on. */
	if ((rc = rd_live(d, PCI_CLASS_REV, 4, &v)))
		return rc;
	d->class_code = v >> 8;
	if (hdr >= 0)
		v = (uint32_t)hdr; /* not all ones: the caller checked */
	else if ((rc = rd_live(d, PCI_HDR_TYPE, 1, &v)))
		return rc;
	d->hdr = v & 0x7f;
	d->bridge = d->hdr == 1;
	if (d->hdr == 0 && (rc = rd_live(d, PCI_SUBSYS, 4, &v)) == 0) {
		d->ssvid = (uint16_t)v;
		d->ssid = (uint16_t)(v >> 16);
	}
	if (rc)
		return rc;
	/* Interrupt Line and Pin in one read: the line is what
	 * hs_program_dev's undo entry needs (PCI 3.0 6.2.4). */
	if ((rc = rd(d, PCI_INT_LINE, 4, &v)))
		return rc;
	d->int_line_reg = (uint8_t)v;
	v = (v >> 8) & 0xff;
	if (v == 0xff)
		return -HS_EIO;
	d->irq_pin = v <= 4 ? (uint8_t)v : 0;
	q = quirk_flags_of(d->vendor, d->device);
	if (q & QUIRK_NO_REMOVE)
		d->flags |= DEV_NO_REMOVE;
	/* The first VGA device found at boot is the console: never removed. */
	if ((d->class_code >> 8) == 0x0300 && !core->boot_vga_seen &&
	    core->booting) {
		core->boot_vga_seen = true;
		d->flags |= DEV_BOOT_VGA | DEV_NO_REMOVE;
	}
	hs_txn_event(core, HS_EV_DEV_ADDED, d, NULL);
	if (d->hdr > 1) {
		hs_dev_isolate(d, "unsupported header type %u", d->hdr);
		goto disable;
	}
	/* Command and Status in one read: the Command value is what sizing
	 * starts from, Status says whether there is a capability list and
	 * whether the function has Immediate Readiness (PCI 3.0 6.2.2-3,
	 * PCIe Base 7.5.1.1.4). */
	if ((rc = rd(d, PCI_COMMAND, 4, &v)))
		return rc;
	if ((v & 0xffff) == 0xffff)
		return -HS_EIO; /* Command bits 15:11 are reserved */
	d->cmd_reg = (uint16_t)v;
	if (v & (1u << 16))
		d->flags |= DEV_IMM_READY;
	if ((rc = read_caps(d, (int)(v >> 16))))
		return rc;
	if (d->flags & DEV_ISOLATED)
		goto disable;
	if ((rc = size_bars(d)))
		return rc;
	if (d->flags & DEV_ISOLATED)
		goto disable;
	detect_hotplug(core, d);
	/* ARI Forwarding Enable (Device Control 2 bit 5) on a root or
	 * downstream port: software sets it, the core never does, so one
	 * read here serves every later scan of its bus (each hot-add).  A
	 * failed read (all ones) must not open up 31 devices. */
	if (d->cap_pcie && (d->pcie_type == 4 || d->pcie_type == 6) &&
	    rd(d, d->cap_pcie + 0x28, 2, &v) == 0 && v != 0xffff &&
	    (v & 0x20))
		d->flags |= DEV_ARI_FWD;
	if (d->cap_pcie && d->pcie_type == 4 &&
	    rd(d, d->cap_pcie + HS_PX_RTCAP, 2, &v) == 0 &&
	    v != 0xffff &&
	    (v & 1)) {
		/* CRS Software Visibility (PCIe Base 7.5.3.12/13): a card
		 * still initialising answers a Vendor ID read with 0001h
		 * instead of making the root complex retry, so readiness
		 * can be polled (PCIe Base 2.3.2). */
		if ((rc = rd(d, d->cap_pcie + HS_PX_RTCTL, 2, &v)))
			return rc;
		if (!(v & HS_RTCTL_CRSSVE) &&
		    (rc = hs_txn_cfg_write(core, bdf,
					   d->cap_pcie + HS_PX_RTCTL, 2,
					   v | HS_RTCTL_CRSSVE)))
			return rc;
	}
	/* 1: the bridge was isolated, and is disabled here. */
	rc = d->bridge ? scan_bridge(core, h, d, HS_BDF_BUS(bdf), ba) : 0;
	if (rc <= 0)
		return rc;
disable:
	/* An isolated function decodes nothing and masters nothing. */
	return wr(d, PCI_COMMAND, 2, 0);
}

void hs_scan_hint_id(struct hs_core *core, hs_bdf_t bdf, uint32_t id)
{
	core->id_hint = true;
	core->id_hint_bdf = bdf;
	core->id_hint_val = id;
}

void hs_scan_hint_clear(struct hs_core *core)
{
	core->id_hint = false;
}

int hs_scan_bus(struct hs_core *core, const struct hs_host_bridge *h,
		struct hs_dev *parent, unsigned busno, struct hs_busnr *ba)
{
	unsigned ndev = 32;
	uint32_t id, hdr;
	int rc;

	/* Below a PCIe root or downstream port the link reaches device 0
	 * only, unless ARI forwarding says otherwise (PCIe Base 7.3.1);
	 * the port's Device Control 2 was read when it was scanned. */
	if (parent && parent->cap_pcie &&
	    (parent->pcie_type == 4 || parent->pcie_type == 6) &&
	    !(parent->flags & DEV_ARI_FWD))
		ndev = 1;
	for (unsigned dev = 0; dev < ndev; dev++) {
		hs_bdf_t b0 = HS_BDF(h->segment, busno, dev, 0);
		unsigned nfn = 1;

		if (core->scan_top && parent == core->scan_top &&
		    core->scan_dev != HS_SLOT_ALL &&
		    dev != (unsigned)core->scan_dev)
			continue; /* another slot of a multi-slot bus */
		if (existing(core, parent, b0))
			continue; /* already running: never touched */
		for (unsigned fn = 0; fn < nfn; fn++) {
			hs_bdf_t b = b0 | fn;
			unsigned vid;

			if (!fn && core->id_hint && core->id_hint_bdf == b0) {
				/* read by the readiness poll */
				id = core->id_hint_val;
				core->id_hint = false;
			} else if ((rc = hs_rd(core, b, PCI_VENDOR, 4, &id))) {
				return rc;
			}
			/* Nobody there reads all ones; ask once more before
			 * believing it, so one lost completion does not lose
			 * a card. */
			if ((id & 0xffff) == 0xffff &&
			    (rc = hs_rd(core, b, PCI_VENDOR, 4, &id)))
				return rc;
			vid = id & 0xffff;
			/* 0001h: a card still initialising (CRS, function 0
			 * only); nfn is still 1 there. */
			if (vid == 0xffff || vid == 0 || (!fn && vid == 0x0001))
				continue;
			if (!fn) {
				if ((rc = hs_rd(core, b0, PCI_HDR_TYPE, 1, &hdr)))
					return rc;
				if (hdr == 0xff)
					return -HS_EIO; /* answered its ID, then
							   went silent */
				if (hdr & 0x80)
					nfn = 8;
			}
			rc = scan_fn(core, h, parent, b, id,
				     fn ? -1 : (int)hdr, ba);
			if (rc)
				return rc;
		}
	}
	/* A cPCI segment the quirk table does not know is still a hot-plug
	 * bus when a board on it carries the Hot Swap capability. */
	if (parent && !(parent->flags & DEV_HOTPLUG))
		for (struct hs_dev *d = parent->child; d; d = d->sibling)
			if (d->cap_hs) {
				parent->flags |= DEV_HOTPLUG;
				set_reservation(core, parent);
				break;
			}
	return 0;
}
