/*
 * image.c - the part of every bare-metal image that is not the machine:
 * start the unchanged core with the PCIe and SHPC controller drivers and
 * QEMU's two device drivers, enumerate, then run the one dispatcher
 * forever (board.h).
 *
 * Owns: the core's parameters on QEMU and the dispatcher loop.  The loop
 * runs the handlers of latched interrupts, the serial input and the
 * platform timer that carries every core timer, and sleeps (hsq_irq_idle)
 * when none of them had anything to do: the architecture's timer wakes
 * it at the core's next deadline.
 *
 * The image re-enumerates from scratch instead of keeping what the
 * firmware programmed: the core's allocator then places every bridge
 * window with its hot-plug reservation (QEMU's resource-reserve
 * capability first, hotswap's defaults otherwise) exactly as it does on
 * the simulator, and the result does not depend on which firmware ran.
 * (docs/qemu.md)
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "board.h"
#include "console.h"
#include "hotswap/slot.h"

#include "../../controllers/controllers.h"
#include "../../drivers/qemudev.h"

void hsq_image_run(void)
{
	struct hs_core_params p;
	struct hs_core *core;
	int rc;

	hs_core_params_defaults(&p);
	/* Controllers interrupt (MSI, or a level line); the core polls one
	 * only when its interrupt cannot be attached, every millisecond, and
	 * the console says so when it starts (`irq ... mode=poll`). */
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
	hs_core_enable_rebalance(core);
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
	hsq_halt();
}
