/*
 * sim.c - the simulated chassis as a whole.
 *
 * Owns: the chassis object, its virtual clock and event queue, slots and
 * the physical actions performed on them, host RAM and its DMA page
 * allocator, the MSI pool and interrupt lines, fault injection, counters,
 * logging, and the hs_platform ops table handed to the core.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define MAX_LINES 256
#define MAX_MSI 1024
/* No requester yet: ffff:ff:1f.7, which the core never addresses. */
#define NO_REQUESTER 0xFFFFFFFFu
#define PAGE 4096u

struct handler {
	hs_irq_fn fn;
	void *arg;
	enum hs_irq_kind kind; /* as attached: INTX or LINE */
};

struct sim {
	struct sim_config cfg;
	struct sim_bus *root;
	struct sim_slot *slots, *slots_tail;
	struct sim_card **soldered;
	size_t nsoldered;

	hs_time_t now;
	struct sim_event *ev;     /* binary min-heap on (when, seq) */
	size_t nev, cap_ev;
	uint64_t ev_seq;
	unsigned ev_id;

	/* the core's one-shot timer */
	unsigned core_timer_ev;
	hs_timer_fn core_timer_fn;
	void *core_timer_arg;

	uint8_t *ram;
	uint8_t *ram_used;        /* one byte a page: 1 in use, 2 run start */
	size_t ram_pages;
	size_t ram_hint;          /* next-fit: where the last run ended */

	struct handler line_handler[MAX_LINES];
	unsigned line_count[MAX_LINES];
	struct handler msi_handler[MAX_MSI];
	uint8_t msi_used[MAX_MSI];
	hs_bdf_t msi_requester[MAX_MSI]; /* given to msi_message */

	unsigned long fault_cfg_countdown;
	unsigned long fault_alloc_countdown;
	struct sim_counters cnt;

	void (*log_fn)(void *, enum hs_log_level, const char *);
	void *log_arg;
};

void *sim_zalloc(size_t size)
{
	return calloc(1, size);
}

/* ---- configuration --------------------------------------------------- */

void sim_config_defaults(struct sim_config *c)
{
	memset(c, 0, sizeof(*c));
	c->segment = 0;
	c->bus_first = 0;
	c->bus_last = 255;
	c->io_base = 0x1000;
	c->io_limit = 0xffff;
	c->mem_base = 0x80000000ull;
	c->mem_limit = 0xdfffffffull;
	c->pref_base = 0x400000000ull;
	c->pref_limit = 0x7ffffffffull;
	c->ram_base = 0x100000;
	c->ram_size = 16u << 20;
	c->msi_vectors = 64;
	c->intx_base = 16;
}

struct sim *sim_create(const struct sim_config *cfg)
{
	struct sim *sim = calloc(1, sizeof(*sim));

	if (!sim)
		return NULL;
	sim->cfg = *cfg;
	if (sim->cfg.msi_vectors > MAX_MSI)
		sim->cfg.msi_vectors = MAX_MSI;
	sim->ram_pages = (size_t)(cfg->ram_size / PAGE);
	sim->ram = calloc(sim->ram_pages ? sim->ram_pages : 1, PAGE);
	if (!sim->ram)
		goto fail_ram;
	sim->ram_used = calloc(sim->ram_pages ? sim->ram_pages : 1, 1);
	if (!sim->ram_used)
		goto fail_ram_used;
	sim->root = sim_bus_new(sim, NULL);
	if (!sim->root)
		goto fail_root;
	return sim;

fail_root:
	free(sim->ram_used);
fail_ram_used:
	free(sim->ram);
fail_ram:
	free(sim);
	return NULL;
}

void sim_destroy(struct sim *sim)
{
	struct sim_slot *s, *n;

	if (!sim)
		return;
	/* Cards first (they sit on buses the bridges own), then the tree. */
	for (s = sim->slots; s; s = s->next)
		if (s->card) {
			struct sim_card *c = s->card;

			s->card = NULL;
			sim_card_destroy(c);
		}
	/* Soldered cards deepest first: a card behind another card's
	 * bridge goes before the bus it sits on. */
	for (size_t i = sim->nsoldered; i-- > 0;)
		sim_card_destroy(sim->soldered[i]);
	free(sim->soldered);
	sim_bus_free(sim->root);
	for (s = sim->slots; s; s = n) {
		n = s->next;
		free(s);
	}
	free(sim->ev);
	free(sim->ram_used);
	free(sim->ram);
	free(sim);
}

const struct sim_config *sim_get_config(const struct sim *sim)
{
	return &sim->cfg;
}

struct sim_bus *sim_root_bus(struct sim *sim)
{
	return sim->root;
}

struct sim_bus *sim_fn_secondary(const struct sim_fn *fn)
{
	return fn->secondary;
}

struct sim_slot *sim_fn_slot(const struct sim_fn *fn)
{
	for (struct sim_slot *s = fn->sim->slots; s; s = s->next)
		if (s->ctrl == fn)
			return s;
	return NULL;
}

const struct sim_fn *sim_slot_controller(const struct sim_slot *slot)
{
	return slot->ctrl;
}

struct sim_counters *sim_counters_mut(struct sim *sim)
{
	return &sim->cnt;
}

void sim_get_counters(const struct sim *sim, struct sim_counters *out)
{
	*out = sim->cnt;
}

void sim_reset_counters(struct sim *sim)
{
	memset(&sim->cnt, 0, sizeof(sim->cnt));
}

int sim_soldered_add(struct sim *sim, struct sim_card *card)
{
	struct sim_card **n = realloc(sim->soldered,
				      (sim->nsoldered + 1) * sizeof(*n));

	if (!n) {
		sim_card_destroy(card);
		return -HS_ENOMEM;
	}
	sim->soldered = n;
	sim->soldered[sim->nsoldered++] = card;
	return 0;
}

/* ---- logging ----------------------------------------------------------- */

void sim_set_log(struct sim *sim,
		 void (*fn)(void *, enum hs_log_level, const char *), void *arg)
{
	sim->log_fn = fn;
	sim->log_arg = arg;
}

void sim_log(struct sim *sim, enum hs_log_level lvl, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!sim->log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sim->log_fn(sim->log_arg, lvl, line);
}

/* ---- events and the clock --------------------------------------------- */

static bool ev_before(const struct sim_event *a, const struct sim_event *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void ev_swap(struct sim_event *a, struct sim_event *b)
{
	struct sim_event t = *a;

	*a = *b;
	*b = t;
}

static void ev_up(struct sim *sim, size_t i)
{
	while (i && ev_before(&sim->ev[i], &sim->ev[(i - 1) / 2])) {
		ev_swap(&sim->ev[i], &sim->ev[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

static void ev_down(struct sim *sim, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < sim->nev && ev_before(&sim->ev[l], &sim->ev[m]))
			m = l;
		if (r < sim->nev && ev_before(&sim->ev[r], &sim->ev[m]))
			m = r;
		if (m == i)
			return;
		ev_swap(&sim->ev[i], &sim->ev[m]);
		i = m;
	}
}

unsigned sim_schedule(struct sim *sim, hs_time_t delay, sim_event_fn fn,
		      void *arg, uintptr_t tag)
{
	struct sim_event *e;
	unsigned id;

	if (sim->nev == sim->cap_ev) {
		size_t ncap = sim->cap_ev ? 2 * sim->cap_ev : 32;
		struct sim_event *n = realloc(sim->ev, ncap * sizeof(*n));

		if (!n)
			abort(); /* the simulator's own memory: fatal */
		sim->ev = n;
		sim->cap_ev = ncap;
	}
	e = &sim->ev[sim->nev++];
	e->when = sim->now + delay;
	e->seq = sim->ev_seq++;
	e->fn = fn;
	e->arg = arg;
	e->tag = tag;
	if (++sim->ev_id == 0)
		sim->ev_id = 1;
	e->id = id = sim->ev_id;
	/* ev_up moves entries around: e may hold another event after it. */
	ev_up(sim, sim->nev - 1);
	return id;
}

static void ev_remove_at(struct sim *sim, size_t i)
{
	sim->ev[i] = sim->ev[--sim->nev];
	if (i < sim->nev) {
		ev_up(sim, i);
		ev_down(sim, i);
	}
}

void sim_cancel(struct sim *sim, unsigned id)
{
	if (!id)
		return;
	for (size_t i = 0; i < sim->nev; i++)
		if (sim->ev[i].id == id) {
			ev_remove_at(sim, i);
			return;
		}
}

void sim_cancel_arg(struct sim *sim, const void *arg)
{
	for (size_t i = 0; i < sim->nev;) {
		if (sim->ev[i].arg == arg)
			ev_remove_at(sim, i);
		else
			i++;
	}
}

hs_time_t sim_now(const struct sim *sim)
{
	return sim->now;
}

bool sim_next_event(const struct sim *sim, hs_time_t *when)
{
	if (!sim->nev)
		return false;
	*when = sim->ev[0].when;
	return true;
}

static void run_one(struct sim *sim)
{
	struct sim_event e = sim->ev[0];

	ev_remove_at(sim, 0);
	if (e.when > sim->now)
		sim->now = e.when;
	e.fn(sim, e.arg, e.tag);
}

void sim_advance(struct sim *sim, hs_time_t delta)
{
	hs_time_t end = sim->now + delta;

	while (sim->nev && sim->ev[0].when <= end)
		run_one(sim);
	sim->now = end;
}

bool sim_step(struct sim *sim)
{
	if (!sim->nev)
		return false;
	run_one(sim);
	return true;
}

/* ---- fault injection ---------------------------------------------------- */

void sim_fault_cfg(struct sim *sim, unsigned long nth)
{
	sim->fault_cfg_countdown = nth;
}

void sim_fault_alloc(struct sim *sim, unsigned long nth)
{
	sim->fault_alloc_countdown = nth;
}

bool sim_fault_cfg_hit(struct sim *sim)
{
	if (!sim->fault_cfg_countdown)
		return false;
	return --sim->fault_cfg_countdown == 0;
}

/* ---- host RAM ----------------------------------------------------------- */

void *sim_host_ram(struct sim *sim, uint64_t addr, size_t len)
{
	uint64_t size = (uint64_t)sim->ram_pages * PAGE;

	if (addr < sim->cfg.ram_base || len > size ||
	    addr - sim->cfg.ram_base > size - len)
		return NULL;
	return sim->ram + (addr - sim->cfg.ram_base);
}

static void *plat_dma_alloc(void *ctx, size_t size, uint64_t *bus_addr)
{
	struct sim *sim = ctx;
	size_t n = (size + PAGE - 1) / PAGE, run = 0;

	if (!n || n > sim->ram_pages)
		return NULL;
	/* Next fit from where the last allocation ended, wrapping once:
	 * allocation stays cheap however much is in use. */
	for (size_t k = 0; k < sim->ram_pages + n; k++) {
		size_t i = (sim->ram_hint + k) % sim->ram_pages;

		if (i == 0)
			run = 0; /* runs do not wrap around the end of RAM */
		run = sim->ram_used[i] ? 0 : run + 1;
		if (run == n) {
			size_t first = i + 1 - n;

			sim->ram_hint = (i + 1) % sim->ram_pages;

			for (size_t j = first; j <= i; j++)
				sim->ram_used[j] = 1;
			sim->ram_used[first] = 2;
			memset(sim->ram + first * PAGE, 0, n * PAGE);
			*bus_addr = sim->cfg.ram_base + (uint64_t)first * PAGE;
			return sim->ram + first * PAGE;
		}
	}
	return NULL;
}

static void plat_dma_free(void *ctx, void *cpu, size_t size)
{
	struct sim *sim = ctx;
	size_t first, n = (size + PAGE - 1) / PAGE;

	if (!cpu)
		return;
	first = (size_t)((uint8_t *)cpu - sim->ram) / PAGE;
	for (size_t j = first; j < first + n && j < sim->ram_pages; j++)
		sim->ram_used[j] = 0;
}

/* ---- interrupts --------------------------------------------------------- */

void sim_intx_line(struct sim *sim, uint32_t line, bool assert)
{
	struct handler *h;
	struct hs_irq irq = { HS_IRQ_INTX, line };

	if (line >= MAX_LINES)
		return;
	if (sim->line_handler[line].fn)
		irq.kind = sim->line_handler[line].kind;
	if (!assert) {
		if (sim->line_count[line])
			sim->line_count[line]--;
		return;
	}
	/* A shared level line: the handler runs when it goes active; the
	 * handler's owner polls its sources until it deasserts. */
	if (sim->line_count[line]++)
		return;
	h = &sim->line_handler[line];
	if (h->fn) {
		sim->cnt.irq_delivered++;
		h->fn(h->arg, &irq);
	}
}

void sim_line_set(struct sim *sim, uint32_t line, bool level)
{
	sim_intx_line(sim, line, level);
}

bool sim_line_level(const struct sim *sim, uint32_t line)
{
	return line < MAX_LINES && sim->line_count[line];
}

void sim_msi_deliver(struct sim *sim, hs_bdf_t requester, uint32_t vector)
{
	struct hs_irq irq = { HS_IRQ_MSI, vector };
	struct handler *h;

	if (vector >= sim->cfg.msi_vectors || !sim->msi_used[vector])
		return; /* a stray message: real chipsets drop it too */
	if (sim->msi_requester[vector] != requester) {
		/* An ITS finds no EventID for this DeviceID: dropped. */
		sim->cnt.msi_wrong_requester++;
		return;
	}
	h = &sim->msi_handler[vector];
	if (h->fn) {
		sim->cnt.irq_delivered++;
		h->fn(h->arg, &irq);
	}
}

static int plat_irq_attach(void *ctx, const struct hs_irq *irq, hs_irq_fn fn,
			   void *arg)
{
	struct sim *sim = ctx;
	struct handler *h;

	if (irq->kind == HS_IRQ_MSI) {
		if (irq->number >= sim->cfg.msi_vectors ||
		    !sim->msi_used[irq->number])
			return -HS_EINVAL;
		h = &sim->msi_handler[irq->number];
	} else {
		if (irq->number >= MAX_LINES)
			return -HS_EINVAL;
		h = &sim->line_handler[irq->number];
	}
	if (h->fn)
		return -HS_EBUSY;
	h->fn = fn;
	h->arg = arg;
	h->kind = irq->kind;
	/* A level line already active fires at once. */
	if (irq->kind != HS_IRQ_MSI && sim->line_count[irq->number]) {
		sim->cnt.irq_delivered++;
		fn(arg, irq);
	}
	return 0;
}

static void plat_irq_detach(void *ctx, const struct hs_irq *irq)
{
	struct sim *sim = ctx;

	if (irq->kind == HS_IRQ_MSI && irq->number < MAX_MSI)
		sim->msi_handler[irq->number].fn = NULL;
	else if (irq->kind != HS_IRQ_MSI && irq->number < MAX_LINES)
		sim->line_handler[irq->number].fn = NULL;
}

static int plat_msi_alloc(void *ctx, unsigned count, uint32_t *first)
{
	struct sim *sim = ctx;
	unsigned n = 1;

	if (!count || count > 32)
		return -HS_EINVAL;
	/* Multi-message MSI needs a naturally aligned power-of-two block. */
	while (n < count)
		n <<= 1;
	for (unsigned v = 0; v + n <= sim->cfg.msi_vectors; v += n) {
		unsigned i;

		for (i = 0; i < n && !sim->msi_used[v + i]; i++)
			;
		if (i == n) {
			for (i = 0; i < n; i++) {
				sim->msi_used[v + i] = 1;
				sim->msi_requester[v + i] = NO_REQUESTER;
			}
			*first = v;
			return 0;
		}
	}
	return -HS_ENOSPC;
}

static void plat_msi_free(void *ctx, uint32_t first, unsigned count)
{
	struct sim *sim = ctx;
	unsigned n = 1;

	while (n < count)
		n <<= 1;
	for (unsigned i = 0; i < n && first + i < MAX_MSI; i++) {
		sim->msi_used[first + i] = 0;
		sim->msi_handler[first + i].fn = NULL;
		sim->msi_requester[first + i] = NO_REQUESTER;
	}
}

static int plat_msi_message(void *ctx, hs_bdf_t requester, uint32_t vector,
			    struct hs_msi_msg *msg)
{
	struct sim *sim = ctx;

	if (vector >= sim->cfg.msi_vectors)
		return -HS_EINVAL;
	/* Remembered as a translating controller (a GICv3 ITS) would map
	 * it: a message from another requester is dropped on delivery. */
	sim->msi_requester[vector] = requester;
	msg->address = 0xfee00000ull;
	msg->data = vector;
	return 0;
}

static int plat_intx_route(void *ctx, hs_bdf_t root_dev, unsigned pin,
			   uint32_t *line)
{
	struct sim *sim = ctx;

	if (pin < 1 || pin > 4)
		return -HS_EINVAL;
	*line = sim->cfg.intx_base + (HS_BDF_DEV(root_dev) + pin - 1) % 4;
	return 0;
}

/* CompactPCI: the line the ENUM# of the backplane behind a segment bridge
 * is wired to (the chassis description says which). */
static int plat_enum_line(void *ctx, hs_bdf_t bridge, uint32_t *line)
{
	return sim_cpci_enum_line(sim_fn_lookup(ctx, bridge), line);
}

static int plat_backplane(void *ctx, hs_bdf_t bridge, unsigned *first_dev,
			  unsigned *nslots, unsigned *first_phys)
{
	return sim_cpci_layout(sim_fn_lookup(ctx, bridge), first_dev, nslots,
			       first_phys);
}

/* ---- clock, log, allocator ops ------------------------------------------ */

static hs_time_t plat_now(void *ctx)
{
	return ((struct sim *)ctx)->now;
}

static void core_timer_fire(struct sim *sim, void *arg, uintptr_t tag)
{
	hs_timer_fn fn = sim->core_timer_fn;

	(void)arg;
	(void)tag;
	sim->core_timer_ev = 0;
	sim->core_timer_fn = NULL;
	if (fn)
		fn(sim->core_timer_arg);
}

static void plat_timer_set(void *ctx, hs_time_t deadline, hs_timer_fn fn,
			   void *arg)
{
	struct sim *sim = ctx;

	sim_cancel(sim, sim->core_timer_ev);
	sim->core_timer_ev = 0;
	sim->core_timer_fn = fn;
	sim->core_timer_arg = arg;
	if (fn)
		sim->core_timer_ev =
			sim_schedule(sim, deadline > sim->now ?
						  deadline - sim->now : 0,
				     core_timer_fire, &sim->core_timer_fn, 0);
}

static void plat_log(void *ctx, enum hs_log_level level, const char *line)
{
	struct sim *sim = ctx;

	if (sim->log_fn)
		sim->log_fn(sim->log_arg, level, line);
}

static void *plat_realloc(void *ctx, void *ptr, size_t osize, size_t nsize)
{
	struct sim *sim = ctx;

	(void)osize;
	if (!nsize) {
		free(ptr);
		return NULL;
	}
	sim->cnt.allocs++;
	if (sim->fault_alloc_countdown && --sim->fault_alloc_countdown == 0) {
		sim->cnt.alloc_failures_injected++;
		return NULL;
	}
	return realloc(ptr, nsize);
}


static int plat_host_bridge(void *ctx, unsigned index,
			    struct hs_host_bridge *out)
{
	const struct sim *sim = ctx;
	const struct sim_config *c = &sim->cfg;

	if (index)
		return -HS_ENOENT;
	out->segment = c->segment;
	out->bus_first = c->bus_first;
	out->bus_last = c->bus_last;
	out->io_base = c->io_base;
	out->io_limit = c->io_limit;
	out->mem_base = c->mem_base;
	out->mem_limit = c->mem_limit;
	out->pref_base = c->pref_base;
	out->pref_limit = c->pref_limit;
	return 0;
}

static const struct hs_platform_ops sim_platform_ops = {
	.host_bridge = plat_host_bridge,
	.cfg_read = sim_plat_cfg_read,
	.cfg_write = sim_plat_cfg_write,
	.mem_read = sim_plat_mem_read,
	.mem_write = sim_plat_mem_write,
	.io_read = sim_plat_io_read,
	.io_write = sim_plat_io_write,
	.dma_alloc = plat_dma_alloc,
	.dma_free = plat_dma_free,
	.irq_attach = plat_irq_attach,
	.irq_detach = plat_irq_detach,
	.msi_alloc = plat_msi_alloc,
	.msi_free = plat_msi_free,
	.msi_message = plat_msi_message,
	.intx_route = plat_intx_route,
	.enum_line = plat_enum_line,
	.backplane = plat_backplane,
	.now = plat_now,
	.timer_set = plat_timer_set,
	.log = plat_log,
	.realloc = plat_realloc,
};

void sim_get_platform(struct sim *sim, struct hs_platform *out)
{
	out->ops = &sim_platform_ops;
	out->ctx = sim;
	out->name = "sim";
}

/* ---- slots ----------------------------------------------------------------- */

void sim_slot_features_default(struct sim_slot_features *f)
{
	memset(f, 0, sizeof(*f));
	f->attention_button = true;
	f->power_controller = true;
	f->mrl_sensor = true;
	f->attention_indicator = true;
	f->power_indicator = true;
	f->dll_active_reporting = true;
	f->cmd_delay_us = 1000;
	f->link_train_us = 20000;
	f->power_delay_us = 0;
}

struct sim_slot *sim_slot_new(struct sim *sim, enum sim_slot_kind kind,
			      unsigned phys, struct sim_fn *ctrl,
			      struct sim_bus *bus, uint8_t dev)
{
	struct sim_slot *s = calloc(1, sizeof(*s));
	unsigned dup = 0;

	if (!s)
		return NULL;
	s->sim = sim;
	s->kind = kind;
	s->phys = phys;
	s->ctrl = ctrl;
	s->bus = bus;
	s->dev = dev;
	s->power_ind = SIM_IND_OFF;
	s->attn_ind = SIM_IND_OFF;
	/* Physical slot numbers should be unique in a chassis but firmware
	 * gets them wrong; names stay unique by suffix (as Linux's
	 * pci_hp_register does). */
	snprintf(s->name, sizeof(s->name), "%u", phys);
	while (sim_slot_by_name(sim, s->name))
		snprintf(s->name, sizeof(s->name), "%u-%u", phys, ++dup + 1);
	if (sim->slots_tail)
		sim->slots_tail->next = s;
	else
		sim->slots = s;
	sim->slots_tail = s;
	if (dev < 32)
		bus->slot_at[dev] = s;
	return s;
}

void sim_slot_set_ctrl_ops(struct sim_slot *slot,
			   const struct sim_slot_ctrl_ops *ops)
{
	slot->ops = ops;
}

struct sim_slot *sim_slot_by_phys(struct sim *sim, unsigned phys)
{
	for (struct sim_slot *s = sim->slots; s; s = s->next)
		if (s->phys == phys)
			return s;
	return NULL;
}

struct sim_slot *sim_slot_by_name(struct sim *sim, const char *name)
{
	for (struct sim_slot *s = sim->slots; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

struct sim_slot *sim_slot_next(struct sim *sim, struct sim_slot *prev)
{
	return prev ? prev->next : sim->slots;
}

void sim_slot_get_info(const struct sim_slot *s, struct sim_slot_info *i)
{
	memset(i, 0, sizeof(*i));
	i->kind = s->kind;
	i->phys = s->phys;
	i->name = s->name;
	i->present = s->card != NULL;
	i->powered = s->powered && s->card;
	i->link_up = s->connected && s->card;
	i->mrl_open = s->mrl_open;
	i->interlock_engaged = s->interlock;
	i->power_fault = s->power_fault;
	i->power_ind = s->power_ind;
	i->attn_ind = s->attn_ind;
	i->card = s->card ? s->card->spec->name : NULL;
	i->dev = s->dev;
	/* PICMG 2.1: the blue LED runs on the board's early power, so it
	 * shines while the board is seated with its back-end power off (its
	 * hot swap controller lights it: safe to extract), and powered,
	 * follows LOO. */
	if (s->kind == SIM_SLOT_CPCI && s->card && s->card->fn[0] &&
	    s->card->fn[0]->hs_cap)
		i->blue_led = !s->powered ||
			      (sim_cfg_get(&s->card->fn[0]->cfg,
					   s->card->fn[0]->hs_cap + 2, 1) &
			       0x08);
}

void sim_slot_power(struct sim_slot *slot, bool on)
{
	bool was = slot->powered;

	slot->powered = on;
	if (!was && on && slot->card)
		slot->card->powered_at = slot->sim->now;
	/* Losing power is a conventional reset of everything on the card. */
	if (was && !on && slot->card)
		sim_card_reset(slot->card);
}

void sim_slot_connect(struct sim_slot *slot, bool on)
{
	slot->connected = on;
	if (on && slot->card) {
		uint32_t crs = slot->card->spec->crs_us;

		slot->card->linked_at = slot->sim->now;
		slot->card->cold = false;
		slot->card->ready_at = slot->sim->now + HS_USEC(crs);
	}
}

/* ---- physical actions ---------------------------------------------------- */

int sim_insert(struct sim_slot *slot, const struct sim_card_spec *card)
{
	struct sim_card *c;
	int rc;

	if (slot->card)
		return -HS_EBUSY;
	if (!card || !card->nfuncs)
		return -HS_EINVAL;
	rc = sim_card_create(slot->sim, card, slot->bus, slot->dev, slot, &c);
	if (rc)
		return rc;
	slot->card = c;
	c->powered_at = slot->sim->now; /* a slot without power control */
	slot->link_fail = false;
	/* The over-current was the old card's: a new one starts sound. */
	slot->power_fault = false;
	/* The latch closes behind the card as it seats. */
	slot->mrl_open = false;
	sim_log(slot->sim, HS_LOG_DEBUG, "sim: card %s inserted in slot %s",
		card->name ? card->name : "?", slot->name);
	if (slot->ops && slot->ops->inserted)
		slot->ops->inserted(slot);
	return 0;
}

int sim_coldplug(struct sim_slot *slot, const struct sim_card_spec *card)
{
	struct sim_card *c;
	int rc;

	if (slot->card)
		return -HS_EBUSY;
	if (!card || !card->nfuncs)
		return -HS_EINVAL;
	rc = sim_card_create(slot->sim, card, slot->bus, slot->dev, slot, &c);
	if (rc)
		return rc;
	slot->card = c;
	slot->mrl_open = false;
	if (slot->ops && slot->ops->coldplugged)
		slot->ops->coldplugged(slot);
	c->cold = true; /* up since power-on: no 100 ms to count */
	return 0;
}

int sim_remove(struct sim_slot *slot, enum sim_remove_how how)
{
	struct sim_card *c = slot->card;

	if (!c)
		return -HS_ENOENT;
	if (slot->interlock)
		return -HS_EBUSY;
	if (how == SIM_REMOVE_ORDERLY && !slot->mrl_open &&
	    (slot->feat.mrl_sensor || slot->kind == SIM_SLOT_CPCI)) {
		slot->mrl_open = true;
		if (slot->ops && slot->ops->latch)
			slot->ops->latch(slot, true);
	}
	slot->card = NULL;
	slot->connected = false;
	sim_card_destroy(c);
	sim_log(slot->sim, HS_LOG_DEBUG, "sim: card pulled from slot %s%s",
		slot->name, how == SIM_REMOVE_SURPRISE ? " (surprise)" : "");
	if (slot->ops && slot->ops->removed)
		slot->ops->removed(slot);
	return 0;
}

int sim_press_button(struct sim_slot *slot)
{
	if (!slot->feat.attention_button)
		return -HS_ENOTSUP;
	if (slot->ops && slot->ops->button)
		slot->ops->button(slot);
	return 0;
}

int sim_set_latch(struct sim_slot *slot, bool open)
{
	if (!slot->feat.mrl_sensor && slot->kind != SIM_SLOT_CPCI)
		return -HS_ENOTSUP;
	if (open && slot->interlock)
		return -HS_EBUSY;
	if (slot->kind == SIM_SLOT_CPCI && !slot->card)
		return -HS_ENOENT; /* the ejector is on the board */
	if (slot->mrl_open == open)
		return 0;
	slot->mrl_open = open;
	if (slot->ops && slot->ops->latch)
		slot->ops->latch(slot, open);
	return 0;
}

int sim_inject_power_fault(struct sim_slot *slot)
{
	slot->power_fault = true;
	if (slot->ops && slot->ops->power_fault)
		slot->ops->power_fault(slot);
	return 0;
}

static void bounce_tick(struct sim *sim, void *arg, uintptr_t tag)
{
	struct sim_slot *slot = arg;
	bool state = tag != 0;

	slot->bounce_ev = 0;
	if (sim->now >= slot->bounce_end) {
		/* Settle on the truth. */
		slot->bouncing = false;
		if (slot->bounce_link) {
			/* The glitches took the card off the bus and back;
			 * it ends as it was, if it still has power. */
			if (slot->ops && slot->ops->link_glitch)
				slot->ops->link_glitch(slot,
						       slot->bounce_truth &&
							       slot->card &&
							       slot->powered);
		} else if (slot->ops && slot->ops->presence_glitch) {
			slot->ops->presence_glitch(slot, slot->card != NULL);
		}
		return;
	}
	if (slot->bounce_link) {
		if (slot->ops && slot->ops->link_glitch)
			slot->ops->link_glitch(slot, state);
	} else if (slot->ops && slot->ops->presence_glitch) {
		slot->ops->presence_glitch(slot, state);
	}
	hs_time_t left = slot->bounce_end - sim->now;
	hs_time_t step = HS_USEC(slot->bounce_period);

	slot->bounce_ev = sim_schedule(sim, step < left ? step : left,
				       bounce_tick, slot, !state);
}

int sim_bounce(struct sim_slot *slot, bool link, uint32_t period_us,
	       uint32_t duration_us)
{
	if (!period_us || !duration_us)
		return -HS_EINVAL;
	sim_cancel(slot->sim, slot->bounce_ev);
	slot->bouncing = true;
	slot->bounce_link = link;
	slot->bounce_period = period_us;
	slot->bounce_end = slot->sim->now + HS_USEC(duration_us);
	slot->bounce_truth = slot->connected;
	/* First glitch: the opposite of what the slot shows now. */
	bounce_tick(slot->sim, slot, link ? !slot->connected : !slot->card);
	return 0;
}

int sim_set_link_fail(struct sim_slot *slot, bool fail)
{
	if (slot->kind != SIM_SLOT_PCIE)
		return -HS_ENOTSUP;
	slot->link_fail = fail;
	return 0;
}

int sim_card_hang(struct sim_slot *slot)
{
	if (!slot->card)
		return -HS_ENOENT;
	sim_card_kill(slot->card);
	return 0;
}

int sim_card_dma(struct sim_slot *slot, unsigned fn, uint64_t addr,
		 size_t len, unsigned count)
{
	static const uint8_t junk[64] = { 0xde, 0xad, 0xbe, 0xef };
	unsigned through = 0;

	if (!slot->card || fn > 7 || !slot->card->fn[fn])
		return -HS_ENOENT;
	if (!len || len > sizeof(junk))
		return -HS_EINVAL;
	for (unsigned i = 0; i < count; i++)
		if (sim_fn_dma_write(slot->card->fn[fn], addr + i * len, junk,
				     len) == 0)
			through++;
	return (int)through;
}

/* ---- walking ----------------------------------------------------------- */

static const char *fn_kind_name(const struct sim_fn *fn)
{
	if (fn->model && fn->model->kind)
		return fn->model->kind;
	switch (fn->kind) {
	case SIM_FN_PCI_BRIDGE:
		return "pci-bridge";
	case SIM_FN_SHPC_BRIDGE:
		return "shpc-bridge";
	case SIM_FN_CPCI_BRIDGE:
		return "cpci-bridge";
	case SIM_FN_PCIE_PORT:
		return "pcie-port";
	default:
		return "endpoint";
	}
}

static const struct sim_slot *fn_slot(const struct sim_fn *fn)
{
	const struct sim_card *c = fn->card;

	while (c && c->parent)
		c = c->parent;
	return c ? c->slot : NULL;
}

static int walk_bus(struct sim *sim, struct sim_bus *bus, unsigned busno,
		    int depth,
		    int (*cb)(void *, const struct sim_walk_node *), void *arg)
{
	for (int i = 0; i < 256; i++) {
		struct sim_fn *fn = bus->fn[i];
		struct sim_walk_node n;
		int rc;

		if (!fn)
			continue;
		n.depth = depth;
		n.where = HS_BDF(sim->cfg.segment, busno, i >> 3, i & 7);
		n.fn = fn;
		n.slot = fn_slot(fn);
		n.controls = sim_fn_slot(fn);
		n.kind = fn_kind_name(fn);
		rc = cb(arg, &n);
		if (rc)
			return rc;
		if (fn->secondary) {
			rc = walk_bus(sim, fn->secondary,
				      sim_cfg_get(&fn->cfg, 0x19, 1), depth + 1,
				      cb, arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int sim_walk(struct sim *sim, int (*cb)(void *, const struct sim_walk_node *),
	     void *arg)
{
	return walk_bus(sim, sim->root, sim->cfg.bus_first, 0, cb, arg);
}

uint32_t sim_fn_peek(const struct sim_fn *fn, uint16_t off, unsigned width)
{
	return sim_cfg_get(&fn->cfg, off, width);
}

bool sim_fn_responds(const struct sim_fn *fn)
{
	return sim_fn_alive(fn);
}
