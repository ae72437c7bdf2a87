/*
 * A minimal hvt runtime: the tender enters _start in 64-bit long mode at
 * CPL0 with RDI = struct hvt_boot_info and a stack at the top of RAM.  Under
 * nested KVM every instruction here is emulated, so it stays tiny.
 */
#include "hvt.h"

/* The ABI note: target hvt, ABI version 1. */
const struct { struct solo5_nhdr h; u32 target, version, reserved0, reserved1; }
__solo5_abi1_note __attribute__((section(".note.solo5.abi"), aligned(4), used)) = {
	{ 6, 16, ABI1_NOTE_TYPE, "Solo5" }, HVT_ABI_TARGET, HVT_ABI_VERSION, 0, 0,
};

struct hvt_boot_info *boot_info;

void _start(struct hvt_boot_info *bi) __attribute__((noreturn, section(".text.start")));
void _start(struct hvt_boot_info *bi)
{
	boot_info = bi;
	halt(hvt_main((const char *)bi->cmdline));
}

void puts_n(const char *s, u64 len)
{
	volatile struct hc_puts p = { (u64)s, len };
	hvt_hypercall(HC_PUTS, &p);
}

void puts(const char *s)
{
	u64 n = 0;
	while (s[n]) n++;
	puts_n(s, n);
}

void put_u64(u64 v)
{
	char buf[24];
	int i = sizeof buf;
	do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
	puts_n(buf + i, sizeof buf - i);
}

void halt(int status)
{
	volatile struct hc_halt h = { 0, status };
	for (;;) hvt_hypercall(HC_HALT, &h);
}

u64 walltime(void)
{
	volatile struct hc_walltime t = { 0 };
	hvt_hypercall(HC_WALLTIME, &t);
	return t.nsecs;
}

const struct mft_entry *mft_entry(u32 handle)
{
	const struct mft_header *m = (const struct mft_header *)boot_info->mft;
	return handle < m->entries ? (const struct mft_entry *)(m + 1) + handle : 0;
}

/* Whole-word match in a space-separated command line. */
int has_word(const char *c, const char *w)
{
	while (*c) {
		const char *a = c, *b = w;
		while (*b && *a == *b) a++, b++;
		if (!*b && (*a == ' ' || !*a)) return 1;
		while (*c && *c != ' ') c++;
		while (*c == ' ') c++;
	}
	return 0;
}

/* The decimal value of key=N in the command line, or fallback. */
u64 word_value(const char *c, const char *key, u64 fallback)
{
	while (*c) {
		const char *a = c, *b = key;
		while (*b && *a == *b) a++, b++;
		if (!*b && *a == '=') {
			u64 v = 0;
			for (a++; *a >= '0' && *a <= '9'; a++) v = v * 10 + (u64)(*a - '0');
			return v;
		}
		while (*c && *c != ' ') c++;
		while (*c == ' ') c++;
	}
	return fallback;
}
