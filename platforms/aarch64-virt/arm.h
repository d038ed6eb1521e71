/*
 * arm.h - memory-mapped access, system registers and the fixed memory
 * map of QEMU's aarch64 `virt` machine (hw/arm/virt.c's memory map, which
 * the device tree QEMU generates also describes; fixed since QEMU 2.x).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HSA_ARM_H
#define HSA_ARM_H

#include <stdint.h>

#define VIRT_GICD 0x08000000ull         /* GICv3 distributor */
#define VIRT_GITS 0x08080000ull         /* GICv3 ITS: 2 x 64 KiB frames */
#define VIRT_GICR 0x080A0000ull         /* CPU 0's redistributor (RD_base) */
#define VIRT_GICR_SGI (VIRT_GICR + 0x10000ull) /* its SGI_base frame */
#define VIRT_UART 0x09000000ull         /* PL011, SPI 1 */
#define VIRT_PCIE_MMIO 0x10000000ull    /* 32-bit window, to 0x3EFEFFFF */
#define VIRT_PCIE_MMIO_END 0x3EFEFFFFull
#define VIRT_PCIE_PIO 0x3EFF0000ull     /* 64 KiB of PCI I/O space */
#define VIRT_PCIE_ECAM 0x4010000000ull  /* high ECAM: 256 buses */
#define VIRT_PCIE_MMIO_HIGH 0x8000000000ull  /* 512 GiB, 64-bit */
#define VIRT_PCIE_MMIO_HIGH_END 0xFFFFFFFFFFull
#define VIRT_RAM 0x40000000ull
#define VIRT_SPI_PCIE 3                 /* INTA..INTD: SPIs 3-6 */
#define VIRT_SPI_UART 1
#define GIC_SPI(n) (32u + (n))
#define GIC_PPI_VTIMER 27u              /* EL1 virtual timer */

static inline uint32_t mmio_read(uint64_t a, unsigned width)
{
	switch (width) {
	case 1: return *(volatile uint8_t *)a;
	case 2: return *(volatile uint16_t *)a;
	default: return *(volatile uint32_t *)a;
	}
}

static inline void mmio_write(uint64_t a, unsigned width, uint32_t v)
{
	switch (width) {
	case 1: *(volatile uint8_t *)a = (uint8_t)v; break;
	case 2: *(volatile uint16_t *)a = (uint16_t)v; break;
	default: *(volatile uint32_t *)a = v; break;
	}
}

#define sysreg_read(r) ({ uint64_t v_; \
	__asm__ volatile("mrs %0, " #r : "=r"(v_)); v_; })
#define sysreg_write(r, v) \
	__asm__ volatile("msr " #r ", %0" : : "r"((uint64_t)(v)) : "memory")

#endif
