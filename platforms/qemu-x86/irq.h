/*
 * irq.h - interrupts of the x86 image: the IDT, the local APIC (its
 * one-shot timer wakes the idle loop), the I/O APIC (INTx and the serial
 * line), the MSI vector pool, and the latch between interrupt handlers
 * and the one dispatcher (the main loop).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HSQ_IRQ_H
#define HSQ_IRQ_H

#include "../bare/board.h"

/* Load the IDT, turn the 8259s off, enable the local APIC (calibrating
 * its timer against the platform clock), mask every I/O APIC input and
 * route COM1's receive interrupt.  Interrupts are on afterwards.
 * Returns 0 or -HS_ENODEV when there is no local APIC. */
int hsq_irq_init(void);

/* hs_platform_ops: attach a handler to an MSI vector or a platform line
 * (I/O APIC input, GSI).  A line takes one handler (-HS_EBUSY). */
int hsq_irq_attach(const struct hs_irq *irq, hs_irq_fn fn, void *arg);
void hsq_irq_detach(const struct hs_irq *irq);
int hsq_msi_alloc(unsigned count, uint32_t *first);
void hsq_msi_free(uint32_t first, unsigned count);
int hsq_msi_message(uint32_t vector, struct hs_msi_msg *msg);
/* The GSI a root-bus device's INTx pin (1..4) arrives on. */
int hsq_intx_route(hs_bdf_t root_dev, unsigned pin, uint32_t *line);

/* The local APIC timer's rate (Hz), for the start-up line. */
uint64_t hsq_lapic_hz(void);

#endif
