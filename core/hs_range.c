/*
 * hs_range.c - the core's one range engine: ranges, sorted range sets
 * and the fit search every placement uses (include/hotswap/range.h).
 *
 * Owns: the set's array (grown through the platform's realloc), keeping
 * it sorted, disjoint and merged, and the search for a place in its
 * gaps.  Alignment is the PCI rule (PCI 3.0 6.2.5.1: a BAR is aligned to
 * its size; PCI-to-PCI Bridge 3.2, 3.2.5: a window to the largest
 * alignment inside it); what to align to is the caller's business.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hotswap/range.h"

#define SAT ~0ull

/* Not inlined: on a 32-bit target each copy of this 64-bit arithmetic
 * costs more than the call (issue #18, size). */
__attribute__((noinline)) uint64_t hs_align_up(uint64_t v, uint64_t a)
{
	if (!a)
		return v;
	if (v > SAT - (a - 1))
		return SAT; /* saturates: a place past the end never fits */
	return (v + a - 1) & ~(a - 1);
}

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static uint64_t end_of(const struct hs_range *r)
{
	return r->base + r->size;
}

void hs_range_set_init(struct hs_range_set *s, const struct hs_platform *plat)
{
	s->plat = plat;
	s->v = NULL;
	s->n = s->cap = 0;
}

void hs_range_set_fini(struct hs_range_set *s)
{
	if (s->v)
		s->plat->ops->realloc(s->plat->ctx, s->v,
				      s->cap * sizeof(*s->v), 0);
	s->v = NULL;
	s->n = s->cap = 0;
}

void hs_range_set_clear(struct hs_range_set *s)
{
	s->n = 0;
}

void *hs_grow(const struct hs_platform *plat, void *v, size_t *cap,
	      size_t n, size_t elem)
{
	size_t nc;

	if (n < *cap)
		return v;
	nc = *cap ? 2 * *cap : 16;
	v = plat->ops->realloc(plat->ctx, v, *cap * elem, nc * elem);
	if (v)
		*cap = nc;
	return v;
}

static int grow(struct hs_range_set *s)
{
	void *m = hs_grow(s->plat, s->v, &s->cap, s->n, sizeof(*s->v));

	if (!m)
		return -HS_ENOMEM;
	s->v = m;
	return 0;
}

/* Ranges from..n-1 moved to start at to (a hole opened or closed
 * there; the array has room), n following. */
static void move_tail(struct hs_range_set *s, size_t from, size_t to)
{
	size_t cnt = s->n - from;

	for (size_t k = 0; k < cnt; k++) {
		/* Last first when moving up: the ranges overlap where they
		 * go. */
		size_t at = to > from ? cnt - 1 - k : k;

		s->v[to + at] = s->v[from + at];
	}
	s->n = to + cnt;
}

/* Index of the first range that ends at or after base (it may touch or
 * overlap [base, ...)); n when none.  Linear: the sets the core builds
 * are short (merged ranges, a bus's items). */
static size_t first_reaching(const struct hs_range_set *s, uint64_t base)
{
	size_t i = 0;

	while (i < s->n && end_of(&s->v[i]) < base)
		i++;
	return i;
}

int hs_range_add(struct hs_range_set *s, uint64_t base, uint64_t size)
{
	uint64_t end = base + size;
	size_t i, j;

	if (!size)
		return 0;
	if (end < base)
		return -HS_EINVAL;
	i = first_reaching(s, base);
	/* Ranges i..j-1 overlap or touch [base, end): one range replaces
	 * them. */
	for (j = i; j < s->n && s->v[j].base <= end; j++) {
		if (s->v[j].base < base)
			base = s->v[j].base;
		if (end_of(&s->v[j]) > end)
			end = end_of(&s->v[j]);
	}
	if (j == i) {
		int rc = grow(s);

		if (rc)
			return rc;
	}
	move_tail(s, j, i + 1);
	s->v[i].base = base;
	s->v[i].size = end - base;
	return 0;
}

int hs_range_remove(struct hs_range_set *s, uint64_t base, uint64_t size)
{
	uint64_t end = base + size;
	size_t i;

	if (!size)
		return 0;
	if (end < base)
		end = SAT;
	for (i = first_reaching(s, base); i < s->n && s->v[i].base < end;) {
		struct hs_range *r = &s->v[i];
		uint64_t re = end_of(r);

		if (re <= base) {
			i++;
			continue; /* only touches */
		}
		if (r->base < base && re > end) {
			/* The hole splits it in two. */
			int rc = grow(s);

			if (rc)
				return rc;
			r = &s->v[i];
			move_tail(s, i + 1, i + 2);
			r->size = base - r->base;
			s->v[i + 1].base = end;
			s->v[i + 1].size = re - end;
			return 0;
		}
		if (r->base < base) {
			r->size = base - r->base;
			i++;
		} else if (re > end) {
			r->size = re - end;
			r->base = end;
			i++;
		} else {
			move_tail(s, i + 1, i);
		}
	}
	return 0;
}

/*
 * The gaps are visited from the low end of in.  In each, the base-aligned
 * place lowest in it and (HS_FIT_TOP) the end-aligned one; with
 * HS_FIT_TIGHT also the highest of each, since growing the hull downward
 * can cost less than upward.  Lowest-address search stops at the first
 * gap with a place: nothing later is lower.
 */
bool hs_range_fit(const struct hs_range_set *s, struct hs_range in,
		  uint64_t size, uint64_t align, unsigned flags,
		  struct hs_fit *out)
{
	uint64_t hi = end_of(&in) < in.base ? SAT : end_of(&in);
	uint64_t cur = in.base, best = 0, best_cost = SAT;
	uint64_t hlo = s->n ? s->v[0].base : SAT;
	uint64_t hhi = s->n ? end_of(&s->v[s->n - 1]) : 0;
	bool tight = flags & HS_FIT_TIGHT, found = false;

	if (!size)
		return false;
	if (!align)
		align = 1;
	for (size_t g = first_reaching(s, cur); g <= s->n; g++) {
		uint64_t ge = g < s->n ? s->v[g].base : hi;
		/* Base-aligned lowest, highest; end-aligned lowest, highest
		 * (SAT: none). */
		uint64_t c[4] = { SAT, SAT, SAT, SAT };

		if (ge > hi)
			ge = hi;
		if (ge > cur && ge - cur >= size) {
			c[0] = hs_align_up(cur, align);
			if (tight)
				c[1] = align_down(ge - size, align);
			if (flags & HS_FIT_TOP) {
				uint64_t e = hs_align_up(cur + size, align);

				if (e != SAT)
					c[2] = e - size;
				e = align_down(ge, align);
				if (tight && e >= size)
					c[3] = e - size;
			}
			for (int t = 0; t < 4; t++) {
				uint64_t nlo, nhi, cost;

				/* SAT (none) is past ge - size too. */
				if (c[t] < cur || c[t] > ge - size)
					continue;
				nlo = hlo < c[t] ? hlo : c[t];
				nhi = hhi > c[t] + size ? hhi : c[t] + size;
				cost = tight ? nhi - nlo : c[t];
				if (!found || cost < best_cost ||
				    (cost == best_cost && c[t] < best)) {
					best = c[t];
					best_cost = cost;
					out->top = t >= 2;
					found = true;
				}
			}
		}
		if (g < s->n && end_of(&s->v[g]) > cur)
			cur = end_of(&s->v[g]);
		if ((found && !tight) || cur >= hi)
			break;
	}
	if (found)
		out->at = best;
	return found;
}

uint64_t hs_range_used(const struct hs_range_set *s, struct hs_range in)
{
	uint64_t hi = end_of(&in), used = 0;

	for (size_t i = first_reaching(s, in.base); i < s->n; i++) {
		uint64_t a = s->v[i].base, b = end_of(&s->v[i]);

		if (a >= hi)
			break;
		if (a < in.base)
			a = in.base;
		if (b > hi)
			b = hi;
		if (b > a)
			used += b - a;
	}
	return used;
}

struct hs_range hs_range_largest_gap(const struct hs_range_set *s,
				     struct hs_range in)
{
	struct hs_range best = { end_of(&in), 0 };
	uint64_t hi = end_of(&in), cur = in.base;

	for (size_t i = first_reaching(s, cur); i <= s->n; i++) {
		uint64_t ge = i < s->n ? s->v[i].base : hi;

		if (ge > hi)
			ge = hi;
		if (ge > cur && ge - cur > best.size) {
			best.base = cur;
			best.size = ge - cur;
		}
		if (i == s->n || end_of(&s->v[i]) >= hi)
			break;
		if (end_of(&s->v[i]) > cur)
			cur = end_of(&s->v[i]);
	}
	return best;
}

bool hs_range_gap_around(const struct hs_range_set *s, struct hs_range in,
			 struct hs_range want, struct hs_range *gap)
{
	uint64_t a = in.base, b = end_of(&in), wend = end_of(&want);

	for (size_t i = 0; i < s->n; i++) {
		const struct hs_range *r = &s->v[i];

		if (end_of(r) <= want.base) {
			if (end_of(r) > a)
				a = end_of(r);
		} else if (r->base >= wend) {
			if (r->base < b)
				b = r->base;
			break; /* sorted: nothing later is lower */
		} else {
			return false;
		}
	}
	gap->base = a;
	gap->size = b > a ? b - a : 0;
	return a <= want.base && wend <= b;
}
