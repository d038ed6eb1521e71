/*
 * hs_cfg.c - configuration space access for the core.
 *
 * Owns: typed accessors and capability walks.  A card controls its own
 * capability pointers, so a walk trusts none of them: each pointer must
 * stay inside the capability area and be DWORD aligned, and a bitmap of
 * visited offsets stops a list that loops.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hotswap/cfg.h"

#define PCI_STATUS        0x06
#define PCI_STATUS_CAPS   0x10
#define PCI_CAP_PTR       0x34
#define PCI_CAP_PTR_CB    0x14 /* CardBus header */
#define PCI_HDR_TYPE      0x0e

/* rd and walk_std are not inlined: one call is shorter than the
 * arguments' set-up at each of theirs (issue #18: code size). */
__attribute__((noinline))
static int rd(const struct hs_platform *p, hs_bdf_t bdf, uint16_t off,
	      unsigned w, uint32_t *v)
{
	return p->ops->cfg_read(p->ctx, bdf, off, w, v);
}

int hs_cfg_read8(const struct hs_platform *p, hs_bdf_t bdf, uint16_t off,
		 uint8_t *val)
{
	uint32_t v;
	int rc = rd(p, bdf, off, 1, &v);

	*val = (uint8_t)v;
	return rc;
}

int hs_cfg_read16(const struct hs_platform *p, hs_bdf_t bdf, uint16_t off,
		  uint16_t *val)
{
	uint32_t v;
	int rc = rd(p, bdf, off, 2, &v);

	*val = (uint16_t)v;
	return rc;
}

int hs_cfg_read32(const struct hs_platform *p, hs_bdf_t bdf, uint16_t off,
		  uint32_t *val)
{
	return rd(p, bdf, off, 4, val);
}

int hs_cfg_write8(const struct hs_platform *p, hs_bdf_t bdf, uint16_t off,
		  uint8_t val)
{
	return p->ops->cfg_write(p->ctx, bdf, off, 1, val);
}

int hs_cfg_write16(const struct hs_platform *p, hs_bdf_t bdf, uint16_t off,
		   uint16_t val)
{
	return p->ops->cfg_write(p->ctx, bdf, off, 2, val);
}

int hs_cfg_write32(const struct hs_platform *p, hs_bdf_t bdf, uint16_t off,
		   uint32_t val)
{
	return p->ops->cfg_write(p->ctx, bdf, off, 4, val);
}

bool hs_cfg_present(const struct hs_platform *p, hs_bdf_t bdf)
{
	uint16_t vid;

	if (hs_cfg_read16(p, bdf, 0, &vid))
		return false;
	return vid != 0xffff && vid != 0x0001 && vid != 0x0000;
}

/* Walk the standard list; stop at id (or never, with id 0), recording
 * every capability's first offset in all[] when given. */
static int walk_std_all(const struct hs_platform *p, hs_bdf_t bdf, uint8_t id,
			uint16_t *off, uint16_t *all, int hdr_type,
			int status_reg)
{
	uint8_t seen[256 / 32] = { 0 };
	uint16_t status, cap;
	uint8_t hdr, ptr, cap_id;
	int rc;

	if (status_reg >= 0)
		status = (uint16_t)status_reg;
	else if ((rc = hs_cfg_read16(p, bdf, PCI_STATUS, &status)))
		return rc;
	if (status == 0xffff)
		return -HS_ENODEV;
	if (!(status & PCI_STATUS_CAPS))
		return -HS_ENOENT;
	/* The caller may already know the Header Type (a scan read it). */
	if (hdr_type >= 0)
		hdr = (uint8_t)hdr_type;
	else if ((rc = hs_cfg_read8(p, bdf, PCI_HDR_TYPE, &hdr)))
		return rc;
	rc = hs_cfg_read8(p, bdf,
			  (hdr & 0x7f) == 2 ? PCI_CAP_PTR_CB : PCI_CAP_PTR,
			  &ptr);
	if (rc)
		return rc;
	/* All ones is what a failed or unanswered read returns; taken as
	 * a pointer it would send the walk to 0xfc, find nothing there and
	 * report no capabilities at all. */
	if (ptr == 0xff)
		return -HS_ENODEV;
	/* The bottom two bits of a pointer are reserved (PCI 3.0 6.7). */
	for (ptr &= 0xfc; ptr; ptr &= 0xfc) {
		if (ptr < 0x40)
			return -HS_EFAULT;
		if (seen[ptr / 4 / 8] & (1u << (ptr / 4 % 8)))
			return -HS_ELOOP;
		seen[ptr / 4 / 8] |= (uint8_t)(1u << (ptr / 4 % 8));
		/* ID and Next Pointer in one 16-bit read: the pointer is
		 * DWORD aligned, so the pair never straddles a DWORD. */
		rc = hs_cfg_read16(p, bdf, ptr, &cap);
		if (rc)
			return rc;
		cap_id = (uint8_t)cap;
		if (cap_id == 0xff)
			return -HS_ENODEV; /* the card went away mid-walk */
		if (id && cap_id == id) {
			*off = ptr;
			return 0;
		}
		if (all && !all[cap_id])
			all[cap_id] = ptr;
		ptr = (uint8_t)(cap >> 8);
	}
	return -HS_ENOENT;
}

__attribute__((noinline))
static int walk_std(const struct hs_platform *p, hs_bdf_t bdf, uint8_t id,
		    uint16_t *off)
{
	return walk_std_all(p, bdf, id, off, NULL, -1, -1);
}

int hs_cfg_scan_caps(const struct hs_platform *p, hs_bdf_t bdf, int hdr_type,
		     int status, uint16_t offs[256])
{
	uint16_t off;

	for (unsigned i = 0; i < 256; i++)
		offs[i] = 0;
	return walk_std_all(p, bdf, 0, &off, offs, hdr_type, status);
}

static int walk_ext(const struct hs_platform *p, hs_bdf_t bdf, uint16_t id,
		    uint16_t *off)
{
	/* 0x100..0xffc: 960 DWORDs, one bit each. */
	uint8_t seen[(HS_CFG_SIZE - 0x100) / 4 / 8] = { 0 };
	uint16_t at = 0x100;
	uint32_t h;
	int rc;

	for (;;) {
		unsigned idx = (at - 0x100u) / 4;

		if (seen[idx / 8] & (1u << (idx % 8)))
			return -HS_ELOOP;
		seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
		rc = hs_cfg_read32(p, bdf, at, &h);
		if (rc)
			return rc;
		if (h == 0xffffffffu)
			return at == 0x100 ? -HS_ENOENT : -HS_ENODEV;
		if (h == 0)
			return -HS_ENOENT; /* no extended capabilities */
		if (id && (h & 0xffff) == id) {
			*off = at;
			return 0;
		}
		at = (uint16_t)(h >> 20);
		if (!at)
			return -HS_ENOENT;
		if (at < 0x100 || (at & 3))
			return -HS_EFAULT;
	}
}

int hs_cfg_find_cap(const struct hs_platform *p, hs_bdf_t bdf, uint8_t id,
		    uint16_t *off)
{
	return id ? walk_std(p, bdf, id, off) : -HS_EINVAL;
}

int hs_cfg_find_ext_cap(const struct hs_platform *p, hs_bdf_t bdf,
			uint16_t id, uint16_t *off)
{
	return id ? walk_ext(p, bdf, id, off) : -HS_EINVAL;
}

int hs_cfg_check_caps(const struct hs_platform *p, hs_bdf_t bdf)
{
	uint16_t off;
	int rc = walk_std(p, bdf, 0, &off);

	if (rc && rc != -HS_ENOENT)
		return rc;
	/* Extended space exists only on PCI Express functions. */
	if (walk_std(p, bdf, 0x10, &off) == 0) {
		rc = walk_ext(p, bdf, 0, &off);
		if (rc && rc != -HS_ENOENT)
			return rc;
	}
	return 0;
}
