/*
 * hs_slot_table.c - the slot state machine: its table.
 *
 * Owns: the fine states (powering on and powering off are one state per
 * thing the slot waits for), the handlers of the (fine state, input)
 * cells that hs_slot_cells.h lists with their one-line docs (the docs
 * themselves are hs_slot_docs.c's), the mapping of fine states to the states the rest of the
 * system sees, the names of states and inputs, and the coverage
 * counters.  What the machine waits for is its row: no handler asks
 * which step it is in (what a slot keeps besides, the link-up time, the
 * readiness deadline, the retry count, the request in progress, only
 * parametrise the cells).  The waiting it encodes is the PCIe Base spec's (6.7.3
 * standard usage model: 5 s button window, Command Completed; 6.6.1:
 * 100 ms after the link before the first config request, Configuration
 * Request Retry Status for up to 1 s).  The table is docs/slots.md in
 * prose (tests/cli/slot_table.sh keeps them equal).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_driver.h"
#include "hs_add.h"
#include "hs_scan.h"
#include "hs_slot_dispatch.h"
#include "hs_slot_table.h"
#include "hs_slot_cells.h"

#define REMOVE_RETRIES 3

#define alert hs_sd_alert
#define want hs_sd_want
#define command hs_sd_command
#define read_status hs_sd_read_status
#define finish_op hs_sd_finish_op
#define populated hs_sd_populated
#define has hs_sd_has
#define arm hs_sd_arm
#define arm_at hs_sd_arm_at

static hs_time_t now_of(const struct hs_slot *s)
{
	return hs_now(&hs_sd_core(s)->timers);
}

/* Every message about a slot starts "slot NAME: ". */
static const struct hs_platform *plat_of(const struct hs_slot *s)
{
	return hs_sd_core(s)->plat;
}

static const struct hs_core_params *params(const struct hs_slot *s)
{
	return &hs_sd_core(s)->params;
}

/* To another row.  Whatever the old state was waiting for is over.
 * Only a change of the state the rest of the system sees is an event
 * (and counts as a transition); the steps within powering on and off
 * are the machine's own. */
static void set_state(struct hs_slot *s, enum hs_slot_fine to,
		      const char *why)
{
	enum hs_slot_state from = hs_sd_state(s), cto = hs_sd_coarse(to);

	hs_sd_disarm(s);
	s->debouncing = false;
	s->fs = to;
	/* A flow that stops at CONNECTED lasts until the slot rests. */
	if (cto != HS_SLOT_POWERING_ON && cto != HS_SLOT_POWERING_OFF)
		s->to_connected = false;
	if (cto == from)
		return;
	s->transitions++;
	hs_log(plat_of(s), HS_LOG_INFO, "slot %s: %s -> %s%s%s", s->name,
	       hs_slot_state_name(from), hs_slot_state_name(cto),
	       why ? ": " : "", why ? why : "");
	hs_sd_emit(s, HS_EV_SLOT_STATE, (int)from, (int)cto, why);
}

/* To the next step of powering on or off, keeping the deadline: each
 * step arms its own. */
static void set_step(struct hs_slot *s, enum hs_slot_fine to)
{
	s->fs = to;
}

bool hs_st_presence_enables(const struct hs_slot *s)
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

#define presence_enables hs_st_presence_enables

/* ---- what the cells share ---------------------------------------------- */

/* The power indicator alone. */
static void want_pind(struct hs_slot *s, int pind)
{
	want(s, HS_KEEP, pind, HS_KEEP, HS_KEEP, HS_KEEP);
}

/* The attention button's 5 s window opens (PCIe Base 6.7.1.5): the
 * power indicator blinks; a second press cancels. */
static void open_window(struct hs_slot *s, enum hs_slot_fine to)
{
	set_state(s, to, "attention button");
	want_pind(s, HS_IND_BLINK);
	command(s);
	arm(s, params(s)->button_window);
}

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
	hs_sd_configured(s, false);
	rc = hs_core_surprise_remove(h->core, h->bridge, s->d.devnum);
	if (rc && rc != -HS_ENOENT)
		alert(s, "tearing down the devices of the pulled card failed "
		      "(%d); they stay marked present", rc);
}

static void surprise(struct hs_slot *s, enum hs_slot_fine to,
		     const char *why)
{
	bool was_up = populated(s);

	drop_devices(s);
	if (was_up)
		alert(s, "surprise removal: %s%s%s%s", why,
		      s->note[0] ? " (" : "", s->note, s->note[0] ? ")" : "");
	if (to == HS_FINE_EMPTY)
		s->ir_known = false;
	want_off(s, to == HS_FINE_FAULT ? HS_IND_ON : HS_IND_OFF);
	set_state(s, to, why);
	command(s);
	/* A replacement goes on waiting for the new card. */
	if (s->op != OP_REPLACE || to == HS_FINE_FAULT)
		finish_op(s, -HS_ENODEV, why);
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
	read_status(s);
	set_state(s, s->st.present ? HS_FINE_OFF : HS_FINE_EMPTY, why);
	command(s);
	finish_op(s, -HS_EIO, s->reason);
}

/* Refuse a request: the verdict goes back to the caller, the reason is
 * in s->reason. */
static void refused(struct hs_slot *s, int rc)
{
	hs_log(plat_of(s), HS_LOG_NOTICE, "slot %s: request refused: %s",
	       s->name, s->reason);
	s->req_rc = rc;
}

/* Not variadic: only one refusal formats, and does it itself. */
static void refuse(struct hs_slot *s, int rc, const char *why)
{
	refused(s, hs_sd_reason(s, rc, why));
}

/* Into powering-on/power, unless the slot cannot be enabled now. */
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
	s->link_up_at = 0;
	set_state(s, HS_FINE_PON_POWER, NULL);
	/* The hardware may have cut power or the link on its own since it
	 * was last told (an SHPC isolates a slot whose MRL opens): say it
	 * again rather than trust what was said. */
	s->have.power = s->have.link = HS_KEEP;
	want(s, 1, HS_IND_BLINK, HS_IND_OFF, 1, 1);
	command(s);
}

/* Into powering-off/quiesce: the drivers are asked, then stopped; the
 * outcome comes back through hs_sd_remove_done (HS_IN_DONE). */
static void start_disable(struct hs_slot *s)
{
	struct hs_hpc *h = s->hpc;

	set_state(s, HS_FINE_POFF_QUIESCE, NULL);
	want_pind(s, HS_IND_BLINK);
	hs_sd_cmd_kick(h);
	if (populated(s))
		hs_sd_configured(s, false);
	hs_core_hot_remove(h->core, h->bridge, s->d.devnum, hs_sd_remove_done,
			   s);
}

/* Into powering-on/settle, or straight to powering-on/ready for a card
 * known to report Immediate Readiness (PCIe Base 7.5.1.1.4: no 100 ms). */
static void settle_step(struct hs_slot *s)
{
	if (s->d.immediate_ready_ok && s->ir_known) {
		set_step(s, HS_FINE_PON_READY);
		s->ready_deadline = now_of(s) + params(s)->ready_timeout;
		arm(s, 0);
		return;
	}
	set_step(s, HS_FINE_PON_SETTLE);
	arm_at(s, s->link_up_at + s->d.settle);
}

/* Into powering-on/link: a link already up goes on to the settle time;
 * otherwise wait for it (or, where it cannot be seen, the fixed wait). */
static void link_step(struct hs_slot *s)
{
	set_step(s, HS_FINE_PON_LINK);
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
	arm(s, s->d.link_wait);
}

/* powering-on/ready, the card answered, and the flow stops at
 * CONNECTED (cfgadm's connect): power indicator on, as for any powered
 * slot (PCIe Base 6.7.1.1.1: on means do not remove). */
static void connected_step(struct hs_slot *s)
{
	want(s, HS_KEEP, HS_IND_ON, HS_IND_OFF, HS_KEEP, HS_KEEP);
	set_state(s, HS_FINE_CONNECTED, NULL);
	command(s);
	finish_op(s, 0, "");
}

/* Into powering-on/config.  id: what the readiness poll just read at
 * function 0. */
static void config_step(struct hs_slot *s, uint32_t id)
{
	struct hs_hpc *h = s->hpc;
	unsigned bus;
	int rc;

	set_step(s, HS_FINE_PON_CONFIG);
	/* The scan need not read the ID again if it runs now; a hot-add
	 * that waits for a removal reads it when it runs. */
	if (id && hs_dev_secondary_bus(h->bridge, &bus) == 0)
		hs_scan_hint_id(h->core,
				HS_BDF(HS_BDF_SEG(h->bridge->bdf), bus,
				       s->d.devnum, 0), id);
	/* Waits behind a removal on the same bus, then runs; the result
	 * is latched by hs_sd_add_done. */
	rc = hs_core_hot_add_slot_async(h->core, h->bridge, s->d.devnum,
					hs_sd_add_done, s);
	hs_scan_hint_clear(h->core);
	if (rc == -HS_ENOMEM)
		fail_enable(s, "out of memory");
}

/* In powering-on/ready (PCIe Base 2.3.1, 6.6.1): a Vendor ID of 0001h
 * is CRS with software visibility; all ones is no answer yet. */
static void ready_step(struct hs_slot *s)
{
	const struct hs_core_params *pp = params(s);
	uint32_t id = 0xffffffffu;
	int rc;

	set_step(s, HS_FINE_PON_READY);
	rc = hs_hpc_cfg_read(s->hpc, s->index, 0, 0, 4, &id);
	if (rc == 0 && (id & 0xffff) != 0xffff && (id & 0xffff) != 0x0001 &&
	    (id & 0xffff) != 0) {
		if (s->to_connected)
			connected_step(s);
		else
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

/* A late result of work the slot no longer waits for, in a state that
 * is not using the card: if a late add did configure devices, they go. */
static void c_late_teardown(struct hs_slot *s)
{
	if (populated(s)) {
		hs_log(plat_of(s), HS_LOG_NOTICE,
		       "slot %s: late configuration undone", s->name);
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
	surprise(s, HS_FINE_FAULT, "power fault");
	alert(s, "power fault: the slot stays off until the card is removed "
	      "or the fault is acknowledged");
}

static void c_refuse_empty(struct hs_slot *s)
{
	refuse(s, -HS_ENOENT, "the slot is empty");
}

static void c_refuse_busy(struct hs_slot *s)
{
	hs_snprintf(s->reason, sizeof(s->reason), "the slot is busy (%s); try "
		    "again when it is done",
		    hs_slot_state_name(hs_sd_state(s)));
	refused(s, -HS_EBUSY);
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
	set_state(s, HS_FINE_OFF, "card inserted");
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
		set_state(s, HS_FINE_EMPTY, "card removed");
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
	open_window(s, HS_FINE_BLINKING_ON);
}

static void c_enable(struct hs_slot *s)
{
	s->to_connected = false;
	start_enable(s);
}

static void c_connect(struct hs_slot *s)
{
	s->to_connected = true;
	start_enable(s);
}

/* BLINKING_ON */
static void c_bon_presence(struct hs_slot *s)
{
	read_status(s);
	if (s->st.present)
		return;
	want_off(s, HS_IND_OFF);
	set_state(s, HS_FINE_EMPTY, "card removed during the button window");
	command(s);
}

static void c_bon_cancel(struct hs_slot *s)
{
	want_pind(s, HS_IND_OFF);
	set_state(s, HS_FINE_OFF, "cancelled");
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

/* POWERING_ON, every step */
static void c_pon_presence(struct hs_slot *s)
{
	if (s->st.present)
		return;
	drop_devices(s);
	s->ir_known = false;
	alert(s, "card removed while powering on");
	want_off(s, HS_IND_OFF);
	set_state(s, HS_FINE_EMPTY, "card removed");
	command(s);
	finish_op(s, -HS_ENODEV, "the card was removed while powering on");
}

static void c_pon_latch(struct hs_slot *s)
{
	if (s->st.latch_open && !has(s, HS_SLOT_CAP_LATCH_ASKS))
		fail_enable(s, "the latch (MRL) was opened");
}

/* powering-on/power + CMD: power is on. */
static void c_pon_powered(struct hs_slot *s)
{
	link_step(s);
}

/* powering-on/link + LINK */
static void c_pon_link_change(struct hs_slot *s)
{
	if (s->st.link_up) {
		if (has(s, HS_SLOT_CAP_LINK_REPORT)) {
			s->link_up_at = now_of(s);
			settle_step(s);
		}
		return;
	}
	/* Down again before it was seen up (contact bounce): wait anew. */
	s->link_up_at = 0;
	link_step(s);
}

/* powering-on/settle and /ready + LINK: the link dropped before the
 * card was configured (contact bounce): wait for it again, from the
 * start. */
static void c_pon_link_lost(struct hs_slot *s)
{
	if (s->st.link_up)
		return;
	s->link_up_at = 0;
	link_step(s);
}

/* powering-on/link + TIMER */
static void c_pon_link_timer(struct hs_slot *s)
{
	if (has(s, HS_SLOT_CAP_LINK_REPORT)) {
		fail_enable(s, "the link did not come up within %llu ms of "
			    "power-on",
			    (unsigned long long)(params(s)->link_timeout /
						 HS_MSEC(1)));
		return;
	}
	/* No way to see the link: the fixed wait is over. */
	s->link_up_at = now_of(s);
	settle_step(s);
}

/* powering-on/settle + TIMER: the settle time is over. */
static void c_pon_settled(struct hs_slot *s)
{
	s->ready_deadline = now_of(s) + params(s)->ready_timeout;
	ready_step(s);
}

/* powering-on/ready + TIMER */
static void c_pon_ask(struct hs_slot *s)
{
	ready_step(s);
}

/* powering-on/config + DONE */
static void c_pon_done(struct hs_slot *s)
{
	struct hs_sd_done *d = &s->done[0];

	if (d->kind != DONE_ADD) {
		c_late_teardown(s);
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
	hs_sd_configured(s, true);
	want(s, HS_KEEP, HS_IND_ON, HS_IND_OFF, HS_KEEP, HS_KEEP);
	set_state(s, HS_FINE_ON, NULL);
	command(s);
	finish_op(s, 0, "");
}

/* ON */
static void c_on_presence(struct hs_slot *s)
{
	if (!s->st.present) {
		surprise(s, HS_FINE_EMPTY, "card removed while in use");
		return;
	}
	/* Presence changed, yet a card is there: it left and came back
	 * between two looks (bouncing contacts, or an exchange quicker than
	 * we look).  Either way its power was interrupted and its
	 * configuration is gone, and it may be another card: a removal and
	 * an insertion, as Linux's pciehp treats it. */
	surprise(s, HS_FINE_OFF, "presence changed while in use: the card "
		 "was reset or exchanged");
	if (s->fs == HS_FINE_OFF && presence_enables(s)) {
		start_enable(s);
		s->req_rc = 0;
	}
}

static void c_disable(struct hs_slot *s);

static void c_on_latch(struct hs_slot *s)
{
	if (!s->st.latch_open)
		return;
	if (has(s, HS_SLOT_CAP_LATCH_ASKS)) {
		c_disable(s); /* CompactPCI ejector: a request */
		return;
	}
	/* An open MRL takes the card's power (PCI Hot-Plug 1.1). */
	surprise(s, HS_FINE_OFF, "the latch (MRL) was opened while in use");
}

static void c_on_button(struct hs_slot *s)
{
	open_window(s, HS_FINE_BLINKING_OFF);
}

static void c_on_link(struct hs_slot *s)
{
	if (s->st.link_up || !has(s, HS_SLOT_CAP_LINK_REPORT))
		return;
	surprise(s, s->st.present ? HS_FINE_OFF : HS_FINE_EMPTY,
		 "the link went down");
	/* A card that is still there may train again. */
	if (s->fs == HS_FINE_OFF && presence_enables(s)) {
		start_enable(s);
		s->req_rc = 0;
	}
}

static void c_disable(struct hs_slot *s)
{
	s->to_connected = false;
	start_disable(s);
}

static void c_unconfigure(struct hs_slot *s)
{
	s->to_connected = true;
	start_disable(s);
}

/* CONNECTED + DISABLE: cfgadm's disconnect.  Nothing is configured, so
 * nothing is asked: straight to powering-off/power. */
static void c_disconnect(struct hs_slot *s)
{
	s->to_connected = false;
	set_state(s, HS_FINE_POFF_POWER, NULL);
	want(s, 0, HS_IND_OFF, HS_IND_OFF, 0, 0);
	command(s);
}

/* BLINKING_OFF */
/* Back to where the window started: ON, or CONNECTED for a card that
 * was never configured (the button pressed on a connected slot). */
static void c_boff_cancel(struct hs_slot *s)
{
	want_pind(s, HS_IND_ON);
	set_state(s, populated(s) ? HS_FINE_ON : HS_FINE_CONNECTED,
		  "cancelled");
	command(s);
}

static void c_conn_configure(struct hs_slot *s);

static void c_boff_enable(struct hs_slot *s)
{
	c_boff_cancel(s);
	if (s->fs == HS_FINE_CONNECTED)
		c_conn_configure(s);
	else
		c_ok(s);
}

static void c_boff_connect(struct hs_slot *s)
{
	c_boff_cancel(s);
	c_ok(s);
}

/* powering-off/quiesce and /retry: the drivers are stopping (or the
 * removal waits to be tried again); the card is still configured. */
static void c_poff_latch(struct hs_slot *s)
{
	if (!s->st.latch_open || has(s, HS_SLOT_CAP_LATCH_ASKS))
		return;
	surprise(s, HS_FINE_OFF, "the latch (MRL) was opened while the "
		 "drivers were stopping");
}

static void c_poff_link(struct hs_slot *s)
{
	if (s->st.link_up || !has(s, HS_SLOT_CAP_LINK_REPORT))
		return;
	surprise(s, s->st.present ? HS_FINE_OFF : HS_FINE_EMPTY,
		 "the link went down while the drivers were stopping");
}

static void c_poff_pulled(struct hs_slot *s)
{
	if (s->st.present)
		return;
	surprise(s, HS_FINE_EMPTY, "card removed while in use");
}

/* powering-off/quiesce + DONE */
static void c_poff_done(struct hs_slot *s)
{
	struct hs_sd_done *d = &s->done[0];

	if (d->kind != DONE_REMOVE)
		return; /* late: the card is still in use */
	if (d->rc == 0 || d->rc == -HS_ENOENT) {
		s->retries = 0;
		if (s->to_connected) {
			/* Unconfigured: power and link stay (cfgadm). */
			connected_step(s);
			return;
		}
		set_step(s, HS_FINE_POFF_POWER);
		/* The link is disabled with the power, so the card is not
		 * seen to fall off the bus (PCIe Base 7.5.3.7). */
		want(s, 0, HS_IND_OFF, HS_IND_OFF, 0, 0);
		command(s);
		return;
	}
	if (d->rc == -HS_ENOMEM && s->retries < REMOVE_RETRIES) {
		/* The drivers are stopped but still bound: try again. */
		s->retries++;
		set_step(s, HS_FINE_POFF_RETRY);
		arm(s, HS_MSEC(10));
		return;
	}
	/* Refused (a driver's veto, a critical device) or failed: the card
	 * stays in use. */
	s->retries = 0;
	alert(s, "removal refused: %s", d->msg[0] ? d->msg : "failed");
	hs_sd_configured(s, true);
	want_pind(s, HS_IND_ON);
	set_state(s, HS_FINE_ON, "removal refused");
	command(s);
	finish_op(s, d->rc, s->reason);
}

/* powering-off/retry + TIMER */
static void c_poff_retry(struct hs_slot *s)
{
	struct hs_hpc *h = s->hpc;

	set_step(s, HS_FINE_POFF_QUIESCE);
	hs_core_hot_remove(h->core, h->bridge, s->d.devnum, hs_sd_remove_done,
			   s);
}

/* powering-off/power + CMD: power is off. */
static void c_poff_off(struct hs_slot *s)
{
	read_status(s);
	if (s->op == OP_REPLACE) {
		/* Wait for the new card: EMPTY + TIMER brings it up. */
		set_state(s, s->st.present ? HS_FINE_OFF : HS_FINE_EMPTY,
			  "removed for replacement");
		return;
	}
	set_state(s, s->st.present ? HS_FINE_OFF : HS_FINE_EMPTY, NULL);
	finish_op(s, 0, "");
}

/* powering-off/power + PRESENCE: the card went once power-off had been
 * commanded.  That is the expected end, not a surprise: QEMU deletes
 * the card at the Slot Control write that turns the slot off, and an
 * operator may pull it as soon as the indicator goes out. */
static void c_poff_gone(struct hs_slot *s)
{
	if (!s->st.present)
		c_poff_off(s);
}

/* CONNECTED: powered, the card answered, nothing configured. */
static void c_conn_presence(struct hs_slot *s)
{
	if (!s->st.present) {
		/* Nothing was configured, but the card was powered. */
		alert(s, "surprise removal: card removed while connected");
		surprise(s, HS_FINE_EMPTY, "card removed while connected");
		return;
	}
	surprise(s, HS_FINE_OFF, "presence changed while connected: the "
		 "card was reset or exchanged");
}

static void c_conn_latch(struct hs_slot *s)
{
	if (!s->st.latch_open)
		return;
	if (has(s, HS_SLOT_CAP_LATCH_ASKS)) {
		/* The ejector asks: nothing to quiesce, power off. */
		c_disconnect(s);
		return;
	}
	surprise(s, HS_FINE_OFF, "the latch (MRL) was opened while connected");
}

static void c_conn_link(struct hs_slot *s)
{
	if (s->st.link_up || !has(s, HS_SLOT_CAP_LINK_REPORT))
		return;
	surprise(s, s->st.present ? HS_FINE_OFF : HS_FINE_EMPTY,
		 "the link went down while connected");
}

/* CONNECTED + ENABLE: cfgadm's configure. */
static void c_conn_configure(struct hs_slot *s)
{
	s->to_connected = false;
	s->reason[0] = '\0';
	set_state(s, HS_FINE_PON_CONFIG, NULL);
	want(s, HS_KEEP, HS_IND_BLINK, HS_IND_OFF, HS_KEEP, HS_KEEP);
	command(s);
	config_step(s, 0);
}

/* FAULT */
static void c_fault_presence(struct hs_slot *s)
{
	if (s->st.present)
		return;
	s->ir_known = false;
	want_off(s, HS_IND_OFF);
	set_state(s, HS_FINE_EMPTY, "card removed: fault cleared");
	s->reason[0] = '\0';
	command(s);
}

static void c_fault_ack(struct hs_slot *s)
{
	read_status(s);
	want_off(s, HS_IND_OFF);
	set_state(s, s->st.present ? HS_FINE_OFF : HS_FINE_EMPTY,
		  "fault acknowledged");
	s->reason[0] = '\0';
	command(s);
	c_ok(s);
}

/*
 * THE TABLE (hs_slot_cells.h): every (fine state, input) cell's handler.
 * A cell nothing but a drill reaches is ignored.  The table holds a byte
 * per cell, an index into the handlers below, not a pointer: 180 bytes
 * instead of 1,440 on a 64-bit target (issue #18, size).  A cell naming a
 * handler this list lacks does not compile.
 */
#define CELL_HANDLERS(X) \
	X(c_ignore) \
	X(c_boff_cancel) \
	X(c_boff_connect) \
	X(c_boff_enable) \
	X(c_bon_cancel) \
	X(c_bon_disable) \
	X(c_bon_latch) \
	X(c_bon_presence) \
	X(c_conn_configure) \
	X(c_conn_latch) \
	X(c_conn_link) \
	X(c_conn_presence) \
	X(c_connect) \
	X(c_debounce) \
	X(c_disable) \
	X(c_disconnect) \
	X(c_empty_settled) \
	X(c_enable) \
	X(c_fault) \
	X(c_fault_ack) \
	X(c_fault_presence) \
	X(c_late_teardown) \
	X(c_off_button) \
	X(c_off_latch) \
	X(c_off_settled) \
	X(c_ok) \
	X(c_on_button) \
	X(c_on_latch) \
	X(c_on_link) \
	X(c_on_presence) \
	X(c_poff_done) \
	X(c_poff_gone) \
	X(c_poff_latch) \
	X(c_poff_link) \
	X(c_poff_off) \
	X(c_poff_pulled) \
	X(c_poff_retry) \
	X(c_pon_ask) \
	X(c_pon_done) \
	X(c_pon_latch) \
	X(c_pon_link_change) \
	X(c_pon_link_lost) \
	X(c_pon_link_timer) \
	X(c_pon_powered) \
	X(c_pon_presence) \
	X(c_pon_settled) \
	X(c_refuse_busy) \
	X(c_refuse_empty) \
	X(c_refuse_fault) \
	X(c_unconfigure)
#define AS_ID(fn) H_##fn,
enum cell_id { CELL_HANDLERS(AS_ID) H_COUNT };
#undef AS_ID
#define AS_PTR(fn) [H_##fn] = fn,
static const cell_fn handlers[H_COUNT] = { CELL_HANDLERS(AS_PTR) };
#undef AS_PTR

#define AS_FN(f, in, fn, doc) [HS_FINE_##f][HS_IN_##in] = H_##fn,
#define AS_IGNORED(f, in, why) [HS_FINE_##f][HS_IN_##in] = H_c_ignore,
static const unsigned char table[HS_FINE_COUNT][HS_IN_COUNT] = {
	HS_SLOT_CELLS(AS_FN, AS_IGNORED)
};
#undef AS_FN
#undef AS_IGNORED
_Static_assert(H_COUNT <= 256, "a cell's handler index is one byte");

void hs_st_input(struct hs_slot *s, enum hs_slot_input in)
{
	struct hs_core *core = hs_sd_core(s);
	bool drilled;

	/* An input a drill latched (a drilled result is DONE_STALE). */
	if (in == HS_IN_DONE) {
		drilled = s->done[0].kind == DONE_STALE;
	} else {
		drilled = (s->drilled >> in) & 1u;
		s->drilled &= ~(1u << in);
	}
	core->slot_cov[s->fs][in]++;
	if (drilled)
		core->slot_cov_drill[s->fs][in]++;
	/* Every input, for a trace of what the slot saw (debug level:
	 * the polled timer and command inputs are frequent). */
	hs_log(plat_of(s), HS_LOG_DEBUG, "slot %s: input %s in %s", s->name,
	       hs_slot_input_name(in),
	     hs_slot_fine_name(s->fs));
	handlers[table[s->fs][in]](s);
}

/* ---- the table, seen from outside -------------------------------------- */

static bool cell_ok(enum hs_slot_fine f, enum hs_slot_input in)
{
	return (unsigned)f < HS_FINE_COUNT && (unsigned)in < HS_IN_COUNT;
}

/* The names, each list one string with NULs between the names, in
 * enum order (hs_nth_name; issue #18, size); docs/slots.md's check
 * prints every one. */

const char *hs_slot_state_name(enum hs_slot_state st)
{
	return hs_nth_name("empty\0off\0blinking-on\0powering-on\0on\0"
			   "blinking-off\0powering-off\0fault\0connected",
			   HS_SLOT_STATE_COUNT, st);
}

const char *hs_slot_input_name(enum hs_slot_input in)
{
	return hs_nth_name("presence\0latch\0button\0power-fault\0link\0cmd\0"
			   "timer\0done\0enable\0disable\0connect\0unconfigure",
			   HS_IN_COUNT, in);
}

enum hs_slot_state hs_slot_fine_coarse(enum hs_slot_fine f)
{
	return hs_sd_coarse(f);
}

const char *hs_slot_fine_name(enum hs_slot_fine f)
{
	return hs_nth_name("empty\0off\0blinking-on\0"
			   "powering-on/power\0powering-on/link\0"
			   "powering-on/settle\0powering-on/ready\0"
			   "powering-on/config\0on\0blinking-off\0"
			   "powering-off/quiesce\0powering-off/power\0"
			   "powering-off/retry\0fault\0connected",
			   HS_FINE_COUNT, f);
}

unsigned long hs_slot_fine_cell_hits(const struct hs_core *core,
				     enum hs_slot_fine f,
				     enum hs_slot_input in)
{
	return cell_ok(f, in) ? core->slot_cov[f][in] : 0;
}

unsigned long hs_slot_fine_cell_drilled(const struct hs_core *core,
					enum hs_slot_fine f,
					enum hs_slot_input in)
{
	return cell_ok(f, in) ? core->slot_cov_drill[f][in] : 0;
}

unsigned long hs_slot_cell_hits(const struct hs_core *core,
				enum hs_slot_state st, enum hs_slot_input in)
{
	unsigned long n = 0;

	for (unsigned f = 0; f < HS_FINE_COUNT; f++)
		if (hs_sd_coarse((enum hs_slot_fine)f) == st)
			n += hs_slot_fine_cell_hits(core, (enum hs_slot_fine)f,
						    in);
	return n;
}
