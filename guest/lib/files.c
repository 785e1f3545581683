/* File calls on the VMM's shared folder. */
#include "labvisor/guest.h"

int64_t lv_open(const char *path, uint32_t flags, uint32_t mode)
{
	struct lv_hc_open a = { .path = (uintptr_t)path, .path_len = lv_strlen(path),
				.flags = flags, .mode = mode };

	lv_hypercall(LV_HC_FILE_OPEN, &a);
	return a.ret;
}

int64_t lv_close(int64_t fd)
{
	struct lv_hc_close a = { .fd = fd };

	lv_hypercall(LV_HC_FILE_CLOSE, &a);
	return a.ret;
}

static int64_t rw(unsigned nr, int64_t fd, const void *buf, size_t len, int64_t off)
{
	struct lv_hc_rw a = { .fd = fd, .buf = (uintptr_t)buf, .len = len, .offset = off };

	lv_hypercall(nr, &a);
	return a.ret;
}

int64_t lv_read(int64_t fd, void *buf, size_t len)
{
	return rw(LV_HC_FILE_READ, fd, buf, len, 0);
}

int64_t lv_write(int64_t fd, const void *buf, size_t len)
{
	return rw(LV_HC_FILE_WRITE, fd, buf, len, 0);
}

int64_t lv_pread(int64_t fd, void *buf, size_t len, int64_t off)
{
	return rw(LV_HC_FILE_PREAD, fd, buf, len, off);
}

int64_t lv_pwrite(int64_t fd, const void *buf, size_t len, int64_t off)
{
	return rw(LV_HC_FILE_PWRITE, fd, buf, len, off);
}

int64_t lv_lseek(int64_t fd, int64_t off, int whence)
{
	struct lv_hc_lseek a = { .fd = fd, .offset = off, .whence = whence };

	lv_hypercall(LV_HC_FILE_LSEEK, &a);
	return a.ret;
}

int64_t lv_fstat(int64_t fd, struct lv_stat *st)
{
	struct lv_hc_fstat a = { .fd = fd, .st = (uintptr_t)st };

	lv_hypercall(LV_HC_FILE_FSTAT, &a);
	return a.ret;
}

int64_t lv_unlink(const char *path)
{
	struct lv_hc_unlink a = { .path = (uintptr_t)path, .path_len = lv_strlen(path) };

	lv_hypercall(LV_HC_FILE_UNLINK, &a);
	return a.ret;
}

int64_t lv_readdir(int64_t fd, char *name, size_t len, uint32_t *type)
{
	struct lv_hc_dir_read a = { .fd = fd, .name = (uintptr_t)name,
				    .name_len = len ? len - 1 : 0 };

	if (len == 0)
		return -LV_EINVAL;
	lv_hypercall(LV_HC_DIR_READ, &a);
	if (a.ret >= 0) {
		name[a.ret] = '\0';
		*type = a.type;
	}
	return a.ret;
}

const char *lv_strerror(int64_t err)
{
	switch (-err) {
	case LV_ENOENT:  return "no such file or directory";
	case LV_EBADF:   return "bad descriptor";
	case LV_EACCES:  return "permission denied";
	case LV_EFAULT:  return "bad address";
	case LV_EEXIST:  return "file exists";
	case LV_EXDEV:   return "path leaves the shared folder";
	case LV_ENODEV:  return "no shared folder";
	case LV_EISDIR:  return "is a directory";
	case LV_ENOTDIR: return "not a directory";
	case LV_EINVAL:  return "invalid argument";
	case LV_EMFILE:  return "too many open files";
	case LV_ENOSYS:  return "unknown hypercall";
	case LV_ENAMETOOLONG: return "name too long";
	case LV_ELOOP:   return "too many symbolic links";
	default:         return "error";
	}
}
