#include "boxlock.h"

#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"
#include "util/fs.h"

static void state_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		snprintf(buf, len, "/run/labvisor/sandbox");
	else if (xdg && xdg[0] == '/')
		snprintf(buf, len, "%s/labvisor/sandbox", xdg);
	else
		snprintf(buf, len, "/tmp/labvisor-%u/sandbox", (unsigned)geteuid());
}

static int make_state_dir(char *dir, size_t len, struct lv_err *err)
{
	state_dir(dir, len);
	return lv_mkdirs(dir, 0700, err);
}

static void box_path(int id, const char *ext, char *buf, size_t len)
{
	char dir[PATH_MAX];

	state_dir(dir, sizeof(dir));
	snprintf(buf, len, "%s/%d.%s", dir, id, ext);
}

bool box_try(int id, struct box *b)
{
	char path[PATH_MAX + 32];
	int fd;

	box_path(id, "lock", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return false;
	}
	b->id = id;
	b->lock_fd = fd;
	return true;
}

int box_acquire(int want, struct box *b, struct lv_err *err)
{
	char dir[PATH_MAX];

	if (make_state_dir(dir, sizeof(dir), err) < 0)
		return -1;
	if (want >= 0) {
		if (!box_try(want, b))
			return lv_err_set(err, "sandbox id %d is in use by another run (state in %s)",
					  want, dir);
		return 0;
	}
	for (int id = 0; id <= SB_MAX_ID; id++)
		if (box_try(id, b))
			return 0;
	return lv_err_set(err, "all %d sandbox ids are in use", SB_MAX_ID + 1);
}

void box_release(struct box *b)
{
	if (b->lock_fd >= 0)
		close(b->lock_fd);      /* drops the flock; the lock file may stay */
	b->lock_fd = -1;
}

int box_state_save(const struct box *b, const char *dir, uid_t uid, gid_t gid,
		   struct lv_err *err)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
	FILE *f;

	box_path(b->id, "state", path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return lv_err_sys(err, errno, "state file %s", tmp);
	/* No fsync: the file matters only while this machine runs (a crashed
	 * labvisor, not a crashed host); rename makes it appear whole. */
	fprintf(f, "%u %u %s\n", (unsigned)uid, (unsigned)gid, dir);
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		return lv_err_sys(err, errno, "state file %s", path);
	return 0;
}

void box_state_clear(const struct box *b)
{
	char path[PATH_MAX + 32];

	box_path(b->id, "state", path, sizeof(path));
	unlink(path);
}

int box_state_recover(const struct box *b, struct lv_err *err)
{
	char path[PATH_MAX + 32], dir[PATH_MAX];
	unsigned uid, gid, box_uid = SB_UID_BASE + (unsigned)b->id;
	int found;
	FILE *f;

	box_path(b->id, "state", path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return 0;
	found = fscanf(f, "%u %u %4095[^\n]", &uid, &gid, dir);
	fclose(f);
	if (found == 3 && access(dir, F_OK) == 0 && chown_tree(dir, box_uid, uid, gid, err) < 0)
		return -1;
	unlink(path);
	return 1;
}

/*
 * Runs only while no process of the box is alive, so nothing can swap a
 * directory for a link under it; FTS_PHYSICAL never follows links anyway,
 * and FTS_XDEV stays on the work directory's file system.
 */
int chown_tree(const char *dir, uid_t only_from, uid_t uid, gid_t gid, struct lv_err *err)
{
	char *const roots[] = { (char *)dir, NULL };
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_XDEV | FTS_NOCHDIR, NULL);
	FTSENT *e;
	int rc = 0;

	if (!fts)
		return lv_err_sys(err, errno, "walking %s", dir);
	while (rc == 0 && (e = fts_read(fts))) {
		if (e->fts_info == FTS_DP || !e->fts_statp)
			continue;       /* directories are seen once, on the way in */
		if (e->fts_info == FTS_NS || e->fts_info == FTS_ERR || e->fts_info == FTS_DNR)
			continue;
		if (only_from != CHOWN_ALL && e->fts_statp->st_uid != only_from)
			continue;
		if ((e->fts_statp->st_uid != uid || e->fts_statp->st_gid != gid) &&
		    lchown(e->fts_accpath, uid, gid) < 0 && errno != ENOENT)
			rc = lv_err_sys(err, errno, "changing the owner of %s", e->fts_path);
	}
	fts_close(fts);
	return rc;
}
