/*
 * boot.S - the entry of the bare-metal image: a Multiboot (version 1)
 * header that QEMU's -kernel loader accepts, a stack, and a call into C.
 *
 * QEMU's multiboot loader (and SeaBIOS before it) leaves the CPU in
 * 32-bit protected mode with flat 4 GiB segments, paging and interrupts
 * off (Multiboot Specification 0.6.96, 3.2 "Machine state"): exactly
 * what the image wants, so nothing else is set up here.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
	.set MB_MAGIC, 0x1BADB002
	.set MB_FLAGS, 0x00000003       /* page-align modules, memory info */
	.set MB_CHECK, -(MB_MAGIC + MB_FLAGS)

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC, MB_FLAGS, MB_CHECK

	.section .bss
	.balign 16
stack_bottom:
	.skip 262144
stack_top:

	.section .text
	.global _start
	.type _start, @function
_start:
	cli
	cld
	movl $stack_top, %esp
	xorl %ebp, %ebp
	pushl %ebx                      /* Multiboot information */
	pushl %eax                      /* Multiboot magic */
	call hsq_main
1:	cli
	hlt
	jmp 1b
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
