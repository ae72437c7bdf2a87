#include "rt.h"

int guest_main(const struct hvm_start_info *si)
{
	(void)si;
	printf("triplefault guest: faulting now\n");
	__asm__ volatile("ud2");        /* no IDT: #UD -> triple fault -> shutdown */
	for (;;)
		;
}
