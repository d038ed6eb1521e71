/*
 * topology.c - loading a chassis from a JSON topology file.
 *
 * Owns: the card catalog (the built-in data/catalog.json merged with a
 * topology file's own "catalog" object), the strict validation of the
 * format docs/topology.md describes, and its translation into sim_*
 * builder calls.  Every problem is reported as one line
 * "FILE: JSON-PATH: PROBLEM" plus a negative errno, and nothing built or
 * allocated survives a failed load.
 *
 * Hosted code: libc and jansson.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "topology.h"

#ifndef HOTSWAP_DATADIR
#error "HOTSWAP_DATADIR must be defined by the build"
#endif
#ifndef HOTSWAP_SRCDIR
#error "HOTSWAP_SRCDIR must be defined by the build"
#endif

/* Longest JSON path kept for messages; longer ones are cut, not refused. */
#define TOPO_PATH_LEN 512
/* Buses below the host bridge's, cards' own buses included: deep enough
 * for any real chassis, and the simulator's own limit (card.c refuses a
 * card on a bus deeper than 16). */
#define TOPO_MAX_DEPTH 16
/* A bridge card may carry bridge cards, this many levels in all. */
#define TOPO_MAX_CARD_DEPTH 4
#define TOPO_NAME_MAX 64
/* The simulator backs host RAM with real memory. */
#define TOPO_MAX_RAM (256ull << 20)
/* Limits of sim.c that sim.h does not export: platform lines 0..255
 * (INTx and ENUM#), and the size of the MSI pool. */
#define TOPO_LINES 256
#define TOPO_MSI_MAX 1024
/* A delay no sane model needs more than (10 s). */
#define TOPO_MAX_DELAY_US 10000000ull

/* ---- data kept for the topology's lifetime ------------------------------- */

struct topo_card {
	struct sim_card_spec spec;  /* handed to the simulator, borrowed */
	char *name;
	char *description;
	const char *file;           /* defining file (owned by the topology) */
	char *path;                 /* its JSON path in that file */
	char **child_name;          /* spec.nchildren names, linked later */
	struct sim_child_spec *children;
	int mark;                   /* link_card() DFS: 0 new, 1 open, 2 done */
	unsigned height;            /* cards in its longest chain, itself too */
	bool shadowed;              /* a topology file entry replaced it */
};

struct sim_topology {
	struct sim *sim;
	char *name;
	char *description;
	char *topo_file;
	char *catalog_file;
	struct topo_card **card;    /* every card parsed, shadowed ones too */
	size_t ncard, capcard;
	struct topo_card **index;   /* the visible ones, sorted by name */
	size_t nindex;
	/* While loading: name -> position in card[] of the visible entry,
	 * so each lookup is a hash probe (jansson's object) and loading
	 * stays linear in the catalog's size. */
	json_t *byname;
};

/* ---- the loader's working state ------------------------------------------ */

struct phys_use {
	unsigned phys;
	char *owner;                /* JSON path of the entry that made it */
};

struct loader {
	struct sim_topology *topo;
	const char *file;           /* file the current path refers to */
	char path[TOPO_PATH_LEN];
	size_t plen;
	char *err;
	size_t errlen;
	struct phys_use *phys;
	size_t nphys, capphys;
	/* The chassis is walked twice: first only checked, so that an
	 * invalid file builds nothing and its errors never depend on the
	 * simulator; then built. */
	bool build;
};

enum { NUM_DEC = 0, NUM_HEX = 1 };

static void card_free(struct topo_card *c);

/* ---- messages and JSON paths --------------------------------------------- */

/* Appends to out (of room bytes left) at most max bytes of s: all of it,
 * or "..." and its tail (the tail names the file and the key at fault). */
static size_t put_tail(char *out, size_t room, const char *s, size_t max)
{
	size_t len = strlen(s);

	if (!room)
		return 0;
	if (len > max)
		len = max;
	if (len >= room)
		len = room - 1;
	if (len < strlen(s) && len >= 3) {
		memcpy(out, "...", 3);
		memcpy(out + 3, s + strlen(s) - (len - 3), len - 3);
	} else {
		memcpy(out, s + strlen(s) - len, len);
	}
	out[len] = '\0';
	return len;
}

/*
 * "FILE: PATH: PROBLEM" in err.  The problem is formatted first and kept
 * whole; when the line does not fit, the file and the JSON path are
 * shortened from the front ("...tail") to make room, whatever their
 * length.
 */
__attribute__((format(printf, 2, 3)))
static void fail_msg(struct loader *l, const char *fmt, ...)
{
	char problem[TOPO_PATH_LEN];
	size_t plen, flen, jlen, keep, o = 0;
	va_list ap;

	if (!l->err || !l->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	plen = strlen(problem);
	flen = strlen(l->file);
	jlen = strlen(l->path);
	/* Room for file and path: what the problem and ": " x2 leave. */
	keep = l->errlen > plen + 5 ? l->errlen - plen - 5 : 0;
	if (flen + jlen > keep) {
		/* The path's tail first; the file gets at most a third. */
		size_t fmax = flen < keep / 3 ? flen : keep / 3;

		flen = fmax;
		jlen = keep - fmax < jlen ? keep - fmax : jlen;
	}
	o += put_tail(l->err + o, l->errlen - o, l->file, flen);
	o += put_tail(l->err + o, l->errlen - o, ": ", 2);
	o += put_tail(l->err + o, l->errlen - o, l->path, jlen);
	o += put_tail(l->err + o, l->errlen - o, ": ", 2);
	if (o < l->errlen)
		snprintf(l->err + o, l->errlen - o, "%s", problem);
}

/* fail(l, rc, fmt, ...): the message, and rc as the expression's value
 * where the caller (and the static analyzer, which does not follow a
 * variadic call) can see it. */
#define fail(l, rc, ...) (fail_msg((l), __VA_ARGS__), (rc))

static int nomem(struct loader *l)
{
	return fail(l, -ENOMEM, "out of memory");
}

/*
 * Copies s into buf with control characters, quotes and backslashes
 * escaped, so that any user text keeps a message on one line; long text
 * is cut with "...".
 */
static const char *escape(const char *s, char quote, char *buf, size_t n)
{
	size_t o = 0, max = n > 4 ? n - 4 : 0;

	for (; *s && o < max; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f) {
			if (o + 4 > max)
				break;
			snprintf(buf + o, n - o, "\\x%02x", ch);
			o += 4;
		} else if (ch == (unsigned char)quote || ch == '\\') {
			if (o + 2 > max)
				break;
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else {
			buf[o++] = (char)ch;
		}
	}
	if (*s && n >= 4) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	if (n)
		buf[o < n ? o : n - 1] = '\0';
	return buf;
}

static void path_append(struct loader *l, const char *text)
{
	size_t room = sizeof(l->path) - l->plen;
	int n = snprintf(l->path + l->plen, room, "%s", text);

	if (n < 0)
		return;
	l->plen += (size_t)n < room ? (size_t)n : room - 1;
}

static bool is_ident(const char *k)
{
	const char *p;

	if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
	      *k == '_'))
		return false;
	for (p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/* Descend into an object member; returns the length to restore. */
static size_t path_key(struct loader *l, const char *key)
{
	size_t save = l->plen;
	char buf[160];

	if (is_ident(key)) {
		path_append(l, ".");
		path_append(l, key);
	} else {
		path_append(l, "[\"");
		path_append(l, escape(key, '"', buf, sizeof(buf)));
		path_append(l, "\"]");
	}
	return save;
}

static size_t path_index(struct loader *l, size_t i)
{
	size_t save = l->plen;
	char buf[32];

	snprintf(buf, sizeof(buf), "[%zu]", i);
	path_append(l, buf);
	return save;
}

static void path_restore(struct loader *l, size_t len)
{
	l->plen = len;
	l->path[len] = '\0';
}

static void path_set(struct loader *l, const char *file, const char *path)
{
	l->file = file;
	path_restore(l, 0);
	path_append(l, path);
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "an unknown JSON value";
}

static const char *fmt_num(char *buf, size_t n, uint64_t v, unsigned flags)
{
	if (flags & NUM_HEX)
		snprintf(buf, n, "0x%" PRIx64, v);
	else
		snprintf(buf, n, "%" PRIu64, v);
	return buf;
}

/* ---- schema helpers ------------------------------------------------------ */

/*
 * Every object has a fixed set of keys: anything else is a typo, and a
 * typo silently ignored would build a chassis the author did not mean.
 * "comment" is accepted everywhere because JSON has no comments.
 */
static int check_keys(struct loader *l, json_t *obj,
		      const char *const *keys)
{
	const char *key;
	json_t *v;
	char list[512], buf[80];
	size_t i, o = 0;

	json_object_foreach(obj, key, v) {
		if (!strcmp(key, "comment")) {
			if (!json_is_string(v)) {
				path_key(l, key);
				return fail(l, -EINVAL,
					    "expected a string, got %s",
					    type_name(v));
			}
			continue;
		}
		for (i = 0; keys[i]; i++)
			if (!strcmp(key, keys[i]))
				break;
		if (keys[i])
			continue;
		list[0] = '\0';
		for (i = 0; keys[i]; i++) {
			int n = snprintf(list + o, sizeof(list) - o, "%s%s",
					 i ? ", " : "", keys[i]);

			if (n < 0 || (size_t)n >= sizeof(list) - o)
				break;
			o += (size_t)n;
		}
		path_key(l, key);
		return fail(l, -EINVAL,
			    "unknown key '%s' (expected one of: %s, comment)",
			    escape(key, '\'', buf, sizeof(buf)), list);
	}
	return 0;
}

static int want_object(struct loader *l, const json_t *v)
{
	if (!json_is_object(v))
		return fail(l, -EINVAL, "expected an object, got %s",
			    type_name(v));
	return 0;
}

static int want_array(struct loader *l, const json_t *v)
{
	if (!json_is_array(v))
		return fail(l, -EINVAL, "expected an array, got %s",
			    type_name(v));
	return 0;
}

static int missing(struct loader *l, const char *key)
{
	return fail(l, -EINVAL, "missing required key '%s'", key);
}

/*
 * The string forms of a number (docs/topology.md, "Numbers"): decimal,
 * or 0x-prefixed hexadecimal, with '_' allowed between digits, and on
 * decimal numbers one binary suffix K, M, G or T (either case).  No
 * octal: "010" is ten.  Returns -ERANGE past 64 bits.
 */
static int parse_number(const char *s, uint64_t *out)
{
	const char *p = s;
	uint64_t v = 0;
	unsigned base = 10, digits = 0, shift = 0;
	bool after_us = false;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (; *p; p++) {
		unsigned d;

		if (*p == '_') {
			if (!digits || after_us)
				return -EINVAL;
			after_us = true;
			continue;
		}
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
		digits++;
		after_us = false;
	}
	if (!digits || after_us)
		return -EINVAL;
	if (*p) {
		if (base != 10 || p[1])
			return -EINVAL;
		switch (*p) {
		case 'K': case 'k':
			shift = 10;
			break;
		case 'M': case 'm':
			shift = 20;
			break;
		case 'G': case 'g':
			shift = 30;
			break;
		case 'T': case 't':
			shift = 40;
			break;
		default:
			return -EINVAL;
		}
		if (v > (UINT64_MAX >> shift))
			return -ERANGE;
		v <<= shift;
	}
	*out = v;
	return 0;
}

static int get_num(struct loader *l, const json_t *v, uint64_t min,
		   uint64_t max, unsigned flags, uint64_t *out)
{
	char a[24], b[24], c[24], buf[80];
	uint64_t n;
	int rc;

	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 0)
			return fail(l, -EINVAL,
				    "%" JSON_INTEGER_FORMAT
				    " is out of range %s..%s", i,
				    fmt_num(b, sizeof(b), min, flags),
				    fmt_num(c, sizeof(c), max, flags));
		n = (uint64_t)i;
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);

		rc = parse_number(s, &n);
		if (rc == -ERANGE)
			return fail(l, -EINVAL, "'%s' does not fit in 64 bits",
				    escape(s, '\'', buf, sizeof(buf)));
		if (rc)
			return fail(l, -EINVAL,
				    "'%s' is not a number (accepted: 42, "
				    "0x2a, 0x4_0000_0000, 4K, 256M, 1G, 1T)",
				    escape(s, '\'', buf, sizeof(buf)));
	} else {
		return fail(l, -EINVAL,
			    "expected a number (an integer, or a string such "
			    "as \"0x1000\" or \"4K\"), got %s", type_name(v));
	}
	if (n < min || n > max)
		return fail(l, -EINVAL, "%s is out of range %s..%s",
			    fmt_num(a, sizeof(a), n, flags),
			    fmt_num(b, sizeof(b), min, flags),
			    fmt_num(c, sizeof(c), max, flags));
	*out = n;
	return 0;
}

static int opt_num(struct loader *l, json_t *obj, const char *key,
		   uint64_t min, uint64_t max, uint64_t def, unsigned flags,
		   uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	size_t save;
	int rc;

	if (!v) {
		*out = def;
		return 0;
	}
	save = path_key(l, key);
	rc = get_num(l, v, min, max, flags, out);
	if (!rc)
		path_restore(l, save);
	return rc;
}

static int req_num(struct loader *l, json_t *obj, const char *key,
		   uint64_t min, uint64_t max, unsigned flags, uint64_t *out)
{
	if (!json_object_get(obj, key))
		return missing(l, key);
	return opt_num(l, obj, key, min, max, 0, flags, out);
}

static int opt_bool(struct loader *l, json_t *obj, const char *key,
		    bool def, bool *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v)) {
		path_key(l, key);
		return fail(l, -EINVAL, "expected true or false, got %s",
			    type_name(v));
	}
	*out = json_is_true(v);
	return 0;
}

/* The string stays owned by the JSON tree. */
static int opt_str(struct loader *l, json_t *obj, const char *key,
		   const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		path_key(l, key);
		return fail(l, -EINVAL, "expected a string, got %s",
			    type_name(v));
	}
	*out = json_string_value(v);
	return 0;
}

static int req_str(struct loader *l, json_t *obj, const char *key,
		   const char **out)
{
	int rc = opt_str(l, obj, key, out);

	if (!rc && !*out)
		return missing(l, key);
	return rc;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* ---- reading files ------------------------------------------------------- */

static int read_json(struct loader *l, const char *file, json_t **out)
{
	json_error_t je;
	struct stat st;
	json_t *root;
	FILE *f;
	int e;

	path_set(l, file, "$");
	f = fopen(file, "r");
	if (!f) {
		e = errno;
		return fail(l, -e, "cannot open: %s", strerror(e));
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return fail(l, -EISDIR, "cannot read: %s", strerror(EISDIR));
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!root) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return nomem(l);
		/* jansson quotes the text near the error, newlines and
		 * all: an error is one line. */
		for (char *c = je.text; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = ' ';
		return fail(l, -EINVAL, "malformed JSON at line %d, column "
			    "%d: %s", je.line, je.column, je.text);
	}
	if (!json_is_object(root)) {
		e = fail(l, -EINVAL, "expected an object at the top, got %s",
			 type_name(root));
		json_decref(root);
		return e;
	}
	*out = root;
	return 0;
}

/* ---- the catalog --------------------------------------------------------- */

static const char *const card_keys[] = {
	"description", "pcie", "functions", "children", "link_train_us",
	"crs_us", NULL
};
static const char *const func_keys[] = {
	"fn", "vendor", "device", "subsys_vendor", "subsys", "class",
	"revision", "irq_pin", "bars", "rom_size", "msi", "msix", "serial",
	"immediate_readiness", "bar0_id", "latency_us", "quirks", "bridge",
	NULL
};
static const char *const bar_keys[] = {
	"index", "type", "size", "prefetch", NULL
};
static const char *const msi_keys[] = { "vectors", "64bit", NULL };
static const char *const msix_keys[] = { "vectors", "bar", NULL };
static const char *const child_keys[] = { "dev", "card", NULL };

static const struct {
	const char *name;
	unsigned bit;
} quirk_names[] = {
	{ "cap-loop", SIM_QUIRK_CAP_LOOP },
	{ "cap-outside", SIM_QUIRK_CAP_OUTSIDE },
	{ "extcap-loop", SIM_QUIRK_EXTCAP_LOOP },
	{ "bar-bad-size", SIM_QUIRK_BAR_BAD_SIZE },
	{ "bus-greedy", SIM_QUIRK_BUS_GREEDY },
};

static int check_card_name(struct loader *l, const char *name)
{
	char buf[80];
	const char *p;

	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		      *p == '.'))
			break;
	if (!*name || *p || strlen(name) >= TOPO_NAME_MAX)
		return fail(l, -EINVAL,
			    "card name '%s' must be 1 to %d letters, digits, "
			    "'-', '_' or '.'",
			    escape(name, '\'', buf, sizeof(buf)),
			    TOPO_NAME_MAX - 1);
	return 0;
}

static int parse_bar(struct loader *l, json_t *obj, unsigned nbars,
		     unsigned next, unsigned *index, struct sim_bar_spec *b)
{
	const char *type;
	uint64_t n, min, max;
	size_t save;
	int rc;

	rc = want_object(l, obj);
	if (!rc)
		rc = check_keys(l, obj, bar_keys);
	if (rc)
		return rc;
	rc = opt_num(l, obj, "index", 0, 5, next, NUM_DEC, &n);
	if (rc)
		return rc;
	if (n >= nbars) {
		if (!json_object_get(obj, "index"))
			return fail(l, -EINVAL,
				    "no BAR index left after the previous "
				    "entries (a %s has BARs 0..%u)",
				    nbars == 2 ? "bridge" : "function",
				    nbars - 1);
		path_key(l, "index");
		return fail(l, -EINVAL, "BAR %" PRIu64 " does not exist: a "
			    "bridge function has only BARs 0 and 1", n);
	}
	*index = (unsigned)n;

	rc = req_str(l, obj, "type", &type);
	if (rc)
		return rc;
	if (!strcmp(type, "io")) {
		b->type = SIM_BAR_IO;
		/* PCI 3.0 6.2.5.1: I/O BARs should not ask for more. */
		min = 4;
		max = 256;
	} else if (!strcmp(type, "mem32")) {
		b->type = SIM_BAR_MEM32;
		min = 16;
		max = 1ull << 31;
	} else if (!strcmp(type, "mem64")) {
		b->type = SIM_BAR_MEM64;
		min = 16;
		max = 1ull << 63;
	} else {
		char buf[80];

		path_key(l, "type");
		return fail(l, -EINVAL, "unknown BAR type '%s' (expected one "
			    "of: io, mem32, mem64)",
			    escape(type, '\'', buf, sizeof(buf)));
	}
	rc = req_num(l, obj, "size", min, max, NUM_HEX, &b->size);
	if (rc)
		return rc;
	if (!is_pow2(b->size)) {
		path_key(l, "size");
		return fail(l, -EINVAL, "BAR size 0x%" PRIx64 " is not a "
			    "power of two", b->size);
	}
	rc = opt_bool(l, obj, "prefetch", false, &b->prefetch);
	if (rc)
		return rc;
	if (b->prefetch && b->type == SIM_BAR_IO) {
		path_key(l, "prefetch");
		return fail(l, -EINVAL, "an I/O BAR cannot be prefetchable");
	}
	save = path_key(l, "index");
	if (b->type == SIM_BAR_MEM64 && *index + 1 >= nbars) {
		return fail(l, -EINVAL, "a 64-bit BAR at index %u needs BAR "
			    "%u for its upper half, which does not exist",
			    *index, *index + 1);
	}
	path_restore(l, save);
	return 0;
}

static int parse_bars(struct loader *l, json_t *arr, bool bridge,
		      struct sim_func_spec *f)
{
	/* entry[i]: 1 + JSON index of the entry that defines BAR i, or
	 * claims it as the upper half of a 64-bit BAR. */
	size_t entry[6] = { 0 };
	bool upper[6] = { false };
	unsigned nbars = bridge ? 2 : 6, next = 0, idx = 0;
	size_t i, save, base;
	json_t *v;
	int rc;

	rc = want_array(l, arr);
	if (rc)
		return rc;
	base = l->plen;
	json_array_foreach(arr, i, v) {
		struct sim_bar_spec b = { 0 };

		save = path_index(l, i);
		rc = parse_bar(l, v, nbars, next, &idx, &b);
		if (rc)
			return rc;
		path_key(l, "index");
		if (entry[idx] && upper[idx])
			return fail(l, -EINVAL, "BAR %u is the upper half of "
				    "the 64-bit BAR at %.*s[%zu]", idx,
				    (int)base, l->path, entry[idx] - 1);
		if (entry[idx])
			return fail(l, -EINVAL, "BAR %u is already defined by "
				    "%.*s[%zu]", idx, (int)base, l->path,
				    entry[idx] - 1);
		if (b.type == SIM_BAR_MEM64 && entry[idx + 1])
			return fail(l, -EINVAL, "the 64-bit BAR %u needs BAR "
				    "%u for its upper half, but %.*s[%zu] "
				    "defines it", idx, idx + 1, (int)base,
				    l->path, entry[idx + 1] - 1);
		entry[idx] = i + 1;
		f->bar[idx] = b;
		next = idx + 1;
		if (b.type == SIM_BAR_MEM64) {
			entry[idx + 1] = i + 1;
			upper[idx + 1] = true;
			next++;
		}
		path_restore(l, save);
	}
	return 0;
}

static int parse_irq_pin(struct loader *l, json_t *obj, uint8_t *pin)
{
	static const char *const names[] = {
		"none", "INTA", "INTB", "INTC", "INTD"
	};
	json_t *v = json_object_get(obj, "irq_pin");
	char buf[80];
	uint64_t n;
	unsigned i;
	int rc;

	*pin = 0;
	if (!v)
		return 0;
	if (json_is_string(v)) {
		for (i = 0; i < 5; i++)
			if (!strcmp(json_string_value(v), names[i])) {
				*pin = (uint8_t)i;
				return 0;
			}
		path_key(l, "irq_pin");
		return fail(l, -EINVAL, "unknown interrupt pin '%s' "
			    "(expected 0..4 or one of: none, INTA, INTB, "
			    "INTC, INTD)", escape(json_string_value(v), '\'',
						  buf, sizeof(buf)));
	}
	rc = opt_num(l, obj, "irq_pin", 0, 4, 0, NUM_DEC, &n);
	if (rc)
		return rc;
	*pin = (uint8_t)n;
	return 0;
}

static int parse_msi(struct loader *l, json_t *obj, struct sim_func_spec *f)
{
	json_t *v = json_object_get(obj, "msi");
	uint64_t n;
	size_t save;
	int rc;

	if (!v)
		return 0;
	save = path_key(l, "msi");
	rc = want_object(l, v);
	if (!rc)
		rc = check_keys(l, v, msi_keys);
	if (!rc)
		rc = req_num(l, v, "vectors", 1, 32, NUM_DEC, &n);
	if (rc)
		return rc;
	if (!is_pow2(n)) {
		path_key(l, "vectors");
		return fail(l, -EINVAL, "MSI vectors must be 1, 2, 4, 8, 16 "
			    "or 32, not %" PRIu64, n);
	}
	f->msi_vectors = (unsigned)n;
	rc = opt_bool(l, v, "64bit", true, &f->msi_64bit);
	if (rc)
		return rc;
	path_restore(l, save);
	return 0;
}

static int parse_msix(struct loader *l, json_t *obj, struct sim_func_spec *f)
{
	json_t *v = json_object_get(obj, "msix");
	const struct sim_bar_spec *b;
	uint64_t n, bar, need;
	size_t save;
	int rc;

	if (!v)
		return 0;
	save = path_key(l, "msix");
	rc = want_object(l, v);
	if (!rc)
		rc = check_keys(l, v, msix_keys);
	if (!rc)
		rc = req_num(l, v, "vectors", 1, 2048, NUM_DEC, &n);
	if (!rc)
		rc = opt_num(l, v, "bar", 0, 5, 0, NUM_DEC, &bar);
	if (rc)
		return rc;
	b = &f->bar[bar];
	path_key(l, "bar");
	if (b->type != SIM_BAR_MEM32 && b->type != SIM_BAR_MEM64)
		return fail(l, -EINVAL, "the MSI-X table needs a memory BAR, "
			    "and BAR %" PRIu64 " is %s", bar,
			    b->type == SIM_BAR_IO ? "an I/O BAR" :
			    "not defined (or the upper half of a 64-bit BAR)");
	/* 16 bytes a table entry, then one pending bit a vector.  The
	 * simulator puts both in the upper half of the BAR (its register
	 * file owns the lower half) and silently drops MSI-X that does not
	 * fit, so refuse it here. */
	need = 16 * n + 8 * ((n + 63) / 64);
	if (need > b->size / 2 || b->size / 2 < 0x30)
		return fail(l, -EINVAL, "%" PRIu64 " MSI-X vectors need 0x%"
			    PRIx64 " bytes of table and PBA in the upper half "
			    "of BAR %" PRIu64 ", which has only 0x%" PRIx64
			    " (the lower half holds the card's registers)",
			    n, need, bar, b->size / 2);
	f->msix_vectors = (unsigned)n;
	f->msix_bar = (uint8_t)bar;
	path_restore(l, save);
	return 0;
}

static int parse_quirks(struct loader *l, json_t *obj, bool pcie,
			struct sim_func_spec *f)
{
	json_t *arr = json_object_get(obj, "quirks"), *v;
	size_t i, k, save, save2;
	char buf[80];
	int rc;

	if (!arr)
		return 0;
	save = path_key(l, "quirks");
	rc = want_array(l, arr);
	if (rc)
		return rc;
	json_array_foreach(arr, i, v) {
		save2 = path_index(l, i);
		if (!json_is_string(v))
			return fail(l, -EINVAL, "expected a string, got %s",
				    type_name(v));
		for (k = 0; k < sizeof(quirk_names) / sizeof(quirk_names[0]);
		     k++)
			if (!strcmp(json_string_value(v), quirk_names[k].name))
				break;
		if (k == sizeof(quirk_names) / sizeof(quirk_names[0]))
			return fail(l, -EINVAL, "unknown quirk '%s' (expected "
				    "one of: cap-loop, cap-outside, "
				    "extcap-loop, bar-bad-size, bus-greedy)",
				    escape(json_string_value(v), '\'', buf,
					   sizeof(buf)));
		if (f->quirks & quirk_names[k].bit)
			return fail(l, -EINVAL, "quirk '%s' is listed twice",
				    quirk_names[k].name);
		switch (quirk_names[k].bit) {
		case SIM_QUIRK_EXTCAP_LOOP:
			if (!pcie)
				return fail(l, -EINVAL, "extcap-loop needs a "
					    "PCI Express card (\"pcie\": "
					    "true): only they have extended "
					    "capabilities");
			break;
		case SIM_QUIRK_BAR_BAD_SIZE:
			if (f->bar[0].type == SIM_BAR_NONE)
				return fail(l, -EINVAL, "bar-bad-size "
					    "corrupts BAR 0, which this "
					    "function does not define");
			break;
		case SIM_QUIRK_BUS_GREEDY:
			if (!f->is_bridge)
				return fail(l, -EINVAL, "bus-greedy needs a "
					    "bridge function (\"bridge\": "
					    "true)");
			break;
		default:
			break;
		}
		f->quirks |= quirk_names[k].bit;
		path_restore(l, save2);
	}
	path_restore(l, save);
	return 0;
}

static int parse_function(struct loader *l, json_t *obj, size_t idx,
			  bool pcie, struct sim_func_spec *f)
{
	json_t *v;
	uint64_t n;
	size_t save;
	int rc;

	rc = want_object(l, obj);
	if (!rc)
		rc = check_keys(l, obj, func_keys);
	if (!rc)
		rc = opt_num(l, obj, "fn", 0, 7, idx < 8 ? idx : 0, NUM_DEC,
			     &n);
	if (rc)
		return rc;
	f->fn = (uint8_t)n;
	rc = opt_bool(l, obj, "bridge", false, &f->is_bridge);
	if (rc)
		return rc;
	if (f->is_bridge && f->fn != 0) {
		path_key(l, "bridge");
		return fail(l, -EINVAL, "only function 0 can be the card's "
			    "bridge (this is function %u)", f->fn);
	}
	/* 0xffff is what an absent function reads as; 0 is never
	 * assigned. */
	rc = req_num(l, obj, "vendor", 1, 0xfffe, NUM_HEX, &n);
	if (rc)
		return rc;
	f->vendor = (uint16_t)n;
	rc = req_num(l, obj, "device", 0, 0xfffe, NUM_HEX, &n);
	if (rc)
		return rc;
	f->device = (uint16_t)n;
	rc = opt_num(l, obj, "subsys_vendor", 0, 0xffff, 0, NUM_HEX, &n);
	if (rc)
		return rc;
	f->subsys_vendor = (uint16_t)n;
	rc = opt_num(l, obj, "subsys", 0, 0xffff, 0, NUM_HEX, &n);
	if (rc)
		return rc;
	f->subsys = (uint16_t)n;

	if (f->is_bridge)
		rc = opt_num(l, obj, "class", 0, 0xffffff, 0x060400, NUM_HEX,
			     &n);
	else
		rc = req_num(l, obj, "class", 0, 0xffffff, NUM_HEX, &n);
	if (rc)
		return rc;
	f->class_code = (uint32_t)n;
	if (f->is_bridge != ((f->class_code >> 8) == 0x0604)) {
		path_key(l, "class");
		return fail(l, -EINVAL, "class 0x%06x %s a PCI-to-PCI bridge, "
			    "but \"bridge\" is %s", f->class_code,
			    f->is_bridge ? "is not" : "is",
			    f->is_bridge ? "true" : "false");
	}
	rc = opt_num(l, obj, "revision", 0, 0xff, 0, NUM_HEX, &n);
	if (rc)
		return rc;
	f->revision = (uint8_t)n;
	rc = parse_irq_pin(l, obj, &f->irq_pin);
	if (rc)
		return rc;

	/* The simulator gives a card's bridge a bare type 1 header: BARs,
	 * an expansion ROM or MSI-X on it would silently vanish. */
	if (f->is_bridge) {
		static const char *const none[] = {
			"bars", "rom_size", "msix"
		};
		unsigned k;

		for (k = 0; k < 3; k++)
			if (json_object_get(obj, none[k])) {
				path_key(l, none[k]);
				return fail(l, -EINVAL, "a card's bridge "
					    "function has no BARs, expansion "
					    "ROM or MSI-X in the simulator");
			}
	}
	v = json_object_get(obj, "bars");
	if (v) {
		save = path_key(l, "bars");
		rc = parse_bars(l, v, f->is_bridge, f);
		if (rc)
			return rc;
		path_restore(l, save);
	}
	rc = opt_num(l, obj, "rom_size", 0, 16ull << 20, 0, NUM_HEX, &n);
	if (rc)
		return rc;
	if (n && (!is_pow2(n) || n < 2048)) {
		path_key(l, "rom_size");
		return fail(l, -EINVAL, "expansion ROM size 0x%" PRIx64 " must "
			    "be 0 or a power of two from 2K to 16M", n);
	}
	f->rom_size = (uint32_t)n;
	rc = parse_msi(l, obj, f);
	if (!rc)
		rc = parse_msix(l, obj, f);
	if (rc)
		return rc;

	v = json_object_get(obj, "serial");
	if (v) {
		save = path_key(l, "serial");
		rc = get_num(l, v, 0, UINT64_MAX, NUM_HEX, &f->serial);
		if (rc)
			return rc;
		if (!pcie)
			return fail(l, -EINVAL, "a Device Serial Number is an "
				    "extended capability: it needs a PCI "
				    "Express card (\"pcie\": true)");
		f->has_serial = true;
		path_restore(l, save);
	}
	rc = opt_bool(l, obj, "immediate_readiness", false,
		      &f->immediate_readiness);
	if (!rc)
		rc = opt_num(l, obj, "bar0_id", 0, 0xffffffff, 0, NUM_HEX, &n);
	if (rc)
		return rc;
	if (n && f->bar[0].type == SIM_BAR_NONE) {
		path_key(l, "bar0_id");
		return fail(l, -EINVAL, "bar0_id is read through BAR 0, which "
			    "this function does not define");
	}
	f->bar0_id = (uint32_t)n;
	rc = opt_num(l, obj, "latency_us", 0, 1000000, 0, NUM_DEC, &n);
	if (rc)
		return rc;
	f->latency_us = (uint32_t)n;
	return parse_quirks(l, obj, pcie, f);
}

static int cmp_func(const void *a, const void *b)
{
	const struct sim_func_spec *x = a, *y = b;

	return (int)x->fn - (int)y->fn;
}

static int parse_functions(struct loader *l, json_t *arr, bool pcie,
			   struct sim_card_spec *spec)
{
	size_t seen[8] = { 0 }; /* 1 + JSON index using each fn */
	size_t i, save, base;
	json_t *v;
	int rc;

	rc = want_array(l, arr);
	if (rc)
		return rc;
	if (json_array_size(arr) < 1 || json_array_size(arr) > 8)
		return fail(l, -EINVAL, "a card has 1 to 8 functions, not %zu",
			    json_array_size(arr));
	base = l->plen;
	json_array_foreach(arr, i, v) {
		struct sim_func_spec *f = &spec->funcs[i];

		save = path_index(l, i);
		rc = parse_function(l, v, i, pcie, f);
		if (rc)
			return rc;
		if (seen[f->fn]) {
			path_key(l, "fn");
			return fail(l, -EINVAL, "function %u is already "
				    "defined by %.*s[%zu]", f->fn, (int)base,
				    l->path, seen[f->fn] - 1);
		}
		seen[f->fn] = i + 1;
		path_restore(l, save);
	}
	if (!seen[0])
		return fail(l, -EINVAL, "a card needs a function 0 (software "
			    "looks for function 0 to find a device)");
	spec->nfuncs = (unsigned)json_array_size(arr);
	/* funcs[0] must be function 0: the simulator takes the bridge from
	 * there. */
	qsort(spec->funcs, spec->nfuncs, sizeof(spec->funcs[0]), cmp_func);
	return 0;
}

static int parse_children(struct loader *l, json_t *arr,
			  struct topo_card *c)
{
	size_t seen[32] = { 0 };
	size_t i, n, save, base;
	const char *name;
	json_t *v;
	uint64_t dev;
	int rc;

	rc = want_array(l, arr);
	if (rc)
		return rc;
	if (!c->spec.funcs[0].is_bridge)
		return fail(l, -EINVAL, "only a card with a bridge (function 0 "
			    "with \"bridge\": true) has children");
	n = json_array_size(arr);
	if (n > 32)
		return fail(l, -EINVAL, "a bus has 32 device numbers, not %zu",
			    n);
	if (!n)
		return 0;
	c->children = calloc(n, sizeof(*c->children));
	c->child_name = calloc(n, sizeof(*c->child_name));
	if (!c->children || !c->child_name)
		return nomem(l);
	c->spec.children = c->children;
	base = l->plen;
	json_array_foreach(arr, i, v) {
		save = path_index(l, i);
		rc = want_object(l, v);
		if (!rc)
			rc = check_keys(l, v, child_keys);
		if (!rc)
			rc = req_num(l, v, "dev", 0, 31, NUM_DEC, &dev);
		if (!rc)
			rc = req_str(l, v, "card", &name);
		if (rc)
			return rc;
		if (seen[dev]) {
			path_key(l, "dev");
			return fail(l, -EINVAL, "device %" PRIu64 " is already "
				    "used by %.*s[%zu]", dev, (int)base,
				    l->path, seen[dev] - 1);
		}
		seen[dev] = i + 1;
		c->child_name[i] = strdup(name);
		if (!c->child_name[i])
			return nomem(l);
		/* Count only what is allocated, so card_free() frees it. */
		c->spec.nchildren = (unsigned)i + 1;
		c->children[i].dev = (uint8_t)dev;
		path_restore(l, save);
	}
	return 0;
}

static int parse_card(struct loader *l, const char *name, json_t *obj,
		      struct topo_card *c)
{
	const char *desc;
	uint64_t n;
	json_t *v;
	size_t save;
	int rc;

	c->name = strdup(name);
	c->path = strdup(l->path);
	if (!c->name || !c->path)
		return nomem(l);
	c->file = l->file;
	c->spec.name = c->name;
	rc = check_card_name(l, name);
	if (!rc)
		rc = want_object(l, obj);
	if (!rc)
		rc = check_keys(l, obj, card_keys);
	if (!rc)
		rc = opt_str(l, obj, "description", &desc);
	if (rc)
		return rc;
	c->description = strdup(desc ? desc : "");
	if (!c->description)
		return nomem(l);
	c->spec.description = c->description;
	rc = opt_bool(l, obj, "pcie", false, &c->spec.pcie);
	if (rc)
		return rc;

	v = json_object_get(obj, "functions");
	if (!v)
		return missing(l, "functions");
	save = path_key(l, "functions");
	rc = parse_functions(l, v, c->spec.pcie, &c->spec);
	if (rc)
		return rc;
	path_restore(l, save);

	v = json_object_get(obj, "children");
	if (v) {
		save = path_key(l, "children");
		rc = parse_children(l, v, c);
		if (rc)
			return rc;
		path_restore(l, save);
	}
	rc = opt_num(l, obj, "link_train_us", 0, TOPO_MAX_DELAY_US, 0,
		     NUM_DEC, &n);
	if (rc)
		return rc;
	if (n && !c->spec.pcie) {
		path_key(l, "link_train_us");
		return fail(l, -EINVAL, "only a PCI Express card has a link to "
			    "train");
	}
	c->spec.link_train_us = (uint32_t)n;
	rc = opt_num(l, obj, "crs_us", 0, TOPO_MAX_DELAY_US, 0, NUM_DEC, &n);
	if (rc)
		return rc;
	if (n && !c->spec.pcie) {
		path_key(l, "crs_us");
		return fail(l, -EINVAL, "Configuration Request Retry Status is "
			    "a PCI Express completion: it needs \"pcie\": "
			    "true");
	}
	c->spec.crs_us = (uint32_t)n;
	return 0;
}

static struct topo_card *find_card(const struct sim_topology *topo,
				   const char *name)
{
	json_t *v = topo->byname ? json_object_get(topo->byname, name) : NULL;

	return v ? topo->card[json_integer_value(v)] : NULL;
}

/* Parse one "catalog" object; its entries shadow earlier ones. */
static int parse_catalog(struct loader *l, json_t *obj)
{
	struct topo_card *c, *old;
	const char *name;
	size_t save;
	json_t *v;
	int rc;

	rc = want_object(l, obj);
	if (rc)
		return rc;
	if (!l->topo->byname && !(l->topo->byname = json_object()))
		return nomem(l);
	json_object_foreach(obj, name, v) {
		if (l->topo->ncard == l->topo->capcard) {
			size_t cap = l->topo->capcard ? 2 * l->topo->capcard
						      : 32;
			struct topo_card **p = realloc(l->topo->card,
						       cap * sizeof(*p));

			if (!p)
				return nomem(l);
			l->topo->card = p;
			l->topo->capcard = cap;
		}
		c = calloc(1, sizeof(*c));
		if (!c)
			return nomem(l);
		/* Own it before parsing, so an error path frees it. */
		l->topo->card[l->topo->ncard++] = c;
		save = path_key(l, name);
		rc = parse_card(l, name, v, c);
		if (rc)
			return rc;
		path_restore(l, save);
		/* Duplicate keys in one object are a JSON error already, so
		 * an older entry can only come from the built-in catalog. */
		old = find_card(l->topo, name);
		if (old && old != c)
			old->shadowed = true;
		if (json_object_set_new_nocheck(l->topo->byname, name,
				json_integer((json_int_t)(l->topo->ncard - 1))))
			return nomem(l);
	}
	return 0;
}

/* Appends "a -> b -> ... -> child" for stack[from..depth] to buf. */
static void chain_text(char *buf, size_t n, struct topo_card **stack,
		       unsigned from, unsigned depth,
		       const struct topo_card *child)
{
	size_t o = 0;
	unsigned k;

	buf[0] = '\0';
	for (k = from; k <= depth; k++) {
		int w = snprintf(buf + o, n - o, "%s -> ", stack[k]->name);

		if (w < 0 || (size_t)w >= n - o)
			return;
		o += (size_t)w;
	}
	snprintf(buf + o, n - o, "%s%s", child->name,
		 child->height > 1 ? " -> ..." : "");
}

/*
 * Depth-first over the children references.  A card's height (cards in
 * its longest chain, itself included) is kept once known, so that a
 * card reached again through another parent is checked against the
 * depth limit without being walked again.
 */
static int link_card(struct loader *l, struct topo_card *c,
		     struct topo_card **stack, unsigned depth)
{
	struct topo_card *child;
	char chain[256];
	unsigned i, k;
	int rc;

	if (c->mark == 2)
		return 0;
	c->mark = 1;
	c->height = 1;
	stack[depth] = c;
	for (i = 0; i < c->spec.nchildren; i++) {
		path_set(l, c->file, c->path);
		path_append(l, ".children");
		path_index(l, i);
		path_append(l, ".card");
		child = find_card(l->topo, c->child_name[i]);
		if (!child) {
			char buf[80];

			return fail(l, -EINVAL, "unknown card '%s'",
				    escape(c->child_name[i], '\'', buf,
					   sizeof(buf)));
		}
		if (child->mark == 1) {
			/* mark 1 = on the stack, so this stops by depth. */
			for (k = 0; k < depth && stack[k] != child; k++)
				;
			chain_text(chain, sizeof(chain), stack, k, depth,
				   child);
			return fail(l, -ELOOP, "card reference cycle: %s",
				    chain);
		}
		if (child->mark == 0 && depth + 1 < TOPO_MAX_CARD_DEPTH) {
			rc = link_card(l, child, stack, depth + 1);
			if (rc)
				return rc;
			path_set(l, c->file, c->path);
			path_append(l, ".children");
			path_index(l, i);
			path_append(l, ".card");
		}
		if (child->mark == 0 ||
		    depth + 1 + child->height > TOPO_MAX_CARD_DEPTH) {
			chain_text(chain, sizeof(chain), stack, 0, depth,
				   child);
			return fail(l, -ELOOP, "cards with bridges nest more "
				    "than %d cards deep: %s",
				    TOPO_MAX_CARD_DEPTH, chain);
		}
		if (child->spec.pcie) {
			return fail(l, -EINVAL, "card '%s' is a PCI Express "
				    "card, but behind a card's bridge is a "
				    "conventional PCI bus", child->name);
		}
		if (c->height < child->height + 1)
			c->height = child->height + 1;
		c->children[i].card = &child->spec;
	}
	c->mark = 2;
	return 0;
}

static int cmp_card(const void *a, const void *b)
{
	const struct topo_card *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* Resolve children by name over the merged catalog, then index it. */
static int link_catalog(struct loader *l)
{
	struct topo_card *stack[TOPO_MAX_CARD_DEPTH];
	struct sim_topology *topo = l->topo;
	size_t i;
	int rc;

	for (i = 0; i < topo->ncard; i++) {
		if (topo->card[i]->shadowed)
			continue;
		rc = link_card(l, topo->card[i], stack, 0);
		if (rc)
			return rc;
	}
	topo->index = calloc(topo->ncard ? topo->ncard : 1,
			     sizeof(*topo->index));
	if (!topo->index)
		return nomem(l);
	for (i = 0; i < topo->ncard; i++)
		if (!topo->card[i]->shadowed)
			topo->index[topo->nindex++] = topo->card[i];
	qsort(topo->index, topo->nindex, sizeof(*topo->index), cmp_card);
	return 0;
}

static const char *const catalog_file_keys[] = {
	"description", "catalog", NULL
};

static int load_builtin_catalog(struct loader *l, json_t *root)
{
	json_t *v;
	size_t save;
	int rc;

	path_set(l, l->topo->catalog_file, "$");
	rc = check_keys(l, root, catalog_file_keys);
	if (rc)
		return rc;
	v = json_object_get(root, "description");
	if (v && !json_is_string(v)) {
		path_key(l, "description");
		return fail(l, -EINVAL, "expected a string, got %s",
			    type_name(v));
	}
	v = json_object_get(root, "catalog");
	if (!v)
		return missing(l, "catalog");
	save = path_key(l, "catalog");
	rc = parse_catalog(l, v);
	if (rc)
		return rc;
	path_restore(l, save);
	return 0;
}

/* ---- the chassis --------------------------------------------------------- */

enum bus_kind {
	BUS_ROOT,   /* behind the host bridge */
	BUS_LINK,   /* a PCI Express link below a root or downstream port */
	BUS_SWITCH, /* a switch's internal bus, below its upstream port */
	BUS_PCI,    /* a conventional bus below a PCI-to-PCI bridge */
};

static const char *const bus_desc[] = {
	[BUS_ROOT] = "the host bridge's bus",
	/* Parenthesised: clang's -Wstring-concatenation takes a split
	 * literal in an array initialiser for a missing comma. */
	[BUS_LINK] = ("a PCI Express link (below a root-port or "
		      "downstream-port)"),
	[BUS_SWITCH] = "a switch's internal bus (below an upstream-port)",
	[BUS_PCI] = "a conventional PCI bus (below a pci-bridge)",
};

static const char *const bus_allows[] = {
	[BUS_ROOT] = ("root-port, pci-bridge, shpc-bridge, cpci-segment, "
		      "soldered"),
	[BUS_LINK] = ("upstream-port, soldered (a PCI Express card), at "
		      "device 0"),
	[BUS_SWITCH] = "downstream-port",
	[BUS_PCI] = ("pci-bridge, shpc-bridge, cpci-segment, soldered (a "
		     "conventional card)"),
};

struct bus_walk {
	enum bus_kind kind;
	struct sim_bus *bus;
	unsigned depth;          /* buses above this one */
	size_t base;             /* path length of its "devices" array */
	uint16_t owner[32][8];   /* 1 + devices[] index using dev/fn */
};

enum node_kind {
	NODE_ROOT_PORT,
	NODE_UPSTREAM_PORT,
	NODE_DOWNSTREAM_PORT,
	NODE_PCI_BRIDGE,
	NODE_SHPC_BRIDGE,
	NODE_CPCI_SEGMENT,
	NODE_SOLDERED,
};

static const char *const port_keys[] = {
	"type", "dev", "fn", "vendor", "device", "slot", "reserve",
	"devices", NULL
};
static const char *const upstream_keys[] = {
	"type", "dev", "fn", "vendor", "device", "devices", NULL
};
static const char *const bridge_keys[] = {
	"type", "dev", "fn", "vendor", "device", "devices", NULL
};
static const char *const shpc_keys[] = {
	"type", "dev", "fn", "vendor", "device", "slots", "first_dev",
	"first_phys", "attention_button", "mrl_sensor", "cmd_delay_us",
	"cards", NULL
};
static const char *const cpci_keys[] = {
	"type", "dev", "fn", "vendor", "device", "slots", "first_dev",
	"first_phys", "power_control", "enum_line", "cards", NULL
};
static const char *const soldered_keys[] = {
	"type", "dev", "card", NULL
};
static const char *const slot_keys[] = {
	"number", "card", "attention_button", "power_controller",
	"mrl_sensor", "attention_indicator", "power_indicator", "surprise",
	"interlock", "no_cmd_completed", "dll_active_reporting",
	"cmd_delay_us", "link_train_us", "power_delay_us", NULL
};
static const char *const reserve_keys[] = {
	"bus", "io", "mem", "pref32", "pref64", NULL
};
static const char *const slot_card_keys[] = { "slot", "card", NULL };

static const struct node_type {
	const char *name;
	enum node_kind kind;
	const char *const *keys;
	uint16_t vendor, device;  /* defaults */
	unsigned buses;           /* bit per enum bus_kind it may sit on */
} node_types[] = {
	/* QEMU's pcie-root-port */
	{ "root-port", NODE_ROOT_PORT, port_keys, 0x1b36, 0x000c,
	  1u << BUS_ROOT },
	/* TI XIO3130, what QEMU's x3130-upstream calls itself */
	{ "upstream-port", NODE_UPSTREAM_PORT, upstream_keys, 0x104c, 0x8232,
	  1u << BUS_LINK },
	{ "downstream-port", NODE_DOWNSTREAM_PORT, port_keys, 0x104c, 0x8233,
	  1u << BUS_SWITCH },
	/* DEC 21154, the bridge of many a CompactPCI board */
	{ "pci-bridge", NODE_PCI_BRIDGE, bridge_keys, 0x1011, 0x0026,
	  1u << BUS_ROOT | 1u << BUS_PCI },
	/* QEMU's pci-bridge, which carries an SHPC */
	{ "shpc-bridge", NODE_SHPC_BRIDGE, shpc_keys, 0x1b36, 0x0001,
	  1u << BUS_ROOT | 1u << BUS_PCI },
	/* Intel 21154, as found on CompactPCI backplane bridges */
	{ "cpci-segment", NODE_CPCI_SEGMENT, cpci_keys, 0x8086, 0xb154,
	  1u << BUS_ROOT | 1u << BUS_PCI },
	{ "soldered", NODE_SOLDERED, soldered_keys, 0, 0,
	  1u << BUS_ROOT | 1u << BUS_LINK | 1u << BUS_PCI },
};

#define NODE_TYPES (sizeof(node_types) / sizeof(node_types[0]))

static int parse_devices(struct loader *l, json_t *arr, struct bus_walk *b);

/* Each physical slot number names one slot in the chassis. */
static int claim_phys(struct loader *l, unsigned phys, const char *owner,
		      const char *what)
{
	size_t i;

	for (i = 0; i < l->nphys; i++)
		if (l->phys[i].phys == phys)
			return fail(l, -EINVAL, "%s %u is already used by %s",
				    what, phys, l->phys[i].owner);
	if (l->nphys == l->capphys) {
		size_t cap = l->capphys ? 2 * l->capphys : 16;
		struct phys_use *p = realloc(l->phys, cap * sizeof(*p));

		if (!p)
			return nomem(l);
		l->phys = p;
		l->capphys = cap;
	}
	l->phys[l->nphys].owner = strdup(owner);
	if (!l->phys[l->nphys].owner)
		return nomem(l);
	l->phys[l->nphys++].phys = phys;
	return 0;
}

static int claim_fn(struct loader *l, struct bus_walk *b, size_t idx,
		    unsigned dev, unsigned fn)
{
	if (b->owner[dev][fn])
		return fail(l, -EINVAL, "device %u function %u is already "
			    "used by %.*s[%u]", dev, fn, (int)b->base,
			    l->path, b->owner[dev][fn] - 1u);
	b->owner[dev][fn] = (uint16_t)(idx + 1);
	return 0;
}

/*
 * Look a card up for the value at the current path; it goes on a bus
 * depth buses below the root bus, and its own bridges add more.
 */
static int use_card(struct loader *l, const char *name, int want_pcie,
		    const char *where, unsigned depth,
		    const struct sim_card_spec **out)
{
	const struct topo_card *c = find_card(l->topo, name);
	char buf[80];

	if (!c)
		return fail(l, -EINVAL, "unknown card '%s' (not in %s nor in "
			    "this file's \"catalog\")",
			    escape(name, '\'', buf, sizeof(buf)),
			    l->topo->catalog_file);
	if (want_pcie >= 0 && c->spec.pcie != (bool)want_pcie)
		return fail(l, -EINVAL, "card '%s' is a %s card and cannot go "
			    "%s", c->name, c->spec.pcie ? "PCI Express" :
			    "conventional PCI", where);
	if (depth + c->height - 1 > TOPO_MAX_DEPTH)
		return fail(l, -EINVAL, "card '%s' has %u levels of buses on "
			    "board, which here would nest buses more than %d "
			    "deep", c->name, c->height - 1, TOPO_MAX_DEPTH);
	*out = &c->spec;
	return 0;
}

static int sim_refused(struct loader *l, int err, const char *what)
{
	if (err == -ENOMEM)
		return nomem(l);
	return fail(l, err ? err : -EIO, "the simulator refused %s: %s",
		    what, strerror(err ? -err : EIO));
}

static int parse_slot_features(struct loader *l, json_t *slot,
			       struct sim_slot_features *f)
{
	static const struct {
		const char *key;
		size_t off;
	} flags[] = {
#define F(x) { #x, offsetof(struct sim_slot_features, x) }
		F(attention_button), F(power_controller), F(mrl_sensor),
		F(attention_indicator), F(power_indicator), F(surprise),
		F(interlock), F(no_cmd_completed), F(dll_active_reporting),
#undef F
	};
	uint64_t n;
	size_t i;
	int rc;

	sim_slot_features_default(f);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		bool *p = (bool *)((char *)f + flags[i].off);

		rc = opt_bool(l, slot, flags[i].key, *p, p);
		if (rc)
			return rc;
	}
	rc = opt_num(l, slot, "cmd_delay_us", 0, TOPO_MAX_DELAY_US,
		     f->cmd_delay_us, NUM_DEC, &n);
	if (rc)
		return rc;
	f->cmd_delay_us = (uint32_t)n;
	rc = opt_num(l, slot, "link_train_us", 0, TOPO_MAX_DELAY_US,
		     f->link_train_us, NUM_DEC, &n);
	if (rc)
		return rc;
	f->link_train_us = (uint32_t)n;
	rc = opt_num(l, slot, "power_delay_us", 0, TOPO_MAX_DELAY_US,
		     f->power_delay_us, NUM_DEC, &n);
	if (rc)
		return rc;
	f->power_delay_us = (uint32_t)n;
	return 0;
}

static int parse_reserve(struct loader *l, json_t *obj,
			 struct sim_port_spec *ps)
{
	uint64_t n;
	int rc;

	rc = want_object(l, obj);
	if (!rc)
		rc = check_keys(l, obj, reserve_keys);
	if (!rc)
		rc = opt_num(l, obj, "bus", 0, 255, 0, NUM_DEC, &n);
	if (rc)
		return rc;
	ps->bus_reserve = (uint32_t)n;
	/* Field widths of QEMU's resource reservation capability. */
	rc = opt_num(l, obj, "io", 0, 0xffffffff, 0, NUM_HEX, &ps->io_reserve);
	if (!rc)
		rc = opt_num(l, obj, "mem", 0, 0xffffffff, 0, NUM_HEX,
			     &ps->mem_reserve);
	if (!rc)
		rc = opt_num(l, obj, "pref32", 0, 0xffffffff, 0, NUM_HEX,
			     &ps->pref32_reserve);
	if (!rc)
		rc = opt_num(l, obj, "pref64", 0, UINT64_MAX, 0, NUM_HEX,
			     &ps->pref64_reserve);
	if (rc)
		return rc;
	if (ps->pref32_reserve && ps->pref64_reserve) {
		path_key(l, "pref64");
		return fail(l, -EINVAL, "reserve either 32-bit (pref32) or "
			    "64-bit (pref64) prefetchable memory, not both: "
			    "a bridge has one prefetchable window");
	}
	ps->has_reserve = true;
	return 0;
}

/* Common to every node: dev (and fn) plus vendor/device. */
static int parse_location(struct loader *l, json_t *obj,
			  const struct node_type *t, struct bus_walk *b,
			  size_t idx, uint8_t *dev, uint8_t *fn,
			  uint16_t *vendor, uint16_t *device)
{
	uint64_t d, f = 0, n;
	size_t save;
	int rc;

	rc = req_num(l, obj, "dev", 0, 31, NUM_DEC, &d);
	if (!rc && t->kind != NODE_SOLDERED)
		rc = opt_num(l, obj, "fn", 0, 7, 0, NUM_DEC, &f);
	if (rc)
		return rc;
	if (b->kind == BUS_LINK && d != 0) {
		path_key(l, "dev");
		return fail(l, -EINVAL, "below a PCI Express port only device "
			    "0 is reachable, not device %" PRIu64, d);
	}
	*dev = (uint8_t)d;
	*fn = (uint8_t)f;
	if (t->kind != NODE_SOLDERED) {
		save = path_key(l, "dev");
		rc = claim_fn(l, b, idx, *dev, *fn);
		if (rc)
			return rc;
		path_restore(l, save);
		rc = opt_num(l, obj, "vendor", 1, 0xfffe, t->vendor, NUM_HEX,
			     &n);
		if (rc)
			return rc;
		*vendor = (uint16_t)n;
		rc = opt_num(l, obj, "device", 0, 0xfffe, t->device, NUM_HEX,
			     &n);
		if (rc)
			return rc;
		*device = (uint16_t)n;
	}
	return 0;
}

static int descend(struct loader *l, json_t *obj, struct bus_walk *b,
		   struct sim_fn *fn, enum bus_kind kind)
{
	json_t *v = json_object_get(obj, "devices");
	struct bus_walk *child;
	size_t save;
	int rc;

	if (!v)
		return 0;
	save = path_key(l, "devices");
	if (b->depth + 1 > TOPO_MAX_DEPTH)
		return fail(l, -EINVAL, "buses nest more than %d deep",
			    TOPO_MAX_DEPTH);
	/* The dev/fn table is big enough that 16 levels of it should not
	 * sit on the stack. */
	child = calloc(1, sizeof(*child));
	if (!child)
		return nomem(l);
	child->kind = kind;
	child->bus = l->build ? sim_fn_secondary(fn) : NULL;
	child->depth = b->depth + 1;
	if (l->build && !child->bus) {
		free(child);
		return fail(l, -EPROTO, "the simulator made no secondary bus "
			    "for this bridge");
	}
	rc = parse_devices(l, v, child);
	free(child);
	if (rc)
		return rc;
	path_restore(l, save);
	return 0;
}

static int parse_port(struct loader *l, json_t *obj,
		      const struct node_type *t, struct bus_walk *b,
		      size_t idx)
{
	struct sim_port_spec ps = { 0 };
	const struct sim_card_spec *card = NULL;
	json_t *slot, *v;
	struct sim_fn *fn;
	const char *name = NULL;
	uint64_t n;
	size_t save, owner_len;
	uint8_t dev, f;
	int rc, err = 0;

	owner_len = l->plen;
	rc = parse_location(l, obj, t, b, idx, &dev, &f, &ps.vendor,
			    &ps.device);
	if (rc)
		return rc;
	ps.type = t->kind == NODE_ROOT_PORT ? SIM_PORT_ROOT :
		  t->kind == NODE_UPSTREAM_PORT ? SIM_PORT_UPSTREAM :
		  SIM_PORT_DOWNSTREAM;
	slot = json_object_get(obj, "slot");
	if (slot) {
		save = path_key(l, "slot");
		if (json_object_get(obj, "devices"))
			return fail(l, -EINVAL, "a port has either a slot or "
				    "\"devices\" below it, not both");
		rc = want_object(l, slot);
		if (!rc)
			rc = check_keys(l, slot, slot_keys);
		if (!rc)
			/* 13 bits in Slot Capabilities; 0 means "no slot
			 * number" there. */
			rc = req_num(l, slot, "number", 1, 8191, NUM_DEC, &n);
		if (rc)
			return rc;
		ps.has_slot = true;
		ps.phys_slot = (uint16_t)n;
		rc = parse_slot_features(l, slot, &ps.slot);
		if (!rc)
			rc = opt_str(l, slot, "card", &name);
		if (rc)
			return rc;
		if (name) {
			size_t s2 = path_key(l, "card");

			rc = use_card(l, name, 1, "in a PCI Express slot",
				      b->depth + 1, &card);
			if (rc)
				return rc;
			path_restore(l, s2);
		}
		{
			char owner[TOPO_PATH_LEN];
			size_t s2 = path_key(l, "number");

			snprintf(owner, sizeof(owner), "%.*s", (int)owner_len,
				 l->path);
			rc = claim_phys(l, ps.phys_slot, owner,
					"slot number");
			if (rc)
				return rc;
			path_restore(l, s2);
		}
		path_restore(l, save);
	}
	v = json_object_get(obj, "reserve");
	if (v) {
		save = path_key(l, "reserve");
		rc = parse_reserve(l, v, &ps);
		if (rc)
			return rc;
		path_restore(l, save);
	}

	if (!l->build)
		return descend(l, obj, b, NULL, t->kind == NODE_UPSTREAM_PORT ?
			       BUS_SWITCH : BUS_LINK);
	fn = sim_add_pcie_port(b->bus, dev, f, &ps, &err);
	if (!fn)
		return sim_refused(l, err, "this port");
	if (card) {
		struct sim_slot *s = sim_fn_slot(fn);

		save = path_key(l, "slot");
		path_key(l, "card");
		if (!s)
			return fail(l, -EPROTO, "the simulator made no slot "
				    "for this port");
		/* Present at power-on: as firmware leaves it. */
		rc = sim_coldplug(s, card);
		if (rc)
			return sim_refused(l, rc, "to insert the card");
		path_restore(l, save);
	}
	return descend(l, obj, b, fn, t->kind == NODE_UPSTREAM_PORT ?
		       BUS_SWITCH : BUS_LINK);
}

static int parse_pci_bridge(struct loader *l, json_t *obj,
			    const struct node_type *t, struct bus_walk *b,
			    size_t idx)
{
	/* Set by parse_location for every kind but soldered. */
	uint16_t vendor = 0, device = 0;
	struct sim_fn *fn;
	uint8_t dev, f;
	int rc, err = 0;

	rc = parse_location(l, obj, t, b, idx, &dev, &f, &vendor, &device);
	if (rc)
		return rc;
	if (!l->build)
		return descend(l, obj, b, NULL, BUS_PCI);
	fn = sim_add_pci_bridge(b->bus, dev, f, vendor, device, &err);
	if (!fn)
		return sim_refused(l, err, "this bridge");
	return descend(l, obj, b, fn, BUS_PCI);
}

/*
 * Shared by SHPC bridges and CompactPCI segments: a row of slots at
 * device numbers first_dev.. with physical numbers first_phys.., and the
 * cards in them at start.
 */
struct slot_row {
	unsigned nslots;
	uint8_t first_dev;
	uint16_t first_phys;
	const struct sim_card_spec *card[32]; /* by logical slot */
	size_t entry[32];                     /* its index in "cards" */
};

static int parse_slot_row(struct loader *l, json_t *obj, unsigned max_phys,
			  size_t owner_len, struct slot_row *r)
{
	char owner[TOPO_PATH_LEN];
	uint64_t n, fd, fp;
	unsigned i;
	size_t save;
	int rc;

	rc = req_num(l, obj, "slots", 1, 31, NUM_DEC, &n);
	if (!rc)
		rc = opt_num(l, obj, "first_dev", 0, 31, 1, NUM_DEC, &fd);
	if (!rc)
		rc = req_num(l, obj, "first_phys", 1, max_phys, NUM_DEC, &fp);
	if (rc)
		return rc;
	if (fd + n > 32) {
		path_key(l, "first_dev");
		return fail(l, -EINVAL, "%" PRIu64 " slots from device %"
			    PRIu64 " run past device 31", n, fd);
	}
	if (fp + n - 1 > max_phys) {
		path_key(l, "first_phys");
		return fail(l, -EINVAL, "%" PRIu64 " slots from physical slot %"
			    PRIu64 " run past %u", n, fp, max_phys);
	}
	r->nslots = (unsigned)n;
	r->first_dev = (uint8_t)fd;
	r->first_phys = (uint16_t)fp;
	snprintf(owner, sizeof(owner), "%.*s", (int)owner_len, l->path);
	save = path_key(l, "first_phys");
	for (i = 0; i < r->nslots; i++) {
		rc = claim_phys(l, r->first_phys + i, owner,
				"physical slot");
		if (rc)
			return rc;
	}
	path_restore(l, save);
	return 0;
}

/* Check the "cards" of a row before anything is built. */
static int parse_row_cards(struct loader *l, json_t *obj, struct slot_row *r,
			   const char *where, unsigned depth)
{
	json_t *arr = json_object_get(obj, "cards"), *v;
	const char *name;
	size_t i, save, save2, base;
	unsigned at;
	uint64_t phys;
	int rc;

	if (!arr)
		return 0;
	save = path_key(l, "cards");
	rc = want_array(l, arr);
	if (rc)
		return rc;
	base = l->plen;
	json_array_foreach(arr, i, v) {
		save2 = path_index(l, i);
		rc = want_object(l, v);
		if (!rc)
			rc = check_keys(l, v, slot_card_keys);
		if (!rc)
			rc = req_num(l, v, "slot", r->first_phys,
				     r->first_phys + r->nslots - 1, NUM_DEC,
				     &phys);
		if (!rc)
			rc = req_str(l, v, "card", &name);
		if (rc)
			return rc;
		at = (unsigned)(phys - r->first_phys);
		if (r->card[at]) {
			path_key(l, "slot");
			return fail(l, -EINVAL, "slot %" PRIu64 " already "
				    "holds the card of %.*s[%zu]", phys,
				    (int)base, l->path, r->entry[at]);
		}
		path_key(l, "card");
		rc = use_card(l, name, 0, where, depth, &r->card[at]);
		if (rc)
			return rc;
		r->entry[at] = i;
		path_restore(l, save2);
	}
	path_restore(l, save);
	return 0;
}

static int insert_row_cards(struct loader *l, const struct slot_row *r)
{
	struct sim_slot *s;
	size_t save;
	unsigned i;
	int rc;

	for (i = 0; i < r->nslots; i++) {
		if (!r->card[i])
			continue;
		save = path_key(l, "cards");
		path_index(l, r->entry[i]);
		path_key(l, "card");
		s = sim_slot_by_phys(sim_topology_sim(l->topo),
				     r->first_phys + i);
		if (!s)
			return fail(l, -EPROTO, "the simulator made no slot %u",
				    r->first_phys + i);
		rc = sim_coldplug(s, r->card[i]);
		if (rc)
			return sim_refused(l, rc, "to insert the card");
		path_restore(l, save);
	}
	return 0;
}

static int parse_shpc(struct loader *l, json_t *obj,
		      const struct node_type *t, struct bus_walk *b,
		      size_t idx)
{
	struct sim_shpc_spec ss = { 0 };
	struct slot_row r = { 0 };
	struct sim_fn *fn;
	uint8_t dev, f;
	uint64_t n;
	int rc, err = 0;
	size_t owner_len = l->plen;

	rc = parse_location(l, obj, t, b, idx, &dev, &f, &ss.vendor,
			    &ss.device);
	/* Slot Configuration holds the first physical number in 11 bits. */
	if (!rc)
		rc = parse_slot_row(l, obj, 2047, owner_len, &r);
	if (!rc)
		rc = opt_bool(l, obj, "attention_button", true,
			      &ss.attention_button);
	if (!rc)
		rc = opt_bool(l, obj, "mrl_sensor", true, &ss.mrl_sensor);
	if (!rc)
		rc = opt_num(l, obj, "cmd_delay_us", 0, TOPO_MAX_DELAY_US,
			     1000, NUM_DEC, &n);
	if (!rc)
		rc = parse_row_cards(l, obj, &r, "in an SHPC (conventional "
				     "PCI) slot", b->depth + 1);
	if (rc)
		return rc;
	ss.nslots = r.nslots;
	ss.first_dev = r.first_dev;
	ss.first_phys = r.first_phys;
	ss.cmd_delay_us = (uint32_t)n;
	if (!l->build)
		return 0;
	fn = sim_add_shpc_bridge(b->bus, dev, f, &ss, &err);
	if (!fn)
		return sim_refused(l, err, "this SHPC bridge");
	return insert_row_cards(l, &r);
}

static int parse_cpci(struct loader *l, json_t *obj,
		      const struct node_type *t, struct bus_walk *b,
		      size_t idx)
{
	struct sim_cpci_spec cs = { 0 };
	struct slot_row r = { 0 };
	struct sim_fn *fn;
	uint8_t dev, f;
	uint64_t n;
	int rc, err = 0;
	size_t owner_len = l->plen;

	rc = parse_location(l, obj, t, b, idx, &dev, &f, &cs.vendor,
			    &cs.device);
	if (!rc)
		rc = parse_slot_row(l, obj, 8191, owner_len, &r);
	if (!rc)
		rc = opt_bool(l, obj, "power_control", false,
			      &cs.power_control);
	if (!rc)
		rc = req_num(l, obj, "enum_line", 0, TOPO_LINES - 1, NUM_DEC,
			     &n);
	if (!rc)
		rc = parse_row_cards(l, obj, &r, "in a CompactPCI slot",
				     b->depth + 1);
	if (rc)
		return rc;
	cs.nslots = r.nslots;
	cs.first_dev = r.first_dev;
	cs.first_phys = r.first_phys;
	cs.enum_line = (uint32_t)n;
	if (!l->build)
		return 0;
	fn = sim_add_cpci_segment(b->bus, dev, f, &cs, &err);
	if (!fn)
		return sim_refused(l, err, "this CompactPCI segment");
	return insert_row_cards(l, &r);
}

static int parse_soldered(struct loader *l, json_t *obj,
			  const struct node_type *t, struct bus_walk *b,
			  size_t idx)
{
	const struct sim_card_spec *card;
	const char *name;
	uint16_t unused;
	uint8_t dev, f;
	unsigned i;
	size_t save;
	int rc, want;

	rc = parse_location(l, obj, t, b, idx, &dev, &f, &unused, &unused);
	if (!rc)
		rc = req_str(l, obj, "card", &name);
	if (rc)
		return rc;
	save = path_key(l, "card");
	want = b->kind == BUS_LINK ? 1 : b->kind == BUS_PCI ? 0 : -1;
	rc = use_card(l, name, want, b->kind == BUS_LINK ?
		      "on a PCI Express link" : "on a conventional PCI bus",
		      b->depth, &card);
	if (rc)
		return rc;
	path_restore(l, save);
	/* A card's own function 0 says whether the device is
	 * multi-function, so nothing else may share its device number. */
	save = path_key(l, "dev");
	for (i = 0; i < 8; i++)
		if (b->owner[dev][i])
			return fail(l, -EINVAL, "device %u is already used by "
				    "%.*s[%u] (a soldered card takes its "
				    "whole device number)", dev, (int)b->base,
				    l->path, b->owner[dev][i] - 1u);
	for (i = 0; i < 8; i++)
		b->owner[dev][i] = (uint16_t)(idx + 1);
	path_restore(l, save);
	if (!l->build)
		return 0;
	rc = sim_add_device(b->bus, dev, card);
	if (rc)
		return sim_refused(l, rc, "this device");
	return 0;
}

static int parse_node(struct loader *l, json_t *obj, struct bus_walk *b,
		      size_t idx)
{
	const struct node_type *t = NULL;
	const char *type;
	char buf[80];
	size_t i;
	int rc;

	rc = want_object(l, obj);
	if (!rc)
		rc = req_str(l, obj, "type", &type);
	if (rc)
		return rc;
	for (i = 0; i < NODE_TYPES; i++)
		if (!strcmp(type, node_types[i].name))
			t = &node_types[i];
	if (!t) {
		path_key(l, "type");
		return fail(l, -EINVAL, "unknown type '%s' (expected one of: "
			    "root-port, upstream-port, downstream-port, "
			    "pci-bridge, shpc-bridge, cpci-segment, soldered)",
			    escape(type, '\'', buf, sizeof(buf)));
	}
	rc = check_keys(l, obj, t->keys);
	if (rc)
		return rc;
	if (!(t->buses & (1u << b->kind))) {
		path_key(l, "type");
		return fail(l, -EINVAL, "%s %s cannot sit on %s; allowed "
			    "there: %s", t->name[0] == 'u' ? "an" : "a",
			    t->name, bus_desc[b->kind],
			    bus_allows[b->kind]);
	}
	switch (t->kind) {
	case NODE_ROOT_PORT:
	case NODE_UPSTREAM_PORT:
	case NODE_DOWNSTREAM_PORT:
		return parse_port(l, obj, t, b, idx);
	case NODE_PCI_BRIDGE:
		return parse_pci_bridge(l, obj, t, b, idx);
	case NODE_SHPC_BRIDGE:
		return parse_shpc(l, obj, t, b, idx);
	case NODE_CPCI_SEGMENT:
		return parse_cpci(l, obj, t, b, idx);
	case NODE_SOLDERED:
		return parse_soldered(l, obj, t, b, idx);
	}
	return fail(l, -EINVAL, "internal error: unhandled type");
}

static int parse_devices(struct loader *l, json_t *arr, struct bus_walk *b)
{
	unsigned dev, fn;
	size_t i, save;
	json_t *v;
	int rc;

	rc = want_array(l, arr);
	if (rc)
		return rc;
	b->base = l->plen;
	json_array_foreach(arr, i, v) {
		save = path_index(l, i);
		rc = parse_node(l, v, b, i);
		if (rc)
			return rc;
		path_restore(l, save);
	}
	/* Enumeration probes function 0 and reads the others only when it
	 * says multi-function: a lone function 1 would never be found. */
	for (dev = 0; dev < 32; dev++) {
		if (b->owner[dev][0])
			continue;
		for (fn = 1; fn < 8; fn++) {
			if (!b->owner[dev][fn])
				continue;
			path_index(l, b->owner[dev][fn] - 1u);
			path_append(l, ".fn");
			return fail(l, -EINVAL, "device %u has function %u but "
				    "no function 0, so software would never "
				    "find it", dev, fn);
		}
	}
	return 0;
}

static const char *const top_keys[] = {
	"name", "description", "platform", "host_bridge", "catalog", NULL
};
static const char *const platform_keys[] = {
	"ram_base", "ram_size", "msi_vectors", "intx_base", NULL
};
static const char *const host_keys[] = {
	"segment", "bus_first", "bus_last", "io", "mem", "pref", "devices",
	NULL
};
static const char *const aperture_keys[] = { "base", "limit", NULL };

static int parse_aperture(struct loader *l, json_t *host, const char *key,
			  uint64_t max, uint64_t *base, uint64_t *limit)
{
	json_t *v = json_object_get(host, key);
	size_t save;
	int rc;

	if (!v)
		return 0;
	save = path_key(l, key);
	if (json_is_null(v) && !strcmp(key, "pref")) {
		*base = 0;
		*limit = 0;
		path_restore(l, save);
		return 0;
	}
	rc = want_object(l, v);
	if (!rc)
		rc = check_keys(l, v, aperture_keys);
	if (!rc)
		rc = req_num(l, v, "base", 0, max, NUM_HEX, base);
	if (!rc)
		rc = req_num(l, v, "limit", 1, max, NUM_HEX, limit);
	if (rc)
		return rc;
	if (*base > *limit) {
		path_key(l, "limit");
		return fail(l, -EINVAL, "limit 0x%" PRIx64 " is below base 0x%"
			    PRIx64, *limit, *base);
	}
	path_restore(l, save);
	return 0;
}

static bool overlap(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 <= b1 && b0 <= a1;
}

static int parse_config(struct loader *l, json_t *root, json_t *host,
			struct sim_config *cfg)
{
	uint64_t n, base, limit;
	json_t *plat;
	size_t save;
	int rc;

	sim_config_defaults(cfg);
	plat = json_object_get(root, "platform");
	if (plat) {
		save = path_key(l, "platform");
		rc = want_object(l, plat);
		if (!rc)
			rc = check_keys(l, plat, platform_keys);
		if (!rc)
			rc = opt_num(l, plat, "ram_base", 0, UINT64_MAX,
				     cfg->ram_base, NUM_HEX, &cfg->ram_base);
		if (!rc)
			rc = opt_num(l, plat, "ram_size", 0, TOPO_MAX_RAM,
				     cfg->ram_size, NUM_HEX, &cfg->ram_size);
		if (!rc)
			rc = opt_num(l, plat, "msi_vectors", 0, TOPO_MSI_MAX,
				     cfg->msi_vectors, NUM_DEC, &n);
		if (rc)
			return rc;
		cfg->msi_vectors = (unsigned)n;
		rc = opt_num(l, plat, "intx_base", 0, TOPO_LINES - 4,
			     cfg->intx_base, NUM_DEC, &n);
		if (rc)
			return rc;
		cfg->intx_base = (uint32_t)n;
		if ((cfg->ram_base | cfg->ram_size) & 0xfff) {
			path_key(l, cfg->ram_base & 0xfff ? "ram_base" :
				 "ram_size");
			return fail(l, -EINVAL, "host RAM is made of 4K pages: "
				    "ram_base and ram_size must be multiples "
				    "of 0x1000");
		}
		if (cfg->ram_size &&
		    cfg->ram_base > UINT64_MAX - (cfg->ram_size - 1)) {
			path_key(l, "ram_size");
			return fail(l, -EINVAL, "RAM runs past the top of the "
				    "64-bit address space");
		}
		path_restore(l, save);
	}

	save = path_key(l, "host_bridge");
	rc = opt_num(l, host, "segment", 0, 0xffff, cfg->segment, NUM_HEX,
		     &n);
	if (rc)
		return rc;
	cfg->segment = (uint16_t)n;
	rc = opt_num(l, host, "bus_first", 0, 255, cfg->bus_first, NUM_DEC,
		     &n);
	if (rc)
		return rc;
	cfg->bus_first = (uint8_t)n;
	rc = opt_num(l, host, "bus_last", 0, 255, cfg->bus_last, NUM_DEC, &n);
	if (rc)
		return rc;
	cfg->bus_last = (uint8_t)n;
	if (cfg->bus_first > cfg->bus_last) {
		path_key(l, "bus_last");
		return fail(l, -EINVAL, "bus_last %u is below bus_first %u",
			    cfg->bus_last, cfg->bus_first);
	}
	base = cfg->io_base;
	limit = cfg->io_limit;
	rc = parse_aperture(l, host, "io", 0xffffffff, &base, &limit);
	if (rc)
		return rc;
	cfg->io_base = (uint32_t)base;
	cfg->io_limit = (uint32_t)limit;
	/* The 32-bit window must stay below 4 GiB: that is what makes it
	 * usable by 32-bit BARs. */
	rc = parse_aperture(l, host, "mem", 0xffffffff, &cfg->mem_base,
			    &cfg->mem_limit);
	if (!rc)
		rc = parse_aperture(l, host, "pref", UINT64_MAX,
				    &cfg->pref_base, &cfg->pref_limit);
	if (rc)
		return rc;
	if (cfg->pref_limit && overlap(cfg->mem_base, cfg->mem_limit,
				       cfg->pref_base, cfg->pref_limit)) {
		path_key(l, "pref");
		return fail(l, -EINVAL, "the prefetchable aperture 0x%" PRIx64
			    "-0x%" PRIx64 " overlaps the memory aperture 0x%"
			    PRIx64 "-0x%" PRIx64, cfg->pref_base,
			    cfg->pref_limit, cfg->mem_base, cfg->mem_limit);
	}
	path_restore(l, save);
	if (cfg->ram_size) {
		uint64_t r1 = cfg->ram_base + cfg->ram_size - 1;

		if (overlap(cfg->ram_base, r1, cfg->mem_base, cfg->mem_limit) ||
		    (cfg->pref_limit && overlap(cfg->ram_base, r1,
						cfg->pref_base,
						cfg->pref_limit))) {
			path_key(l, plat ? "platform" : "host_bridge");
			if (plat)
				path_key(l, "ram_base");
			return fail(l, -EINVAL, "host RAM 0x%" PRIx64 "-0x%"
				    PRIx64 " overlaps a memory aperture of "
				    "the host bridge", cfg->ram_base, r1);
		}
	}
	return 0;
}

/* Verify the simulator numbered the slots as the format promises. */
static int check_slots(struct loader *l)
{
	struct sim_slot_info info;
	struct sim_slot *s;
	size_t i;

	for (i = 0; i < l->nphys; i++) {
		s = sim_slot_by_phys(l->topo->sim, l->phys[i].phys);
		if (s)
			sim_slot_get_info(s, &info);
		if (!s || info.phys != l->phys[i].phys) {
			path_set(l, l->topo->topo_file, l->phys[i].owner);
			return fail(l, -EPROTO, "the simulator has no slot %u "
				    "after building this", l->phys[i].phys);
		}
	}
	return 0;
}

static void forget_phys(struct loader *l)
{
	size_t i;

	for (i = 0; i < l->nphys; i++)
		free(l->phys[i].owner);
	l->nphys = 0;
}

/* One pass over $.host_bridge.devices, checking or building. */
static int walk_root(struct loader *l, json_t *devices)
{
	struct bus_walk *b;
	int rc;

	/* Each pass claims every slot number afresh. */
	forget_phys(l);
	path_set(l, l->topo->topo_file, "$.host_bridge.devices");
	b = calloc(1, sizeof(*b));
	if (!b)
		return nomem(l);
	b->kind = BUS_ROOT;
	b->bus = l->build ? sim_root_bus(l->topo->sim) : NULL;
	rc = parse_devices(l, devices, b);
	free(b);
	return rc;
}

static int load_chassis(struct loader *l, json_t *root, json_t *cat_root)
{
	struct sim_topology *topo = l->topo;
	struct sim_config cfg;
	const char *s;
	json_t *host, *v;
	size_t save;
	int rc;

	path_set(l, topo->topo_file, "$");
	rc = check_keys(l, root, top_keys);
	if (!rc)
		rc = opt_str(l, root, "name", &s);
	if (rc)
		return rc;
	if (s) {
		topo->name = strdup(s);
	} else {
		/* The file's base name, less ".json". */
		const char *slash = strrchr(topo->topo_file, '/');
		const char *b0 = slash ? slash + 1 : topo->topo_file;
		size_t len = strlen(b0);

		if (len > 5 && !strcmp(b0 + len - 5, ".json"))
			len -= 5;
		topo->name = strndup(b0, len);
	}
	if (!topo->name)
		return nomem(l);
	rc = opt_str(l, root, "description", &s);
	if (rc)
		return rc;
	topo->description = strdup(s ? s : "");
	if (!topo->description)
		return nomem(l);
	host = json_object_get(root, "host_bridge");
	if (!host)
		return missing(l, "host_bridge");
	save = path_key(l, "host_bridge");
	rc = want_object(l, host);
	if (!rc)
		rc = check_keys(l, host, host_keys);
	if (rc)
		return rc;
	path_restore(l, save);

	rc = load_builtin_catalog(l, cat_root);
	if (rc)
		return rc;
	v = json_object_get(root, "catalog");
	if (v) {
		path_set(l, topo->topo_file, "$.catalog");
		rc = parse_catalog(l, v);
		if (rc)
			return rc;
	}
	rc = link_catalog(l);
	if (rc)
		return rc;

	path_set(l, topo->topo_file, "$");
	rc = parse_config(l, root, host, &cfg);
	if (rc)
		return rc;
	v = json_object_get(host, "devices");
	if (v) {
		l->build = false;
		rc = walk_root(l, v);
		if (rc)
			return rc;
	}
	path_set(l, topo->topo_file, "$");
	topo->sim = sim_create(&cfg);
	if (!topo->sim)
		return fail(l, -ENOMEM, "cannot create the simulator");
	if (!v)
		return 0;
	l->build = true;
	rc = walk_root(l, v);
	if (rc)
		return rc;
	return check_slots(l);
}

/* ---- public entry points ------------------------------------------------- */

int sim_topology_load(const char *path, const char *catalog_path,
		      struct sim_topology **out, char *err, size_t errlen)
{
	struct loader l = { .err = err, .errlen = errlen, .file = "" };
	struct sim_topology *topo;
	json_t *root = NULL, *cat_root = NULL;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (out)
		*out = NULL;
	if (!path || !out) {
		l.file = path ? path : "(null)";
		return fail(&l, -EINVAL, "no topology file or no result "
			    "pointer given");
	}
	l.file = path;
	if (!catalog_path)
		catalog_path = sim_topology_default_catalog();

	topo = calloc(1, sizeof(*topo));
	if (!topo) {
		rc = nomem(&l);
		goto free_phys;
	}
	l.topo = topo;
	topo->topo_file = strdup(path);
	topo->catalog_file = strdup(catalog_path);
	if (!topo->topo_file || !topo->catalog_file) {
		rc = nomem(&l);
		goto free_topo;
	}
	rc = read_json(&l, topo->topo_file, &root);
	if (rc)
		goto free_topo;
	rc = read_json(&l, topo->catalog_file, &cat_root);
	if (rc)
		goto put_root;
	rc = load_chassis(&l, root, cat_root);
	if (rc)
		goto put_catalog;
	*out = topo;
	topo = NULL;
	/* Success falls through: the JSON trees are no longer needed and
	 * sim_topology_free(NULL) does nothing. */
put_catalog:
	json_decref(cat_root);
put_root:
	json_decref(root);
free_topo:
	sim_topology_free(topo);
free_phys:
	forget_phys(&l);
	free(l.phys);
	return rc;
}

static void card_free(struct topo_card *c)
{
	unsigned i;

	if (!c)
		return;
	if (c->child_name)
		for (i = 0; i < c->spec.nchildren; i++)
			free(c->child_name[i]);
	free(c->child_name);
	free(c->children);
	free(c->name);
	free(c->description);
	free(c->path);
	free(c);
}

void sim_topology_free(struct sim_topology *topo)
{
	size_t i;

	if (!topo)
		return;
	/* The simulator borrows the card specs: it goes first. */
	if (topo->sim)
		sim_destroy(topo->sim);
	for (i = 0; i < topo->ncard; i++)
		card_free(topo->card[i]);
	free(topo->card);
	free(topo->index);
	json_decref(topo->byname);
	free(topo->name);
	free(topo->description);
	free(topo->topo_file);
	free(topo->catalog_file);
	free(topo);
}

struct sim *sim_topology_sim(struct sim_topology *topo)
{
	return topo ? topo->sim : NULL;
}

const char *sim_topology_name(const struct sim_topology *topo)
{
	return topo ? topo->name : NULL;
}

const char *sim_topology_description(const struct sim_topology *topo)
{
	return topo ? topo->description : NULL;
}

static int cmp_key_card(const void *key, const void *elem)
{
	const struct topo_card *const *c = elem;

	return strcmp(key, (*c)->name);
}

const struct sim_card_spec *sim_topology_card(const struct sim_topology *topo,
					      const char *name)
{
	struct topo_card **c;

	if (!topo || !name || !topo->nindex)
		return NULL;
	c = bsearch(name, topo->index, topo->nindex, sizeof(*topo->index),
		    cmp_key_card);
	return c ? &(*c)->spec : NULL;
}

const struct sim_card_spec *
sim_topology_card_at(const struct sim_topology *topo, size_t index)
{
	if (!topo || index >= topo->nindex)
		return NULL;
	return &topo->index[index]->spec;
}

/* An empty variable counts as unset, so "VAR= cmd" restores the default. */
static const char *pick(const char *env, const char *installed,
			const char *source)
{
	const char *v = getenv(env);

	if (v && *v)
		return v;
	if (access(installed, R_OK) == 0)
		return installed;
	return source;
}

const char *sim_topology_default_catalog(void)
{
	return pick("HOTSWAP_CATALOG", HOTSWAP_DATADIR "/catalog.json",
		    HOTSWAP_SRCDIR "/data/catalog.json");
}

const char *sim_topology_default_chassis(void)
{
	return pick("HOTSWAP_TOPOLOGY",
		    HOTSWAP_DATADIR "/examples/default.json",
		    HOTSWAP_SRCDIR "/examples/default.json");
}
