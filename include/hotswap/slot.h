/*
 * hotswap/slot.h - hot-plug slots: their state machine, the operator's
 * requests (the Hotplug Manager User Interface of seeds/002) and what a
 * caller can learn about a slot.
 *
 * Owns: the public view of a slot.  Slots are created by controller
 * drivers (hotswap/hpc.h) and driven by one state machine in the core
 * (core/hs_slot.c, documented in docs/slots.md).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SLOT_H
#define HOTSWAP_SLOT_H

#include "hotswap/core.h"

/* C linkage for C++ programs (tests/cli/install.sh builds one). */
#ifdef __cplusplus
extern "C" {
#endif

struct hs_slot;

/* The states of the slot state machine (docs/slots.md). */
enum hs_slot_state {
	HS_SLOT_EMPTY = 0,      /* no card */
	HS_SLOT_OFF,            /* a card, not in use (power off where the
				   slot can switch it) */
	HS_SLOT_BLINKING_ON,    /* button pressed: 5 s to cancel, then on */
	HS_SLOT_POWERING_ON,    /* power, link, readiness, configuration */
	HS_SLOT_ON,             /* configured, drivers bound */
	HS_SLOT_BLINKING_OFF,   /* button pressed: 5 s to cancel, then off */
	HS_SLOT_POWERING_OFF,   /* drivers quiescing, unconfigure, power off */
	HS_SLOT_FAULT,          /* power fault latched: enable refused */
	HS_SLOT_CONNECTED,      /* powered, link up, the card answers, not
				   configured (cfgadm: connected,
				   unconfigured) */
	HS_SLOT_STATE_COUNT,
};

/*
 * The fine states: the rows of the machine's table (docs/slots.md).
 * Powering on and powering off are each several states, one per thing
 * the slot waits for; every fine state is one of the states above
 * (hs_slot_fine_coarse), and everything outside the core sees only
 * those.
 */
enum hs_slot_fine {
	HS_FINE_EMPTY = 0,
	HS_FINE_OFF,
	HS_FINE_BLINKING_ON,
	HS_FINE_PON_POWER,      /* powering on: power-on command in flight */
	HS_FINE_PON_LINK,       /* waiting for the link (or the fixed wait) */
	HS_FINE_PON_SETTLE,     /* 100 ms after link up (PCIe Base 6.6.1) */
	HS_FINE_PON_READY,      /* asking the card until it answers (CRS) */
	HS_FINE_PON_CONFIG,     /* enumerating, assigning, binding */
	HS_FINE_ON,
	HS_FINE_BLINKING_OFF,
	HS_FINE_POFF_QUIESCE,   /* powering off: drivers quiescing, unconfigure */
	HS_FINE_POFF_POWER,     /* power-off command in flight */
	HS_FINE_POFF_RETRY,     /* a removal that ran out of memory, waiting
				   to be tried again */
	HS_FINE_FAULT,
	HS_FINE_CONNECTED,
	HS_FINE_COUNT,
};

/*
 * The inputs of the state machine.  Hardware events come from the
 * controller drivers (already acknowledged in the hardware); requests
 * from the operator, policy and start-up reconciliation; TIMER, CMD and
 * DONE from the core's own waiting.
 */
enum hs_slot_input {
	HS_IN_PRESENCE = 0,     /* presence detect changed */
	HS_IN_LATCH,            /* MRL / ejector handle changed */
	HS_IN_BUTTON,           /* attention button pressed */
	HS_IN_POWER_FAULT,      /* power fault detected */
	HS_IN_LINK,             /* link (or bus connection) changed */
	HS_IN_CMD,              /* the slot's commands have completed */
	HS_IN_TIMER,            /* the slot's deadline passed */
	HS_IN_DONE,             /* a configure / unconfigure step finished */
	HS_IN_ENABLE,           /* request: bring the card up */
	HS_IN_DISABLE,          /* request: take the card down */
	HS_IN_CONNECT,          /* request: power and link only (cfgadm) */
	HS_IN_UNCONFIGURE,      /* request: unbind and release, keep power */
	HS_IN_COUNT,
};

enum hs_indicator {
	HS_IND_OFF = 0,
	HS_IND_ON = 1,
	HS_IND_BLINK = 2,
};

/* Whether a card seated in the slot comes up by itself.  The default is
 * the PCI Express standard usage model: slots with an attention button
 * wait for it (or for the operator), slots without one come up on
 * presence. */
enum hs_slot_policy {
	HS_SLOT_POLICY_DEFAULT = 0,
	HS_SLOT_POLICY_PRESENCE,   /* presence alone enables the slot */
	HS_SLOT_POLICY_REQUEST,    /* only the button or the operator */
	HS_SLOT_POLICY_DISABLED,   /* disabled by the operator: presence,
				      the button, enable and replace are
				      refused until the policy changes */
};

/* What a slot's hardware has (hotswap/hpc.h fills these in). */
enum hs_slot_caps {
	HS_SLOT_CAP_POWER = 1u << 0,       /* power controller */
	HS_SLOT_CAP_BUTTON = 1u << 1,      /* attention button */
	HS_SLOT_CAP_MRL = 1u << 2,         /* MRL sensor / ejector switch */
	HS_SLOT_CAP_ATTN_IND = 1u << 3,    /* attention indicator */
	HS_SLOT_CAP_PWR_IND = 1u << 4,     /* power indicator (cPCI: the
					      blue LED, lit when off) */
	HS_SLOT_CAP_SURPRISE = 1u << 5,    /* may be pulled without asking */
	HS_SLOT_CAP_INTERLOCK = 1u << 6,   /* electromechanical interlock */
	HS_SLOT_CAP_LINK_REPORT = 1u << 7, /* link up is reported (DLLLA,
					      cPCI INS); else a fixed wait */
	HS_SLOT_CAP_LINK_CTL = 1u << 8,    /* the link can be disabled */
	HS_SLOT_CAP_LATCH_ASKS = 1u << 9,  /* opening the latch asks for
					      removal (cPCI ejector) instead
					      of cutting power (MRL) */
};

struct hs_slot_info {
	const char *name;         /* unique: "3", or "3-2" on a clash */
	unsigned phys;            /* physical slot number */
	const char *kind;         /* "pcie", "shpc", "cpci" */
	hs_bdf_t bridge;          /* the bridge whose secondary bus it is on */
	uint8_t devnum;           /* device number of the card */
	unsigned caps;            /* enum hs_slot_caps */
	enum hs_slot_state state;
	/* As the hardware shows them now. */
	bool present, latch_open, powered, link_up, power_fault, interlock;
	/* As last commanded. */
	enum hs_indicator power_ind, attn_ind;
	enum hs_slot_policy policy;
	bool presence_enables;    /* the policy in effect */
	bool busy;                /* a request is in progress */
	const char *reason;       /* last failure or refusal ("" if none) */
	unsigned long transitions;/* state changes so far */
};

struct hs_slot *hs_slot_next(struct hs_core *core, struct hs_slot *prev);
struct hs_slot *hs_slot_find(struct hs_core *core, const char *name);
struct hs_slot *hs_slot_by_phys(struct hs_core *core, unsigned phys);
void hs_slot_get_info(const struct hs_slot *slot, struct hs_slot_info *out);
const char *hs_slot_state_name(enum hs_slot_state s);
/* "on", "blink", "off": an indicator's state as every view prints it. */
const char *hs_indicator_name(enum hs_indicator i);
const char *hs_slot_input_name(enum hs_slot_input in);

/*
 * Operator requests.  Each returns 0 when accepted, and then done is
 * called exactly once with the outcome (0, or a negative code and a
 * message saying why); or a negative code when refused at once (done is
 * not called; hs_slot_get_info's reason says why).  A request arriving
 * while the slot is busy with another is refused with -HS_EBUSY.
 */
/* Bring the card up (refused when empty, latch open, fault latched). */
int hs_slot_enable(struct hs_slot *slot, hs_done_fn done, void *arg);
/* Take the card down: drivers may veto (-HS_EBUSY with their reason).
 * In the fault state this acknowledges the fault instead. */
int hs_slot_disable(struct hs_slot *slot, hs_done_fn done, void *arg);
/* Remove the card, then wait for a new one in the same slot and bring
 * it up whatever the policy says; done is called once it is up (or the
 * removal failed).  The new card's events carry the same slot name. */
int hs_slot_replace(struct hs_slot *slot, hs_done_fn done, void *arg);
/*
 * cfgadm's two steps, each on its own (docs/slots.md).  Connect powers
 * the slot and waits for the link and the card's first answer, and
 * configures nothing: the slot is then CONNECTED.  Unconfigure asks and
 * stops the drivers (they may veto, as for disable) and releases the
 * card's functions and resources, keeping power and link: to CONNECTED.
 * From CONNECTED, enable configures the card (cfgadm's configure) and
 * disable powers the slot off (disconnect).  Both are refused as enable
 * is (empty, latch open, fault latched, disabled by the operator).
 */
int hs_slot_connect(struct hs_slot *slot, hs_done_fn done, void *arg);
int hs_slot_unconfigure(struct hs_slot *slot, hs_done_fn done, void *arg);
/* The attention indicator, for the operator to locate a slot.  The state
 * machine overrides it on a failure. */
int hs_slot_set_attention(struct hs_slot *slot, enum hs_indicator ind);
/*
 * The power indicator, for the operator (ledctl's habit), between state
 * changes: the state machine sets it whenever the slot changes state
 * (on when on, off when off or empty, blinking meanwhile), which ends
 * the operator's setting.  Refused with hs_slot_get_info's reason saying
 * why: -HS_ENOTSUP without a power indicator or on a CompactPCI slot
 * (its blue LED), -HS_EBUSY while the slot blinks, powers on or off or
 * a request is in progress, -HS_EPERM for off on a powered slot.
 */
int hs_slot_set_power_indicator(struct hs_slot *slot, enum hs_indicator ind);
int hs_slot_set_policy(struct hs_slot *slot, enum hs_slot_policy policy);

/*
 * Compare what every slot's hardware shows with what the state machine
 * believes and synthesise the missing events (a card inserted while
 * nobody was looking comes up; a slot found empty goes down).  Runs by
 * itself when a controller starts and at every poll; a service calls it
 * after it restarts.
 */
void hs_core_slots_resync(struct hs_core *core);

/*
 * A fault drill: latch an input as if it had happened (hardware inputs
 * as if the controller had reported them; TIMER as a stale expiry; DONE
 * as a late result, -HS_ECANCELED, of work nobody waits for; ENABLE and
 * DISABLE as requests with no one to tell).  Applied at the next
 * dispatch, through the same table.  For tests and drills only.
 */
void hs_slot_drill(struct hs_slot *slot, enum hs_slot_input in);

/* Coverage of the state table: how often an input arrived in state s
 * (the sum of the cells of s's fine states). */
unsigned long hs_slot_cell_hits(const struct hs_core *core,
				enum hs_slot_state s, enum hs_slot_input in);
/* What the cell does, in words, for a state that is one fine state;
 * NULL for powering-on and powering-off, whose cells are their fine
 * states' (hs_slot_fine_cell_doc). */
const char *hs_slot_cell_doc(enum hs_slot_state s, enum hs_slot_input in);

/* The fine state the slot's machine is in. */
enum hs_slot_fine hs_slot_fine_state(const struct hs_slot *slot);
/* The state a fine state is seen as (HS_SLOT_STATE_COUNT if none). */
enum hs_slot_state hs_slot_fine_coarse(enum hs_slot_fine f);
/* "powering-on/link": the coarse name, then the step. */
const char *hs_slot_fine_name(enum hs_slot_fine f);
/* The table over the fine states: how often the cell ran (hits), how
 * many of those were inputs latched by hs_slot_drill (drilled), what it
 * does (doc, the table in docs/slots.md), and why the input cannot
 * arrive in that state except by a drill (NULL when it can). */
unsigned long hs_slot_fine_cell_hits(const struct hs_core *core,
				     enum hs_slot_fine f,
				     enum hs_slot_input in);
unsigned long hs_slot_fine_cell_drilled(const struct hs_core *core,
					enum hs_slot_fine f,
					enum hs_slot_input in);
const char *hs_slot_fine_cell_doc(enum hs_slot_fine f, enum hs_slot_input in);
const char *hs_slot_fine_cell_unreachable(enum hs_slot_fine f,
					  enum hs_slot_input in);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_SLOT_H */
