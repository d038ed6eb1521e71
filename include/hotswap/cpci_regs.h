/*
 * hotswap/cpci_regs.h - the CompactPCI registers both sides of the slot
 * seam speak: the cpcihp controller driver and the simulator's backplane
 * (platforms/sim/cpci.c).  Spec facts and one register layout, not
 * behaviour: each side still implements its half on its own, as with
 * hotswap/pcie_regs.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CPCI_REGS_H
#define HOTSWAP_CPCI_REGS_H

/* The Hot Swap capability on a board (PICMG 2.1, capability ID 06h):
 * its Control/Status register at capability + 2. */
#define HS_CPCI_CAP_ID       0x06
#define HS_CPCI_CSR          2
#define HS_CPCI_EIM          0x02    /* ENUM# interrupt masked */
#define HS_CPCI_LOO          0x08    /* blue LED on: safe to extract */
#define HS_CPCI_EXT          0x40    /* extraction requested, RW1C */
#define HS_CPCI_INS          0x80    /* board inserted, RW1C */

/*
 * The high-availability slot power block in the segment bridge's BAR0
 * (4 KiB, memory).  PICMG 2.1 leaves slot power control to the platform;
 * this is the layout hotswap defines for it (the simulator's model,
 * documented in platforms/sim/cpci.c), dwords:
 *   0x000 CAPS        4:0 slots, 12:8 device number of the first slot,
 *                     26:16 physical number of the first slot, 31 power
 *   0x004 IRQ_STATUS  bit n: slot n has PRSNT_CHG with PRSNT_IE
 *   0x010 + 4n        slot n's control and status
 */
#define HS_HA_CAPS           0x000
#define HS_HA_IRQ_STATUS     0x004
#define HS_HA_SLOT(n)        (0x010 + 4 * (n))
#define HS_HA_CAPS_POWER     (1u << 31)
#define HS_HA_NSLOTS(v)      ((v) & 0x1f)
#define HS_HA_FIRST_DEV(v)   (((v) >> 8) & 0x1f)
#define HS_HA_FIRST_PHYS(v)  (((v) >> 16) & 0x7ff)
#define HS_HA_PWR_EN         (1u << 0)   /* RW: backplane power on */
#define HS_HA_HEALTHY        (1u << 1)   /* RO: powered, HEALTHY# */
#define HS_HA_PRESENT        (1u << 2)   /* RO: BD_SEL# grounded */
#define HS_HA_PRSNT_CHG      (1u << 8)   /* RW1C: PRESENT changed */
#define HS_HA_PRSNT_IE       (1u << 16)  /* RW: interrupt on PRSNT_CHG */
#define HS_HA_SLOT_RW        (HS_HA_PWR_EN | HS_HA_PRSNT_IE)

#endif
