/*
 * hs_fmt.c - formatting and logging for the core, without libc.
 *
 * Owns: hs_vsnprintf and friends (%d %i %u %x %X %c %s %p %%, flags
 * '-', '0' and '#', width, l / ll / z; %pB, a bus:device.function), the
 * string helpers and hs_nth_name (a name from a NUL-separated list).  The
 * core is built freestanding, so the only headers it may use are the ones
 * C11 promises without a library
 * (<stdarg.h>, <stddef.h>, <stdint.h>, <stdbool.h>).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hotswap/util.h"

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_n(struct out *o, const char *s, unsigned n)
{
	while (n--)
		put(o, *s++);
}

static void fill(struct out *o, char c, unsigned n)
{
	while (n--)
		put(o, c);
}

size_t hs_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (const char *p = fmt; *p; p++) {
		bool zero = false, left = false, alt = false;
		bool neg = false;
		unsigned width = 0, lng = 0, n, base = 16, npre = 0, len;
		unsigned long long v;
		/* The field is s[0..n): its first npre characters (a sign
		 * before zero padding, 0x) come before the padding, which
		 * fills it up to width beyond len characters. */
		const char *s;
		char tmp[24], *q;

		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		p++;
		for (;; p++) {
			if (*p == '0')
				zero = true;
			else if (*p == '-')
				left = true;
			else if (*p == '#')
				alt = true;
			else
				break;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (unsigned)(*p++ - '0');
		/* 'z': size_t, read as the integer type of its width (int
		 * on the 32-bit bare-metal image, long on the host: the
		 * type size_t is on each). */
		while (*p == 'l' || *p == 'z') {
			if (*p == 'z')
				lng = sizeof(size_t) == sizeof(int)    ? 0
				      : sizeof(size_t) == sizeof(long) ? 1
								       : 2;
			else
				lng++;
			p++;
		}
		if (left)
			zero = false;
		if (*p == 'c')
			lng = 0; /* a char is passed as an int */
		switch (*p) {
		case 'c':
		case 'd':
		case 'i': {
			long long sv = lng >= 2 ? va_arg(ap, long long)
				       : lng ? va_arg(ap, long)
					     : va_arg(ap, int);

			if (*p == 'c') {
				tmp[0] = (char)sv;
				s = tmp;
				n = 1;
				width = 0;
				goto field;
			}
			neg = sv < 0;
			v = neg ? 0ull - (unsigned long long)sv
				: (unsigned long long)sv;
			base = 10;
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			if (*p == 'u')
				base = 10;
			v = lng >= 2 ? va_arg(ap, unsigned long long)
			    : lng ? va_arg(ap, unsigned long)
				  : va_arg(ap, unsigned int);
			break;
		case 'p':
		case 's':
			/* (void * and char * are passed alike, C11 7.16.1.1) */
			s = va_arg(ap, const char *);
			if (*p == 's') {
				if (!s)
					s = "(null)";
				n = (unsigned)hs_strlen(s);
				goto field;
			}
			v = (uintptr_t)s;
			/* %pB: the bus:device.function of the hs_bdf_t
			 * pointed to, as the core's messages print one
			 * (bus and device two hex digits each). */
			if (p[1] == 'B') {
				hs_bdf_t b = *(const hs_bdf_t *)(uintptr_t)v;

				p++;
				n = (unsigned)hs_snprintf(tmp, sizeof(tmp),
							  "%02x:%02x.%u",
							  HS_BDF_BUS(b),
							  HS_BDF_DEV(b),
							  HS_BDF_FN(b));
				s = tmp;
				goto field;
			}
			break;
		case '\0':
			p--;
			continue;
		default:
			/* Unknown conversion: print it as written ('%%'
			 * prints one). */
			if (*p != '%')
				put(&o, '%');
			put(&o, *p);
			continue;
		}
		/* A number, its digits from the end of tmp. */
		q = tmp + sizeof(tmp);
		n = 0;
		do {
			*--q = "0123456789abcdef0123456789ABCDEF"
				[v % base + (*p == 'X' ? 16 : 0)];
			v /= base;
			n++;
		} while (v);
		len = n;
		if (neg) {
			/* Before zero padding, after spaces. */
			*--q = '-';
			npre = zero;
			len = ++n;
		} else if (*p == 'p' || (alt && base == 16 && q[0] != '0')) {
			/* 0x before any padding: with '#' (a non-zero hex
			 * value) inside the width, with %p outside it. */
			*--q = *p == 'X' ? 'X' : 'x';
			*--q = '0';
			n += 2;
			npre = 2;
			if (*p != 'p')
				len = n;
		}
		s = q;
		goto number;
field:
		len = n;
		zero = false;
number:
		width = width > len ? width - len : 0; /* the padding */
		put_n(&o, s, npre);
		if (!left) {
			fill(&o, zero ? '0' : ' ', width);
			width = 0;
		}
		put_n(&o, s + npre, n - npre);
		fill(&o, ' ', width);
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

size_t hs_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = hs_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void hs_log(const struct hs_platform *plat, enum hs_log_level level,
	    const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!plat || !plat->ops->log)
		return;
	va_start(ap, fmt);
	hs_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	plat->ops->log(plat->ctx, level, line);
}

size_t hs_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

const char *hs_nth_name(const char *names, unsigned count, unsigned i)
{
	if (i >= count)
		return "?";
	while (i--)
		while (*names++)
			;
	return names;
}

int hs_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

void *hs_memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

void *hs_memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}
