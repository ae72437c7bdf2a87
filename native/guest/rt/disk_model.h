/* What a self-test expects a disk to hold: byte ranges tagged with the
 * pattern number k that wrote them, or zero, or unknown (not listed).
 * The pattern is the one in README.md ("Pattern"). */
#ifndef RT_DISK_MODEL_H
#define RT_DISK_MODEL_H

#include <stdint.h>

#define DM_ZERO    (-1)
#define DM_UNKNOWN (-2)
#define DM_MAX_REGIONS 256

static inline uint8_t dm_pat(uint64_t o, int k)
{
	return (uint8_t)((o * 7 + (o >> 9) * 13 + (uint64_t)k * 29) ^ 0xA5);
}

void dm_fill(uint8_t *buf, uint64_t off, uint64_t len, int k);
/* From now on [off, off+len) holds tag (k >= 0, DM_ZERO or DM_UNKNOWN). */
void dm_set(uint64_t off, uint64_t len, int tag);
/* 1 if buf (disk bytes [off, off+len)) matches; else 0 and a description
 * of the first mismatch in why. */
int  dm_check(uint64_t off, const uint8_t *buf, uint64_t len, char *why, int whylen);
int  dm_count(void);
/* i-th region, sorted by offset (tag never DM_UNKNOWN). */
void dm_region(int i, uint64_t *off, uint64_t *len, int *tag);
/* Prints `layout: off len k` / `zero: off len` for every region. */
void dm_print(void);

#endif
