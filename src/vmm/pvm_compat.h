/*
 * Running Linux guests on PVM hosts (KVM without VT-x, ../shared/PVM-NOTES.md),
 * where guest kernel code is emulated and the emulator refuses some
 * instructions.  Off elsewhere: enabled when /sys/module/kvm_pvm exists (or
 * by --pvm on).  It
 *   - adds guest command-line options that keep the kernel off instructions
 *     it cannot run (pvm_cmdline());
 *   - carries out, for the guest, the refused instructions a Linux guest
 *     reaches: int3 and int n (delivered through the guest's IDT), fwait,
 *     clac/stac, rdtscp, xgetbv, ldmxcsr/stmxcsr, popcnt;
 *   - repairs the host's broken `syscall` from user mode: the #PF entry's
 *     leading NOP becomes a refused instruction (clac), so the VMM sees each
 *     page fault first; a fault that is really a syscall landing at LSTAR
 *     with user CS is turned into the kernel-mode entry it should have been.
 *   - refuses a Linux guest more than one vCPU (pvm_check_cpus()).
 * Each handled event is counted (exit reasons pvm_emulated, pvm_syscall).
 * Anything else ends the VM with the instruction's bytes and RIP.
 */
#ifndef LV_VMM_PVM_COMPAT_H
#define LV_VMM_PVM_COMPAT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct vcpu;

bool pvm_host_detected(void);

/*
 * A Linux guest gets one vCPU on PVM hosts: an SMP kernel brings up its other
 * CPUs with KVM's paravirtual IPIs (KVM_HC_SEND_IPI through `vmcall`, chosen
 * from CPUID leaf 0x40000001, which the VMM cannot mask here), and PVM
 * neither carries out nor reports that `vmcall`: the boot hangs.  -1 with a
 * message saying so when cpus > 1.
 */
int pvm_check_cpus(unsigned cpus, struct lv_err *err);

/* Options a Linux guest needs on a PVM host (appended to its command line). */
const char *pvm_cmdline(void);

/* An emulation failure: 1 handled (the vCPU resumes; *reason: how the exit
 * counts), 0 not an instruction this layer knows (what[] says which), -1 the
 * VMM failed (what[] says how). */
int pvm_handle_emulation_failure(struct vcpu *v, char *what, size_t len, unsigned *reason);

/* Looks at the guest's IDT and hooks its #PF entry once it is the final one. */
void pvm_hook_page_faults(struct vcpu *v);

#endif
