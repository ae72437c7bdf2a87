/*
 * hvt-hello: the console (puts), the boot info, the wall clock, and the exit
 * status (halt).  Arguments: "exit=N" halts with N (default 0).
 */
#include "hvt.h"

MFT_NOTE(0);

int hvt_main(const char *cmdline)
{
	puts("Hello from a Solo5 hvt unikernel\ncmdline: ");
	puts(cmdline);
	puts("\nmemory: ");
	put_u64(boot_info->mem_size >> 20);
	puts(" MiB\nwalltime: ");
	puts(walltime() > 1600000000ULL * 1000000000ULL ? "ok" : "wrong");
	puts("\n");
	return (int)word_value(cmdline, "exit", 0);
}
