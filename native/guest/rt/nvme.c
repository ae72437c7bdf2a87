/* Polled NVMe driver.  See nvme.h. */
#include "rt.h"
#include "nvme.h"

/* controller registers (BAR0) */
#define REG_CAP    0x00
#define REG_VS     0x08
#define REG_INTMS  0x0C
#define REG_CC     0x14
#define REG_CSTS   0x1C
#define REG_AQA    0x24
#define REG_ASQ    0x28
#define REG_ACQ    0x30
#define REG_DB     0x1000

#define CC_EN        (1u << 0)
#define CC_IOSQES(x) ((uint32_t)(x) << 16)
#define CC_IOCQES(x) ((uint32_t)(x) << 20)
#define CSTS_RDY     (1u << 0)
#define CSTS_CFS     (1u << 1)
#define CC_SHN_MASK    (3u << 14)
#define CC_SHN_NORMAL  (1u << 14)
#define CSTS_SHST_MASK (3u << 2)
#define CSTS_SHST_DONE (2u << 2)

#define CAP_MQES(c)   ((uint32_t)((c) & 0xFFFF))
#define CAP_TO(c)     ((uint32_t)(((c) >> 24) & 0xFF))
#define CAP_DSTRD(c)  ((uint32_t)(((c) >> 32) & 0xF))
#define CAP_CSS_NVM(c) (((c) >> 37) & 1)
#define CAP_MPSMIN(c) ((uint32_t)(((c) >> 48) & 0xF))
#define CAP_MPSMAX(c) ((uint32_t)(((c) >> 52) & 0xF))

#define DEFAULT_TIMEOUT_TSC 30000000000ull   /* ~8-15 s: a loaded 2-core host stalls for seconds */
/* CAP.TO is in 500 ms units; we have no calibrated clock, so assume a TSC of
 * at most 4 GHz (2e9 cycles per unit): waiting longer than needed is harmless. */
#define TSC_PER_TO_UNIT 2000000000ull

/* Queue memory: one controller instance.  CQR may be set, so every queue is
 * one physically contiguous, page-aligned array. */
static struct nvme_sqe asq[NVME_AQ_SIZE] __attribute__((aligned(4096)));
static struct nvme_cqe acq[NVME_AQ_SIZE] __attribute__((aligned(4096)));
static struct nvme_sqe iosq[NVME_IOQ_MAX][NVME_QSIZE_MAX] __attribute__((aligned(4096)));
static struct nvme_cqe iocq[NVME_IOQ_MAX][NVME_QSIZE_MAX] __attribute__((aligned(4096)));
/* PRP list pages: two per command slot (enough for NVME_MAX_XFER even with
 * NVME_REQ_SHORT_LIST). */
static uint64_t admin_prp[NVME_AQ_SIZE][2][512] __attribute__((aligned(4096)));
static uint64_t io_prp[NVME_IOQ_MAX][NVME_QSIZE_MAX][2][512] __attribute__((aligned(4096)));
static uint32_t dbbuf_page[1024] __attribute__((aligned(4096)));
static uint32_t eventidx_page[1024] __attribute__((aligned(4096)));
static uint8_t  id_page[4096] __attribute__((aligned(4096)));

/* ---------------------------------------------------------------- */

static uint32_t rd32(struct nvme *n, unsigned o) { return mmio_read32(n->regs + o); }
static void wr32(struct nvme *n, unsigned o, uint32_t v) { mmio_write32(n->regs + o, v); }
/* 64-bit registers as two dwords (low first): every controller accepts that. */
static uint64_t rd64(struct nvme *n, unsigned o) { return rd32(n, o) | ((uint64_t)rd32(n, o + 4) << 32); }
static void wr64(struct nvme *n, unsigned o, uint64_t v) { wr32(n, o, (uint32_t)v); wr32(n, o + 4, (uint32_t)(v >> 32)); }

const char *nvme_strerror(int err)
{
	switch (err) {
	case 0:                return "ok";
	case NVME_ERR_NODEV:   return "no NVMe controller (class 010802) on bus 0";
	case NVME_ERR_BAR:     return "BAR0 missing or not a memory BAR";
	case NVME_ERR_CAP:     return "CAP unusable (needs 4 KiB pages and the NVM command set)";
	case NVME_ERR_READY:   return "CSTS.RDY did not follow CC.EN within CAP.TO (or CSTS.CFS)";
	case NVME_ERR_ADMIN:   return "admin command failed during bring-up";
	case NVME_ERR_BUSY:    return "queue full";
	case NVME_ERR_INVAL:   return "invalid request";
	case NVME_ERR_TIMEOUT: return "timeout";
	case NVME_ERR_BROKEN:  return "driver broken (earlier timeout)";
	case NVME_ERR_ABORTED: return "lost to a controller reset";
	default:               return "unknown error";
	}
}

const char *nvme_status_name(int st)
{
	if (st < 0)
		return nvme_strerror(st);
	switch (NVME_ST_CODE(st)) {
	case NVME_ST(0, NVME_SC_SUCCESS):         return "Success";
	case NVME_ST(0, NVME_SC_INVALID_OPCODE):  return "Invalid Opcode";
	case NVME_ST(0, NVME_SC_INVALID_FIELD):   return "Invalid Field";
	case NVME_ST(0, NVME_SC_DATA_XFER_ERROR): return "Data Transfer Error";
	case NVME_ST(0, NVME_SC_INTERNAL):        return "Internal Error";
	case NVME_ST(0, NVME_SC_ABORT_REQ):       return "Aborted by Request";
	case NVME_ST(0, NVME_SC_ABORT_SQ_DEL):    return "Aborted - SQ Deletion";
	case NVME_ST(0, NVME_SC_INVALID_NS):      return "Invalid Namespace or Format";
	case NVME_ST(0, NVME_SC_CMD_SEQ_ERROR):   return "Command Sequence Error";
	case NVME_ST(0, NVME_SC_INVALID_PRP_OFF): return "Invalid PRP Offset";
	case NVME_ST(0, 0x20):                    return "Namespace is Write Protected";
	case NVME_ST(0, NVME_SC_LBA_RANGE):       return "LBA Out of Range";
	case NVME_ST(0, NVME_SC_CAP_EXCEEDED):    return "Capacity Exceeded";
	case NVME_ST(0, NVME_SC_NS_NOT_READY):    return "Namespace Not Ready";
	case NVME_ST(1, NVME_SC_CQ_INVALID):      return "Completion Queue Invalid";
	case NVME_ST(1, NVME_SC_QID_INVALID):     return "Invalid Queue Identifier";
	case NVME_ST(1, NVME_SC_QSIZE_INVALID):   return "Invalid Queue Size";
	case NVME_ST(1, NVME_SC_READ_ONLY):       return "Attempted Write to Read Only Range";
	case NVME_ST(2, NVME_SC_WRITE_FAULT):     return "Write Fault";
	case NVME_ST(2, NVME_SC_READ_ERROR):      return "Unrecovered Read Error";
	default:                                  return "other status";
	}
}

/* ---------------------------------------------------------------- */
/* doorbells                                                        */

/* Linux's shadow-doorbell rule: ring only if the device's EventIdx lies in
 * [old, new) modulo 2^16. */
static int need_event(uint16_t ev, uint16_t new_v, uint16_t old_v)
{
	return (uint16_t)(new_v - ev - 1) < (uint16_t)(new_v - old_v);
}

/* slot = 2*qid (SQ tail) or 2*qid+1 (CQ head). */
static void doorbell(struct nvme *n, int qid, int slot, uintptr_t mmio, uint16_t old_v, uint16_t new_v)
{
	if (n->shadow && qid > 0) {
		unsigned i = (unsigned)slot * (n->dstrd / 4);
		n->dbbuf[i] = new_v;
		mb();                      /* shadow visible before we read EventIdx */
		if (!need_event((uint16_t)n->eventidx[i], new_v, old_v)) {
			n->stats.doorbells_suppressed++;
			return;
		}
	}
	mb();
	mmio_write32(mmio, new_v);
	if (slot & 1)
		n->stats.cq_doorbells++;
	else
		n->stats.sq_doorbells++;
}

void nvme_ring(struct nvme *n, int qid)
{
	struct nvme_queue *q = &n->q[qid];
	if (q->sq_tail == q->rung_tail)
		return;
	doorbell(n, qid, 2 * qid, q->sq_db, q->rung_tail, q->sq_tail);
	q->rung_tail = q->sq_tail;
}

/* ---------------------------------------------------------------- */
/* PRPs                                                             */

static int build_prps(struct nvme_queue *q, uint16_t cid, uintptr_t buf, uint32_t len,
		      uint32_t flags, uint64_t *prp1, uint64_t *prp2)
{
	*prp1 = *prp2 = 0;
	if (!len)
		return 0;
	if ((buf & 3) || len > NVME_MAX_XFER)
		return NVME_ERR_INVAL;
	*prp1 = buf;
	uint32_t first = NVME_PAGE - (uint32_t)(buf & (NVME_PAGE - 1));
	if (len <= first)
		return 0;
	uint32_t rem = len - first;
	uintptr_t next = buf + first;                 /* page aligned */
	if (rem <= NVME_PAGE) {
		*prp2 = next;
		return 0;
	}
	uint32_t npages = (rem + NVME_PAGE - 1) / NVME_PAGE;
	uint64_t *l0 = q->prp_pages + (size_t)cid * 1024, *l1 = l0 + 512;
	uint64_t *cur = l0;
	unsigned slots = 512;
	int page = 0;
	if (flags & NVME_REQ_SHORT_LIST) {
		cur = l0 + 512 - 4;                   /* PRP2 with a page offset: 4 slots left */
		slots = 4;
	}
	*prp2 = (uintptr_t)cur;
	for (uint32_t i = 0; i < npages; i++) {
		/* the last slot of a list page points to the next page when more
		 * than one entry remains */
		if (slots == 1 && npages - i > 1) {
			if (page)
				return NVME_ERR_INVAL;
			*cur = (uintptr_t)l1;
			cur = l1;
			slots = 512;
			page = 1;
		}
		*cur++ = next + (uint64_t)i * NVME_PAGE;
		slots--;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* submit / complete                                                */

int nvme_inflight(const struct nvme *n, int qid)
{
	if (qid < 0 || qid > n->nq)
		return 0;
	return n->q[qid].inflight;
}

int nvme_submit(struct nvme *n, int qid, struct nvme_req *r)
{
	if (n->broken)
		return NVME_ERR_BROKEN;
	if (qid < 0 || qid > n->nq || !n->q[qid].size)
		return NVME_ERR_INVAL;
	struct nvme_queue *q = &n->q[qid];
	if (q->inflight >= q->size - 1 || !q->free_top)
		return NVME_ERR_BUSY;

	uint16_t cid = q->free_cid[q->free_top - 1];
	struct nvme_sqe e;
	memset(&e, 0, sizeof(e));
	e.opc = r->opc;
	e.flags = r->sqe_flags;
	e.cid = cid;
	e.nsid = r->nsid;
	e.cdw10 = r->cdw10;
	e.cdw11 = r->cdw11;
	e.cdw12 = r->cdw12;
	e.cdw13 = r->cdw13;
	e.cdw14 = r->cdw14;
	e.cdw15 = r->cdw15;
	if (r->flags & NVME_REQ_RAW_PRP) {
		e.prp1 = r->prp1;
		e.prp2 = r->prp2;
	} else {
		int rc = build_prps(q, cid, (uintptr_t)r->buf, r->len, r->flags, &e.prp1, &e.prp2);
		if (rc)
			return rc;
		r->prp1 = e.prp1;
		r->prp2 = e.prp2;
	}
	q->free_top--;
	r->done = 0;
	r->status = 0;
	r->dw0 = 0;
	r->cid = cid;
	r->qid = (uint16_t)qid;
	q->req[cid] = r;
	q->inflight++;
	memcpy((void *)&q->sq[q->sq_tail], &e, sizeof(e));
	q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->size);
	n->stats.submitted++;
	r->submit_tsc = rdtsc();
	if (!(r->flags & NVME_REQ_NO_RING))
		nvme_ring(n, qid);
	return 0;
}

static void ready_push(struct nvme_queue *q, struct nvme_req *r)
{
	if (q->ready_count == NVME_QSIZE_MAX) {      /* never popped: drop the oldest */
		q->ready_head = (uint16_t)((q->ready_head + 1) % NVME_QSIZE_MAX);
		q->ready_count--;
	}
	q->ready[(q->ready_head + q->ready_count) % NVME_QSIZE_MAX] = r;
	q->ready_count++;
}

/* Takes every new CQE, then rings the CQ head doorbell once. */
static int reap(struct nvme *n, int qid)
{
	struct nvme_queue *q = &n->q[qid];
	int got = 0;
	uint16_t old_head = q->cq_head;

	for (;;) {
		volatile struct nvme_cqe *c = &q->cq[q->cq_head];
		uint16_t st = c->status;
		if ((st & 1) != q->phase)
			break;
		barrier();
		uint16_t cid = c->cid;
		struct nvme_req *r = cid < q->size ? q->req[cid] : NULL;
		if (++q->cq_head == q->size) {
			q->cq_head = 0;
			q->phase ^= 1;
		}
		got++;
		if (!r)
			continue;                         /* completion for no command: ignore */
		r->complete_tsc = rdtsc();
		r->status = st >> 1;
		r->dw0 = c->dw0;
		r->sqhd = c->sqhd;
		q->req[cid] = NULL;
		q->free_cid[q->free_top++] = cid;
		q->inflight--;
		n->stats.completed++;
		r->done = 1;
		ready_push(q, r);
	}
	if (got && !n->disabled) {
		doorbell(n, qid, 2 * qid + 1, q->cq_db, old_head, q->cq_head);
		q->rung_head = q->cq_head;
	}
	return got;
}

struct nvme_req *nvme_poll(struct nvme *n, int qid)
{
	if (qid < 0 || qid > n->nq)
		return NULL;
	struct nvme_queue *q = &n->q[qid];
	if (!q->ready_count && q->size)
		reap(n, qid);
	if (!q->ready_count)
		return NULL;
	struct nvme_req *r = q->ready[q->ready_head];
	q->ready_head = (uint16_t)((q->ready_head + 1) % NVME_QSIZE_MAX);
	q->ready_count--;
	return r;
}

/* Says what the queue looked like when a wait gave up. */
static void report_timeout(struct nvme *n, int qid)
{
	struct nvme_queue *q = &n->q[qid];
	printf("nvme: timeout on queue %d: sq_tail %u cq_head %u phase %u inflight %u, CSTS 0x%x\n",
	       qid, q->sq_tail, q->cq_head, q->phase, q->inflight, rd32(n, REG_CSTS));
	n->broken = 1;
}

struct nvme_req *nvme_wait(struct nvme *n, int qid)
{
	if (n->broken)
		return NULL;
	uint64_t t0 = rdtsc();
	for (;;) {
		struct nvme_req *r = nvme_poll(n, qid);
		if (r)
			return r;
		if (rdtsc() - t0 > n->timeout_tsc) {
			report_timeout(n, qid);
			return NULL;
		}
		cpu_relax();
	}
}

/* Removes r from the ready list of its queue (it was waited for directly). */
static void ready_remove(struct nvme_queue *q, struct nvme_req *r)
{
	uint16_t k = 0;
	for (uint16_t i = 0; i < q->ready_count; i++) {
		struct nvme_req *x = q->ready[(q->ready_head + i) % NVME_QSIZE_MAX];
		if (x != r)
			q->ready[(q->ready_head + k++) % NVME_QSIZE_MAX] = x;
	}
	q->ready_count = k;
}

int nvme_do(struct nvme *n, int qid, struct nvme_req *r)
{
	int rc = nvme_submit(n, qid, r);
	if (rc)
		return rc;
	if (r->flags & NVME_REQ_NO_RING)
		nvme_ring(n, qid);
	uint64_t t0 = rdtsc();
	while (!r->done) {
		if (!reap(n, qid)) {
			if (rdtsc() - t0 > n->timeout_tsc) {
				report_timeout(n, qid);
				return NVME_ERR_TIMEOUT;
			}
			cpu_relax();
		}
	}
	ready_remove(&n->q[qid], r);
	return r->status;
}

/* ---------------------------------------------------------------- */
/* request builders                                                 */

void nvme_req_rw(struct nvme_req *r, int write, uint32_t nsid, uint64_t slba,
		 uint32_t nlb, void *buf, uint32_t len)
{
	memset(r, 0, sizeof(*r));
	r->opc = write ? NVME_IO_WRITE : NVME_IO_READ;
	r->nsid = nsid;
	r->cdw10 = (uint32_t)slba;
	r->cdw11 = (uint32_t)(slba >> 32);
	r->cdw12 = (nlb - 1) & 0xFFFF;
	r->buf = buf;
	r->len = len;
}

void nvme_req_flush(struct nvme_req *r, uint32_t nsid)
{
	memset(r, 0, sizeof(*r));
	r->opc = NVME_IO_FLUSH;
	r->nsid = nsid;
}

void nvme_req_write_zeroes(struct nvme_req *r, uint32_t nsid, uint64_t slba, uint32_t nlb, int deac)
{
	memset(r, 0, sizeof(*r));
	r->opc = NVME_IO_WRITE_ZEROES;
	r->nsid = nsid;
	r->cdw10 = (uint32_t)slba;
	r->cdw11 = (uint32_t)(slba >> 32);
	r->cdw12 = ((nlb - 1) & 0xFFFF) | (deac ? NVME_WZ_DEAC : 0);
}

void nvme_req_dsm(struct nvme_req *r, uint32_t nsid, struct nvme_dsm_range *ranges, int nr)
{
	memset(r, 0, sizeof(*r));
	r->opc = NVME_IO_DSM;
	r->nsid = nsid;
	r->cdw10 = (uint32_t)(nr - 1) & 0xFF;
	r->cdw11 = NVME_DSM_AD;
	r->buf = ranges;
	r->len = (uint32_t)nr * sizeof(*ranges);
}

int nvme_rw(struct nvme *n, int write, uint32_t nsid, uint64_t slba, uint32_t nlb,
	    void *buf, uint32_t flags)
{
	static struct nvme_req r;
	nvme_req_rw(&r, write, nsid, slba, nlb, buf, nlb * n->ns1.lba_size);
	r.cdw12 |= flags;
	return nvme_do(n, 1, &r);
}

int nvme_identify(struct nvme *n, uint8_t cns, uint32_t nsid, void *page4k)
{
	static struct nvme_req r;
	memset(&r, 0, sizeof(r));
	r.opc = NVME_ADM_IDENTIFY;
	r.nsid = nsid;
	r.cdw10 = cns;
	r.buf = page4k;
	r.len = 4096;
	return nvme_do(n, 0, &r);
}

/* ---------------------------------------------------------------- */
/* bring-up                                                         */

static int wait_ready(struct nvme *n, int want)
{
	uint64_t t0 = rdtsc();
	for (;;) {
		uint32_t csts = rd32(n, REG_CSTS);
		if (csts == 0xFFFFFFFFu)
			return NVME_ERR_READY;             /* device gone */
		if (want && (csts & CSTS_CFS))
			return NVME_ERR_READY;
		if (((csts & CSTS_RDY) != 0) == want)
			return 0;
		if (rdtsc() - t0 > n->ready_tsc)
			return NVME_ERR_READY;
		cpu_relax();
	}
}

int nvme_disable(struct nvme *n)
{
	uint32_t cc = rd32(n, REG_CC);
	if (cc & CC_EN)
		wr32(n, REG_CC, cc & ~CC_EN);
	return wait_ready(n, 0);
}

int nvme_shutdown(struct nvme *n)
{
	uint32_t cc = rd32(n, REG_CC);
	wr32(n, REG_CC, (cc & ~CC_SHN_MASK) | CC_SHN_NORMAL);
	uint64_t t0 = rdtsc(), limit = n->ready_tsc > n->timeout_tsc ? n->ready_tsc : n->timeout_tsc;
	for (;;) {
		uint32_t csts = rd32(n, REG_CSTS);
		if (csts == 0xFFFFFFFFu)
			return NVME_ERR_READY;
		if ((csts & CSTS_SHST_MASK) == CSTS_SHST_DONE)
			break;
		if (rdtsc() - t0 > limit)
			return NVME_ERR_TIMEOUT;
		cpu_relax();
	}
	n->broken = 1;              /* usable again only after nvme_reset */
	return 0;
}

static void queue_setup(struct nvme *n, int qid, void *sq, void *cq, uint16_t size, uint64_t *prp)
{
	struct nvme_queue *q = &n->q[qid];
	memset(q, 0, sizeof(*q));
	memset(sq, 0, (size_t)size * sizeof(struct nvme_sqe));
	memset(cq, 0, (size_t)size * sizeof(struct nvme_cqe));
	q->sq = sq;
	q->cq = cq;
	q->size = size;
	q->phase = 1;
	q->sq_db = n->regs + REG_DB + (uintptr_t)(2 * qid) * n->dstrd;
	q->cq_db = n->regs + REG_DB + (uintptr_t)(2 * qid + 1) * n->dstrd;
	q->prp_pages = prp;
	if (n->shadow) {
		/* a re-created queue starts from 0: stale shadow/EventIdx values of
		 * its previous life would suppress the first doorbells */
		unsigned i = (unsigned)(2 * qid) * (n->dstrd / 4), j = i + n->dstrd / 4;
		n->dbbuf[i] = n->dbbuf[j] = 0;
		n->eventidx[i] = n->eventidx[j] = 0;
	}
	for (uint16_t i = 0; i < size; i++)
		q->free_cid[i] = (uint16_t)(size - 1 - i);   /* cid 0 first */
	q->free_top = size;
}

static void copy_str(char *dst, const uint8_t *src, int len)
{
	memcpy(dst, src, (size_t)len);
	dst[len] = 0;
	for (int i = len - 1; i >= 0 && (dst[i] == ' ' || dst[i] == 0); i--)
		dst[i] = 0;
}

static int admin(struct nvme *n, const char *step, struct nvme_req *r)
{
	int st = nvme_do(n, 0, r);
	if (st) {
		n->init_step = step;
		n->init_status = st;
		return st < 0 ? st : NVME_ERR_ADMIN;
	}
	return 0;
}

/* Create I/O CQ qid (PC=1, IEN=0: polled) and SQ qid on it, n->qsize entries. */
static int create_queue(struct nvme *n, int qid)
{
	struct nvme_req r;
	int rc;
	uint16_t qs = n->qsize;
	queue_setup(n, qid, iosq[qid - 1], iocq[qid - 1], qs, &io_prp[qid - 1][0][0][0]);
	memset(&r, 0, sizeof(r));
	r.opc = NVME_ADM_CREATE_CQ;
	r.flags = NVME_REQ_RAW_PRP;
	r.prp1 = (uintptr_t)iocq[qid - 1];
	r.cdw10 = ((uint32_t)(qs - 1) << 16) | (uint32_t)qid;
	r.cdw11 = 1;
	if ((rc = admin(n, "create I/O completion queue", &r)))
		goto fail;
	memset(&r, 0, sizeof(r));
	r.opc = NVME_ADM_CREATE_SQ;
	r.flags = NVME_REQ_RAW_PRP;
	r.prp1 = (uintptr_t)iosq[qid - 1];
	r.cdw10 = ((uint32_t)(qs - 1) << 16) | (uint32_t)qid;
	r.cdw11 = ((uint32_t)qid << 16) | 1;          /* CQID, PC=1 */
	if ((rc = admin(n, "create I/O submission queue", &r)))
		goto fail;
	return 0;
fail:
	n->q[qid].size = 0;                           /* not usable */
	return rc;
}

int nvme_queue_create(struct nvme *n, int qid)
{
	if (qid < 1 || qid > NVME_IOQ_MAX || qid > n->nsqa || qid > n->ncqa || n->q[qid].size)
		return NVME_ERR_INVAL;
	int rc = create_queue(n, qid);
	if (rc)
		return rc == NVME_ERR_ADMIN ? n->init_status : rc;
	if (qid > n->nq)
		n->nq = qid;
	return 0;
}

int nvme_queue_delete(struct nvme *n, int qid)
{
	struct nvme_req r;
	if (qid < 1 || qid > n->nq || !n->q[qid].size)
		return NVME_ERR_INVAL;
	struct nvme_queue *q = &n->q[qid];
	memset(&r, 0, sizeof(r));
	r.opc = NVME_ADM_DELETE_SQ;
	r.cdw10 = (uint32_t)qid;
	int st = nvme_do(n, 0, &r);
	if (st)
		return st;
	/* Delete SQ completes only after every command of that SQ has been
	 * completed or aborted (SQ Deletion): their CQEs are in the CQ now. */
	reap(n, qid);
	for (uint16_t cid = 0; cid < q->size; cid++) {
		struct nvme_req *x = q->req[cid];
		if (!x)
			continue;
		x->status = NVME_ERR_ABORTED;       /* no CQE: the controller lost it */
		x->done = 1;
		q->req[cid] = NULL;
		q->inflight--;
	}
	memset(&r, 0, sizeof(r));
	r.opc = NVME_ADM_DELETE_CQ;
	r.cdw10 = (uint32_t)qid;
	st = nvme_do(n, 0, &r);
	q->size = 0;                                  /* gone from the driver either way */
	return st;
}

/* Everything after PCI setup: reset, admin queue, identify, queues. */
static int start(struct nvme *n)
{
	struct nvme_req r;
	int rc;

	n->broken = 0;
	n->disabled = 0;
	n->shadow = 0;
	n->nq = 0;
	n->init_step = "";
	n->init_status = 0;
	n->cap = rd64(n, REG_CAP);
	n->vs = rd32(n, REG_VS);
	if (n->cap == ~0ull || !CAP_CSS_NVM(n->cap) || CAP_MPSMIN(n->cap) > 0)
		return NVME_ERR_CAP;
	n->dstrd = 4u << CAP_DSTRD(n->cap);
	n->mqes = CAP_MQES(n->cap) + 1;
	n->ready_tsc = (uint64_t)(CAP_TO(n->cap) ? CAP_TO(n->cap) : 1) * TSC_PER_TO_UNIT;

	/* reset: a controller still shutting down (EN=0, RDY=1) settles too */
	wr32(n, REG_CC, 0);
	if ((rc = wait_ready(n, 0)))
		return rc;

	uint16_t aqs = NVME_AQ_SIZE;
	if (aqs > n->mqes)
		aqs = (uint16_t)n->mqes;
	queue_setup(n, 0, asq, acq, aqs, &admin_prp[0][0][0]);
	wr32(n, REG_AQA, ((uint32_t)(aqs - 1) << 16) | (aqs - 1));
	wr64(n, REG_ASQ, (uintptr_t)asq);
	wr64(n, REG_ACQ, (uintptr_t)acq);
	/* CSS=NVM, MPS=0 (4 KiB), AMS=round robin; set EN in a second write */
	uint32_t cc = CC_IOSQES(6) | CC_IOCQES(4);
	wr32(n, REG_CC, cc);
	wr32(n, REG_CC, cc | CC_EN);
	if ((rc = wait_ready(n, 1)))
		return rc;
	/* no interrupts wanted: mask vector 0 (INTx/MSI; MSI-X stays disabled) */
	wr32(n, REG_INTMS, 1);

	/* Identify Controller */
	memset(id_page, 0, sizeof(id_page));
	memset(&r, 0, sizeof(r));
	r.opc = NVME_ADM_IDENTIFY;
	r.cdw10 = 1;
	r.buf = id_page;
	r.len = 4096;
	if ((rc = admin(n, "identify controller", &r)))
		return rc;
	n->vid = (uint16_t)(id_page[0] | id_page[1] << 8);
	n->ssvid = (uint16_t)(id_page[2] | id_page[3] << 8);
	copy_str(n->sn, id_page + 4, 20);
	copy_str(n->mn, id_page + 24, 40);
	copy_str(n->fr, id_page + 64, 8);
	n->mdts = id_page[77];
	n->oacs = (uint16_t)(id_page[256] | id_page[257] << 8);
	n->sqes = id_page[512];
	n->cqes = id_page[513];
	n->nn = id_page[516] | id_page[517] << 8 | id_page[518] << 16 | (uint32_t)id_page[519] << 24;
	n->oncs = (uint16_t)(id_page[520] | id_page[521] << 8);
	n->vwc = id_page[525];
	n->max_xfer = NVME_MAX_XFER;
	if (n->mdts && n->mdts < 20 && (NVME_PAGE << n->mdts) < n->max_xfer)
		n->max_xfer = NVME_PAGE << n->mdts;

	/* Identify Namespace 1 */
	memset(id_page, 0, sizeof(id_page));
	memset(&r, 0, sizeof(r));
	r.opc = NVME_ADM_IDENTIFY;
	r.nsid = 1;
	r.cdw10 = 0;
	r.buf = id_page;
	r.len = 4096;
	if ((rc = admin(n, "identify namespace 1", &r)))
		return rc;
	memcpy(&n->ns1.nsze, id_page, 8);
	n->ns1.nlbaf = id_page[25];
	n->ns1.flbas = id_page[26];
	n->ns1.dlfeat = id_page[33];
	n->ns1.nsattr = id_page[99];
	n->ns1.lbads = id_page[128 + 4 * (n->ns1.flbas & 0xF) + 2];
	n->ns1.lba_size = n->ns1.lbads >= 9 && n->ns1.lbads <= 16 ? 1u << n->ns1.lbads : 0;

	/* Number of Queues */
	int want = n->opts.io_queues;
	memset(&r, 0, sizeof(r));
	r.opc = NVME_ADM_SET_FEAT;
	r.cdw10 = NVME_FEAT_NUM_QUEUES;
	r.cdw11 = ((uint32_t)(want - 1) << 16) | (uint32_t)(want - 1);
	if ((rc = admin(n, "set features number of queues", &r)))
		return rc;
	n->nsqa = (uint16_t)((r.dw0 & 0xFFFF) + 1);
	n->ncqa = (uint16_t)((r.dw0 >> 16) + 1);
	if (want > n->nsqa)
		want = n->nsqa;
	if (want > n->ncqa)
		want = n->ncqa;

	/* Shadow doorbells (before the I/O queues, so they start shadowed) */
	if (n->opts.shadow_db && (n->oacs & (1u << 8))) {
		memset(dbbuf_page, 0, sizeof(dbbuf_page));
		memset(eventidx_page, 0, sizeof(eventidx_page));
		memset(&r, 0, sizeof(r));
		r.opc = NVME_ADM_DBBUF;
		r.flags = NVME_REQ_RAW_PRP;
		r.prp1 = (uintptr_t)dbbuf_page;
		r.prp2 = (uintptr_t)eventidx_page;
		if ((rc = admin(n, "doorbell buffer config", &r)))
			return rc;
		n->dbbuf = dbbuf_page;
		n->eventidx = eventidx_page;
		n->shadow = 1;
	}

	uint16_t qs = (uint16_t)n->opts.qsize;
	if (qs > n->mqes)
		qs = (uint16_t)n->mqes;
	n->qsize = qs;
	for (int qid = 1; qid <= want; qid++) {
		if ((rc = create_queue(n, qid)))
			return rc;
		n->nq = qid;
	}
	return 0;
}

int nvme_init(struct nvme *n, int index, const struct nvme_opts *opts)
{
	memset(n, 0, sizeof(*n));
	if (opts)
		n->opts = *opts;
	if (n->opts.io_queues <= 0)
		n->opts.io_queues = 1;
	if (n->opts.io_queues > NVME_IOQ_MAX)
		n->opts.io_queues = NVME_IOQ_MAX;
	if (n->opts.qsize <= 1)
		n->opts.qsize = 64;
	if (n->opts.qsize > NVME_QSIZE_MAX)
		n->opts.qsize = NVME_QSIZE_MAX;
	n->timeout_tsc = n->opts.timeout_tsc ? n->opts.timeout_tsc : DEFAULT_TIMEOUT_TSC;

	if (pci_init() == PCI_MECH_NONE)
		return NVME_ERR_NODEV;
	struct pci_dev devs[32];
	int nd = pci_enumerate(devs, 32), found = -1;
	for (int i = 0, k = 0; i < nd && i < 32; i++) {
		if (devs[i].class_code == 0x010802 && k++ == index) {
			found = i;
			break;
		}
	}
	if (found < 0)
		return NVME_ERR_NODEV;
	n->pci = devs[found];
	if (pci_setup_device(&n->pci))
		return NVME_ERR_BAR;
	if (!n->pci.bar[0].size || n->pci.bar[0].is_io || !n->pci.bar[0].addr)
		return NVME_ERR_BAR;
	n->regs = (uintptr_t)n->pci.bar[0].addr;
	/* polled: INTx off, MSI-X disabled with its function masked */
	pci_cfg_write16(&n->pci, PCI_COMMAND, pci_cfg_read16(&n->pci, PCI_COMMAND) | PCI_CMD_INTX_DIS);
	uint8_t msix = pci_find_cap(&n->pci, PCI_CAP_ID_MSIX, 0);
	if (msix) {
		uint16_t mc = pci_cfg_read16(&n->pci, msix + 2);
		pci_cfg_write16(&n->pci, msix + 2, (uint16_t)((mc & ~0x8000u) | 0x4000u));
	}
	return start(n);
}

int nvme_reset(struct nvme *n, int *completed, int *aborted)
{
	int done = 0, lost = 0;
	int rc = nvme_disable(n);
	n->disabled = 1;               /* doorbells are ignored while RDY=0 anyway */
	/* CQEs posted before RDY went to 0 are in memory: take them */
	for (int qid = 0; qid <= n->nq; qid++) {
		struct nvme_queue *q = &n->q[qid];
		if (!q->size)
			continue;
		reap(n, qid);
		done += q->ready_count;
		for (uint16_t cid = 0; cid < q->size; cid++) {
			struct nvme_req *r = q->req[cid];
			if (!r)
				continue;
			r->status = NVME_ERR_ABORTED;
			r->done = 1;
			r->complete_tsc = rdtsc();
			q->req[cid] = NULL;
			lost++;
		}
		memset(q, 0, sizeof(*q));
	}
	if (completed)
		*completed = done;
	if (aborted)
		*aborted = lost;
	if (rc)
		return rc;
	return start(n);
}
