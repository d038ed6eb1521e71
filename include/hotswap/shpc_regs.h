/*
 * hotswap/shpc_regs.h - the Standard Hot-Plug Controller's registers
 * (SHPC 1.0) that both sides of the slot seam speak: the shpchp
 * controller driver and the simulator's SHPC bridge (platforms/sim/
 * shpc.c).  Spec facts, not behaviour, as with hotswap/pcie_regs.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SHPC_REGS_H
#define HOTSWAP_SHPC_REGS_H

/* The PCI Hot-Plug capability (ID 0Ch): the working register set is
 * reached through DWORD Select (+2) and DWORD Data (+4) (SHPC 1.0, 4.1). */
#define HS_SHPC_CAP_ID          0x0c
#define HS_SHPC_DWORD_SELECT    2
#define HS_SHPC_DWORD_DATA      4

/* The working register set, byte offsets (SHPC 1.0, 4.2). */
#define HS_SHPC_BASE_OFFSET     0x00
#define HS_SHPC_SLOTS_AVAIL1    0x04
#define HS_SHPC_SLOTS_AVAIL2    0x08
#define HS_SHPC_SLOT_CONFIG     0x0c
#define HS_SHPC_SEC_BUS         0x10
#define HS_SHPC_COMMAND         0x14    /* 15:0 Command, 31:16 Status */
#define HS_SHPC_INT_LOCATOR     0x18
#define HS_SHPC_SERR_LOCATOR    0x1c
#define HS_SHPC_SERR_INT        0x20
#define HS_SHPC_SLOT(n)         (0x24 + 4 * (n))  /* logical slot n from 0 */

/* Slot Configuration (4.2.4). */
#define HS_SHPC_SC_NSLOTS(v)    ((v) & 0x1f)
#define HS_SHPC_SC_FIRST_DEV(v) (((v) >> 8) & 0x1f)
#define HS_SHPC_SC_PSN(v)       (((v) >> 16) & 0x7ff)
#define HS_SHPC_SC_PSN_UP       (1u << 29)
#define HS_SHPC_SC_MRLSI        (1u << 30)  /* MRL sensors implemented */
#define HS_SHPC_SC_ABI          (1u << 31)  /* attention buttons */

/* Command Status, the Command register's upper half (4.2.6). */
#define HS_SHPC_CS_BUSY         0x0001
#define HS_SHPC_CS_MRL_OPEN     0x0002
#define HS_SHPC_CS_INVALID      0x0004
#define HS_SHPC_CS_BAD_SPEED    0x0008

/* SERR-INT (4.2.9). */
#define HS_SHPC_SI_GIM          (1u << 0)   /* global interrupt mask */
#define HS_SHPC_SI_GSM          (1u << 1)   /* global SERR mask */
#define HS_SHPC_SI_CCIM         (1u << 2)   /* command completion mask */
#define HS_SHPC_SI_ASM          (1u << 3)   /* arbiter SERR mask */
#define HS_SHPC_SI_CC           (1u << 16)  /* command completed, RW1C */
#define HS_SHPC_SI_ATOUT        (1u << 17)  /* arbiter time-out, RW1C */
#define HS_SHPC_SI_RW           (HS_SHPC_SI_GIM | HS_SHPC_SI_GSM | \
				 HS_SHPC_SI_CCIM | HS_SHPC_SI_ASM)
#define HS_SHPC_SI_W1C          (HS_SHPC_SI_CC | HS_SHPC_SI_ATOUT)

/* Logical Slot register (4.2.10). */
#define HS_SHPC_SL_STATE        0x00000003u
#define HS_SHPC_SL_PWR_IND      0x0000000cu
#define HS_SHPC_SL_ATTN_IND     0x00000030u
#define HS_SHPC_SL_PF_N         0x00000040u /* 0: power fault */
#define HS_SHPC_SL_MRL_OPEN     0x00000100u
#define HS_SHPC_SL_PRSNT        0x00000c00u /* 11b: empty */
#define HS_SHPC_SL_EV_PRSNT     (1u << 16)
#define HS_SHPC_SL_EV_ISO_PF    (1u << 17)
#define HS_SHPC_SL_EV_BUTTON    (1u << 18)
#define HS_SHPC_SL_EV_MRL       (1u << 19)
#define HS_SHPC_SL_EV_CON_PF    (1u << 20)
#define HS_SHPC_SL_EVENTS       0x001f0000u
#define HS_SHPC_SL_IMASK_SHIFT  8           /* event bit b masked by b + 8 */
#define HS_SHPC_SL_IMASK(ev)    ((ev) << HS_SHPC_SL_IMASK_SHIFT)
#define HS_SHPC_SL_SERR_MRL     (1u << 29)
#define HS_SHPC_SL_SERR_CPF     (1u << 30)
#define HS_SHPC_SL_MASKS        0x7f000000u
/* Slot State values (bits 1:0) and indicator values. */
#define HS_SHPC_ST_PWRONLY      1u
#define HS_SHPC_ST_ENABLED      2u
#define HS_SHPC_ST_DISABLED     3u
#define HS_SHPC_IND_ON          1u
#define HS_SHPC_IND_BLINK       2u
#define HS_SHPC_IND_OFF         3u
/* PRSNT1#/PRSNT2# (bits 11:10). */
#define HS_SHPC_PRSNT_EMPTY     (3u << 10)
#define HS_SHPC_PRSNT_7W5       (0u << 10)

#endif
