#include "boot_linux.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest_image.h"
#include "vm.h"

/* Offsets in the bzImage's first sector / the zero page (struct boot_params). */
#define BP_E820_ENTRIES 0x1e8
#define BP_SETUP_SECTS  0x1f1
#define BP_BOOT_FLAG    0x1fe
#define BP_JUMP         0x200
#define BP_HEADER       0x202
#define BP_VERSION      0x206
#define BP_LOADER_TYPE  0x210
#define BP_LOADFLAGS    0x211
#define BP_RAMDISK_IMG  0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMDLINE_PTR  0x228
#define BP_INITRD_MAX   0x22c
#define BP_KERNEL_ALIGN 0x230
#define BP_XLOADFLAGS   0x236
#define BP_CMDLINE_SIZE 0x238
#define BP_INIT_SIZE    0x260
#define BP_E820_TABLE   0x2d0
#define E820_MAX        128

#define XLF_KERNEL_64   (1u << 0)
#define LOADED_HIGH     (1u << 0)
#define E820_RAM        1
#define E820_RESERVED   2
#define EBDA_START      0x9fc00

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static void e820_add(uint8_t *zp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t n = zp[BP_E820_ENTRIES];
	uint8_t *e = zp + BP_E820_TABLE + 20 * n;

	if (n >= E820_MAX)
		return;
	memcpy(e, &addr, 8);
	memcpy(e + 8, &size, 8);
	memcpy(e + 16, &type, 4);
	zp[BP_E820_ENTRIES] = n + 1;
}

/* A bzImage: its setup header checked, the protected-mode part at 1 MiB. */
static int load_bzimage(const uint8_t *f, size_t size, const struct guest_mem *mem, uint8_t *zp,
			struct linux_boot *out, struct lv_err *err)
{
	unsigned setup_sects = f[BP_SETUP_SECTS] ? f[BP_SETUP_SECTS] : 4;
	size_t pm_off = (size_t)(setup_sects + 1) * 512;
	unsigned hdr_end = BP_JUMP + 2 + f[BP_JUMP + 1];        /* the header's own length */
	uint16_t version = rd16(f + BP_VERSION);
	uint64_t init_size;
	void *dst;

	if (version < 0x020c)
		return lv_err_set(err, "boot protocol %u.%02u is too old (64-bit entry needs 2.12)",
				  version >> 8, version & 0xff);
	if (!(f[BP_XLOADFLAGS] & XLF_KERNEL_64))
		return lv_err_set(err, "the kernel has no 64-bit entry point (XLF_KERNEL_64 unset)");
	if (pm_off >= size || hdr_end > 0x290 || hdr_end > size)
		return lv_err_set(err, "truncated bzImage (%zu bytes)", size);
	init_size = rd32(f + BP_INIT_SIZE);
	if (init_size < size - pm_off)
		init_size = size - pm_off;
	if (LINUX_KERNEL_LOAD + init_size > mem->size)
		return lv_err_set(err, "the kernel needs %llu KiB from 1 MiB up; give more --mem",
				  (unsigned long long)(init_size >> 10));
	dst = gm_range(mem, LINUX_KERNEL_LOAD, size - pm_off);
	memcpy(dst, f + pm_off, size - pm_off);
	memcpy(zp + BP_SETUP_SECTS, f + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);
	out->entry = LINUX_KERNEL_LOAD + 0x200;
	out->kernel_end = LINUX_KERNEL_LOAD + init_size;
	return 0;
}

/* A vmlinux: its PT_LOAD segments at their physical addresses, entered at
 * e_entry (physical for x86-64 vmlinux); the zero page gets a minimal header. */
static int load_vmlinux(const uint8_t *f, size_t size, const struct guest_mem *mem, uint8_t *zp,
			struct linux_boot *out, struct lv_err *err)
{
	struct guest_image img;

	if (image_load_elf(f, size, mem, &img, err) < 0)
		return -1;
	memcpy(zp + BP_HEADER, "HdrS", 4);
	wr16(zp + BP_VERSION, 0x020f);
	wr16(zp + BP_BOOT_FLAG, 0xaa55);
	wr32(zp + BP_KERNEL_ALIGN, 0x1000000);
	wr32(zp + BP_INITRD_MAX, 0x37ffffff);
	wr32(zp + BP_CMDLINE_SIZE, LINUX_CMDLINE_MAX - 1);
	out->entry = img.entry;
	out->kernel_end = img.end;
	return 0;
}

/* The initrd file, and the extra cpio (4-byte aligned) after it. */
static int load_initrd(const struct guest_mem *mem, const char *path, const void *extra,
		       size_t extra_len, uint8_t *zp, struct linux_boot *out, struct lv_err *err)
{
	size_t file_size, size;
	uint8_t *f = vm_read_file("initrd", path, &file_size, err), *grown;
	uint64_t max = rd32(zp + BP_INITRD_MAX), top = mem->size - 1, gpa;

	if (!f)
		return -1;
	size = file_size;
	if (extra_len) {
		size = ((file_size + 3) & ~(size_t)3) + extra_len;
		if (!(grown = realloc(f, size))) {
			free(f);
			return lv_err_sys(err, ENOMEM, "initrd %s", path);
		}
		f = grown;
		memset(f + file_size, 0, size - extra_len - file_size);
		memcpy(f + size - extra_len, extra, extra_len);
	}
	if (max && max < top)
		top = max;
	gpa = size <= top ? (top + 1 - size) & ~0xfffull : 0;
	if (size > top || gpa < out->kernel_end) {
		free(f);
		return lv_err_set(err, "initrd %s (%zu KiB) does not fit in guest memory above the "
				  "kernel; give more --mem", path, size >> 10);
	}
	memcpy(gm_range(mem, gpa, size), f, size);
	free(f);
	out->initrd_gpa = gpa;
	out->initrd_size = size;
	wr32(zp + BP_RAMDISK_IMG, (uint32_t)gpa);
	wr32(zp + BP_RAMDISK_SIZE, (uint32_t)size);
	return 0;
}

int linux_load(struct guest_mem *mem, const char *kernel, const char *initrd,
	       const void *initrd_extra, size_t initrd_extra_len, const char *cmdline,
	       struct linux_boot *out, struct lv_err *err)
{
	uint8_t *zp = gm_range(mem, LINUX_ZERO_PAGE, 4096);
	size_t size, len = strlen(cmdline);
	uint8_t *f;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!zp || mem->size < (8u << 20))
		return lv_err_set(err, "a Linux guest needs at least 8 MiB of --mem");
	if (len >= LINUX_CMDLINE_MAX)
		return lv_err_set(err, "the kernel command line is longer than %d bytes",
				  LINUX_CMDLINE_MAX - 1);
	memset(zp, 0, 4096);
	if (!(f = vm_read_file("kernel", kernel, &size, err)))
		return -1;
	if (image_is_elf(f, size))
		rc = load_vmlinux(f, size, mem, zp, out, err);
	else if (size > 0x300 && memcmp(f + BP_HEADER, "HdrS", 4) == 0 &&
		 rd16(f + BP_BOOT_FLAG) == 0xaa55)
		rc = load_bzimage(f, size, mem, zp, out, err);
	else
		rc = lv_err_set(err, "not a Linux kernel (neither a bzImage with a \"HdrS\" setup "
				"header nor an ELF vmlinux)");
	free(f);
	if (rc < 0)
		return lv_err_wrap(err, "kernel %s", kernel);
	zp[BP_LOADER_TYPE] = 0xff;                      /* "undefined" boot loader */
	zp[BP_LOADFLAGS] |= LOADED_HIGH;
	memcpy(gm_range(mem, LINUX_CMDLINE, len + 1), cmdline, len + 1);
	wr32(zp + BP_CMDLINE_PTR, LINUX_CMDLINE);
	e820_add(zp, 0, EBDA_START, E820_RAM);
	e820_add(zp, EBDA_START, LINUX_KERNEL_LOAD - EBDA_START, E820_RESERVED);
	e820_add(zp, LINUX_KERNEL_LOAD, mem->size - LINUX_KERNEL_LOAD, E820_RAM);
	return initrd ? load_initrd(mem, initrd, initrd_extra, initrd_extra_len, zp, out, err) : 0;
}
