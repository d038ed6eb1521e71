/*
 * hs_tree.h - the core's records and its lowest layer.
 *
 * Owns: struct hs_core, struct hs_dev, the transaction log's records,
 * the upcalls, and the functions of hs_tree.c (memory, the device tree,
 * events).  Every core module includes it; layers: docs/core.md.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_TREE_H
#define HOTSWAP_CORE_TREE_H

#include "hotswap/core.h"
#include "hotswap/hpc.h"
#include "hotswap/txn.h"
#include "hotswap/cfg.h"
#include "hotswap/util.h"
#include "hotswap/timer.h"
#include "hotswap/range.h"

/* Config header offsets the core uses (PCI 3.0 6.1, PCI-PCI Bridge 3.2). */
#define PCI_VENDOR        0x00
#define PCI_COMMAND       0x04
#define PCI_STATUS        0x06
#define PCI_CLASS_REV     0x08
#define PCI_HDR_TYPE      0x0e
#define PCI_BAR0          0x10
#define PCI_SUBSYS        0x2c
#define PCI_ROM           0x30
#define PCI_INT_LINE      0x3c
#define PCI_INT_PIN       0x3d
#define PCI_PRIMARY       0x18
#define PCI_SECONDARY     0x19
#define PCI_SUBORDINATE   0x1a
#define PCI_IO_BASE       0x1c
#define PCI_IO_LIMIT      0x1d
#define PCI_MEM_BASE      0x20
#define PCI_MEM_LIMIT     0x22
#define PCI_PREF_BASE     0x24
#define PCI_PREF_LIMIT    0x26
#define PCI_PREF_BASE_UP  0x28
#define PCI_PREF_LIMIT_UP 0x2c
#define PCI_IO_BASE_UP    0x30
#define PCI_IO_LIMIT_UP   0x32
#define PCI_ROM_BRIDGE    0x38
#define PCI_BRIDGE_CTL    0x3e

#define CMD_IO      0x0001
#define CMD_MEM     0x0002
#define CMD_MASTER  0x0004
#define CMD_INTX_DISABLE 0x0400

/* On a function inlining would make bigger (called at several sites, or
 * crowding its caller's registers): issue #18, code size. */
#define HS_NOINLINE __attribute__((noinline))

enum hs_bar_kind { BAR_NONE = 0, BAR_IO, BAR_MEM32, BAR_MEM64 };

struct hs_bar_info {
	enum hs_bar_kind kind;
	bool pref;
	uint64_t size;
	uint64_t addr;
	bool assigned;
	enum hs_res res;   /* window it is placed in */
};

enum hs_dev_flags {
	DEV_ISOLATED = 1u << 0,
	DEV_GONE = 1u << 1,
	DEV_PENDING_ADD = 1u << 2,    /* added by the open transaction */
	DEV_PENDING_REMOVE = 1u << 3, /* removed by the open transaction */
	DEV_BOOT_VGA = 1u << 4,
	DEV_NO_REMOVE = 1u << 5,
	DEV_HOTPLUG = 1u << 6,        /* hot-plug bridge */
	DEV_PREF64 = 1u << 7,         /* bridge has a 64-bit pref window */
	DEV_NO_PREF = 1u << 8,        /* bridge has no pref window */
	DEV_BLOCKED = 1u << 9,        /* not authorized: no decode, no
					 master, no driver */
	DEV_IMM_READY = 1u << 10,     /* Status: Immediate Readiness */
	DEV_ARI_FWD = 1u << 11,       /* port: ARI Forwarding Enable */
};

#define HS_MAX_SERVICES 4

struct hs_dev {
	/* The fields most code reads come first: within the first 128
	 * bytes an access takes a one-byte displacement on x86-64 and the
	 * short Thumb forms on Cortex-M (issue #18: code size). */
	struct hs_core *core;
	struct hs_dev *parent, *child, *sibling;
	hs_bdf_t bdf;
	unsigned flags;
	uint16_t vendor, device, ssvid, ssid;
	uint32_t class_code;
	uint8_t hdr;
	bool bridge;
	uint8_t pcie_type;
	uint8_t irq_pin;

	uint16_t cap_pcie, cap_msi, cap_msix, cap_hs, cap_shpc, cap_vndr;
	int slot_phys;              /* hot-plug bridge: its slot */

	/* What the scan left in the registers hs_program_dev writes (BARs,
	 * ROM, Interrupt Line, Command), valid while the device is
	 * DEV_PENDING_ADD: only the core has touched it since, so the undo
	 * log need not read them again. */
	bool regs_known;
	uint8_t int_line_reg;
	uint16_t cmd_reg;

	const struct hs_driver *drv;
	void *drv_priv;

	struct hs_bar_info bar[7];
	/* Windows (size 0: closed); HS_RES_BUS: base = secondary, the
	 * range up to subordinate (hotswap/range.h). */
	struct hs_range win[HS_RES_COUNT];
	/* Allocator scratch: what this bridge's windows must hold. */
	uint64_t need[HS_RES_COUNT], need_align[HS_RES_COUNT];
	struct hs_reserve resv;

	uint32_t irq_line;          /* INTx platform line (after swizzle) */
	uint32_t bar_reg[7];        /* the registers above: BARs, ROM */
	uint32_t msi_first;
	unsigned msi_count;         /* 0: INTx */
	bool msix;
	bool intx_attached;         /* we hold the INTx line's handler */

	unsigned services;
	const struct hs_port_service *svc[HS_MAX_SERVICES];
	void *svc_priv[HS_MAX_SERVICES];
	char reason[96];
};

/* ---- the transaction log (its functions: hs_txn.h) ---------------------- */

enum txn_kind {
	TXN_CFG,        /* config register write: restore old value */
	TXN_DEV_ADD,    /* device linked into the tree */
	TXN_DEV_REMOVE, /* device marked for removal */
	TXN_BIND,       /* driver bound */
	TXN_SERVICE,    /* port service bound */
	TXN_MSI,        /* interrupt vectors allocated and attached */
	TXN_RES,        /* a device's BARs and windows before a rebalance */
	TXN_USER,       /* a record of the public API (hotswap/txn.h) */
};

struct txn_res_snap {
	struct hs_bar_info bar[7];
	struct hs_range win[HS_RES_COUNT];
	hs_bdf_t bdf;               /* a bus renumbering changes it */
};

struct txn_entry {
	enum txn_kind kind;
	struct hs_dev *dev;
	hs_bdf_t bdf;
	uint16_t off;
	uint8_t width;
	uint32_t old;
	unsigned svc_index;
	struct txn_res_snap *snap;  /* TXN_RES */
	void (*user_undo)(void *), (*user_commit)(void *); /* TXN_USER */
	void *user_arg;
};

/* A writer queued behind the open transaction (hotswap/txn.h). */
struct txn_wait {
	struct txn_wait *next;
	const char *what;
	void (*fn)(void *arg, struct hs_core *core, int rc);
	void *arg;
};

struct hs_txn {
	struct txn_entry *log;
	size_t n, cap;
	struct hs_event *events;  /* delivered at commit */
	size_t nev, cap_ev;
	int error;                /* sticky: a record that could not be made */
	const char *what;
	size_t mark;              /* log index of the latest savepoint */
	/* The log and event array outlive transactions and are kept at
	 * least this big: room for tearing down every device after a
	 * surprise removal, so that one never fails for want of memory
	 * (hs_txn.c). */
	size_t keep, keep_ev;
};

int hs_txn_begin(struct hs_core *core, const char *what);
/* A savepoint: hs_txn_rollback_to undoes everything logged after it and
 * drops its events; the transaction stays open.  A device whose record is
 * changed after the latest savepoint gets a snapshot of its own there
 * (hs_txn_dev_res), so rolling back restores it as it was at the mark. */
struct hs_txn_mark {
	size_t n, nev;
};

/* ---- the core ------------------------------------------------------------ */

#define HS_MAX_DRIVERS 32
#define HS_MAX_SUBSCRIBERS 16
#define HS_MAX_HOSTS 4

struct hs_sub {
	hs_event_fn fn;
	void *arg;
};

struct intx_handler {
	uint32_t line;
	unsigned users;
};

/* Work that waits for a writer's transaction or a removal (seeds/002:
 * a transaction that finds another in progress waits for it); the kinds
 * keep the order they were asked in. */
enum pending_kind { PENDING_ADD, PENDING_REMOVE, PENDING_REBALANCE };

struct pending_add {
	struct hs_dev *bridge;  /* NULL for a rebalance (the whole fabric) */
	int devnum;
	enum pending_kind kind;
	hs_done_fn done;
	void *arg;
	struct pending_add *next;
};

/*
 * What a hot-add attempt lacked, returned by it (hs_add.c) and passed on
 * by its caller to the rebalancer (the rebalance_add upcall): which
 * kinds of address space did not fit, how many bus numbers the scan
 * lacked, and how many of those only renumbering running devices (their
 * drivers stopped) would give.  All zero: nothing a rebalance could fix.
 */
struct hs_add_result {
	unsigned kinds;      /* 1u << enum hs_res per kind that did not fit */
	unsigned bus_short;  /* bus numbers the scan lacked */
	unsigned bus_move;   /* ...to be had by renumbering running devices */
};

/*
 * Calls up the layers (docs/core.md): a layer calls only downward; where
 * a lower one must reach a higher one, it calls through these, which
 * hs_core_create (the top) fills in.  Each names its caller and callee.
 */
struct hs_upcalls {
	/* transactions -> driver bus: undo of TXN_MSI */
	void (*free_irq)(struct hs_dev *dev);
	/* driver bus -> operations: a removal below br finished */
	void (*run_pending_adds)(struct hs_core *core, struct hs_dev *br);
	/* operations -> rebalance: a rebalance that waited its turn (NULL
	 * until hs_core_enable_rebalance) */
	int (*rebalance_run)(struct hs_core *core, hs_done_fn done,
			     void *arg);
	/* driver bus -> rebalance: a pulled card ends any plan */
	void (*rebalance_cancel)(struct hs_core *core, const char *why);
	/* operations -> rebalance: a card that does not fit as things are
	 * (res: what its hot-add lacked).  This one, rebalance_cancel and
	 * scan_slot_buses are NULL until hs_core_enable_rebalance. */
	int (*rebalance_add)(struct hs_core *core, struct hs_dev *br,
			     int devnum, const struct hs_add_result *res,
			     hs_done_fn done, void *arg, char *msg,
			     size_t msglen);
	int (*scan_slot_buses)(struct hs_core *core, struct hs_dev *br,
			       int devnum, bool renumber,
			       struct hs_txn_mark *after,
			       struct hs_add_result *res, char *msg,
			       size_t msglen);
	/* tree -> slots: the physical slot at a device number of br */
	int (*slot_phys_at)(const struct hs_dev *br, unsigned devnum);
	/* rebalance -> slots: why a controller on d may not be renumbered
	 * now (NULL: it may); installed with the rebalancer's own */
	const char *(*controller_busy)(struct hs_core *core,
				       const struct hs_dev *d);
};

struct hs_core {
	/* The fields most code reads first: within the first 128 bytes an
	 * access is shorter (as in struct hs_dev, issue #18). */
	const struct hs_platform *plat;
	struct hs_dev *roots;       /* devices on the root buses (siblings) */
	struct removal *removing;   /* removals in progress (quiescing) */
	struct pending_add *adds;   /* hot-adds (and removals) waiting */
	struct rebalance *rebalancing; /* the one in progress */
	bool in_txn;
	bool boot_vga_seen;
	bool booting;
	bool boot_last_try;          /* the last of the boot's tries: a port
				       service that cannot start is left out
				       (earlier ones fail and are tried again) */
	/* The Vendor/Device ID the slot's readiness poll just read at
	 * id_hint_bdf (hs_scan_hint_id), for the scan's first look. */
	bool id_hint;
	struct hs_timers timers;
	struct hs_txn txn;
	struct txn_wait *txq, **txq_tail; /* queued writers, in order */
	/* Hot-add of one slot: scan only device scan_dev below scan_top. */
	struct hs_dev *scan_top;
	int scan_dev;
	hs_bdf_t id_hint_bdf;
	uint32_t id_hint_val;
	unsigned bus_resv_shift;    /* boot retry: bus reservations >> n */
	uint32_t max_bus_resv;      /* largest bus reservation seen */
	size_t ndevs;               /* devices linked in the tree: a count
				       kept, so no change walks the fabric
				       to learn it (issue #18) */
	uint64_t generation;
	struct hs_upcalls up;
	/* Slots (hs_slot.c). */
	struct hs_hpc *hpcs;
	struct hs_core_params params;

	unsigned nhosts;
	struct hs_host_bridge host[HS_MAX_HOSTS];

	unsigned ndrivers;
	const struct hs_driver *drivers[HS_MAX_DRIVERS];
	unsigned nservices;
	const struct hs_port_service *services[HS_MAX_DRIVERS];

	unsigned nsubs;
	uint64_t event_seq;
	struct hs_sub subs[HS_MAX_SUBSCRIBERS];

	struct hs_timer txq_tm;     /* starts the next once one ends */
	unsigned long slot_cov[HS_FINE_COUNT][HS_IN_COUNT];
	unsigned long slot_cov_drill[HS_FINE_COUNT][HS_IN_COUNT];
};

/* hs_tree.c */
void *hs_zalloc(struct hs_core *core, size_t size);
/* Queue work behind what is in progress (core->adds, run by
 * hs_run_pending_adds); -HS_ENOMEM, done not called, if it cannot. */
int hs_pending_queue(struct hs_core *core, enum pending_kind kind,
		     struct hs_dev *bridge, int devnum, hs_done_fn done,
		     void *arg);
void hs_free(struct hs_core *core, void *p, size_t size);
void hs_dev_link(struct hs_dev *parent, struct hs_dev **roots,
		 struct hs_dev *dev);
void hs_dev_unlink(struct hs_core *core, struct hs_dev *dev);
void hs_dev_free(struct hs_dev *dev);
bool hs_dev_visible(const struct hs_dev *dev);
void hs_emit(struct hs_core *core, const struct hs_event *ev);
/* Depth-first over every device, committed or not. */
struct hs_dev *hs_dev_walk(struct hs_core *core, struct hs_dev *prev);
struct hs_dev *hs_dev_walk_under(struct hs_dev *top, struct hs_dev *prev);
/* Config read through the core's platform (no undo log: reads only). */
int hs_rd(struct hs_core *core, hs_bdf_t bdf, uint16_t off, unsigned w,
	  uint32_t *v);
/* Is a d itself or one of its ancestors? */
bool hs_dev_ancestor_or_self(const struct hs_dev *a, const struct hs_dev *d);
const struct hs_host_bridge *hs_dev_host(const struct hs_dev *dev);

#endif /* HOTSWAP_CORE_TREE_H */
