/*
 * Bringing a submission into a folder of its own, safely: a folder is
 * copied, an archive (.zip, .tar, .tar.gz, .tgz, .tar.xz) is unpacked with
 * libarchive, any other file is copied as it is.  Refused, each with a clear
 * message: entries that leave the folder ("..", absolute paths, symbolic or
 * hard links pointing out), device files, FIFOs and sockets, and anything
 * past the size or file-count caps (counted on what is written, not on
 * what headers claim).  Files are created beneath the destination with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so even a link the
 * archive made first cannot redirect a later entry.
 */
#ifndef LV_GRADE_ARCHIVE_H
#define LV_GRADE_ARCHIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

struct unpack_caps {
	uint64_t max_bytes;
	unsigned max_files;
};

/* A name the engine unpacks as an archive (.zip, .tar, .tar.gz/.tgz, .tar.xz, .tar.bz2). */
bool is_archive_name(const char *name);

/* dest must be an existing empty folder. */
int submission_import(const char *src, const char *dest, const struct unpack_caps *caps,
		      struct lv_err *err);

/*
 * Opens rel, a regular file beneath dir, for reading without following any
 * link: for files a sandboxed program could have replaced (JUnit results,
 * Gradescope's results.json), which labvisor reads as root.
 */
int open_in(const char *dir, const char *rel, struct lv_err *err);

/* rm -r: children before parents, links not followed, one file system. */
void remove_tree(const char *dir);

/* Copies the file or folder src (an assignment's own, trusted) into dest_dir. */
int copy_into(const char *src, const char *dest_dir, struct lv_err *err);

#endif
