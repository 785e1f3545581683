#include "pvfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * A descriptor slot.  `refs` counts calls in flight on it, so a close on one
 * vCPU never lets another vCPU's read land on a reused host descriptor: the
 * host fd is closed by whoever drops the last reference.
 */
struct pvfs_file {
	int hostfd;
	DIR *dir;               /* for LV_O_DIRECTORY */
	unsigned refs;
	bool used, closing;
};

struct pvfs {
	int root;               /* O_PATH descriptor of the shared folder */
	pthread_mutex_t lock;
	struct pvfs_file files[LV_MAX_FILES];
};

#define RESOLVE_CONFINED (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

static int openat2_beneath(int dirfd, const char *path, uint64_t flags, uint64_t mode)
{
	struct open_how how = { .flags = flags, .mode = mode, .resolve = RESOLVE_CONFINED };

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int pvfs_create(const char *dir, struct pvfs **out, struct lv_err *err)
{
	struct pvfs *fs = calloc(1, sizeof(*fs));
	int probe;

	if (!fs)
		return lv_err_sys(err, ENOMEM, "shared folder %s", dir);
	fs->root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->root < 0) {
		lv_err_sys(err, errno, "shared folder %s", dir);
		free(fs);
		return -1;
	}
	probe = openat2_beneath(fs->root, ".", O_PATH | O_CLOEXEC, 0);
	if (probe < 0) {
		lv_err_sys(err, errno, "shared folder %s: openat2(RESOLVE_BENEATH) "
			   "is needed to confine guest paths (Linux >= 5.6)", dir);
		close(fs->root);
		free(fs);
		return -1;
	}
	close(probe);
	pthread_mutex_init(&fs->lock, NULL);
	*out = fs;
	return 0;
}

static void file_release(struct pvfs_file *f)
{
	if (f->dir)
		closedir(f->dir);       /* also closes hostfd */
	else
		close(f->hostfd);
	memset(f, 0, sizeof(*f));
}

void pvfs_destroy(struct pvfs *fs)
{
	if (!fs)
		return;
	for (unsigned i = 0; i < LV_MAX_FILES; i++)
		if (fs->files[i].used)
			file_release(&fs->files[i]);
	close(fs->root);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

/* Copies a guest path into a C string; rejects empty, over-long and NUL-containing paths. */
static int64_t path_copy(char dst[LV_PATH_MAX + 1], const char *path, size_t len)
{
	if (len == 0)
		return -LV_ENOENT;
	if (len > LV_PATH_MAX)
		return -LV_ENAMETOOLONG;
	if (memchr(path, '\0', len))
		return -LV_EINVAL;
	memcpy(dst, path, len);
	dst[len] = '\0';
	return 0;
}

static int64_t slot_install(struct pvfs *fs, int hostfd, DIR *dir)
{
	int64_t fd = -LV_EMFILE;

	pthread_mutex_lock(&fs->lock);
	for (unsigned i = 0; i < LV_MAX_FILES; i++) {
		if (!fs->files[i].used) {
			fs->files[i] = (struct pvfs_file){ .hostfd = hostfd, .dir = dir, .used = true };
			fd = i;
			break;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	return fd;
}

static struct pvfs_file *slot_get(struct pvfs *fs, int64_t fd)
{
	struct pvfs_file *f = NULL;

	if (fd < 0 || fd >= LV_MAX_FILES)
		return NULL;
	pthread_mutex_lock(&fs->lock);
	if (fs->files[fd].used && !fs->files[fd].closing) {
		f = &fs->files[fd];
		f->refs++;
	}
	pthread_mutex_unlock(&fs->lock);
	return f;
}

static void slot_put(struct pvfs *fs, struct pvfs_file *f)
{
	pthread_mutex_lock(&fs->lock);
	if (--f->refs == 0 && f->closing)
		file_release(f);
	pthread_mutex_unlock(&fs->lock);
}

static int host_open_flags(uint32_t flags, int *out)
{
	const uint32_t known = LV_O_ACCMODE | LV_O_CREAT | LV_O_EXCL | LV_O_TRUNC |
			       LV_O_APPEND | LV_O_DIRECTORY;
	static const int acc[] = { O_RDONLY, O_WRONLY, O_RDWR };
	int f;

	if ((flags & ~known) || (flags & LV_O_ACCMODE) == 3)
		return -LV_EINVAL;
	f = acc[flags & LV_O_ACCMODE] | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	if (flags & LV_O_CREAT)  f |= O_CREAT;
	if (flags & LV_O_EXCL)   f |= O_EXCL;
	if (flags & LV_O_TRUNC)  f |= O_TRUNC;
	if (flags & LV_O_APPEND) f |= O_APPEND;
	if (flags & LV_O_DIRECTORY) {
		if (flags & ~LV_O_DIRECTORY)
			return -LV_EINVAL;      /* directories are opened read-only */
		f |= O_DIRECTORY;
	}
	*out = f;
	return 0;
}

/* Only regular files and directories: a FIFO or device would block or reach hardware. */
static int64_t check_kind(int hostfd, uint32_t flags)
{
	struct stat st;

	if (fstat(hostfd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode) && !(flags & LV_O_DIRECTORY))
		return -LV_EISDIR;
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return -LV_EACCES;
	/* Regular files: back to blocking I/O (O_NONBLOCK only guarded the open). */
	if (fcntl(hostfd, F_SETFL, fcntl(hostfd, F_GETFL) & ~O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int64_t pvfs_open(struct pvfs *fs, const char *path, size_t path_len,
		  uint32_t flags, uint32_t mode)
{
	char p[LV_PATH_MAX + 1];
	int64_t rc, fd;
	int hflags, hostfd;
	DIR *dir = NULL;

	if ((rc = path_copy(p, path, path_len)) < 0 || (rc = host_open_flags(flags, &hflags)) < 0)
		return rc;
	/* openat2 insists on mode 0 unless a file may be created. */
	hostfd = openat2_beneath(fs->root, p, (uint64_t)hflags, (hflags & O_CREAT) ? mode & 0777 : 0);
	if (hostfd < 0)
		return -errno;
	if ((rc = check_kind(hostfd, flags)) < 0) {
		close(hostfd);
		return rc;
	}
	if ((flags & LV_O_DIRECTORY) && !(dir = fdopendir(hostfd))) {
		rc = -errno;
		close(hostfd);
		return rc;
	}
	fd = slot_install(fs, hostfd, dir);
	if (fd < 0) {
		if (dir)
			closedir(dir);
		else
			close(hostfd);
	}
	return fd;
}

int64_t pvfs_close(struct pvfs *fs, int64_t fd)
{
	struct pvfs_file *f = slot_get(fs, fd);

	if (!f)
		return -LV_EBADF;
	pthread_mutex_lock(&fs->lock);
	f->closing = true;
	pthread_mutex_unlock(&fs->lock);
	slot_put(fs, f);
	return 0;
}

enum file_op { OP_READ, OP_WRITE, OP_PREAD, OP_PWRITE, OP_LSEEK };

/* One host call on a regular-file descriptor; directories give -LV_EISDIR. */
static int64_t file_op(struct pvfs *fs, int64_t fd, enum file_op op, void *buf,
		       size_t len, int64_t off, int whence)
{
	struct pvfs_file *f = slot_get(fs, fd);
	int64_t r;

	if (!f)
		return -LV_EBADF;
	if (f->dir) {
		slot_put(fs, f);
		return -LV_EISDIR;
	}
	switch (op) {
	case OP_READ:   r = read(f->hostfd, buf, len); break;
	case OP_WRITE:  r = write(f->hostfd, buf, len); break;
	case OP_PREAD:  r = pread(f->hostfd, buf, len, off); break;
	case OP_PWRITE: r = pwrite(f->hostfd, buf, len, off); break;
	default:        r = lseek(f->hostfd, off, whence); break;
	}
	if (r < 0)
		r = -errno;
	slot_put(fs, f);
	return r;
}

int64_t pvfs_read(struct pvfs *fs, int64_t fd, void *buf, size_t len)
{
	return file_op(fs, fd, OP_READ, buf, len, 0, 0);
}

int64_t pvfs_write(struct pvfs *fs, int64_t fd, const void *buf, size_t len)
{
	return file_op(fs, fd, OP_WRITE, (void *)buf, len, 0, 0);
}

int64_t pvfs_pread(struct pvfs *fs, int64_t fd, void *buf, size_t len, int64_t off)
{
	return off < 0 ? -LV_EINVAL : file_op(fs, fd, OP_PREAD, buf, len, off, 0);
}

int64_t pvfs_pwrite(struct pvfs *fs, int64_t fd, const void *buf, size_t len, int64_t off)
{
	return off < 0 ? -LV_EINVAL : file_op(fs, fd, OP_PWRITE, (void *)buf, len, off, 0);
}

int64_t pvfs_lseek(struct pvfs *fs, int64_t fd, int64_t off, int64_t whence)
{
	static const int host_whence[] = { SEEK_SET, SEEK_CUR, SEEK_END };

	if (whence < 0 || whence > LV_SEEK_END)
		return -LV_EINVAL;
	return file_op(fs, fd, OP_LSEEK, NULL, 0, off, host_whence[whence]);
}

static void stat_to_lv(const struct stat *st, struct lv_stat *out)
{
	out->size = (uint64_t)st->st_size;
	out->type = S_ISREG(st->st_mode) ? LV_S_REG : S_ISDIR(st->st_mode) ? LV_S_DIR : LV_S_OTHER;
	out->mode = st->st_mode & 07777;
	out->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

int64_t pvfs_fstat(struct pvfs *fs, int64_t fd, struct lv_stat *out)
{
	struct pvfs_file *f = slot_get(fs, fd);
	struct stat st;
	int64_t rc = 0;

	if (!f)
		return -LV_EBADF;
	if (fstat(f->hostfd, &st) < 0)
		rc = -errno;
	else
		stat_to_lv(&st, out);
	slot_put(fs, f);
	return rc;
}

int64_t pvfs_unlink(struct pvfs *fs, const char *path, size_t path_len)
{
	char p[LV_PATH_MAX + 1];
	const char *parent = ".", *base = p;
	char *slash;
	int64_t rc;
	int dirfd;

	if ((rc = path_copy(p, path, path_len)) < 0)
		return rc;
	if (p[0] == '/')
		return -LV_EXDEV;               /* as openat2(RESOLVE_BENEATH) says */
	while (path_len > 1 && p[path_len - 1] == '/')
		p[--path_len] = '\0';
	slash = strrchr(p, '/');
	if (slash) {
		*slash = '\0';
		parent = p;
		base = slash + 1;
	}
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -LV_EINVAL;
	dirfd = openat2_beneath(fs->root, parent, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (dirfd < 0)
		return -errno;
	rc = unlinkat(dirfd, base, 0) < 0 ? -errno : 0;
	close(dirfd);
	return rc;
}

static uint32_t dirent_type(int dirfd, const struct dirent *de)
{
	struct stat st;

	switch (de->d_type) {
	case DT_REG: return LV_S_REG;
	case DT_DIR: return LV_S_DIR;
	case DT_UNKNOWN:
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return S_ISREG(st.st_mode) ? LV_S_REG :
			       S_ISDIR(st.st_mode) ? LV_S_DIR : LV_S_OTHER;
		return LV_S_OTHER;
	default: return LV_S_OTHER;
	}
}

int64_t pvfs_dir_read(struct pvfs *fs, int64_t fd, char *name, size_t name_len,
		      uint32_t *type)
{
	struct pvfs_file *f = slot_get(fs, fd);
	struct dirent *de;
	int64_t rc = 0;
	long pos;

	if (!f)
		return -LV_EBADF;
	if (!f->dir) {
		slot_put(fs, f);
		return -LV_ENOTDIR;
	}
	pthread_mutex_lock(&fs->lock);      /* a DIR stream is not thread-safe */
	do {
		pos = telldir(f->dir);
		errno = 0;
		de = readdir(f->dir);
	} while (de && (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0));
	if (!de) {
		rc = errno ? -errno : 0;
	} else if (strlen(de->d_name) > name_len) {
		seekdir(f->dir, pos);           /* keep the entry for a larger buffer */
		rc = -LV_ENAMETOOLONG;
	} else {
		rc = (int64_t)strlen(de->d_name);
		memcpy(name, de->d_name, (size_t)rc);
		*type = dirent_type(dirfd(f->dir), de);
	}
	pthread_mutex_unlock(&fs->lock);
	slot_put(fs, f);
	return rc;
}
