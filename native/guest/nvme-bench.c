/* nvme-bench: random reads (or writes) through the polled NVMe driver with N commands in flight on I/O
 * queue 1, timed with the TSC; or the latency of Dataset Management deallocate.  One result line:
 *   bench: op=randread bs=4096 qd=32 requests=20000 cycles=... tsc_khz=... iops=... shadow=1 sq_doorbells=... cq_doorbells=... suppressed=...
 *   bench: op=deallocate bytes=1048576 reps=5 cycles_min=... cycles_avg=... tsc_khz=... us_avg=...
 * cmdline: qd=1..64 (default 1), count=requests (default 20000), bs=bytes (default 4096), write=1,
 *          shadow_db=1 to use shadow doorbells, dealloc=BYTES (deallocate mode: write the range, then time
 *          one DSM deallocate of it; reps=N times), tsc_khz=K to print IOPS / microseconds. */
#include "rt.h"
#include "pci.h"
#include "nvme.h"

#define MAX_QD 64
#define MAX_BS (128 * 1024)

static struct nvme dev;
static struct nvme_req reqs[MAX_QD];
static uint8_t buffers[MAX_QD][MAX_BS] __attribute__((aligned(4096)));
static struct nvme_dsm_range ranges[256] __attribute__((aligned(4096)));
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int deallocate_bench(uint64_t bytes, unsigned long reps, unsigned long tsc_khz)
{
	uint32_t bs = dev.ns1.lba_size;
	uint64_t blocks = bytes / bs, chunk = dev.max_xfer < MAX_BS ? dev.max_xfer : MAX_BS;
	if (blocks == 0 || blocks > 0xFFFFFFFFull || bytes > dev.ns1.nsze * bs) { printf("bench: bad dealloc size\n"); return 2; }
	for (uint64_t i = 0; i < chunk; i++) buffers[0][i] = (uint8_t)(i * 13 + 1);
	uint64_t min = ~0ull, total = 0;
	for (unsigned long rep = 0; rep < reps; rep++) {
		/* Allocate the range again (written data), so each deallocation really frees blocks. */
		for (uint64_t off = 0; off < bytes; off += chunk) {
			uint64_t n = bytes - off < chunk ? bytes - off : chunk;
			int st = nvme_rw(&dev, 1, 1, off / bs, (uint32_t)(n / bs), buffers[0], 0);
			if (st != 0) { printf("bench: write status 0x%x\n", st); return 3; }
		}
		ranges[0].cattr = 0;
		ranges[0].nlb = (uint32_t)blocks;
		ranges[0].slba = 0;
		struct nvme_req *r = &reqs[0];
		nvme_req_dsm(r, 1, ranges, 1);
		uint64_t t0 = rdtsc();
		int st = nvme_do(&dev, 1, r);
		uint64_t t = rdtsc() - t0;
		if (st != 0) { printf("bench: deallocate status 0x%x\n", st); return 3; }
		if (t < min) min = t;
		total += t;
	}
	printf("bench: op=deallocate bytes=%llu reps=%lu cycles_min=%llu cycles_avg=%llu tsc_khz=%lu",
	       (unsigned long long)bytes, reps, (unsigned long long)min, (unsigned long long)(total / reps), tsc_khz);
	if (tsc_khz)
		printf(" us_min=%llu us_avg=%llu", (unsigned long long)(min * 1000 / tsc_khz), (unsigned long long)(total / reps * 1000 / tsc_khz));
	printf("\n");
	return 0;
}

int guest_main(const struct hvm_start_info *si)
{
	(void)si;
	int qd = (int)cmdline_get_ulong("qd", 1);
	unsigned long count = cmdline_get_ulong("count", 20000);
	uint32_t bs = (uint32_t)cmdline_get_ulong("bs", 4096);
	int write = cmdline_get_ulong("write", 0) != 0;
	unsigned long tsc_khz = cmdline_get_ulong("tsc_khz", 0);
	uint64_t dealloc = cmdline_get_ulong("dealloc", 0);
	struct nvme_opts o = {
		.io_queues = 1,
		.qsize = (int)cmdline_get_ulong("qsize", 128),
		.shadow_db = cmdline_get_ulong("shadow_db", 0) != 0,
	};
	if (qd < 1 || qd > MAX_QD || qd >= o.qsize || bs < 512 || bs > MAX_BS || bs % 512 != 0) {
		printf("bench: bad parameters (qd 1..%d below qsize, bs 512..%d in 512-byte steps)\n", MAX_QD, MAX_BS);
		return 2;
	}
	if (pci_init() == PCI_MECH_NONE) { printf("bench: no PCI\n"); return 2; }
	int rc = nvme_init(&dev, 0, &o);
	if (rc < 0) { printf("bench: nvme_init: %s\n", nvme_strerror(rc)); return 2; }
	if (dealloc) return deallocate_bench(dealloc, cmdline_get_ulong("reps", 5), tsc_khz);
	if (bs % dev.ns1.lba_size != 0) { printf("bench: bs is not a multiple of the LBA size\n"); return 2; }
	uint64_t units = dev.ns1.nsze * dev.ns1.lba_size / bs;
	uint32_t nlb = bs / dev.ns1.lba_size;
	if (units == 0) { printf("bench: namespace too small\n"); return 2; }

	unsigned long submitted = 0, completed = 0;
	uint64_t start = rdtsc();
	for (int i = 0; i < qd && submitted < count; i++, submitted++) {
		nvme_req_rw(&reqs[i], write, 1, (next_random() % units) * nlb, nlb, buffers[i], bs);
		if (nvme_submit(&dev, 1, &reqs[i]) < 0) { printf("bench: submit failed\n"); return 2; }
	}
	while (completed < count) {
		struct nvme_req *r = nvme_wait(&dev, 1);
		if (!r) { printf("bench: timeout after %lu completions\n", completed); return 3; }
		if (r->status != 0) { printf("bench: status 0x%x\n", r->status); return 3; }
		completed++;
		if (submitted < count) {
			void *buf = r->buf;
			nvme_req_rw(r, write, 1, (next_random() % units) * nlb, nlb, buf, bs);
			if (nvme_submit(&dev, 1, r) < 0) { printf("bench: submit failed\n"); return 2; }
			submitted++;
		}
	}
	uint64_t cycles = rdtsc() - start;
	printf("bench: op=%s bs=%u qd=%d requests=%lu cycles=%llu tsc_khz=%lu shadow=%d",
	       write ? "randwrite" : "randread", bs, qd, count, (unsigned long long)cycles, tsc_khz, dev.shadow);
	if (tsc_khz)
		printf(" iops=%llu", (unsigned long long)(count * 1000ull * tsc_khz / (cycles ? cycles : 1)));
	printf(" sq_doorbells=%llu cq_doorbells=%llu suppressed=%llu\n", (unsigned long long)dev.stats.sq_doorbells,
	       (unsigned long long)dev.stats.cq_doorbells, (unsigned long long)dev.stats.doorbells_suppressed);
	return 0;
}
