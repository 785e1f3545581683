/*
 * Hypercall dispatch.  The argument block is copied out of guest RAM once,
 * handled on the copy (so a second vCPU rewriting it mid-call cannot make us
 * read two different values), and copied back with the results.  Buffers
 * named inside the block are translated with gm_range() by each handler.
 */
#include "hypercall.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vm.h"
#include "x86_cpu.h"

union hc_args {
	int64_t ret;
	struct lv_hc_console_write console;
	struct lv_hc_exit exit;
	struct lv_hc_vcpu_info info;
	struct lv_hc_time time;
	struct lv_hc_open open;
	struct lv_hc_close close;
	struct lv_hc_rw rw;
	struct lv_hc_lseek lseek;
	struct lv_hc_fstat fstat;
	struct lv_hc_unlink unlink;
	struct lv_hc_dir_read dir;
	struct lv_hc_exit_stats stats;
};

LV_ABI_ASSERT_LAYOUT();

/* Handlers return the value for `ret`, or HC_STOP when the VM must end. */
#define HC_STOP INT64_MIN
typedef int64_t hc_fn(struct vcpu *v, union hc_args *a);

static int64_t write_all(int fd, const uint8_t *p, uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (uint64_t)n;
	}
	return (int64_t)done;
}

static int64_t hc_console_write(struct vcpu *v, union hc_args *a)
{
	const uint8_t *p = gm_range(&v->vm->mem, a->console.buf, a->console.len);

	if (!p)
		return -LV_EFAULT;
	return write_all(v->vm->cfg->console_fd, p, a->console.len);
}

static int64_t hc_exit(struct vcpu *v, union hc_args *a)
{
	vm_guest_exit(v->vm, v->id, a->exit.code);
	return HC_STOP;
}

static int64_t hc_vcpu_info(struct vcpu *v, union hc_args *a)
{
	a->info.id = v->id;
	a->info.count = v->vm->ncpus;
	return 0;
}

static int64_t hc_time(struct vcpu *v, union hc_args *a)
{
	a->time.ns = vm_now_ns() - v->vm->start_ns;
	return 0;
}

static int64_t hc_abi_version(struct vcpu *v, union hc_args *a)
{
	(void)v; (void)a;
	return LV_ABI_VERSION;
}

static int64_t hc_exit_stats(struct vcpu *v, union hc_args *a)
{
	struct vmm_stats s;
	uint32_t out[4];

	vm_collect_stats(v->vm, &s);
	if (!exit_stats_leaf(&s, a->stats.leaf, a->stats.ecx_in, out))
		return -LV_EINVAL;
	a->stats.eax = out[0];
	a->stats.ebx = out[1];
	a->stats.ecx = out[2];
	a->stats.edx = out[3];
	return 0;
}

/* ---- files: every buffer through gm_range(), then to pvfs ----
 * The dispatcher has already answered -LV_ENODEV when there is no --share. */

static int64_t hc_open(struct vcpu *v, union hc_args *a)
{
	const char *path = gm_range(&v->vm->mem, a->open.path, a->open.path_len);

	return path ? pvfs_open(v->vm->fs, path, a->open.path_len, a->open.flags, a->open.mode)
		    : -LV_EFAULT;
}

static int64_t hc_close(struct vcpu *v, union hc_args *a)
{
	return pvfs_close(v->vm->fs, a->close.fd);
}

static int64_t hc_rw(struct vcpu *v, union hc_args *a, unsigned nr)
{
	struct lv_hc_rw *rw = &a->rw;
	uint8_t *buf = gm_range(&v->vm->mem, rw->buf, rw->len);
	struct pvfs *fs = v->vm->fs;

	if (!buf)
		return -LV_EFAULT;
	switch (nr) {
	case LV_HC_FILE_READ:   return pvfs_read(fs, rw->fd, buf, rw->len);
	case LV_HC_FILE_WRITE:  return pvfs_write(fs, rw->fd, buf, rw->len);
	case LV_HC_FILE_PREAD:  return pvfs_pread(fs, rw->fd, buf, rw->len, rw->offset);
	default:                return pvfs_pwrite(fs, rw->fd, buf, rw->len, rw->offset);
	}
}

static int64_t hc_read(struct vcpu *v, union hc_args *a)   { return hc_rw(v, a, LV_HC_FILE_READ); }
static int64_t hc_write(struct vcpu *v, union hc_args *a)  { return hc_rw(v, a, LV_HC_FILE_WRITE); }
static int64_t hc_pread(struct vcpu *v, union hc_args *a)  { return hc_rw(v, a, LV_HC_FILE_PREAD); }
static int64_t hc_pwrite(struct vcpu *v, union hc_args *a) { return hc_rw(v, a, LV_HC_FILE_PWRITE); }

static int64_t hc_lseek(struct vcpu *v, union hc_args *a)
{
	return pvfs_lseek(v->vm->fs, a->lseek.fd, a->lseek.offset, a->lseek.whence);
}

static int64_t hc_fstat(struct vcpu *v, union hc_args *a)
{
	struct lv_stat st;
	int64_t rc;

	if (!gm_range(&v->vm->mem, a->fstat.st, sizeof(st)))
		return -LV_EFAULT;
	rc = pvfs_fstat(v->vm->fs, a->fstat.fd, &st);
	if (rc == 0)
		gm_copy_out(&v->vm->mem, a->fstat.st, &st, sizeof(st));
	return rc;
}

static int64_t hc_unlink(struct vcpu *v, union hc_args *a)
{
	const char *path = gm_range(&v->vm->mem, a->unlink.path, a->unlink.path_len);

	return path ? pvfs_unlink(v->vm->fs, path, a->unlink.path_len) : -LV_EFAULT;
}

static int64_t hc_dir_read(struct vcpu *v, union hc_args *a)
{
	char *name = gm_range(&v->vm->mem, a->dir.name, a->dir.name_len);

	return name ? pvfs_dir_read(v->vm->fs, a->dir.fd, name, a->dir.name_len, &a->dir.type)
		    : -LV_EFAULT;
}

static const struct {
	hc_fn *fn;
	uint32_t size;          /* bytes of the argument block */
	bool file;              /* needs the shared folder */
} calls[LV_HC_COUNT] = {
#define HC(nr, f, type, file) [nr] = { f, sizeof(type), file }
	HC(LV_HC_CONSOLE_WRITE, hc_console_write, struct lv_hc_console_write, false),
	HC(LV_HC_EXIT,          hc_exit,          struct lv_hc_exit,          false),
	HC(LV_HC_VCPU_INFO,     hc_vcpu_info,     struct lv_hc_vcpu_info,     false),
	HC(LV_HC_TIME,          hc_time,          struct lv_hc_time,          false),
	HC(LV_HC_FILE_OPEN,     hc_open,          struct lv_hc_open,          true),
	HC(LV_HC_FILE_CLOSE,    hc_close,         struct lv_hc_close,         true),
	HC(LV_HC_FILE_READ,     hc_read,          struct lv_hc_rw,            true),
	HC(LV_HC_FILE_WRITE,    hc_write,         struct lv_hc_rw,            true),
	HC(LV_HC_FILE_PREAD,    hc_pread,         struct lv_hc_rw,            true),
	HC(LV_HC_FILE_PWRITE,   hc_pwrite,        struct lv_hc_rw,            true),
	HC(LV_HC_FILE_LSEEK,    hc_lseek,         struct lv_hc_lseek,         true),
	HC(LV_HC_FILE_FSTAT,    hc_fstat,         struct lv_hc_fstat,         true),
	HC(LV_HC_FILE_UNLINK,   hc_unlink,        struct lv_hc_unlink,        true),
	HC(LV_HC_DIR_READ,      hc_dir_read,      struct lv_hc_dir_read,      true),
	HC(LV_HC_EXIT_STATS,    hc_exit_stats,    struct lv_hc_exit_stats,    false),
	HC(LV_HC_ABI_VERSION,   hc_abi_version,   int64_t,                    false),
#undef HC
};

static void stop_bad_block(struct vcpu *v, unsigned nr, uint32_t gpa, uint32_t size)
{
	char regs[512];

	x86_format_regs(v->fd, regs, sizeof(regs));
	vm_stop(v->vm, VMM_END_GUEST_FAULT,
		"guest fault: hypercall %u: argument block at guest-physical %#x "
		"(%u bytes) is outside guest memory (%llu KiB) (vcpu %u); registers: %s",
		nr, gpa, size, (unsigned long long)(v->vm->mem.size >> 10), v->id, regs);
}

int hypercall_dispatch(struct vcpu *v, unsigned nr, uint32_t gpa)
{
	uint32_t size = nr < LV_HC_COUNT ? calls[nr].size : sizeof(int64_t);
	union hc_args a;
	int64_t ret;

	if (!gm_copy_in(&v->vm->mem, &a, gpa, size)) {
		stop_bad_block(v, nr, gpa, size);
		return -1;
	}
	if (nr >= LV_HC_COUNT)
		ret = -LV_ENOSYS;
	else if (calls[nr].file && !v->vm->fs)
		ret = -LV_ENODEV;
	else
		ret = calls[nr].fn(v, &a);
	if (ret == HC_STOP)
		return -1;
	a.ret = ret;
	gm_copy_out(&v->vm->mem, gpa, &a, size);
	return 0;
}
