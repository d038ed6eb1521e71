/*
 * board.h - what each bare-metal platform (platforms/qemu-x86,
 * platforms/aarch64-virt) gives the code shared between them here
 * (platforms/bare: the console's line protocol, the pool, the C
 * library, the start of the core and the dispatcher loop).
 *
 * Owns: nothing; the contract between the shared image code and an
 * architecture.  A port implements every function below once, in its
 * own files, with no #ifdef in the shared ones (docs/porting.md).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HSQ_BOARD_H
#define HSQ_BOARD_H

#include "hotswap/platform.h"

/* The hs_platform ops table of this machine. */
const struct hs_platform *hsq_platform(void);

/* Nanoseconds since start (monotonic; the core's clock). */
hs_time_t hsq_now(void);
/* Is the one platform timer armed, and for when? */
bool hsq_timer_deadline(hs_time_t *deadline);
/* Run the platform timer's callback if it is due; true if it ran. */
bool hsq_timer_poll(void);
/* Where log lines go (the console sets it) and from which level. */
void hsq_set_log_sink(void (*fn)(enum hs_log_level, const char *));
void hsq_set_log_level(enum hs_log_level lvl);

/* Raw config access, for the console's diagnostics (not the core). */
int hsq_cfg_read(hs_bdf_t bdf, uint16_t off, unsigned width, uint32_t *v);
int hsq_cfg_write(hs_bdf_t bdf, uint16_t off, unsigned width, uint32_t v);

/* The serial console: output waits for the transmitter; input is read
 * by the dispatcher after its interrupt woke it. */
void hsq_uart_write(const char *s, size_t n);
void hsq_uart_puts(const char *s);
int hsq_uart_getc(void);           /* a byte, or -1 when none waits */
bool hsq_uart_rx_ready(void);

/* In the dispatcher: call the handlers of every interrupt latched since
 * the last call (true if any ran). */
bool hsq_irq_run(void);
/* Sleep until an interrupt, or until deadline when timed; at once if an
 * interrupt is latched, input waits or the deadline has passed. */
void hsq_irq_idle(bool timed, hs_time_t deadline);

struct hsq_irq_stats {
	unsigned long msi, line, timer, serial, spurious, wakeups;
};
void hsq_irq_stats(struct hsq_irq_stats *out);

/* Leave QEMU with this status (the `quit` command); never returns. */
void hsq_exit(unsigned code) __attribute__((noreturn));
/* Stop for good (fatal errors); never returns. */
void hsq_halt(void) __attribute__((noreturn));

/* platforms/bare/image.c: the core with the controllers and QEMU's
 * device drivers, enumeration, `ready`, then the dispatcher forever.
 * Called by each platform's entry once its hello lines are out. */
void hsq_image_run(void) __attribute__((noreturn));

#endif
