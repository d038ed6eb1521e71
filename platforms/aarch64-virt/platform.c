/*
 * platform.c - hs_platform for QEMU's aarch64 `virt` machine, with no
 * operating system (virt.h, board.h).
 *
 * Fixed addresses (arm.h: hw/arm/virt.c's memory map, the same in every
 * device tree QEMU generates for the machine) instead of a device-tree
 * parser: configuration space through the generic host's high ECAM
 * (PCIe Base 7.2.2, 256 buses at 0x40_1000_0000), 32-bit memory
 * 0x1000_0000-0x3EFE_FFFF, PCI I/O space 64 KiB seen by the CPU at
 * 0x3EFF_0000, 64-bit prefetchable memory 512-1024 GiB.  PCI bus
 * addresses equal CPU addresses for memory; the image hands out I/O from
 * 0x1000 as on x86.
 *
 * Clock: the generic timer's virtual count (CNTVCT_EL0 at CNTFRQ_EL0,
 * Arm ARM D11).  The one timer: gic.c programs CNTV_CVAL_EL0 at idle.
 *
 * The MMU is off, so the CPU reaches every physical address and a DMA
 * buffer's bus address is its address (no SMMU on the machine).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "../bare/console.h"
#include "../bare/libc.h"
#include "../bare/ops.h"
#include "../bare/pool.h"
#include "arm.h"
#include "virt.h"

static struct hsa_machine mach;
static uint64_t cnt0;

/* ---- configuration space ----------------------------------------------- */

static bool cfg_ok(hs_bdf_t bdf, uint16_t off, unsigned width)
{
	if (width != 1 && width != 2 && width != 4)
		return false;
	if (off & (width - 1) || off >= HS_CFG_SIZE)
		return false;
	return HS_BDF_SEG(bdf) == 0;
}

static uint64_t ecam(hs_bdf_t bdf, uint16_t off)
{
	return VIRT_PCIE_ECAM + ((uint64_t)HS_BDF_BUS(bdf) << 20) +
	       ((uint64_t)HS_BDF_DEVFN(bdf) << 12) + off;
}

int hsq_cfg_read(hs_bdf_t bdf, uint16_t off, unsigned width, uint32_t *v)
{
	if (!cfg_ok(bdf, off, width))
		return -HS_EINVAL;
	*v = mmio_read(ecam(bdf, off), width);
	return 0;
}

int hsq_cfg_write(hs_bdf_t bdf, uint16_t off, unsigned width, uint32_t v)
{
	if (!cfg_ok(bdf, off, width))
		return -HS_EINVAL;
	mmio_write(ecam(bdf, off), width, v);
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

/* What the PCIe host decodes: a driver reaches its BARs there and
 * nowhere else (RAM is the core's, through dma_alloc). */
static bool pci_mem(uint64_t addr, unsigned width)
{
	if (addr & (width - 1))
		return false;
	return (addr >= VIRT_PCIE_MMIO && addr + width - 1 <= VIRT_PCIE_MMIO_END) ||
	       (addr >= VIRT_PCIE_MMIO_HIGH &&
		addr + width - 1 <= VIRT_PCIE_MMIO_HIGH_END);
}

static int p_mem_read(void *ctx, uint64_t addr, unsigned width, uint64_t *val)
{
	(void)ctx;
	if (width != 1 && width != 2 && width != 4 && width != 8)
		return -HS_EINVAL;
	if (!pci_mem(addr, width))
		return -HS_ENOTSUP;
	*val = width == 8 ? *(volatile uint64_t *)addr : mmio_read(addr, width);
	return 0;
}

static int p_mem_write(void *ctx, uint64_t addr, unsigned width, uint64_t val)
{
	(void)ctx;
	if (width != 1 && width != 2 && width != 4 && width != 8)
		return -HS_EINVAL;
	if (!pci_mem(addr, width))
		return -HS_ENOTSUP;
	if (width == 8)
		*(volatile uint64_t *)addr = val;
	else
		mmio_write(addr, width, (uint32_t)val);
	return 0;
}

static int p_io_read(void *ctx, uint32_t port, unsigned width, uint32_t *val)
{
	(void)ctx;
	if ((width != 1 && width != 2 && width != 4) || port & (width - 1) ||
	    port > 0xFFFFu || port + width > 0x10000u)
		return -HS_EINVAL;
	*val = mmio_read(VIRT_PCIE_PIO + port, width);
	return 0;
}

static int p_io_write(void *ctx, uint32_t port, unsigned width, uint32_t val)
{
	(void)ctx;
	if ((width != 1 && width != 2 && width != 4) || port & (width - 1) ||
	    port > 0xFFFFu || port + width > 0x10000u)
		return -HS_EINVAL;
	mmio_write(VIRT_PCIE_PIO + port, width, val);
	return 0;
}

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
	return hsa_irq_attach(irq, fn, arg);
}

static void p_irq_detach(void *ctx, const struct hs_irq *irq)
{
	(void)ctx;
	hsa_irq_detach(irq);
}

static int p_msi_alloc(void *ctx, unsigned count, uint32_t *first)
{
	(void)ctx;
	return hsa_msi_alloc(count, first);
}

static void p_msi_free(void *ctx, uint32_t first, unsigned count)
{
	(void)ctx;
	hsa_msi_free(first, count);
}

static int p_msi_message(void *ctx, hs_bdf_t requester, uint32_t vector,
			 struct hs_msi_msg *msg)
{
	(void)ctx;
	return hsa_msi_message(requester, vector, msg);
}

static int p_intx_route(void *ctx, hs_bdf_t root_dev, unsigned pin,
			uint32_t *line)
{
	(void)ctx;
	return hsa_intx_route(root_dev, pin, line);
}

/* ---- clock --------------------------------------------------------------- */

hs_time_t hsq_now(void)
{
	uint64_t d;

	__asm__ volatile("isb" : : : "memory");
	d = sysreg_read(cntvct_el0) - cnt0;
	/* d / f s = (d / f) s + (d % f) / f s: no overflow for centuries. */
	return (d / mach.cnt_hz) * 1000000000u +
	       (d % mach.cnt_hz) * 1000000000u / mach.cnt_hz;
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

static const struct hs_platform plat = { &ops, &mach, "qemu-aarch64" };

const struct hs_platform *hsq_platform(void)
{
	return &plat;
}

struct hsa_machine *hsa_machine(void)
{
	return &mach;
}

/* ---- start --------------------------------------------------------------- */

int hsa_platform_init(void)
{
	uint32_t id;

	memset(&mach, 0, sizeof(mach));
	mach.cnt_hz = sysreg_read(cntfrq_el0);
	if (!mach.cnt_hz)
		mach.cnt_hz = 62500000u; /* QEMU's, if firmware left it 0 */
	cnt0 = sysreg_read(cntvct_el0);
	hsq_cfg_read(HS_BDF(0, 0, 0, 0), 0, 4, &id);
	if ((id & 0xFFFF) == 0xFFFF)
		return -HS_ENODEV;
	mach.host_vendor = id & 0xFFFF;
	mach.host_device = (uint16_t)(id >> 16);
	mach.hb.segment = 0;
	mach.hb.bus_first = 0;
	mach.hb.bus_last = 255;
	mach.hb.io_base = 0x1000;
	mach.hb.io_limit = 0xFFFF;
	mach.hb.mem_base = VIRT_PCIE_MMIO;
	mach.hb.mem_limit = VIRT_PCIE_MMIO_END;
	mach.hb.pref_base = VIRT_PCIE_MMIO_HIGH;
	mach.hb.pref_limit = VIRT_PCIE_MMIO_HIGH_END;
	return 0;
}
