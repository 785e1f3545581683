/*
 * The default seccomp filter for untrusted programs: a deny list of what a
 * test never needs (namespaces, mounts, kernel modules, kexec, bpf, perf,
 * userfaultfd, keyrings, io_uring, reboot, swap, acct, ptrace of anything
 * but one's own tracer-requested children, and the x86-32 ABI).  Denied
 * calls fail with EPERM; the 32-bit ABI kills the process.  Assignments
 * relax it with syscall_allow and extend it with syscall_deny.
 */
#ifndef LV_SANDBOX_SECCOMP_H
#define LV_SANDBOX_SECCOMP_H

#include <stddef.h>

#include "sandbox.h"

/* Checks that every name in the allow and deny lists is a syscall. */
int sb_seccomp_check(const struct sandbox_config *cfg, struct lv_err *err);

/*
 * Compiles the filter and writes it as raw BPF to fd.  The keeper does this
 * while init builds the file system, so the program only has to install it.
 */
int sb_seccomp_export(const struct sandbox_config *cfg, int fd, struct lv_err *err);

/* Installs a filter written by sb_seccomp_export (NO_NEW_PRIVS must be set). */
int sb_seccomp_install(const void *bpf, size_t len, struct lv_err *err);

#endif
