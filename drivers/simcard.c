/*
 * simcard.c - drivers for the simulator's cards (simnet, simstor).
 *
 * Owns: per-instance state (seeds/002 instance independence: nothing is
 * shared between instances but the ledger), the request FIFO, completion
 * processing, quiesce / abort / gone, and the ledger.  Interrupt handlers
 * only latch; completions are processed from a core timer, which is also
 * the poll that keeps things moving when an INTx line is shared.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "simcard.h"

#include "hotswap/simcard_regs.h"

#include "hotswap/util.h"
#include "hotswap/timer.h"


#define RING 64u
#define MAXQ 64u

struct inst {
	struct hs_dev *dev;
	uint32_t id;
	uint32_t *ring;          /* host memory the card DMAs into */
	uint64_t ring_bus;
	uint32_t tags[MAXQ];     /* FIFO: the card completes in order */
	unsigned head, count;
	uint32_t next_tag;
	uint32_t seen;           /* COMPLETED value processed so far */
	bool quiescing, irq;
	/* Stopped for a rebalance: requests are held in held[], to go to
	 * the card in order when it resumes at its new address. */
	bool stopped;
	uint32_t held[MAXQ];
	unsigned nheld;
	struct hs_timer tick;
	const char *busy;
	const char *stop_veto;
};

static struct simcard_ledger ledger;
static int fail_next_probe, fail_next_start;

struct simcard_ledger *simcard_ledger(void)
{
	return &ledger;
}

void simcard_ledger_reset(void)
{
	hs_memset(&ledger, 0, sizeof(ledger));
	fail_next_probe = 0;
	fail_next_start = 0;
}

void simcard_fail_next_start(int rc)
{
	fail_next_start = rc;
}

void simcard_fail_next_probe(int rc)
{
	fail_next_probe = rc;
}

/* The instance behind a device, if one of these drivers has it. */
static struct inst *inst_of(const struct hs_dev *dev)
{
	const struct hs_driver *d = hs_dev_driver(dev);

	if (d != &simnet_driver && d != &simstor_driver)
		return NULL;
	return hs_dev_driver_data(dev);
}

static void finish(struct inst *in, bool ok)
{
	in->head = (in->head + 1) % MAXQ;
	in->count--;
	if (ok)
		ledger.completed++;
	else
		ledger.failed++;
}

static void fail_all(struct inst *in)
{
	while (in->count)
		finish(in, false);
	ledger.failed += in->nheld;
	in->nheld = 0;
}

/* Retire what the card reports finished, in FIFO order. */
static void reap(struct inst *in)
{
	uint32_t done, st;

	if (hs_dev_read32(in->dev, 0, SIMCARD_REG_COMPLETED, &done) ||
	    done == 0xffffffffu)
		return; /* not reachable: the removal path fails the rest */
	hs_dev_read32(in->dev, 0, SIMCARD_REG_STATUS, &st);
	while (in->seen != done && in->count) {
		uint32_t *rec = &in->ring[2 * (in->seen % RING)];
		bool ok = !(st & SIMCARD_ST_DMA_ERROR) && rec[0] == in->tags[in->head] &&
			  rec[1] == 0;

		finish(in, ok);
		in->seen++;
	}
	if (st & SIMCARD_ST_DMA_ERROR)
		hs_dev_write32(in->dev, 0, SIMCARD_REG_STATUS, SIMCARD_ST_DMA_ERROR);
	hs_dev_write32(in->dev, 0, SIMCARD_REG_IRQ_STATUS, 1);
}

static void tick(void *arg)
{
	struct inst *in = arg;

	in->irq = false;
	reap(in);
	if (in->count)
		hs_dev_timer_arm(in->dev, &in->tick, HS_MSEC(1));
}

static void on_irq(void *arg, const struct hs_irq *irq)
{
	struct inst *in = arg;

	(void)irq;
	/* Latch only: the completion work runs from the dispatcher. */
	if (!in->irq) {
		in->irq = true;
		hs_dev_timer_arm(in->dev, &in->tick, 0);
	}
}

unsigned simcard_submit(struct hs_dev *dev, unsigned n)
{
	struct inst *in = inst_of(dev);
	unsigned taken = 0;

	for (; taken < n; taken++) {
		if (in && in->stopped && !in->quiescing &&
		    in->count + in->nheld < MAXQ) {
			/* Held, not refused: it goes to the card on resume. */
			in->held[in->nheld++] = ++in->next_tag;
			ledger.submitted++;
			ledger.held++;
			continue;
		}
		if (!in || in->quiescing || in->stopped ||
		    in->count + (in ? in->nheld : 0) >= MAXQ ||
		    hs_dev_gone(dev)) {
			ledger.refused += n - taken;
			break;
		}
		uint32_t tag = ++in->next_tag;

		if (hs_dev_write32(dev, 0, SIMCARD_REG_DOORBELL, tag)) {
			ledger.refused += n - taken;
			break;
		}
		in->tags[(in->head + in->count) % MAXQ] = tag;
		in->count++;
		ledger.submitted++;
	}
	if (in && in->count && !hs_timer_armed(&in->tick))
		hs_dev_timer_arm(dev, &in->tick, HS_MSEC(1));
	return taken;
}

unsigned simcard_in_flight(const struct hs_dev *dev)
{
	struct inst *in = inst_of(dev);

	return in ? in->count + in->nheld : 0;
}

void simcard_set_busy(struct hs_dev *dev, const char *reason)
{
	struct inst *in = inst_of(dev);

	if (in)
		in->busy = reason;
}

void simcard_set_stop_veto(struct hs_dev *dev, const char *reason)
{
	struct inst *in = inst_of(dev);

	if (in)
		in->stop_veto = reason;
}

bool simcard_stopped(const struct hs_dev *dev)
{
	struct inst *in = inst_of(dev);

	return in && in->stopped;
}

uint32_t simcard_id(const struct hs_dev *dev)
{
	struct inst *in = inst_of(dev);

	return in ? in->id : 0;
}

/*
 * Reaching the registers proves BAR0 and every window above it: the ID
 * must not be all ones and the liveness register must answer with the
 * inverse of what was written.  At probe and again after a move.
 */
static int reach(struct hs_dev *dev, uint32_t *id, uint32_t pattern)
{
	uint32_t v = 0;
	int rc;

	if (hs_dev_read32(dev, 0, SIMCARD_REG_ID, id) || *id == 0xffffffffu)
		return -HS_EIO;
	if ((rc = hs_dev_write32(dev, 0, SIMCARD_REG_LIVENESS, pattern)) ||
	    (rc = hs_dev_read32(dev, 0, SIMCARD_REG_LIVENESS, &v)))
		return rc;
	return v == ~pattern ? 0 : -HS_EIO;
}

static int probe(struct hs_dev *dev, void **priv)
{
	const struct hs_platform *p = hs_dev_platform(dev);
	struct inst *in;
	int rc;

	if (fail_next_probe) {
		rc = fail_next_probe;
		fail_next_probe = 0;
		return rc;
	}
	if (!p->ops->dma_alloc)
		return -HS_ENOTSUP;
	in = p->ops->realloc(p->ctx, NULL, 0, sizeof(*in));
	if (!in)
		return -HS_ENOMEM;
	hs_memset(in, 0, sizeof(*in));
	in->dev = dev;
	hs_timer_init(&in->tick, tick, in);
	if ((rc = reach(dev, &in->id, 0x5a5aa5a5u)))
		goto fail_free;
	in->ring = p->ops->dma_alloc(p->ctx, 8 * RING, &in->ring_bus);
	if (!in->ring) {
		rc = -HS_ENOMEM;
		goto fail_free;
	}
	if ((rc = hs_dev_write32(dev, 0, SIMCARD_REG_RING_LO, (uint32_t)in->ring_bus)) ||
	    (rc = hs_dev_write32(dev, 0, SIMCARD_REG_RING_HI,
				 (uint32_t)(in->ring_bus >> 32))) ||
	    (rc = hs_dev_write32(dev, 0, SIMCARD_REG_RING_SIZE, RING)) ||
	    (rc = hs_dev_read32(dev, 0, SIMCARD_REG_COMPLETED, &in->seen)))
		goto fail_ring;
	rc = hs_dev_request_irq(dev, on_irq, in);
	if (rc && rc != -HS_ENOENT)
		goto fail_ring;
	if ((rc = hs_dev_write32(dev, 0, SIMCARD_REG_IRQ_MASK, 1)) ||
	    (rc = hs_dev_set_master(dev, true)))
		goto fail_irq;
	ledger.probes++;
	*priv = in;
	return 0;

fail_irq:
	hs_dev_write32(dev, 0, SIMCARD_REG_IRQ_MASK, 0);
fail_ring:
	/* Also releases a vector taken before a later step failed. */
	hs_dev_free_irq(dev);
	p->ops->dma_free(p->ctx, in->ring, 8 * RING);
fail_free:
	p->ops->realloc(p->ctx, in, sizeof(*in), 0);
	return rc;
}

static void remove(struct hs_dev *dev, void *priv)
{
	const struct hs_platform *p = hs_dev_platform(dev);
	struct inst *in = priv;

	hs_dev_timer_cancel(dev, &in->tick);
	if (!hs_dev_gone(dev)) {
		reap(in);
		hs_dev_write32(dev, 0, SIMCARD_REG_IRQ_MASK, 0);
		hs_dev_set_master(dev, false);
	}
	/* Whatever is still queued will never complete now. */
	fail_all(in);
	hs_dev_free_irq(dev);
	p->ops->dma_free(p->ctx, in->ring, 8 * RING);
	p->ops->realloc(p->ctx, in, sizeof(*in), 0);
	ledger.removes++;
}

/* A test's "refuse, because ..." for query_remove and query_stop. */
static int refuse(const char *reason, char *why, size_t len)
{
	if (!reason)
		return 0;
	hs_snprintf(why, len, "%s", reason);
	return -HS_EBUSY;
}

static int query_remove(struct hs_dev *dev, void *priv, char *why, size_t len)
{
	(void)dev;
	return refuse(((struct inst *)priv)->busy, why, len);
}

static int quiesce(struct hs_dev *dev, void *priv)
{
	struct inst *in = priv;

	in->quiescing = true;
	reap(in);
	if (in->count)
		return -HS_EAGAIN;
	hs_dev_write32(dev, 0, SIMCARD_REG_IRQ_MASK, 0);
	hs_dev_set_master(dev, false);
	return 0;
}

static void abort_all(struct hs_dev *dev, void *priv)
{
	struct inst *in = priv;

	hs_dev_write32(dev, 0, SIMCARD_REG_ABORT, 1);
	fail_all(in);
	hs_dev_write32(dev, 0, SIMCARD_REG_IRQ_MASK, 0);
	hs_dev_set_master(dev, false);
}

/* ---- rebalancing: stop, start at the new address, resume ---------------- */

static int query_stop(struct hs_dev *dev, void *priv, char *why, size_t len)
{
	(void)dev;
	return refuse(((struct inst *)priv)->stop_veto, why, len);
}

static int stop(struct hs_dev *dev, void *priv)
{
	struct inst *in = priv;

	/* New requests are held from now on; the outstanding ones finish
	 * at the old address. */
	in->stopped = true;
	reap(in);
	if (in->count)
		return -HS_EAGAIN;
	hs_dev_timer_cancel(dev, &in->tick);
	hs_dev_write32(dev, 0, SIMCARD_REG_IRQ_MASK, 0);
	return 0;
}

static int start(struct hs_dev *dev, void *priv)
{
	struct inst *in = priv;
	uint32_t id = 0;
	int rc;

	if (fail_next_start) {
		rc = fail_next_start;
		fail_next_start = 0;
		return rc;
	}
	/* BAR0 may be somewhere else now: the same card must answer there. */
	if ((rc = reach(dev, &id, 0x3c3cc3c3u)))
		return rc;
	if (id != in->id)
		return -HS_EIO;
	ledger.restarts++;
	return hs_dev_write32(dev, 0, SIMCARD_REG_IRQ_MASK, 1);
}

/* Requests at the card and held: what a stop would make wait. */
static unsigned load(struct hs_dev *dev, void *priv)
{
	struct inst *in = priv;

	(void)dev;
	return in->count + in->nheld;
}

static void resume(struct hs_dev *dev, void *priv)
{
	struct inst *in = priv;
	unsigned i;

	in->stopped = false;
	for (i = 0; i < in->nheld; i++) {
		if (hs_dev_write32(dev, 0, SIMCARD_REG_DOORBELL, in->held[i]))
			break;
		in->tags[(in->head + in->count) % MAXQ] = in->held[i];
		in->count++;
	}
	/* A card that stopped answering fails what it could not take. */
	ledger.failed += in->nheld - i;
	in->nheld = 0;
	if (in->count && !hs_timer_armed(&in->tick))
		hs_dev_timer_arm(dev, &in->tick, HS_MSEC(1));
}

static void gone(struct hs_dev *dev, void *priv)
{
	struct inst *in = priv;

	(void)dev;
	/* No hardware access: every outstanding request fails at once. */
	hs_dev_timer_cancel(dev, &in->tick);
	fail_all(in);
}

static const struct hs_device_id net_ids[] = {
	{ HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, 0x020000, 0xff0000 },
	{ 0 },
};

static const struct hs_device_id stor_ids[] = {
	{ HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, 0x010000, 0xff0000 },
	{ 0 },
};

const struct hs_driver simnet_driver = {
	.name = "simnet",
	.ids = net_ids,
	.probe = probe,
	.remove = remove,
	.query_remove = query_remove,
	.quiesce = quiesce,
	.abort = abort_all,
	.gone = gone,
	.flags = HS_DRV_CAN_MOVE,
	.query_stop = query_stop,
	.stop = stop,
	.start = start,
	.resume = resume,
	.load = load,
};

const struct hs_driver simstor_driver = {
	.name = "simstor",
	.ids = stor_ids,
	.probe = probe,
	.remove = remove,
	.query_remove = query_remove,
	.quiesce = quiesce,
	.abort = abort_all,
	.gone = gone,
	.flags = HS_DRV_CAN_MOVE,
	.query_stop = query_stop,
	.stop = stop,
	.start = start,
	.resume = resume,
	.load = load,
};
