/*
 * platform.c - hs_platform for x86 QEMU machines, with no operating
 * system (platform.h).
 *
 * Configuration space: on q35 through ECAM (PCIe Base 7.2.2), whose base
 * and size are read from the MCH's PCIEXBAR register (Intel 3 Series /
 * Q35 MCH datasheet, D0:F0 offset 60h: bit 0 enable, bits 2:1 length
 * 256/128/64 MiB, base in bits 35:28..26); on the pc machine (i440FX),
 * which has no ECAM, through configuration mechanism #1 at 0xCF8/0xCFC
 * (PCI Local Bus 3.0, 3.2.2.3.2), which reaches only the first 256
 * bytes.
 *
 * Apertures (what the host bridge decodes; QEMU routes every address
 * that is not RAM or a chipset device to PCI): I/O 0x1000-0xFFFF (below
 * is legacy ISA and the ICH9's ACPI ports), 32-bit memory from the end
 * of ECAM (or 0xC0000000) to 0xFEBFFFFF (the I/O APIC, HPET and local
 * APIC live above), 64-bit prefetchable 32-64 GiB.  The image runs with
 * paging off, so the CPU itself reaches only the first 4 GiB; drivers
 * only touch non-prefetchable BARs, which live there.
 *
 * Clock: the HPET's main counter when there is one (clock_pick says
 * why), else the TSC, calibrated at start against 50 ms of PIT channel 2
 * (8254: 1.193182 MHz, gate and output through port 0x61).
 *
 * Interrupts: irq.c (MSI through the local APIC, INTx through the I/O
 * APIC); a handler only latches, the main loop runs what was latched.  A
 * controller whose interrupt cannot be attached is polled by the core.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "platform.h"

#include "hotswap/util.h"
#include "irq.h"
#include "../bare/console.h"
#include "../bare/libc.h"
#include "../bare/ops.h"
#include "../bare/pool.h"
#include "x86.h"

#define PIT_HZ 1193182u
#define CAL_TICKS 59659u           /* 50 ms of the PIT */

static struct hsq_machine mach;
static uint64_t tsc0;
static uint64_t ns_mult;           /* ns per clock tick, 32.32 fixed point */
static bool use_hpet;

/* ---- configuration space ----------------------------------------------- */

static uint32_t cf8_addr(hs_bdf_t bdf, uint16_t off)
{
	return 0x80000000u | ((uint32_t)HS_BDF_BUS(bdf) << 16) |
	       ((uint32_t)HS_BDF_DEV(bdf) << 11) |
	       ((uint32_t)HS_BDF_FN(bdf) << 8) | (off & 0xFCu);
}

static bool cfg_ok(hs_bdf_t bdf, uint16_t off, unsigned width)
{
	if (width != 1 && width != 2 && width != 4)
		return false;
	if (off & (width - 1) || off >= HS_CFG_SIZE)
		return false;
	return HS_BDF_SEG(bdf) == 0;
}

int hsq_cfg_read(hs_bdf_t bdf, uint16_t off, unsigned width, uint32_t *v)
{
	if (!cfg_ok(bdf, off, width))
		return -HS_EINVAL;
	if (mach.ecam_base) {
		if (HS_BDF_BUS(bdf) >= mach.ecam_buses) {
			*v = width == 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1;
			return 0;
		}
		*v = mmio_read((uintptr_t)mach.ecam_base +
			       ((uint32_t)HS_BDF_BUS(bdf) << 20) +
			       ((uint32_t)HS_BDF_DEVFN(bdf) << 12) + off, width);
		return 0;
	}
	if (off >= 256) {
		/* Mechanism #1 cannot reach extended space: nothing there. */
		*v = width == 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1;
		return 0;
	}
	outl(0xCF8, cf8_addr(bdf, off));
	switch (width) {
	case 1: *v = inb((uint16_t)(0xCFC + (off & 3))); break;
	case 2: *v = inw((uint16_t)(0xCFC + (off & 2))); break;
	default: *v = inl(0xCFC); break;
	}
	return 0;
}

int hsq_cfg_write(hs_bdf_t bdf, uint16_t off, unsigned width, uint32_t v)
{
	if (!cfg_ok(bdf, off, width))
		return -HS_EINVAL;
	if (mach.ecam_base) {
		if (HS_BDF_BUS(bdf) >= mach.ecam_buses)
			return 0;
		mmio_write((uintptr_t)mach.ecam_base +
			   ((uint32_t)HS_BDF_BUS(bdf) << 20) +
			   ((uint32_t)HS_BDF_DEVFN(bdf) << 12) + off, width, v);
		return 0;
	}
	if (off >= 256)
		return 0;
	outl(0xCF8, cf8_addr(bdf, off));
	switch (width) {
	case 1: outb((uint16_t)(0xCFC + (off & 3)), (uint8_t)v); break;
	case 2: outw((uint16_t)(0xCFC + (off & 2)), (uint16_t)v); break;
	default: outl(0xCFC, v); break;
	}
	return 0;
}

static int p_cfg_read(void *ctx, hs_bdf_t bdf, uint16_t off, unsigned width,
		      uint32_t *val)
{
	int rc = hsq_cfg_read(bdf, off, width, val);

	(void)ctx;
	if (rc == 0)
		hsq_console_cfg(bdf, off, width, *val); /* `dev found` */
	return rc;
}

static int p_cfg_write(void *ctx, hs_bdf_t bdf, uint16_t off, unsigned width,
		       uint32_t val)
{
	(void)ctx;
	return hsq_cfg_write(bdf, off, width, val);
}

static int p_host_bridge(void *ctx, unsigned index, struct hs_host_bridge *out)
{
	(void)ctx;
	if (index)
		return -HS_ENOENT;
	*out = mach.hb;
	return 0;
}

/* ---- memory and I/O space ------------------------------------------------ */

/* The CPU runs with paging off: it reaches physical addresses below
 * 4 GiB only. */
static bool reachable(uint64_t addr, unsigned width)
{
	return addr < 0x100000000ull && addr + width <= 0x100000000ull &&
	       !(addr & (width - 1));
}

static int p_mem_read(void *ctx, uint64_t addr, unsigned width, uint64_t *val)
{
	(void)ctx;
	if (width == 8) {
		uint64_t lo, hi;
		int rc = p_mem_read(ctx, addr, 4, &lo);

		if (!rc)
			rc = p_mem_read(ctx, addr + 4, 4, &hi);
		if (!rc)
			*val = lo | hi << 32;
		return rc;
	}
	if ((width != 1 && width != 2 && width != 4) || !reachable(addr, width))
		return -HS_ENOTSUP;
	*val = mmio_read((uintptr_t)addr, width);
	return 0;
}

static int p_mem_write(void *ctx, uint64_t addr, unsigned width, uint64_t val)
{
	(void)ctx;
	if (width == 8) {
		int rc = p_mem_write(ctx, addr, 4, val & 0xFFFFFFFFu);

		return rc ? rc : p_mem_write(ctx, addr + 4, 4, val >> 32);
	}
	if ((width != 1 && width != 2 && width != 4) || !reachable(addr, width))
		return -HS_ENOTSUP;
	mmio_write((uintptr_t)addr, width, (uint32_t)val);
	return 0;
}

static int p_io_read(void *ctx, uint32_t port, unsigned width, uint32_t *val)
{
	(void)ctx;
	if (port > 0xFFFFu || port + width > 0x10000u)
		return -HS_EINVAL;
	switch (width) {
	case 1: *val = inb((uint16_t)port); return 0;
	case 2: *val = inw((uint16_t)port); return 0;
	case 4: *val = inl((uint16_t)port); return 0;
	}
	return -HS_EINVAL;
}

static int p_io_write(void *ctx, uint32_t port, unsigned width, uint32_t val)
{
	(void)ctx;
	if (port > 0xFFFFu || port + width > 0x10000u)
		return -HS_EINVAL;
	switch (width) {
	case 1: outb((uint16_t)port, (uint8_t)val); return 0;
	case 2: outw((uint16_t)port, (uint16_t)val); return 0;
	case 4: outl((uint16_t)port, val); return 0;
	}
	return -HS_EINVAL;
}

/* No IOMMU: a device's bus address is the physical address, which is the
 * CPU address with paging off. */
static void *p_dma_alloc(void *ctx, size_t size, uint64_t *bus_addr)
{
	void *p = hsq_pool_realloc(NULL, 0, size < 4096 ? 4096 : size);

	(void)ctx;
	if (p) {
		memset(p, 0, size);
		*bus_addr = (uintptr_t)p;
	}
	return p;
}

static void p_dma_free(void *ctx, void *cpu, size_t size)
{
	(void)ctx;
	hsq_pool_realloc(cpu, size < 4096 ? 4096 : size, 0);
}

static int p_irq_attach(void *ctx, const struct hs_irq *irq, hs_irq_fn fn,
			void *arg)
{
	(void)ctx;
	return hsq_irq_attach(irq, fn, arg);
}

static void p_irq_detach(void *ctx, const struct hs_irq *irq)
{
	(void)ctx;
	hsq_irq_detach(irq);
}

static int p_msi_alloc(void *ctx, unsigned count, uint32_t *first)
{
	(void)ctx;
	return hsq_msi_alloc(count, first);
}

static void p_msi_free(void *ctx, uint32_t first, unsigned count)
{
	(void)ctx;
	hsq_msi_free(first, count);
}

static int p_msi_message(void *ctx, hs_bdf_t requester, uint32_t vector,
			 struct hs_msi_msg *msg)
{
	/* The local APIC takes a message by its address and data alone:
	 * who wrote it does not matter (SDM Vol. 3A, 10.11). */
	(void)ctx;
	(void)requester;
	return hsq_msi_message(vector, msg);
}

static int p_intx_route(void *ctx, hs_bdf_t root_dev, unsigned pin,
			uint32_t *line)
{
	(void)ctx;
	return hsq_intx_route(root_dev, pin, line);
}

/* ---- clock --------------------------------------------------------------- */

/* d * ns_mult >> 32 without a 128-bit product: ns_mult may exceed 2^32
 * (a TSC slower than 1 GHz). */
static hs_time_t tsc_to_ns(uint64_t d)
{
	uint64_t hi = d >> 32, lo = d & 0xFFFFFFFFu;
	uint64_t m_hi = ns_mult >> 32, m_lo = ns_mult & 0xFFFFFFFFu;

	return hi * ns_mult + lo * m_hi + ((lo * m_lo) >> 32);
}

/* The HPET's main counter (IA-PC HPET 1.0a, 2.3.4: 0F0h, 64 bits; read
 * high, low, high until the high half holds still). */
#define HPET_BASE 0xFED00000u

static uint64_t hpet_count(void)
{
	uint32_t hi, lo;

	do {
		hi = mmio_read(HPET_BASE + 0xF4, 4);
		lo = mmio_read(HPET_BASE + 0xF0, 4);
	} while (hi != mmio_read(HPET_BASE + 0xF4, 4));
	return (uint64_t)hi << 32 | lo;
}

static uint64_t clock_ticks(void)
{
	return use_hpet ? hpet_count() : rdtsc();
}

hs_time_t hsq_now(void)
{
	return tsc_to_ns(clock_ticks() - tsc0);
}

/* The clock is the HPET when there is one: QEMU (TCG) runs it, like the
 * PIT and the local APIC timer, on its virtual clock, while its TSC
 * follows the host's TSC, which falls behind real time across hlt
 * (measured: 4.46 s of TSC in 5.0 s, once the image idled).  Period in
 * femtoseconds at 04h of the capabilities (2.3.4), at most 100 ns. */
static void clock_pick(void)
{
	uint32_t period = mmio_read(HPET_BASE + 0x04, 4);
	uint32_t cfg;

	if (period == 0 || period == 0xFFFFFFFFu || period > 100000000u)
		return;
	cfg = mmio_read(HPET_BASE + 0x10, 4);
	mmio_write(HPET_BASE + 0x10, 4, cfg | 1u);  /* ENABLE_CNF */
	use_hpet = true;
	mach.clock = "hpet";
	mach.clock_hz = 1000000000000000ull / period;
	ns_mult = ((uint64_t)period << 32) / 1000000u;
}

static void calibrate(void)
{
	uint64_t t1, t2;
	uint8_t p61 = inb(0x61);
	bool ran;

	/* Channel 2, mode 0 (interrupt on terminal count), gate high,
	 * speaker off; OUT2 is read back at bit 5 of port 0x61. */
	outb(0x61, (uint8_t)((p61 & ~0x02) | 0x01));
	outb(0x43, 0xB0);
	outb(0x42, CAL_TICKS & 0xFF);
	outb(0x42, CAL_TICKS >> 8);
	t1 = rdtsc();
	/* Bounded: a machine whose OUT2 never shows at port 0x61 must not
	 * hang the boot (2^34 ticks is seconds at any real TSC rate). */
	while (!(inb(0x61) & 0x20) && rdtsc() - t1 < (1ull << 34))
		;
	t2 = rdtsc();
	ran = (inb(0x61) & 0x20) != 0;
	outb(0x61, p61);
	mach.tsc_hz = (t2 - t1) * PIT_HZ / CAL_TICKS;
	/* Implausible (no PIT, or it never ran): assume 1 GHz. */
	if (!ran || mach.tsc_hz < 10000000u)
		mach.tsc_hz = 1000000000u;
	ns_mult = (1000000000ull << 32) / mach.tsc_hz;
	mach.clock_hz = mach.tsc_hz;
	mach.clock = "tsc";
}

static const struct hs_platform_ops ops = {
	.host_bridge = p_host_bridge,
	.cfg_read = p_cfg_read,
	.cfg_write = p_cfg_write,
	.mem_read = p_mem_read,
	.mem_write = p_mem_write,
	.io_read = p_io_read,
	.io_write = p_io_write,
	.dma_alloc = p_dma_alloc,
	.dma_free = p_dma_free,
	.irq_attach = p_irq_attach,
	.irq_detach = p_irq_detach,
	.msi_alloc = p_msi_alloc,
	.msi_free = p_msi_free,
	.msi_message = p_msi_message,
	.intx_route = p_intx_route,
	.now = hsq_op_now,
	.timer_set = hsq_op_timer_set,
	.log = hsq_op_log,
	.realloc = hsq_op_realloc,
};

static const struct hs_platform plat = { &ops, &mach, "qemu-x86" };

const struct hs_platform *hsq_platform(void)
{
	return &plat;
}

const struct hsq_machine *hsq_machine(void)
{
	return &mach;
}

/* ---- start --------------------------------------------------------------- */

#define Q35_MCH_DID 0x29C0u    /* Intel 82G33/Q35 DRAM controller */
#define PCIEXBAR 0x60u

int hsq_platform_init(uint32_t ram_top)
{
	uint32_t id, lo, hi;
	uint64_t mem_base = 0xC0000000u;

	memset(&mach, 0, sizeof(mach));
	calibrate();
	clock_pick();
	tsc0 = clock_ticks();
	mach.ram_top = ram_top;

	/* Mechanism #1 reaches the host bridge on every machine. */
	hsq_cfg_read(HS_BDF(0, 0, 0, 0), 0, 4, &id);
	if ((id & 0xFFFF) == 0xFFFF)
		return -HS_ENODEV;
	mach.host_vendor = id & 0xFFFF;
	mach.host_device = (uint16_t)(id >> 16);
	mach.name = "pc";
	if (mach.host_vendor == 0x8086 && mach.host_device == Q35_MCH_DID) {
		mach.name = "q35";
		hsq_cfg_read(HS_BDF(0, 0, 0, 0), PCIEXBAR, 4, &lo);
		hsq_cfg_read(HS_BDF(0, 0, 0, 0), PCIEXBAR + 4, 4, &hi);
		if (lo & 1) {
			static const unsigned buses[4] = { 256, 128, 64, 0 };
			uint64_t mask = (lo >> 1 & 3) == 2 ? 0xFFC000000ull :
					(lo >> 1 & 3) == 1 ? 0xFF8000000ull :
							     0xFF0000000ull;

			mach.ecam_buses = buses[lo >> 1 & 3];
			if (mach.ecam_buses)
				mach.ecam_base = (((uint64_t)hi << 32) | lo) & mask;
			if (mach.ecam_base + ((uint64_t)mach.ecam_buses << 20) >
			    0x100000000ull) {
				mach.ecam_base = 0; /* out of reach: use #1 */
				mach.ecam_buses = 0;
			}
		}
	}
	if (mach.ecam_base &&
	    mach.ecam_base + ((uint64_t)mach.ecam_buses << 20) > mem_base)
		mem_base = mach.ecam_base + ((uint64_t)mach.ecam_buses << 20);
	if (ram_top > mem_base)
		mem_base = (ram_top + 0xFFFFFu) & ~0xFFFFFu;

	mach.hb.segment = 0;
	mach.hb.bus_first = 0;
	mach.hb.bus_last = mach.ecam_buses ? (uint8_t)(mach.ecam_buses - 1) : 255;
	mach.hb.io_base = 0x1000;
	mach.hb.io_limit = 0xFFFF;
	mach.hb.mem_base = mem_base;
	mach.hb.mem_limit = 0xFEBFFFFFu;
	mach.hb.pref_base = 0x800000000ull;
	mach.hb.pref_limit = 0xFFFFFFFFFull;
	return 0;
}
