/*
 * hvt-net: the network hypercalls on the manifest device "service" (handle
 * 1).  Sends one broadcast frame (EtherType 0x88B5, local experimental) from
 * the MAC the tender assigned, then polls up to about five seconds for a
 * frame from the host and reports its size and EtherType.  Halts with 0, or
 * says what failed and halts with 3.
 */
#include "hvt.h"

MFT_NOTE(1, { .name = "service", .type = MFT_DEV_NET_BASIC });

static u8 frame[1514];

static int fail(const char *what)
{
	puts("net: FAIL ");
	puts(what);
	puts("\n");
	return 3;
}

static void put_hex(u64 v, int digits)
{
	char buf[16];
	for (int i = digits - 1; i >= 0; i--, v >>= 4) buf[i] = "0123456789abcdef"[v & 15];
	puts_n(buf, (u64)digits);
}

int hvt_main(const char *cmdline)
{
	(void)cmdline;
	const struct mft_entry *e = mft_entry(1);
	if (!e || !e->attached || e->type != MFT_DEV_NET_BASIC) return fail("manifest entry 1 is not an attached network device");
	puts("net: mac ");
	for (int i = 0; i < 6; i++) {
		put_hex(e->u.net.mac[i], 2);
		if (i < 5) puts(":");
	}
	puts(" mtu ");
	put_u64(e->u.net.mtu);
	puts("\n");

	for (int i = 0; i < 6; i++) frame[i] = 0xFF, frame[6 + i] = e->u.net.mac[i];
	frame[12] = 0x88, frame[13] = 0xB5;
	const char *text = "bhyve-aot hvt-net";
	for (int i = 0; text[i]; i++) frame[14 + i] = (u8)text[i];
	volatile struct hc_net w = { 1, (u64)frame, 60, -1 };
	hvt_hypercall(HC_NET_WRITE, &w);
	if (w.ret != R_OK) return fail("net write");
	puts("net: sent 60 bytes\n");

	for (int tries = 0; tries < 50; tries++) {
		volatile struct hc_poll p = { 100000000ULL, 0, -1 };
		hvt_hypercall(HC_POLL, &p);
		if (!(p.ready_set & 2)) continue;
		volatile struct hc_net r = { 1, (u64)frame, sizeof frame, -1 };
		hvt_hypercall(HC_NET_READ, &r);
		if (r.ret == R_AGAIN) continue;
		if (r.ret != R_OK) return fail("net read");
		puts("net: received ");
		put_u64(r.len);
		puts(" bytes, ethertype 0x");
		put_hex((u64)frame[12] << 8 | frame[13], 4);
		puts("\n");
		return 0;
	}
	return fail("nothing received");
}
