/*
 * linux_pci.h - the Linux kernel's PCI hot-plug interface as hotswap
 * sees it: slots and functions in sysfs, the operations the kernel
 * offers on them, the authorization mechanism built from those, and the
 * kernel's device events.
 *
 * The kernel's hot-plug drivers (pciehp, shpchp, acpiphp) do the
 * hardware work; this layer reads and writes what they publish:
 *
 *   /sys/bus/pci/slots/NAME/{address,power,attention,adapter,latch,module}
 *   /sys/bus/pci/devices/BDF/{vendor,device,class,driver,driver_override,
 *                             config}
 *   /sys/bus/pci/{drivers_autoprobe,drivers_probe}
 *   /sys/class/iommu, /sys/kernel/iommu_groups/N/type
 *
 * and the kernel's netlink device events (libudev's "kernel" source:
 * PCI add / remove / bind / unbind).  The kernel sends no event for slot
 * power, presence, latch or attention: callers poll hsl_slots().
 *
 * Nothing here includes a simulator header.  Every function returns 0 or
 * a negative errno and, where it takes err, says in it what is wrong
 * (naming the file and the slot or function).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_PLATFORMS_LINUX_PCI_H
#define HOTSWAP_PLATFORMS_LINUX_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hsl_sys;         /* an open view of sysfs */
struct hsl_monitor;     /* the kernel's PCI device events */

/* The name driver_override gets for a blocked function: no driver has
 * it, so no driver can bind (hotplug-facts.md, driver_override). */
#define HSL_BLOCKED_OVERRIDE "hotswap-blocked"

/* PCI Command register bits (PCI Local Bus 3.0, 6.2.2). */
#define HSL_CMD_IO      0x0001u
#define HSL_CMD_MEM     0x0002u
#define HSL_CMD_MASTER  0x0004u

/*
 * Opens sysfs under root ("/" or NULL for the real one; another directory
 * holds a copy for tests).  Fails with a message naming what is missing:
 * not Linux (-ENOSYS), no /sys/bus/pci (-ENODEV), no /sys/bus/pci/slots
 * (-ENODEV: no hot-plug driver built in), no hot-plug driver loaded
 * (-ENODEV: no slot registered and no pciehp / shpchp / acpiphp module).
 * Not being root is not an error: hsl_read_only() then says so and the
 * operations fail with -EACCES and a message.
 */
int hsl_open(const char *root, struct hsl_sys **out, char *err,
	     size_t errlen);
void hsl_close(struct hsl_sys *s);
/* Why the view is read-only ("not root: ..."), or NULL. */
const char *hsl_read_only(const struct hsl_sys *s);
/* The hot-plug drivers loaded ("pciehp shpchp"). */
const char *hsl_drivers(const struct hsl_sys *s);

/* One slot.  Indicator and state files the driver does not implement
 * read -1. */
struct hsl_slot {
	char name[32];          /* the kernel's name: "1", "1-1", "5" */
	char address[16];       /* "0000:01:00": domain:bus:device */
	/* Stable identity: the port's device path under /sys/devices and
	 * the slot's device number ("pci0000:00/0000:00:02.0/00").  Slot
	 * names repeat with -N suffixes; the path does not. */
	char id[200];
	char port[16];          /* the port (bridge) above: "0000:00:02.0" */
	char module[16];        /* pciehp, shpchp, acpiphp */
	int power, attention, adapter, latch;
};

/* Every slot, sorted by id; *n is the count (up to max). */
int hsl_slots(struct hsl_sys *s, struct hsl_slot *out, size_t max,
	      size_t *n);
/* One slot by kernel name or by id; -ENOENT if there is none. */
int hsl_slot_find(struct hsl_sys *s, const char *name_or_id,
		  struct hsl_slot *out);

/* One PCI function. */
struct hsl_func {
	char bdf[16];           /* "0000:01:00.0" */
	uint16_t vendor, device, subsys_vendor, subsys;
	uint32_t class_code;    /* 24 bits */
	char driver[32];        /* "" when unbound */
	char override[32];      /* driver_override, "" when none */
	int command;            /* Command register, -1 unreadable */
	bool bridge;
	char devpath[200];      /* under /sys/devices */
};

int hsl_func_read(struct hsl_sys *s, const char *bdf, struct hsl_func *out);
/* The same without driver_override (left ""): reading that attribute
 * takes the device lock and so waits for a driver's probe in progress
 * (about 0.1 s for a NIC under TCG); nothing else here does. */
int hsl_func_read_fast(struct hsl_sys *s, const char *bdf,
		       struct hsl_func *out);
/* The functions of the card in a slot (address match, and what sits
 * below them up to the next slot down), sorted by path. */
int hsl_slot_funcs(struct hsl_sys *s, const struct hsl_slot *slot,
		   struct hsl_func *out, size_t max, size_t *n);
/* The slot a function sits in (its own, or an ancestor's for a function
 * behind a bridge on the card); -ENOENT when soldered. */
int hsl_func_slot(struct hsl_sys *s, const char *bdf, struct hsl_slot *out);
/* "Intel Corporation 82574L Gigabit Network Connection" from pci.ids. */
const char *hsl_name(struct hsl_sys *s, uint16_t vendor, uint16_t device,
		     char *buf, size_t len);

/* ---- operations (root) -------------------------------------------------- */

/* power: 1 on (the kernel enables the slot), 0 off (it unbinds and
 * removes the functions, then powers the slot off). */
int hsl_slot_power(struct hsl_sys *s, const char *name, int on, char *err,
		   size_t errlen);
/* cfgadm's unconfigure on Linux: the kernel's own removal of each of the
 * card's functions (sysfs `remove`: drivers unbound, devices deleted,
 * children first); the slot stays powered.  Configure: a rescan of the
 * port above the slot (its `rescan`), which finds them again. */
int hsl_slot_unconfigure(struct hsl_sys *s, const struct hsl_slot *slot,
			 char *err, size_t errlen);
int hsl_slot_rescan(struct hsl_sys *s, const struct hsl_slot *slot,
		    char *err, size_t errlen);
/* Whether any function of the slot's card is known to the kernel
 * (a function at the slot's bus:device). */
bool hsl_slot_configured(struct hsl_sys *s, const struct hsl_slot *slot);
/* attention: 0 off, 1 on, 2 blink (pciehp's encoding). */
int hsl_slot_attention(struct hsl_sys *s, const char *name, int mode,
		       char *err, size_t errlen);

/* /sys/bus/pci/drivers_autoprobe: 1 or 0 (hotplug-facts.md: 0 stops a
 * driver loaded later from binding, not one already loaded). */
int hsl_autoprobe(struct hsl_sys *s, int *old, int set, char *err,
		  size_t errlen);

/* Let a function be bound: driver_override := driver (NULL clears it),
 * then drivers_probe. */
int hsl_func_allow(struct hsl_sys *s, const char *bdf, const char *driver,
		   char *err, size_t errlen);

/* Hold a new function back from drivers until it is decided on:
 * driver_override := HSL_BLOCKED_OVERRIDE, nothing else.  Written as soon
 * as the add event arrives, it usually lands before the kernel's own
 * driver attach (pci_bus_add_device runs after the whole bus is scanned
 * and its resources assigned), so even a loaded driver does not bind. */
int hsl_func_hold(struct hsl_sys *s, const char *bdf, char *err,
		  size_t errlen);

/* What blocking found and did. */
struct hsl_block {
	char had_driver[32];    /* the driver that had grabbed it, "" none */
	int command_before;     /* the Command register found, -1 unknown */
	int command_after;
	bool unbound;           /* a driver was unbound */
};
/* Keep a function from any driver and from the bus: driver_override :=
 * HSL_BLOCKED_OVERRIDE, unbind a driver that grabbed it, then clear
 * memory / I/O decode and bus mastering through config (only after the
 * unbind: a bound driver owns its Command register). */
int hsl_func_block(struct hsl_sys *s, const char *bdf, struct hsl_block *r,
		   char *err, size_t errlen);

/* The IOMMU: units registered, groups, and the default domain type of a
 * group ("DMA", "DMA-FQ", "identity", "blocked"), or "none". */
struct hsl_iommu {
	unsigned units, groups;
	char type[16];
	bool dma;               /* translating: a blocked card cannot DMA */
};
int hsl_iommu(struct hsl_sys *s, struct hsl_iommu *out);

/* ---- events --------------------------------------------------------------- */

enum hsl_action {
	HSL_ADD, HSL_REMOVE, HSL_BIND, HSL_UNBIND, HSL_CHANGE, HSL_OTHER,
	/* A PCI driver registered (a module loaded): bdf is "", driver its
	 * name.  With drivers_autoprobe 0 it binds nothing by itself. */
	HSL_DRIVER_ADD,
};

struct hsl_event {
	enum hsl_action action;
	char bdf[16];
	char driver[32];        /* bind: the driver */
	uint32_t class_code;    /* PCI_CLASS, 0 when absent */
	uint16_t vendor, device;
	int64_t usec;           /* CLOCK_MONOTONIC when received */
};

/* The kernel's own PCI events (netlink; no udevd needed): functions, and
 * PCI drivers registering. */
int hsl_monitor_open(struct hsl_monitor **out, char *err, size_t errlen);
void hsl_monitor_close(struct hsl_monitor *m);
/* Readable when events wait (for uv_poll). */
int hsl_monitor_fd(const struct hsl_monitor *m);
/* The next event: 0, or -EAGAIN when none waits. */
int hsl_monitor_next(struct hsl_monitor *m, struct hsl_event *ev);
const char *hsl_action_name(enum hsl_action a);

int64_t hsl_now_usec(void);

#endif
