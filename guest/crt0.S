/*
 * Entry of every vCPU.  The VMM starts each vCPU here in 64-bit mode with
 * RDI = vCPU id, RSI = vCPU count, RDX = the virtio window (--vsock, else 0)
 * and RSP = its own stack.  Guest RAM is
 * fresh (zeroed) memory, so .bss needs no clearing.
 */
	.section .text.start, "ax"
	.globl _start
_start:
	andq	$-16, %rsp
	xorl	%ebp, %ebp
	call	lv_start
1:	hlt
	jmp	1b
