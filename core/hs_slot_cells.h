/*
 * hs_slot_cells.h - the slot state machine's table, one line per (fine
 * state, input) cell: C(fine, input, handler, doc) for a cell some
 * sequence of hardware events and requests reaches, U(fine, input, why)
 * for one nothing but a drill (hs_slot_drill) can reach (ignored; its
 * doc is the reason, and the coverage test checks no scenario reaches
 * it).  Written once, expanded twice: into the handlers
 * (hs_slot_table.c, the machine) and into the docs (hs_slot_docs.c,
 * linked only by what prints or checks the table: hotswap-demo --table,
 * docs/slots.md, the coverage tests), so that a freestanding image that
 * never prints the table carries none of its prose (issue #18, size).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_SLOT_CELLS_H
#define HOTSWAP_CORE_SLOT_CELLS_H

/* What every step of powering on shares. */
#define HS_PON_COMMON(C, U, F) \
	C(F, CONNECT, c_refuse_busy, "refused: busy") \
	C(F, UNCONFIGURE, c_refuse_busy, "refused: busy") \
	C(F, PRESENCE, c_pon_presence, "card gone: unwind, power off -> EMPTY") \
	C(F, LATCH, c_pon_latch, "MRL opened: fail, power off, attention on -> OFF") \
	C(F, BUTTON, c_ignore, "ignored while powering on") \
	C(F, POWER_FAULT, c_fault, "-> FAULT") \
	C(F, ENABLE, c_refuse_busy, "refused: busy") \
	C(F, DISABLE, c_refuse_busy, "refused: busy")

#define HS_POFF_COMMON(C, U, F) \
	C(F, CONNECT, c_refuse_busy, "refused: busy") \
	C(F, UNCONFIGURE, c_refuse_busy, "refused: busy") \
	C(F, BUTTON, c_ignore, "ignored while powering off") \
	C(F, POWER_FAULT, c_fault, "surprise removal -> FAULT") \
	C(F, ENABLE, c_refuse_busy, "refused: busy") \
	C(F, DISABLE, c_refuse_busy, "refused: busy")

#define HS_SLOT_CELLS(C, U) \
	C(EMPTY, PRESENCE, c_debounce, "debounce: wait for presence to hold still") \
	C(EMPTY, LATCH, c_ignore, "ignored (no card)") \
	C(EMPTY, BUTTON, c_ignore, "ignored (no card)") \
	C(EMPTY, POWER_FAULT, c_fault, "-> FAULT: power off, attention on") \
	C(EMPTY, LINK, c_ignore, "ignored (no card)") \
	C(EMPTY, CMD, c_ignore, "nothing (indicators settled)") \
	C(EMPTY, TIMER, c_empty_settled, "presence settled: card there -> OFF, then -> POWERING_ON if presence enables the slot or a replacement waits") \
	C(EMPTY, DONE, c_late_teardown, "late result: devices configured meanwhile are torn down") \
	C(EMPTY, ENABLE, c_refuse_empty, "refused: the slot is empty") \
	C(EMPTY, DISABLE, c_refuse_empty, "refused: the slot is empty") \
	C(EMPTY, CONNECT, c_refuse_empty, "refused: the slot is empty") \
	C(EMPTY, UNCONFIGURE, c_refuse_empty, "refused: the slot is empty") \
	C(OFF, PRESENCE, c_debounce, "debounce: wait for presence to hold still") \
	C(OFF, LATCH, c_off_latch, "latch closed: -> POWERING_ON if presence enables the slot") \
	C(OFF, BUTTON, c_off_button, "-> BLINKING_ON: power indicator blinks, 5 s window (ignored with the MRL open or the slot disabled)") \
	C(OFF, POWER_FAULT, c_fault, "-> FAULT") \
	C(OFF, LINK, c_ignore, "ignored (not in use)") \
	C(OFF, CMD, c_ignore, "nothing (indicators settled)") \
	C(OFF, TIMER, c_off_settled, "presence settled: card gone -> EMPTY") \
	C(OFF, DONE, c_late_teardown, "late result: devices configured meanwhile are torn down") \
	C(OFF, ENABLE, c_enable, "-> POWERING_ON (refused with the MRL open, or the ejector open on a cPCI board the backplane powers)") \
	C(OFF, DISABLE, c_ok, "already off: done") \
	C(OFF, CONNECT, c_connect, "-> POWERING_ON, to stop at CONNECTED (refused as enable is)") \
	C(OFF, UNCONFIGURE, c_ok, "nothing is configured: done") \
	C(BLINKING_ON, PRESENCE, c_bon_presence, "card gone -> EMPTY") \
	C(BLINKING_ON, LATCH, c_bon_latch, "MRL opened: cancel -> OFF") \
	C(BLINKING_ON, BUTTON, c_bon_cancel, "second press: cancel, power indicator off -> OFF") \
	C(BLINKING_ON, POWER_FAULT, c_fault, "-> FAULT") \
	C(BLINKING_ON, LINK, c_ignore, "ignored") \
	C(BLINKING_ON, CMD, c_ignore, "nothing (indicator blinking)") \
	C(BLINKING_ON, TIMER, c_enable, "window over: -> POWERING_ON") \
	C(BLINKING_ON, DONE, c_late_teardown, "late result: devices configured meanwhile are torn down") \
	C(BLINKING_ON, ENABLE, c_enable, "skip the window: -> POWERING_ON") \
	C(BLINKING_ON, DISABLE, c_bon_disable, "cancel -> OFF") \
	C(BLINKING_ON, CONNECT, c_connect, "skip the window: -> POWERING_ON, to stop at CONNECTED") \
	C(BLINKING_ON, UNCONFIGURE, c_bon_disable, "cancel -> OFF (nothing is configured)") \
	HS_PON_COMMON(C, U, PON_POWER) \
	C(PON_POWER, LINK, c_ignore, "ignored: the link is looked at once power is on") \
	C(PON_POWER, CMD, c_pon_powered, "power is on: -> powering-on/link (at once to /settle if the link is already up)") \
	U(PON_POWER, TIMER, "no deadline is armed while the power command is in flight") \
	C(PON_POWER, DONE, c_late_teardown, "late result: devices configured meanwhile are torn down") \
	HS_PON_COMMON(C, U, PON_LINK) \
	C(PON_LINK, LINK, c_pon_link_change, "link up: -> powering-on/settle (the 100 ms); link down: wait for it again") \
	C(PON_LINK, CMD, c_ignore, "nothing (indicators settled)") \
	C(PON_LINK, TIMER, c_pon_link_timer, "link time-out: fail, power off, attention on -> OFF; fixed link wait over: -> powering-on/settle") \
	C(PON_LINK, DONE, c_late_teardown, "late result: devices configured meanwhile are torn down") \
	HS_PON_COMMON(C, U, PON_SETTLE) \
	C(PON_SETTLE, LINK, c_pon_link_lost, "link down: -> powering-on/link, wait for it again") \
	C(PON_SETTLE, CMD, c_ignore, "nothing (indicators settled)") \
	C(PON_SETTLE, TIMER, c_pon_settled, "100 ms over: -> powering-on/ready, ask the card") \
	C(PON_SETTLE, DONE, c_late_teardown, "late result: devices configured meanwhile are torn down") \
	HS_PON_COMMON(C, U, PON_READY) \
	C(PON_READY, LINK, c_pon_link_lost, "link down: -> powering-on/link, wait for it again") \
	C(PON_READY, CMD, c_ignore, "nothing (indicators settled)") \
	C(PON_READY, TIMER, c_pon_ask, "ask the card: an ID -> powering-on/config (CONNECTED for a connect); no answer or Retry Status: ask again, fail at the deadline") \
	C(PON_READY, DONE, c_late_teardown, "late result: devices configured meanwhile are torn down") \
	HS_PON_COMMON(C, U, PON_CONFIG) \
	C(PON_CONFIG, LINK, c_ignore, "ignored: the configuration's own accesses find a card that is gone") \
	C(PON_CONFIG, CMD, c_ignore, "nothing (indicators settled)") \
	U(PON_CONFIG, TIMER, "no deadline is armed while configuring: the readiness poll that led here was the last") \
	C(PON_CONFIG, DONE, c_pon_done, "configured: power indicator on -> ON; failed: unwind, power off, attention on -> OFF") \
	C(ON, PRESENCE, c_on_presence, "card gone: surprise removal -> EMPTY; card there again (reset or exchanged): surprise removal -> OFF, and on again if presence enables the slot") \
	C(ON, LATCH, c_on_latch, "MRL opened: surprise removal -> OFF; cPCI ejector opened: -> POWERING_OFF") \
	C(ON, BUTTON, c_on_button, "-> BLINKING_OFF: power indicator blinks, 5 s window") \
	C(ON, POWER_FAULT, c_fault, "surprise removal -> FAULT") \
	C(ON, LINK, c_on_link, "link down: surprise removal -> OFF, and on again if presence enables the slot") \
	C(ON, CMD, c_ignore, "nothing (indicators settled)") \
	U(ON, TIMER, "no deadline is armed in on") \
	C(ON, DONE, c_ignore, "ignored (late result)") \
	C(ON, ENABLE, c_ok, "already on: done") \
	C(ON, DISABLE, c_disable, "-> POWERING_OFF") \
	C(ON, CONNECT, c_ok, "already connected: done") \
	C(ON, UNCONFIGURE, c_unconfigure, "-> POWERING_OFF, to stop at CONNECTED with power kept") \
	C(BLINKING_OFF, PRESENCE, c_on_presence, "as in ON") \
	C(BLINKING_OFF, LATCH, c_on_latch, "as in ON") \
	C(BLINKING_OFF, BUTTON, c_boff_cancel, "second press: cancel, power indicator on -> ON (CONNECTED if never configured)") \
	C(BLINKING_OFF, POWER_FAULT, c_fault, "surprise removal -> FAULT") \
	C(BLINKING_OFF, LINK, c_on_link, "as in ON") \
	C(BLINKING_OFF, CMD, c_ignore, "nothing (indicator blinking)") \
	C(BLINKING_OFF, TIMER, c_disable, "window over: -> POWERING_OFF") \
	U(BLINKING_OFF, DONE, "no work is outstanding: on came with the slot's own result, and adds queued with it report in the same dispatch") \
	C(BLINKING_OFF, ENABLE, c_boff_enable, "cancel -> ON (from CONNECTED: configure)") \
	C(BLINKING_OFF, DISABLE, c_disable, "skip the window: -> POWERING_OFF") \
	C(BLINKING_OFF, CONNECT, c_boff_connect, "cancel -> ON (CONNECTED if never configured): done") \
	C(BLINKING_OFF, UNCONFIGURE, c_unconfigure, "skip the window: -> POWERING_OFF, to stop at CONNECTED") \
	HS_POFF_COMMON(C, U, POFF_QUIESCE) \
	C(POFF_QUIESCE, PRESENCE, c_poff_pulled, "card gone: surprise removal, the quiesce ends -> EMPTY") \
	C(POFF_QUIESCE, LATCH, c_poff_latch, "MRL opened: surprise removal -> OFF") \
	C(POFF_QUIESCE, LINK, c_poff_link, "link down: surprise removal -> OFF") \
	C(POFF_QUIESCE, CMD, c_ignore, "nothing (indicator blinking)") \
	U(POFF_QUIESCE, TIMER, "no deadline is armed while the drivers quiesce (the core times them out itself)") \
	C(POFF_QUIESCE, DONE, c_poff_done, "drivers gone: link disabled, power off -> powering-off/power (power kept -> CONNECTED for an unconfigure); out of memory: -> powering-off/retry; vetoed: power indicator on -> ON, the reason to the operator") \
	HS_POFF_COMMON(C, U, POFF_POWER) \
	C(POFF_POWER, PRESENCE, c_poff_gone, "card gone: done -> EMPTY") \
	C(POFF_POWER, LATCH, c_ignore, "ignored: power is going off anyway") \
	C(POFF_POWER, LINK, c_ignore, "ignored: the link is disabled with the power") \
	C(POFF_POWER, CMD, c_poff_off, "power is off -> OFF (EMPTY if the card is gone)") \
	U(POFF_POWER, TIMER, "no deadline is armed while the power-off command is in flight") \
	U(POFF_POWER, DONE, "no work is outstanding: the removal's result led here, and nothing was outstanding in on") \
	HS_POFF_COMMON(C, U, POFF_RETRY) \
	C(POFF_RETRY, PRESENCE, c_poff_pulled, "card gone: surprise removal -> EMPTY") \
	C(POFF_RETRY, LATCH, c_poff_latch, "MRL opened: surprise removal -> OFF") \
	C(POFF_RETRY, LINK, c_poff_link, "link down: surprise removal -> OFF") \
	C(POFF_RETRY, CMD, c_ignore, "nothing (indicator blinking)") \
	C(POFF_RETRY, TIMER, c_poff_retry, "try the removal again: -> powering-off/quiesce") \
	U(POFF_RETRY, DONE, "no work is outstanding: the failed removal's result led here and the next is not started") \
	C(FAULT, PRESENCE, c_fault_presence, "card gone: fault cleared -> EMPTY") \
	C(FAULT, LATCH, c_ignore, "ignored (fault latched)") \
	C(FAULT, BUTTON, c_ignore, "ignored (fault latched)") \
	C(FAULT, POWER_FAULT, c_ignore, "ignored (already latched)") \
	C(FAULT, LINK, c_ignore, "ignored (power is off)") \
	C(FAULT, CMD, c_ignore, "nothing (power off, attention on)") \
	U(FAULT, TIMER, "no deadline is armed in fault") \
	C(FAULT, DONE, c_late_teardown, "late result: devices configured meanwhile are torn down") \
	C(FAULT, ENABLE, c_refuse_fault, "refused: power fault latched") \
	C(FAULT, DISABLE, c_fault_ack, "acknowledge the fault: attention off -> OFF (EMPTY if no card)") \
	C(FAULT, CONNECT, c_refuse_fault, "refused: power fault latched") \
	C(FAULT, UNCONFIGURE, c_ok, "nothing is configured (power is off): done") \
	C(CONNECTED, PRESENCE, c_conn_presence, "card gone: power off -> EMPTY; card there again (reset or exchanged): power off -> OFF") \
	C(CONNECTED, LATCH, c_conn_latch, "MRL opened: power off -> OFF; cPCI ejector opened: -> powering-off/power") \
	C(CONNECTED, BUTTON, c_on_button, "-> BLINKING_OFF: power indicator blinks, 5 s window") \
	C(CONNECTED, POWER_FAULT, c_fault, "-> FAULT") \
	C(CONNECTED, LINK, c_conn_link, "link down: power off -> OFF") \
	C(CONNECTED, CMD, c_ignore, "nothing (indicators settled)") \
	U(CONNECTED, TIMER, "no deadline is armed in connected") \
	C(CONNECTED, DONE, c_late_teardown, "late result: devices configured meanwhile are torn down") \
	C(CONNECTED, ENABLE, c_conn_configure, "configure: -> powering-on/config") \
	C(CONNECTED, DISABLE, c_disconnect, "disconnect: power off -> powering-off/power") \
	C(CONNECTED, CONNECT, c_ok, "already connected: done") \
	C(CONNECTED, UNCONFIGURE, c_ok, "not configured: done")

#endif /* HOTSWAP_CORE_SLOT_CELLS_H */
