/* storage-bench adapter for the polled virtio-blk driver: one vblk_req per tag, indirect descriptors when the
 * device offers them (so 64 requests fit a 128-entry ring), discard as a one-segment DISCARD request. */
#include "rt.h"
#include "virtio_blk.h"
#include "bench_dev.h"

static struct vblk blk;
static struct vblk_req reqs[BENCH_DEV_TAGS];
static struct virtio_blk_dwz_seg dwz[BENCH_DEV_TAGS];
static uint8_t busy[BENCH_DEV_TAGS];

static int vblk_bench_init(struct bench_dev *d)
{
	int rc = vblk_init(&blk, 0, 0);
	if (rc < 0) return rc;
	d->capacity_bytes = blk.capacity * 512;
	d->can_discard = vblk_has(&blk, VIRTIO_BLK_F_DISCARD) && !blk.read_only;
	d->max_discard_bytes = blk.max_discard_sectors ? (uint64_t)blk.max_discard_sectors * 512 : 0;
	if (d->max_discard_bytes > (1ull << 31)) d->max_discard_bytes = 1ull << 31;   /* keep the 32-bit length */
	for (int i = 0; i < BENCH_DEV_TAGS; i++) reqs[i].cookie = (void *)(uintptr_t)i;
	return 0;
}

static int vblk_bench_submit(struct bench_dev *d, int tag, enum bench_op op, uint64_t offset, uint32_t len, void *buf)
{
	if (tag < 0 || tag >= BENCH_DEV_TAGS || busy[tag]) return BENCH_DEV_ERR_NOTAG;
	if (offset % 512 || len % 512 || offset + len > d->capacity_bytes) return BENCH_DEV_ERR_RANGE;
	struct vblk_req *r = &reqs[tag];
	r->sector = offset / 512;
	r->flags = vblk_has(&blk, VIRTIO_RING_F_INDIRECT_DESC) ? VBLK_REQ_INDIRECT : 0;
	r->done = 0;
	switch (op) {
	case BENCH_OP_READ:
	case BENCH_OP_WRITE:
		r->type = op == BENCH_OP_WRITE ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
		r->nseg = 1;
		r->seg[0].addr = buf;
		r->seg[0].len = len;
		break;
	case BENCH_OP_FLUSH:
		r->type = VIRTIO_BLK_T_FLUSH;
		r->sector = 0;
		r->nseg = 0;
		break;
	case BENCH_OP_DISCARD:
		r->type = VIRTIO_BLK_T_DISCARD;
		r->sector = 0;
		dwz[tag].sector = offset / 512;
		dwz[tag].num_sectors = len / 512;
		dwz[tag].flags = 0;
		r->nseg = 1;
		r->seg[0].addr = &dwz[tag];
		r->seg[0].len = sizeof(dwz[tag]);
		break;
	}
	int rc = vblk_submit(&blk, r);
	if (rc == 0) busy[tag] = 1;
	return rc;
}

static int vblk_bench_wait(struct bench_dev *d, int *status)
{
	(void)d;
	struct vblk_req *r = vblk_wait(&blk);
	if (!r) return VBLK_ERR_TIMEOUT;
	int tag = (int)(uintptr_t)r->cookie;
	busy[tag] = 0;
	*status = r->status;
	return tag;
}

static const char *vblk_bench_strerror(int err)
{
	if (err == BENCH_DEV_ERR_NOTAG) return "tag busy or out of range";
	if (err == BENCH_DEV_ERR_RANGE) return "request not on 512-byte boundaries or past the end";
	return vblk_strerror(err);
}

static uint64_t vblk_bench_doorbells(const struct bench_dev *d)
{
	(void)d;
	return blk.stats.kicks;
}

struct bench_dev bench_dev_vblk = {
	.name = "virtio-blk",
	.init = vblk_bench_init,
	.submit = vblk_bench_submit,
	.wait = vblk_bench_wait,
	.strerror = vblk_bench_strerror,
	.doorbells = vblk_bench_doorbells,
};
