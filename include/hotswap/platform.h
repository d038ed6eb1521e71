/*
 * hotswap/platform.h - the seam between the OS-independent core and the
 * machine it runs on.
 *
 * Owns: struct hs_platform, the ops table every back-end (the register
 * simulator, the bare-metal QEMU image, Linux) fills in.  A back-end is
 * chosen by which platform file is linked, never by #ifdef in the core.
 *
 * Rules the core follows and every back-end may rely on:
 *  - The core never sleeps or spins.  It arms at most one platform timer
 *    (timer_set) for its earliest deadline and is re-entered through the
 *    callback; interrupts only latch events that the core's dispatcher
 *    applies later.
 *  - Every call is made from one thread of control (the dispatcher's).
 *    Interrupt handlers registered with irq_attach may be called from the
 *    platform's own context and must only latch.
 *  - Config reads of a function that does not answer return all ones and
 *    0 (a master abort is not an error of the access itself); a negative
 *    return means the access could not be made at all (bad offset,
 *    segment not present).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_PLATFORM_H
#define HOTSWAP_PLATFORM_H

#include "hotswap/types.h"

/* C linkage for C++ programs (tests/cli/install.sh builds one). */
#ifdef __cplusplus
extern "C" {
#endif

/* Interrupt sources the platform can deliver into the core. */
enum hs_irq_kind {
	HS_IRQ_INTX = 1, /* a platform interrupt line (after the swizzle) */
	HS_IRQ_MSI = 2,  /* a message-signalled vector from the MSI pool */
	HS_IRQ_LINE = 3, /* another platform line, e.g. CompactPCI ENUM# */
};

struct hs_irq {
	enum hs_irq_kind kind;
	uint32_t number; /* INTx/other: platform line; MSI: vector */
};

/* MSI message a device must write to raise a vector (PCI Local Bus 6.8). */
struct hs_msi_msg {
	uint64_t address;
	uint32_t data;
};

/* What a host bridge decodes: the root of one PCI hierarchy.  Limits are
 * inclusive; a range with limit < base (or limit 0) is absent. */
struct hs_host_bridge {
	uint16_t segment;
	uint8_t bus_first, bus_last;
	uint64_t io_base, io_limit;
	uint64_t mem_base, mem_limit;     /* 32-bit memory */
	uint64_t pref_base, pref_limit;   /* 64-bit prefetchable */
};

typedef void (*hs_irq_fn)(void *arg, const struct hs_irq *irq);
typedef void (*hs_timer_fn)(void *arg);

struct hs_platform_ops {
	/* Host bridges: index 0, 1, ... until -HS_ENOENT. */
	int (*host_bridge)(void *ctx, unsigned index,
			   struct hs_host_bridge *out);

	/* Configuration space: width is 1, 2 or 4; off < 4096 and aligned. */
	int (*cfg_read)(void *ctx, hs_bdf_t bdf, uint16_t off, unsigned width,
			uint32_t *val);
	int (*cfg_write)(void *ctx, hs_bdf_t bdf, uint16_t off, unsigned width,
			 uint32_t val);

	/* Memory and I/O space as seen from the CPU, for device drivers. */
	int (*mem_read)(void *ctx, uint64_t addr, unsigned width,
			uint64_t *val);
	int (*mem_write)(void *ctx, uint64_t addr, unsigned width,
			 uint64_t val);
	int (*io_read)(void *ctx, uint32_t port, unsigned width,
		       uint32_t *val);
	int (*io_write)(void *ctx, uint32_t port, unsigned width,
			uint32_t val);

	/*
	 * DMA-able host memory: returns a CPU pointer and the bus address a
	 * device must use.  NULL dma_alloc means the platform has none.
	 */
	void *(*dma_alloc)(void *ctx, size_t size, uint64_t *bus_addr);
	void (*dma_free)(void *ctx, void *cpu, size_t size);

	/* Interrupts.  MSI vectors come from a platform pool. */
	int (*irq_attach)(void *ctx, const struct hs_irq *irq, hs_irq_fn fn,
			  void *arg);
	void (*irq_detach)(void *ctx, const struct hs_irq *irq);
	int (*msi_alloc)(void *ctx, unsigned count, uint32_t *first_vector);
	/* Frees vectors and whatever msi_message set up for them. */
	void (*msi_free)(void *ctx, uint32_t first_vector, unsigned count);
	/*
	 * The address/data a function must write to raise vector.
	 * requester is the Requester ID (segment, bus/device/function: PCIe
	 * Base 2.2.6.2) its writes carry at the host bridge: its own, or
	 * the one a bridge on the way forwards them with (a PCIe-to-PCI
	 * bridge's secondary bus, device 0, function 0; a conventional PCI
	 * bridge's own ID) - the core knows the tree and works it out.  The
	 * core calls this once for each vector, after msi_alloc and before
	 * the function may write it.  A controller that translates by
	 * requester (a GICv3 ITS: DeviceID and EventID) maps the pair here
	 * and must unmap it in msi_free; one that does not (an x86 local
	 * APIC, a GICv2m frame) may ignore requester.
	 */
	int (*msi_message)(void *ctx, hs_bdf_t requester, uint32_t vector,
			   struct hs_msi_msg *msg);
	/* Platform line a root-bus device's INTx pin (1..4) arrives on. */
	int (*intx_route)(void *ctx, hs_bdf_t root_dev, unsigned pin,
			  uint32_t *line);

	/*
	 * CompactPCI: the platform line (HS_IRQ_LINE) the ENUM# signal of
	 * the backplane behind bridge is wired to.  Optional; NULL or
	 * -HS_ENOENT means not wired, and software polls (PICMG 2.1).
	 */
	int (*enum_line)(void *ctx, hs_bdf_t bridge, uint32_t *line);
	/*
	 * CompactPCI: the slots of the backplane behind bridge as the system
	 * integrator wired them: nslots connectors at device numbers
	 * first_dev.., physical numbers first_phys.. (PICMG 2.0 leaves the
	 * IDSEL routing to the backplane, so no register says).  Optional;
	 * NULL or -HS_ENOENT when not known.
	 */
	int (*backplane)(void *ctx, hs_bdf_t bridge, unsigned *first_dev,
			 unsigned *nslots, unsigned *first_phys);

	/* Clock: monotonic nanoseconds and one one-shot timer. */
	hs_time_t (*now)(void *ctx);
	/* Arm (replacing any earlier arming) or, with fn NULL, disarm. */
	void (*timer_set)(void *ctx, hs_time_t deadline, hs_timer_fn fn,
			  void *arg);

	/* Logging of one formatted line (no trailing newline). */
	void (*log)(void *ctx, enum hs_log_level level, const char *line);

	/*
	 * Allocator, Lua style: nsize 0 frees ptr and returns NULL; otherwise
	 * it resizes (ptr NULL: allocates).  Returns NULL on failure, in which
	 * case ptr is untouched.
	 */
	void *(*realloc)(void *ctx, void *ptr, size_t osize, size_t nsize);
};

struct hs_platform {
	const struct hs_platform_ops *ops;
	void *ctx;
	const char *name; /* "sim", "qemu-x86", "linux" */
};

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_PLATFORM_H */
