/*
 * Copies input.txt to copy.txt in the shared folder through the paravirtual
 * file calls, then lists the folder.  Run with --share DIR.
 */
#include "labvisor/guest.h"

static int fail(const char *what, int64_t rc)
{
	lv_printf("filecopy: %s: %s (%d)\n", what, lv_strerror(rc), (int)rc);
	return 1;
}

static int copy(int64_t in, int64_t out, uint64_t *total)
{
	static char buf[4096];
	int64_t n;

	while ((n = lv_read(in, buf, sizeof(buf))) > 0) {
		for (int64_t done = 0; done < n;) {
			int64_t w = lv_write(out, buf + done, (size_t)(n - done));

			if (w <= 0)
				return fail("write copy.txt", w);
			done += w;
		}
		*total += (uint64_t)n;
	}
	return n < 0 ? fail("read input.txt", n) : 0;
}

static int list(void)
{
	char name[LV_NAME_MAX + 1];
	int64_t dir = lv_open(".", LV_O_DIRECTORY, 0), n;
	uint32_t type;

	if (dir < 0)
		return fail("open .", dir);
	while ((n = lv_readdir(dir, name, sizeof(name), &type)) > 0)
		lv_printf("  %s%s\n", name, type == LV_S_DIR ? "/" : "");
	lv_close(dir);
	return n < 0 ? fail("list .", n) : 0;
}

int main(void)
{
	int64_t in, out;
	struct lv_stat st;
	uint64_t total = 0;

	if ((in = lv_open("input.txt", LV_O_RDONLY, 0)) < 0)
		return fail("open input.txt", in);
	if ((out = lv_open("copy.txt", LV_O_WRONLY | LV_O_CREAT | LV_O_TRUNC, 0644)) < 0)
		return fail("create copy.txt", out);
	if (copy(in, out, &total))
		return 1;
	if (lv_fstat(out, &st) < 0 || st.size != total)
		return fail("size of copy.txt", -LV_EIO);
	lv_close(in);
	lv_close(out);
	lv_printf("filecopy: copied %u bytes from input.txt to copy.txt\n", (unsigned)total);
	lv_printf("shared folder:\n");
	return list();
}
