/* Paravirtual files: confinement to the shared folder and descriptor rules. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmm/pvfs.h"

struct fixture {
	char top[64];
	char share[96];
	struct pvfs *fs;
};

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[256];
	struct lv_err err;

	strcpy(fx->top, "/tmp/lv-pvfs-XXXXXX");
	assert_non_null(mkdtemp(fx->top));
	snprintf(fx->share, sizeof(fx->share), "%s/share", fx->top);
	assert_int_equal(mkdir(fx->share, 0755), 0);
	put_file(fx->top, "outside.txt", "secret");
	put_file(fx->share, "inside.txt", "hello");
	snprintf(path, sizeof(path), "%s/sub", fx->share);
	assert_int_equal(mkdir(path, 0755), 0);
	put_file(path, "deep.txt", "deep");
	snprintf(path, sizeof(path), "%s/link_in", fx->share);
	assert_int_equal(symlink("inside.txt", path), 0);
	snprintf(path, sizeof(path), "%s/link_out", fx->share);
	assert_int_equal(symlink("../outside.txt", path), 0);
	snprintf(path, sizeof(path), "%s/abs_link", fx->share);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	snprintf(path, sizeof(path), "%s/fifo", fx->share);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(pvfs_create(fx->share, &fx->fs, &err), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	pvfs_destroy(fx->fs);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->top);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static int64_t open_path(struct pvfs *fs, const char *p, uint32_t flags)
{
	return pvfs_open(fs, p, strlen(p), flags, 0644);
}

static void escapes_are_refused(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = {
		"../outside.txt", "/etc/passwd", "sub/../../outside.txt", "link_out",
		"abs_link", "./../share/../outside.txt", "/",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t fd = open_path(fx->fs, bad[i], LV_O_RDONLY);

		if (fd != -LV_EXDEV)
			fail_msg("open '%s' gave %lld, expected -EXDEV", bad[i], (long long)fd);
	}
	assert_int_equal(open_path(fx->fs, "../new.txt", LV_O_WRONLY | LV_O_CREAT), -LV_EXDEV);
	assert_int_equal(pvfs_unlink(fx->fs, "../outside.txt", 14), -LV_EXDEV);
	assert_int_equal(pvfs_unlink(fx->fs, "/etc/passwd", 11), -LV_EXDEV);
	assert_int_equal(pvfs_unlink(fx->fs, "link_out/x", 10), -LV_EXDEV);
	assert_int_equal(pvfs_unlink(fx->fs, "sub/..", 6), -LV_EINVAL);
}

static void inside_paths_work(void **state)
{
	struct fixture *fx = *state;
	char buf[16] = { 0 };
	int64_t fd;

	fd = open_path(fx->fs, "sub/../link_in", LV_O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pvfs_read(fx->fs, fd, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(pvfs_close(fx->fs, fd), 0);
	assert_int_equal(pvfs_close(fx->fs, fd), -LV_EBADF);
	fd = open_path(fx->fs, "sub/deep.txt", LV_O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pvfs_pread(fx->fs, fd, buf, 2, 2), 2);
	assert_memory_equal(buf, "ep", 2);
	assert_int_equal(pvfs_lseek(fx->fs, fd, 0, LV_SEEK_END), 4);
	assert_int_equal(pvfs_lseek(fx->fs, fd, 0, 7), -LV_EINVAL);
	assert_int_equal(pvfs_close(fx->fs, fd), 0);
}

static void bad_paths_and_kinds(void **state)
{
	struct fixture *fx = *state;
	static char longp[LV_PATH_MAX + 2];

	assert_int_equal(pvfs_open(fx->fs, "", 0, LV_O_RDONLY, 0), -LV_ENOENT);
	assert_int_equal(pvfs_open(fx->fs, "inside.txt\0x", 12, LV_O_RDONLY, 0), -LV_EINVAL);
	memset(longp, 'a', sizeof(longp) - 1);
	assert_int_equal(pvfs_open(fx->fs, longp, sizeof(longp) - 1, LV_O_RDONLY, 0),
			 -LV_ENAMETOOLONG);
	/* A FIFO would block the vCPU thread forever; devices are off limits. */
	assert_int_equal(open_path(fx->fs, "fifo", LV_O_RDONLY), -LV_EACCES);
	assert_int_equal(open_path(fx->fs, "sub", LV_O_RDONLY), -LV_EISDIR);
	assert_int_equal(open_path(fx->fs, "inside.txt", 0x80000000u), -LV_EINVAL);
	assert_int_equal(open_path(fx->fs, "inside.txt", 3), -LV_EINVAL);
	assert_int_equal(open_path(fx->fs, "missing", LV_O_RDONLY), -LV_ENOENT);
}

static void write_stat_unlink(void **state)
{
	struct fixture *fx = *state;
	struct lv_stat st;
	char path[160];
	int64_t fd;

	fd = open_path(fx->fs, "sub/new.txt", LV_O_RDWR | LV_O_CREAT | LV_O_EXCL);
	assert_true(fd >= 0);
	assert_int_equal(pvfs_write(fx->fs, fd, "abcdef", 6), 6);
	assert_int_equal(pvfs_pwrite(fx->fs, fd, "XY", 2, 1), 2);
	assert_int_equal(pvfs_fstat(fx->fs, fd, &st), 0);
	assert_int_equal(st.size, 6);
	assert_int_equal(st.type, LV_S_REG);
	assert_int_equal(pvfs_pwrite(fx->fs, fd, "x", 1, -1), -LV_EINVAL);
	assert_int_equal(pvfs_close(fx->fs, fd), 0);
	assert_int_equal(open_path(fx->fs, "sub/new.txt", LV_O_WRONLY | LV_O_CREAT | LV_O_EXCL),
			 -LV_EEXIST);
	assert_int_equal(pvfs_unlink(fx->fs, "sub/new.txt", 11), 0);
	snprintf(path, sizeof(path), "%s/sub/new.txt", fx->share);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(pvfs_unlink(fx->fs, "sub", 3), -LV_EISDIR);
}

static void descriptor_table(void **state)
{
	struct fixture *fx = *state;
	int64_t fds[LV_MAX_FILES];
	char c;

	for (int i = 0; i < LV_MAX_FILES; i++) {
		fds[i] = open_path(fx->fs, "inside.txt", LV_O_RDONLY);
		assert_true(fds[i] >= 0 && fds[i] < LV_MAX_FILES);
	}
	assert_int_equal(open_path(fx->fs, "inside.txt", LV_O_RDONLY), -LV_EMFILE);
	for (int i = 0; i < LV_MAX_FILES; i++)
		assert_int_equal(pvfs_close(fx->fs, fds[i]), 0);
	assert_int_equal(pvfs_read(fx->fs, -1, &c, 1), -LV_EBADF);
	assert_int_equal(pvfs_read(fx->fs, LV_MAX_FILES, &c, 1), -LV_EBADF);
	assert_int_equal(pvfs_read(fx->fs, INT64_MIN, &c, 1), -LV_EBADF);
}

static void directory_listing(void **state)
{
	struct fixture *fx = *state;
	char name[8];
	uint32_t type;
	int64_t dir, n;
	int entries = 0, deep = 0;

	dir = open_path(fx->fs, "sub", LV_O_DIRECTORY);
	assert_true(dir >= 0);
	assert_int_equal(pvfs_read(fx->fs, dir, name, 1), -LV_EISDIR);
	/* Too small a buffer: error, and the entry is still there afterwards. */
	assert_int_equal(pvfs_dir_read(fx->fs, dir, name, 3, &type), -LV_ENAMETOOLONG);
	while ((n = pvfs_dir_read(fx->fs, dir, name, sizeof(name), &type)) > 0) {
		entries++;
		deep += n == 8 && memcmp(name, "deep.txt", 8) == 0 && type == LV_S_REG;
	}
	assert_int_equal(n, 0);
	assert_int_equal(entries, 1);
	assert_int_equal(deep, 1);
	assert_int_equal(pvfs_close(fx->fs, dir), 0);
	dir = open_path(fx->fs, "inside.txt", LV_O_RDONLY);
	assert_int_equal(pvfs_dir_read(fx->fs, dir, name, sizeof(name), &type), -LV_ENOTDIR);
	assert_int_equal(open_path(fx->fs, "sub", LV_O_DIRECTORY | LV_O_WRONLY), -LV_EINVAL);
	pvfs_close(fx->fs, dir);
}

static void missing_share(void **state)
{
	struct pvfs *fs;
	struct lv_err err;

	(void)state;
	assert_int_equal(pvfs_create("/nonexistent/share", &fs, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/share"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(escapes_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(inside_paths_work, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_paths_and_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(write_stat_unlink, setup, teardown),
		cmocka_unit_test_setup_teardown(descriptor_table, setup, teardown),
		cmocka_unit_test_setup_teardown(directory_listing, setup, teardown),
		cmocka_unit_test(missing_share),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
