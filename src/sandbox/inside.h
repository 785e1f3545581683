/*
 * The processes inside the sandbox: init (pid 1 of the new pid namespace),
 * which builds the file system and reaps, and the program it forks, which
 * drops every privilege and execs.
 *
 * Init talks to the keeper through three pipes: `go` (keeper -> init: one
 * byte when the uid/gid maps and the network are in place, a second when
 * init is in the box cgroup — it builds the file system in between —
 * followed by the compiled seccomp filter up to end of file), `err` (one message, first byte 'S' for a setup
 * failure — the sandbox's fault — or 'E' for an exec failure — the
 * program's), and `status` ('R' when the program starts, then its wait
 * status as an int).
 */
#ifndef LV_SANDBOX_INSIDE_H
#define LV_SANDBOX_INSIDE_H

#include <stdbool.h>

#include "mounts.h"
#include "netns.h"
#include "sandbox.h"

struct inside {
	const struct sandbox_config *cfg;
	const struct mount_plan *plan;
	const struct veth *veth;        /* NULL without --net veth */
	const char *hostname;
	bool set_groups;                /* setgroups() is allowed (root mode) */
	bool bounding_clear;            /* the capability bounding set is empty already */
	int go_fd, err_fd, status_fd;
	int keeper_go_fd;               /* the keeper's end, closed by init */
	int prog_fd[3];                 /* the program's stdin, stdout, stderr */
	char *const *envp;
	char (*cg_tasks)[PATH_MAX + 8]; /* cgroup v1: files init writes "0" to */
	unsigned n_cg_tasks;
};

/* What init learns from the keeper after the cgroup byte: the seccomp filter. */
struct filter {
	unsigned char bpf[32768];
	size_t len;
};

__attribute__((noreturn)) void inside_init(const struct inside *in);

/*
 * A session's zygote: in the session's user, mount and network namespaces,
 * it builds the shared file system once (as the box user, keeping its
 * capabilities there), and always has the next run's init cloned ahead into
 * fresh mount, pid, ipc and uts namespaces.  Each request on ctl_fd goes to
 * that init, and the zygote answers it with the init's host pid and a pidfd;
 * the init joins the box cgroup through tasks files the zygote opened as
 * root, adds the work directory, pivots, and goes on as init.
 */
struct run_request {
	char dir[PATH_MAX];             /* host path of the work directory, or "" */
	char cwd[PATH_MAX];
	char hostname[64];
	double cpu_sec;
	uint64_t fsize_bytes, stack_bytes;
	unsigned open_files, argc, envc;
	char strings[65536];            /* argv then env, NUL-separated */
};

/* Packs a run's config into a request; returns the bytes of it to send (the
 * strings' unused tail is not sent), -1 when it does not fit. */
ssize_t run_request_pack(struct run_request *req, const struct sandbox_config *cfg,
			 const char *dir, const char *cwd, char *const *envp);
/* Points cfg->argv and *envp into the request's first len bytes (arrays of
 * at most 256 entries); -1 when they do not hold what the header says. */
int run_request_unpack(struct run_request *req, size_t len, struct sandbox_config *cfg,
		       char *const **envp);

struct zygote {
	const struct sandbox_config *cfg;       /* the session's base */
	const struct mount_plan *plan;
	bool set_groups;
	int go_fd, keeper_go_fd, err_fd, ctl_fd;
	char (*cg_tasks)[PATH_MAX + 8];
	unsigned n_cg_tasks;
	struct filter filter;                   /* filled from the go pipe */
};

__attribute__((noreturn)) void zygote_main(const struct zygote *z);

/* A message with file descriptors (at most 8) over a SOCK_SEQPACKET socket. */
int send_fds(int sock, const void *buf, size_t len, const int *fds, unsigned nfds);
/* Receives one message of at most len bytes with exactly nfds descriptors
 * (close-on-exec); returns its length, -1 on error or a longer message. */
ssize_t recv_fds(int sock, void *buf, size_t len, int *fds, unsigned nfds);

#endif
