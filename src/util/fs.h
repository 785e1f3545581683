/* File-system and clock helpers every layer shares. */
#ifndef LV_UTIL_FS_H
#define LV_UTIL_FS_H

#include <sys/types.h>

#include "err.h"

/* mkdir -p: path and its missing parents, each with mode; existing ones are fine. */
int lv_mkdirs(const char *path, mode_t mode, struct lv_err *err);

#include <stddef.h>

/* A new file (never an existing one: EEXIST in err->errnum) with exactly len
 * bytes of data and mode; nothing is left behind when writing fails. */
int lv_write_new_file(const char *path, const void *data, size_t len, mode_t mode,
		      struct lv_err *err);

/* Seconds on the monotonic clock. */
double lv_seconds(void);

#endif
