/*
 * main.c - the entry of the x86 bare-metal image: the machine (serial,
 * pool, config access, clock, interrupts), the hello lines, then the
 * shared image (platforms/bare/image.c) runs the core and the dispatcher.
 * Also the x86 ways to stop: halt, and QEMU's isa-debug-exit.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>

#include "../bare/console.h"
#include "../bare/pool.h"
#include "irq.h"
#include "platform.h"
#include "uart.h"
#include "x86.h"

#define MB_BOOT_MAGIC 0x2BADB002u
#define ISA_DEBUG_EXIT 0xF4

struct mb_info {
	uint32_t flags, mem_lower, mem_upper;
};

void hsq_main(uint32_t magic, const struct mb_info *mbi);

void hsq_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void hsq_exit(unsigned code)
{
	/* QEMU's isa-debug-exit device: the process exits with
	 * (value << 1) | 1.  Without the device nothing happens and the
	 * image halts. */
	outb(ISA_DEBUG_EXIT, (uint8_t)(code & 0x7f));
	hsq_halt();
}

void hsq_main(uint32_t magic, const struct mb_info *mbi)
{
	const struct hsq_machine *m;
	uint32_t ram_top = 0;
	int rc;

	hsq_uart_init();
	hsq_pool_init();
	if (magic == MB_BOOT_MAGIC && (mbi->flags & 1))
		ram_top = (mbi->mem_upper + 1024u) * 1024u;
	rc = hsq_platform_init(ram_top);
	m = hsq_machine();
	if (rc) {
		hsq_out("fatal msg=\"no PCI host bridge answers\"");
		hsq_halt();
	}
	hsq_set_log_sink(hsq_console_log);
	if (hsq_irq_init()) {
		hsq_out("fatal msg=\"no local APIC: the image needs one\"");
		hsq_halt();
	}
	hsq_out("hello image=hotswap-qemu protocol=%d arch=x86 machine=%s "
		"host=%04x:%04x config=%s ecam=0x%llx buses=%u tsc_mhz=%llu "
		"ram_mib=%u irq=apic lapic_mhz=%llu clock=%s", HSQ_PROTOCOL,
		m->name, m->host_vendor, m->host_device,
		m->ecam_base ? "ecam" : "cf8",
		(unsigned long long)m->ecam_base,
		m->ecam_buses ? m->ecam_buses : 256,
		(unsigned long long)(m->tsc_hz / 1000000u), ram_top >> 20,
		(unsigned long long)(hsq_lapic_hz() / 1000000u), m->clock);
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
