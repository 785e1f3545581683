/*
 * One cgroup per sandbox, on cgroup v1 (the memory, pids and cpuacct
 * hierarchies under /sys/fs/cgroup/<controller>/) or v2 (one unified
 * hierarchy at /sys/fs/cgroup).  Boxes live in a "labvisor" parent:
 * v1 /sys/fs/cgroup/<ctrl>/labvisor/<name>, v2 /sys/fs/cgroup/labvisor/<name>.
 */
#ifndef LV_SANDBOX_CGROUP_H
#define LV_SANDBOX_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

struct cgroup;

struct cg_limits {
	uint64_t mem_bytes;     /* 0: none */
	unsigned procs;         /* 0: none */
};

struct cg_usage {
	uint64_t cpu_ns;
	uint64_t peak_mem_bytes;
	uint64_t oom_kills;
	uint64_t procs_peak;    /* 0 when the host cannot tell */
};

/* 1 or 2 for the hierarchy this host uses; 0 with err when there is none usable. */
int cgroup_detect(struct lv_err *err);

/*
 * Creates the box cgroup `name` (removing a stale one of the same name
 * first: its processes are killed) and applies the limits.
 */
int cgroup_create(const char *name, const struct cg_limits *lim, struct cgroup **out,
		  struct lv_err *err);
int cgroup_version(const struct cgroup *cg);

/* Moves a process into the box. */
int cgroup_attach(struct cgroup *cg, pid_t pid, struct lv_err *err);

/*
 * cgroup v1 only: the `tasks` files through which a process moves itself
 * (by writing "0"), one per hierarchy; returns how many (0 on v2).  A
 * thread moving itself skips the global cgroup_threadgroup_rwsem, whose
 * write side waits for an RCU grace period (~10 ms here) — see
 * cgroup_procs_write_start() in the kernel.
 */
unsigned cgroup_self_attach_files(const struct cgroup *cg, char files[][PATH_MAX + 8]);

/* Sessions: the files through which a process joins the box by writing "0"
 * (v1 tasks, v2 cgroup.procs), opened once by a privileged process. */
unsigned cgroup_tasks_files(const struct cgroup *cg, char files[][PATH_MAX + 8]);

/* CPU time of everything in the box so far (cheap: one pread). */
uint64_t cgroup_cpu_ns(struct cgroup *cg);
uint64_t cgroup_procs_now(struct cgroup *cg);
void cgroup_usage(struct cgroup *cg, struct cg_usage *u);

/*
 * Sessions: the same box for the next run — its limits set anew and its
 * peaks reset (v1 resets memory.max_usage_in_bytes; v2 memory.peak where the
 * kernel allows writing it); OOM kills are counted from here on, and the
 * process peak is sampled by the keeper (pids.peak cannot be reset).
 */
int cgroup_reset(struct cgroup *cg, const struct cg_limits *lim, struct lv_err *err);

/* Kills what is left in the box, removes it and frees cg. */
int cgroup_destroy(struct cgroup *cg, struct lv_err *err);

/* Removes box `name` if it exists (for --cleanup); 1 if something was removed. */
int cgroup_remove_stale(const char *name, struct lv_err *err);

#endif
