/* Expected disk contents for the self-tests.  See disk_model.h. */
#include "rt.h"
#include "disk_model.h"

struct region { uint64_t off, len; int tag; };
static struct region model[DM_MAX_REGIONS];
static int nmodel;

void dm_fill(uint8_t *buf, uint64_t off, uint64_t len, int k)
{
	for (uint64_t i = 0; i < len; i++)
		buf[i] = dm_pat(off + i, k);
}

void dm_set(uint64_t off, uint64_t len, int tag)
{
	static struct region out[DM_MAX_REGIONS + 2];
	int n = 0;
	uint64_t end = off + len;

	for (int i = 0; i < nmodel; i++) {
		struct region r = model[i];
		uint64_t rend = r.off + r.len;
		if (rend <= off || r.off >= end) {
			out[n++] = r;
			continue;
		}
		if (r.off < off)
			out[n++] = (struct region){ r.off, off - r.off, r.tag };
		if (rend > end)
			out[n++] = (struct region){ end, rend - end, r.tag };
	}
	if (tag != DM_UNKNOWN)
		out[n++] = (struct region){ off, len, tag };
	for (int i = 1; i < n; i++) {             /* insertion sort by offset */
		struct region t = out[i];
		int j = i - 1;
		while (j >= 0 && out[j].off > t.off) {
			out[j + 1] = out[j];
			j--;
		}
		out[j + 1] = t;
	}
	nmodel = 0;
	for (int i = 0; i < n && nmodel < DM_MAX_REGIONS; i++) {
		if (nmodel && model[nmodel - 1].tag == out[i].tag &&
		    model[nmodel - 1].off + model[nmodel - 1].len == out[i].off)
			model[nmodel - 1].len += out[i].len;
		else
			model[nmodel++] = out[i];
	}
}

int dm_check(uint64_t off, const uint8_t *buf, uint64_t len, char *why, int whylen)
{
	uint64_t end = off + len;
	for (int i = 0; i < nmodel; i++) {
		const struct region *r = &model[i];
		uint64_t a = r->off > off ? r->off : off;
		uint64_t z = r->off + r->len < end ? r->off + r->len : end;
		for (uint64_t o = a; o < z; o++) {
			uint8_t want = r->tag == DM_ZERO ? 0 : dm_pat(o, r->tag);
			uint8_t got = buf[o - off];
			if (got != want) {
				uint64_t bad = 0;
				for (uint64_t p = o; p < z; p++)
					bad += buf[p - off] != (r->tag == DM_ZERO ? 0 : dm_pat(p, r->tag));
				snprintf(why, (size_t)whylen,
					 "disk byte %llu: got 0x%02x want 0x%02x (%s), %llu bad bytes in [%llu,+%llu)",
					 (unsigned long long)o, got, want,
					 r->tag == DM_ZERO ? "zero" : "pattern",
					 (unsigned long long)bad, (unsigned long long)a,
					 (unsigned long long)(z - a));
				return 0;
			}
		}
	}
	return 1;
}

int dm_count(void) { return nmodel; }

void dm_region(int i, uint64_t *off, uint64_t *len, int *tag)
{
	*off = model[i].off;
	*len = model[i].len;
	*tag = model[i].tag;
}

void dm_print(void)
{
	for (int i = 0; i < nmodel; i++) {
		if (model[i].tag == DM_ZERO)
			printf("zero: %llu %llu\n", (unsigned long long)model[i].off,
			       (unsigned long long)model[i].len);
		else
			printf("layout: %llu %llu %d\n", (unsigned long long)model[i].off,
			       (unsigned long long)model[i].len, model[i].tag);
	}
}
