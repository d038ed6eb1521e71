/*
 * boot.S - entry and exception vectors of the aarch64 image.
 *
 * QEMU's -kernel loader starts an ELF image at its entry point at EL1
 * on the `virt` machine (no EL2/EL3 unless asked for), MMU and caches
 * off, interrupts masked.  The image keeps the MMU off: every access is
 * then Device-nGnRnE (Arm ARM D8.2.11), which MMIO wants, and the C
 * code is built with -mstrict-align because Device memory faults on
 * unaligned accesses.  The ELF loader zero-fills .bss.
 *
 * Owns: _start (stack, vector base, into C), the vector table (Arm ARM
 * D1.10.2: 16 entries of 0x80 bytes).  An IRQ taken from EL1 with SP_EL1
 * saves the caller-saved registers, calls hsq_irq_entry and returns
 * with eret; anything else is reported by hsq_exception, which halts.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
	.section .text.boot, "ax"
	.global _start
_start:
	ldr x0, =stack_top
	mov sp, x0
	ldr x0, =vectors
	msr vbar_el1, x0
	isb
	bl hsq_main
1:	wfi
	b 1b

	.section .text
	.balign 2048
vectors:
	.set n, 0
	.rept 16
	.balign 128
	.if n == 5                      /* IRQ, current EL with SP_ELx */
	b irq_entry
	.else
	mov x0, #n
	b exc_entry
	.endif
	.set n, n + 1
	.endr

irq_entry:
	sub sp, sp, #192
	stp x0, x1, [sp, #0]
	stp x2, x3, [sp, #16]
	stp x4, x5, [sp, #32]
	stp x6, x7, [sp, #48]
	stp x8, x9, [sp, #64]
	stp x10, x11, [sp, #80]
	stp x12, x13, [sp, #96]
	stp x14, x15, [sp, #112]
	stp x16, x17, [sp, #128]
	stp x18, x29, [sp, #144]
	mrs x0, elr_el1
	mrs x1, spsr_el1
	stp x30, x0, [sp, #160]
	str x1, [sp, #176]
	bl hsq_irq_entry
	ldr x1, [sp, #176]
	ldp x30, x0, [sp, #160]
	msr spsr_el1, x1
	msr elr_el1, x0
	ldp x18, x29, [sp, #144]
	ldp x16, x17, [sp, #128]
	ldp x14, x15, [sp, #112]
	ldp x12, x13, [sp, #96]
	ldp x10, x11, [sp, #80]
	ldp x8, x9, [sp, #64]
	ldp x6, x7, [sp, #48]
	ldp x4, x5, [sp, #32]
	ldp x2, x3, [sp, #16]
	ldp x0, x1, [sp, #0]
	add sp, sp, #192
	eret

exc_entry:
	mrs x1, esr_el1
	mrs x2, elr_el1
	mrs x3, far_el1
	bl hsq_exception
2:	wfi
	b 2b

	.section .bss
	.balign 16
	.skip 262144
stack_top:

	.section .note.GNU-stack, "", @progbits
