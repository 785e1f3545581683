/* Where the platform keeps its data and finds its files (web UI, examples). */
#ifndef LV_CLI_PLATFORM_H
#define LV_CLI_PLATFORM_H

#include <stddef.h>

/* $LABVISOR_DATA/platform, or /var/lib/labvisor/platform. */
const char *platform_data_dir(void);
/* A folder shipped with labvisor (web, examples): beside the binary's build
 * or source tree, or installed; NULL when not found. */
const char *platform_find(const char *name, char *buf, size_t len);

#endif
