/*
 * hs_slot.c - the slot state machine, the controllers' event dispatcher
 * and their command queue.
 *
 * Owns: struct hs_hpc and struct hs_slot; the one state table every
 * controller kind shares (PCIe native, SHPC, CompactPCI); the operator's
 * requests; start-up reconciliation; and the waiting the PCIe Base spec
 * asks for (6.7.3 standard usage model: 5 s button window, Command
 * Completed; 6.6.1: 100 ms after the link before the first config
 * request, Configuration Request Retry Status for up to 1 s).
 *
 * Nothing here sleeps or touches registers.  Interrupts, timers and
 * completions only latch (hw_pending, timer_fired, cmd_event, done[]);
 * one dispatcher per controller applies them in a fixed order, so a
 * cell of the table never runs inside another.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_driver.h"
#include "hs_add.h"
#include "hs_scan.h"
#include "hs_slot.h"

enum step {
	STEP_NONE = 0,
	STEP_POWER,     /* powering on: power-on command in flight */
	STEP_LINK,      /* waiting for the link (or the fixed wait) */
	STEP_SETTLE,    /* 100 ms after link up */
	STEP_READY,     /* asking the card until it answers */
	STEP_CONFIG,    /* enumerating, assigning, binding */
	STEP_QUIESCE,   /* powering off: drivers quiescing */
	STEP_POWEROFF,  /* power-off command in flight */
	STEP_RETRY,     /* a failed unconfigure is tried again */
};

enum done_kind { DONE_ADD = 1, DONE_REMOVE = 2, DONE_STALE = 3 };

struct done_rec {
	enum done_kind kind;
	int rc;
	char msg[320];
};

enum op_kind { OP_NONE = 0, OP_ENABLE, OP_DISABLE, OP_REPLACE };

#define MAX_DONE 4
#define REMOVE_RETRIES 3

struct hs_slot {
	struct hs_hpc *hpc;
	unsigned index;
	struct hs_hpc_slot_desc d;
	char name[16];

	enum hs_slot_state state;
	enum step step;
	struct hs_slot_status st;     /* as last read */
	/* st was read while handling the current input and no command has
	 * gone out since: handlers of that input reuse it (one status read
	 * per input, as pciehp reads once per event; issue #18).  Cleared
	 * between inputs, so no decision rests on an older read. */
	bool st_fresh;
	unsigned hw_pending;          /* latched enum hs_hw_event bits */
	char note[96];                /* the controller's word on them */

	/* Commands: what the hardware should show, what it was told. */
	struct hs_slot_cmd want, have;
	bool cmd_event;               /* commands settled: feed HS_IN_CMD */

	struct hs_timer timer;        /* the state's one deadline */
	bool timer_fired;
	bool debouncing;
	hs_time_t link_up_at;
	hs_time_t ready_deadline;
	bool ir_known;                /* function 0 reported Immediate
					 Readiness; the card never left */
	unsigned retries;

	enum hs_slot_policy policy;
	enum op_kind op;              /* the request in progress */
	hs_done_fn op_done;
	void *op_arg;
	int req;                      /* latched request (HS_IN_*), -1 */
	int req_rc;                   /* verdict of the last request */

	struct done_rec done[MAX_DONE];
	unsigned ndone;

	char reason[352];
	unsigned long transitions;
};

struct hs_hpc {
	struct hs_core *core;
	struct hs_hpc *next;
	struct hs_dev *bridge;
	const struct hs_hpc_ops *ops;
	void *priv;
	unsigned flags;
	unsigned nslots;
	struct hs_slot *slots;
	bool irq;                     /* interrupt mode */
	bool started;
	volatile bool irq_latched;
	bool dispatching;
	int cmd_slot;                 /* slot whose command is in flight */
	bool cmd_settle_all;          /* notify()'s command is in flight */
	bool collect_failed;          /* hs_hpc_collect_failed() this time */
	bool notify_unsure;           /* notify()'s command timed out */
	unsigned collect_retries;     /* failed collects in a row */
	struct hs_timer dispatch_tm, poll_tm, cmd_tm, retry_tm;
};

static void kick(struct hs_hpc *h);
static void cmd_kick(struct hs_hpc *h);

/* ---- small helpers --------------------------------------------------- */

static struct hs_core *core_of(const struct hs_slot *s)
{
	return s->hpc->core;
}

static hs_time_t now_of(const struct hs_slot *s)
{
	return hs_now(&core_of(s)->timers);
}

static hs_time_t cmd_poll(const struct hs_hpc *h);

static const struct hs_core_params *params(const struct hs_slot *s)
{
	return &core_of(s)->params;
}

static bool has(const struct hs_slot *s, unsigned cap)
{
	return (s->d.caps & cap) != 0;
}

static void slog(const struct hs_slot *s, enum hs_log_level lvl,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void slog(const struct hs_slot *s, enum hs_log_level lvl,
		 const char *fmt, ...)
{
	char line[224];
	va_list ap;

	va_start(ap, fmt);
	hs_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	hs_log(core_of(s)->plat, lvl, "slot %s: %s", s->name, line);
}

static void emit(struct hs_slot *s, enum hs_event_type type, int from,
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
	ev.time = now_of(s);
	hs_emit(core_of(s), &ev);
}

/* Something the operator must know: logged, kept as the slot's reason,
 * and sent as an event. */
static void alert(struct hs_slot *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void alert(struct hs_slot *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hs_vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
	slog(s, HS_LOG_WARN, "%s", s->reason);
	emit(s, HS_EV_SLOT_ALERT, (int)s->state, (int)s->state, s->reason);
}

static void set_state(struct hs_slot *s, enum hs_slot_state to,
		      const char *why)
{
	enum hs_slot_state from = s->state;

	/* Whatever the old state was waiting for is over. */
	hs_timer_cancel(&core_of(s)->timers, &s->timer);
	s->timer_fired = false;
	s->debouncing = false;
	if (to == from)
		return;
	s->state = to;
	s->transitions++;
	slog(s, HS_LOG_INFO, "%s -> %s%s%s", hs_slot_state_name(from),
	     hs_slot_state_name(to), why ? ": " : "", why ? why : "");
	emit(s, HS_EV_SLOT_STATE, (int)from, (int)to, why);
}

static void arm(struct hs_slot *s, hs_time_t delay)
{
	s->timer_fired = false;
	hs_timer_arm(&core_of(s)->timers, &s->timer, delay);
}

static void arm_at(struct hs_slot *s, hs_time_t when)
{
	s->timer_fired = false;
	hs_timer_arm_at(&core_of(s)->timers, &s->timer, when);
}

/* End the request in progress with rc (0 or -errno) and a message. */
static void finish_op(struct hs_slot *s, int rc, const char *msg)
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

static bool presence_enables(const struct hs_slot *s)
{
	switch (s->policy) {
	case HS_SLOT_POLICY_PRESENCE:
		return true;
	case HS_SLOT_POLICY_REQUEST:
	case HS_SLOT_POLICY_DISABLED:
		return false;
	default:
		/* PCIe standard usage model: a slot with an attention
		 * button waits for it. */
		return !has(s, HS_SLOT_CAP_BUTTON);
	}
}

static void read_status(struct hs_slot *s)
{
	struct hs_slot_status st;

	if (s->st_fresh)
		return;
	if (s->hpc->ops->status(s->hpc->priv, s->index, &st) == 0) {
		s->st = st;
		s->st_fresh = true;
	}
}

/* ---- commands ---------------------------------------------------------- */

static void want(struct hs_slot *s, int power, int pind, int aind,
		 int lock, int link)
{
	if (power != HS_KEEP)
		s->want.power = (int8_t)power;
	if (pind != HS_KEEP)
		s->want.power_ind = (int8_t)pind;
	if (aind != HS_KEEP)
		s->want.attn_ind = (int8_t)aind;
	if (lock != HS_KEEP && !params(s)->leave_interlock)
		s->want.interlock = (int8_t)lock;
	if (link != HS_KEEP)
		s->want.link = (int8_t)link;
}

/* The command that would bring the hardware to what is wanted, limited
 * to what the slot has; false when nothing needs saying. */
static bool pending_cmd(const struct hs_slot *s, struct hs_slot_cmd *c)
{
	bool any = false;

	c->power = c->power_ind = c->attn_ind = c->interlock = c->link =
		HS_KEEP;
#define FIELD(f, cap)                                                    \
	if (has(s, cap) && s->want.f != HS_KEEP && s->want.f != s->have.f) { \
		c->f = s->want.f;                                        \
		any = true;                                              \
	}
	FIELD(power, HS_SLOT_CAP_POWER)
	FIELD(power_ind, HS_SLOT_CAP_PWR_IND)
	FIELD(attn_ind, HS_SLOT_CAP_ATTN_IND)
	FIELD(interlock, HS_SLOT_CAP_INTERLOCK)
	FIELD(link, HS_SLOT_CAP_LINK_CTL)
#undef FIELD
	return any;
}

static bool cmd_idle(const struct hs_slot *s)
{
	struct hs_slot_cmd c;

	return s->hpc->cmd_slot != (int)s->index && !pending_cmd(s, &c);
}

/* Ask for the wanted state; HS_IN_CMD follows once it is there. */
static void command(struct hs_slot *s)
{
	if (cmd_idle(s)) {
		s->cmd_event = true;
		kick(s->hpc);
		return;
	}
	cmd_kick(s->hpc);
}

static void cmd_finished(struct hs_hpc *h)
{
	int i = h->cmd_slot;

	h->cmd_slot = -1;
	h->cmd_settle_all = false;
	hs_timer_cancel(&h->core->timers, &h->cmd_tm);
	if (i >= 0 && cmd_idle(&h->slots[i]))
		h->slots[i].cmd_event = true;
	kick(h);
}

/* Issue the next command, one at a time per controller (the SHPC has
 * one command register for all its slots; PCIe Base 6.7.3.2 asks
 * software to wait for Command Completed between writes). */
static void cmd_kick(struct hs_hpc *h)
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
		if (c.power != HS_KEEP)
			s->have.power = c.power;
		if (c.power_ind != HS_KEEP)
			s->have.power_ind = c.power_ind;
		if (c.attn_ind != HS_KEEP)
			s->have.attn_ind = c.attn_ind;
		if (c.interlock != HS_KEEP)
			s->have.interlock = c.interlock;
		if (c.link != HS_KEEP)
			s->have.link = c.link;
		s->st_fresh = false; /* power and link may change now */
		rc = h->ops->command(h->priv, n, &c);
		if (rc == HS_HPC_PENDING) {
			h->cmd_slot = (int)n;
			hs_timer_arm(&h->core->timers, &h->cmd_tm,
				     pp->cmd_timeout);
			if (!h->irq) {
				/* Nobody will interrupt: look soon. */
				hs_timer_arm(&h->core->timers, &h->poll_tm,
					     cmd_poll(h));
			}
			return;
		}
		if (rc < 0)
			alert(s, "controller command failed (%d)", rc);
		if (cmd_idle(s))
			s->cmd_event = true;
		kick(h);
	}
}

static void cmd_timeout(void *arg)
{
	struct hs_hpc *h = arg;

	if (h->cmd_slot >= 0)
		alert(&h->slots[h->cmd_slot],
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
		       "hot-plug controller at %02x:%02x.%u: turning "
		       "notification on timed out; its slots are polled as "
		       "well", HS_BDF_BUS(h->bridge->bdf),
		       HS_BDF_DEV(h->bridge->bdf), HS_BDF_FN(h->bridge->bdf));
		hs_timer_arm(&h->core->timers, &h->poll_tm,
			     h->core->params.poll_period);
	} else {
		hs_log(h->core->plat, HS_LOG_WARN,
		       "hot-plug controller at %02x:%02x.%u: command "
		       "time-out", HS_BDF_BUS(h->bridge->bdf),
		       HS_BDF_DEV(h->bridge->bdf), HS_BDF_FN(h->bridge->bdf));
	}
	cmd_finished(h);
}

/* ---- the steps ----------------------------------------------------------- */

static bool populated(const struct hs_slot *s)
{
	return hs_slot_populated(s->hpc->bridge, s->d.devnum);
}

static void add_done(void *arg, int rc, const char *msg);
static void remove_done(void *arg, int rc, const char *msg);

/* Everything is off: power, indicators as given, interlock free. */
static void want_off(struct hs_slot *s, int attn)
{
	want(s, 0, HS_IND_OFF, attn, 0, HS_KEEP);
}

/* Take down whatever the core still has in the slot, at once: the card
 * is gone, so nothing waits for it (drivers see -ENODEV, then gone()). */
static void drop_devices(struct hs_slot *s)
{
	struct hs_hpc *h = s->hpc;
	int rc;

	if (!populated(s))
		return;
	if (h->ops->configured)
		h->ops->configured(h->priv, s->index, false);
	rc = hs_core_surprise_remove(h->core, h->bridge, s->d.devnum);
	if (rc && rc != -HS_ENOENT)
		alert(s, "tearing down the devices of the pulled card failed "
		      "(%d); they stay marked present", rc);
}

static void surprise(struct hs_slot *s, enum hs_slot_state to,
		     const char *why)
{
	bool was_up = populated(s);

	drop_devices(s);
	if (was_up)
		alert(s, "surprise removal: %s%s%s%s", why,
		      s->note[0] ? " (" : "", s->note, s->note[0] ? ")" : "");
	if (to == HS_SLOT_EMPTY)
		s->ir_known = false;
	want_off(s, to == HS_SLOT_FAULT ? HS_IND_ON : HS_IND_OFF);
	s->step = STEP_NONE;
	set_state(s, to, why);
	command(s);
	/* A replacement goes on waiting for the new card. */
	if (s->op != OP_REPLACE || to == HS_SLOT_FAULT)
		finish_op(s, -HS_ENODEV, why);
}

static void fault(struct hs_slot *s)
{
	surprise(s, HS_SLOT_FAULT, "power fault");
	alert(s, "power fault: the slot stays off until the card is removed "
	      "or the fault is acknowledged");
}

/* A failed enable: unwind, power off, attention on, say why. */
static void fail_enable(struct hs_slot *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail_enable(struct hs_slot *s, const char *fmt, ...)
{
	char why[320];
	va_list ap;

	va_start(ap, fmt);
	hs_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	drop_devices(s);
	alert(s, "enable failed: %s", why);
	want(s, 0, HS_IND_OFF, HS_IND_ON, 0, HS_KEEP);
	s->step = STEP_NONE;
	read_status(s);
	set_state(s, s->st.present ? HS_SLOT_OFF : HS_SLOT_EMPTY, why);
	command(s);
	finish_op(s, -HS_EIO, s->reason);
}

/* Refuse a request: the verdict goes back to the caller. */
static void refuse(struct hs_slot *s, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse(struct hs_slot *s, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hs_vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
	slog(s, HS_LOG_NOTICE, "request refused: %s", s->reason);
	s->req_rc = rc;
}

static void start_enable(struct hs_slot *s)
{
	read_status(s);
	if (!s->st.present) {
		refuse(s, -HS_ENOENT, "the slot is empty");
		return;
	}
	if (has(s, HS_SLOT_CAP_MRL) && s->st.latch_open &&
	    !has(s, HS_SLOT_CAP_LATCH_ASKS)) {
		refuse(s, -HS_EPERM, "the latch (MRL) is open");
		return;
	}
	/* A CompactPCI board the backplane powers, its ejector open: it
	 * asked to be taken out and says nothing more until the handle
	 * closes (INS, PICMG 2.1); configured now, a reset would go unseen.
	 * Where the slot switches power, powering the board on makes it
	 * tell its handle anew. */
	if (has(s, HS_SLOT_CAP_LATCH_ASKS) && !has(s, HS_SLOT_CAP_POWER) &&
	    s->st.latch_open) {
		refuse(s, -HS_EPERM, "the ejector handle is open: close it to "
		       "bring the board in");
		return;
	}
	s->reason[0] = '\0';
	s->step = STEP_POWER;
	s->link_up_at = 0;
	set_state(s, HS_SLOT_POWERING_ON, NULL);
	/* The hardware may have cut power or the link on its own since it
	 * was last told (an SHPC isolates a slot whose MRL opens): say it
	 * again rather than trust what was said. */
	s->have.power = s->have.link = HS_KEEP;
	want(s, 1, HS_IND_BLINK, HS_IND_OFF, 1, 1);
	command(s);
}

static void start_disable(struct hs_slot *s)
{
	struct hs_hpc *h = s->hpc;

	s->step = STEP_QUIESCE;
	set_state(s, HS_SLOT_POWERING_OFF, NULL);
	want(s, HS_KEEP, HS_IND_BLINK, HS_KEEP, HS_KEEP, HS_KEEP);
	cmd_kick(h);
	if (h->ops->configured && populated(s))
		h->ops->configured(h->priv, s->index, false);
	/* The outcome comes back through remove_done: latched, then
	 * HS_IN_DONE. */
	hs_core_hot_remove(h->core, h->bridge, s->d.devnum, remove_done, s);
}

static void power_off_step(struct hs_slot *s)
{
	s->step = STEP_POWEROFF;
	/* The link is disabled with the power, so the card is not seen to
	 * fall off the bus (PCIe Base 7.5.3.7). */
	want(s, 0, HS_IND_OFF, HS_IND_OFF, 0, 0);
	command(s);
}

static void settle_step(struct hs_slot *s)
{
	s->step = STEP_SETTLE;
	if (s->d.immediate_ready_ok && s->ir_known) {
		/* Immediate Readiness (PCIe Base 7.5.1.1.4): no 100 ms. */
		s->step = STEP_READY;
		s->ready_deadline = now_of(s) + params(s)->ready_timeout;
		arm(s, 0);
		return;
	}
	arm_at(s, s->link_up_at + s->d.settle);
}

static void link_step(struct hs_slot *s)
{
	s->step = STEP_LINK;
	read_status(s);
	if (has(s, HS_SLOT_CAP_LINK_REPORT)) {
		if (s->st.link_up) {
			if (!s->link_up_at)
				s->link_up_at = now_of(s);
			settle_step(s);
			return;
		}
		arm(s, params(s)->link_timeout);
		return;
	}
	/* No way to see the link: the fixed wait, then the settle time. */
	arm(s, s->d.link_wait);
}

/* id: what the readiness poll just read at function 0 (0: nothing). */
static void config_step(struct hs_slot *s, uint32_t id)
{
	struct hs_hpc *h = s->hpc;
	unsigned bus;
	int rc;

	s->step = STEP_CONFIG;
	/* The scan need not read the ID again if it runs now; a hot-add
	 * that waits for a removal reads it when it runs. */
	if (id && hs_dev_secondary_bus(h->bridge, &bus) == 0)
		hs_scan_hint_id(h->core,
				HS_BDF(HS_BDF_SEG(h->bridge->bdf), bus,
				       s->d.devnum, 0), id);
	/* Waits behind a removal on the same bus, then runs; the result
	 * is latched by add_done. */
	rc = hs_core_hot_add_slot_async(h->core, h->bridge, s->d.devnum,
					add_done, s);
	hs_scan_hint_clear(h->core);
	if (rc == -HS_ENOMEM)
		fail_enable(s, "out of memory");
}

/* Readiness (PCIe Base 2.3.1, 6.6.1): a Vendor ID of 0001h is CRS with
 * software visibility; all ones is no answer yet. */
static void ready_step(struct hs_slot *s)
{
	const struct hs_core_params *pp = params(s);
	uint32_t id = 0xffffffffu;
	int rc;

	s->step = STEP_READY;
	rc = hs_hpc_cfg_read(s->hpc, s->index, 0, 0, 4, &id);
	if (rc == 0 && (id & 0xffff) != 0xffff && (id & 0xffff) != 0x0001 &&
	    (id & 0xffff) != 0) {
		config_step(s, id);
		return;
	}
	if (now_of(s) >= s->ready_deadline) {
		fail_enable(s, "the card did not answer within %llu ms of "
			    "the link coming up (%s)",
			    (unsigned long long)((pp->ready_timeout +
						  s->d.settle) / HS_MSEC(1)),
			    (id & 0xffff) == 0x0001 ? "still Retry Status"
						    : "no response");
		return;
	}
	arm(s, pp->ready_poll);
}

/* ---- the cells ------------------------------------------------------------ */

typedef void (*cell_fn)(struct hs_slot *s);

static void c_ignore(struct hs_slot *s)
{
	(void)s;
}

/* A late result of work the slot no longer waits for.  If a late add
 * did configure devices in a slot that is not coming up, they go. */
static void c_stale_done(struct hs_slot *s)
{
	if (populated(s) && s->state != HS_SLOT_ON &&
	    s->state != HS_SLOT_BLINKING_OFF &&
	    s->state != HS_SLOT_POWERING_OFF) {
		slog(s, HS_LOG_NOTICE, "late configuration undone");
		drop_devices(s);
	}
}

static void c_debounce(struct hs_slot *s)
{
	s->debouncing = true;
	arm(s, params(s)->debounce);
}

static void c_fault(struct hs_slot *s)
{
	fault(s);
}

static void c_refuse_empty(struct hs_slot *s)
{
	refuse(s, -HS_ENOENT, "the slot is empty");
}

static void c_refuse_busy(struct hs_slot *s)
{
	refuse(s, -HS_EBUSY, "the slot is busy (%s); try again when it is "
	       "done", hs_slot_state_name(s->state));
}

static void c_refuse_fault(struct hs_slot *s)
{
	refuse(s, -HS_EPERM, "a power fault is latched: remove the card or "
	       "acknowledge the fault with a disable request first");
}

static void c_ok(struct hs_slot *s)
{
	s->req_rc = 1; /* accepted and already true: done(0) at once */
}

/* EMPTY + TIMER: presence held still.  The debounce is over whatever
 * presence says: a later difference (a poll's resync) is news again. */
static void c_empty_settled(struct hs_slot *s)
{
	s->debouncing = false;
	read_status(s);
	if (!s->st.present)
		return;
	set_state(s, HS_SLOT_OFF, "card inserted");
	if (s->op == OP_REPLACE || presence_enables(s)) {
		if (s->op == OP_REPLACE)
			s->op = OP_ENABLE; /* the new card: done when up */
		s->req_rc = 0;
		start_enable(s);
		if (s->req_rc < 0)
			finish_op(s, s->req_rc, s->reason);
		s->req_rc = 0;
	}
}

/* OFF + TIMER: presence held still (the debounce is over, as above). */
static void c_off_settled(struct hs_slot *s)
{
	s->debouncing = false;
	read_status(s);
	if (!s->st.present) {
		s->ir_known = false;
		want_off(s, HS_IND_OFF);
		set_state(s, HS_SLOT_EMPTY, "card removed");
		command(s);
	}
}

static void c_off_latch(struct hs_slot *s)
{
	if (s->st.latch_open || !s->st.present || !presence_enables(s))
		return;
	start_enable(s);
	s->req_rc = 0;
}

static void c_off_button(struct hs_slot *s)
{
	if (has(s, HS_SLOT_CAP_MRL) && s->st.latch_open &&
	    !has(s, HS_SLOT_CAP_LATCH_ASKS)) {
		alert(s, "button ignored: the latch (MRL) is open");
		return;
	}
	if (s->policy == HS_SLOT_POLICY_DISABLED) {
		alert(s, "button ignored: the slot is disabled by the operator");
		return;
	}
	set_state(s, HS_SLOT_BLINKING_ON, "attention button");
	want(s, HS_KEEP, HS_IND_BLINK, HS_KEEP, HS_KEEP, HS_KEEP);
	command(s);
	arm(s, params(s)->button_window);
}

static void c_enable(struct hs_slot *s)
{
	start_enable(s);
}

/* BLINKING_ON */
static void c_bon_presence(struct hs_slot *s)
{
	read_status(s);
	if (s->st.present)
		return;
	want_off(s, HS_IND_OFF);
	set_state(s, HS_SLOT_EMPTY, "card removed during the button window");
	command(s);
}

static void c_bon_cancel(struct hs_slot *s)
{
	want(s, HS_KEEP, HS_IND_OFF, HS_KEEP, HS_KEEP, HS_KEEP);
	set_state(s, HS_SLOT_OFF, "cancelled");
	command(s);
}

static void c_bon_latch(struct hs_slot *s)
{
	if (s->st.latch_open && !has(s, HS_SLOT_CAP_LATCH_ASKS))
		c_bon_cancel(s);
}

static void c_bon_disable(struct hs_slot *s)
{
	c_bon_cancel(s);
	c_ok(s);
}

/* POWERING_ON */
static void c_pon_presence(struct hs_slot *s)
{
	if (s->st.present)
		return;
	drop_devices(s);
	s->ir_known = false;
	alert(s, "card removed while powering on");
	want_off(s, HS_IND_OFF);
	s->step = STEP_NONE;
	set_state(s, HS_SLOT_EMPTY, "card removed");
	command(s);
	finish_op(s, -HS_ENODEV, "the card was removed while powering on");
}

static void c_pon_latch(struct hs_slot *s)
{
	if (s->st.latch_open && !has(s, HS_SLOT_CAP_LATCH_ASKS))
		fail_enable(s, "the latch (MRL) was opened");
}

static void c_pon_link(struct hs_slot *s)
{
	if (s->st.link_up) {
		if (s->step == STEP_LINK && has(s, HS_SLOT_CAP_LINK_REPORT)) {
			s->link_up_at = now_of(s);
			settle_step(s);
		}
		return;
	}
	if (s->step == STEP_SETTLE || s->step == STEP_READY ||
	    s->step == STEP_LINK) {
		/* The link dropped before the card was configured (contact
		 * bounce): wait for it again, from the start. */
		s->link_up_at = 0;
		link_step(s);
	}
}

static void c_pon_cmd(struct hs_slot *s)
{
	if (s->step == STEP_POWER)
		link_step(s);
}

static void c_pon_timer(struct hs_slot *s)
{
	switch (s->step) {
	case STEP_LINK:
		if (has(s, HS_SLOT_CAP_LINK_REPORT)) {
			fail_enable(s, "the link did not come up within "
				    "%llu ms of power-on",
				    (unsigned long long)(params(s)->link_timeout /
							 HS_MSEC(1)));
			return;
		}
		s->link_up_at = now_of(s);
		settle_step(s);
		return;
	case STEP_SETTLE:
		s->ready_deadline = now_of(s) + params(s)->ready_timeout;
		ready_step(s);
		return;
	case STEP_READY:
		ready_step(s);
		return;
	default:
		return;
	}
}

static void c_pon_done(struct hs_slot *s)
{
	struct done_rec *d = &s->done[0];

	if (s->step != STEP_CONFIG || d->kind != DONE_ADD) {
		c_stale_done(s);
		return;
	}
	if (d->rc) {
		fail_enable(s, "%s", d->msg[0] ? d->msg : "configuration failed");
		return;
	}
	if (!populated(s)) {
		fail_enable(s, "no function answered at device %u",
			    s->d.devnum);
		return;
	}
	/* Remember Immediate Readiness (Status bit 0) for the next power
	 * cycle of this same card. */
	s->ir_known = hs_slot_immediate_ready(s->hpc->bridge, s->d.devnum);
	if (s->hpc->ops->configured)
		s->hpc->ops->configured(s->hpc->priv, s->index, true);
	s->step = STEP_NONE;
	want(s, HS_KEEP, HS_IND_ON, HS_IND_OFF, HS_KEEP, HS_KEEP);
	set_state(s, HS_SLOT_ON, NULL);
	command(s);
	finish_op(s, 0, "");
}

/* ON */
static void c_on_presence(struct hs_slot *s)
{
	if (!s->st.present) {
		surprise(s, HS_SLOT_EMPTY, "card removed while in use");
		return;
	}
	/* Presence changed, yet a card is there: it left and came back
	 * between two looks (bouncing contacts, or an exchange quicker than
	 * we look).  Either way its power was interrupted and its
	 * configuration is gone, and it may be another card: a removal and
	 * an insertion, as Linux's pciehp treats it. */
	surprise(s, HS_SLOT_OFF, "presence changed while in use: the card "
		 "was reset or exchanged");
	if (s->state == HS_SLOT_OFF && presence_enables(s)) {
		start_enable(s);
		s->req_rc = 0;
	}
}

static void c_on_latch(struct hs_slot *s)
{
	if (!s->st.latch_open)
		return;
	if (has(s, HS_SLOT_CAP_LATCH_ASKS)) {
		start_disable(s); /* CompactPCI ejector: a request */
		return;
	}
	/* An open MRL takes the card's power (PCI Hot-Plug 1.1). */
	surprise(s, HS_SLOT_OFF, "the latch (MRL) was opened while in use");
}

static void c_on_button(struct hs_slot *s)
{
	set_state(s, HS_SLOT_BLINKING_OFF, "attention button");
	want(s, HS_KEEP, HS_IND_BLINK, HS_KEEP, HS_KEEP, HS_KEEP);
	command(s);
	arm(s, params(s)->button_window);
}

static void c_on_link(struct hs_slot *s)
{
	if (s->st.link_up || !has(s, HS_SLOT_CAP_LINK_REPORT))
		return;
	surprise(s, s->st.present ? HS_SLOT_OFF : HS_SLOT_EMPTY,
		 "the link went down");
	/* A card that is still there may train again. */
	if (s->state == HS_SLOT_OFF && presence_enables(s)) {
		start_enable(s);
		s->req_rc = 0;
	}
}

static void c_disable(struct hs_slot *s)
{
	start_disable(s);
}

/* BLINKING_OFF */
static void c_boff_cancel(struct hs_slot *s)
{
	want(s, HS_KEEP, HS_IND_ON, HS_KEEP, HS_KEEP, HS_KEEP);
	set_state(s, HS_SLOT_ON, "cancelled");
	command(s);
}

static void c_boff_enable(struct hs_slot *s)
{
	c_boff_cancel(s);
	c_ok(s);
}

/* POWERING_OFF */
static void c_poff_latch(struct hs_slot *s)
{
	if (!s->st.latch_open || has(s, HS_SLOT_CAP_LATCH_ASKS) ||
	    s->step == STEP_POWEROFF)
		return;
	surprise(s, HS_SLOT_OFF, "the latch (MRL) was opened while the "
		 "drivers were stopping");
}

static void c_poff_link(struct hs_slot *s)
{
	if (s->st.link_up || s->step == STEP_POWEROFF ||
	    !has(s, HS_SLOT_CAP_LINK_REPORT))
		return;
	surprise(s, s->st.present ? HS_SLOT_OFF : HS_SLOT_EMPTY,
		 "the link went down while the drivers were stopping");
}

static void c_poff_cmd(struct hs_slot *s)
{
	if (s->step != STEP_POWEROFF)
		return;
	s->step = STEP_NONE;
	read_status(s);
	if (s->op == OP_REPLACE) {
		/* Wait for the new card: EMPTY + TIMER brings it up. */
		set_state(s, s->st.present ? HS_SLOT_OFF : HS_SLOT_EMPTY,
			  "removed for replacement");
		return;
	}
	set_state(s, s->st.present ? HS_SLOT_OFF : HS_SLOT_EMPTY, NULL);
	finish_op(s, 0, "");
}

/* The card went while powering off.  Once power-off has been commanded
 * that is the expected end, not a surprise: QEMU deletes the card at
 * the Slot Control write that turns the slot off, and an operator may
 * pull it as soon as the indicator goes out. */
static void c_poff_presence(struct hs_slot *s)
{
	if (s->st.present)
		return;
	if (s->step == STEP_POWEROFF)
		c_poff_cmd(s);
	else
		surprise(s, HS_SLOT_EMPTY, "card removed while in use");
}

static void c_poff_timer(struct hs_slot *s)
{
	if (s->step == STEP_RETRY) {
		struct hs_hpc *h = s->hpc;

		s->step = STEP_QUIESCE;
		hs_core_hot_remove(h->core, h->bridge, s->d.devnum,
				   remove_done, s);
	}
}

static void c_poff_done(struct hs_slot *s)
{
	struct done_rec *d = &s->done[0];

	if (s->step != STEP_QUIESCE || d->kind != DONE_REMOVE) {
		c_stale_done(s);
		return;
	}
	if (d->rc == 0 || d->rc == -HS_ENOENT) {
		s->retries = 0;
		power_off_step(s);
		return;
	}
	if (d->rc == -HS_ENOMEM && s->retries < REMOVE_RETRIES) {
		/* The drivers are stopped but still bound: try again. */
		s->retries++;
		s->step = STEP_RETRY;
		arm(s, HS_MSEC(10));
		return;
	}
	/* Refused (a driver's veto, a critical device) or failed: the card
	 * stays in use. */
	s->retries = 0;
	alert(s, "removal refused: %s", d->msg[0] ? d->msg : "failed");
	if (s->hpc->ops->configured)
		s->hpc->ops->configured(s->hpc->priv, s->index, true);
	s->step = STEP_NONE;
	want(s, HS_KEEP, HS_IND_ON, HS_KEEP, HS_KEEP, HS_KEEP);
	set_state(s, HS_SLOT_ON, "removal refused");
	command(s);
	finish_op(s, d->rc, s->reason);
}

/* FAULT */
static void c_fault_presence(struct hs_slot *s)
{
	if (s->st.present)
		return;
	s->ir_known = false;
	want_off(s, HS_IND_OFF);
	set_state(s, HS_SLOT_EMPTY, "card removed: fault cleared");
	s->reason[0] = '\0';
	command(s);
}

static void c_fault_ack(struct hs_slot *s)
{
	read_status(s);
	want_off(s, HS_IND_OFF);
	set_state(s, s->st.present ? HS_SLOT_OFF : HS_SLOT_EMPTY,
		  "fault acknowledged");
	s->reason[0] = '\0';
	command(s);
	c_ok(s);
}

/*
 * THE TABLE.  Every (state, input) cell names what it does; docs/slots.md
 * is this table in prose (tests/cli/slot_table.sh keeps them equal).
 */
struct cell {
	cell_fn fn;
	const char *doc;
};

#define C(f, d) { f, d }
static const struct cell table[HS_SLOT_STATE_COUNT][HS_IN_COUNT] = {
	[HS_SLOT_EMPTY] = {
		[HS_IN_PRESENCE] = C(c_debounce, "debounce: wait for presence to hold still"),
		[HS_IN_LATCH] = C(c_ignore, "ignored (no card)"),
		[HS_IN_BUTTON] = C(c_ignore, "ignored (no card)"),
		[HS_IN_POWER_FAULT] = C(c_fault, "-> FAULT: power off, attention on"),
		[HS_IN_LINK] = C(c_ignore, "ignored (no card)"),
		[HS_IN_CMD] = C(c_ignore, "nothing (indicators settled)"),
		[HS_IN_TIMER] = C(c_empty_settled, "presence settled: card there -> OFF, then -> POWERING_ON if presence enables the slot or a replacement waits"),
		[HS_IN_DONE] = C(c_stale_done, "late result: devices configured meanwhile are torn down"),
		[HS_IN_ENABLE] = C(c_refuse_empty, "refused: the slot is empty"),
		[HS_IN_DISABLE] = C(c_refuse_empty, "refused: the slot is empty"),
	},
	[HS_SLOT_OFF] = {
		[HS_IN_PRESENCE] = C(c_debounce, "debounce: wait for presence to hold still"),
		[HS_IN_LATCH] = C(c_off_latch, "latch closed: -> POWERING_ON if presence enables the slot"),
		[HS_IN_BUTTON] = C(c_off_button, "-> BLINKING_ON: power indicator blinks, 5 s window (ignored with the MRL open or the slot disabled)"),
		[HS_IN_POWER_FAULT] = C(c_fault, "-> FAULT"),
		[HS_IN_LINK] = C(c_ignore, "ignored (not in use)"),
		[HS_IN_CMD] = C(c_ignore, "nothing (indicators settled)"),
		[HS_IN_TIMER] = C(c_off_settled, "presence settled: card gone -> EMPTY"),
		[HS_IN_DONE] = C(c_stale_done, "late result: devices configured meanwhile are torn down"),
		[HS_IN_ENABLE] = C(c_enable, "-> POWERING_ON (refused with the MRL open, or the ejector open on a cPCI board the backplane powers)"),
		[HS_IN_DISABLE] = C(c_ok, "already off: done"),
	},
	[HS_SLOT_BLINKING_ON] = {
		[HS_IN_PRESENCE] = C(c_bon_presence, "card gone -> EMPTY"),
		[HS_IN_LATCH] = C(c_bon_latch, "MRL opened: cancel -> OFF"),
		[HS_IN_BUTTON] = C(c_bon_cancel, "second press: cancel, power indicator off -> OFF"),
		[HS_IN_POWER_FAULT] = C(c_fault, "-> FAULT"),
		[HS_IN_LINK] = C(c_ignore, "ignored"),
		[HS_IN_CMD] = C(c_ignore, "nothing (indicator blinking)"),
		[HS_IN_TIMER] = C(c_enable, "window over: -> POWERING_ON"),
		[HS_IN_DONE] = C(c_stale_done, "late result: devices configured meanwhile are torn down"),
		[HS_IN_ENABLE] = C(c_enable, "skip the window: -> POWERING_ON"),
		[HS_IN_DISABLE] = C(c_bon_disable, "cancel -> OFF"),
	},
	[HS_SLOT_POWERING_ON] = {
		[HS_IN_PRESENCE] = C(c_pon_presence, "card gone: unwind, power off -> EMPTY"),
		[HS_IN_LATCH] = C(c_pon_latch, "MRL opened: fail, power off, attention on -> OFF"),
		[HS_IN_BUTTON] = C(c_ignore, "ignored while powering on"),
		[HS_IN_POWER_FAULT] = C(c_fault, "-> FAULT"),
		[HS_IN_LINK] = C(c_pon_link, "link up: start the 100 ms; link down: wait for it again"),
		[HS_IN_CMD] = C(c_pon_cmd, "power is on: wait for the link"),
		[HS_IN_TIMER] = C(c_pon_timer, "link time-out: fail; fixed link wait or 100 ms over: ask the card; no answer or Retry Status: ask again, fail at the deadline"),
		[HS_IN_DONE] = C(c_pon_done, "configured: power indicator on -> ON; failed: unwind, power off, attention on -> OFF"),
		[HS_IN_ENABLE] = C(c_refuse_busy, "refused: busy"),
		[HS_IN_DISABLE] = C(c_refuse_busy, "refused: busy"),
	},
	[HS_SLOT_ON] = {
		[HS_IN_PRESENCE] = C(c_on_presence, "card gone: surprise removal -> EMPTY; card there again (reset or exchanged): surprise removal -> OFF, and on again if presence enables the slot"),
		[HS_IN_LATCH] = C(c_on_latch, "MRL opened: surprise removal -> OFF; cPCI ejector opened: -> POWERING_OFF"),
		[HS_IN_BUTTON] = C(c_on_button, "-> BLINKING_OFF: power indicator blinks, 5 s window"),
		[HS_IN_POWER_FAULT] = C(c_fault, "surprise removal -> FAULT"),
		[HS_IN_LINK] = C(c_on_link, "link down: surprise removal -> OFF, and on again if presence enables the slot"),
		[HS_IN_CMD] = C(c_ignore, "nothing (indicators settled)"),
		[HS_IN_TIMER] = C(c_ignore, "ignored (nothing pending)"),
		[HS_IN_DONE] = C(c_stale_done, "ignored (late result)"),
		[HS_IN_ENABLE] = C(c_ok, "already on: done"),
		[HS_IN_DISABLE] = C(c_disable, "-> POWERING_OFF"),
	},
	[HS_SLOT_BLINKING_OFF] = {
		[HS_IN_PRESENCE] = C(c_on_presence, "as in ON"),
		[HS_IN_LATCH] = C(c_on_latch, "as in ON"),
		[HS_IN_BUTTON] = C(c_boff_cancel, "second press: cancel, power indicator on -> ON"),
		[HS_IN_POWER_FAULT] = C(c_fault, "surprise removal -> FAULT"),
		[HS_IN_LINK] = C(c_on_link, "as in ON"),
		[HS_IN_CMD] = C(c_ignore, "nothing (indicator blinking)"),
		[HS_IN_TIMER] = C(c_disable, "window over: -> POWERING_OFF"),
		[HS_IN_DONE] = C(c_stale_done, "ignored (late result)"),
		[HS_IN_ENABLE] = C(c_boff_enable, "cancel -> ON"),
		[HS_IN_DISABLE] = C(c_disable, "skip the window: -> POWERING_OFF"),
	},
	[HS_SLOT_POWERING_OFF] = {
		[HS_IN_PRESENCE] = C(c_poff_presence, "card gone: after power-off, done -> EMPTY; before, surprise removal, the quiesce ends -> EMPTY"),
		[HS_IN_LATCH] = C(c_poff_latch, "MRL opened before power-off: surprise removal -> OFF"),
		[HS_IN_BUTTON] = C(c_ignore, "ignored while powering off"),
		[HS_IN_POWER_FAULT] = C(c_fault, "surprise removal -> FAULT"),
		[HS_IN_LINK] = C(c_poff_link, "link down before power-off: surprise removal -> OFF"),
		[HS_IN_CMD] = C(c_poff_cmd, "power is off -> OFF (EMPTY if the card is gone)"),
		[HS_IN_TIMER] = C(c_poff_timer, "retry a removal that failed for lack of memory"),
		[HS_IN_DONE] = C(c_poff_done, "drivers gone: link disabled, power off; vetoed: power indicator on -> ON, the reason to the operator"),
		[HS_IN_ENABLE] = C(c_refuse_busy, "refused: busy"),
		[HS_IN_DISABLE] = C(c_refuse_busy, "refused: busy"),
	},
	[HS_SLOT_FAULT] = {
		[HS_IN_PRESENCE] = C(c_fault_presence, "card gone: fault cleared -> EMPTY"),
		[HS_IN_LATCH] = C(c_ignore, "ignored (fault latched)"),
		[HS_IN_BUTTON] = C(c_ignore, "ignored (fault latched)"),
		[HS_IN_POWER_FAULT] = C(c_ignore, "ignored (already latched)"),
		[HS_IN_LINK] = C(c_ignore, "ignored (power is off)"),
		[HS_IN_CMD] = C(c_ignore, "nothing (power off, attention on)"),
		[HS_IN_TIMER] = C(c_ignore, "ignored (nothing pending)"),
		[HS_IN_DONE] = C(c_stale_done, "late result: devices configured meanwhile are torn down"),
		[HS_IN_ENABLE] = C(c_refuse_fault, "refused: power fault latched"),
		[HS_IN_DISABLE] = C(c_fault_ack, "acknowledge the fault: attention off -> OFF (EMPTY if no card)"),
	},
};
#undef C

static void feed(struct hs_slot *s, enum hs_slot_input in)
{
	core_of(s)->slot_cov[s->state][in]++;
	/* Every input, for a trace of what the slot saw (debug level:
	 * the polled timer and command inputs are frequent). */
	slog(s, HS_LOG_DEBUG, "input %s in %s", hs_slot_input_name(in),
	     hs_slot_state_name(s->state));
	table[s->state][in].fn(s);
}

/* ---- the dispatcher -------------------------------------------------------- */

static bool slot_busy(const struct hs_slot *s)
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

static void run_request(struct hs_slot *s, enum hs_slot_input in);

/* Apply everything latched on one slot, in a fixed order: hardware
 * events first (power fault, presence, latch, link, button), then
 * command completion, finished work, the timer, requests. */
static void run_slot(struct hs_slot *s)
{
	static const struct {
		unsigned bit;
		enum hs_slot_input in;
	} order[] = {
		{ HS_HW_POWER_FAULT, HS_IN_POWER_FAULT },
		{ HS_HW_PRESENCE, HS_IN_PRESENCE },
		{ HS_HW_LATCH, HS_IN_LATCH },
		{ HS_HW_LINK, HS_IN_LINK },
		{ HS_HW_BUTTON, HS_IN_BUTTON },
	};

	while (slot_busy(s)) {
		s->st_fresh = false; /* a new input: look again */
		if (s->hw_pending & ~(unsigned)HS_HW_CMD_DONE) {
			unsigned bits = s->hw_pending;

			s->hw_pending &= HS_HW_CMD_DONE;
			read_status(s);
			for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]);
			     i++)
				if (bits & order[i].bit)
					feed(s, order[i].in);
			s->note[0] = '\0';
		} else if (s->cmd_event) {
			s->cmd_event = false;
			feed(s, HS_IN_CMD);
		} else if (s->ndone) {
			feed(s, HS_IN_DONE);
			pop_done(s);
		} else if (s->timer_fired) {
			s->timer_fired = false;
			feed(s, HS_IN_TIMER);
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
static void resync_slot(struct hs_slot *s)
{
	bool believed_present = s->state != HS_SLOT_EMPTY;

	read_status(s);
	if (!s->debouncing && s->st.present != believed_present)
		s->hw_pending |= HS_HW_PRESENCE;
	if ((s->state == HS_SLOT_ON || s->state == HS_SLOT_BLINKING_OFF) &&
	    has(s, HS_SLOT_CAP_LINK_REPORT) && !s->st.link_up)
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
		hs_timer_arm(&h->core->timers, &h->cmd_tm,
			     h->core->params.cmd_timeout);
	}
	for (unsigned n = 0; n < h->nslots; n++) {
		struct hs_slot *s = &h->slots[n];

		read_status(s);
		if (populated(s)) {
			/* Configured at boot (or before a restart). */
			s->state = HS_SLOT_ON;
			s->ir_known = s->d.immediate_ready_ok &&
				      hs_slot_immediate_ready(h->bridge,
							      s->d.devnum);
			want(s, 1, HS_IND_ON, HS_IND_OFF, 1, 1);
			if (h->ops->configured)
				h->ops->configured(h->priv, n, true);
		} else {
			s->state = HS_SLOT_EMPTY;
			want_off(s, HS_IND_OFF);
		}
		emit(s, HS_EV_SLOT_STATE, (int)s->state, (int)s->state,
		     "controller started");
		resync_slot(s);
		/* A fault latched before we started (a restart after one):
		 * the slot is faulted, as it was.  Only with a card in it:
		 * an empty SHPC slot may read as faulted (QEMU's do). */
		if (s->st.power_fault && s->st.present && !populated(s))
			s->hw_pending |= HS_HW_POWER_FAULT;
	}
	if (!h->irq || (h->flags & HS_HPC_POLL_REMOVAL) || h->cmd_settle_all)
		hs_timer_arm(&h->core->timers, &h->poll_tm,
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
		if (slot_busy(&h->slots[n]) ||
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
	cmd_kick(h);
	while (hpc_busy(h)) {
		if (++rounds > 64) {
			/* A controller that never stops reporting: give the
			 * rest of the system a turn and come back. */
			hs_timer_arm(&h->core->timers, &h->dispatch_tm,
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
		cmd_kick(h);
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
		hs_timer_arm(&h->core->timers, &h->retry_tm, HS_MSEC(10));
		return;
	}
	hs_log(h->core->plat, HS_LOG_WARN, "%02x:%02x.%u: hot-plug "
	       "controller's events unreadable %u times in a row; comparing "
	       "its slots with their status instead", HS_BDF_BUS(h->bridge->bdf),
	       HS_BDF_DEV(h->bridge->bdf), HS_BDF_FN(h->bridge->bdf),
	       h->collect_retries);
	h->collect_retries = 0;
	for (unsigned n = 0; n < h->nslots; n++)
		resync_slot(&h->slots[n]);
}

static void retry_tick(void *arg)
{
	struct hs_hpc *h = arg;

	h->irq_latched = true;
	dispatch(h);
}

static void kick(struct hs_hpc *h)
{
	if (h->dispatching)
		return; /* the running dispatch loop picks it up */
	hs_timer_arm(&h->core->timers, &h->dispatch_tm, 0);
}

static void poll_tick(void *arg)
{
	struct hs_hpc *h = arg;

	h->irq_latched = true;
	if (!h->irq || (h->flags & HS_HPC_POLL_REMOVAL) || h->notify_unsure) {
		for (unsigned n = 0; n < h->nslots; n++)
			resync_slot(&h->slots[n]);
	}
	/* While a command is in flight and nothing interrupts, look again
	 * soon for its completion. */
	if ((h->cmd_slot >= 0 || h->cmd_settle_all) && !h->irq)
		hs_timer_arm(&h->core->timers, &h->poll_tm, cmd_poll(h));
	else if (!h->irq || (h->flags & HS_HPC_POLL_REMOVAL) ||
		 h->notify_unsure)
		hs_timer_arm(&h->core->timers, &h->poll_tm,
			     h->core->params.poll_period);
	dispatch(h);
}

static void slot_timer(void *arg)
{
	struct hs_slot *s = arg;

	s->timer_fired = true;
	kick(s->hpc);
}

static void latch_done(struct hs_slot *s, enum done_kind kind, int rc,
		       const char *msg)
{
	struct done_rec *d;

	if (s->ndone == MAX_DONE)
		pop_done(s); /* the oldest is stale by now */
	d = &s->done[s->ndone++];
	d->kind = kind;
	d->rc = rc;
	hs_snprintf(d->msg, sizeof(d->msg), "%s", msg ? msg : "");
	kick(s->hpc);
}

static void add_done(void *arg, int rc, const char *msg)
{
	latch_done(arg, DONE_ADD, rc, msg);
}

static void remove_done(void *arg, int rc, const char *msg)
{
	latch_done(arg, DONE_REMOVE, rc, msg);
}

/* ---- controller side ------------------------------------------------------- */

int hs_hpc_register(struct hs_dev *bridge, const struct hs_hpc_ops *ops,
		    void *priv, const struct hs_hpc_slot_desc *slots,
		    unsigned nslots, unsigned flags, struct hs_hpc **out)
{
	struct hs_core *core = bridge->core;
	struct hs_hpc *h, **pp;

	if (!ops || !ops->status || !ops->command || !ops->collect ||
	    !ops->notify || !nslots || nslots > 32)
		return -HS_EINVAL;
	h = hs_zalloc(core, sizeof(*h));
	if (!h)
		return -HS_ENOMEM;
	h->slots = hs_zalloc(core, nslots * sizeof(*h->slots));
	if (!h->slots)
		goto free_hpc;
	h->core = core;
	h->bridge = bridge;
	h->ops = ops;
	h->priv = priv;
	h->flags = flags;
	h->nslots = nslots;
	h->irq = !core->params.slot_poll;
	h->cmd_slot = -1;
	hs_timer_init(&h->dispatch_tm, dispatch, h);
	hs_timer_init(&h->poll_tm, poll_tick, h);
	hs_timer_init(&h->retry_tm, retry_tick, h);
	hs_timer_init(&h->cmd_tm, cmd_timeout, h);
	for (unsigned n = 0; n < nslots; n++) {
		struct hs_slot *s = &h->slots[n];
		unsigned clash = 0;

		s->hpc = h;
		s->index = n;
		s->d = slots[n];
		s->req = -1;
		s->policy = (enum hs_slot_policy)core->params.slot_policy;
		s->have.power = s->have.power_ind = s->have.attn_ind =
			s->have.interlock = s->have.link = HS_KEEP;
		s->want = s->have;
		hs_timer_init(&s->timer, slot_timer, s);
		/* The physical number, made unique ("3", then "3-2"). */
		for (struct hs_hpc *o = core->hpcs; o; o = o->next)
			for (unsigned k = 0; k < o->nslots; k++)
				clash += o->slots[k].d.phys == s->d.phys;
		for (unsigned k = 0; k < n; k++)
			clash += h->slots[k].d.phys == s->d.phys;
		if (clash)
			hs_snprintf(s->name, sizeof(s->name), "%u-%u",
				    s->d.phys, clash + 1);
		else
			hs_snprintf(s->name, sizeof(s->name), "%u", s->d.phys);
	}
	for (pp = &core->hpcs; *pp; pp = &(*pp)->next)
		;
	*pp = h;
	*out = h;
	/* Start at the next dispatch, outside any transaction. */
	kick(h);
	return 0;

free_hpc:
	hs_free(core, h, sizeof(*h));
	return -HS_ENOMEM;
}

void hs_hpc_unregister(struct hs_hpc *h)
{
	struct hs_core *core;

	if (!h)
		return;
	core = h->core;
	for (struct hs_hpc **pp = &core->hpcs; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	hs_timer_cancel(&core->timers, &h->dispatch_tm);
	hs_timer_cancel(&core->timers, &h->poll_tm);
	hs_timer_cancel(&core->timers, &h->retry_tm);
	hs_timer_cancel(&core->timers, &h->cmd_tm);
	for (unsigned n = 0; n < h->nslots; n++) {
		struct hs_slot *s = &h->slots[n];

		hs_timer_cancel(&core->timers, &s->timer);
		finish_op(s, -HS_ECANCELED, "the controller went away");
	}
	hs_free(core, h->slots, h->nslots * sizeof(*h->slots));
	hs_free(core, h, sizeof(*h));
}

int hs_slot_phys_at(const struct hs_dev *bridge, unsigned devnum)
{
	for (const struct hs_hpc *h = bridge->core->hpcs; h; h = h->next) {
		if (h->bridge != bridge)
			continue;
		for (unsigned n = 0; n < h->nslots; n++)
			if (h->slots[n].d.devnum == devnum)
				return (int)h->slots[n].d.phys;
	}
	return -1;
}

void hs_slots_destroy(struct hs_core *core)
{
	while (core->hpcs)
		hs_hpc_unregister(core->hpcs);
}

void hs_hpc_interrupt(struct hs_hpc *h)
{
	h->irq_latched = true;
	kick(h);
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
	kick(h);
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

int hs_hpc_cfg_read(struct hs_hpc *h, unsigned slot, unsigned fn,
		    uint16_t off, unsigned width, uint32_t *val)
{
	const struct hs_platform *p = h->core->plat;
	unsigned bus;

	*val = width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
	if (slot >= h->nslots || fn > 7 ||
	    hs_dev_secondary_bus(h->bridge, &bus))
		return -HS_ENODEV;
	return p->ops->cfg_read(p->ctx,
				HS_BDF(HS_BDF_SEG(h->bridge->bdf), bus,
				       h->slots[slot].d.devnum, fn),
				off, width, val);
}

int hs_hpc_cfg_write(struct hs_hpc *h, unsigned slot, unsigned fn,
		     uint16_t off, unsigned width, uint32_t val)
{
	const struct hs_platform *p = h->core->plat;
	unsigned bus;

	if (slot >= h->nslots || fn > 7 ||
	    hs_dev_secondary_bus(h->bridge, &bus))
		return -HS_ENODEV;
	return p->ops->cfg_write(p->ctx,
				 HS_BDF(HS_BDF_SEG(h->bridge->bdf), bus,
					h->slots[slot].d.devnum, fn),
				 off, width, val);
}

/* ---- the operator's side ------------------------------------------------- */

static void run_request(struct hs_slot *s, enum hs_slot_input in)
{
	s->req_rc = 0;
	feed(s, in);
	if (s->req_rc < 0)
		finish_op(s, s->req_rc, s->reason);
	else if (s->req_rc > 0)
		finish_op(s, 0, "");
	s->req_rc = 0;
}

static int request(struct hs_slot *s, enum hs_slot_input in, enum op_kind op,
		   hs_done_fn done, void *arg)
{
	struct hs_hpc *h = s->hpc;
	int rc;

	if (s->op != OP_NONE || s->req >= 0) {
		hs_snprintf(s->reason, sizeof(s->reason),
			    "another request on this slot is in progress");
		return -HS_EBUSY;
	}
	if (s->policy == HS_SLOT_POLICY_DISABLED &&
	    (op == OP_ENABLE || op == OP_REPLACE)) {
		hs_snprintf(s->reason, sizeof(s->reason),
			    "the slot is disabled by the operator");
		return -HS_EPERM;
	}
	s->op = op;
	s->op_done = done;
	s->op_arg = arg;
	if (h->dispatching || !h->started || slot_busy(s)) {
		/* Applied in order by the dispatcher. */
		s->req = (int)in;
		kick(h);
		return 0;
	}
	h->dispatching = true;
	s->req_rc = 0;
	feed(s, in);
	rc = s->req_rc;
	s->req_rc = 0;
	if (rc < 0) {
		/* Refused at once: the caller hears it from the return. */
		s->op = OP_NONE;
		s->op_done = NULL;
		s->op_arg = NULL;
	} else if (rc > 0) {
		finish_op(s, 0, "");
		rc = 0;
	}
	h->dispatching = false;
	kick(h); /* whatever the cell latched */
	return rc;
}

int hs_slot_enable(struct hs_slot *s, hs_done_fn done, void *arg)
{
	return request(s, HS_IN_ENABLE, OP_ENABLE, done, arg);
}

int hs_slot_disable(struct hs_slot *s, hs_done_fn done, void *arg)
{
	return request(s, HS_IN_DISABLE, OP_DISABLE, done, arg);
}

int hs_slot_replace(struct hs_slot *s, hs_done_fn done, void *arg)
{
	if (s->state != HS_SLOT_ON && s->state != HS_SLOT_BLINKING_OFF) {
		hs_snprintf(s->reason, sizeof(s->reason),
			    "replace needs a card in use (the slot is %s)",
			    hs_slot_state_name(s->state));
		return -HS_EINVAL;
	}
	return request(s, HS_IN_DISABLE, OP_REPLACE, done, arg);
}

int hs_slot_set_attention(struct hs_slot *s, enum hs_indicator ind)
{
	if (ind != HS_IND_OFF && ind != HS_IND_ON && ind != HS_IND_BLINK)
		return -HS_EINVAL;
	if (!has(s, HS_SLOT_CAP_ATTN_IND)) {
		hs_snprintf(s->reason, sizeof(s->reason),
			    "the slot has no attention indicator");
		return -HS_ENOTSUP;
	}
	want(s, HS_KEEP, HS_KEEP, (int)ind, HS_KEEP, HS_KEEP);
	cmd_kick(s->hpc);
	return 0;
}

/*
 * The power indicator is the state machine's while the slot changes
 * state (it blinks then, PCIe Base 6.7.1.1.1) and is set again at every
 * change; between changes the operator may set it, as ledctl does, with
 * two exceptions that would tell someone a wrong thing about pulling
 * the card: off on a powered slot (off means "may be removed") and the
 * CompactPCI blue LED (PICMG 2.1 "safe to extract", lit when the power
 * indicator is off).
 */
int hs_slot_set_power_indicator(struct hs_slot *s, enum hs_indicator ind)
{
	struct hs_slot_status st = s->st;

	if (ind != HS_IND_OFF && ind != HS_IND_ON && ind != HS_IND_BLINK)
		return -HS_EINVAL;
	if (!has(s, HS_SLOT_CAP_PWR_IND)) {
		hs_snprintf(s->reason, sizeof(s->reason),
			    "the slot has no power indicator");
		return -HS_ENOTSUP;
	}
	if (!hs_strcmp(s->hpc->ops->kind, "cpci")) {
		hs_snprintf(s->reason, sizeof(s->reason),
			    "the power indicator of a CompactPCI slot is the "
			    "board's blue LED, which tells the operator the "
			    "board is safe to extract (PICMG 2.1): it follows "
			    "the slot's state only");
		return -HS_ENOTSUP;
	}
	if (s->state == HS_SLOT_BLINKING_ON || s->state == HS_SLOT_POWERING_ON ||
	    s->state == HS_SLOT_BLINKING_OFF ||
	    s->state == HS_SLOT_POWERING_OFF || s->op != OP_NONE ||
	    s->req >= 0) {
		hs_snprintf(s->reason, sizeof(s->reason),
			    "the slot is %s: the power indicator is the state "
			    "machine's until the slot is on or off",
			    hs_slot_state_name(s->state));
		return -HS_EBUSY;
	}
	s->hpc->ops->status(s->hpc->priv, s->index, &st);
	if (ind == HS_IND_OFF && (st.powered || s->state == HS_SLOT_ON)) {
		hs_snprintf(s->reason, sizeof(s->reason),
			    "a power indicator that is off says the card may "
			    "be removed (PCIe Base 6.7.1.1.1), and the slot is "
			    "powered: take the card down first");
		return -HS_EPERM;
	}
	want(s, HS_KEEP, (int)ind, HS_KEEP, HS_KEEP, HS_KEEP);
	cmd_kick(s->hpc);
	return 0;
}

int hs_slot_set_policy(struct hs_slot *s, enum hs_slot_policy policy)
{
	if (policy != HS_SLOT_POLICY_DEFAULT &&
	    policy != HS_SLOT_POLICY_PRESENCE &&
	    policy != HS_SLOT_POLICY_REQUEST &&
	    policy != HS_SLOT_POLICY_DISABLED)
		return -HS_EINVAL;
	s->policy = policy;
	return 0;
}

void hs_slot_drill(struct hs_slot *s, enum hs_slot_input in)
{
	static const unsigned hw[] = {
		[HS_IN_PRESENCE] = HS_HW_PRESENCE, [HS_IN_LATCH] = HS_HW_LATCH,
		[HS_IN_BUTTON] = HS_HW_BUTTON,
		[HS_IN_POWER_FAULT] = HS_HW_POWER_FAULT,
		[HS_IN_LINK] = HS_HW_LINK,
	};

	switch (in) {
	case HS_IN_PRESENCE:
	case HS_IN_LATCH:
	case HS_IN_BUTTON:
	case HS_IN_POWER_FAULT:
	case HS_IN_LINK:
		s->hw_pending |= hw[in];
		break;
	case HS_IN_CMD:
		s->cmd_event = true;
		break;
	case HS_IN_TIMER:
		s->timer_fired = true;
		break;
	case HS_IN_DONE:
		latch_done(s, DONE_STALE, -HS_ECANCELED, "drill");
		return;
	case HS_IN_ENABLE:
	case HS_IN_DISABLE:
		if (s->op == OP_NONE && s->req < 0)
			s->req = (int)in;
		break;
	default:
		return;
	}
	kick(s->hpc);
}

void hs_core_slots_resync(struct hs_core *core)
{
	for (struct hs_hpc *h = core->hpcs; h; h = h->next) {
		if (!h->started)
			continue; /* starting reconciles anyway */
		h->irq_latched = true;
		for (unsigned n = 0; n < h->nslots; n++)
			resync_slot(&h->slots[n]);
		kick(h);
	}
}

/* ---- looking at slots ---------------------------------------------------- */

struct hs_slot *hs_slot_next(struct hs_core *core, struct hs_slot *prev)
{
	struct hs_hpc *h;

	if (!prev) {
		h = core->hpcs;
		return h ? &h->slots[0] : NULL;
	}
	h = prev->hpc;
	if (prev->index + 1 < h->nslots)
		return &h->slots[prev->index + 1];
	h = h->next;
	return h ? &h->slots[0] : NULL;
}

struct hs_slot *hs_slot_find(struct hs_core *core, const char *name)
{
	for (struct hs_slot *s = hs_slot_next(core, NULL); s;
	     s = hs_slot_next(core, s))
		if (!hs_strcmp(s->name, name))
			return s;
	return NULL;
}

struct hs_slot *hs_slot_by_phys(struct hs_core *core, unsigned phys)
{
	for (struct hs_slot *s = hs_slot_next(core, NULL); s;
	     s = hs_slot_next(core, s))
		if (s->d.phys == phys)
			return s;
	return NULL;
}

static enum hs_indicator ind_of(int8_t v)
{
	return v == HS_IND_ON ? HS_IND_ON
	       : v == HS_IND_BLINK ? HS_IND_BLINK : HS_IND_OFF;
}

void hs_slot_get_info(const struct hs_slot *s, struct hs_slot_info *o)
{
	struct hs_slot_status st = s->st;

	/* The hardware as it is now, not as the machine last looked. */
	s->hpc->ops->status(s->hpc->priv, s->index, &st);
	hs_memset(o, 0, sizeof(*o));
	o->name = s->name;
	o->phys = s->d.phys;
	o->kind = s->hpc->ops->kind;
	o->bridge = s->hpc->bridge->bdf;
	o->devnum = s->d.devnum;
	o->caps = s->d.caps;
	o->state = s->state;
	o->present = st.present;
	o->latch_open = st.latch_open;
	o->powered = st.powered;
	o->link_up = st.link_up;
	o->power_fault = st.power_fault;
	o->interlock = st.interlock;
	o->power_ind = ind_of(s->have.power_ind);
	o->attn_ind = ind_of(s->have.attn_ind);
	o->policy = s->policy;
	o->presence_enables = presence_enables(s);
	o->busy = s->op != OP_NONE || s->state == HS_SLOT_POWERING_ON ||
		  s->state == HS_SLOT_POWERING_OFF;
	o->reason = s->reason;
	o->transitions = s->transitions;
}

const char *hs_slot_state_name(enum hs_slot_state st)
{
	static const char *const names[HS_SLOT_STATE_COUNT] = {
		"empty", "off", "blinking-on", "powering-on", "on",
		"blinking-off", "powering-off", "fault",
	};

	return (unsigned)st < HS_SLOT_STATE_COUNT ? names[st] : "?";
}

const char *hs_indicator_name(enum hs_indicator i)
{
	return i == HS_IND_ON ? "on" : i == HS_IND_BLINK ? "blink" : "off";
}

const char *hs_slot_input_name(enum hs_slot_input in)
{
	static const char *const names[HS_IN_COUNT] = {
		"presence", "latch", "button", "power-fault", "link", "cmd",
		"timer", "done", "enable", "disable",
	};

	return (unsigned)in < HS_IN_COUNT ? names[in] : "?";
}

unsigned long hs_slot_cell_hits(const struct hs_core *core,
				enum hs_slot_state st, enum hs_slot_input in)
{
	if ((unsigned)st >= HS_SLOT_STATE_COUNT || (unsigned)in >= HS_IN_COUNT)
		return 0;
	return core->slot_cov[st][in];
}

const char *hs_slot_cell_doc(enum hs_slot_state st, enum hs_slot_input in)
{
	if ((unsigned)st >= HS_SLOT_STATE_COUNT || (unsigned)in >= HS_IN_COUNT)
		return NULL;
	return table[st][in].doc;
}

/* A hot-plug controller renumbered with the bridges above it: it finds
 * its registers through its record, which is renumbered with it, so it
 * only must not be in the middle of a slot transition.  CompactPCI is
 * out: the platform wires ENUM# and the backplane by bus address. */
const char *hs_slot_controller_busy(struct hs_core *core,
				    const struct hs_dev *d)
{
	for (struct hs_slot *s = hs_slot_next(core, NULL); s;
	     s = hs_slot_next(core, s)) {
		struct hs_slot_info si;

		hs_slot_get_info(s, &si);
		if (si.bridge != d->bdf)
			continue;
		if (!hs_strcmp(si.kind, "cpci"))
			return "a CompactPCI backplane is wired to its bus "
			       "address";
		if (si.busy || si.state == HS_SLOT_BLINKING_ON ||
		    si.state == HS_SLOT_BLINKING_OFF)
			return "one of its slots is changing state";
	}
	return NULL;
}
