/*
 * ops.h - platform ops shared by the bare-metal images (ops.c): the
 * timer, the log and the allocator, for an architecture's ops table.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HSQ_OPS_H
#define HSQ_OPS_H

#include "board.h"

hs_time_t hsq_op_now(void *ctx);
void hsq_op_timer_set(void *ctx, hs_time_t deadline, hs_timer_fn fn,
		      void *arg);
void hsq_op_log(void *ctx, enum hs_log_level level, const char *line);
void *hsq_op_realloc(void *ctx, void *ptr, size_t osize, size_t nsize);

#endif
