/*
 * libc.h - the image's whole C library: the four functions of libc.c.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HSQ_LIBC_H
#define HSQ_LIBC_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
