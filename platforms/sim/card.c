/*
 * card.c - cards from the catalog: their functions, configuration space
 * and the small register file drivers use.
 *
 * Owns: turning a sim_card_spec into functions (endpoints and the bridge
 * of a card that carries one, with the cards behind it), capabilities
 * (Power Management, MSI, MSI-X, PCI Express, Device Serial Number,
 * CompactPCI Hot Swap), misbehaviour quirks, reset on power loss, and the
 * BAR0 register file:
 *
 *   0x00 ID          RO  bar0_id, or (device << 16) | vendor
 *   0x04 LIVENESS    RW  reads back the inverse of what was written
 *   0x08 DOORBELL    WO  submit a request whose tag is the value written
 *   0x0C COMPLETED   RO  requests finished (with or without error)
 *   0x10 RING_LO     RW  host address of the completion ring, low
 *   0x14 RING_HI     RW  high half
 *   0x18 STATUS      bit 0 BUSY (RO), 1 DMA_ERROR (W1C), 2 OVERFLOW (W1C)
 *   0x1C IRQ_STATUS  W1C bit 0: a request completed
 *   0x20 IRQ_MASK    RW  bit 0: interrupt on completion
 *   0x24 OUTSTANDING RO  requests accepted and not finished
 *   0x28 ABORT       WO  writing 1 drops every outstanding request
 *   0x2C RING_SIZE   RW  entries in the ring, power of two, 0 = 64
 *
 * A completion is an 8-byte record {tag, status} written by DMA to
 * ring[n % size]; status 0 is success.  The DMA needs Bus Master Enable
 * on the function and on every bridge above it; when it is blocked the
 * request still counts as completed, STATUS.DMA_ERROR is set, and the
 * record is lost, which is what a driver of real hardware sees.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "hotswap/simcard_regs.h"
#include "hotswap/cpci_regs.h"
#include "sim_internal.h"




struct regfile {
	uint32_t liveness;
	uint32_t completed;
	uint64_t ring;
	uint32_t status;
	uint32_t irq_status;
	uint32_t irq_mask;
	uint32_t ring_size;
	uint32_t tags[SIMCARD_MAX_OUTSTANDING]; /* FIFO of outstanding tags */
	unsigned head, count;
	hs_time_t busy_until;           /* the card serves one at a time */
};

static int regfile_bar(const struct sim_fn *fn)
{
	/* The register file sits in BAR0 when BAR0 is there. */
	return fn->bar[0].type != SIM_BAR_NONE &&
			       fn->bar[0].size >= SIMCARD_REGS_SIZE
		       ? 0
		       : -1;
}

static uint32_t id_value(const struct sim_fn *fn)
{
	const struct sim_func_spec *s = fn->spec;

	return s->bar0_id ? s->bar0_id : ((uint32_t)s->device << 16) | s->vendor;
}

static void update_intx(struct sim_fn *fn, struct regfile *r)
{
	/* Only INTx is a level; MSI / MSI-X were sent at completion. */
	bool msi = (fn->msi_cap &&
		    (sim_cfg_get(&fn->cfg, fn->msi_cap + 2, 2) & 1)) ||
		   (fn->msix_cap &&
		    (sim_cfg_get(&fn->cfg, fn->msix_cap + 2, 2) & 0x8000));

	if (!msi)
		sim_fn_intx(fn, (r->irq_status & r->irq_mask & 1) != 0);
}

static void complete_one(struct sim *sim, void *arg, uintptr_t tag);

static void schedule_next(struct sim_fn *fn, struct regfile *r)
{
	hs_time_t now = sim_now(fn->sim);
	hs_time_t lat = HS_USEC(fn->spec->latency_us ? fn->spec->latency_us
						      : 10);
	hs_time_t start = r->busy_until > now ? r->busy_until : now;

	r->busy_until = start + lat;
	sim_schedule(fn->sim, r->busy_until - now, complete_one, fn, 0);
}

static void complete_one(struct sim *sim, void *arg, uintptr_t tag)
{
	struct sim_fn *fn = arg;
	struct regfile *r = fn->model_data;
	uint32_t rec[2];
	uint32_t size;

	(void)tag;
	if (!r || !r->count || !sim_fn_alive(fn))
		return;
	rec[0] = r->tags[r->head];
	rec[1] = 0;
	r->head = (r->head + 1) % SIMCARD_MAX_OUTSTANDING;
	r->count--;
	size = r->ring_size ? r->ring_size : 64;
	if (!r->ring || sim_fn_dma_write(fn, r->ring + 8ull * (r->completed % size),
					 rec, sizeof(rec)))
		r->status |= SIMCARD_ST_DMA_ERROR;
	r->completed++;
	r->irq_status |= 1;
	if (r->irq_mask & 1) {
		bool msi = (fn->msi_cap &&
			    (sim_cfg_get(&fn->cfg, fn->msi_cap + 2, 2) & 1)) ||
			   (fn->msix_cap &&
			    (sim_cfg_get(&fn->cfg, fn->msix_cap + 2, 2) &
			     0x8000));
		if (msi)
			sim_fn_interrupt(fn, 0);
		else
			update_intx(fn, r);
	}
	(void)sim;
}

/* The register file's dword at off (regblock.c splits reads of any width
 * into these). */
static uint32_t reg_read(void *ctx, uint32_t off)
{
	struct sim_fn *fn = ctx;
	const struct regfile *r = fn->model_data;
	uint32_t v;

	switch (off) {
	case SIMCARD_REG_ID:
		v = id_value(fn);
		break;
	case SIMCARD_REG_LIVENESS:
		v = ~r->liveness;
		break;
	case SIMCARD_REG_COMPLETED:
		v = r->completed;
		break;
	case SIMCARD_REG_RING_LO:
		v = (uint32_t)r->ring;
		break;
	case SIMCARD_REG_RING_HI:
		v = (uint32_t)(r->ring >> 32);
		break;
	case SIMCARD_REG_STATUS:
		v = r->status | (r->count ? SIMCARD_ST_BUSY : 0);
		break;
	case SIMCARD_REG_IRQ_STATUS:
		v = r->irq_status;
		break;
	case SIMCARD_REG_IRQ_MASK:
		v = r->irq_mask;
		break;
	case SIMCARD_REG_OUTSTANDING:
		v = r->count;
		break;
	case SIMCARD_REG_RING_SIZE:
		v = r->ring_size;
		break;
	default:
		v = 0;
	}
	return v;
}

static uint64_t card_bar_read(struct sim_fn *fn, int bar, uint64_t off,
			      unsigned width)
{
	const struct sim_regblock rb = { .read = reg_read, .ctx = fn,
					 .size = SIMCARD_REGS_SIZE };

	if (!fn->model_data || bar != regfile_bar(fn))
		return 0;
	return sim_regblock_read(&rb, off, width);
}

static void card_bar_write(struct sim_fn *fn, int bar, uint64_t off,
			   unsigned width, uint64_t val)
{
	struct regfile *r = fn->model_data;
	uint32_t v = (uint32_t)val;

	/* The register file takes aligned 32-bit writes (64-bit writes to
	 * RING_LO set both halves); anything else is ignored, like a device
	 * that decodes only DWORDs. */
	if (!r || bar != regfile_bar(fn) || off >= SIMCARD_REGS_SIZE || (off & 3) ||
	    width < 4)
		return;
	switch (off) {
	case SIMCARD_REG_LIVENESS:
		r->liveness = v;
		break;
	case SIMCARD_REG_DOORBELL:
		if (r->count == SIMCARD_MAX_OUTSTANDING) {
			r->status |= SIMCARD_ST_OVERFLOW;
			break;
		}
		r->tags[(r->head + r->count) % SIMCARD_MAX_OUTSTANDING] = v;
		r->count++;
		schedule_next(fn, r);
		break;
	case SIMCARD_REG_RING_LO:
		r->ring = (r->ring & ~0xffffffffull) | v;
		if (width == 8)
			r->ring = val;
		break;
	case SIMCARD_REG_RING_HI:
		r->ring = (r->ring & 0xffffffffull) | ((uint64_t)v << 32);
		break;
	case SIMCARD_REG_STATUS:
		r->status &= ~(v & (SIMCARD_ST_DMA_ERROR | SIMCARD_ST_OVERFLOW));
		break;
	case SIMCARD_REG_IRQ_STATUS:
		r->irq_status &= ~v;
		update_intx(fn, r);
		break;
	case SIMCARD_REG_IRQ_MASK:
		r->irq_mask = v & 1;
		update_intx(fn, r);
		break;
	case SIMCARD_REG_ABORT:
		if (v & 1) {
			sim_cancel_arg(fn->sim, fn);
			r->count = 0;
			r->head = 0;
			r->busy_until = sim_now(fn->sim);
		}
		break;
	case SIMCARD_REG_RING_SIZE:
		if (v && !(v & (v - 1)) && v <= 256)
			r->ring_size = v;
		break;
	default:
		break;
	}
}

static void card_cfg_written(struct sim_fn *fn, uint16_t off, unsigned width,
			     uint32_t old, uint32_t val)
{
	const struct sim_card *c = fn->card;

	/* Interrupt Disable may have changed the pin's level. */
	if (off <= 0x05 && off + width > 0x05 && fn->model_data)
		update_intx(fn, fn->model_data);
	while (c && c->parent)
		c = c->parent;
	if (c && c->slot && c->slot->ops && c->slot->ops->card_cfg_written)
		c->slot->ops->card_cfg_written(c->slot, fn, off, width, old,
					       val);
}

static void card_fn_destroy(struct sim_fn *fn)
{
	free(fn->model_data);
	fn->model_data = NULL;
}

const struct sim_fn_model sim_card_model = {
	.kind = "endpoint",
	.cfg_written = card_cfg_written,
	.bar_read = card_bar_read,
	.bar_write = card_bar_write,
	.destroy = card_fn_destroy,
};

static const struct sim_fn_model sim_card_bridge_model = {
	.kind = "card-bridge",
	.cfg_written = card_cfg_written,
};

/* ---- configuration space ---------------------------------------------- */

static unsigned log2u(unsigned v)
{
	unsigned l = 0;

	while ((1u << l) < v)
		l++;
	return l;
}

static void add_msi(struct sim_fn *fn, const struct sim_func_spec *s)
{
	struct sim_cfg *c = &fn->cfg;
	unsigned size = s->msi_64bit ? 14 : 10;
	uint16_t at = sim_cfg_add_cap(c, 0x05, size);

	if (!at)
		return;
	fn->msi_cap = at;
	/* Message Control: 3:1 Multiple Message Capable, 7 64-bit. */
	sim_cfg_set(c, at + 2, 2,
		    (log2u(s->msi_vectors) << 1) | (s->msi_64bit ? 0x80 : 0));
	sim_cfg_set_wmask(c, at + 2, 2, 0x0071); /* enable + MME */
	sim_cfg_set_wmask(c, at + 4, 4, 0xfffffffc);
	if (s->msi_64bit) {
		sim_cfg_set_wmask(c, at + 8, 4, 0xffffffff);
		sim_cfg_set_wmask(c, at + 12, 2, 0xffff);
	} else {
		sim_cfg_set_wmask(c, at + 8, 2, 0xffff);
	}
}

static void add_msix(struct sim_fn *fn, const struct sim_func_spec *s)
{
	struct sim_cfg *c = &fn->cfg;
	unsigned n = s->msix_vectors;
	uint8_t bir = s->msix_bar;
	uint64_t bsize, tbl, pba;
	uint16_t at;

	if (bir > 5 || fn->bar[bir].type == SIM_BAR_NONE ||
	    fn->bar[bir].type == SIM_BAR_IO)
		return;
	bsize = fn->bar[bir].size;
	/* Table in the upper half of the BAR, PBA after it (the register
	 * file owns the low half of BAR0). */
	tbl = bsize / 2;
	pba = (tbl + 16ull * n + 7) & ~7ull;
	if (pba + 8ull * ((n + 63) / 64) > bsize || tbl < SIMCARD_REGS_SIZE)
		return;
	at = sim_cfg_add_cap(c, 0x11, 12);
	if (!at)
		return;
	fn->msix_table = calloc(n, 16);
	if (!fn->msix_table)
		return;
	for (unsigned i = 0; i < n; i++)
		fn->msix_table[4 * i + 3] = 1; /* vectors start masked */
	fn->msix_pending = 0;
	fn->msix_cap = at;
	sim_cfg_set(c, at + 2, 2, n - 1);
	sim_cfg_set_wmask(c, at + 2, 2, 0xc000);
	sim_cfg_set(c, at + 4, 4, (uint32_t)tbl | bir);
	sim_cfg_set(c, at + 8, 4, (uint32_t)pba | bir);
}

static void add_pcie(struct sim_fn *fn, unsigned type)
{
	struct sim_cfg *c = &fn->cfg;
	uint16_t at = sim_cfg_add_cap(c, 0x10, 0x3c);

	if (!at)
		return;
	fn->pcie_cap = at;
	sim_cfg_set(c, at + 2, 2, 0x0002 | (type << 4));
	sim_cfg_set_wmask(c, at + 8, 2, 0x7cff);       /* Device Control */
	sim_cfg_set_w1c(c, at + 0x0a, 2, 0x000f);      /* Device Status */
	sim_cfg_set(c, at + 0x0c, 4, 0x00000011);      /* 2.5 GT/s x1 */
	sim_cfg_set(c, at + 0x12, 2, 0x0011);          /* trained x1 */
	sim_cfg_set_wmask(c, at + 0x28, 2, 0x0400);    /* Device Control 2 */
}

static void apply_quirks(struct sim_fn *fn, unsigned q)
{
	struct sim_cfg *c = &fn->cfg;

	fn->quirks = q;
	if ((q & (SIM_QUIRK_CAP_LOOP | SIM_QUIRK_CAP_OUTSIDE)) && !c->cap_last)
		sim_cfg_add_cap(c, 0x01, 8);
	if (q & SIM_QUIRK_CAP_LOOP)
		sim_cfg_set(c, c->cap_last + 1, 1,
			    sim_cfg_get(c, 0x34, 1)); /* back to the first */
	if (q & SIM_QUIRK_CAP_OUTSIDE)
		sim_cfg_set(c, c->cap_last + 1, 1, 0x10); /* into the header */
	if (q & SIM_QUIRK_EXTCAP_LOOP) {
		if (!c->ext_last)
			sim_cfg_add_ext_cap(c, 0x0001, 2, 0x48); /* AER */
		uint32_t h = sim_cfg_get(c, c->ext_last, 4);

		sim_cfg_set(c, c->ext_last, 4, (h & 0xfffff) | (0x100u << 20));
	}
	if ((q & SIM_QUIRK_BAR_BAD_SIZE) && fn->bar[0].type != SIM_BAR_NONE)
		/* A mask with a hole in it: no power of two can explain it. */
		sim_cfg_set_wmask(c, 0x10, 4, 0xfff0f000);
}

static void fn_build(struct sim_fn *fn)
{
	const struct sim_func_spec *s = fn->spec;
	const struct sim_card *card = fn->card;
	const struct sim_card *top = card;
	struct sim_cfg *c = &fn->cfg;
	struct regfile *r = fn->model_data;

	while (top->parent)
		top = top->parent;
	free(fn->msix_table);
	fn->msix_table = NULL;
	fn->msi_cap = fn->msix_cap = fn->pcie_cap = fn->hs_cap = 0;
	memset(fn->bar, 0, sizeof(fn->bar));
	fn->rom_size = 0;
	sim_cfg_init(c);
	if (s->is_bridge) {
		sim_bridge_header_init(fn, s->vendor, s->device, true, true);
		sim_cfg_set(c, 0x08, 4,
			    (s->class_code ? s->class_code : 0x060400) << 8 |
				    s->revision);
		/* Bridge Subsystem Vendor ID capability. */
		uint16_t ss = sim_cfg_add_cap(c, 0x0d, 8);

		if (ss)
			sim_cfg_set(c, ss + 4, 4,
				    s->subsys_vendor | (uint32_t)s->subsys << 16);
	} else {
		sim_fn_header_init(fn, s->vendor, s->device,
				   s->class_code << 8 | s->revision);
		sim_cfg_set(c, 0x2c, 2, s->subsys_vendor);
		sim_cfg_set(c, 0x2e, 2, s->subsys);
		for (int i = 0; i < 6; i++)
			if (s->bar[i].type != SIM_BAR_NONE)
				sim_fn_define_bar(fn, i, s->bar[i].type,
						  s->bar[i].prefetch,
						  s->bar[i].size);
		if (s->rom_size)
			sim_fn_define_rom(fn, s->rom_size);
	}
	sim_cfg_set(c, 0x3d, 1, s->irq_pin);
	if (s->immediate_readiness)
		sim_cfg_setbits(c, 0x06, 2, 0x0001);
	sim_fn_fix_multifunction(fn);

	/* Power Management first, as real devices tend to. */
	uint16_t pm = sim_cfg_add_cap(c, 0x01, 8);

	if (pm) {
		sim_cfg_set(c, pm + 2, 2, 0x0003);
		sim_cfg_set_wmask(c, pm + 4, 2, 0x0103);
	}
	if (top->slot && top->slot->kind == SIM_SLOT_CPCI && fn->devfn ==
	    (uint8_t)(top->dev << 3) && card == top) {
		/* CompactPCI Hot Swap capability (PICMG 2.1, 3.1): the
		 * Control/Status register at +2.  INS and EXT are
		 * write-1-to-clear, LOO and EIM writable. */
		uint16_t hs = sim_cfg_add_cap(c, HS_CPCI_CAP_ID, 4);

		if (hs) {
			fn->hs_cap = hs;
			sim_cfg_set_wmask(c, hs + HS_CPCI_CSR, 1,
					  HS_CPCI_LOO | HS_CPCI_EIM);
			sim_cfg_set_w1c(c, hs + HS_CPCI_CSR, 1,
					HS_CPCI_INS | HS_CPCI_EXT);
		}
	}
	if (s->msi_vectors)
		add_msi(fn, s);
	if (s->msix_vectors)
		add_msix(fn, s);
	if (card->spec->pcie) {
		add_pcie(fn, s->is_bridge ? 7 : 0);
		if (s->has_serial) {
			uint16_t dsn = sim_cfg_add_ext_cap(c, 0x0003, 1, 12);

			if (dsn)
				sim_cfg_set(c, dsn + 4, 4, (uint32_t)s->serial),
				sim_cfg_set(c, dsn + 8, 4,
					    (uint32_t)(s->serial >> 32));
		}
	}
	apply_quirks(fn, s->quirks);

	if (r) {
		memset(r, 0, sizeof(*r));
	}
}

/* ---- card instances ---------------------------------------------------- */

static void card_free_fns(struct sim_card *card)
{
	for (unsigned i = 0; i < card->nsub; i++)
		sim_card_destroy(card->sub[i]);
	free(card->sub);
	card->sub = NULL;
	card->nsub = 0;
	for (int i = 0; i < 8; i++)
		if (card->fn[i]) {
			sim_fn_free(card->fn[i]);
			card->fn[i] = NULL;
		}
}

int sim_card_create(struct sim *sim, const struct sim_card_spec *spec,
		    struct sim_bus *bus, uint8_t dev, struct sim_slot *slot,
		    struct sim_card **out)
{
	struct sim_card *card;
	int rc = -HS_EINVAL;

	if (!spec->nfuncs || spec->nfuncs > 8 || dev > 31)
		return -HS_EINVAL;
	if (bus->depth > 16)
		return -HS_ELOOP; /* a catalog that nests cards forever */
	card = sim_zalloc(sizeof(*card));
	if (!card)
		return -HS_ENOMEM;
	card->spec = spec;
	card->slot = slot;
	card->bus = bus;
	card->dev = dev;
	for (unsigned i = 0; i < spec->nfuncs; i++) {
		const struct sim_func_spec *s = &spec->funcs[i];
		struct sim_fn *fn;

		if (s->fn > 7 || card->fn[s->fn])
			goto fail_fns;
		fn = sim_fn_new(bus, (uint8_t)(dev << 3 | s->fn),
				s->is_bridge ? SIM_FN_PCI_BRIDGE
					     : SIM_FN_ENDPOINT, &rc);
		if (!fn)
			goto fail_fns;
		card->fn[s->fn] = fn;
		fn->card = card;
		fn->spec = s;
		if (s->is_bridge) {
			fn->model = &sim_card_bridge_model;
			fn->secondary = sim_bus_new(sim, fn);
			rc = -HS_ENOMEM;
			if (!fn->secondary)
				goto fail_fns;
		} else {
			fn->model = &sim_card_model;
			fn->model_data = sim_zalloc(sizeof(struct regfile));
			rc = -HS_ENOMEM;
			if (!fn->model_data)
				goto fail_fns;
		}
	}
	for (unsigned i = 0; i < spec->nfuncs; i++)
		fn_build(card->fn[spec->funcs[i].fn]);
	if (spec->nchildren) {
		struct sim_fn *br = card->fn[0];

		rc = -HS_EINVAL;
		if (!br || !br->secondary)
			goto fail_fns;
		card->sub = calloc(spec->nchildren, sizeof(*card->sub));
		rc = -HS_ENOMEM;
		if (!card->sub)
			goto fail_fns;
		for (unsigned i = 0; i < spec->nchildren; i++) {
			struct sim_card *sub;

			rc = sim_card_create(sim, spec->children[i].card,
					     br->secondary,
					     spec->children[i].dev, NULL, &sub);
			if (rc)
				goto fail_fns;
			sub->parent = card;
			card->sub[card->nsub++] = sub;
			/* Functions of the sub-card were built before their
			 * parent link existed; rebuild for the slot kind. */
			sim_card_reset(sub);
		}
	}
	*out = card;
	return 0;

fail_fns:
	card_free_fns(card);
	free(card);
	return rc;
}

void sim_card_destroy(struct sim_card *card)
{
	if (!card)
		return;
	card_free_fns(card);
	free(card);
}

void sim_card_reset(struct sim_card *card)
{
	for (int i = 0; i < 8; i++) {
		struct sim_fn *fn = card->fn[i];

		if (!fn)
			continue;
		sim_cancel_arg(fn->sim, fn);
		if (fn->intx_level)
			sim_fn_intx(fn, false);
		fn_build(fn);
	}
	for (unsigned i = 0; i < card->nsub; i++)
		sim_card_reset(card->sub[i]);
}

void sim_card_kill(struct sim_card *card)
{
	for (int i = 0; i < 8; i++)
		if (card->fn[i]) {
			card->fn[i]->dead = true;
			sim_cancel_arg(card->fn[i]->sim, card->fn[i]);
		}
	for (unsigned i = 0; i < card->nsub; i++)
		sim_card_kill(card->sub[i]);
}

bool sim_card_reachable(const struct sim_card *card)
{
	const struct sim_card *top = card;

	while (top->parent)
		top = top->parent;
	if (!top->slot)
		return true;
	return top->slot->card == top && top->slot->powered &&
	       top->slot->connected;
}

int sim_add_device(struct sim_bus *bus, uint8_t dev,
		   const struct sim_card_spec *card)
{
	struct sim_card *c;
	int rc = sim_card_create(bus->sim, card, bus, dev, NULL, &c);

	if (rc)
		return rc;
	/* A soldered card lives as long as the bus: its functions are freed
	 * with the bus, the card record with the chassis. */
	return sim_soldered_add(bus->sim, c);
}
