/*
 * irq.c - interrupts of the x86 image (irq.h).
 *
 * Owns: the IDT (256 gates onto isr.S's stubs), the local APIC (enable,
 * EOI, the one-shot timer that wakes hlt at the core's deadline), the
 * I/O APIC's redirection table (PCI INTx, COM1), the pool of MSI vectors,
 * the table of attached handlers and the latch between them.
 *
 * The rule of hotswap/platform.h: "interrupts only latch events that the
 * core's dispatcher applies later".  hsq_isr only sets a bit per vector
 * and acknowledges the interrupt; hsq_irq_run, called by the main loop,
 * calls the handlers the core attached.  The core is never entered from
 * interrupt context, so it needs no locking.
 *
 * Vectors (Intel SDM Vol. 3A, 6.2 and 10.8.3: priority class = vector /
 * 16; all equal here since the image never nests interrupts):
 *   0x00-0x1F  exceptions: reported, then the image halts
 *   0x20-0x2F  the 8259s, remapped and masked (only spurious ones come)
 *   0x30-0x47  I/O APIC inputs (GSI) 0-23
 *   0x50-0xDF  the MSI pool (144 vectors)
 *   0xEF       local APIC timer
 *   0xFF       local APIC spurious vector
 *
 * PCI INTx is level-triggered and shared: a level line stays asserted
 * until the dispatcher has cleared its cause, so the handler masks it at
 * the I/O APIC and hsq_irq_idle unmasks it once the dispatcher has run
 * (if it is still asserted it fires again at once).  MSI is an edge: one
 * write, one latch, nothing to mask (PCI Local Bus 3.0, 6.8).
 *
 * INTx routing (hsq_intx_route): on q35 the ICH9 maps the INTx pin p of
 * root-bus device d to PIRQ (d + p - 1) mod 4 + 4 (QEMU's default D*IR
 * routing, PIRQ E-H, which its ACPI _PRT also describes), and PIRQ n
 * arrives on I/O APIC input 16 + n.  On pc (PIIX3) device d pin p is on
 * PIRQ (d + p - 2) mod 4, and PIRQ n is steered to the ISA IRQ in PIIX3
 * register 60h + n (programmed by the firmware), which is the I/O APIC
 * input of the same number.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "irq.h"

#include "../bare/console.h"
#include "../bare/libc.h"
#include "platform.h"
#include "uart.h"
#include "x86.h"

#define LAPIC_BASE 0xFEE00000u
#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TICR 0x380       /* initial count */
#define LAPIC_TCCR 0x390       /* current count */
#define LAPIC_TDCR 0x3E0       /* divide configuration */
#define IOAPIC_BASE 0xFEC00000u

#define VEC_PIC 0x20
#define VEC_GSI 0x30
#define NGSI 24
#define VEC_MSI_FIRST 0x50
#define VEC_MSI_END 0xE0
#define VEC_TIMER 0xEF
#define VEC_SPURIOUS 0xFF
#define GSI_COM1 4

struct gate {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

struct handler {
	hs_irq_fn fn;
	void *arg;
	struct hs_irq irq;
};

extern const char hsq_isr_stubs[];
void hsq_isr(uint32_t vector);

static struct gate idt[256] __attribute__((aligned(8)));
static struct handler handlers[256];
static volatile uint32_t latched[8];
static volatile uint32_t level_masked;   /* GSIs masked by their handler */
static uint32_t level_gsi;               /* GSIs programmed level-triggered */
static uint32_t msi_used[8];
static unsigned ngsi;
static uint64_t lapic_hz;
static volatile struct hsq_irq_stats stats;

static uint32_t lapic_rd(uint32_t reg)
{
	return mmio_read(LAPIC_BASE + reg, 4);
}

static void lapic_wr(uint32_t reg, uint32_t v)
{
	mmio_write(LAPIC_BASE + reg, 4, v);
}

/* The I/O APIC is reached through an index and a window register: no
 * interrupt may come between the two, so callers outside hsq_isr hold
 * interrupts off (irq_save). */
static uint32_t ioapic_rd(uint32_t reg)
{
	mmio_write(IOAPIC_BASE, 4, reg);
	return mmio_read(IOAPIC_BASE + 0x10, 4);
}

static void ioapic_wr(uint32_t reg, uint32_t v)
{
	mmio_write(IOAPIC_BASE, 4, reg);
	mmio_write(IOAPIC_BASE + 0x10, 4, v);
}

static uint32_t irq_save(void)
{
	uint32_t fl;

	__asm__ volatile("pushfl; popl %0; cli" : "=r"(fl) : : "memory");
	return fl;
}

static void irq_restore(uint32_t fl)
{
	if (fl & 0x200)
		__asm__ volatile("sti" : : : "memory");
}

/* Redirection entry of one GSI (82093AA datasheet, 3.2.4): vector, fixed
 * delivery, physical destination APIC 0; bit 13 active low, bit 15
 * level, bit 16 mask. */
static void gsi_program(unsigned gsi, bool level, bool masked)
{
	uint32_t lo = VEC_GSI + gsi;
	uint32_t fl = irq_save();

	if (level)
		lo |= 1u << 13 | 1u << 15;
	if (masked)
		lo |= 1u << 16;
	ioapic_wr(0x11 + 2 * gsi, lapic_rd(LAPIC_ID) & 0xFF000000u);
	ioapic_wr(0x10 + 2 * gsi, lo);
	if (level)
		level_gsi |= 1u << gsi;
	else
		level_gsi &= ~(1u << gsi);
	irq_restore(fl);
}

static void gsi_mask(unsigned gsi, bool masked)
{
	uint32_t fl = irq_save();
	uint32_t lo = ioapic_rd(0x10 + 2 * gsi);

	ioapic_wr(0x10 + 2 * gsi, masked ? lo | 1u << 16 : lo & ~(1u << 16));
	irq_restore(fl);
}

/* ---- the handler: latch, acknowledge ------------------------------------- */

static const char *const exc_names[] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow",
	"bound range", "invalid opcode", "no FPU", "double fault",
	"coprocessor overrun", "invalid TSS", "segment not present",
	"stack fault", "general protection", "page fault", "reserved",
	"x87 error", "alignment check", "machine check", "SIMD error",
};

void hsq_isr(uint32_t vector)
{
	if (vector < 32) {
		hsq_out("fatal msg=\"cpu exception %u (%s)\"", (unsigned)vector,
			vector < 20 ? exc_names[vector] : "reserved");
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	if (vector == VEC_SPURIOUS || (vector >= VEC_PIC && vector < VEC_GSI)) {
		/* No EOI for a spurious interrupt (SDM 10.9); the 8259s are
		 * masked, so theirs are spurious too. */
		stats.spurious++;
		return;
	}
	if (vector >= VEC_GSI && vector < VEC_GSI + NGSI) {
		unsigned gsi = vector - VEC_GSI;

		if (level_gsi & 1u << gsi) {
			/* Masked until the dispatcher has served it. */
			uint32_t lo = ioapic_rd(0x10 + 2 * gsi);

			ioapic_wr(0x10 + 2 * gsi, lo | 1u << 16);
			level_masked |= 1u << gsi;
		}
		if (gsi == GSI_COM1)
			stats.serial++;
		else
			stats.line++;
	} else if (vector == VEC_TIMER) {
		stats.timer++;
	} else {
		stats.msi++;
	}
	latched[vector / 32] |= 1u << (vector % 32);
	lapic_wr(LAPIC_EOI, 0);
}

/* ---- attach, MSI, routing ------------------------------------------------- */

static int vector_of(const struct hs_irq *irq, unsigned *vec)
{
	switch (irq->kind) {
	case HS_IRQ_MSI:
		if (irq->number < VEC_MSI_FIRST || irq->number >= VEC_MSI_END ||
		    !(msi_used[irq->number / 32] & 1u << (irq->number % 32)))
			return -HS_EINVAL;
		*vec = irq->number;
		return 0;
	case HS_IRQ_INTX:
	case HS_IRQ_LINE:
		if (irq->number >= ngsi || irq->number == GSI_COM1 ||
		    irq->number < 1)
			return -HS_EINVAL;
		*vec = VEC_GSI + irq->number;
		return 0;
	}
	return -HS_EINVAL;
}

int hsq_irq_attach(const struct hs_irq *irq, hs_irq_fn fn, void *arg)
{
	unsigned vec;
	int rc = vector_of(irq, &vec);

	if (rc)
		return rc;
	if (handlers[vec].fn)
		return -HS_EBUSY; /* one handler a line; the core then polls */
	handlers[vec].irq = *irq;
	handlers[vec].arg = arg;
	handlers[vec].fn = fn;
	if (irq->kind != HS_IRQ_MSI)
		/* PCI INTx (PCI Local Bus 3.0, 2.2.6) and cPCI ENUM# are
		 * level-triggered, active low. */
		gsi_program(irq->number, true, false);
	return 0;
}

void hsq_irq_detach(const struct hs_irq *irq)
{
	unsigned vec;
	uint32_t fl;

	if (vector_of(irq, &vec))
		return;
	if (irq->kind != HS_IRQ_MSI)
		gsi_mask(irq->number, true);
	fl = irq_save();
	handlers[vec].fn = NULL;
	latched[vec / 32] &= ~(1u << (vec % 32));
	irq_restore(fl);
}

int hsq_msi_alloc(unsigned count, uint32_t *first)
{
	/* Multiple Message Enable asks for a power-of-two block aligned to
	 * its size (PCI Local Bus 3.0, 6.8.1.3). */
	if (!count || count > 32 || (count & (count - 1)))
		return -HS_EINVAL;
	for (unsigned v = VEC_MSI_FIRST; v + count <= VEC_MSI_END; v += count) {
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

void hsq_msi_free(uint32_t first, unsigned count)
{
	for (unsigned n = 0; n < count; n++)
		if (first + n >= VEC_MSI_FIRST && first + n < VEC_MSI_END)
			msi_used[(first + n) / 32] &= ~(1u << ((first + n) % 32));
}

int hsq_msi_message(uint32_t vector, struct hs_msi_msg *msg)
{
	if (vector < VEC_MSI_FIRST || vector >= VEC_MSI_END)
		return -HS_EINVAL;
	/* SDM Vol. 3A, 10.11.1-2: address FEEx_xxxx with the destination
	 * APIC ID in bits 19:12 (physical mode), data = vector, fixed
	 * delivery, edge. */
	msg->address = LAPIC_BASE | (lapic_rd(LAPIC_ID) >> 24) << 12;
	msg->data = vector;
	return 0;
}

int hsq_intx_route(hs_bdf_t root_dev, unsigned pin, uint32_t *line)
{
	const struct hsq_machine *m = hsq_machine();
	unsigned dev = HS_BDF_DEV(root_dev), pirq;
	uint32_t r;

	if (pin < 1 || pin > 4)
		return -HS_EINVAL;
	if (m->ecam_base) {
		*line = 16 + (dev + pin - 1) % 4 + 4;
		return 0;
	}
	pirq = (dev + pin - 2) % 4;
	if (hsq_cfg_read(HS_BDF(0, 0, 1, 0), 0x60 + pirq, 1, &r))
		return -HS_EIO;
	if (r & 0x80 || (r & 0x0F) < 3)
		return -HS_ENOENT; /* the firmware routed this PIRQ nowhere */
	*line = r & 0x0F;
	return 0;
}

/* ---- the dispatcher's side ------------------------------------------------- */

bool hsq_irq_run(void)
{
	bool any = false;

	for (unsigned w = 0; w < 8; w++) {
		uint32_t bits, fl;

		if (!latched[w])
			continue;
		fl = irq_save();
		bits = latched[w];
		latched[w] = 0;
		irq_restore(fl);
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

static bool any_latched(void)
{
	for (unsigned w = 0; w < 8; w++)
		if (latched[w])
			return true;
	return false;
}

void hsq_irq_idle(bool timed, hs_time_t deadline)
{
	uint32_t masked;

	__asm__ volatile("cli" : : : "memory");
	masked = level_masked;
	level_masked = 0;
	for (unsigned gsi = 0; masked; gsi++, masked >>= 1)
		if (masked & 1) {
			uint32_t lo = ioapic_rd(0x10 + 2 * gsi);

			ioapic_wr(0x10 + 2 * gsi, lo & ~(1u << 16));
		}
	if (any_latched() || hsq_uart_rx_ready()) {
		__asm__ volatile("sti" : : : "memory");
		return;
	}
	if (timed) {
		hs_time_t now = hsq_now();
		uint64_t count;

		if (deadline <= now) {
			__asm__ volatile("sti" : : : "memory");
			return;
		}
		/* At most ~4 s at a time: the count register is 32 bits and
		 * a later wake simply sleeps again. */
		if (deadline - now > HS_SEC(4))
			deadline = now + HS_SEC(4);
		count = ((uint64_t)(deadline - now) * (lapic_hz / 1000u)) /
				1000000u + 1;
		lapic_wr(LAPIC_TICR, (uint32_t)count);
	} else {
		lapic_wr(LAPIC_TICR, 0); /* stopped */
	}
	stats.wakeups++;
	/* sti takes effect after the next instruction: an interrupt that
	 * is already pending wakes the hlt rather than being lost. */
	__asm__ volatile("sti; hlt" : : : "memory");
}

void hsq_irq_stats(struct hsq_irq_stats *out)
{
	uint32_t fl = irq_save();

	out->msi = stats.msi;
	out->line = stats.line;
	out->timer = stats.timer;
	out->serial = stats.serial;
	out->spurious = stats.spurious;
	out->wakeups = stats.wakeups;
	irq_restore(fl);
}

uint64_t hsq_lapic_hz(void)
{
	return lapic_hz;
}

/* ---- start ----------------------------------------------------------------- */

static void pic_off(void)
{
	/* Remap both 8259s to 0x20-0x2F (their spurious IRQ 7/15 must not
	 * land on an exception vector) and mask every input (8259A data
	 * sheet: ICW1-ICW4, then OCW1). */
	outb(0x20, 0x11); outb(0xA0, 0x11);
	outb(0x21, VEC_PIC); outb(0xA1, VEC_PIC + 8);
	outb(0x21, 0x04); outb(0xA1, 0x02);
	outb(0x21, 0x01); outb(0xA1, 0x01);
	outb(0x21, 0xFF); outb(0xA1, 0xFF);
}

static void lapic_calibrate(void)
{
	hs_time_t t0, t1;
	uint32_t left;

	/* Divide by 16, one-shot, masked while measuring; 10 ms of the
	 * platform clock. */
	lapic_wr(LAPIC_TDCR, 0x3);
	lapic_wr(LAPIC_LVT_TIMER, 1u << 16 | VEC_TIMER);
	t0 = hsq_now();
	lapic_wr(LAPIC_TICR, 0xFFFFFFFFu);
	while ((t1 = hsq_now()) - t0 < HS_MSEC(10))
		;
	left = lapic_rd(LAPIC_TCCR);
	lapic_wr(LAPIC_TICR, 0);
	lapic_hz = (uint64_t)(0xFFFFFFFFu - left) * 1000000000ull /
		   (uint64_t)(t1 - t0);
	if (lapic_hz < 1000000u)
		lapic_hz = 1000000u;
	lapic_wr(LAPIC_LVT_TIMER, VEC_TIMER); /* one-shot, unmasked */
}

int hsq_irq_init(void)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr;
	uint32_t a, b, c, d;

	/* CPUID.1:EDX bit 9: the local APIC (SDM 10.4.2). */
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(1), "c"(0));
	if (!(d & 1u << 9))
		return -HS_ENODEV;
	for (unsigned v = 0; v < 256; v++) {
		uintptr_t off = (uintptr_t)hsq_isr_stubs + 16u * v;

		idt[v].off_lo = (uint16_t)off;
		idt[v].sel = 0x08;
		idt[v].zero = 0;
		idt[v].type = 0x8E;  /* present, DPL 0, 32-bit interrupt gate */
		idt[v].off_hi = (uint16_t)(off >> 16);
	}
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (uintptr_t)idt;
	__asm__ volatile("lidt %0" : : "m"(idtr));
	pic_off();
	lapic_wr(LAPIC_SVR, 0x100 | VEC_SPURIOUS); /* software enable */
	lapic_wr(LAPIC_TPR, 0);
	lapic_calibrate();
	ngsi = ((ioapic_rd(0x01) >> 16) & 0xFF) + 1;
	if (ngsi > NGSI)
		ngsi = NGSI;
	for (unsigned g = 0; g < ngsi; g++)
		gsi_program(g, false, true);
	/* COM1 is ISA IRQ 4, edge, active high, on I/O APIC input 4 (no
	 * interrupt source override for it on QEMU's machines). */
	gsi_program(GSI_COM1, false, false);
	hsq_uart_irq_on();
	__asm__ volatile("sti" : : : "memory");
	return 0;
}
