/*
 * hotswap/timer.h - the core's timers, multiplexed onto the platform's one
 * one-shot timer.  Public: drivers and controllers embed struct hs_timer
 * by value and arm it with hs_dev_timer_arm().
 *
 * Owns: struct hs_timers (a deadline-ordered list of caller-owned
 * struct hs_timer) and the single platform arming.  Nothing here sleeps:
 * a timer fires when the platform calls back, and all due timers run in
 * deadline order (ties in arming order).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_TIMER_H
#define HOTSWAP_TIMER_H

#include "hotswap/platform.h"

/* C linkage for C++ programs (tests/cli/install.sh builds one). */
#ifdef __cplusplus
extern "C" {
#endif

struct hs_timer {
	hs_time_t deadline;
	uint64_t seq;
	hs_timer_fn fn;
	void *arg;
	struct hs_timer *next;
	bool armed;
};

struct hs_timers {
	const struct hs_platform *plat;
	struct hs_timer *head;
	uint64_t seq;
	bool running;
};

void hs_timers_init(struct hs_timers *t, const struct hs_platform *plat);
/* Disarm everything (the platform timer too). */
void hs_timers_fini(struct hs_timers *t);
void hs_timer_init(struct hs_timer *tm, hs_timer_fn fn, void *arg);
/* (Re)arm tm to fire at an absolute time of the platform clock. */
void hs_timer_arm_at(struct hs_timers *t, struct hs_timer *tm,
		     hs_time_t deadline);
void hs_timer_arm(struct hs_timers *t, struct hs_timer *tm, hs_time_t delay);
void hs_timer_cancel(struct hs_timers *t, struct hs_timer *tm);
static inline bool hs_timer_armed(const struct hs_timer *tm)
{
	return tm->armed;
}
hs_time_t hs_now(const struct hs_timers *t);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_TIMER_H */
