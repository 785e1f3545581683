#include "archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct sink {
	int root;                       /* O_PATH descriptor of the destination */
	const struct unpack_caps *caps;
	uint64_t bytes;
	unsigned files;
};

static int open_beneath(int root, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? 0644 : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

/* A relative path with no "..", no empty or "." parts after cleaning. */
static int clean_relative(const char *in, char *out, size_t len)
{
	size_t n = 0;
	const char *p = in;

	if (in[0] == '/')
		return -1;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t part = slash ? (size_t)(slash - p) : strlen(p);

		if (part == 2 && p[0] == '.' && p[1] == '.')
			return -1;
		if (part && !(part == 1 && p[0] == '.')) {
			if (n + part + 2 > len)
				return -1;
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, part);
			n += part;
		}
		p += part + (slash ? 1 : 0);
	}
	out[n] = '\0';
	return n ? 0 : -1;
}

/* Does link target t, placed in the folder of entry path, stay inside? */
static bool link_stays_inside(const char *path, const char *t)
{
	char joined[PATH_MAX * 2];
	const char *slash = strrchr(path, '/');
	int depth = 0;

	if (t[0] == '/' || t[0] == '\0')
		return false;
	snprintf(joined, sizeof(joined), "%.*s%s%s", slash ? (int)(slash - path) : 0, path,
		 slash ? "/" : "", t);
	/* Walk the parts: ".." may climb only as high as the folder itself. */
	for (char *part = strtok(joined, "/"); part; part = strtok(NULL, "/")) {
		if (strcmp(part, "..") == 0)
			depth--;
		else if (strcmp(part, ".") != 0)
			depth++;
		if (depth < 0)
			return false;
	}
	return true;            /* depth >= 0: the folder itself or below */
}

/* mkdir -p beneath the root; returns an O_PATH descriptor of the parent of path. */
static int make_parents(struct sink *s, const char *path, const char **name, struct lv_err *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	*name = slash ? slash + 1 : path;
	if (!slash)
		return fcntl(s->root, F_DUPFD_CLOEXEC, 0);
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	for (char *p = dir;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdirat(s->root, dir, 0755) < 0 && errno != EEXIST)
				return lv_err_sys(err, errno, "creating folder %s", dir);
			*p = c;
			if (!c)
				break;
		}
	}
	fd = open_beneath(s->root, dir, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return lv_err_sys(err, errno, "folder %s of the submission (a link in the way?)", dir);
	return fd;
}

static int count_file(struct sink *s, const char *path, struct lv_err *err)
{
	if (++s->files > s->caps->max_files)
		return lv_err_set(err, "the submission has more than %u files (at %s)",
				  s->caps->max_files, path);
	return 0;
}

static int account(struct sink *s, size_t n, const char *path, struct lv_err *err)
{
	s->bytes += n;
	if (s->bytes > s->caps->max_bytes)
		return lv_err_set(err, "the submission expands past %llu KiB (at %s)",
				  (unsigned long long)(s->caps->max_bytes >> 10), path);
	return 0;
}

/* Creates path and fills it by calling read_fn until it returns 0. */
typedef ssize_t read_fn(void *ctx, void *buf, size_t len);

static int write_file(struct sink *s, const char *path, bool exec, read_fn *rd, void *ctx,
		      struct lv_err *err)
{
	const char *name;
	char buf[65536];
	ssize_t n;
	int dir, fd, rc = 0;

	if (count_file(s, path, err) < 0 || (dir = make_parents(s, path, &name, err)) < 0)
		return -1;
	fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    exec ? 0755 : 0644);
	close(dir);
	if (fd < 0)
		return lv_err_sys(err, errno, "creating %s", path);
	while (rc == 0 && (n = rd(ctx, buf, sizeof(buf))) > 0) {
		rc = account(s, (size_t)n, path, err);
		if (rc == 0 && write(fd, buf, (size_t)n) != n)
			rc = lv_err_sys(err, errno, "writing %s", path);
	}
	if (rc == 0 && n < 0)
		rc = lv_err_set(err, "reading %s from the submission failed", path);
	close(fd);
	return rc;
}

static int make_symlink(struct sink *s, const char *path, const char *target, struct lv_err *err)
{
	const char *name;
	int dir, rc = 0;

	if (!link_stays_inside(path, target))
		return lv_err_set(err, "'%s' is a link to '%s', outside the submission", path, target);
	if (count_file(s, path, err) < 0 || (dir = make_parents(s, path, &name, err)) < 0)
		return -1;
	if (symlinkat(target, dir, name) < 0)
		rc = lv_err_sys(err, errno, "creating link %s", path);
	close(dir);
	return rc;
}

static ssize_t read_fd(void *ctx, void *buf, size_t len)
{
	return read(*(int *)ctx, buf, len);
}

/* A hard link becomes a copy of a file already unpacked (never a link out). */
static int make_hardlink(struct sink *s, const char *path, const char *target, struct lv_err *err)
{
	char clean[PATH_MAX];
	int src, rc;

	if (clean_relative(target, clean, sizeof(clean)) < 0)
		return lv_err_set(err, "'%s' is a hard link to '%s', outside the submission", path,
				  target);
	src = open_beneath(s->root, clean, O_RDONLY | O_NOFOLLOW);
	if (src < 0)
		return lv_err_set(err, "'%s' is a hard link to '%s', which is not a file of the "
				  "submission", path, target);
	rc = write_file(s, path, false, read_fd, &src, err);
	close(src);
	return rc;
}

static const char *kind_name(mode_t type)
{
	switch (type) {
	case AE_IFCHR:  return "a character device";
	case AE_IFBLK:  return "a block device";
	case AE_IFIFO:  return "a FIFO";
	case AE_IFSOCK: return "a socket";
	default:        return "of an unknown kind";
	}
}

static ssize_t read_archive(void *ctx, void *buf, size_t len)
{
	la_ssize_t n = archive_read_data((struct archive *)ctx, buf, len);

	return n < 0 ? -1 : (ssize_t)n;
}

static int unpack_entry(struct sink *s, struct archive *a, struct archive_entry *e,
			struct lv_err *err)
{
	const char *raw = archive_entry_pathname(e);
	char path[PATH_MAX];

	/* "./" is the folder itself (tar -C dir . writes it first) */
	if (raw && archive_entry_filetype(e) == AE_IFDIR && raw[strspn(raw, "./")] == '\0' &&
	    !strstr(raw, ".."))
		return 0;
	if (!raw || clean_relative(raw, path, sizeof(path)) < 0)
		return lv_err_set(err, "archive entry '%s' leaves the submission folder "
				  "(absolute path or '..')", raw ? raw : "");
	if (archive_entry_hardlink(e))
		return make_hardlink(s, path, archive_entry_hardlink(e), err);
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR:
		if (count_file(s, path, err) < 0)
			return -1;
		if (mkdirat(s->root, path, 0755) < 0 && errno != EEXIST) {
			const char *name;
			int dir = make_parents(s, path, &name, err);

			if (dir < 0)
				return -1;
			if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST) {
				close(dir);
				return lv_err_sys(err, errno, "creating folder %s", path);
			}
			close(dir);
		}
		return 0;
	case AE_IFREG:
		return write_file(s, path, archive_entry_perm(e) & 0111, read_archive, a, err);
	case AE_IFLNK:
		return make_symlink(s, path, archive_entry_symlink(e), err);
	default:
		return lv_err_set(err, "archive entry '%s' is %s: only files, folders and links "
				  "inside the submission are allowed", path,
				  kind_name(archive_entry_filetype(e)));
	}
}

static int unpack_archive(struct sink *s, const char *file, struct lv_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r, rc = 0;

	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	if (archive_read_open_filename(a, file, 65536) != ARCHIVE_OK) {
		rc = lv_err_set(err, "%s is not an archive labvisor can read: %s", file,
				archive_error_string(a));
		archive_read_free(a);
		return rc;
	}
	while (rc == 0 && (r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			rc = lv_err_set(err, "%s: %s", file, archive_error_string(a));
		else
			rc = unpack_entry(s, a, e, err);
	}
	archive_read_free(a);
	return rc;
}

static int copy_tree(struct sink *s, const char *src, struct lv_err *err)
{
	char *const roots[] = { (char *)src, NULL };
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, NULL);
	FTSENT *e;
	int rc = 0;

	if (!fts)
		return lv_err_sys(err, errno, "%s", src);
	while (rc == 0 && (e = fts_read(fts))) {
		const char *rel = e->fts_path + strlen(src);
		char target[PATH_MAX];
		ssize_t n;
		int fd;

		while (*rel == '/')
			rel++;
		if (e->fts_level == 0 || e->fts_info == FTS_DP)
			continue;
		switch (e->fts_info) {
		case FTS_D:
			rc = count_file(s, rel, err);
			if (rc == 0 && mkdirat(s->root, rel, 0755) < 0)
				rc = lv_err_sys(err, errno, "creating folder %s", rel);
			break;
		case FTS_F:
			fd = open(e->fts_accpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				rc = lv_err_sys(err, errno, "%s", e->fts_path);
			else
				rc = write_file(s, rel, e->fts_statp->st_mode & 0111, read_fd, &fd, err);
			if (fd >= 0)
				close(fd);
			break;
		case FTS_SL:
		case FTS_SLNONE:
			n = readlink(e->fts_accpath, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = '\0';
			rc = make_symlink(s, rel, target, err);
			break;
		default:
			rc = lv_err_set(err, "'%s' in the submission is %s: only files, folders and "
					"links inside are allowed", rel,
					e->fts_info == FTS_DNR || e->fts_info == FTS_ERR ||
					e->fts_info == FTS_NS ? "unreadable" : "a special file");
		}
	}
	fts_close(fts);
	return rc;
}

bool is_archive_name(const char *name)
{
	static const char *const ext[] = { ".zip", ".tar", ".tar.gz", ".tgz", ".tar.xz",
					   ".tar.bz2", NULL };
	size_t n = strlen(name);

	for (unsigned i = 0; ext[i]; i++) {
		size_t e = strlen(ext[i]);

		if (n > e && strcmp(name + n - e, ext[i]) == 0)
			return true;
	}
	return false;
}

int submission_import(const char *src, const char *dest, const struct unpack_caps *caps,
		      struct lv_err *err)
{
	struct sink s = { .caps = caps };
	struct stat st;
	int rc, fd;
	const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;

	if (stat(src, &st) < 0)
		return lv_err_sys(err, errno, "submission %s", src);
	s.root = open(dest, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s.root < 0)
		return lv_err_sys(err, errno, "%s", dest);
	if (S_ISDIR(st.st_mode)) {
		rc = copy_tree(&s, src, err);
	} else if (!S_ISREG(st.st_mode)) {
		rc = lv_err_set(err, "submission %s is neither a file nor a folder", src);
	} else if (is_archive_name(base)) {
		rc = unpack_archive(&s, src, err);
	} else if ((fd = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = lv_err_sys(err, errno, "submission %s", src);
	} else {
		rc = write_file(&s, base, false, read_fd, &fd, err);
		close(fd);
	}
	close(s.root);
	return rc;
}

int copy_into(const char *src, const char *dest_dir, struct lv_err *err)
{
	struct unpack_caps caps = { .max_bytes = UINT64_MAX, .max_files = UINT32_MAX };
	struct sink s = { .caps = &caps };
	const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
	struct stat st;
	int rc, fd;

	if (stat(src, &st) < 0)
		return lv_err_sys(err, errno, "%s", src);
	s.root = open(dest_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s.root < 0)
		return lv_err_sys(err, errno, "%s", dest_dir);
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(s.root, base, 0755) < 0 && errno != EEXIST) {
			close(s.root);
			return lv_err_sys(err, errno, "creating %s in %s", base, dest_dir);
		}
		close(s.root);
		char sub[PATH_MAX * 2];

		snprintf(sub, sizeof(sub), "%s/%s", dest_dir, base);
		s.root = open(sub, O_PATH | O_DIRECTORY | O_CLOEXEC);
		rc = s.root < 0 ? lv_err_sys(err, errno, "%s", sub) : copy_tree(&s, src, err);
	} else if ((fd = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = lv_err_sys(err, errno, "%s", src);
	} else {
		unlinkat(s.root, base, 0);
		rc = write_file(&s, base, st.st_mode & 0111, read_fd, &fd, err);
		close(fd);
	}
	if (s.root >= 0)
		close(s.root);
	return rc;
}

void remove_tree(const char *dir)
{
	char *const roots[] = { (char *)dir, NULL };
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_XDEV | FTS_NOCHDIR, NULL);
	FTSENT *e;

	while (fts && (e = fts_read(fts))) {
		if (e->fts_info == FTS_DP)
			rmdir(e->fts_accpath);
		else if (e->fts_info != FTS_D)
			unlink(e->fts_accpath);
	}
	if (fts)
		fts_close(fts);
}

int open_in(const char *dir, const char *rel, struct lv_err *err)
{
	int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;
	struct stat st;

	if (root < 0)
		return lv_err_sys(err, errno, "%s", dir);
	fd = open_beneath(root, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	close(root);
	if (fd < 0)
		return lv_err_sys(err, errno, "%s (a plain file in %s, not a link)", rel, dir);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return lv_err_set(err, "%s in %s is not a regular file", rel, dir);
	}
	return fd;
}
