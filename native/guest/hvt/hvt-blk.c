/*
 * hvt-blk: block I/O through the hvt hypercalls on the manifest device
 * "storage" (handle 1).  Writes a pattern to the first and last blocks, reads
 * them back, copies block 1 (prepared by the host) to block 2 with every byte
 * plus one, and checks that an out-of-range request is refused.  Prints
 * "blk: ok" and halts with 0, or says what failed and halts with 3.
 */
#include "hvt.h"

MFT_NOTE(1, { .name = "storage", .type = MFT_DEV_BLOCK_BASIC });

static u8 buf[512], check[512];

static int io(int call, u64 offset, u8 *data, u64 len)
{
	volatile struct hc_block b = { 1, offset, (u64)data, len, -1 };
	hvt_hypercall(call, &b);
	return b.ret;
}

static int fail(const char *what)
{
	puts("blk: FAIL ");
	puts(what);
	puts("\n");
	return 3;
}

static void pattern(u8 *p, u64 block)
{
	for (int i = 0; i < 512; i++) p[i] = (u8)(i * 7 + block * 13 + 1);
}

static int same(const u8 *a, const u8 *b)
{
	for (int i = 0; i < 512; i++)
		if (a[i] != b[i]) return 0;
	return 1;
}

int hvt_main(const char *cmdline)
{
	(void)cmdline;
	const struct mft_entry *e = mft_entry(1);
	if (!e || !e->attached || e->type != MFT_DEV_BLOCK_BASIC) return fail("manifest entry 1 is not an attached block device");
	u64 capacity = e->u.block.capacity;
	puts("blk: capacity ");
	put_u64(capacity);
	puts(" block ");
	put_u64(e->u.block.block_size);
	puts("\n");
	if (e->u.block.block_size != 512 || capacity < 4 * 512) return fail("geometry");
	u64 last = capacity / 512 - 1;

	pattern(buf, 0);
	if (io(HC_BLOCK_WRITE, 0, buf, 512) != R_OK) return fail("write block 0");
	pattern(buf, last);
	if (io(HC_BLOCK_WRITE, last * 512, buf, 512) != R_OK) return fail("write last block");
	if (io(HC_BLOCK_READ, 0, check, 512) != R_OK) return fail("read block 0");
	pattern(buf, 0);
	if (!same(buf, check)) return fail("block 0 reads back different");
	if (io(HC_BLOCK_READ, last * 512, check, 512) != R_OK) return fail("read last block");
	pattern(buf, last);
	if (!same(buf, check)) return fail("last block reads back different");

	if (io(HC_BLOCK_READ, 512, buf, 512) != R_OK) return fail("read block 1");
	for (int i = 0; i < 512; i++) buf[i]++;
	if (io(HC_BLOCK_WRITE, 1024, buf, 512) != R_OK) return fail("write block 2");

	if (io(HC_BLOCK_WRITE, capacity, buf, 512) != R_EINVAL) return fail("write past the end accepted");
	if (io(HC_BLOCK_READ, capacity - 256, buf, 512) != R_EINVAL) return fail("read across the end accepted");
	puts("blk: ok\n");
	return 0;
}
