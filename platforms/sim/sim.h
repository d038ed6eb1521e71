/*
 * sim.h - the register-level chassis simulator: public API.
 *
 * Owns: building a chassis (host bridge, root ports, switches, bridges,
 * SHPC bridges, CompactPCI segments, slots, soldered devices), the
 * physical actions an operator performs on it (insert, pull, button,
 * latch, faults, bounce), its virtual clock, fault injection and access
 * counters, and the hs_platform it exposes to the core.
 *
 * The simulator is hardware: it knows nothing of the core.  Everything
 * the core learns, it learns through configuration, memory and I/O cycles
 * and interrupts, decoded the way the specifications say.
 *
 * Card specs passed to the simulator are borrowed, not copied: they must
 * outlive the chassis (the topology loader keeps its catalog alive for as
 * long as the chassis it built).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SIM_H
#define HOTSWAP_SIM_H

#include "hotswap/platform.h"

/* C linkage for C++ programs (tests/cli/install.sh builds one). */
#ifdef __cplusplus
extern "C" {
#endif

struct sim;
struct sim_bus;
struct sim_fn;
struct sim_slot;

/* ---- chassis --------------------------------------------------------- */

struct sim_config {
	uint16_t segment;
	uint8_t bus_first, bus_last;  /* host bridge bus range */
	uint32_t io_base, io_limit;   /* I/O aperture (inclusive) */
	uint64_t mem_base, mem_limit; /* 32-bit memory aperture */
	uint64_t pref_base, pref_limit; /* 64-bit prefetchable aperture;
					   limit 0 = none */
	uint64_t ram_base, ram_size;  /* host RAM devices may DMA into */
	unsigned msi_vectors;         /* size of the platform MSI pool */
	uint32_t intx_base;           /* platform line of root INTA# swizzle 0 */
};

/* Fills defaults: bus 0-255, I/O 0x1000-0xffff, memory
 * 0x80000000-0xdfffffff, prefetchable 0x4_0000_0000-0x7_ffff_ffff, 16 MiB
 * of RAM at 0x100000, 64 MSI vectors, INTx lines from 16. */
void sim_config_defaults(struct sim_config *cfg);

/* Returns NULL on allocation failure. */
struct sim *sim_create(const struct sim_config *cfg);
void sim_destroy(struct sim *sim);
const struct sim_config *sim_get_config(const struct sim *sim);

/* The bus behind the host bridge. */
struct sim_bus *sim_root_bus(struct sim *sim);
/* The bus behind a bridge function (NULL for an endpoint). */
struct sim_bus *sim_fn_secondary(const struct sim_fn *fn);
/* The slot a hot-plug port controls (NULL if none). */
struct sim_slot *sim_fn_slot(const struct sim_fn *fn);
/* The port / bridge that controls a slot. */
const struct sim_fn *sim_slot_controller(const struct sim_slot *slot);

/* ---- cards ----------------------------------------------------------- */

enum sim_bar_type {
	SIM_BAR_NONE = 0,
	SIM_BAR_IO,
	SIM_BAR_MEM32,
	SIM_BAR_MEM64, /* takes this BAR and the next */
};

struct sim_bar_spec {
	enum sim_bar_type type;
	bool prefetch;
	uint64_t size; /* power of two; I/O >= 4, memory >= 16 */
};

/* Misbehaviour a card can be built with (for the core's isolation tests). */
enum sim_quirk {
	SIM_QUIRK_CAP_LOOP = 1u << 0,     /* standard capability list loops */
	SIM_QUIRK_CAP_OUTSIDE = 1u << 1,  /* a next pointer leaves the header */
	SIM_QUIRK_EXTCAP_LOOP = 1u << 2,  /* extended list loops */
	SIM_QUIRK_BAR_BAD_SIZE = 1u << 3, /* BAR0 mask with holes (not 2^n) */
	SIM_QUIRK_BUS_GREEDY = 1u << 4,   /* bridge ignores subordinate writes
					     and claims up to bus 255 */
};

struct sim_func_spec {
	uint8_t fn;
	uint16_t vendor, device, subsys_vendor, subsys;
	uint32_t class_code; /* 24 bits: base, sub, prog-if */
	uint8_t revision;
	uint8_t irq_pin;     /* 0 none, 1 INTA# .. 4 INTD# */
	struct sim_bar_spec bar[6];
	uint32_t rom_size;   /* 0: no expansion ROM */
	unsigned msi_vectors;  /* 0: no MSI capability; 1,2,4..32 */
	bool msi_64bit;
	unsigned msix_vectors; /* 0: no MSI-X capability */
	uint8_t msix_bar;      /* BAR holding the MSI-X table and PBA */
	bool has_serial;       /* Device Serial Number extended capability */
	uint64_t serial;
	bool immediate_readiness; /* Status bit 0 (PCIe 4.0+) */
	uint32_t bar0_id;      /* value of the ID register in BAR0's register
				  file; 0 = (device << 16) | vendor */
	uint32_t latency_us;   /* time the card takes per request */
	unsigned quirks;       /* enum sim_quirk bits */
	bool is_bridge;        /* a PCI-to-PCI bridge on the card */
};

struct sim_card_spec;

struct sim_child_spec {
	uint8_t dev;
	const struct sim_card_spec *card;
};

struct sim_card_spec {
	const char *name;        /* catalog key, e.g. "nic-2port" */
	const char *description;
	bool pcie;               /* carries a PCI Express capability */
	unsigned nfuncs;
	struct sim_func_spec funcs[8];
	/* Cards with their own bridge: funcs[0].is_bridge and what sits
	 * behind it on the card's internal bus. */
	unsigned nchildren;
	const struct sim_child_spec *children;
	uint32_t link_train_us;  /* 0: the slot's default */
	uint32_t crs_us;         /* answers Configuration Request Retry
				    Status for this long after link-up */
};

/* ---- building -------------------------------------------------------- */

enum sim_port_type {
	SIM_PORT_ROOT = 4,       /* PCIe Device/Port Type values */
	SIM_PORT_UPSTREAM = 5,
	SIM_PORT_DOWNSTREAM = 6,
};

/* Hot-plug features of a slot (PCIe Slot Capabilities, or their SHPC /
 * CompactPCI equivalents). */
struct sim_slot_features {
	bool attention_button;
	bool power_controller;
	bool mrl_sensor;
	bool attention_indicator;
	bool power_indicator;
	bool surprise;           /* Hot-Plug Surprise */
	bool interlock;          /* electromechanical interlock */
	bool no_cmd_completed;   /* No Command Completed Support */
	bool dll_active_reporting; /* Link Capabilities bit 20 */
	uint32_t cmd_delay_us;   /* Command Completed after this long */
	uint32_t link_train_us;  /* link training after power-on */
	uint32_t power_delay_us; /* card powered this long after power-on */
};

/* Reasonable PCIe slot: everything present, 1 ms commands, 20 ms
 * training. */
void sim_slot_features_default(struct sim_slot_features *f);

struct sim_port_spec {
	enum sim_port_type type;
	uint16_t vendor, device;
	bool has_slot;               /* root / downstream ports only */
	uint16_t phys_slot;          /* Physical Slot Number */
	struct sim_slot_features slot;
	/* QEMU-style resource reservation capability (vendor specific,
	 * Red Hat 0x1b36): 0 and "absent" mean no hint. */
	bool has_reserve;
	uint32_t bus_reserve;
	uint64_t io_reserve, mem_reserve, pref32_reserve, pref64_reserve;
};

struct sim_shpc_spec {
	uint16_t vendor, device;
	unsigned nslots;             /* 1..31 */
	uint8_t first_dev;           /* device number of logical slot 0 */
	uint16_t first_phys;         /* physical number of logical slot 0 */
	bool attention_button;
	bool mrl_sensor;
	uint32_t cmd_delay_us;
};

struct sim_cpci_spec {
	uint16_t vendor, device;
	unsigned nslots;
	uint8_t first_dev;
	uint16_t first_phys;
	bool power_control;          /* high-availability: slot power switch */
	uint32_t enum_line;          /* platform line ENUM# is wired to */
};

/*
 * Each returns the function created, or NULL with *err set: -EEXIST when
 * the device/function is taken, -EINVAL for a bad spec, -ENOMEM.
 * Bridges are created unprogrammed (bus numbers and windows 0), like
 * hardware out of reset.
 */
struct sim_fn *sim_add_pcie_port(struct sim_bus *bus, uint8_t dev,
				 uint8_t fn, const struct sim_port_spec *spec,
				 int *err);
struct sim_fn *sim_add_pci_bridge(struct sim_bus *bus, uint8_t dev,
				  uint8_t fn, uint16_t vendor,
				  uint16_t device, int *err);
struct sim_fn *sim_add_shpc_bridge(struct sim_bus *bus, uint8_t dev,
				   uint8_t fn,
				   const struct sim_shpc_spec *spec,
				   int *err);
struct sim_fn *sim_add_cpci_segment(struct sim_bus *bus, uint8_t dev,
				    uint8_t fn,
				    const struct sim_cpci_spec *spec,
				    int *err);
/* A card soldered at a device number (no slot; always powered). */
int sim_add_device(struct sim_bus *bus, uint8_t dev,
		   const struct sim_card_spec *card);

/* ---- slots and physical actions ---------------------------------------- */

enum sim_slot_kind { SIM_SLOT_PCIE = 1, SIM_SLOT_SHPC, SIM_SLOT_CPCI };
enum sim_indicator { SIM_IND_OFF = 0, SIM_IND_ON, SIM_IND_BLINK };

struct sim_slot_info {
	enum sim_slot_kind kind;
	unsigned phys;            /* physical slot number */
	const char *name;         /* unique: "1", "2", "1-2" on clash */
	bool present;             /* a card is in the slot */
	bool powered;             /* the card receives power */
	bool link_up;             /* PCIe: DLL active; others: connected */
	bool mrl_open;            /* MRL / ejector handle open */
	bool interlock_engaged;
	bool power_fault;
	enum sim_indicator power_ind, attn_ind;
	bool blue_led;            /* CompactPCI LOO: safe to remove */
	const char *card;         /* catalog name of the card, or NULL */
	uint8_t dev;              /* device number on its bus */
};

struct sim_slot *sim_slot_by_phys(struct sim *sim, unsigned phys);
struct sim_slot *sim_slot_by_name(struct sim *sim, const char *name);
/* Slots in creation order; NULL after the last. */
struct sim_slot *sim_slot_next(struct sim *sim, struct sim_slot *prev);
void sim_slot_get_info(const struct sim_slot *slot,
		       struct sim_slot_info *info);

/* Insert a card (MRL / ejector closes behind it).  -EBUSY if occupied. */
int sim_insert(struct sim_slot *slot, const struct sim_card_spec *card);
/* A card present when the chassis powers on: seated, powered and linked
 * as firmware leaves it (power indicator on), no events latched.  The
 * topology loader uses this for cards listed in slots. */
int sim_coldplug(struct sim_slot *slot, const struct sim_card_spec *card);
/* Pull the card.  ORDERLY opens the MRL / ejector first; SURPRISE pulls
 * it with the latch closed.  -ENOENT if empty, -EBUSY if the
 * electromechanical interlock holds it. */
enum sim_remove_how { SIM_REMOVE_ORDERLY = 0, SIM_REMOVE_SURPRISE = 1 };
int sim_remove(struct sim_slot *slot, enum sim_remove_how how);
int sim_press_button(struct sim_slot *slot);
/* Open or close the MRL (PCIe, SHPC) or ejector handle (CompactPCI). */
int sim_set_latch(struct sim_slot *slot, bool open);
int sim_inject_power_fault(struct sim_slot *slot);
/* Presence (or, with link true, the link) toggles every period_us for
 * duration_us, then settles on the real state. */
int sim_bounce(struct sim_slot *slot, bool link, uint32_t period_us,
	       uint32_t duration_us);
/* The card's link never trains (true) or trains again (false). */
int sim_set_link_fail(struct sim_slot *slot, bool fail);
/* The card (all its functions) stops answering, as if it hung. */
int sim_card_hang(struct sim_slot *slot);
/*
 * A rogue card: function fn of the card in the slot tries, on its own,
 * count DMA writes of len bytes each into host RAM at addr, addr + len...
 * (what a malicious or confused device does without any driver).  Each
 * goes upstream only if the function and every bridge above it have Bus
 * Master Enable set (PCI Local Bus 6.2.2).  Returns how many got
 * through (0..count), -HS_ENOENT for an empty slot or missing function.
 * The dma_attempts / dma_blocked counters count them.
 */
int sim_card_dma(struct sim_slot *slot, unsigned fn, uint64_t addr,
		 size_t len, unsigned count);

/* ---- the clock --------------------------------------------------------- */

hs_time_t sim_now(const struct sim *sim);
/* Run every event due up to now + delta, in time order, then set the
 * clock to now + delta. */
void sim_advance(struct sim *sim, hs_time_t delta);
/* Earliest pending event; false when nothing is pending. */
bool sim_next_event(const struct sim *sim, hs_time_t *when);
/* Run events up to and including the earliest pending one. */
bool sim_step(struct sim *sim);

/*
 * Real-time mode (realtime.c, hosted): run the chassis for duration of
 * virtual time, sleeping so that virtual time tracks the wall clock
 * (speed 1) or runs speed times faster.  stop (may be NULL) is polled
 * at least every 50 ms of virtual time; returns 1 when it said stop, 0
 * when the duration elapsed, -HS_EINVAL for speed 0.
 */
int sim_run_realtime(struct sim *sim, hs_time_t duration, unsigned speed,
		     bool (*stop)(void *arg), void *arg);

/* ---- fault injection and counters ----------------------------------- */

/* The nth config access from now (1 = the next) fails: reads return all
 * ones, writes are dropped.  0 disarms. */
void sim_fault_cfg(struct sim *sim, unsigned long nth);
/* The nth allocation through the platform's realloc from now fails. */
void sim_fault_alloc(struct sim *sim, unsigned long nth);

struct sim_counters {
	unsigned long cfg_reads, cfg_writes;
	unsigned long cfg_type0, cfg_type1;  /* cycles as seen on the wire */
	unsigned long cfg_master_aborts;     /* config reads answered ~0 */
	unsigned long cfg_crs;               /* retry-status completions */
	unsigned long cfg_early;             /* requests to a card in a PCIe
						slot within 100 ms of its link
						coming up (PCIe Base 6.6.1),
						unless it has Immediate
						Readiness */
	unsigned long mem_reads, mem_writes, io_reads, io_writes;
	unsigned long mem_master_aborts, io_master_aborts;
	unsigned long decode_conflicts;      /* two agents claimed a cycle */
	unsigned long dma_attempts, dma_blocked;
	unsigned long msi_sent, intx_asserted, irq_delivered;
	unsigned long msi_wrong_requester;   /* dropped: not the requester
						msi_message was given */
	unsigned long allocs, alloc_failures_injected;
};
void sim_get_counters(const struct sim *sim, struct sim_counters *out);
void sim_reset_counters(struct sim *sim);

/* ---- the platform the core runs on ---------------------------------- */

void sim_get_platform(struct sim *sim, struct hs_platform *out);
/* Lines sent to the platform log also go here (NULL: discarded). */
void sim_set_log(struct sim *sim,
		 void (*fn)(void *arg, enum hs_log_level, const char *),
		 void *arg);

/* Host RAM as the CPU sees it (for tests and the DMA helpers); NULL when
 * [addr, addr + len) is not inside it. */
void *sim_host_ram(struct sim *sim, uint64_t addr, size_t len);

/* ---- looking at it (for the tree tool and tests) ----------------------- */

struct sim_walk_node {
	int depth;
	hs_bdf_t where;           /* bus field: 0 until bridges are numbered;
				     devfn always right */
	const struct sim_fn *fn;
	const struct sim_slot *slot; /* slot this function sits in, if any */
	const struct sim_slot *controls; /* slot(s) this port controls */
	const char *kind;         /* "root-port", "endpoint", "shpc-bridge"... */
};
/* Depth-first over the physical tree, parents first.  Returns the
 * callback's first non-zero value, or 0. */
int sim_walk(struct sim *sim,
	     int (*cb)(void *arg, const struct sim_walk_node *node),
	     void *arg);
/* Raw config bytes of a function, bypassing routing (what the silicon
 * holds, answering or not). */
uint32_t sim_fn_peek(const struct sim_fn *fn, uint16_t off, unsigned width);
bool sim_fn_responds(const struct sim_fn *fn);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_SIM_H */
