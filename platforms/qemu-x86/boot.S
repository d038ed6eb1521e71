/*
 * boot.S - the entry of the bare-metal image: a Multiboot (version 1)
 * header that QEMU's -kernel loader accepts, a stack, and a call into C.
 *
 * QEMU's multiboot loader (and SeaBIOS before it) leaves the CPU in
 * 32-bit protected mode with flat 4 GiB segments, paging and interrupts
 * off (Multiboot Specification 0.6.96, 3.2 "Machine state"): exactly
 * what the image wants, except that the GDTR "may be invalid" (3.2):
 * the first interrupt reloads CS from a descriptor, so the image loads
 * its own flat GDT (code 0x08, data 0x10) before anything else.
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

	.section .rodata
	.balign 8
gdt:
	.quad 0                         /* null */
	.quad 0x00CF9A000000FFFF        /* 0x08: code, base 0, 4 GiB, 32-bit */
	.quad 0x00CF92000000FFFF        /* 0x10: data, base 0, 4 GiB */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

	.section .text
	.global _start
	.type _start, @function
_start:
	cli
	cld
	lgdt gdt_ptr
	ljmp $0x08, $1f
1:	movw $0x10, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movw %cx, %ss
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
