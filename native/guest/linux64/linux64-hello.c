/*
 * linux64-hello: a plain ELF64 (no PVH note, no Solo5 notes) entered the
 * Linux 64-bit way.  Reads the command line and the e820 map from the zero
 * page, prints them on COM1 and exits through the debug-exit port with the
 * value of "exit=N" (default 0).  All of it runs at CPL0, i.e. emulated under
 * nested KVM: a few thousand instructions.
 */
#include <stdint.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

/* struct boot_params offsets (arch/x86/include/uapi/asm/bootparam.h). */
#define ZP_EXT_CMD_LINE_PTR 0x0C8
#define ZP_E820_ENTRIES     0x1E8
#define ZP_BOOT_FLAG        0x1FE
#define ZP_HEADER           0x202
#define ZP_CMD_LINE_PTR     0x228
#define ZP_E820_TABLE       0x2D0

static inline void outb(u16 port, u8 v) { __asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void putc_(char c)
{
	while (!(inb(0x3F8 + 5) & 0x20)) {}
	outb(0x3F8, (u8)c);
}

static void puts_(const char *s) { while (*s) putc_(*s++); }

static void put_u64(u64 v)
{
	char buf[24];
	int i = sizeof buf;
	buf[--i] = 0;
	do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
	puts_(buf + i);
}

void linux64_main(const u8 *zp)
{
	puts_("linux64 hello\n");
	if (*(const u16 *)(zp + ZP_BOOT_FLAG) != 0xAA55 || *(const u32 *)(zp + ZP_HEADER) != 0x53726448)
		puts_("zero page: no setup header signature\n");
	const char *cmdline = (const char *)(u64)(*(const u32 *)(zp + ZP_CMD_LINE_PTR) |
		(u64)*(const u32 *)(zp + ZP_EXT_CMD_LINE_PTR) << 32);
	puts_("cmdline: ");
	if (cmdline) puts_(cmdline);
	puts_("\ne820: ");
	u8 n = zp[ZP_E820_ENTRIES];
	u64 ram = 0;
	for (int i = 0; i < n && i < 128; i++) {
		const u8 *e = zp + ZP_E820_TABLE + 20 * i;
		if (*(const u32 *)(e + 16) == 1) ram += *(const u64 *)(e + 8);
	}
	put_u64(n);
	puts_(" entries, ");
	put_u64(ram >> 10);
	puts_(" KiB RAM\n");

	u64 status = 0;
	for (const char *c = cmdline; c && *c; c++) {
		if (c[0] == 'e' && c[1] == 'x' && c[2] == 'i' && c[3] == 't' && c[4] == '=' && (c == cmdline || c[-1] == ' ')) {
			for (c += 5; *c >= '0' && *c <= '9'; c++) status = status * 10 + (u64)(*c - '0');
			break;
		}
	}
	puts_("exit: ");
	put_u64(status);
	puts_("\n");
	outb(0x501, (u8)status);
}
