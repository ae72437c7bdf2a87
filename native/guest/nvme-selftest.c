/* NVMe self-test.  See README.md ("nvme-selftest") for the output format,
 * the data pattern and the command-line knobs. */
#include "rt.h"
#include "pci.h"
#include "nvme.h"
#include "disk_model.h"

#define MiB (1024ull * 1024)
#define BUFSZ (NVME_MAX_XFER + 2 * NVME_PAGE)

static struct nvme dev;
static struct nvme *N = &dev;
static uint8_t wbuf[BUFSZ] __attribute__((aligned(4096)));
static uint8_t rbuf[BUFSZ] __attribute__((aligned(4096)));
static uint8_t pool[BUFSZ] __attribute__((aligned(4096)));   /* in-flight buffers */
static struct nvme_dsm_range dsm_ranges[256] __attribute__((aligned(4096)));
static uint8_t page[4096] __attribute__((aligned(4096)));
static struct nvme_req reqs[64];

static int npass, nfail, nskip;
static uint64_t disk_bytes;
static uint32_t bs;           /* LBA size (bytes) */
static uint32_t xfer;         /* largest transfer per command (bytes) */
static int discard_zeroes;

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

/* "SCT 0 SC 0x80 (LBA Out of Range) DNR" style text (static buffer per call slot). */
static const char *st_text(int st)
{
	static char buf[4][80];
	static int k;
	char *b = buf[k++ & 3];
	if (st < 0)
		snprintf(b, 80, "driver error %d (%s)", st, nvme_strerror(st));
	else
		snprintf(b, 80, "SCT %d SC 0x%02x (%s)%s", NVME_SCT(st), NVME_SC(st), nvme_status_name(st),
			 NVME_DNR(st) ? " DNR" : "");
	return b;
}

/* Exact status check (SCT and SC; CRD/M/DNR not compared). */
static int want_st(const char *name, const char *what, int st, int sct, int sc)
{
	if (st >= 0 && NVME_ST_CODE(st) == NVME_ST(sct, sc))
		return 1;
	fail(name, "%s: got %s, expected SCT %d SC 0x%02x", what, st_text(st), sct, sc);
	return 0;
}

/* ---------------------------------------------------------------- */
/* I/O helpers                                                       */

static uint64_t rup(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
static uint64_t rdown(uint64_t v, uint64_t a) { return v / a * a; }

/* One command: [off, off+len) (whole blocks) through buf. */
static int io1(int qid, int write, uint64_t off, void *buf, uint32_t len, uint32_t rflags, uint32_t cdw12)
{
	struct nvme_req *r = &reqs[0];
	nvme_req_rw(r, write, 1, off / bs, len / bs, buf, len);
	r->flags = rflags;
	r->cdw12 |= cdw12;
	return nvme_do(N, qid, r);
}

/* Any length, split at the transfer limit. */
static int io(int write, uint64_t off, uint8_t *buf, uint64_t len)
{
	while (len) {
		uint32_t n = len < xfer ? (uint32_t)len : xfer;
		int st = io1(1, write, off, buf, n, 0, 0);
		if (st)
			return st;
		off += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static int write_pat(uint64_t off, uint64_t len, int k)
{
	while (len) {
		uint64_t n = len < xfer ? len : xfer;
		dm_fill(wbuf, off, n, k);
		int st = io(1, off, wbuf, n);
		if (st)
			return st;
		dm_set(off, n, k);
		off += n;
		len -= n;
	}
	return 0;
}

/* Read [off, off+len) and compare with the model. */
static int read_check(const char *name, uint64_t off, uint64_t len)
{
	char why[160];
	while (len) {
		uint64_t n = len < xfer ? len : xfer;
		memset(rbuf, 0x5A, n);
		int st = io(0, off, rbuf, n);
		if (st) {
			fail(name, "read of %llu+%llu: %s", (unsigned long long)off, (unsigned long long)n, st_text(st));
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

/* Write pattern k over [off, off+len) from buf+boff in one command, read it
 * back into rbuf+roff (another command), verify. */
static int rw_verify(const char *name, int qid, uint64_t off, uint32_t len, uint32_t boff, uint32_t roff,
		     uint32_t rflags, uint32_t cdw12, int k)
{
	char why[160];
	dm_fill(wbuf + boff, off, len, k);
	int st = io1(qid, 1, off, wbuf + boff, len, rflags, cdw12);
	if (st) {
		fail(name, "write %llu+%u (buffer offset %u): %s", (unsigned long long)off, len, boff, st_text(st));
		return 0;
	}
	dm_set(off, len, k);
	memset(rbuf, 0x5A, (size_t)len + roff);
	st = io1(qid, 0, off, rbuf + roff, len, rflags, 0);
	if (st) {
		fail(name, "read %llu+%u (buffer offset %u): %s", (unsigned long long)off, len, roff, st_text(st));
		return 0;
	}
	if (!dm_check(off, rbuf + roff, len, why, sizeof(why))) {
		fail(name, "%llu+%u: %s", (unsigned long long)off, len, why);
		return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------- */
/* checks                                                            */

static void check_identify(void)
{
	const char *name = "identify";
	for (int i = 0; N->sn[i]; i++) {
		if (N->sn[i] < 0x20 || N->sn[i] > 0x7e) {
			fail(name, "serial number byte 0x%02x at %d is not printable ASCII", (uint8_t)N->sn[i], i);
			return;
		}
	}
	char want[32];
	if (cmdline_get("expect_sn", want, sizeof(want)) >= 0 && strcmp(want, N->sn) != 0) {
		fail(name, "serial \"%s\", expected \"%s\"", N->sn, want);
		return;
	}
	if (N->nn < 1) {
		fail(name, "NN = 0: no namespace");
		return;
	}
	if (N->sqes != 0x66 && (N->sqes & 0xF) > 6) {
		fail(name, "SQES 0x%02x: minimum entry size is not 64 bytes", N->sqes);
		return;
	}
	/* Identify Namespace for an NSID that cannot exist */
	int st = nvme_identify(N, 0, 0xFFFFFFFFu - 1, page);
	if (!want_st(name, "identify namespace 0xFFFFFFFE", st, 0, NVME_SC_INVALID_NS))
		return;
	/* an undefined CNS value */
	st = nvme_identify(N, 0xFF, 0, page);
	if (!want_st(name, "identify CNS 0xFF", st, 0, NVME_SC_INVALID_FIELD))
		return;
	ok(name);
}

/* k = 1: offsets and sizes from one block to the transfer limit, with
 * buffers at different page offsets (PRP1 only, PRP1+PRP2, PRP lists). */
static void check_write_read(void)
{
	static const uint32_t plan[][3] = {     /* disk offset, length, buffer offset */
		{ 0, 512, 0 }, { 512, 512, 3584 }, { 4096, 4096, 0 }, { 8192, 4096, 512 },
		{ 16384, 8192, 0 }, { 32768, 8192, 1024 }, { 65536, 12288, 0 }, { 98304, 65536, 0 },
		{ 196608, 65536, 2052 }, { 327680, 131072, 4092 }, { 524288, 262144, 0 },
		{ 1048576, 0, 0 }, { 1048576 * 3, 0, 2048 },            /* 0 = the transfer limit */
	};
	const char *name = "write_read";
	unsigned np = sizeof(plan) / sizeof(plan[0]);
	for (unsigned i = 0; i < np + 2; i++) {
		uint64_t off;
		uint32_t len, boff = 0;
		if (i < np) {
			off = rdown(plan[i][0], bs);
			len = plan[i][1] ? (uint32_t)rup(plan[i][1], bs) : xfer;
			boff = plan[i][2];
		} else if (i == np) {
			off = disk_bytes - 8 * (uint64_t)bs;        /* tail of the disk */
			len = 8 * bs;
			boff = 256;
		} else {
			off = disk_bytes - bs;                      /* very last block */
			len = bs;
		}
		if (len > xfer)
			len = xfer;
		if (!rw_verify(name, 1, off, len, boff, (boff * 3) & 0xFFC, 0, 0, 1))
			return;
	}
	printf("info: write_read up to %u bytes per command\n", xfer);
	ok(name);
}

/* k = 2: PRP lists that chain to a second list page (the first list page
 * at a page offset with room for 4 entries), and with FUA. */
static void check_prp_chain(void)
{
	const char *name = "prp_chain";
	uint64_t base = 4 * MiB + 1 * MiB / 2;
	uint32_t sizes[3] = { 5 * NVME_PAGE, 64 * 1024, xfer };
	for (int i = 0; i < 3; i++) {
		uint32_t len = (uint32_t)rup(sizes[i], bs);
		if (len > xfer)
			len = xfer;
		if (len <= 5 * NVME_PAGE && i)
			continue;
		uint32_t boff = i == 1 ? 1024 : 0;
		if (boff && len + boff > xfer + NVME_PAGE)
			boff = 0;
		if (!rw_verify(name, 1, base, len, boff, 0, NVME_REQ_SHORT_LIST, 0, 2))
			return;
		base += len;
	}
	ok(name);
	if (rw_verify("fua", 1, 4 * MiB + 512 * 1024 + 3 * MiB / 2, 16 * 1024, 0, 0, 0, NVME_RW_FUA, 2))
		ok("fua");
}

/* k = 4: N writes then N reads in flight at once, spread over the I/O
 * queues, each completion matched by cookie and verified. */
static void check_inflight(void)
{
	const char *name = "inflight";
	int n = (int)cmdline_get_ulong("inflight", 16);
	if (n < 2)
		n = 2;
	if (n > 64)
		n = 64;
	uint32_t slot = (uint32_t)rdown(1 * MiB / (unsigned)n, bs);
	if (slot > xfer)
		slot = xfer;
	uint64_t base = 6 * MiB;
	char why[160];
	int out_of_order = 0;

	for (int phase = 0; phase < 2; phase++) {
		int write = phase == 0;
		uint64_t off = base;
		for (int i = 0; i < n; i++) {
			struct nvme_req *r = &reqs[i];
			uint32_t len = (uint32_t)rdown(slot - (uint64_t)i * (slot / (unsigned)n), bs);
			if (len < bs)
				len = bs;
			uint8_t *b = pool + (uint64_t)i * slot;
			if (write)
				dm_fill(b, off, len, 4);
			else
				memset(b, 0x5A, len);
			nvme_req_rw(r, write, 1, off / bs, len / bs, b, len);
			r->cookie = (void *)(uintptr_t)(i + 1);
			/* reads go out in one batch per queue: one doorbell each */
			r->flags = write ? 0 : NVME_REQ_NO_RING;
			int qid = 1 + i % N->nq;
			int st = nvme_submit(N, qid, r);
			if (st) {
				fail(name, "submit %d on queue %d: %s", i, qid, st_text(st));
				return;
			}
			if (write)
				dm_set(off, len, 4);
			off += len + 8 * (uint64_t)bs;              /* leave holes */
		}
		if (!write)
			for (int q = 1; q <= N->nq; q++)
				nvme_ring(N, q);
		int total = 0;
		for (int q = 1; q <= N->nq; q++)
			total += nvme_inflight(N, q);
		if (total != n) {
			fail(name, "%d in flight, expected %d", total, n);
			return;
		}
		int got = 0;
		uint64_t t0 = rdtsc();
		int last_id[NVME_IOQ_MAX + 1] = { 0 };
		while (got < n) {
			struct nvme_req *r = NULL;
			for (int q = 1; q <= N->nq && !r; q++)
				r = nvme_poll(N, q);
			if (!r) {
				if (rdtsc() - t0 > N->timeout_tsc) {
					fail(name, "%s: only %d of %d completed", write ? "writes" : "reads", got, n);
					N->broken = 1;
					return;
				}
				continue;
			}
			got++;
			int id = (int)(uintptr_t)r->cookie;
			if (id < 1 || id > n || r != &reqs[id - 1]) {
				fail(name, "completion for an unknown request");
				return;
			}
			if (id < last_id[r->qid])
				out_of_order = 1;
			last_id[r->qid] = id;
			if (r->status) {
				fail(name, "%s %d: %s", write ? "write" : "read", id, st_text(r->status));
				return;
			}
			if (!write && !dm_check((uint64_t)(r->cdw10 | (uint64_t)r->cdw11 << 32) * bs, r->buf, r->len, why, sizeof(why))) {
				fail(name, "read %d: %s", id, why);
				return;
			}
		}
	}
	printf("info: inflight %d over %d queue(s), completions %s\n", n, N->nq,
	       out_of_order ? "out of order" : "in order");
	ok(name);
}

/* Enough commands to wrap every I/O queue many times (phase tag flips). */
static void check_queue_wrap(void)
{
	const char *name = "queue_wrap";
	unsigned long total = cmdline_get_ulong("wrap_cmds", 2000);
	if (!total) {
		skip(name, "wrap_cmds=0");
		return;
	}
	const int depth = 16;
	unsigned long sent = 0, done = 0;
	char why[160];
	uint64_t t0 = rdtsc();
	int busy[64] = { 0 };

	while (done < total) {
		for (int i = 0; i < depth && sent < total; i++) {
			if (busy[i])
				continue;
			struct nvme_req *r = &reqs[i];
			uint64_t lba = (sent % 8);                     /* k=1 region, first 8 blocks */
			nvme_req_rw(r, 0, 1, lba, 1, pool + (uint64_t)i * 4096, bs);
			r->cookie = (void *)(uintptr_t)i;
			int st = nvme_submit(N, 1 + (int)(sent % (unsigned long)N->nq), r);
			if (st == NVME_ERR_BUSY)
				break;
			if (st) {
				fail(name, "submit #%lu: %s", sent, st_text(st));
				return;
			}
			busy[i] = 1;
			sent++;
		}
		struct nvme_req *r = NULL;
		for (int q = 1; q <= N->nq && !r; q++)
			r = nvme_poll(N, q);
		if (!r) {
			if (rdtsc() - t0 > N->timeout_tsc * 4) {
				fail(name, "timeout after %lu of %lu", done, total);
				N->broken = 1;
				return;
			}
			continue;
		}
		busy[(int)(uintptr_t)r->cookie] = 0;
		done++;
		if (r->status) {
			fail(name, "command %lu: %s", done, st_text(r->status));
			return;
		}
		if (!dm_check((uint64_t)r->cdw10 * bs, r->buf, bs, why, sizeof(why))) {
			fail(name, "command %lu: %s", done, why);
			return;
		}
	}
	printf("info: queue_wrap %lu commands, depth %d, %d queue(s) of %u, %llu tsc cycles, "
	       "%llu SQ + %llu CQ doorbells, %llu suppressed\n",
	       total, depth, N->nq, N->q[1].size, (unsigned long long)(rdtsc() - t0),
	       (unsigned long long)N->stats.sq_doorbells, (unsigned long long)N->stats.cq_doorbells,
	       (unsigned long long)N->stats.doorbells_suppressed);
	ok(name);
}

/* QD1 one-block reads: per-command TSC timestamps (submit -> reaped) are
 * ordered and give a latency figure (info only, not a pass criterion). */
static void check_qd1_latency(void)
{
	const char *name = "qd1_latency";
	enum { n = 256 };
	static uint64_t lat[n];
	struct nvme_req *r = &reqs[0];
	for (int i = 0; i < n; i++) {
		nvme_req_rw(r, 0, 1, (uint64_t)(i % 8), 1, pool, bs);
		int st = nvme_do(N, 1, r);
		if (st) {
			fail(name, "read %d: %s", i, st_text(st));
			return;
		}
		if (r->complete_tsc < r->submit_tsc) {
			fail(name, "read %d completed (tsc %llu) before it was submitted (tsc %llu)", i,
			     (unsigned long long)r->complete_tsc, (unsigned long long)r->submit_tsc);
			return;
		}
		uint64_t v = r->complete_tsc - r->submit_tsc;
		int j = i;
		while (j > 0 && lat[j - 1] > v) {         /* insertion sort */
			lat[j] = lat[j - 1];
			j--;
		}
		lat[j] = v;
	}
	printf("info: qd1 read latency (tsc cycles, %d reads of %u bytes): min %llu median %llu p99 %llu max %llu\n",
	       n, bs, (unsigned long long)lat[0], (unsigned long long)lat[n / 2],
	       (unsigned long long)lat[n * 99 / 100], (unsigned long long)lat[n - 1]);
	ok(name);
}

static void check_flush(void)
{
	struct nvme_req *r = &reqs[0];
	nvme_req_flush(r, 1);
	int st = nvme_do(N, 1, r);
	if (st)
		fail("flush", "%s", st_text(st));
	else
		ok("flush");
}

/* k = 5: deallocate ranges; zeros asserted when DLFEAT says deallocated
 * blocks read 0 (or discard_zeroes=1). */
static void check_dsm(void)
{
	const char *name = "dsm_deallocate";
	uint64_t base = 8 * MiB, len = 1 * MiB;
	int st = write_pat(base, len, 5);
	if (st) {
		fail(name, "pattern write: %s", st_text(st));
		return;
	}
	if (!(N->oncs & (1u << 2))) {
		skip(name, "ONCS.DSM not set");
		skip("dsm_multi_range", "ONCS.DSM not set");
		/* not offered: the command is refused as an unsupported opcode and changes nothing */
		dsm_ranges[0] = (struct nvme_dsm_range){ 0, (uint32_t)(128 * 1024 / bs), (base + 64 * 1024) / bs };
		nvme_req_dsm(&reqs[0], 1, dsm_ranges, 1);
		if (want_st("dsm_unsupported", "deallocate without ONCS.DSM", nvme_do(N, 1, &reqs[0]), 0,
			    NVME_SC_INVALID_OPCODE) && read_check("dsm_unsupported", base, len))
			ok("dsm_unsupported");
		return;
	}
	int zeroes = discard_zeroes || (N->ns1.dlfeat & 7) == 1;
	int tag = zeroes ? DM_ZERO : DM_UNKNOWN;
	uint64_t a = bs > 4096 ? bs : 4096;
	struct nvme_req *r = &reqs[0];

	uint64_t r1 = base + 64 * 1024, n1 = 128 * 1024;
	dsm_ranges[0] = (struct nvme_dsm_range){ 0, (uint32_t)(n1 / bs), r1 / bs };
	nvme_req_dsm(r, 1, dsm_ranges, 1);
	st = nvme_do(N, 1, r);
	if (st) {
		fail(name, "deallocate %llu+%llu: %s", (unsigned long long)r1, (unsigned long long)n1, st_text(st));
		return;
	}
	dm_set(r1, n1, tag);
	if (!read_check(name, base, len))
		return;
	printf("info: dlfeat 0x%02x: deallocated blocks %s\n", N->ns1.dlfeat,
	       zeroes ? "must read zero" : "unspecified (not asserted)");
	ok(name);

	/* three ranges in one command, one of them with NLB 0 (ignored) */
	uint64_t r2 = base + 320 * 1024, r3 = base + 640 * 1024, r4 = base + 900 * 1024;
	dsm_ranges[0] = (struct nvme_dsm_range){ 0, (uint32_t)(a / bs), r2 / bs };
	dsm_ranges[1] = (struct nvme_dsm_range){ 0, 0, r4 / bs };
	dsm_ranges[2] = (struct nvme_dsm_range){ 0, (uint32_t)(2 * a / bs), r3 / bs };
	nvme_req_dsm(r, 1, dsm_ranges, 3);
	st = nvme_do(N, 1, r);
	if (st) {
		fail("dsm_multi_range", "%s", st_text(st));
		return;
	}
	dm_set(r2, a, tag);
	dm_set(r3, 2 * a, tag);
	if (read_check("dsm_multi_range", base, len))
		ok("dsm_multi_range");
}

/* k = 6: Write Zeroes without and with DEAC; zeros asserted. */
static void check_write_zeroes(void)
{
	const char *name = "write_zeroes";
	if (!(N->oncs & (1u << 3))) {
		skip(name, "ONCS.WZ not set");
		skip("write_zeroes_deac", "ONCS.WZ not set");
		return;
	}
	uint64_t base = 10 * MiB, len = 1 * MiB;
	int st = write_pat(base, len, 6);
	if (st) {
		fail(name, "pattern write: %s", st_text(st));
		return;
	}
	struct { uint64_t off, len; int deac; const char *name; } z[] = {
		{ base + 4096, 61440, 0, "write_zeroes" },
		{ base + 700 * 1024 + bs, bs, 0, "write_zeroes" },       /* one block, not page aligned */
		{ base + 256 * 1024, 128 * 1024, 1, "write_zeroes_deac" },
		{ base + 900 * 1024, 3 * (uint64_t)bs, 1, "write_zeroes_deac" },
	};
	struct nvme_req *r = &reqs[0];
	for (unsigned i = 0; i < 4; i++) {
		nvme_req_write_zeroes(r, 1, z[i].off / bs, (uint32_t)(z[i].len / bs), z[i].deac);
		st = nvme_do(N, 1, r);
		if (st) {
			fail(z[i].name, "%llu+%llu: %s", (unsigned long long)z[i].off,
			     (unsigned long long)z[i].len, st_text(st));
			return;
		}
		dm_set(z[i].off, z[i].len, DM_ZERO);
		if (i == 1) {
			if (!read_check(name, base, len))
				return;
			ok(name);
		}
	}
	if (read_check("write_zeroes_deac", base, len))
		ok("write_zeroes_deac");
}

/* LBA Out of Range (SCT 0 SC 0x80) for reads, writes and Write Zeroes past
 * the end; the last block is unchanged. */
static void check_lba_range(int rw)
{
	const char *name = "lba_range";
	uint64_t nsze = N->ns1.nsze;
	struct nvme_req *r = &reqs[0];
	int st;

	nvme_req_rw(r, 0, 1, nsze, 1, rbuf, bs);
	if (!want_st(name, "read at NSZE", nvme_do(N, 1, r), 0, NVME_SC_LBA_RANGE))
		return;
	nvme_req_rw(r, 0, 1, nsze - 1, 2, rbuf, 2 * bs);
	if (!want_st(name, "read straddling the end", nvme_do(N, 1, r), 0, NVME_SC_LBA_RANGE))
		return;
	nvme_req_rw(r, 0, 1, ~0ull, 2, rbuf, 2 * bs);
	if (!want_st(name, "read at LBA 2^64-1 (SLBA+NLB wraps)", nvme_do(N, 1, r), 0, NVME_SC_LBA_RANGE))
		return;
	if (rw) {
		dm_fill(wbuf, (nsze - 1) * bs, 2 * (uint64_t)bs, 7);
		nvme_req_rw(r, 1, 1, nsze - 1, 2, wbuf, 2 * bs);
		if (!want_st(name, "write straddling the end", nvme_do(N, 1, r), 0, NVME_SC_LBA_RANGE))
			return;
		nvme_req_rw(r, 1, 1, nsze, 1, wbuf, bs);
		if (!want_st(name, "write at NSZE", nvme_do(N, 1, r), 0, NVME_SC_LBA_RANGE))
			return;
		if (N->oncs & (1u << 3)) {
			nvme_req_write_zeroes(r, 1, nsze - 1, 2, 0);
			st = nvme_do(N, 1, r);
			if (!want_st(name, "write zeroes straddling the end", st, 0, NVME_SC_LBA_RANGE))
				return;
		}
		if (!read_check(name, (nsze - 1) * bs, bs))
			return;
	}
	ok(name);
}

static void check_invalid_opcode(void)
{
	const char *name = "invalid_opcode";
	struct nvme_req *r = &reqs[0];
	memset(r, 0, sizeof(*r));
	r->opc = 0x7F;
	r->nsid = 1;
	if (!want_st(name, "I/O opcode 0x7f", nvme_do(N, 1, r), 0, NVME_SC_INVALID_OPCODE))
		return;
	memset(r, 0, sizeof(*r));
	r->opc = 0x03;                           /* reserved admin opcode */
	if (!want_st(name, "admin opcode 0x03", nvme_do(N, 0, r), 0, NVME_SC_INVALID_OPCODE))
		return;
	ok(name);
}

static void check_invalid_ns(void)
{
	const char *name = "invalid_ns";
	struct nvme_req *r = &reqs[0];
	uint32_t bad[3] = { 0, N->nn + 1, 0xFFFFFFFEu };
	char what[64];
	for (int i = 0; i < 3; i++) {
		if (i == 1 && (N->nn >= 0xFFFFFFFDu))
			continue;
		nvme_req_rw(r, 0, bad[i], 0, 1, rbuf, bs);
		snprintf(what, sizeof(what), "read with NSID 0x%x", bad[i]);
		if (!want_st(name, what, nvme_do(N, 1, r), 0, NVME_SC_INVALID_NS))
			return;
	}
	ok(name);
}

/* Invalid Field: FUSE on a non-fused command, a transfer over MDTS, a
 * second Number of Queues after the queues exist (Command Sequence Error). */
static void check_invalid_field(void)
{
	const char *name = "invalid_field";
	struct nvme_req *r = &reqs[0];
	nvme_req_rw(r, 0, 1, 0, 1, rbuf, bs);
	r->sqe_flags = 0x1;                      /* FUSE = first of a fused pair */
	if (!want_st(name, "read with FUSE=01", nvme_do(N, 1, r), 0, NVME_SC_INVALID_FIELD))
		return;
	ok(name);

	if (!N->mdts || (NVME_PAGE << N->mdts) + NVME_PAGE > NVME_MAX_XFER) {
		skip("mdts", "MDTS unlimited or above the driver's transfer cap");
	} else {
		uint32_t len = (NVME_PAGE << N->mdts) + NVME_PAGE;
		nvme_req_rw(r, 0, 1, 0, len / bs, rbuf, len);
		if (want_st("mdts", "read of MDTS + 4 KiB", nvme_do(N, 1, r), 0, NVME_SC_INVALID_FIELD))
			ok("mdts");
	}

	memset(r, 0, sizeof(*r));
	r->opc = NVME_ADM_SET_FEAT;
	r->cdw10 = NVME_FEAT_NUM_QUEUES;
	if (want_st("queues_again", "Set Features Number of Queues after queue creation",
		    nvme_do(N, 0, r), 0, NVME_SC_CMD_SEQ_ERROR))
		ok("queues_again");
}

/* One admin command by hand (queue creation/deletion with bad fields). */
static int admin_raw(uint8_t opc, uint32_t cdw10, uint32_t cdw11, uint64_t prp1)
{
	struct nvme_req *r = &reqs[0];
	memset(r, 0, sizeof(*r));
	r->opc = opc;
	r->cdw10 = cdw10;
	r->cdw11 = cdw11;
	r->flags = NVME_REQ_RAW_PRP;
	r->prp1 = prp1;
	return nvme_do(N, 0, r);
}

/* k = 3: queue creation and deletion errors, then the last I/O queue pair is
 * deleted and created again and must work (fresh head/tail). */
static void check_queue_admin(void)
{
	const char *name = "queue_admin";
	static uint8_t qmem[2 * 4096] __attribute__((aligned(4096)));
	int qid = N->nq, st;
	uint32_t qs = (uint32_t)(N->qsize - 1) << 16;

	if (!want_st(name, "create SQ 1 (in use)", admin_raw(NVME_ADM_CREATE_SQ, qs | 1, 1u << 16 | 1, (uintptr_t)qmem),
		     1, NVME_SC_QID_INVALID))
		return;
	if (!want_st(name, "create CQ 1 (in use)", admin_raw(NVME_ADM_CREATE_CQ, qs | 1, 1, (uintptr_t)qmem),
		     1, NVME_SC_QID_INVALID))
		return;
	if (!want_st(name, "delete CQ 1 (SQ 1 still on it)", admin_raw(NVME_ADM_DELETE_CQ, 1, 0, 0), 1, 0x0C))
		return;
	if (!want_st(name, "delete SQ 0", admin_raw(NVME_ADM_DELETE_SQ, 0, 0, 0), 1, NVME_SC_QID_INVALID))
		return;
	if (!want_st(name, "delete SQ 0xffff", admin_raw(NVME_ADM_DELETE_SQ, 0xFFFF, 0, 0), 1, NVME_SC_QID_INVALID))
		return;
	/* delete the pair with 8 reads in flight: each must complete, normally
	 * or as "Aborted - SQ Deletion" (SCT 0 SC 0x08), before Delete SQ does */
	for (int i = 0; i < 8; i++) {
		struct nvme_req *r = &reqs[8 + i];
		uint32_t rl = 256 * 1024 < xfer ? 256 * 1024 : xfer;      /* big: still in the backend at Delete SQ */
		nvme_req_rw(r, 0, 1, (uint64_t)i * rl / bs, rl / bs, pool + (uint64_t)i * rl, rl);
		r->flags = NVME_REQ_NO_RING;
		if ((st = nvme_submit(N, qid, r))) {
			fail(name, "submit read %d: %s", i, st_text(st));
			return;
		}
	}
	nvme_ring(N, qid);
	st = nvme_queue_delete(N, qid);
	if (st) {
		fail(name, "delete queue pair %d: %s", qid, st_text(st));
		return;
	}
	/* The spec lets the controller abort them (SCT 0 SC 0x08) or finish
	 * them; QEMU 7.2 and bhyve-aot sometimes post no CQE at all for a
	 * command still in the backend (counted as lost).  A lost read must
	 * not write its buffer later: mark it and look again at the end. */
	int normal = 0, aborted = 0, lost = 0, good = 1;
	for (int i = 0; i < 8; i++) {
		int s8 = reqs[8 + i].status;
		if (s8 == 0)
			normal++;
		else if (s8 > 0 && NVME_ST_CODE(s8) == NVME_ST(0, NVME_SC_ABORT_SQ_DEL))
			aborted++;
		else if (s8 == NVME_ERR_ABORTED) {
			lost++;
			memset(reqs[8 + i].buf, 0xEE, reqs[8 + i].len);
		} else {
			fail(name, "read %d in flight at Delete SQ: %s (want success or SQ Deletion)", i, st_text(s8));
			good = 0;
			break;
		}
	}
	printf("info: delete SQ with 8 reads in flight: %d completed, %d aborted (SQ Deletion), %d without a CQE\n",
	       normal, aborted, lost);
	good = good &&
	       want_st(name, "create SQ on a deleted CQ", admin_raw(NVME_ADM_CREATE_SQ, qs | (uint32_t)qid,
		       (uint32_t)qid << 16 | 1, (uintptr_t)qmem), 1, NVME_SC_CQ_INVALID) &&
	       want_st(name, "create CQ with QSIZE 0", admin_raw(NVME_ADM_CREATE_CQ, (uint32_t)qid, 1, (uintptr_t)qmem),
		       1, NVME_SC_QSIZE_INVALID) &&
	       (N->mqes >= 0x10000 ||
		want_st(name, "create CQ with QSIZE > MQES", admin_raw(NVME_ADM_CREATE_CQ, N->mqes << 16 | (uint32_t)qid, 1,
			(uintptr_t)qmem), 1, NVME_SC_QSIZE_INVALID)) &&
	       want_st(name, "create CQ at a page offset", admin_raw(NVME_ADM_CREATE_CQ, qs | (uint32_t)qid, 1,
		       (uintptr_t)qmem + 0x800), 0, NVME_SC_INVALID_PRP_OFF);
	/* created again whatever happened above, so later checks have their queue */
	st = nvme_queue_create(N, qid);
	if (st) {
		fail(name, "create queue pair %d again: %s", qid, st_text(st));
		return;
	}
	if (!good)
		return;
	if (!rw_verify(name, qid, 5 * MiB + 128 * 1024, 16 * 1024, 0, 0, 0, 0, 3) ||
	    !rw_verify(name, qid, 5 * MiB + 256 * 1024, 8 * 1024, 0, 0, 0, 0, 3))
		return;
	for (int i = 0; i < 8; i++) {
		const uint8_t *m = reqs[8 + i].buf;
		if (reqs[8 + i].status != NVME_ERR_ABORTED)
			continue;
		for (uint32_t j = 0; j < reqs[8 + i].len; j++) {
			if (m[j] != 0xEE) {
				fail(name, "read %d without a CQE wrote guest memory after Delete SQ (byte %u is 0x%02x)",
				     i, j, m[j]);
				return;
			}
		}
	}
	ok(name);
}

/* PRP2 used as a data pointer must be page aligned; so must list entries. */
static void check_prp_offset(void)
{
	const char *name = "prp_offset";
	struct nvme_req *r = &reqs[0];
	uint32_t len = (uint32_t)rup(2 * NVME_PAGE, bs);
	nvme_req_rw(r, 0, 1, 0, len / bs, rbuf, len);
	r->flags = NVME_REQ_RAW_PRP;
	r->prp1 = (uintptr_t)rbuf;
	r->prp2 = (uintptr_t)rbuf + NVME_PAGE + 0x100;
	if (!want_st(name, "PRP2 data pointer with offset 0x100", nvme_do(N, 1, r), 0, NVME_SC_INVALID_PRP_OFF))
		return;
	static uint64_t list[512] __attribute__((aligned(4096)));
	len = (uint32_t)rup(3 * NVME_PAGE, bs);
	list[0] = (uintptr_t)rbuf + NVME_PAGE;
	list[1] = (uintptr_t)rbuf + 2 * NVME_PAGE + 0x200;
	nvme_req_rw(r, 0, 1, 0, len / bs, rbuf, len);
	r->flags = NVME_REQ_RAW_PRP;
	r->prp1 = (uintptr_t)rbuf;
	r->prp2 = (uintptr_t)list;
	if (!want_st(name, "PRP list entry with offset 0x200", nvme_do(N, 1, r), 0, NVME_SC_INVALID_PRP_OFF))
		return;
	ok(name);
}

/* k = 8/9: a controller reset (CC.EN=0) with commands in flight, then the
 * whole bring-up again; the controller must work afterwards. */
static void check_reset(void)
{
	/* reset=1 (default): reset with the commands in flight; reset=2: let
	 * them complete first (QEMU 7.2's nvme device crashes now and then -
	 * SIGSEGV - when reset with I/O in flight); reset=0: skip. */
	unsigned long mode = cmdline_get_ulong("reset", 1);
	const char *name = mode == 2 ? "reset_idle" : "reset_inflight";
	if (!mode) {
		skip(name, "reset=0");
		return;
	}
	uint64_t base = 12 * MiB;
	enum { n = 24 };
	uint32_t len = 64 * 1024;
	if (len > xfer)
		len = xfer;
	for (int i = 0; i < n; i++) {
		struct nvme_req *r = &reqs[i];
		uint64_t off = base + (uint64_t)i * len;
		int write = i % 3 != 2;
		uint8_t *b = pool + (uint64_t)i * len % (BUFSZ - len);
		if (write)
			dm_fill(b, off, len, 8);
		nvme_req_rw(r, write, 1, off / bs, len / bs, b, len);
		r->cookie = (void *)(uintptr_t)(i + 1);
		int st = nvme_submit(N, 1 + i % N->nq, r);
		if (st) {
			fail(name, "submit %d: %s", i, st_text(st));
			return;
		}
		if (write)
			dm_set(off, len, DM_UNKNOWN);      /* may or may not reach the disk */
	}
	if (mode == 2) {
		for (int q = 1; q <= N->nq; q++) {
			while (nvme_inflight(N, q)) {
				if (!nvme_wait(N, q)) {
					fail(name, "commands did not complete before the reset");
					return;
				}
			}
		}
	}
	int completed = 0, aborted = 0;
	uint64_t t0 = rdtsc();
	/* Once RDY reads 0 the controller may not touch guest memory: mark
	 * every read buffer now and check the marks after the bring-up and
	 * more I/O (a read still running in the device would overwrite them). */
	int rc = nvme_disable(N);
	if (rc) {
		fail(name, "CSTS.RDY did not clear after CC.EN=0: %s", nvme_strerror(rc));
		return;
	}
	uint8_t *marked[24];
	for (int i = 0; i < n; i++) {
		marked[i] = reqs[i].opc == NVME_IO_READ ? reqs[i].buf : NULL;
		if (marked[i])
			memset(marked[i], 0xEE, len);
	}
	rc = nvme_reset(N, &completed, &aborted);
	uint64_t t1 = rdtsc();
	int good = 0, failed = 0, lost = 0;
	for (int i = 0; i < n; i++) {
		if (!reqs[i].done) {
			fail(name, "command %d neither completed nor reported lost", i + 1);
			return;
		}
		if (reqs[i].status == NVME_ERR_ABORTED)
			lost++;
		else if (reqs[i].status)
			failed++;
		else
			good++;
	}
	printf("info: reset with %d commands submitted (%s): %d completed (%d with an error status), "
	       "%d lost; reset + bring-up %llu tsc cycles\n", n,
	       mode == 2 ? "all completed first" : "in flight", good + failed, failed, lost,
	       (unsigned long long)(t1 - t0));
	if (rc) {
		fail(name, "bring-up after reset: %d (%s) %s %s", rc, nvme_strerror(rc), N->init_step,
		     N->init_status ? st_text(N->init_status) : "");
		return;
	}
	if (mode == 2 && lost) {
		fail(name, "%d commands lost although all had completed", lost);
		return;
	}
	if (lost != aborted) {
		fail(name, "driver reported %d lost, requests say %d", aborted, lost);
		return;
	}
	/* the controller works again: rewrite the range and verify it */
	if (write_pat(base, (uint64_t)n * len, 9)) {
		fail(name, "write after reset failed");
		return;
	}
	if (!read_check(name, base, (uint64_t)n * len))
		return;
	for (int i = 0; i < n; i++) {
		const uint8_t *b = marked[i];
		if (!b)
			continue;
		for (uint32_t j = 0; j < len; j++) {
			if (b[j] != 0xEE) {
				fail(name, "read %d wrote guest memory after CSTS.RDY=0 (byte %u is 0x%02x)", i + 1, j, b[j]);
				return;
			}
		}
	}
	ok(name);
}

static void check_shadow(void)
{
	int want = cmdline_get_ulong("shadow_db", 0) != 0;
	if (!want) {
		skip("shadow_db", "shadow_db=0");
		return;
	}
	if (!(N->oacs & (1u << 8))) {
		if (cmdline_get_ulong("expect_shadow", 0))
			fail("shadow_db", "OACS bit 8 (Doorbell Buffer Config) not set");
		else
			skip("shadow_db", "OACS bit 8 (Doorbell Buffer Config) not set");
		return;
	}
	if (!N->shadow) {
		fail("shadow_db", "Doorbell Buffer Config not in use");
		return;
	}
	ok("shadow_db");
}

static void check_read_only(void)
{
	struct nvme_req *r = &reqs[0];
	uint64_t offs[3] = { 0, rdown(disk_bytes / 2, bs), disk_bytes - bs };
	uint8_t before[512];
	int st;

	for (int i = 0; i < 3; i++) {
		st = io(0, offs[i], rbuf, bs);
		if (st) {
			fail("ro_read", "read %llu: %s", (unsigned long long)offs[i], st_text(st));
			return;
		}
	}
	ok("ro_read");

	io(0, 0, rbuf, bs);
	memcpy(before, rbuf, 512);
	/* The exact status of a write to a read-only namespace.  A namespace
	 * that reports write protection (NSATTR bit 0) must abort writes with
	 * "Namespace is Write Protected" (SCT 0 SC 0x20, NVMe 1.4 namespace
	 * write protection).  Without it the spec's closest status is SCT 1
	 * SC 0x82 "Attempted Write to Read Only Range".  QEMU 7.2 has no write
	 * protection: a readonly=on drive fails the host write (EPERM) and
	 * answers Write Fault (SCT 2 SC 0x80), so its test passes ro_status=0x280. */
	unsigned long ro = cmdline_get_ulong("ro_status", (N->ns1.nsattr & 1) ? 0x020 : 0x182);
	int sct = (int)(ro >> 8), sc = (int)(ro & 0xFF);
	dm_fill(wbuf, 0, bs, 7);
	nvme_req_rw(r, 1, 1, 0, 1, wbuf, bs);
	if (want_st("ro_write", "write", nvme_do(N, 1, r), sct, sc)) {
		memset(rbuf, 0x5A, bs);
		st = io(0, 0, rbuf, bs);
		if (st)
			fail("ro_write", "read after write: %s", st_text(st));
		else if (memcmp(before, rbuf, 512) != 0)
			fail("ro_write", "block 0 changed after a refused write");
		else
			ok("ro_write");
	}
	/* Write Zeroes and Deallocate: with ONCS advertising them, the exact
	 * read-only status; when the device leaves them out on a read-only
	 * namespace, anything but success.  Block 0 must not change either way. */
	nvme_req_write_zeroes(r, 1, 0, 1, 0);
	st = nvme_do(N, 1, r);
	printf("info: write zeroes on the read-only namespace: %s\n", st_text(st));
	if ((N->oncs & (1u << 3)) ? want_st("ro_write_zeroes", "write zeroes", st, sct, sc)
				  : (st == 0 ? (fail("ro_write_zeroes", "succeeded"), 0) : 1)) {
		memset(rbuf, 0x5A, bs);
		if (io(0, 0, rbuf, bs) || memcmp(before, rbuf, 512) != 0)
			fail("ro_write_zeroes", "block 0 changed (or unreadable) after write zeroes");
		else
			ok("ro_write_zeroes");
	}
	dsm_ranges[0] = (struct nvme_dsm_range){ 0, 8, 0 };
	nvme_req_dsm(r, 1, dsm_ranges, 1);
	st = nvme_do(N, 1, r);
	printf("info: deallocate on the read-only namespace: %s\n", st_text(st));
	memset(rbuf, 0x5A, bs);
	if (io(0, 0, rbuf, bs) || memcmp(before, rbuf, 512) != 0)
		fail("ro_dsm", "block 0 changed (or unreadable) after a deallocate");
	else
		ok("ro_dsm");

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

/* Last: a normal shutdown (CC.SHN=01 -> CSTS.SHST=10b), then a reset and
 * one read, so the controller comes back after a shutdown too. */
static void check_shutdown(void)
{
	const char *name = "shutdown";
	uint64_t t0 = rdtsc();
	int rc = nvme_shutdown(N);
	if (rc) {
		fail(name, "CSTS.SHST did not report complete: %s", nvme_strerror(rc));
		return;
	}
	printf("info: shutdown took %llu tsc cycles\n", (unsigned long long)(rdtsc() - t0));
	rc = nvme_reset(N, NULL, NULL);
	if (rc) {
		fail(name, "bring-up after shutdown: %d (%s) %s %s", rc, nvme_strerror(rc), N->init_step,
		     N->init_status ? st_text(N->init_status) : "");
		return;
	}
	if (read_check(name, 0, bs))
		ok(name);
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
	printf("nvme-selftest: NVMe self-test\n");
	discard_zeroes = cmdline_get_ulong("discard_zeroes", 0) != 0;
	struct nvme_opts o = {
		.io_queues = (int)cmdline_get_ulong("queues", 2),
		.qsize = (int)cmdline_get_ulong("qsize", 64),
		.shadow_db = cmdline_get_ulong("shadow_db", 0) != 0,
		.timeout_tsc = cmdline_get_ulong("nvme_timeout_tsc", 0),
	};

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

	int rc = nvme_init(N, (int)cmdline_get_ulong("nvme_index", 0), &o);
	if (rc) {
		fail("init", "nvme_init: %d (%s)%s%s%s", rc, nvme_strerror(rc), N->init_step ? ": " : "",
		     N->init_step ? N->init_step : "", N->init_status ? st_text(N->init_status) : "");
		goto out;
	}
	for (int i = 0; i < 6; i++) {
		const struct pci_bar *b = &N->pci.bar[i];
		if (b->size)
			printf("info: bar%d 0x%llx size 0x%llx%s%s%s\n", i, (unsigned long long)b->addr,
			       (unsigned long long)b->size, b->is_io ? " io" : b->is_64 ? " mem64" : " mem32",
			       b->prefetch ? " prefetch" : "", b->assigned ? " (assigned by guest)" : " (preset)");
	}
	printf("info: cap 0x%016llx vs 0x%08x mqes %u dstrd %u\n", (unsigned long long)N->cap, N->vs,
	       N->mqes, N->dstrd);
	printf("info: vid 0x%04x sn \"%s\" mn \"%s\" fr \"%s\" mdts %u nn %u oacs 0x%04x oncs 0x%04x vwc 0x%02x\n",
	       N->vid, N->sn, N->mn, N->fr, N->mdts, N->nn, N->oacs, N->oncs, N->vwc);
	printf("info: ns1 nsze %llu lba size %u flbas 0x%02x nlbaf %u dlfeat 0x%02x nsattr 0x%02x\n",
	       (unsigned long long)N->ns1.nsze, N->ns1.lba_size, N->ns1.flbas, N->ns1.nlbaf,
	       N->ns1.dlfeat, N->ns1.nsattr);
	printf("info: %d I/O queue pair(s) of %u entries (asked %d; allocated %u SQ %u CQ), shadow doorbells %s\n",
	       N->nq, N->nq ? N->q[1].size : 0, o.io_queues, N->nsqa, N->ncqa, N->shadow ? "on" : "off");
	ok("init");

	bs = N->ns1.lba_size;
	if (!bs || bs > 4096) {
		fail("config", "LBA size %u (LBADS %u) unsupported (512..4096)", bs, N->ns1.lbads);
		goto out;
	}
	if (!N->ns1.nsze || N->nq < 1) {
		fail("config", "NSZE %llu, %d I/O queues", (unsigned long long)N->ns1.nsze, N->nq);
		goto out;
	}
	disk_bytes = N->ns1.nsze * bs;
	xfer = (uint32_t)rdown(N->max_xfer, bs);
	unsigned long want_bs = cmdline_get_ulong("expect_lba_size", 0);
	if (want_bs && want_bs != bs) {
		fail("config", "LBA size %u, expected %lu", bs, want_bs);
		goto out;
	}
	ok("config");

	check_identify();
	check_shadow();
	int read_only = cmdline_get_ulong("read_only", 0) != 0 || (N->ns1.nsattr & 1);
	if (read_only) {
		printf("info: read-only namespace: write checks replaced by read-only checks\n");
		check_read_only();
		check_lba_range(0);
		check_invalid_opcode();
		check_invalid_ns();
		check_flush();
	} else if (disk_bytes < 16 * MiB) {
		fail("disk_size", "need at least 16 MiB for the write checks, have %llu bytes",
		     (unsigned long long)disk_bytes);
	} else {
		check_write_read();
		check_prp_chain();
		check_inflight();
		check_queue_wrap();
		check_qd1_latency();
		check_flush();
		check_dsm();
		check_write_zeroes();
		check_lba_range(1);
		check_invalid_opcode();
		check_invalid_ns();
		check_invalid_field();
		check_queue_admin();
		check_prp_offset();
		check_reset();
		check_flush();
	}
	if (!N->broken) {
		final_verify();
		check_shutdown();
	}
	dm_print();
out:
	printf("nvme-selftest: %d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
