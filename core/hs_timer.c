/*
 * hs_timer.c - the core's timers on top of one platform one-shot.
 *
 * Owns: keeping the list ordered, arming the platform for the head, and
 * running what is due when the platform calls back.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hotswap/timer.h"

static void fire(void *arg);

static void rearm(struct hs_timers *t)
{
	const struct hs_platform *p = t->plat;

	if (t->running)
		return; /* fire() rearms once it is done */
	if (t->head)
		p->ops->timer_set(p->ctx, t->head->deadline, fire, t);
	else
		p->ops->timer_set(p->ctx, 0, NULL, NULL);
}

static void unlink_timer(struct hs_timers *t, struct hs_timer *tm)
{
	for (struct hs_timer **pp = &t->head; *pp; pp = &(*pp)->next)
		if (*pp == tm) {
			*pp = tm->next;
			break;
		}
	tm->next = NULL;
	tm->armed = false;
}

static void fire(void *arg)
{
	struct hs_timers *t = arg;
	hs_time_t now = hs_now(t);

	t->running = true;
	while (t->head && t->head->deadline <= now) {
		struct hs_timer *tm = t->head;

		unlink_timer(t, tm);
		tm->fn(tm->arg); /* may arm or cancel timers */
		now = hs_now(t);
	}
	t->running = false;
	rearm(t);
}

void hs_timers_init(struct hs_timers *t, const struct hs_platform *plat)
{
	t->plat = plat;
	t->head = NULL;
	t->seq = 0;
	t->running = false;
}

void hs_timers_fini(struct hs_timers *t)
{
	while (t->head)
		unlink_timer(t, t->head);
	t->plat->ops->timer_set(t->plat->ctx, 0, NULL, NULL);
}

void hs_timer_init(struct hs_timer *tm, hs_timer_fn fn, void *arg)
{
	tm->deadline = 0;
	tm->seq = 0;
	tm->fn = fn;
	tm->arg = arg;
	tm->next = NULL;
	tm->armed = false;
}

hs_time_t hs_now(const struct hs_timers *t)
{
	return t->plat->ops->now(t->plat->ctx);
}

void hs_timer_arm_at(struct hs_timers *t, struct hs_timer *tm,
		     hs_time_t deadline)
{
	struct hs_timer **pp;

	if (tm->armed)
		unlink_timer(t, tm);
	tm->deadline = deadline;
	tm->seq = t->seq++;
	tm->armed = true;
	for (pp = &t->head; *pp && (*pp)->deadline <= deadline;
	     pp = &(*pp)->next)
		;
	tm->next = *pp;
	*pp = tm;
	if (t->head == tm)
		rearm(t);
}

void hs_timer_arm(struct hs_timers *t, struct hs_timer *tm, hs_time_t delay)
{
	hs_timer_arm_at(t, tm, hs_now(t) + delay);
}

void hs_timer_cancel(struct hs_timers *t, struct hs_timer *tm)
{
	bool was_head = t->head == tm;

	if (!tm->armed)
		return;
	unlink_timer(t, tm);
	if (was_head)
		rearm(t);
}
