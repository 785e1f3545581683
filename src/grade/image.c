#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive.h"
#include "testrun.h"
#include "util/fs.h"
#include "sandbox/sandbox.h"

#define BASE_NAME "debian-12"
#define DEFAULT_MIRROR "http://deb.debian.org/debian"

static void data_dir(char *buf, size_t len)
{
	const char *d = getenv("LABVISOR_DATA");

	snprintf(buf, len, "%s", d && d[0] == '/' ? d : "/var/lib/labvisor");
}

/* An exclusive lock on PATH.lock, waited for (another grader may be building). */
static int lock_for(const char *path, struct lv_err *err)
{
	char lock[PATH_MAX + 8];
	int fd;

	snprintf(lock, sizeof(lock), "%s.lock", path);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		lv_err_sys(err, errno, "lock %s", lock);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int image_shift_owners(const char *dir, struct lv_err *err)
{
	char *const roots[] = { (char *)dir, NULL };
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_XDEV | FTS_NOCHDIR, NULL);
	FTSENT *e;
	int rc = 0;

	if (!fts)
		return lv_err_sys(err, errno, "%s", dir);
	while (rc == 0 && (e = fts_read(fts))) {
		const struct stat *st = e->fts_statp;

		if (e->fts_info == FTS_DP || e->fts_info == FTS_NS || !st || st->st_uid >= SB_IMG_RANGE)
			continue;
		if (lchown(e->fts_accpath, SB_IMG_BASE + st->st_uid, SB_IMG_BASE + st->st_gid) < 0)
			rc = lv_err_sys(err, errno, "chown %s", e->fts_path);
	}
	fts_close(fts);
	return rc;
}

/* debootstrap, its lines forwarded as progress. */
static int debootstrap(const struct grade_request *req, const char *target, struct lv_err *err)
{
	const char *mirror = getenv("LABVISOR_DEBIAN_MIRROR");
	char line[512], last[512] = "";
	int p[2], status;
	pid_t pid;
	FILE *f;

	if (access("/usr/sbin/debootstrap", X_OK) != 0)
		return lv_err_set(err, "the base image needs debootstrap (apt-get install debootstrap)");
	if (pipe2(p, O_CLOEXEC) < 0)
		return lv_err_sys(err, errno, "pipe");
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl("/usr/sbin/debootstrap", "debootstrap", "--variant=minbase", "bookworm", target,
		      mirror ? mirror : DEFAULT_MIRROR, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		grade_say(req, "base image: %s", line);
		if (line[0])
			snprintf(last, sizeof(last), "%s", line);
	}
	if (f)
		fclose(f);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return lv_err_set(err, "debootstrap of the Debian 12 base image failed: %s "
				  "(is the Debian mirror reachable? LABVISOR_DEBIAN_MIRROR chooses "
				  "another)", last[0] ? last : "no output");
	return 0;
}

int image_base(const struct grade_request *req, char rootfs[PATH_MAX], struct lv_err *err)
{
	char data[1024], images[1100], final[1200], tmp[1300];
	char tmproot[1400];
	int lock, rc = 0;

	data_dir(data, sizeof(data));
	snprintf(images, sizeof(images), "%s/images", data);
	snprintf(final, sizeof(final), "%s/" BASE_NAME, images);
	snprintf(rootfs, PATH_MAX, "%s/rootfs", final);
	if (access(rootfs, F_OK) == 0)
		return 0;
	if (lv_mkdirs(images, 0755, err) < 0 || (lock = lock_for(final, err)) < 0)
		return -1;
	if (access(rootfs, F_OK) != 0) {        /* nobody built it while we waited */
		snprintf(tmp, sizeof(tmp), "%s.building", final);
		snprintf(tmproot, sizeof(tmproot), "%s/rootfs", tmp);
		remove_tree(tmp);
		grade_say(req, "building the Debian 12 base image in %s (once; about a minute)", final);
		rc = lv_mkdirs(tmp, 0755, err);
		if (rc == 0)
			rc = debootstrap(req, tmproot, err);
		if (rc == 0)
			rc = image_shift_owners(tmproot, err);
		if (rc == 0 && rename(tmp, final) < 0)
			rc = lv_err_sys(err, errno, "rename %s", tmp);
		if (rc < 0)
			remove_tree(tmp);
	}
	close(lock);
	return rc;
}

/* sha256 over the names, modes and contents of the autograder's files. */
static int hash_folder(const char *dir, const char *script, char hex[17], struct lv_err *err)
{
	char *const roots[] = { (char *)dir, NULL };
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	uint8_t digest[SHA256_DIGEST_SIZE], buf[65536];
	struct sha256_ctx h;
	FTSENT *e;

	if (!fts)
		return lv_err_sys(err, errno, "%s", dir);
	sha256_init(&h);
	sha256_update(&h, sizeof(BASE_NAME), (const uint8_t *)BASE_NAME);
	sha256_update(&h, strlen(script) + 1, (const uint8_t *)script);
	while ((e = fts_read(fts))) {
		const char *rel = e->fts_path + strlen(dir);
		ssize_t n;
		int fd;

		if (e->fts_info != FTS_F && e->fts_info != FTS_D)
			continue;
		sha256_update(&h, strlen(rel) + 1, (const uint8_t *)rel);
		sha256_update(&h, sizeof(e->fts_statp->st_mode), (const uint8_t *)&e->fts_statp->st_mode);
		if (e->fts_info != FTS_F || (fd = open(e->fts_accpath, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			sha256_update(&h, (size_t)n, buf);
		close(fd);
	}
	fts_close(fts);
	sha256_digest(&h, sizeof(digest), digest);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

/* Gradescope: the autograder lives at /autograder/source, setup.sh runs there. */
#define GRADESCOPE_SETUP \
	"set -e; mkdir -p /autograder; rm -rf /autograder/source; " \
	"cp -a /mnt/labvisor-assignment /autograder/source; " \
	"cp /autograder/source/run_autograder /autograder/run_autograder; " \
	"chmod 755 /autograder/run_autograder; cd /autograder/source; bash ./setup.sh"
/* assignment.yaml: the script runs from the read-only assignment folder, whose
 * files (expected outputs, hidden tests) never enter the image. */
#define YAML_SETUP "set -e; cd /mnt/labvisor-assignment; bash ./\"$0\""

/* setup.sh as root inside, on the base image, with the network (trusted phase). */
static int run_setup(const struct grade_request *req, const char *dir, const char *rootfs,
		     const char *script, bool gradescope, const char *tmp, struct lv_err *err)
{
	struct sandbox_config cfg = sandbox_config_default();
	char upper[1400], work[1400];
	char *argv[] = { "/bin/sh", "-c", gradescope ? GRADESCOPE_SETUP : YAML_SETUP,
			 (char *)script, NULL };
	struct sandbox_report rep;
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC), rc;

	snprintf(upper, sizeof(upper), "%s/upper", tmp);
	snprintf(work, sizeof(work), "%s/work", tmp);
	if (lv_mkdirs(upper, 0755, err) < 0 || lv_mkdirs(work, 0755, err) < 0 ||
	    chown(upper, SB_IMG_BASE, SB_IMG_BASE) < 0)
		return lv_err_sys(err, errno, "layer %s", tmp);
	cfg.overlay_lower = rootfs;
	cfg.overlay_upper = upper;
	cfg.overlay_work = work;
	cfg.as_root = true;
	cfg.host_net = true;
	cfg.cwd = "/";
	cfg.binds[cfg.nbinds++] = (struct sb_bind){ .src = dir, .dst = "/mnt/labvisor-assignment" };
	cfg.binds[cfg.nbinds++] = (struct sb_bind){ .src = "/etc/resolv.conf", .dst = "/etc/resolv.conf" };
	cfg.cpu_sec = 1800;
	cfg.wall_sec = 3600;
	cfg.mem_bytes = 4096ull << 20;
	cfg.procs = 512;
	cfg.output_bytes = 64ull << 20;
	cfg.fsize_bytes = 0;
	cfg.open_files = 1024;
	cfg.argv = argv;
	cfg.out_fd = cfg.err_fd = req->progress ? STDERR_FILENO : null;
	rc = sandbox_run(&cfg, &rep, err);
	close(null);
	if (rc < 0)
		return lv_err_wrap(err, "running setup.sh");
	if (rep.status != SB_OK)
		return lv_err_set(err, "the setup script %s failed: %s (exit %d) %s", script,
				  sandbox_status_name(rep.status), rep.exit_code, rep.message);
	return 0;
}

int image_layer(const struct grade_request *req, const char *dir, const char *rootfs,
		const char *script, bool gradescope, char upper[PATH_MAX], struct lv_err *err)
{
	char data[1024], hex[17], final[1200], tmp[1300], work[1400];
	int lock, rc = 0;

	data_dir(data, sizeof(data));
	if (hash_folder(dir, script, hex, err) < 0)
		return -1;
	snprintf(final, sizeof(final), "%s/images/%s-%s", data, gradescope ? "gs" : "as", hex);
	snprintf(upper, PATH_MAX, "%s/upper", final);
	if (access(upper, F_OK) == 0)
		return 0;
	if ((lock = lock_for(final, err)) < 0)
		return -1;
	if (access(upper, F_OK) != 0) {
		snprintf(tmp, sizeof(tmp), "%s.building", final);
		snprintf(work, sizeof(work), "%s/work", tmp);
		remove_tree(tmp);
		grade_say(req, "building the assignment's image %s: running %s (once)",
		    strrchr(final, '/') + 1, script);
		rc = run_setup(req, dir, rootfs, script, gradescope, tmp, err);
		remove_tree(work);      /* overlayfs scratch, not part of the layer */
		if (rc == 0 && rename(tmp, final) < 0)
			rc = lv_err_sys(err, errno, "rename %s", tmp);
		if (rc < 0)
			remove_tree(tmp);
		else
			grade_say(req, "image %s ready", strrchr(final, '/') + 1);
	}
	close(lock);
	return rc;
}
