/* virtio-blk self-test.  See README.md ("blk-selftest") for the output
 * format, the data pattern and the command-line knobs. */
#include "rt.h"
#include "pci.h"
#include "virtio_blk.h"
#include "disk_model.h"

#define MiB (1024ull * 1024)
#define BUFSZ (1024 * 1024)

static struct vblk dev;
static struct vblk *B = &dev;
static uint8_t wbuf[BUFSZ] __attribute__((aligned(4096)));
static uint8_t rbuf[BUFSZ] __attribute__((aligned(4096)));
static uint8_t pool[BUFSZ] __attribute__((aligned(4096)));   /* in-flight buffers */
static struct vblk_req reqs[64];

static int npass, nfail, nskip;
static uint64_t disk_bytes;
static uint32_t bs;           /* logical block size (bytes) */
static int discard_zeroes, use_indirect;

/* ---------------------------------------------------------------- */
/* reporting                                                         */

static void ok(const char *name) { printf("ok %s\n", name); npass++; }
static void skip(const char *name, const char *why) { printf("skip %s: %s\n", name, why); nskip++; }
__attribute__((format(printf, 2, 3)))
static void fail(const char *name, const char *fmt, ...)
{
	va_list ap;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	nfail++;
}

static const char *st_name(int st)
{
	switch (st) {
	case VIRTIO_BLK_S_OK: return "OK";
	case VIRTIO_BLK_S_IOERR: return "IOERR";
	case VIRTIO_BLK_S_UNSUPP: return "UNSUPP";
	case VBLK_ERR_TIMEOUT: return "driver timeout";
	case VBLK_ERR_BROKEN: return "driver broken";
	case VBLK_ERR_INVAL: return "driver: invalid request";
	case VBLK_ERR_BUSY: return "driver: ring full";
	default: return "unknown status";
	}
}

/* ---------------------------------------------------------------- */
/* I/O helpers                                                       */

static uint32_t seg_limit(void)
{
	uint32_t s = B->size_max ? B->size_max : BUFSZ;
	s &= ~(bs - 1);
	return s ? s : bs;
}

static int segs_limit(void)
{
	int n = VBLK_MAX_SEGS;
	if (B->seg_max && B->seg_max < (uint32_t)n)
		n = (int)B->seg_max;
	return n ? n : 1;
}

/* Reads/writes [off, off+len) through buf, split to respect size_max/seg_max. */
static int io(int write, uint64_t off, void *buf, uint64_t len, uint32_t flags)
{
	uint8_t *p = buf;
	uint32_t sl = seg_limit();
	while (len) {
		struct vblk_req *r = &reqs[0];
		memset(r, 0, sizeof(*r));
		r->type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
		r->sector = off / 512;
		r->flags = flags;
		uint64_t done = 0;
		while (len > done && r->nseg < segs_limit()) {
			uint64_t n = len - done < sl ? len - done : sl;
			r->seg[r->nseg].addr = p + done;
			r->seg[r->nseg].len = (uint32_t)n;
			r->nseg++;
			done += n;
		}
		int st = vblk_do(B, r);
		if (st != VIRTIO_BLK_S_OK)
			return st;
		p += done;
		off += done;
		len -= done;
	}
	return 0;
}

/* Write pattern k over [off, off+len) (any length, in BUFSZ pieces). */
static int write_pat(uint64_t off, uint64_t len, int k)
{
	while (len) {
		uint64_t n = len < BUFSZ ? len : BUFSZ;
		dm_fill(wbuf, off, n, k);
		int st = io(1, off, wbuf, n, 0);
		if (st)
			return st;
		dm_set(off, n, k);
		off += n;
		len -= n;
	}
	return 0;
}

/* Read [off, off+len) and compare with the model.  Returns 1 if good. */
static int read_check(const char *name, uint64_t off, uint64_t len)
{
	char why[160];
	while (len) {
		uint64_t n = len < BUFSZ ? len : BUFSZ;
		memset(rbuf, 0x5A, n);
		int st = io(0, off, rbuf, n, 0);
		if (st) {
			fail(name, "read of %llu+%llu: status %d (%s)", (unsigned long long)off,
			     (unsigned long long)n, st, st_name(st));
			return 0;
		}
		if (!dm_check(off, rbuf, n, why, sizeof(why))) {
			fail(name, "%s", why);
			return 0;
		}
		off += n;
		len -= n;
	}
	return 1;
}

static uint64_t rup(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
static uint64_t rdown(uint64_t v, uint64_t a) { return v / a * a; }

/* ---------------------------------------------------------------- */
/* checks                                                            */

static void check_get_id(void)
{
	char id[VIRTIO_BLK_ID_BYTES + 1];
	int st = vblk_get_id(B, id);
	if (st != VIRTIO_BLK_S_OK) {
		fail("get_id", "status %d (%s)", st, st_name(st));
		return;
	}
	for (int i = 0; id[i]; i++) {
		if (id[i] < 0x20 || id[i] > 0x7e) {
			fail("get_id", "non-printable byte 0x%02x at %d", (uint8_t)id[i], i);
			return;
		}
	}
	printf("info: id \"%s\"\n", id);
	char want[VIRTIO_BLK_ID_BYTES + 1];
	if (cmdline_get("expect_id", want, sizeof(want)) >= 0 && strcmp(want, id) != 0) {
		fail("get_id", "got \"%s\", expected \"%s\"", id, want);
		return;
	}
	ok("get_id");
}

/* k = 1: many offsets and sizes, one request each (split only by size_max). */
static void check_write_read(void)
{
	static const uint32_t plan[][2] = {
		{ 0, 512 }, { 512, 512 }, { 1536, 1024 }, { 4096, 4096 }, { 8704, 2560 },
		{ 32768, 65536 }, { 102400, 512 }, { 131072, 262144 }, { 1048576 - 512, 1024 },
		{ 2097152 + 3584, 12288 }, { 2621440, 524288 }, { 3145728 + 512, 1048576 - 512 },
	};
	const char *name = "write_read";
	char why[160];
	int k = 1;

	for (unsigned i = 0; i < sizeof(plan) / sizeof(plan[0]) + 2; i++) {
		uint64_t off, len;
		if (i < sizeof(plan) / sizeof(plan[0])) {
			off = rdown(plan[i][0], bs);
			len = rup(plan[i][1], bs);
		} else if (i == sizeof(plan) / sizeof(plan[0])) {
			off = disk_bytes - 8 * (uint64_t)bs;        /* tail of the disk */
			len = 8 * (uint64_t)bs;
		} else {
			off = disk_bytes - bs;                      /* very last block */
			len = bs;
		}
		dm_fill(wbuf, off, len, k);
		int st = io(1, off, wbuf, len, 0);
		if (st) {
			fail(name, "write %llu+%llu: status %d (%s)", (unsigned long long)off,
			     (unsigned long long)len, st, st_name(st));
			return;
		}
		dm_set(off, len, k);
		memset(rbuf, 0x5A, len);
		st = io(0, off, rbuf, len, 0);
		if (st) {
			fail(name, "read %llu+%llu: status %d (%s)", (unsigned long long)off,
			     (unsigned long long)len, st, st_name(st));
			return;
		}
		if (!dm_check(off, rbuf, len, why, sizeof(why))) {
			fail(name, "%s", why);
			return;
		}
	}
	ok(name);
}

/* One request whose data is spread over the given segment sizes, placed
 * at scattered (non-contiguous) buffer addresses; then read back with
 * another split and verify. */
static int multi_seg_rw(const char *name, uint64_t off, const uint32_t *wsz, int wn,
			const uint32_t *rsz, int rn, uint32_t wflags, uint32_t rflags, int k)
{
	struct vblk_req *r = &reqs[0];
	uint64_t total = 0, gap = 0, o;
	char why[160];
	int st;

	memset(r, 0, sizeof(*r));
	r->type = VIRTIO_BLK_T_OUT;
	r->sector = off / 512;
	r->flags = wflags;
	o = off;
	for (int i = 0; i < wn; i++) {
		uint8_t *p = wbuf + total + gap;
		dm_fill(p, o, wsz[i], k);
		r->seg[i].addr = p;
		r->seg[i].len = wsz[i];
		total += wsz[i];
		o += wsz[i];
		gap += 64 + 8 * (uint64_t)i;          /* odd buffer placement */
	}
	r->nseg = wn;
	st = vblk_do(B, r);
	if (st != VIRTIO_BLK_S_OK) {
		fail(name, "write of %d segments: status %d (%s)", wn, st, st_name(st));
		return 0;
	}
	dm_set(off, total, k);

	memset(rbuf, 0x5A, BUFSZ);
	memset(r, 0, sizeof(*r));
	r->type = VIRTIO_BLK_T_IN;
	r->sector = off / 512;
	r->flags = rflags;
	uint64_t rt = 0;
	gap = 0;
	for (int i = 0; i < rn; i++) {
		r->seg[i].addr = rbuf + rt + gap;
		r->seg[i].len = rsz[i];
		rt += rsz[i];
		gap += 40 + 8 * (uint64_t)i;
	}
	r->nseg = rn;
	st = vblk_do(B, r);
	if (st != VIRTIO_BLK_S_OK) {
		fail(name, "read of %d segments: status %d (%s)", rn, st, st_name(st));
		return 0;
	}
	if (r->used_len != rt + 1) {
		fail(name, "used len %u, expected %llu", r->used_len, (unsigned long long)rt + 1);
		return 0;
	}
	/* gather the scattered read segments into wbuf to compare */
	gap = 0;
	uint64_t c = 0;
	for (int i = 0; i < rn; i++) {
		memcpy(wbuf + c, rbuf + c + gap, rsz[i]);
		c += rsz[i];
		gap += 40 + 8 * (uint64_t)i;
	}
	if (!dm_check(off, wbuf, rt, why, sizeof(why))) {
		fail(name, "%s", why);
		return 0;
	}
	return 1;
}

static void check_multi_desc(void)
{
	uint64_t base = 4 * MiB;
	if (bs == 512) {
		static const uint32_t w[] = { 512, 1536, 4096, 1024, 8192, 512, 2560 };   /* 18432 */
		static const uint32_t r[] = { 4096, 4096, 4096, 512, 5632 };
		if (multi_seg_rw("multi_desc", base, w, 7, r, 5, 0, 0, 2))
			ok("multi_desc");
	} else {
		uint32_t w[4] = { bs, 3 * bs, 2 * bs, bs }, r[3] = { 2 * bs, bs, 4 * bs };
		if (multi_seg_rw("multi_desc", base, w, 4, r, 3, 0, 0, 2))
			ok("multi_desc");
	}

	/* segments that are not multiples of 512 (legal: framing is arbitrary) */
	if (!cmdline_get_ulong("odd_segs", 1)) {
		skip("multi_desc_odd", "odd_segs=0");
	} else {
		uint32_t total = bs >= 4096 ? 2 * bs : 4096;  /* a whole number of blocks */
		uint32_t w[5] = { 100, 412, 1000, 24, total - 1536 };
		uint32_t r[4] = { 7, 505, 3000, total - 3512 };
		if (multi_seg_rw("multi_desc_odd", base + 64 * 1024, w, 5, r, 4, 0, 0, 2))
			ok("multi_desc_odd");
	}

	/* header split over two descriptors (8 + 8 bytes) */
	{
		uint32_t w[2] = { bs, 3 * bs }, r[1] = { 4 * bs };
		if (multi_seg_rw("split_header", base + 128 * 1024, w, 2, r, 1,
				 VBLK_REQ_SPLIT_HDR, VBLK_REQ_SPLIT_HDR, 2))
			ok("split_header");
	}
}

static void check_indirect(void)
{
	if (!use_indirect) {
		skip("indirect", "indirect=0");
		return;
	}
	if (!vblk_has(B, VIRTIO_RING_F_INDIRECT_DESC)) {
		skip("indirect", "VIRTIO_RING_F_INDIRECT_DESC not offered");
		return;
	}
	uint64_t base = 5 * MiB;
	uint32_t w[6] = { bs, 2 * bs, 4 * bs, bs, 8 * bs, bs };     /* 17 blocks */
	uint32_t r[3] = { 9 * bs, 4 * bs, 4 * bs };
	if (!multi_seg_rw("indirect", base, w, 6, r, 3, VBLK_REQ_INDIRECT, VBLK_REQ_INDIRECT, 3))
		return;
	/* indirect + split header, read back direct */
	uint32_t w2[2] = { 4 * bs, 4 * bs }, r2[2] = { 6 * bs, 2 * bs };
	if (!multi_seg_rw("indirect", base + 256 * 1024, w2, 2, r2, 2,
			  VBLK_REQ_INDIRECT | VBLK_REQ_SPLIT_HDR, 0, 3))
		return;
	/* a long indirect chain: more segments than a direct request would use */
	uint32_t w3[VBLK_MAX_SEGS], r3[1] = { VBLK_MAX_SEGS * bs };
	int n = segs_limit();
	for (int i = 0; i < n; i++)
		w3[i] = bs;
	r3[0] = (uint32_t)n * bs;
	if (!multi_seg_rw("indirect", base + 512 * 1024, w3, n, r3, 1, VBLK_REQ_INDIRECT,
			  VBLK_REQ_INDIRECT, 3))
		return;
	ok("indirect");
}

/* k = 4: N writes then N reads in flight together, verified per request. */
static void check_inflight(void)
{
	const char *name = "inflight";
	int n = (int)cmdline_get_ulong("inflight", 8);
	if (n < 2)
		n = 2;
	if (n > 32)
		n = 32;
	uint64_t slot = rdown(BUFSZ / (unsigned)n, bs);
	uint64_t base = 6 * MiB;
	char order[200];
	int pos = 0, out_of_order = 0;
	char why[160];

	for (int phase = 0; phase < 2; phase++) {
		int write = phase == 0;
		uint64_t off = base;
		for (int i = 0; i < n; i++) {
			struct vblk_req *r = &reqs[i];
			uint64_t len = rdown(slot - (uint64_t)i * (slot / (unsigned)n), bs);   /* big first */
			if (len < bs)
				len = bs;
			if (len > seg_limit())
				len = seg_limit();
			memset(r, 0, sizeof(*r));
			r->type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
			r->sector = off / 512;
			r->nseg = 1;
			r->seg[0].addr = pool + (uint64_t)i * slot;
			r->seg[0].len = (uint32_t)len;
			r->cookie = (void *)(uintptr_t)(i + 1);
			/* reads go out as one batch with a single kick */
			r->flags = (!write && i != n - 1) ? VBLK_REQ_NO_KICK : 0;
			if (write)
				dm_fill(pool + (uint64_t)i * slot, off, len, 4);
			else
				memset(pool + (uint64_t)i * slot, 0x5A, len);
			int st = vblk_submit(B, r);
			if (st) {
				fail(name, "submit %d: %d (%s)", i, st, st_name(st));
				return;
			}
			if (write)
				dm_set(off, len, 4);
			off += len + 8 * (uint64_t)bs;              /* leave holes */
		}
		if (vblk_inflight(B) != n) {
			fail(name, "%d in flight, expected %d", vblk_inflight(B), n);
			return;
		}
		int expect_next = 1;
		for (int c = 0; c < n; c++) {
			struct vblk_req *r = vblk_wait(B);
			if (!r) {
				fail(name, "%s: only %d of %d completed", write ? "writes" : "reads", c, n);
				return;
			}
			int id = (int)(uintptr_t)r->cookie;
			if (id < 1 || id > n || r != &reqs[id - 1]) {
				fail(name, "completion for an unknown request");
				return;
			}
			if (id != expect_next)
				out_of_order = 1;
			expect_next = id + 1;
			if (!write && pos < (int)sizeof(order) - 4)
				pos += snprintf(order + pos, sizeof(order) - (size_t)pos, "%s%d", c ? "," : "", id);
			if (r->status != VIRTIO_BLK_S_OK) {
				fail(name, "request %d: status %d (%s)", id, r->status, st_name(r->status));
				return;
			}
			uint32_t want_len = write ? 1 : r->seg[0].len + 1;
			if (r->used_len != want_len) {
				/* the spec's used len is a hint for writes; enforce it only for reads */
				if (!write) {
					fail(name, "request %d: used len %u, expected %u", id, r->used_len, want_len);
					return;
				}
			}
			if (!write && !dm_check(r->sector * 512, r->seg[0].addr, r->seg[0].len, why, sizeof(why))) {
				fail(name, "request %d: %s", id, why);
				return;
			}
		}
	}
	printf("info: inflight %d, read completion order %s%s\n", n, order,
	       out_of_order ? " (out of order)" : " (in order)");
	ok(name);
}

/* Enough requests to wrap the 16-bit ring indices (and the ring many times). */
static void check_ring_wrap(void)
{
	const char *name = "ring_wrap";
	unsigned long total = cmdline_get_ulong("wrap_reqs", 70000);
	if (!total) {
		skip(name, "wrap_reqs=0");
		return;
	}
	const int depth = 16;
	unsigned long sent = 0, done = 0;
	char why[160];
	uint64_t t0 = rdtsc();

	while (done < total) {
		while (sent < total && vblk_inflight(B) < depth) {
			int i = (int)(sent % depth);
			/* find a free slot: slots are reused once their request completed */
			struct vblk_req *r = &reqs[i];
			if (sent >= (unsigned long)depth && !r->done)
				break;
			memset(r, 0, sizeof(*r));
			r->type = VIRTIO_BLK_T_IN;
			r->sector = (sent % 8) * (bs / 512);          /* k=1 region, first 8 blocks */
			r->nseg = 1;
			r->seg[0].addr = pool + (uint64_t)i * 4096;
			r->seg[0].len = bs;
			r->cookie = (void *)(uintptr_t)sent;
			int st = vblk_submit(B, r);
			if (st) {
				fail(name, "submit #%lu: %d (%s)", sent, st, st_name(st));
				return;
			}
			sent++;
		}
		struct vblk_req *r = vblk_wait(B);
		if (!r) {
			fail(name, "timeout after %lu of %lu", done, total);
			return;
		}
		done++;
		if (r->status != VIRTIO_BLK_S_OK) {
			fail(name, "request #%lu: status %d (%s)", (unsigned long)(uintptr_t)r->cookie,
			     r->status, st_name(r->status));
			return;
		}
		if (!dm_check(r->sector * 512, r->seg[0].addr, bs, why, sizeof(why))) {
			fail(name, "request #%lu: %s", (unsigned long)(uintptr_t)r->cookie, why);
			return;
		}
	}
	printf("info: ring_wrap %lu requests, depth %d, %llu tsc cycles, %llu kicks, %llu kicks suppressed\n",
	       total, depth, (unsigned long long)(rdtsc() - t0),
	       (unsigned long long)B->stats.kicks, (unsigned long long)B->stats.kicks_suppressed);
	ok(name);
}

static void check_flush(void)
{
	if (!vblk_has(B, VIRTIO_BLK_F_FLUSH)) {
		skip("flush", "VIRTIO_BLK_F_FLUSH not offered");
		return;
	}
	int st = vblk_flush(B);
	if (st != VIRTIO_BLK_S_OK)
		fail("flush", "status %d (%s)", st, st_name(st));
	else
		ok("flush");
}

/* Issue one DISCARD/WRITE_ZEROES request with nseg segments. */
static int dwz(uint32_t type, const struct virtio_blk_dwz_seg *segs, int nseg)
{
	static struct virtio_blk_dwz_seg s[8];
	struct vblk_req *r = &reqs[0];
	memset(r, 0, sizeof(*r));
	memcpy(s, segs, sizeof(*segs) * (size_t)nseg);
	r->type = type;
	r->nseg = 1;
	r->seg[0].addr = s;
	r->seg[0].len = (uint32_t)(sizeof(*segs) * (size_t)nseg);
	return vblk_do(B, r);
}

/* k = 5 */
static void check_discard(void)
{
	const char *name = "discard";
	if (!vblk_has(B, VIRTIO_BLK_F_DISCARD)) {
		skip(name, "VIRTIO_BLK_F_DISCARD not offered");
		skip("discard_unmap_flag", "VIRTIO_BLK_F_DISCARD not offered");
		return;
	}
	uint64_t base = 8 * MiB, len = 1 * MiB;
	uint64_t align = B->discard_sector_alignment;       /* sectors */
	if (align < bs / 512)
		align = bs / 512;
	if (align < 8)
		align = 8;
	uint64_t a = align * 512;                           /* bytes */
	int st = write_pat(base, len, 5);
	if (st) {
		fail(name, "pattern write: status %d (%s)", st, st_name(st));
		return;
	}
	uint64_t r1 = rup(base + 64 * 1024, a), n1 = rup(128 * 1024, a);
	uint64_t r2 = rup(base + 512 * 1024, a), n2 = rup(256 * 1024, a);
	if (B->max_discard_sectors && n2 / 512 > B->max_discard_sectors)
		n2 = rdown((uint64_t)B->max_discard_sectors * 512, a);
	if (B->max_discard_sectors && n1 / 512 > B->max_discard_sectors)
		n1 = rdown((uint64_t)B->max_discard_sectors * 512, a);
	struct virtio_blk_dwz_seg s1 = { r1 / 512, (uint32_t)(n1 / 512), 0 };
	struct virtio_blk_dwz_seg s2 = { r2 / 512, (uint32_t)(n2 / 512), 0 };
	int tag = discard_zeroes ? DM_ZERO : DM_UNKNOWN;

	st = dwz(VIRTIO_BLK_T_DISCARD, &s1, 1);
	if (st != VIRTIO_BLK_S_OK) {
		fail(name, "discard %llu+%llu: status %d (%s)", (unsigned long long)r1,
		     (unsigned long long)n1, st, st_name(st));
		return;
	}
	dm_set(r1, n1, tag);
	st = dwz(VIRTIO_BLK_T_DISCARD, &s2, 1);
	if (st != VIRTIO_BLK_S_OK) {
		fail(name, "discard %llu+%llu: status %d (%s)", (unsigned long long)r2,
		     (unsigned long long)n2, st, st_name(st));
		return;
	}
	dm_set(r2, n2, tag);
	if (!read_check(name, base, len))
		return;
	printf("info: discard alignment %llu bytes, %s\n", (unsigned long long)a,
	       discard_zeroes ? "zeroes asserted (discard_zeroes=1)" : "contents not asserted");
	ok(name);

	if (B->max_discard_seg >= 2) {
		uint64_t r3 = rup(base + 256 * 1024, a), r4 = rup(base + 896 * 1024, a);
		struct virtio_blk_dwz_seg s[2] = { { r3 / 512, (uint32_t)(a / 512), 0 },
						   { r4 / 512, (uint32_t)(a / 512), 0 } };
		st = dwz(VIRTIO_BLK_T_DISCARD, s, 2);
		if (st != VIRTIO_BLK_S_OK) {
			fail("discard_multi_seg", "status %d (%s)", st, st_name(st));
		} else {
			dm_set(r3, a, tag);
			dm_set(r4, a, tag);
			if (read_check("discard_multi_seg", base, len))
				ok("discard_multi_seg");
		}
	} else {
		skip("discard_multi_seg", "max_discard_seg < 2");
	}

	/* DISCARD with the unmap flag is not allowed: UNSUPP, nothing changes */
	struct virtio_blk_dwz_seg su = { rup(base + 320 * 1024, a) / 512, (uint32_t)(a / 512), VIRTIO_BLK_WZ_UNMAP };
	st = dwz(VIRTIO_BLK_T_DISCARD, &su, 1);
	if (st != VIRTIO_BLK_S_UNSUPP)
		fail("discard_unmap_flag", "status %d (%s), expected UNSUPP", st, st_name(st));
	else if (read_check("discard_unmap_flag", base, len))
		ok("discard_unmap_flag");
}

/* k = 6 */
static void check_write_zeroes(void)
{
	const char *name = "write_zeroes";
	if (!vblk_has(B, VIRTIO_BLK_F_WRITE_ZEROES)) {
		skip(name, "VIRTIO_BLK_F_WRITE_ZEROES not offered");
		skip("write_zeroes_unmap", "VIRTIO_BLK_F_WRITE_ZEROES not offered");
		return;
	}
	uint64_t base = 10 * MiB, len = 1 * MiB;
	int st = write_pat(base, len, 6);
	if (st) {
		fail(name, "pattern write: status %d (%s)", st, st_name(st));
		return;
	}
	struct { uint64_t off, len; uint32_t flags; const char *name; } z[] = {
		{ base + 4096, 61440, 0, "write_zeroes" },
		{ base + 700 * 1024 + bs, bs, 0, "write_zeroes" },       /* one block, not page aligned */
		{ base + 256 * 1024, 128 * 1024, VIRTIO_BLK_WZ_UNMAP, "write_zeroes_unmap" },
		{ base + 900 * 1024, 3 * (uint64_t)bs, VIRTIO_BLK_WZ_UNMAP, "write_zeroes_unmap" },
	};
	for (unsigned i = 0; i < 4; i++) {
		uint64_t zl = z[i].len;
		if (B->max_write_zeroes_sectors && zl / 512 > B->max_write_zeroes_sectors)
			zl = rdown((uint64_t)B->max_write_zeroes_sectors * 512, bs);
		struct virtio_blk_dwz_seg s = { z[i].off / 512, (uint32_t)(zl / 512), z[i].flags };
		st = dwz(VIRTIO_BLK_T_WRITE_ZEROES, &s, 1);
		if (st != VIRTIO_BLK_S_OK) {
			fail(z[i].name, "%llu+%llu: status %d (%s)", (unsigned long long)z[i].off,
			     (unsigned long long)zl, st, st_name(st));
			return;
		}
		dm_set(z[i].off, zl, DM_ZERO);
		if (i == 1) {
			if (!read_check(name, base, len))
				return;
			ok(name);
		}
	}
	if (read_check("write_zeroes_unmap", base, len))
		ok("write_zeroes_unmap");
}

static void check_past_end(int rw)
{
	const char *name = "past_end";
	uint64_t cap = B->capacity, spb = bs / 512;
	int st;

	st = vblk_rw(B, 0, cap, rbuf, bs);
	if (st != VIRTIO_BLK_S_IOERR) {
		fail(name, "read at sector %llu (= capacity): status %d (%s), expected IOERR",
		     (unsigned long long)cap, st, st_name(st));
		return;
	}
	st = vblk_rw(B, 0, cap - spb, rbuf, 2 * bs);
	if (st != VIRTIO_BLK_S_IOERR) {
		fail(name, "read straddling the end: status %d (%s), expected IOERR", st, st_name(st));
		return;
	}
	st = vblk_rw(B, 0, ~0ull - 1, rbuf, bs);
	if (st != VIRTIO_BLK_S_IOERR) {
		fail(name, "read at sector 2^64-2: status %d (%s), expected IOERR", st, st_name(st));
		return;
	}
	if (rw) {
		dm_fill(wbuf, (cap - spb) * 512, 2 * bs, 7);
		st = vblk_rw(B, 1, cap - spb, wbuf, 2 * bs);
		if (st != VIRTIO_BLK_S_IOERR) {
			fail(name, "write straddling the end: status %d (%s), expected IOERR", st, st_name(st));
			return;
		}
		st = vblk_rw(B, 1, cap, wbuf, bs);
		if (st != VIRTIO_BLK_S_IOERR) {
			fail(name, "write at capacity: status %d (%s), expected IOERR", st, st_name(st));
			return;
		}
		/* the straddling write must not have touched the last block */
		if (!read_check(name, (cap - spb) * 512, bs))
			return;
	}
	ok(name);
}

static void check_unsupported(void)
{
	struct vblk_req *r = &reqs[0];
	memset(r, 0, sizeof(*r));
	r->type = 0xFF;
	int st = vblk_do(B, r);
	if (st != VIRTIO_BLK_S_UNSUPP) {
		fail("unsupported", "type 0xff: status %d (%s), expected UNSUPP", st, st_name(st));
		return;
	}
	memset(r, 0, sizeof(*r));
	r->type = 0xFF;
	r->nseg = 1;
	r->seg[0].addr = rbuf;
	r->seg[0].len = 512;
	st = vblk_do(B, r);
	if (st != VIRTIO_BLK_S_UNSUPP) {
		fail("unsupported", "type 0xff with data: status %d (%s), expected UNSUPP", st, st_name(st));
		return;
	}
	ok("unsupported");
}

static void check_read_only(void)
{
	uint64_t last = disk_bytes - bs;
	uint8_t before[512];
	int st;

	/* reads work anywhere */
	uint64_t offs[3] = { 0, rdown(disk_bytes / 2, bs), last };
	for (int i = 0; i < 3; i++) {
		st = io(0, offs[i], rbuf, bs, 0);
		if (st) {
			fail("ro_read", "read %llu: status %d (%s)", (unsigned long long)offs[i], st, st_name(st));
			return;
		}
	}
	ok("ro_read");

	st = io(0, 0, rbuf, bs, 0);
	memcpy(before, rbuf, 512);
	dm_fill(wbuf, 0, bs, 7);
	st = vblk_rw(B, 1, 0, wbuf, bs);
	if (st != VIRTIO_BLK_S_IOERR) {
		fail("ro_write", "write: status %d (%s), expected IOERR", st, st_name(st));
	} else {
		memset(rbuf, 0x5A, bs);
		st = io(0, 0, rbuf, bs, 0);
		if (st)
			fail("ro_write", "read after write: status %d (%s)", st, st_name(st));
		else if (memcmp(before, rbuf, 512) != 0)
			fail("ro_write", "block 0 changed after a refused write");
		else
			ok("ro_write");
	}

	/* DISCARD / WRITE_ZEROES on a read-only disk: must not succeed */
	if (vblk_has(B, VIRTIO_BLK_F_WRITE_ZEROES)) {
		struct virtio_blk_dwz_seg s = { 0, (uint32_t)(bs / 512), 0 };
		st = dwz(VIRTIO_BLK_T_WRITE_ZEROES, &s, 1);
		if (st == VIRTIO_BLK_S_OK)
			fail("ro_write_zeroes", "status OK on a read-only disk");
		else
			ok("ro_write_zeroes");
	} else {
		skip("ro_write_zeroes", "VIRTIO_BLK_F_WRITE_ZEROES not offered");
	}

	long k = (long)cmdline_get_ulong("ro_expect", (unsigned long)-1);
	if (k < 0) {
		skip("ro_expect", "no ro_expect=K on the command line");
	} else {
		uint64_t len = rdown(cmdline_get_ulong("ro_expect_len", 1 * MiB), bs);
		if (len > disk_bytes)
			len = rdown(disk_bytes, bs);
		dm_set(0, len, (int)k);
		if (read_check("ro_expect", 0, len))
			ok("ro_expect");
	}
}

static void final_verify(void)
{
	for (int i = 0; i < dm_count(); i++) {
		uint64_t off, len;
		int tag;
		dm_region(i, &off, &len, &tag);
		if (!read_check("final_verify", off, len))
			return;
	}
	ok("final_verify");
}

/* ---------------------------------------------------------------- */

int guest_main(const struct hvm_start_info *si)
{
	(void)si;
	printf("blk-selftest: virtio-blk (modern PCI) self-test\n");
	discard_zeroes = cmdline_get_ulong("discard_zeroes", 0) != 0;
	use_indirect = cmdline_get_ulong("indirect", 1) != 0;
	uint64_t refuse = 0;
	if (!use_indirect)
		refuse |= VBLK_FEAT(VIRTIO_RING_F_INDIRECT_DESC);
	if (!cmdline_get_ulong("event_idx", 1))
		refuse |= VBLK_FEAT(VIRTIO_RING_F_EVENT_IDX);

	enum pci_mech m = pci_init();
	printf("info: pci %s (ecam base 0x%llx)\n", pci_mech_name(), (unsigned long long)pci_ecam_base());
	if (m == PCI_MECH_NONE) {
		fail("pci", "no PCI configuration mechanism answers (ECAM or 0xCF8)");
		goto out;
	}
	struct pci_dev devs[32];
	int nd = pci_enumerate(devs, 32);
	for (int i = 0; i < nd && i < 32; i++)
		printf("info: pci %02x:%02x.%x %04x:%04x class %06x\n", devs[i].bus, devs[i].dev,
		       devs[i].fn, devs[i].vendor, devs[i].device, devs[i].class_code);

	int rc = vblk_init(B, (int)cmdline_get_ulong("blk_index", 0), refuse);
	if (rc) {
		fail("init", "vblk_init: %d (%s)", rc, vblk_strerror(rc));
		goto out;
	}
	for (int i = 0; i < 6; i++) {
		const struct pci_bar *b = &B->pci.bar[i];
		if (b->size)
			printf("info: bar%d 0x%llx size 0x%llx%s%s%s\n", i, (unsigned long long)b->addr,
			       (unsigned long long)b->size, b->is_io ? " io" : b->is_64 ? " mem64" : " mem32",
			       b->prefetch ? " prefetch" : "", b->assigned ? " (assigned by guest)" : " (preset)");
	}
	printf("info: features offered 0x%llx negotiated 0x%llx\n",
	       (unsigned long long)B->dev_features, (unsigned long long)B->features);
	printf("info: queue size %u, notify off mult %u, num_queues %u\n", B->qsize, B->notify_mult, B->num_queues);
	printf("info: capacity %llu sectors, blk_size %u, ro %u, size_max %u, seg_max %u\n",
	       (unsigned long long)B->capacity, B->blk_size, B->read_only, B->size_max, B->seg_max);
	printf("info: discard max_sectors %u max_seg %u alignment %u; write_zeroes max_sectors %u max_seg %u may_unmap %u\n",
	       B->max_discard_sectors, B->max_discard_seg, B->discard_sector_alignment,
	       B->max_write_zeroes_sectors, B->max_write_zeroes_seg, B->write_zeroes_may_unmap);
	ok("init");

	bs = B->blk_size;
	if (bs < 512 || bs > 65536 || (bs & (bs - 1))) {
		fail("config", "blk_size %u is not a power of two in 512..65536", bs);
		goto out;
	}
	disk_bytes = rdown(B->capacity * 512, bs);
	if (B->capacity == 0) {
		fail("config", "capacity 0");
		goto out;
	}
	ok("config");

	check_get_id();
	if (B->read_only) {
		printf("info: read-only device: write checks replaced by read-only checks\n");
		check_read_only();
		check_past_end(0);
		check_unsupported();
		check_flush();
	} else if (disk_bytes < 12 * MiB) {
		fail("disk_size", "need at least 12 MiB for the write checks, have %llu bytes",
		     (unsigned long long)disk_bytes);
	} else {
		check_write_read();
		check_multi_desc();
		check_indirect();
		check_inflight();
		check_ring_wrap();
		check_flush();
		check_discard();
		check_write_zeroes();
		check_past_end(1);
		check_unsupported();
		check_flush();
	}
	if (!B->broken)
		final_verify();
	dm_print();
out:
	printf("blk-selftest: %d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
