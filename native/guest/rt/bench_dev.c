/* The device adapters storage-bench can use, by name. */
#include "rt.h"
#include "bench_dev.h"

static struct bench_dev *const adapters[] = { &bench_dev_vblk, &bench_dev_nvme };

struct bench_dev *bench_dev_find(const char *name)
{
	for (unsigned i = 0; i < sizeof(adapters) / sizeof(adapters[0]); i++)
		if (strcmp(adapters[i]->name, name) == 0) return adapters[i];
	return 0;
}
