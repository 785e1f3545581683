/*
 * The classic KVM teaching guest, as a flat binary: loaded at guest-physical
 * 0 and entered there in 64-bit mode.  Writes its message one byte at a time
 * to port 0xE9 (one VM exit per byte), then halts with RAX = 42.
 */
	.code64
	.text
	.globl _start
_start:
	leaq	msg(%rip), %rsi
	movl	$(msg_end - msg), %ecx
	movw	$0xe9, %dx
1:	movb	(%rsi), %al
	outb	%al, %dx
	incq	%rsi
	decl	%ecx
	jnz	1b
	movq	$42, %rax
	hlt
msg:	.ascii	"Hello, world!\n"
msg_end:
