/*
 * linux_monitor.c - the kernel's PCI device events (linux_pci.h).
 *
 * Owns: a libudev monitor on the kernel's own netlink source ("kernel",
 * not "udev": hotswapd must hear the kernel whether or not udevd runs,
 * and before udevd's rules have run), filtered to the pci subsystem, and
 * turning each message into an hsl_event.
 *
 * The kernel announces PCI functions (add, remove, bind, unbind) but
 * nothing for slot power, presence, latch or attention; those are polled.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux_pci.h"

struct hsl_monitor {
	struct udev *udev;
	struct udev_monitor *mon;
};

int hsl_monitor_open(struct hsl_monitor **out, char *err, size_t errlen)
{
	struct hsl_monitor *m = calloc(1, sizeof(*m));
	int rc;

	*out = NULL;
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->udev = udev_new();
	if (!m->udev) {
		rc = errno ? -errno : -ENOMEM;
		snprintf(err, errlen, "udev_new: %s", strerror(-rc));
		goto fail;
	}
	m->mon = udev_monitor_new_from_netlink(m->udev, "kernel");
	if (!m->mon) {
		rc = errno ? -errno : -EIO;
		snprintf(err, errlen, "the kernel's device events (netlink): "
			 "%s", strerror(-rc));
		goto fail_udev;
	}
	rc = udev_monitor_filter_add_match_subsystem_devtype(m->mon, "pci",
							     NULL);
	if (rc >= 0)
		rc = udev_monitor_filter_add_match_subsystem_devtype(
			m->mon, "drivers", NULL);
	if (rc >= 0)
		rc = udev_monitor_enable_receiving(m->mon);
	if (rc < 0) {
		snprintf(err, errlen, "the kernel's device events: %s",
			 strerror(-rc));
		goto fail_mon;
	}
	/* A burst (a switch with many functions arriving) must not
	 * overflow the socket: 1 MiB, as udevd uses more. */
	udev_monitor_set_receive_buffer_size(m->mon, 1 << 20);
	*out = m;
	return 0;
fail_mon:
	udev_monitor_unref(m->mon);
fail_udev:
	udev_unref(m->udev);
fail:
	free(m);
	return rc;
}

void hsl_monitor_close(struct hsl_monitor *m)
{
	if (!m)
		return;
	udev_monitor_unref(m->mon);
	udev_unref(m->udev);
	free(m);
}

int hsl_monitor_fd(const struct hsl_monitor *m)
{
	return udev_monitor_get_fd(m->mon);
}

static enum hsl_action action_of(const char *a)
{
	static const struct { const char *n; enum hsl_action a; } map[] = {
		{ "add", HSL_ADD }, { "remove", HSL_REMOVE },
		{ "bind", HSL_BIND }, { "unbind", HSL_UNBIND },
		{ "change", HSL_CHANGE },
	};

	for (size_t i = 0; a && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(a, map[i].n))
			return map[i].a;
	return HSL_OTHER;
}

const char *hsl_action_name(enum hsl_action a)
{
	static const char *const n[] = { "add", "remove", "bind", "unbind",
					 "change", "other", "driver-add" };

	return (unsigned)a < sizeof(n) / sizeof(n[0]) ? n[a] : "?";
}

int hsl_monitor_next(struct hsl_monitor *m, struct hsl_event *ev)
{
	struct udev_device *d;
	const char *v;
	unsigned ven, dev;

	/* The socket is non-blocking: NULL when nothing waits. */
	d = udev_monitor_receive_device(m->mon);
	if (!d)
		return -EAGAIN;
	memset(ev, 0, sizeof(*ev));
	ev->usec = hsl_now_usec();
	ev->action = action_of(udev_device_get_action(d));
	/* A driver object: /bus/pci/drivers/NAME ("drivers" subsystem). */
	v = udev_device_get_subsystem(d);
	if (v && !strcmp(v, "drivers")) {
		const char *dp = udev_device_get_devpath(d);

		if (ev->action != HSL_ADD || !dp ||
		    strncmp(dp, "/bus/pci/drivers/", 17)) {
			ev->action = HSL_OTHER;
		} else {
			ev->action = HSL_DRIVER_ADD;
			snprintf(ev->driver, sizeof(ev->driver), "%s", dp + 17);
		}
		udev_device_unref(d);
		return 0;
	}
	snprintf(ev->bdf, sizeof(ev->bdf), "%s",
		 udev_device_get_sysname(d) ? udev_device_get_sysname(d) : "");
	v = udev_device_get_property_value(d, "DRIVER");
	if (v)
		snprintf(ev->driver, sizeof(ev->driver), "%s", v);
	/* PCI_CLASS is printed with %04X: 0x020000 reads "20000". */
	v = udev_device_get_property_value(d, "PCI_CLASS");
	if (v)
		ev->class_code = (uint32_t)strtoul(v, NULL, 16) & 0xffffff;
	v = udev_device_get_property_value(d, "PCI_ID");
	if (v && sscanf(v, "%x:%x", &ven, &dev) == 2) {
		ev->vendor = (uint16_t)ven;
		ev->device = (uint16_t)dev;
	}
	udev_device_unref(d);
	return 0;
}
