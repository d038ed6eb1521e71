/*
 * policy.c - the authorization policy for hot-plugged cards.
 *
 * Owns: the rule language of docs/policy.md (parsing, with errors that
 * name origin:line and the offending word; the canonical text of a rule),
 * the ordered rule list (first match wins, all-or-nothing loads, rules
 * added at the front by `hotswapctl authorize --permanent`), the two
 * default targets (cards inserted while running / present at start) and
 * the rule that allows exactly one card (hsd_policy_rule_for).
 *
 * Class conditions are prefix matches on the 24-bit class code: "02*" and
 * "02" both mean every network controller, "0c03*" and "0c03" every USB
 * controller; six digits ("020000", or "020000*") is the exact class.
 * Slot conditions are exact names unless they contain one of * ? [ \,
 * then they are fnmatch(3) patterns.  Keywords are lower case; hex is
 * case-insensitive and canonical text is lower case.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "policy.h"

#define POLICY_MAX_RULES 4096u
#define POLICY_MAX_LINE  1024u  /* characters, without the newline */
#define POLICY_MAX_SLOT  64u    /* characters of a slot name or pattern */
#define POLICY_MAX_TEXT  160u   /* canonical text, with its NUL */

enum {
	C_ID = 1u << 0,
	C_SUBSYS = 1u << 1,
	C_CLASS = 1u << 2,
	C_SLOT = 1u << 3,
	C_SERIAL = 1u << 4,
};

#define ANY (-1)

struct rule {
	enum hsd_target target;
	unsigned conds;                 /* C_* present in this rule */
	int32_t vendor, device;         /* ANY or 0..0xffff */
	int32_t sub_vendor, sub_device;
	uint32_t class_val;             /* the class_digits leading digits */
	unsigned class_digits;          /* 2, 4 or 6 */
	bool slot_glob;
	char slot[POLICY_MAX_SLOT + 1];
	uint64_t serial;
	char *text;                     /* canonical, owned */
};

struct hsd_policy {
	struct rule *rules;
	unsigned n, cap;
	enum hsd_target def_inserted, def_at_start;
};

static const char why_inserted[] = "default for inserted cards";
static const char why_at_start[] = "default for cards present at start";
static const char conds_expected[] =
	"expected id, subsys, class, slot or serial";

/* ---- errors ---------------------------------------------------------------- */

/* Where a rule comes from: origin is NULL for hsd_policy_add. */
struct where {
	const char *origin;
	unsigned line;
	char *err;
	size_t errlen;
};

static void fail(const struct where *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(const struct where *w, const char *fmt, ...)
{
	va_list ap;
	size_t off = 0;
	int n;

	if (!w->err || !w->errlen)
		return;
	w->err[0] = '\0';
	if (w->origin) {
		n = snprintf(w->err, w->errlen, "%s:%u: ", w->origin, w->line);
		if (n < 0)
			return;
		off = (size_t)n;
		if (off >= w->errlen)
			return;
	}
	va_start(ap, fmt);
	vsnprintf(w->err + off, w->errlen - off, fmt, ap);
	va_end(ap);
}

/* ---- parsing --------------------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n hex digits (n >= 1) → *out; false when any is not a hex digit. */
static bool parse_hex(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++) {
		int d = hex_val(s[i]);

		if (d < 0)
			return false;
		v = (v << 4) | (uint64_t)d;
	}
	*out = v;
	return true;
}

/* "VVVV" or "*" → ANY / value. */
static bool parse_half(const char *s, size_t n, int32_t *out)
{
	uint64_t v;

	if (n == 1 && s[0] == '*') {
		*out = ANY;
		return true;
	}
	if (n != 4 || !parse_hex(s, n, &v))
		return false;
	*out = (int32_t)v;
	return true;
}

static int parse_pair(const struct where *w, const char *key,
		      const char *val, int32_t *a, int32_t *b)
{
	const char *colon = strchr(val, ':');

	if (!colon || !parse_half(val, (size_t)(colon - val), a) ||
	    !parse_half(colon + 1, strlen(colon + 1), b)) {
		fail(w, "malformed %s '%s' (expected VVVV:DDDD, each half "
		     "4 hex digits or '*')", key, val);
		return -EINVAL;
	}
	return 0;
}

static int parse_class(const struct where *w, const char *val,
		       struct rule *r)
{
	size_t n = strlen(val);
	uint64_t v;

	if (n && val[n - 1] == '*')
		n--;
	if (n > 6 && parse_hex(val, n, &v)) {
		fail(w, "class '%s' is too long (at most 6 hex digits)", val);
		return -EINVAL;
	}
	if ((n != 2 && n != 4 && n != 6) || !parse_hex(val, n, &v)) {
		fail(w, "malformed class '%s' (expected 2, 4 or 6 hex digits, "
		     "optionally followed by '*')", val);
		return -EINVAL;
	}
	r->class_val = (uint32_t)v;
	r->class_digits = (unsigned)n;
	return 0;
}

/* Up to 16 hex digits; single dashes may separate groups of digits. */
static int parse_serial(const struct where *w, const char *val,
			struct rule *r)
{
	uint64_t v = 0;
	unsigned digits = 0;
	bool prev_digit = false;
	const char *s;

	for (s = val; *s; s++) {
		int d = hex_val(*s);

		if (d >= 0) {
			if (digits < 16)
				v = (v << 4) | (uint64_t)d;
			digits++;
			prev_digit = true;
		} else if (*s == '-' && prev_digit && s[1]) {
			prev_digit = false;
		} else {
			break;
		}
	}
	if (*s || !digits) {
		fail(w, "malformed serial '%s' (expected up to 16 hex digits, "
		     "optionally grouped with '-')", val);
		return -EINVAL;
	}
	if (digits > 16) {
		fail(w, "serial '%s' is too long (at most 16 hex digits)", val);
		return -EINVAL;
	}
	r->serial = v;
	return 0;
}

static int parse_slot(const struct where *w, const char *val, struct rule *r)
{
	size_t n = strlen(val);

	if (n > POLICY_MAX_SLOT) {
		fail(w, "slot '%s' is too long (at most %u characters)", val,
		     POLICY_MAX_SLOT);
		return -EINVAL;
	}
	memcpy(r->slot, val, n + 1);
	r->slot_glob = strpbrk(val, "*?[\\") != NULL;
	return 0;
}

/* The longest canonical text: the target ("invalid", 7), " id VVVV:DDDD"
 * (13), " subsys VVVV:DDDD" (17), " class CCCCCC" (13), " slot " and a
 * name of at most POLICY_MAX_SLOT (6 + 64), " serial " and 16 digits
 * (24), the NUL: every piece is bounded, so none is ever cut short. */
_Static_assert(7 + 13 + 17 + 13 + 6 + POLICY_MAX_SLOT + 24 + 1 <=
	       POLICY_MAX_TEXT, "a canonical rule text always fits");

/* The canonical text of r into buf (POLICY_MAX_TEXT bytes). */
static void canonical(const struct rule *r, char *buf)
{
	size_t len = POLICY_MAX_TEXT, off;

#define PUT(...) (off += (size_t)snprintf(buf + off, len - off, __VA_ARGS__))

	off = 0;
	buf[0] = '\0';
	PUT("%s", hsd_policy_target_name(r->target));
	if (r->conds & C_ID) {
		PUT(" id ");
		if (r->vendor == ANY)
			PUT("*:");
		else
			PUT("%04" PRIx32 ":", (uint32_t)r->vendor);
		if (r->device == ANY)
			PUT("*");
		else
			PUT("%04" PRIx32, (uint32_t)r->device);
	}
	if (r->conds & C_SUBSYS) {
		PUT(" subsys ");
		if (r->sub_vendor == ANY)
			PUT("*:");
		else
			PUT("%04" PRIx32 ":", (uint32_t)r->sub_vendor);
		if (r->sub_device == ANY)
			PUT("*");
		else
			PUT("%04" PRIx32, (uint32_t)r->sub_device);
	}
	if (r->conds & C_CLASS) {
		if (r->class_digits == 6)
			PUT(" class %06" PRIx32, r->class_val);
		else
			PUT(" class %0*" PRIx32 "*", (int)r->class_digits,
			    r->class_val);
	}
	if (r->conds & C_SLOT)
		PUT(" slot %s", r->slot);
	if (r->conds & C_SERIAL)
		PUT(" serial %016" PRIx64, r->serial);
#undef PUT
}

/*
 * Parse one rule from line (NUL-terminated, modified in place; comments
 * already removed).  Returns 1 and fills *r (r->text NULL), 0 when the
 * line is blank, or -EINVAL with the error written.
 */
/* The next white-space separated word of *s, NUL-terminated in place;
 * NULL at the end of the line. */
static char *next_word(char **s)
{
	char *p = *s, *word;

	while (is_space(*p))
		p++;
	if (!*p) {
		*s = p;
		return NULL;
	}
	word = p;
	while (*p && !is_space(*p))
		p++;
	if (*p)
		*p++ = '\0';
	*s = p;
	return word;
}

static int parse_rule(const struct where *w, char *line, struct rule *r)
{
	char *s = line, *target, *key;
	int err;

	memset(r, 0, sizeof(*r));
	r->vendor = r->device = r->sub_vendor = r->sub_device = ANY;
	target = next_word(&s);
	if (!target)
		return 0;
	if (hsd_policy_parse_target(target, &r->target) < 0) {
		fail(w, "unknown target '%s' (expected allow or block)",
		     target);
		return -EINVAL;
	}
	while ((key = next_word(&s))) {
		const char *val;
		unsigned c;

		if (!strcmp(key, "id"))
			c = C_ID;
		else if (!strcmp(key, "subsys"))
			c = C_SUBSYS;
		else if (!strcmp(key, "class"))
			c = C_CLASS;
		else if (!strcmp(key, "slot"))
			c = C_SLOT;
		else if (!strcmp(key, "serial"))
			c = C_SERIAL;
		else {
			fail(w, "unknown condition '%s' (%s)", key,
			     conds_expected);
			return -EINVAL;
		}
		if (r->conds & c) {
			fail(w, "duplicate condition '%s' (each condition may "
			     "appear once)", key);
			return -EINVAL;
		}
		val = next_word(&s);
		if (!val) {
			fail(w, "missing value after '%s'", key);
			return -EINVAL;
		}
		r->conds |= c;
		switch (c) {
		case C_ID:
			err = parse_pair(w, key, val, &r->vendor, &r->device);
			break;
		case C_SUBSYS:
			err = parse_pair(w, key, val, &r->sub_vendor,
					 &r->sub_device);
			break;
		case C_CLASS:
			err = parse_class(w, val, r);
			break;
		case C_SLOT:
			err = parse_slot(w, val, r);
			break;
		default:
			err = parse_serial(w, val, r);
			break;
		}
		if (err)
			return err;
	}
	return 1;
}

/* Give r its canonical text. */
static int finish_rule(const struct where *w, struct rule *r)
{
	char buf[POLICY_MAX_TEXT];
	size_t n;

	canonical(r, buf);
	n = strlen(buf) + 1;
	r->text = hsd_malloc(n);
	if (!r->text) {
		fail(w, "out of memory");
		return -ENOMEM;
	}
	memcpy(r->text, buf, n);
	return 0;
}

static void free_rules(struct rule *rules, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		free(rules[i].text);
}

/* Room for extra more rules; the limit is checked by the callers. */
static int reserve(struct hsd_policy *p, unsigned extra)
{
	unsigned need = p->n + extra, ncap;
	struct rule *nr;

	if (need <= p->cap)
		return 0;
	ncap = p->cap ? p->cap : 16;
	while (ncap < need)
		ncap *= 2;
	nr = hsd_realloc(p->rules, (size_t)ncap * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	p->rules = nr;
	p->cap = ncap;
	return 0;
}

/* ---- the policy ------------------------------------------------------------ */

struct hsd_policy *hsd_policy_new(void)
{
	struct hsd_policy *p = hsd_calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->def_inserted = HSD_ALLOW;
	p->def_at_start = HSD_ALLOW;
	return p;
}

void hsd_policy_free(struct hsd_policy *p)
{
	if (!p)
		return;
	free_rules(p->rules, p->n);
	free(p->rules);
	free(p);
}

int hsd_policy_load(struct hsd_policy *p, const char *text,
		    const char *origin, char *err, size_t errlen)
{
	struct where w = { origin ? origin : "rules", 0, err, errlen };
	struct rule *tmp = NULL, r;
	unsigned n = 0, cap = 0;
	const char *s = text;
	char line[POLICY_MAX_LINE + 1];
	int ret = 0;

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *hash;

		w.line++;
		if (len > POLICY_MAX_LINE) {
			fail(&w, "line too long (at most %u characters)",
			     POLICY_MAX_LINE);
			ret = -EINVAL;
			goto out;
		}
		memcpy(line, s, len);
		line[len] = '\0';
		s += len + (nl ? 1 : 0);
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';

		ret = parse_rule(&w, line, &r);
		if (ret < 0)
			goto out;
		if (!ret)
			continue;
		if (p->n + n >= POLICY_MAX_RULES) {
			fail(&w, "too many rules (at most %u)",
			     POLICY_MAX_RULES);
			ret = -ENOSPC;
			goto out;
		}
		if (n == cap) {
			unsigned ncap = cap ? 2 * cap : 16;
			struct rule *nt = hsd_realloc(tmp, (size_t)ncap *
						  sizeof(*nt));

			if (!nt) {
				fail(&w, "out of memory");
				ret = -ENOMEM;
				goto out;
			}
			tmp = nt;
			cap = ncap;
		}
		ret = finish_rule(&w, &r);
		if (ret < 0)
			goto out;
		tmp[n++] = r;
	}
	ret = reserve(p, n);
	if (ret < 0) {
		fail(&w, "out of memory");
		goto out;
	}
	if (n)
		memcpy(p->rules + p->n, tmp, (size_t)n * sizeof(*tmp));
	p->n += n;
	free(tmp);
	return 0;
out:
	free_rules(tmp, n);
	free(tmp);
	return ret;
}

int hsd_policy_add(struct hsd_policy *p, const char *rule, bool front,
		   char *err, size_t errlen)
{
	struct where w = { NULL, 0, err, errlen };
	char line[POLICY_MAX_LINE + 1];
	size_t len = strlen(rule);
	struct rule r;
	int ret;

	if (len > POLICY_MAX_LINE) {
		fail(&w, "rule too long (at most %u characters)",
		     POLICY_MAX_LINE);
		return -EINVAL;
	}
	if (strchr(rule, '\n')) {
		fail(&w, "a rule is a single line");
		return -EINVAL;
	}
	if (strchr(rule, '#')) {
		fail(&w, "comments ('#') are not allowed in a single rule");
		return -EINVAL;
	}
	memcpy(line, rule, len + 1);
	ret = parse_rule(&w, line, &r);
	if (ret < 0)
		return ret;
	if (!ret) {
		fail(&w, "empty rule (expected allow or block)");
		return -EINVAL;
	}
	if (p->n >= POLICY_MAX_RULES) {
		fail(&w, "too many rules (at most %u)", POLICY_MAX_RULES);
		return -ENOSPC;
	}
	if (reserve(p, 1) < 0) {
		fail(&w, "out of memory");
		return -ENOMEM;
	}
	ret = finish_rule(&w, &r);
	if (ret < 0)
		return ret;
	if (front) {
		memmove(p->rules + 1, p->rules, (size_t)p->n * sizeof(r));
		p->rules[0] = r;
	} else {
		p->rules[p->n] = r;
	}
	p->n++;
	return 0;
}

int hsd_policy_parse_target(const char *word, enum hsd_target *out)
{
	if (!strcmp(word, "allow"))
		*out = HSD_ALLOW;
	else if (!strcmp(word, "block"))
		*out = HSD_BLOCK;
	else
		return -EINVAL;
	return 0;
}

const char *hsd_policy_target_name(enum hsd_target t)
{
	switch (t) {
	case HSD_ALLOW:
		return "allow";
	case HSD_BLOCK:
		return "block";
	}
	return "invalid";
}

void hsd_policy_set_default(struct hsd_policy *p, bool at_start,
			    enum hsd_target t)
{
	if (at_start)
		p->def_at_start = t;
	else
		p->def_inserted = t;
}

enum hsd_target hsd_policy_default(const struct hsd_policy *p, bool at_start)
{
	return at_start ? p->def_at_start : p->def_inserted;
}

static bool half_ok(int32_t want, uint16_t have)
{
	return want == ANY || (uint32_t)want == have;
}

static bool matches(const struct rule *r, const struct hsd_card_id *c)
{
	if ((r->conds & C_ID) &&
	    (!half_ok(r->vendor, c->vendor) || !half_ok(r->device, c->device)))
		return false;
	if ((r->conds & C_SUBSYS) &&
	    (!half_ok(r->sub_vendor, c->subsys_vendor) ||
	     !half_ok(r->sub_device, c->subsys)))
		return false;
	if (r->conds & C_CLASS) {
		unsigned shift = 4 * (6 - r->class_digits);

		if (((c->class_code & 0xffffffu) >> shift) != r->class_val)
			return false;
	}
	if (r->conds & C_SLOT) {
		if (!c->slot)
			return false;
		if (r->slot_glob ? fnmatch(r->slot, c->slot, 0) != 0
				 : strcmp(r->slot, c->slot) != 0)
			return false;
	}
	if ((r->conds & C_SERIAL) &&
	    (!c->has_serial || c->serial != r->serial))
		return false;
	return true;
}

enum hsd_target hsd_policy_decide(const struct hsd_policy *p,
				  const struct hsd_card_id *card,
				  bool at_start, const char **why)
{
	unsigned i;

	for (i = 0; i < p->n; i++) {
		if (matches(&p->rules[i], card)) {
			if (why)
				*why = p->rules[i].text;
			return p->rules[i].target;
		}
	}
	if (why)
		*why = at_start ? why_at_start : why_inserted;
	return hsd_policy_default(p, at_start);
}

unsigned hsd_policy_count(const struct hsd_policy *p)
{
	return p->n;
}

const char *hsd_policy_rule(const struct hsd_policy *p, unsigned i)
{
	return i < p->n ? p->rules[i].text : NULL;
}

/*
 * The slot condition naming exactly this slot: glob characters escaped so
 * the pattern matches them literally.  false when the name cannot be
 * written in a rule (empty, white space, '#', control characters, or too
 * long).
 */
static bool slot_literal(const char *name, char *out)
{
	size_t o = 0;
	const char *s;

	if (!*name)
		return false;
	for (s = name; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch <= ' ' || ch == 0x7f || ch == '#')
			return false;
		if (strchr("*?[\\", *s)) {
			if (o + 1 >= POLICY_MAX_SLOT)
				return false;
			out[o++] = '\\';
		}
		if (o >= POLICY_MAX_SLOT)
			return false;
		out[o++] = *s;
	}
	out[o] = '\0';
	return true;
}

int hsd_policy_rule_for(const struct hsd_card_id *card, enum hsd_target t,
			char *buf, size_t len)
{
	struct rule r;
	char text[POLICY_MAX_TEXT];
	size_t n;

	if (t != HSD_ALLOW && t != HSD_BLOCK)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.target = t;
	r.conds = C_ID | C_SUBSYS;
	r.vendor = card->vendor;
	r.device = card->device;
	r.sub_vendor = card->subsys_vendor;
	r.sub_device = card->subsys;
	if (card->has_serial) {
		r.conds |= C_SERIAL;
		r.serial = card->serial;
	} else if (card->slot) {
		if (!slot_literal(card->slot, r.slot))
			return -EINVAL;
		r.conds |= C_SLOT;
	}
	canonical(&r, text);
	n = strlen(text);
	if (buf && len) {
		size_t k = n < len - 1 ? n : len - 1;

		memcpy(buf, text, k);
		buf[k] = '\0';
	}
	return (int)n;
}
