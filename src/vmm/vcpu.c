/*
 * A vCPU's thread: KVM_RUN in a loop, each exit handled here and counted.
 * The time of an exit is measured from KVM_RUN's return to the next
 * KVM_RUN, in TSC cycles, into this vCPU's own counters (no lock).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <x86intrin.h>

#include "hypercall.h"
#include "pvm_compat.h"
#include "vm.h"
#include "x86_cpu.h"

enum step { STEP_CONTINUE, STEP_HALT, STEP_STOP };

void vcpu_kick(struct vcpu *v)
{
	/* immediate_exit covers a kick that lands just before KVM_RUN. */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	if (v->started)
		pthread_kill(v->thread, SIGUSR1);
}

static void stop_with_regs(struct vcpu *v, enum vmm_end end, const char *what)
{
	char regs[512];

	x86_format_regs(v->fd, regs, sizeof(regs));
	vm_stop(v->vm, end, "%s (vcpu %u); registers: %s", what, v->id, regs);
}

/* The statistics reason of an exit, decided before it is handled so that an
 * exit-statistics query counts itself (as in the classic assignment). */
static unsigned exit_reason(const struct kvm_run *run)
{
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (run->io.port == LV_CONSOLE_PORT && run->io.direction == KVM_EXIT_IO_OUT)
			return LV_EXIT_CONSOLE;
		if (run->io.port >= LV_HC_PORT_BASE &&
		    run->io.port < LV_HC_PORT_BASE + LV_HC_PORT_COUNT &&
		    run->io.direction == KVM_EXIT_IO_OUT)
			return LV_EXIT_HYPERCALL;
		return LV_EXIT_PIO;
	case KVM_EXIT_MMIO:     return LV_EXIT_MMIO;
	case KVM_EXIT_HLT:      return LV_EXIT_HLT;
	case KVM_EXIT_SHUTDOWN: return LV_EXIT_SHUTDOWN;
	case KVM_EXIT_INTR:     return LV_EXIT_INTR;
	default:                return LV_EXIT_OTHER;
	}
}

/* A Linux guest's ports: the PC's devices (pc_io.c). */
static enum step handle_pc_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	for (unsigned i = 0; i < run->io.count; i++, data += run->io.size)
		if (pc_io(&v->vm->io, run->io.port, out, data, run->io.size) == PC_IO_RESET) {
			vm_stop(v->vm, VMM_END_REBOOT, "the guest rebooted (i8042 reset)");
			return STEP_STOP;
		}
	return STEP_CONTINUE;
}

static enum step handle_io(struct vcpu *v, unsigned reason)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	size_t bytes = (size_t)run->io.size * run->io.count;
	uint32_t gpa;

	if (v->vm->is_linux)
		return handle_pc_io(v);

	switch (reason) {
	case LV_EXIT_HYPERCALL:
		if (run->io.size != 4 || run->io.count != 1) {
			stop_with_regs(v, VMM_END_GUEST_FAULT, "guest fault: a hypercall port was "
				       "written with other than one 32-bit outl");
			return STEP_STOP;
		}
		memcpy(&gpa, data, sizeof(gpa));
		return hypercall_dispatch(v, run->io.port - LV_HC_PORT_BASE, gpa) < 0
			? STEP_STOP : STEP_CONTINUE;
	case LV_EXIT_CONSOLE:
		if (write(v->vm->cfg->console_fd, data, bytes) < 0) {
			/* the console reader went away: the guest runs on, unheard */
		}
		return STEP_CONTINUE;
	default:
		if (run->io.direction == KVM_EXIT_IO_IN)
			memset(data, 0xff, bytes);      /* nothing there, like an open bus */
		return STEP_CONTINUE;
	}
}

/* The virtio device's window; anything else is a stray access. */
static enum step handle_mmio(struct vcpu *v)
{
	uint64_t gpa = v->run->mmio.phys_addr;
	bool sys = gpa >= v->vm->sys_gpa && gpa - v->vm->sys_gpa < v->vm->sys_size;
	char what[200];

	if (v->vm->has_vsock && v->run->mmio.len <= 8 &&
	    virtio_mmio_access(&v->vm->vsock.mmio, gpa, v->run->mmio.is_write, v->run->mmio.data,
			       v->run->mmio.len))
		return STEP_CONTINUE;
	snprintf(what, sizeof(what), "guest fault: %s of %u bytes at guest-physical %#llx, %s",
		 v->run->mmio.is_write ? "write" : "read", v->run->mmio.len,
		 (unsigned long long)gpa,
		 sys ? "in the VMM's read-only GDT and page tables"
		     : "where there is no memory");
	stop_with_regs(v, VMM_END_GUEST_FAULT, what);
	return STEP_STOP;
}

static enum step handle_internal_error(struct vcpu *v, unsigned *reason)
{
	struct kvm_run *run = v->run;
	char what[400];
	int n;

	if (v->vm->pvm && run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
		unsigned handled_as;
		int rc = pvm_handle_emulation_failure(v, what, sizeof(what), &handled_as);

		if (rc > 0) {
			exit_move(&v->ctr, *reason, handled_as);
			*reason = handled_as;
			return STEP_CONTINUE;
		}
		stop_with_regs(v, rc < 0 ? VMM_END_VMM_ERROR : VMM_END_GUEST_FAULT, what);
		return STEP_STOP;
	}

	n = snprintf(what, sizeof(what), "KVM internal error (suberror %u)",
		     run->internal.suberror);
	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
		n += snprintf(what + n, sizeof(what) - n,
			      ": KVM could not emulate an instruction (on PVM hosts guest "
			      "kernel-mode code is emulated, and some instructions cannot be; "
			      "see docs/hypercalls.md)");
		if (run->emulation_failure.ndata >= 3 &&
		    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
			unsigned len = run->emulation_failure.insn_size;

			n += snprintf(what + n, sizeof(what) - n, "; instruction bytes:");
			for (unsigned i = 0; i < len && i < 8 && n < (int)sizeof(what); i++)
				n += snprintf(what + n, sizeof(what) - n, " %02x",
					      run->emulation_failure.insn_bytes[i]);
		}
	}
	stop_with_regs(v, VMM_END_GUEST_FAULT, what);
	return STEP_STOP;
}

/* A Linux guest's triple fault: reboot=t's way to reboot, or the end of a panic. */
static enum step linux_shutdown(struct vcpu *v)
{
	if (v->vm->io.uart.panicked)
		vm_stop(v->vm, VMM_END_PANIC, "the guest kernel panicked (see its console)");
	else
		vm_stop(v->vm, VMM_END_REBOOT, "the guest rebooted (triple fault)");
	return STEP_STOP;
}

static enum step handle_exit(struct vcpu *v, unsigned *reason)
{
	struct kvm_run *run = v->run;
	char what[128];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(v, *reason);
	case KVM_EXIT_MMIO:
		return handle_mmio(v);
	case KVM_EXIT_HLT:
		return STEP_HALT;
	case KVM_EXIT_SHUTDOWN:
		if (v->vm->is_linux)
			return linux_shutdown(v);
		stop_with_regs(v, VMM_END_GUEST_FAULT,
			       "guest fault: triple fault (shutdown); an exception the guest "
			       "did not handle");
		return STEP_STOP;
	case KVM_EXIT_INTR:
		return STEP_CONTINUE;
	case KVM_EXIT_INTERNAL_ERROR:
		return handle_internal_error(v, reason);
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "KVM could not enter the guest (hardware reason %#llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		stop_with_regs(v, VMM_END_VMM_ERROR, what);
		return STEP_STOP;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit reason %u", run->exit_reason);
		stop_with_regs(v, VMM_END_VMM_ERROR, what);
		return STEP_STOP;
	}
}

static void record_halt(struct vcpu *v)
{
	struct kvm_regs regs;

	v->halted = true;
	if (ioctl(v->fd, KVM_GET_REGS, &regs) == 0)
		v->halt_rax = regs.rax;
}

/*
 * Every LINUX_TICK_MS (vm.c): a vCPU halted with interrupts off is a guest
 * that powered off ("System halted"); on PVM hosts, the #PF hook follows
 * the guest's IDT.  True when the run ended.
 */
static bool linux_tick(struct vcpu *v)
{
	struct kvm_mp_state mp;
	struct kvm_regs regs;

	if (v->vm->pvm)
		pvm_hook_page_faults(v);
	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0 || mp.mp_state != KVM_MP_STATE_HALTED ||
	    ioctl(v->fd, KVM_GET_REGS, &regs) < 0 || (regs.rflags & (1u << 9)))
		return false;
	if (v->vm->io.uart.panicked)
		vm_stop(v->vm, VMM_END_PANIC, "the guest kernel panicked (see its console)");
	else
		vm_stop(v->vm, VMM_END_POWEROFF, "the guest powered off (halted with interrupts off)");
	return true;
}

/* --profile: where the guest was when the profile tick kicked it out. */
static void sample_rip(struct vcpu *v)
{
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) == 0)
		guest_profile_add(&v->prof, regs.rip);
}

static void run_loop(struct vcpu *v)
{
	struct vm *vm = v->vm;

	while (!atomic_load_explicit(&vm->stopping, memory_order_acquire)) {
		unsigned reason;
		enum step step;
		uint64_t t0;
		int rc = ioctl(v->fd, KVM_RUN, NULL);

		t0 = __rdtsc();
		if (rc < 0 && (errno == EINTR || errno == EAGAIN)) {
			__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
			exit_count(&v->ctr, LV_EXIT_INTR);
			if (vm->cfg->profile)
				sample_rip(v);
			if (vm->is_linux && linux_tick(v))
				return;
			if (atomic_load_explicit(&vm->stopping, memory_order_acquire))
				x86_format_regs(v->fd, v->regs_at_stop, sizeof(v->regs_at_stop));
			continue;
		}
		if (rc < 0) {
			vm_stop(vm, VMM_END_VMM_ERROR, "KVM_RUN on vcpu %u: %s", v->id,
				strerror(errno));
			return;
		}
		reason = exit_reason(v->run);
		exit_count(&v->ctr, reason);
		step = handle_exit(v, &reason);
		exit_time(&v->ctr, reason, __rdtsc() - t0);
		if (step == STEP_HALT) {
			record_halt(v);
			return;
		}
		if (step == STEP_STOP)
			return;
	}
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	run_loop(v);
	pthread_mutex_lock(&vm->lock);
	vm->running--;
	pthread_cond_broadcast(&vm->changed);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}
