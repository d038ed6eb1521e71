/*
 * backend.h - the service's back-end seam: what hotswapd needs from the
 * machine beneath it, as one ops table (in the spirit of SQLite's VFS).
 *
 * A back-end owns the hardware side: the inventory of slots and devices,
 * the operations on them (power a slot on / off, indicators, authorize a
 * function), the events that come up from it, and its clock.  Everything
 * above it - the protocol's methods, views, policy, agents, database,
 * report - sees only this header and the core's public types
 * (hotswap/slot.h, hotswap/types.h).  Two back-ends exist:
 *
 *   sim    the register-level chassis simulator running the core
 *          (service/backend_sim.c; the embedded default);
 *   linux  the kernel's own hot-plug drivers through sysfs and device
 *          events (service/backend_linux.c, Linux only).
 *
 * Which one runs is chosen by the `backend` configuration key (or
 * --backend); the list of back-ends is the files linked (backends.c).
 *
 * Rules of the seam:
 *  - Views are copies: a back-end fills a caller's struct; strings in a
 *    view point into back-end storage and stay valid until the next call
 *    into the back-end (copy what must live longer).
 *  - Events are delivered through hsd_backend_hooks.event from the loop
 *    (never re-entrantly from inside an op, except where an op's
 *    documentation says "may complete at once").
 *  - A request op returns 0 when accepted and then calls done exactly
 *    once; or a negative errno when refused at once, with the reason
 *    written to why (done is not called).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SERVICE_BACKEND_H
#define HOTSWAP_SERVICE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "hotswap/core.h"
#include "hotswap/platform.h"
#include "hotswap/slot.h"
#include "hotswap/types.h"

struct hsd_backend;     /* a back-end's own state, opaque above the seam */
struct hsd_method;      /* protocol.h: extra methods a back-end offers */

/* A PCI function as the service shows it. */
struct hsd_dev_view {
	hs_bdf_t bdf;
	bool has_parent;
	hs_bdf_t parent;                /* the bridge above it */
	uint16_t vendor, device, subsys_vendor, subsys;
	uint32_t class_code;
	bool bridge, hotplug_bridge;
	bool blocked;                   /* held back by the policy */
	const char *driver;             /* bound driver, NULL if none */
	const char *isolated;           /* why it is fenced off, NULL if not */
	int phys;                       /* physical slot number, -1 soldered */
	const char *slot;               /* the slot its card is in, NULL if none */
	bool has_serial;
	uint64_t serial;                /* Device Serial Number capability */
	/* Where it is: the card-relative path ("00.0", "00.0/01.0" behind a
	 * bridge on the card) and the sysfs-style DEVPATH from the root. */
	char card_path[96];
	char devpath[256];
	/* Resources, where the back-end knows them. */
	unsigned nbars;
	struct { int bar; struct hs_resource r; } bars[7];
	unsigned nwins;
	struct hs_resource wins[HS_RES_COUNT];
	bool has_irq;
	struct hs_irq irq;
	unsigned nvec;
	/* The Command register's decode and bus mastering (-1: unknown). */
	int mem_decode, io_decode, bus_master;
};

/* A slot as the service shows it: the core's info plus what only the
 * back-end can tell. */
struct hsd_slot_view {
	struct hs_slot_info info;
	const char *controller;         /* stable id of its controller */
	char address[16];               /* "dddd:bb:dd" as sysfs spells it,
					 * "" when the bus is not known */
	int blue_led;                   /* cPCI "safe to extract": -1 none */
	/* The hot-plug reservation of the slot's bridge (buses, I/O,
	 * memory, prefetchable: enum hs_res) and where each value came
	 * from ("default", "slot.3.reserve.mem (FILE:LINE)", ...).  When
	 * the back-end does not manage them (linux), reserve_managed is
	 * false and reserve_note says what is known instead. */
	bool reserve_managed;
	struct hs_reserve reserve;
	const char *reserve_from[HS_RES_COUNT];
	const char *reserve_note;
	bool has_regs;                  /* PCIe slot registers below valid */
	uint32_t sltcap;
	uint16_t sltctl, sltsta, lnksta;
};

/* Requests the drivers took, and how they ended. */
struct hsd_driver_ledger {
	uint64_t submitted, completed, failed, refused, in_flight;
};

enum hsd_bev_type {
	HSD_BEV_SLOT_STATE,     /* from / to: enum hs_slot_state */
	HSD_BEV_SLOT_ALERT,     /* msg */
	HSD_BEV_DEV_ADDED,      /* dev: the new function */
	HSD_BEV_DEV_REMOVED,
	HSD_BEV_DRIVER_BOUND,
	HSD_BEV_DRIVER_UNBOUND,
	HSD_BEV_DEV_ISOLATED,
	HSD_BEV_DEV_BLOCKED,
	HSD_BEV_DEV_AUTHORIZED,
	HSD_BEV_DEV_MOVED,      /* old_bdf -> bdf */
	HSD_BEV_WINDOW_CHANGED,
};

struct hsd_bevent {
	enum hsd_bev_type type;
	const char *slot_name;          /* slot events */
	int phys;                       /* slot number, -1 none */
	int from, to;
	const char *msg;
	hs_bdf_t bdf, old_bdf;          /* device events */
	uint16_t vendor, device;
	uint32_t class_code;
	const char *driver;
	/* The device as it is now (DEV_ADDED, DEV_MOVED, bound, ...); NULL
	 * when it is already gone. */
	const struct hsd_dev_view *dev;
	/* One change's events share a generation (renumbering). */
	uint64_t generation;
};

/* What the service gives a back-end. */
struct hsd_backend_hooks {
	void *arg;
	void (*event)(void *arg, const struct hsd_bevent *ev);
	/* The policy's verdict on a new function: true lets it be bound. */
	bool (*authorize)(void *arg, const struct hsd_dev_view *dev,
			  bool at_boot);
	void (*log)(void *arg, int level, const char *line);
	/* True while the service still works on something the clock must
	 * not overtake (agents asked about a button's removal): a virtual
	 * clock waits for it. */
	bool (*busy)(void *arg);
};

typedef void (*hsd_done_fn)(void *arg, int rc, const char *msg);

enum hsd_slot_op {
	HSD_OP_ENABLE,          /* connect and configure (add) */
	HSD_OP_DISABLE,         /* unconfigure and disconnect (remove) */
	HSD_OP_REPLACE,         /* remove, then bring up the next card */
	HSD_OP_CONNECT,         /* cfgadm connect: power and link only */
	HSD_OP_UNCONFIGURE,     /* cfgadm unconfigure: unbind and release,
				   power kept */
};

struct hsd_backend_ops {
	const char *name;
	const char *summary;    /* one line: what it drives */

	/* Open: check the environment and take the inventory; a clear
	 * message naming what is missing otherwise. */
	int (*open)(uv_loop_t *loop, const struct hsd_config *cfg,
		    const struct hsd_backend_hooks *hooks,
		    struct hsd_backend **out, char *err, size_t errlen);
	/* Start: boot enumeration / first look; events flow from here. */
	int (*start)(struct hsd_backend *b, char *err, size_t errlen);
	/* Stop watching (handles closed on the loop); then close frees. */
	void (*stop)(struct hsd_backend *b);
	void (*close)(struct hsd_backend *b);
	/* What it runs on, for status and the start-up line. */
	const char *(*chassis)(struct hsd_backend *b);

	/* The clock: nanoseconds, monotonic. */
	int64_t (*now)(struct hsd_backend *b);
	/* Virtual clock only (NULL: the back-end runs in real time): run
	 * the next pending event; false when nothing is pending. */
	bool (*step)(struct hsd_backend *b);

	/* Inventory: iterate with a cursor (NULL starts); NULL ends. */
	void *(*slot_next)(struct hsd_backend *b, void *prev,
			   struct hsd_slot_view *out);
	int (*slot_get)(struct hsd_backend *b, const char *name,
			struct hsd_slot_view *out);
	void *(*dev_next)(struct hsd_backend *b, void *prev,
			  struct hsd_dev_view *out);
	int (*dev_get)(struct hsd_backend *b, hs_bdf_t bdf,
		       struct hsd_dev_view *out);

	/* Operations on a slot, by name. */
	int (*slot_request)(struct hsd_backend *b, const char *slot,
			    enum hsd_slot_op op, hsd_done_fn done, void *arg,
			    char *why, size_t whylen);
	int (*slot_attention)(struct hsd_backend *b, const char *slot,
			      enum hs_indicator ind, char *why, size_t whylen);
	/* Optional (NULL: the back-end cannot set it): the power indicator
	 * between the slot's state changes (hs_slot_set_power_indicator);
	 * refused with why as for the attention indicator. */
	int (*slot_power_indicator)(struct hsd_backend *b, const char *slot,
				    enum hs_indicator ind, char *why,
				    size_t whylen);
	int (*slot_policy)(struct hsd_backend *b, const char *slot,
			   enum hs_slot_policy policy);
	/* Let a blocked function be bound. */
	int (*authorize)(struct hsd_backend *b, hs_bdf_t bdf, char *msg,
			 size_t msglen);
	/* Block a running function again (NULL: not provided): its driver
	 * is asked and unbound, decode and bus mastering turned off. */
	int (*deauthorize)(struct hsd_backend *b, hs_bdf_t bdf, char *msg,
			   size_t msglen);
	/* Optional (NULL: not provided): the device drivers' ledger of I/O
	 * requests, so that a request lost across a removal or a move
	 * shows (the simulator's drivers keep one). */
	int (*driver_ledger)(struct hsd_backend *b,
			     struct hsd_driver_ledger *out);
	/* Optional (NULL: not provided): give empty slots their
	 * reservations back; done once. */
	int (*rebalance)(struct hsd_backend *b, hsd_done_fn done, void *arg);
	/* Compare hardware with belief after a restart. */
	void (*resync)(struct hsd_backend *b);

	/* Extra protocol methods of this back-end ("sim.*"). */
	const struct hsd_method *methods;
	size_t nmethods;
};

/* The back-ends linked into this build (backends.c). */
const struct hsd_backend_ops *hsd_backend_find(const char *name);
/* "sim, linux": for error messages. */
const char *hsd_backend_names(void);
/* The back-end a configuration asks for, and why ("configured",
 * "default"). */
const char *hsd_backend_choose(const struct hsd_config *cfg,
			       const char **why);

#endif
