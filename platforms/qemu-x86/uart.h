/*
 * uart.h - the serial console: COM1, a 16550 at I/O port 0x3F8.  Output
 * is polled; input raises ISA IRQ 4 once hsq_uart_irq_on has run.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HSQ_UART_H
#define HSQ_UART_H

#include <stdbool.h>
#include <stddef.h>

void hsq_uart_init(void);
void hsq_uart_write(const char *s, size_t n);
void hsq_uart_puts(const char *s);
/* One received byte, or -1 when none is waiting. */
int hsq_uart_getc(void);
/* Is a received byte waiting? */
bool hsq_uart_rx_ready(void);
/* Interrupt on received data (IER bit 0; MCR OUT2 gates the IRQ line on
 * PC serial ports). */
void hsq_uart_irq_on(void);

#endif
