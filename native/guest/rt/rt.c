#include "rt.h"

const struct hvm_start_info *rt_start_info;

/* ---------------------------------------------------------------- */
/* exit                                                             */

void guest_triple_fault(void)
{
	for (;;)
		__asm__ volatile("ud2");
}

void guest_exit(unsigned char value)
{
	outb(DEBUG_EXIT_PORT, value);
	guest_triple_fault();
}

/* Called from rt_user_entry at CPL3 with .bss already zeroed. */
__attribute__((noreturn)) void rt_start(const struct hvm_start_info *si);
void rt_start(const struct hvm_start_info *si)
{
	if (si && si->magic != HVM_START_MAGIC)
		si = 0;
	rt_start_info = si;
	serial_init();
	int r = guest_main(si);
	guest_exit((unsigned char)r);
}

/* ---------------------------------------------------------------- */
/* serial: COM1, 115200 8N1, polled                                  */

void serial_init(void)
{
	outb(COM1_PORT + 1, 0x00);   /* IER: no interrupts */
	outb(COM1_PORT + 3, 0x80);   /* LCR: DLAB */
	outb(COM1_PORT + 0, 0x01);   /* DLL: 115200 */
	outb(COM1_PORT + 1, 0x00);   /* DLM */
	outb(COM1_PORT + 3, 0x03);   /* LCR: 8N1 */
	outb(COM1_PORT + 2, 0x07);   /* FCR: enable + clear FIFOs */
	outb(COM1_PORT + 4, 0x03);   /* MCR: DTR | RTS */
}

void serial_putc(char c)
{
	/* LSR bit 5 = THR empty.  A missing UART reads 0xff: no hang. */
	while (!(inb(COM1_PORT + 5) & 0x20))
		cpu_relax();
	outb(COM1_PORT, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serial_putc(s[i]);
}

int puts(const char *s)
{
	size_t n = strlen(s);
	serial_write(s, n);
	serial_putc('\n');
	return (int)n + 1;
}

/* ---------------------------------------------------------------- */
/* command line                                                     */

const char *cmdline(void)
{
	if (!rt_start_info || !rt_start_info->cmdline_paddr)
		return "";
	return (const char *)(uintptr_t)rt_start_info->cmdline_paddr;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int cmdline_get(const char *key, char *buf, int len)
{
	const char *p = cmdline();
	size_t klen = strlen(key);
	int found = -1;

	while (*p) {
		while (is_space(*p))
			p++;
		const char *tok = p;
		while (*p && !is_space(*p))
			p++;
		size_t tlen = (size_t)(p - tok);
		if (tlen < klen || strncmp(tok, key, klen) != 0)
			continue;
		if (tlen == klen) {
			found = 0;                      /* bare key */
			if (buf && len > 0)
				buf[0] = '\0';
		} else if (tok[klen] == '=') {
			const char *v = tok + klen + 1;
			int vlen = (int)(p - v);
			found = vlen;
			if (buf && len > 0) {
				int n = vlen < len - 1 ? vlen : len - 1;
				memcpy(buf, v, (size_t)n);
				buf[n] = '\0';
			}
		}
		/* keep scanning: the last occurrence wins */
	}
	return found;
}

int parse_ulong(const char *s, unsigned long *out)
{
	unsigned long v = 0;
	unsigned base = 10;
	int any = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		v = v * base + d;
		any = 1;
	}
	if (!any)
		return -1;
	switch (*s) {
	case 'k': case 'K': v <<= 10; s++; break;
	case 'm': case 'M': v <<= 20; s++; break;
	case 'g': case 'G': v <<= 30; s++; break;
	default: break;
	}
	if (*s)
		return -1;
	*out = v;
	return 0;
}

unsigned long cmdline_get_ulong(const char *key, unsigned long dflt)
{
	char buf[32];
	unsigned long v;
	int n = cmdline_get(key, buf, sizeof(buf));

	if (n <= 0 || n >= (int)sizeof(buf) || parse_ulong(buf, &v) != 0)
		return dflt;
	return v;
}

/* ---------------------------------------------------------------- */
/* memory map                                                       */

uint32_t memmap_count(void)
{
	const struct hvm_start_info *si = rt_start_info;
	if (!si || si->version < 1 || !si->memmap_paddr)
		return 0;
	return si->memmap_entries;
}

const struct hvm_memmap_table_entry *memmap_entry(uint32_t i)
{
	if (i >= memmap_count())
		return 0;
	return (const struct hvm_memmap_table_entry *)(uintptr_t)
		rt_start_info->memmap_paddr + i;
}

uint64_t mem_total_ram(void)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < memmap_count(); i++) {
		const struct hvm_memmap_table_entry *e = memmap_entry(i);
		if (e->type == HVM_MEMMAP_TYPE_RAM)
			total += e->size;
	}
	return total;
}

int acpi_power_button_pressed(void)
{
	uint8_t v = inb(ACPI_GED_EVENT_PORT);
	return v != 0xFF && (v & ACPI_GED_POWER_BUTTON) != 0;
}

void acpi_power_off(void)
{
	outb(ACPI_SLEEP_CONTROL_PORT, (5 << 2) | 0x20);
	guest_triple_fault();
}
