#include "rt.h"

/* Minimal printf: %s %c %d %i %u %x %X %p %%, length modifiers l ll z,
 * flags '-' and '0', field width (number or '*'). */

struct out {
	char  *buf;     /* NULL: serial */
	size_t size;
	size_t pos;
};

static void emit(struct out *o, char c)
{
	if (o->buf) {
		if (o->pos + 1 < o->size)
			o->buf[o->pos] = c;
	} else {
		serial_putc(c);
	}
	o->pos++;
}

static void emit_padded(struct out *o, const char *s, size_t n, int width,
			int left, char pad, int neg)
{
	int len = (int)n + (neg ? 1 : 0);
	int fill = width > len ? width - len : 0;

	if (neg && pad == '0')
		emit(o, '-');
	if (!left)
		while (fill-- > 0)
			emit(o, pad);
	if (neg && pad != '0')
		emit(o, '-');
	for (size_t i = 0; i < n; i++)
		emit(o, s[i]);
	if (left)
		while (fill-- > 0)
			emit(o, ' ');
}

static int format(struct out *o, const char *fmt, va_list ap)
{
	char tmp[24];

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			emit(o, *fmt);
			continue;
		}
		fmt++;
		int left = 0;
		char pad = ' ';
		for (;; fmt++) {
			if (*fmt == '-')
				left = 1;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		int width = 0;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = 1;
				width = -width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		if (left)
			pad = ' ';
		int lng = 0;
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		if (*fmt == 'z') {
			lng = 1;
			fmt++;
		}

		unsigned long long u;
		unsigned base = 10;
		int neg = 0, upper = 0;

		switch (*fmt) {
		case '\0':
			return (int)o->pos;
		case '%':
			emit(o, '%');
			continue;
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			emit_padded(o, tmp, 1, width, left, ' ', 0);
			continue;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			emit_padded(o, s, strlen(s), width, left, ' ', 0);
			continue;
		}
		case 'd':
		case 'i': {
			long long v = lng >= 2 ? va_arg(ap, long long)
				    : lng == 1 ? va_arg(ap, long)
				    : va_arg(ap, int);
			if (v < 0) {
				neg = 1;
				u = -(unsigned long long)v;
			} else {
				u = (unsigned long long)v;
			}
			break;
		}
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			base = 16;
			emit(o, '0');
			emit(o, 'x');
			break;
		case 'X':
			upper = 1;
			/* fall through */
		case 'x':
			base = 16;
			/* fall through */
		case 'u':
			u = lng >= 2 ? va_arg(ap, unsigned long long)
			  : lng == 1 ? va_arg(ap, unsigned long)
			  : va_arg(ap, unsigned int);
			break;
		default:        /* unknown: print verbatim */
			emit(o, '%');
			emit(o, *fmt);
			continue;
		}

		const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
		int n = 0;
		char *end = tmp + sizeof(tmp);
		do {
			end[-++n] = digits[u % base];
			u /= base;
		} while (u);
		emit_padded(o, end - n, (size_t)n, width, left, pad, neg);
	}
	return (int)o->pos;
}

int vprintf(const char *fmt, va_list ap)
{
	struct out o = { 0, 0, 0 };
	return format(&o, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vprintf(fmt, ap);
	va_end(ap);
	return r;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	int r = format(&o, fmt, ap);
	if (size)
		buf[o.pos < size ? o.pos : size - 1] = '\0';
	return r;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return r;
}
