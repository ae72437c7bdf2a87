/* Runtime for the freestanding PVH test guests.  Include this one header. */
#ifndef RT_RT_H
#define RT_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "io.h"

/* ---- PVH boot information (Xen public/arch-x86/hvm/start_info.h) ---- */
#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;    /* version >= 1 */
	uint32_t memmap_entries;  /* version >= 1 */
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;            /* 1 = RAM */
	uint32_t reserved;
};

#define HVM_MEMMAP_TYPE_RAM 1

/* Provided by each guest. Return value becomes the exit value. */
int guest_main(const struct hvm_start_info *si);

/* start_info as passed by the VMM (also given to guest_main). */
extern const struct hvm_start_info *rt_start_info;

/* ---- ports / exit ---- */
#define COM1_PORT       0x3F8
#define DEBUG_EXIT_PORT 0x501

/* outb(0x501, value): VMM exits with status (value << 1) | 1.
 * If nothing stops us, triple-fault (ud2 with no IDT). */
__attribute__((noreturn)) void guest_exit(unsigned char value);
/* Deliberate triple fault (no IDT installed). */
__attribute__((noreturn)) void guest_triple_fault(void);

/* ---- serial console (COM1, polled, byte-exact: no \n -> \r\n) ---- */
void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t n);
int  puts(const char *s);           /* writes s and "\n" */
int  printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int  vprintf(const char *fmt, va_list ap);
int  snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int  vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* ---- strings ---- */
void  *memset(void *d, int c, size_t n);
void  *memcpy(void *d, const void *s, size_t n);
void  *memmove(void *d, const void *s, size_t n);
int    memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int    strcmp(const char *a, const char *b);
int    strncmp(const char *a, const char *b, size_t n);

/* ---- command line: space-separated key=value tokens ---- */
const char *cmdline(void);          /* never NULL; "" if none */
/* Copies the value of `key` into buf (NUL-terminated, truncated to len-1).
 * Returns the full value length, or -1 if key is absent.  A bare "key"
 * token yields an empty value (0). */
int cmdline_get(const char *key, char *buf, int len);
/* Decimal or 0x-hex, optional K/M/G suffix (binary units); dflt if absent/invalid. */
unsigned long cmdline_get_ulong(const char *key, unsigned long dflt);
/* Parses a number like cmdline_get_ulong; returns 0 on success, -1 on error. */
int parse_ulong(const char *s, unsigned long *out);

/* ---- ACPI (hardware-reduced, as the VMM's FADT and DSDT describe it) ----
 * The power button is a Generic Event Device (ACPI0013) whose event register is
 * one I/O port: bit 0 set = the power button was pressed; reading clears it.
 * A kernel takes its interrupt and runs the DSDT's _EVT; these polled guests read
 * the port.  Power-off is the sleep control register with SLP_TYP = \_S5. */
#define ACPI_SLEEP_CONTROL_PORT 0x600
#define ACPI_GED_EVENT_PORT     0x604
#define ACPI_GED_POWER_BUTTON   0x01
/* 1 once the power button was pressed (0xFF, a port nothing decodes, is not a press). */
int acpi_power_button_pressed(void);
/* Writes SLP_TYP=5 | SLP_EN: the VMM powers off (status 0).  If it does not, triple-fault. */
__attribute__((noreturn)) void acpi_power_off(void);

/* ---- memory map ---- */
uint64_t mem_total_ram(void);       /* sum of type-1 memmap entries, bytes */
uint32_t memmap_count(void);
const struct hvm_memmap_table_entry *memmap_entry(uint32_t i);

#endif
