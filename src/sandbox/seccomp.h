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

#include "sandbox.h"

/* Checks that every name in the allow and deny lists is a syscall. */
int sb_seccomp_check(const struct sandbox_config *cfg, struct lv_err *err);

/* Builds and loads the filter into the calling process (NO_NEW_PRIVS set). */
int sb_seccomp_load(const struct sandbox_config *cfg, struct lv_err *err);

#endif
