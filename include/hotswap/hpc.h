/*
 * hotswap/hpc.h - the hot-plug controller driver interface (the HPCD of
 * seeds/002).
 *
 * Owns: what a controller driver (PCIe native, SHPC, CompactPCI) gives
 * the core and what it gets back.  A controller driver speaks only its
 * registers: it reads slot state, carries out commands, and turns its
 * register events into the generic events below.  Policy, timing and
 * the order of operations belong to the one slot state machine in the
 * core (the pciehp split: hpc without policy, ctrl without registers).
 *
 * Rules:
 *  - Interrupt handlers only call hs_hpc_interrupt(); the core calls
 *    ops->collect() later from its dispatcher, which reads and
 *    acknowledges (write-1-to-clear) the latched events and reports them
 *    with hs_hpc_report().
 *  - The core issues at most one command at a time per controller and
 *    waits for HS_HW_CMD_DONE (or its own time-out) before the next.
 *  - Slot indices are 0..nslots-1 in the order the driver described them.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_HPC_H
#define HOTSWAP_HPC_H

#include "hotswap/slot.h"

/* C linkage for C++ programs (tests/cli/install.sh builds one). */
#ifdef __cplusplus
extern "C" {
#endif

struct hs_hpc;

/* Generic events (bits), reported by collect(). */
enum hs_hw_event {
	HS_HW_PRESENCE = 1u << 0,
	HS_HW_LATCH = 1u << 1,
	HS_HW_BUTTON = 1u << 2,
	HS_HW_POWER_FAULT = 1u << 3,
	HS_HW_LINK = 1u << 4,
	HS_HW_CMD_DONE = 1u << 5,    /* the controller's command finished */
};

/* A slot as its hardware shows it now. */
struct hs_slot_status {
	bool present;      /* a card is seated */
	bool latch_open;   /* MRL / ejector handle open */
	bool powered;      /* the slot feeds the card */
	bool link_up;      /* the card is on the bus (PCIe: DLL active;
			      SHPC: enabled; cPCI: board connected) */
	bool power_fault;  /* a power fault is present or latched */
	bool interlock;    /* electromechanical interlock engaged */
};

/* A command: each field HS_KEEP (no change) or a new value. */
#define HS_KEEP (-1)
struct hs_slot_cmd {
	int8_t power;      /* 1 on, 0 off */
	int8_t power_ind;  /* enum hs_indicator */
	int8_t attn_ind;   /* enum hs_indicator */
	int8_t interlock;  /* 1 engage, 0 release */
	int8_t link;       /* 1 enabled, 0 disabled (HS_SLOT_CAP_LINK_CTL) */
};

/* command() returns this when completion comes later as HS_HW_CMD_DONE. */
#define HS_HPC_PENDING 1

struct hs_hpc_ops {
	const char *kind;  /* "pcie", "shpc", "cpci" */
	int (*status)(void *priv, unsigned slot, struct hs_slot_status *st);
	/* Carry out one command: 0 done, HS_HPC_PENDING, or -errno. */
	int (*command)(void *priv, unsigned slot,
		       const struct hs_slot_cmd *cmd);
	/* Read and acknowledge latched events; report them. */
	void (*collect)(void *priv);
	/*
	 * Turn event notification on (irq true: interrupts; false: the core
	 * polls).  May be a command itself (PCIe Slot Control): return
	 * HS_HPC_PENDING then.  -HS_ENOTSUP: no interrupt, poll instead.
	 */
	int (*notify)(void *priv, bool irq);
	/* Optional: the card in the slot was configured (true) or is about
	 * to be unconfigured (false).  CompactPCI uses it for ENUM#. */
	void (*configured)(void *priv, unsigned slot, bool yes);
};

struct hs_hpc_slot_desc {
	unsigned phys;          /* physical slot number */
	uint8_t devnum;         /* device number on the secondary bus */
	unsigned caps;          /* enum hs_slot_caps */
	hs_time_t link_wait;    /* without HS_SLOT_CAP_LINK_REPORT: fixed
				   wait after power-on for the link */
	hs_time_t settle;       /* after link up, before the first config
				   request (PCIe: 100 ms; PCI: Trhfa) */
	bool immediate_ready_ok;/* settle may be skipped for a card known
				   to report Immediate Readiness (PCIe) */
};

enum hs_hpc_flags {
	HS_HPC_POLL_REMOVAL = 1u << 0, /* a pulled card raises no event:
					  the core polls even in interrupt
					  mode (CompactPCI without HA) */
};

/*
 * Register a controller on bridge with its slots (typically from the
 * driver's probe).  The core starts the slots at its next dispatch:
 * reconciles each with the hardware and turns notification on.
 */
int hs_hpc_register(struct hs_dev *bridge, const struct hs_hpc_ops *ops,
		    void *priv, const struct hs_hpc_slot_desc *slots,
		    unsigned nslots, unsigned flags, struct hs_hpc **out);
/* Unregister (from the driver's remove): pending requests end with
 * -HS_ECANCELED; no callback into ops after this returns. */
void hs_hpc_unregister(struct hs_hpc *hpc);

/* From an interrupt handler: latch and schedule collect(). */
void hs_hpc_interrupt(struct hs_hpc *hpc);
/* From collect(): slot saw these enum hs_hw_event bits.  note, when not
 * NULL, explains them ("board reads all ones: improperly removed"). */
void hs_hpc_report(struct hs_hpc *hpc, unsigned slot, unsigned events,
		   const char *note);

/* From collect(): the controller's event registers could not be read
 * (the access failed or read all ones), so what they latched is still
 * there, unacknowledged, and with an edge-triggered interrupt (MSI) no
 * new one will come for it.  The core runs collect() again 10 ms later,
 * up to 5 times in a row, then falls back to comparing every slot with
 * its status. */
void hs_hpc_collect_failed(struct hs_hpc *hpc);

struct hs_dev *hs_hpc_bridge(const struct hs_hpc *hpc);
/* Config access to function fn of the card in a slot (it has no device
 * record before it is configured). */
int hs_hpc_cfg_read(struct hs_hpc *hpc, unsigned slot, unsigned fn,
		    uint16_t off, unsigned width, uint32_t *val);
int hs_hpc_cfg_write(struct hs_hpc *hpc, unsigned slot, unsigned fn,
		     uint16_t off, unsigned width, uint32_t val);
/* Whether the core runs this controller in interrupt mode. */
bool hs_hpc_irq_mode(const struct hs_hpc *hpc);

/* Register the PCIe native, SHPC and CompactPCI controller drivers
 * (controllers/). */
int hs_controllers_register(struct hs_core *core);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_HPC_H */
