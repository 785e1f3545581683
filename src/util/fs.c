#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int lv_mkdirs(const char *path, mode_t mode, struct lv_err *err)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return lv_err_set(err, "path too long: %.100s...", path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return lv_err_sys(err, errno, "mkdir %s", buf);
		*p = c;
		if (!c)
			return 0;
	}
}

double lv_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int lv_write_new_file(const char *path, const void *data, size_t len, mode_t mode,
		      struct lv_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	const char *p = data;
	size_t done = 0;

	if (fd < 0)
		return lv_err_sys(err, errno, "%s", path);
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			lv_err_sys(err, n < 0 ? errno : EIO, "writing %s", path);
			close(fd);
			unlink(path);
			return -1;
		}
		done += (size_t)n;
	}
	if (close(fd) < 0) {
		lv_err_sys(err, errno, "writing %s", path);
		unlink(path);
		return -1;
	}
	return 0;
}
