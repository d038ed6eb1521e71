/*
 * hs_slot_dispatch.h - the slots' records, the dispatcher that applies
 * what was latched, and the controllers' command queue
 * (hs_slot_dispatch.c); the lowest of the three slot modules
 * (docs/core.md).  The table above it (hs_slot_table.h) is reached only
 * through the input callback each controller record carries.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_SLOT_DISPATCH_H
#define HOTSWAP_CORE_SLOT_DISPATCH_H

#include "hs_tree.h"

/* A finished configure / unconfigure (or a drill's stale one). */
enum hs_sd_done_kind { DONE_ADD = 1, DONE_REMOVE = 2, DONE_STALE = 3 };

struct hs_sd_done {
	enum hs_sd_done_kind kind;
	int rc;
	char msg[320];
};

enum hs_sd_op {
	OP_NONE = 0, OP_ENABLE, OP_DISABLE, OP_REPLACE, OP_CONNECT,
	OP_UNCONFIGURE
};

#define HS_SD_MAX_DONE 4

/* The table's entry: apply one input to the slot (hs_st_input). */
typedef void (*hs_sd_input_fn)(struct hs_slot *s, enum hs_slot_input in);

/* The fields the machine reads on every input come first, the arrays
 * last: on x86-64 and Thumb an offset below 128 is a one-byte
 * displacement or a short form (issue #18, size). */
struct hs_slot {
	struct hs_hpc *hpc;
	unsigned index;
	enum hs_slot_fine fs;         /* the machine's state (a table row) */
	unsigned hw_pending;          /* latched enum hs_hw_event bits */
	unsigned drilled;             /* 1 << input: latched by a drill */
	struct hs_slot_status st;     /* as last read */
	/* st was read while handling the current input and no command has
	 * gone out since: handlers of that input reuse it (one status read
	 * per input, as pciehp reads once per event; issue #18).  Cleared
	 * between inputs, so no decision rests on an older read. */
	bool st_fresh;
	bool cmd_event;               /* commands settled: feed HS_IN_CMD */
	bool timer_fired;
	bool debouncing;
	bool ir_known;                /* function 0 reported Immediate
					 Readiness; the card never left */
	/* The flow in progress stops at CONNECTED: powering on ends before
	 * configuration (cfgadm's connect), powering off after the drivers
	 * are gone, with power kept (unconfigure).  Set by the cell that
	 * starts the flow, from its input. */
	bool to_connected;

	/* Commands: what the hardware should show, what it was told. */
	struct hs_slot_cmd want, have;

	enum hs_slot_policy policy;
	enum hs_sd_op op;             /* the request in progress */
	int req;                      /* latched request (HS_IN_*), -1 */
	int req_rc;                   /* verdict of the last request */
	unsigned ndone;
	unsigned retries;
	struct hs_hpc_slot_desc d;
	hs_time_t link_up_at;
	hs_time_t ready_deadline;
	hs_done_fn op_done;
	void *op_arg;
	unsigned long transitions;

	struct hs_timer timer;        /* the state's one deadline */
	char name[16];
	struct hs_sd_done done[HS_SD_MAX_DONE];
	char note[96];                /* the controller's word on them */
	char reason[352];
};

struct hs_hpc {
	struct hs_core *core;
	struct hs_hpc *next;
	struct hs_dev *bridge;
	const struct hs_hpc_ops *ops;
	void *priv;
	hs_sd_input_fn input;         /* the table, set by registration */
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

static inline struct hs_core *hs_sd_core(const struct hs_slot *s)
{
	return s->hpc->core;
}

static inline bool hs_sd_has(const struct hs_slot *s, unsigned cap)
{
	return (s->d.caps & cap) != 0;
}

/* The state everything outside the machine sees (docs/slots.md); one
 * table in hs_slot_dispatch.c, not a switch inlined at every use. */
enum hs_slot_state hs_sd_coarse(enum hs_slot_fine f);

static inline enum hs_slot_state hs_sd_state(const struct hs_slot *s)
{
	return hs_sd_coarse(s->fs);
}

/* Events and the slot's reason (a message about a slot is logged as
 * "slot NAME: ..." with hs_log). */
void hs_sd_emit(struct hs_slot *s, enum hs_event_type type, int from, int to,
		const char *msg);
/* why becomes the slot's reason (a refusal's); returns rc. */
int hs_sd_reason(struct hs_slot *s, int rc, const char *why);
/* Something the operator must know: logged, kept as the slot's reason,
 * and sent as an event. */
void hs_sd_alert(struct hs_slot *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The slot's one deadline; HS_IN_TIMER when it passes. */
void hs_sd_arm(struct hs_slot *s, hs_time_t delay);
void hs_sd_arm_at(struct hs_slot *s, hs_time_t when);
void hs_sd_disarm(struct hs_slot *s);

/* Tell the controller the slot's card was configured (yes) or is about to
 * be unconfigured, through its optional configured() op (CompactPCI
 * uses it for ENUM#). */
void hs_sd_configured(struct hs_slot *s, bool yes);

/* Read the slot's status unless this input already did. */
void hs_sd_read_status(struct hs_slot *s);
/* A card configured in the slot (devices below it in the tree). */
bool hs_sd_populated(const struct hs_slot *s);

/* End the request in progress with rc (0 or -errno) and a message. */
void hs_sd_finish_op(struct hs_slot *s, int rc, const char *msg);

/* Commands: what the slot should show (HS_KEEP: unchanged). */
void hs_sd_want(struct hs_slot *s, int power, int pind, int aind, int lock,
		int link);
/* Ask for the wanted state; HS_IN_CMD follows once it is there. */
void hs_sd_command(struct hs_slot *s);
/* Issue the next command of the controller, if none is in flight. */
void hs_sd_cmd_kick(struct hs_hpc *h);

/* Run the controller's dispatcher soon (at once if not running). */
void hs_sd_kick(struct hs_hpc *h);
/* Anything latched on the slot not yet applied. */
bool hs_sd_slot_busy(const struct hs_slot *s);
/* Compare the hardware with the machine's belief, latch the difference. */
void hs_sd_resync_slot(struct hs_slot *s);

/* Completion callbacks of the core's hot-add and removal: latched, then
 * HS_IN_DONE. */
void hs_sd_add_done(void *slot, int rc, const char *msg);
void hs_sd_remove_done(void *slot, int rc, const char *msg);

/* A controller record's timers and its first dispatch; cancelling them. */
void hs_sd_init(struct hs_hpc *h);
void hs_sd_fini(struct hs_hpc *h);

#endif /* HOTSWAP_CORE_SLOT_DISPATCH_H */
