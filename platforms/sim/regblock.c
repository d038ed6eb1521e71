/*
 * regblock.c - the simulator's generic block of 32-bit device registers:
 * the one byte-lane splitter and the one mask rule the MMIO models use
 * (the SHPC controller's register set, behind its BAR and behind its
 * DWORD Select / DWORD Data window in config space; the CompactPCI hot
 * swap controller's HA block).
 *
 * Owns: turning an access of any width (1, 2, 4 or 8 bytes) at any
 * alignment into dword register reads, and into one dword register write
 * per dword touched with the byte enables of the bytes written (PCI Local
 * Bus 3.0, 3.2.2: byte enables select the lanes; a write never touches
 * the other bytes of the dword); and the read-only / read-write /
 * write-1-to-clear rule for the bits of one register.  The models keep
 * their registers and their side effects; this file only routes bytes.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "sim_internal.h"

uint32_t sim_reg_apply(uint32_t cur, uint32_t val, uint32_t wm, uint32_t rw,
		       uint32_t w1c)
{
	/* Ones written to write-1-to-clear bits clear them; the writable
	 * bits take the value written; the rest keep what they had. */
	cur &= ~(val & wm & w1c);
	return (cur & ~(wm & rw)) | (val & wm & rw);
}

uint64_t sim_regblock_read(const struct sim_regblock *rb, uint64_t off,
			   unsigned width)
{
	uint64_t v = 0;

	/* Byte by byte: reads have no side effects here, so any width or
	 * alignment behaves like the dword registers it covers.  Bytes past
	 * the block read as zero. */
	for (unsigned i = 0; i < width && i < 8; i++) {
		uint64_t a = off + i;
		uint32_t d = a < rb->size ?
			     rb->read(rb->ctx, (uint32_t)a & ~3u) : 0;

		v |= (uint64_t)((d >> (8 * (a & 3))) & 0xff) << (8 * i);
	}
	return v;
}

void sim_regblock_write(const struct sim_regblock *rb, uint64_t off,
			unsigned width, uint64_t val)
{
	unsigned i = 0;

	if (width > 8)
		width = 8;
	while (i < width) {
		uint64_t dw = (off + i) & ~3ull;
		uint32_t v = 0, wm = 0;

		for (; i < width && ((off + i) & ~3ull) == dw; i++) {
			unsigned b = (unsigned)((off + i) & 3);

			wm |= 0xffu << (8 * b);
			v |= (uint32_t)((val >> (8 * i)) & 0xff) << (8 * b);
		}
		if (dw < rb->size)
			rb->write(rb->ctx, (uint32_t)dw, v, wm);
	}
}

bool sim_regblock_window(uint16_t off, unsigned width, uint32_t val,
			 uint16_t window, uint32_t *v, uint32_t *wm)
{
	/* The bytes of a config write at off..off+width-1 that fall into
	 * the dword window at window, in the lanes of that dword. */
	*v = 0;
	*wm = 0;
	for (unsigned i = 0; i < width && i < 4; i++) {
		int b = (int)(off + i) - (int)window;

		if (b < 0 || b > 3)
			continue;
		*wm |= 0xffu << (8 * b);
		*v |= ((val >> (8 * i)) & 0xff) << (8 * b);
	}
	return *wm != 0;
}
