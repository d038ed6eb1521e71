/*
 * uart.h - the serial console: COM1, a 16550 at I/O port 0x3F8, polled.
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

#endif
