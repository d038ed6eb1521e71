/*
 * hotswap/core.h - the core bus driver: enumeration, resource allocation
 * with hot-plug reservations, the transactional resource database, driver
 * binding and device events.
 *
 * Owns: the public API of the OS-independent core.  All types are opaque;
 * everything a caller learns about a device comes through accessors that
 * show committed state only.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_H
#define HOTSWAP_CORE_H

#include "hotswap/platform.h"
#include "hotswap/timer.h"

/* C linkage for C++ programs (tests/cli/install.sh builds one). */
#ifdef __cplusplus
extern "C" {
#endif

struct hs_core;
struct hs_dev;

/* ---- policy ------------------------------------------------------------ */

enum hs_res {
	HS_RES_BUS = 0,
	HS_RES_IO,
	HS_RES_MEM,   /* 32-bit, non-prefetchable window */
	HS_RES_PREF,  /* 64-bit prefetchable window */
	HS_RES_COUNT,
};

/* "bus", "io", "mem", "pref": the kind's short name, as every view
 * (protocol, consoles) prints it; "?" for anything else. */
const char *hs_res_kind_name(enum hs_res kind);

/* Room kept under a hot-plug bridge for cards that are not there yet. */
struct hs_reserve {
	uint32_t bus;
	uint64_t io, mem, pref;
};

struct hs_slot_reserve {
	uint16_t phys_slot;        /* physical slot number it applies to */
	struct hs_reserve r;
};

/*
 * Runtime rebalancing (seeds/001 model 1, docs/rebalance.md): when a card
 * does not fit in its slot's windows, the core computes a new assignment
 * that fits it, growing windows into free space first, then moving
 * windows with nothing in them, then moving devices the policy lets it
 * move, as few as it can.  Moved drivers are stopped and started again
 * with their new resources; the whole change is one transaction.
 */
enum hs_move_policy {
	/* Nothing that holds a device ever changes address (the real-time
	 * choice of seeds/001): windows still grow into free space, and
	 * windows with no device below them (empty slots) still move. */
	HS_MOVE_NEVER = 0,
	/* Also devices with no driver bound and devices whose driver has
	 * HS_DRV_CAN_MOVE. */
	HS_MOVE_CAPABLE,
};

struct hs_class_match {
	uint32_t class_code, mask;   /* (class & mask) == class_code */
};

struct hs_rebalance_policy {
	int move;                          /* enum hs_move_policy */
	unsigned max_moved;                /* per rebalance; 0: no limit */
	const uint16_t *pinned_slots;      /* physical slots never moved */
	unsigned npinned_slots;
	const struct hs_class_match *pinned_classes; /* never moved */
	unsigned npinned_classes;
};

struct hs_core_params {
	/* Rebalancing when a hot-add does not fit (default HS_MOVE_CAPABLE,
	 * no limits). */
	struct hs_rebalance_policy rebalance;
	/* Reservation of every hot-plug bridge without a more specific one. */
	struct hs_reserve hotplug;
	/* Per physical slot overrides (take precedence over the bridge's
	 * QEMU reservation capability, which takes precedence over the
	 * defaults). */
	const struct hs_slot_reserve *slot_reserve;
	unsigned nslot_reserve;
	/* Share the aperture space left after boot among hot-plug bridges. */
	bool share_leftover;
	/* Wait for a driver to quiesce at most this long. */
	hs_time_t quiesce_timeout;

	/* ---- slots (hotswap/slot.h, docs/slots.md) ---- */
	/* Poll the hot-plug controllers every poll_period instead of
	 * taking their interrupts. */
	bool slot_poll;
	hs_time_t poll_period;
	/* A controller command not completed by then is reported and the
	 * slot goes on (PCIe Base 6.7.3.2 leaves it to software). */
	hs_time_t cmd_timeout;
	/* Attention button window: a second press inside it cancels. */
	hs_time_t button_window;
	/* Presence must hold still this long before the slot acts on it. */
	hs_time_t debounce;
	/* After power-on, the link must come up within link_timeout; then
	 * the card must answer (not Retry Status) within ready_timeout,
	 * asked every ready_poll. */
	hs_time_t link_timeout, ready_timeout, ready_poll;
	/* Never engage a slot's electromechanical interlock (by default it
	 * is engaged while the slot is powered, so the card cannot be
	 * pulled).  For chassis whose operator cannot ask for a removal
	 * while it is engaged: QEMU refuses device_del, its only way of
	 * pressing the attention button, on a locked slot. */
	bool leave_interlock;
	/* Per-slot policy for slots with no hs_slot_set_policy. */
	int slot_policy;   /* enum hs_slot_policy */

	/*
	 * Authorization (a card that can bus-master can DMA into memory):
	 * asked once for every function on a card in a slot, before it is
	 * programmed, at boot (at_boot true) and at every hot-add.  Return
	 * false to block it: the function is enumerated and visible, its
	 * BARs and windows are assigned, but memory and I/O decode and Bus
	 * Master Enable stay off and no driver is bound until
	 * hs_dev_authorize.  NULL: everything is allowed.  Functions
	 * soldered to the platform are never asked.
	 */
	bool (*authorize)(void *arg, struct hs_dev *dev, bool at_boot);
	void *authorize_arg;
};

/* hotswap's defaults: 4 buses, 4 KiB I/O, 8 MiB memory, 64 MiB
 * prefetchable per hot-plug bridge; leftover shared; 5 s quiesce;
 * slots on interrupts (poll period 1 s when polling), 1 s command
 * time-out, 5 s button window, 20 ms debounce, 1 s for the link, 1 s
 * for readiness asked every 10 ms. */
void hs_core_params_defaults(struct hs_core_params *p);

/* ---- lifecycle ---------------------------------------------------------- */

/* Creates the core on a platform (which must outlive it). */
int hs_core_create(const struct hs_platform *plat,
		   const struct hs_core_params *params, struct hs_core **out);
void hs_core_destroy(struct hs_core *core);

/*
 * Boot: scan every host bridge from scratch, number buses, size and place
 * every BAR and window (with hot-plug reservations), program the
 * hardware, bind drivers.  Devices that misbehave are isolated (left
 * disabled) with a logged reason; the rest come up.
 */
int hs_core_enumerate(struct hs_core *core);

/*
 * Hot-add below a hot-plug bridge whose slot now holds a powered, linked
 * card: scan its secondary bus, place the new functions inside the
 * bridge's windows without touching anything running, program them, bind
 * drivers.  All in one transaction: on any failure every change (device
 * tree, allocations, registers) is rolled back and msg says why, e.g.
 * "memory: need 256 MiB aligned to 256 MiB, window 0x80000000-0x801fffff
 * has 2 MiB free".
 */
int hs_core_hot_add(struct hs_core *core, struct hs_dev *bridge, char *msg,
		    size_t msglen);

/* A slot on a hot-plug bridge's secondary bus: the device number of the
 * card in it, or HS_SLOT_ALL for everything below the bridge (a PCIe
 * slot has only device 0; SHPC and CompactPCI buses have several). */
#define HS_SLOT_ALL (-1)

/*
 * Orderly removal of the card in one slot below a hot-plug bridge: ask
 * every driver (any may veto: -HS_EBUSY with its reason), quiesce them,
 * unbind child before parent, disable and free every resource.
 * Asynchronous when drivers need time: done() is called when finished
 * (rc 0) or refused / failed, with a message.  A writer's transaction
 * open (hotswap/txn.h) is waited for: the removal runs when it ends.
 */
typedef void (*hs_done_fn)(void *arg, int rc, const char *msg);
int hs_core_hot_remove(struct hs_core *core, struct hs_dev *bridge, int devnum,
		       hs_done_fn done, void *arg);

/* Hot-add that waits: when a removal below the same bridge is still in
 * progress (drivers quiescing), the add is queued and runs as soon as the
 * removal finishes, so its events follow the removal's.  Otherwise it
 * runs at once.  done gets the result and the refusal message.  (The
 * synchronous hs_core_hot_add returns -HS_EBUSY in that case.) */
int hs_core_hot_add_async(struct hs_core *core, struct hs_dev *bridge,
			  hs_done_fn done, void *arg);

/* The same, limited to the card at device number devnum (or HS_SLOT_ALL)
 * of the bridge's secondary bus: other slots of a multi-slot bus are not
 * scanned. */
int hs_core_hot_add_slot(struct hs_core *core, struct hs_dev *bridge,
			 int devnum, char *msg, size_t msglen);
int hs_core_hot_add_slot_async(struct hs_core *core, struct hs_dev *bridge,
			       int devnum, hs_done_fn done, void *arg);

/*
 * Rebalancing (hs_rebalance.c, its planner hs_replan.c, bus renumbering
 * in hs_busnr_move.c) is a module an embedder links by calling this once
 * after hs_core_create: from then on a hot-add that does not fit as
 * things are gets a new assignment under params.rebalance (devices
 * moved, bus numbers renumbered), and a pulled card ends a rebalance in
 * progress.  Without it (a firmware that never moves a running device
 * need not link those files) such a hot-add is refused with what did
 * not fit, and a card whose bridges need more bus numbers than the
 * slot's free run holds is refused too.
 * hs_core_rebalance enables it as well.
 */
void hs_core_enable_rebalance(struct hs_core *core);

/*
 * Rebalance now (to recover space after removals, or after a policy
 * change): give every empty hot-plug slot whose windows are smaller than
 * its reservation the room it should have, moving what the policy
 * allows.  Asynchronous like a removal (drivers stop and start); done()
 * gets the result and a message saying what moved.  A writer's
 * transaction or a removal in progress is waited for; -HS_EBUSY while
 * another rebalance runs.
 */
int hs_core_rebalance(struct hs_core *core, hs_done_fn done, void *arg);

/* Surprise: the card in the slot is gone.  Devices are marked gone
 * first (driver accesses fail fast, in-flight requests fail), then torn
 * down child before parent.  Synchronous.  Returns 0, -HS_ENOENT when
 * the slot holds nothing, or -HS_ENOMEM before anything was touched
 * (then it may be called again). */
int hs_core_surprise_remove(struct hs_core *core, struct hs_dev *bridge,
			    int devnum);

/* ---- looking at devices ------------------------------------------------ */

/* Committed devices, depth first (parents before children). */
struct hs_dev *hs_dev_next(struct hs_core *core, struct hs_dev *prev);
struct hs_dev *hs_dev_find(struct hs_core *core, hs_bdf_t bdf);
/* The hot-plug bridge for a physical slot number (NULL if none). */
struct hs_dev *hs_core_slot_bridge(struct hs_core *core, uint16_t phys);

hs_bdf_t hs_dev_bdf(const struct hs_dev *dev);
uint16_t hs_dev_vendor(const struct hs_dev *dev);
uint16_t hs_dev_device(const struct hs_dev *dev);
uint16_t hs_dev_subsys_vendor(const struct hs_dev *dev);
uint16_t hs_dev_subsys(const struct hs_dev *dev);
uint32_t hs_dev_class(const struct hs_dev *dev);
struct hs_dev *hs_dev_parent(const struct hs_dev *dev);
bool hs_dev_is_bridge(const struct hs_dev *dev);
bool hs_dev_is_hotplug_bridge(const struct hs_dev *dev);
/* Physical slot of a hot-plug bridge, or of the slot a device sits in;
 * -1 when there is none. */
int hs_dev_slot(const struct hs_dev *dev);
/* The room kept under a hot-plug bridge (what the params and its own
 * reservation capability gave it, before any halving to fit the
 * apertures: hs_dev_window says what it got); -HS_ENOENT if it is not
 * one. */
int hs_dev_reservation(const struct hs_dev *dev, struct hs_reserve *out);
bool hs_dev_isolated(const struct hs_dev *dev, const char **reason);
/* Blocked by the authorization hook (and not authorized since). */
bool hs_dev_blocked(const struct hs_dev *dev);
/* Device Serial Number (PCIe extended capability 0003h); -HS_ENOENT if
 * the function has none. */
int hs_dev_serial(const struct hs_dev *dev, uint64_t *serial);
/*
 * Authorize a blocked function: turn on decode of its assigned BARs (and
 * a bridge's forwarding) and bind its driver, in one transaction; on a
 * failure (msg says why) it stays blocked and nothing changed.  Bus
 * mastering is left to the driver, as for any device.  0 when it was not
 * blocked.
 */
int hs_dev_authorize(struct hs_dev *dev, char *msg, size_t msglen);
/*
 * Deauthorize (block) a running function, as USBGuard's "block" does for
 * a USB device: its driver is asked (query_remove may veto, -HS_EBUSY
 * with msg saying why), unbound, and the Command register's memory and
 * I/O decode and Bus Master Enable are cleared, in one transaction; the
 * function stays enumerated and keeps its resources, blocked, until
 * hs_dev_authorize.  A bridge is refused (block the functions behind it).
 * 0 when it was already blocked.
 */
int hs_dev_deauthorize(struct hs_dev *dev, char *msg, size_t msglen);
bool hs_dev_gone(const struct hs_dev *dev);
const char *hs_dev_driver_name(const struct hs_dev *dev);
/* The driver bound to dev and the instance data its probe returned. */
const struct hs_driver *hs_dev_driver(const struct hs_dev *dev);
void *hs_dev_driver_data(const struct hs_dev *dev);

struct hs_resource {
	enum hs_res kind;   /* IO, MEM or PREF (BARs and windows), BUS */
	uint64_t start, size;
	bool is64, prefetch;
};
/* BAR n (0-5, 6 = expansion ROM); -HS_ENOENT if absent or unassigned. */
int hs_dev_bar(const struct hs_dev *dev, int n, struct hs_resource *out);
/* Bridge window (BUS: secondary..subordinate as start/size). */
int hs_dev_window(const struct hs_dev *dev, enum hs_res kind,
		  struct hs_resource *out);
/* Interrupt: INTx platform line (kind INTX) or first MSI vector. */
int hs_dev_irq(const struct hs_dev *dev, struct hs_irq *out,
	       unsigned *nvec);

/* ---- drivers ----------------------------------------------------------- */

#define HS_ANY_ID 0xffffffffu

struct hs_device_id {
	uint32_t vendor, device, subsys_vendor, subsys;
	uint32_t class_code, class_mask;
};

enum hs_driver_flags {
	HS_DRV_CAN_MOVE = 1u << 0, /* suspend / resume with new resources */
};

/* A probe that returns -HS_ENODEV declines the device quietly (it is
 * not one this driver handles); the next matching driver is tried. */
struct hs_driver {
	const char *name;
	const struct hs_device_id *ids;   /* ends with vendor == 0 */
	unsigned flags;
	/* Bind one instance.  Return 0 and set *priv, or a negative code. */
	int (*probe)(struct hs_dev *dev, void **priv);
	/* Unbind (the device is quiet or gone). */
	void (*remove)(struct hs_dev *dev, void *priv);
	/* May this instance go?  Return 0, or -HS_EBUSY with a reason in
	 * why ("a filesystem on it is mounted").  No side effects: every
	 * driver below a slot is asked before any is stopped. */
	int (*query_remove)(struct hs_dev *dev, void *priv, char *why,
			    size_t len);
	/*
	 * Stop new requests and finish or abort the outstanding ones, then
	 * disable interrupts and bus mastering.  Return 0 when quiet, or
	 * -HS_EAGAIN to be asked again later (the core polls every
	 * millisecond until its deadline, then calls abort).
	 */
	int (*quiesce)(struct hs_dev *dev, void *priv);
	void (*abort)(struct hs_dev *dev, void *priv);
	/* The device is gone: fail everything outstanding, touch nothing. */
	void (*gone)(struct hs_dev *dev, void *priv);

	/*
	 * Rebalancing, for drivers with HS_DRV_CAN_MOVE (all four needed).
	 * query_stop: may this instance stop for a moment so that its device
	 * gets new addresses?  0, or -HS_EBUSY with a reason.  No side
	 * effects.
	 * stop: hold new requests (queue them, do not refuse them), let the
	 * outstanding ones finish, then stop using the BARs.  0 when
	 * stopped, -HS_EAGAIN to be asked again (every millisecond until
	 * quiesce_timeout; then the rebalance is abandoned and the driver
	 * started again where it was).
	 * start: the device's resources may have changed (read them again
	 * with hs_dev_bar): map them and check the device answers, issuing
	 * no request yet.  0, or negative: the rebalance is rolled back and
	 * start is called again with the old resources.
	 * resume: issue the held requests and serve normally again.
	 */
	int (*query_stop)(struct hs_dev *dev, void *priv, char *why,
			  size_t len);
	int (*stop)(struct hs_dev *dev, void *priv);
	int (*start)(struct hs_dev *dev, void *priv);
	void (*resume)(struct hs_dev *dev, void *priv);
	/* Optional: how busy this instance is now, in requests (in flight
	 * or queued).  Among plans that move as many devices, a rebalance
	 * moves the quieter ones: fewer requests wait while it runs. */
	unsigned (*load)(struct hs_dev *dev, void *priv);
};

int hs_driver_register(struct hs_core *core, const struct hs_driver *drv);

/* PCIe port services (hot-plug, AER, PME) bind to ports through the port
 * bus rather than the PCI bus, so several coexist on one port. */
enum hs_port_service_type {
	HS_PORT_SVC_HOTPLUG = 1u << 0,
	HS_PORT_SVC_AER = 1u << 1,
	HS_PORT_SVC_PME = 1u << 2,
};

struct hs_port_service {
	const char *name;
	unsigned type;                 /* one enum hs_port_service_type */
	int (*probe)(struct hs_dev *port, void **priv);
	void (*remove)(struct hs_dev *port, void *priv);
};

int hs_port_service_register(struct hs_core *core,
			     const struct hs_port_service *svc);
/* Services bound to a port, as a bit set of their types. */
unsigned hs_dev_port_services(const struct hs_dev *port);

/* Device access for drivers: fail fast (all ones, -HS_ENODEV) once the
 * device is gone. */
int hs_dev_read32(struct hs_dev *dev, int bar, uint64_t off, uint32_t *val);
int hs_dev_write32(struct hs_dev *dev, int bar, uint64_t off, uint32_t val);
int hs_dev_cfg_read(struct hs_dev *dev, uint16_t off, unsigned width,
		    uint32_t *val);
int hs_dev_cfg_write(struct hs_dev *dev, uint16_t off, unsigned width,
		     uint32_t val);
/* Bus Master Enable on or off (drivers turn it on when they start DMA). */
int hs_dev_set_master(struct hs_dev *dev, bool on);
/* Interrupts for a driver: MSI-X, else MSI, else INTx (shared lines are
 * dispatched by the core).  fn only latches; it runs in interrupt
 * context on platforms that have one. */
int hs_dev_request_irq(struct hs_dev *dev, hs_irq_fn fn, void *arg);
void hs_dev_free_irq(struct hs_dev *dev);
/* Whether dev's handler is attached (false: the INTx line was taken by
 * another device's handler, and the caller must poll). */
bool hs_dev_irq_attached(const struct hs_dev *dev);
/* The core's timers (hotswap/timer.h), for drivers that poll or time out. */
void hs_dev_timer_arm(struct hs_dev *dev, struct hs_timer *tm,
		      hs_time_t delay);
void hs_dev_timer_cancel(struct hs_dev *dev, struct hs_timer *tm);
hs_time_t hs_dev_now(const struct hs_dev *dev);
const struct hs_platform *hs_dev_platform(const struct hs_dev *dev);
/* Offset of a capability (standard list) or extended capability, as read
 * when the device was scanned; -HS_ENOENT if it has none. */
int hs_dev_find_cap(const struct hs_dev *dev, uint8_t id, uint16_t *off);
int hs_dev_find_ext_cap(const struct hs_dev *dev, uint16_t id,
			uint16_t *off);
/* Secondary bus number of a bridge (-HS_ENOENT when unnumbered). */
int hs_dev_secondary_bus(const struct hs_dev *dev, unsigned *bus);
struct hs_core *hs_dev_core(const struct hs_dev *dev);

/* ---- events ----------------------------------------------------------- */

enum hs_event_type {
	HS_EV_DEV_ADDED = 1,
	HS_EV_DEV_REMOVED,
	HS_EV_DRIVER_BOUND,
	HS_EV_DRIVER_UNBOUND,
	HS_EV_DEV_ISOLATED,
	HS_EV_SLOT_STATE,    /* a slot changed state: from, to, msg why */
	HS_EV_SLOT_ALERT,    /* something the operator must know: a failed
				enable, a veto, a time-out, a bad removal */
	HS_EV_DEV_BLOCKED,   /* the authorization hook blocked it */
	HS_EV_DEV_AUTHORIZED,/* hs_dev_authorize let it in */
	HS_EV_DEV_MOVED,     /* a rebalance gave it new addresses, or a new
				bus number (old_bdf says where it was) */
	HS_EV_WINDOW_CHANGED,/* a bridge's windows grew or moved, with
				nothing below it moving (msg says how) */
};

struct hs_event {
	uint64_t seq;
	enum hs_event_type type;
	hs_bdf_t bdf;
	hs_bdf_t old_bdf;       /* DEV_MOVED: its address before (== bdf
				   unless its bus was renumbered) */
	uint16_t vendor, device;
	uint32_t class_code;
	int slot;               /* physical slot, -1 if none */
	const char *driver;     /* for DRIVER_* events */
	/* SLOT_* events (bdf: the slot's bridge). */
	const char *slot_name;
	int from, to;           /* enum hs_slot_state */
	const char *msg;        /* reason / alert text, or NULL */
	hs_time_t time;         /* when it happened (platform clock) */
};

typedef void (*hs_event_fn)(void *arg, const struct hs_event *ev);
int hs_core_subscribe(struct hs_core *core, hs_event_fn fn, void *arg);
void hs_core_unsubscribe(struct hs_core *core, hs_event_fn fn, void *arg);

/* ---- the resource database ---------------------------------------------- */

/* Transactions nest nothing: one writer at a time (-HS_EBUSY). */
bool hs_core_in_transaction(const struct hs_core *core);
/* Committed generation: bumped by every commit. */
uint64_t hs_core_generation(const struct hs_core *core);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_CORE_H */
