/*
 * isr.S - the 256 interrupt entry stubs of the x86 image and their common
 * path into C (irq.c).
 *
 * Owns: hsq_isr_stubs, 16 bytes per vector (irq.c points the IDT's gate
 * n at hsq_isr_stubs + 16 n).  Each stub pushes its vector and joins the
 * common path, which saves the general registers, calls hsq_isr(vector)
 * and returns with iret.  Exceptions (vectors 0-31) never return: hsq_isr
 * reports them and halts, so the error code some of them push does not
 * need popping (Intel SDM Vol. 3A, 6.13).  The image is built without
 * x87/SSE code, so there is no floating-point state to save.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
	.section .text
	.balign 16
	.global hsq_isr_stubs
hsq_isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	pushl $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	pushal
	cld
	pushl 32(%esp)                  /* the vector the stub pushed */
	call hsq_isr
	addl $4, %esp
	popal
	addl $4, %esp                   /* the vector */
	iret

	.section .note.GNU-stack, "", @progbits
