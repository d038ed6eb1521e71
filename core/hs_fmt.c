/*
 * hs_fmt.c - formatting and logging for the core, without libc.
 *
 * Owns: hs_vsnprintf and friends (%d %i %u %x %X %c %s %p %%, flags
 * '-', '0' and '#', width, l / ll / z).  The core is built freestanding, so the
 * only headers it may use are the ones C11 promises without a library
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

static void put_num(struct out *o, unsigned long long v, unsigned base,
		    bool upper, bool neg, unsigned width, bool zero, bool left)
{
	char tmp[24];
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	unsigned n = 0, len;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	len = n + (neg ? 1 : 0);
	if (neg && zero)
		put(o, '-');
	if (!left)
		for (; width > len; width--)
			put(o, zero ? '0' : ' ');
	if (neg && !zero)
		put(o, '-');
	while (n)
		put(o, tmp[--n]);
	if (left)
		for (; width > len; width--)
			put(o, ' ');
}

size_t hs_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (const char *p = fmt; *p; p++) {
		bool zero = false, left = false, alt = false;
		unsigned width = 0, lng = 0;

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
		/* 'z': size_t, whatever its width (32 bits on the
		 * bare-metal image, 64 on the host). */
		bool z = false;

		while (*p == 'l' || *p == 'z') {
			if (*p == 'z')
				z = true;
			else
				lng++;
			p++;
		}
		if (left)
			zero = false;
		switch (*p) {
		case 'd':
		case 'i': {
			long long v = z ? (long long)va_arg(ap, size_t)
				      : lng >= 2 ? va_arg(ap, long long)
				      : lng ? va_arg(ap, long)
					    : va_arg(ap, int);
			unsigned long long u = v < 0 ? 0ull - (unsigned long long)v
						     : (unsigned long long)v;

			put_num(&o, u, 10, false, v < 0, width, zero, left);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			unsigned long long v =
				z ? (unsigned long long)va_arg(ap, size_t)
				: lng >= 2 ? va_arg(ap, unsigned long long)
				: lng ? va_arg(ap, unsigned long)
				      : va_arg(ap, unsigned int);

			/* '#' prefixes 0x to a non-zero hex value. */
			if (alt && *p != 'u' && v) {
				put(&o, '0');
				put(&o, *p == 'X' ? 'X' : 'x');
				width = width > 2 ? width - 2 : 0;
			}
			put_num(&o, v, *p == 'u' ? 10 : 16, *p == 'X', false,
				width, zero, left);
			break;
		}
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, false,
				false, width, zero, left);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			unsigned len;

			if (!s)
				s = "(null)";
			len = (unsigned)hs_strlen(s);
			if (!left)
				for (; width > len; width--)
					put(&o, ' ');
			while (*s)
				put(&o, *s++);
			if (left)
				for (; width > len; width--)
					put(&o, ' ');
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			p--;
			break;
		default:
			/* Unknown conversion: print it as written. */
			put(&o, '%');
			put(&o, *p);
		}
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
