#include "seccomp.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const default_deny[] = {
	"mount", "umount", "umount2", "pivot_root", "chroot", "unshare", "setns",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
	"open_by_handle_at", "name_to_handle_at",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
	"reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"iopl", "ioperm", "syslog", "vhangup", "lookup_dcookie", "nfsservctl",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
};

static bool listed(const char *name, const char *const *list, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

int sb_seccomp_check(const struct sandbox_config *cfg, struct lv_err *err)
{
	for (unsigned i = 0; i < cfg->nallow; i++)
		if (seccomp_syscall_resolve_name(cfg->syscall_allow[i]) == __NR_SCMP_ERROR)
			return lv_err_set(err, "--syscall-allow: '%s' is not a system call",
					  cfg->syscall_allow[i]);
	for (unsigned i = 0; i < cfg->ndeny; i++)
		if (seccomp_syscall_resolve_name(cfg->syscall_deny[i]) == __NR_SCMP_ERROR)
			return lv_err_set(err, "--syscall-deny: '%s' is not a system call",
					  cfg->syscall_deny[i]);
	return 0;
}

static int deny(scmp_filter_ctx ctx, const char *name, struct lv_err *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	int rc;

	if (nr == __NR_SCMP_ERROR)
		return 0;       /* not on this architecture */
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	return rc < 0 ? lv_err_sys(err, -rc, "seccomp rule for %s", name) : 0;
}

/* ptrace: a program may trace children that asked for it (PTRACE_TRACEME
 * then PEEK/POKE/CONT...), but never attach to a process. */
static int limit_ptrace(scmp_filter_ctx ctx, struct lv_err *err)
{
	static const int attach[] = { PTRACE_ATTACH, PTRACE_SEIZE };

	for (unsigned i = 0; i < 2; i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ptrace), 1,
					  SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)attach[i]));
		if (rc < 0)
			return lv_err_sys(err, -rc, "seccomp rule for ptrace");
	}
	return 0;
}

/* clone with namespace flags would escape; clone3 hides its flags in memory
 * seccomp cannot read, so it reports ENOSYS and libc falls back to clone. */
static int limit_clone(scmp_filter_ctx ctx, struct lv_err *err)
{
	static const unsigned long ns_flags[] = {
		CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS,
		CLONE_NEWIPC, CLONE_NEWCGROUP, CLONE_NEWTIME,
	};
	int rc;

	for (unsigned i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
		if (rc < 0)
			return lv_err_sys(err, -rc, "seccomp rule for clone");
	}
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return rc < 0 ? lv_err_sys(err, -rc, "seccomp rule for clone3") : 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct sandbox_config *cfg, struct lv_err *err)
{
	const unsigned ndef = sizeof(default_deny) / sizeof(default_deny[0]);

	for (unsigned i = 0; i < ndef; i++)
		if (!listed(default_deny[i], cfg->syscall_allow, cfg->nallow) &&
		    deny(ctx, default_deny[i], err) < 0)
			return -1;
	for (unsigned i = 0; i < cfg->ndeny; i++)
		if (!listed(cfg->syscall_deny[i], default_deny, ndef) &&
		    deny(ctx, cfg->syscall_deny[i], err) < 0)
			return -1;
	if (!listed("ptrace", cfg->syscall_allow, cfg->nallow) &&
	    !listed("ptrace", cfg->syscall_deny, cfg->ndeny) && limit_ptrace(ctx, err) < 0)
		return -1;
	if (!listed("clone", cfg->syscall_allow, cfg->nallow) && limit_clone(ctx, err) < 0)
		return -1;
	return 0;
}

int sb_seccomp_export(const struct sandbox_config *cfg, int fd, struct lv_err *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc;

	if (!ctx)
		return lv_err_set(err, "seccomp_init failed");
	/* Only the native x86-64 ABI: int $0x80 and x32 calls kill the process. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc == 0 && add_rules(ctx, cfg, err) < 0) {
		seccomp_release(ctx);
		return -1;
	}
	if (rc == 0)
		rc = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	return rc < 0 ? lv_err_sys(err, -rc, "compiling the seccomp filter") : 0;
}

int sb_seccomp_install(const void *bpf, size_t len, struct lv_err *err)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(len / sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)bpf,
	};

	if (len == 0 || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > 4096)
		return lv_err_set(err, "seccomp filter of %zu bytes is malformed", len);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return lv_err_sys(err, errno, "installing the seccomp filter");
	return 0;
}
