/*
 * Root file-system images for Gradescope autograders, under the data folder
 * ($LABVISOR_DATA, default /var/lib/labvisor):
 *   images/debian-12/rootfs     Debian 12 (minbase) from debootstrap, built once
 *   images/gs-<hash>/upper      a Gradescope autograder's layer: what its setup.sh
 *                               changed, built once per content hash of the folder
 *   images/as-<hash>/upper      the same for an assignment.yaml with environment.setup
 * Image files belong to the SB_IMG_BASE uid range (root inside = SB_IMG_BASE
 * on the host), so a sandbox that is root inside can manage them and
 * nothing in them belongs to a host account.  Builds take a lock and are
 * renamed into place only when complete.
 */
#ifndef LV_GRADE_IMAGE_H
#define LV_GRADE_IMAGE_H

#include <limits.h>
#include <stdbool.h>

#include "grade.h"

/* The Debian 12 base root file system, built on first use (progress shown). */
int image_base(const struct grade_request *req, char rootfs[PATH_MAX], struct lv_err *err);

/*
 * The layer of the assignment in dir: what its setup script (a file of dir)
 * changed, run once on the base as root with the network; cached by the
 * content hash of dir.  gradescope: Gradescope's layout (/autograder/source).
 */
int image_layer(const struct grade_request *req, const char *dir, const char *rootfs,
		const char *script, bool gradescope, char upper[PATH_MAX], struct lv_err *err);

/* Gives every entry below dir, links not followed, to the image uid range (+SB_IMG_BASE). */
int image_shift_owners(const char *dir, struct lv_err *err);

#endif
