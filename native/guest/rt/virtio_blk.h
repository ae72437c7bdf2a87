/* Polled virtio 1.x (modern, PCI 1af4:1042) block driver, queue 0 only.
 * No interrupts: MSI-X vectors are set to NO_VECTOR and the used ring is
 * polled.  Several requests may be in flight (vblk_submit + vblk_poll). */
#ifndef RT_VIRTIO_BLK_H
#define RT_VIRTIO_BLK_H

#include <stdint.h>
#include "pci.h"

/* feature bits */
#define VIRTIO_BLK_F_SIZE_MAX        1
#define VIRTIO_BLK_F_SEG_MAX         2
#define VIRTIO_BLK_F_RO              5
#define VIRTIO_BLK_F_BLK_SIZE        6
#define VIRTIO_BLK_F_FLUSH           9
#define VIRTIO_BLK_F_TOPOLOGY        10
#define VIRTIO_BLK_F_MQ              12
#define VIRTIO_BLK_F_DISCARD         13
#define VIRTIO_BLK_F_WRITE_ZEROES    14
#define VIRTIO_RING_F_INDIRECT_DESC  28
#define VIRTIO_RING_F_EVENT_IDX      29
#define VIRTIO_F_VERSION_1           32
#define VBLK_FEAT(b) (1ull << (b))

/* request types / status */
#define VIRTIO_BLK_T_IN            0
#define VIRTIO_BLK_T_OUT           1
#define VIRTIO_BLK_T_FLUSH         4
#define VIRTIO_BLK_T_GET_ID        8
#define VIRTIO_BLK_T_DISCARD       11
#define VIRTIO_BLK_T_WRITE_ZEROES  13
#define VIRTIO_BLK_S_OK      0
#define VIRTIO_BLK_S_IOERR   1
#define VIRTIO_BLK_S_UNSUPP  2
#define VIRTIO_BLK_ID_BYTES  20
#define VIRTIO_BLK_WZ_UNMAP  1u      /* discard/write-zeroes segment flag */

/* driver error codes (negative returns) */
#define VBLK_ERR_NODEV     (-1)   /* no 1af4:1042 on bus 0 */
#define VBLK_ERR_CAPS      (-2)   /* missing virtio capability / BAR */
#define VBLK_ERR_FEATURES  (-3)   /* no VERSION_1, or FEATURES_OK did not stick */
#define VBLK_ERR_QUEUE     (-4)   /* queue 0 unavailable */
#define VBLK_ERR_BUSY      (-5)   /* not enough free descriptors: poll first */
#define VBLK_ERR_INVAL     (-6)   /* bad request (too many segments, ...) */
#define VBLK_ERR_TIMEOUT   (-7)   /* device did not answer in time */
#define VBLK_ERR_BROKEN    (-8)   /* an earlier timeout or NEEDS_RESET */

#define VBLK_QUEUE_MAX     128    /* ring entries we allocate */
#define VBLK_MAX_SEGS      32     /* data segments per request */

/* A discard / write-zeroes segment (the data of those requests). */
struct virtio_blk_dwz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
#define VRING_DESC_F_NEXT      1
#define VRING_DESC_F_WRITE     2
#define VRING_DESC_F_INDIRECT  4

/* request flags */
#define VBLK_REQ_INDIRECT   0x1   /* use an indirect table (if negotiated, else direct) */
#define VBLK_REQ_SPLIT_HDR  0x2   /* header over two descriptors (8 + 8 bytes) */
#define VBLK_REQ_NO_KICK    0x4   /* publish only; call vblk_kick() later */

struct vblk_seg {
	void    *addr;                /* physical = virtual */
	uint32_t len;
};

struct vblk_req {
	/* --- filled by the caller --- */
	uint32_t type;
	uint64_t sector;
	int      nseg;
	struct vblk_seg seg[VBLK_MAX_SEGS];
	uint32_t flags;
	void    *cookie;              /* free for the caller */
	/* --- owned by the driver --- */
	struct {
		uint32_t type;
		uint32_t reserved;
		uint64_t sector;
	} hdr;
	volatile uint8_t status;      /* device-written status byte */
	volatile uint8_t done;        /* 1 once completed (status valid) */
	uint16_t head;                /* first ring descriptor */
	uint16_t ndesc;               /* ring descriptors used */
	uint32_t used_len;            /* bytes the device reported written */
	uint64_t submit_tsc, complete_tsc;
	struct vring_desc ind[VBLK_MAX_SEGS + 3] __attribute__((aligned(16)));
};

struct vblk_stats {
	uint64_t submitted, completed, kicks, kicks_suppressed;
};

struct vblk {
	struct pci_dev pci;
	uintptr_t common, notify_base, isr, devcfg;
	uint32_t  notify_mult;
	uintptr_t notify_addr;              /* queue 0 doorbell */
	uint64_t  dev_features, features;   /* offered / negotiated */
	uint16_t  num_queues;               /* common cfg num_queues */
	uint16_t  qsize;
	/* ring (static memory, see virtio_blk.c) */
	volatile struct vring_desc *desc;
	volatile uint16_t *avail;           /* flags, idx, ring[qsize], used_event */
	volatile uint8_t  *used;            /* flags, idx, {id,len}[qsize], avail_event */
	uint16_t avail_idx;                 /* our shadow of avail->idx */
	uint16_t kicked_idx;                /* avail idx at the last kick decision */
	uint16_t last_used;
	uint16_t free_head, num_free;
	struct vblk_req *inflight[VBLK_QUEUE_MAX];  /* by head descriptor */
	int      broken;
	uint64_t timeout_tsc;               /* bounded spin (TSC cycles) */
	struct vblk_stats stats;
	/* config (virtio_blk_config), read after FEATURES_OK */
	uint64_t capacity;                  /* 512-byte sectors */
	uint32_t blk_size;                  /* 512 if BLK_SIZE not offered */
	uint32_t size_max, seg_max;
	uint8_t  physical_block_exp, alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint16_t cfg_num_queues;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t  write_zeroes_may_unmap;
	uint8_t  read_only;
};

/* Finds the index-th 1af4:1042 on bus 0, sets up its BARs and queue 0,
 * negotiating VERSION_1 and the features listed in virtio_blk.c that the
 * device offers, minus those in `refuse` (VBLK_FEAT() bits).
 * Returns 0 or a VBLK_ERR_* code. */
int  vblk_init(struct vblk *b, int index, uint64_t refuse);
int  vblk_has(const struct vblk *b, int feature_bit);   /* negotiated? */
const char *vblk_strerror(int err);                     /* VBLK_ERR_* -> text */

/* Queues r (non-blocking).  Returns 0, VBLK_ERR_BUSY (no room: poll),
 * VBLK_ERR_INVAL or VBLK_ERR_BROKEN.  Unless VBLK_REQ_NO_KICK, notifies the
 * device when EVENT_IDX (or its absence) says it wants a kick. */
int  vblk_submit(struct vblk *b, struct vblk_req *r);
void vblk_kick(struct vblk *b);
/* One completed request (done=1, status, used_len set), or NULL. Non-blocking. */
struct vblk_req *vblk_poll(struct vblk *b);
/* Like vblk_poll but spins up to b->timeout_tsc; NULL on timeout (the
 * driver is then marked broken). */
struct vblk_req *vblk_wait(struct vblk *b);
/* Submit r and spin until it completes (other completions are reaped and
 * marked done).  Returns the status byte (>= 0) or a VBLK_ERR_* code. */
int  vblk_do(struct vblk *b, struct vblk_req *r);
/* Requests still owned by the device. */
int  vblk_inflight(const struct vblk *b);

/* Synchronous helpers (one data segment each).  Return status or error. */
int  vblk_rw(struct vblk *b, int write, uint64_t sector, void *buf, uint32_t len);
int  vblk_flush(struct vblk *b);
int  vblk_get_id(struct vblk *b, char id[VIRTIO_BLK_ID_BYTES + 1]);
int  vblk_dwz(struct vblk *b, uint32_t type, uint64_t sector, uint32_t nsect, uint32_t flags);

#endif
