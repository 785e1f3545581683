/*
 * The Linux x86-64 64-bit boot protocol (Documentation/x86/boot.rst), as
 * Firecracker uses it: a bzImage's protected-mode part at 1 MiB (header
 * magic, protocol version >= 2.12 and XLF_KERNEL_64 checked) or a vmlinux
 * ELF at its physical addresses; the zero page with e820, command line and
 * initrd; entered in 64-bit mode at load address + 0x200 (bzImage) or the
 * ELF entry, RSI = zero page, with the VMM's identity map and a GDT that has
 * __BOOT_CS (0x10) and __BOOT_DS (0x18).
 */
#ifndef LV_VMM_BOOT_LINUX_H
#define LV_VMM_BOOT_LINUX_H

#include <stdint.h>

#include "guest_mem.h"
#include "util/err.h"

#define LINUX_ZERO_PAGE   0x7000
#define LINUX_BOOT_STACK  0x8ff0
#define LINUX_CMDLINE     0x20000
#define LINUX_CMDLINE_MAX 4096
#define LINUX_KERNEL_LOAD 0x100000

struct linux_boot {
	uint64_t entry;         /* 64-bit entry point */
	uint64_t kernel_end;
	uint64_t initrd_gpa, initrd_size;
};

/*
 * Loads kernel (bzImage or vmlinux), initrd (may be NULL; initrd_extra, a
 * cpio, is appended to it) and cmdline into guest memory and builds the zero
 * page.  Errors name the file and what is wrong with it (not a kernel,
 * protocol too old, too big for the memory).
 */
int linux_load(struct guest_mem *mem, const char *kernel, const char *initrd,
	       const void *initrd_extra, size_t initrd_extra_len, const char *cmdline,
	       struct linux_boot *out, struct lv_err *err);

#endif
