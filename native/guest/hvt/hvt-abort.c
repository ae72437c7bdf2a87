/*
 * hvt-abort: the ways an hvt guest ends abnormally.  No argument: abort, as
 * solo5_abort() does (halt with status 255 and a trap-frame cookie).  "ro":
 * a write to its own text, which the tender maps read-only.  "port": an OUT
 * to a port that is no hypercall.  "hypercall": hypercall 0 (reserved).
 * "blk": a block hypercall although the manifest declares no block device.
 */
#include "hvt.h"

MFT_NOTE(0);

static u64 trap_frame[64];

int hvt_main(const char *cmdline)
{
	if (has_word(cmdline, "ro")) {
		puts("abort: writing to text\n");
		*(volatile u8 *)(u64)&hvt_main = 0xCC;
	} else if (has_word(cmdline, "port")) {
		puts("abort: port 0x80\n");
		__asm__ __volatile__("outb %0, %1" : : "a"((u8)1), "Nd"((u16)0x80));
	} else if (has_word(cmdline, "hypercall")) {
		puts("abort: hypercall 0\n");
		hvt_hypercall(0, trap_frame);
	} else if (has_word(cmdline, "blk")) {
		puts("abort: block hypercall without a block device\n");
		volatile struct hc_block b = { 0, 0, (u64)trap_frame, 512, -1 };
		hvt_hypercall(HC_BLOCK_READ, &b);
	} else {
		puts("abort: solo5_abort\n");
		volatile struct hc_halt h = { (u64)trap_frame, EXIT_ABORT };
		hvt_hypercall(HC_HALT, &h);
	}
	puts("abort: still running (the tender should have stopped us)\n");
	return 0;
}
