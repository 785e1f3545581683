/*
 * The keeper's loop: one poll() over init's pidfd, the program's output
 * pipes, the status pipe and a signalfd.  It copies output to its
 * destinations up to the cap, and kills init — and with it the whole pid
 * namespace — at the CPU, wall or output limit, or when labvisor itself is
 * told to stop.
 */
#include "keeper.h"

#include "util/fs.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SETUP_TIMEOUT 10.0      /* seconds for init to build the box */
#define CPU_POLL_MS   10

enum { P_INIT, P_OUT, P_ERR, P_STATUS, P_SIG, P_COUNT };

static void kill_box(struct watch *w, enum kill_reason why)
{
	if (w->killed == KILL_NONE)
		w->killed = why;
	/* Through the pidfd: never a recycled pid. */
	if (syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0) < 0)
		kill(w->init_pid, SIGKILL);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;         /* a closed destination drops output, not the run */
		p += k;
		n -= (size_t)k;
	}
}

/* Copies what one output pipe has; false at its end. */
static bool pump(struct watch *w, int which)
{
	char buf[65536];
	uint64_t cap = w->cfg->output_bytes;
	ssize_t n = read(w->out_fd[which], buf, sizeof(buf));
	size_t keep;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	keep = (size_t)n;
	if (cap && w->output_bytes + keep > cap) {
		keep = (size_t)(cap - w->output_bytes);
		kill_box(w, KILL_OUTPUT);
	}
	write_all(w->dest_fd[which], buf, keep);
	w->output_bytes += keep;
	return true;
}

static bool read_status(struct watch *w)
{
	char c;
	ssize_t n;

	if (!w->started) {
		n = read(w->status_fd, &c, 1);
		if (n == 1 && c == 'R') {
			w->started = true;
			w->t_start = lv_seconds();
			w->cpu_base_ns = cgroup_cpu_ns(w->cg);
			return true;
		}
		return n < 0 && errno == EINTR;
	}
	n = read(w->status_fd, &w->wait_status, sizeof(w->wait_status));
	if (n == (ssize_t)sizeof(w->wait_status))
		w->have_status = true;
	return false;
}

static int poll_timeout(const struct watch *w, double now, double t_clone)
{
	double left = -1;

	if (!w->started)
		left = t_clone + SETUP_TIMEOUT - now;
	else if (w->cfg->wall_sec > 0)
		left = w->t_start + w->cfg->wall_sec - now;
	if (w->started && w->cfg->cpu_sec > 0 && (left < 0 || left > CPU_POLL_MS / 1e3))
		left = CPU_POLL_MS / 1e3;
	if (left < 0)
		return w->killed ? 100 : -1;
	return (int)(left * 1000) + 1;
}

static void check_limits(struct watch *w, double now, double t_clone)
{
	if (w->killed)
		return;
	if (!w->started && now - t_clone > SETUP_TIMEOUT)
		kill_box(w, KILL_SETUP);
	if (!w->started)
		return;
	cgroup_procs_now(w->cg);
	if (w->cfg->wall_sec > 0 && now - w->t_start >= w->cfg->wall_sec)
		kill_box(w, KILL_WALL);
	else if (w->cfg->cpu_sec > 0 &&
		 (double)(cgroup_cpu_ns(w->cg) - w->cpu_base_ns) / 1e9 >= w->cfg->cpu_sec)
		kill_box(w, KILL_CPU);
}

void keeper_watch(struct watch *w)
{
	struct pollfd p[P_COUNT] = {
		[P_INIT] = { .fd = w->pidfd, .events = POLLIN },
		[P_OUT] = { .fd = w->out_fd[0], .events = POLLIN },
		[P_ERR] = { .fd = w->out_fd[1], .events = POLLIN },
		[P_STATUS] = { .fd = w->status_fd, .events = POLLIN },
		[P_SIG] = { .fd = w->sigfd, .events = POLLIN },
	};
	double t_clone = lv_seconds();

	while (p[P_INIT].fd >= 0 || p[P_OUT].fd >= 0 || p[P_ERR].fd >= 0) {
		double now = lv_seconds();

		check_limits(w, now, t_clone);
		if (poll(p, P_COUNT, poll_timeout(w, now, t_clone)) < 0 && errno != EINTR)
			break;
		if (p[P_OUT].revents && !pump(w, 0))
			p[P_OUT].fd = -1;
		if (p[P_ERR].revents && !pump(w, 1))
			p[P_ERR].fd = -1;
		if (p[P_STATUS].revents && !read_status(w))
			p[P_STATUS].fd = -1;
		if (p[P_SIG].revents) {
			struct signalfd_siginfo si;

			if (read(w->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				w->signal_seen = (int)si.ssi_signo;
			kill_box(w, KILL_SIGNAL);
		}
		if (p[P_INIT].revents) {
			p[P_INIT].fd = -1;
			w->t_end = lv_seconds();
			/* The namespace is gone: a last read of the status, then drain. */
			while (p[P_STATUS].fd >= 0 && read_status(w))
				;
		}
	}
	if (!w->t_end)
		w->t_end = lv_seconds();
}
