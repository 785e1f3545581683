/*
 * The sandbox's file system as an ordered list of typed steps (after
 * bubblewrap): built and checked by the keeper on the host, where errors
 * can still be usage errors, then carried out by init inside the new mount
 * namespace.  Host paths are resolved by the keeper (realpath) and reached
 * inside through the old root, so a step never follows a path the sandbox
 * controls.
 */
#ifndef LV_SANDBOX_MOUNTS_H
#define LV_SANDBOX_MOUNTS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "sandbox.h"

enum mstep_kind {
	STEP_ROOT_BIND,   /* src (read-only) becomes / */
	STEP_ROOT_TMPFS,  /* an empty read-only tmpfs becomes / */
	STEP_ROOT_MOUNT,  /* a mount the keeper made (fd: a detached overlay) becomes / */
	STEP_BIND,        /* src at dst; read-only unless rw */
	STEP_TMPFS,       /* writable tmpfs at dst, size in bytes, mode */
	STEP_PROC,        /* a fresh /proc */
	STEP_DEV,         /* minimal /dev: null zero full random urandom, fd links, shm */
	STEP_SYMLINK,     /* dst -> src */
	STEP_FILE,        /* a read-only file at dst holding `text` */
	STEP_COPY,        /* a copy of the small host file src at dst (in a tmpfs) */
	STEP_READONLY,    /* make the tmpfs at dst read-only once filled */
};

struct mstep {
	enum mstep_kind kind;
	char *src, *dst, *text;         /* owned by the plan */
	int fd;                         /* STEP_ROOT_MOUNT */
	bool per_run;                   /* /proc, /tmp, the work directory: made per run in a session */
	bool rw;
	unsigned long size;
	unsigned mode;
};

#define MAX_MSTEPS (SB_MAX_BINDS + 32)

struct mount_plan {
	unsigned n;
	struct mstep step[MAX_MSTEPS];
	char workdir[PATH_MAX];         /* the program's working directory inside */
};

void mount_plan_free(struct mount_plan *plan);

/* Builds the plan for cfg; usage errors (missing paths, bad targets) go to err. */
int mount_plan_build(const struct sandbox_config *cfg, const char *hostname,
		     struct mount_plan *plan, struct lv_err *err);
/* A session run's plan: a copy of the session's (already checked) plus the
 * run's own steps (work directory, binds) and working directory, without
 * resolving the shared part on the host again. */
int mount_plan_build_run(const struct mount_plan *session, const struct sandbox_config *cfg,
			 struct mount_plan *p, struct lv_err *err);

/*
 * The host path behind a path as the sandbox will see it, for checking that
 * a program exists before starting; false when no host file backs it.
 */
bool mount_plan_host_path(const struct mount_plan *plan, const char *inside, char *host,
			  size_t len);

/*
 * Inside init, in the new mount namespace: builds the new root and makes it
 * the root.  Writes what failed to err.
 */
int mount_plan_apply(const struct mount_plan *plan, struct lv_err *err);

/*
 * Sessions.  The zygote builds what runs share (every step but the per_run
 * ones) and keeps the host's root reachable; each run, in its own copy of
 * that mount namespace, adds a fresh /proc and /tmp (before its request
 * arrives), then its work directory, and pivots into the new root.
 */
int mount_plan_apply_shared(const struct mount_plan *plan, struct lv_err *err);
int mount_run_prepare(struct lv_err *err);
int mount_run_enter(const struct mount_plan *shared, const char *dir, const char *cwd,
		    struct lv_err *err);

#endif
