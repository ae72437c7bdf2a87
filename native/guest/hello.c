#include "rt.h"

int guest_main(const struct hvm_start_info *si)
{
	(void)si;
	unsigned long code = cmdline_get_ulong("exit", 0);
	if (code > 255)
		code = 0;

	printf("Bhyve.Aot hello guest\n");
	printf("cmdline: %s\n", cmdline());
	printf("memory: %llu KiB\n", (unsigned long long)(mem_total_ram() >> 10));
	printf("exit: %lu\n", code);
	guest_exit((unsigned char)code);
}
