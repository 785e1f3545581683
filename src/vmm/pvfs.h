/*
 * Paravirtual file access: a guest's view of one host folder (--share).
 * Paths are resolved beneath the folder with openat2(RESOLVE_BENEATH), so
 * "..", absolute paths and symlinks cannot leave it.  Descriptors are small
 * numbers private to the VM, at most LV_MAX_FILES open at once.  All
 * results are >= 0 or a negated LV_E* code, ready to hand to the guest;
 * this file never sees guest addresses, only host buffers already checked
 * by the hypercall layer.  Safe to call from several vCPU threads.
 */
#ifndef LV_VMM_PVFS_H
#define LV_VMM_PVFS_H

#include <stddef.h>
#include <stdint.h>

#include "labvisor/hypercall_abi.h"
#include "util/err.h"

struct pvfs;

int pvfs_create(const char *dir, struct pvfs **out, struct lv_err *err);
void pvfs_destroy(struct pvfs *fs);

/* path: path_len bytes, not NUL-terminated, relative to the share. */
int64_t pvfs_open(struct pvfs *fs, const char *path, size_t path_len,
		  uint32_t flags, uint32_t mode);
int64_t pvfs_close(struct pvfs *fs, int64_t fd);
int64_t pvfs_read(struct pvfs *fs, int64_t fd, void *buf, size_t len);
int64_t pvfs_write(struct pvfs *fs, int64_t fd, const void *buf, size_t len);
int64_t pvfs_pread(struct pvfs *fs, int64_t fd, void *buf, size_t len, int64_t off);
int64_t pvfs_pwrite(struct pvfs *fs, int64_t fd, const void *buf, size_t len, int64_t off);
int64_t pvfs_lseek(struct pvfs *fs, int64_t fd, int64_t off, int64_t whence);
int64_t pvfs_fstat(struct pvfs *fs, int64_t fd, struct lv_stat *st);
int64_t pvfs_unlink(struct pvfs *fs, const char *path, size_t path_len);
int64_t pvfs_dir_read(struct pvfs *fs, int64_t fd, char *name, size_t name_len,
		      uint32_t *type);

#endif
