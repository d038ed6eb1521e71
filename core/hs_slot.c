/*
 * hs_slot.c - the slots' public side: controller registration, the
 * operator's requests and what a caller can learn about a slot.
 *
 * Owns: hs_hpc_register / hs_hpc_unregister (which wire a controller's
 * slots to the table: the dispatcher below reaches it only through the
 * record's input callback); hs_slot_enable / disable / replace, the
 * attention and power indicators, the policy; slot lookup, hs_slot_info
 * and the indicator names; the core's view of its slots (hs_slot.h).  The
 * machine itself is hs_slot_table.c; its dispatcher and command queue
 * hs_slot_dispatch.c (docs/slots.md, docs/core.md).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_slot_dispatch.h"
#include "hs_slot_table.h"
#include "hs_slot.h"

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
	h->input = hs_st_input;
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
	hs_sd_init(h);
	/* Start at the next dispatch, outside any transaction. */
	hs_sd_kick(h);
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
	hs_sd_fini(h);
	for (unsigned n = 0; n < h->nslots; n++)
		hs_sd_finish_op(&h->slots[n], -HS_ECANCELED,
				"the controller went away");
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

/* ---- the operator's side ------------------------------------------------- */

static int request(struct hs_slot *s, enum hs_slot_input in, enum hs_sd_op op,
		   hs_done_fn done, void *arg)
{
	struct hs_hpc *h = s->hpc;
	int rc;

	if (s->op != OP_NONE || s->req >= 0)
		return hs_sd_reason(s, -HS_EBUSY, "another request on this "
				    "slot is in progress");
	if (s->policy == HS_SLOT_POLICY_DISABLED &&
	    (op == OP_ENABLE || op == OP_REPLACE || op == OP_CONNECT))
		return hs_sd_reason(s, -HS_EPERM,
				    "the slot is disabled by the operator");
	s->op = op;
	s->op_done = done;
	s->op_arg = arg;
	if (h->dispatching || !h->started || hs_sd_slot_busy(s)) {
		/* Applied in order by the dispatcher. */
		s->req = (int)in;
		hs_sd_kick(h);
		return 0;
	}
	h->dispatching = true;
	s->req_rc = 0;
	hs_st_input(s, in);
	rc = s->req_rc;
	s->req_rc = 0;
	if (rc < 0) {
		/* Refused at once: the caller hears it from the return. */
		s->op = OP_NONE;
		s->op_done = NULL;
		s->op_arg = NULL;
	} else if (rc > 0) {
		hs_sd_finish_op(s, 0, "");
		rc = 0;
	}
	h->dispatching = false;
	hs_sd_kick(h); /* whatever the cell latched */
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
	if (s->fs != HS_FINE_ON && s->fs != HS_FINE_BLINKING_OFF) {
		hs_snprintf(s->reason, sizeof(s->reason),
			    "replace needs a card in use (the slot is %s)",
			    hs_slot_state_name(hs_sd_state(s)));
		return -HS_EINVAL;
	}
	return request(s, HS_IN_DISABLE, OP_REPLACE, done, arg);
}

int hs_slot_connect(struct hs_slot *s, hs_done_fn done, void *arg)
{
	return request(s, HS_IN_CONNECT, OP_CONNECT, done, arg);
}

int hs_slot_unconfigure(struct hs_slot *s, hs_done_fn done, void *arg)
{
	return request(s, HS_IN_UNCONFIGURE, OP_UNCONFIGURE, done, arg);
}

int hs_slot_set_attention(struct hs_slot *s, enum hs_indicator ind)
{
	if (ind != HS_IND_OFF && ind != HS_IND_ON && ind != HS_IND_BLINK)
		return -HS_EINVAL;
	if (!hs_sd_has(s, HS_SLOT_CAP_ATTN_IND))
		return hs_sd_reason(s, -HS_ENOTSUP,
				    "the slot has no attention indicator");
	hs_sd_want(s, HS_KEEP, HS_KEEP, (int)ind, HS_KEEP, HS_KEEP);
	hs_sd_cmd_kick(s->hpc);
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
	enum hs_slot_state state = hs_sd_state(s);

	if (ind != HS_IND_OFF && ind != HS_IND_ON && ind != HS_IND_BLINK)
		return -HS_EINVAL;
	if (!hs_sd_has(s, HS_SLOT_CAP_PWR_IND))
		return hs_sd_reason(s, -HS_ENOTSUP,
				    "the slot has no power indicator");
	if (!hs_strcmp(s->hpc->ops->kind, "cpci"))
		return hs_sd_reason(s, -HS_ENOTSUP,
				    "the power indicator of a CompactPCI slot "
				    "is the board's blue LED, which tells the "
				    "operator the board is safe to extract "
				    "(PICMG 2.1): it follows the slot's state "
				    "only");
	if (state == HS_SLOT_BLINKING_ON || state == HS_SLOT_POWERING_ON ||
	    state == HS_SLOT_BLINKING_OFF || state == HS_SLOT_POWERING_OFF ||
	    s->op != OP_NONE || s->req >= 0) {
		hs_snprintf(s->reason, sizeof(s->reason),
			    "the slot is %s: the power indicator is the state "
			    "machine's until the slot is on or off",
			    hs_slot_state_name(state));
		return -HS_EBUSY;
	}
	s->hpc->ops->status(s->hpc->priv, s->index, &st);
	if (ind == HS_IND_OFF && (st.powered || s->fs == HS_FINE_ON))
		return hs_sd_reason(s, -HS_EPERM,
				    "a power indicator that is off says the "
				    "card may be removed (PCIe Base 6.7.1.1.1), "
				    "and the slot is powered: take the card "
				    "down first");
	hs_sd_want(s, HS_KEEP, (int)ind, HS_KEEP, HS_KEEP, HS_KEEP);
	hs_sd_cmd_kick(s->hpc);
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
	o->state = hs_sd_state(s);
	o->present = st.present;
	o->latch_open = st.latch_open;
	o->powered = st.powered;
	o->link_up = st.link_up;
	o->power_fault = st.power_fault;
	o->interlock = st.interlock;
	o->power_ind = ind_of(s->have.power_ind);
	o->attn_ind = ind_of(s->have.attn_ind);
	o->policy = s->policy;
	o->presence_enables = hs_st_presence_enables(s);
	o->busy = s->op != OP_NONE || o->state == HS_SLOT_POWERING_ON ||
		  o->state == HS_SLOT_POWERING_OFF;
	o->reason = s->reason;
	o->transitions = s->transitions;
}

enum hs_slot_fine hs_slot_fine_state(const struct hs_slot *s)
{
	return s->fs;
}

const char *hs_indicator_name(enum hs_indicator i)
{
	return i == HS_IND_ON ? "on" : i == HS_IND_BLINK ? "blink" : "off";
}
