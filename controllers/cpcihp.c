/*
 * cpcihp.c - the CompactPCI hot swap controller driver (PICMG 2.1).
 *
 * Owns: the system slot's side of CompactPCI hot swap on one backplane
 * segment (the bridge the system board puts in front of it): the boards'
 * Hot Swap Control/Status registers (capability 06h + 2: INS, EXT, the
 * blue LED's LOO), the bussed ENUM# line the platform wires to an
 * interrupt (platform op enum_line), and, on a high-availability
 * backplane, the slot power register block in the bridge's BAR0 (slot
 * power, HEALTHY#, BD_SEL# presence and its interrupt on INTA#).  One
 * hs_hpc for the segment.  It speaks only registers; the slot state
 * machine in the core decides.
 *
 * The PICMG 2.1 flow as the core sees it:
 *  - A board seated and out of reset with its ejector handle closed sets
 *    INS and asserts ENUM#.  collect() clears INS and reports a new board
 *    (presence and link); the core configures it, and the blue LED goes
 *    off (LOO = 0: the board is in use).
 *  - Opening the handle sets EXT: collect() clears it, remembers the
 *    handle as open and reports the latch; the slot has
 *    HS_SLOT_CAP_LATCH_ASKS, so the core takes that as a removal request:
 *    drivers quiesce, the board is unconfigured, and the power indicator
 *    "off" lights the blue LED (LOO = 1: safe to remove), before the slot
 *    power goes off on a high-availability backplane.
 *  - Closing the handle again sets INS on a board already known: that is
 *    the latch closing (the core brings the board back if its policy
 *    says so).
 *  - On a high-availability backplane a seated board waits, unpowered,
 *    until the core switches its slot on (PWR_EN); then it runs its
 *    hardware connection and sets INS.  INS is acknowledged when the
 *    board is configured if collect() has not seen it by then: while INS
 *    is set the hardware does not set EXT, and an ejector opened in that
 *    window would go unseen.
 *  - A board that is pulled raises nothing on ENUM#.  Without the
 *    high-availability block it is found by polling (HS_HPC_POLL_REMOVAL):
 *    its configuration reads come back all ones.  If its blue LED was not
 *    lit, it was improperly removed, and the report says so.
 *
 * Slot layout.  With the high-availability block, HS_HA_CAPS gives the
 * number of slots, the device number of the first and its physical
 * number.  Without it no register says which device numbers of the
 * segment have connectors: PICMG 2.0 routes each slot's IDSEL to an AD
 * line of the backplane's choosing, and the geographic address (the
 * physical slot number) is visible only to the board.  Scanning at probe
 * time finds only the boards already seated, not the empty connectors
 * that matter for hot swap.  So a segment without the block gets one
 * slot per device number, 0 to 31, each named by its device number (as
 * Linux's cpci_hotplug names its slots by bus:device); a board appearing
 * at any IDSEL is found, unless the platform knows how its backplane is
 * wired and says so (the optional platform op backplane).
 *
 * ENUM# is bussed, and a chassis may wire the ENUM# of several segments
 * to one platform line.  The platform takes one handler per line: the
 * first segment's instance holds it, the others join its list, and an
 * assertion makes every instance on the line look at its boards.
 *
 * Every slot is also polled in interrupt mode (HS_HPC_POLL_REMOVAL):
 * without the block nothing tells of a pulled board; with it, HEALTHY#
 * (a power fault) has no interrupt of its own, and the presence
 * interrupt (INTA#) may be unavailable (a shared line another device
 * holds: then the poll finds presence changes, ENUM# still interrupts).
 * Without ENUM# wired, or with the core polling, everything is polled.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hotswap/cpci_regs.h"
#include "hotswap/hpc.h"

#include "controllers.h"

/* Configuration header (PCI Local Bus 3.0, 6.1). */
#define CFG_VENDOR   0x00
#define CFG_STATUS   0x06
#define CFG_CAP_PTR  0x34
#define STATUS_CAPS  0x0010

/* The Hot Swap register's write-1-to-clear bits (hotswap/cpci_regs.h). */
#define HS_W1C   (HS_CPCI_INS | HS_CPCI_EXT)

/* Capabilities that say "not this driver's bridge". */
#define CAP_PCIE 0x10
#define CAP_SHPC 0x0c

#define MAX_SLOTS 32u

static const char improper[] = "board reads all ones: improperly removed";

struct cpci_slot {
	uint16_t cap;       /* Hot Swap capability of the board last seen */
	bool up;            /* the board answered at the last look */
	bool ext_open;      /* handle opened (EXT), not closed since */
	bool lit;           /* blue LED as last commanded (lit: off) */
	bool loo;           /* LOO as last read from the board */
	bool in_use;        /* configured */
	bool fault_seen;    /* HA: HEALTHY# lost, reported */
};

enum enum_role { ENUM_NONE = 0, ENUM_OWNER, ENUM_SHARER };

struct cpcihp {
	struct hs_dev *br;
	struct hs_hpc *hpc;
	bool ha;                   /* high-availability power block */
	bool laid_out;             /* the platform gave the slot layout */
	bool ha_irq;               /* the bridge's INTA# is ours */
	unsigned nslots;
	enum enum_role role;
	struct hs_irq enum_irq;
	struct cpcihp *enum_owner; /* sharer: who holds the line */
	struct cpcihp *enum_next;  /* owner: the sharers, in a list */
	struct cpci_slot slot[MAX_SLOTS];
};

/* ---- register access ------------------------------------------------------ */

static int ha_rd(struct cpcihp *c, uint32_t off, uint32_t *v)
{
	return hs_dev_read32(c->br, 0, off, v);
}

static int ha_wr(struct cpcihp *c, uint32_t off, uint32_t v)
{
	return hs_dev_write32(c->br, 0, off, v);
}

static int brd_rd(struct cpcihp *c, unsigned n, uint16_t off, unsigned width,
		  uint32_t *v)
{
	return hs_hpc_cfg_read(c->hpc, n, 0, off, width, v);
}

static int brd_wr(struct cpcihp *c, unsigned n, uint16_t off, unsigned width,
		  uint32_t v)
{
	return hs_hpc_cfg_write(c->hpc, n, 0, off, width, v);
}

/* Does a board answer at the slot's device number? */
static bool answers(struct cpcihp *c, unsigned n)
{
	uint32_t v;

	return brd_rd(c, n, CFG_VENDOR, 2, &v) == 0 && v != 0xffff && v != 0;
}

/* The board's Hot Swap capability (0: it has none, or it is gone).  The
 * board may have been swapped since the last look: a remembered offset
 * is checked before it is trusted. */
static uint16_t hs_cap(struct cpcihp *c, unsigned n)
{
	struct cpci_slot *s = &c->slot[n];
	uint32_t v;
	uint16_t at;

	if (s->cap && brd_rd(c, n, s->cap, 1, &v) == 0 && v == HS_CPCI_CAP_ID)
		return s->cap;
	s->cap = 0;
	if (brd_rd(c, n, CFG_STATUS, 2, &v) || v == 0xffff ||
	    !(v & STATUS_CAPS) || brd_rd(c, n, CFG_CAP_PTR, 1, &v))
		return 0;
	at = (uint16_t)(v & 0xfc);
	/* 48 entries fit in the header: more is a loop. */
	for (unsigned i = 0; i < 48 && at >= 0x40; i++) {
		if (brd_rd(c, n, at, 2, &v) || v == 0xffff)
			return 0;
		if ((v & 0xff) == HS_CPCI_CAP_ID) {
			s->cap = at;
			return at;
		}
		at = (uint16_t)((v >> 8) & 0xfc);
	}
	return 0;
}

/* Read the Control/Status register; false when there is none. */
static bool csr_read(struct cpcihp *c, unsigned n, uint16_t *at, uint32_t *csr)
{
	uint16_t cap = hs_cap(c, n);

	if (!cap)
		return false;
	*at = (uint16_t)(cap + HS_CPCI_CSR);
	return brd_rd(c, n, *at, 1, csr) == 0 && *csr != 0xff;
}

/* Write the Control/Status register: clear the W1C bits in ack, set LOO
 * as lit says, leave the rest (EIM) as it is. */
static void csr_write(struct cpcihp *c, unsigned n, uint16_t at, uint32_t csr,
		      uint32_t ack, bool lit)
{
	uint32_t v = (csr & ~(uint32_t)(HS_W1C | HS_CPCI_LOO)) | (ack & HS_W1C);

	if (lit)
		v |= HS_CPCI_LOO;
	brd_wr(c, n, at, 1, v);
	c->slot[n].loo = lit;
}

/* The blue LED: it lives on the board, so a board that is not there (or
 * not powered) keeps nothing. */
static void set_led(struct cpcihp *c, unsigned n, bool lit)
{
	uint32_t csr;
	uint16_t at;

	if (csr_read(c, n, &at, &csr) && ((csr & HS_CPCI_LOO) != 0) != lit)
		csr_write(c, n, at, csr, 0, lit);
}

static int ha_power(struct cpcihp *c, unsigned n, bool on)
{
	uint32_t r;
	int rc;

	if ((rc = ha_rd(c, HS_HA_SLOT(n), &r)))
		return rc;
	if (r == 0xffffffffu)
		return -HS_ENODEV;
	/* PRSNT_CHG is written 0: left as it is. */
	r &= HS_HA_SLOT_RW & ~HS_HA_PWR_EN;
	return ha_wr(c, HS_HA_SLOT(n), r | (on ? HS_HA_PWR_EN : 0));
}

/* ---- the ops --------------------------------------------------------------- */

static int cpci_status(void *priv, unsigned n, struct hs_slot_status *st)
{
	struct cpcihp *c = priv;
	struct cpci_slot *s = &c->slot[n];
	uint32_t r = 0, csr;
	uint16_t at;
	bool up = answers(c, n);
	int rc;

	if (c->ha) {
		if ((rc = ha_rd(c, HS_HA_SLOT(n), &r)))
			return rc;
		if (r == 0xffffffffu)
			return -HS_ENODEV; /* the bridge itself is gone */
		st->present = r & HS_HA_PRESENT;
		st->powered = r & HS_HA_PWR_EN;
		st->power_fault = st->present && st->powered &&
				  !(r & HS_HA_HEALTHY);
	} else {
		/* The backplane powers every seated board. */
		st->present = up;
		st->powered = up;
		st->power_fault = false;
	}
	st->link_up = up;
	/* The handle is open while EXT is set, and stays open for us after
	 * collect() cleared EXT, until INS says it closed again.  A board we
	 * powered off cannot say (its register is dark): the handle is as it
	 * was last seen, open when it asked for the extraction. */
	st->latch_open = up ? s->ext_open ||
				      (csr_read(c, n, &at, &csr) &&
				       (csr & HS_CPCI_EXT))
			    : st->present && s->ext_open;
	st->interlock = false;
	return 0;
}

static int cpci_command(void *priv, unsigned n, const struct hs_slot_cmd *cmd)
{
	struct cpcihp *c = priv;
	struct cpci_slot *s = &c->slot[n];
	int rc = 0;

	/* The blue LED is the inverse of a power indicator: lit means the
	 * board may be pulled; on or blinking means it may not. */
	if (cmd->power_ind != HS_KEEP)
		s->lit = cmd->power_ind == HS_IND_OFF;
	if (cmd->power == 0) {
		/* LED first, then the power: the LED is on the board. */
		if (cmd->power_ind != HS_KEEP)
			set_led(c, n, s->lit);
		if (c->ha) {
			rc = ha_power(c, n, false);
			/* Off by our hand, not pulled: the handle stays as
			 * last seen until the board leaves or is powered
			 * again, when it tells its handle anew (INS, or the
			 * LED the hardware lights while it is open). */
			s->up = false;
		}
		return rc;
	}
	if (cmd->power == 1 && c->ha) {
		s->ext_open = false;
		if ((rc = ha_power(c, n, true)))
			return rc;
	}
	if (cmd->power_ind != HS_KEEP)
		set_led(c, n, s->lit);
	return 0;
}

static void cpci_configured(void *priv, unsigned n, bool yes)
{
	struct cpcihp *c = priv;
	struct cpci_slot *s = &c->slot[n];
	uint32_t csr;
	uint16_t at;

	s->in_use = yes;
	if (!yes)
		return;
	/* Configured: the software connection is made, and INS, if no
	 * collect() saw it yet (the board was powered by our command, or
	 * the core polls), is acknowledged now: while INS is set the
	 * hardware does not set EXT, and an ejector opened then would go
	 * unseen.  PICMG 2.1: the LED goes off once the board is
	 * configured. */
	s->lit = false;
	s->up = answers(c, n);
	if (s->up && csr_read(c, n, &at, &csr)) {
		if (csr & HS_CPCI_INS)
			s->ext_open = false; /* the handle is closed */
		if ((csr & (HS_CPCI_INS | HS_CPCI_LOO)))
			csr_write(c, n, at, csr, csr & HS_CPCI_INS, false);
	}
}

/* One slot: acknowledge and report what its board and the HA block
 * latched.  Returns whether INS or EXT was found set. */
static bool collect_slot(struct cpcihp *c, unsigned n)
{
	struct cpci_slot *s = &c->slot[n];
	bool powered = true, found = false;
	const char *note = NULL;
	unsigned ev = 0;
	uint32_t r = 0, csr;
	uint16_t at;

	if (c->ha) {
		if (ha_rd(c, HS_HA_SLOT(n), &r) || r == 0xffffffffu) {
			hs_hpc_collect_failed(c->hpc);
			return false;
		}
		if (r & HS_HA_PRSNT_CHG) {
			ha_wr(c, HS_HA_SLOT(n), (r & HS_HA_SLOT_RW) | HS_HA_PRSNT_CHG);
			ev |= HS_HW_PRESENCE;
			if (!(r & HS_HA_PRESENT) && s->up && !s->loo)
				note = improper;
		}
		powered = r & HS_HA_PWR_EN;
		/* HEALTHY# lost on a powered board: a power fault. */
		if ((r & HS_HA_PRESENT) && powered && !(r & HS_HA_HEALTHY)) {
			if (!s->fault_seen)
				ev |= HS_HW_POWER_FAULT;
			s->fault_seen = true;
		} else {
			s->fault_seen = false;
		}
	}
	if (!answers(c, n)) {
		if (s->up && powered && c->ha && (r & HS_HA_PRESENT)) {
			/* Still seated and switched on, but silent: it lost
			 * its power (reported above) or hung. */
			ev |= HS_HW_LINK;
		} else if (s->up && powered) {
			/* Pulled, and nothing raised ENUM# for it. */
			ev |= HS_HW_PRESENCE | HS_HW_LINK;
			if (!s->loo)
				note = improper;
		}
		s->up = false;
		/* The handle's last known state outlives the power we took
		 * away (the operator opened it to ask for the extraction);
		 * a board that left forgets it. */
		if (!c->ha || !(r & HS_HA_PRESENT))
			s->ext_open = false;
	} else {
		bool was_up = s->up;

		s->up = true;
		if (!was_up)
			ev |= HS_HW_PRESENCE | HS_HW_LINK;
		if (csr_read(c, n, &at, &csr)) {
			uint32_t ack = csr & HS_W1C;
			bool lit = csr & HS_CPCI_LOO;

			/* A board fresh out of reset with its handle closed
			 * (INS) has its LED register reset too: it gets the
			 * last commanded state.  (With the handle open the
			 * board's hardware drives the LED.) */
			if (!was_up && (csr & HS_CPCI_INS))
				lit = s->lit;
			if (ack || lit != ((csr & HS_CPCI_LOO) != 0))
				csr_write(c, n, at, csr, ack, lit);
			s->loo = lit;
			if (csr & HS_CPCI_INS) {
				/* A board we knew: its handle closed again
				 * after it asked for the extraction.  A
				 * board that asked nothing and announces
				 * itself anew ran its hardware connection
				 * again: it was reset (BD_SEL# bounced), or
				 * exchanged between two looks (PICMG 2.1,
				 * 3.1): a new board, whether or not we saw
				 * it go dark. */
				if (!was_up || !s->ext_open)
					ev |= HS_HW_PRESENCE | HS_HW_LINK;
				else
					ev |= HS_HW_LATCH;
				s->ext_open = false;
				found = true;
			}
			if (csr & HS_CPCI_EXT) {
				ev |= HS_HW_LATCH;
				s->ext_open = true;
				found = true;
			}
			/* Configured with its LED off, and now lit by its
			 * own hardware with nothing asked: the board went
			 * through reset with its ejector open (the hardware
			 * drives the LED until the handle closes, PICMG 2.1)
			 * and raised nothing on ENUM#.  Its configuration is
			 * gone: a new board, its handle open. */
			if (was_up && s->in_use && !s->lit &&
			    (csr & HS_CPCI_LOO) &&
			    !(csr & (HS_CPCI_INS | HS_CPCI_EXT))) {
				ev |= HS_HW_PRESENCE | HS_HW_LINK;
				s->ext_open = true;
				note = "the board was reset with its ejector open";
			}
		}
	}
	if (ev)
		hs_hpc_report(c->hpc, n, ev, note);
	return found;
}

static void cpci_collect(void *priv)
{
	struct cpcihp *c = priv;
	bool found = false;

	/* ENUM# stays asserted while any board has INS or EXT set: look
	 * until none is left (bounded, for a board that keeps asserting). */
	for (int round = 0; round < 4; round++) {
		bool any = false;

		for (unsigned n = 0; n < c->nslots; n++)
			any |= collect_slot(c, n);
		found |= any;
		if (!any)
			break;
	}
	/* The platform calls the line's handler when it becomes active: a
	 * board on another segment sharing it that asserted meanwhile
	 * would go unseen.  Whoever cleared something makes the others
	 * look again. */
	if (found && c->role != ENUM_NONE) {
		struct cpcihp *o = c->role == ENUM_OWNER ? c : c->enum_owner;

		for (; o; o = o->enum_next)
			if (o != c)
				hs_hpc_interrupt(o->hpc);
	}
}

/* ---- interrupts ------------------------------------------------------------ */

static void enum_isr(void *arg, const struct hs_irq *irq)
{
	(void)irq;
	/* Every segment on the line: ENUM# does not say whose board. */
	for (struct cpcihp *c = arg; c; c = c->enum_next)
		hs_hpc_interrupt(c->hpc);
}

static void ha_isr(void *arg, const struct hs_irq *irq)
{
	struct cpcihp *c = arg;

	(void)irq;
	hs_hpc_interrupt(c->hpc);
}

/* The instance of this core holding ENUM# line `line`, if any. */
static struct cpcihp *enum_holder(struct cpcihp *c, uint32_t line)
{
	struct hs_core *core = hs_dev_core(c->br);

	for (struct hs_dev *d = hs_dev_next(core, NULL); d;
	     d = hs_dev_next(core, d)) {
		struct cpcihp *o;

		if (hs_dev_driver(d) != &hs_cpcihp_driver)
			continue;
		o = hs_dev_driver_data(d);
		if (o && o != c && o->role == ENUM_OWNER &&
		    o->enum_irq.number == line)
			return o;
	}
	return NULL;
}

static int enum_attach(struct cpcihp *c)
{
	const struct hs_platform *pl = hs_dev_platform(c->br);
	struct cpcihp *owner;
	uint32_t line;
	int rc;

	if (!pl->ops->enum_line ||
	    pl->ops->enum_line(pl->ctx, hs_dev_bdf(c->br), &line))
		return -HS_ENOTSUP; /* not wired: software polls */
	c->enum_irq.kind = HS_IRQ_LINE;
	c->enum_irq.number = line;
	c->role = ENUM_OWNER;
	c->enum_next = NULL;
	rc = pl->ops->irq_attach(pl->ctx, &c->enum_irq, enum_isr, c);
	if (rc == 0)
		return 0;
	c->role = ENUM_NONE;
	if (rc != -HS_EBUSY || !(owner = enum_holder(c, line)))
		return rc;
	c->role = ENUM_SHARER;
	c->enum_owner = owner;
	c->enum_next = owner->enum_next;
	owner->enum_next = c;
	/* The line may be active already (another segment's board): its
	 * handler will not run again for us. */
	hs_hpc_interrupt(c->hpc);
	return 0;
}

static void enum_detach(struct cpcihp *c)
{
	const struct hs_platform *pl = hs_dev_platform(c->br);

	if (c->role == ENUM_SHARER) {
		for (struct cpcihp **pp = &c->enum_owner->enum_next; *pp;
		     pp = &(*pp)->enum_next)
			if (*pp == c) {
				*pp = c->enum_next;
				break;
			}
	} else if (c->role == ENUM_OWNER) {
		struct cpcihp *heir = c->enum_next;

		pl->ops->irq_detach(pl->ctx, &c->enum_irq);
		if (heir) {
			/* The next segment on the line takes it over. */
			heir->role = ENUM_OWNER;
			heir->enum_owner = NULL;
			for (struct cpcihp *o = heir->enum_next; o;
			     o = o->enum_next)
				o->enum_owner = heir;
			if (pl->ops->irq_attach(pl->ctx, &heir->enum_irq,
						enum_isr, heir)) {
				/* Left without the line, they still poll. */
				struct cpcihp *o = heir, *next;

				for (; o; o = next) {
					next = o->enum_next;
					o->role = ENUM_NONE;
					o->enum_owner = o->enum_next = NULL;
				}
			}
		}
	}
	c->role = ENUM_NONE;
	c->enum_owner = c->enum_next = NULL;
}

static void ha_irq_enable(struct cpcihp *c, bool on)
{
	for (unsigned n = 0; n < c->nslots; n++) {
		uint32_t r;

		if (ha_rd(c, HS_HA_SLOT(n), &r) || r == 0xffffffffu)
			return;
		r &= HS_HA_SLOT_RW & ~HS_HA_PRSNT_IE;
		ha_wr(c, HS_HA_SLOT(n), r | (on ? HS_HA_PRSNT_IE : 0));
	}
}

static int cpci_notify(void *priv, bool irq)
{
	struct cpcihp *c = priv;

	/* What latched before we looked is not news: the core reconciles
	 * with each slot's state.  INS of the boards found at boot is
	 * acknowledged; EXT (a handle open now) is left for collect(). */
	for (unsigned n = 0; n < c->nslots; n++) {
		struct cpci_slot *s = &c->slot[n];
		uint32_t csr, r;
		uint16_t at;

		if (c->ha && ha_rd(c, HS_HA_SLOT(n), &r) == 0 &&
		    r != 0xffffffffu && (r & HS_HA_PRSNT_CHG))
			ha_wr(c, HS_HA_SLOT(n), (r & HS_HA_SLOT_RW) | HS_HA_PRSNT_CHG);
		if (s->up && csr_read(c, n, &at, &csr) && (csr & HS_CPCI_INS))
			csr_write(c, n, at, csr, HS_CPCI_INS, (csr & HS_CPCI_LOO) != 0);
	}
	if (!irq) {
		if (c->ha)
			ha_irq_enable(c, false);
		return 0;
	}
	if (c->role == ENUM_NONE && enum_attach(c))
		return -HS_ENOTSUP;
	if (c->ha && !c->ha_irq) {
		int rc = hs_dev_request_irq(c->br, ha_isr, c);

		if (rc == 0 && !hs_dev_irq_attached(c->br)) {
			hs_dev_free_irq(c->br);
			rc = -HS_ENOTSUP;
		}
		/* Without INTA# (a shared line another device holds), the
		 * poll finds presence changes; ENUM# still interrupts. */
		c->ha_irq = rc == 0;
	}
	if (c->ha)
		ha_irq_enable(c, c->ha_irq);
	return 0;
}

static const struct hs_hpc_ops cpci_ops = {
	.kind = "cpci",
	.status = cpci_status,
	.command = cpci_command,
	.collect = cpci_collect,
	.notify = cpci_notify,
	.configured = cpci_configured,
};

/* ---- binding --------------------------------------------------------------- */

/* Is ENUM# of the segment behind br wired to a platform line? */
static bool enum_wired(struct hs_dev *br)
{
	const struct hs_platform *pl = hs_dev_platform(br);
	uint32_t line;

	return pl->ops->enum_line &&
	       pl->ops->enum_line(pl->ctx, hs_dev_bdf(br), &line) == 0;
}

/* Does a board on br's secondary bus have the Hot Swap capability?  Read
 * from configuration space: the bridge's driver binds before the core
 * has scanned the bus behind it. */
static bool hotswap_board(struct hs_dev *br)
{
	const struct hs_platform *pl = hs_dev_platform(br);
	unsigned sec;

	if (hs_dev_secondary_bus(br, &sec))
		return false;
	for (unsigned dev = 0; dev < 32; dev++) {
		hs_bdf_t b = HS_BDF(HS_BDF_SEG(hs_dev_bdf(br)), sec, dev, 0);
		uint32_t v;
		unsigned at, hops = 0;

		if (pl->ops->cfg_read(pl->ctx, b, 0x00, 4, &v) ||
		    (v & 0xFFFF) == 0xFFFF || (v & 0xFFFF) == 0 ||
		    pl->ops->cfg_read(pl->ctx, b, 0x06, 2, &v) ||
		    !(v & 0x10) || /* Capabilities List (PCI 3.0, 6.2.3) */
		    pl->ops->cfg_read(pl->ctx, b, 0x34, 1, &v))
			continue;
		for (at = v & 0xFC; at >= 0x40 && hops < 48; hops++) {
			if (pl->ops->cfg_read(pl->ctx, b, (uint16_t)at, 2, &v))
				break;
			if ((v & 0xFF) == HS_CPCI_CAP_ID)
				return true;
			at = (v >> 8) & 0xFC;
		}
	}
	return false;
}

static int cpci_probe(struct hs_dev *br, void **priv)
{
	struct hs_hpc_slot_desc d[MAX_SLOTS];
	struct hs_resource bar;
	struct cpcihp *c;
	uint16_t cap;
	uint32_t caps = 0;
	unsigned first_dev = 0, first_phys = 0;
	int rc;

	/* A hot-plug bridge that is neither a PCIe port nor an SHPC: the
	 * core marks CompactPCI backplane bridges by their quirk. */
	if (!hs_dev_is_hotplug_bridge(br) || !hs_dev_find_cap(br, CAP_PCIE, &cap) ||
	    !hs_dev_find_cap(br, CAP_SHPC, &cap))
		return -HS_ENODEV;
	c = hs_ctl_zalloc(br, sizeof(*c));
	if (!c)
		return -HS_ENOMEM;
	c->br = br;
	c->nslots = MAX_SLOTS;
	if (hs_dev_bar(br, 0, &bar) == 0 && bar.kind == HS_RES_MEM &&
	    bar.size >= HS_HA_SLOT(MAX_SLOTS) &&
	    ha_rd(c, HS_HA_CAPS, &caps) == 0 && caps != 0xffffffffu &&
	    (caps & HS_HA_CAPS_POWER)) {
		c->ha = true;
		c->nslots = HS_HA_NSLOTS(caps);
		first_dev = HS_HA_FIRST_DEV(caps);
		first_phys = HS_HA_FIRST_PHYS(caps);
		if (!c->nslots || first_dev + c->nslots > 32) {
			rc = -HS_EINVAL;
			goto free_c;
		}
	} else {
		const struct hs_platform *pl = hs_dev_platform(br);
		unsigned fd, ns, fp;

		/* The platform may know how the backplane is wired. */
		if (pl->ops->backplane &&
		    pl->ops->backplane(pl->ctx, hs_dev_bdf(br), &fd, &ns,
				       &fp) == 0 &&
		    ns && ns <= MAX_SLOTS && fd + ns <= 32) {
			c->nslots = ns;
			first_dev = fd;
			first_phys = fp;
			c->laid_out = true;
		}
	}

	/* The quirk table marks a bridge by its ids, and those say only that
	 * CompactPCI system boards use the part: so do plain add-in cards,
	 * and QEMU's (and the simulator's) plain pci-bridge carries the
	 * 21154's ids.  A backplane is recognised by what it has: the HA
	 * slot control block, ENUM# or slot wiring the platform declares,
	 * or a board with the Hot Swap capability (PICMG 2.1, 3.1) behind
	 * it.  Without any, no phantom slots. */
	if (!c->ha && !c->laid_out && !enum_wired(br) && !hotswap_board(br)) {
		rc = -HS_ENODEV;
		goto free_c;
	}

	hs_memzero(d, sizeof(d));
	for (unsigned i = 0; i < c->nslots; i++) {
		/* Without the HA block or the platform's word: every device
		 * number, named by it. */
		d[i].phys = c->ha || c->laid_out ? first_phys + i : i;
		d[i].devnum = (uint8_t)(first_dev + i);
		d[i].caps = HS_SLOT_CAP_PWR_IND | HS_SLOT_CAP_MRL |
			    HS_SLOT_CAP_LATCH_ASKS | HS_SLOT_CAP_LINK_REPORT;
		if (c->ha)
			d[i].caps |= HS_SLOT_CAP_POWER;
		/* INS means the board finished its hardware connection
		 * (PICMG 2.1): nothing more to wait for. */
		d[i].link_wait = 0;
		d[i].settle = 0;
		d[i].immediate_ready_ok = false;
	}
	if ((rc = hs_hpc_register(br, &cpci_ops, c, d, c->nslots,
				  HS_HPC_POLL_REMOVAL, &c->hpc)))
		goto free_c;
	/* The boards already seated (the core found them at boot). */
	for (unsigned n = 0; n < c->nslots; n++) {
		struct cpci_slot *s = &c->slot[n];
		uint32_t csr;
		uint16_t at;

		s->up = answers(c, n);
		if (s->up && csr_read(c, n, &at, &csr)) {
			s->loo = csr & HS_CPCI_LOO;
			s->ext_open = csr & HS_CPCI_EXT;
		}
		s->lit = s->loo;
	}
	*priv = c;
	return 0;

free_c:
	hs_ctl_free(br, c, sizeof(*c));
	return rc;
}

static void cpci_remove(struct hs_dev *br, void *priv)
{
	struct cpcihp *c = priv;

	/* Quiet first: no handler may reach an instance being freed. */
	enum_detach(c);
	if (c->ha_irq) {
		ha_irq_enable(c, false);
		hs_dev_free_irq(br);
		c->ha_irq = false;
	}
	hs_hpc_unregister(c->hpc);
	hs_ctl_free(br, c, sizeof(*c));
}

static const struct hs_device_id cpci_ids[] = {
	/* PCI-to-PCI bridges; probe keeps the CompactPCI backplane ones. */
	{ HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, 0x060400, 0xffff00 },
	{ 0 },
};

const struct hs_driver hs_cpcihp_driver = {
	.name = "cpcihp",
	.ids = cpci_ids,
	.probe = cpci_probe,
	.remove = cpci_remove,
};
