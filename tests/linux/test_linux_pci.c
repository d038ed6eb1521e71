/*
 * test_linux_pci.c - platforms/linux's sysfs layer on a copy of sysfs
 * built in a temporary directory (hsl_open's root): the errors that name
 * what is missing, slot identity from the port's path, functions and
 * names, the operations' writes and the blocking sequence.  The real
 * kernel is tests/linux/run.py's job; this runs anywhere, fast.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "linux_pci.h"

static char root[64];

__attribute__((format(printf, 1, 2)))
static void mk(const char *fmt, ...)
{
	char p[512], q[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	snprintf(p, sizeof(p), "mkdir -p '%s%s'", root, q);
	assert_int_equal(system(p), 0);
}

static void put(const char *rel, const void *data, size_t len)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void puts_(const char *rel, const char *text)
{
	put(rel, text, strlen(text));
}

static void ln(const char *target, const char *rel)
{
	char p[512], t[512];

	snprintf(p, sizeof(p), "%s%s", root, rel);
	snprintf(t, sizeof(t), "%s%s", root, target);
	assert_int_equal(symlink(t, p), 0);
}

static void get(const char *rel, char *buf, size_t len)
{
	char p[512];
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	assert_true(n >= 0);
	buf[n] = 0;
	/* A write over a longer value leaves its tail (sysfs reads only
	 * what was written): compare the first line. */
	buf[strcspn(buf, "\n")] = 0;
	close(fd);
}

#define PORT "/sys/devices/pci0000:00/0000:00:02.0"
#define SW "/sys/devices/pci0000:00/0000:00:04.0/0000:03:00.0/0000:04:00.0"

/* A function's attribute files; command in config at offset 4. */
static void func(const char *dir, const char *bdf, const char *ven,
		 const char *dev, const char *cls, uint16_t command,
		 const char *driver)
{
	char p[512], cfg[64] = { 0 };

	mk("%s", dir);
	snprintf(p, sizeof(p), "%s/vendor", dir);
	puts_(p, ven);
	snprintf(p, sizeof(p), "%s/device", dir);
	puts_(p, dev);
	snprintf(p, sizeof(p), "%s/subsystem_vendor", dir);
	puts_(p, "0x8086\n");
	snprintf(p, sizeof(p), "%s/subsystem_device", dir);
	puts_(p, "0x0000\n");
	snprintf(p, sizeof(p), "%s/class", dir);
	puts_(p, cls);
	snprintf(p, sizeof(p), "%s/driver_override", dir);
	puts_(p, "(null)\n");
	cfg[4] = (char)(command & 0xff);
	cfg[5] = (char)(command >> 8);
	snprintf(p, sizeof(p), "%s/config", dir);
	put(p, cfg, sizeof(cfg));
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s", bdf);
	ln(dir, p);
	if (driver) {
		char d[128];

		snprintf(d, sizeof(d), "/sys/bus/pci/drivers/%s", driver);
		mk("%s", d);
		snprintf(p, sizeof(p), "%s/unbind", d);
		puts_(p, "");
		snprintf(p, sizeof(p), "%s/driver", dir);
		ln(d, p);
	}
}

static void slot(const char *name, const char *addr, const char *module,
		 const char *power, const char *adapter, const char *latch)
{
	char p[256];

	mk("/sys/bus/pci/slots/%s", name);
	snprintf(p, sizeof(p), "/sys/bus/pci/slots/%s/address", name);
	puts_(p, addr);
	snprintf(p, sizeof(p), "/sys/bus/pci/slots/%s/power", name);
	puts_(p, power);
	snprintf(p, sizeof(p), "/sys/bus/pci/slots/%s/attention", name);
	puts_(p, "0\n");
	snprintf(p, sizeof(p), "/sys/bus/pci/slots/%s/adapter", name);
	puts_(p, adapter);
	if (latch) {
		snprintf(p, sizeof(p), "/sys/bus/pci/slots/%s/latch", name);
		puts_(p, latch);
	}
	mk("/sys/module/%s", module);
	snprintf(p, sizeof(p), "/sys/bus/pci/slots/%s/module", name);
	{
		char t[64];

		snprintf(t, sizeof(t), "/sys/module/%s", module);
		ln(t, p);
	}
}

/* Root port 00:02.0 (slot "1", a NIC bound to e1000e) and a switch's
 * first downstream port 04:00.0 (slot "1-1", empty). */
static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/hsl-test.XXXXXX");
	assert_non_null(mkdtemp(root));
	mk("/sys/bus/pci/devices");
	mk("/sys/class/pci_bus");
	puts_("/sys/bus/pci/drivers_autoprobe", "1\n");
	puts_("/sys/bus/pci/drivers_probe", "");
	func(PORT, "0000:00:02.0", "0x1b36\n", "0x000c\n", "0x060400\n",
	     0x0507, "pcieport");
	func(PORT "/0000:01:00.0", "0000:01:00.0", "0x8086\n", "0x10d3\n",
	     "0x020000\n", 0x0406, "e1000e");
	func(SW, "0000:04:00.0", "0x104c\n", "0x8233\n", "0x060400\n", 0x0507,
	     NULL);
	/* The kernel's bus objects: class/pci_bus/BUS/device -> bridge. */
	mk("/sys/class/pci_bus/0000:01");
	mk("/sys/class/pci_bus/0000:05");
	ln(PORT, "/sys/class/pci_bus/0000:01/device");
	ln(SW, "/sys/class/pci_bus/0000:05/device");
	slot("1", "0000:01:00\n", "pciehp", "1\n", "1\n", NULL);
	slot("1-1", "0000:05:00\n", "pciehp", "0\n", "0\n", NULL);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void open_ok(struct hsl_sys **s)
{
	char err[512] = "";

	assert_int_equal(hsl_open(root, s, err, sizeof(err)), 0);
}

static void test_missing_named(void **state)
{
	struct hsl_sys *s;
	char err[512], r2[300], cmd[400];

	(void)state;
	snprintf(r2, sizeof(r2), "%s/none", root);
	assert_int_equal(hsl_open(r2, &s, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "/none/sys/bus/pci"));
	assert_non_null(strstr(err, "sysfs is not mounted"));

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/a/sys/bus/pci' "
		 "'%s/a/sys/devices'", root, root);
	assert_int_equal(system(cmd), 0);
	snprintf(r2, sizeof(r2), "%s/a", root);
	assert_int_equal(hsl_open(r2, &s, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "/a/sys/bus/pci/slots"));
	assert_non_null(strstr(err, "CONFIG_HOTPLUG_PCI"));

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/a/sys/bus/pci/slots'", root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(hsl_open(r2, &s, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "no hot-plug driver loaded"));

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/a/sys/module/pciehp'", root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(hsl_open(r2, &s, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "no hot-plug slot"));
	assert_non_null(strstr(err, "loaded: pciehp"));
}

static void test_slots_identity(void **state)
{
	struct hsl_sys *s;
	struct hsl_slot sl[8], one;
	size_t n;

	(void)state;
	open_ok(&s);
	assert_null(hsl_read_only(s));
	assert_string_equal(hsl_drivers(s), "pciehp");
	assert_int_equal(hsl_slots(s, sl, 8, &n), 0);
	assert_int_equal(n, 2);
	/* Sorted by identity: the root port's slot, then the switch's. */
	assert_string_equal(sl[0].name, "1");
	assert_string_equal(sl[0].id, "pci0000:00/0000:00:02.0/00");
	assert_string_equal(sl[0].port, "0000:00:02.0");
	assert_string_equal(sl[0].module, "pciehp");
	assert_int_equal(sl[0].power, 1);
	assert_int_equal(sl[0].adapter, 1);
	assert_int_equal(sl[0].latch, -1);      /* no latch file */
	assert_string_equal(sl[1].name, "1-1");
	assert_string_equal(sl[1].id, "pci0000:00/0000:00:04.0/0000:03:00.0/"
			    "0000:04:00.0/00");
	/* By name or by id. */
	assert_int_equal(hsl_slot_find(s, "1-1", &one), 0);
	assert_string_equal(one.port, "0000:04:00.0");
	assert_int_equal(hsl_slot_find(s, sl[0].id, &one), 0);
	assert_string_equal(one.name, "1");
	assert_int_equal(hsl_slot_find(s, "9", &one), -ENOENT);
	hsl_close(s);
}

static void test_functions(void **state)
{
	struct hsl_sys *s;
	struct hsl_slot sl;
	struct hsl_func f[4];
	size_t n;

	(void)state;
	open_ok(&s);
	assert_int_equal(hsl_slot_find(s, "1", &sl), 0);
	assert_int_equal(hsl_slot_funcs(s, &sl, f, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].bdf, "0000:01:00.0");
	assert_int_equal(f[0].vendor, 0x8086);
	assert_int_equal(f[0].device, 0x10d3);
	assert_int_equal(f[0].class_code, 0x020000);
	assert_string_equal(f[0].driver, "e1000e");
	assert_string_equal(f[0].override, "");     /* "(null)" */
	assert_int_equal(f[0].command, 0x0406);
	assert_false(f[0].bridge);
	assert_int_equal(hsl_func_slot(s, "0000:01:00.0", &sl), 0);
	assert_string_equal(sl.name, "1");
	/* The port itself is in no slot. */
	assert_int_equal(hsl_func_slot(s, "0000:00:02.0", &sl), -ENOENT);
	assert_int_equal(hsl_func_read(s, "0000:01:00", f), -EINVAL);
	assert_int_equal(hsl_func_read(s, "0000:09:00.0", f), -ENOENT);
	hsl_close(s);
}

static void test_operations(void **state)
{
	struct hsl_sys *s;
	char err[512], buf[64];
	int old = -1;

	(void)state;
	open_ok(&s);
	assert_int_equal(hsl_slot_power(s, "1", 0, err, sizeof(err)), 0);
	get("/sys/bus/pci/slots/1/power", buf, sizeof(buf));
	assert_string_equal(buf, "0");
	assert_int_equal(hsl_slot_attention(s, "1-1", 2, err, sizeof(err)), 0);
	get("/sys/bus/pci/slots/1-1/attention", buf, sizeof(buf));
	assert_string_equal(buf, "2");
	assert_int_equal(hsl_slot_attention(s, "1", 3, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "expected 0 off, 1 on, 2 blink"));
	assert_int_equal(hsl_slot_power(s, "7", 1, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "no slot '7'"));
	assert_int_equal(hsl_slot_power(s, "../1", 1, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a slot name"));
	/* A driver that implements no latch: the file is not there. */
	assert_int_equal(hsl_autoprobe(s, &old, 0, err, sizeof(err)), 0);
	assert_int_equal(old, 1);
	get("/sys/bus/pci/drivers_autoprobe", buf, sizeof(buf));
	assert_string_equal(buf, "0");
	assert_int_equal(hsl_func_allow(s, "0000:01:00.0", "e1000e", err,
					sizeof(err)), 0);
	get("/sys/bus/pci/devices/0000:01:00.0/driver_override", buf,
	    sizeof(buf));
	assert_string_equal(buf, "e1000e");
	get("/sys/bus/pci/drivers_probe", buf, sizeof(buf));
	assert_string_equal(buf, "0000:01:00.0");
	hsl_close(s);
}

static void test_block(void **state)
{
	struct hsl_sys *s;
	struct hsl_block r;
	char err[512], buf[64], cfgpath[160];
	unsigned char cfg[8];
	int fd;

	(void)state;
	open_ok(&s);
	assert_int_equal(hsl_func_block(s, "0000:01:00.0", &r, err,
					sizeof(err)), 0);
	assert_string_equal(r.had_driver, "e1000e");
	assert_true(r.unbound);
	assert_int_equal(r.command_before, 0x0406);
	/* Memory, I/O and bus master off; Interrupt Disable left alone. */
	assert_int_equal(r.command_after, 0x0400);
	get("/sys/bus/pci/devices/0000:01:00.0/driver_override", buf,
	    sizeof(buf));
	assert_string_equal(buf, HSL_BLOCKED_OVERRIDE);
	get("/sys/bus/pci/drivers/e1000e/unbind", buf, sizeof(buf));
	assert_string_equal(buf, "0000:01:00.0");
	snprintf(cfgpath, sizeof(cfgpath),
		 "%s/sys/bus/pci/devices/0000:01:00.0/config", root);
	fd = open(cfgpath, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, cfg, 8, 0), 8);
	close(fd);
	assert_int_equal(cfg[4] | cfg[5] << 8, 0x0400);
	/* A function that is not there. */
	assert_int_equal(hsl_func_block(s, "0000:09:00.0", &r, err,
					sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "no function 0000:09:00.0"));
	hsl_close(s);
}

static void test_iommu(void **state)
{
	struct hsl_sys *s;
	struct hsl_iommu io;

	(void)state;
	open_ok(&s);
	assert_int_equal(hsl_iommu(s, &io), 0);
	assert_int_equal(io.units, 0);
	assert_false(io.dma);
	assert_string_equal(io.type, "none");
	mk("/sys/class/iommu/dmar0");
	mk("/sys/kernel/iommu_groups/0");
	puts_("/sys/kernel/iommu_groups/0/type", "DMA-FQ\n");
	assert_int_equal(hsl_iommu(s, &io), 0);
	assert_int_equal(io.units, 1);
	assert_int_equal(io.groups, 1);
	assert_string_equal(io.type, "DMA-FQ");
	assert_true(io.dma);
	puts_("/sys/kernel/iommu_groups/0/type", "identity\n");
	assert_int_equal(hsl_iommu(s, &io), 0);
	assert_false(io.dma);       /* passthrough does not translate */
	hsl_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_named, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_slots_identity, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_functions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_operations, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iommu, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
