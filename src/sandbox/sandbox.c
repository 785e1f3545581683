/*
 * sandbox_run: the keeper's side of a run, in order — check the request,
 * take a box id, create its cgroup, clone init into fresh namespaces, hand
 * it uid/gid maps, the cgroup and the network, watch it (keeper.c), then
 * undo everything and decide the verdict.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boxlock.h"
#include "cgroup.h"
#include "inside.h"
#include "keeper.h"
#include "mounts.h"
#include "netns.h"
#include "seccomp.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

struct sandbox_config sandbox_config_default(void)
{
	return (struct sandbox_config){
		.id = -1,
		.mem_bytes = 512ull << 20,
		.procs = 64,
		.output_bytes = 64ull << 20,
		.fsize_bytes = 64ull << 20,
		.stack_bytes = 8ull << 20,
		.open_files = 64,
		.out_fd = STDOUT_FILENO,
		.err_fd = STDERR_FILENO,
	};
}

/* Everything one run owns, so that one function can undo it. */
struct run {
	const struct sandbox_config *cfg;
	bool root_mode;
	struct box box;
	struct cgroup *cg;
	struct mount_plan plan;
	struct veth veth;
	bool veth_made;
	char workdir[PATH_MAX];         /* host path handed to the box uid, or "" */
	uid_t dir_uid;
	gid_t dir_gid;
	char *envp[SB_MAX_ENV + 4];
	char cg_tasks[3][PATH_MAX + 8];
	unsigned n_cg_tasks;
	char env_store[2][PATH_MAX + 8];
	int go[2], errp[2], status[2], out[2][2], in_fd, dest[2];
	sigset_t old_mask;
	int sigfd;
	bool in_session;                /* box, cgroup and plan belong to a session */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static bool env_has(const struct sandbox_config *cfg, const char *key)
{
	size_t n = strlen(key);

	for (unsigned i = 0; i < cfg->nenv; i++)
		if (strncmp(cfg->env[i], key, n) == 0 && cfg->env[i][n] == '=')
			return true;
	return false;
}

static void build_env(struct run *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->cfg->nenv; i++)
		r->envp[n++] = (char *)r->cfg->env[i];
	if (!env_has(r->cfg, "PATH"))
		r->envp[n++] = "PATH=" DEFAULT_PATH;
	if (!env_has(r->cfg, "HOME")) {
		snprintf(r->env_store[0], sizeof(r->env_store[0]), "HOME=%s", r->plan.workdir);
		r->envp[n++] = r->env_store[0];
	}
	r->envp[n] = NULL;
}

static const char *env_path(const struct run *r)
{
	for (unsigned i = 0; r->envp[i]; i++)
		if (strncmp(r->envp[i], "PATH=", 5) == 0)
			return r->envp[i] + 5;
	return DEFAULT_PATH;
}

/* The program must exist before anything is created: a missing one is a usage error. */
static int find_program(const struct run *r, struct lv_err *err)
{
	const char *prog = r->cfg->argv[0];
	char inside[PATH_MAX * 2], host[PATH_MAX * 2], path[PATH_MAX];

	if (r->cfg->overlay_lower)
		return 0;       /* an image root: exec will tell */
	if (strchr(prog, '/')) {
		if (prog[0] == '/')
			snprintf(inside, sizeof(inside), "%s", prog);
		else
			snprintf(inside, sizeof(inside), "%s/%s", r->plan.workdir, prog);
		if (mount_plan_host_path(&r->plan, inside, host, sizeof(host)) &&
		    access(host, X_OK) == 0)
			return 0;
		return lv_err_set(err, "program %s does not exist in the sandbox (or is not "
				  "executable)", prog);
	}
	snprintf(path, sizeof(path), "%s", env_path(r));
	for (char *dir = strtok(path, ":"); dir; dir = strtok(NULL, ":")) {
		snprintf(inside, sizeof(inside), "%s/%s", dir, prog);
		if (mount_plan_host_path(&r->plan, inside, host, sizeof(host)) &&
		    access(host, X_OK) == 0)
			return 0;
	}
	return lv_err_set(err, "program %s not found in the sandbox's PATH (%s)", prog, env_path(r));
}

static int check_config(const struct sandbox_config *cfg, struct lv_err *err)
{
	if (!cfg->argv || !cfg->argv[0] || !cfg->argv[0][0])
		return lv_err_set(err, "no PROGRAM given: labvisor isolate [OPTIONS] -- PROGRAM [ARGS...]");
	if (cfg->id > SB_MAX_ID)
		return lv_err_set(err, "sandbox id must be 0..%d", SB_MAX_ID);
	if (cfg->hostname && (strlen(cfg->hostname) == 0 || strlen(cfg->hostname) > 63))
		return lv_err_set(err, "--hostname must have 1..63 characters");
	if (cfg->open_files < 4)
		return lv_err_set(err, "at least 4 open files are needed");
	if ((cfg->as_root || cfg->host_net || cfg->overlay_lower) && geteuid() != 0)
		return lv_err_set(err, "image roots, root inside and the host network need labvisor "
				  "to run as root");
	if (cfg->overlay_lower && !cfg->overlay_upper != !cfg->overlay_work)
		return lv_err_set(err, "a writable image root needs an upper and a work directory");
	return sb_seccomp_check(cfg, err);
}

static int open_files(struct run *r, struct lv_err *err)
{
	const struct sandbox_config *cfg = r->cfg;
	const char *paths[2] = { cfg->stdout_path, cfg->stderr_path };
	int fallback[2] = { cfg->out_fd, cfg->err_fd };

	r->in_fd = open(cfg->stdin_path ? cfg->stdin_path : "/dev/null", O_RDONLY | O_CLOEXEC);
	if (r->in_fd < 0)
		return lv_err_sys(err, errno, "--stdin %s", cfg->stdin_path);
	for (int i = 0; i < 2; i++) {
		r->dest[i] = -1;
		if (!paths[i])
			continue;
		r->dest[i] = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (r->dest[i] < 0)
			return lv_err_sys(err, errno, "%s %s", i ? "--stderr" : "--stdout", paths[i]);
	}
	/* The same file for both streams: one descriptor, so writes do not overwrite. */
	if (paths[0] && paths[1] && strcmp(paths[0], paths[1]) == 0) {
		close(r->dest[1]);
		r->dest[1] = dup(r->dest[0]);
	}
	for (int i = 0; i < 2; i++)
		if (r->dest[i] < 0)
			r->dest[i] = dup(fallback[i]);
	return 0;
}

static int make_pipes(struct run *r, struct lv_err *err)
{
	if (pipe2(r->go, O_CLOEXEC) < 0 || pipe2(r->errp, O_CLOEXEC) < 0 ||
	    pipe2(r->status, O_CLOEXEC) < 0 || pipe2(r->out[0], O_CLOEXEC) < 0 ||
	    pipe2(r->out[1], O_CLOEXEC) < 0)
		return lv_err_sys(err, errno, "pipe");
	return 0;
}

/* The host uid the program runs as (root mode). */
static uid_t box_host_uid(const struct run *r)
{
	return r->cfg->as_root ? SB_IMG_BASE : SB_UID_BASE + (uid_t)r->box.id;
}

/* Root mode: the work directory belongs to the box uid for the run. */
static int lend_workdir(struct run *r, struct lv_err *err)
{
	struct stat st;
	uid_t box_id = box_host_uid(r);

	if (!r->root_mode || !r->cfg->dir)
		return 0;
	if (!realpath(r->cfg->dir, r->workdir) || stat(r->workdir, &st) < 0)
		return lv_err_sys(err, errno, "--dir %s", r->cfg->dir);
	r->dir_uid = st.st_uid;
	r->dir_gid = st.st_gid;
	if (box_state_save(&r->box, r->workdir, st.st_uid, st.st_gid, err) < 0)
		return -1;
	return chown_tree(r->workdir, CHOWN_ALL, box_id, box_id, err);
}

static int write_proc(pid_t pid, const char *file, const char *text, struct lv_err *err)
{
	char path[64];
	size_t len = strlen(text);
	int fd, rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return lv_err_sys(err, errno, "open %s", path);
	if (write(fd, text, len) != (ssize_t)len)
		rc = lv_err_sys(err, errno, "writing %s", path);
	close(fd);
	return rc;
}

/* The program's uid and gid inside map to the box uid (root) or to the caller. */
static int map_ids(const struct run *r, pid_t pid, struct lv_err *err)
{
	unsigned host_uid = r->root_mode ? SB_UID_BASE + (unsigned)r->box.id : getuid();
	unsigned host_gid = r->root_mode ? SB_UID_BASE + (unsigned)r->box.id : getgid();
	char map[64];

	if (r->cfg->as_root) {          /* root and the image's users, 0..65535 */
		snprintf(map, sizeof(map), "0 %u %u\n", SB_IMG_BASE, SB_IMG_RANGE);
		return write_proc(pid, "uid_map", map, err) < 0 ? -1
			: write_proc(pid, "gid_map", map, err);
	}
	if (!r->root_mode && write_proc(pid, "setgroups", "deny", err) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", SB_INSIDE_UID, host_uid);
	if (write_proc(pid, "uid_map", map, err) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", SB_INSIDE_UID, host_gid);
	return write_proc(pid, "gid_map", map, err);
}

/* Init builds the file system while the keeper moves it into the cgroup. */
static int prepare_init(struct run *r, pid_t pid, struct lv_err *err)
{
	if (map_ids(r, pid, err) < 0)
		return -1;
	if (r->cfg->net == SB_NET_VETH) {
		if (veth_create(&r->veth, pid, err) < 0)
			return -1;
		r->veth_made = true;
	}
	if (write(r->go[1], "g", 1) != 1)
		return lv_err_sys(err, errno, "starting init");
	if (r->n_cg_tasks == 0 && cgroup_attach(r->cg, pid, err) < 0)
		return -1;      /* v2: the keeper moves init; v1: init moves itself */
	/* Init should outlive an OOM kill in the box (the program resets its own).
	 * Best effort: it needs CAP_SYS_RESOURCE, and init is tiny anyway. */
	if (r->root_mode)
		write_proc(pid, "oom_score_adj", "-1000", &(struct lv_err){ 0 });
	if (write(r->go[1], "c", 1) != 1)
		return lv_err_sys(err, errno, "starting init");
	if (sb_seccomp_export(r->cfg, r->go[1], err) < 0)
		return -1;
	close_fd(&r->go[1]);    /* end of the filter */
	return 0;
}

static pid_t clone_init(struct run *r, struct lv_err *err)
{
	const unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
				    CLONE_NEWUTS | (r->cfg->host_net ? 0 : CLONE_NEWNET) | SIGCHLD;
	pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);

	if (pid < 0) {
		if (errno == EPERM || errno == EINVAL || errno == ENOSPC)
			lv_err_sys(err, errno, "creating namespaces (user namespaces must be "
				   "enabled: sysctl user.max_user_namespaces > 0%s)",
				   r->root_mode ? "" : ", and kernel.unprivileged_userns_clone=1 "
				   "for ordinary users");
		else
			lv_err_sys(err, errno, "clone");
		return -1;
	}
	if (pid == 0) {
		struct inside in = {
			.cfg = r->cfg, .plan = &r->plan,
			.veth = r->cfg->net == SB_NET_VETH ? &r->veth : NULL,
			.hostname = r->cfg->hostname ? r->cfg->hostname : "sandbox",
			.set_groups = r->root_mode, .go_fd = r->go[0], .keeper_go_fd = r->go[1],
			.err_fd = r->errp[1], .status_fd = r->status[1],
			.prog_fd = { r->in_fd, r->out[0][1], r->out[1][1] }, .envp = r->envp,
			.cg_tasks = r->cg_tasks, .n_cg_tasks = r->n_cg_tasks,
		};
		sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
		inside_init(&in);
	}
	return pid;
}

/* Labvisor's own stop signals arrive through a signalfd while a box runs. */
static int block_signals(struct run *r, struct lv_err *err)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &r->old_mask);
	r->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return r->sigfd < 0 ? lv_err_sys(err, errno, "signalfd") : 0;
}

static void read_setup_error(struct run *r, char *kind, char *msg, size_t len)
{
	ssize_t n = read(r->errp[0], msg, len - 1);

	*kind = n > 0 ? msg[0] : 0;
	if (n <= 0) {
		msg[0] = '\0';
		return;
	}
	memmove(msg, msg + 1, (size_t)n - 1);
	msg[n - 1] = '\0';
}

static void verdict(struct run *r, struct watch *w, int init_status, struct sandbox_report *rep)
{
	char kind = 0, msg[sizeof(rep->message)];
	struct cg_usage u;

	cgroup_usage(r->cg, &u);
	rep->cpu_sec = w->started ? (double)(u.cpu_ns - w->cpu_base_ns) / 1e9 : 0;
	rep->wall_sec = w->started ? w->t_end - w->t_start : 0;
	rep->max_rss_kib = u.peak_mem_bytes / 1024;
	rep->processes = u.procs_peak;
	rep->output_bytes = w->output_bytes;
	rep->cgroup_version = cgroup_version(r->cg);
	rep->exit_code = -1;
	if (w->have_status && WIFEXITED(w->wait_status))
		rep->exit_code = WEXITSTATUS(w->wait_status);
	else if (w->have_status && WIFSIGNALED(w->wait_status))
		rep->signal = WTERMSIG(w->wait_status);
	else
		rep->signal = SIGKILL;
	read_setup_error(r, &kind, msg, sizeof(msg));

	if (kind == 'S' || w->killed == KILL_SETUP || w->killed == KILL_SIGNAL ||
	    (!w->have_status && !w->killed && kind != 'E' && u.oom_kills == 0)) {
		rep->status = SB_SANDBOX_ERROR;
		snprintf(rep->message, sizeof(rep->message), "%s",
			 kind == 'S' ? msg : w->killed == KILL_SETUP ? "the sandbox took too long to start"
			 : w->killed == KILL_SIGNAL ? "labvisor was told to stop (signal)"
			 : init_status ? "the sandbox's init failed" : "no status from the program");
	} else if (w->killed == KILL_CPU || w->killed == KILL_WALL ||
		   (r->cfg->cpu_sec > 0 && rep->cpu_sec >= r->cfg->cpu_sec)) {
		rep->status = SB_TIME_LIMIT;
		snprintf(rep->message, sizeof(rep->message), "%s time limit of %g s",
			 w->killed == KILL_WALL ? "wall" : "CPU",
			 w->killed == KILL_WALL ? r->cfg->wall_sec : r->cfg->cpu_sec);
	} else if (w->killed == KILL_OUTPUT) {
		rep->status = SB_OUTPUT_LIMIT;
		snprintf(rep->message, sizeof(rep->message), "output cut at %llu bytes",
			 (unsigned long long)r->cfg->output_bytes);
	} else if (u.oom_kills > 0) {
		rep->status = SB_MEMORY_LIMIT;
		snprintf(rep->message, sizeof(rep->message), "memory limit of %llu MiB "
			 "(%llu process(es) killed)", (unsigned long long)(r->cfg->mem_bytes >> 20),
			 (unsigned long long)u.oom_kills);
	} else if (kind == 'E' || rep->exit_code != 0) {
		rep->status = SB_RUNTIME_ERROR;
		if (kind == 'E')
			rep->exit_code = 127;
		snprintf(rep->message, sizeof(rep->message), "%s", kind == 'E' ? msg :
			 rep->signal ? strsignal(rep->signal) : "non-zero exit status");
	} else {
		rep->status = SB_OK;
	}
}

static int supervise(struct run *r, pid_t pid, struct sandbox_report *rep, struct lv_err *err)
{
	struct watch w = {
		.cfg = r->cfg, .cg = r->cg, .init_pid = pid, .sigfd = r->sigfd,
		.out_fd = { r->out[0][0], r->out[1][0] }, .dest_fd = { r->dest[0], r->dest[1] },
		.status_fd = r->status[0],
	};
	int status = 0;

	/* Only init and its children may hold the write ends now. */
	close_fd(&r->go[0]);
	close_fd(&r->errp[1]);
	close_fd(&r->status[1]);
	close_fd(&r->out[0][1]);
	close_fd(&r->out[1][1]);
	close_fd(&r->in_fd);
	w.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (w.pidfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return lv_err_sys(err, errno, "pidfd_open (Linux >= 5.3 is needed)");
	}
	if (prepare_init(r, pid, err) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(w.pidfd);
		return -1;
	}
	keeper_watch(&w);
	waitpid(pid, &status, 0);
	close(w.pidfd);
	verdict(r, &w, status, rep);
	return 0;
}

static void undo(struct run *r, struct lv_err *err)
{
	int *fds[] = { &r->go[0], &r->go[1], &r->errp[0], &r->errp[1], &r->status[0],
		       &r->status[1], &r->out[0][0], &r->out[0][1], &r->out[1][0],
		       &r->out[1][1], &r->in_fd, &r->dest[0], &r->dest[1], &r->sigfd };

	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		close_fd(fds[i]);
	if (r->veth_made)
		veth_delete(&r->veth);
	if (r->plan.n && r->plan.step[0].kind == STEP_ROOT_MOUNT && r->plan.step[0].fd >= 0)
		close(r->plan.step[0].fd);
	mount_plan_free(&r->plan);
	if (r->cg && !r->in_session && cgroup_destroy(r->cg, err) < 0)
		fprintf(stderr, "labvisor: %s\n", err->msg);
	if (r->workdir[0]) {
		if (chown_tree(r->workdir, box_host_uid(r), r->dir_uid, r->dir_gid, err) < 0)
			fprintf(stderr, "labvisor: %s\n", err->msg);
		else
			box_state_clear(&r->box);
	}
	if (!r->in_session)
		box_release(&r->box);
	sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
}

/* A previous run of this box that died mid-way: undo what it left. */
static int recover_box(struct run *r, struct lv_err *err)
{
	if (box_state_recover(&r->box, err) < 0)
		return -1;
	veth_delete(&r->veth);
	return 0;
}

static void init_run(struct run *r, const struct sandbox_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->root_mode = geteuid() == 0;
	r->box.lock_fd = -1;
	sigprocmask(SIG_BLOCK, NULL, &r->old_mask);     /* what undo() restores */
	int *fds[] = { &r->go[0], &r->go[1], &r->errp[0], &r->errp[1], &r->status[0],
		       &r->status[1], &r->out[0][0], &r->out[0][1], &r->out[1][0],
		       &r->out[1][1], &r->in_fd, &r->dest[0], &r->dest[1], &r->sigfd };
	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		*fds[i] = -1;
}

/*
 * The image root, made by the keeper as a detached mount (new mount API):
 * it is attached nowhere on the host, so nothing can be left mounted, and
 * init moves it into its own namespace.
 */
static int make_image_root(struct run *r, struct lv_err *err)
{
	const struct sandbox_config *cfg = r->cfg;
	const char *keys[3] = { "lowerdir", "upperdir", "workdir" };
	const char *vals[3] = { cfg->overlay_lower, cfg->overlay_upper, cfg->overlay_work };
	int nkeys = cfg->overlay_upper ? 3 : 1;         /* lower layers only: read-only */
	char log[256];
	int fs = fsopen("overlay", FSOPEN_CLOEXEC), mnt = -1;

	if (fs < 0)
		return lv_err_sys(err, errno, "overlayfs (needed for image roots)");
	for (int i = 0; i < nkeys; i++) {
		if (fsconfig(fs, FSCONFIG_SET_STRING, keys[i], vals[i], 0) < 0) {
			ssize_t n = read(fs, log, sizeof(log) - 1);

			log[n > 0 ? n : 0] = '\0';
			lv_err_sys(err, errno, "image root: %s=%s %s", keys[i], vals[i], log);
			close(fs);
			return -1;
		}
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			      (cfg->overlay_upper ? 0 : MOUNT_ATTR_RDONLY));
	if (mnt < 0)
		lv_err_sys(err, errno, "mounting the image root (%s)", cfg->overlay_lower);
	close(fs);
	r->plan.step[0].fd = mnt;
	return mnt < 0 ? -1 : 0;
}

/* Everything before the clone, in an order where each step's failure is
 * still a clear usage or host error. */
static int prepare(struct run *r, struct sandbox_report *rep, struct lv_err *err)
{
	const struct sandbox_config *cfg = r->cfg;
	struct cg_limits lim = { .mem_bytes = cfg->mem_bytes, .procs = cfg->procs };
	char name[32];

	if (mount_plan_build(cfg, cfg->hostname ? cfg->hostname : "sandbox", &r->plan, err) < 0)
		return -1;
	build_env(r);
	if (find_program(r, err) < 0 || box_acquire(cfg->id, &r->box, err) < 0)
		return -1;
	rep->id = r->box.id;
	veth_for_box(r->box.id, &r->veth);
	snprintf(name, sizeof(name), "box-%d", r->box.id);
	if (block_signals(r, err) < 0 || recover_box(r, err) < 0 ||
	    cgroup_create(name, &lim, &r->cg, err) < 0)
		return -1;
	r->n_cg_tasks = cgroup_self_attach_files(r->cg, r->cg_tasks);
	if (cfg->overlay_lower && make_image_root(r, err) < 0)
		return -1;
	if (lend_workdir(r, err) < 0 || open_files(r, err) < 0)
		return -1;
	return make_pipes(r, err);
}

int sandbox_run(const struct sandbox_config *cfg, struct sandbox_report *rep,
		struct lv_err *err)
{
	struct run r;
	pid_t pid;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	if (check_config(cfg, err) < 0)
		return -1;
	init_run(&r, cfg);
	if (prepare(&r, rep, err) == 0 && (pid = clone_init(&r, err)) > 0)
		rc = supervise(&r, pid, rep, err);
	undo(&r, err);
	return rc;
}

/* ---- sessions (see sandbox.h): one zygote, many runs ---- */

struct sb_session {
	struct run r;                   /* the box, its cgroup and the shared plan */
	struct sandbox_config base;
	pid_t zygote;
	int ctl;                        /* SOCK_SEQPACKET to the zygote */
};

static pid_t clone_zygote(struct sb_session *s, struct lv_err *err)
{
	struct run *r = &s->r;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return lv_err_sys(err, errno, "socketpair");
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | SIGCHLD, NULL, NULL,
			    NULL, NULL);
	if (pid == 0) {
		static struct zygote z;

		close(sv[0]);
		z = (struct zygote){
			.cfg = &s->base, .plan = &r->plan, .set_groups = r->root_mode,
			.go_fd = r->go[0], .keeper_go_fd = r->go[1], .err_fd = r->errp[1],
			.ctl_fd = sv[1], .cg_tasks = r->cg_tasks, .n_cg_tasks = r->n_cg_tasks,
		};
		sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
		zygote_main(&z);
	}
	close(sv[1]);
	s->ctl = sv[0];
	if (pid < 0)
		lv_err_sys(err, errno, "creating the session's namespaces");
	return pid;
}

/* Maps, go, the filter; then the zygote says 'Z' when the shared root is built. */
static int start_zygote(struct sb_session *s, struct lv_err *err)
{
	struct run *r = &s->r;
	char ready = 0, kind, msg[sizeof(err->msg)];

	close_fd(&r->go[0]);
	close_fd(&r->errp[1]);
	if (map_ids(r, s->zygote, err) < 0 || write(r->go[1], "gc", 2) != 2 ||
	    sb_seccomp_export(&s->base, r->go[1], err) < 0)
		return -1;
	close_fd(&r->go[1]);
	if (read(s->ctl, &ready, 1) == 1 && ready == 'Z')
		return 0;
	read_setup_error(r, &kind, msg, sizeof(msg));
	return lv_err_set(err, "starting the session: %s", msg[0] ? msg : "the zygote died");
}

int sandbox_session_open(const struct sandbox_config *base, struct sb_session **out,
			 struct lv_err *err)
{
	struct sb_session *s = calloc(1, sizeof(*s));
	struct cg_limits lim = { .mem_bytes = base->mem_bytes, .procs = base->procs };
	char name[32];

	if (!s)
		return lv_err_sys(err, ENOMEM, "session");
	s->base = *base;
	s->base.dir = NULL;
	s->zygote = -1;
	s->ctl = -1;
	init_run(&s->r, &s->base);
	if (s->base.overlay_lower || s->base.as_root || s->base.host_net || s->base.net != SB_NET_NONE ||
	    s->base.nbinds) {
		free(s);
		return lv_err_set(err, "sessions take the default or a --root file system, no binds, "
				  "and no network");
	}
	if (mount_plan_build(&s->base, base->hostname ? base->hostname : "sandbox", &s->r.plan, err) < 0 ||
	    box_acquire(base->id, &s->r.box, err) < 0)
		goto fail;
	snprintf(name, sizeof(name), "box-%d", s->r.box.id);
	if (recover_box(&s->r, err) < 0 || cgroup_create(name, &lim, &s->r.cg, err) < 0)
		goto fail;
	s->r.n_cg_tasks = cgroup_tasks_files(s->r.cg, s->r.cg_tasks);
	if (pipe2(s->r.go, O_CLOEXEC) < 0 || pipe2(s->r.errp, O_CLOEXEC) < 0) {
		lv_err_sys(err, errno, "pipe");
		goto fail;
	}
	if ((s->zygote = clone_zygote(s, err)) < 0 || start_zygote(s, err) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	sandbox_session_close(s);
	return -1;
}

void sandbox_session_close(struct sb_session *s)
{
	struct lv_err err;

	if (!s)
		return;
	if (s->ctl >= 0)
		close(s->ctl);          /* the zygote exits at end of file */
	if (s->zygote > 0) {
		kill(s->zygote, SIGKILL);
		waitpid(s->zygote, NULL, 0);
	}
	undo(&s->r, &err);
	free(s);
}

static int send_request(struct sb_session *s, struct run *r, struct lv_err *err)
{
	static struct run_request req;
	int fds[5] = { r->in_fd, r->out[0][1], r->out[1][1], r->errp[1], r->status[1] };
	ssize_t len = run_request_pack(&req, r->cfg, r->workdir[0] ? r->workdir : NULL,
				       r->plan.workdir, r->envp);

	if (len < 0)
		return lv_err_set(err, "the program's arguments and environment are too large");
	if (send_fds(s->ctl, &req, (size_t)len, fds, 5) < 0)
		return lv_err_sys(err, errno, "sending a run to the session");
	return 0;
}

static int receive_pid(int ctl, pid_t *pid, int *pidfd)
{
	return recv_fds(ctl, pid, sizeof(*pid), pidfd, 1) != (ssize_t)sizeof(*pid) || *pid <= 0 ? -1 : 0;
}

/* Like supervise(), for a run the zygote started: its pid and pidfd come back on ctl. */
static int supervise_run(struct sb_session *s, struct run *r, struct sandbox_report *rep,
			 struct lv_err *err)
{
	struct watch w = {
		.cfg = r->cfg, .cg = s->r.cg, .sigfd = r->sigfd,
		.out_fd = { r->out[0][0], r->out[1][0] }, .dest_fd = { r->dest[0], r->dest[1] },
		.status_fd = r->status[0],
	};

	if (send_request(s, r, err) < 0)
		return -1;
	close_fd(&r->errp[1]);
	close_fd(&r->status[1]);
	close_fd(&r->out[0][1]);
	close_fd(&r->out[1][1]);
	close_fd(&r->in_fd);
	if (receive_pid(s->ctl, &w.init_pid, &w.pidfd) < 0) {
		verdict(r, &w, 1, rep);         /* the run did not start: errp says why */
		return 0;
	}
	keeper_watch(&w);
	close(w.pidfd);
	verdict(r, &w, 0, rep);
	return 0;
}

int sandbox_session_run(struct sb_session *s, const struct sandbox_config *cfg,
			struct sandbox_report *rep, struct lv_err *err)
{
	struct cg_limits lim = { .mem_bytes = cfg->mem_bytes, .procs = cfg->procs };
	struct run r;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	if (check_config(cfg, err) < 0)
		return -1;
	init_run(&r, cfg);
	r.in_session = true;
	r.box = s->r.box;
	r.cg = s->r.cg;
	rep->id = r.box.id;
	if (mount_plan_build_run(&s->r.plan, cfg, &r.plan, err) == 0) {
		build_env(&r);
		if (find_program(&r, err) == 0 && block_signals(&r, err) == 0 &&
		    cgroup_reset(s->r.cg, &lim, err) == 0 && lend_workdir(&r, err) == 0 &&
		    open_files(&r, err) == 0 && make_pipes(&r, err) == 0)
			rc = supervise_run(s, &r, rep, err);
	}
	undo(&r, err);
	return rc;
}

int sandbox_cleanup(struct lv_err *err)
{
	char name[32];
	int cleaned = 0;
	struct veth v;
	struct box b;

	/* Taking a box's lock proves no live run uses it. */
	if (box_acquire(-1, &b, err) < 0)
		return -1;
	box_release(&b);
	for (int id = 0; id <= SB_MAX_ID; id++) {
		int found = 0, rc;

		if (!box_try(id, &b))
			continue;
		veth_for_box(id, &v);
		snprintf(name, sizeof(name), "box-%d", id);
		rc = box_state_recover(&b, err);
		if (rc >= 0) {
			found |= rc;
			rc = cgroup_remove_stale(name, err);
			found |= rc > 0;
		}
		if (rc >= 0 && veth_exists(&v)) {
			veth_delete(&v);
			found = 1;
		}
		box_release(&b);
		if (rc < 0)
			return -1;
		cleaned += found;
	}
	return cleaned;
}
