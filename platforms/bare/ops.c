/*
 * ops.c - the platform ops every bare-metal image implements the same
 * way: the core's one timer (armed here, fired by the dispatcher from
 * hsq_timer_poll), the log (to the sink the console sets) and the
 * allocator (the pool).  An architecture's platform.c puts these in its
 * hs_platform_ops table next to its own config, memory, interrupt and
 * clock ops.
 *
 * Owns: the timer's deadline and callback, the log sink and level.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "ops.h"

#include "pool.h"

static struct {
	hs_time_t deadline;
	hs_timer_fn fn;
	void *arg;
} timer;
static void (*log_sink)(enum hs_log_level, const char *);
static enum hs_log_level log_level = HS_LOG_INFO;

hs_time_t hsq_op_now(void *ctx)
{
	(void)ctx;
	return hsq_now();
}

void hsq_op_timer_set(void *ctx, hs_time_t deadline, hs_timer_fn fn,
		      void *arg)
{
	(void)ctx;
	timer.deadline = deadline;
	timer.fn = fn;
	timer.arg = arg;
}

bool hsq_timer_deadline(hs_time_t *deadline)
{
	*deadline = timer.deadline;
	return timer.fn != NULL;
}

bool hsq_timer_poll(void)
{
	hs_timer_fn fn = timer.fn;

	if (!fn || hsq_now() < timer.deadline)
		return false;
	timer.fn = NULL;
	fn(timer.arg);
	return true;
}

void hsq_set_log_sink(void (*fn)(enum hs_log_level, const char *))
{
	log_sink = fn;
}

void hsq_set_log_level(enum hs_log_level lvl)
{
	log_level = lvl;
}

void hsq_op_log(void *ctx, enum hs_log_level level, const char *line)
{
	(void)ctx;
	if (level <= log_level && log_sink)
		log_sink(level, line);
}

void *hsq_op_realloc(void *ctx, void *ptr, size_t osize, size_t nsize)
{
	(void)ctx;
	return hsq_pool_realloc(ptr, osize, nsize);
}
