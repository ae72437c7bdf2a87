/* PCI configuration access and BAR setup.  See pci.h. */
#include "rt.h"
#include "pci.h"

static enum pci_mech mech = PCI_MECH_NONE;
static int mech_probed;
static uint64_t ecam_base = PCI_ECAM_DEFAULT;
static uint64_t win_next, win_end;
static int win_ready;

/* ---------------------------------------------------------------- */
/* raw access                                                        */

static uintptr_t ecam_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	return (uintptr_t)(ecam_base + ((uint64_t)bus << 20) + ((uint64_t)dev << 15)
			   + ((uint64_t)fn << 12) + (off & 0xFFF));
}

static uint32_t cf8_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	return 0x80000000u | ((uint32_t)bus << 16) | ((uint32_t)(dev & 31) << 11)
	       | ((uint32_t)(fn & 7) << 8) | (off & 0xFC);
}

static uint32_t raw_read32(enum pci_mech m, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	if (m == PCI_MECH_ECAM)
		return mmio_read32(ecam_addr(bus, dev, fn, off & ~3u));
	if (m == PCI_MECH_CF8) {
		if (off >= 256)
			return 0xFFFFFFFFu;
		outl(0xCF8, cf8_addr(bus, dev, fn, off));
		return inl(0xCFC);
	}
	return 0xFFFFFFFFu;
}

uint32_t pci_cfg_read32(const struct pci_dev *d, uint16_t off)
{
	return raw_read32(mech, d->bus, d->dev, d->fn, off);
}

uint16_t pci_cfg_read16(const struct pci_dev *d, uint16_t off)
{
	if (mech == PCI_MECH_ECAM)
		return mmio_read16(ecam_addr(d->bus, d->dev, d->fn, off & ~1u));
	if (mech == PCI_MECH_CF8 && off < 256) {
		outl(0xCF8, cf8_addr(d->bus, d->dev, d->fn, off));
		return inw((uint16_t)(0xCFC + (off & 2)));
	}
	return 0xFFFF;
}

uint8_t pci_cfg_read8(const struct pci_dev *d, uint16_t off)
{
	if (mech == PCI_MECH_ECAM)
		return mmio_read8(ecam_addr(d->bus, d->dev, d->fn, off));
	if (mech == PCI_MECH_CF8 && off < 256) {
		outl(0xCF8, cf8_addr(d->bus, d->dev, d->fn, off));
		return inb((uint16_t)(0xCFC + (off & 3)));
	}
	return 0xFF;
}

void pci_cfg_write32(const struct pci_dev *d, uint16_t off, uint32_t v)
{
	if (mech == PCI_MECH_ECAM) {
		mmio_write32(ecam_addr(d->bus, d->dev, d->fn, off & ~3u), v);
	} else if (mech == PCI_MECH_CF8 && off < 256) {
		outl(0xCF8, cf8_addr(d->bus, d->dev, d->fn, off));
		outl(0xCFC, v);
	}
}

void pci_cfg_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
	if (mech == PCI_MECH_ECAM) {
		mmio_write16(ecam_addr(d->bus, d->dev, d->fn, off & ~1u), v);
	} else if (mech == PCI_MECH_CF8 && off < 256) {
		outl(0xCF8, cf8_addr(d->bus, d->dev, d->fn, off));
		outw((uint16_t)(0xCFC + (off & 2)), v);
	}
}

void pci_cfg_write8(const struct pci_dev *d, uint16_t off, uint8_t v)
{
	if (mech == PCI_MECH_ECAM) {
		mmio_write8(ecam_addr(d->bus, d->dev, d->fn, off), v);
	} else if (mech == PCI_MECH_CF8 && off < 256) {
		outl(0xCF8, cf8_addr(d->bus, d->dev, d->fn, off));
		outb((uint16_t)(0xCFC + (off & 3)), v);
	}
}

/* ---------------------------------------------------------------- */
/* probing                                                           */

/* Vendor 0xFFFF = nothing there (master abort).  0x0000 is no valid vendor
 * either: a region with no ECAM behind it may read as zeros (QEMU q35 at
 * 0xE0000000 does). */
static int vendor_ok(uint32_t id)
{
	uint16_t v = (uint16_t)id;
	return v != 0xFFFF && v != 0x0000;
}

static int bus0_has_device(enum pci_mech m)
{
	for (uint8_t dev = 0; dev < 32; dev++)
		if (vendor_ok(raw_read32(m, 0, dev, 0, 0)))
			return 1;
	return 0;
}

static int cf8_present(void)
{
	/* The classic check: the address latch reads back what was written. */
	uint32_t saved = inl(0xCF8);
	outl(0xCF8, 0x80000000u);
	uint32_t v = inl(0xCF8);
	outl(0xCF8, saved);
	return v == 0x80000000u;
}

enum pci_mech pci_init(void)
{
	char buf[8];

	if (mech_probed)
		return mech;
	mech_probed = 1;
	ecam_base = cmdline_get_ulong("ecam", PCI_ECAM_DEFAULT);
	int n = cmdline_get("pci", buf, sizeof(buf));

	if (n > 0 && strcmp(buf, "cf8") == 0)
		mech = cf8_present() ? PCI_MECH_CF8 : PCI_MECH_NONE;
	else if (n > 0 && strcmp(buf, "ecam") == 0)
		mech = PCI_MECH_ECAM;
	else if (bus0_has_device(PCI_MECH_ECAM))
		mech = PCI_MECH_ECAM;
	else if (cf8_present() && bus0_has_device(PCI_MECH_CF8))
		mech = PCI_MECH_CF8;
	else
		mech = PCI_MECH_NONE;
	return mech;
}

const char *pci_mech_name(void)
{
	switch (mech) {
	case PCI_MECH_ECAM: return "ecam";
	case PCI_MECH_CF8:  return "cf8";
	default:            return "none";
	}
}

uint64_t pci_ecam_base(void)
{
	return ecam_base;
}

/* ---------------------------------------------------------------- */
/* enumeration                                                       */

static void fill_dev(struct pci_dev *d, uint8_t bus, uint8_t dev, uint8_t fn)
{
	memset(d, 0, sizeof(*d));
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	uint32_t id = pci_cfg_read32(d, PCI_VENDOR_ID);
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	uint32_t cr = pci_cfg_read32(d, PCI_REVISION);
	d->revision = (uint8_t)cr;
	d->class_code = cr >> 8;
	d->hdr_type = pci_cfg_read8(d, PCI_HEADER_TYPE) & 0x7F;
}

int pci_enumerate(struct pci_dev *out, int max)
{
	int count = 0;
	struct pci_dev tmp;

	if (pci_init() == PCI_MECH_NONE)
		return 0;
	for (uint8_t dev = 0; dev < 32; dev++) {
		fill_dev(&tmp, 0, dev, 0);
		if (!vendor_ok(tmp.vendor))
			continue;
		uint8_t multi = pci_cfg_read8(&tmp, PCI_HEADER_TYPE) & 0x80;
		for (uint8_t fn = 0; fn < (multi ? 8 : 1); fn++) {
			if (fn)
				fill_dev(&tmp, 0, dev, fn);
			if (!vendor_ok(tmp.vendor))
				continue;
			if (count < max && out)
				out[count] = tmp;
			count++;
		}
	}
	return count;
}

int pci_find(uint16_t vendor, uint16_t device, int index, struct pci_dev *out)
{
	struct pci_dev all[64];
	int n = pci_enumerate(all, 64);

	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++) {
		if ((vendor == 0xFFFF || all[i].vendor == vendor) &&
		    (device == 0xFFFF || all[i].device == device)) {
			if (index-- == 0) {
				*out = all[i];
				return 0;
			}
		}
	}
	return -1;
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t cap_id, uint8_t after)
{
	if (!(pci_cfg_read16(d, PCI_STATUS) & PCI_STATUS_CAPLIST))
		return 0;
	uint8_t off = after ? pci_cfg_read8(d, (uint16_t)(after + 1))
			    : pci_cfg_read8(d, PCI_CAP_PTR);
	for (int guard = 0; guard < 48 && off >= 0x40; guard++) {
		off &= 0xFC;
		if (pci_cfg_read8(d, off) == cap_id)
			return off;
		off = pci_cfg_read8(d, (uint16_t)(off + 1));
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* BARs                                                              */

static int nbars(const struct pci_dev *d)
{
	return d->hdr_type == 0 ? 6 : d->hdr_type == 1 ? 2 : 0;
}

/* Sizes all BARs of d (memory and I/O decode off while probing; COMMAND
 * restored afterwards).  Fills d->bar[]. */
static void size_bars(struct pci_dev *d)
{
	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);
	pci_cfg_write16(d, PCI_COMMAND, (uint16_t)(cmd & ~(PCI_CMD_MEM | PCI_CMD_IO)));

	for (int i = 0; i < 6; i++)
		memset(&d->bar[i], 0, sizeof(d->bar[i]));
	for (int i = 0; i < nbars(d); i++) {
		uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
		uint32_t orig = pci_cfg_read32(d, off);
		struct pci_bar *b = &d->bar[i];

		pci_cfg_write32(d, off, 0xFFFFFFFFu);
		uint32_t mask = pci_cfg_read32(d, off);
		pci_cfg_write32(d, off, orig);

		if (orig & 1) {                     /* I/O BAR */
			b->is_io = 1;
			uint32_t m = mask & ~3u;
			if (m)
				b->size = (uint32_t)(~(m | 0xFFFF0000u) + 1u);
			b->addr = orig & ~3u;
			continue;
		}
		b->prefetch = (orig >> 3) & 1;
		uint64_t m64 = mask & ~0xFull;
		uint64_t a64 = orig & ~0xFull;
		if (((orig >> 1) & 3) == 2 && i < nbars(d) - 1) {   /* 64-bit */
			uint16_t hoff = (uint16_t)(off + 4);
			uint32_t horig = pci_cfg_read32(d, hoff);
			pci_cfg_write32(d, hoff, 0xFFFFFFFFu);
			uint32_t hmask = pci_cfg_read32(d, hoff);
			pci_cfg_write32(d, hoff, horig);
			m64 |= (uint64_t)hmask << 32;
			a64 |= (uint64_t)horig << 32;
			b->is_64 = 1;
		} else {
			m64 |= 0xFFFFFFFF00000000ull;   /* 32-bit BAR: upper bits fixed */
		}
		if ((uint32_t)m64 != 0 || (m64 >> 32) != 0xFFFFFFFFu)
			b->size = ~m64 + 1;
		if (mask == 0 && !b->is_64)
			b->size = 0;
		b->addr = b->size ? a64 : 0;
		if (b->is_64)
			i++;                         /* upper half consumed */
	}
	pci_cfg_write16(d, PCI_COMMAND, cmd);
}

/* The allocator starts above every memory BAR already programmed inside
 * the window (bhyve-aot pre-assigns; QEMU microvm leaves them at 0). */
static void window_init(void)
{
	struct pci_dev all[64];

	if (win_ready)
		return;
	win_ready = 1;
	win_next = cmdline_get_ulong("mmio", PCI_MMIO_DEFAULT);
	win_end = win_next + cmdline_get_ulong("mmio_size", PCI_MMIO_SIZE_DEFAULT);

	int n = pci_enumerate(all, 64);
	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++) {
		size_bars(&all[i]);
		for (int j = 0; j < 6; j++) {
			struct pci_bar *b = &all[i].bar[j];
			if (b->is_io || !b->size || !b->addr)
				continue;
			uint64_t end = b->addr + b->size;
			if (b->addr < win_end && end > win_next)
				win_next = end;
		}
	}
}

static uint64_t window_alloc(uint64_t size)
{
	uint64_t align = size < 4096 ? 4096 : size;
	uint64_t a = (win_next + align - 1) & ~(align - 1);

	if (a + size > win_end || a + size < a)
		return 0;
	win_next = a + size;
	return a;
}

int pci_setup_device(struct pci_dev *d)
{
	int rc = 0;
	int want_io = 0;

	window_init();
	size_bars(d);

	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);
	pci_cfg_write16(d, PCI_COMMAND, (uint16_t)(cmd & ~(PCI_CMD_MEM | PCI_CMD_IO)));
	for (int i = 0; i < nbars(d); i++) {
		struct pci_bar *b = &d->bar[i];
		if (!b->size)
			continue;
		if (b->is_io) {
			if (b->addr)
				want_io = 1;
			continue;            /* no I/O window: leave unassigned I/O BARs alone */
		}
		if (!b->addr) {
			uint64_t a = window_alloc(b->size);
			if (!a) {
				rc = -1;
			} else {
				uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
				uint32_t low = pci_cfg_read32(d, off) & 0xF;
				pci_cfg_write32(d, off, (uint32_t)a | low);
				if (b->is_64)
					pci_cfg_write32(d, (uint16_t)(off + 4), (uint32_t)(a >> 32));
				b->addr = a;
				b->assigned = 1;
			}
		}
		if (b->is_64)
			i++;
	}
	cmd |= PCI_CMD_MEM | PCI_CMD_MASTER;
	if (want_io)
		cmd |= PCI_CMD_IO;
	pci_cfg_write16(d, PCI_COMMAND, cmd);
	return rc;
}
