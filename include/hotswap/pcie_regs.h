/*
 * hotswap/pcie_regs.h - register offsets and bits of the PCI Express
 * capability that both sides of the slot seam speak: the PCIe native
 * controller driver and the simulator's ports.  Spec facts, not
 * behaviour: each side still implements its half on its own.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_PCIE_REGS_H
#define HOTSWAP_PCIE_REGS_H

/* Offsets inside the PCI Express capability (PCIe Base 7.5.3). */
#define HS_PX_CAPS           0x02
#define HS_PX_DEVCAP         0x04
#define HS_PX_DEVCTL         0x08
#define HS_PX_DEVSTA         0x0a
#define HS_PX_LNKCAP         0x0c
#define HS_PX_LNKCTL         0x10
#define HS_PX_LNKSTA         0x12
#define HS_PX_SLTCAP         0x14
#define HS_PX_SLTCTL         0x18
#define HS_PX_SLTSTA         0x1a
#define HS_PX_RTCTL          0x1c
#define HS_PX_RTCAP          0x1e
#define HS_PX_DEVCAP2        0x24
#define HS_PX_DEVCTL2        0x28

/* Link Capabilities / Control / Status bits (PCIe Base 7.5.3.6-8). */
#define HS_LNKCAP_DLLLARC    (1u << 20)
#define HS_LNKCTL_LD         0x0010
#define HS_LNKCTL_RL         0x0020  /* Retrain Link: always reads 0 */
#define HS_LNKSTA_LT         0x0800
#define HS_LNKSTA_DLLLA      0x2000

/* Root Control: CRS Software Visibility Enable (PCIe Base 7.5.3.12). */
#define HS_RTCTL_CRSSVE      0x0010

/* Slot Capabilities (PCIe Base 7.5.3.9). */
#define HS_SLTCAP_ABP        0x00000001u
#define HS_SLTCAP_PCP        0x00000002u
#define HS_SLTCAP_MRLSP      0x00000004u
#define HS_SLTCAP_AIP        0x00000008u
#define HS_SLTCAP_PIP        0x00000010u
#define HS_SLTCAP_HPS        0x00000020u
#define HS_SLTCAP_HPC        0x00000040u
#define HS_SLTCAP_EIP        0x00020000u
#define HS_SLTCAP_NCCS       0x00040000u

/* Slot Control (PCIe Base 7.5.3.10). */
#define HS_SLTCTL_ABPE       0x0001
#define HS_SLTCTL_PFDE       0x0002
#define HS_SLTCTL_MRLSCE     0x0004
#define HS_SLTCTL_PDCE       0x0008
#define HS_SLTCTL_CCIE       0x0010
#define HS_SLTCTL_HPIE       0x0020
#define HS_SLTCTL_AIC        0x00c0
#define HS_SLTCTL_PIC        0x0300
#define HS_SLTCTL_PCC        0x0400
#define HS_SLTCTL_EIC        0x0800
#define HS_SLTCTL_DLLSCE     0x1000
/* Every event enable, and Hot-Plug Interrupt Enable. */
#define HS_SLTCTL_EVENTS     (HS_SLTCTL_ABPE | HS_SLTCTL_PFDE |           \
			      HS_SLTCTL_MRLSCE | HS_SLTCTL_PDCE |          \
			      HS_SLTCTL_CCIE | HS_SLTCTL_HPIE |            \
			      HS_SLTCTL_DLLSCE)

/* Slot Status (PCIe Base 7.5.3.11). */
#define HS_SLTSTA_ABP        0x0001
#define HS_SLTSTA_PFD        0x0002
#define HS_SLTSTA_MRLSC      0x0004
#define HS_SLTSTA_PDC        0x0008
#define HS_SLTSTA_CC         0x0010
#define HS_SLTSTA_MRLSS      0x0020
#define HS_SLTSTA_PDS        0x0040
#define HS_SLTSTA_EIS        0x0080
#define HS_SLTSTA_DLLSC      0x0100
/* Every write-1-to-clear event bit. */
#define HS_SLTSTA_EVENTS     0x011f

#endif /* HOTSWAP_PCIE_REGS_H */
