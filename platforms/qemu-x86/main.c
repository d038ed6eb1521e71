/*
 * main.c - the bare-metal hotswap image: boot, start the unchanged core
 * with the PCIe and SHPC controller drivers and two device drivers, then
 * run the one dispatcher forever: the handlers of latched interrupts,
 * serial input, the platform timer that carries every core timer, and
 * hlt when nothing is pending (the local APIC timer wakes it at the
 * core's next deadline).
 *
 * The image re-enumerates from scratch instead of keeping what SeaBIOS
 * programmed: the core's allocator then places every bridge window with
 * its hot-plug reservation (QEMU's resource-reserve capability first,
 * hotswap's defaults otherwise) exactly as it does on the simulator, and
 * the result does not depend on which firmware ran.  (docs/qemu.md)
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>

#include "console.h"
#include "hotswap/slot.h"
#include "irq.h"
#include "libc.h"
#include "platform.h"
#include "pool.h"
#include "uart.h"

#include "../../controllers/controllers.h"
#include "../../drivers/qemudev.h"

#define MB_BOOT_MAGIC 0x2BADB002u

struct mb_info {
	uint32_t flags, mem_lower, mem_upper;
};

void hsq_main(uint32_t magic, const struct mb_info *mbi);

static void halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void hsq_main(uint32_t magic, const struct mb_info *mbi)
{
	const struct hsq_machine *m;
	struct hs_core_params p;
	struct hs_core *core;
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
		halt();
	}
	hsq_set_log_sink(hsq_console_log);
	if (hsq_irq_init()) {
		hsq_out("fatal msg=\"no local APIC: the image needs one\"");
		halt();
	}
	hsq_out("hello image=hotswap-qemu protocol=%d machine=%s "
		"host=%04x:%04x config=%s ecam=0x%llx buses=%u tsc_mhz=%llu "
		"ram_mib=%u irq=apic lapic_mhz=%llu", HSQ_PROTOCOL, m->name, m->host_vendor,
		m->host_device, m->ecam_base ? "ecam" : "cf8",
		(unsigned long long)m->ecam_base,
		m->ecam_buses ? m->ecam_buses : 256,
		(unsigned long long)(m->tsc_hz / 1000000u), ram_top >> 20,
		(unsigned long long)(hsq_lapic_hz() / 1000000u));
	hsq_out("aperture io=0x%llx-0x%llx mem=0x%llx-0x%llx "
		"pref=0x%llx-0x%llx",
		(unsigned long long)m->hb.io_base,
		(unsigned long long)m->hb.io_limit,
		(unsigned long long)m->hb.mem_base,
		(unsigned long long)m->hb.mem_limit,
		(unsigned long long)m->hb.pref_base,
		(unsigned long long)m->hb.pref_limit);

	hs_core_params_defaults(&p);
	/* Controllers interrupt (MSI, or INTx through the I/O APIC); the
	 * core polls one only when its interrupt cannot be attached, every
	 * millisecond, and the console says so when it starts (`irq`). */
	p.slot_poll = false;
	p.poll_period = HS_MSEC(1);
	/* QEMU's presence bit is set once by device_add and never bounces. */
	p.debounce = HS_MSEC(2);
	/* What the root ports' reservation capability (or hotswap's
	 * default) gives is what a slot has: the rest of the aperture stays
	 * free for rebalancing rather than being shared out at boot. */
	p.share_leftover = false;
	/* QEMU's device_add is the operator inserting a card and asking for
	 * it: presence enables the slot, as Linux's pciehp does when
	 * presence arrives with the button. */
	p.slot_policy = HS_SLOT_POLICY_PRESENCE;
	/* QEMU refuses device_del (its attention button) while a slot's
	 * electromechanical interlock is engaged. */
	p.leave_interlock = true;
	p.authorize = hsq_console_authorize;

	rc = hs_core_create(hsq_platform(), &p, &core);
	if (rc)
		goto fail;
	hsq_console_init(core, p.poll_period);
	if ((rc = hs_controllers_register(core)) ||
	    (rc = hs_driver_register(core, &qemu_edu_driver)) ||
	    (rc = hs_driver_register(core, &qemu_testdev_driver)) ||
	    (rc = hs_core_subscribe(core, hsq_console_event, NULL)))
		goto fail;
	rc = hs_core_enumerate(core);
	if (rc)
		goto fail;
	hsq_console_devices("boot");
	hsq_out("ready");
	for (;;) {
		hs_time_t deadline;
		bool ran;

		hsq_console_poll();
		ran = hsq_irq_run();
		ran |= hsq_timer_poll();
		if (!ran)
			hsq_irq_idle(hsq_timer_deadline(&deadline), deadline);
	}
fail:
	hsq_out("fatal rc=%d msg=\"the core did not start\"", rc);
	halt();
}
