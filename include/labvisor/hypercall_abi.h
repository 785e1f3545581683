/*
 * Labvisor bare-guest hypercall ABI, shared by the VMM (src/vmm/) and the
 * guest SDK (guest/).  Documented for people in docs/hypercalls.md.
 *
 * Calling convention
 *   A hypercall is one 32-bit port write:   outl %eax, %dx
 *   with %dx = LV_HC_PORT_BASE + number and %eax = the guest-physical
 *   address (below 4 GiB) of the call's argument block.  Every argument
 *   block starts with `int64_t ret`; the VMM writes the result there:
 *   >= 0 on success, a negated LV_E* code on failure.  An argument block
 *   that does not lie entirely inside guest RAM leaves nowhere to put an
 *   error, so it ends the VM (reported with the hypercall number, the
 *   address and the vCPU's RIP).  All other bad arguments return an error.
 *
 * Only fixed-width types: the same header compiles in the freestanding
 * guest and in the host VMM and must give identical layouts.
 */
#ifndef LABVISOR_HYPERCALL_ABI_H
#define LABVISOR_HYPERCALL_ABI_H

#include <stdint.h>

#define LV_ABI_VERSION 1

/* Port-mapped entry points. */
#define LV_CONSOLE_PORT  0xE9   /* out %al: one byte to the console       */
#define LV_HC_PORT_BASE  0x500  /* out %eax to 0x500 + nr: hypercall nr    */
#define LV_HC_PORT_COUNT 0x100

/* Hypercall numbers.  Never renumber: add at the end, bump LV_ABI_VERSION. */
enum lv_hypercall {
	LV_HC_CONSOLE_WRITE = 0,
	LV_HC_EXIT          = 1,
	LV_HC_VCPU_INFO     = 2,
	LV_HC_TIME          = 3,
	LV_HC_FILE_OPEN     = 4,
	LV_HC_FILE_CLOSE    = 5,
	LV_HC_FILE_READ     = 6,
	LV_HC_FILE_WRITE    = 7,
	LV_HC_FILE_PREAD    = 8,
	LV_HC_FILE_PWRITE   = 9,
	LV_HC_FILE_LSEEK    = 10,
	LV_HC_FILE_FSTAT    = 11,
	LV_HC_FILE_UNLINK   = 12,
	LV_HC_DIR_READ      = 13,
	LV_HC_EXIT_STATS    = 14,
	LV_HC_ABI_VERSION   = 15,
	LV_HC_COUNT
};

/* Error codes (the values of Linux errno, fixed here so guests need no libc). */
#define LV_EPERM    1
#define LV_ENOENT   2
#define LV_EIO      5
#define LV_EBADF    9
#define LV_EACCES  13
#define LV_EFAULT  14
#define LV_EEXIST  17
#define LV_EXDEV   18   /* path would leave the shared folder */
#define LV_ENOTDIR 20
#define LV_EISDIR  21
#define LV_EINVAL  22
#define LV_EMFILE  24   /* the VM's descriptor table is full */
#define LV_ENOSPC  28
#define LV_ESPIPE  29
#define LV_ELOOP   40
#define LV_ENAMETOOLONG 36
#define LV_ENOSYS  38   /* unknown hypercall number */
#define LV_ENOTEMPTY 39
#define LV_ENODEV  19   /* no --share folder was given */

/* Limits. */
#define LV_PATH_MAX   4096  /* bytes, including no terminating NUL       */
#define LV_NAME_MAX   255
#define LV_MAX_FILES  64    /* open descriptors per VM                    */

/* LV_HC_CONSOLE_WRITE: ret = bytes written. */
struct lv_hc_console_write {
	int64_t  ret;
	uint64_t buf;           /* GPA */
	uint64_t len;
};

/* LV_HC_EXIT: ends the VM with `code` as labvisor's exit status (0..255). */
struct lv_hc_exit {
	int64_t  ret;
	int64_t  code;
};

/* LV_HC_VCPU_INFO: which vCPU is calling, and how many the VM has. */
struct lv_hc_vcpu_info {
	int64_t  ret;
	uint32_t id;
	uint32_t count;
};

/* LV_HC_TIME: host CLOCK_MONOTONIC, nanoseconds since the VM started. */
struct lv_hc_time {
	int64_t  ret;
	uint64_t ns;
};

/* Open flags (LV_HC_FILE_OPEN.flags). Unknown bits give -LV_EINVAL. */
#define LV_O_RDONLY    0x0
#define LV_O_WRONLY    0x1
#define LV_O_RDWR      0x2
#define LV_O_ACCMODE   0x3
#define LV_O_CREAT     0x100
#define LV_O_EXCL      0x200
#define LV_O_TRUNC     0x400
#define LV_O_APPEND    0x800
#define LV_O_DIRECTORY 0x1000   /* open a directory for LV_HC_DIR_READ */

/* LV_HC_FILE_OPEN: path is relative to the shared folder; ret = descriptor. */
struct lv_hc_open {
	int64_t  ret;
	uint64_t path;          /* GPA of the path bytes (need not end in NUL) */
	uint64_t path_len;      /* 1..LV_PATH_MAX */
	uint32_t flags;
	uint32_t mode;          /* permission bits for LV_O_CREAT, masked by 0777 */
};

/* LV_HC_FILE_CLOSE */
struct lv_hc_close {
	int64_t  ret;
	int64_t  fd;
};

/* LV_HC_FILE_READ / _WRITE / _PREAD / _PWRITE: ret = bytes transferred. */
struct lv_hc_rw {
	int64_t  ret;
	int64_t  fd;
	uint64_t buf;           /* GPA */
	uint64_t len;
	int64_t  offset;        /* only for PREAD / PWRITE */
};

/* LV_HC_FILE_LSEEK: ret = new offset. */
#define LV_SEEK_SET 0
#define LV_SEEK_CUR 1
#define LV_SEEK_END 2
struct lv_hc_lseek {
	int64_t  ret;
	int64_t  fd;
	int64_t  offset;
	int64_t  whence;
};

/* LV_HC_FILE_FSTAT */
#define LV_S_REG   1
#define LV_S_DIR   2
#define LV_S_OTHER 3
struct lv_stat {
	uint64_t size;
	uint32_t type;          /* LV_S_* */
	uint32_t mode;          /* permission bits */
	int64_t  mtime_ns;      /* since the Unix epoch */
};
struct lv_hc_fstat {
	int64_t  ret;
	int64_t  fd;
	uint64_t st;            /* GPA of a struct lv_stat to fill */
};

/* LV_HC_FILE_UNLINK: removes a file (not a directory). */
struct lv_hc_unlink {
	int64_t  ret;
	uint64_t path;
	uint64_t path_len;
};

/*
 * LV_HC_DIR_READ: next entry of a directory opened with LV_O_DIRECTORY.
 * "." and ".." are skipped.  ret = length of the name copied to `name`
 * (not NUL-terminated), 0 at the end of the directory, -LV_ENAMETOOLONG
 * when name_len is too small (the entry is not consumed).
 */
struct lv_hc_dir_read {
	int64_t  ret;
	int64_t  fd;
	uint64_t name;          /* GPA of a buffer */
	uint64_t name_len;
	uint32_t type;          /* out: LV_S_* */
	uint32_t pad;
};

/*
 * LV_HC_EXIT_STATS: the "count the VM exits" CPUID-style query, as a
 * hypercall because KVM answers CPUID inside the kernel and never shows
 * it to the VMM.  In: leaf and ecx.  Out: eax..edx.
 *   0x4FFFFFFF              eax = total exits (low 32 bits)
 *   0x4FFFFFFE              ebx:ecx = total cycles (TSC) spent in the VMM
 *   0x4FFFFFFD, ecx=reason  eax = exits of that reason
 *   0x4FFFFFFC, ecx=reason  ebx:ecx = cycles spent on that reason
 * A reason this ABI does not define: all four 0.  A defined reason this
 * host never reports: eax = ebx = ecx = 0, edx = 0xFFFFFFFF.
 * Another leaf gives ret = -LV_EINVAL.
 */
#define LV_LEAF_TOTAL_EXITS   0x4FFFFFFFu
#define LV_LEAF_TOTAL_CYCLES  0x4FFFFFFEu
#define LV_LEAF_REASON_EXITS  0x4FFFFFFDu
#define LV_LEAF_REASON_CYCLES 0x4FFFFFFCu
struct lv_hc_exit_stats {
	int64_t  ret;
	uint32_t leaf;
	uint32_t ecx_in;
	uint32_t eax, ebx, ecx, edx;
};

/*
 * Exit reasons of the statistics.  Reasons 0..7, 9 and 10 are exits that
 * reached the VMM (KVM_RUN returned), counted and timed by labvisor.
 * Reason 8 is every exit KVM handled in the kernel without returning to the
 * VMM, taken from KVM's binary statistics: counted, never timed.
 */
enum lv_exit_reason {
	LV_EXIT_CONSOLE   = 0,  /* port 0xE9 byte */
	LV_EXIT_HYPERCALL = 1,  /* port 0x500 + nr */
	LV_EXIT_PIO       = 2,  /* any other port I/O */
	LV_EXIT_MMIO      = 3,  /* access to guest-physical memory with no RAM */
	LV_EXIT_HLT       = 4,
	LV_EXIT_SHUTDOWN  = 5,  /* triple fault */
	LV_EXIT_INTR      = 6,  /* KVM_RUN interrupted by a signal (timeout, stop) */
	LV_EXIT_OTHER     = 7,  /* internal error, failed entry, anything else */
	LV_EXIT_IN_KERNEL = 8,  /* handled inside KVM (count only) */
	LV_EXIT_PVM_EMULATED = 9, /* PVM hosts: an instruction KVM refused, done by the VMM */
	LV_EXIT_PVM_SYSCALL  = 10, /* PVM hosts: a user-mode syscall repaired by the VMM */
	LV_EXIT_REASON_COUNT
};

/* Use at compile time to keep guest and host layouts in step. */
#define LV_ABI_ASSERT_LAYOUT()                                              \
	_Static_assert(sizeof(struct lv_hc_rw) == 40, "lv_hc_rw layout");     \
	_Static_assert(sizeof(struct lv_hc_open) == 32, "lv_hc_open layout"); \
	_Static_assert(sizeof(struct lv_stat) == 24, "lv_stat layout");       \
	_Static_assert(sizeof(struct lv_hc_dir_read) == 40, "dir_read");      \
	_Static_assert(sizeof(struct lv_hc_exit_stats) == 32, "exit_stats")

#endif
