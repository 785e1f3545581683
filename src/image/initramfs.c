/*
 * `labvisor image build`: a guest's initramfs as an uncompressed newc cpio
 * (libarchive): busybox-static and its applets, /dev/console, Labvisor's
 * /init, an optional starter script, and the programs asked for with the
 * shared libraries they load (found with the host's dynamic loader, as
 * `ldd` does), copied from the host's Debian packages.
 */
#include "initramfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_FILES 4096

/* Labvisor's /init (busybox sh): the guest's first process. */
static const char init_script[] =
	"#!/bin/sh\n"
	"# Labvisor guest init: mounts, hostname and network from the kernel command\n"
	"# line (labvisor.hostname=, labvisor.ip=ADDR/PREFIX, labvisor.gw=), the agent\n"
	"# when the image has one, the starter script, then a console shell (or\n"
	"# labvisor.run=poweroff for a boot test).\n"
	"export PATH=/sbin:/bin:/usr/sbin:/usr/bin\n"
	"# the agent first: it needs no mounts, and each fork+exec counts on slow hosts\n"
	"if [ -x /sbin/labvisor-agent ]; then /sbin/labvisor-agent & fi\n"
	"# by its path: the shell runs applets through /proc/self/exe, not there yet\n"
	"/bin/busybox mount -t proc proc /proc\n"
	"mount -t sysfs sysfs /sys\n"
	"mount -t devtmpfs devtmpfs /dev 2>/dev/null\n"
	"mkdir -p /dev/pts /tmp /run && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /tmp\n"
	"read -r cmdline < /proc/cmdline     # builtins: each fork+exec counts on slow hosts\n"
	"for arg in $cmdline; do\n"
	"  case $arg in\n"
	"    labvisor.hostname=*) hostname \"${arg#*=}\" ;;\n"
	"    labvisor.ip=*) ip=\"${arg#*=}\" ;;\n"
	"    labvisor.gw=*) gw=\"${arg#*=}\" ;;\n"
	"    labvisor.run=*) run=\"${arg#*=}\" ;;\n"
	"  esac\n"
	"done\n"
	"ip link set lo up\n"
	"if [ -n \"$ip\" ] && ip link show eth0 >/dev/null 2>&1; then\n"
	"  ip addr add \"$ip\" dev eth0 && ip link set eth0 up\n"
	"  [ -n \"$gw\" ] && ip route add default via \"$gw\"\n"
	"fi\n"
	"read -r up _ < /proc/uptime\n"
	"echo \"labvisor-init: up in $up s\"\n"
	"[ -x /etc/labvisor/start.sh ] && /etc/labvisor/start.sh\n"
	"case $run in\n"
	"  poweroff) poweroff -f ;;\n"
	"  reboot) reboot -f ;;\n"
	"esac\n"
	"exec setsid cttyhack sh -l\n";

struct writer {
	struct archive *a;
	char *seen[MAX_FILES];          /* paths already in the archive */
	unsigned nseen;
};

static bool seen(struct writer *w, const char *path)
{
	for (unsigned i = 0; i < w->nseen; i++)
		if (strcmp(w->seen[i], path) == 0)
			return true;
	if (w->nseen < MAX_FILES)
		w->seen[w->nseen++] = strdup(path);
	return false;
}

static int add_entry(struct writer *w, const char *path, mode_t type, unsigned perm,
		     const void *data, size_t len, const char *link, dev_t rdev, struct lv_err *err)
{
	struct archive_entry *e;
	int rc = 0;

	if (seen(w, path))
		return 0;
	e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)len : 0);
	if (link)
		archive_entry_set_symlink(e, link);
	if (rdev)
		archive_entry_set_rdev(e, rdev);
	if (archive_write_header(w->a, e) != ARCHIVE_OK ||
	    (type == AE_IFREG && len && archive_write_data(w->a, data, len) != (la_ssize_t)len))
		rc = lv_err_set(err, "initramfs: %s: %s", path, archive_error_string(w->a));
	archive_entry_free(e);
	return rc;
}

static int add_dir(struct writer *w, const char *path, struct lv_err *err)
{
	return add_entry(w, path, AE_IFDIR, 0755, NULL, 0, NULL, 0, err);
}

/* Every parent folder of path ("usr/lib/x" -> "usr", "usr/lib"). */
static int add_parents(struct writer *w, const char *path, struct lv_err *err)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = strchr(buf, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (*buf && add_dir(w, buf, err) < 0)
			return -1;
		*p = '/';
	}
	return 0;
}

/* A host file (following links) at the same path inside, without the leading '/'. */
static int add_host_file(struct writer *w, const char *host, const char *inside, unsigned perm,
			 struct lv_err *err)
{
	struct stat st;
	char *buf;
	int fd = open(host, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return lv_err_sys(err, errno ? errno : EINVAL, "initramfs: %s", host);
	}
	buf = malloc((size_t)st.st_size + 1);
	rc = buf && read(fd, buf, (size_t)st.st_size) == st.st_size ? 0 : -1;
	close(fd);
	if (rc < 0) {
		free(buf);
		return lv_err_sys(err, EIO, "initramfs: reading %s", host);
	}
	rc = add_parents(w, inside, err) < 0 ? -1
		: add_entry(w, inside, AE_IFREG, perm ? perm : (st.st_mode & 07777), buf,
			    (size_t)st.st_size, NULL, 0, err);
	free(buf);
	return rc;
}

/*
 * Each cpio entry costs the guest kernel ~20 ms to unpack on PVM hosts, so
 * busybox's ~270 applet links are left out unless asked for: busybox's
 * shell runs its applets without them (standalone shell), the agent runs
 * an applet through /bin/busybox when PATH has no such program (it reads
 * the names from APPLET_LIST), and /bin/sh and /usr/bin/env, which
 * scripts name by path, are always there.
 */
#define APPLET_LIST "etc/labvisor/applets"

static bool always_linked(const char *path)
{
	return strcmp(path, "bin/sh") == 0 || strcmp(path, "usr/bin/env") == 0;
}

static int add_busybox(struct writer *w, bool all_links, struct lv_err *err)
{
	char line[256], *names = NULL;
	size_t names_len = 0;
	FILE *list, *mem;
	int rc = 0;

	if (add_host_file(w, "/bin/busybox", "bin/busybox", 0755, err) < 0)
		return lv_err_wrap(err, "busybox-static (apt-get install busybox-static)");
	list = popen("/bin/busybox --list-full", "r");
	mem = open_memstream(&names, &names_len);
	if (!list || !mem) {
		rc = lv_err_sys(err, errno, "busybox --list-full");
		goto out;
	}
	while (rc == 0 && fgets(line, sizeof(line), list)) {
		line[strcspn(line, "\n")] = '\0';
		if (!*line || strcmp(line, "bin/busybox") == 0)
			continue;
		fprintf(mem, "%s\n", strrchr(line, '/') ? strrchr(line, '/') + 1 : line);
		if (all_links || always_linked(line))
			rc = add_parents(w, line, err) < 0 ? -1
				: add_entry(w, line, AE_IFLNK, 0777, NULL, 0, "/bin/busybox", 0, err);
	}
	if (rc == 0 && fflush(mem) == 0)
		rc = add_entry(w, APPLET_LIST, AE_IFREG, 0644, names, names_len, NULL, 0, err);
out:
	if (list)
		pclose(list);
	if (mem)
		fclose(mem);
	free(names);
	return rc;
}

/* The libraries a dynamic program loads, by asking the host's loader (ldd's way). */
static int add_libraries(struct writer *w, const char *program, struct lv_err *err)
{
	char cmd[4200], line[1024];
	FILE *p;
	int rc = 0;

	snprintf(cmd, sizeof(cmd), "LD_TRACE_LOADED_OBJECTS=1 '%s' 2>/dev/null", program);
	if (strchr(program, '\''))
		return lv_err_set(err, "initramfs: odd program path %s", program);
	p = popen(cmd, "r");
	if (!p)
		return lv_err_sys(err, errno, "initramfs: tracing %s", program);
	while (rc == 0 && fgets(line, sizeof(line), p)) {
		char *path = strstr(line, "=> ") ? strstr(line, "=> ") + 3 : line + strspn(line, " \t");
		char *end = strstr(path, " (");

		if (*path != '/' || !end)
			continue;
		*end = '\0';
		rc = add_host_file(w, path, path + 1, 0, err);
	}
	pclose(p);
	return rc;
}

static int add_program(struct writer *w, const char *name, struct lv_err *err)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	char path[512];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return add_host_file(w, path, path + 1, 0, err) < 0 ? -1
				: add_libraries(w, path, err);
	}
	return lv_err_set(err, "initramfs: no program '%s' on this host (install its Debian "
			  "package first)", name);
}

static int add_base(struct writer *w, const struct initramfs_opts *o, struct lv_err *err)
{
	static const char *const dirs[] = { "bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc",
					    "proc", "sys", "dev", "tmp", "run", "root", "etc/labvisor" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (add_dir(w, dirs[i], err) < 0)
			return -1;
	/* /dev/null too: the shell gives background jobs it before devtmpfs is there */
	if (add_entry(w, "dev/console", AE_IFCHR, 0600, NULL, 0, NULL, makedev(5, 1), err) < 0 ||
	    add_entry(w, "dev/null", AE_IFCHR, 0666, NULL, 0, NULL, makedev(1, 3), err) < 0 ||
	    add_entry(w, "init", AE_IFREG, 0755, init_script, sizeof(init_script) - 1, NULL, 0,
		      err) < 0 ||
	    add_entry(w, "etc/passwd", AE_IFREG, 0644, "root:x:0:0:root:/root:/bin/sh\n", 30,
		      NULL, 0, err) < 0 ||
	    add_entry(w, "etc/group", AE_IFREG, 0644, "root:x:0:\n", 9, NULL, 0, err) < 0)
		return -1;
	if (o->init_script && add_host_file(w, o->init_script, "etc/labvisor/start.sh", 0755, err) < 0)
		return -1;
	if (o->agent && add_host_file(w, o->agent, "sbin/labvisor-agent", 0755, err) < 0)
		return -1;
	return add_busybox(w, o->applet_links, err);
}

int initramfs_overlay(const char *init_script, void **buf, size_t *len, struct lv_err *err)
{
	struct writer w = { .a = archive_write_new() };
	struct stat st;
	size_t cap;
	int rc;

	*buf = NULL;
	if (stat(init_script, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20))
		return lv_err_set(err, "starter script %s: %s", init_script,
				  errno && !S_ISREG(st.st_mode) ? strerror(errno)
				  : "not a regular file of at most 1 MiB");
	cap = (size_t)st.st_size + 8192;
	if (!w.a || !(*buf = malloc(cap)))
		return lv_err_set(err, "out of memory");
	archive_write_set_format_cpio_newc(w.a);
	archive_write_set_bytes_per_block(w.a, 0);
	rc = archive_write_open_memory(w.a, *buf, cap, len) == ARCHIVE_OK ? 0
		: lv_err_set(err, "initramfs: %s", archive_error_string(w.a));
	if (rc == 0)
		rc = add_host_file(&w, init_script, "etc/labvisor/start.sh", 0755, err);
	if (archive_write_close(w.a) != ARCHIVE_OK && rc == 0)
		rc = lv_err_set(err, "initramfs: %s", archive_error_string(w.a));
	archive_write_free(w.a);
	for (unsigned i = 0; i < w.nseen; i++)
		free(w.seen[i]);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

int initramfs_build(const struct initramfs_opts *o, struct lv_err *err)
{
	struct writer w = { .a = archive_write_new() };
	int rc;

	if (!w.a)
		return lv_err_set(err, "out of memory");
	archive_write_set_format_cpio_newc(w.a);
	if (archive_write_open_filename(w.a, o->output) != ARCHIVE_OK) {
		rc = lv_err_set(err, "%s: %s", o->output, archive_error_string(w.a));
		archive_write_free(w.a);
		return rc;
	}
	rc = add_base(&w, o, err);
	for (size_t i = 0; rc == 0 && i < o->nprograms; i++)
		rc = add_program(&w, o->programs[i], err);
	if (archive_write_close(w.a) != ARCHIVE_OK && rc == 0)
		rc = lv_err_set(err, "%s: %s", o->output, archive_error_string(w.a));
	archive_write_free(w.a);
	for (unsigned i = 0; i < w.nseen; i++)
		free(w.seen[i]);
	if (rc < 0)
		unlink(o->output);
	return rc;
}
