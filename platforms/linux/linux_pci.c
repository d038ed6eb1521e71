/*
 * linux_pci.c - slots, functions and the operations on them through
 * Linux's sysfs (linux_pci.h).
 *
 * Owns: the open view of sysfs (its root, whether it is writable, the
 * hot-plug drivers found, the pci.ids lookup), reading slots and
 * functions, the slot operations (power, attention), the authorization
 * mechanism (drivers_autoprobe, driver_override + drivers_probe, unbind,
 * the Command register through config) and the IOMMU check.
 *
 * Facts it relies on are in docs/linux.md and the facts sheet: slot
 * names repeat, so a slot's identity is its port's device path; the
 * kernel binds an already-loaded driver during its own hot-add whatever
 * drivers_autoprobe says, so blocking has to act after the fact.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pci/pci.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "linux_pci.h"

#define HSL_MAX_SLOTS 256

struct hsl_sys {
	char root[PATH_MAX];    /* "" for the real /sys */
	char devices[PATH_MAX]; /* realpath of ROOT/sys/devices */
	const char *ro;         /* why read-only, NULL when writable */
	char ro_buf[PATH_MAX + 128];
	char drivers[64];
	struct pci_access *pacc;
};

static void seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* Bounded copy that always terminates (truncates silently: callers size
 * their fields for sysfs names). */
static void copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

int64_t hsl_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ROOT/sys/... */
static void path(const struct hsl_sys *s, char *buf, size_t len,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void path(const struct hsl_sys *s, char *buf, size_t len,
		 const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(buf, len, "%s", s->root);

	va_start(ap, fmt);
	vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
}

static bool exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* A sysfs attribute's first line, newline stripped; -errno. */
static int read_line(const char *p, char *buf, size_t len)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(fd);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int read_int(const char *p, int *out)
{
	char b[32], *end;
	long v;
	int rc = read_line(p, b, sizeof(b));

	if (rc)
		return rc;
	errno = 0;
	v = strtol(b, &end, 0);
	if (errno || end == b)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int write_attr(const char *p, const char *val)
{
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	size_t len = strlen(val);

	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

/* The last component of a symlink's target ("pciehp"), "" if none. */
static void link_base(const char *p, char *buf, size_t len)
{
	char t[PATH_MAX];
	ssize_t n = readlink(p, t, sizeof(t) - 1);
	const char *b;

	buf[0] = 0;
	if (n <= 0)
		return;
	t[n] = 0;
	b = strrchr(t, '/');
	copy(buf, len, b ? b + 1 : t);
}

/* The path below ROOT/sys/devices of what p resolves to; -errno. */
static int devpath_of(const struct hsl_sys *s, const char *p, char *buf,
		      size_t len)
{
	char r[PATH_MAX];
	size_t dl = strlen(s->devices);

	if (!realpath(p, r))
		return -errno;
	if (strncmp(r, s->devices, dl) || r[dl] != '/')
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s", r + dl + 1) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static bool is_bdf(const char *n)
{
	unsigned d, b, dev, f;
	char c;

	return strlen(n) == 12 &&
	       sscanf(n, "%4x:%2x:%2x.%1u%c", &d, &b, &dev, &f, &c) == 4;
}

/* ---- open --------------------------------------------------------------- */

static unsigned count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int hsl_open(const char *root, struct hsl_sys **out, char *err,
	     size_t errlen)
{
	static const char *const hp[] = { "pciehp", "shpchp", "acpiphp" };
	struct hsl_sys *s;
	struct utsname u;
	char p[PATH_MAX];
	unsigned nslots, i;
	int rc;

	*out = NULL;
	if (!root || !strcmp(root, "/")) {
		root = "";
		if (uname(&u) == 0 && strcmp(u.sysname, "Linux")) {
			seterr(err, errlen, "not Linux (this is %s): the linux "
			       "back-end drives Linux's hot-plug drivers "
			       "through /sys", u.sysname);
			return -ENOSYS;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	copy(s->root, sizeof(s->root), root);
	path(s, p, sizeof(p), "/sys/bus/pci");
	if (!exists(p)) {
		seterr(err, errlen, "no %s: sysfs is not mounted or this "
		       "machine has no PCI", p);
		rc = -ENODEV;
		goto fail;
	}
	path(s, p, sizeof(p), "/sys/devices");
	if (!realpath(p, s->devices)) {
		rc = -errno;
		seterr(err, errlen, "%s: %s", p, strerror(errno));
		goto fail;
	}
	path(s, p, sizeof(p), "/sys/bus/pci/slots");
	if (!exists(p)) {
		seterr(err, errlen, "no %s: this kernel has no PCI hot-plug "
		       "support (CONFIG_HOTPLUG_PCI)", p);
		rc = -ENODEV;
		goto fail;
	}
	nslots = count_entries(p);
	for (i = 0; i < sizeof(hp) / sizeof(hp[0]); i++) {
		char m[PATH_MAX];

		path(s, m, sizeof(m), "/sys/module/%s", hp[i]);
		if (exists(m)) {
			size_t l = strlen(s->drivers);

			snprintf(s->drivers + l, sizeof(s->drivers) - l, "%s%s",
				 l ? " " : "", hp[i]);
		}
	}
	if (!nslots) {
		if (!s->drivers[0])
			seterr(err, errlen, "no hot-plug driver loaded: %s is "
			       "empty and none of pciehp, shpchp, acpiphp is "
			       "in /sys/module (modprobe shpchp / acpiphp, or "
			       "boot without pcie_ports=compat)", p);
		else
			seterr(err, errlen, "no hot-plug slot: %s is empty "
			       "(loaded: %s; no port of this machine has a "
			       "hot-plug capable slot the firmware hands to "
			       "the OS)", p, s->drivers);
		rc = -ENODEV;
		goto fail;
	}
	path(s, p, sizeof(p), "/sys/bus/pci/drivers_autoprobe");
	if (access(p, W_OK)) {
		snprintf(s->ro_buf, sizeof(s->ro_buf), "%s: read-only view "
			 "(%s is not writable: %s)",
			 geteuid() ? "not root" : "no write access", p,
			 strerror(errno));
		s->ro = s->ro_buf;
	}
	/* libpci for pci.ids names only; pci_init sets its handlers (it
	 * finds the sysfs access method, present since /sys/bus/pci is). */
	s->pacc = pci_alloc();
	if (!s->pacc) {
		seterr(err, errlen, "libpci: out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	pci_init(s->pacc);
	*out = s;
	return 0;
fail:
	free(s);
	return rc;
}

void hsl_close(struct hsl_sys *s)
{
	if (!s)
		return;
	if (s->pacc)
		pci_cleanup(s->pacc);
	free(s);
}

const char *hsl_read_only(const struct hsl_sys *s)
{
	return s->ro;
}

const char *hsl_drivers(const struct hsl_sys *s)
{
	return s->drivers;
}

const char *hsl_name(struct hsl_sys *s, uint16_t vendor, uint16_t device,
		     char *buf, size_t len)
{
	return pci_lookup_name(s->pacc, buf, (int)len,
			       PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE,
			       vendor, device);
}

/* ---- slots -------------------------------------------------------------- */

static int slot_read(struct hsl_sys *s, const char *name, struct hsl_slot *o)
{
	char p[PATH_MAX], bus[16], port[PATH_MAX];
	unsigned dom, b, dev;
	int rc;

	memset(o, 0, sizeof(*o));
	copy(o->name, sizeof(o->name), name);
	path(s, p, sizeof(p), "/sys/bus/pci/slots/%s/address", name);
	rc = read_line(p, o->address, sizeof(o->address));
	if (rc)
		return rc;
	path(s, p, sizeof(p), "/sys/bus/pci/slots/%s/module", name);
	link_base(p, o->module, sizeof(o->module));
#define SLOT_INT(f) do { \
		path(s, p, sizeof(p), "/sys/bus/pci/slots/%s/" #f, name); \
		if (read_int(p, &o->f)) \
			o->f = -1; \
	} while (0)
	SLOT_INT(power);
	SLOT_INT(attention);
	SLOT_INT(adapter);
	SLOT_INT(latch);
#undef SLOT_INT
	/* The port whose secondary bus the slot is on: the bus's device
	 * link.  Its path is the slot's identity. */
	if (sscanf(o->address, "%x:%x:%x", &dom, &b, &dev) != 3)
		return -EINVAL;
	snprintf(bus, sizeof(bus), "%04x:%02x", dom, b);
	path(s, p, sizeof(p), "/sys/class/pci_bus/%s/device", bus);
	rc = devpath_of(s, p, port, sizeof(port));
	if (rc)
		return rc;
	if ((size_t)snprintf(o->id, sizeof(o->id), "%s/%02x", port, dev) >=
	    sizeof(o->id))
		return -ENAMETOOLONG;
	copy(o->port, sizeof(o->port),
	     strrchr(port, '/') ? strrchr(port, '/') + 1 : port);
	return 0;
}

static int slot_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hsl_slot *)a)->id,
		      ((const struct hsl_slot *)b)->id);
}

int hsl_slots(struct hsl_sys *s, struct hsl_slot *out, size_t max,
	      size_t *n)
{
	char p[PATH_MAX];
	DIR *d;
	struct dirent *e;

	*n = 0;
	path(s, p, sizeof(p), "/sys/bus/pci/slots");
	d = opendir(p);
	if (!d)
		return -errno;
	while ((e = readdir(d)) && *n < max) {
		if (e->d_name[0] == '.')
			continue;
		/* A slot that goes away while it is read is skipped. */
		if (slot_read(s, e->d_name, &out[*n]) == 0)
			(*n)++;
	}
	closedir(d);
	qsort(out, *n, sizeof(*out), slot_cmp);
	return 0;
}

int hsl_slot_find(struct hsl_sys *s, const char *name_or_id,
		  struct hsl_slot *out)
{
	struct hsl_slot *all;
	size_t n, i;
	int rc;

	if (!strchr(name_or_id, '/'))
		return strchr(name_or_id, '.') ? -ENOENT :
		       slot_read(s, name_or_id, out) == 0 ? 0 : -ENOENT;
	all = calloc(HSL_MAX_SLOTS, sizeof(*all));
	if (!all)
		return -ENOMEM;
	rc = hsl_slots(s, all, HSL_MAX_SLOTS, &n);
	if (rc == 0) {
		rc = -ENOENT;
		for (i = 0; i < n; i++)
			if (!strcmp(all[i].id, name_or_id)) {
				*out = all[i];
				rc = 0;
				break;
			}
	}
	free(all);
	return rc;
}

/* ---- functions ---------------------------------------------------------- */

static int read_command(struct hsl_sys *s, const char *bdf)
{
	char p[PATH_MAX];
	unsigned char b[2];
	int fd;

	path(s, p, sizeof(p), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (pread(fd, b, 2, 4) != 2) {
		close(fd);
		return -1;
	}
	close(fd);
	return b[0] | b[1] << 8;        /* config space is little-endian */
}

static int func_read(struct hsl_sys *s, const char *bdf, struct hsl_func *o,
		     bool with_override);

int hsl_func_read(struct hsl_sys *s, const char *bdf, struct hsl_func *o)
{
	return func_read(s, bdf, o, true);
}

int hsl_func_read_fast(struct hsl_sys *s, const char *bdf,
		       struct hsl_func *o)
{
	return func_read(s, bdf, o, false);
}

static int func_read(struct hsl_sys *s, const char *bdf, struct hsl_func *o,
		     bool with_override)
{
	char p[PATH_MAX];
	int v;

	memset(o, 0, sizeof(*o));
	if (!is_bdf(bdf))
		return -EINVAL;
	copy(o->bdf, sizeof(o->bdf), bdf);
	path(s, p, sizeof(p), "/sys/bus/pci/devices/%s", bdf);
	if (devpath_of(s, p, o->devpath, sizeof(o->devpath)))
		return -ENOENT;
#define FUNC_HEX(f, file) do { \
		path(s, p, sizeof(p), "/sys/bus/pci/devices/%s/" file, bdf); \
		if (read_int(p, &v)) \
			return -ENOENT; \
		o->f = (uint16_t)v; \
	} while (0)
	FUNC_HEX(vendor, "vendor");
	FUNC_HEX(device, "device");
	FUNC_HEX(subsys_vendor, "subsystem_vendor");
	FUNC_HEX(subsys, "subsystem_device");
#undef FUNC_HEX
	path(s, p, sizeof(p), "/sys/bus/pci/devices/%s/class", bdf);
	if (read_int(p, &v))
		return -ENOENT;
	o->class_code = (uint32_t)v & 0xffffff;
	o->bridge = (o->class_code >> 8) == 0x0604;
	path(s, p, sizeof(p), "/sys/bus/pci/devices/%s/driver", bdf);
	link_base(p, o->driver, sizeof(o->driver));
	/* driver_override's show takes the device lock: it waits for a
	 * driver probe in progress. */
	path(s, p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (!with_override || read_line(p, o->override, sizeof(o->override)) ||
	    !strcmp(o->override, "(null)"))
		o->override[0] = 0;
	o->command = read_command(s, bdf);
	return 0;
}

static int func_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hsl_func *)a)->devpath,
		      ((const struct hsl_func *)b)->devpath);
}

int hsl_slot_funcs(struct hsl_sys *s, const struct hsl_slot *slot,
		   struct hsl_func *out, size_t max, size_t *n)
{
	char p[PATH_MAX], top[8][sizeof(((struct hsl_func *)0)->devpath) + 1];
	size_t ntop = 0, al = strlen(slot->address), i;
	DIR *d;
	struct dirent *e;

	*n = 0;
	path(s, p, sizeof(p), "/sys/bus/pci/devices");
	/* First the card's own functions (bus:device of the slot), then
	 * whatever sits below them (a bridge or switch on the card). */
	for (int pass = 0; pass < 2; pass++) {
		d = opendir(p);
		if (!d)
			return -errno;
		while ((e = readdir(d)) && *n < max) {
			struct hsl_func f;
			bool mine;

			if (!is_bdf(e->d_name))
				continue;
			mine = !strncmp(e->d_name, slot->address, al) &&
			       e->d_name[al] == '.';
			if (pass == 0 ? !mine : mine)
				continue;
			if (hsl_func_read(s, e->d_name, &f))
				continue;
			if (pass == 0) {
				if (ntop < 8)
					snprintf(top[ntop++], sizeof(top[0]),
						 "%s/", f.devpath);
				out[(*n)++] = f;
				continue;
			}
			for (i = 0; i < ntop; i++) {
				struct hsl_slot near;

				if (strncmp(f.devpath, top[i], strlen(top[i])))
					continue;
				/* Not a card in a slot further down (a
				 * hot-plug bridge on the card has its own). */
				if (hsl_func_slot(s, f.bdf, &near) == 0 &&
				    strcmp(near.id, slot->id))
					break;
				out[(*n)++] = f;
				break;
			}
		}
		closedir(d);
	}
	qsort(out, *n, sizeof(*out), func_cmp);
	return 0;
}

int hsl_func_slot(struct hsl_sys *s, const char *bdf, struct hsl_slot *out)
{
	struct hsl_slot *all;
	struct hsl_func f;
	size_t n, i;
	char *c;
	int rc;

	rc = hsl_func_read_fast(s, bdf, &f);
	if (rc)
		return rc;
	all = calloc(HSL_MAX_SLOTS, sizeof(*all));
	if (!all)
		return -ENOMEM;
	rc = hsl_slots(s, all, HSL_MAX_SLOTS, &n);
	if (rc)
		goto out;
	/* Deepest first: the nearest slot above the function. */
	rc = -ENOENT;
	while ((c = strrchr(f.devpath, '/')) || f.devpath[0]) {
		const char *comp = c ? c + 1 : f.devpath;

		if (is_bdf(comp))
			for (i = 0; i < n; i++)
				if (!strncmp(comp, all[i].address, 10) &&
				    comp[10] == '.') {
					*out = all[i];
					rc = 0;
					goto out;
				}
		if (!c)
			break;
		*c = 0;
	}
out:
	free(all);
	return rc;
}

/* ---- operations ----------------------------------------------------------- */

static int need_rw(struct hsl_sys *s, const char *what, char *err,
		   size_t errlen)
{
	if (!s->ro)
		return 0;
	seterr(err, errlen, "%s: %s", what, s->ro);
	return -EACCES;
}

static int slot_write(struct hsl_sys *s, const char *name, const char *file,
		      const char *val, const char *what, char *err,
		      size_t errlen)
{
	char p[PATH_MAX], dir[PATH_MAX];
	int rc;

	if ((rc = need_rw(s, what, err, errlen)))
		return rc;
	if (strchr(name, '/') || name[0] == '.' || !name[0]) {
		seterr(err, errlen, "%s: '%s' is not a slot name", what, name);
		return -EINVAL;
	}
	path(s, dir, sizeof(dir), "/sys/bus/pci/slots/%s", name);
	if (!exists(dir)) {
		seterr(err, errlen, "%s: no slot '%s' (no %s)", what, name,
		       dir);
		return -ENOENT;
	}
	path(s, p, sizeof(p), "%s/%s", dir + strlen(s->root), file);
	if (!exists(p)) {
		seterr(err, errlen, "%s: slot %s's driver offers no %s "
		       "(no %s)", what, name, file, p);
		return -EOPNOTSUPP;
	}
	rc = write_attr(p, val);
	if (rc == -ENOENT || rc == -ENODEV) {
		if (!exists(dir))
			seterr(err, errlen, "%s: slot %s vanished while the "
			       "operation ran (%s is gone)", what, name, dir);
		else
			seterr(err, errlen, "%s: %s: %s (the card is gone)",
			       what, p, strerror(-rc));
		return -ENODEV;
	}
	if (rc)
		seterr(err, errlen, "%s: writing '%s' to %s: %s", what, val, p,
		       strerror(-rc));
	return rc;
}

int hsl_slot_power(struct hsl_sys *s, const char *name, int on, char *err,
		   size_t errlen)
{
	char what[64];

	snprintf(what, sizeof(what), "power slot %s %s", name,
		 on ? "on" : "off");
	return slot_write(s, name, "power", on ? "1" : "0", what, err,
			  errlen);
}

static int func_write(struct hsl_sys *s, const char *bdf, const char *file,
		      const char *val, const char *what, char *err,
		      size_t errlen);

int hsl_slot_unconfigure(struct hsl_sys *s, const struct hsl_slot *slot,
			 char *err, size_t errlen)
{
	struct hsl_func f[64];
	char p[PATH_MAX];
	size_t n;
	int rc;

	if ((rc = need_rw(s, "unconfigure", err, errlen)))
		return rc;
	rc = hsl_slot_funcs(s, slot, f, sizeof(f) / sizeof(f[0]), &n);
	if (rc) {
		seterr(err, errlen, "unconfigure slot %s: listing its functions: "
		       "%s", slot->name, strerror(-rc));
		return rc;
	}
	/* Deepest first: what is behind a bridge on the card before the
	 * bridge (a function already gone with its parent is fine). */
	while (n--) {
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/remove",
			 f[n].bdf);
		rc = func_write(s, f[n].bdf, p, "1", "unconfigure", err,
				errlen);
		if (rc && rc != -ENODEV)
			return rc;
	}
	return 0;
}

int hsl_slot_rescan(struct hsl_sys *s, const struct hsl_slot *slot,
		    char *err, size_t errlen)
{
	char p[PATH_MAX];
	int rc;

	if ((rc = need_rw(s, "configure", err, errlen)))
		return rc;
	if (!is_bdf(slot->port)) {
		seterr(err, errlen, "configure slot %s: the port above it is "
		       "not known", slot->name);
		return -ENODEV;
	}
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/rescan", slot->port);
	return func_write(s, slot->port, p, "1", "configure", err, errlen);
}

bool hsl_slot_configured(struct hsl_sys *s, const struct hsl_slot *slot)
{
	char p[PATH_MAX];
	size_t al = strlen(slot->address);
	struct dirent *e;
	bool found = false;
	DIR *d;

	if (!al)
		return false;
	path(s, p, sizeof(p), "/sys/bus/pci/devices");
	if (!(d = opendir(p)))
		return false;
	while (!found && (e = readdir(d)))
		found = !strncmp(e->d_name, slot->address, al) &&
			e->d_name[al] == '.';
	closedir(d);
	return found;
}

int hsl_slot_attention(struct hsl_sys *s, const char *name, int mode,
		       char *err, size_t errlen)
{
	static const char *const v[] = { "0", "1", "2" };
	char what[64];

	snprintf(what, sizeof(what), "attention on slot %s", name);
	if (mode < 0 || mode > 2) {
		seterr(err, errlen, "%s: mode %d (expected 0 off, 1 on, "
		       "2 blink)", what, mode);
		return -EINVAL;
	}
	return slot_write(s, name, "attention", v[mode], what, err, errlen);
}

int hsl_autoprobe(struct hsl_sys *s, int *old, int set, char *err,
		  size_t errlen)
{
	char p[PATH_MAX];
	int rc, v;

	path(s, p, sizeof(p), "/sys/bus/pci/drivers_autoprobe");
	rc = read_int(p, &v);
	if (rc) {
		seterr(err, errlen, "%s: %s", p, strerror(-rc));
		return rc;
	}
	if (old)
		*old = v;
	if (set < 0 || set == v)
		return 0;
	if ((rc = need_rw(s, "drivers_autoprobe", err, errlen)))
		return rc;
	rc = write_attr(p, set ? "1" : "0");
	if (rc)
		seterr(err, errlen, "%s: %s", p, strerror(-rc));
	return rc;
}

static int func_write(struct hsl_sys *s, const char *bdf, const char *file,
		      const char *val, const char *what, char *err,
		      size_t errlen)
{
	char p[PATH_MAX];
	int rc;

	path(s, p, sizeof(p), "%s", file);
	rc = write_attr(p, val);
	if (rc == -ENOENT || rc == -ENODEV) {
		seterr(err, errlen, "%s: function %s vanished while the "
		       "operation ran (%s: %s)", what, bdf, p, strerror(-rc));
		return -ENODEV;
	}
	if (rc)
		seterr(err, errlen, "%s %s: writing '%s' to %s: %s", what, bdf,
		       val[0] == '\n' ? "\\n" : val, p, strerror(-rc));
	return rc;
}

int hsl_func_allow(struct hsl_sys *s, const char *bdf, const char *driver,
		   char *err, size_t errlen)
{
	char f[PATH_MAX];
	int rc;

	if ((rc = need_rw(s, "allow", err, errlen)))
		return rc;
	if (!is_bdf(bdf)) {
		seterr(err, errlen, "allow: '%s' is not a function address "
		       "(DDDD:BB:DD.F)", bdf);
		return -EINVAL;
	}
	/* An empty write clears driver_override (any driver may bind). */
	snprintf(f, sizeof(f), "/sys/bus/pci/devices/%s/driver_override", bdf);
	rc = func_write(s, bdf, f, driver && driver[0] ? driver : "\n",
			"allow", err, errlen);
	if (rc)
		return rc;
	return func_write(s, bdf, "/sys/bus/pci/drivers_probe", bdf, "allow",
			  err, errlen);
}

int hsl_func_hold(struct hsl_sys *s, const char *bdf, char *err,
		  size_t errlen)
{
	char f[PATH_MAX];
	int rc;

	if ((rc = need_rw(s, "hold", err, errlen)))
		return rc;
	if (!is_bdf(bdf)) {
		seterr(err, errlen, "hold: '%s' is not a function address "
		       "(DDDD:BB:DD.F)", bdf);
		return -EINVAL;
	}
	snprintf(f, sizeof(f), "/sys/bus/pci/devices/%s/driver_override", bdf);
	return func_write(s, bdf, f, HSL_BLOCKED_OVERRIDE, "hold", err, errlen);
}

int hsl_func_block(struct hsl_sys *s, const char *bdf, struct hsl_block *r,
		   char *err, size_t errlen)
{
	char f[PATH_MAX], p[PATH_MAX];
	struct hsl_func fn;
	unsigned char b[2];
	int rc, fd, cmd;

	memset(r, 0, sizeof(*r));
	r->command_before = r->command_after = -1;
	if ((rc = need_rw(s, "block", err, errlen)))
		return rc;
	if (!is_bdf(bdf)) {
		seterr(err, errlen, "block: '%s' is not a function address "
		       "(DDDD:BB:DD.F)", bdf);
		return -EINVAL;
	}
	if (hsl_func_read_fast(s, bdf, &fn)) {
		seterr(err, errlen, "block: no function %s", bdf);
		return -ENODEV;
	}
	copy(r->had_driver, sizeof(r->had_driver), fn.driver);
	r->command_before = fn.command;
	/* First the override, so nothing rebinds between the unbind and
	 * the Command write. */
	snprintf(f, sizeof(f), "/sys/bus/pci/devices/%s/driver_override", bdf);
	rc = func_write(s, bdf, f, HSL_BLOCKED_OVERRIDE, "block", err, errlen);
	if (rc)
		return rc;
	if (fn.driver[0]) {
		snprintf(f, sizeof(f), "/sys/bus/pci/devices/%s/driver/unbind",
			 bdf);
		rc = func_write(s, bdf, f, bdf, "block", err, errlen);
		/* -ENODEV here may also mean it unbound meanwhile. */
		path(s, p, sizeof(p), "/sys/bus/pci/devices/%s/driver", bdf);
		if (rc && exists(p))
			return rc;
		r->unbound = true;
	}
	/* Decode and bus mastering off (PCI 3.0 6.2.2): the card answers
	 * no memory or I/O cycle and cannot start DMA. */
	path(s, p, sizeof(p), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(p, O_RDWR | O_CLOEXEC);
	if (fd < 0 || pread(fd, b, 2, 4) != 2) {
		rc = -errno;
		seterr(err, errlen, "block %s: %s: %s", bdf, p, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc ? rc : -EIO;
	}
	cmd = (b[0] | b[1] << 8) &
	      ~(int)(HSL_CMD_IO | HSL_CMD_MEM | HSL_CMD_MASTER);
	b[0] = (unsigned char)cmd;
	b[1] = (unsigned char)(cmd >> 8);
	if (pwrite(fd, b, 2, 4) != 2) {
		rc = -errno;
		seterr(err, errlen, "block %s: writing the Command register "
		       "through %s: %s", bdf, p, strerror(errno));
		close(fd);
		return rc ? rc : -EIO;
	}
	close(fd);
	r->command_after = read_command(s, bdf);
	if (r->command_after < 0 ||
	    (r->command_after & (HSL_CMD_IO | HSL_CMD_MEM | HSL_CMD_MASTER))) {
		seterr(err, errlen, "block %s: the Command register reads "
		       "0x%04x after clearing decode and bus mastering", bdf,
		       (unsigned)r->command_after);
		return -EIO;
	}
	return 0;
}

int hsl_iommu(struct hsl_sys *s, struct hsl_iommu *o)
{
	char p[PATH_MAX];
	DIR *d;
	struct dirent *e;

	memset(o, 0, sizeof(*o));
	snprintf(o->type, sizeof(o->type), "none");
	path(s, p, sizeof(p), "/sys/class/iommu");
	o->units = count_entries(p);
	path(s, p, sizeof(p), "/sys/kernel/iommu_groups");
	o->groups = count_entries(p);
	d = opendir(p);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char t[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		path(s, t, sizeof(t), "/sys/kernel/iommu_groups/%s/type",
		     e->d_name);
		if (read_line(t, o->type, sizeof(o->type)) == 0)
			break;
	}
	closedir(d);
	/* "DMA" and "DMA-FQ" translate; "identity" passes DMA through. */
	o->dma = o->units > 0 && !strncmp(o->type, "DMA", 3);
	return 0;
}
