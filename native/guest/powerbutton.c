/* Waits for the ACPI power button, as a kernel's button driver would, then powers off.
 * cmdline: ignore  -- never look at the button (a guest that does not honour it) */
#include "rt.h"

int guest_main(const struct hvm_start_info *si)
{
	(void)si;
	char buf[8];
	int ignore = cmdline_get("ignore", buf, sizeof buf) >= 0;
	printf("powerbutton guest: waiting for the power button%s\n", ignore ? " (ignoring it)" : "");
	for (;;) {
		if (!ignore && acpi_power_button_pressed())
			break;
		/* About 1 ms between polls: each poll is one exit to the VMM. */
		uint64_t until = rdtsc() + 1000000;
		while (rdtsc() < until)
			cpu_relax();
	}
	printf("powerbutton guest: power button pressed, powering off\n");
	acpi_power_off();
}
