#include "platform.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef LV_DATADIR
#define LV_DATADIR "/usr/local/share/labvisor"
#endif

const char *platform_data_dir(void)
{
	static char dir[PATH_MAX];
	const char *base = getenv("LABVISOR_DATA");

	snprintf(dir, sizeof(dir), "%s/platform", base && *base ? base : "/var/lib/labvisor");
	return dir;
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *platform_find(const char *name, char *buf, size_t len)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	/* build/labvisor-server -> the source tree is one or two levels up */
	static const char *const rel[] = { "%s/%s", "%s/../%s", "%s/../../%s", "%s/../share/labvisor/%s" };

	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')))
			*slash = '\0';
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(buf, len, rel[i], exe, name);
			if (is_dir(buf))
				return buf;
		}
	}
	snprintf(buf, len, "%s/%s", LV_DATADIR, name);
	return is_dir(buf) ? buf : NULL;
}
