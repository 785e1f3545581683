/* The keeper's supervision of a running box: output, time, the end. */
#ifndef LV_SANDBOX_KEEPER_H
#define LV_SANDBOX_KEEPER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "sandbox.h"

enum kill_reason { KILL_NONE, KILL_CPU, KILL_WALL, KILL_OUTPUT, KILL_SETUP, KILL_SIGNAL };

struct watch {
	const struct sandbox_config *cfg;
	struct cgroup *cg;
	pid_t init_pid;
	int pidfd, sigfd;
	int out_fd[2];          /* read ends of the program's stdout and stderr pipes */
	int dest_fd[2];         /* where each goes */
	int status_fd;          /* 'R' then the wait status */
	/* results */
	bool started, have_status;
	int wait_status;
	uint64_t cpu_base_ns;
	double t_start, t_end;
	uint64_t output_bytes;
	enum kill_reason killed;
	int signal_seen;
};

/* Runs until init has exited and the output pipes are drained. */
void keeper_watch(struct watch *w);

#endif
