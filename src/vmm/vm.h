/*
 * Internal state of one running VM, shared by the files of src/vmm/.
 * Each VM owns everything here; there is no other mutable state.
 */
#ifndef LV_VMM_VM_H
#define LV_VMM_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>

#include "boot_linux.h"
#include "console_in.h"
#include "control.h"
#include "exit_stats.h"
#include "guest_mem.h"
#include "guest_profile.h"
#include "pc_io.h"
#include "pvfs.h"
#include "virtio_vsock.h"
#include "vmm.h"

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	struct exit_counters ctr;   /* written only by this vCPU's thread */
	struct kvm_stats_reader kstats;
	bool halted;
	uint64_t halt_rax;
	char regs_at_stop[320];     /* where it was when a timeout or a stop took it out */
	struct guest_profile prof;  /* --profile only */
};

struct vm {
	const struct vmm_config *cfg;
	int kvm_fd, vm_fd;
	struct guest_mem mem;
	uint8_t *sys;               /* system area: GDT + page tables */
	uint64_t sys_gpa, sys_size;
	size_t run_size;
	struct kvm_cpuid2 *cpuid;
	struct pvfs *fs;            /* NULL without --share */
	bool is_linux;              /* a Linux guest: irqchip, PIT, PC ports */
	bool pvm;                   /* the PVM compatibility layer is on */
	struct pc_io io;            /* Linux guests only */
	struct console_in console;  /* Linux guests: standard input to the UART */
	struct control control;     /* --name: the control socket */
	bool has_vsock;
	struct virtio_vsock vsock;  /* the agent's channel (virtio_vsock.h) */
	struct linux_boot boot;
	uint64_t pf_hook_gva;       /* PVM: where the #PF entry's NOP became a trap (0: none) */
	uint64_t tsc_khz;
	uint64_t start_ns;
	unsigned ncpus;
	struct vcpu *vcpus;

	/* The end of the run: the first vm_stop() wins. */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	unsigned running;           /* vCPU threads not yet finished */
	atomic_bool stopping;
	enum vmm_end end;
	int exit_code;              /* VMM_END_EXIT only */
	char message[1536];
};

/* Ends the run for every vCPU; the first caller's reason is kept. */
void vm_stop(struct vm *vm, enum vmm_end end, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The exit hypercall: ends the run with the guest's exit code. */
void vm_guest_exit(struct vm *vm, unsigned vcpu, int64_t code);

/* Makes a vCPU leave KVM_RUN promptly (from any thread). */
void vcpu_kick(struct vcpu *vcpu);

/* Thread body of a vCPU. */
void *vcpu_thread(void *arg);

/* Sums every vCPU's counters and KVM's own statistics. */
void vm_collect_stats(struct vm *vm, struct vmm_stats *out);

uint64_t vm_now_ns(void);

/* A whole file (at most 1 GiB) in memory; `what` names it in errors. */
uint8_t *vm_read_file(const char *what, const char *path, size_t *size, struct lv_err *err);

#endif
