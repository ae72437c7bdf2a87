/* storage-bench adapter for the polled NVMe driver: namespace 1 on I/O queue 1, one nvme_req per tag, shadow
 * doorbells when the controller offers them, discard as a one-range Dataset Management deallocate. */
#include "rt.h"
#include "nvme.h"
#include "bench_dev.h"

static struct nvme ctrl;
static struct nvme_req reqs[BENCH_DEV_TAGS];
/* DSM ranges must sit in a page-aligned buffer: one page per tag. */
static struct dsm_page {
	struct nvme_dsm_range range;
	uint8_t pad[NVME_PAGE - sizeof(struct nvme_dsm_range)];
} dsm[BENCH_DEV_TAGS] __attribute__((aligned(4096)));
static uint8_t busy[BENCH_DEV_TAGS];

static int nvme_bench_init(struct bench_dev *d)
{
	struct nvme_opts opts = { .io_queues = 1, .qsize = BENCH_DEV_TAGS, .shadow_db = 1 };
	int rc = nvme_init(&ctrl, 0, &opts);
	if (rc < 0) return rc;
	d->capacity_bytes = ctrl.ns1.nsze * ctrl.ns1.lba_size;
	d->can_discard = (ctrl.oncs & (1u << 2)) != 0;      /* ONCS bit 2: Dataset Management */
	d->max_discard_bytes = (uint64_t)0xFFFFFFFFu / ctrl.ns1.lba_size * ctrl.ns1.lba_size;   /* NLB is 32 bits */
	if (d->max_discard_bytes > (1ull << 31)) d->max_discard_bytes = 1ull << 31;
	printf("info: nvme %s, lba %u bytes, %u queue entries, shadow doorbells %s\n", ctrl.mn, ctrl.ns1.lba_size, ctrl.qsize,
	       ctrl.shadow ? "on" : "off");
	return 0;
}

static int nvme_bench_submit(struct bench_dev *d, int tag, enum bench_op op, uint64_t offset, uint32_t len, void *buf)
{
	if (tag < 0 || tag >= BENCH_DEV_TAGS || busy[tag]) return BENCH_DEV_ERR_NOTAG;
	uint32_t lba = ctrl.ns1.lba_size;
	if (offset % lba || len % lba || offset + len > d->capacity_bytes) return BENCH_DEV_ERR_RANGE;
	struct nvme_req *r = &reqs[tag];
	switch (op) {
	case BENCH_OP_READ:
	case BENCH_OP_WRITE:
		nvme_req_rw(r, op == BENCH_OP_WRITE, 1, offset / lba, len / lba, buf, len);
		break;
	case BENCH_OP_FLUSH:
		nvme_req_flush(r, 1);
		break;
	case BENCH_OP_DISCARD:
		dsm[tag].range.cattr = 0;
		dsm[tag].range.nlb = len / lba;
		dsm[tag].range.slba = offset / lba;
		nvme_req_dsm(r, 1, &dsm[tag].range, 1);
		break;
	}
	r->cookie = (void *)(uintptr_t)tag;
	int rc = nvme_submit(&ctrl, 1, r);
	if (rc == 0) busy[tag] = 1;
	return rc;
}

static int nvme_bench_wait(struct bench_dev *d, int *status)
{
	(void)d;
	struct nvme_req *r = nvme_wait(&ctrl, 1);
	if (!r) return NVME_ERR_TIMEOUT;
	int tag = (int)(uintptr_t)r->cookie;
	busy[tag] = 0;
	*status = r->status;
	return tag;
}

static const char *nvme_bench_strerror(int err)
{
	if (err == BENCH_DEV_ERR_NOTAG) return "tag busy or out of range";
	if (err == BENCH_DEV_ERR_RANGE) return "request not on LBA boundaries or past the end";
	return nvme_strerror(err);
}

static uint64_t nvme_bench_doorbells(const struct bench_dev *d)
{
	(void)d;
	return ctrl.stats.sq_doorbells + ctrl.stats.cq_doorbells;
}

struct bench_dev bench_dev_nvme = {
	.name = "nvme",
	.init = nvme_bench_init,
	.submit = nvme_bench_submit,
	.wait = nvme_bench_wait,
	.strerror = nvme_bench_strerror,
	.doorbells = nvme_bench_doorbells,
};
