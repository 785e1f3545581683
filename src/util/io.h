/* Whole reads and writes on file descriptors (retrying short ones and EINTR). */
#ifndef LV_UTIL_IO_H
#define LV_UTIL_IO_H

#include <stdbool.h>
#include <stddef.h>

/* false on an error (errno) or, for reads, an end of file before len bytes */
bool lv_write_full(int fd, const void *buf, size_t len);
bool lv_read_full(int fd, void *buf, size_t len);

#endif
