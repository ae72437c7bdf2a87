/* storage-bench: the guest half of `bhyve-aot bench storage`.  Drives a polled block driver with N requests in
 * flight, timestamps every request with the TSC and prints one parseable result line.  The same ELF runs on
 * bhyve-aot and on QEMU, so both VMMs do identical guest work.
 *
 * cmdline:
 *   dev=virtio-blk|nvme     which driver (default virtio-blk)
 *   wl=randread|randwrite|seqread|seqwrite|mixed|flushwrite|discard
 *   bs=BYTES                request size (4K default; for discard: the range deallocated by one operation)
 *   qd=N                    requests in flight, 1..64
 *   ms=N                    time-based: stop submitting after N ms (needs tsc_khz); count=N caps the operations
 *   count=N                 count-based (default 10000 when ms is absent)
 *   tsc_khz=K               the host's KVM_GET_TSC_KHZ, so the guest can keep time (cycles are printed anyway)
 *   rmix=P                  mixed: percentage of reads (default 70)
 *   span=BYTES              random and sequential offsets stay below this (default: the whole disk)
 *
 * Output (one line each):
 *   info: <free text>
 *   error: <free text>                                   (then exit 2 or 3)
 *   result: dev=virtio-blk wl=randread bs=4096 qd=32 ops=N reads=N writes=N flushes=N bytes=N cycles=N tsc_khz=K
 *           lat_p50=C lat_p90=C lat_p99=C lat_p999=C lat_min=C lat_max=C kicks=N   (latencies in TSC cycles)
 *
 * An operation is one request, except: flushwrite = one 4K write then one FLUSH (latency from the write's
 * submission to the flush's completion); discard = one range of bs bytes, split into as many DISCARD requests as
 * the device's limits require, all in flight together (latency from the first submission to the last completion).
 * Latency percentiles come from a log-linear histogram (64 sub-buckets per power of two: within 1.6%). */
#include "rt.h"
#include "virtio_blk.h"
#include "bench_dev.h"

#define MAX_QD 64
#define MAX_BS (128 * 1024)

static uint8_t buffers[MAX_QD][MAX_BS] __attribute__((aligned(4096)));
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---- latency histogram: values < 64 exact, above that 64 sub-buckets per power of two ---- */
#define SUB_BITS 6
#define SUB (1u << SUB_BITS)
#define NBUCKETS ((64 - SUB_BITS + 1) * SUB)
static uint32_t hist[NBUCKETS];
static uint64_t hist_n, hist_min = ~0ull, hist_max;

static unsigned bucket_of(uint64_t v)
{
	if (v < SUB) return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v);           /* >= SUB_BITS */
	return (e - SUB_BITS + 1) * SUB + (unsigned)((v >> (e - SUB_BITS)) & (SUB - 1));
}

/* The middle of a bucket's range (exact below SUB). */
static uint64_t bucket_value(unsigned b)
{
	if (b < SUB) return b;
	unsigned e = b / SUB + SUB_BITS - 1, m = b % SUB;
	uint64_t lo = ((uint64_t)(SUB + m)) << (e - SUB_BITS);
	uint64_t width = 1ull << (e - SUB_BITS);
	return lo + width / 2;
}

static void record(uint64_t cycles)
{
	hist[bucket_of(cycles)]++;
	hist_n++;
	if (cycles < hist_min) hist_min = cycles;
	if (cycles > hist_max) hist_max = cycles;
}

/* Nearest rank: the smallest value with at least ceil(p * n) samples at or below it; p in parts per 1000. */
static uint64_t percentile(unsigned permille)
{
	if (hist_n == 0) return 0;
	uint64_t rank = (hist_n * permille + 999) / 1000;
	if (rank == 0) rank = 1;
	uint64_t seen = 0;
	for (unsigned b = 0; b < NBUCKETS; b++) {
		seen += hist[b];
		if (seen >= rank) {
			uint64_t v = bucket_value(b);
			return v > hist_max ? hist_max : v < hist_min ? hist_min : v;
		}
	}
	return hist_max;
}

/* ---- workloads ---- */
enum wl { WL_RANDREAD, WL_RANDWRITE, WL_SEQREAD, WL_SEQWRITE, WL_MIXED, WL_FLUSHWRITE, WL_DISCARD };
static const char *const wl_names[] = { "randread", "randwrite", "seqread", "seqwrite", "mixed", "flushwrite", "discard" };

struct op {
	int busy;
	int write;                 /* read/write workloads: this one writes */
	int pending;               /* requests of this operation still in flight */
	int phase;                 /* flushwrite: 0 = write in flight, 1 = flush in flight */
	uint64_t next_off, left;   /* discard: the part of the range not yet submitted */
	uint64_t t0;
};

#define DISCARD_WINDOW 32          /* discard chunks in flight at once (tags 0..31; discard runs at qd 1) */

static struct op ops[MAX_QD];
static enum wl wl;
static uint32_t bs;
static uint64_t span_blocks, seq_next, rmix;
static uint64_t n_reads, n_writes, n_flushes, n_bytes, n_discards;
static struct bench_dev *dev;

static int submit_discard_chunk(struct op *o, int tag)
{
	uint64_t chunk = dev->max_discard_bytes ? dev->max_discard_bytes : o->left;
	uint64_t n = o->left < chunk ? o->left : chunk;
	int rc = dev->submit(dev, tag, BENCH_OP_DISCARD, o->next_off, (uint32_t)n, 0);
	if (rc < 0) return rc;
	o->pending++;
	o->next_off += n;
	o->left -= n;
	return 0;
}

static void copy_text(char *d, const char *s, int len)
{
	int i = 0;
	for (; s[i] && i < len - 1; i++) d[i] = s[i];
	d[i] = 0;
}

/* Starts operation `slot` (its buffer is buffers[slot]).  Returns 0 or a negative driver error. */
static int start_op(int slot, uint64_t index)
{
	struct op *o = &ops[slot];
	o->busy = 1;
	o->phase = 0;
	o->t0 = rdtsc();
	switch (wl) {
	case WL_DISCARD: {
		/* Range `index` of bs bytes, in chunks the device accepts, up to DISCARD_WINDOW in flight. */
		o->next_off = index * (uint64_t)bs;
		o->left = bs;
		o->pending = 0;
		for (int tag = 0; tag < DISCARD_WINDOW && o->left; tag++) {
			int rc = submit_discard_chunk(o, tag);
			if (rc < 0) return rc;
		}
		return 0;
	}
	case WL_FLUSHWRITE:
	case WL_RANDREAD:
	case WL_RANDWRITE:
	case WL_MIXED: {
		int write = o->write = wl == WL_RANDWRITE || wl == WL_FLUSHWRITE ||
		            (wl == WL_MIXED && next_random() % 100 >= rmix);
		uint64_t off = (next_random() % span_blocks) * bs;
		o->pending = 1;
		return dev->submit(dev, slot, write ? BENCH_OP_WRITE : BENCH_OP_READ, off, bs, buffers[slot]);
	}
	case WL_SEQREAD:
	case WL_SEQWRITE: {
		uint64_t off = seq_next * bs;
		seq_next = (seq_next + 1) % span_blocks;
		o->write = wl == WL_SEQWRITE;
		o->pending = 1;
		return dev->submit(dev, slot, wl == WL_SEQWRITE ? BENCH_OP_WRITE : BENCH_OP_READ, off, bs, buffers[slot]);
	}
	}
	return -1;
}

static int parse_wl(const char *s)
{
	for (unsigned i = 0; i < sizeof(wl_names) / sizeof(wl_names[0]); i++)
		if (strcmp(s, wl_names[i]) == 0) return (int)i;
	return -1;
}

int guest_main(const struct hvm_start_info *si)
{
	(void)si;
	char text[32];
	if (cmdline_get("wl", text, sizeof(text)) < 0) copy_text(text, "randread", sizeof(text));
	int w = parse_wl(text);
	if (w < 0) { printf("error: unknown wl=%s\n", text); return 2; }
	wl = (enum wl)w;
	if (cmdline_get("dev", text, sizeof(text)) < 0) copy_text(text, "virtio-blk", sizeof(text));
	dev = bench_dev_find(text);
	if (!dev) { printf("error: unknown dev=%s (virtio-blk or nvme)\n", text); return 2; }

	int qd = (int)cmdline_get_ulong("qd", 1);
	bs = (uint32_t)cmdline_get_ulong("bs", 4096);
	unsigned long tsc_khz = cmdline_get_ulong("tsc_khz", 0);
	unsigned long ms = cmdline_get_ulong("ms", 0);
	unsigned long count = cmdline_get_ulong("count", ms ? ~0ul : 10000);
	rmix = cmdline_get_ulong("rmix", 70);
	if (qd < 1 || qd > MAX_QD || bs < 512 || bs % 512 != 0 || (wl != WL_DISCARD && bs > MAX_BS) || rmix > 100) {
		printf("error: bad parameters (qd 1..%d, bs 512..%d in 512-byte steps, rmix 0..100)\n", MAX_QD, MAX_BS);
		return 2;
	}
	if (ms && !tsc_khz) { printf("error: ms= needs tsc_khz=\n"); return 2; }
	if (wl == WL_FLUSHWRITE || wl == WL_DISCARD) qd = 1;   /* latency series: one operation at a time */

	if (pci_init() == PCI_MECH_NONE) { printf("error: no PCI\n"); return 2; }
	int rc = dev->init(dev);
	if (rc < 0) { printf("error: %s init: %s\n", dev->name, dev->strerror(rc)); return 2; }
	uint64_t span = cmdline_get_ulong("span", dev->capacity_bytes);
	if (span > dev->capacity_bytes) span = dev->capacity_bytes;
	span_blocks = span / bs;
	if (span_blocks == 0) { printf("error: disk (%llu bytes) smaller than bs\n", (unsigned long long)span); return 2; }
	if (wl == WL_DISCARD) {
		if (!dev->can_discard) { printf("error: %s offers no discard\n", dev->name); return 2; }
		if (count > span_blocks) count = span_blocks;   /* every range distinct: discarding a hole again is free */
	}
	printf("info: %s capacity=%llu bytes, wl=%s bs=%u qd=%d\n", dev->name,
	       (unsigned long long)dev->capacity_bytes, wl_names[wl], bs, qd);

	uint64_t deadline = ms ? rdtsc() + (uint64_t)ms * tsc_khz : ~0ull;
	unsigned long started = 0, completed = 0;
	int inflight_ops = 0;
	uint64_t start = rdtsc();
	for (int i = 0; i < qd && started < count; i++, started++) {
		if ((rc = start_op(i, started)) < 0) { printf("error: submit: %s\n", dev->strerror(rc)); return 3; }
		inflight_ops++;
	}
	while (inflight_ops > 0) {
		int status, tag = dev->wait(dev, &status);
		if (tag < 0) { printf("error: %s: %s after %lu operations\n", dev->name, dev->strerror(tag), completed); return 3; }
		if (status != 0) { printf("error: %s request failed with status %d\n", dev->name, status); return 3; }
		int slot = wl == WL_DISCARD ? 0 : tag;
		struct op *o = &ops[slot];
		if (slot >= qd || !o->busy) { printf("error: completion for idle slot %d\n", slot); return 3; }
		o->pending--;
		if (wl == WL_DISCARD && o->left) {
			if ((rc = submit_discard_chunk(o, tag)) < 0) { printf("error: submit: %s\n", dev->strerror(rc)); return 3; }
			continue;
		}
		if (o->pending > 0) continue;
		if (wl == WL_FLUSHWRITE && o->phase == 0) {
			n_writes++;
			n_bytes += bs;
			o->phase = 1;
			o->pending = 1;
			if ((rc = dev->submit(dev, slot, BENCH_OP_FLUSH, 0, 0, 0)) < 0) {
				printf("error: submit: %s\n", dev->strerror(rc));
				return 3;
			}
			continue;
		}
		uint64_t now = rdtsc();
		record(now - o->t0);
		o->busy = 0;
		inflight_ops--;
		completed++;
		switch (wl) {
		case WL_FLUSHWRITE: n_flushes++; break;
		case WL_DISCARD: n_discards++; break;
		default:
			if (o->write) n_writes++; else n_reads++;
			n_bytes += bs;
		}
		if (started < count && now < deadline) {
			if ((rc = start_op(slot, started)) < 0) { printf("error: submit: %s\n", dev->strerror(rc)); return 3; }
			started++;
			inflight_ops++;
		}
	}
	uint64_t cycles = rdtsc() - start;
	printf("result: dev=%s wl=%s bs=%u qd=%d ops=%lu reads=%llu writes=%llu flushes=%llu discards=%llu bytes=%llu "
	       "cycles=%llu tsc_khz=%lu lat_p50=%llu lat_p90=%llu lat_p99=%llu lat_p999=%llu lat_min=%llu lat_max=%llu kicks=%llu\n",
	       dev->name, wl_names[wl], bs, qd, completed, (unsigned long long)n_reads, (unsigned long long)n_writes,
	       (unsigned long long)n_flushes, (unsigned long long)n_discards, (unsigned long long)n_bytes,
	       (unsigned long long)cycles, tsc_khz,
	       (unsigned long long)percentile(500), (unsigned long long)percentile(900), (unsigned long long)percentile(990),
	       (unsigned long long)percentile(999), (unsigned long long)(hist_n ? hist_min : 0), (unsigned long long)hist_max,
	       (unsigned long long)dev->doorbells(dev));
	return 0;
}
