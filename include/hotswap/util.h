/*
 * hotswap/util.h - formatting and logging without libc, for the core and
 * for freestanding drivers, controllers and platforms.
 *
 * Owns: a small vsnprintf (the core is freestanding) and hs_log, which
 * formats one line and hands it to the platform's log op.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_UTIL_H
#define HOTSWAP_UTIL_H

#include <stdarg.h>

#include "hotswap/platform.h"

/* C linkage for C++ programs (tests/cli/install.sh builds one). */
#ifdef __cplusplus
extern "C" {
#endif

/*
 * Conversions: %d %i %u %x %X %c %s %p %%, flags '-', '0' and '#', a field
 * width, length modifiers l, ll and z; and %pB, whose argument points to
 * an hs_bdf_t, printed as bus:device.function ("%02x:%02x.%u": one
 * argument where the core's messages would pass three).  Always
 * NUL-terminates when size > 0; returns the length the whole output
 * would have had.
 */
size_t hs_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t hs_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void hs_log(const struct hs_platform *plat, enum hs_log_level level,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The few string helpers the core needs. */
size_t hs_strlen(const char *s);
int hs_strcmp(const char *a, const char *b);
/* Name i of a list written as one string with NULs between the count
 * names (no pointer per name); "?" when i is out of range. */
const char *hs_nth_name(const char *names, unsigned count, unsigned i);
void *hs_memset(void *dst, int c, size_t n);
void *hs_memcpy(void *dst, const void *src, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_UTIL_H */
