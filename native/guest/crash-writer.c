/* crash-writer: writes an append-only log of 4 KiB records and says which
 * ones are durable, for the crash-consistency test (the host SIGKILLs the VMM
 * at a random moment and checks every record the guest reported).
 *
 * Generation g (1, 2, ...) writes `batch` records at record indexes
 * (g-1)*batch .. g*batch-1, all in flight together; once every write has
 * completed it makes them durable and prints "acked <g>":
 *   dev=vblk (default): the writes, then a FLUSH.
 *   dev=nvme:           odd generations as plain writes + Flush, even ones
 *                       as FUA writes (no Flush), so both promises are tested.
 * A record: "BHCRASH1" (8 bytes), gen (u64), index (u64), then 509 words
 * crash_word(gen, index, k) for k = 0..508 (tests/.../CrashConsistencyTests.cs
 * computes the same).  Stops with "done <g>" before the disk is full;
 * any error prints "error ..." and exits 1 (VMM status 3).
 * Knobs: dev=vblk|nvme, batch=N (1..16, default 4), records=N (default: disk). */
#include "rt.h"
#include "pci.h"
#include "virtio_blk.h"
#include "nvme.h"

#define REC 4096
#define BATCH_MAX 16

static struct vblk vb;
static struct nvme nv;
static uint8_t bufs[BATCH_MAX][REC] __attribute__((aligned(4096)));
static struct vblk_req vreqs[BATCH_MAX];
static struct nvme_req nreqs[BATCH_MAX];

static uint64_t crash_word(uint64_t gen, uint64_t index, uint64_t k)
{
	uint64_t x = gen * 0x9E3779B97F4A7C15ull ^ index * 0xBF58476D1CE4E5B9ull ^ (k + 1) * 0x94D049BB133111EBull;
	x ^= x >> 31;
	x *= 0xD6E8FEB86659FD93ull;
	x ^= x >> 32;
	return x;
}

static void fill(uint8_t *p, uint64_t gen, uint64_t index)
{
	uint64_t *w = (uint64_t *)p;
	memcpy(p, "BHCRASH1", 8);
	w[1] = gen;
	w[2] = index;
	for (uint64_t k = 0; k < REC / 8 - 3; k++)
		w[3 + k] = crash_word(gen, index, k);
}

static int vblk_gen(uint64_t first, int batch)
{
	for (int j = 0; j < batch; j++) {
		struct vblk_req *r = &vreqs[j];
		memset(r, 0, sizeof(*r));
		r->type = VIRTIO_BLK_T_OUT;
		r->sector = (first + (uint64_t)j) * (REC / 512);
		r->nseg = 1;
		r->seg[0].addr = bufs[j];
		r->seg[0].len = REC;
		int rc = vblk_submit(&vb, r);
		if (rc)
			return rc;
	}
	for (int j = 0; j < batch; j++) {
		while (!vreqs[j].done) {
			if (!vblk_wait(&vb))
				return VBLK_ERR_TIMEOUT;
		}
		if (vreqs[j].status != VIRTIO_BLK_S_OK)
			return 1000 + vreqs[j].status;
	}
	int st = vblk_flush(&vb);
	return st == VIRTIO_BLK_S_OK ? 0 : 2000 + st;
}

static int nvme_gen(uint64_t gen, uint64_t first, int batch)
{
	uint32_t lba = nv.ns1.lba_size;
	int fua = (gen & 1) == 0;
	for (int j = 0; j < batch; j++) {
		struct nvme_req *r = &nreqs[j];
		nvme_req_rw(r, 1, 1, (first + (uint64_t)j) * (REC / lba), REC / lba, bufs[j], REC);
		if (fua)
			r->cdw12 |= NVME_RW_FUA;
		int rc = nvme_submit(&nv, 1, r);
		if (rc)
			return rc;
	}
	for (int j = 0; j < batch; j++) {
		while (!nreqs[j].done) {
			if (!nvme_wait(&nv, 1))
				return NVME_ERR_TIMEOUT;
		}
		if (nreqs[j].status != 0)
			return 1000 + nreqs[j].status;
	}
	if (fua)
		return 0;
	struct nvme_req f;
	nvme_req_flush(&f, 1);
	int st = nvme_do(&nv, 1, &f);
	return st == 0 ? 0 : 2000 + st;
}

int guest_main(const struct hvm_start_info *si)
{
	(void)si;
	char dev[8] = "vblk";
	cmdline_get("dev", dev, sizeof(dev));
	int nvme = strcmp(dev, "nvme") == 0;
	int batch = (int)cmdline_get_ulong("batch", 4);
	if (batch < 1 || batch > BATCH_MAX) {
		printf("error: batch=%d (1..%d)\n", batch, BATCH_MAX);
		return 1;
	}
	uint64_t disk;
	if (nvme) {
		struct nvme_opts o;
		memset(&o, 0, sizeof(o));
		int rc = nvme_init(&nv, 0, &o);
		if (rc) {
			printf("error: nvme_init %d (%s)\n", rc, nvme_strerror(rc));
			return 1;
		}
		disk = nv.ns1.nsze * nv.ns1.lba_size;
	} else {
		int rc = vblk_init(&vb, 0, 0);
		if (rc) {
			printf("error: vblk_init %d (%s)\n", rc, vblk_strerror(rc));
			return 1;
		}
		disk = vb.capacity * 512;
	}
	uint64_t records = cmdline_get_ulong("records", disk / REC);
	if (records > disk / REC)
		records = disk / REC;
	printf("crash-writer: dev=%s batch=%d records=%llu\n", dev, batch, (unsigned long long)records);

	uint64_t gen = 1;
	for (; gen * (uint64_t)batch <= records; gen++) {
		uint64_t first = (gen - 1) * (uint64_t)batch;
		for (int j = 0; j < batch; j++)
			fill(bufs[j], gen, first + (uint64_t)j);
		int rc = nvme ? nvme_gen(gen, first, batch) : vblk_gen(first, batch);
		if (rc) {
			printf("error: generation %llu: %d\n", (unsigned long long)gen, rc);
			return 1;
		}
		printf("acked %llu\n", (unsigned long long)gen);
	}
	printf("done %llu\n", (unsigned long long)(gen - 1));
	return 0;
}
