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

#endif
