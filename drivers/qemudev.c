/*
 * qemudev.c - drivers for QEMU's edu and pci-testdev devices (qemudev.h).
 *
 * Owns: per-instance state of both drivers and the edu DMA round trip,
 * a small state machine run from a core timer (the edu card finishes a
 * transfer on its own timer, about 100 ms of QEMU's virtual clock after
 * it starts; nothing here sleeps).
 *
 * edu registers (BAR0): 0x00 identification, 0x04 liveness (reads the
 * inverse of what was written), 0x80 DMA source, 0x88 destination, 0x90
 * count, 0x98 command (bit 0 start / busy, bit 1 direction: 1 = card to
 * host).  The card's buffer is at 0x40000 in its DMA address space.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "qemudev.h"

#include "hotswap/util.h"
#include "hotswap/timer.h"

#include <stdarg.h>

#define EDU_ID 0x00
#define EDU_LIVE 0x04
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_CMD_START 0x1u
#define EDU_CMD_TO_HOST 0x2u
#define EDU_BUF 0x40000u
#define DMA_LEN 1024u
#define DMA_POLL HS_MSEC(5)
#define DMA_DEADLINE HS_SEC(2)

enum edu_phase { EDU_IDLE, EDU_TO_CARD, EDU_TO_HOST };

struct edu {
	struct hs_dev *dev;
	struct qemu_edu_status st;
	uint8_t *out, *in;             /* host buffers the card DMAs */
	uint64_t out_bus, in_bus;
	enum edu_phase phase;
	hs_time_t started;
	unsigned round;
	struct hs_timer tick;
};

static const struct hs_platform *plat_of(const struct hs_dev *dev)
{
	return hs_dev_platform(dev);
}

static void dlog(const struct hs_dev *dev, enum hs_log_level lvl,
		 const char *drv, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void dlog(const struct hs_dev *dev, enum hs_log_level lvl,
		 const char *drv, const char *fmt, ...)
{
	char line[160];
	hs_bdf_t b = hs_dev_bdf(dev);
	size_t n = hs_snprintf(line, sizeof(line), "%s %02x:%02x.%x: ", drv,
			       HS_BDF_BUS(b), HS_BDF_DEV(b), HS_BDF_FN(b));
	va_list ap;

	if (n < sizeof(line)) {
		va_start(ap, fmt);
		hs_vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
	}
	hs_log(plat_of(dev), lvl, "%s", line);
}

/* ---- edu ------------------------------------------------------------------- */

static void edu_fail(struct edu *e, const char *why)
{
	e->phase = EDU_IDLE;
	e->st.dma_busy = false;
	e->st.dma_failed++;
	e->st.last_error = why;
	hs_dev_set_master(e->dev, false);
	dlog(e->dev, HS_LOG_WARN, "edu", "dma round trip failed: %s", why);
}

static int edu_start(struct edu *e, enum edu_phase ph)
{
	uint64_t src = ph == EDU_TO_CARD ? e->out_bus : EDU_BUF;
	uint64_t dst = ph == EDU_TO_CARD ? EDU_BUF : e->in_bus;
	int rc;

	if ((rc = hs_dev_write32(e->dev, 0, EDU_DMA_SRC, (uint32_t)src)) ||
	    (rc = hs_dev_write32(e->dev, 0, EDU_DMA_SRC + 4, (uint32_t)(src >> 32))) ||
	    (rc = hs_dev_write32(e->dev, 0, EDU_DMA_DST, (uint32_t)dst)) ||
	    (rc = hs_dev_write32(e->dev, 0, EDU_DMA_DST + 4, (uint32_t)(dst >> 32))) ||
	    (rc = hs_dev_write32(e->dev, 0, EDU_DMA_CNT, DMA_LEN)) ||
	    (rc = hs_dev_write32(e->dev, 0, EDU_DMA_CMD,
				 EDU_CMD_START | (ph == EDU_TO_HOST ? EDU_CMD_TO_HOST : 0))))
		return rc;
	e->phase = ph;
	hs_dev_timer_arm(e->dev, &e->tick, DMA_POLL);
	return 0;
}

static void edu_tick(void *arg)
{
	struct edu *e = arg;
	uint32_t cmd;
	unsigned i;

	if (e->phase == EDU_IDLE)
		return;
	if (hs_dev_read32(e->dev, 0, EDU_DMA_CMD, &cmd) || cmd == 0xffffffffu) {
		edu_fail(e, "the card does not answer");
		return;
	}
	if (cmd & EDU_CMD_START) {
		if (hs_dev_now(e->dev) - e->started > DMA_DEADLINE)
			edu_fail(e, "the transfer did not finish in 2 s");
		else
			hs_dev_timer_arm(e->dev, &e->tick, DMA_POLL);
		return;
	}
	if (e->phase == EDU_TO_CARD) {
		if (edu_start(e, EDU_TO_HOST))
			edu_fail(e, "the card does not answer");
		return;
	}
	for (i = 0; i < DMA_LEN; i++)
		if (e->in[i] != e->out[i])
			break;
	hs_dev_set_master(e->dev, false);
	e->phase = EDU_IDLE;
	e->st.dma_busy = false;
	if (i < DMA_LEN) {
		e->st.dma_failed++;
		e->st.last_error = "data came back different";
		dlog(e->dev, HS_LOG_WARN, "edu", "dma round trip: byte %u differs", i);
		return;
	}
	e->st.dma_ok++;
	e->st.last_error = "";
	dlog(e->dev, HS_LOG_NOTICE, "edu", "dma round trip ok (%u bytes)", DMA_LEN);
}

int qemu_edu_dma(struct hs_dev *dev)
{
	struct edu *e;
	unsigned i;
	int rc;

	if (hs_dev_driver(dev) != &qemu_edu_driver)
		return -HS_ENODEV;
	e = hs_dev_driver_data(dev);
	if (e->phase != EDU_IDLE)
		return -HS_EBUSY;
	if ((rc = hs_dev_set_master(dev, true)))
		return rc;
	e->round++;
	for (i = 0; i < DMA_LEN; i++) {
		e->out[i] = (uint8_t)(i * 7 + e->round);
		e->in[i] = 0;
	}
	e->started = hs_dev_now(dev);
	e->st.dma_busy = true;
	if ((rc = edu_start(e, EDU_TO_CARD))) {
		edu_fail(e, "the card does not answer");
		return rc;
	}
	return 0;
}

int qemu_edu_status(const struct hs_dev *dev, struct qemu_edu_status *out)
{
	const struct edu *e;

	if (hs_dev_driver(dev) != &qemu_edu_driver)
		return -HS_ENODEV;
	e = hs_dev_driver_data(dev);
	*out = e->st;
	return 0;
}

static void edu_free(struct edu *e)
{
	const struct hs_platform *p = plat_of(e->dev);

	hs_dev_timer_cancel(e->dev, &e->tick);
	if (e->out)
		p->ops->dma_free(p->ctx, e->out, DMA_LEN);
	if (e->in)
		p->ops->dma_free(p->ctx, e->in, DMA_LEN);
	p->ops->realloc(p->ctx, e, sizeof(*e), 0);
}

static int edu_probe(struct hs_dev *dev, void **priv)
{
	const struct hs_platform *p = plat_of(dev);
	struct edu *e;
	uint32_t v = 0;         /* logged even when the write failed */
	int rc;

	if (!p->ops->dma_alloc)
		return -HS_ENOTSUP;
	e = p->ops->realloc(p->ctx, NULL, 0, sizeof(*e));
	if (!e)
		return -HS_ENOMEM;
	hs_memset(e, 0, sizeof(*e));
	e->dev = dev;
	e->st.last_error = "";
	hs_timer_init(&e->tick, edu_tick, e);
	rc = -HS_ENOMEM;
	e->out = p->ops->dma_alloc(p->ctx, DMA_LEN, &e->out_bus);
	e->in = p->ops->dma_alloc(p->ctx, DMA_LEN, &e->in_bus);
	if (!e->out || !e->in)
		goto fail_free;
	/* The identification register proves BAR0 and every window above
	 * it; the liveness register proves writes arrive too. */
	rc = -HS_EIO;
	if (hs_dev_read32(dev, 0, EDU_ID, &e->st.id) || e->st.id != EDU_ID_VALUE) {
		dlog(dev, HS_LOG_ERR, "edu", "identification reads 0x%08x, expected "
		     "0x010000ed: BAR0 is not reachable", e->st.id);
		goto fail_free;
	}
	if (hs_dev_write32(dev, 0, EDU_LIVE, 0x5a5aa5a5u) ||
	    hs_dev_read32(dev, 0, EDU_LIVE, &v) || v != ~0x5a5aa5a5u) {
		dlog(dev, HS_LOG_ERR, "edu", "liveness reads 0x%08x, expected 0xa5a55a5a",
		     v);
		goto fail_free;
	}
	e->st.live = true;
	dlog(dev, HS_LOG_NOTICE, "edu", "id 0x%08x, liveness ok", e->st.id);
	*priv = e;
	return 0;

fail_free:
	edu_free(e);
	return rc;
}

static int edu_query_remove(struct hs_dev *dev, void *priv, char *why,
			    size_t len)
{
	(void)dev, (void)priv, (void)why, (void)len;
	return 0;
}

/* A transfer in flight finishes before the card goes (it is writing
 * into host memory); the core asks again every millisecond. */
static int edu_quiesce(struct hs_dev *dev, void *priv)
{
	struct edu *e = priv;

	(void)dev;
	if (e->phase != EDU_IDLE)
		return -HS_EAGAIN;
	hs_dev_set_master(dev, false);
	return 0;
}

static void edu_abort(struct hs_dev *dev, void *priv)
{
	struct edu *e = priv;

	if (e->phase != EDU_IDLE)
		edu_fail(e, "aborted by the removal");
	hs_dev_set_master(dev, false);
}

static void edu_gone(struct hs_dev *dev, void *priv)
{
	struct edu *e = priv;

	(void)dev;
	if (e->phase != EDU_IDLE) {
		e->phase = EDU_IDLE;
		e->st.dma_busy = false;
		e->st.dma_failed++;
		e->st.last_error = "the card was pulled";
	}
}

static void edu_remove(struct hs_dev *dev, void *priv)
{
	(void)dev;
	edu_free(priv);
}

static const struct hs_device_id edu_ids[] = {
	{ 0x1234, 0x11e8, HS_ANY_ID, HS_ANY_ID, 0, 0 },
	{ 0, 0, 0, 0, 0, 0 },
};

const struct hs_driver qemu_edu_driver = {
	.name = "edu",
	.ids = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
	.query_remove = edu_query_remove,
	.quiesce = edu_quiesce,
	.abort = edu_abort,
	.gone = edu_gone,
};

/* ---- pci-testdev ------------------------------------------------------------ */

#define TD_NAME 16u      /* the test's name follows a 16-byte header */
#define TD_NAME_MAX 32u

struct testdev {
	char mmio[TD_NAME_MAX], portio[TD_NAME_MAX];
};

/* Select test 0 through a BAR and read its name (PCITestDevHdr). */
static int td_name(struct hs_dev *dev, int bar, char *out)
{
	unsigned i;
	uint32_t w;
	int rc;

	if ((rc = hs_dev_write32(dev, bar, 0, 0)))
		return rc;
	for (i = 0; i < TD_NAME_MAX; i += 4) {
		if ((rc = hs_dev_read32(dev, bar, TD_NAME + i, &w)))
			return rc;
		out[i] = (char)(w & 0xff);
		out[i + 1] = (char)(w >> 8 & 0xff);
		out[i + 2] = (char)(w >> 16 & 0xff);
		out[i + 3] = (char)(w >> 24 & 0xff);
	}
	out[TD_NAME_MAX - 1] = 0;
	for (i = 0; out[i]; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			return -HS_EIO;
	return 0;
}

static bool prefixed(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return false;
	return true;
}

static int td_probe(struct hs_dev *dev, void **priv)
{
	const struct hs_platform *p = plat_of(dev);
	struct testdev *t = p->ops->realloc(p->ctx, NULL, 0, sizeof(*t));
	int rc;

	if (!t)
		return -HS_ENOMEM;
	hs_memset(t, 0, sizeof(*t));
	/* Test names start with the kind of BAR they are read through. */
	rc = td_name(dev, 0, t->mmio);
	if (rc || !prefixed(t->mmio, "mmio-")) {
		dlog(dev, HS_LOG_ERR, "pci-testdev", "BAR0 (memory) test name "
		     "reads \"%s\": BAR0 is not reachable", t->mmio);
		goto fail;
	}
	rc = td_name(dev, 1, t->portio);
	if (rc || !prefixed(t->portio, "portio-")) {
		dlog(dev, HS_LOG_ERR, "pci-testdev", "BAR1 (I/O) test name "
		     "reads \"%s\": BAR1 is not reachable", t->portio);
		goto fail;
	}
	dlog(dev, HS_LOG_NOTICE, "pci-testdev", "BAR0 says %s", t->mmio);
	dlog(dev, HS_LOG_NOTICE, "pci-testdev", "BAR1 says %s", t->portio);
	*priv = t;
	return 0;
fail:
	p->ops->realloc(p->ctx, t, sizeof(*t), 0);
	return -HS_EIO;
}

static void td_remove(struct hs_dev *dev, void *priv)
{
	const struct hs_platform *p = plat_of(dev);

	p->ops->realloc(p->ctx, priv, sizeof(struct testdev), 0);
}

static int td_quiesce(struct hs_dev *dev, void *priv)
{
	(void)dev, (void)priv;
	return 0;
}

int qemu_testdev_names(const struct hs_dev *dev, const char **mmio,
		       const char **portio)
{
	const struct testdev *t;

	if (hs_dev_driver(dev) != &qemu_testdev_driver)
		return -HS_ENODEV;
	t = hs_dev_driver_data(dev);
	*mmio = t->mmio;
	*portio = t->portio;
	return 0;
}

static const struct hs_device_id td_ids[] = {
	{ 0x1b36, 0x0005, HS_ANY_ID, HS_ANY_ID, 0, 0 },
	{ 0, 0, 0, 0, 0, 0 },
};

const struct hs_driver qemu_testdev_driver = {
	.name = "pci-testdev",
	.ids = td_ids,
	.probe = td_probe,
	.remove = td_remove,
	.quiesce = td_quiesce,
};
