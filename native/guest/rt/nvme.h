/* Polled NVMe driver (PCI class 01/08/02, any vendor).  No interrupts: the
 * I/O completion queues are created with IEN=0, INTx is disabled in the PCI
 * command register, MSI-X is left disabled and INTMS masks vector 0 (the
 * admin queue).  Several commands may be in flight on each of N I/O queue
 * pairs (nvme_submit + nvme_poll), each with TSC timestamps.
 *
 * Status values: a completed command's 15-bit CQE status field
 * (CQE DW3 bits 31:17): SC in bits 7:0, SCT in 10:8, CRD 12:11, M 13,
 * DNR 14.  0 = success.  Driver errors are negative NVME_ERR_* codes. */
#ifndef RT_NVME_H
#define RT_NVME_H

#include <stdint.h>
#include "pci.h"

/* ---- status helpers ---- */
#define NVME_SC(st)    ((st) & 0xFF)
#define NVME_SCT(st)   (((st) >> 8) & 0x7)
#define NVME_DNR(st)   (((st) >> 14) & 1)
#define NVME_ST(sct, sc) (((sct) << 8) | (sc))        /* without DNR/M/CRD */
#define NVME_ST_CODE(st) ((st) & 0x7FF)               /* SCT + SC only */

/* generic (SCT 0) */
#define NVME_SC_SUCCESS           0x00
#define NVME_SC_INVALID_OPCODE    0x01
#define NVME_SC_INVALID_FIELD     0x02
#define NVME_SC_DATA_XFER_ERROR   0x04
#define NVME_SC_INTERNAL          0x06
#define NVME_SC_ABORT_REQ         0x07
#define NVME_SC_ABORT_SQ_DEL      0x08
#define NVME_SC_INVALID_NS        0x0B
#define NVME_SC_CMD_SEQ_ERROR     0x0C
#define NVME_SC_INVALID_PRP_OFF   0x13
#define NVME_SC_LBA_RANGE         0x80
#define NVME_SC_CAP_EXCEEDED      0x81
#define NVME_SC_NS_NOT_READY      0x82
/* command specific (SCT 1) */
#define NVME_SC_CQ_INVALID        0x00
#define NVME_SC_QID_INVALID       0x01
#define NVME_SC_QSIZE_INVALID     0x02
#define NVME_SC_READ_ONLY         0x82   /* Attempted Write to Read Only Range */
/* media (SCT 2) */
#define NVME_SC_WRITE_FAULT       0x80
#define NVME_SC_READ_ERROR        0x81

/* ---- opcodes ---- */
#define NVME_ADM_DELETE_SQ   0x00
#define NVME_ADM_CREATE_SQ   0x01
#define NVME_ADM_GET_LOG     0x02
#define NVME_ADM_DELETE_CQ   0x04
#define NVME_ADM_CREATE_CQ   0x05
#define NVME_ADM_IDENTIFY    0x06
#define NVME_ADM_ABORT       0x08
#define NVME_ADM_SET_FEAT    0x09
#define NVME_ADM_GET_FEAT    0x0A
#define NVME_ADM_DBBUF       0x7C
#define NVME_IO_FLUSH        0x00
#define NVME_IO_WRITE        0x01
#define NVME_IO_READ         0x02
#define NVME_IO_WRITE_ZEROES 0x08
#define NVME_IO_DSM          0x09

#define NVME_FEAT_NUM_QUEUES 0x07
#define NVME_RW_FUA          (1u << 30)     /* CDW12 */
#define NVME_WZ_DEAC         (1u << 25)     /* CDW12 */
#define NVME_DSM_AD          (1u << 2)      /* CDW11 */

/* ---- driver errors (negative returns) ---- */
#define NVME_ERR_NODEV    (-1)   /* no NVMe controller (class 010802) at that index */
#define NVME_ERR_BAR      (-2)   /* BAR0 missing or not memory */
#define NVME_ERR_CAP      (-3)   /* CAP unusable (4 KiB pages, NVM command set, entry sizes) */
#define NVME_ERR_READY    (-4)   /* CSTS.RDY did not follow CC.EN within CAP.TO, or CFS */
#define NVME_ERR_ADMIN    (-5)   /* an admin command of the bring-up failed (see n->init_status) */
#define NVME_ERR_BUSY     (-6)   /* queue full: poll first */
#define NVME_ERR_INVAL    (-7)   /* bad request (queue id, length, alignment) */
#define NVME_ERR_TIMEOUT  (-8)   /* no completion in time: the driver is now broken */
#define NVME_ERR_BROKEN   (-9)   /* earlier timeout / fatal status; reset needed */
#define NVME_ERR_ABORTED  (-10)  /* status of a command lost to a controller reset */

#define NVME_IOQ_MAX      4      /* I/O queue pairs the driver can create */
#define NVME_QSIZE_MAX    256    /* entries per I/O queue we allocate */
#define NVME_AQ_SIZE      32     /* admin queue entries */
#define NVME_MAX_XFER     (2u << 20)   /* driver cap on one command's data (PRP list pages) */
#define NVME_PAGE         4096u

/* submission queue entry */
struct nvme_sqe {
	uint8_t  opc;
	uint8_t  flags;          /* FUSE 1:0, PSDT 7:6 */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2, cdw3;
	uint64_t mptr;
	uint64_t prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct nvme_cqe {
	uint32_t dw0, dw1;
	uint16_t sqhd, sqid;
	uint16_t cid;
	uint16_t status;         /* bit 0 = phase, 15:1 = status field */
};

/* request flags */
#define NVME_REQ_NO_RING    0x1  /* write the SQE only; nvme_ring() later */
#define NVME_REQ_RAW_PRP    0x2  /* use r->prp1/prp2 as given (no PRPs built from buf) */
#define NVME_REQ_SHORT_LIST 0x4  /* first PRP list page at a page offset holding only 4
                                  * entries, so lists chain to a second page early */

struct nvme_req {
	/* --- filled by the caller (nvme_req_* helpers fill them) --- */
	uint8_t  opc;
	uint8_t  sqe_flags;      /* SQE byte 1 (FUSE/PSDT): 0 for normal commands */
	uint32_t nsid;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
	void    *buf;            /* data (physical = virtual), dword aligned */
	uint32_t len;            /* bytes; 0 = no data pointer */
	uint32_t flags;          /* NVME_REQ_* */
	uint64_t prp1, prp2;     /* with NVME_REQ_RAW_PRP only */
	void    *cookie;         /* free for the caller */
	/* --- owned by the driver --- */
	volatile uint8_t done;   /* 1 once completed (status valid) */
	int      status;         /* CQE status field, or NVME_ERR_ABORTED */
	uint32_t dw0;            /* CQE DW0 (command specific result) */
	uint16_t cid, qid, sqhd;
	uint64_t submit_tsc, complete_tsc;
};

struct nvme_stats {
	uint64_t submitted, completed, sq_doorbells, cq_doorbells, doorbells_suppressed;
};

struct nvme_queue {
	volatile struct nvme_sqe *sq;
	volatile struct nvme_cqe *cq;
	uint16_t size;           /* entries (SQ and CQ alike) */
	uint16_t sq_tail, rung_tail;    /* our tail / last tail the device was told */
	uint16_t cq_head, rung_head;
	uint8_t  phase;
	uint16_t inflight;
	uint16_t free_top;
	uint16_t free_cid[NVME_QSIZE_MAX];
	struct nvme_req *req[NVME_QSIZE_MAX];   /* by cid */
	/* completions reaped (CQ doorbell already rung) but not yet handed out */
	struct nvme_req *ready[NVME_QSIZE_MAX];
	uint16_t ready_head, ready_count;
	uintptr_t sq_db, cq_db;  /* MMIO doorbells */
	uint64_t *prp_pages;     /* 2 pages per cid */
};

/* Controller bring-up options (zero = default). */
struct nvme_opts {
	int      io_queues;      /* I/O queue pairs to create (default 1, max NVME_IOQ_MAX) */
	int      qsize;          /* I/O queue entries (default min(64, MQES+1), max NVME_QSIZE_MAX);
	                          * a queue of N entries holds N-1 commands */
	int      shadow_db;      /* 1: Doorbell Buffer Config when OACS bit 8 is set */
	uint64_t timeout_tsc;    /* completion spin limit (default 3e10 cycles, ~8-15 s) */
};

struct nvme_ns_info {
	uint64_t nsze;           /* blocks */
	uint32_t lba_size;       /* bytes */
	uint8_t  lbads, flbas, nlbaf, dlfeat, nsattr;
};

struct nvme {
	struct pci_dev pci;
	uintptr_t regs;          /* BAR0 */
	uint64_t  cap;
	uint32_t  vs;
	uint32_t  dstrd;         /* doorbell stride, bytes */
	uint32_t  mqes;          /* CAP.MQES + 1 */
	uint64_t  ready_tsc;     /* CAP.TO as TSC cycles (assumes <= ~3 GHz, rounded up) */
	struct nvme_opts opts;
	/* identify controller */
	uint16_t  vid, ssvid, oacs, oncs;
	char      sn[21], mn[41], fr[9];
	uint8_t   mdts, vwc, sqes, cqes;
	uint32_t  nn;
	uint32_t  max_xfer;      /* bytes: min(MDTS, NVME_MAX_XFER) */
	struct nvme_ns_info ns1; /* namespace 1 */
	/* queues: [0] admin, [1..nq] I/O */
	int       nq;            /* I/O queue pairs created (highest qid) */
	uint16_t  qsize;         /* I/O queue entries */
	uint16_t  nsqa, ncqa;    /* allocated by Set Features (1-based) */
	struct nvme_queue q[NVME_IOQ_MAX + 1];
	/* shadow doorbells */
	int       shadow;        /* 1 if Doorbell Buffer Config succeeded */
	volatile uint32_t *dbbuf, *eventidx;
	int       init_status;   /* status of the admin command that failed bring-up */
	const char *init_step;   /* which step */
	int       broken;
	int       disabled;      /* inside nvme_reset: no doorbell writes */
	uint64_t  timeout_tsc;
	struct nvme_stats stats;
};

const char *nvme_strerror(int err);        /* NVME_ERR_* -> text */
const char *nvme_status_name(int st);      /* CQE status -> short text */

/* Finds the index-th NVMe controller (class 010802) on bus 0, assigns its
 * BARs, resets and enables it, identifies controller and namespace 1, asks
 * for opts->io_queues queue pairs and creates them (and shadow doorbells
 * when asked and offered).  Returns 0 or NVME_ERR_*. */
int  nvme_init(struct nvme *n, int index, const struct nvme_opts *opts);

/* Controller reset: CC.EN=0, wait CSTS.RDY=0 (bounded by CAP.TO), then the
 * whole bring-up again with the same options.  Commands that were in flight
 * and whose completion was already posted before the reset are completed
 * normally (counted in *completed); the rest get NVME_ERR_ABORTED (counted
 * in *aborted).  Either pointer may be NULL. */
int  nvme_reset(struct nvme *n, int *completed, int *aborted);
/* CC.EN=0 and wait for RDY=0 only (the caller inspects, then nvme_reset). */
int  nvme_disable(struct nvme *n);

/* Normal shutdown: CC.SHN=01, wait until CSTS.SHST reads 10b (complete;
 * the controller has made completed writes durable).  0, NVME_ERR_TIMEOUT
 * or NVME_ERR_READY.  The driver is then marked broken until nvme_reset. */
int  nvme_shutdown(struct nvme *n);

/* Delete I/O queue pair qid: Delete SQ, take the CQEs the controller posted
 * for it (commands in flight end completed or "Aborted - SQ Deletion"; any
 * without a CQE get NVME_ERR_ABORTED), then Delete CQ.  Returns the first
 * non-zero status, or NVME_ERR_INVAL.  The driver forgets the queue either way. */
int  nvme_queue_delete(struct nvme *n, int qid);
/* Create I/O queue pair qid again (n->qsize entries, polled).  Returns 0, the
 * failing status, or NVME_ERR_INVAL (qid in use or above the allocation). */
int  nvme_queue_create(struct nvme *n, int qid);

/* Queue r on queue qid (0 = admin, 1..nq = I/O).  Non-blocking. Returns 0,
 * NVME_ERR_BUSY (poll first), NVME_ERR_INVAL or NVME_ERR_BROKEN. */
int  nvme_submit(struct nvme *n, int qid, struct nvme_req *r);
/* Tell the device about SQEs written with NVME_REQ_NO_RING. */
void nvme_ring(struct nvme *n, int qid);
/* One completed request of queue qid (done=1, status/dw0 set), or NULL. */
struct nvme_req *nvme_poll(struct nvme *n, int qid);
/* Like nvme_poll but spins up to n->timeout_tsc; NULL on timeout (the driver
 * is then marked broken). */
struct nvme_req *nvme_wait(struct nvme *n, int qid);
/* Submit and spin until r completes (others completing meanwhile are marked
 * done).  Returns r's status (>= 0) or NVME_ERR_*. */
int  nvme_do(struct nvme *n, int qid, struct nvme_req *r);
int  nvme_inflight(const struct nvme *n, int qid);

/* Request builders (clear r, then fill it). nlb = block count (1-based). */
void nvme_req_rw(struct nvme_req *r, int write, uint32_t nsid, uint64_t slba,
		 uint32_t nlb, void *buf, uint32_t len);
void nvme_req_flush(struct nvme_req *r, uint32_t nsid);
void nvme_req_write_zeroes(struct nvme_req *r, uint32_t nsid, uint64_t slba,
			   uint32_t nlb, int deac);
/* Dataset Management, deallocate; ranges: nr (1..256) 16-byte entries
 * (struct nvme_dsm_range) in any dword-aligned buffer (PRPs as for data). */
struct nvme_dsm_range {
	uint32_t cattr;
	uint32_t nlb;            /* 1-based */
	uint64_t slba;
};
void nvme_req_dsm(struct nvme_req *r, uint32_t nsid, struct nvme_dsm_range *ranges, int nr);

/* Synchronous helpers on I/O queue 1 (byte length = nlb * lba size of ns1). */
int  nvme_rw(struct nvme *n, int write, uint32_t nsid, uint64_t slba, uint32_t nlb,
	     void *buf, uint32_t flags);
int  nvme_identify(struct nvme *n, uint8_t cns, uint32_t nsid, void *page4k);

#endif
