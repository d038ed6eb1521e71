/*
 * uart.h - the serial console of the x86 image: COM1, a 16550 at I/O
 * port 0x3F8 (board.h has the reads and writes the shared code uses).
 * Output is polled; input raises ISA IRQ 4 once hsq_uart_irq_on has run.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HSQ_UART_H
#define HSQ_UART_H

#include "../bare/board.h"

void hsq_uart_init(void);
/* Interrupt on received data (IER bit 0; MCR OUT2 gates the IRQ line on
 * PC serial ports). */
void hsq_uart_irq_on(void);

#endif
