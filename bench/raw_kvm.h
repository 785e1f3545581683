/*
 * The benchmarks' peer: the least a KVM program can do to run a flat 64-bit
 * guest (in the spirit of kvm-hello-world): 16 MiB of RAM, identity-mapped
 * long mode, port 0xE9 to a file descriptor, any other port I/O ignored,
 * stop at HLT.  No checks, no statistics, no hypercall ABI.
 */
#ifndef LV_BENCH_RAW_KVM_H
#define LV_BENCH_RAW_KVM_H

#include <stddef.h>
#include <stdint.h>

/* Runs the image (loaded at 0, entered at 0); returns the number of
 * non-console port exits, or -1 with a message on stderr. */
long raw_kvm_run(const uint8_t *image, size_t len, int console_fd);

/* A flat guest: `mov $0x1000,%eax; mov $N,%ecx; mov $0x50f,%dx;
 * 1: out %eax,%dx; dec %ecx; jnz 1b; hlt` — N port exits to 0x50F, which is
 * Labvisor's LV_HC_ABI_VERSION hypercall with its block at 0x1000. */
size_t raw_kvm_loop_guest(uint8_t *buf, size_t len, uint32_t n);

#endif
