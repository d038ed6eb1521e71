/*
 * hs_slot_dispatch.c - the slots' dispatcher and the controllers'
 * command queue.
 *
 * Owns: the latching of everything that happens to a slot (the
 * controller's events in hw_pending, the slot's deadline in timer_fired,
 * settled commands in cmd_event, finished configure / unconfigure work
 * in done[], requests in req) and the one fixed order in which the
 * dispatcher hands them to the table (hs_slot_table.c, through the
 * controller record's input callback); the command queue, one command
 * at a time per controller; polling, interrupts, start-up
 * reconciliation and fault drills.
 *
 * Nothing here sleeps or touches registers itself.  Interrupts, timers
 * and completions only latch; one dispatcher per controller applies
 * them, so a cell of the table never runs inside another.  PCIe Base
 * 6.7.3.2: software waits for Command Completed between Slot Control
 * writes; the SHPC has one command register for all its slots.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_driver.h"
#include "hs_slot_dispatch.h"

static hs_time_t cmd_poll(const struct hs_hpc *h);

/* One of the controller's own timers (dispatch, poll, command, retry). */
HS_NOINLINE static void arm_hpc(struct hs_hpc *h, struct hs_timer *tm,
				hs_time_t delay)
{
	hs_timer_arm(&h->core->timers, tm, delay);
}

/* ---- helpers the table shares --------------------------------------- */

enum hs_slot_state hs_sd_coarse(enum hs_slot_fine f)
{
	static const unsigned char coarse[HS_FINE_COUNT] = {
		[HS_FINE_EMPTY] = HS_SLOT_EMPTY,
		[HS_FINE_OFF] = HS_SLOT_OFF,
		[HS_FINE_BLINKING_ON] = HS_SLOT_BLINKING_ON,
		[HS_FINE_PON_POWER] = HS_SLOT_POWERING_ON,
		[HS_FINE_PON_LINK] = HS_SLOT_POWERING_ON,
		[HS_FINE_PON_SETTLE] = HS_SLOT_POWERING_ON,
		[HS_FINE_PON_READY] = HS_SLOT_POWERING_ON,
		[HS_FINE_PON_CONFIG] = HS_SLOT_POWERING_ON,
		[HS_FINE_ON] = HS_SLOT_ON,
		[HS_FINE_BLINKING_OFF] = HS_SLOT_BLINKING_OFF,
		[HS_FINE_POFF_QUIESCE] = HS_SLOT_POWERING_OFF,
		[HS_FINE_POFF_POWER] = HS_SLOT_POWERING_OFF,
		[HS_FINE_POFF_RETRY] = HS_SLOT_POWERING_OFF,
		[HS_FINE_FAULT] = HS_SLOT_FAULT,
		[HS_FINE_CONNECTED] = HS_SLOT_CONNECTED,
	};

	return (unsigned)f < HS_FINE_COUNT ? (enum hs_slot_state)coarse[f]
					   : HS_SLOT_STATE_COUNT;
}

void hs_sd_emit(struct hs_slot *s, enum hs_event_type type, int from,
		int to, const char *msg)
{
	struct hs_event ev;

	hs_memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.bdf = s->hpc->bridge->bdf;
	ev.slot = (int)s->d.phys;
	ev.slot_name = s->name;
	ev.from = from;
	ev.to = to;
	ev.msg = msg && msg[0] ? msg : NULL;
	ev.time = hs_now(&hs_sd_core(s)->timers);
	hs_emit(hs_sd_core(s), &ev);
}

int hs_sd_reason(struct hs_slot *s, int rc, const char *why)
{
	hs_snprintf(s->reason, sizeof(s->reason), "%s", why);
	return rc;
}

void hs_sd_alert(struct hs_slot *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hs_vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
	hs_log(hs_sd_core(s)->plat, HS_LOG_WARN, "slot %s: %s", s->name,
	       s->reason);
	hs_sd_emit(s, HS_EV_SLOT_ALERT, (int)hs_sd_state(s),
		   (int)hs_sd_state(s), s->reason);
}

void hs_sd_arm(struct hs_slot *s, hs_time_t delay)
{
	s->drilled &= ~(1u << HS_IN_TIMER); /* a drilled expiry too */
	s->timer_fired = false;
	hs_timer_arm(&hs_sd_core(s)->timers, &s->timer, delay);
}

void hs_sd_arm_at(struct hs_slot *s, hs_time_t when)
{
	s->drilled &= ~(1u << HS_IN_TIMER); /* a drilled expiry too */
	s->timer_fired = false;
	hs_timer_arm_at(&hs_sd_core(s)->timers, &s->timer, when);
}

void hs_sd_disarm(struct hs_slot *s)
{
	s->drilled &= ~(1u << HS_IN_TIMER); /* a drilled expiry too */
	hs_timer_cancel(&hs_sd_core(s)->timers, &s->timer);
	s->timer_fired = false;
}

void hs_sd_finish_op(struct hs_slot *s, int rc, const char *msg)
{
	hs_done_fn fn = s->op_done;
	void *arg = s->op_arg;

	if (s->op == OP_NONE)
		return;
	s->op = OP_NONE;
	s->op_done = NULL;
	s->op_arg = NULL;
	if (fn)
		fn(arg, rc, msg ? msg : "");
}

void hs_sd_read_status(struct hs_slot *s)
{
	struct hs_slot_status st;

	if (s->st_fresh)
		return;
	if (s->hpc->ops->status(s->hpc->priv, s->index, &st) == 0) {
		s->st = st;
		s->st_fresh = true;
	}
}

void hs_sd_configured(struct hs_slot *s, bool yes)
{
	const struct hs_hpc *h = s->hpc;

	if (h->ops->configured)
		h->ops->configured(h->priv, s->index, yes);
}

bool hs_sd_populated(const struct hs_slot *s)
{
	return hs_slot_populated(s->hpc->bridge, s->d.devnum);
}

/* ---- commands ---------------------------------------------------------- */

void hs_sd_want(struct hs_slot *s, int power, int pind, int aind, int lock,
		int link)
{
	if (power != HS_KEEP)
		s->want.power = (int8_t)power;
	if (pind != HS_KEEP)
		s->want.power_ind = (int8_t)pind;
	if (aind != HS_KEEP)
		s->want.attn_ind = (int8_t)aind;
	if (lock != HS_KEEP && !hs_sd_core(s)->params.leave_interlock)
		s->want.interlock = (int8_t)lock;
	if (link != HS_KEEP)
		s->want.link = (int8_t)link;
}

/* A command's fields as bytes, in their order, and the capability each
 * needs (read through a character type: C11 6.5p7). */
#define CMD_FIELDS 5
_Static_assert(sizeof(struct hs_slot_cmd) == CMD_FIELDS &&
		       offsetof(struct hs_slot_cmd, link) == CMD_FIELDS - 1,
	       "struct hs_slot_cmd is five bytes, one per field");
static const unsigned field_cap[CMD_FIELDS] = {
	HS_SLOT_CAP_POWER, HS_SLOT_CAP_PWR_IND, HS_SLOT_CAP_ATTN_IND,
	HS_SLOT_CAP_INTERLOCK, HS_SLOT_CAP_LINK_CTL,
};

/* The command that would bring the hardware to what is wanted, limited
 * to what the slot has; false when nothing needs saying. */
HS_NOINLINE static bool pending_cmd(const struct hs_slot *s,
				    struct hs_slot_cmd *c)
{
	const int8_t *want = (const int8_t *)&s->want;
	const int8_t *have = (const int8_t *)&s->have;
	int8_t *out = (int8_t *)c;
	bool any = false;

	for (unsigned i = 0; i < CMD_FIELDS; i++) {
		out[i] = HS_KEEP;
		if (hs_sd_has(s, field_cap[i]) && want[i] != HS_KEEP &&
		    want[i] != have[i]) {
			out[i] = want[i];
			any = true;
		}
	}
	return any;
}

static bool cmd_idle(const struct hs_slot *s)
{
	struct hs_slot_cmd c;

	return s->hpc->cmd_slot != (int)s->index && !pending_cmd(s, &c);
}

void hs_sd_command(struct hs_slot *s)
{
	if (cmd_idle(s)) {
		s->cmd_event = true;
		hs_sd_kick(s->hpc);
		return;
	}
	hs_sd_cmd_kick(s->hpc);
}

static void cmd_finished(struct hs_hpc *h)
{
	int i = h->cmd_slot;

	h->cmd_slot = -1;
	h->cmd_settle_all = false;
	hs_timer_cancel(&h->core->timers, &h->cmd_tm);
	if (i >= 0 && cmd_idle(&h->slots[i]))
		h->slots[i].cmd_event = true;
	hs_sd_kick(h);
}

/* Issue the next command, one at a time per controller (the SHPC has
 * one command register for all its slots; PCIe Base 6.7.3.2 asks
 * software to wait for Command Completed between writes). */
void hs_sd_cmd_kick(struct hs_hpc *h)
{
	const struct hs_core_params *pp = &h->core->params;

	if (h->cmd_slot >= 0 || h->cmd_settle_all || !h->started)
		return;
	for (unsigned n = 0; n < h->nslots; n++) {
		struct hs_slot *s = &h->slots[n];
		struct hs_slot_cmd c;
		int rc;

		if (!pending_cmd(s, &c))
			continue;
		/* Once said, it counts as said: a timed-out command is not
		 * repeated forever. */
		for (unsigned i = 0; i < CMD_FIELDS; i++)
			if (((int8_t *)&c)[i] != HS_KEEP)
				((int8_t *)&s->have)[i] = ((int8_t *)&c)[i];
		s->st_fresh = false; /* power and link may change now */
		rc = h->ops->command(h->priv, n, &c);
		if (rc == HS_HPC_PENDING) {
			h->cmd_slot = (int)n;
			arm_hpc(h, &h->cmd_tm,
				     pp->cmd_timeout);
			if (!h->irq) {
				/* Nobody will interrupt: look soon. */
				arm_hpc(h, &h->poll_tm,
					     cmd_poll(h));
			}
			return;
		}
		if (rc < 0)
			hs_sd_alert(s, "controller command failed (%d)", rc);
		if (cmd_idle(s))
			s->cmd_event = true;
		hs_sd_kick(h);
	}
}

static void cmd_timeout(void *arg)
{
	struct hs_hpc *h = arg;

	if (h->cmd_slot >= 0)
		hs_sd_alert(&h->slots[h->cmd_slot],
		      "the controller did not complete a command within "
		      "%llu ms; going on without it",
		      (unsigned long long)(h->core->params.cmd_timeout /
					   HS_MSEC(1)));
	else if (h->cmd_settle_all && h->irq) {
		/* Turning notification on was not confirmed: the write may
		 * not have taken, and then no event would ever interrupt.
		 * The slots are compared with their status every poll
		 * period as well, so nothing is missed for longer. */
		h->notify_unsure = true;
		hs_log(h->core->plat, HS_LOG_WARN,
		       "hot-plug controller at %pB: turning notification on "
		       "timed out; its slots are polled as well",
		       &h->bridge->bdf);
		arm_hpc(h, &h->poll_tm,
			     h->core->params.poll_period);
	} else {
		hs_log(h->core->plat, HS_LOG_WARN,
		       "hot-plug controller at %pB: command time-out",
		       &h->bridge->bdf);
	}
	cmd_finished(h);
}

/* ---- the dispatcher -------------------------------------------------------- */

/* A hardware event's latch bit is 1 << its input (hotswap/hpc.h and
 * hotswap/slot.h list them in the same order). */
#define HS_HW_OF(in) (1u << (in))
_Static_assert(HS_HW_OF(HS_IN_PRESENCE) == HS_HW_PRESENCE &&
		       HS_HW_OF(HS_IN_LATCH) == HS_HW_LATCH &&
		       HS_HW_OF(HS_IN_BUTTON) == HS_HW_BUTTON &&
		       HS_HW_OF(HS_IN_POWER_FAULT) == HS_HW_POWER_FAULT &&
		       HS_HW_OF(HS_IN_LINK) == HS_HW_LINK,
	       "hardware event bits follow the inputs");

bool hs_sd_slot_busy(const struct hs_slot *s)
{
	return (s->hw_pending & ~(unsigned)HS_HW_CMD_DONE) || s->cmd_event ||
	       s->ndone || s->timer_fired || s->req >= 0;
}

static void pop_done(struct hs_slot *s)
{
	for (unsigned i = 1; i < s->ndone; i++)
		s->done[i - 1] = s->done[i];
	s->ndone--;
}

/* A request, latched or drilled: through the table, then its verdict
 * (req_rc: < 0 refused, > 0 accepted and already true) to the caller. */
static void run_request(struct hs_slot *s, enum hs_slot_input in)
{
	s->req_rc = 0;
	s->hpc->input(s, in);
	if (s->req_rc < 0)
		hs_sd_finish_op(s, s->req_rc, s->reason);
	else if (s->req_rc > 0)
		hs_sd_finish_op(s, 0, "");
	s->req_rc = 0;
}

/* Apply everything latched on one slot, in a fixed order: hardware
 * events first (power fault, presence, latch, link, button), then
 * command completion, finished work, the timer, requests. */
static void run_slot(struct hs_slot *s)
{
	static const unsigned char order[] = {
		HS_IN_POWER_FAULT, HS_IN_PRESENCE, HS_IN_LATCH, HS_IN_LINK,
		HS_IN_BUTTON,
	};

	while (hs_sd_slot_busy(s)) {
		s->st_fresh = false; /* a new input: look again */
		if (s->hw_pending & ~(unsigned)HS_HW_CMD_DONE) {
			unsigned bits = s->hw_pending;

			s->hw_pending &= HS_HW_CMD_DONE;
			hs_sd_read_status(s);
			for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]);
			     i++)
				if (bits & HS_HW_OF(order[i]))
					s->hpc->input(s, order[i]);
			s->note[0] = '\0';
		} else if (s->cmd_event) {
			s->cmd_event = false;
			s->hpc->input(s, HS_IN_CMD);
		} else if (s->ndone) {
			s->hpc->input(s, HS_IN_DONE);
			pop_done(s);
		} else if (s->timer_fired) {
			s->timer_fired = false;
			s->hpc->input(s, HS_IN_TIMER);
		} else if (s->req >= 0) {
			enum hs_slot_input in = (enum hs_slot_input)s->req;

			s->req = -1;
			run_request(s, in);
		}
	}
	s->st_fresh = false;
}

/*
 * Compare the hardware with the machine's belief and latch what is
 * missing (an interrupt lost, a restart, a card inserted while nobody
 * was looking).
 */
void hs_sd_resync_slot(struct hs_slot *s)
{
	bool believed_present = s->fs != HS_FINE_EMPTY;

	hs_sd_read_status(s);
	if (!s->debouncing && s->st.present != believed_present)
		s->hw_pending |= HS_HW_PRESENCE;
	if ((s->fs == HS_FINE_ON || s->fs == HS_FINE_BLINKING_OFF ||
	     s->fs == HS_FINE_CONNECTED) &&
	    hs_sd_has(s, HS_SLOT_CAP_LINK_REPORT) && !s->st.link_up)
		s->hw_pending |= HS_HW_LINK;
}

static void start_hpc(struct hs_hpc *h)
{
	int rc;

	h->started = true;
	/* Turn notification on: a command of its own on PCIe. */
	rc = h->ops->notify(h->priv, h->irq);
	if (rc == -HS_ENOTSUP && h->irq) {
		h->irq = false;
		rc = h->ops->notify(h->priv, false);
	}
	if (rc == HS_HPC_PENDING) {
		h->cmd_settle_all = true;
		arm_hpc(h, &h->cmd_tm,
			     h->core->params.cmd_timeout);
	}
	for (unsigned n = 0; n < h->nslots; n++) {
		struct hs_slot *s = &h->slots[n];

		hs_sd_read_status(s);
		if (hs_sd_populated(s)) {
			/* Configured at boot (or before a restart). */
			s->fs = HS_FINE_ON;
			s->ir_known = s->d.immediate_ready_ok &&
				      hs_slot_immediate_ready(h->bridge,
							      s->d.devnum);
			hs_sd_want(s, 1, HS_IND_ON, HS_IND_OFF, 1, 1);
			hs_sd_configured(s, true);
		} else {
			s->fs = HS_FINE_EMPTY;
			hs_sd_want(s, 0, HS_IND_OFF, HS_IND_OFF, 0, HS_KEEP);
		}
		hs_sd_emit(s, HS_EV_SLOT_STATE, (int)hs_sd_state(s),
			   (int)hs_sd_state(s),
		     "controller started");
		hs_sd_resync_slot(s);
		/* A fault latched before we started (a restart after one):
		 * the slot is faulted, as it was.  Only with a card in it:
		 * an empty SHPC slot may read as faulted (QEMU's do). */
		if (s->st.power_fault && s->st.present && !hs_sd_populated(s))
			s->hw_pending |= HS_HW_POWER_FAULT;
	}
	if (!h->irq || (h->flags & HS_HPC_POLL_REMOVAL) || h->cmd_settle_all)
		arm_hpc(h, &h->poll_tm,
			     h->cmd_settle_all && !h->irq
				     ? cmd_poll(h)
				     : h->core->params.poll_period);
}

/* How soon to look again for a command's completion when nothing will
 * interrupt: 10 ms, or the poll period when that is shorter. */
static hs_time_t cmd_poll(const struct hs_hpc *h)
{
	hs_time_t p = h->core->params.poll_period;

	return p && p < HS_MSEC(10) ? p : HS_MSEC(10);
}

static bool hpc_busy(const struct hs_hpc *h)
{
	if (h->irq_latched)
		return true;
	for (unsigned n = 0; n < h->nslots; n++)
		if (hs_sd_slot_busy(&h->slots[n]) ||
		    (h->slots[n].hw_pending & HS_HW_CMD_DONE))
			return true;
	return false;
}

static void collect_outcome(struct hs_hpc *h);

static void dispatch(void *arg)
{
	struct hs_hpc *h = arg;
	unsigned rounds = 0;

	if (h->dispatching)
		return;
	h->dispatching = true;
	if (!h->started)
		start_hpc(h);
	hs_sd_cmd_kick(h);
	while (hpc_busy(h)) {
		if (++rounds > 64) {
			/* A controller that never stops reporting: give the
			 * rest of the system a turn and come back. */
			arm_hpc(h, &h->dispatch_tm,
				     HS_MSEC(1));
			break;
		}
		if (h->irq_latched) {
			h->irq_latched = false;
			h->collect_failed = false;
			h->ops->collect(h->priv);
			collect_outcome(h);
		}
		for (unsigned n = 0; n < h->nslots; n++) {
			struct hs_slot *s = &h->slots[n];

			if (s->hw_pending & HS_HW_CMD_DONE) {
				s->hw_pending &= ~(unsigned)HS_HW_CMD_DONE;
				if (h->cmd_slot >= 0 || h->cmd_settle_all)
					cmd_finished(h);
			}
		}
		for (unsigned n = 0; n < h->nslots; n++)
			run_slot(&h->slots[n]);
		hs_sd_cmd_kick(h);
	}
	h->dispatching = false;
}

/* What collect() left latched in the controller is still there when it
 * could not read it; an edge-triggered interrupt will not come again
 * for it, so look again soon, a few times, then compare each slot with
 * its status (a lost event is then seen as a difference). */
#define COLLECT_RETRIES 5

static void collect_outcome(struct hs_hpc *h)
{
	if (!h->collect_failed) {
		h->collect_retries = 0;
		return;
	}
	if (h->collect_retries++ < COLLECT_RETRIES) {
		arm_hpc(h, &h->retry_tm, HS_MSEC(10));
		return;
	}
	hs_log(h->core->plat, HS_LOG_WARN, "%pB: hot-plug controller's events "
	       "unreadable %u times in a row; comparing its slots with their "
	       "status instead", &h->bridge->bdf, h->collect_retries);
	h->collect_retries = 0;
	for (unsigned n = 0; n < h->nslots; n++)
		hs_sd_resync_slot(&h->slots[n]);
}

static void retry_tick(void *arg)
{
	struct hs_hpc *h = arg;

	h->irq_latched = true;
	dispatch(h);
}

void hs_sd_kick(struct hs_hpc *h)
{
	if (h->dispatching)
		return; /* the running dispatch loop picks it up */
	arm_hpc(h, &h->dispatch_tm, 0);
}

static void poll_tick(void *arg)
{
	struct hs_hpc *h = arg;

	h->irq_latched = true;
	if (!h->irq || (h->flags & HS_HPC_POLL_REMOVAL) || h->notify_unsure) {
		for (unsigned n = 0; n < h->nslots; n++)
			hs_sd_resync_slot(&h->slots[n]);
	}
	/* While a command is in flight and nothing interrupts, look again
	 * soon for its completion. */
	if ((h->cmd_slot >= 0 || h->cmd_settle_all) && !h->irq)
		arm_hpc(h, &h->poll_tm, cmd_poll(h));
	else if (!h->irq || (h->flags & HS_HPC_POLL_REMOVAL) ||
		 h->notify_unsure)
		arm_hpc(h, &h->poll_tm,
			     h->core->params.poll_period);
	dispatch(h);
}

static void slot_timer(void *arg)
{
	struct hs_slot *s = arg;

	s->timer_fired = true;
	hs_sd_kick(s->hpc);
}

static void latch_done(struct hs_slot *s, enum hs_sd_done_kind kind, int rc,
		       const char *msg)
{
	struct hs_sd_done *d;

	if (s->ndone == HS_SD_MAX_DONE)
		pop_done(s); /* the oldest is stale by now */
	d = &s->done[s->ndone++];
	d->kind = kind;
	d->rc = rc;
	hs_snprintf(d->msg, sizeof(d->msg), "%s", msg ? msg : "");
	hs_sd_kick(s->hpc);
}

void hs_sd_add_done(void *arg, int rc, const char *msg)
{
	latch_done(arg, DONE_ADD, rc, msg);
}

void hs_sd_remove_done(void *arg, int rc, const char *msg)
{
	latch_done(arg, DONE_REMOVE, rc, msg);
}

/* ---- the controller's side ---------------------------------------------- */

void hs_sd_init(struct hs_hpc *h)
{
	h->cmd_slot = -1;
	hs_timer_init(&h->dispatch_tm, dispatch, h);
	hs_timer_init(&h->poll_tm, poll_tick, h);
	hs_timer_init(&h->retry_tm, retry_tick, h);
	hs_timer_init(&h->cmd_tm, cmd_timeout, h);
	for (unsigned n = 0; n < h->nslots; n++)
		hs_timer_init(&h->slots[n].timer, slot_timer, &h->slots[n]);
}

void hs_sd_fini(struct hs_hpc *h)
{
	struct hs_core *core = h->core;

	hs_timer_cancel(&core->timers, &h->dispatch_tm);
	hs_timer_cancel(&core->timers, &h->poll_tm);
	hs_timer_cancel(&core->timers, &h->retry_tm);
	hs_timer_cancel(&core->timers, &h->cmd_tm);
	for (unsigned n = 0; n < h->nslots; n++)
		hs_timer_cancel(&core->timers, &h->slots[n].timer);
}

void hs_hpc_interrupt(struct hs_hpc *h)
{
	h->irq_latched = true;
	hs_sd_kick(h);
}

void hs_hpc_report(struct hs_hpc *h, unsigned slot, unsigned events,
		   const char *note)
{
	struct hs_slot *s;

	if (slot >= h->nslots)
		return;
	s = &h->slots[slot];
	s->hw_pending |= events;
	s->st_fresh = false;
	if (note)
		hs_snprintf(s->note, sizeof(s->note), "%s", note);
	hs_sd_kick(h);
}

void hs_hpc_collect_failed(struct hs_hpc *h)
{
	h->collect_failed = true;
}

struct hs_dev *hs_hpc_bridge(const struct hs_hpc *h)
{
	return h->bridge;
}

bool hs_hpc_irq_mode(const struct hs_hpc *h)
{
	return h->irq;
}

/* The address of function fn of the card in a slot: on the bridge's
 * secondary bus, at the slot's device number. */
static int slot_bdf(const struct hs_hpc *h, unsigned slot, unsigned fn,
		    hs_bdf_t *bdf)
{
	unsigned bus;

	if (slot >= h->nslots || fn > 7 ||
	    hs_dev_secondary_bus(h->bridge, &bus))
		return -HS_ENODEV;
	*bdf = HS_BDF(HS_BDF_SEG(h->bridge->bdf), bus, h->slots[slot].d.devnum,
		      fn);
	return 0;
}

int hs_hpc_cfg_read(struct hs_hpc *h, unsigned slot, unsigned fn,
		    uint16_t off, unsigned width, uint32_t *val)
{
	const struct hs_platform *p = h->core->plat;
	hs_bdf_t bdf;

	*val = width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
	if (slot_bdf(h, slot, fn, &bdf))
		return -HS_ENODEV;
	return p->ops->cfg_read(p->ctx, bdf, off, width, val);
}

int hs_hpc_cfg_write(struct hs_hpc *h, unsigned slot, unsigned fn,
		     uint16_t off, unsigned width, uint32_t val)
{
	const struct hs_platform *p = h->core->plat;
	hs_bdf_t bdf;

	if (slot_bdf(h, slot, fn, &bdf))
		return -HS_ENODEV;
	return p->ops->cfg_write(p->ctx, bdf, off, width, val);
}

/* ---- drills and reconciliation ------------------------------------------ */

void hs_slot_drill(struct hs_slot *s, enum hs_slot_input in)
{
	/* Counted apart by the table (a drilled DONE is DONE_STALE). */
	if (in == HS_IN_DONE) {
		latch_done(s, DONE_STALE, -HS_ECANCELED, "drill");
		return;
	}
	if ((unsigned)in >= HS_IN_COUNT)
		return;
	if (in <= HS_IN_LINK)
		s->hw_pending |= HS_HW_OF(in);
	else if (in == HS_IN_CMD)
		s->cmd_event = true;
	else if (in == HS_IN_TIMER)
		s->timer_fired = true;
	else if (s->op == OP_NONE && s->req < 0)
		s->req = (int)in; /* a request, when none is in progress */
	else
		in = HS_IN_COUNT; /* nothing latched */
	if (in != HS_IN_COUNT)
		s->drilled |= 1u << in;
	hs_sd_kick(s->hpc);
}

void hs_core_slots_resync(struct hs_core *core)
{
	for (struct hs_hpc *h = core->hpcs; h; h = h->next) {
		if (!h->started)
			continue; /* starting reconciles anyway */
		h->irq_latched = true;
		for (unsigned n = 0; n < h->nslots; n++)
			hs_sd_resync_slot(&h->slots[n]);
		hs_sd_kick(h);
	}
}
