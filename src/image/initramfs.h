/* libimage: building guest images (an initramfs for Linux guests). */
#ifndef LV_IMAGE_INITRAMFS_H
#define LV_IMAGE_INITRAMFS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct initramfs_opts {
	const char *output;             /* the cpio file written */
	const char *const *programs;    /* host programs to add with their libraries */
	size_t nprograms;
	const char *init_script;        /* run at boot as /etc/labvisor/start.sh, or NULL */
	const char *agent;              /* installed as /sbin/labvisor-agent, or NULL */
	bool applet_links;              /* a link for every busybox applet (initramfs.c) */
};

/* Writes the initramfs; on error nothing is left at o->output. */
int initramfs_build(const struct initramfs_opts *o, struct lv_err *err);

/*
 * A small cpio in memory holding only /etc/labvisor/start.sh (`vm run
 * --init-script`): the kernel unpacks it after the image it is appended to.
 * *buf is malloc'd.
 */
int initramfs_overlay(const char *init_script, void **buf, size_t *len, struct lv_err *err);

#endif
