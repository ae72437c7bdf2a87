/*
 * Entry of a plain 64-bit ELF booted the Linux 64-bit way (as Firecracker
 * enters vmlinux): long mode, CPL0, identity-mapped paging, interrupts off,
 * RSI = the zero page (struct boot_params).  Takes a stack of its own and
 * calls linux64_main(zero_page).
 */
	.section .text.start, "ax"
	.globl _start
	.code64
_start:
	cld
	lea	stack_top(%rip), %rsp
	mov	%rsi, %rdi
	call	linux64_main
1:	hlt
	jmp	1b

	.section .bss
	.balign 16
	.space 4096
stack_top:
	.section .note.GNU-stack, "", @progbits
