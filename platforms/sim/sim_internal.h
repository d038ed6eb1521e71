/*
 * sim_internal.h - structures shared by the simulator's source files.
 *
 * Owns: the register model (struct sim_cfg), functions, buses, slots,
 * card instances, the event queue, and the hooks through which a device
 * model (card, PCIe port, SHPC, CompactPCI) reacts to cycles.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SIM_INTERNAL_H
#define HOTSWAP_SIM_INTERNAL_H

#include "sim.h"

/* ---- register model (cfgspace.c) --------------------------------------- */

/*
 * One function's configuration space, modelled per byte the way QEMU's
 * hw/pci does: data, a mask of bits software may write, and a mask of bits
 * that are write-1-to-clear.  Everything else is read-only.
 */
struct sim_cfg {
	uint8_t data[HS_CFG_SIZE];
	uint8_t wmask[HS_CFG_SIZE];
	uint8_t w1cmask[HS_CFG_SIZE];
	uint16_t cap_next;    /* where the next standard capability goes */
	uint16_t cap_last;    /* offset of the last one (0: none yet) */
	uint16_t ext_next;    /* where the next extended capability goes */
	uint16_t ext_last;
	/* Bumped on every change of data[] (never 0), re-initialisation
	 * included: what was decoded from an older gen is stale. */
	uint32_t gen;
};

void sim_cfg_init(struct sim_cfg *c);
uint32_t sim_cfg_get(const struct sim_cfg *c, uint16_t off, unsigned width);
/* Raw store: masks ignored (hardware changing its own registers). */
void sim_cfg_set(struct sim_cfg *c, uint16_t off, unsigned width,
		 uint32_t val);
void sim_cfg_set_wmask(struct sim_cfg *c, uint16_t off, unsigned width,
		       uint32_t mask);
void sim_cfg_set_w1c(struct sim_cfg *c, uint16_t off, unsigned width,
		     uint32_t mask);
/* A software write, through the masks. */
void sim_cfg_write(struct sim_cfg *c, uint16_t off, unsigned width,
		   uint32_t val);
/* Raw bit helpers for device models. */
void sim_cfg_setbits(struct sim_cfg *c, uint16_t off, unsigned width,
		     uint32_t bits);
void sim_cfg_clrbits(struct sim_cfg *c, uint16_t off, unsigned width,
		     uint32_t bits);
/* Append a capability of size bytes; returns its offset, 0 if full.
 * Links it into the list and sets Status.Capabilities List. */
uint16_t sim_cfg_add_cap(struct sim_cfg *c, uint8_t id, unsigned size);
uint16_t sim_cfg_add_ext_cap(struct sim_cfg *c, uint16_t id, uint8_t ver,
			     unsigned size);

/* ---- register blocks (regblock.c) --------------------------------------- */

/*
 * A device's block of 32-bit registers behind a BAR (or a config window):
 * the model reads a dword register, and takes a write of the bytes wm
 * selects (0xff per lane written).  regblock.c splits accesses of any
 * width and alignment into those calls.
 */
struct sim_regblock {
	uint32_t (*read)(void *ctx, uint32_t off);
	void (*write)(void *ctx, uint32_t off, uint32_t val, uint32_t wm);
	void *ctx;
	uint64_t size;        /* bytes; accesses past it read 0, write nothing */
};

uint64_t sim_regblock_read(const struct sim_regblock *rb, uint64_t off,
			   unsigned width);
void sim_regblock_write(const struct sim_regblock *rb, uint64_t off,
			unsigned width, uint64_t val);
/* The bytes of a config write (off, width, val) inside the dword window at
 * window, as a value and byte-lane mask of that dword; false if none. */
bool sim_regblock_window(uint16_t off, unsigned width, uint32_t val,
			 uint16_t window, uint32_t *v, uint32_t *wm);
/* One register's write rule: w1c bits written 1 clear, rw bits take the
 * value, the rest are read-only; wm selects the bytes written. */
uint32_t sim_reg_apply(uint32_t cur, uint32_t val, uint32_t wm, uint32_t rw,
		       uint32_t w1c);

/* ---- events (sim.c) ----------------------------------------------------- */

typedef void (*sim_event_fn)(struct sim *sim, void *arg, uintptr_t tag);

struct sim_event {
	hs_time_t when;
	uint64_t seq;       /* FIFO among equal times */
	sim_event_fn fn;
	void *arg;
	uintptr_t tag;
	unsigned id;
};

/* Schedule fn after delay; returns a non-zero id. */
unsigned sim_schedule(struct sim *sim, hs_time_t delay, sim_event_fn fn,
		      void *arg, uintptr_t tag);
void sim_cancel(struct sim *sim, unsigned id);
/* Cancel every event whose arg is arg (an object going away). */
void sim_cancel_arg(struct sim *sim, const void *arg);

/* ---- functions, buses, slots ------------------------------------------- */

enum sim_fn_kind {
	SIM_FN_ENDPOINT = 1,
	SIM_FN_PCI_BRIDGE,
	SIM_FN_PCIE_PORT,   /* root, upstream or downstream port */
	SIM_FN_SHPC_BRIDGE,
	SIM_FN_CPCI_BRIDGE,
};

struct sim_fn;

/* Behaviour hooks of a device model.  All optional. */
struct sim_fn_model {
	const char *kind;
	/* After a software write was stored through the masks; old is the
	 * value the written bytes held before. */
	void (*cfg_written)(struct sim_fn *fn, uint16_t off, unsigned width,
			    uint32_t old, uint32_t val);
	/* BAR accesses decoded to this function; off is from the BAR start. */
	uint64_t (*bar_read)(struct sim_fn *fn, int bar, uint64_t off,
			     unsigned width);
	void (*bar_write)(struct sim_fn *fn, int bar, uint64_t off,
			  unsigned width, uint64_t val);
	/* Conventional reset (power loss): rebuild config space. */
	void (*reset)(struct sim_fn *fn);
	void (*destroy)(struct sim_fn *fn);
};

/* BAR as decoded from the silicon's point of view. */
struct sim_bar {
	enum sim_bar_type type; /* NONE for an absent BAR or upper half */
	bool prefetch;
	uint64_t size;
};

struct sim_card;

struct sim_fn {
	struct sim *sim;
	struct sim_bus *bus;        /* bus the function sits on */
	uint8_t devfn;
	enum sim_fn_kind kind;
	struct sim_cfg cfg;
	struct sim_bar bar[6];
	uint32_t rom_size;
	const struct sim_fn_model *model;
	void *model_data;
	struct sim_bus *secondary;  /* bridges */
	struct sim_card *card;      /* the card this function is on */
	const struct sim_func_spec *spec; /* endpoint/bridge on a card */
	uint16_t pcie_cap, msi_cap, msix_cap, hs_cap, shpc_cap;
	bool dead;                  /* stopped answering */
	uint8_t intx_level;         /* INTx# currently asserted (0/1) */
	unsigned quirks;
	uint32_t *msix_table;       /* 4 dwords a vector, in msix BAR */
	uint64_t msix_pending;      /* PBA, first 64 vectors */
	/* fabric.c's decode cache: the registers memory and I/O cycles are
	 * routed by (Command, BARs, ROM BAR, bridge windows), decoded once
	 * per change of cfg (cfg.gen), not byte by byte on every cycle. */
	struct sim_decode {
		uint32_t gen;       /* cfg.gen decoded (0: never) */
		uint16_t cmd;
		/* What the function itself claims: BARs (0-5) and an
		 * enabled ROM (6), memory and I/O apart. */
		struct sim_dec_range {
			uint64_t base, size;
			int bar;
		} mem[7], io[6];
		unsigned nmem, nio;
		bool mem_ok, pref_ok, io_ok;
		uint64_t mem_b, mem_l, pref_b, pref_l;
		uint32_t io_b, io_l;
	} dec;
};

struct sim_bus {
	struct sim *sim;
	struct sim_fn *bridge;      /* NULL for the root bus */
	struct sim_fn *fn[256];     /* by devfn */
	/* The devfns that hold a function, ascending: decode walks these,
	 * not 256 mostly empty entries, on every memory cycle. */
	uint8_t present[256];
	unsigned npresent;
	struct sim_slot *slot_at[32]; /* receptacle at a device number */
	/* PCIe link below a port: only device 0 is reachable (unless ARI
	 * Forwarding is enabled in the port's Device Control 2). */
	bool link_below_port;
	int depth;
};

struct sim_slot {
	struct sim *sim;
	struct sim_slot *next;
	enum sim_slot_kind kind;
	unsigned phys;
	char name[24];
	struct sim_fn *ctrl;        /* port / SHPC / cPCI bridge */
	unsigned index;             /* logical slot index in its controller */
	struct sim_bus *bus;        /* bus the card's functions land on */
	uint8_t dev;
	struct sim_slot_features feat;
	struct sim_card *card;
	bool powered;               /* power to the card */
	bool connected;             /* card on the bus: PCIe link up,
				       SHPC enabled, cPCI seated */
	bool mrl_open;
	bool interlock;
	bool power_fault;
	bool link_fail;             /* the card's link never trains */
	enum sim_indicator power_ind, attn_ind;
	unsigned train_ev, power_ev, bounce_ev; /* pending events */
	bool bouncing;
	bool bounce_link;
	bool bounce_truth;          /* link state to settle on */
	hs_time_t bounce_end;
	uint32_t bounce_period;
	const struct sim_slot_ctrl_ops *ops;
	void *ctrl_data;
};

/* A card instance: the functions a card spec produced, in one slot or
 * soldered on a bus. */
struct sim_card {
	const struct sim_card_spec *spec;
	struct sim_slot *slot;      /* NULL: soldered */
	struct sim_bus *bus;        /* bus its functions sit on */
	uint8_t dev;
	struct sim_fn *fn[8];
	struct sim_card **sub;      /* cards behind its bridge */
	unsigned nsub;
	struct sim_card *parent;    /* card whose bridge we sit behind */
	hs_time_t ready_at;         /* answers CRS before this */
	hs_time_t linked_at;        /* PCIe slot: when the link came up */
	hs_time_t powered_at;       /* when power reached it (reset exit) */
	bool cold;                  /* coldplugged, not relinked since */
};

/* Helpers from fabric.c. */
struct sim_fn *sim_fn_new(struct sim_bus *bus, uint8_t devfn,
			  enum sim_fn_kind kind, int *err);
void sim_fn_free(struct sim_fn *fn);
struct sim_bus *sim_bus_new(struct sim *sim, struct sim_fn *bridge);
void sim_bus_free(struct sim_bus *bus);
/* Where a bridge with several slots on its secondary bus (SHPC,
 * CompactPCI) may go, and whether its slots fit in 32 device numbers. */
bool sim_multislot_args_ok(const struct sim_bus *bus, uint8_t dev,
			   uint8_t fn, unsigned nslots, unsigned max_slots,
			   uint8_t first_dev);
/* Type 1 header with every bridge register writable (PCI-PCI Bridge 3.2). */
/* Type 0 header with the standard writable / write-1-to-clear bits. */
void sim_fn_header_init(struct sim_fn *fn, uint16_t vendor, uint16_t device,
			uint32_t class_rev);
/* Re-derive Header Type bit 7 of function 0 after a rebuild. */
void sim_fn_fix_multifunction(struct sim_fn *fn);
void sim_bridge_header_init(struct sim_fn *fn, uint16_t vendor,
			    uint16_t device, bool io32, bool pref64);
/* Define BAR n of a function: sets wmask so all-ones sizing works. */
void sim_fn_define_bar(struct sim_fn *fn, int n, enum sim_bar_type type,
		       bool prefetch, uint64_t size);
void sim_fn_define_rom(struct sim_fn *fn, uint32_t size);
/* Current address of a BAR as programmed (0 if unassigned). */
uint64_t sim_fn_bar_addr(const struct sim_fn *fn, int n);
/* Does a function answer config cycles right now? */
bool sim_fn_alive(const struct sim_fn *fn);
/* Interrupts: a function signals its interrupt (MSI if enabled, else
 * INTx if its pin exists and Interrupt Disable is clear).  vector is the
 * MSI / MSI-X vector index inside the function. */
void sim_fn_interrupt(struct sim_fn *fn, unsigned vector);
void sim_fn_intx(struct sim_fn *fn, bool level);
/* DMA from a function: write/read host memory through the bridges.
 * Returns 0, or -EIO when the transaction was blocked (counted). */
int sim_fn_dma_write(struct sim_fn *fn, uint64_t addr, const void *buf,
		     size_t len);
int sim_fn_dma_read(struct sim_fn *fn, uint64_t addr, void *buf, size_t len);
/* Raise a platform line (ENUM# and the like), level semantics. */
void sim_line_set(struct sim *sim, uint32_t line, bool level);
/* The function a BDF names now, routed through the bridges as a config
 * cycle would be, without side effects (no counters, no fault hits);
 * NULL when nothing answers there. */
struct sim_fn *sim_fn_lookup(struct sim *sim, hs_bdf_t bdf);

/* The platform entry points (fabric.c) and chassis plumbing (sim.c). */
int sim_plat_cfg_read(void *ctx, hs_bdf_t bdf, uint16_t off, unsigned width,
		      uint32_t *val);
int sim_plat_cfg_write(void *ctx, hs_bdf_t bdf, uint16_t off, unsigned width,
		       uint32_t val);
int sim_plat_mem_read(void *ctx, uint64_t addr, unsigned width, uint64_t *val);
int sim_plat_mem_write(void *ctx, uint64_t addr, unsigned width, uint64_t val);
int sim_plat_io_read(void *ctx, uint32_t port, unsigned width, uint32_t *val);
int sim_plat_io_write(void *ctx, uint32_t port, unsigned width, uint32_t val);
void sim_intx_line(struct sim *sim, uint32_t line, bool assert);
bool sim_line_level(const struct sim *sim, uint32_t line);
void sim_msi_deliver(struct sim *sim, uint32_t vector);
bool sim_fault_cfg_hit(struct sim *sim);

/* Bridge window decode (exposed for the SHPC and cPCI models and tests). */
bool sim_bridge_forwards_mem(struct sim_fn *br, uint64_t addr);
bool sim_bridge_forwards_io(struct sim_fn *br, uint32_t port);

/* ---- cards (card.c) --------------------------------------------------- */

/* Create the functions of a card on bus at dev (and everything behind
 * its bridge).  slot NULL for a soldered card. */
int sim_card_create(struct sim *sim, const struct sim_card_spec *spec,
		    struct sim_bus *bus, uint8_t dev, struct sim_slot *slot,
		    struct sim_card **out);
void sim_card_destroy(struct sim_card *card);
/* Power loss: every function back to its reset state. */
void sim_card_reset(struct sim_card *card);
/* Mark every function dead (hung card). */
void sim_card_kill(struct sim_card *card);
/* Does config/memory reach this card's functions now (power, link)? */
bool sim_card_reachable(const struct sim_card *card);
/* Keep a soldered card's record until the chassis goes away (sim.c). */
int sim_soldered_add(struct sim *sim, struct sim_card *card);
/* Hook for a slot's model when the card gets a Hot Swap capability. */
extern const struct sim_fn_model sim_card_model;

/* ---- slots (sim.c) ------------------------------------------------------ */

struct sim_slot *sim_slot_new(struct sim *sim, enum sim_slot_kind kind,
			      unsigned phys, struct sim_fn *ctrl,
			      struct sim_bus *bus, uint8_t dev);
/* Slot power changes (called by the controller models). */
void sim_slot_power(struct sim_slot *slot, bool on);
void sim_slot_connect(struct sim_slot *slot, bool on);

/* Controller-specific reactions to physical actions. */
struct sim_slot_ctrl_ops {
	void (*inserted)(struct sim_slot *slot);
	void (*removed)(struct sim_slot *slot);
	void (*button)(struct sim_slot *slot);
	void (*latch)(struct sim_slot *slot, bool open);
	void (*power_fault)(struct sim_slot *slot);
	void (*presence_glitch)(struct sim_slot *slot, bool present);
	void (*link_glitch)(struct sim_slot *slot, bool up);
	/* A card present at chassis power-on: leave the slot as firmware
	 * would (powered, connected, indicators on, no events latched). */
	void (*coldplugged)(struct sim_slot *slot);
	/* Software wrote the config space of a card in this slot (for the
	 * CompactPCI Hot Swap register). */
	void (*card_cfg_written)(struct sim_slot *slot, struct sim_fn *fn,
				 uint16_t off, unsigned width, uint32_t old,
				 uint32_t val);
};
void sim_slot_set_ctrl_ops(struct sim_slot *slot,
			   const struct sim_slot_ctrl_ops *ops);

/* ---- controllers -------------------------------------------------------- */

/* pcie_port.c, shpc.c and cpci.c have only their sim_add_* entry points
 * and the sim_slot_ctrl_ops they install on their slots; cpci.c also
 * tells the platform the line a segment bridge's ENUM# is wired to
 * (-HS_ENOENT when fn is not a CompactPCI segment bridge). */
int sim_cpci_enum_line(const struct sim_fn *fn, uint32_t *line);
/* The segment's slots, as the chassis builder wired them. */
int sim_cpci_layout(const struct sim_fn *fn, unsigned *first_dev,
		    unsigned *nslots, unsigned *first_phys);

/* ---- chassis-wide -------------------------------------------------------- */

struct sim_counters *sim_counters_mut(struct sim *sim);
void sim_log(struct sim *sim, enum hs_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Platform allocator shared by the sim's own objects (counts, can fail by
 * injection only for the core's allocations, not for these). */
void *sim_zalloc(size_t size);

#endif /* HOTSWAP_SIM_INTERNAL_H */
