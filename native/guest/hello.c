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
	if (cmdline_get_ulong("hold", 0)) {
		/* Stay running until a byte arrives on COM1, so tests can drive the API against a live guest.
		 * The delay between polls keeps the exits (one per LSR read) to about a thousand a second. */
		printf("holding: send a byte on the console to go on\n");
		while (!(inb(COM1_PORT + 5) & 0x01))
			for (volatile int i = 0; i < 200000; i++)
				__asm__ volatile("pause");
		(void)inb(COM1_PORT);
	}
	printf("exit: %lu\n", code);
	guest_exit((unsigned char)code);
}
