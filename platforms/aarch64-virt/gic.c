/*
 * gic.c - interrupts of the aarch64 image: the GICv2 of QEMU's virt
 * machine (-machine virt,gic-version=2), its GICv2m MSI frame, and the
 * EL1 virtual timer that wakes wfi at the core's deadline.
 *
 * Owns: the distributor and CPU interface set-up (ARM IHI 0048B), the
 * table of attached handlers, the latch between them and the dispatcher,
 * the MSI pool (the SPIs the GICv2m frame's MSI_TYPER declares), INTx
 * routing of the generic PCIe host, and the idle wait.
 *
 * As on x86 (platforms/qemu-x86/irq.c), hsq_irq_entry only latches the
 * INTID and acknowledges it; the main loop calls the core's handlers
 * (hotswap/platform.h: interrupts only latch).  A level-triggered SPI
 * (PCI INTx, the PL011) is disabled in the handler and enabled again by
 * hsq_irq_idle, once the dispatcher has cleared its cause.
 *
 * Why GICv2m and not a GICv3 ITS: the ITS translates an MSI by the
 * requester's DeviceID as well as the data (GICv3 arch. spec 5.2), so
 * each device needs its own MAPD/MAPTI; the platform ops' msi_message
 * gives a vector, not the device.  A GICv2m frame turns the one address
 * and the data (the SPI number) into an interrupt with no per-device
 * table, which is what the ops table can describe (docs/qemu.md).
 *
 * INTx: the virt machine's generic PCIe host wires INTA..INTD of root-bus
 * device d, pin p to SPI 3 + (d + p - 1) mod 4 (the interrupt-map QEMU
 * writes in its device tree), level, active high.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "../bare/console.h"
#include "arm.h"
#include "virt.h"

#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_ISENABLER 0x100
#define GICD_ICENABLER 0x180
#define GICD_ICPENDR 0x280
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR 0x800
#define GICD_ICFGR 0xC00
#define GICC_CTLR 0x000
#define GICC_PMR 0x004
#define GICC_IAR 0x00C
#define GICC_EOIR 0x010
#define V2M_TYPER 0x008
#define V2M_SETSPI 0x040

#define NINTID 256
#define INTID_UART GIC_SPI(VIRT_SPI_UART)

struct handler {
	hs_irq_fn fn;
	void *arg;
	struct hs_irq irq;
};

void hsq_irq_entry(void);
void hsq_exception(uint64_t vec, uint64_t esr, uint64_t elr, uint64_t far);

static struct handler handlers[NINTID];
static volatile uint32_t latched[NINTID / 32];
static volatile uint32_t level_off[NINTID / 32]; /* disabled by handler */
static uint32_t level[NINTID / 32];
static uint32_t msi_used[NINTID / 32];
static struct hsa_machine *mach;
static volatile struct hsq_irq_stats stats;

static void gicd_bit(uint32_t reg, unsigned id)
{
	mmio_write(VIRT_GICD + reg + 4 * (id / 32), 4, 1u << (id % 32));
}

static void irq_off(void)
{
	__asm__ volatile("msr daifset, #2" : : : "memory");
}

static void irq_on(void)
{
	__asm__ volatile("msr daifclr, #2" : : : "memory");
}

/* Configure one interrupt: level or edge (GICD_ICFGR: 2 bits a line,
 * bit 1 = edge), priority, CPU 0, enabled. */
static void line_setup(unsigned id, bool is_level)
{
	uint32_t r, sh = 2 * (id % 16);

	irq_off();
	if (id >= 32) {
		r = mmio_read(VIRT_GICD + GICD_ICFGR + 4 * (id / 16), 4);
		r = is_level ? r & ~(2u << sh) : r | (2u << sh);
		mmio_write(VIRT_GICD + GICD_ICFGR + 4 * (id / 16), 4, r);
		mmio_write(VIRT_GICD + GICD_ITARGETSR + id, 1, 0x01);
	}
	mmio_write(VIRT_GICD + GICD_IPRIORITYR + id, 1, 0xA0);
	if (is_level)
		level[id / 32] |= 1u << (id % 32);
	else
		level[id / 32] &= ~(1u << (id % 32));
	gicd_bit(GICD_ISENABLER, id);
	irq_on();
}

/* ---- the handler: latch, acknowledge ------------------------------------- */

void hsq_exception(uint64_t vec, uint64_t esr, uint64_t elr, uint64_t far)
{
	hsq_out("fatal msg=\"cpu exception: vector %u esr=0x%llx elr=0x%llx "
		"far=0x%llx\"", (unsigned)vec, (unsigned long long)esr,
		(unsigned long long)elr, (unsigned long long)far);
	hsq_halt();
}

void hsq_irq_entry(void)
{
	for (;;) {
		uint32_t iar = mmio_read(VIRT_GICC + GICC_IAR, 4);
		unsigned id = iar & 0x3FF;

		if (id >= 1020) {       /* 1023: spurious, nothing pending */
			if (id == 1023)
				return;
			stats.spurious++;
			return;
		}
		if (id == GIC_PPI_VTIMER) {
			/* The timer's output is a level until disabled: it
			 * is rearmed by the next idle. */
			sysreg_write(cntv_ctl_el0, 0);
			stats.timer++;
		} else if (id < NINTID && level[id / 32] & 1u << (id % 32)) {
			gicd_bit(GICD_ICENABLER, id);
			level_off[id / 32] |= 1u << (id % 32);
			if (id == INTID_UART)
				stats.serial++;
			else
				stats.line++;
		} else {
			stats.msi++;
		}
		if (id < NINTID)
			latched[id / 32] |= 1u << (id % 32);
		mmio_write(VIRT_GICC + GICC_EOIR, 4, iar);
	}
}

/* ---- attach, MSI, routing ------------------------------------------------- */

static bool msi_id(uint32_t id)
{
	return id >= mach->msi_first && id < mach->msi_first + mach->msi_count;
}

static int check(const struct hs_irq *irq)
{
	switch (irq->kind) {
	case HS_IRQ_MSI:
		if (!msi_id(irq->number) ||
		    !(msi_used[irq->number / 32] & 1u << (irq->number % 32)))
			return -HS_EINVAL;
		return 0;
	case HS_IRQ_INTX:
	case HS_IRQ_LINE:
		if (irq->number < 32 || irq->number >= mach->gic_lines ||
		    irq->number >= NINTID || irq->number == INTID_UART ||
		    msi_id(irq->number))
			return -HS_EINVAL;
		return 0;
	}
	return -HS_EINVAL;
}

int hsa_irq_attach(const struct hs_irq *irq, hs_irq_fn fn, void *arg)
{
	int rc = check(irq);

	if (rc)
		return rc;
	if (handlers[irq->number].fn)
		return -HS_EBUSY; /* one handler a line; the core then polls */
	handlers[irq->number].irq = *irq;
	handlers[irq->number].arg = arg;
	handlers[irq->number].fn = fn;
	/* GICv2m SPIs are edges (one write, one interrupt); lines are
	 * levels. */
	line_setup(irq->number, irq->kind != HS_IRQ_MSI);
	return 0;
}

void hsa_irq_detach(const struct hs_irq *irq)
{
	if (check(irq))
		return;
	irq_off();
	gicd_bit(GICD_ICENABLER, irq->number);
	handlers[irq->number].fn = NULL;
	latched[irq->number / 32] &= ~(1u << (irq->number % 32));
	level_off[irq->number / 32] &= ~(1u << (irq->number % 32));
	irq_on();
}

int hsa_msi_alloc(unsigned count, uint32_t *first)
{
	/* A power-of-two block aligned to its size (PCI Local Bus 3.0,
	 * 6.8.1.3): the device puts the message number in the low bits of
	 * the data. */
	if (!count || count > 32 || (count & (count - 1)))
		return -HS_EINVAL;
	for (unsigned v = mach->msi_first;
	     v + count <= mach->msi_first + mach->msi_count; v++) {
		unsigned n;

		if (v % count)
			continue;
		for (n = 0; n < count; n++)
			if (msi_used[(v + n) / 32] & 1u << ((v + n) % 32))
				break;
		if (n < count)
			continue;
		for (n = 0; n < count; n++)
			msi_used[(v + n) / 32] |= 1u << ((v + n) % 32);
		*first = v;
		return 0;
	}
	return -HS_ENOSPC;
}

void hsa_msi_free(uint32_t first, unsigned count)
{
	for (unsigned n = 0; n < count; n++)
		if (msi_id(first + n))
			msi_used[(first + n) / 32] &= ~(1u << ((first + n) % 32));
}

int hsa_msi_message(hs_bdf_t requester, uint32_t vector,
		    struct hs_msi_msg *msg)
{
	(void)requester;
	if (!msi_id(vector))
		return -HS_EINVAL;
	/* GICv2m: a write of the SPI's INTID to MSI_SETSPI_NS. */
	msg->address = VIRT_GICV2M + V2M_SETSPI;
	msg->data = vector;
	return 0;
}

int hsa_intx_route(hs_bdf_t root_dev, unsigned pin, uint32_t *line)
{
	if (pin < 1 || pin > 4)
		return -HS_EINVAL;
	*line = GIC_SPI(VIRT_SPI_PCIE + (HS_BDF_DEV(root_dev) + pin - 1) % 4);
	return 0;
}

/* ---- the dispatcher's side ------------------------------------------------- */

bool hsq_irq_run(void)
{
	bool any = false;

	for (unsigned w = 0; w < NINTID / 32; w++) {
		uint32_t bits;

		if (!latched[w])
			continue;
		irq_off();
		bits = latched[w];
		latched[w] = 0;
		irq_on();
		while (bits) {
			unsigned b = (unsigned)__builtin_ctz(bits);
			struct handler *h = &handlers[w * 32 + b];

			bits &= bits - 1;
			any = true;
			if (h->fn)
				h->fn(h->arg, &h->irq);
		}
	}
	return any;
}

void hsq_irq_idle(bool timed, hs_time_t deadline)
{
	bool pending = false;

	irq_off();
	for (unsigned w = 0; w < NINTID / 32; w++) {
		uint32_t off = level_off[w];

		level_off[w] = 0;
		if (off)
			mmio_write(VIRT_GICD + GICD_ISENABLER + 4 * w, 4, off);
		pending |= latched[w] != 0;
	}
	if (pending || hsq_uart_rx_ready()) {
		irq_on();
		return;
	}
	if (timed) {
		hs_time_t now = hsq_now();

		if (deadline <= now) {
			irq_on();
			return;
		}
		/* Compare value in counter ticks, rounded up. */
		sysreg_write(cntv_cval_el0, sysreg_read(cntvct_el0) +
			     ((deadline - now) * mach->cnt_hz + 999999999u) /
				     1000000000u);
		sysreg_write(cntv_ctl_el0, 1);   /* enabled, not masked */
	} else {
		sysreg_write(cntv_ctl_el0, 0);
	}
	stats.wakeups++;
	/* wfi wakes on a pending interrupt even while PSTATE.I masks it
	 * (Arm ARM D1.16.2); it is taken once unmasked, so nothing that
	 * arrived after the checks above is lost. */
	__asm__ volatile("dsb sy; wfi" : : : "memory");
	irq_on();
}

void hsq_irq_stats(struct hsq_irq_stats *out)
{
	irq_off();
	out->msi = stats.msi;
	out->line = stats.line;
	out->timer = stats.timer;
	out->serial = stats.serial;
	out->spurious = stats.spurious;
	out->wakeups = stats.wakeups;
	irq_on();
}

/* ---- start ----------------------------------------------------------------- */

int hsa_irq_init(struct hsa_machine *m)
{
	uint32_t typer;

	mach = m;
	m->gic_lines = 32 * ((mmio_read(VIRT_GICD + GICD_TYPER, 4) & 0x1F) + 1);
	if (m->gic_lines > NINTID)
		m->gic_lines = NINTID;
	/* MSI_TYPER (GICv2m): first SPI in bits 25:16, count in 9:0. */
	typer = mmio_read(VIRT_GICV2M + V2M_TYPER, 4);
	m->msi_first = (typer >> 16) & 0x3FF;
	m->msi_count = typer & 0x3FF;
	if (m->msi_first < 32 || m->msi_first + m->msi_count > m->gic_lines)
		m->msi_count = 0;    /* no usable frame: lines only */
	mmio_write(VIRT_GICD + GICD_CTLR, 4, 0);
	for (unsigned w = 1; w < m->gic_lines / 32; w++) {
		mmio_write(VIRT_GICD + GICD_ICENABLER + 4 * w, 4, 0xFFFFFFFFu);
		mmio_write(VIRT_GICD + GICD_ICPENDR + 4 * w, 4, 0xFFFFFFFFu);
	}
	mmio_write(VIRT_GICD + GICD_CTLR, 4, 1);
	mmio_write(VIRT_GICC + GICC_PMR, 4, 0xF0);
	mmio_write(VIRT_GICC + GICC_CTLR, 4, 1);
	sysreg_write(cntv_ctl_el0, 0);
	line_setup(GIC_PPI_VTIMER, true);
	line_setup(INTID_UART, true);
	hsa_uart_irq_on();
	irq_on();
	return 0;
}
