/*
 * uart.c - the serial console of the aarch64 image: the virt machine's
 * PL011 at 0x09000000 (PrimeCell UART PL011 TRM: DR 000h, FR 018h, IMSC
 * 038h, ICR 044h).  QEMU's PL011 needs no baud rate set up.  Output waits
 * for room in the transmit FIFO; received data raises SPI 1, which only
 * wakes the dispatcher (gic.c), which then reads the input.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "arm.h"
#include "virt.h"

#define DR 0x000
#define FR 0x018
#define LCR_H 0x02C
#define CR 0x030
#define IMSC 0x038
#define ICR 0x044
#define FR_RXFE 0x10
#define FR_TXFF 0x20

void hsa_uart_init(void)
{
	mmio_write(VIRT_UART + CR, 4, 0);             /* off while set up */
	mmio_write(VIRT_UART + LCR_H, 4, 0x70);       /* 8N1, FIFOs */
	mmio_write(VIRT_UART + ICR, 4, 0x7FF);
	mmio_write(VIRT_UART + CR, 4, 0x301);         /* UART, TX, RX on */
}

void hsa_uart_irq_on(void)
{
	/* Receive and receive time-out (TRM 3.3.10). */
	mmio_write(VIRT_UART + IMSC, 4, 0x50);
}

static void putc_raw(char c)
{
	while (mmio_read(VIRT_UART + FR, 4) & FR_TXFF)
		;
	mmio_write(VIRT_UART + DR, 4, (uint8_t)c);
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

bool hsq_uart_rx_ready(void)
{
	return !(mmio_read(VIRT_UART + FR, 4) & FR_RXFE);
}

int hsq_uart_getc(void)
{
	if (!hsq_uart_rx_ready())
		return -1;
	return (int)(mmio_read(VIRT_UART + DR, 4) & 0xFF);
}
