/*
 * x86-64 state for bare guests: the VMM's own GDT and identity-mapped page
 * tables in a memory slot of their own (above guest RAM, read-only to the
 * guest), and the registers every vCPU starts with (64-bit long mode, no
 * 32-bit paging: PVM hosts cannot run it).
 */
#ifndef LV_VMM_X86_CPU_H
#define LV_VMM_X86_CPU_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Layout of the system area, offsets from its guest-physical base. */
#define X86_SYS_GDT   0x0000
#define X86_SYS_PML4  0x1000
#define X86_SYS_PDPT  0x2000
#define X86_SYS_PD    0x3000    /* one page per GiB mapped */

/* Bytes of system area needed to identity-map [0, map_top). */
uint64_t x86_sys_area_size(uint64_t map_top);

/* Fills the system area (host mapping `sys`, based at sys_gpa). */
void x86_build_sys_area(uint8_t *sys, uint64_t sys_gpa, uint64_t map_top);

struct x86_vcpu_start {
	uint64_t sys_gpa;       /* where the GDT and page tables are */
	uint64_t rip, rsp;
	uint64_t rdi, rsi;      /* vCPU id and vCPU count */
	uint64_t rdx;           /* bare guests: the virtio-vsock window, or 0 */
};

/* CPUID the host supports, to be handed to every vCPU (free()). */
struct kvm_cpuid2 *x86_supported_cpuid(int kvm_fd, struct lv_err *err);

/* CPUID, special and general registers for a vCPU about to run. */
int x86_setup_vcpu(int vcpu_fd, const struct kvm_cpuid2 *cpuid,
		   const struct x86_vcpu_start *start, struct lv_err *err);

/* One line of registers for error reports ("rip=... rsp=... cr2=..."). */
void x86_format_regs(int vcpu_fd, char *buf, size_t len);

#endif
