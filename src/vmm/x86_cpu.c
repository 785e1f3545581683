#include "x86_cpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)

/* Page-table entry bits.  Accessed/Dirty are preset because the area is a
 * read-only memory slot: the page walker must never need to write it. */
#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_A  (1ull << 5)
#define PTE_D  (1ull << 6)
#define PTE_PS (1ull << 7)

#define GIB (1ull << 30)
#define MIB2 (2ull << 20)

/* Linux's 64-bit boot protocol wants __BOOT_CS 0x10 and __BOOT_DS 0x18. */
#define SEL_CODE 0x10
#define SEL_DATA 0x18

uint64_t x86_sys_area_size(uint64_t map_top)
{
	return X86_SYS_PD + ((map_top + GIB - 1) / GIB) * 0x1000;
}

void x86_build_sys_area(uint8_t *sys, uint64_t sys_gpa, uint64_t map_top)
{
	uint64_t *gdt = (uint64_t *)(sys + X86_SYS_GDT);
	uint64_t *pml4 = (uint64_t *)(sys + X86_SYS_PML4);
	uint64_t *pdpt = (uint64_t *)(sys + X86_SYS_PDPT);
	uint64_t gibs = (map_top + GIB - 1) / GIB;
	const uint64_t tbl = PTE_P | PTE_RW | PTE_A;

	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull;             /* 64-bit code, DPL 0, accessed */
	gdt[SEL_CODE / 8] = 0x00af9b000000ffffull;
	gdt[SEL_DATA / 8] = 0x00cf93000000ffffull;  /* data, read/write, accessed */

	pml4[0] = (sys_gpa + X86_SYS_PDPT) | tbl;
	for (uint64_t g = 0; g < gibs; g++) {
		uint64_t *pd = (uint64_t *)(sys + X86_SYS_PD + g * 0x1000);

		pdpt[g] = (sys_gpa + X86_SYS_PD + g * 0x1000) | tbl;
		for (uint64_t i = 0; i < 512; i++)
			pd[i] = (g * GIB + i * MIB2) | tbl | PTE_D | PTE_PS;
	}
}

struct kvm_cpuid2 *x86_supported_cpuid(int kvm_fd, struct lv_err *err)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c) {
			lv_err_sys(err, ENOMEM, "CPUID table");
			return NULL;
		}
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG) {
			lv_err_sys(err, errno, "KVM_GET_SUPPORTED_CPUID");
			return NULL;
		}
	}
	lv_err_set(err, "KVM_GET_SUPPORTED_CPUID: table too large");
	return NULL;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

int x86_setup_vcpu(int vcpu_fd, const struct kvm_cpuid2 *cpuid,
		   const struct x86_vcpu_start *st, struct lv_err *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	/* Before EFER: KVM refuses long mode to a vCPU whose CPUID lacks LM. */
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0)
		return lv_err_sys(err, errno, "KVM_SET_CPUID2");
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return lv_err_sys(err, errno, "KVM_GET_SREGS");
	set_seg(&sregs.cs, SEL_CODE, 11, 1);
	set_seg(&sregs.ds, SEL_DATA, 3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = st->sys_gpa + X86_SYS_GDT;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;    /* any exception escalates to a triple fault */
	sregs.cr3 = st->sys_gpa + X86_SYS_PML4;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return lv_err_sys(err, errno, "KVM_SET_SREGS (64-bit long mode)");

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = st->rip;
	regs.rsp = st->rsp;
	regs.rdi = st->rdi;
	regs.rsi = st->rsi;
	regs.rdx = st->rdx;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return lv_err_sys(err, errno, "KVM_SET_REGS");
	return 0;
}

void x86_format_regs(int vcpu_fd, char *buf, size_t len)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu_fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0) {
		snprintf(buf, len, "(registers unavailable: %s)", strerror(errno));
		return;
	}
	snprintf(buf, len,
		 "rip=%#llx rsp=%#llx rflags=%#llx rax=%#llx rbx=%#llx rcx=%#llx "
		 "rdx=%#llx rsi=%#llx rdi=%#llx rbp=%#llx cr0=%#llx cr2=%#llx "
		 "cr3=%#llx cr4=%#llx efer=%#llx",
		 r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,
		 r.rbp, s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
}
