/*
 * test_pcie_slot.c - the PCI Express slot registers of a simulated port
 * (PCIe Base 7.5.3.9 to 7.5.3.11): every Slot Control and Slot Status bit
 * and its side effect, power gating, link training time, Data Link Layer
 * Link Active, Command Completed timing, the hot-plug interrupt, and each
 * physical action.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "sim_util.h"

#define RP HS_BDF(0, 0, 1, 0)
#define CARD HS_BDF(0, 1, 0, 0)

/* Slot Control */
#define ABPE 0x0001
#define PFDE 0x0002
#define MRLSCE 0x0004
#define PDCE 0x0008
#define CCIE 0x0010
#define HPIE 0x0020
#define AIC_ON 0x0040
#define AIC_BLINK 0x0080
#define AIC_OFF 0x00c0
#define PIC_ON 0x0100
#define PIC_BLINK 0x0200
#define PIC_OFF 0x0300
#define PCC 0x0400
#define EIC 0x0800
#define DLLSCE 0x1000
/* Slot Status */
#define ABP 0x0001
#define PFD 0x0002
#define MRLSC 0x0004
#define PDC 0x0008
#define CC 0x0010
#define MRLSS 0x0020
#define PDS 0x0040
#define EIS 0x0080
#define DLLSC 0x0100

static struct tu t;
static struct sim_slot *slot;
static uint16_t px;

static void make_port(void (*tweak)(struct sim_slot_features *))
{
	struct sim_port_spec ps = { .type = SIM_PORT_ROOT, .vendor = 0x8086,
				    .device = 0x7c00, .has_slot = true,
				    .phys_slot = 7 };
	struct sim_fn *fn;
	int err = 0;

	tu_init(&t, NULL);
	sim_slot_features_default(&ps.slot);
	ps.slot.interlock = true;
	if (tweak)
		tweak(&ps.slot);
	fn = sim_add_pcie_port(sim_root_bus(t.sim), 1, 0, &ps, &err);
	assert_non_null(fn);
	slot = sim_fn_slot(fn);
	assert_non_null(slot);
	tu_bridge_bus(&t, RP, 0, 1, 1);
	px = tu_cap(&t, RP, 0x10);
}

static int teardown(void **state)
{
	(void)state;
	tu_fini(&t);
	return 0;
}

static uint16_t sltctl(void) { return tu_rd16(&t, RP, px + 0x18); }
static uint16_t sltsta(void) { return tu_rd16(&t, RP, px + 0x1a); }
static uint16_t lnksta(void) { return tu_rd16(&t, RP, px + 0x12); }
static void set_sltctl(uint16_t v) { tu_wr16(&t, RP, px + 0x18, v); }
static void clear_sta(uint16_t bits) { tu_wr16(&t, RP, px + 0x1a, bits); }

static struct sim_slot_info info(void)
{
	struct sim_slot_info i;

	sim_slot_get_info(slot, &i);
	return i;
}

static void test_capabilities_reflect_features(void **state)
{
	uint32_t cap;

	(void)state;
	make_port(NULL);
	/* PCIe Capabilities: root port (4), slot implemented. */
	assert_int_equal(tu_rd16(&t, RP, px + 2) & 0x1f0, 0x140);
	cap = tu_rd32(&t, RP, px + 0x14);
	/* button, power ctl, MRL, both indicators, HP capable, EIP, slot 7 */
	assert_int_equal(cap, 0x0002005fu | (7u << 19));
	assert_true(tu_rd32(&t, RP, px + 0x0c) & (1u << 20));
	/* Out of reset: power off, both indicators off. */
	assert_int_equal(sltctl(), PCC | PIC_OFF | AIC_OFF);
	assert_int_equal(sltsta(), 0);
	tu_fini(&t);
}

static void no_button_no_power(struct sim_slot_features *f)
{
	f->attention_button = false;
	f->power_controller = false;
	f->mrl_sensor = false;
	f->attention_indicator = false;
	f->power_indicator = false;
	f->interlock = false;
	f->no_cmd_completed = true;
	f->dll_active_reporting = false;
}

static void test_minimal_slot(void **state)
{
	(void)state;
	make_port(no_button_no_power);
	assert_int_equal(tu_rd32(&t, RP, px + 0x14), 0x00040040u | (7u << 19));
	assert_false(tu_rd32(&t, RP, px + 0x0c) & (1u << 20));
	/* Controls that have no hardware behind them do not stick. */
	set_sltctl(0xffff);
	assert_int_equal(sltctl(), PDCE | HPIE);
	/* No power controller: a card is powered as it seats, and trains. */
	assert_int_equal(sim_insert(slot, &tu_card_nic), 0);
	assert_true(sltsta() & PDS);
	sim_advance(t.sim, HS_MSEC(20));
	assert_int_equal(tu_rd16(&t, CARD, 0), 0x8086);
	/* The port can't report link state, so DLLLA and DLLSC stay 0. */
	assert_false(lnksta() & 0x2000);
	assert_false(sltsta() & DLLSC);
	/* No Command Completed Support: writes never set CC. */
	set_sltctl(PDCE);
	sim_advance(t.sim, HS_SEC(1));
	assert_false(sltsta() & CC);
	assert_int_equal(sim_press_button(slot), -HS_ENOTSUP);
	assert_int_equal(sim_set_latch(slot, true), -HS_ENOTSUP);
	tu_fini(&t);
}

static void test_power_gates_card_and_link_training_time(void **state)
{
	struct sim_slot_info i;

	(void)state;
	make_port(NULL);
	assert_int_equal(sim_insert(slot, &tu_card_nic), 0);
	assert_int_equal(sltsta() & (PDS | PDC), PDS | PDC);
	/* Present but unpowered: the card does not answer. */
	assert_int_equal(tu_rd32(&t, CARD, 0), 0xffffffff);
	i = info();
	assert_true(i.present);
	assert_false(i.powered);
	/* Power on; link training takes 20 ms (the default). */
	set_sltctl(PIC_ON | AIC_OFF);
	assert_true(info().powered);
	assert_true(lnksta() & 0x0800);             /* Link Training */
	sim_advance(t.sim, HS_USEC(19999));
	assert_int_equal(tu_rd32(&t, CARD, 0), 0xffffffff);
	assert_false(lnksta() & 0x2000);
	sim_advance(t.sim, HS_USEC(1));
	assert_true(lnksta() & 0x2000);             /* DLLLA */
	assert_false(lnksta() & 0x0800);
	assert_true(sltsta() & DLLSC);
	assert_int_equal(tu_rd32(&t, CARD, 0), 0x10d38086);
	/* Software configures the card, then power goes away: the card
	 * vanishes and comes back reset (BAR cleared). */
	tu_wr32(&t, CARD, 0x10, 0x80000000);
	clear_sta(DLLSC);
	set_sltctl(PCC | PIC_OFF | AIC_OFF);
	assert_int_equal(tu_rd32(&t, CARD, 0), 0xffffffff);
	assert_false(lnksta() & 0x2000);
	assert_true(sltsta() & DLLSC);
	assert_false(info().powered);
	set_sltctl(PIC_ON | AIC_OFF);
	sim_advance(t.sim, HS_MSEC(20));
	assert_int_equal(tu_rd32(&t, CARD, 0x10), 0);
	tu_fini(&t);
}

static void slow_link(struct sim_slot_features *f)
{
	f->link_train_us = 150000;
	f->power_delay_us = 5000;
}

static void test_configurable_training_and_power_delay(void **state)
{
	(void)state;
	make_port(slow_link);
	assert_int_equal(sim_insert(slot, &tu_card_nic), 0);
	set_sltctl(PIC_ON | AIC_OFF);
	sim_advance(t.sim, HS_USEC(154999));
	assert_false(lnksta() & 0x2000);
	sim_advance(t.sim, HS_USEC(1));
	assert_true(lnksta() & 0x2000);
	tu_fini(&t);
}

static void test_indicators_and_command_completed(void **state)
{
	(void)state;
	make_port(NULL);
	set_sltctl(PCC | PIC_BLINK | AIC_ON);
	assert_int_equal(info().power_ind, SIM_IND_BLINK);
	assert_int_equal(info().attn_ind, SIM_IND_ON);
	/* Command Completed after the 1 ms command time, not before. */
	sim_advance(t.sim, HS_USEC(999));
	assert_false(sltsta() & CC);
	sim_advance(t.sim, HS_USEC(1));
	assert_true(sltsta() & CC);
	clear_sta(CC);
	assert_false(sltsta() & CC);
	set_sltctl(PCC | PIC_ON | AIC_BLINK);
	assert_int_equal(info().power_ind, SIM_IND_ON);
	assert_int_equal(info().attn_ind, SIM_IND_BLINK);
	/* 00b is reserved: the indicator keeps its state. */
	set_sltctl(PCC);
	assert_int_equal(info().power_ind, SIM_IND_ON);
	set_sltctl(PCC | PIC_OFF | AIC_OFF);
	assert_int_equal(info().power_ind, SIM_IND_OFF);
	assert_int_equal(info().attn_ind, SIM_IND_OFF);
	tu_fini(&t);
}

static void test_interlock_toggles(void **state)
{
	(void)state;
	make_port(NULL);
	assert_int_equal(sim_insert(slot, &tu_card_nic), 0);
	set_sltctl(PCC | PIC_OFF | AIC_OFF | EIC);
	assert_true(sltsta() & EIS);
	assert_true(info().interlock_engaged);
	/* EIC always reads 0. */
	assert_false(sltctl() & EIC);
	/* The interlock holds the card. */
	assert_int_equal(sim_remove(slot, SIM_REMOVE_ORDERLY), -HS_EBUSY);
	assert_int_equal(sim_set_latch(slot, true), -HS_EBUSY);
	set_sltctl(PCC | PIC_OFF | AIC_OFF | EIC);
	assert_false(sltsta() & EIS);
	assert_int_equal(sim_remove(slot, SIM_REMOVE_ORDERLY), 0);
	tu_fini(&t);
}

static int irqs;

static void on_irq(void *arg, const struct hs_irq *irq)
{
	(void)arg;
	(void)irq;
	irqs++;
}

static struct hs_irq attach_msi(void)
{
	struct hs_irq irq = { HS_IRQ_MSI, 0 };
	struct hs_msi_msg msg;
	uint16_t msi = tu_cap(&t, RP, 0x05);

	assert_int_equal(t.plat.ops->msi_alloc(t.plat.ctx, 1, &irq.number), 0);
	t.plat.ops->msi_message(t.plat.ctx, RP, irq.number, &msg);
	assert_int_equal(t.plat.ops->irq_attach(t.plat.ctx, &irq, on_irq, NULL), 0);
	tu_wr32(&t, RP, msi + 4, (uint32_t)msg.address);
	tu_wr16(&t, RP, msi + 8, (uint16_t)msg.data);
	tu_wr16(&t, RP, msi + 2, 1);
	tu_cmd(&t, RP, 4); /* the port's MSI is a memory write upstream */
	return irq;
}

static void test_each_event_interrupts_when_enabled(void **state)
{
	(void)state;
	make_port(NULL);
	irqs = 0;
	attach_msi();
	/* Events latched but not enabled: no interrupt. */
	assert_int_equal(sim_press_button(slot), 0);
	assert_true(sltsta() & ABP);
	assert_int_equal(irqs, 0);
	clear_sta(0xffff);
	/* Enabled and HPIE: one MSI on the rising edge. */
	set_sltctl(PCC | PIC_OFF | AIC_OFF | ABPE | PFDE | MRLSCE | PDCE |
		   DLLSCE | HPIE);
	sim_advance(t.sim, HS_MSEC(1));
	clear_sta(CC);
	assert_int_equal(sim_press_button(slot), 0);
	assert_int_equal(irqs, 1);
	/* A second event while the first is pending sends nothing... */
	assert_int_equal(sim_insert(slot, &tu_card_nic), 0);
	assert_int_equal(irqs, 1);
	assert_int_equal(sltsta() & (ABP | PDC | PDS), ABP | PDC | PDS);
	/* ...until software clears every enabled event. */
	clear_sta(ABP | PDC);
	assert_int_equal(sim_set_latch(slot, true), 0);
	assert_int_equal(irqs, 2);
	assert_true(sltsta() & MRLSS);
	assert_true(sltsta() & MRLSC);
	clear_sta(MRLSC);
	assert_int_equal(sim_set_latch(slot, false), 0);
	assert_int_equal(irqs, 3);
	assert_false(sltsta() & MRLSS);
	clear_sta(MRLSC);
	/* Command Completed interrupts only with CCIE. */
	set_sltctl(PCC | PIC_OFF | AIC_OFF | ABPE | PFDE | MRLSCE | PDCE |
		   DLLSCE | HPIE | CCIE);
	sim_advance(t.sim, HS_MSEC(1));
	assert_int_equal(irqs, 4);
	clear_sta(CC);
	/* Power on: link up raises DLLSC. */
	set_sltctl(PIC_ON | AIC_OFF | ABPE | PFDE | MRLSCE | PDCE | DLLSCE |
		   HPIE);
	sim_advance(t.sim, HS_MSEC(1));
	clear_sta(CC);
	sim_advance(t.sim, HS_MSEC(20));
	assert_true(sltsta() & DLLSC);
	assert_int_equal(irqs, 5);
	clear_sta(DLLSC);
	/* Power fault: latched, power cut, card gone. */
	assert_int_equal(sim_inject_power_fault(slot), 0);
	assert_true(sltsta() & PFD);
	assert_false(info().powered);
	assert_true(info().power_fault);
	assert_int_equal(tu_rd32(&t, CARD, 0), 0xffffffff);
	assert_int_equal(irqs, 6);
	/* HPIE off: nothing more. */
	clear_sta(0xffff);
	set_sltctl(PCC | PIC_OFF | AIC_OFF | ABPE);
	sim_advance(t.sim, HS_MSEC(1));
	assert_int_equal(sim_press_button(slot), 0);
	assert_int_equal(irqs, 6);
	tu_fini(&t);
}

static void test_intx_is_a_level(void **state)
{
	struct hs_irq line = { HS_IRQ_INTX, 0 };

	(void)state;
	make_port(NULL);
	irqs = 0;
	t.plat.ops->intx_route(t.plat.ctx, RP, 1, &line.number);
	assert_int_equal(t.plat.ops->irq_attach(t.plat.ctx, &line, on_irq, NULL), 0);
	set_sltctl(PCC | PIC_OFF | AIC_OFF | ABPE | HPIE);
	assert_int_equal(sim_press_button(slot), 0);
	assert_int_equal(irqs, 1);
	assert_true(tu_rd16(&t, RP, 0x06) & 0x08);
	clear_sta(ABP);
	assert_false(tu_rd16(&t, RP, 0x06) & 0x08);
	assert_int_equal(sim_press_button(slot), 0);
	assert_int_equal(irqs, 2);
	tu_fini(&t);
}

static void test_surprise_and_orderly_removal(void **state)
{
	(void)state;
	make_port(NULL);
	assert_int_equal(sim_insert(slot, &tu_card_nic), 0);
	set_sltctl(PIC_ON | AIC_OFF);
	sim_advance(t.sim, HS_MSEC(20));
	clear_sta(0xffff);
	assert_int_equal(tu_rd16(&t, CARD, 0), 0x8086);
	/* Surprise: presence and link drop together, latch stays closed. */
	assert_int_equal(sim_remove(slot, SIM_REMOVE_SURPRISE), 0);
	assert_int_equal(sltsta() & (PDS | PDC | DLLSC | MRLSC), PDC | DLLSC);
	assert_int_equal(tu_rd16(&t, CARD, 0), 0xffff);
	assert_int_equal(sim_remove(slot, SIM_REMOVE_SURPRISE), -HS_ENOENT);
	clear_sta(0xffff);
	/* Orderly: the MRL opens first (power is cut), then the card goes. */
	assert_int_equal(sim_insert(slot, &tu_card_nic), 0);
	sim_advance(t.sim, HS_MSEC(20)); /* slot still has power: trains */
	assert_int_equal(tu_rd16(&t, CARD, 0), 0x8086);
	clear_sta(0xffff);
	assert_int_equal(sim_remove(slot, SIM_REMOVE_ORDERLY), 0);
	assert_int_equal(sltsta() & (PDS | PDC | MRLSC | MRLSS),
			 PDC | MRLSC | MRLSS);
	assert_false(info().present);
	tu_fini(&t);
}

static void test_mrl_open_cuts_power(void **state)
{
	(void)state;
	make_port(NULL);
	assert_int_equal(sim_insert(slot, &tu_card_nic), 0);
	set_sltctl(PIC_ON | AIC_OFF);
	sim_advance(t.sim, HS_MSEC(20));
	assert_int_equal(sim_set_latch(slot, true), 0);
	assert_false(info().powered);
	assert_int_equal(tu_rd16(&t, CARD, 0), 0xffff);
	assert_int_equal(sim_set_latch(slot, false), 0);
	sim_advance(t.sim, HS_MSEC(20));
	assert_int_equal(tu_rd16(&t, CARD, 0), 0x8086);
	tu_fini(&t);
}

static void test_link_fail_hang_and_disable(void **state)
{
	(void)state;
	make_port(NULL);
	assert_int_equal(sim_insert(slot, &tu_card_nic), 0);
	assert_int_equal(sim_set_link_fail(slot, true), 0);
	set_sltctl(PIC_ON | AIC_OFF);
	sim_advance(t.sim, HS_SEC(2));
	assert_false(lnksta() & 0x2000);
	assert_true(lnksta() & 0x0800);   /* still training */
	assert_int_equal(tu_rd16(&t, CARD, 0), 0xffff);
	/* The link trains again after a power cycle once it is fixed. */
	assert_int_equal(sim_set_link_fail(slot, false), 0);
	set_sltctl(PCC | PIC_OFF | AIC_OFF);
	set_sltctl(PIC_ON | AIC_OFF);
	sim_advance(t.sim, HS_MSEC(20));
	assert_int_equal(tu_rd16(&t, CARD, 0), 0x8086);
	/* Link Disable takes the card off the bus; clearing retrains. */
	tu_wr16(&t, RP, px + 0x10, 0x0010);
	assert_false(lnksta() & 0x2000);
	assert_int_equal(tu_rd16(&t, CARD, 0), 0xffff);
	tu_wr16(&t, RP, px + 0x10, 0);
	sim_advance(t.sim, HS_MSEC(20));
	assert_int_equal(tu_rd16(&t, CARD, 0), 0x8086);
	/* A hung card stops answering while the link stays up. */
	assert_int_equal(sim_card_hang(slot), 0);
	assert_int_equal(tu_rd16(&t, CARD, 0), 0xffff);
	assert_true(lnksta() & 0x2000);
	tu_fini(&t);
}

static void test_presence_bounce_settles(void **state)
{
	int flips = 0;
	bool last;

	(void)state;
	make_port(NULL);
	assert_int_equal(sim_insert(slot, &tu_card_nic), 0);
	clear_sta(0xffff);
	/* Presence bounces every 2 ms for 50 ms. */
	assert_int_equal(sim_bounce(slot, false, 2000, 50000), 0);
	last = sltsta() & PDS;
	for (int i = 0; i < 60; i++) {
		sim_advance(t.sim, HS_MSEC(1));
		if (((sltsta() & PDS) != 0) != last)
			flips++;
		last = sltsta() & PDS;
	}
	assert_true(flips >= 20);
	/* It settles on the truth: present. */
	assert_true(sltsta() & PDS);
	assert_true(sltsta() & PDC);
	tu_fini(&t);
}

static void test_link_bounce(void **state)
{
	(void)state;
	make_port(NULL);
	assert_int_equal(sim_insert(slot, &tu_card_nic), 0);
	set_sltctl(PIC_ON | AIC_OFF);
	sim_advance(t.sim, HS_MSEC(20));
	clear_sta(0xffff);
	assert_int_equal(sim_bounce(slot, true, 1000, 10000), 0);
	assert_false(lnksta() & 0x2000);
	assert_int_equal(tu_rd16(&t, CARD, 0), 0xffff);
	sim_advance(t.sim, HS_MSEC(1));
	assert_true(lnksta() & 0x2000);
	sim_advance(t.sim, HS_MSEC(20));
	assert_true(lnksta() & 0x2000);
	assert_int_equal(tu_rd16(&t, CARD, 0), 0x8086);
	tu_fini(&t);
}

static void test_crs_after_link_up(void **state)
{
	uint32_t v;

	(void)state;
	make_port(NULL);
	assert_int_equal(sim_insert(slot, &tu_card_crs), 0);
	set_sltctl(PIC_ON | AIC_OFF);
	sim_advance(t.sim, HS_MSEC(20));
	/* Without CRS Software Visibility the root complex gives up: ~0. */
	assert_int_equal(tu_rd32(&t, CARD, 0), 0xffffffff);
	/* With it, a Vendor ID read completes as 0001h. */
	tu_wr16(&t, RP, px + 0x1c, 0x10);
	v = tu_rd32(&t, CARD, 0);
	assert_int_equal(v, 0xffff0001);
	assert_int_equal(tu_rd16(&t, CARD, 0), 0x0001);
	sim_advance(t.sim, HS_USEC(299999));
	assert_int_equal(tu_rd16(&t, CARD, 0), 0x0001);
	sim_advance(t.sim, HS_USEC(1));
	assert_int_equal(tu_rd16(&t, CARD, 0), 0x1b36);
	tu_fini(&t);
}

static void test_coldplug_is_as_firmware_left_it(void **state)
{
	(void)state;
	make_port(NULL);
	assert_int_equal(sim_coldplug(slot, &tu_card_nic), 0);
	assert_int_equal(sltsta(), PDS);
	assert_false(sltctl() & PCC);
	assert_int_equal(info().power_ind, SIM_IND_ON);
	assert_true(lnksta() & 0x2000);
	assert_int_equal(tu_rd16(&t, CARD, 0), 0x8086);
	assert_int_equal(sim_coldplug(slot, &tu_card_nic), -HS_EBUSY);
	assert_int_equal(sim_insert(slot, &tu_card_nic), -HS_EBUSY);
	tu_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capabilities_reflect_features),
		cmocka_unit_test(test_minimal_slot),
		cmocka_unit_test(test_power_gates_card_and_link_training_time),
		cmocka_unit_test(test_configurable_training_and_power_delay),
		cmocka_unit_test(test_indicators_and_command_completed),
		cmocka_unit_test(test_interlock_toggles),
		cmocka_unit_test(test_each_event_interrupts_when_enabled),
		cmocka_unit_test(test_intx_is_a_level),
		cmocka_unit_test(test_surprise_and_orderly_removal),
		cmocka_unit_test(test_mrl_open_cuts_power),
		cmocka_unit_test(test_link_fail_hang_and_disable),
		cmocka_unit_test(test_presence_bounce_settles),
		cmocka_unit_test(test_link_bounce),
		cmocka_unit_test(test_crs_after_link_up),
		cmocka_unit_test(test_coldplug_is_as_firmware_left_it),
	};

	(void)teardown;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
