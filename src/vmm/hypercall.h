/* Hypercall dispatch (ABI: include/labvisor/hypercall_abi.h). */
#ifndef LV_VMM_HYPERCALL_H
#define LV_VMM_HYPERCALL_H

#include <stdint.h>

struct vcpu;

/*
 * Handles hypercall `nr` whose argument block is at guest-physical `gpa`.
 * Returns 0 to resume the vCPU, -1 when the call ended the VM (the reason
 * has been given to vm_stop()).
 */
int hypercall_dispatch(struct vcpu *vcpu, unsigned nr, uint32_t gpa);

#endif
