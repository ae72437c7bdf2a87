/* blk-bench: random 4 KiB reads (or writes) through the polled virtio-blk driver with N requests in
 * flight, timed with the TSC.  One result line, parsed by the host:
 *   bench: op=randread bs=4096 qd=32 requests=20000 cycles=123 tsc_khz=2445404 iops=... kicks=... suppressed=...
 * cmdline: qd=1..64 (default 1), count=requests (default 20000), bs=bytes (default 4096),
 *          write=1 for random writes, event_idx=0 to refuse EVENT_IDX, tsc_khz=K to print IOPS. */
#include "rt.h"
#include "virtio_blk.h"

#define MAX_QD 64
#define MAX_BS (128 * 1024)

static struct vblk blk;
static struct vblk_req reqs[MAX_QD];
static uint8_t buffers[MAX_QD][MAX_BS] __attribute__((aligned(4096)));
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void prepare(struct vblk_req *r, int write, uint32_t bs, uint64_t blocks)
{
	r->type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	r->sector = (next_random() % blocks) * (bs / 512);
	r->nseg = 1;
	r->seg[0].len = bs;
	r->flags = 0;
}

int guest_main(const struct hvm_start_info *si)
{
	(void)si;
	int qd = (int)cmdline_get_ulong("qd", 1);
	unsigned long count = cmdline_get_ulong("count", 20000);
	uint32_t bs = (uint32_t)cmdline_get_ulong("bs", 4096);
	int write = cmdline_get_ulong("write", 0) != 0;
	unsigned long tsc_khz = cmdline_get_ulong("tsc_khz", 0);
	uint64_t refuse = cmdline_get_ulong("event_idx", 1) ? 0 : VBLK_FEAT(VIRTIO_RING_F_EVENT_IDX);
	if (qd < 1 || qd > MAX_QD || bs < 512 || bs > MAX_BS || bs % 512 != 0) {
		printf("bench: bad parameters (qd 1..%d, bs 512..%d in 512-byte steps)\n", MAX_QD, MAX_BS);
		return 2;
	}
	if (pci_init() == PCI_MECH_NONE) { printf("bench: no PCI\n"); return 2; }
	int rc = vblk_init(&blk, 0, refuse);
	if (rc < 0) {
		printf("bench: vblk_init: %s\n", vblk_strerror(rc));
		return 2;
	}
	uint64_t blocks = blk.capacity / (bs / 512);
	if (blocks == 0 || (write && blk.read_only)) {
		printf("bench: disk too small or read-only\n");
		return 2;
	}
	for (int i = 0; i < qd; i++) reqs[i].seg[0].addr = buffers[i];

	unsigned long submitted = 0, completed = 0;
	uint64_t start = rdtsc();
	for (int i = 0; i < qd && submitted < count; i++, submitted++) {
		prepare(&reqs[i], write, bs, blocks);
		if (vblk_submit(&blk, &reqs[i]) < 0) { printf("bench: submit failed\n"); return 2; }
	}
	while (completed < count) {
		struct vblk_req *r = vblk_wait(&blk);
		if (!r) { printf("bench: timeout after %lu completions\n", completed); return 3; }
		if (r->status != VIRTIO_BLK_S_OK) { printf("bench: status %u\n", r->status); return 3; }
		completed++;
		if (submitted < count) {
			prepare(r, write, bs, blocks);
			if (vblk_submit(&blk, r) < 0) { printf("bench: submit failed\n"); return 2; }
			submitted++;
		}
	}
	uint64_t cycles = rdtsc() - start;
	printf("bench: op=%s bs=%u qd=%d requests=%lu cycles=%llu tsc_khz=%lu event_idx=%d",
	       write ? "randwrite" : "randread", bs, qd, count, (unsigned long long)cycles, tsc_khz,
	       vblk_has(&blk, VIRTIO_RING_F_EVENT_IDX));
	if (tsc_khz)
		printf(" iops=%llu", (unsigned long long)(count * 1000ull * tsc_khz / (cycles ? cycles : 1)));
	printf(" kicks=%llu suppressed=%llu\n", (unsigned long long)blk.stats.kicks, (unsigned long long)blk.stats.kicks_suppressed);
	return 0;
}
