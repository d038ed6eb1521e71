/*
 * its.c - MSIs of the aarch64 image: the LPIs of the GICv3 redistributor
 * and the ITS of QEMU's virt machine (-machine virt,gic-version=3,its=on),
 * per the GICv3/GICv4 architecture specification (ARM IHI 0069).
 *
 * Owns: the LPI configuration and pending tables (GICR_PROPBASER,
 * GICR_PENDBASER, 5.1.1), the ITS device and collection tables
 * (GITS_BASER<n>), the command queue (GITS_CBASER/CWRITER/CREADR, 5.3),
 * one interrupt translation table (ITT) a mapped device, the MSI pool,
 * and the mapping of each vector to the requester that writes it.
 *
 * A vector is an LPI INTID, 8192 + k for k < HSA_LPI_COUNT.  An MSI is
 * a write of the EventID to GITS_TRANSLATER; the ITS finds the ITT by
 * the write's DeviceID (on virt the PCI Requester ID: the host bridge's
 * msi-map is the identity) and the LPI by the EventID (5.2).  So
 * msi_message maps the requester (MAPD, once a device) and the vector
 * (MAPTI DeviceID, EventID k -> LPI 8192 + k, collection 0), and
 * msi_free unmaps them again (DISCARD; MAPD V=0 with the device's last
 * vector), so a card inserted again at the same address starts from
 * nothing.  EventID k is the vector's index in the pool: msi_alloc's
 * blocks are aligned to their size, so a multi-message MSI function's
 * data (PCI Local Bus 3.0, 6.8.1.3: the message number in the low bits)
 * still names its own events.
 *
 * Every LPI is enabled in the configuration table once, before LPIs are
 * (GICR_CTLR.EnableLPIs): what decides whether one can arrive is whether
 * the ITS maps it, so the table never changes and needs no INV.
 *
 * The queue is driven synchronously: each batch of commands ends with a
 * SYNC and is waited for until GITS_CREADR reaches GITS_CWRITER.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "../bare/console.h"
#include "../bare/libc.h"
#include "arm.h"
#include "virt.h"

#define GITS_CTLR 0x0000
#define GITS_TYPER 0x0008
#define GITS_CBASER 0x0080
#define GITS_CWRITER 0x0088
#define GITS_CREADR 0x0090
#define GITS_BASER 0x0100
#define GITS_TRANSLATER 0x10040   /* in the second 64 KiB frame */
#define GICR_CTLR 0x0000
#define GICR_TYPER 0x0008
#define GICR_PROPBASER 0x0070
#define GICR_PENDBASER 0x0078

#define LPI_ID_BITS 14            /* INTIDs < 16384: 8192 LPIs at most */
#define EVENT_BITS 6              /* EventIDs 0..63: the pool's size */
#define DEV_BITS 16               /* bus << 8 | devfn */
#define CMDQ_SIZE 4096u
#define ITT_MAX_ENTRY 16u         /* GITS_TYPER.ITT_entry_size <= 16 */
#define ITT_BYTES ((1u << EVENT_BITS) * ITT_MAX_ENTRY)
#define DT_BYTES (8u << DEV_BITS) /* 8-byte entries (checked at init) */
#define NONE 0xFFFFFFFFu

#define CMD_SYNC 0x05
#define CMD_MAPD 0x08
#define CMD_MAPC 0x09
#define CMD_MAPTI 0x0A
#define CMD_DISCARD 0x0F

/* One ITS-mapped device: its DeviceID and how many vectors use it. */
struct its_dev {
	uint32_t devid;           /* NONE: free */
	unsigned nvec;
};

static uint8_t prop[(1u << LPI_ID_BITS) - HSA_LPI_BASE]
	__attribute__((aligned(4096)));
static uint8_t pend[(1u << LPI_ID_BITS) / 8] __attribute__((aligned(65536)));
static uint8_t devtab[DT_BYTES] __attribute__((aligned(65536)));
static uint8_t colltab[4096] __attribute__((aligned(65536)));
static uint64_t cmdq[CMDQ_SIZE / 8] __attribute__((aligned(65536)));
static uint8_t itt[HSA_LPI_COUNT][ITT_BYTES] __attribute__((aligned(256)));
static struct its_dev devs[HSA_LPI_COUNT];  /* by ITT */
static uint8_t vec_dev[HSA_LPI_COUNT];      /* devs index, if mapped */
static uint64_t used, mapped;               /* bit k: LPI 8192 + k */
static uint32_t cwriter;
static uint64_t target;                     /* RDbase field of MAPC/SYNC */
static bool ready;

static uint64_t rd64(uint64_t a)
{
	return *(volatile uint64_t *)a;
}

static void wr64(uint64_t a, uint64_t v)
{
	*(volatile uint64_t *)a = v;
}

/* ---- the command queue (5.3) --------------------------------------------- */

static void cmd(uint64_t d0, uint64_t d1, uint64_t d2)
{
	uint64_t *c = &cmdq[cwriter / 8];

	c[0] = d0;
	c[1] = d1;
	c[2] = d2;
	c[3] = 0;
	cwriter = (cwriter + 32) % CMDQ_SIZE;
}

/* SYNC, hand the batch to the ITS and wait for it.  The ITS works while
 * GITS_CREADR != GITS_CWRITER; CREADR bit 0 (Stalled) means a command
 * failed (6.3.4). */
static int run(void)
{
	uint64_t r;

	cmd(CMD_SYNC, 0, target);
	__asm__ volatile("dsb sy" : : : "memory");
	wr64(VIRT_GITS + GITS_CWRITER, cwriter);
	for (unsigned long n = 0; n < 10000000ul; n++) {
		r = rd64(VIRT_GITS + GITS_CREADR);
		if (r & 1)
			break;
		if ((r & 0xFFFE0) == cwriter)
			return 0;
	}
	hsq_out("log level=err msg=\"its: command queue %s at 0x%llx "
		"(cwriter 0x%x)\"", r & 1 ? "stalled" : "stuck",
		(unsigned long long)(r & 0xFFFE0), (unsigned)cwriter);
	return -HS_EIO;
}

static void mapd(uint32_t devid, unsigned slot, bool valid)
{
	cmd(CMD_MAPD | (uint64_t)devid << 32, valid ? EVENT_BITS - 1 : 0,
	    valid ? (1ull << 63) | ((uintptr_t)itt[slot] & ~0xFFull) : 0);
}

/* ---- the pool and the mappings -------------------------------------------- */

static bool in_pool(uint32_t v)
{
	return v >= HSA_LPI_BASE && v < HSA_LPI_BASE + HSA_LPI_COUNT;
}

bool hsa_msi_allocated(uint32_t vector)
{
	return in_pool(vector) && used >> (vector - HSA_LPI_BASE) & 1;
}

/* Drop vector k's translation; the device's mapping with its last one. */
static void unmap(unsigned k)
{
	struct its_dev *d = &devs[vec_dev[k]];

	cmd(CMD_DISCARD | (uint64_t)d->devid << 32, k, 0);
	mapped &= ~(1ull << k);
	if (--d->nvec == 0) {
		mapd(d->devid, vec_dev[k], false);
		d->devid = NONE;
	}
}

int hsa_msi_alloc(unsigned count, uint32_t *first)
{
	uint64_t mask;

	/* A power-of-two block aligned to its size (PCI Local Bus 3.0,
	 * 6.8.1.3). */
	if (!ready)
		return -HS_ENOTSUP;
	if (!count || count > 32 || (count & (count - 1)))
		return -HS_EINVAL;
	mask = (1ull << count) - 1;
	for (unsigned k = 0; k + count <= HSA_LPI_COUNT; k += count)
		if (!(used & mask << k)) {
			used |= mask << k;
			*first = HSA_LPI_BASE + k;
			return 0;
		}
	return -HS_ENOSPC;
}

void hsa_msi_free(uint32_t first, unsigned count)
{
	bool any = false;

	for (unsigned n = 0; n < count; n++) {
		unsigned k = first + n - HSA_LPI_BASE;

		if (!in_pool(first + n))
			continue;
		if (mapped >> k & 1) {
			unmap(k);
			any = true;
		}
		used &= ~(1ull << k);
	}
	if (any)
		run();
}

int hsa_msi_message(hs_bdf_t requester, uint32_t vector,
		    struct hs_msi_msg *msg)
{
	uint32_t devid = (uint32_t)HS_BDF_BUS(requester) << 8 |
			 HS_BDF_DEVFN(requester);
	unsigned k = vector - HSA_LPI_BASE, slot, freeslot = HSA_LPI_COUNT;
	int rc;

	if (!hsa_msi_allocated(vector) || HS_BDF_SEG(requester) != 0)
		return -HS_EINVAL;
	if (mapped >> k & 1) {
		if (devs[vec_dev[k]].devid == devid)
			goto out;     /* already this requester's */
		unmap(k);
	}
	for (slot = 0; slot < HSA_LPI_COUNT; slot++) {
		if (devs[slot].devid == devid)
			break;
		if (devs[slot].devid == NONE && freeslot == HSA_LPI_COUNT)
			freeslot = slot;
	}
	if (slot == HSA_LPI_COUNT) {
		/* Each device holds a vector: never more than there are. */
		if (freeslot == HSA_LPI_COUNT)
			return -HS_ENOSPC;
		slot = freeslot;
		memset(itt[slot], 0, sizeof(itt[slot]));
		devs[slot].devid = devid;
		devs[slot].nvec = 0;
		mapd(devid, slot, true);
	}
	cmd(CMD_MAPTI | (uint64_t)devid << 32, (uint64_t)vector << 32 | k, 0);
	devs[slot].nvec++;
	vec_dev[k] = (uint8_t)slot;
	mapped |= 1ull << k;
	if ((rc = run()))
		return rc;
out:
	msg->address = VIRT_GITS + GITS_TRANSLATER;
	msg->data = k;
	return 0;
}

/* ---- start ----------------------------------------------------------------- */

/* Program the GITS_BASER<n> of one table type (1 device, 4 collection)
 * for a flat table of bytes at base, in 4 KiB pages (6.3.11). */
static int baser(unsigned type, void *base, size_t bytes, unsigned esize)
{
	for (unsigned n = 0; n < 8; n++) {
		uint64_t a = VIRT_GITS + GITS_BASER + 8 * n, v = rd64(a);

		if ((v >> 56 & 7) != type)
			continue;
		if ((v >> 48 & 0x1F) + 1 > esize)
			return -HS_ENOTSUP;
		/* Valid, Normal non-cacheable (the MMU is off: nothing is
		 * cached), flat, 4 KiB pages. */
		v = 1ull << 63 | 1ull << 59 | (v & 0x1Full << 48) |
		    (uint64_t)(uintptr_t)base | (bytes / 4096 - 1);
		wr64(a, v);
		if (!(rd64(a) >> 63) || (rd64(a) >> 8 & 3))
			return -HS_ENOTSUP;  /* 4 KiB pages refused */
		return 0;
	}
	return -HS_ENOENT;
}

int hsa_its_init(struct hsa_machine *m)
{
	uint64_t typer = rd64(VIRT_GITS + GITS_TYPER);
	uint64_t rtyper = rd64(VIRT_GICR + GICR_TYPER);
	int rc;

	m->msi_first = HSA_LPI_BASE;
	m->msi_count = 0;
	if (!(rtyper & 1))                       /* GICR_TYPER.PLPIS */
		return -HS_ENOTSUP;
	if ((typer >> 4 & 0xF) + 1 > ITT_MAX_ENTRY ||
	    (typer >> 8 & 0x1F) + 1 < EVENT_BITS ||
	    (typer >> 13 & 0x1F) + 1 < DEV_BITS)
		return -HS_ENOTSUP;
	for (unsigned i = 0; i < HSA_LPI_COUNT; i++)
		devs[i].devid = NONE;
	/* LPIs: enabled (bit 0) at the priority of the other lines. */
	for (unsigned k = 0; k < HSA_LPI_COUNT; k++)
		prop[k] = 0xA0 | 1;
	__asm__ volatile("dsb sy" : : : "memory");
	wr64(VIRT_GICR + GICR_PROPBASER, (uint64_t)(uintptr_t)prop |
	     1ull << 7 | (LPI_ID_BITS - 1));
	/* The table is zero (.bss): PTZ says so (bit 62). */
	wr64(VIRT_GICR + GICR_PENDBASER, 1ull << 62 |
	     (uint64_t)(uintptr_t)pend | 1ull << 7);
	mmio_write(VIRT_GICR + GICR_CTLR, 4,
		   mmio_read(VIRT_GICR + GICR_CTLR, 4) | 1);  /* EnableLPIs */

	mmio_write(VIRT_GITS + GITS_CTLR, 4, 0);
	if ((rc = baser(1, devtab, sizeof(devtab), 8)) ||
	    (rc = baser(4, colltab, sizeof(colltab), 8)))
		return rc;
	wr64(VIRT_GITS + GITS_CBASER, 1ull << 63 | 1ull << 59 |
	     (uint64_t)(uintptr_t)cmdq | (CMDQ_SIZE / 4096 - 1));
	cwriter = 0;
	wr64(VIRT_GITS + GITS_CWRITER, 0);
	mmio_write(VIRT_GITS + GITS_CTLR, 4, 1);            /* Enabled */
	/* Collection 0 targets this CPU's redistributor: by its address
	 * when GITS_TYPER.PTA, else by its processor number (6.3.8). */
	target = typer >> 19 & 1 ? VIRT_GICR & ~0xFFFFull
				 : (rtyper >> 8 & 0xFFFF) << 16;
	cmd(CMD_MAPC, 0, 1ull << 63 | target | 0);
	if ((rc = run()))
		return rc;
	ready = true;
	m->msi_count = HSA_LPI_COUNT;
	return 0;
}
