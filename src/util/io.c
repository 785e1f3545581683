#include "io.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

static bool full(int fd, uint8_t *p, size_t len, bool writing)
{
	while (len) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

bool lv_write_full(int fd, const void *buf, size_t len)
{
	return full(fd, (uint8_t *)buf, len, true);
}

bool lv_read_full(int fd, void *buf, size_t len)
{
	return full(fd, buf, len, false);
}
