/*
 * hs_internal.h - structures shared by the core's source files.
 *
 * Owns: struct hs_core, struct hs_dev, the transaction log, and the
 * prototypes the core's modules call on each other.  Freestanding.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_INTERNAL_H
#define HOTSWAP_CORE_INTERNAL_H

#include "hotswap/core.h"
#include "hotswap/hpc.h"
#include "hotswap/txn.h"
#include "hotswap/cfg.h"
#include "hotswap/util.h"
#include "hotswap/timer.h"

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

enum hs_bar_kind { BAR_NONE = 0, BAR_IO, BAR_MEM32, BAR_MEM64 };

struct hs_bar_info {
	enum hs_bar_kind kind;
	bool pref;
	uint64_t size;
	uint64_t addr;
	bool assigned;
	enum hs_res res;   /* window it is placed in */
};

struct hs_win {
	uint64_t base, size; /* size 0: closed.  BUS: base = secondary */
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
	struct hs_core *core;
	hs_bdf_t bdf;
	uint16_t vendor, device, ssvid, ssid;
	uint32_t class_code;
	uint8_t hdr;
	bool bridge;
	unsigned flags;
	char reason[96];

	struct hs_dev *parent, *child, *sibling;

	struct hs_bar_info bar[7];
	struct hs_win win[HS_RES_COUNT];
	struct hs_reserve resv;
	int slot_phys;              /* hot-plug bridge: its slot */

	uint16_t cap_pcie, cap_msi, cap_msix, cap_hs, cap_shpc, cap_vndr;
	uint8_t pcie_type;

	uint8_t irq_pin;
	uint32_t irq_line;          /* INTx platform line (after swizzle) */
	/* What the scan left in the registers hs_program_dev writes (BARs,
	 * ROM, Interrupt Line, Command), valid while the device is
	 * DEV_PENDING_ADD: only the core has touched it since, so the undo
	 * log need not read them again. */
	bool regs_known;
	uint8_t int_line_reg;
	uint16_t cmd_reg;
	uint32_t bar_reg[7];
	uint32_t msi_first;
	unsigned msi_count;         /* 0: INTx */
	bool msix;
	bool intx_attached;         /* we hold the INTx line's handler */

	/* Allocator scratch: what this bridge's windows must hold. */
	uint64_t need[HS_RES_COUNT], need_align[HS_RES_COUNT];

	const struct hs_driver *drv;
	void *drv_priv;
	unsigned services;
	const struct hs_port_service *svc[HS_MAX_SERVICES];
	void *svc_priv[HS_MAX_SERVICES];
};

/* ---- transactions (hs_txn.c) ------------------------------------------- */

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
	struct hs_win win[HS_RES_COUNT];
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
	const char *what;
	int error;                /* sticky: a record that could not be made */
	struct txn_entry *log;
	size_t n, cap;
	struct hs_event *events;  /* delivered at commit */
	size_t nev, cap_ev;
	size_t mark;              /* log index of the latest savepoint */
};

int hs_txn_begin(struct hs_core *core, const char *what);
/* A savepoint: hs_txn_rollback_to undoes everything logged after it and
 * drops its events; the transaction stays open.  A device whose record is
 * changed after the latest savepoint gets a snapshot of its own there
 * (hs_txn_dev_res), so rolling back restores it as it was at the mark. */
struct hs_txn_mark {
	size_t n, nev;
};
struct hs_txn_mark hs_txn_mark(struct hs_core *core);
void hs_txn_rollback_to(struct hs_core *core, struct hs_txn_mark m);
int hs_txn_commit(struct hs_core *core);
void hs_txn_abort(struct hs_core *core);
/* The queued writers' timer (armed when a transaction ends). */
void hs_txn_run_writers(void *arg);
/* Drop queued writers unrun (the core is going away). */
void hs_txn_queue_flush(struct hs_core *core);
/* Record-and-do helpers: each returns 0 or -HS_ENOMEM (nothing done). */
int hs_txn_cfg_write(struct hs_core *core, hs_bdf_t bdf, uint16_t off,
		     unsigned width, uint32_t val);
int hs_txn_cfg_write_old(struct hs_core *core, hs_bdf_t bdf, uint16_t off,
			 unsigned width, uint32_t old, uint32_t val);
int hs_txn_dev_added(struct hs_core *core, struct hs_dev *dev);
int hs_txn_dev_removed(struct hs_core *core, struct hs_dev *dev);
/* Make room for this many more log entries and events, so that a change
 * that cannot be undone (drivers unbound) is never followed by a record
 * that fails. */
int hs_txn_reserve(struct hs_core *core, size_t entries, size_t events);
int hs_txn_bound(struct hs_core *core, struct hs_dev *dev);
int hs_txn_service(struct hs_core *core, struct hs_dev *dev, unsigned idx);
int hs_txn_msi(struct hs_core *core, struct hs_dev *dev);
/* Before a committed device's BARs or windows change in memory: abort
 * puts them back.  Once per device per transaction is enough. */
int hs_txn_dev_res(struct hs_core *core, struct hs_dev *dev);
/* The snapshot recorded for dev in the open transaction, or NULL. */
const struct txn_res_snap *hs_txn_res_of(struct hs_core *core,
					 const struct hs_dev *dev);
int hs_txn_event(struct hs_core *core, enum hs_event_type type,
		 struct hs_dev *dev, const char *driver);

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

struct pending_add {
	struct hs_dev *bridge;
	int devnum;
	hs_done_fn done;
	void *arg;
	struct pending_add *next;
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
	/* driver bus -> rebalance: a pulled card ends any plan */
	void (*rebalance_cancel)(struct hs_core *core, const char *why);
	/* operations -> rebalance: a card that does not fit as things are */
	int (*rebalance_add)(struct hs_core *core, struct hs_dev *br,
			     int devnum, hs_done_fn done, void *arg,
			     char *msg, size_t msglen);
	int (*rebalance_bus_add)(struct hs_core *core, struct hs_dev *br,
				 int devnum, unsigned need, hs_done_fn done,
				 void *arg, char *msg, size_t msglen);
	int (*scan_slot_buses)(struct hs_core *core, struct hs_dev *br,
			       int devnum, bool renumber,
			       struct hs_txn_mark *after, char *msg,
			       size_t msglen);
	/* tree -> slots: the physical slot at a device number of br */
	int (*slot_phys_at)(const struct hs_dev *br, unsigned devnum);
	/* rebalance -> slots: why a controller on d may not be renumbered
	 * now (NULL: it may) */
	const char *(*controller_busy)(struct hs_core *core,
				       const struct hs_dev *d);
};

struct hs_core {
	const struct hs_platform *plat;
	struct hs_upcalls up;
	struct removal *removing;   /* removals in progress (quiescing) */
	struct pending_add *adds;   /* hot-adds waiting for them */
	struct hs_core_params params;
	struct hs_timers timers;

	struct hs_host_bridge host[HS_MAX_HOSTS];
	unsigned nhosts;
	struct hs_dev *roots;       /* devices on the root buses (siblings) */

	const struct hs_driver *drivers[HS_MAX_DRIVERS];
	unsigned ndrivers;
	const struct hs_port_service *services[HS_MAX_DRIVERS];
	unsigned nservices;

	struct hs_sub subs[HS_MAX_SUBSCRIBERS];
	unsigned nsubs;
	uint64_t event_seq;

	struct hs_txn txn;
	bool in_txn;
	struct txn_wait *txq, **txq_tail; /* queued writers, in order */
	struct hs_timer txq_tm;     /* starts the next once one ends */
	uint64_t generation;
	bool boot_vga_seen;
	bool booting;
	unsigned bus_resv_shift;    /* boot retry: bus reservations >> n */
	uint32_t max_bus_resv;      /* largest bus reservation seen */
	unsigned add_short;         /* kinds the last hot-add lacked */
	unsigned bus_short;         /* bus numbers the last scan lacked */
	unsigned bus_move;          /* ...and renumbering running devices
				       would give them (hs_scan_slot_buses) */
	struct rebalance *rebalancing; /* the one in progress */
	/* Hot-add of one slot: scan only device scan_dev below scan_top. */
	struct hs_dev *scan_top;
	int scan_dev;

	/* Slots (hs_slot.c). */
	struct hs_hpc *hpcs;
	unsigned long slot_cov[HS_SLOT_STATE_COUNT][HS_IN_COUNT];
};

/* hs_core.c */
void *hs_zalloc(struct hs_core *core, size_t size);
void hs_free(struct hs_core *core, void *p, size_t size);
void hs_dev_link(struct hs_dev *parent, struct hs_dev **roots,
		 struct hs_dev *dev);
void hs_dev_unlink(struct hs_core *core, struct hs_dev *dev);
void hs_dev_free(struct hs_dev *dev);
bool hs_dev_visible(const struct hs_dev *dev);
/* Is a d itself or one of its ancestors? (hs_driver.c) */
bool hs_dev_ancestor_or_self(const struct hs_dev *a, const struct hs_dev *d);
void hs_emit(struct hs_core *core, const struct hs_event *ev);
void hs_dev_isolate(struct hs_dev *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Depth-first over every device, committed or not. */
struct hs_dev *hs_dev_walk(struct hs_core *core, struct hs_dev *prev);
struct hs_dev *hs_dev_walk_under(struct hs_dev *top, struct hs_dev *prev);
const struct hs_host_bridge *hs_dev_host(const struct hs_dev *dev);

/* hs_scan.c */
struct bus_alloc {
	unsigned next;    /* next free bus number */
	unsigned limit;   /* last usable */
	bool failed;      /* a bridge found no bus number */
	unsigned short_by;
};
/* Scan bus busno below parent (NULL: root bus of host h); new devices
 * are linked and logged in the open transaction. */
int hs_scan_bus(struct hs_core *core, const struct hs_host_bridge *h,
		struct hs_dev *parent, unsigned busno, struct bus_alloc *ba);

/* hs_resource.c */
int hs_assign_boot(struct hs_core *core);
/* Place (except the kinds in the placed mask: a rebalance did those)
 * and program the functions the open transaction added below bridge.
 * -HS_ENOSPC sets core->add_short to the kinds that did not fit. */
int hs_assign_hot_add(struct hs_core *core, struct hs_dev *bridge,
		      unsigned placed, char *msg, size_t msglen);
int hs_size_new_bridges(struct hs_core *core, struct hs_dev *bridge);
/* Would the new functions' items of kind r fit as things stand?  When
 * not, msg (if any) says which does not. */
bool hs_hot_add_fits(struct hs_core *core, struct hs_dev *bridge,
		     enum hs_res r, char *msg, size_t msglen);
/* Rewrite a moved device's BARs (and windows), decode off meanwhile. */
int hs_program_moved(struct hs_core *core, struct hs_dev *dev);
int hs_program_windows(struct hs_core *core, struct hs_dev *bridge);
/* Do the BAR and window registers hold what the records say? */
int hs_verify_regs(struct hs_core *core, struct hs_dev *dev);

/* What the rebalancer shares with the allocator: the items a bus holds
 * in one kind of resource, sizing and placing a bridge's subtree. */
struct hs_item {
	struct hs_dev *dev;
	int bar;          /* 0..6, or -1 for a bridge's window */
	uint64_t size, align;
	/* Window only: its end (not its base) is aligned to align and its
	 * content is laid out mirrored (hs_assign_item). */
	bool mirror;
};

struct hs_items {
	struct hs_item *v;
	size_t n, cap;
	struct hs_core *core;
};

struct hs_plan {
	uint64_t extra[HS_RES_COUNT];  /* added to every hot-plug bridge */
	unsigned resv_shift;           /* reservations divided by 2^shift */
	bool no_resv;
};

int hs_items_add(struct hs_items *it, struct hs_dev *d, int bar,
		 uint64_t size, uint64_t align);
void hs_items_free(struct hs_items *it);
/* Largest alignment first. */
void hs_items_sort(struct hs_items *it);
/* Items of kind r among a sibling list (only_new: devices the open
 * transaction added). */
int hs_gather(struct hs_items *it, struct hs_dev *first, enum hs_res r,
	      bool pref_path, bool only_new);
/* Bottom-up: what br's windows must hold (need[], need_align[]). */
int hs_size_bridge(struct hs_core *core, struct hs_dev *br, bool pref_path,
		   const struct hs_plan *pl);
/* Top-down: br's window of kind r at base, its subtree packed inside. */
void hs_place_bridge(struct hs_core *core, struct hs_dev *br, enum hs_res r,
		     uint64_t base, bool pref_path);
void hs_assign_item(struct hs_core *core, const struct hs_item *x,
		    enum hs_res r, uint64_t at, bool pref_path);
/* Whether every bridge from br up has a 64-bit prefetchable window. */
bool hs_path_pref(const struct hs_dev *br);
uint64_t hs_align_up(uint64_t v, uint64_t a);
uint64_t hs_res_gran(enum hs_res r);
enum hs_res hs_bar_res(const struct hs_bar_info *b, bool pref_path);
int hs_program_dev(struct hs_core *core, struct hs_dev *dev);
/* Decode on for dev's assigned BARs (and a bridge's forwarding), in the
 * open transaction. */
int hs_enable_decode(struct hs_core *core, struct hs_dev *dev);
void hs_disable_dev(struct hs_core *core, struct hs_dev *dev);
const char *hs_res_name(enum hs_res r);
/* Largest run of bus numbers free below a hot-plug bridge (first > last
 * when none). */
int hs_free_bus_run(struct hs_core *core, struct hs_dev *bridge,
		    unsigned *first, unsigned *last);

/* hs_core.c: scan the slot's bus in the open transaction, bus numbers
 * from the bridge's free range (-HS_ENOSPC with msg when short). */
int hs_scan_slot(struct hs_core *core, struct hs_dev *bridge, int devnum,
		 char *msg, size_t msglen);

/* hs_rebalance.c */
/* The card below bridge does not fit (core->add_short): plan a new
 * assignment under the policy and start it; 0: done() will be called.
 * Otherwise nothing changed and msg says why (what would have to move). */
int hs_rebalance_add(struct hs_core *core, struct hs_dev *bridge, int devnum,
		     hs_done_fn done, void *arg, char *msg, size_t msglen);
/* A device goes away (surprise) or the core shuts down: stopped drivers
 * go on where they are, the rebalance ends with -HS_ECANCELED. */
void hs_rebalance_cancel(struct hs_core *core, const char *why);
/* hs_scan_slot in the open transaction, growing the slot bridge's bus
 * range when a bridge on the card needs more numbers: ancestors grow,
 * bridges in the way are renumbered elsewhere (with the functions below
 * them only if renumber_running: their drivers must be stopped).  When
 * running devices are in the way and may not be renumbered here,
 * -HS_ENOSPC with core->bus_move set to the numbers needed (the policy
 * allows it; hs_rebalance_bus_add does it).  *after (if not NULL): a
 * savepoint after the renumbering, before the last scan. */
int hs_scan_slot_buses(struct hs_core *core, struct hs_dev *bridge,
		       int devnum, bool renumber_running,
		       struct hs_txn_mark *after, char *msg, size_t msglen);
/* Renumber the running devices in the way (their drivers stopped and
 * started again), then start the card's hot-add over; 0: done() will be
 * called.  Otherwise nothing changed and msg says why. */
int hs_rebalance_bus_add(struct hs_core *core, struct hs_dev *bridge,
			 int devnum, unsigned need, hs_done_fn done, void *arg,
			 char *msg, size_t msglen);

/* hs_driver.c */
bool hs_removal_pending(struct hs_core *core, const struct hs_dev *bridge);
void hs_run_pending_adds(struct hs_core *core, struct hs_dev *bridge);
/* Shutting down: removals still quiescing end with -HS_ECANCELED. */
void hs_cancel_removals(struct hs_core *core);
void hs_bind_all(struct hs_core *core, struct hs_dev *top);
int hs_bind_new(struct hs_core *core, struct hs_dev *top, char *msg,
		size_t msglen);
void hs_unbind(struct hs_core *core, struct hs_dev *dev);
void hs_route_intx(struct hs_core *core, struct hs_dev *dev);
/* Does anything sit in the slot (device devnum below the bridge)? */
bool hs_slot_populated(struct hs_dev *bridge, int devnum);
/* Function 0 in the slot reported Immediate Readiness when scanned. */
bool hs_slot_immediate_ready(struct hs_dev *bridge, int devnum);

/* hs_slot.c */
void hs_slots_destroy(struct hs_core *core);
/* Why the controller on d may not be renumbered now (NULL: it may):
 * the rebalancer's upcall. */
const char *hs_slot_controller_busy(struct hs_core *core,
				    const struct hs_dev *d);
/* Physical number of the slot at device devnum below a hot-plug bridge,
 * from its registered controller; -1 when none is registered. */
int hs_slot_phys_at(const struct hs_dev *bridge, unsigned devnum);

#endif /* HOTSWAP_CORE_INTERNAL_H */
