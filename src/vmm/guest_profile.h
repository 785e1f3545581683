/*
 * A sampling profile of where a guest spends its time: `vm run --profile`.
 * The VMM kicks each vCPU out of KVM_RUN every PROFILE_TICK_MS and its thread
 * records the guest RIP it left.  Each vCPU owns its table (no lock); the
 * tables are merged and written when the VM has ended.  On PVM hosts, where
 * guest kernel code is emulated, this is how a slow boot is taken apart
 * (scripts/guest-profile names the functions with the kernel's System.map).
 */
#ifndef LV_VMM_GUEST_PROFILE_H
#define LV_VMM_GUEST_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#define PROFILE_TICK_MS 10
#define PROFILE_SLOTS   (1u << 16)      /* distinct RIPs kept per vCPU */

struct guest_profile {
	uint64_t *rip;          /* open addressing; 0 = empty slot */
	uint32_t *count;
	uint64_t samples;
	uint64_t dropped;       /* samples whose RIP found the table full */
};

int guest_profile_init(struct guest_profile *p);
void guest_profile_free(struct guest_profile *p);
void guest_profile_add(struct guest_profile *p, uint64_t rip);

/* Writes the merged samples of n tables to f, most frequent first:
 * "count rip" lines after a "#" header.  Returns 0, or -1 with errno. */
int guest_profile_write(FILE *f, const struct guest_profile *const *tables, unsigned n,
			double wall_sec);

#endif
