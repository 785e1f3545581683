/*
 * libvmm: Labvisor's KVM monitor, for bare guests and Linux guests.  The one public header of
 * the vmm layer: it knows nothing of courses, only guests and VM settings.
 *
 *   struct vmm_config cfg = vmm_config_default();
 *   cfg.guest_path = "hello.elf";
 *   struct vmm_result res;
 *   if (vmm_run(&cfg, &res, &err) < 0) ...   // could not start the VM
 *   // else res.end says how it ended (res.exit_code: the guest's exit code)
 *
 * libvmm installs a no-op SIGUSR1 handler and sends SIGUSR1 to vCPU threads
 * to make them leave KVM_RUN; a program embedding it must leave SIGUSR1 be.
 */
#ifndef LV_VMM_H
#define LV_VMM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "labvisor/hypercall_abi.h"
#include "util/err.h"

#define VMM_MAX_CPUS 64
#define VMM_MIN_MEM  (64u << 10)
#define VMM_MAX_MEM  (64ull << 30)
#define VMM_STACK_SIZE (64u << 10)  /* per vCPU, at the top of guest RAM */

enum vmm_format { VMM_FORMAT_AUTO, VMM_FORMAT_ELF, VMM_FORMAT_FLAT };

enum vmm_pvm { VMM_PVM_AUTO, VMM_PVM_ON, VMM_PVM_OFF };

struct vmm_config {
	const char *guest_path;         /* a bare guest, or NULL with kernel_path */
	/* A Linux guest (boot_linux.h): bzImage or vmlinux, optional initrd. */
	const char *kernel_path, *initrd_path, *cmdline;
	enum vmm_pvm pvm;               /* the PVM compatibility layer (pvm_compat.h) */
	enum vmm_format format;
	uint64_t mem_size;      /* bytes, multiple of 4 KiB */
	unsigned cpus;
	const char *share_dir;  /* NULL: the file hypercalls return -LV_ENODEV */
	double timeout_sec;     /* 0: none */
	int console_fd;         /* where guest console bytes go */
	bool console_input;     /* Linux guests: standard input types into the console */
	const char *name;       /* a control socket <runtime_dir>/<name>.sock, or NULL */
	bool vsock;             /* bare guests: the virtio-vsock device too (Linux: always) */
	/* Linux: a cpio appended to the initrd (vm run --init-script's overlay) */
	const void *initrd_extra;
	size_t initrd_extra_len;
	const char *runtime_dir;
	FILE *profile;          /* --profile: RIP samples written here at the end (guest_profile.h) */
};

struct vmm_config vmm_config_default(void);

/* $XDG_RUNTIME_DIR/labvisor/vms, or /run/labvisor/vms for root. */
const char *vmm_runtime_dir(void);

enum vmm_end {
	VMM_END_HALTED,         /* every vCPU executed HLT */
	VMM_END_EXIT,           /* the guest called LV_HC_EXIT */
	VMM_END_TIMEOUT,        /* --timeout elapsed */
	VMM_END_GUEST_FAULT,    /* triple fault, bad memory access, bad hypercall block */
	VMM_END_VMM_ERROR,      /* KVM or the host failed us mid-run */
	VMM_END_POWEROFF,       /* Linux: halted with interrupts off ("System halted") */
	VMM_END_REBOOT,         /* Linux: triple fault after reboot=t, or the i8042 reset */
	VMM_END_PANIC,          /* Linux: the kernel panicked (its console said so) */
	VMM_END_STOPPED,        /* stopped through the control socket (labvisor vm stop) */
};

/* Exit statistics summed over all vCPUs. */
#define VMM_KVM_COUNTERS 16
struct vmm_stats {
	uint64_t count[LV_EXIT_REASON_COUNT];
	uint64_t cycles[LV_EXIT_REASON_COUNT];   /* TSC cycles in the VMM */
	bool reported[LV_EXIT_REASON_COUNT];     /* false: this host never reports it */
	bool timed[LV_EXIT_REASON_COUNT];        /* false: count only */
	uint64_t tsc_khz;
	unsigned nkvm;                           /* KVM's own counters, when available */
	struct { char name[48]; uint64_t value; } kvm[VMM_KVM_COUNTERS];
};

struct vmm_result {
	enum vmm_end end;
	int exit_code;          /* the guest's code (0..255), for VMM_END_EXIT */
	char message[1536];     /* how it ended, with RIP and registers on faults */
	unsigned ncpus;
	struct { bool halted; uint64_t rax; } vcpu[VMM_MAX_CPUS];
	struct vmm_stats stats;
	double wall_sec;
};

/* Human name of an exit reason ("hypercall"), NULL when not defined. */
const char *vmm_exit_reason_name(unsigned reason);

/*
 * Loads and runs a guest to its end.  Returns -1 with `err` set when the VM
 * could not be started (no /dev/kvm, unreadable or invalid guest, ...);
 * otherwise 0 with the outcome in `res`, whatever the guest did.
 */
int vmm_run(const struct vmm_config *cfg, struct vmm_result *res, struct lv_err *err);

#endif
