/*
 * gic.c - interrupts of the aarch64 image: the GICv3 of QEMU's virt
 * machine (-machine virt,gic-version=3,its=on): distributor, CPU 0's
 * redistributor, the CPU interface through its system registers (ICC_*,
 * GICv3/GICv4 architecture specification ARM IHI 0069), and the EL1
 * virtual timer that wakes wfi at the core's deadline.  MSIs are LPIs
 * translated by the ITS (its.c).
 *
 * Owns: the distributor, redistributor and CPU interface set-up, the
 * table of attached handlers (SPIs, PPIs and LPIs), the latch between
 * them and the dispatcher, INTx routing of the generic PCIe host, and
 * the idle wait.
 *
 * As on x86 (platforms/qemu-x86/irq.c), hsq_irq_entry only latches the
 * INTID and acknowledges it; the main loop calls the core's handlers
 * (hotswap/platform.h: interrupts only latch).  A level-triggered SPI
 * (PCI INTx, the PL011) is disabled in the handler and enabled again by
 * hsq_irq_idle, once the dispatcher has cleared its cause.  LPIs are
 * edges with no active state (IHI 0069, 5.1): nothing to disable.
 *
 * Why GICv3 with an ITS and not the GICv2m frame the image used first:
 * the ITS is the MSI controller of GICv3 systems (Arm's server base
 * system architecture asks for it), and it isolates devices: an MSI is
 * translated by the requester's DeviceID as well as its EventID (5.2),
 * so a function can raise only the LPIs mapped for it.  The platform
 * op msi_message is given the requester for that (hotswap/platform.h).
 *
 * The machine runs with one security state (GICD_CTLR.DS = 1 on virt
 * without secure=on): every interrupt is made Group 1, signalled as IRQ
 * to EL1 and acknowledged through ICC_IAR1_EL1.
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
#define GICD_IGROUPR 0x080
#define GICD_ISENABLER 0x100
#define GICD_ICENABLER 0x180
#define GICD_ICPENDR 0x280
#define GICD_IPRIORITYR 0x400
#define GICD_ICFGR 0xC00
#define GICD_IROUTER 0x6000
#define GICD_PIDR2 0xFFE8
#define GICD_PIDR2_V2 0xFE8
#define GICR_WAKER 0x0014
#define GICR_IGROUPR0 0x0080      /* SGI_base frame */
#define GICR_ISENABLER0 0x0100
#define GICR_ICENABLER0 0x0180
#define GICR_ICPENDR0 0x0280
#define GICR_IPRIORITYR 0x0400

/* CPU interface system registers (IHI 0069, 12.2) by encoding, which
 * every assembler takes. */
#define ICC_PMR_EL1 S3_0_C4_C6_0
#define ICC_IAR1_EL1 S3_0_C12_C12_0
#define ICC_EOIR1_EL1 S3_0_C12_C12_1
#define ICC_CTLR_EL1 S3_0_C12_C12_4
#define ICC_SRE_EL1 S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7

#define NSPI 256                  /* INTIDs 0..255: SGIs, PPIs, SPIs */
#define NSLOT (NSPI + HSA_LPI_COUNT) /* then the pool's LPIs */
#define INTID_UART GIC_SPI(VIRT_SPI_UART)

struct handler {
	hs_irq_fn fn;
	void *arg;
	struct hs_irq irq;
};

void hsq_irq_entry(void);
void hsq_exception(uint64_t vec, uint64_t esr, uint64_t elr, uint64_t far);

static struct handler handlers[NSLOT];
static volatile uint32_t latched[NSLOT / 32];
static volatile uint32_t level_off[NSPI / 32]; /* disabled by handler */
static uint32_t level[NSPI / 32];
static struct hsa_machine *mach;
static volatile struct hsq_irq_stats stats;

/* Where an INTID's handler and latch bit are: SPIs and PPIs by number,
 * the pool's LPIs after them; -1 for anything else. */
static int slot_of(uint32_t id)
{
	if (id < NSPI)
		return (int)id;
	if (id >= HSA_LPI_BASE && id < HSA_LPI_BASE + HSA_LPI_COUNT)
		return (int)(NSPI + id - HSA_LPI_BASE);
	return -1;
}

/* Set-enable / clear-enable of an SGI/PPI (the redistributor's) or an
 * SPI (the distributor's). */
static void enable(unsigned id, bool on)
{
	if (id < 32)
		mmio_write(VIRT_GICR_SGI + (on ? GICR_ISENABLER0
					     : GICR_ICENABLER0), 4, 1u << id);
	else
		mmio_write(VIRT_GICD + (on ? GICD_ISENABLER : GICD_ICENABLER) +
			   4 * (id / 32), 4, 1u << (id % 32));
}

static void irq_off(void)
{
	__asm__ volatile("msr daifset, #2" : : : "memory");
}

static void irq_on(void)
{
	__asm__ volatile("msr daifclr, #2" : : : "memory");
}

/* Configure one SPI or PPI: level or edge (GICD_ICFGR: 2 bits a line,
 * bit 1 = edge), Group 1, priority, routed to CPU 0 (affinity 0.0.0.0),
 * enabled. */
static void line_setup(unsigned id, bool is_level)
{
	uint32_t r, sh = 2 * (id % 16);

	irq_off();
	if (id >= 32) {
		r = mmio_read(VIRT_GICD + GICD_ICFGR + 4 * (id / 16), 4);
		r = is_level ? r & ~(2u << sh) : r | (2u << sh);
		mmio_write(VIRT_GICD + GICD_ICFGR + 4 * (id / 16), 4, r);
		*(volatile uint64_t *)(VIRT_GICD + GICD_IROUTER + 8 * id) = 0;
		mmio_write(VIRT_GICD + GICD_IPRIORITYR + id, 1, 0xA0);
	} else {
		mmio_write(VIRT_GICR_SGI + GICR_IPRIORITYR + id, 1, 0xA0);
	}
	if (is_level)
		level[id / 32] |= 1u << (id % 32);
	else
		level[id / 32] &= ~(1u << (id % 32));
	enable(id, true);
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
		uint32_t id = (uint32_t)sysreg_read(ICC_IAR1_EL1) & 0xFFFFFF;
		int s;

		if (id >= 1020 && id <= 1023) { /* 1023: nothing pending */
			if (id != 1023)
				stats.spurious++;
			return;
		}
		s = slot_of(id);
		if (id == GIC_PPI_VTIMER) {
			/* The timer's output is a level until disabled: it
			 * is rearmed by the next idle. */
			sysreg_write(cntv_ctl_el0, 0);
			stats.timer++;
		} else if (id < NSPI && level[id / 32] & 1u << (id % 32)) {
			enable(id, false);
			level_off[id / 32] |= 1u << (id % 32);
			if (id == INTID_UART)
				stats.serial++;
			else
				stats.line++;
		} else if (id >= HSA_LPI_BASE) {
			stats.msi++;          /* an LPI: an MSI through the ITS */
		} else {
			stats.spurious++;
		}
		if (s >= 0)
			latched[s / 32] |= 1u << (s % 32);
		sysreg_write(ICC_EOIR1_EL1, id);
	}
}

/* ---- attach, routing ------------------------------------------------------- */

static int check(const struct hs_irq *irq)
{
	switch (irq->kind) {
	case HS_IRQ_MSI:
		return hsa_msi_allocated(irq->number) ? 0 : -HS_EINVAL;
	case HS_IRQ_INTX:
	case HS_IRQ_LINE:
		if (irq->number < 32 || irq->number >= mach->gic_lines ||
		    irq->number >= NSPI || irq->number == INTID_UART)
			return -HS_EINVAL;
		return 0;
	}
	return -HS_EINVAL;
}

int hsa_irq_attach(const struct hs_irq *irq, hs_irq_fn fn, void *arg)
{
	int rc = check(irq), s;

	if (rc)
		return rc;
	s = slot_of(irq->number);
	if (handlers[s].fn)
		return -HS_EBUSY; /* one handler a line; the core then polls */
	irq_off();
	handlers[s].irq = *irq;
	handlers[s].arg = arg;
	handlers[s].fn = fn;
	irq_on();
	/* LPIs are enabled in its.c's table once; lines are levels. */
	if (irq->kind != HS_IRQ_MSI)
		line_setup(irq->number, true);
	return 0;
}

void hsa_irq_detach(const struct hs_irq *irq)
{
	int s;

	if (check(irq))
		return;
	s = slot_of(irq->number);
	irq_off();
	if (irq->kind != HS_IRQ_MSI) {
		enable(irq->number, false);
		level_off[s / 32] &= ~(1u << (s % 32));
	}
	handlers[s].fn = NULL;
	latched[s / 32] &= ~(1u << (s % 32));
	irq_on();
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

	for (unsigned w = 0; w < NSLOT / 32; w++) {
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
	for (unsigned w = 0; w < NSPI / 32; w++) {
		uint32_t off = level_off[w];

		level_off[w] = 0;
		if (off)
			mmio_write(VIRT_GICD + GICD_ISENABLER + 4 * w, 4, off);
	}
	for (unsigned w = 0; w < NSLOT / 32; w++)
		pending |= latched[w] != 0;
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

static int wait_clear(uint64_t reg, uint32_t bit)
{
	for (unsigned long n = 0; n < 1000000ul; n++)
		if (!(mmio_read(reg, 4) & bit))
			return 0;
	return -HS_EIO;
}

int hsa_irq_init(struct hsa_machine *m)
{
	int rc;

	mach = m;
	m->msi_first = HSA_LPI_BASE;
	m->msi_count = 0;
	/* ArchRev (bits 7:4 of the PIDR2 ID register): a GICv2 has it at
	 * 0xFE8 of its 4 KiB distributor (IHI 0048B, 4.3.13; reading 0xFFE8
	 * there would fault); a GICv3 reads 0 there (reserved, RAZ) and has
	 * GICD_PIDR2 at 0xFFE8, ArchRev 3 (4 for a GICv4). */
	if ((mmio_read(VIRT_GICD + GICD_PIDR2_V2, 4) >> 4 & 0xF) == 2 ||
	    (mmio_read(VIRT_GICD + GICD_PIDR2, 4) >> 4 & 0xF) < 3)
		return -HS_ENODEV;
	m->gic_lines = 32 * ((mmio_read(VIRT_GICD + GICD_TYPER, 4) & 0x1F) + 1);
	if (m->gic_lines > NSPI)
		m->gic_lines = NSPI;

	/* Distributor: off, every SPI disabled, not pending, Group 1; then
	 * affinity routing (ARE) with Group 1 on.  GICD_CTLR.RWP says when
	 * a write has taken effect. */
	mmio_write(VIRT_GICD + GICD_CTLR, 4, 0);
	if ((rc = wait_clear(VIRT_GICD + GICD_CTLR, 1u << 31)))
		return rc;
	for (unsigned w = 1; w < m->gic_lines / 32; w++) {
		mmio_write(VIRT_GICD + GICD_ICENABLER + 4 * w, 4, 0xFFFFFFFFu);
		mmio_write(VIRT_GICD + GICD_ICPENDR + 4 * w, 4, 0xFFFFFFFFu);
		mmio_write(VIRT_GICD + GICD_IGROUPR + 4 * w, 4, 0xFFFFFFFFu);
	}
	mmio_write(VIRT_GICD + GICD_CTLR, 4, 1u << 4 | 1u << 1);
	if ((rc = wait_clear(VIRT_GICD + GICD_CTLR, 1u << 31)))
		return rc;

	/* Redistributor: awake (GICR_WAKER.ProcessorSleep off, then wait
	 * for ChildrenAsleep to clear), SGIs and PPIs Group 1, disabled. */
	mmio_write(VIRT_GICR + GICR_WAKER, 4,
		   mmio_read(VIRT_GICR + GICR_WAKER, 4) & ~2u);
	if ((rc = wait_clear(VIRT_GICR + GICR_WAKER, 4)))
		return rc;
	mmio_write(VIRT_GICR_SGI + GICR_ICENABLER0, 4, 0xFFFFFFFFu);
	mmio_write(VIRT_GICR_SGI + GICR_ICPENDR0, 4, 0xFFFFFFFFu);
	mmio_write(VIRT_GICR_SGI + GICR_IGROUPR0, 4, 0xFFFFFFFFu);

	/* CPU interface: system registers on, priority mask, Group 1. */
	sysreg_write(ICC_SRE_EL1, sysreg_read(ICC_SRE_EL1) | 1);
	__asm__ volatile("isb" : : : "memory");
	sysreg_write(ICC_PMR_EL1, 0xF0);
	sysreg_write(ICC_CTLR_EL1, 0);      /* EOImode 0: EOI deactivates */
	sysreg_write(ICC_IGRPEN1_EL1, 1);
	__asm__ volatile("isb" : : : "memory");

	/* MSIs: without an ITS the core falls back to INTx and polling. */
	if ((rc = hsa_its_init(m)))
		hsq_out("log level=warn msg=\"gic: no usable ITS (%d): no "
			"MSI, INTx only\"", rc);

	sysreg_write(cntv_ctl_el0, 0);
	line_setup(GIC_PPI_VTIMER, true);
	line_setup(INTID_UART, true);
	hsa_uart_irq_on();
	irq_on();
	return 0;
}
