/*
 * Guest RAM and the ONE checker that turns guest-physical ranges into host
 * pointers.  Every address or length that a guest controls (hypercall
 * argument blocks, buffers, paths) goes through gm_range() before use;
 * nothing else in the VMM adds a GPA to a host pointer.
 */
#ifndef LV_VMM_GUEST_MEM_H
#define LV_VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem {
	uint8_t *host;      /* mapping of guest-physical [0, size) */
	uint64_t size;
};

/*
 * Host pointer for guest-physical [gpa, gpa + len), or NULL unless the whole
 * range lies in guest RAM.  Overflow-safe for any 64-bit gpa and len.  A
 * zero-length range is valid anywhere in [0, size].
 */
void *gm_range(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Copies between guest RAM and a host buffer; false when out of range. */
bool gm_copy_in(const struct guest_mem *gm, void *dst, uint64_t gpa, uint64_t len);
bool gm_copy_out(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len);

#endif
