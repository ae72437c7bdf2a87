/*
 * hvt-badptr: a hypercall with a pointer the tender must refuse, which ends
 * the run with status 1.  Argument: "data" (default: puts of a buffer past
 * the end of RAM), "struct" (the hypercall struct itself outside RAM), or
 * "rodata" (walltime asked to write its result into read-only memory).
 */
#include "hvt.h"

MFT_NOTE(0);

static const struct hc_walltime readonly_result = { 0 };

int hvt_main(const char *cmdline)
{
	puts("badptr: before\n");
	if (has_word(cmdline, "struct")) {
		hvt_hypercall(HC_PUTS, (void *)0xFFFFF000UL);
	} else if (has_word(cmdline, "rodata")) {
		hvt_hypercall(HC_WALLTIME, (void *)&readonly_result);
	} else {
		volatile struct hc_puts p = { boot_info->mem_size + 0x1000, 16 };
		hvt_hypercall(HC_PUTS, &p);
	}
	puts("badptr: after (the tender should have stopped us)\n");
	return 0;
}
