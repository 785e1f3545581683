/*
 * Loading a bare guest image into guest RAM: ELF64 x86-64 executables
 * (PT_LOAD segments at their physical addresses) and flat binaries (at
 * guest-physical 0, entered at 0).  Pure functions over a file's bytes, so
 * unit tests feed them crafted images.
 */
#ifndef LV_VMM_GUEST_IMAGE_H
#define LV_VMM_GUEST_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"
#include "util/err.h"

struct guest_image {
	uint64_t entry;         /* guest-physical entry point */
	uint64_t end;           /* first byte after the highest loaded segment */
};

/* True when the bytes start with the ELF magic. */
int image_is_elf(const uint8_t *file, size_t size);

int image_load_elf(const uint8_t *file, size_t size, const struct guest_mem *gm,
		   struct guest_image *img, struct lv_err *err);

int image_load_flat(const uint8_t *file, size_t size, const struct guest_mem *gm,
		    struct guest_image *img, struct lv_err *err);

#endif
