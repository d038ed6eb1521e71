/*
 * hotswap/simcard_regs.h - the register file in BAR0 of the simulator's
 * cards: one definition for the simulated hardware (platforms/sim/card.c)
 * and the drivers that use it (drivers/simcard.c).  docs/simulator.md
 * describes what each register does.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SIMCARD_REGS_H
#define HOTSWAP_SIMCARD_REGS_H

#define SIMCARD_REG_ID          0x00 /* RO  card ID */
#define SIMCARD_REG_LIVENESS    0x04 /* RW  reads the inverse of the write */
#define SIMCARD_REG_DOORBELL    0x08 /* WO  submit request (value = tag) */
#define SIMCARD_REG_COMPLETED   0x0c /* RO  requests finished */
#define SIMCARD_REG_RING_LO     0x10 /* RW  completion ring address */
#define SIMCARD_REG_RING_HI     0x14
#define SIMCARD_REG_STATUS      0x18 /* BUSY RO, DMA_ERROR / OVERFLOW W1C */
#define SIMCARD_REG_IRQ_STATUS  0x1c /* W1C bit 0: a request completed */
#define SIMCARD_REG_IRQ_MASK    0x20 /* RW  bit 0: interrupt on completion */
#define SIMCARD_REG_OUTSTANDING 0x24 /* RO  accepted, not finished */
#define SIMCARD_REG_ABORT       0x28 /* WO  1 drops every request */
#define SIMCARD_REG_RING_SIZE   0x2c /* RW  entries, power of two <= 256 */
#define SIMCARD_REGS_SIZE       0x30

#define SIMCARD_ST_BUSY      1u
#define SIMCARD_ST_DMA_ERROR 2u
#define SIMCARD_ST_OVERFLOW  4u

#define SIMCARD_MAX_OUTSTANDING 64

#endif
