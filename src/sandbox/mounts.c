#include "mounts.h"

#include "util/fs.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BASE    "/tmp"          /* where init assembles things, in its own namespace */
#define TMP_SIZE (64u << 20)    /* the sandbox's private /tmp */
#define NEWROOT "/newroot"
#define OLDROOT "/oldroot"

static const char *const default_dirs[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
};
/* Host files and folders the minimal /etc borrows when they exist: files
 * are copied (cheaper than a mount each), folders bound read-only. */
static const char *const etc_borrowed[] = {
	"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
	"/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/localtime",
};

static struct mstep *add(struct mount_plan *p, enum mstep_kind kind, const char *src,
			 const char *dst)
{
	struct mstep *s = &p->step[p->n++];

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->src = strdup(src ? src : "");
	s->dst = strdup(dst ? dst : "");
	return s;
}

static void add_file(struct mount_plan *p, const char *dst, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_file(struct mount_plan *p, const char *dst, const char *fmt, ...)
{
	struct mstep *s = add(p, STEP_FILE, NULL, dst);
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s->text, fmt, ap) < 0)
		s->text = NULL;
	va_end(ap);
}

void mount_plan_free(struct mount_plan *p)
{
	for (unsigned i = 0; i < p->n; i++) {
		free(p->step[i].src);
		free(p->step[i].dst);
		free(p->step[i].text);
	}
	p->n = 0;
}

/* An absolute path with no "." or ".." components and no "//". */
static bool clean_abs_path(const char *p)
{
	if (p[0] != '/' || strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../"))
		return false;
	size_t n = strlen(p);
	return !(n >= 2 && strcmp(p + n - 2, "/.") == 0) &&
	       !(n >= 3 && strcmp(p + n - 3, "/..") == 0);
}

static int add_default_root(struct mount_plan *p, const char *hostname, struct lv_err *err)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	struct mstep *s;

	add(p, STEP_ROOT_TMPFS, NULL, "/");
	for (unsigned i = 0; i < sizeof(default_dirs) / sizeof(default_dirs[0]); i++) {
		if (lstat(default_dirs[i], &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {      /* merged /usr: keep /bin -> usr/bin as it is */
			n = readlink(default_dirs[i], target, sizeof(target) - 1);
			if (n < 0)
				return lv_err_sys(err, errno, "readlink %s", default_dirs[i]);
			target[n] = '\0';
			add(p, STEP_SYMLINK, target, default_dirs[i]);
		} else if (S_ISDIR(st.st_mode)) {
			add(p, STEP_BIND, default_dirs[i], default_dirs[i]);
		}
	}
	s = add(p, STEP_TMPFS, NULL, "/etc");
	s->size = 1 << 20;
	s->mode = 0755;
	add_file(p, "/etc/passwd",
		 "root:x:0:0:root:/root:/bin/sh\nsandbox:x:%u:%u:sandbox:/tmp:/bin/sh\n"
		 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		 SB_INSIDE_UID, SB_INSIDE_UID);
	add_file(p, "/etc/group", "root:x:0:\nsandbox:x:%u:\nnogroup:x:65534:\n", SB_INSIDE_UID);
	add_file(p, "/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t%s\n",
		 hostname);
	add_file(p, "/etc/hostname", "%s\n", hostname);
	/* Sources are resolved here: inside, an absolute link would point into the
	 * assembly tmpfs, not the host (/etc/localtime -> /usr/share/zoneinfo/...). */
	for (unsigned i = 0; i < sizeof(etc_borrowed) / sizeof(etc_borrowed[0]); i++)
		if (realpath(etc_borrowed[i], target) && stat(target, &st) == 0)
			add(p, S_ISDIR(st.st_mode) ? STEP_BIND : STEP_COPY, target, etc_borrowed[i]);
	add(p, STEP_READONLY, NULL, "/etc");
	return 0;
}

static int add_user_bind(struct mount_plan *p, const struct sb_bind *b, const char *what,
			 struct lv_err *err)
{
	char real[PATH_MAX];
	const char *dst = b->dst ? b->dst : NULL;
	struct mstep *s;

	if (!realpath(b->src, real))
		return lv_err_sys(err, errno, "%s %s", what, b->src);
	if (!dst)
		dst = real;
	if (!clean_abs_path(dst))
		return lv_err_set(err, "%s: '%s' must be an absolute path without . or .. "
				  "components", what, dst);
	if (strcmp(dst, "/") == 0 || strcmp(dst, "/proc") == 0 || strncmp(dst, "/proc/", 6) == 0 ||
	    strcmp(dst, "/dev") == 0 || strncmp(dst, "/dev/", 5) == 0)
		return lv_err_set(err, "%s: cannot mount over %s", what, dst);
	s = add(p, STEP_BIND, real, dst);
	s->rw = b->rw;
	return 0;
}

static int path_depth(const char *p)
{
	int d = 0;

	for (; *p; p++)
		d += *p == '/';
	return d;
}

static int by_depth(const void *a, const void *b)
{
	const struct mstep *x = a, *y = b;

	return path_depth(x->dst) - path_depth(y->dst);
}

/* A read-only --root cannot grow mount points: each must already be there. */
static int check_mount_points(const struct mount_plan *p, struct lv_err *err)
{
	char path[2 * PATH_MAX];
	struct stat st;

	for (unsigned i = 1; i < p->n; i++) {
		snprintf(path, sizeof(path), "%s%s", p->step[0].src, p->step[i].dst);
		if (lstat(path, &st) < 0)
			return lv_err_set(err, "--root %s has no %s to mount on; create it in the "
					  "root file system", p->step[0].src, p->step[i].dst);
	}
	return 0;
}

/* The work directory and --bind mounts (parents before children), and the
 * program's working directory inside. */
static int add_run_steps(const struct sandbox_config *cfg, struct mount_plan *p,
			 struct lv_err *err)
{
	unsigned first_bind = p->n;
	struct stat st;

	snprintf(p->workdir, sizeof(p->workdir), "/tmp");
	if (cfg->dir) {
		struct sb_bind wd = { .src = cfg->dir, .rw = true };

		if (stat(cfg->dir, &st) < 0 || !S_ISDIR(st.st_mode))
			return lv_err_set(err, "--dir %s is not a directory", cfg->dir);
		if (add_user_bind(p, &wd, "--dir", err) < 0)
			return -1;
		snprintf(p->workdir, sizeof(p->workdir), "%s", p->step[p->n - 1].dst);
		p->step[p->n - 1].per_run = true;
	}
	for (unsigned i = 0; i < cfg->nbinds; i++)
		if (add_user_bind(p, &cfg->binds[i], "--bind", err) < 0)
			return -1;
	qsort(&p->step[first_bind], p->n - first_bind, sizeof(p->step[0]), by_depth);
	if (cfg->cwd) {
		if (!clean_abs_path(cfg->cwd))
			return lv_err_set(err, "the working directory must be an absolute path");
		snprintf(p->workdir, sizeof(p->workdir), "%s", cfg->cwd);
	}
	return 0;
}

int mount_plan_build(const struct sandbox_config *cfg, const char *hostname,
		     struct mount_plan *p, struct lv_err *err)
{
	struct stat st;
	struct mstep *s;

	memset(p, 0, sizeof(*p));
	if (cfg->overlay_lower) {
		add(p, STEP_ROOT_MOUNT, NULL, "/")->fd = -1;    /* the keeper fills in fd */
	} else if (cfg->root) {
		char real[PATH_MAX];

		if (!realpath(cfg->root, real) || stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
			return lv_err_set(err, "--root %s is not a directory", cfg->root);
		add(p, STEP_ROOT_BIND, real, "/");
	} else if (add_default_root(p, hostname, err) < 0) {
		return -1;
	}
	add(p, STEP_PROC, NULL, "/proc")->per_run = true;
	add(p, STEP_DEV, NULL, "/dev");
	s = add(p, STEP_TMPFS, NULL, "/tmp");
	s->size = TMP_SIZE;
	s->mode = 01777;
	s->per_run = true;
	if (add_run_steps(cfg, p, err) < 0)
		return -1;
	return cfg->root && !cfg->overlay_lower ? check_mount_points(p, err) : 0;
}

int mount_plan_build_run(const struct mount_plan *session, const struct sandbox_config *cfg,
			 struct mount_plan *p, struct lv_err *err)
{
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < session->n; i++) {
		const struct mstep *from = &session->step[i];
		struct mstep *s = add(p, from->kind, from->src, from->dst);
		char *src = s->src, *dst = s->dst;

		*s = *from;
		s->src = src;
		s->dst = dst;
		s->text = from->text ? strdup(from->text) : NULL;
	}
	return add_run_steps(cfg, p, err);
}

static bool under(const char *path, const char *dir, const char **rest)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0) {
		*rest = path;
		return true;
	}
	if (strncmp(path, dir, n) != 0 || (path[n] != '/' && path[n] != '\0'))
		return false;
	*rest = path + n;
	return true;
}

bool mount_plan_host_path(const struct mount_plan *p, const char *inside, char *host,
			  size_t len)
{
	const struct mstep *best = NULL;
	const char *rest = NULL, *r;

	for (unsigned i = 0; i < p->n; i++) {
		const struct mstep *s = &p->step[i];

		if ((s->kind == STEP_BIND || s->kind == STEP_ROOT_BIND || s->kind == STEP_SYMLINK) &&
		    under(inside, s->dst, &r) && (!best || strlen(s->dst) >= strlen(best->dst))) {
			best = s;
			rest = r;
		}
	}
	if (!best)
		return false;
	if (best->kind == STEP_SYMLINK)       /* /bin -> usr/bin: the host has the same link */
		snprintf(host, len, "%s", inside);
	else
		snprintf(host, len, "%s%s", strcmp(best->src, "/") == 0 ? "" : best->src, rest);
	return true;
}

/* ---- inside init ---- */

static int mount_setattr_rec(const char *path, uint64_t set)
{
	struct mount_attr attr = { .attr_set = set };

	return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof(attr));
}

/* A mount point below NEWROOT: a folder, or an empty file for a file bind. */
static int make_path(const char *path, bool as_file, struct lv_err *err)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!as_file)
		return lv_mkdirs(path, 0755, err);
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	if (lv_mkdirs(parent, 0755, err) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EEXIST && errno != EISDIR)
		return lv_err_sys(err, errno, "creating %s", path);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Device nodes are the one kind of bind that must not be nodev. */
static int do_bind(const char *src, const char *dst, bool rw, struct lv_err *err)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];
	struct stat st;
	uint64_t attrs = MOUNT_ATTR_NOSUID | (rw ? 0 : MOUNT_ATTR_RDONLY);

	snprintf(from, sizeof(from), OLDROOT "%s", src);
	snprintf(to, sizeof(to), NEWROOT "%s", dst);
	if (stat(from, &st) < 0)
		return lv_err_sys(err, errno, "bind source %s", src);
	if (make_path(to, !S_ISDIR(st.st_mode), err) < 0)
		return -1;
	if (!S_ISCHR(st.st_mode))
		attrs |= MOUNT_ATTR_NODEV;
	if (mount(from, to, NULL, MS_BIND | MS_REC, NULL) < 0)
		return lv_err_sys(err, errno, "bind mount %s on %s", src, dst);
	if (mount_setattr_rec(to, attrs) < 0)
		return lv_err_sys(err, errno, "making %s %s", dst, rw ? "nosuid" : "read-only");
	return 0;
}

static int do_tmpfs(const char *dst, unsigned long size, unsigned mode, struct lv_err *err)
{
	char to[PATH_MAX + 16], opts[64];

	snprintf(to, sizeof(to), NEWROOT "%s", dst);
	snprintf(opts, sizeof(opts), "size=%lu,mode=%o", size, mode);
	if (make_path(to, false, err) < 0)
		return -1;
	if (mount("tmpfs", to, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return lv_err_sys(err, errno, "tmpfs on %s", dst);
	return 0;
}

static int do_file(const char *dst, const char *text, struct lv_err *err)
{
	char to[PATH_MAX + 16];
	size_t len = text ? strlen(text) : 0;
	int fd;

	if (!text)
		return lv_err_sys(err, ENOMEM, "text of %s", dst);
	snprintf(to, sizeof(to), NEWROOT "%s", dst);
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return lv_err_sys(err, errno, "creating %s", dst);
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return lv_err_sys(err, errno, "writing %s", dst);
	}
	close(fd);
	return 0;
}

/* A small host file copied into a tmpfs (at most 4 MiB). */
static int do_copy(const char *src, const char *dst, struct lv_err *err)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16], buf[65536];
	ssize_t n = 0;
	size_t total = 0;
	int in, out;

	snprintf(from, sizeof(from), OLDROOT "%s", src);
	snprintf(to, sizeof(to), NEWROOT "%s", dst);
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return lv_err_sys(err, errno, "reading %s", src);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	while (out >= 0 && total < (4u << 20) && (n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n)
			n = -1;
		total += n > 0 ? (size_t)n : 0;
	}
	close(in);
	if (out < 0 || n < 0) {
		lv_err_sys(err, errno, "copying %s to %s", src, dst);
		if (out >= 0)
			close(out);
		return -1;
	}
	close(out);
	return 0;
}

static int do_dev(struct lv_err *err)
{
	static const char *const nodes[] = { "null", "zero", "full", "random", "urandom" };
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
	};
	char path[PATH_MAX];

	if (do_tmpfs("/dev", 64 << 10, 0755, err) < 0)
		return -1;
	for (unsigned i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		char node[32];

		snprintf(node, sizeof(node), "/dev/%s", nodes[i]);
		if (do_bind(node, node, true, err) < 0)
			return -1;
	}
	for (unsigned i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), NEWROOT "/dev/%s", links[i][1]);
		if (symlink(links[i][0], path) < 0)
			return lv_err_sys(err, errno, "symlink /dev/%s", links[i][1]);
	}
	if (do_tmpfs("/dev/shm", 16u << 20, 01777, err) < 0)
		return -1;
	/* The node binds are rw (to write /dev/null); the tmpfs itself is not. */
	if (mount(NULL, NEWROOT "/dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		return lv_err_sys(err, errno, "making /dev read-only");
	return 0;
}

static int do_step(const struct mstep *s, struct lv_err *err)
{
	char to[PATH_MAX + 16];

	snprintf(to, sizeof(to), NEWROOT "%s", s->dst);
	switch (s->kind) {
	case STEP_ROOT_BIND: {
		char from[PATH_MAX + 16];

		snprintf(from, sizeof(from), OLDROOT "%s", s->src);
		if (mkdir(NEWROOT, 0755) < 0 && errno != EEXIST)
			return lv_err_sys(err, errno, "mkdir " NEWROOT);
		if (mount(from, NEWROOT, NULL, MS_BIND | MS_REC, NULL) < 0)
			return lv_err_sys(err, errno, "bind mount --root %s", s->src);
		return mount_setattr_rec(NEWROOT, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					 MOUNT_ATTR_NODEV) < 0
			? lv_err_sys(err, errno, "making --root read-only") : 0;
	}
	case STEP_ROOT_MOUNT:
		if (mkdir(NEWROOT, 0755) < 0 && errno != EEXIST)
			return lv_err_sys(err, errno, "mkdir " NEWROOT);
		return move_mount(s->fd, "", AT_FDCWD, NEWROOT, MOVE_MOUNT_F_EMPTY_PATH) < 0
			? lv_err_sys(err, errno, "attaching the image root") : 0;
	case STEP_ROOT_TMPFS:
		if (mkdir(NEWROOT, 0755) < 0 && errno != EEXIST)
			return lv_err_sys(err, errno, "mkdir " NEWROOT);
		return mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755") < 0
			? lv_err_sys(err, errno, "tmpfs for the new root") : 0;
	case STEP_BIND:
		return do_bind(s->src, s->dst, s->rw, err);
	case STEP_TMPFS:
		return do_tmpfs(s->dst, s->size, s->mode, err);
	case STEP_PROC:
		if (make_path(to, false, err) < 0)
			return -1;
		return mount("proc", to, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0
			? lv_err_sys(err, errno, "mounting /proc") : 0;
	case STEP_DEV:
		return do_dev(err);
	case STEP_SYMLINK:
		return symlink(s->src, to) < 0 ? lv_err_sys(err, errno, "symlink %s", s->dst) : 0;
	case STEP_FILE:
		return do_file(s->dst, s->text, err);
	case STEP_COPY:
		return do_copy(s->src, s->dst, err);
	case STEP_READONLY:
		return mount(NULL, to, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0
			? lv_err_sys(err, errno, "making %s read-only", s->dst) : 0;
	}
	return lv_err_set(err, "unknown mount step");
}

static int enter_base(struct lv_err *err)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return lv_err_sys(err, errno, "making mounts private");
	if (mount("tmpfs", BASE, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=700") < 0)
		return lv_err_sys(err, errno, "tmpfs on " BASE);
	if (mkdir(BASE OLDROOT, 0700) < 0)
		return lv_err_sys(err, errno, "mkdir " BASE OLDROOT);
	if (syscall(SYS_pivot_root, BASE, BASE OLDROOT) < 0)
		return lv_err_sys(err, errno, "pivot_root to " BASE);
	return chdir("/") < 0 ? lv_err_sys(err, errno, "chdir /") : 0;
}

static int enter_newroot(const char *cwd, struct lv_err *err)
{
	if (umount2(OLDROOT, MNT_DETACH) < 0)
		return lv_err_sys(err, errno, "detaching the host's root");
	if (chdir(NEWROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return lv_err_sys(err, errno, "pivot_root to the new root");
	if (umount2(".", MNT_DETACH) < 0)
		return lv_err_sys(err, errno, "detaching the assembly tmpfs");
	if (chdir(cwd) < 0)
		return lv_err_sys(err, errno, "chdir %s", cwd);
	return 0;
}

int mount_plan_apply(const struct mount_plan *p, struct lv_err *err)
{
	if (enter_base(err) < 0)
		return -1;
	for (unsigned i = 0; i < p->n; i++)
		if (do_step(&p->step[i], err) < 0)
			return -1;
	/* A default root is an empty tmpfs made read-only once its mount points exist. */
	if (p->step[0].kind == STEP_ROOT_TMPFS &&
	    mount(NULL, NEWROOT, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		return lv_err_sys(err, errno, "making / read-only");
	return enter_newroot(p->workdir, err);
}

int mount_plan_apply_shared(const struct mount_plan *p, struct lv_err *err)
{
	if (enter_base(err) < 0)
		return -1;
	for (unsigned i = 0; i < p->n; i++)
		if (!p->step[i].per_run && do_step(&p->step[i], err) < 0)
			return -1;
	return 0;
}

int mount_run_prepare(struct lv_err *err)
{
	const struct mstep proc = { .kind = STEP_PROC, .dst = (char *)"/proc" };
	const struct mstep tmp = { .kind = STEP_TMPFS, .dst = (char *)"/tmp", .size = TMP_SIZE,
				   .mode = 01777 };

	return do_step(&proc, err) < 0 || do_step(&tmp, err) < 0 ? -1 : 0;
}

int mount_run_enter(const struct mount_plan *shared, const char *dir, const char *cwd,
		    struct lv_err *err)
{
	const struct mstep work = { .kind = STEP_BIND, .src = (char *)dir, .dst = (char *)dir,
				    .rw = true };
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };

	if (dir && do_step(&work, err) < 0)
		return -1;
	/* Read-only for this run's copy of the mount only: the zygote's stays
	 * writable for the mount points of the next runs. */
	if (shared->step[0].kind == STEP_ROOT_TMPFS &&
	    syscall(SYS_mount_setattr, AT_FDCWD, NEWROOT, 0, &ro, sizeof(ro)) < 0)
		return lv_err_sys(err, errno, "making / read-only");
	return enter_newroot(cwd, err);
}
