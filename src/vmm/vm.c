/*
 * One VM's life: /dev/kvm, guest RAM and the system area as two memory
 * slots, the guest image, one thread per vCPU, the wait for the end (all
 * halted, an exit hypercall, a fault or the timeout), then teardown.
 */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest_image.h"
#include "mptable.h"
#include "pvm_compat.h"
#include "x86_cpu.h"

#define GIB (1ull << 30)
#define SLOT_RAM 0
#define SLOT_SYS 1
#define MAX_GUEST_FILE (1ull << 30)
#define VSOCK_IRQ 5
#define VSOCK_WINDOW (512ull << 20)     /* above the system area's start */

struct vmm_config vmm_config_default(void)
{
	return (struct vmm_config){
		.format = VMM_FORMAT_AUTO,
		.mem_size = 16u << 20,
		.cpus = 1,
		.console_fd = STDOUT_FILENO,
	};
}

const char *vmm_runtime_dir(void)
{
	static __thread char dir[256];
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() != 0 && xdg && *xdg)
		snprintf(dir, sizeof(dir), "%s/labvisor/vms", xdg);
	else
		snprintf(dir, sizeof(dir), "/run/labvisor/vms");
	return dir;
}

uint64_t vm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void stop(struct vm *vm, enum vmm_end end, int exit_code, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&vm->lock);
	if (!atomic_load(&vm->stopping)) {
		vm->end = end;
		vm->exit_code = exit_code;
		vsnprintf(vm->message, sizeof(vm->message), fmt, ap);
		atomic_store_explicit(&vm->stopping, true, memory_order_release);
		for (unsigned i = 0; i < vm->ncpus; i++)
			vcpu_kick(&vm->vcpus[i]);
	}
	pthread_mutex_unlock(&vm->lock);
}

void vm_stop(struct vm *vm, enum vmm_end end, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stop(vm, end, 0, fmt, ap);
	va_end(ap);
}

static void stop_with_code(struct vm *vm, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stop(vm, VMM_END_EXIT, code, fmt, ap);
	va_end(ap);
}

void vm_guest_exit(struct vm *vm, unsigned vcpu, int64_t code)
{
	stop_with_code(vm, (int)(code & 0xff), "guest exited with code %lld (vcpu %u)",
		       (long long)code, vcpu);
}

void vm_collect_stats(struct vm *vm, struct vmm_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->tsc_khz = vm->tsc_khz;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		exit_counters_add_to(&vm->vcpus[i].ctr, out);
		kvm_stats_add_to(&vm->vcpus[i].kstats, out);
	}
	exit_stats_finish(out);
}

static int check_config(const struct vmm_config *cfg, struct lv_err *err)
{
	if (cfg->mem_size < VMM_MIN_MEM || cfg->mem_size > VMM_MAX_MEM || cfg->mem_size % 4096)
		return lv_err_set(err, "guest memory must be a multiple of 4 KiB between "
				  "64 KiB and 64 GiB (got %llu bytes)",
				  (unsigned long long)cfg->mem_size);
	if (cfg->cpus < 1 || cfg->cpus > VMM_MAX_CPUS)
		return lv_err_set(err, "vCPU count must be 1..%d (got %u)", VMM_MAX_CPUS, cfg->cpus);
	if (!cfg->kernel_path && (uint64_t)cfg->cpus * VMM_STACK_SIZE >= cfg->mem_size)
		return lv_err_set(err, "%u vCPUs need %u KiB of stack each: give more --mem",
				  cfg->cpus, VMM_STACK_SIZE >> 10);
	return 0;
}

uint8_t *vm_read_file(const char *what, const char *path, size_t *size, struct lv_err *err)
{
	uint8_t *buf = NULL;
	struct stat st;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		lv_err_sys(err, errno, "%s %s", what, path);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_GUEST_FILE) {
		lv_err_set(err, "%s %s: not a regular file of at most 1 GiB", what, path);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		lv_err_sys(err, ENOMEM, "%s %s", what, path);
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			lv_err_sys(err, n < 0 ? errno : EIO, "reading %s %s", what, path);
			free(buf);
			buf = NULL;
			goto out;
		}
		done += (size_t)n;
	}
	*size = done;
out:
	close(fd);
	return buf;
}

static int set_slot(struct vm *vm, unsigned slot, uint64_t gpa, uint64_t size, void *hva,
		    uint32_t flags, struct lv_err *err)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return lv_err_sys(err, errno, "KVM_SET_USER_MEMORY_REGION (slot %u, %llu KiB "
				  "at %#llx)", slot, (unsigned long long)(size >> 10),
				  (unsigned long long)gpa);
	return 0;
}

static void *map_anon(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int open_kvm(struct vm *vm, struct lv_err *err)
{
	int version;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return lv_err_sys(err, errno, "open /dev/kvm (is KVM enabled, and may this "
				  "user use it?)");
	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, NULL);
	if (version != KVM_API_VERSION)
		return lv_err_set(err, "/dev/kvm speaks API version %d, labvisor needs %d",
				  version, KVM_API_VERSION);
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return lv_err_sys(err, errno, "KVM_CREATE_VM");
	vm->run_size = (size_t)ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if ((long)vm->run_size <= 0)
		return lv_err_sys(err, errno, "KVM_GET_VCPU_MMAP_SIZE");
	vm->cpuid = x86_supported_cpuid(vm->kvm_fd, err);
	return vm->cpuid ? 0 : -1;
}

static int load_guest(struct vm *vm, struct guest_image *img, struct lv_err *err)
{
	const struct vmm_config *cfg = vm->cfg;
	uint64_t stacks = (uint64_t)cfg->cpus * VMM_STACK_SIZE;
	size_t size;
	uint8_t *file = vm_read_file("guest", cfg->guest_path, &size, err);
	int rc;

	if (!file)
		return -1;
	if (cfg->format == VMM_FORMAT_FLAT)
		rc = image_load_flat(file, size, &vm->mem, img, err);
	else
		rc = image_load_elf(file, size, &vm->mem, img, err);
	free(file);
	if (rc < 0)
		return lv_err_wrap(err, "guest %s", cfg->guest_path);
	if (img->end > vm->mem.size - stacks)
		return lv_err_set(err, "guest %s: image ends at %#llx, inside the %u vCPU "
				  "stack(s) of %u KiB at the top of RAM; give more --mem",
				  cfg->guest_path, (unsigned long long)img->end, cfg->cpus,
				  VMM_STACK_SIZE >> 10);
	return 0;
}

static int setup_memory(struct vm *vm, struct lv_err *err)
{
	uint64_t map_top;
	uint32_t sys_flags = 0;

	vm->mem.size = vm->cfg->mem_size;
	vm->mem.host = map_anon(vm->mem.size);
	if (!vm->mem.host)
		return lv_err_sys(err, errno, "guest memory of %llu KiB",
				  (unsigned long long)(vm->mem.size >> 10));
	if (set_slot(vm, SLOT_RAM, 0, vm->mem.size, vm->mem.host, 0, err) < 0)
		return -1;

	/* The system area sits on the first GiB boundary above RAM; the identity
	 * map covers RAM, the gap (accesses there exit as MMIO) and the area. */
	vm->sys_gpa = (vm->mem.size + GIB - 1) / GIB * GIB;
	map_top = vm->sys_gpa + GIB;
	vm->sys_size = x86_sys_area_size(map_top);
	vm->sys = map_anon(vm->sys_size);
	if (!vm->sys)
		return lv_err_sys(err, errno, "system area");
	x86_build_sys_area(vm->sys, vm->sys_gpa, map_top);
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0)
		sys_flags = KVM_MEM_READONLY;
	return set_slot(vm, SLOT_SYS, vm->sys_gpa, vm->sys_size, vm->sys, sys_flags, err);
}

static int create_vcpu(struct vm *vm, struct vcpu *v, unsigned id, uint64_t entry,
		       struct lv_err *err)
{
	/* bare: RDI = id, RSI = count, a stack each; Linux: RSI = the zero page */
	struct x86_vcpu_start start = {
		.sys_gpa = vm->sys_gpa,
		.rip = entry,
		.rsp = vm->is_linux ? LINUX_BOOT_STACK : vm->mem.size - (uint64_t)id * VMM_STACK_SIZE,
		.rdi = vm->is_linux ? 0 : id,
		.rsi = vm->is_linux ? LINUX_ZERO_PAGE : vm->ncpus,
		.rdx = vm->is_linux || !vm->has_vsock ? 0 : vm->vsock.mmio.base,
	};

	v->vm = vm;
	v->id = id;
	v->kstats.fd = -1;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		return lv_err_sys(err, errno, "KVM_CREATE_VCPU %u", id);
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return lv_err_sys(err, errno, "mmap of vcpu %u's kvm_run", id);
	}
	if (x86_setup_vcpu(v->fd, vm->cpuid, &start, err) < 0)
		return lv_err_wrap(err, "vcpu %u", id);
	kvm_stats_open(&v->kstats, v->fd);
	return 0;
}

static void on_kick(int sig)
{
	(void)sig;      /* only there to make KVM_RUN return with EINTR */
}

static int start_vcpus(struct vm *vm, struct lv_err *err)
{
	struct sigaction sa = { .sa_handler = on_kick };
	sigset_t set, old;
	int rc = 0;

	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	vm->start_ns = vm_now_ns();
	for (unsigned i = 0; i < vm->ncpus && rc == 0; i++) {
		pthread_mutex_lock(&vm->lock);
		rc = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (rc == 0) {
			vm->vcpus[i].started = true;
			vm->running++;
		}
		pthread_mutex_unlock(&vm->lock);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		lv_err_sys(err, rc, "starting vCPU threads");
		vm_stop(vm, VMM_END_VMM_ERROR, "%s", err->msg);
	}
	return rc ? -1 : 0;
}

/*
 * A Linux guest's vCPUs halt inside KVM (the in-kernel LAPIC wakes them), so
 * a powered-off guest ("System halted": HLT with interrupts off) never exits
 * by itself: every LINUX_TICK_MS each vCPU is kicked out of KVM_RUN to look
 * (vcpu.c).  --profile kicks every PROFILE_TICK_MS, bare guests too, and the
 * vCPU samples its RIP.  Called with vm->lock held; true when the --timeout
 * passed.
 */
#define LINUX_TICK_MS 200

static bool wait_tick(struct vm *vm, const struct timespec *deadline)
{
	long ms = vm->cfg->profile ? PROFILE_TICK_MS : LINUX_TICK_MS;
	struct timespec tick;

	clock_gettime(CLOCK_MONOTONIC, &tick);
	tick.tv_nsec += ms * 1000000L;
	if (tick.tv_nsec >= 1000000000L) {
		tick.tv_sec++;
		tick.tv_nsec -= 1000000000L;
	}
	if (vm->cfg->timeout_sec > 0 && (tick.tv_sec > deadline->tv_sec ||
	    (tick.tv_sec == deadline->tv_sec && tick.tv_nsec > deadline->tv_nsec)))
		return pthread_cond_timedwait(&vm->changed, &vm->lock, deadline) == ETIMEDOUT;
	if (pthread_cond_timedwait(&vm->changed, &vm->lock, &tick) == ETIMEDOUT)
		for (unsigned i = 0; i < vm->ncpus; i++)
			if (vm->vcpus[i].started)
				pthread_kill(vm->vcpus[i].thread, SIGUSR1);
	return false;
}

static void wait_for_end(struct vm *vm)
{
	struct timespec deadline;
	bool timed_out = false;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	if (vm->cfg->timeout_sec > 0) {
		double t = (double)deadline.tv_sec + deadline.tv_nsec / 1e9 + vm->cfg->timeout_sec;

		deadline.tv_sec = (time_t)t;
		deadline.tv_nsec = (long)((t - (double)deadline.tv_sec) * 1e9);
	}
	pthread_mutex_lock(&vm->lock);
	while (vm->running > 0 && !timed_out) {
		if (vm->is_linux || vm->cfg->profile)
			timed_out = wait_tick(vm, &deadline);
		else if (vm->cfg->timeout_sec > 0)
			timed_out = pthread_cond_timedwait(&vm->changed, &vm->lock, &deadline) == ETIMEDOUT;
		else
			pthread_cond_wait(&vm->changed, &vm->lock);
	}
	timed_out = timed_out && vm->running > 0;
	pthread_mutex_unlock(&vm->lock);
	if (timed_out)
		vm_stop(vm, VMM_END_TIMEOUT, "timeout: the guest was still running after %g s; "
			"stopped", vm->cfg->timeout_sec);
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
}

static void fill_result(struct vm *vm, struct vmm_result *res)
{
	res->ncpus = vm->ncpus;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		res->vcpu[i].halted = vm->vcpus[i].halted;
		res->vcpu[i].rax = vm->vcpus[i].halt_rax;
	}
	vm_collect_stats(vm, &res->stats);
	res->wall_sec = (double)(vm_now_ns() - vm->start_ns) / 1e9;
	if (atomic_load(&vm->stopping)) {
		res->end = vm->end;
		res->exit_code = vm->exit_code;
		snprintf(res->message, sizeof(res->message), "%s", vm->message);
		if (vm->end == VMM_END_TIMEOUT && vm->vcpus[0].regs_at_stop[0])
			snprintf(res->message + strlen(res->message),
				 sizeof(res->message) - strlen(res->message), " (vcpu 0: %s)",
				 vm->vcpus[0].regs_at_stop);
	} else {
		res->end = VMM_END_HALTED;
		snprintf(res->message, sizeof(res->message), "all %u vCPU(s) halted", vm->ncpus);
	}
}

static void vm_destroy(struct vm *vm)
{
	for (unsigned i = 0; vm->vcpus && i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		kvm_stats_close(&v->kstats);
		guest_profile_free(&v->prof);
		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(vm->vcpus);
	vsock_destroy(&vm->vsock);
	pvfs_destroy(vm->fs);
	if (vm->mem.host)
		munmap(vm->mem.host, vm->mem.size);
	if (vm->sys)
		munmap(vm->sys, vm->sys_size);
	free(vm->cpuid);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_mutex_destroy(&vm->lock);
	pthread_cond_destroy(&vm->changed);
}

/* The PC a Linux guest expects: in-kernel PIC, IOAPIC and LAPIC, a PIT, our ports. */
static int setup_linux(struct vm *vm, struct guest_image *img, struct lv_err *err)
{
	struct kvm_pit_config pit = { .flags = 0 };
	const struct vmm_config *cfg = vm->cfg;

	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);      /* VMX needs it; others ignore it */
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return lv_err_sys(err, errno, "KVM_CREATE_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return lv_err_sys(err, errno, "KVM_CREATE_PIT2");
	char cmdline[LINUX_CMDLINE_MAX + 256], vsock[80];

	virtio_mmio_cmdline(&vm->vsock.mmio, vsock, sizeof(vsock));
	/* ours first, so that --append can override any of it */
	snprintf(cmdline, sizeof(cmdline), "console=ttyS0 reboot=t panic=-1 %s%s%s%s%s", vsock,
		 vm->pvm ? " " : "", vm->pvm ? pvm_cmdline() : "", cfg->cmdline ? " " : "",
		 cfg->cmdline ? cfg->cmdline : "");
	if (linux_load(&vm->mem, cfg->kernel_path, cfg->initrd_path, cfg->initrd_extra,
		       cfg->initrd_extra_len, cmdline, &vm->boot, err) < 0 ||
	    mptable_write(&vm->mem, vm->ncpus, err) < 0)
		return -1;
	pc_io_init(&vm->io, vm->vm_fd, cfg->console_fd);
	img->entry = vm->boot.entry;
	img->end = vm->boot.kernel_end;
	return 0;
}

static int vm_create(struct vm *vm, struct lv_err *err)
{
	struct guest_image img;

	if (open_kvm(vm, err) < 0 || setup_memory(vm, err) < 0)
		return -1;
	if (vm->is_linux || vm->cfg->vsock) {
		if (vsock_create(&vm->vsock, vm->vm_fd, &vm->mem, vm->sys_gpa + VSOCK_WINDOW,
				 VSOCK_IRQ, err) < 0)
			return -1;
		vm->has_vsock = true;
	}
	if (vm->is_linux ? setup_linux(vm, &img, err) < 0 : load_guest(vm, &img, err) < 0)
		return -1;
	if (vm->cfg->share_dir && pvfs_create(vm->cfg->share_dir, &vm->fs, err) < 0)
		return -1;
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return lv_err_sys(err, ENOMEM, "vCPU table");
	for (unsigned i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (create_vcpu(vm, &vm->vcpus[i], i, img.entry, err) < 0)
			return -1;
		if (vm->cfg->profile && guest_profile_init(&vm->vcpus[i].prof) < 0)
			return lv_err_sys(err, errno, "--profile: vcpu %u's sample table", i);
	}
	vm->tsc_khz = (uint64_t)ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, NULL);
	if ((int64_t)vm->tsc_khz <= 0)
		vm->tsc_khz = 0;
	return 0;
}

/* --name: the control socket, then the agent's (<name>.vsock beside it). */
static int open_sockets(struct vm *vm, struct lv_err *err)
{
	const char *dir = vm->cfg->runtime_dir ? vm->cfg->runtime_dir : vmm_runtime_dir();
	struct sockaddr_un sun;

	if (control_open(&vm->control, vm, dir, vm->cfg->name, err) < 0)
		return -1;
	if (!vm->has_vsock)
		return 0;
	if (control_vsock_path(dir, vm->cfg->name, &sun, err) < 0 ||
	    vsock_listen(&vm->vsock, sun.sun_path, err) < 0) {
		control_close(&vm->control);
		return -1;
	}
	return 0;
}

static void write_profile(struct vm *vm, struct vmm_result *res)
{
	const struct guest_profile *tables[VMM_MAX_CPUS];

	for (unsigned i = 0; i < vm->ncpus; i++)
		tables[i] = &vm->vcpus[i].prof;
	if (guest_profile_write(vm->cfg->profile, tables, vm->ncpus, res->wall_sec) < 0)
		fprintf(stderr, "labvisor: --profile: writing the samples: %s\n", strerror(errno));
}

int vmm_run(const struct vmm_config *cfg, struct vmm_result *res, struct lv_err *err)
{
	struct vm vm = { .cfg = cfg, .kvm_fd = -1, .vm_fd = -1, .ncpus = cfg->cpus,
			 .is_linux = cfg->kernel_path != NULL };

	vm.pvm = vm.is_linux && (cfg->pvm == VMM_PVM_ON ||
			      (cfg->pvm == VMM_PVM_AUTO && pvm_host_detected()));
	pthread_condattr_t ca;
	int rc;

	memset(res, 0, sizeof(*res));
	err->msg[0] = '\0';
	if (check_config(cfg, err) < 0 || (vm.pvm && pvm_check_cpus(cfg->cpus, err) < 0))
		return -1;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);    /* the --timeout deadline's clock */
	pthread_mutex_init(&vm.lock, NULL);
	pthread_cond_init(&vm.changed, &ca);
	pthread_condattr_destroy(&ca);
	vm.control.fd = -1;
	rc = vm_create(&vm, err);
	if (rc == 0 && cfg->name)
		rc = open_sockets(&vm, err);
	if (rc == 0) {
		if (vm.has_vsock)
			vsock_start(&vm.vsock);
		start_vcpus(&vm, err);
		control_start(&vm.control);
		if (vm.is_linux && cfg->console_input)
			console_in_start(&vm.console, &vm);
		wait_for_end(&vm);
		console_in_stop(&vm.console);
		control_close(&vm.control);
		vsock_destroy(&vm.vsock);
		fill_result(&vm, res);
		if (cfg->profile)
			write_profile(&vm, res);
	}
	vm_destroy(&vm);
	return rc;
}
