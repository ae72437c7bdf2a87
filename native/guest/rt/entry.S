/*
 * PVH entry for the freestanding test guests.
 *
 * Entered in 32-bit protected mode, paging off, flat segments,
 * EBX = physical address of struct hvm_start_info.
 *
 * Everything done at CPL0 is straight-line code (no loops): under a
 * nested, emulated CPL0 every instruction is costly.  We load our own
 * GDT, enable long mode with static identity page tables (0..4 GiB,
 * 2 MiB pages, U/S=1 everywhere), far-jump to 64-bit code and
 * immediately iretq to CPL3 with IOPL=3, IF=0.  The iret frame is a
 * static constant, so no CPL0 stack is needed.
 */

#define SEL_KCODE  0x08
#define SEL_KDATA  0x10
#define SEL_UDATA  0x1b   /* GDT index 3, RPL 3 */
#define SEL_UCODE  0x23   /* GDT index 4, RPL 3 */
#define SEL_TSS    0x28   /* GDT index 5, 16-byte 64-bit TSS descriptor */

#define PTE_P   0x001
#define PTE_RW  0x002
#define PTE_US  0x004
#define PTE_PS  0x080

/* ------------------------------------------------------------------ */
/* PVH ELF note: XEN_ELFNOTE_PHYS32_ENTRY (18), name "Xen".           */
	.section .note.Xen, "a", @note
	.balign 4
	.long 2f - 1f          /* namesz */
	.long 4f - 3f          /* descsz */
	.long 18               /* type: XEN_ELFNOTE_PHYS32_ENTRY */
1:	.asciz "Xen"
2:	.balign 4
3:	.long pvh_start32
4:	.balign 4

/* ------------------------------------------------------------------ */
	.section .text.entry, "ax", @progbits
	.code32
	.globl pvh_start32
pvh_start32:
	lgdt    gdt_desc
	movl    $SEL_KDATA, %eax
	movl    %eax, %ds
	movl    %eax, %es
	movl    %eax, %ss

	movl    %cr4, %eax
	orl     $0x20, %eax             /* CR4.PAE */
	movl    %eax, %cr4

	movl    $pml4, %eax
	movl    %eax, %cr3

	movl    $0xC0000080, %ecx       /* IA32_EFER */
	movl    $0x100, %eax            /* LME (no rdmsr: value is absolute) */
	xorl    %edx, %edx
	wrmsr

	movl    %cr0, %eax
	orl     $0x80000001, %eax       /* PG | PE */
	movl    %eax, %cr0

	ljmp    $SEL_KCODE, $pvh_start64

	.code64
pvh_start64:
	movw    $SEL_TSS, %ax
	ltr     %ax                     /* I/O bitmap: every port open to CPL3 */
	movl    %ebx, %edi              /* start_info -> 1st argument (zero-extended) */
	movl    $iret_frame, %esp       /* static frame: rip, cs, rflags, rsp, ss */
	iretq

/* ------------------------------------------------------------------ */
/* CPL3 from here on; runs natively.                                  */
	.section .text, "ax", @progbits
	.globl rt_user_entry
rt_user_entry:
	movq    %rdi, %rdx              /* keep start_info */
	movl    $__bss_start, %edi
	movl    $__bss_end, %ecx
	subl    %edi, %ecx
	xorl    %eax, %eax
	cld
	rep stosb                       /* zero .bss (stack lives in .stack, not .bss) */
	movl    $SEL_UDATA, %eax
	movl    %eax, %ds
	movl    %eax, %es
	xorl    %ebp, %ebp
	movq    %rdx, %rdi
	call    rt_start                /* never returns */
	ud2

/* ------------------------------------------------------------------ */
	.section .rodata.entry, "a", @progbits
	.balign 16
gdt:
	.quad 0                         /* 0x00 null */
	.quad 0x00af9b000000ffff        /* 0x08 kernel code, 64-bit, DPL0 */
	.quad 0x00cf93000000ffff        /* 0x10 kernel data, DPL0 */
	.quad 0x00cff3000000ffff        /* 0x18 user data, DPL3 */
	.quad 0x00affb000000ffff        /* 0x20 user code, 64-bit, DPL3 */
	.quad __tss_desc_lo             /* 0x28 64-bit TSS (descriptor computed in guest.ld) */
	.quad __tss_desc_hi
gdt_end:

	.balign 8
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

	.balign 16
iret_frame:
	.quad rt_user_entry             /* RIP */
	.quad SEL_UCODE                 /* CS */
	.quad 0x3002                    /* RFLAGS: IOPL=3, IF=0 */
	.quad __stack_top               /* RSP */
	.quad SEL_UDATA                 /* SS */

/* ------------------------------------------------------------------ */
/* Static identity map of 0..4 GiB with 2 MiB pages.                  */
	.section .data.pagetables, "aw", @progbits
	.balign 4096
pml4:
	.quad pdpt + (PTE_P | PTE_RW | PTE_US)
	.fill 511, 8, 0

	.balign 4096
pdpt:
	.quad pd + 0x0000 + (PTE_P | PTE_RW | PTE_US)
	.quad pd + 0x1000 + (PTE_P | PTE_RW | PTE_US)
	.quad pd + 0x2000 + (PTE_P | PTE_RW | PTE_US)
	.quad pd + 0x3000 + (PTE_P | PTE_RW | PTE_US)
	.fill 508, 8, 0

	.balign 4096
pd:
	.set pg, 0
	.rept 2048
	.quad (pg << 21) | (PTE_P | PTE_RW | PTE_US | PTE_PS)
	.set pg, pg + 1
	.endr

/* ------------------------------------------------------------------ */
/* 64-bit TSS whose I/O permission bitmap allows every port.  IOPL=3
 * alone is not enough: some hypervisors (page-table-based KVM, whose
 * instruction emulator checks the TSS bitmap) do not honour IOPL for
 * guest user mode, so CPL3 port I/O must also pass the bitmap check. */
	.section .data.tss, "aw", @progbits
	.balign 16
	.globl tss
tss:
	.fill 102, 1, 0                 /* RSP0-2 and IST1-7 unused: no ring change ever returns to CPL0 */
	.word tss_iomap - tss           /* I/O map base, at offset 102 */
tss_iomap:
	.fill 8192, 1, 0                /* one bit per port, 0 = allowed */
	.byte 0xff                      /* terminator the CPU reads past the last port */
	.globl tss_end
tss_end:

/* ------------------------------------------------------------------ */
/* User stack: separate NOLOAD section placed after .bss, not zeroed. */
	.section .stack, "aw", @nobits
	.balign 16
	.globl __stack_bottom
__stack_bottom:
	.skip 65536
	.globl __stack_top
__stack_top:

	.section .note.GNU-stack, "", @progbits
