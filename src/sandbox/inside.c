#include "inside.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stddef.h>
#include <sys/socket.h>

#include "seccomp.h"

extern char **environ;

__attribute__((noreturn)) static void fail(const struct inside *in, char kind,
					   const struct lv_err *err)
{
	char msg[sizeof(err->msg) + 1];
	int n = snprintf(msg, sizeof(msg), "%c%s", kind, err->msg);

	if (write(in->err_fd, msg, (size_t)n) < 0) {
		/* the keeper is gone; nobody to tell */
	}
	_exit(kind == 'E' ? 127 : 1);
}

static int set_limit(int resource, uint64_t value, const char *name, struct lv_err *err)
{
	struct rlimit rl = { .rlim_cur = value, .rlim_max = value };

	return setrlimit(resource, &rl) < 0 ? lv_err_sys(err, errno, "setrlimit %s", name) : 0;
}

static int set_limits(const struct sandbox_config *cfg, struct lv_err *err)
{
	if (set_limit(RLIMIT_CORE, 0, "core", err) < 0 ||
	    set_limit(RLIMIT_NOFILE, cfg->open_files, "nofile", err) < 0 ||
	    set_limit(RLIMIT_STACK, cfg->stack_bytes ? cfg->stack_bytes : RLIM_INFINITY,
		      "stack", err) < 0 ||
	    set_limit(RLIMIT_FSIZE, cfg->fsize_bytes ? cfg->fsize_bytes : RLIM_INFINITY,
		      "fsize", err) < 0)
		return -1;
	/* A backstop per process; the keeper enforces the total over all processes. */
	if (cfg->cpu_sec > 0 &&
	    set_limit(RLIMIT_CPU, (uint64_t)cfg->cpu_sec + 1, "cpu", err) < 0)
		return -1;
	return 0;
}

/*
 * Init becomes the box user as soon as the maps exist: the files it creates
 * (tmpfs mount points, /etc) need an owner the namespace can name, and it
 * should reach host paths with no more than the box user's rights.  It keeps
 * its capabilities inside the namespace: the kernel clears them only when
 * leaving the namespace's uid 0, which is not mapped here.
 */
static int become_box_user(const struct inside *in, struct lv_err *err)
{
	uid_t id = in->cfg->as_root ? 0 : SB_INSIDE_UID;

	if (in->set_groups && setgroups(0, NULL) < 0)
		return lv_err_sys(err, errno, "setgroups");
	if (setresgid(id, id, id) < 0 || setresuid(id, id, id) < 0)
		return lv_err_sys(err, errno, "switching to uid %d", (int)id);
	return 0;
}

/* No capability can come back through an exec.  Processes that never exec
 * (init, a session's zygote) keep what they have meanwhile. */
static int clear_bounding_set(struct lv_err *err)
{
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
		if (cap_drop_bound(c) < 0 && errno != EINVAL)
			return lv_err_sys(err, errno, "dropping capability %d", c);
	return 0;
}

/* The program: no capability in any set, and none to be gained.  (as_root:
 * it keeps its capabilities, which reach only what its namespaces own.) */
static int drop_privileges(const struct inside *in, struct lv_err *err)
{
	cap_t none;
	int rc;

	if (in->cfg->as_root)
		return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
			? lv_err_sys(err, errno, "PR_SET_NO_NEW_PRIVS") : 0;
	if (!in->bounding_clear && clear_bounding_set(err) < 0)
		return -1;
	none = cap_init();
	rc = none ? cap_set_proc(none) : -1;
	cap_free(none);
	if (rc < 0 || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return lv_err_sys(err, errno, "clearing capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return lv_err_sys(err, errno, "PR_SET_NO_NEW_PRIVS");
	return 0;
}

__attribute__((noreturn)) static void run_program(const struct inside *in,
						 const struct filter *f)
{
	struct lv_err err;
	int oom;

	/* Init may be shielded from the OOM killer; the program must not be.  Like
	 * init it is not dumpable yet (so its /proc files are not its own); it
	 * will be after exec anyway. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (oom < 0 || write(oom, "0", 1) != 1)
		fail(in, 'S', &(struct lv_err){ .msg = "resetting oom_score_adj" });
	close(oom);
	setsid();
	for (int fd = 0; fd < 3; fd++)
		if (dup2(in->prog_fd[fd], fd) < 0)
			fail(in, 'S', &(struct lv_err){ .msg = "dup2 of the standard streams" });
	if (set_limits(in->cfg, &err) < 0 || drop_privileges(in, &err) < 0)
		fail(in, 'S', &err);
	if (syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
		fail(in, 'S', &(struct lv_err){ .msg = "close_range" });
	if (sb_seccomp_install(f->bpf, f->len, &err) < 0)
		fail(in, 'S', &err);
	environ = (char **)in->envp;
	execvp(in->cfg->argv[0], in->cfg->argv);
	lv_err_sys(&err, errno, "exec %s", in->cfg->argv[0]);
	fail(in, 'E', &err);
}

/* The filter follows the cgroup byte on the go pipe, up to its end. */
static int read_filter(int fd, struct filter *f)
{
	ssize_t n;

	f->len = 0;
	while ((n = read(fd, f->bpf + f->len, sizeof(f->bpf) - f->len)) > 0)
		f->len += (size_t)n;
	return n == 0 ? 0 : -1;
}

/* cgroup v1: init moves itself into the box (fast; see cgroup.h).  Still
 * host root here, before it takes the box uid, and still in the host's
 * mount tree. */
static int enter_cgroup(const struct inside *in, struct lv_err *err)
{
	for (unsigned i = 0; i < in->n_cg_tasks; i++) {
		int fd = open(in->cg_tasks[i], O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "0", 1) != 1) {
			lv_err_sys(err, errno, "joining cgroup %s", in->cg_tasks[i]);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static void setup(const struct inside *in, struct filter *f)
{
	struct lv_err err;
	char go;

	close(in->keeper_go_fd);
	/* Die with the keeper, whatever kills it; the kernel then kills the rest. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || read(in->go_fd, &go, 1) != 1)
		_exit(1);
	if (enter_cgroup(in, &err) < 0 || become_box_user(in, &err) < 0)
		fail(in, 'S', &err);
	/* Changing credentials cleared the parent-death signal: set it again.  A
	 * keeper that died in between shows as end of file on `go` below. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		_exit(1);
	if (sethostname(in->hostname, strlen(in->hostname)) < 0) {
		lv_err_sys(&err, errno, "sethostname");
		fail(in, 'S', &err);
	}
	if ((!in->cfg->host_net && net_setup_inside(in->veth, &err) < 0) ||
	    mount_plan_apply(in->plan, &err) < 0)
		fail(in, 'S', &err);
	/* Meanwhile the keeper has moved us into the box cgroup (that can take a
	 * whole RCU grace period on cgroup v1): wait for it, then make it this
	 * namespace's cgroup root. */
	if (read(in->go_fd, &go, 1) != 1 || read_filter(in->go_fd, f) < 0)
		_exit(1);
	close(in->go_fd);
	if (unshare(CLONE_NEWCGROUP) < 0 && errno != EINVAL)
		fail(in, 'S', &(struct lv_err){ .msg = "unshare(CLONE_NEWCGROUP)" });
}

/* Pid 1 once the box is built: fork the program, reap, report its status. */
__attribute__((noreturn)) static void init_tail(const struct inside *in, const struct filter *filter)
{
	int status;
	pid_t prog, pid;

	prog = fork();
	if (prog < 0)
		fail(in, 'S', &(struct lv_err){ .msg = "fork of the program" });
	if (prog == 0)
		run_program(in, filter);
	for (int fd = 0; fd < 3; fd++)
		close(in->prog_fd[fd]);
	if (write(in->status_fd, "R", 1) != 1)
		_exit(1);
	/* pid 1: reap every orphan until the program itself is done. */
	while ((pid = waitpid(-1, &status, 0)) != prog)
		if (pid < 0 && errno != EINTR)
			_exit(1);
	if (write(in->status_fd, &status, sizeof(status)) != (ssize_t)sizeof(status))
		_exit(1);
	_exit(0);
}

void inside_init(const struct inside *in)
{
	static struct filter filter;    /* this process's own copy */

	setup(in, &filter);
	init_tail(in, &filter);
}

/* ---- sessions: the zygote and its runs ---- */

#define MAX_ARGS 256

static int pack_strings(struct run_request *req, size_t *used, char *const *list, unsigned *count)
{
	for (*count = 0; list && list[*count]; (*count)++) {
		size_t n = strlen(list[*count]) + 1;

		if (*count >= MAX_ARGS || *used + n > sizeof(req->strings))
			return -1;
		memcpy(req->strings + *used, list[*count], n);
		*used += n;
	}
	return 0;
}

ssize_t run_request_pack(struct run_request *req, const struct sandbox_config *cfg,
			 const char *dir, const char *cwd, char *const *envp)
{
	size_t used = 0;

	memset(req, 0, offsetof(struct run_request, strings));
	snprintf(req->dir, sizeof(req->dir), "%s", dir ? dir : "");
	snprintf(req->cwd, sizeof(req->cwd), "%s", cwd);
	snprintf(req->hostname, sizeof(req->hostname), "%s", cfg->hostname ? cfg->hostname : "sandbox");
	req->cpu_sec = cfg->cpu_sec;
	req->fsize_bytes = cfg->fsize_bytes;
	req->stack_bytes = cfg->stack_bytes;
	req->open_files = cfg->open_files;
	if (pack_strings(req, &used, cfg->argv, &req->argc) < 0 ||
	    pack_strings(req, &used, envp, &req->envc) < 0)
		return -1;
	return (ssize_t)(offsetof(struct run_request, strings) + used);
}

/* Only the first len bytes came: strings past them are not read. */
static char *next_string(char **p, const char *end)
{
	char *s = *p, *nul = memchr(s, '\0', (size_t)(end - s));

	if (s >= end || !nul)
		return NULL;
	*p = nul + 1;
	return s;
}

int run_request_unpack(struct run_request *req, size_t len, struct sandbox_config *cfg,
		       char *const **envp)
{
	static char *argv[MAX_ARGS + 1], *env[MAX_ARGS + 1];
	const char *end = (const char *)req + len;
	char *p = req->strings;

	if (len < offsetof(struct run_request, strings) || len > sizeof(*req) ||
	    req->argc > MAX_ARGS || req->envc > MAX_ARGS)
		return -1;
	for (unsigned i = 0; i < req->argc; i++)
		if (!(argv[i] = next_string(&p, end)))
			return -1;
	for (unsigned i = 0; i < req->envc; i++)
		if (!(env[i] = next_string(&p, end)))
			return -1;
	argv[req->argc] = NULL;
	env[req->envc] = NULL;
	req->dir[sizeof(req->dir) - 1] = req->cwd[sizeof(req->cwd) - 1] = '\0';
	req->hostname[sizeof(req->hostname) - 1] = '\0';
	cfg->argv = argv;
	cfg->cpu_sec = req->cpu_sec;
	cfg->fsize_bytes = req->fsize_bytes;
	cfg->stack_bytes = req->stack_bytes;
	cfg->open_files = req->open_files;
	*envp = env;
	return 0;
}

int send_fds(int sock, const void *buf, size_t len, const int *fds, unsigned nfds)
{
	char cbuf[CMSG_SPACE(8 * sizeof(int))];
	struct iovec iov = { (void *)buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (nfds > 8)
		return -1;
	if (nfds) {
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

ssize_t recv_fds(int sock, void *buf, size_t len, int *fds, unsigned nfds)
{
	char cbuf[CMSG_SPACE(8 * sizeof(int))];
	struct iovec iov = { buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);

	if (n < 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(nfds * sizeof(int)))
		return -1;
	memcpy(fds, CMSG_DATA(c), nfds * sizeof(int));
	return n;
}

/* The keeper learns each run's host pid with a pidfd; -1: it did not start. */
static void reply(int ctl, pid_t pid, int pidfd)
{
	if (pidfd < 0)
		pid = -1;
	if (send_fds(ctl, &pid, sizeof(pid), &pidfd, pidfd >= 0 ? 1 : 0) < 0) {
		/* the keeper is gone: the parent-death signals end everything */
	}
}

/*
 * A run's init (pid 1 of fresh mount, pid, ipc and uts namespaces; the
 * network namespace is the session's), made ahead of its request: it
 * mounts its /proc and /tmp while the previous run still goes; then it
 * takes the request, joins the box cgroup (through tasks files the zygote
 * opened as root), adds the work directory, pivots and goes on as init.
 */
__attribute__((noreturn)) static void run_init(const struct zygote *z, int sock, const int *cg_fds)
{
	static struct run_request req;
	struct sandbox_config cfg = *z->cfg;
	struct inside in = { .cfg = &cfg, .bounding_clear = !cfg.as_root };
	struct lv_err err = { 0 };
	bool ready = prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && mount_run_prepare(&err) == 0;
	int fds[5];
	ssize_t len = recv_fds(sock, &req, sizeof(req), fds, 5);

	if (len < 0)
		_exit(0);               /* the session is over */
	close(sock);
	in.err_fd = fds[3];
	in.status_fd = fds[4];
	memcpy(in.prog_fd, fds, sizeof(in.prog_fd));
	if (!ready || run_request_unpack(&req, (size_t)len, &cfg, &in.envp) < 0)
		fail(&in, 'S', err.msg[0] ? &err : &(struct lv_err){ .msg = "preparing a run" });
	for (unsigned i = 0; i < z->n_cg_tasks; i++)
		if (write(cg_fds[i], "0", 1) != 1)
			fail(&in, 'S', &(struct lv_err){ .msg = "joining the box cgroup" });
	if (unshare(CLONE_NEWCGROUP) < 0 && errno != EINVAL)
		fail(&in, 'S', &(struct lv_err){ .msg = "unshare(CLONE_NEWCGROUP)" });
	if (sethostname(req.hostname, strlen(req.hostname)) < 0) {
		lv_err_sys(&err, errno, "sethostname");
		fail(&in, 'S', &err);
	}
	if (mount_run_enter(z->plan, req.dir[0] ? req.dir : NULL, req.cwd, &err) < 0)
		fail(&in, 'S', &err);
	init_tail(&in, &z->filter);
}

/* The next run's init, cloned ahead; sock < 0 when it could not be made. */
struct spare {
	int sock;                       /* its request goes here */
	pid_t pid;
	int pidfd;                      /* opened before anything can reap it */
};

static struct spare make_spare(const struct zygote *z, const int *cg_fds)
{
	struct spare sp = { .sock = -1, .pid = -1, .pidfd = -1 };
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return sp;
	sp.pid = (pid_t)syscall(SYS_clone, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
				SIGCHLD, NULL, NULL, NULL, NULL);
	if (sp.pid == 0) {
		close(sv[0]);
		run_init(z, sv[1], cg_fds);
	}
	close(sv[1]);
	if (sp.pid > 0)
		sp.pidfd = (int)syscall(SYS_pidfd_open, sp.pid, 0);
	if (sp.pidfd < 0) {
		if (sp.pid > 0)
			kill(sp.pid, SIGKILL);
		close(sv[0]);
		return sp;
	}
	sp.sock = sv[0];
	return sp;
}

/* Hands a request to the spare and tells the keeper its pid, or fails the run. */
static void start_run(const struct zygote *z, struct spare *sp, const struct run_request *req,
		      size_t len, const int *fds)
{
	if (sp->sock >= 0 && send_fds(sp->sock, req, len, fds, 5) == 0) {
		reply(z->ctl_fd, sp->pid, sp->pidfd);
	} else {
		reply(z->ctl_fd, -1, -1);
		if (write(fds[3], "Scould not start a run", 22) < 0) {
			/* the keeper reports a run with no status anyway */
		}
		if (sp->pid > 0)
			kill(sp->pid, SIGKILL);
	}
	for (int i = 0; i < 5; i++)
		close(fds[i]);
	if (sp->sock >= 0) {
		close(sp->sock);
		close(sp->pidfd);
	}
}

void zygote_main(const struct zygote *z)
{
	struct inside in = { .cfg = z->cfg, .set_groups = z->set_groups, .err_fd = z->err_fd };
	int cg_fds[3];
	struct spare spare;
	static struct run_request req;
	struct lv_err err;
	char go;

	close(z->keeper_go_fd);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || read(z->go_fd, &go, 1) != 1)
		_exit(1);
	/* Still host root: open the box cgroup's tasks files for the runs to join by. */
	for (unsigned i = 0; i < z->n_cg_tasks; i++)
		if ((cg_fds[i] = open(z->cg_tasks[i], O_WRONLY | O_CLOEXEC)) < 0)
			fail(&in, 'S', &(struct lv_err){ .msg = "opening the box cgroup" });
	if (become_box_user(&in, &err) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
	    (!z->cfg->as_root && clear_bounding_set(&err) < 0))
		fail(&in, 'S', &err);
	/*
	 * One network namespace (loopback only) for all the session's runs: they
	 * run one after another, each run's processes are gone (its pid namespace
	 * ended) before the next starts, and a program has no capability to
	 * change the namespace, so nothing of a run outlives it there.  Making
	 * and tearing down one per run cost ~1 ms of CPU each.
	 */
	if (net_setup_inside(NULL, &err) < 0 || mount_plan_apply_shared(z->plan, &err) < 0)
		fail(&in, 'S', &err);
	if (read(z->go_fd, &go, 1) != 1 || read_filter(z->go_fd, (struct filter *)&z->filter) < 0)
		_exit(1);
	close(z->go_fd);
	if (write(z->ctl_fd, "Z", 1) != 1)
		_exit(1);
	spare = make_spare(z, cg_fds);
	for (;;) {
		int fds[5];
		ssize_t len;

		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if ((len = recv_fds(z->ctl_fd, &req, sizeof(req), fds, 5)) < 0)
			_exit(0);       /* the keeper closed the session */
		start_run(z, &spare, &req, (size_t)len, fds);
		spare = make_spare(z, cg_fds);
	}
}
