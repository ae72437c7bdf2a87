/* Polled virtio 1.x modern PCI block driver.  See virtio_blk.h. */
#include "rt.h"
#include "virtio_blk.h"

/* virtio_pci_cap cfg_type */
#define VIRTIO_PCI_CAP_COMMON  1
#define VIRTIO_PCI_CAP_NOTIFY  2
#define VIRTIO_PCI_CAP_ISR     3
#define VIRTIO_PCI_CAP_DEVICE  4

/* virtio_pci_common_cfg offsets */
#define CC_DFSELECT    0x00
#define CC_DF          0x04
#define CC_GFSELECT    0x08
#define CC_GF          0x0C
#define CC_MSIX        0x10
#define CC_NUMQ        0x12
#define CC_STATUS      0x14
#define CC_CFGGEN      0x15
#define CC_Q_SELECT    0x16
#define CC_Q_SIZE      0x18
#define CC_Q_MSIX      0x1A
#define CC_Q_ENABLE    0x1C
#define CC_Q_NOFF      0x1E
#define CC_Q_DESCLO    0x20
#define CC_Q_DESCHI    0x24
#define CC_Q_AVAILLO   0x28
#define CC_Q_AVAILHI   0x2C
#define CC_Q_USEDLO    0x30
#define CC_Q_USEDHI    0x34

#define S_ACKNOWLEDGE  1
#define S_DRIVER       2
#define S_DRIVER_OK    4
#define S_FEATURES_OK  8
#define S_NEEDS_RESET  64
#define S_FAILED       128

#define NO_VECTOR      0xFFFF
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY     1

#define DEFAULT_TIMEOUT_TSC 10000000000ull   /* ~3-5 s on current CPUs */

/* Features we take when offered (VERSION_1 is mandatory). */
static const uint64_t wanted_features =
	VBLK_FEAT(VIRTIO_F_VERSION_1) | VBLK_FEAT(VIRTIO_RING_F_EVENT_IDX) |
	VBLK_FEAT(VIRTIO_RING_F_INDIRECT_DESC) | VBLK_FEAT(VIRTIO_BLK_F_RO) |
	VBLK_FEAT(VIRTIO_BLK_F_BLK_SIZE) | VBLK_FEAT(VIRTIO_BLK_F_FLUSH) |
	VBLK_FEAT(VIRTIO_BLK_F_TOPOLOGY) | VBLK_FEAT(VIRTIO_BLK_F_SEG_MAX) |
	VBLK_FEAT(VIRTIO_BLK_F_SIZE_MAX) | VBLK_FEAT(VIRTIO_BLK_F_DISCARD) |
	VBLK_FEAT(VIRTIO_BLK_F_WRITE_ZEROES) | VBLK_FEAT(VIRTIO_BLK_F_MQ);

/* Ring memory: one device instance, each part on its own page. */
static struct vring_desc ring_desc[VBLK_QUEUE_MAX] __attribute__((aligned(4096)));
static uint16_t ring_avail[3 + VBLK_QUEUE_MAX] __attribute__((aligned(4096)));
static uint8_t  ring_used[6 + 8 * VBLK_QUEUE_MAX] __attribute__((aligned(4096)));

/* ---------------------------------------------------------------- */

static uint8_t  cc_r8 (struct vblk *b, unsigned o) { return mmio_read8 (b->common + o); }
static uint16_t cc_r16(struct vblk *b, unsigned o) { return mmio_read16(b->common + o); }
static uint32_t cc_r32(struct vblk *b, unsigned o) { return mmio_read32(b->common + o); }
static void cc_w8 (struct vblk *b, unsigned o, uint8_t v)  { mmio_write8 (b->common + o, v); }
static void cc_w16(struct vblk *b, unsigned o, uint16_t v) { mmio_write16(b->common + o, v); }
static void cc_w32(struct vblk *b, unsigned o, uint32_t v) { mmio_write32(b->common + o, v); }

static uint8_t  dc_r8 (struct vblk *b, unsigned o) { return mmio_read8 (b->devcfg + o); }
static uint16_t dc_r16(struct vblk *b, unsigned o) { return mmio_read16(b->devcfg + o); }
static uint32_t dc_r32(struct vblk *b, unsigned o) { return mmio_read32(b->devcfg + o); }

const char *vblk_strerror(int err)
{
	switch (err) {
	case 0:                 return "ok";
	case VBLK_ERR_NODEV:    return "no virtio-blk 1af4:1042 on bus 0";
	case VBLK_ERR_CAPS:     return "virtio capabilities or BARs unusable";
	case VBLK_ERR_FEATURES: return "feature negotiation failed (VERSION_1 / FEATURES_OK)";
	case VBLK_ERR_QUEUE:    return "queue 0 unavailable";
	case VBLK_ERR_BUSY:     return "ring full";
	case VBLK_ERR_INVAL:    return "invalid request";
	case VBLK_ERR_TIMEOUT:  return "timeout";
	case VBLK_ERR_BROKEN:   return "device broken (NEEDS_RESET/FAILED or earlier error)";
	default:                return "unknown error";
	}
}

int vblk_has(const struct vblk *b, int bit)
{
	return (b->features >> bit) & 1;
}

static volatile uint16_t *used_idx_p(struct vblk *b)
{
	return (volatile uint16_t *)(b->used + 2);
}

static volatile uint16_t *avail_event_p(struct vblk *b)
{
	return (volatile uint16_t *)(b->used + 4 + 8 * b->qsize);
}

static void read_config(struct vblk *b, uint32_t cfg_len)
{
	uint8_t gen;
	do {
		gen = cc_r8(b, CC_CFGGEN);
		b->capacity = dc_r32(b, 0) | ((uint64_t)dc_r32(b, 4) << 32);
		b->size_max = vblk_has(b, VIRTIO_BLK_F_SIZE_MAX) ? dc_r32(b, 0x08) : 0;
		b->seg_max = vblk_has(b, VIRTIO_BLK_F_SEG_MAX) ? dc_r32(b, 0x0C) : 0;
		b->blk_size = vblk_has(b, VIRTIO_BLK_F_BLK_SIZE) ? dc_r32(b, 0x14) : 512;
		if (vblk_has(b, VIRTIO_BLK_F_TOPOLOGY)) {
			b->physical_block_exp = dc_r8(b, 0x18);
			b->alignment_offset = dc_r8(b, 0x19);
			b->min_io_size = dc_r16(b, 0x1A);
			b->opt_io_size = dc_r32(b, 0x1C);
		}
		if (vblk_has(b, VIRTIO_BLK_F_MQ))
			b->cfg_num_queues = dc_r16(b, 0x22);
		if (vblk_has(b, VIRTIO_BLK_F_DISCARD) && cfg_len >= 0x30) {
			b->max_discard_sectors = dc_r32(b, 0x24);
			b->max_discard_seg = dc_r32(b, 0x28);
			b->discard_sector_alignment = dc_r32(b, 0x2C);
		}
		if (vblk_has(b, VIRTIO_BLK_F_WRITE_ZEROES) && cfg_len >= 0x39) {
			b->max_write_zeroes_sectors = dc_r32(b, 0x30);
			b->max_write_zeroes_seg = dc_r32(b, 0x34);
			b->write_zeroes_may_unmap = dc_r8(b, 0x38);
		}
	} while (gen != cc_r8(b, CC_CFGGEN));
	if (b->blk_size < 512)
		b->blk_size = 512;
	b->read_only = (uint8_t)vblk_has(b, VIRTIO_BLK_F_RO);
}

int vblk_init(struct vblk *b, int index, uint64_t refuse)
{
	uint32_t devcfg_len = 0;
	int have_common = 0, have_notify = 0, have_isr = 0, have_dev = 0;

	memset(b, 0, sizeof(*b));
	b->timeout_tsc = cmdline_get_ulong("blk_timeout_tsc", DEFAULT_TIMEOUT_TSC);
	if (pci_find(0x1AF4, 0x1042, index, &b->pci) != 0)
		return VBLK_ERR_NODEV;
	if (pci_setup_device(&b->pci) != 0)
		return VBLK_ERR_CAPS;

	/* virtio vendor capabilities: the first usable one of each type wins */
	for (uint8_t off = pci_find_cap(&b->pci, PCI_CAP_ID_VNDR, 0); off;
	     off = pci_find_cap(&b->pci, PCI_CAP_ID_VNDR, off)) {
		uint8_t type = pci_cfg_read8(&b->pci, (uint16_t)(off + 3));
		uint8_t bar = pci_cfg_read8(&b->pci, (uint16_t)(off + 4));
		uint32_t boff = pci_cfg_read32(&b->pci, (uint16_t)(off + 8));
		uint32_t blen = pci_cfg_read32(&b->pci, (uint16_t)(off + 12));
		if (type < 1 || type > 4 || bar > 5)
			continue;
		const struct pci_bar *pb = &b->pci.bar[bar];
		if (!pb->size || pb->is_io || !pb->addr || (uint64_t)boff + blen > pb->size)
			continue;
		uintptr_t a = (uintptr_t)(pb->addr + boff);
		if (type == VIRTIO_PCI_CAP_COMMON && !have_common) {
			b->common = a;
			have_common = 1;
		} else if (type == VIRTIO_PCI_CAP_NOTIFY && !have_notify) {
			b->notify_base = a;
			b->notify_mult = pci_cfg_read32(&b->pci, (uint16_t)(off + 16));
			have_notify = 1;
		} else if (type == VIRTIO_PCI_CAP_ISR && !have_isr) {
			b->isr = a;
			have_isr = 1;
		} else if (type == VIRTIO_PCI_CAP_DEVICE && !have_dev) {
			b->devcfg = a;
			devcfg_len = blen;
			have_dev = 1;
		}
	}
	if (!have_common || !have_notify || !have_dev)
		return VBLK_ERR_CAPS;

	/* reset, and wait for the device to show 0 */
	cc_w8(b, CC_STATUS, 0);
	uint64_t t0 = rdtsc();
	while (cc_r8(b, CC_STATUS) != 0) {
		if (rdtsc() - t0 > b->timeout_tsc)
			return VBLK_ERR_TIMEOUT;
		cpu_relax();
	}
	cc_w8(b, CC_STATUS, S_ACKNOWLEDGE);
	cc_w8(b, CC_STATUS, S_ACKNOWLEDGE | S_DRIVER);

	cc_w32(b, CC_DFSELECT, 0);
	uint64_t f = cc_r32(b, CC_DF);
	cc_w32(b, CC_DFSELECT, 1);
	f |= (uint64_t)cc_r32(b, CC_DF) << 32;
	b->dev_features = f;
	if (!(f & VBLK_FEAT(VIRTIO_F_VERSION_1))) {
		cc_w8(b, CC_STATUS, S_FAILED);
		return VBLK_ERR_FEATURES;
	}
	b->features = f & wanted_features & ~(refuse & ~VBLK_FEAT(VIRTIO_F_VERSION_1));
	cc_w32(b, CC_GFSELECT, 0);
	cc_w32(b, CC_GF, (uint32_t)b->features);
	cc_w32(b, CC_GFSELECT, 1);
	cc_w32(b, CC_GF, (uint32_t)(b->features >> 32));
	cc_w8(b, CC_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	if (!(cc_r8(b, CC_STATUS) & S_FEATURES_OK)) {
		cc_w8(b, CC_STATUS, S_FAILED);
		return VBLK_ERR_FEATURES;
	}
	b->num_queues = cc_r16(b, CC_NUMQ);
	read_config(b, devcfg_len);

	/* queue 0: split ring in static memory */
	cc_w16(b, CC_MSIX, NO_VECTOR);
	cc_w16(b, CC_Q_SELECT, 0);
	uint16_t qmax = cc_r16(b, CC_Q_SIZE);
	if (qmax == 0 || cc_r16(b, CC_Q_ENABLE) != 0) {
		cc_w8(b, CC_STATUS, S_FAILED);
		return VBLK_ERR_QUEUE;
	}
	uint16_t qs = qmax < VBLK_QUEUE_MAX ? qmax : VBLK_QUEUE_MAX;
	while (qs & (qs - 1))              /* split rings need a power of 2 */
		qs &= (uint16_t)(qs - 1);
	b->qsize = qs;
	b->desc = ring_desc;
	b->avail = ring_avail;
	b->used = ring_used;
	memset(ring_desc, 0, sizeof(ring_desc));
	memset(ring_avail, 0, sizeof(ring_avail));
	memset(ring_used, 0, sizeof(ring_used));
	for (uint16_t i = 0; i < qs; i++)
		ring_desc[i].next = (uint16_t)(i + 1);
	b->free_head = 0;
	b->num_free = qs;
	if (!vblk_has(b, VIRTIO_RING_F_EVENT_IDX))
		ring_avail[0] = VRING_AVAIL_F_NO_INTERRUPT;   /* we poll */

	cc_w16(b, CC_Q_SIZE, qs);
	cc_w16(b, CC_Q_MSIX, NO_VECTOR);
	cc_w32(b, CC_Q_DESCLO, (uint32_t)(uintptr_t)ring_desc);
	cc_w32(b, CC_Q_DESCHI, (uint32_t)((uint64_t)(uintptr_t)ring_desc >> 32));
	cc_w32(b, CC_Q_AVAILLO, (uint32_t)(uintptr_t)ring_avail);
	cc_w32(b, CC_Q_AVAILHI, (uint32_t)((uint64_t)(uintptr_t)ring_avail >> 32));
	cc_w32(b, CC_Q_USEDLO, (uint32_t)(uintptr_t)ring_used);
	cc_w32(b, CC_Q_USEDHI, (uint32_t)((uint64_t)(uintptr_t)ring_used >> 32));
	uint16_t noff = cc_r16(b, CC_Q_NOFF);
	b->notify_addr = b->notify_base + (uintptr_t)noff * b->notify_mult;
	mb();
	cc_w16(b, CC_Q_ENABLE, 1);
	cc_w8(b, CC_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	if (cc_r8(b, CC_STATUS) & (S_NEEDS_RESET | S_FAILED))
		return VBLK_ERR_BROKEN;
	return 0;
}

/* ---------------------------------------------------------------- */
/* requests                                                          */

static int data_is_writable(uint32_t type)
{
	return type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
}

static void fill(volatile struct vring_desc *d, const void *addr, uint32_t len, uint16_t flags)
{
	d->addr = (uint64_t)(uintptr_t)addr;
	d->len = len;
	d->flags = flags;
}

int vblk_submit(struct vblk *b, struct vblk_req *r)
{
	if (b->broken)
		return VBLK_ERR_BROKEN;
	if (r->nseg < 0 || r->nseg > VBLK_MAX_SEGS)
		return VBLK_ERR_INVAL;
	if (vblk_has(b, VIRTIO_BLK_F_SEG_MAX) && b->seg_max && (uint32_t)r->nseg > b->seg_max)
		return VBLK_ERR_INVAL;

	int indirect = (r->flags & VBLK_REQ_INDIRECT) && vblk_has(b, VIRTIO_RING_F_INDIRECT_DESC);
	int split = (r->flags & VBLK_REQ_SPLIT_HDR) != 0;
	uint16_t dflag = data_is_writable(r->type) ? VRING_DESC_F_WRITE : 0;
	int n = 1 + split + r->nseg + 1;
	int nring = indirect ? 1 : n;

	if (nring > b->qsize)
		return VBLK_ERR_INVAL;
	if (nring > b->num_free)
		return VBLK_ERR_BUSY;

	r->hdr.type = r->type;
	r->hdr.reserved = 0;
	r->hdr.sector = r->sector;
	r->status = 0xFF;
	r->done = 0;
	r->used_len = 0;

	uint16_t head = b->free_head;
	if (indirect) {
		struct vring_desc *t = r->ind;
		int i = 0;
		if (split) {
			t[i].addr = (uint64_t)(uintptr_t)&r->hdr; t[i].len = 8;
			t[i].flags = VRING_DESC_F_NEXT; t[i].next = (uint16_t)(i + 1); i++;
			t[i].addr = (uint64_t)(uintptr_t)&r->hdr + 8; t[i].len = 8;
		} else {
			t[i].addr = (uint64_t)(uintptr_t)&r->hdr; t[i].len = 16;
		}
		t[i].flags = VRING_DESC_F_NEXT; t[i].next = (uint16_t)(i + 1); i++;
		for (int s = 0; s < r->nseg; s++, i++) {
			t[i].addr = (uint64_t)(uintptr_t)r->seg[s].addr;
			t[i].len = r->seg[s].len;
			t[i].flags = (uint16_t)(dflag | VRING_DESC_F_NEXT);
			t[i].next = (uint16_t)(i + 1);
		}
		t[i].addr = (uint64_t)(uintptr_t)&r->status; t[i].len = 1;
		t[i].flags = VRING_DESC_F_WRITE; t[i].next = 0;
		fill(&b->desc[head], t, (uint32_t)(n * sizeof(struct vring_desc)), VRING_DESC_F_INDIRECT);
		b->free_head = b->desc[head].next;
	} else {
		uint16_t d = head;
		int i = 0;
		if (split) {
			fill(&b->desc[d], &r->hdr, 8, VRING_DESC_F_NEXT);
			d = b->desc[d].next; i++;
			fill(&b->desc[d], (const uint8_t *)&r->hdr + 8, 8, VRING_DESC_F_NEXT);
		} else {
			fill(&b->desc[d], &r->hdr, 16, VRING_DESC_F_NEXT);
		}
		d = b->desc[d].next; i++;
		for (int s = 0; s < r->nseg; s++, i++) {
			fill(&b->desc[d], r->seg[s].addr, r->seg[s].len, (uint16_t)(dflag | VRING_DESC_F_NEXT));
			d = b->desc[d].next;
		}
		fill(&b->desc[d], (const void *)&r->status, 1, VRING_DESC_F_WRITE);
		b->free_head = b->desc[d].next;
	}
	b->num_free = (uint16_t)(b->num_free - nring);
	r->head = head;
	r->ndesc = (uint16_t)nring;
	b->inflight[head] = r;

	b->avail[2 + (b->avail_idx & (b->qsize - 1))] = head;
	barrier();                  /* ring entry (and descriptors) before idx; x86 keeps store order */
	b->avail_idx++;
	b->avail[1] = b->avail_idx;
	b->stats.submitted++;
	r->submit_tsc = rdtsc();
	if (!(r->flags & VBLK_REQ_NO_KICK))
		vblk_kick(b);
	return 0;
}

void vblk_kick(struct vblk *b)
{
	uint16_t old = b->kicked_idx, new = b->avail_idx;
	int need;

	if (old == new)
		return;
	mb();                       /* avail idx visible before we read the device's hints */
	if (vblk_has(b, VIRTIO_RING_F_EVENT_IDX)) {
		uint16_t ev = *avail_event_p(b);
		need = (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
	} else {
		need = !(*(volatile uint16_t *)b->used & VRING_USED_F_NO_NOTIFY);
	}
	b->kicked_idx = new;
	if (need) {
		mmio_write16(b->notify_addr, 0);
		b->stats.kicks++;
	} else {
		b->stats.kicks_suppressed++;
	}
}

struct vblk_req *vblk_poll(struct vblk *b)
{
	if (b->broken)
		return 0;
	uint16_t idx = *used_idx_p(b);
	if (idx == b->last_used)
		return 0;
	barrier();                  /* idx before the element; x86 keeps load order */
	volatile uint32_t *e = (volatile uint32_t *)(b->used + 4 + 8 * (b->last_used & (b->qsize - 1)));
	uint32_t id = e[0], len = e[1];
	b->last_used++;
	if (vblk_has(b, VIRTIO_RING_F_EVENT_IDX))
		b->avail[2 + b->qsize] = b->last_used;     /* used_event */

	if (id >= b->qsize || !b->inflight[id]) {
		printf("virtio-blk: bogus used id %u\n", id);
		b->broken = 1;
		return 0;
	}
	struct vblk_req *r = b->inflight[id];
	b->inflight[id] = 0;
	uint16_t last = (uint16_t)id;
	for (int i = 1; i < r->ndesc; i++)
		last = b->desc[last].next;
	b->desc[last].next = b->free_head;
	b->free_head = (uint16_t)id;
	b->num_free = (uint16_t)(b->num_free + r->ndesc);
	r->used_len = len;
	r->complete_tsc = rdtsc();
	barrier();
	r->done = 1;
	b->stats.completed++;
	return r;
}

struct vblk_req *vblk_wait(struct vblk *b)
{
	uint64_t t0 = rdtsc();
	for (;;) {
		struct vblk_req *r = vblk_poll(b);
		if (r || b->broken)
			return r;
		if (rdtsc() - t0 > b->timeout_tsc) {
			printf("virtio-blk: timeout, %d in flight, device status 0x%x, used idx %u, avail idx %u\n",
			       vblk_inflight(b), cc_r8(b, CC_STATUS), *used_idx_p(b), b->avail_idx);
			b->broken = 1;
			return 0;
		}
		cpu_relax();
	}
}

int vblk_inflight(const struct vblk *b)
{
	return (uint16_t)(b->avail_idx - b->last_used);
}

int vblk_do(struct vblk *b, struct vblk_req *r)
{
	int rc;
	r->flags &= ~(uint32_t)VBLK_REQ_NO_KICK;
	while ((rc = vblk_submit(b, r)) == VBLK_ERR_BUSY)
		if (!vblk_wait(b))
			return VBLK_ERR_TIMEOUT;
	if (rc)
		return rc;
	while (!r->done)
		if (!vblk_wait(b))
			return b->broken ? VBLK_ERR_TIMEOUT : VBLK_ERR_BROKEN;
	return r->status;
}

/* ---------------------------------------------------------------- */
/* synchronous helpers                                               */

int vblk_rw(struct vblk *b, int write, uint64_t sector, void *buf, uint32_t len)
{
	struct vblk_req r;
	memset(&r, 0, sizeof(r));
	r.type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	r.sector = sector;
	r.nseg = len ? 1 : 0;
	r.seg[0].addr = buf;
	r.seg[0].len = len;
	return vblk_do(b, &r);
}

int vblk_flush(struct vblk *b)
{
	struct vblk_req r;
	memset(&r, 0, sizeof(r));
	r.type = VIRTIO_BLK_T_FLUSH;
	return vblk_do(b, &r);
}

int vblk_get_id(struct vblk *b, char id[VIRTIO_BLK_ID_BYTES + 1])
{
	struct vblk_req r;
	memset(&r, 0, sizeof(r));
	memset(id, 0, VIRTIO_BLK_ID_BYTES + 1);
	r.type = VIRTIO_BLK_T_GET_ID;
	r.nseg = 1;
	r.seg[0].addr = id;
	r.seg[0].len = VIRTIO_BLK_ID_BYTES;
	return vblk_do(b, &r);
}

int vblk_dwz(struct vblk *b, uint32_t type, uint64_t sector, uint32_t nsect, uint32_t flags)
{
	struct vblk_req r;
	struct virtio_blk_dwz_seg seg = { sector, nsect, flags };
	memset(&r, 0, sizeof(r));
	r.type = type;
	r.nseg = 1;
	r.seg[0].addr = &seg;
	r.seg[0].len = sizeof(seg);
	return vblk_do(b, &r);
}
