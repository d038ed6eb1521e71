/*
 * main.c - the entry of the aarch64 bare-metal image on QEMU's virt
 * machine: serial, pool, config access, clock, interrupts, the hello
 * lines, then the shared image (platforms/bare/image.c) runs the core and
 * the dispatcher.  Also the ways to stop: wfi forever, and PSCI
 * SYSTEM_OFF (through hvc: QEMU's conduit for an image started at EL1).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "../bare/console.h"
#include "../bare/pool.h"
#include "arm.h"
#include "virt.h"

#define PSCI_SYSTEM_OFF 0x84000008u

void hsq_main(void);

void hsq_halt(void)
{
	for (;;)
		__asm__ volatile("msr daifset, #2; wfi");
}

void hsq_exit(unsigned code)
{
	register uint64_t x0 __asm__("x0") = PSCI_SYSTEM_OFF;

	/* PSCI (ARM DEN 0022) has no exit status: QEMU exits with 0.  The
	 * code was printed on the `bye` line before. */
	(void)code;
	__asm__ volatile("hvc #0" : "+r"(x0) : : "memory");
	hsq_halt();
}

void hsq_main(void)
{
	const struct hsa_machine *m;
	int rc;

	hsa_uart_init();
	hsq_pool_init();
	rc = hsa_platform_init();
	m = hsa_machine();
	if (rc) {
		hsq_out("fatal msg=\"no PCI host bridge answers at the ECAM\"");
		hsq_halt();
	}
	hsq_set_log_sink(hsq_console_log);
	if (hsa_irq_init(hsa_machine())) {
		hsq_out("fatal msg=\"no GICv3 at 0x%llx: boot with -machine "
			"virt,gic-version=3,its=on\"",
			(unsigned long long)VIRT_GICD);
		hsq_halt();
	}
	/* msi=its lpis=FIRST-LAST, or msi=none without an ITS. */
	hsq_out("hello image=hotswap-qemu protocol=%d arch=aarch64 "
		"machine=virt host=%04x:%04x config=ecam ecam=0x%llx buses=256 "
		"irq=gicv3 msi=%s lpis=%u-%u its=0x%llx cnt_mhz=%llu "
		"clock=cntvct",
		HSQ_PROTOCOL, m->host_vendor, m->host_device,
		(unsigned long long)VIRT_PCIE_ECAM,
		m->msi_count ? "its" : "none", m->msi_first,
		m->msi_first + m->msi_count - 1, (unsigned long long)VIRT_GITS,
		(unsigned long long)(m->cnt_hz / 1000000u));
	hsq_out("aperture io=0x%llx-0x%llx mem=0x%llx-0x%llx "
		"pref=0x%llx-0x%llx",
		(unsigned long long)m->hb.io_base,
		(unsigned long long)m->hb.io_limit,
		(unsigned long long)m->hb.mem_base,
		(unsigned long long)m->hb.mem_limit,
		(unsigned long long)m->hb.pref_base,
		(unsigned long long)m->hb.pref_limit);
	hsq_image_run();
}
