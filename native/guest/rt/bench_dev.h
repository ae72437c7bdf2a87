/* A block device as the storage benchmark sees it: submit a tagged request, wait for a completion.  One adapter
 * per polled driver (bench_dev_vblk.c, ...), so storage-bench does identical work on every device kind. */
#ifndef RT_BENCH_DEV_H
#define RT_BENCH_DEV_H

#include <stdint.h>

#define BENCH_DEV_TAGS 128          /* tags 0..127: at most this many requests in flight */

enum bench_op { BENCH_OP_READ, BENCH_OP_WRITE, BENCH_OP_FLUSH, BENCH_OP_DISCARD };

#define BENCH_DEV_ERR_NOTAG   (-100)  /* tag out of range or already in flight */
#define BENCH_DEV_ERR_RANGE   (-101)  /* offset/length not on a block boundary or past the end */

struct bench_dev {
	const char *name;                           /* "virtio-blk", "nvme": as on the command line */
	/* Finds and sets up the first device of this kind; 0 or a negative driver error. */
	int (*init)(struct bench_dev *d);
	/* Queues one request (non-blocking, kicks the device); buf is unused by FLUSH and DISCARD. 0 or < 0. */
	int (*submit)(struct bench_dev *d, int tag, enum bench_op op, uint64_t offset, uint32_t len, void *buf);
	/* Spins (bounded) for one completion: its tag, *status 0 for success; or a negative error. */
	int (*wait)(struct bench_dev *d, int *status);
	const char *(*strerror)(int err);
	uint64_t (*doorbells)(const struct bench_dev *d);   /* doorbell writes so far (exits, unless suppressed) */
	/* set by init */
	uint64_t capacity_bytes;
	uint64_t max_discard_bytes;                 /* one discard request at most this long; 0 = no limit */
	int can_discard;
};

/* The adapter for a dev= name, or NULL when this build has none. */
struct bench_dev *bench_dev_find(const char *name);

extern struct bench_dev bench_dev_vblk;
extern struct bench_dev bench_dev_nvme;

#endif
