/*
 * The Solo5 hvt ABI as the guest sees it, written from Solo5's public headers
 * (hvt_abi.h, mft_abi.h, elf_abi.h): boot info, hypercall structs and port
 * numbers, and the two ELF notes ("Solo5" ABI1 and MFT1) a tender reads.
 */
#ifndef HVT_H
#define HVT_H

#include <stdint.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

#define HVT_ABI_TARGET   1
#define HVT_ABI_VERSION  1
#define HVT_PIO_BASE     0x500

enum {
	HC_WALLTIME = 1, HC_PUTS, HC_POLL, HC_BLOCK_WRITE, HC_BLOCK_READ,
	HC_NET_WRITE, HC_NET_READ, HC_HALT,
};

enum { R_OK = 0, R_AGAIN = 1, R_EINVAL = 2, R_EUNSPEC = 3 };
#define EXIT_ABORT 255

struct hvt_boot_info {
	u64 mem_size;
	u64 kernel_end;
	u64 cpu_cycle_freq;
	u64 cmdline;            /* const char * */
	u64 mft;                /* struct mft * (the tender's copy) */
};

struct hc_walltime { u64 nsecs; };
struct hc_puts { u64 data; u64 len; };
struct hc_poll { u64 timeout_nsecs; u64 ready_set; int ret; };
struct hc_block { u64 handle; u64 offset; u64 data; u64 len; int ret; };
struct hc_net { u64 handle; u64 data; u64 len; int ret; };
struct hc_halt { u64 cookie; int exit_status; };

/* Manifest (mft_abi.h, MFT_VERSION 1). */
#define MFT_VERSION          1
#define MFT_DEV_BLOCK_BASIC  1
#define MFT_DEV_NET_BASIC    2
#define MFT_RESERVED_FIRST   (1U << 30)

struct mft_entry {
	char name[68];
	u32 type;
	union {
		struct { u64 capacity; u16 block_size; } block;
		struct { u8 mac[6]; u16 mtu; } net;
	} u;
	union { int hostfd; void *data; } b;
	_Bool attached;
};

struct mft_header { u32 version; u32 entries; };

/* Note header: namesz, descsz, type, "Solo5\0" padded to 8 bytes. */
struct solo5_nhdr { u32 namesz; u32 descsz; u32 type; char name[8]; };

#define ABI1_NOTE_TYPE 0x31494241   /* "ABI1" */
#define MFT1_NOTE_TYPE 0x3154464d   /* "MFT1" */

/* Declares the manifest note with n entries after the reserved entry 0. */
#define MFT_NOTE(n, ...) \
	const struct { \
		struct solo5_nhdr h; \
		struct { struct mft_header m; struct mft_entry e[(n) + 1]; } __attribute__((aligned(8))) body; \
	} __solo5_mft1_note __attribute__((section(".note.solo5.manifest"), aligned(8), used)) = { \
		.h = { 6, sizeof(__solo5_mft1_note) - sizeof(struct solo5_nhdr), MFT1_NOTE_TYPE, "Solo5" }, \
		.body = { { MFT_VERSION, (n) + 1 }, { { .type = MFT_RESERVED_FIRST }, __VA_ARGS__ } }, \
	}

static inline void hvt_hypercall(int n, volatile void *arg)
{
	__asm__ __volatile__("outl %0, %1" : : "a"((u32)(u64)arg), "d"((u16)(HVT_PIO_BASE + n)) : "memory");
}

/* Runtime (hvt_rt.c). */
extern struct hvt_boot_info *boot_info;
int hvt_main(const char *cmdline);
void puts_n(const char *s, u64 len);
void puts(const char *s);
void put_u64(u64 v);
void halt(int status) __attribute__((noreturn));
u64 walltime(void);
const struct mft_entry *mft_entry(u32 handle);
int has_word(const char *cmdline, const char *word);
u64 word_value(const char *cmdline, const char *key, u64 fallback);

#endif
