/* PCI configuration access (ECAM or mechanism #1), bus-0 enumeration,
 * capability walk, BAR sizing/assignment.  Polled, single CPU, no locking. */
#ifndef RT_PCI_H
#define RT_PCI_H

#include <stdint.h>

#define PCI_ECAM_DEFAULT      0xE0000000ul   /* QEMU microvm,pcie=on and bhyve-aot */
#define PCI_MMIO_DEFAULT      0xC0000000ul   /* 32-bit MMIO window for BARs ...    */
#define PCI_MMIO_SIZE_DEFAULT 0x20000000ul   /* ... up to 0xDFFFFFFF               */

/* Config-space offsets */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION       0x08
#define PCI_CLASS_PROG     0x09
#define PCI_HEADER_TYPE    0x0E
#define PCI_BAR0           0x10
#define PCI_SUBSYS_ID      0x2E
#define PCI_CAP_PTR        0x34

#define PCI_CMD_IO         0x0001
#define PCI_CMD_MEM        0x0002
#define PCI_CMD_MASTER     0x0004
#define PCI_CMD_INTX_DIS   0x0400
#define PCI_STATUS_CAPLIST 0x0010

#define PCI_CAP_ID_MSIX    0x11
#define PCI_CAP_ID_VNDR    0x09

enum pci_mech { PCI_MECH_NONE = 0, PCI_MECH_ECAM = 1, PCI_MECH_CF8 = 2 };

struct pci_bar {
	uint64_t addr;     /* bus/physical address (0 = none) */
	uint64_t size;     /* 0 = BAR not implemented */
	uint8_t  is_io;
	uint8_t  is_64;
	uint8_t  prefetch;
	uint8_t  assigned; /* 1 if pci_setup_device() gave it an address */
};

struct pci_dev {
	uint8_t  bus, dev, fn;
	uint8_t  hdr_type;      /* bits 0..6 */
	uint16_t vendor, device;
	uint8_t  revision;
	uint32_t class_code;    /* class << 16 | subclass << 8 | prog-if */
	struct pci_bar bar[6];  /* filled by pci_setup_device() */
};

/* Chooses the access mechanism (once; later calls return the cached answer).
 * cmdline: ecam=0x... (default 0xE0000000), pci=ecam|cf8 to force one,
 * mmio=0x... / mmio_size=0x... for the BAR window.
 * ECAM is used unless every device slot on bus 0 reads vendor 0xFFFF there;
 * then mechanism #1 (0xCF8/0xCFC) if it answers. */
enum pci_mech pci_init(void);
const char   *pci_mech_name(void);
uint64_t      pci_ecam_base(void);

uint32_t pci_cfg_read32 (const struct pci_dev *d, uint16_t off);
uint16_t pci_cfg_read16 (const struct pci_dev *d, uint16_t off);
uint8_t  pci_cfg_read8  (const struct pci_dev *d, uint16_t off);
void     pci_cfg_write32(const struct pci_dev *d, uint16_t off, uint32_t v);
void     pci_cfg_write16(const struct pci_dev *d, uint16_t off, uint16_t v);
void     pci_cfg_write8 (const struct pci_dev *d, uint16_t off, uint8_t v);

/* Enumerates bus 0 (all devices, all functions of multi-function devices).
 * Fills up to max entries, returns the number of functions found. */
int pci_enumerate(struct pci_dev *out, int max);
/* index-th (0-based) function on bus 0 matching vendor/device (0xFFFF = any).
 * Returns 0 and fills *out, or -1. */
int pci_find(uint16_t vendor, uint16_t device, int index, struct pci_dev *out);

/* Capability list: offset of the first capability with id cap_id after
 * offset `after` (0 = from the start of the list), or 0 if none. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t cap_id, uint8_t after);

/* Sizes every BAR, keeps addresses that are already programmed, assigns
 * unassigned memory BARs from the MMIO window with natural alignment
 * (64-bit BARs get a 32-bit address, upper half 0), then enables memory
 * space + bus master (and I/O space when an I/O BAR has an address).
 * Returns 0, or -1 when the window is exhausted. */
int pci_setup_device(struct pci_dev *d);

#endif
