/*
 * uart.c - COM1: 115200 8N1 with FIFOs (a 16550's registers: THR/RBR +0,
 * IER +1, FCR +2, LCR +3, MCR +4, LSR +5).  Received data raises an
 * interrupt (irq.c routes it) that only wakes the main loop, which then
 * reads the input; output waits for the transmitter.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "uart.h"

#include "x86.h"

#define COM1 0x3F8
#define LSR_DR 0x01    /* data ready */
#define LSR_THRE 0x20  /* transmitter holding register empty */

void hsq_uart_init(void)
{
	outb(COM1 + 1, 0x00);          /* no interrupts */
	outb(COM1 + 3, 0x80);          /* DLAB: divisor follows */
	outb(COM1 + 0, 0x01);          /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);          /* 8N1 */
	outb(COM1 + 2, 0xC1);          /* FIFOs on (not cleared: keep early input) */
	outb(COM1 + 4, 0x03);          /* DTR, RTS */
}

static void putc_raw(char c)
{
	while (!(inb(COM1 + 5) & LSR_THRE))
		;
	outb(COM1, (uint8_t)c);
}

void hsq_uart_write(const char *s, size_t n)
{
	while (n--)
		putc_raw(*s++);
}

void hsq_uart_puts(const char *s)
{
	while (*s)
		putc_raw(*s++);
}

int hsq_uart_getc(void)
{
	if (!(inb(COM1 + 5) & LSR_DR))
		return -1;
	return inb(COM1);
}

bool hsq_uart_rx_ready(void)
{
	return (inb(COM1 + 5) & LSR_DR) != 0;
}

void hsq_uart_irq_on(void)
{
	outb(COM1 + 4, 0x0B);          /* DTR, RTS, OUT2 */
	outb(COM1 + 1, 0x01);          /* received data available */
}
