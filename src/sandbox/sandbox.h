/*
 * libsandbox: run one untrusted program in fresh namespaces (user, mount,
 * pid, ipc, uts, net, cgroup) with cgroup limits, rlimits and a seccomp
 * filter, and report what happened.  The one public header of the sandbox
 * layer; it knows nothing of courses.
 *
 * Processes (after ioi/isolate): the caller is the *keeper*, in the host's
 * namespaces; it clones *init* (pid 1 of the new pid namespace), which
 * builds the new root and forks the *program*.  When init exits — because
 * the program ended or the keeper killed it — the kernel kills everything
 * else in the namespace.
 */
#ifndef LV_SANDBOX_H
#define LV_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

#define SB_MAX_BINDS   32
#define SB_MAX_ENV     64
#define SB_MAX_SYSCALL_RULES 32
#define SB_MAX_ID      999
#define SB_UID_BASE    1000000000u  /* host uid of box N: base + N (root mode) */
#define SB_INSIDE_UID  1000         /* the program's uid and gid inside */
#define SB_IMG_BASE    2000000000u  /* as_root: inside uids 0..65535 are host base + uid */
#define SB_IMG_RANGE   65536u

struct sb_bind {
	const char *src;
	const char *dst;        /* path inside; defaults to src */
	bool rw;
};

enum sb_net { SB_NET_NONE, SB_NET_VETH };

struct sandbox_config {
	int id;                 /* 0..SB_MAX_ID, or -1 for the first free one */
	const char *root;       /* NULL: read-only binds of the host's /usr, /bin, /lib*, /sbin */
	const char *dir;        /* writable work directory, same path inside; NULL: none */
	struct sb_bind binds[SB_MAX_BINDS];
	unsigned nbinds;
	double cpu_sec, wall_sec;           /* 0: unlimited */
	uint64_t mem_bytes;                 /* all processes together; 0: unlimited */
	unsigned procs;                     /* 0: unlimited */
	uint64_t output_bytes;              /* stdout + stderr captured; 0: unlimited */
	uint64_t fsize_bytes;               /* largest file written; 0: unlimited */
	uint64_t stack_bytes;
	unsigned open_files;
	const char *stdin_path, *stdout_path, *stderr_path;   /* NULL: /dev/null, ours, ours */
	const char *env[SB_MAX_ENV];        /* "K=V"; the environment is otherwise clean */
	unsigned nenv;
	enum sb_net net;
	const char *hostname;
	const char *syscall_allow[SB_MAX_SYSCALL_RULES];  /* taken off the default deny list */
	unsigned nallow;
	const char *syscall_deny[SB_MAX_SYSCALL_RULES];   /* added to it */
	unsigned ndeny;
	char *const *argv;                  /* the program and its arguments */
	const char *cwd;                    /* working directory inside (default: --dir or /tmp) */
	/*
	 * A root made of image layers (root mode only): overlayfs with
	 * overlay_lower ("top:...:bottom"), read-only; writable when overlay_upper
	 * (with overlay_work on the same file system) takes the writes.  The
	 * image's files belong to the SB_IMG_BASE range (see grade/image.c).
	 */
	const char *overlay_lower, *overlay_upper, *overlay_work;
	/* The program is root of its namespace (uids 0..65535 mapped to the
	 * SB_IMG_BASE range) and keeps its capabilities there: for trusted image
	 * building and Gradescope's run_autograder.  NO_NEW_PRIVS and seccomp stay. */
	bool as_root;
	/* No network namespace: the host's network.  Trusted setup phases only. */
	bool host_net;
	int out_fd, err_fd;                 /* where captured output goes without a file */
};

struct sandbox_config sandbox_config_default(void);

enum sb_status {
	SB_OK, SB_TIME_LIMIT, SB_MEMORY_LIMIT, SB_OUTPUT_LIMIT, SB_RUNTIME_ERROR, SB_SANDBOX_ERROR,
};

struct sandbox_report {
	enum sb_status status;
	int id;
	int exit_code;          /* -1 when killed by a signal */
	int signal;             /* 0 when it exited */
	double cpu_sec, wall_sec;
	uint64_t max_rss_kib;
	uint64_t processes;     /* most processes at once */
	uint64_t output_bytes;
	int cgroup_version;
	char message[1024];     /* which limit, or what went wrong */
};

const char *sandbox_status_name(enum sb_status s);

/*
 * Runs cfg->argv in a new sandbox.  Returns -1 with err when the sandbox
 * could not even be prepared (bad configuration, no user namespaces, no
 * cgroups: the caller's fault or the host's); otherwise 0 and the verdict
 * in rep — including SB_SANDBOX_ERROR for failures after that point.
 */
int sandbox_run(const struct sandbox_config *cfg, struct sandbox_report *rep,
		struct lv_err *err);

/*
 * A session runs programs one after another, each in fresh mount, pid, ipc,
 * uts and net namespaces with its own /proc, /tmp and work directory, its
 * own cgroup accounting and limits — but sharing one user namespace, one
 * assembled root file system and one box made once, which is most of what
 * sandbox_run costs.  For grading, where a submission's tests run one after
 * another.  The base config gives the root (default or --root), hostname
 * and seccomp lists; each run's config its dir, argv, env, limits and
 * standard streams (root, binds and network must match the base).  One
 * session per process, used by one thread.
 */
struct sb_session;
int sandbox_session_open(const struct sandbox_config *base, struct sb_session **out,
			 struct lv_err *err);
int sandbox_session_run(struct sb_session *s, const struct sandbox_config *cfg,
			struct sandbox_report *rep, struct lv_err *err);
void sandbox_session_close(struct sb_session *s);

/* Removes what crashed runs left (cgroups, work-directory ownership) for
 * every box not in use.  Returns how many boxes were cleaned, -1 on error. */
int sandbox_cleanup(struct lv_err *err);

/* The report as one JSON object (a string to free()). */
char *sandbox_report_json(const struct sandbox_report *rep);

#endif
