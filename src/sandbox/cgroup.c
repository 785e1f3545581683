/*
 * cgroup v1 and v2 behind one interface.  The differences are only in file
 * names and in where the directories are, so one file with a table per
 * version reads more easily than two near-copies.
 */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define CG_ROOT "/sys/fs/cgroup"
#define CG_PARENT "labvisor"

/* v1 hierarchies we use; v2 has one directory. */
enum { H_MEMORY, H_PIDS, H_CPUACCT, H_COUNT };
static const char *const v1_ctrl[H_COUNT] = { "memory", "pids", "cpuacct" };

struct cgroup {
	int version;
	unsigned ndirs;
	char dir[H_COUNT][PATH_MAX];    /* v2: only dir[0] */
	int cpu_fd;                     /* cpuacct.usage or cpu.stat */
	int procs_fd;                   /* pids.current */
	uint64_t procs_seen;
	uint64_t oom_base;              /* OOM kills before the current run */
	bool was_reset;                 /* pids.peak covers earlier runs */
};

static bool is_fs(const char *path, long magic)
{
	struct statfs st;

	return statfs(path, &st) == 0 && (long)st.f_type == magic;
}

int cgroup_detect(struct lv_err *err)
{
	char p[64];

	if (is_fs(CG_ROOT, CGROUP2_SUPER_MAGIC))
		return 2;
	for (unsigned h = 0; h < H_COUNT; h++) {
		snprintf(p, sizeof(p), CG_ROOT "/%s", v1_ctrl[h]);
		if (!is_fs(p, CGROUP_SUPER_MAGIC)) {
			lv_err_set(err, "no usable cgroups: %s is neither cgroup v2 nor has the v1 "
				   "%s controller mounted at %s; mount cgroups (e.g. boot with "
				   "systemd) to run sandboxes", CG_ROOT, v1_ctrl[h], p);
			return 0;
		}
	}
	return 1;
}

static int write_file(const char *dir, const char *file, const char *value, struct lv_err *err)
{
	char path[PATH_MAX + 64];
	size_t len = strlen(value);
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return lv_err_sys(err, errno, "cgroup file %s", path);
	if (write(fd, value, len) != (ssize_t)len)
		rc = lv_err_sys(err, errno, "writing '%s' to %s", value, path);
	close(fd);
	return rc;
}

static bool file_exists(const char *dir, const char *file)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

/* Reads "key value" from a flat-keyed file, or the first number when key is NULL. */
static bool read_u64(const char *dir, const char *file, const char *key, uint64_t *out)
{
	char path[PATH_MAX + 64], line[256];
	size_t klen = key ? strlen(key) : 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (!key)
			found = sscanf(line, "%" SCNu64, out) == 1;
		else if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			found = sscanf(line + klen + 1, "%" SCNu64, out) == 1;
	}
	fclose(f);
	return found;
}

static uint64_t pread_u64(int fd, const char *key)
{
	char buf[512], *p;
	uint64_t v = 0;
	ssize_t n;

	if (fd < 0 || (n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	p = key ? strstr(buf, key) : buf;
	if (p && key)
		p += strlen(key);
	if (p)
		sscanf(p, "%" SCNu64, &v);
	return v;
}

/* Kills every process listed in dir/cgroup.procs until it stays empty. */
static void kill_all(const char *dir)
{
	char path[PATH_MAX + 64];

	if (file_exists(dir, "cgroup.kill")) {
		struct lv_err ignored;

		write_file(dir, "cgroup.kill", "1", &ignored);
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	for (int round = 0; round < 100; round++) {
		FILE *f = fopen(path, "re");
		bool any = false;
		int pid;

		if (!f)
			return;
		while (fscanf(f, "%d", &pid) == 1) {
			kill(pid, SIGKILL);
			any = true;
		}
		fclose(f);
		if (!any)
			return;
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
}

/* rmdir, retrying while the last killed processes finish exiting. */
static int remove_dir(const char *dir, struct lv_err *err)
{
	for (int i = 0; i < 500; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		kill_all(dir);
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
	return lv_err_sys(err, errno, "removing cgroup %s", dir);
}

static void box_dirs(int version, const char *name, char dirs[H_COUNT][PATH_MAX], unsigned *n)
{
	if (version == 2) {
		snprintf(dirs[0], PATH_MAX, CG_ROOT "/" CG_PARENT "/%s", name);
		*n = 1;
		return;
	}
	for (unsigned h = 0; h < H_COUNT; h++)
		snprintf(dirs[h], PATH_MAX, CG_ROOT "/%s/" CG_PARENT "/%s", v1_ctrl[h], name);
	*n = H_COUNT;
}

int cgroup_remove_stale(const char *name, struct lv_err *err)
{
	char dirs[H_COUNT][PATH_MAX];
	int version = cgroup_detect(err), removed = 0;
	unsigned n;

	if (!version)
		return -1;
	box_dirs(version, name, dirs, &n);
	for (unsigned i = 0; i < n; i++) {
		if (access(dirs[i], F_OK) != 0)
			continue;
		kill_all(dirs[i]);
		if (remove_dir(dirs[i], err) < 0)
			return -1;
		removed = 1;
	}
	return removed;
}

static int make_dir(const char *path, struct lv_err *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return lv_err_sys(err, errno, "creating cgroup %s (run as root, or delegate "
				  "the labvisor cgroup to this user: see docs/sandbox.md)", path);
	return 0;
}

/* v2: the parent must hand the memory and pids controllers down to boxes. */
static int v2_enable_controllers(struct lv_err *err)
{
	static const char *const levels[] = { CG_ROOT, CG_ROOT "/" CG_PARENT };

	for (unsigned i = 0; i < 2; i++) {
		if (i == 1 && make_dir(levels[1], err) < 0)
			return -1;
		if (write_file(levels[i], "cgroup.subtree_control", "+memory +pids", err) < 0)
			return lv_err_wrap(err, "cgroup v2 needs the memory and pids controllers");
	}
	return 0;
}

static int apply_limits(struct cgroup *cg, const struct cg_limits *lim, struct lv_err *err)
{
	const char *mem_dir = cg->dir[cg->version == 2 ? 0 : H_MEMORY];
	const char *pids_dir = cg->dir[cg->version == 2 ? 0 : H_PIDS];
	char v[32];

	/* v1 keeps memory <= memory+swap at every step: lift the latter first. */
	if (cg->version == 1 && file_exists(mem_dir, "memory.memsw.limit_in_bytes") &&
	    write_file(mem_dir, "memory.memsw.limit_in_bytes", "-1", err) < 0)
		return -1;
	snprintf(v, sizeof(v), "%s", cg->version == 2 ? "max" : "-1");
	if (!lim->mem_bytes &&
	    write_file(mem_dir, cg->version == 2 ? "memory.max" : "memory.limit_in_bytes", v, err) < 0)
		return -1;
	if (!lim->procs && write_file(pids_dir, "pids.max", "max", err) < 0)
		return -1;
	if (lim->mem_bytes) {
		snprintf(v, sizeof(v), "%" PRIu64, lim->mem_bytes);
		if (write_file(mem_dir, cg->version == 2 ? "memory.max" : "memory.limit_in_bytes",
			       v, err) < 0)
			return -1;
		/* No swap: the limit is on memory, not on memory + swap. */
		if (cg->version == 2 && file_exists(mem_dir, "memory.swap.max") &&
		    write_file(mem_dir, "memory.swap.max", "0", err) < 0)
			return -1;
		if (cg->version == 1 && file_exists(mem_dir, "memory.memsw.limit_in_bytes") &&
		    write_file(mem_dir, "memory.memsw.limit_in_bytes", v, err) < 0)
			return -1;
	}
	if (lim->procs) {
		snprintf(v, sizeof(v), "%u", lim->procs);
		if (write_file(pids_dir, "pids.max", v, err) < 0)
			return -1;
	}
	return 0;
}

static void open_counters(struct cgroup *cg)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", cg->dir[cg->version == 2 ? 0 : H_CPUACCT],
		 cg->version == 2 ? "cpu.stat" : "cpuacct.usage");
	cg->cpu_fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/pids.current", cg->dir[cg->version == 2 ? 0 : H_PIDS]);
	cg->procs_fd = open(path, O_RDONLY | O_CLOEXEC);
}

int cgroup_create(const char *name, const struct cg_limits *lim, struct cgroup **out,
		  struct lv_err *err)
{
	struct cgroup *cg;
	int version = cgroup_detect(err);

	if (!version || cgroup_remove_stale(name, err) < 0)
		return -1;
	if (version == 2 && v2_enable_controllers(err) < 0)
		return -1;
	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return lv_err_sys(err, ENOMEM, "cgroup");
	cg->version = version;
	cg->cpu_fd = cg->procs_fd = -1;
	box_dirs(version, name, cg->dir, &cg->ndirs);
	for (unsigned i = 0; i < cg->ndirs; i++) {
		char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%s", cg->dir[i]);
		*strrchr(parent, '/') = '\0';
		if ((version == 1 && make_dir(parent, err) < 0) || make_dir(cg->dir[i], err) < 0) {
			cg->ndirs = i;
			cgroup_destroy(cg, &(struct lv_err){ 0 });
			return -1;
		}
	}
	if (apply_limits(cg, lim, err) < 0) {
		cgroup_destroy(cg, &(struct lv_err){ 0 });
		return -1;
	}
	open_counters(cg);
	*out = cg;
	return 0;
}

int cgroup_version(const struct cgroup *cg)
{
	return cg->version;
}

int cgroup_attach(struct cgroup *cg, pid_t pid, struct lv_err *err)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", (int)pid);
	for (unsigned i = 0; i < cg->ndirs; i++)
		if (write_file(cg->dir[i], "cgroup.procs", v, err) < 0)
			return -1;
	return 0;
}

unsigned cgroup_self_attach_files(const struct cgroup *cg, char files[][PATH_MAX + 8])
{
	if (cg->version == 2)
		return 0;
	for (unsigned i = 0; i < cg->ndirs; i++)
		snprintf(files[i], PATH_MAX + 8, "%s/tasks", cg->dir[i]);
	return cg->ndirs;
}

unsigned cgroup_tasks_files(const struct cgroup *cg, char files[][PATH_MAX + 8])
{
	if (cg->version == 1)
		return cgroup_self_attach_files(cg, files);
	snprintf(files[0], PATH_MAX + 8, "%.4000s/cgroup.procs", cg->dir[0]);
	return 1;
}

uint64_t cgroup_cpu_ns(struct cgroup *cg)
{
	if (cg->version == 2)
		return pread_u64(cg->cpu_fd, "usage_usec ") * 1000;
	return pread_u64(cg->cpu_fd, NULL);
}

uint64_t cgroup_procs_now(struct cgroup *cg)
{
	uint64_t n = pread_u64(cg->procs_fd, NULL);

	if (n > cg->procs_seen)
		cg->procs_seen = n;
	return n;
}

int cgroup_reset(struct cgroup *cg, const struct cg_limits *lim, struct lv_err *err)
{
	const char *mem = cg->dir[cg->version == 2 ? 0 : H_MEMORY];
	struct cg_usage u;
	struct lv_err ignored;

	if (apply_limits(cg, lim, err) < 0)
		return -1;
	if (cg->version == 1)
		write_file(mem, "memory.max_usage_in_bytes", "0", &ignored);
	else
		write_file(mem, "memory.peak", "0", &ignored);
	cg->oom_base = 0;
	cgroup_usage(cg, &u);
	cg->oom_base = u.oom_kills;
	cg->procs_seen = 0;
	cg->was_reset = true;
	return 0;
}

void cgroup_usage(struct cgroup *cg, struct cg_usage *u)
{
	const char *mem = cg->dir[cg->version == 2 ? 0 : H_MEMORY];
	const char *pids = cg->dir[cg->version == 2 ? 0 : H_PIDS];

	memset(u, 0, sizeof(*u));
	u->cpu_ns = cgroup_cpu_ns(cg);
	if (cg->version == 2) {
		read_u64(mem, "memory.peak", NULL, &u->peak_mem_bytes);
		read_u64(mem, "memory.events", "oom_kill", &u->oom_kills);
	} else {
		read_u64(mem, "memory.max_usage_in_bytes", NULL, &u->peak_mem_bytes);
		read_u64(mem, "memory.oom_control", "oom_kill", &u->oom_kills);
	}
	u->oom_kills -= u->oom_kills >= cg->oom_base ? cg->oom_base : u->oom_kills;
	if (cg->was_reset || !read_u64(pids, "pids.peak", NULL, &u->procs_peak))
		u->procs_peak = cg->procs_seen;
}

int cgroup_destroy(struct cgroup *cg, struct lv_err *err)
{
	int rc = 0;

	if (!cg)
		return 0;
	if (cg->cpu_fd >= 0)
		close(cg->cpu_fd);
	if (cg->procs_fd >= 0)
		close(cg->procs_fd);
	/* Usually empty by now (the pid namespace is gone): remove_dir kills
	 * whatever it finds only when the directory is still busy. */
	for (unsigned i = 0; i < cg->ndirs; i++)
		if (remove_dir(cg->dir[i], err) < 0)
			rc = -1;
	free(cg);
	return rc;
}
