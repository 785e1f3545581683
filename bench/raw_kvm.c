#include "raw_kvm.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM (16u << 20)
#define PT  (MEM - 0x4000)      /* PML4, PDPT, PD at the top of RAM */

static int setup_vcpu(int kvm, int vm, uint8_t *mem)
{
	struct { struct kvm_cpuid2 c; struct kvm_cpuid_entry2 e[256]; } cpuid = { .c.nent = 256 };
	uint64_t *pml4 = (uint64_t *)(mem + PT), *pdpt = pml4 + 512, *pd = pml4 + 1024;
	struct kvm_segment seg = { .limit = ~0u, .present = 1, .s = 1, .g = 1 };
	struct kvm_sregs s;
	struct kvm_regs r = { .rflags = 2, .rsp = PT };
	int cpu = ioctl(vm, KVM_CREATE_VCPU, 0);

	if (cpu < 0 || ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0 ||
	    ioctl(cpu, KVM_SET_CPUID2, &cpuid) < 0 || ioctl(cpu, KVM_GET_SREGS, &s) < 0)
		return -1;
	pml4[0] = (PT + 0x1000) | 3;
	pdpt[0] = (PT + 0x2000) | 3;
	for (int i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;
	seg.type = 11; seg.l = 1; seg.selector = 8;
	s.cs = seg;
	seg.type = 3; seg.l = 0; seg.db = 1; seg.selector = 16;
	s.ds = s.es = s.fs = s.gs = s.ss = seg;
	s.cr3 = PT;
	s.cr4 = 0x20;
	s.cr0 = 0x80050033;
	s.efer = 0x500;
	if (ioctl(cpu, KVM_SET_SREGS, &s) < 0 || ioctl(cpu, KVM_SET_REGS, &r) < 0)
		return -1;
	return cpu;
}

static long run_loop(int cpu, struct kvm_run *run, int console_fd)
{
	long n = 0;

	for (;;) {
		if (ioctl(cpu, KVM_RUN, 0) < 0)
			return perror("KVM_RUN"), -1;
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0xE9) {
			if (write(console_fd, (uint8_t *)run + run->io.data_offset, 1) < 0)
				return perror("write"), -1;
		} else if (run->exit_reason == KVM_EXIT_IO) {
			n++;
		} else if (run->exit_reason == KVM_EXIT_HLT) {
			return n;
		} else {
			fprintf(stderr, "raw_kvm: exit reason %u\n", run->exit_reason);
			return -1;
		}
	}
}

long raw_kvm_run(const uint8_t *image, size_t len, int console_fd)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm = -1, cpu = -1;
	uint8_t *mem = MAP_FAILED;
	struct kvm_run *run = MAP_FAILED;
	long n = -1, run_size = 0;

	if (kvm < 0 || (vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0 || len > PT)
		goto out;
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	struct kvm_userspace_memory_region region = {
		.memory_size = MEM, .userspace_addr = (uintptr_t)mem,
	};
	if (mem == MAP_FAILED || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		goto out;
	memcpy(mem, image, len);
	if ((cpu = setup_vcpu(kvm, vm, mem)) < 0)
		goto out;
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run != MAP_FAILED)
		n = run_loop(cpu, run, console_fd);
out:
	if (n < 0)
		perror("raw_kvm");
	if (run != MAP_FAILED)
		munmap(run, run_size);
	if (mem != MAP_FAILED)
		munmap(mem, MEM);
	if (cpu >= 0)
		close(cpu);
	if (vm >= 0)
		close(vm);
	if (kvm >= 0)
		close(kvm);
	return n;
}

size_t raw_kvm_loop_guest(uint8_t *buf, size_t len, uint32_t n)
{
	static const uint8_t code[] = {
		0xb8, 0x00, 0x10, 0x00, 0x00,   /* mov $0x1000, %eax  */
		0xb9, 0, 0, 0, 0,               /* mov $N, %ecx       */
		0x66, 0xba, 0x0f, 0x05,         /* mov $0x50f, %dx    */
		0xef,                           /* 1: out %eax, %dx   */
		0xff, 0xc9,                     /* dec %ecx           */
		0x75, 0xfb,                     /* jnz 1b             */
		0xf4,                           /* hlt                */
	};

	if (len < sizeof(code))
		return 0;
	memcpy(buf, code, sizeof(code));
	memcpy(buf + 6, &n, sizeof(n));
	return sizeof(code);
}
