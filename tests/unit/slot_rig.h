/*
 * slot_rig.h - one chassis per controller kind, and the verbs the slot
 * scenarios are written in, so that one scenario description runs
 * against a PCIe native slot, an SHPC slot and a CompactPCI slot.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_TEST_SLOT_RIG_H
#define HOTSWAP_TEST_SLOT_RIG_H

#include "sim_util.h"
#include "hotswap/slot.h"

enum rig_kind { RIG_PCIE = 0, RIG_SHPC, RIG_CPCI, RIG_KINDS };

struct rig_opts {
	bool poll;                    /* slots polled, not interrupts */
	int policy;                   /* enum hs_slot_policy */
	/* PCIe slot features (defaults: sim_slot_features_default). */
	bool no_button, no_power_ctl, no_dllla, nccs, interlock, no_mrl;
	uint32_t cmd_delay_us;        /* 0: the default 1 ms */
	bool cpci_no_ha;              /* CompactPCI without slot power */
	/* SHPC: the bridge behind a conventional PCI-to-PCI bridge, whose
	 * ID its MSIs carry upstream (the requester the core must name). */
	bool shpc_behind_bridge;
	/* Authorization hook (hs_core_params.authorize), NULL: allow. */
	bool (*authorize)(void *arg, struct hs_dev *dev, bool at_boot);
	void *authorize_arg;
};

struct rig {
	struct tu t;
	enum rig_kind kind;
	struct hs_core *core;
	struct sim_slot *slot;        /* the slot under test (first one) */
	struct sim_slot *slot2;       /* a second slot (SHPC, cPCI) */
	struct hs_slot *hs;
	/* State changes of the slot under test: "empty>off>powering-on". */
	char trace[2048];
	char alerts[4096];
	hs_time_t t_state[HS_SLOT_STATE_COUNT]; /* last entry into each */
	unsigned long added, removed, bound;
	/* Outcome of the last request made through rig_enable & co. */
	bool done_called;
	int done_rc;
	char done_msg[256];
};

extern const char *const rig_kind_name[RIG_KINDS];

/*
 * Events as one line each, in order: "state 10 off>blinking-on",
 * "alert 10 ...", "added 01:01.0", "bound 01:01.0 simnet", ... Subscribe
 * evlog_event with the log as its argument.
 */
struct evlog {
	char log[16384];
	size_t at;            /* where the last expected string ended */
};
void evlog_event(void *arg, const struct hs_event *ev);
/* Each string must appear in the log after the previous one. */
void evlog_expect_seq(struct evlog *l, const char *const *want);
#define EVLOG_EXPECT(l, ...)                                             \
	do {                                                             \
		static const char *const w_[] = { __VA_ARGS__, NULL };   \
		evlog_expect_seq(l, w_);                                 \
	} while (0)
bool evlog_has(const struct evlog *l, const char *what);
/* Later expectations start from here. */
void evlog_mark(struct evlog *l);

void rig_init(struct rig *r, enum rig_kind kind, const struct rig_opts *o);
/* Build the chassis only (no core yet); rig_start adds the core. */
void rig_build(struct rig *r, enum rig_kind kind, const struct rig_opts *o);
void rig_start(struct rig *r, const struct rig_opts *o);
/* Destroy the core only (the chassis stays, as across a restart). */
void rig_stop(struct rig *r);
void rig_fini(struct rig *r);

bool rig_has(const struct rig *r, unsigned cap);
void rig_run(struct rig *r, hs_time_t delta);
/* Run until the slot reaches state s (true) or limit passes (false). */
bool rig_until(struct rig *r, enum hs_slot_state s, hs_time_t limit);
enum hs_slot_state rig_state(const struct rig *r);
void rig_info(const struct rig *r, struct sim_slot_info *hw,
	      struct hs_slot_info *sw);

void rig_insert(struct rig *r, const struct sim_card_spec *card);
void rig_pull(struct rig *r, bool orderly);
/* The operator's way to ask for removal on this hardware: the button on
 * PCIe and SHPC, the ejector handle on CompactPCI. */
void rig_ask_removal(struct rig *r);
/* Insert and bring up by whatever the slot needs (button or presence). */
void rig_bring_up(struct rig *r, const struct sim_card_spec *card);

int rig_enable(struct rig *r);
int rig_disable(struct rig *r);
int rig_replace(struct rig *r);
/* cfgadm's steps: power and link only; unbind and release, power kept. */
int rig_connect(struct rig *r);
int rig_unconfigure(struct rig *r);

/* The device in the slot (NULL if none). */
struct hs_dev *rig_dev(struct rig *r);
/* Every function of the slot gone from the core, nothing leaked: the
 * simcard ledger balances. */
void rig_assert_clean(struct rig *r);
void rig_assert_trace(const struct rig *r, const char *expect);

#endif
