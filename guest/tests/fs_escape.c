/*
 * Tries to leave the shared folder and to abuse descriptors.  Every attempt
 * must fail; the test reads the codes.  The test creates: outside.txt next
 * to the share, link_out -> ../outside.txt, sub/, fifo.
 */
#include "labvisor/guest.h"

static void try_open_as(const char *label, const char *path)
{
	int64_t fd = lv_open(path, LV_O_RDONLY, 0);

	lv_printf("open %s: %d\n", label, (int)fd);
	if (fd >= 0)
		lv_close(fd);
}

static void try_open(const char *path)
{
	try_open_as(path, path);
}

int main(void)
{
	static char longpath[LV_PATH_MAX + 10];
	int64_t fds[LV_MAX_FILES + 1];
	int opened = 0;
	char buf[4];

	try_open("../outside.txt");
	try_open("/etc/passwd");
	try_open("sub/../../outside.txt");
	try_open("link_out");
	try_open("fifo");
	try_open("sub");
	memset(longpath, 'a', sizeof(longpath) - 1);
	try_open_as("<4105-byte path>", longpath);
	lv_printf("unlink ../outside.txt: %d\n", (int)lv_unlink("../outside.txt"));
	lv_printf("unlink sub/..: %d\n", (int)lv_unlink("sub/.."));
	lv_printf("read fd -1: %d\n", (int)lv_read(-1, buf, sizeof(buf)));
	lv_printf("read fd 1000000: %d\n", (int)lv_read(1000000, buf, sizeof(buf)));
	lv_printf("bad flags: %d\n", (int)lv_open("inside.txt", 0x80000000u, 0));
	for (int i = 0; i < LV_MAX_FILES + 1; i++) {
		fds[i] = lv_open("inside.txt", LV_O_RDONLY, 0);
		if (fds[i] >= 0)
			opened++;
	}
	lv_printf("opened %d, then: %d\n", opened, (int)fds[LV_MAX_FILES]);
	for (int i = 0; i < LV_MAX_FILES; i++)
		lv_close(fds[i]);
	lv_printf("close twice: %d\n", (int)lv_close(fds[0]));
	return 0;
}
